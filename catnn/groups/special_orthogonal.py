"""SO(n): Brauer diagrams plus the ε-diagrams with n free vertices (math.md §a.7).

>>> from catnn.groups import group
>>> G = group("SO", n=2)
>>> len(G.spanning_set(1, 1)), G.dimension(1, 1), [str(d) for d in G.basis(1, 1)]
(2, 2, ["{1, 1'}", "eps[1, 1']"])
>>> G.matrix(G.generator("eps", (1, 1))).tolist()          # the rotation generator ε_ij
[[0, 1], [-1, 0]]

The ε-diagrams pick up det(g) under g ∈ O(n), so they are SO(n)- but not O(n)-equivariant, and
they are orthogonal (Frobenius inner product) to every Brauer diagram. Hence

    dim Hom_SO(n) = dim Hom_O(n) + (multiplicity of det in V^{⊗(k+l)}),

the second term counting walks from the empty shape to the column (1^n) in the O(n) Bratteli
diagram (shapes with λ'_1 + λ'_2 <= n): Ind_{SO(n)}^{O(n)} 1 = 1 ⊕ det. This reproduces the table
of math.md §a.7, e.g. SO(4) at k + l = 8: 105 + 91 = 196.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from .. import messages
from ..dense import partition_tensor
from ..diagram import Diagram, perfect_matchings
from ..errors import GroupError
from ..levi_civita import EpsilonDiagram, epsilon_tensor, permutation_sign
from .base import Group, rng_of
from .counting import bratteli_walks, brauer_count, double_factorial, o_allowed
from .independence import greedy_basis
from .orthogonal import Orthogonal, brauer_diagrams, pairing_message, random_orthogonal

__all__ = ["SpecialOrthogonal", "epsilon_gram"]


class SpecialOrthogonal(Group):
    """The special orthogonal group SO(n); its category is Brauer diagrams plus ε-diagrams."""

    name = "SO"
    aliases = ("special_orthogonal", "rotation")

    # -- counting -----------------------------------------------------------------------------
    def spanning_count(self, k: int, l: int) -> int:
        n = self.require_n("the SO spanning set")
        return brauer_count(k + l) + _epsilon_count(k + l, n)

    def iter_spanning_set(self, k: int, l: int) -> Iterator[Any]:
        """The Brauer diagrams, then the ε-diagrams (free sets in lexicographic order)."""
        n = self.require_n("the SO spanning set")
        m = k + l
        yield from brauer_diagrams(k, l)
        if m < n or (m - n) % 2:
            return
        for free in itertools.combinations(range(1, m + 1), n):
            rest = [v for v in range(1, m + 1) if v not in free]
            for pairs in _matchings(rest):
                yield EpsilonDiagram(free, pairs, k, l)

    def dimension(self, k: int, l: int) -> int:
        """O(n) walks back to the empty shape plus O(n) walks to the column (1^n)."""
        return self.brauer_dimension(k, l) + self.epsilon_dimension(k, l)

    def brauer_dimension(self, k: int, l: int) -> int:
        """The rank of the Brauer part: dim Hom_O(n)."""
        n = self.require_n("dimension")
        return bratteli_walks(k + l, lambda shape: o_allowed(shape, n))

    def epsilon_dimension(self, k: int, l: int) -> int:
        """The rank of the ε part: the multiplicity of det in V^{⊗(k+l)}."""
        n = self.require_n("dimension")
        return bratteli_walks(k + l, lambda shape: o_allowed(shape, n), (1,) * n)

    def basis(self, k: int, l: int) -> tuple[Any, ...]:
        """O(n)'s Brauer basis, then the first-come independent ε-diagrams.

        The two parts are orthogonal (Frobenius inner product), so each is reduced on its own Gram
        matrix, exactly modulo a prime (see :mod:`catnn.groups.independence`); cached.
        """
        self.require_n("basis")
        return _so_basis(self, k, l)

    # -- the functor --------------------------------------------------------------------------
    def accepts(self, d: Any) -> bool:
        if isinstance(d, Diagram):
            return d.is_brauer()
        return isinstance(d, EpsilonDiagram) and (self.n is None or d.order == self.n)

    def reject_message(self, d: Any) -> str:
        if isinstance(d, Diagram):
            return pairing_message(self.name, d)
        if isinstance(d, EpsilonDiagram):
            return messages.NOT_SO_DIAGRAM.format(group=self.name, n=self.n, what=f"{d} ({d.order} free)")
        return messages.NOT_DIAGRAM.format(kind=type(d).__name__)

    def diagram_tensor(self, d: Any, n: int) -> np.ndarray:
        if isinstance(d, EpsilonDiagram):
            return epsilon_tensor(d, n)
        return partition_tensor(d, n)

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A Haar-random rotation (det = +1)."""
        return random_orthogonal(self.require_n("sample"), rng_of(rng), det=1)

    def generator(self, name: str, args: tuple[int, ...] = ()) -> Any | None:
        """Adds ``eps``: ``eps`` is ε as a 0 -> n vertex (all n legs outputs); ``eps(k, l)`` is the
        k -> l vertex with all k + l = n legs free (``eps(1, 1)`` is the rotation generator)."""
        if name != "eps":
            return super().generator(name, args)
        n = self.require_n("the eps generator")
        k, l = (0, n) if not args else args if len(args) == 2 else (-1, -1)
        if min(k, l) < 0 or k + l != n:
            raise GroupError(messages.EPS_ARGS.format(n=n, args=args))
        return EpsilonDiagram(range(1, n + 1), [], k, l)

    def generator_names(self) -> tuple[str, ...]:
        return (*super().generator_names(), "eps")


