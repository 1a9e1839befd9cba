"""Levi-Civita (ε) diagrams: the extra spanning diagrams of SO(n) (math.md §a.7).

An ε-diagram k -> l marks ``r`` of its l + k vertices as *free* and pairs the others. Its tensor
is the Levi-Civita symbol on the free vertices, taken in label order (outputs 1..l left to right,
then inputs 1'..k' left to right), times δ on every pair:

    H[x] = ε(x_{f_1}, .., x_{f_r}) · Π_{pairs {a, b}} δ(x_a, x_b),   f_1 < .. < f_r.

In SO(n) the free count r is n. Text form (also ``str``): ``eps[`` free vertices ``]`` then the
pairs as blocks, e.g. ``eps[1, 2, 1'] {3, 2'}`` (square brackets, so that it never reads as the
generator call ``eps(k, l)``).

>>> from catnn.diagram import Diagram
>>> e = EpsilonDiagram([1, 2], [], k=0, l=2)        # 0 -> 2, the 2-dimensional ε (a rotation form)
>>> print(e), print(e.T)
eps[1, 2]
eps[1', 2']
(None, None)
>>> print(e >> e.T)                                  # ε·ε = n(n-1) = n! at n = 2
(n^2 - n) * id(0)
>>> print(e @ e)                                     # ε⊗ε expands into Brauer diagrams
{1, 3} {2, 4} - {1, 4} {2, 3}

Algebra (all exact, checked against dense matrices in tests/test_levi_civita.py):

- composition with Brauer diagrams moves the ε legs along the paths of the stacked picture
  (a sign for the new label order of the legs, ``loop`` per closed loop; two legs of one ε joined
  by a path give 0);
- composition of two ε-diagrams (r legs each) contracts their j joined legs with
  ε_{A C} ε_{B C} = (n-r+j)!/(n-r)! · det[δ(a_p, b_q)], a signed sum of Brauer diagrams. At n = r
  the factor is j!; it is kept as a polynomial in n, (n-r+1)···(n-r+j), which is what Brauer
  calculus gives for the expansion of ε ⊗ ε, so composition stays associative with symbolic n;
- ``ε ⊗ ε`` is expanded by ε_A ε_B = det[δ(a_p, b_q)] into Brauer diagrams, so every result stays in
  the span of Brauer ∪ ε-diagrams (each term has at most one ε);
- the flip exchanges the rows and reorders the free vertices: ``d.T`` is ``(-1)^(s_t s_b)`` times the
  flipped diagram (s_t, s_b = free outputs, free inputs), so it is a :class:`~catnn.morphism.Morphism`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import messages
from .diagram import Diagram
from .errors import DiagramError
from .kinds import DiagramOps

if TYPE_CHECKING:
    from .coeff import Poly

__all__ = ["EpsilonDiagram", "levi_civita", "epsilon_tensor", "permutation_sign",
           "brauer_or_epsilon_parts"]


class EpsilonDiagram(DiagramOps):
    """An immutable, hashable ε-diagram k -> l: free vertices (in label order) and pairs.

    >>> d = EpsilonDiagram([1, 4], [[2, 3]], k=2, l=2)
    >>> d.free, d.pairs, d.order, str(d)
    ((1, 4), ((2, 3),), 2, "eps[1, 2'] {2, 1'}")
    """

    __slots__ = ("k", "l", "free", "pairs", "_hash")
    kind = "epsilon"

    #: sorts after partition diagrams (kind_rank 0) inside a Morphism
    kind_rank = 1

    def __init__(self, free: Iterable[int], pairs: Iterable[Iterable[int]], k: int, l: int) -> None:
        for value in (k, l):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DiagramError(messages.NEGATIVE_ARITY.format(value=value))
        free = tuple(sorted(free))
        pairs = [tuple(p) for p in pairs]
        if not free:
            raise DiagramError(messages.EPS_NO_FREE)
        for p in pairs:
            if len(p) != 2:
                shown = "{" + ", ".join(str(v) for v in p) + "}"
                raise DiagramError(messages.EPS_NOT_PAIR.format(block=shown, size=len(p)))
        # the partition checks (range, repeats, coverage) with the free vertices as one block
        canonical = Diagram([free, *pairs], k, l)
        self.k, self.l = k, l
        self.free = free
        self.pairs = tuple(b for b in canonical.blocks if b != free)
        self._hash = hash(("eps", k, l, self.free, self.pairs))

    @classmethod
    def from_labels(cls, free: Iterable[int], pairs: Iterable[Iterable[int]], *, k: int,
                    l: int) -> EpsilonDiagram:
        """An ε-diagram from 1-based labels (outputs 1..l, then inputs l+1..l+k)."""
        return cls(free, pairs, k, l)

    @classmethod
    def signed(cls, legs: Sequence[int], pairs: Iterable[Iterable[int]], k: int,
               l: int) -> tuple[int, EpsilonDiagram]:
        """``(sign, d)`` with ε read on ``legs`` in the given order equal to ``sign * d``.

        >>> EpsilonDiagram.signed([2, 1], [], 0, 2)
        (-1, EpsilonDiagram([1, 2], [], k=0, l=2))
        """
        return permutation_sign(legs), cls(legs, pairs, k, l)

    # -- structure ----------------------------------------------------------------------------
    @property
    def order(self) -> int:
        """The number of free vertices (n, in SO(n))."""
        return len(self.free)

    def free_outputs(self) -> tuple[int, ...]:
        """Free vertices in the top row (outputs)."""
        return tuple(v for v in self.free if v <= self.l)

    def free_inputs(self) -> tuple[int, ...]:
        """Free vertices in the bottom row (inputs)."""
        return tuple(v for v in self.free if v > self.l)

    def shape(self) -> Diagram:
        """The partition with the free vertices as one block (the ε 'spider') and the pairs.

        >>> print(EpsilonDiagram([1, 4], [[2, 3]], k=2, l=2).shape())
        {1, 2'} {2, 1'}
        """
        return Diagram([self.free, *self.pairs], self.k, self.l)

    @property
    def blocks(self) -> tuple[tuple[int, ...], ...]:
        """The blocks of :meth:`shape`: the free vertices as one block (the ε-spider), then the pairs.

        The compiler factors an ε-diagram by this block structure (:mod:`catnn.compiler.factorize`).

        >>> EpsilonDiagram([1, 4], [[2, 3]], k=2, l=2).blocks
        ((1, 4), (2, 3))
        """
        return self.shape().blocks

    def top_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Blocks of :meth:`shape` lying wholly in the top row."""
        return self.shape().top_blocks()

    def bottom_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Blocks of :meth:`shape` lying wholly in the bottom row."""
        return self.shape().bottom_blocks()

    def propagating_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Blocks of :meth:`shape` meeting both rows."""
        return self.shape().propagating_blocks()

    def sort_key(self) -> tuple:
        """A total order (after all partition diagrams), used to print morphisms deterministically."""
        return (self.kind_rank, self.k, self.l, len(self.free), self.free, self.pairs)

    # -- algebra (the morphism protocol) ------------------------------------------------------
    def _compose_terms(self, other: Any, loop: Poly) -> list[tuple[Poly, Any]]:
        return compose_terms(self, other, loop)

    def _rcompose_terms(self, other: Any, loop: Poly) -> list[tuple[Poly, Any]]:
        """``other`` (a Brauer diagram) first, then ``self``."""
        return compose_terms(other, self, loop)

    def _tensor_terms(self, other: Any) -> list[tuple[Poly, Any]]:
        return tensor_terms(self, other)

    def _rtensor_terms(self, other: Any) -> list[tuple[Poly, Any]]:
        """``other`` (a Brauer diagram) on the left of ``self``."""
        return tensor_terms(other, self)

    def _transpose_terms(self) -> list[tuple[Poly, EpsilonDiagram]]:
        """The flip reorders the free vertices: a sign. ``T`` is the signed one-term morphism.

        >>> print(EpsilonDiagram([1, 2], [], k=1, l=1).T)
        -eps[1, 1']
        """
        from .coeff import Poly
        k, l = self.k, self.l
        flip = {v: v + k if v <= l else v - l for v in range(1, k + l + 1)}
        sign, d = EpsilonDiagram.signed([flip[v] for v in self.free],
                                        [[flip[a], flip[b]] for a, b in self.pairs], l, k)
        return [(Poly.const(sign), d)]

    # -- identity and printing ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return (self.k, self.l, self.free, self.pairs) == (other.k, other.l, other.free, other.pairs)
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        head = "eps[" + ", ".join(self.label_name(v) for v in self.free) + "]"
        tail = ["{" + ", ".join(self.label_name(v) for v in p) + "}" for p in self.pairs]
        return " ".join([head, *tail])

    def __repr__(self) -> str:
        return f"EpsilonDiagram({list(self.free)}, {[list(p) for p in self.pairs]}, k={self.k}, l={self.l})"


