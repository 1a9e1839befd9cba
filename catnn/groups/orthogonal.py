"""O(n): Brauer diagrams, every block a pair (math.md §a.5).

>>> from catnn.groups import group
>>> G = group("O", n=2)
>>> len(G.spanning_set(3, 3)), G.dimension(3, 3), len(G.basis(3, 3))
(15, 10, 10)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import messages
from ..dense import partition_tensor
from ..diagram import Diagram, _components, perfect_matchings
from .base import Group, rng_of
from .counting import bratteli_walks, columns, double_factorial

__all__ = ["Orthogonal", "independent_subset", "random_orthogonal"]


class Orthogonal(Group):
    """The orthogonal group O(n); its category is the Brauer category B(n)."""

    name = "O"
    aliases = ("orthogonal",)

    def spanning_count(self, k: int, l: int) -> int:
        m = k + l
        return double_factorial(m - 1) if m % 2 == 0 else 0

    def iter_spanning_set(self, k: int, l: int) -> Iterator[Diagram]:
        return (Diagram(pairs, k, l) for pairs in perfect_matchings(k + l))

    def dimension(self, k: int, l: int) -> int:
        """Walks in the O(n) Bratteli diagram (shapes with λ'_1 + λ'_2 <= n); (m-1)!! once n >= m/2."""
        n = self.require_n("dimension")
        return bratteli_walks(k + l, lambda shape: sum((columns(shape) + (0, 0))[:2]) <= n)

    def basis(self, k: int, l: int) -> tuple[Diagram, ...]:
        """All Brauer diagrams when n >= (k+l)/2; below that, the first independent ones in order.

        Independence is decided on the Gram matrix <E_β, E_γ> = n^{#loops of β ∪ γ}, by exact
        elimination modulo a prime; the chosen set is independent over Q whenever it is modulo p,
        and its size is checked against ``dimension``.
        """
        n = self.require_n("basis")
        spanning = self.spanning_set(k, l)
        if 2 * n >= k + l or not spanning:
            return spanning
        return independent_subset(spanning, n, self.dimension(k, l))

    def accepts(self, d: Any) -> bool:
        return isinstance(d, Diagram) and d.is_brauer()

    def reject_message(self, d: Any) -> str:
        block = next((b for b in getattr(d, "blocks", ()) if len(b) != 2), ())
        shown = "{" + ", ".join(d.label_name(v) for v in block) + "}" if block else "?"
        return messages.NOT_PAIRING.format(group=self.name, block=shown, size=len(block))

    def diagram_tensor(self, d: Diagram, n: int) -> np.ndarray:
        return partition_tensor(d, n)

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A Haar-random orthogonal matrix; half the time a reflection (det = -1)."""
        return random_orthogonal(self.require_n("sample"), rng_of(rng))


def random_orthogonal(n: int, rng: np.random.Generator, det: int | None = None) -> np.ndarray:
    """A Haar-random element of O(n) (of the given determinant when ``det`` is ±1)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    want = det if det is not None else rng.choice([-1, 1])
    if round(np.linalg.det(q)) != want:
        q[:, 0] = -q[:, 0]
    return q


def independent_subset(diagrams: tuple[Diagram, ...], n: int, target: int) -> tuple[Diagram, ...]:
    """The greedy (first-come) independent subset of the diagrams' matrices, via their Gram matrix."""
    size = diagrams[0].k + diagrams[0].l if diagrams else 0
    gram = [[_loops(a, b, size) for b in diagrams] for a in diagrams]
    for prime in (2_147_483_629, 2_147_483_587, 2_147_483_563):
        pivots = _pivot_columns(np.array(gram, dtype=object), n, prime)
        if len(pivots) == target:
            return tuple(diagrams[i] for i in pivots)
    raise ArithmeticError("modular elimination disagreed with the exact dimension")


def _loops(a: Diagram, b: Diagram, size: int) -> int:
    """The number of components when a and b are laid on the same vertices (<E_a, E_b> = n^this)."""
    return len(_components([[v - 1 for v in blk] for blk in a.blocks + b.blocks], size))


def _pivot_columns(exponents: np.ndarray, n: int, prime: int) -> list[int]:
    """Pivot columns, in order, of the matrix n^exponents reduced modulo ``prime``."""
    rows, cols = exponents.shape
    mat = [[pow(n, int(e), prime) for e in row] for row in exponents]
    pivots, r = [], 0
    for c in range(cols):
        pivot = next((i for i in range(r, rows) if mat[i][c]), None)
        if pivot is None:
            continue
        mat[r], mat[pivot] = mat[pivot], mat[r]
        inv = pow(mat[r][c], -1, prime)
        for i in range(r + 1, rows):
            if mat[i][c]:
                f = mat[i][c] * inv % prime
                mat[i] = [(x - f * y) % prime for x, y in zip(mat[i], mat[r])]
        pivots.append(c)
        r += 1
    return pivots