# -- counting helpers -------------------------------------------------------------------------
def _epsilon_count(m: int, n: int) -> int:
    """C(m, n) (m - n - 1)!!: choose the free vertices, pair the rest."""
    return math.comb(m, n) * double_factorial(m - n - 1) if m >= n and (m - n) % 2 == 0 else 0


def _matchings(labels: Sequence[int]) -> Iterator[list[list[int]]]:
    """Perfect matchings of the given labels, in the order of ``perfect_matchings``."""
    for pairs in perfect_matchings(len(labels)):
        yield [[labels[a - 1], labels[b - 1]] for a, b in pairs]


# -- Gram matrices (exact, no dense arrays) ---------------------------------------------------
@lru_cache(maxsize=64)
def _so_basis(G: SpecialOrthogonal, k: int, l: int) -> tuple[Any, ...]:
    n = G.require_n("basis")
    spanning = G.spanning_set(k, l)
    brauer = tuple(d for d in spanning if isinstance(d, Diagram))
    eps = [d for d in spanning if isinstance(d, EpsilonDiagram)]
    chosen = list(Orthogonal(n).basis(k, l)) if brauer else []
    chosen += greedy_basis(eps, G.epsilon_dimension(k, l), n, f"the ε-diagrams of {G} for {k} -> {l}",
                           lambda d: epsilon_tensor(d, n), lambda a, b: epsilon_gram(a, b, n))
    return tuple(chosen)


def epsilon_gram(a: EpsilonDiagram, b: EpsilonDiagram, n: int) -> int:
    """<H_a, H_b> = Σ_x H_a[x] H_b[x], exactly: ± n! n^(loops), or 0.

    On the union of the two pairings every component is a loop or a path whose ends are free
    vertices. A path with both ends free in the same diagram forces a repeated ε index (0);
    otherwise the paths match a's free vertices with b's, and the sum is sgn(matching) · n! per ε
    pair times n per loop.
    """
    size = a.k + a.l
    adjacency: dict[int, list[int]] = {v: [] for v in range(1, size + 1)}
    for x, y in a.pairs + b.pairs:
        adjacency[x].append(y)
        adjacency[y].append(x)
    free_a, free_b = set(a.free), set(b.free)
    partner: dict[int, int] = {}
    seen: set[int] = set()
    for start in a.free:
        prev, cur = None, start
        seen.add(cur)
        while True:
            step = [x for x in adjacency[cur] if x != prev]
            if not step or (cur != start and len(adjacency[cur]) < 2):
                break
            prev, cur = cur, step[0]
            seen.add(cur)
        if cur not in free_b or (cur in free_a and cur != start):
            return 0
        partner[start] = cur
    loops = len({tuple(c) for c in _cycles(adjacency, seen)})
    position = {v: i for i, v in enumerate(b.free)}
    sign = permutation_sign([position[partner[v]] for v in a.free])
    return sign * math.factorial(n) * n**loops


def _cycles(adjacency: dict[int, list[int]], seen: set[int]) -> list[list[int]]:
    """The components not yet visited (all vertices of degree 2: closed loops)."""
    out = []
    for v in adjacency:
        if v in seen:
            continue
        stack, comp = [v], []
        while stack:
            x = stack.pop()
            if x in seen:
                continue
            seen.add(x)
            comp.append(x)
            stack.extend(adjacency[x])
        out.append(sorted(comp))
    return out
