"""O(n): Brauer diagrams, every block a pair (math.md §a.5).

>>> from catnn.groups import group
>>> G = group("O", n=2)
>>> len(G.spanning_set(3, 3)), G.dimension(3, 3), len(G.basis(3, 3))
(15, 10, 10)
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

from .. import messages
from ..dense import partition_tensor
from ..diagram import Diagram, perfect_matchings
from ..errors import LimitError
from .base import Group, rng_of
from .counting import bratteli_walks, brauer_count, o_allowed
from .independence import PRIMES, pivot_columns_mod

__all__ = ["BrauerGroup", "Orthogonal", "brauer_diagrams", "pairing_message", "independent_subset",
           "random_orthogonal", "MAX_BASIS_SELECTION"]

#: the most Brauer diagrams ``Orthogonal.basis`` reduces to a basis when n < (k+l)/2
MAX_BASIS_SELECTION = 1_000


class BrauerGroup(Group):
    """A group whose diagrams are the Brauer diagrams (every block a pair): O(n) and Sp(n)."""

    def spanning_count(self, k: int, l: int) -> int:
        return brauer_count(k + l)

    def iter_spanning_set(self, k: int, l: int) -> Iterator[Diagram]:
        return brauer_diagrams(k, l)

    def accepts(self, d: Any) -> bool:
        return isinstance(d, Diagram) and d.is_brauer()

    def reject_message(self, d: Any) -> str:
        if not isinstance(d, Diagram):
            return messages.NOT_DIAGRAM.format(kind=type(d).__name__)
        return pairing_message(self.name, d)


def brauer_diagrams(k: int, l: int) -> Iterator[Diagram]:
    """Every Brauer diagram k -> l, lazily, in the order of ``perfect_matchings``.

    >>> [str(d) for d in brauer_diagrams(1, 1)], sum(1 for _ in brauer_diagrams(2, 2))
    (["{1, 1'}"], 3)
    """
    return (Diagram(pairs, k, l) for pairs in perfect_matchings(k + l))


def pairing_message(group: str, d: Diagram) -> str:
    """Why the partition diagram ``d`` is not a Brauer diagram: its first block that is not a pair."""
    block = next((b for b in d.blocks if len(b) != 2), ())
    if not block:
        return messages.NOT_DIAGRAM.format(kind=type(d).__name__)
    shown = "{" + ", ".join(d.label_name(v) for v in block) + "}"
    return messages.NOT_PAIRING.format(group=group, block=shown, size=len(block))


class Orthogonal(BrauerGroup):
    """The orthogonal group O(n); its category is the Brauer category B(n)."""

    name = "O"
    aliases = ("orthogonal",)

    def dimension(self, k: int, l: int) -> int:
        """Walks in the O(n) Bratteli diagram (shapes with λ'_1 + λ'_2 <= n); (m-1)!! once n >= m/2."""
        n = self.require_n("dimension")
        return bratteli_walks(k + l, lambda shape: o_allowed(shape, n))

    def basis(self, k: int, l: int) -> tuple[Diagram, ...]:
        """All Brauer diagrams when n >= (k+l)/2; below that, the first independent ones in order.

        Independence is decided on the Gram matrix <E_β, E_γ> = n^{#loops of β ∪ γ}, by exact
        elimination modulo a prime; the chosen set is independent over Q whenever it is modulo p,
        and its size is checked against ``dimension``. The selection is cubic in the number of
        Brauer diagrams, so it is refused (LimitError) above ``MAX_BASIS_SELECTION`` of them
        (k + l = 10, 945 diagrams, takes a few seconds; k + l = 12 is refused when n < 6).
        """
        n = self.require_n("basis")
        spanning = self.spanning_set(k, l)
        if 2 * n >= k + l or not spanning:
            return spanning
        if len(spanning) > MAX_BASIS_SELECTION:
            raise LimitError(messages.TOO_LARGE.format(
                what=f"the Brauer spanning set to reduce to a basis of {self} for {k} -> {l}",
                count=len(spanning), limit=MAX_BASIS_SELECTION, m=k + l))
        return _reduced_basis(self, k, l)

    def diagram_tensor(self, d: Diagram, n: int) -> np.ndarray:
        return partition_tensor(d, n)

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A Haar-random orthogonal matrix; half the time a reflection (det = -1)."""
        return random_orthogonal(self.require_n("sample"), rng_of(rng))


@lru_cache(maxsize=64)
def _reduced_basis(G: Orthogonal, k: int, l: int) -> tuple[Diagram, ...]:
    return independent_subset(G.spanning_set(k, l), G.require_n("basis"), G.dimension(k, l))


def random_orthogonal(n: int, rng: np.random.Generator, det: int | None = None) -> np.ndarray:
    """A Haar-random element of O(n) (of the given determinant when ``det`` is ±1)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    want = det if det is not None else rng.choice([-1, 1])
    if round(np.linalg.det(q)) != want:
        q[:, 0] = -q[:, 0]
    return q


def independent_subset(diagrams: tuple[Diagram, ...], n: int, target: int) -> tuple[Diagram, ...]:
    """The greedy (first-come) independent subset of the diagrams' matrices, via their Gram matrix.

    ``<E_a, E_b> = n^{c(a, b)}`` with c the number of loops of a laid on b, so no n^(k+l) matrix is
    built; the columns of the Gram matrix have the same linear relations as the E_β. Elimination is
    exact modulo a large prime: a set independent mod p is independent over Q, and reaching ``target``
    (the exact dimension) pivots proves the set is a basis. Cubic in ``len(diagrams)``.
    """
    if not diagrams or target == 0:
        return ()
    exponents = _loop_counts(diagrams)
    for prime in PRIMES:
        powers = np.array([pow(n, e, prime) for e in range(int(exponents.max()) + 1)], dtype=np.int64)
        pivots = pivot_columns_mod(powers[exponents], prime, target)
        if len(pivots) == target:
            return tuple(diagrams[i] for i in pivots)
    raise ArithmeticError("modular elimination disagreed with the exact dimension")


def _loop_counts(diagrams: tuple[Diagram, ...]) -> np.ndarray:
    """c(a, b) for every pair: the cycles of the union of the two matchings.

    With mate_a, mate_b the matchings as involutions, each cycle of the union (length 2L) splits into
    two cycles of the permutation mate_a ∘ mate_b, so c = cycles(mate_a ∘ mate_b) / 2.
    """
    size = diagrams[0].k + diagrams[0].l
    mates = np.empty((len(diagrams), size), dtype=np.int64)
    for i, d in enumerate(diagrams):
        for a, b in d.blocks:
            mates[i, a - 1], mates[i, b - 1] = b - 1, a - 1
    vertex = np.arange(size)
    out = np.empty((len(diagrams), len(diagrams)), dtype=np.int64)
    for i in range(len(diagrams)):
        perm = mates[i][mates]                       # perm[j, v] = mate_i(mate_j(v))
        label = np.broadcast_to(vertex, perm.shape).copy()
        current = label.copy()
        for _ in range(size):                        # after `size` steps: the minimum of each cycle
            current = np.take_along_axis(perm, current, axis=1)
            np.minimum(label, current, out=label)
        out[i] = (label == vertex).sum(axis=1) // 2
    return out
