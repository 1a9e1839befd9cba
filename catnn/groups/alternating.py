"""A_n: partition diagrams with at most n blocks plus jellyfish diagrams (math.md §a.8).

An S_n-orbit of index tuples with equality pattern π (t blocks) splits into two A_n-orbits exactly
when t = n-1 or t = n (its stabiliser S_{n-t} then lies in A_n). The jellyfish J_π measures the
difference of the two halves:

    J_π[x] = [x constant on the blocks of π] · ε(v_1, .., v_t[, y]),

with the blocks B_1..B_t ordered by their smallest label, v_i the value of x on B_i, and, when
t = n-1, y the one value of [n] not among the v_i (equivalently Σ_y ε(v_1, .., v_{n-1}, y)).
J_π is A_n- but not S_n-equivariant (an odd permutation flips its sign), and

    dim Hom_A(n) = Σ_{t<=n} S(m, t) + S(m, n-1) + S(m, n),   m = k + l, n >= 2.

Text form: ``jelly[`` the partition's blocks ``]``, e.g. ``jelly[{1, 1'} {2}]``.

>>> from catnn.groups import group
>>> G = group("A", n=3)
>>> G.dimension(1, 1), [str(d) for d in G.basis(1, 1)]
(3, ["{1, 1'}", "{1} {1'}", "jelly[{1} {1'}]"])
>>> G.matrix(G.basis(1, 1)[2]).tolist()           # ε(i, j, missing): the 3-cycle's rotation
[[0, 1, -1], [-1, 0, 1], [1, -1, 0]]

Algebra (exact, at the group's n; checked against dense matrices in tests/test_jellyfish_algebra.py).
A jellyfish alone does not determine n (t blocks fit A_t and A_(t+1)), so it carries the n it was
made for: the spanning set's jellyfish and those of ``G.lift`` (every ``jelly[...]`` of a program
under ``group A(n)``) know it; equality ignores it. Composition and tensor products with at least
one jellyfish are computed entry by entry on one index tuple per equality pattern of the outer legs
(summing the inner legs over the components they form) and written back in the spanning set:

    T = Σ_σ c_σ D_σ + Σ_π b_π J_π,   |σ| <= n,  |π| in {n-1, n},

where, for x of pattern π with block values 0, 1, .. in order and x' = x with the values 0 and 1
exchanged (an odd permutation: x and x' lie in the two A_n-orbits of π), b_π = (T[x] - T[x']) / 2
and a_π = (T[x] + T[x']) / 2 (= T[x] for an unsplit orbit) is the orbit's symmetric part, turned
into diagram coefficients by c_π = a_π - Σ_(σ finer than π, |σ| <= n) c_σ.

>>> j = G.basis(1, 1)[2]
>>> print(j >> j)                                 # the 3-cycle's rotation squared: all-ones - 3 δ
-3 * {1, 1'} + {1} {1'}
>>> print(j.T)
-jelly[{1} {1'}]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from .. import messages
from ..dense import partition_tensor
from ..diagram import Diagram, set_partitions
from ..errors import DiagramError
from ..kinds import DiagramOps
from ..unionfind import UnionFind
from ..levi_civita import permutation_sign
from .base import Group, rng_of
from .counting import restricted_bell, stirling2
from .symmetric import permutation_matrix

from ..coeff import Poly
from ..morphism import Morphism

__all__ = ["Alternating", "Jellyfish", "jellyfish_tensor", "alternating_terms"]


class Jellyfish(DiagramOps):
    """The jellyfish J_π of a partition diagram π (immutable, hashable; tentacles = blocks).

    >>> j = Jellyfish.from_blocks([[1, 3], [2]], k=1, l=2)
    >>> j.k, j.l, j.blocks, str(j), j.n, j.at(3).n, j.at(3) == j
    (1, 2, ((1, 3), (2,)), "jelly[{1, 1'} {2}]", None, 3, True)
    """

    __slots__ = ("partition", "k", "l", "n", "_hash")
    kind = "jellyfish"

    #: sorts after partition diagrams (0) and ε-diagrams (1) inside a Morphism
    kind_rank = 2

    def __init__(self, partition: Diagram, n: int | None = None) -> None:
        if not isinstance(partition, Diagram):
            raise DiagramError(messages.NOT_DIAGRAM.format(kind=type(partition).__name__))
        if n is not None and (n < 2 or partition.num_blocks not in (n - 1, n)):
            raise DiagramError(messages.JELLYFISH_BLOCKS.format(n=n, blocks=partition.num_blocks))
        self.partition = partition
        self.k, self.l = partition.k, partition.l
        #: the n of the A_n it belongs to (None: not known; the algebra needs it)
        self.n = n
        self._hash = hash(("jelly", partition))

    @classmethod
    def from_blocks(cls, blocks: Iterable[Iterable[int]], *, k: int, l: int, n: int | None = None) -> Jellyfish:
        """A jellyfish from blocks of 1-based labels (outputs 1..l, then inputs l+1..l+k)."""
        return cls(Diagram(blocks, k, l), n)

    def at(self, n: int) -> Jellyfish:
        """The same jellyfish, as one of A_n (equal to this one; its algebra then works at n)."""
        return self if self.n == n else Jellyfish(self.partition, n)

    @property
    def blocks(self) -> tuple[tuple[int, ...], ...]:
        """The tentacles, in ε order (by smallest label)."""
        return self.partition.blocks

    @property
    def num_blocks(self) -> int:
        """The number of tentacles."""
        return self.partition.num_blocks

    def top_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Tentacles lying wholly in the top row (the compiler factors a jellyfish by its partition)."""
        return self.partition.top_blocks()

    def bottom_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Tentacles lying wholly in the bottom row."""
        return self.partition.bottom_blocks()

    def propagating_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Tentacles meeting both rows."""
        return self.partition.propagating_blocks()

    def sort_key(self) -> tuple:
        """A total order (after partition and ε-diagrams), for printing morphisms deterministically."""
        return (self.kind_rank, *self.partition.sort_key()[1:])

    # -- algebra (the morphism protocol) ------------------------------------------------------
    def _compose_terms(self, other: Any, loop: Poly) -> list[tuple[Poly, Any]]:
        return compose_terms(self, other)

    def _rcompose_terms(self, other: Any, loop: Poly) -> list[tuple[Poly, Any]]:
        """``other`` (a partition diagram) first, then ``self``."""
        return compose_terms(other, self)

    def _tensor_terms(self, other: Any) -> list[tuple[Poly, Any]]:
        return tensor_terms(self, other)

    def _rtensor_terms(self, other: Any) -> list[tuple[Poly, Any]]:
        """``other`` (a partition diagram) on the left of ``self``."""
        return tensor_terms(other, self)

    def _transpose_terms(self) -> list[tuple[Poly, Jellyfish]]:
        """The flip reorders the tentacles by their new smallest labels: a sign."""
        from ..coeff import Poly
        flipped = self.partition.T
        k = self.k
        new_first = [min(v + k if v <= self.l else v - self.l for v in b) for b in self.blocks]
        return [(Poly.const(permutation_sign(new_first)), Jellyfish(flipped, self.n))]

    # -- identity and printing ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self.partition == other.partition
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return f"jelly[{self.partition}]"

    def __repr__(self) -> str:
        return f"Jellyfish.from_blocks({[list(b) for b in self.blocks]}, k={self.k}, l={self.l})"