# -- helpers ----------------------------------------------------------------------------------
def permutation_sign(seq: Sequence[int]) -> int:
    """The sign of the permutation that sorts ``seq`` (distinct values): +1 or -1.

    >>> permutation_sign([1, 2, 3]), permutation_sign([2, 1, 3]), permutation_sign([3, 1, 2])
    (1, -1, 1)
    """
    inversions = sum(1 for i in range(len(seq)) for j in range(i + 1, len(seq)) if seq[i] > seq[j])
    return -1 if inversions % 2 else 1


def brauer_or_epsilon_parts(d: Any) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """``(free, pairs)`` of a Brauer or ε-diagram (no free vertices for Brauer diagrams)."""
    if isinstance(d, EpsilonDiagram):
        return d.free, d.pairs
    if isinstance(d, Diagram):
        if not d.is_brauer():
            block = next(b for b in d.blocks if len(b) != 2)
            shown = "{" + ", ".join(d.label_name(v) for v in block) + "}"
            raise DiagramError(messages.EPS_NOT_BRAUER.format(block=shown, size=len(block)))
        return (), d.blocks
    raise DiagramError(messages.NOT_DIAGRAM.format(kind=type(d).__name__))


def _make(free: Sequence[int], pairs: list[tuple[int, int]], k: int, l: int) -> Any:
    """A Brauer diagram when nothing is free, else an ε-diagram with the legs in label order."""
    return EpsilonDiagram(free, pairs, k, l) if free else Diagram(pairs, k, l)


