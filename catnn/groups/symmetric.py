"""S_n: all partition diagrams (math.md §a.4).

>>> from catnn.groups import group
>>> G = group("S", n=3)
>>> len(G.spanning_set(2, 2)), G.dimension(2, 2), len(G.basis(2, 2))
(15, 14, 14)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..dense import orbit_matrix, partition_tensor
from ..diagram import Diagram, canonical_partitions
from .base import Group, rng_of
from .counting import bell, restricted_bell

__all__ = ["Symmetric", "permutation_matrix"]


class Symmetric(Group):
    """The symmetric group S_n of n×n permutation matrices; its category is P(n)."""

    name = "S"
    aliases = ("Sym", "symmetric")
    is_permutation_group = True

    def spanning_count(self, k: int, l: int) -> int:
        return bell(k + l)

    def iter_spanning_set(self, k: int, l: int) -> Iterator[Diagram]:
        """All (k, l)-partition diagrams, in restricted-growth-string order of the labels 1..k+l."""
        return (Diagram.from_canonical(blocks, k, l) for blocks in canonical_partitions(k + l))

    def basis(self, k: int, l: int) -> tuple[Diagram, ...]:
        """The diagrams with at most n blocks (math.md §a.4: unitriangular against X_π)."""
        n = self.require_n("basis")
        return tuple(d for d in self.spanning_set(k, l) if d.num_blocks <= n)

    def dimension(self, k: int, l: int) -> int:
        """The restricted Bell number: partitions of k + l vertices into at most n blocks."""
        return restricted_bell(k + l, self.require_n("dimension"))

    def accepts(self, d: Any) -> bool:
        return isinstance(d, Diagram)

    def diagram_tensor(self, d: Diagram, n: int) -> np.ndarray:
        return partition_tensor(d, n)

    def orbit_matrix(self, d: Diagram) -> np.ndarray:
        """X_π: 1 where the index's equality pattern is exactly π (``D_π = Σ_{θ ≥ π} X_θ``)."""
        return orbit_matrix(d, self.require_n("orbit_matrix"))

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A uniformly random permutation matrix."""
        return permutation_matrix(rng_of(rng).permutation(self.require_n("sample")))


def permutation_matrix(sigma: np.ndarray) -> np.ndarray:
    """The matrix P with P e_i = e_{sigma(i)}."""
    n = len(sigma)
    p = np.zeros((n, n), dtype=np.int64)
    p[np.asarray(sigma), np.arange(n)] = 1
    return p