class Alternating(Group):
    """The alternating group A_n of even permutation matrices (n >= 2; A_1 is the trivial S_1)."""

    name = "A"
    aliases = ("alternating", "alt")
    is_permutation_group = True

    def spanning_count(self, k: int, l: int) -> int:
        n, m = self.require_n("the A_n spanning set"), k + l
        return restricted_bell(m, n) + (stirling2(m, n - 1) + stirling2(m, n) if n >= 2 else 0)

    def iter_spanning_set(self, k: int, l: int) -> Iterator[Any]:
        """Diagrams with at most n blocks, then jellyfish with n-1 blocks, then with n blocks."""
        n, m = self.require_n("the A_n spanning set"), k + l
        for blocks in set_partitions(m, max_blocks=n):
            yield Diagram(blocks, k, l)
        if n < 2:
            return
        for t in (n - 1, n):
            for blocks in set_partitions(m, max_blocks=t):
                if len(blocks) == t:
                    yield Jellyfish(Diagram(blocks, k, l), n)

    def dimension(self, k: int, l: int) -> int:
        """Restricted Bell number plus the split orbits: Σ_{t<=n} S(m, t) + S(m, n-1) + S(m, n)."""
        return self.spanning_count(k, l)

    def basis(self, k: int, l: int) -> tuple[Any, ...]:
        """The whole spanning set (math.md §a.8: it is linearly independent)."""
        self.require_n("basis")
        return self.spanning_set(k, l)

    def accepts(self, d: Any) -> bool:
        if isinstance(d, Diagram):
            return True
        if not isinstance(d, Jellyfish):
            return False
        return self.n is None or (self.n >= 2 and d.num_blocks in (self.n - 1, self.n))

    def lift(self, x: Any) -> Morphism:
        """``x`` as a morphism of A_n, its jellyfish bound to n (so that they compose)."""
        morphism = super().lift(x)
        if self.n is None or not any(isinstance(d, Jellyfish) for d, _ in morphism.terms):
            return morphism
        terms = [(d.at(self.n) if isinstance(d, Jellyfish) else d, c) for d, c in morphism.terms]
        return Morphism(terms, morphism.k, morphism.l, morphism.loop)

    def reject_message(self, d: Any) -> str:
        if isinstance(d, Jellyfish):
            return messages.NOT_A_DIAGRAM.format(n=self.n, what=f"{d} ({d.num_blocks} blocks)")
        return messages.NOT_DIAGRAM.format(kind=type(d).__name__)

    def diagram_tensor(self, d: Any, n: int) -> np.ndarray:
        if isinstance(d, Jellyfish):
            return jellyfish_tensor(d, n)
        return partition_tensor(d, n)

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A uniformly random even permutation matrix."""
        n = self.require_n("sample")
        sigma = rng_of(rng).permutation(n)
        if n >= 2 and permutation_sign(sigma.tolist()) < 0:
            sigma[[0, 1]] = sigma[[1, 0]]
        return permutation_matrix(sigma)


def jellyfish_tensor(j: Jellyfish, n: int) -> np.ndarray:
    """The exact (n,)*(l+k) tensor of J_π (outputs, then inputs).

    >>> jellyfish_tensor(Jellyfish.from_blocks([[1], [2]], k=1, l=1), 2).tolist()
    [[0, 1], [-1, 0]]
    """
    t, m = j.num_blocks, j.k + j.l
    if n < 2 or t not in (n - 1, n):
        raise DiagramError(messages.JELLYFISH_BLOCKS.format(n=n, blocks=t))
    assignments = list(itertools.permutations(range(n), t))
    signs = [permutation_sign(list(v) + sorted(set(range(n)) - set(v))) for v in assignments]
    values = np.array(assignments, dtype=np.int64).reshape(-1, t).T
    owner = {v: i for i, block in enumerate(j.blocks) for v in block}
    tensor = np.zeros((n,) * m, dtype=np.int64)
    tensor[tuple(values[owner[v]] for v in range(1, m + 1))] = signs
    return tensor


# -- the algebra ----------------------------------------------------------------------------------
#: a diagram placed in a network: the node of each of its vertices (1-based label v -> nodes[v - 1])
Piece = tuple[Any, tuple[int, ...]]


def compose_terms(f: Any, g: Any) -> list[tuple[Poly, Any]]:
    """``f`` then ``g`` (partition diagrams or jellyfish, at least one jellyfish), in the A_n
    spanning set: ``[(coefficient, diagram), ...]``.

    >>> j = Jellyfish.from_blocks([[1], [2]], k=1, l=1, n=3)      # ε(i, j, missing)
    >>> [(str(c), str(d)) for c, d in compose_terms(j, j)]
    [('-3', "{1, 1'}"), ('1', "{1} {1'}")]
    """
    if f.l != g.k:
        raise DiagramError(messages.ARITY_COMPOSE.format(left=f, lout=f.l, right=g, rin=g.k))
    n = _common_n("composition", f, g)
    k, mid, m = f.k, f.l, g.l
    inner = m + k
    g_nodes = tuple(v - 1 if v <= m else inner + v - m - 1 for v in range(1, g.l + g.k + 1))
    f_nodes = tuple(inner + v - 1 if v <= mid else m + v - mid - 1 for v in range(1, f.l + f.k + 1))
    return alternating_terms([(f, f_nodes), (g, g_nodes)], k, m, n)


def tensor_terms(f: Any, g: Any) -> list[tuple[Poly, Any]]:
    """``f`` left of ``g`` (at least one a jellyfish), in the A_n spanning set.

    >>> j = Jellyfish.from_blocks([[1]], k=0, l=1, n=2)           # (1, -1)
    >>> [(str(c), str(d)) for c, d in tensor_terms(j, j)]
    [('2', '{1, 2}'), ('-1', '{1} {2}')]
    """
    n = _common_n("the tensor product", f, g)
    l1, l2, k1 = f.l, g.l, f.k
    f_nodes = tuple(v - 1 if v <= l1 else v + l2 - 1 for v in range(1, f.l + f.k + 1))
    g_nodes = tuple(v + l1 - 1 if v <= l2 else v + l1 + k1 - 1 for v in range(1, g.l + g.k + 1))
    return alternating_terms([(f, f_nodes), (g, g_nodes)], f.k + g.k, l1 + l2, n)


def _common_n(operation: str, *diagrams: Any) -> int:
    """The n the jellyfish among ``diagrams`` were made for (one, and known)."""
    sizes = {d.n for d in diagrams if isinstance(d, Jellyfish)}
    for d in diagrams:
        if not isinstance(d, (Diagram, Jellyfish)):
            raise DiagramError(messages.NOT_DIAGRAM.format(kind=type(d).__name__))
    if None in sizes:
        raise DiagramError(messages.JELLYFISH_NEEDS_N.format(operation=operation))
    if len(sizes) > 1:
        raise DiagramError(messages.JELLYFISH_N_MISMATCH.format(operation=operation, sizes=sorted(sizes)))
    return sizes.pop()


def alternating_terms(pieces: Sequence[Piece], k: int, l: int, n: int) -> list[tuple[Poly, Any]]:
    """The k -> l map of a network of partition diagrams and jellyfish, in the A_n spanning set.

    Nodes 0..k+l-1 are the result's vertices (outputs, then inputs); larger nodes are summed over.

    >>> j = Jellyfish.from_blocks([[1], [2]], k=1, l=1, n=2)      # [[0, 1], [-1, 0]]
    >>> [(str(c), str(d)) for c, d in alternating_terms([(j, (0, 1))], 1, 1, 2)]
    [('1', "jelly[{1} {1'}]")]
    """
    m = k + l
    entry = _Network(pieces, m, n)
    sym: dict[tuple, Fraction] = {}
    terms: list[tuple[Poly, Any]] = []
    for blocks in set_partitions(m, max_blocks=n):
        x = [0] * m
        for value, block in enumerate(blocks):
            for v in block:
                x[v - 1] = value
        here = entry(x)
        key = tuple(map(tuple, blocks))
        if n >= 2 and len(blocks) >= n - 1:
            there = entry([1 if v == 0 else 0 if v == 1 else v for v in x])
            sym[key] = Fraction(here + there, 2)
            if here != there:
                terms.append((Poly.const(Fraction(here - there, 2)), Jellyfish(Diagram(blocks, k, l), n)))
        else:
            sym[key] = Fraction(here)
    coeffs: dict[tuple, Fraction] = {}
    for key in sorted(sym, key=len, reverse=True):
        coeffs[key] = sym[key] - sum(coeffs[finer] for finer in _refinements(key, n))
    parts = [(Poly.const(c), Diagram(key, k, l)) for key, c in coeffs.items() if c]
    return sorted(parts, key=lambda t: t[1].sort_key()) + terms


def _refinements(blocks: tuple[tuple[int, ...], ...], n: int) -> Iterator[tuple[tuple[int, ...], ...]]:
    """The partitions strictly finer than ``blocks`` with at most n blocks (blocks ordered by least vertex)."""
    splits = [[[[block[i - 1] for i in part] for part in p] for p in set_partitions(len(block))] for block in blocks]
    for choice in itertools.product(*splits):
        finer = [tuple(part) for split in choice for part in split]
        if len(blocks) < len(finer) <= n:
            yield tuple(sorted(finer))


class _Network:
    """Entries of a network of partition diagrams and jellyfish: every block forces its nodes equal,
    a jellyfish multiplies by the sign of its head; nodes past the outer ones are summed over [n]."""

    def __init__(self, pieces: Sequence[Piece], outer: int, n: int) -> None:
        size = max([outer - 1, *(node for _, nodes in pieces for node in nodes)]) + 1
        sets = UnionFind(size)
        for d, nodes in pieces:
            for block in d.blocks:
                for v in block[1:]:
                    sets.union(nodes[v - 1], nodes[block[0] - 1])
        self.n, self.outer = n, outer
        self.root = [sets.find(v) for v in range(size)]
        closed = {r for r in self.root} - {self.root[v] for v in range(outer)}
        #: per jellyfish, the component of each tentacle in ε order
        self.heads = []
        for d, nodes in pieces:
            if isinstance(d, Jellyfish):
                if d.num_blocks not in (n - 1, n):
                    raise DiagramError(messages.JELLYFISH_BLOCKS.format(n=n, blocks=d.num_blocks))
                self.heads.append(tuple(self.root[nodes[b[0] - 1]] for b in d.blocks))
        self.summed = sorted({r for head in self.heads for r in head} & closed)
        #: closed components no head reads: a factor n each
        self.free = len(closed) - len(self.summed)

    def __call__(self, x: Sequence[int]) -> int:
        value: dict[int, int] = {}
        for v in range(self.outer):
            if value.setdefault(self.root[v], x[v]) != x[v]:
                return 0
        total = 0
        for assignment in itertools.product(range(self.n), repeat=len(self.summed)):
            value.update(zip(self.summed, assignment))
            term = 1
            for head in self.heads:
                term *= _head_sign([value[r] for r in head], self.n)
                if not term:
                    break
            total += term
        return total * self.n**self.free


def _head_sign(values: list[int], n: int) -> int:
    """ε(values, then the unused values of [n] in order); 0 if a value repeats."""
    if len(set(values)) < len(values):
        return 0
    return permutation_sign(values + [v for v in range(n) if v not in values])