def _check_orders(a: Sequence[int], b: Sequence[int]) -> None:
    if a and b and len(a) != len(b):
        raise DiagramError(messages.EPS_ORDER_MISMATCH.format(a=len(a), b=len(b)))


def _det_terms(left: Sequence[int], right: Sequence[int], pairs: list[tuple[int, int]], k: int, l: int,
               scale: Poly) -> list[tuple[Poly, Diagram]]:
    """``scale · Σ_s sgn(s) · Brauer(pairs ∪ {left[p], right[s(p)]})``: the det(δ) expansion."""
    terms = []
    for perm in itertools.permutations(range(len(left))):
        joined = [(left[p], right[perm[p]]) for p in range(len(left))]
        terms.append((scale * permutation_sign(perm), Diagram(pairs + joined, k, l)))
    return terms


def compose_terms(f: Any, g: Any, loop: Poly) -> list[tuple[Poly, Any]]:
    """``f`` then ``g`` for Brauer or ε-diagrams: ``[(coefficient, diagram), ...]`` (math.md §a.7).

    Stacked picture: g's outputs (ids 0..m-1), the glued row (m..m+l-1), f's inputs (after). Each
    ε leg is an extra end node on its vertex, so every component is a path or a closed loop.
    """
    free_f, pairs_f = brauer_or_epsilon_parts(f)
    free_g, pairs_g = brauer_or_epsilon_parts(g)
    _check_orders(free_f, free_g)
    if f.l != g.k:
        raise DiagramError(messages.ARITY_COMPOSE.format(left=f, lout=f.l, right=g, rin=g.k))
    k, mid, m = f.k, f.l, g.l
    size = m + mid + k
    legs_f = [size + i for i in range(len(free_f))]
    legs_g = [size + len(free_f) + j for j in range(len(free_g))]
    adjacency: dict[int, list[int]] = {}

    def link(a: int, b: int) -> None:
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)

    for a, b in pairs_g:
        link(a - 1, b - 1)
    for a, b in pairs_f:
        link(m + a - 1, m + b - 1)
    for node, v in zip(legs_g, free_g):
        link(node, v - 1)
    for node, v in zip(legs_f, free_f):
        link(node, m + v - 1)

    def is_end(node: int) -> bool:
        return node >= size or node < m or node >= m + mid

    def label(node: int) -> int:
        return node + 1 if node < m else node - mid + 1

    seen: set[int] = set()
    paths = []
    for start in sorted(adjacency):
        if start in seen or not is_end(start):
            continue
        seen.add(start)
        prev, cur = start, adjacency[start][0]
        while not is_end(cur):                       # glued-row vertices have exactly two edges
            seen.add(cur)
            a, b = adjacency[cur]
            prev, cur = cur, (b if a == prev else a)
        seen.add(cur)
        paths.append((start, cur))
    loops = 0
    for node in range(m, m + mid):
        if node in seen:
            continue
        loops += 1
        stack = [node]
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                stack.extend(adjacency[x])

    pairs: list[tuple[int, int]] = []
    lands: dict[int, int] = {}                       # leg node -> outer label
    contracted: list[tuple[int, int]] = []           # (leg of f, leg of g)
    for a, b in paths:
        leg_a, leg_b = a >= size, b >= size
        if not leg_a and not leg_b:
            pairs.append((label(a), label(b)))
        elif leg_a != leg_b:
            leg, outer = (a, b) if leg_a else (b, a)
            lands[leg] = label(outer)
        else:
            side_a, side_b = a in legs_f, b in legs_f
            if side_a == side_b:
                return []                            # two legs of one ε share an index: ε = 0
            contracted.append((a, b) if side_a else (b, a))
    scale = loop**loops
    if not free_f or not free_g:
        legs = legs_f or legs_g
        sign, free = permutation_sign([lands[x] for x in legs]), [lands[x] for x in legs]
        return [(scale * sign, _make(free, pairs, k, m))]
    rest_f = [x for x in legs_f if x in lands]
    rest_g = [x for x in legs_g if x in lands]
    sign = (permutation_sign(rest_f + [a for a, _ in contracted])
            * permutation_sign(rest_g + [b for _, b in contracted]))
    # Σ_C ε_{A C} ε_{B C} over j contracted indices is (n-r+j)!/(n-r)! det[δ(a, b)] (r legs each):
    # j! at n = r, kept as the falling factorial in n so that the result is exactly what Brauer
    # calculus gives for the det(δ) expansion of ε ⊗ ε (the algebra stays associative in symbolic n)
    j, r = len(contracted), len(free_f)
    for i in range(j):
        scale = scale * (loop - (r - j) - i)
    scale = scale * sign
    return _det_terms([lands[x] for x in rest_f], [lands[x] for x in rest_g], pairs, k, m, scale)


