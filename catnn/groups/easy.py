"""Easy groups from partition filters (math.md §a.10): hyperoctahedral H_n and bistochastic B_n.

Both categories are subcategories of P(n) cut out by a rule on block sizes, with the same matrices
D_π as S_n and closed loops worth n:

- **H_n** (signed permutation matrices): every block has even size. A tuple in [n]^m is fixed up
  to sign by H_n exactly when each value occurs an even number of times, so

      dim Hom_H(n) = #{partitions of m = k + l into blocks of even size, at most n blocks},

  and those D_π are a basis (D_π = Σ_{θ ≥ π} X_θ is unitriangular on them, as for S_n).
- **B_n** (orthogonal matrices fixing the all-ones vector 1): blocks of size 1 or 2. As a
  representation V = 1 ⊕ 1^⊥ with B_n ≅ O(n-1) acting on 1^⊥, so

      dim Hom_B(n) = Σ_j C(m, j) · dim Hom_O(n-1)(j),

  the O(n-1) dimensions counted by Bratteli walks (0 for odd j). The basis is chosen greedily.

>>> from catnn.groups import group
>>> H, B = group("H", n=3), group("B", n=2)
>>> H.dimension(2, 2), H.dimension(3, 3), B.dimension(1, 1), len(B.spanning_set(1, 1))
(4, 31, 2, 2)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

from .. import messages
from ..dense import partition_tensor
from ..diagram import Diagram, set_partitions
from ..unionfind import components
from .base import Group, rng_of
from .counting import bratteli_walks, o_allowed
from .independence import greedy_basis
from .orthogonal import random_orthogonal

__all__ = ["Hyperoctahedral", "Bistochastic", "filtered_partitions", "count_filtered"]


class _PartitionFilter(Group):
    """A group whose category is the partition diagrams with allowed block sizes."""

    #: the rule, in words, for error messages
    rule = ""

    def allowed(self, size: int) -> bool:
        """True if a block of this size is allowed."""
        raise NotImplementedError

    def spanning_count(self, k: int, l: int) -> int:
        return count_filtered(k + l, self.allowed)

    def iter_spanning_set(self, k: int, l: int) -> Iterator[Diagram]:
        """The allowed partition diagrams, in ``set_partitions`` order."""
        return (Diagram(blocks, k, l) for blocks in filtered_partitions(k + l, self.allowed))

    def accepts(self, d: Any) -> bool:
        return isinstance(d, Diagram) and all(self.allowed(len(b)) for b in d.blocks)

    def reject_message(self, d: Any) -> str:
        if not isinstance(d, Diagram):
            return messages.NOT_DIAGRAM.format(kind=type(d).__name__)
        block = next(b for b in d.blocks if not self.allowed(len(b)))
        shown = "{" + ", ".join(d.label_name(v) for v in block) + "}"
        return messages.NOT_FILTERED.format(group=self.name, rule=self.rule, block=shown, size=len(block))

    def diagram_tensor(self, d: Diagram, n: int) -> np.ndarray:
        return partition_tensor(d, n)


class Hyperoctahedral(_PartitionFilter):
    """The hyperoctahedral group H_n of signed permutation matrices: blocks of even size."""

    name = "H"
    aliases = ("hyperoctahedral",)
    rule = "blocks of even size"

    def allowed(self, size: int) -> bool:
        return size % 2 == 0

    def dimension(self, k: int, l: int) -> int:
        """Even-block partitions of k + l vertices with at most n blocks."""
        n = self.require_n("dimension")
        return sum(_count_by_blocks(k + l, 2)[: n + 1])

    def basis(self, k: int, l: int) -> tuple[Diagram, ...]:
        """The even-block diagrams with at most n blocks."""
        n = self.require_n("basis")
        return tuple(d for d in self.spanning_set(k, l) if d.num_blocks <= n)

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A uniformly random signed permutation matrix."""
        n = self.require_n("sample")
        rng = rng_of(rng)
        g = np.zeros((n, n), dtype=np.int64)
        g[rng.permutation(n), np.arange(n)] = rng.choice([-1, 1], size=n)
        return g


class Bistochastic(_PartitionFilter):
    """The bistochastic group B_n = {g ∈ O(n) : g 1 = 1}: blocks of size 1 or 2."""

    name = "B"
    aliases = ("bistochastic",)
    rule = "blocks of size 1 or 2"

    def allowed(self, size: int) -> bool:
        return size <= 2

    def dimension(self, k: int, l: int) -> int:
        """Σ_j C(k+l, j) · dim Hom_O(n-1)(j): choose the tensor factors that see 1^⊥."""
        n, m = self.require_n("dimension"), k + l
        return sum(math.comb(m, j) * bratteli_walks(j, lambda shape: o_allowed(shape, n - 1))
                   for j in range(0, m + 1, 2))

    def basis(self, k: int, l: int) -> tuple[Diagram, ...]:
        """The first-come independent diagrams (exact Gram <D_π, D_θ> = n^(blocks of π ∨ θ)); cached."""
        self.require_n("basis")
        return _b_basis(self, k, l)

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A random element: a random O(n-1) element acting on 1^⊥, the identity on 1."""
        n = self.require_n("sample")
        rng = rng_of(rng)
        basis, _ = np.linalg.qr(np.column_stack([np.ones(n), rng.standard_normal((n, n - 1))]))
        inner = np.eye(n)
        if n > 1:
            inner[1:, 1:] = random_orthogonal(n - 1, rng)
        return basis @ inner @ basis.T


@lru_cache(maxsize=64)
def _b_basis(G: Bistochastic, k: int, l: int) -> tuple[Diagram, ...]:
    n, size = G.require_n("basis"), k + l

    def inner(a: Diagram, c: Diagram) -> int:
        return n ** len(components([[v - 1 for v in b] for b in a.blocks + c.blocks], size))

    chosen = greedy_basis(G.spanning_set(k, l), G.dimension(k, l), n, f"the diagrams of {G} for {k} -> {l}",
                          lambda d: partition_tensor(d, n), inner)
    return tuple(chosen)


def filtered_partitions(m: int, allowed: Any) -> Iterator[list[list[int]]]:
    """Set partitions of 1..m whose block sizes all pass ``allowed``."""
    return (p for p in set_partitions(m) if all(allowed(len(b)) for b in p))


def count_filtered(m: int, allowed: Any) -> int:
    """How many set partitions of m things have only allowed block sizes (the block of 1 first)."""
    counts = [1]
    for size in range(1, m + 1):
        counts.append(sum(math.comb(size - 1, s - 1) * counts[size - s]
                          for s in range(1, size + 1) if allowed(s)))
    return counts[m]


@lru_cache(maxsize=None)
def _count_by_blocks(m: int, step: int) -> tuple[int, ...]:
    """Partitions of m things into blocks of size divisible by ``step``, by number of blocks."""
    table = [[0] * (m + 1) for _ in range(m + 1)]     # table[size][blocks]
    table[0][0] = 1
    for size in range(1, m + 1):
        for s in range(step, size + 1, step):
            ways = math.comb(size - 1, s - 1)
            for t in range(1, size + 1):
                table[size][t] += ways * table[size - s][t - 1]
    return tuple(table[m])
