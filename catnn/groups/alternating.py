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

Composition and tensor products involving jellyfish raise a DiagramError: catnn uses jellyfish
through their matrices (spanning sets, layers), not in diagram algebra.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import messages
from ..dense import partition_tensor
from ..diagram import Diagram, set_partitions
from ..errors import DiagramError
from ..kinds import DiagramOps
from ..levi_civita import permutation_sign
from .base import Group, rng_of
from .counting import restricted_bell, stirling2
from .symmetric import permutation_matrix

if TYPE_CHECKING:
    from ..coeff import Poly

__all__ = ["Alternating", "Jellyfish", "jellyfish_tensor"]


class Jellyfish(DiagramOps):
    """The jellyfish J_π of a partition diagram π (immutable, hashable; tentacles = blocks).

    >>> j = Jellyfish.from_blocks([[1, 3], [2]], k=1, l=2)
    >>> j.k, j.l, j.blocks, str(j)
    (1, 2, ((1, 3), (2,)), "jelly[{1, 1'} {2}]")
    """

    __slots__ = ("partition", "k", "l", "_hash")
    kind = "jellyfish"

    #: sorts after partition diagrams (0) and ε-diagrams (1) inside a Morphism
    kind_rank = 2

    def __init__(self, partition: Diagram) -> None:
        if not isinstance(partition, Diagram):
            raise DiagramError(messages.NOT_DIAGRAM.format(kind=type(partition).__name__))
        self.partition = partition
        self.k, self.l = partition.k, partition.l
        self._hash = hash(("jelly", partition))

    @classmethod
    def from_blocks(cls, blocks: Iterable[Iterable[int]], *, k: int, l: int) -> Jellyfish:
        """A jellyfish from blocks of 1-based labels (outputs 1..l, then inputs l+1..l+k)."""
        return cls(Diagram(blocks, k, l))

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
    def _refuse(self, operation: str) -> list[tuple[Poly, Any]]:
        raise DiagramError(messages.JELLYFISH_ALGEBRA.format(operation=operation))

    def _compose_terms(self, other: Any, loop: Poly) -> list[tuple[Poly, Any]]:
        return self._refuse("composition")

    def _rcompose_terms(self, other: Any, loop: Poly) -> list[tuple[Poly, Any]]:
        return self._refuse("composition")

    def _tensor_terms(self, other: Any) -> list[tuple[Poly, Any]]:
        return self._refuse("the tensor product")

    def _rtensor_terms(self, other: Any) -> list[tuple[Poly, Any]]:
        return self._refuse("the tensor product")

    def _transpose_terms(self) -> list[tuple[Poly, Jellyfish]]:
        """The flip reorders the tentacles by their new smallest labels: a sign."""
        from ..coeff import Poly
        flipped = self.partition.T
        k = self.k
        new_first = [min(v + k if v <= self.l else v - self.l for v in b) for b in self.blocks]
        return [(Poly.const(permutation_sign(new_first)), Jellyfish(flipped))]

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
                    yield Jellyfish(Diagram(blocks, k, l))

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