def tensor_terms(f: Any, g: Any) -> list[tuple[Poly, Any]]:
    """``f`` left of ``g`` for Brauer or ε-diagrams; ε ⊗ ε is expanded into Brauer diagrams."""
    from .coeff import Poly
    free_f, pairs_f = brauer_or_epsilon_parts(f)
    free_g, pairs_g = brauer_or_epsilon_parts(g)
    _check_orders(free_f, free_g)
    l1, l2, k1 = f.l, g.l, f.k

    def left(v: int) -> int:
        return v if v <= l1 else v + l2

    def right(v: int) -> int:
        return v + l1 if v <= l2 else v + l1 + k1

    pairs = [(left(a), left(b)) for a, b in pairs_f] + [(right(a), right(b)) for a, b in pairs_g]
    k, l = f.k + g.k, l1 + l2
    if free_f and free_g:
        return _det_terms([left(v) for v in free_f], [right(v) for v in free_g], pairs, k, l, Poly.const(1))
    # the relabelling is increasing on each factor and keeps outputs before inputs: no sign
    free = [left(v) for v in free_f] + [right(v) for v in free_g]
    return [(Poly.const(1), _make(free, pairs, k, l))]


# -- dense tensors ----------------------------------------------------------------------------
def levi_civita(n: int, order: int | None = None) -> np.ndarray:
    """The Levi-Civita symbol as an int64 array of shape (n,)*n (``order`` must be n if given).

    >>> levi_civita(2).tolist()
    [[0, 1], [-1, 0]]
    """
    if order is not None and order != n:
        raise DiagramError(messages.EPS_WRONG_ORDER.format(order=order, n=n))
    out = np.zeros((n,) * n, dtype=np.int64)
    for perm in itertools.permutations(range(n)):
        out[perm] = permutation_sign(perm)
    return out


def epsilon_tensor(d: EpsilonDiagram, n: int) -> np.ndarray:
    """The exact (n,)*(l+k) tensor of an ε-diagram: ε on the free vertices (label order), δ on pairs.

    >>> epsilon_tensor(EpsilonDiagram([1, 2], [], k=1, l=1), 2).tolist()
    [[0, 1], [-1, 0]]
    """
    tensor = levi_civita(n, d.order)
    eye = np.eye(n, dtype=np.int64)
    for _ in d.pairs:
        tensor = np.multiply.outer(tensor, eye)
    axis_labels = list(d.free) + [v for p in d.pairs for v in p]
    where = {v: i for i, v in enumerate(axis_labels)}
    return np.transpose(tensor, [where[v] for v in range(1, d.k + d.l + 1)])
