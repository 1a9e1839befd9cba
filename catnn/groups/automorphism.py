"""Aut(G): the automorphism group of a graph G on n vertices; its diagrams are bilabelled graphs.

>>> import numpy as np
>>> from catnn.groups import group
>>> C5 = np.roll(np.eye(5, dtype=int), 1, axis=1); C5 = C5 + C5.T
>>> G = group("Aut", graph=C5)
>>> G.order, G.dimension(1, 1), [str(h) for h in G.spanning_set(1, 1)]
(10, 3, ["{1, 1'}", "{1} {1'}", "graph[{1} {1'} ; 1-1']"])

Pearce-Crump (arXiv 2307.07810, math.md §a.9): the matrices X_H of the (k, l)-bilabelled graphs H span
Hom_Aut(G)((R^n)^{⊗k}, (R^n)^{⊗l}); entry (I, J) of X_H counts the homomorphisms F → G sending the
outputs to I and the inputs to J. G is given by a symmetric 0/1 adjacency matrix (numpy, torch, or a
networkx graph when networkx is installed); loops (diagonal ones) are allowed.

How Aut(G) is computed. Twins first: vertices with the same loop and the same neighbours besides
each other can be swapped, so each class of twins contributes its symmetric group (|class|! to the
order, no search), and the rest is the automorphism group of the quotient graph on the classes,
coloured by loop, size and kind; repeated while the quotient has twins (empty, complete, star and
complete multipartite graphs, isolated vertices, disjoint cliques: milliseconds at n = 300). The
last quotient gets a stabiliser chain by individualisation-refinement. The base is the first
path of the search tree: refine the colouring (colour refinement, loops as initial colours),
individualise the first vertex of the smallest non-trivial colour class, repeat until discrete. Then,
deepest level first, the orbit of each base point b_i under the pointwise stabiliser of b_0..b_{i-1}
is closed under the generators found so far, and for each point w of b_i's class still outside it a
depth-first search (joint refinement of the source and target colourings, pruned when their colour
counts differ, every leaf checked against the adjacency matrix) looks for an automorphism fixing
b_0..b_{i-1} and sending b_i to w. |Aut(G)| is the product of the orbit lengths, ``automorphisms()``
lists the products of one coset representative per level, and ``sample`` draws one uniformly per level
(exactly uniform). A refinement round ranks each vertex by (its colour, its neighbours' colours
sorted), from a table of neighbour lists: O(n * degree) per round, so sparse graphs with thousands of
vertices take seconds, though a cycle needs about n / 2 rounds per refinement (quadratic overall).
Measured on a loaded machine: C_1000 (|Aut| = 2000) 3 s, C_4000 47 s, the 40x50 grid 1.5 s, the
10-cube (n = 1024) 2 s, the 12-cube (n = 4096) 19 s. Measured before, with dense rounds (not
re-measured): Petersen 0.03 s, K_40 and the empty graph on 40 vertices
(|Aut| = 40!) 0.7 s, G(100, 1/2) and G(200, 0.05) (trivial groups) 3 ms and 25 ms, the 7x7 rook's
graph and Paley(101) (strongly regular) 0.08 s and 0.02 s.

How ``dimension(k, l)`` is computed: the number of orbits of Aut(G) on [n]^{k+l}, exactly. Burnside
over the listed group when |Aut(G)| <= ``BURNSIDE_LIMIT`` (cost |Aut| * n once for the fixed-point
counts, then O(n) per (k, l)); otherwise orbits of the n^{k+l} tuples under the generators by label
propagation with pointer jumping (O(n^{k+l} * #generators) per round, a few rounds), refused above
``MAX_TUPLES`` tuples.

How ``spanning_set(k, l)`` is built: a basis, independent by construction. Only m = k + l matters:
(k, l)-graphs are (0, m)-graphs with their labels split, and the tensor does not change. An
automorphism keeps the equality pattern of a tuple (which positions hold equal vertices), so the
tuples of [n]^m split by pattern π, and the tuples of pattern π are the injective p-tuples,
p = #blocks of π. For each p <= min(m, n):

1. Generators. Hom counts of p-labelled graphs are invariant functions; they form an algebra under
   ``glue`` (entrywise product), and invariant functions separating the orbits generate all of them
   (finite Stone-Weierstrass). Candidates by increasing size (internal vertices, then edges): the
   generators of every smaller p placed on each subset of the p labels, then the "pieces": p
   distinct labelled vertices, each adjacent to one connected internal part (p = 2 adds the edge,
   p = 1 the loop). Every graph with distinct labels is a gluing of such pieces. A candidate is kept
   if it splits a class of the orbits of injective p-tuples by the values of those kept so far,
   until the classes are the orbits. Pieces have at most ``MAX_PIECE_INTERNAL[p]`` internal
   vertices; past that only paths (p = 2) and cycles through the root (p = 1) up to length n are
   tried (built in canonical form directly: ``BilabelledGraph.path``, ``rooted_cycle``). Then, for
   p = 2, decorated paths: a path from label 1 to label 2 with a rooted graph of the p = 1 basis
   glued at one of its vertices (walks weighted by the vertex orbit they pass at a given step; this
   separates grids, whose pairs (0, 1), (1, 9) and (0, 1), (8, 0) in the 10 x 10 grid have equal walk
   counts of every length), scanned up to length n within ``MAX_DECORATED_WORK``. If the orbits are
   still not separated: LimitError.
   A candidate's values are its exact hom counts at one tuple per orbit only: the labels are fixed
   to the tuple and the internal vertices placed one at a time along the neighbour lists of placed
   ones (rows x degree^internal partial maps, counted per tuple), or the dense tensor where that
   would pass ``MAX_PARTIAL_MAPS``; a lifted generator takes its values from its own level; the long
   paths, cycles and decorated paths take walk counts e_v A^L, one sparse step per length (Python
   integers once they pass 2^62).
2. Injective basis. Gluings of generators: the graph of p isolated labelled vertices (the all-ones
   function), then the generators alone, then their products, smallest total size first; one is
   kept if it raises the rank on the injective orbits, and each kept one is glued with every
   generator in turn, until the rank is the number of orbits (above ``MAX_SPAN_ORBITS`` orbits:
   LimitError). Rank is exact: elimination modulo a prime below 2^20 (float64 BLAS products stay exact)
   on the values at one tuple per orbit, in batches of candidates reduced by one product with the
   free columns of the rows kept so far; rows independent modulo p are independent over Q.
3. The basis for m: every injective basis graph for p placed on every pattern π with p blocks (the
   labels of a block on one vertex), sorted by size. A graph placed on π vanishes off the tuples
   whose pattern is coarser than π, so the set is block triangular with independent diagonal blocks:
   independent, and its size sum_p S(m, p) * inj(p) is checked against ``dimension``. For G = K_n
   (Aut = S_n) inj(p) = 1 and the basis is the edgeless graphs: the D_π with at most n blocks.

This builds gluings of small pieces instead of listing every bilabelled graph by size: exhaustive
listing is hopeless for groups with few symmetries (for a trivial group the dimension is n^m and
each label needs its own identifying pieces). Measured: C_5, Petersen, P_4, K_{1,4} up to k + l = 4
in under 0.05 s each; an asymmetric graph on 6 vertices 0.6 s for k + l = 4 (1296 graphs), on 7
vertices 4.5 s (2401). The orbits of n^p tuples are enumerated, so ``spanning_set`` is refused above
``MAX_SPAN_TUPLES`` tuples (C_2000 on pairs: 4,000,000). At scale (benchmarks/bench_aut.py --scale,
shared machine, noisy): the 1 -> 1 basis of C_200 in 0.1 s (101 paths), of C_1000 in 2.5 s (501
graphs, the longest a 500-vertex path; 10-18 s before its paths were built in canonical form), of
the 10-cube in 1 s; grids: 5 x 6 (234 orbits on pairs) 0.3 s, 10 x 10 (1275) 4 s, 8 x 12 (2304)
13 s, 12 x 12 (2628) 14 s, 10 x 14 (4900) 50 s, most of it the elimination over the products of
generators (a kept product's values are the product of its factors', never counted afresh). A 30 x 30 grid has 101,355 orbits
on pairs: refused at once (``MAX_SPAN_ORBITS``), a deliberate decision, since a layer with a
hundred thousand weights per channel pair, each a graph with hundreds of vertices, is no useful
equivariant layer, and the elimination is quadratic in the orbits.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping
from math import prod
from typing import Any

import numpy as np

from .. import messages
from ..bilabelled import BilabelledGraph
from ..diagram import Diagram, set_partitions
from ..errors import GroupError, LimitError
from ..morphism import Morphism, as_morphism
from .base import Group, rng_of
from .symmetric import permutation_matrix

__all__ = ["Automorphism", "BURNSIDE_LIMIT", "MAX_TUPLES", "MAX_SPAN_TUPLES", "MAX_PIECE_INTERNAL",
           "MAX_SPAN_ORBITS", "MAX_ORBIT_WORK", "MAX_PARTIAL_MAPS", "MAX_DENSE_HOM",
           "MAX_DECORATED_WORK"]

#: Burnside's lemma is used while |Aut(G)| is at most this; above, orbits of tuples are enumerated
BURNSIDE_LIMIT = 200_000
#: the most tuples [n]^{k+l} whose orbits ``dimension`` enumerates
MAX_TUPLES = 4_000_000
#: the most tuples x generators one round of the orbit search on [n]^{k+l} may touch
MAX_ORBIT_WORK = 64 * MAX_TUPLES
#: the most tuples [n]^{k+l} ``spanning_set`` evaluates its candidate graphs on
MAX_SPAN_TUPLES = 2_000_000
#: the most internal vertices of an enumerated piece, per number of labels (default: the last)
MAX_PIECE_INTERNAL = {1: 4, 2: 3, 3: 2}
#: the most partial maps (rows x a vertex's choices) hom counts at representatives are built from
MAX_PARTIAL_MAPS = 4_000_000
#: the most orbits of injective p-tuples ``spanning_set`` builds a basis for (the rank is quadratic in it)
MAX_SPAN_ORBITS = 5_000
#: past ``MAX_PARTIAL_MAPS``, the most maps V(h) -> V(G) a dense hom count may sum over
MAX_DENSE_HOM = 2**34
#: the most row entries x degree the decorated-path scan (pairs past the plain paths) may step through
#: (it also bounds the running rows it holds: at most this / degree entries)
MAX_DECORATED_WORK = 2**28
#: decorated paths are scanned modulo this prime (residues times degree stay far below 2^63)
_SCAN_PRIME = 2_147_483_647
#: primes below 2^20: float64 products of residues are exact, so BLAS does the elimination
_PRIMES = (1048573, 1048571, 1048559)
_BATCH = 256
#: (base, transversals, generators) of Aut(G): see ``_stabiliser_chain``
Chain = tuple[list[int], list[Mapping[int, np.ndarray]], list[np.ndarray]]


class Automorphism(Group):
    """Aut(G) acting on R^n by permutation matrices, n the number of vertices of G."""

    name = "Aut"
    aliases = ("Aut_G", "automorphism", "automorphisms")
    is_permutation_group = True

    def __init__(self, n: int | None = None, graph: Any = None) -> None:
        if graph is None:
            raise GroupError(messages.AUT_NEEDS_GRAPH)
        adjacency, nodes = _adjacency_of(graph)
        size = adjacency.shape[0]
        if n is not None and n != size:
            raise GroupError(messages.AUT_SIZE_MISMATCH.format(n=n, size=size))
        super().__init__(size)
        adjacency.flags.writeable = False
        self._adjacency = adjacency
        #: the networkx node order (vertex i is ``nodes[i]``), or None for a matrix
        self.nodes = nodes
        self._key = (size, adjacency.tobytes())
        self._chain: Chain | None = None
        self._fixed: np.ndarray | None = None
        self._orbits: dict[int, np.ndarray] = {}
        self._generators: dict[int, list[BilabelledGraph]] = {}
        self._bases: dict[int, list[BilabelledGraph]] = {}
        self._bases_injective: dict[int, list[BilabelledGraph]] = {}
        #: hom counts of candidate (0, p)-graphs at the orbit representatives of injective p-tuples
        self._hom_values: dict[BilabelledGraph, np.ndarray] = {}
        #: e_v A^L for the first vertices v of those representatives, L = 0, 1, ...
        self._walks: dict[tuple[int, ...], list[np.ndarray]] = {}
        self._table: np.ndarray | None = None

    # -- the graph and its automorphisms ------------------------------------------------------
    @property
    def adjacency(self) -> np.ndarray:
        """G's adjacency matrix, (n, n) int64, read-only."""
        return self._adjacency

    @property
    def has_loops(self) -> bool:
        """True if some vertex of G has a loop."""
        return bool(self._adjacency.diagonal().any())

    @property
    def neighbour_table(self) -> np.ndarray:
        """Row v lists v's neighbours, padded with n (see :func:`_neighbour_table`), computed once."""
        if self._table is None:
            self._table = _neighbour_table(self._adjacency)
        return self._table

    def _stabiliser_chain(self) -> Chain:
        if self._chain is None:
            self._chain = _stabiliser_chain(self._adjacency)
        return self._chain

    @property
    def order(self) -> int:
        """|Aut(G)|, exactly."""
        return prod(len(t) for t in self._stabiliser_chain()[1])

    @property
    def generators(self) -> tuple[np.ndarray, ...]:
        """Permutations (``g[v]`` is the image of v) that generate Aut(G); empty if it is trivial."""
        return tuple(self._stabiliser_chain()[2])

    def automorphisms(self) -> np.ndarray:
        """Every automorphism as a row ``g`` of an (|Aut|, n) array (``g[v]`` is the image of v).

        Refused above ``BURNSIDE_LIMIT`` elements; the identity is row 0.
        """
        if self.order > BURNSIDE_LIMIT:
            raise LimitError(messages.TOO_LARGE.format(what=f"{self}", count=self.order,
                                                       limit=BURNSIDE_LIMIT, m="any"))
        n = self.require_n("automorphisms")
        elements = np.arange(n)[None, :]
        for trans in reversed(self._stabiliser_chain()[1]):
            reps = np.array([trans[p] for p in trans])     # the identity first
            elements = reps[:, elements].reshape(-1, n)
        return elements

    def random_automorphism(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A uniformly random automorphism as a permutation array (``g[v]`` is the image of v)."""
        gen = rng_of(rng)
        g = np.arange(self.require_n("sample"))
        for trans in self._stabiliser_chain()[1]:
            points = sorted(trans)
            g = g[trans[points[gen.integers(len(points))]]]
        return g

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A uniformly random automorphism as an (n, n) permutation matrix (P e_v = e_{g(v)})."""
        return permutation_matrix(self.random_automorphism(rng))

    def vertex_orbits(self) -> tuple[tuple[int, ...], ...]:
        """The orbits of Aut(G) on the vertices, each sorted, ordered by least vertex."""
        labels = self._tuple_orbits(1)
        return tuple(tuple(np.flatnonzero(labels == r).tolist()) for r in np.unique(labels))

    # -- dimension ----------------------------------------------------------------------------
    def dimension(self, k: int, l: int) -> int:
        """The number of orbits of Aut(G) on [n]^{k+l} = dim Hom_Aut(G)((R^n)^{⊗k}, (R^n)^{⊗l})."""
        m = k + l
        if m in self._orbits or self.order > BURNSIDE_LIMIT:
            return len(np.unique(self._tuple_orbits(m)))
        return self._burnside(m)

    def _burnside(self, m: int) -> int:
        if self._fixed is None:
            elements = self.automorphisms()
            fixed = (elements == np.arange(elements.shape[1])).sum(axis=1)
            self._fixed = np.bincount(fixed, minlength=elements.shape[1] + 1)
        total = sum(int(count) * f**m for f, count in enumerate(self._fixed))
        count, rest = divmod(total, self.order)
        if rest:
            raise ArithmeticError("Burnside's count is not an integer: the automorphism list is wrong")
        return count

    def _tuple_orbits(self, m: int) -> np.ndarray:
        """For each flat tuple of [n]^m, the least flat tuple in its orbit."""
        if m not in self._orbits:
            n = self.require_n("dimension")
            if n**m > MAX_TUPLES:
                raise LimitError(messages.TOO_LARGE.format(what=f"the tuple set [{n}]^{m}", count=n**m,
                                                           limit=MAX_TUPLES, m=m))
            if n**m * len(self.generators) > MAX_ORBIT_WORK:
                raise LimitError(messages.TOO_LARGE.format(
                    what=f"the orbit search over [{n}]^{m} with {len(self.generators)} generators",
                    count=n**m * len(self.generators), limit=MAX_ORBIT_WORK, m=m))
            self._orbits[m] = _tuple_orbits(self.generators, n, m)
        return self._orbits[m]

    # -- spanning set -------------------------------------------------------------------------
    def spanning_count(self, k: int, l: int) -> int:
        """The spanning set is a basis: its size is ``dimension(k, l)``."""
        return self.dimension(k, l)

    def iter_spanning_set(self, k: int, l: int) -> Iterator[BilabelledGraph]:
        """Bilabelled graphs whose matrices form a basis of Hom_Aut(G), smallest first."""
        return (h.relabel(k, l) for h in self.level_basis(k + l))

    def level_basis(self, m: int) -> list[BilabelledGraph]:
        """The basis as (0, m)-graphs: each injective basis placed on each equality pattern.

        Cached per graph and m; sorted by size (internal vertices, edges), ties in pattern order.
        """
        if m not in self._bases:
            n = self.require_n("spanning_set")
            if n ** min(m, n) > MAX_SPAN_TUPLES:
                raise LimitError(messages.TOO_LARGE.format(
                    what=f"[{n}]^{min(m, n)} (tuples the Aut spanning set evaluates)", count=n ** min(m, n),
                    limit=MAX_SPAN_TUPLES, m=m))
            placed = [_place(h, blocks, m) for blocks in set_partitions(m, max_blocks=n)
                      for h in self.injective_basis(len(blocks))]
            basis = sorted(placed, key=lambda h: h.size)
            if len(basis) != self.dimension(0, m):
                raise ArithmeticError("the pattern decomposition disagrees with the orbit count")
            self._bases[m] = basis
        return self._bases[m]

    def injective_basis(self, p: int) -> list[BilabelledGraph]:
        """(0, p)-graphs on p distinct labelled vertices whose values on the injective p-tuples
        (pairwise different vertices) form a basis of the invariant functions there (step 2).

        Refused (LimitError) above ``MAX_SPAN_ORBITS`` orbits: the elimination is quadratic in them.
        """
        if p not in self._bases_injective:
            reps = self._injective_representatives(p)
            if len(reps) > MAX_SPAN_ORBITS:
                raise LimitError(messages.TOO_LARGE.format(
                    what=f"the set of orbits of {self} on injective {p}-tuples", count=len(reps),
                    limit=MAX_SPAN_ORBITS, m=p))
            self._bases_injective[p] = _injective_basis(self, p, reps) if len(reps) else []
        return self._bases_injective[p]

    def level_generators(self, p: int) -> list[BilabelledGraph]:
        """(0, p)-graphs whose hom counts separate the orbits on injective p-tuples (step 1)."""
        if p not in self._generators:
            reps = self._injective_representatives(p)
            self._generators[p] = _separating_generators(self, p, reps) if len(reps) else []
        return self._generators[p]

    def _injective_representatives(self, p: int) -> np.ndarray:
        """The least flat tuple of each orbit of Aut(G) on the injective tuples of [n]^p."""
        n = self.require_n("spanning_set")
        if p > n or p == 0:
            return np.zeros(1 if p == 0 else 0, dtype=np.int64)
        if n**p > MAX_SPAN_TUPLES:
            raise LimitError(messages.TOO_LARGE.format(
                what=f"[{n}]^{p} (tuples the Aut spanning set evaluates)", count=n**p, limit=MAX_SPAN_TUPLES, m=p))
        digits = np.indices((n,) * p).reshape(p, -1)
        injective = np.ones(n**p, dtype=bool)
        for a, b in itertools.combinations(range(p), 2):
            injective &= digits[a] != digits[b]
        return np.unique(self._tuple_orbits(p)[injective])

    def basis(self, k: int, l: int) -> tuple[BilabelledGraph, ...]:
        """The spanning set: it is linearly independent by construction."""
        return self.spanning_set(k, l)

    # -- diagrams -----------------------------------------------------------------------------
    def accepts(self, d: Any) -> bool:
        return isinstance(d, (BilabelledGraph, Diagram))

    def reject_message(self, d: Any) -> str:
        return messages.AUT_NOT_DIAGRAM.format(kind=type(d).__name__)

    def diagram_tensor(self, d: Any, n: int) -> np.ndarray:
        graph = BilabelledGraph.from_diagram(d) if isinstance(d, Diagram) else d
        return graph.dense(self._adjacency)

    def lift(self, x: Any) -> Morphism:
        """``x`` as a morphism of bilabelled graphs (partition diagrams become edgeless graphs)."""
        morphism = as_morphism(x, self.loop)
        for d, _ in morphism.terms:
            if not self.accepts(d):
                raise GroupError(self.reject_message(d))
        terms = [(BilabelledGraph.from_diagram(d) if isinstance(d, Diagram) else d, c)
                 for d, c in morphism.terms]
        return Morphism(terms, morphism.k, morphism.l, self.loop)

    def generator(self, name: str, args: tuple[int, ...] = ()) -> Any | None:
        """The partition generators as edgeless graphs, and ``adj`` (1 -> 1: the adjacency matrix)."""
        if name == "adj" and not args:
            return BilabelledGraph.adjacency()
        found = super().generator(name, args)
        return BilabelledGraph.from_diagram(found) if isinstance(found, Diagram) else found

    def generator_names(self) -> tuple[str, ...]:
        return super().generator_names() + ("adj",)

    # -- identity -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key == self._key  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._key))

    def __repr__(self) -> str:
        return f"catnn.group('Aut', graph=<{self.n} vertices, {self.edge_count} edges>)"

    def __str__(self) -> str:
        return f"Aut(G) (G: {self.n} vertices, {self.edge_count} edges)"

    @property
    def edge_count(self) -> int:
        """The number of edges of G (a loop counts once)."""
        a = self._adjacency
        return int((a.sum() + np.trace(a)) // 2)


# -- reading the graph ---------------------------------------------------------------------------
def _adjacency_of(graph: Any) -> tuple[np.ndarray, tuple | None]:
    """(adjacency as an int64 array, networkx node order or None), validated."""
    nodes = None
    if type(graph).__module__.split(".")[0] == "networkx":
        import networkx as nx  # lazily: networkx is optional
        if graph.is_directed() or graph.is_multigraph():
            raise GroupError(messages.AUT_GRAPH_KIND.format(kind=type(graph).__name__))
        nodes = tuple(graph.nodes())
        graph = nx.to_numpy_array(graph, nodelist=list(nodes), weight=None, dtype=np.int64)
    elif hasattr(graph, "detach") and hasattr(graph, "cpu"):
        graph = graph.detach().cpu().numpy()
    a = np.asarray(graph)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise GroupError(messages.AUT_NOT_SQUARE.format(shape=a.shape))
    bad = [x for x in np.unique(a).tolist() if x not in (0, 1)]
    if bad:
        raise GroupError(messages.AUT_NOT_BINARY.format(value=bad[0]))
    a = a.astype(np.int64)
    if not np.array_equal(a, a.T):
        i, j = (int(x) for x in np.argwhere(a != a.T)[0])
        raise GroupError(messages.AUT_NOT_SYMMETRIC.format(i=i, j=j))
    return a.copy(), nodes


# -- automorphisms by individualisation-refinement -----------------------------------------------
def _neighbour_table(a: np.ndarray) -> np.ndarray:
    """Row v lists v's neighbours (v itself for a loop), padded with n up to the largest degree.

    >>> _neighbour_table(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 1]])).tolist()
    [[1, 2], [0, 3], [0, 2]]
    """
    n = len(a)
    degree = a.sum(axis=1)
    table = np.full((n, max(int(degree.max()), 1)), n, dtype=np.int64)
    rows, cols = np.nonzero(a)
    slots = np.arange(len(rows)) - np.repeat(np.cumsum(degree) - degree, degree)
    table[rows, slots] = cols
    return table


def _refine_pair(table: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Joint colour refinement of two colourings of G; None as soon as their colour counts differ.

    A vertex's new colour is the rank of (old colour, the sorted colours of its neighbours) among
    both colourings, so the names agree between the two and respect the old order. ``table`` is
    :func:`_neighbour_table`: a round costs O(n * degree log degree), not O(n^2 * colours).
    """
    n = len(table)
    count = -1
    while True:
        inverse = _row_ranks(np.concatenate([_signatures(table, c1), _signatures(table, c2)]))
        c1, c2 = inverse[:n], inverse[n:]
        colours = int(inverse.max()) + 1
        if not np.array_equal(np.bincount(c1, minlength=colours), np.bincount(c2, minlength=colours)):
            return None
        if colours == count:
            return c1, c2
        count = colours


def _row_ranks(rows: np.ndarray) -> np.ndarray:
    """The rank of each row among the distinct rows, in lexicographic order (``np.unique``'s
    ``return_inverse`` along axis 0, by ``lexsort``: sorting rows as structured values is slower).

    >>> _row_ranks(np.array([[1, 0], [0, 5], [1, 0]])).tolist()
    [1, 0, 1]
    """
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    new = np.ones(len(rows), dtype=np.int64)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    ranks = np.empty(len(rows), dtype=np.int64)
    ranks[order] = np.cumsum(new) - 1
    return ranks


def _signatures(table: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Per vertex: its colour, then its neighbours' colours sorted (padding: -1)."""
    padded = np.append(c, -1)
    return np.column_stack([c, np.sort(padded[table], axis=1)])


def _individualise(c: np.ndarray, v: int) -> np.ndarray:
    """``c`` with v split off its colour class (v first)."""
    out = 2 * c + (c == c[v])
    out[v] = 2 * c[v]
    return out


def _target_cell(c: np.ndarray) -> int:
    """The colour to branch on: the smallest non-trivial class, least colour first."""
    sizes = np.bincount(c)
    size = sizes[sizes > 1].min()
    return int(np.flatnonzero(sizes == size)[0])


def _find_automorphism(a: np.ndarray, table: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> np.ndarray | None:
    """An automorphism mapping colouring c1 onto c2 (colour by colour), or None.

    Depth-first: refine both, branch by individualising the first vertex of the smallest
    non-trivial class of c1 against each vertex of that class in c2; a discrete pair of colourings
    gives one candidate map, kept if it preserves the adjacency matrix.
    """
    n = len(a)
    stack = [(c1, c2)]
    while stack:
        refined = _refine_pair(table, *stack.pop())
        if refined is None:
            continue
        c1, c2 = refined
        if c1.max() + 1 == n:
            sigma = np.empty(n, dtype=np.int64)
            sigma[np.argsort(c1)] = np.argsort(c2)
            if np.array_equal(a[np.ix_(sigma, sigma)], a):
                return sigma
            continue
        target = _target_cell(c1)
        v = int(np.flatnonzero(c1 == target)[0])
        stack += [(_individualise(c1, v), _individualise(c2, int(w)))
                  for w in np.flatnonzero(c2 == target)[::-1]]
    return None


def _stabiliser_chain(a: np.ndarray, start: np.ndarray | None = None) -> Chain:
    """(base, transversals, generators) of the automorphisms of ``a`` keeping the colours ``start``
    (default: the loops): every automorphism is t_0 ∘ t_1 ∘ ... with one t_i taken from each
    transversal (a mapping point -> permutation whose first point maps to the identity), in exactly
    one way.

    Twins first: vertices u, v whose transposition is an automorphism (same loop, same neighbours
    besides each other) form classes, and Aut(G) is the product of the symmetric groups of the
    classes extended by the automorphisms of the quotient graph (one vertex per class, coloured by
    its loop, size and kind), lifted class by class. The quotient may have twins again, so this
    repeats; then :func:`_search_chain` finds the automorphisms of the last quotient. Empty, star,
    complete (multipartite) graphs and isolated vertices thus cost O(n log n) per round instead of
    one search per vertex. Then, if the last quotient is disconnected, :func:`_component_chain`
    (isomorphic components are permuted as wholes, each has its own chain); else the search.
    """
    start = a.diagonal().astype(np.int64) if start is None else start
    reductions: list[np.ndarray] = []
    while True:
        classes, closed = _twin_classes(a, start)
        if classes.max() + 1 == len(a):
            break
        reductions.append(classes)
        a, start = _quotient(a, start, classes, closed)
    chain = _component_chain(a, start) or _search_chain(a, start)
    for classes in reversed(reductions):
        chain = _lift_chain(chain, classes)
    return chain


def _components(table: np.ndarray) -> np.ndarray:
    """The least vertex of each vertex's connected component (min-label propagation, pointer jumping).

    >>> _components(_neighbour_table(np.array([[0, 0, 1], [0, 0, 0], [1, 0, 0]]))).tolist()
    [0, 1, 0]
    """
    n = len(table)
    labels = np.arange(n)
    while True:
        new = np.minimum(labels, np.append(labels, n)[table].min(axis=1))
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


def _component_chain(a: np.ndarray, start: np.ndarray) -> Chain | None:
    """The chain of a disconnected coloured graph (None if it is connected): Aut(G) is the product
    of the components' groups extended by the permutations of isomorphic components (as wholes,
    along fixed isomorphisms). Components are grouped by size and stable colours, and each is
    matched against one representative per isomorphism class found so far."""
    table = _neighbour_table(a)
    component = _components(table)
    roots = np.unique(component)
    if len(roots) == 1:
        return None
    stable = _refine_pair(table, start, start)[0]  # type: ignore[index]
    candidates: dict[tuple[int, ...], list[list[np.ndarray]]] = {}
    for root in roots.tolist():
        vertices = np.flatnonzero(component == root)
        key = (len(vertices), *np.sort(stable[vertices]).tolist())
        classes = candidates.setdefault(key, [])
        for copies in classes:
            aligned = _isomorphism(a, start, copies[0], vertices)
            if aligned is not None:
                copies.append(aligned)
                break
        else:
            classes.append([vertices])
    n = len(a)
    levels: list[Mapping[int, np.ndarray]] = []
    generators: list[np.ndarray] = []
    inner: list[Mapping[int, np.ndarray]] = []
    for copies in (c for classes in candidates.values() for c in classes):
        copies.sort(key=lambda v: int(v[0]))
        _permute_copies(copies, n, levels, generators)
        _, sub_levels, sub_generators = _stabiliser_chain(a[np.ix_(copies[0], copies[0])], start[copies[0]])
        generators += [_embed(copies[0], g, n) for g in sub_generators]
        for vertices in copies:
            position = {int(v): t for t, v in enumerate(vertices)}
            for level in sub_levels:
                inner.append(_Level([int(vertices[t]) for t in level],
                                    lambda v, level=level, vertices=vertices, position=position:
                                    _embed(vertices, level[position[v]], n)))
    levels += inner
    return [next(iter(level)) for level in levels], levels, generators


def _isomorphism(a: np.ndarray, start: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray | None:
    """The images of ``u``'s vertices under an isomorphism of the coloured subgraphs on u and v
    (as an array aligned with u), or None: an automorphism of their union swapping the two sides."""
    both = np.concatenate([u, v])
    side = np.repeat([0, 1], [len(u), len(v)])
    union = a[np.ix_(both, both)]
    sigma = _find_automorphism(union, _neighbour_table(union), 2 * start[both] + side, 2 * start[both] + 1 - side)
    return None if sigma is None else both[sigma[:len(u)]]


def _embed(vertices: np.ndarray, g: np.ndarray, n: int) -> np.ndarray:
    """The permutation of [n] acting as g on ``vertices`` (vertex vertices[t] -> vertices[g[t]])."""
    out = np.arange(n)
    out[vertices] = vertices[g]
    return out


def _permute_copies(copies: list[np.ndarray], n: int, levels: list[Mapping[int, np.ndarray]],
                    generators: list[np.ndarray]) -> None:
    """Levels of the symmetric group on aligned copies (copy i swapped with a later copy j vertex by
    vertex), and its generators: the first two swapped, all of them cycled."""
    def swap(i: int, j: int) -> np.ndarray:
        out = np.arange(n)
        out[copies[i]], out[copies[j]] = copies[j], copies[i]
        return out

    first = {int(c[0]): j for j, c in enumerate(copies)}
    for i in range(len(copies) - 1):
        levels.append(_Level([int(c[0]) for c in copies[i:]], lambda v, i=i: swap(i, first[v])))
    if len(copies) > 1:
        generators.append(swap(0, 1))
    if len(copies) > 2:
        cycle = np.arange(n)
        for i in range(len(copies)):
            cycle[copies[i]] = copies[(i + 1) % len(copies)]
        generators.append(cycle)


def _twin_classes(a: np.ndarray, colours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class of each vertex, numbered by least vertex; per class, True if its vertices are adjacent).

    u and v are twins when they have the same colour and the same neighbours besides each other:
    then swapping them is an automorphism, and twins of twins are twins.

    >>> _twin_classes(np.array([[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 1, 0]]), np.zeros(4, int))
    (array([0, 1, 1, 0]), array([False, False]))
    """
    n = len(a)
    table = _neighbour_table(a)
    vertex = np.arange(n)[:, None]
    open_rows = np.sort(np.where(table == vertex, n, table), axis=1)
    closed_rows = np.sort(np.column_stack([open_rows, vertex]), axis=1)
    keys = [_row_ranks(np.column_stack([colours, rows])) for rows in (open_rows, closed_rows)]
    twins = [np.bincount(key)[key] > 1 for key in keys]
    label = np.where(twins[0], keys[0], np.where(twins[1], n + keys[1], 2 * n + np.arange(n)))
    _, first, inverse = np.unique(label, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    classes = rank[inverse.reshape(-1)]
    closed = np.zeros(len(first), dtype=bool)
    closed[classes[twins[1]]] = True
    return classes, closed


def _quotient(a: np.ndarray, colours: np.ndarray, classes: np.ndarray,
              closed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The graph on the twin classes (no loops) and its colours: (colour, class size, adjacent twins)."""
    reps = _first_members(classes)
    sizes = np.bincount(classes)
    quotient = a[np.ix_(reps, reps)].copy()
    np.fill_diagonal(quotient, 0)
    return quotient, _row_ranks(np.column_stack([colours[reps], sizes, closed]))


def _first_members(classes: np.ndarray) -> np.ndarray:
    """The least vertex of each class."""
    first = np.full(classes.max() + 1, len(classes), dtype=np.int64)
    np.minimum.at(first, classes, np.arange(len(classes)))
    return first


class _Level(Mapping[int, np.ndarray]):
    """A transversal computed on demand: ``points`` (the identity's point first) and a rule."""

    def __init__(self, points: list[int], element: Callable[[int], np.ndarray]) -> None:
        self._points = points
        self._index = set(points)
        self._element = element

    def __getitem__(self, point: int) -> np.ndarray:
        if point not in self._index:
            raise KeyError(point)
        return self._element(point)

    def __iter__(self) -> Iterator[int]:
        return iter(self._points)

    def __len__(self) -> int:
        return len(self._points)


def _lift_chain(chain: Chain, classes: np.ndarray) -> Chain:
    """The chain of Aut(G) from the chain of its twin quotient: the symmetric group of each class
    (transpositions of its least remaining vertex), then the quotient's levels lifted."""
    n = len(classes)
    order = np.argsort(classes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(classes))])
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n) - starts[classes[order]]
    reps = order[starts[:-1]]

    def lift(g: np.ndarray) -> np.ndarray:
        return order[starts[g[classes]] + position]

    def swap(u: int, v: int) -> np.ndarray:
        g = np.arange(n)
        g[[u, v]] = v, u
        return g

    base, levels, generators = chain
    out_base: list[int] = []
    out_levels: list[Mapping[int, np.ndarray]] = []
    out_generators: list[np.ndarray] = []
    orbit = _point_orbits(generators, len(reps))
    for c in range(len(reps)):
        members = order[starts[c]:starts[c + 1]].tolist()
        for i, u in enumerate(members[:-1]):
            out_base.append(u)
            out_levels.append(_Level(members[i:], lambda v, u=u: swap(u, v)))
        if orbit[c] != c:
            continue        # its symmetric group is a conjugate of the first class's in the orbit
        if len(members) > 1:
            out_generators.append(swap(members[0], members[1]))
        if len(members) > 2:
            cycle = np.arange(n)
            cycle[members] = np.roll(members, -1)
            out_generators.append(cycle)
    for level in levels:
        points = sorted(level)
        out_levels.append(_Level([int(reps[q]) for q in points],
                                 lambda v, level=level: lift(level[int(classes[v])])))
    return (out_base + [int(reps[b]) for b in base], out_levels,
            out_generators + [lift(g) for g in generators])


def _point_orbits(generators: list[np.ndarray], n: int) -> np.ndarray:
    """The least point of each point's orbit under ``generators``.

    >>> _point_orbits([np.array([1, 0, 2, 4, 3])], 5).tolist()
    [0, 0, 2, 3, 3]
    """
    labels = np.arange(n)
    while True:
        new = labels.copy()
        for g in generators:
            np.minimum.at(new, g, new.copy())
            new = np.minimum(new, new[g])
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


def _search_chain(a: np.ndarray, start: np.ndarray) -> Chain:
    """The chain of a graph coloured by ``start``, by search: (base, transversals, generators), transversal i maps each point q of the orbit of base[i]
    under the pointwise stabiliser of base[:i] to an automorphism in that stabiliser sending
    base[i] to q.

    The base is the first path of the search tree (individualise the first vertex of the smallest
    non-trivial colour class, refine, repeat). Levels are filled deepest first, so the orbit of
    base[i] is closed under every generator found below it: usually one search per level.
    """
    n = len(a)
    table = _neighbour_table(a)
    colours = _refine_pair(table, start, start)[0]  # type: ignore[index]
    path: list[tuple[int, list[int], np.ndarray]] = []
    while colours.max() + 1 < n:
        cell = [int(w) for w in np.flatnonzero(colours == _target_cell(colours))]
        path.append((cell[0], cell, colours))
        split = _individualise(colours, cell[0])
        colours = _refine_pair(table, split, split)[0]  # type: ignore[index]
    identity = np.arange(n)
    generators: list[np.ndarray] = []
    transversals: list[Mapping[int, np.ndarray]] = []
    for b, cell, colours in reversed(path):
        trans = {b: identity}
        _close(trans, generators)
        for w in cell:
            if w in trans:
                continue
            g = _find_automorphism(a, table, _individualise(colours, b), _individualise(colours, w))
            if g is not None:
                generators.append(g)
                _close(trans, generators)
        transversals.append(trans)
    return [b for b, _, _ in path], transversals[::-1], generators


def _close(trans: dict[int, np.ndarray], generators: list[np.ndarray]) -> None:
    """Extend the orbit ``trans`` (point -> element sending the base point there) under ``generators``."""
    queue = list(trans)
    while queue:
        x = queue.pop()
        for h in generators:
            y = int(h[x])
            if y not in trans:
                trans[y] = h[trans[x]]
                queue.append(y)


def _tuple_orbits(generators: tuple[np.ndarray, ...], n: int, m: int) -> np.ndarray:
    """Label propagation with pointer jumping: each flat tuple gets the least tuple of its orbit."""
    size = n**m
    labels = np.arange(size)
    if not generators or m == 0:
        return labels
    digits = np.indices((n,) * m, dtype=np.int64).reshape(m, -1)
    weights = (n ** np.arange(m - 1, -1, -1, dtype=np.int64))[:, None]
    maps = []
    for g in generators:
        forward = (g[digits] * weights).sum(axis=0)
        maps += [forward, np.argsort(forward)]
    while True:
        new = labels
        for f in maps:
            new = np.minimum(new, new[f])
        new = new[new]
        if np.array_equal(new, labels):
            return labels
        labels = new


# -- the spanning set ----------------------------------------------------------------------------
def _injective_basis(group: Automorphism, p: int, reps: np.ndarray) -> list[BilabelledGraph]:
    """A basis of the invariant functions on injective p-tuples made of gluings of generators."""
    constant = BilabelledGraph(p, (), range(p))
    generators = group.level_generators(p)
    for prime in _PRIMES:
        basis = _monomial_basis(group, reps, constant, generators, prime)
        if len(basis) == len(reps):
            return basis
    raise ArithmeticError("modular elimination never reached the exact dimension")


def _place(h: BilabelledGraph, blocks: list[list[int]], m: int) -> BilabelledGraph:
    """The (0, m)-graph with label a (1-based in ``blocks``) on h's labelled vertex of a's block."""
    if all(block == [i + 1] for i, block in enumerate(blocks)):
        return h
    at = {a: h.outputs[i] for i, block in enumerate(blocks) for a in block}
    return BilabelledGraph(h.vertices, h.edges, [at[a] for a in range(1, m + 1)])


def _values(group: Automorphism, h: BilabelledGraph, reps: np.ndarray) -> np.ndarray:
    """Exact hom counts of the (0, p)-graph h at the flat p-tuples ``reps`` (int64, or Python
    integers where they pass 2^62), cached per graph: partial maps extended along edges
    (:func:`_rooted_counts`) where that stays small, else the dense tensor."""
    if h not in group._hom_values:
        n = group.require_n("spanning_set")
        counts = _rooted_counts(group.adjacency, group.neighbour_table, h, _digits(reps, n, h.l))
        if counts is None:
            if n**h.vertices > MAX_DENSE_HOM:
                raise LimitError(messages.TOO_LARGE.format(
                    what=f"the hom-count sum of {h} into G ({n}^{h.vertices} maps)", count=n**h.vertices,
                    limit=MAX_DENSE_HOM, m=h.l))
            counts = np.asarray(h.dense(group.adjacency)).reshape(-1)[reps]
        group._hom_values[h] = counts
    return group._hom_values[h]


def _digits(flat: np.ndarray, n: int, p: int) -> np.ndarray:
    """Flat indices of [n]^p as (len, p) tuples.

    >>> _digits(np.array([5, 7]), 3, 2).tolist()
    [[1, 2], [2, 1]]
    """
    return np.stack(np.unravel_index(flat, (n,) * p), axis=1) if p else np.zeros((len(flat), 0), dtype=np.int64)


def _rooted_counts(a: np.ndarray, table: np.ndarray, h: BilabelledGraph, digits: np.ndarray) -> np.ndarray | None:
    """Homomorphisms h -> G sending label i to ``digits[r, i]``, counted for each row r.

    The labels are placed, then each internal vertex in turn (one with the most placed neighbours
    first) along the neighbour table of one of them, so the partial maps number at most
    rows x degree^internal; None once they would pass ``MAX_PARTIAL_MAPS`` (the caller goes dense).

    >>> a = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])
    >>> path = BilabelledGraph(3, [(0, 2), (2, 1)], outputs=[0, 1])
    >>> _rooted_counts(a, _neighbour_table(a), path, np.array([[0, 1], [0, 0]])).tolist()
    [1, 2]
    """
    n = len(a)
    owner = np.arange(len(digits))
    at: dict[int, np.ndarray] = {}
    for i, v in enumerate(h.outputs + h.inputs):
        if v in at:
            keep = at[v] == digits[owner, i]
            owner, at = owner[keep], {u: x[keep] for u, x in at.items()}
        else:
            at[v] = digits[owner, i]
    neighbours: dict[int, set[int]] = {v: set() for v in range(h.vertices)}
    for u, v in h.edges:
        neighbours[u].add(v)
        neighbours[v].add(u)
    keep = np.ones(len(owner), dtype=bool)
    for u, v in h.edges:
        if u in at and v in at:
            keep &= a[at[u], at[v]] == 1
    owner, at = owner[keep], {u: x[keep] for u, x in at.items()}
    while len(at) < h.vertices:
        w = max((v for v in range(h.vertices) if v not in at), key=lambda v: len(neighbours[v] & at.keys()))
        placed = sorted(neighbours[w] & at.keys())
        width = table.shape[1] if placed else n
        if len(owner) * width > MAX_PARTIAL_MAPS:
            return None
        if placed:
            candidates = table[at[placed[0]]]
        else:
            candidates = np.broadcast_to(np.arange(n), (len(owner), n))
        rows, cols = np.nonzero(candidates < n)
        owner, at = owner[rows], {u: x[rows] for u, x in at.items()}
        at[w] = candidates[rows, cols]
        keep = np.ones(len(owner), dtype=bool)
        for x in placed[1:] + ([w] if w in neighbours[w] else []):
            keep &= a[at[w], at[x]] == 1
        owner, at = owner[keep], {u: x[keep] for u, x in at.items()}
    return np.bincount(owner, minlength=len(digits)).astype(np.int64)


def _walk_values(group: Automorphism, h: BilabelledGraph, length: int, reps: np.ndarray) -> np.ndarray:
    """The values of a long piece at ``reps``: (A^length)[i, j] for the path from label i to label
    j, (A^length)[i, i] for the cycle through label i; walk counts exact (int64 while the degree
    bound allows, then Python integers), one sparse step per length, cached per root set."""
    n = group.require_n("spanning_set")
    p = h.l
    digits = _digits(reps, n, p)
    roots, row = np.unique(digits[:, 0], return_inverse=True)
    walks = group._walks.setdefault(tuple(roots.tolist()), [])
    if not walks:
        walks.append(_unit_rows(roots, n))
    table = group.neighbour_table
    degree = table.shape[1]
    while len(walks) <= length:
        last = walks[-1]
        if last.dtype != object and degree ** len(walks) >= 2**62:
            last = last.astype(object)
        walks.append(_walk_step(last, table, None))
    ends = digits[:, 1] if p == 2 else digits[:, 0]
    values = walks[length][row.reshape(-1), ends]
    group._hom_values[h] = values
    return values


def _separating_generators(group: Automorphism, m: int, reps: np.ndarray) -> list[BilabelledGraph]:
    """(0, m)-graphs whose hom counts separate the orbits of Aut(G) on injective m-tuples, smallest first."""
    dim = len(reps)
    classes = np.zeros(dim, dtype=np.int64)
    found: list[BilabelledGraph] = []
    if dim == 1:
        return found
    seen: set[BilabelledGraph] = set()
    lifts: dict[int, list[BilabelledGraph]] = {}
    for sub in range(1, m):
        for h in group.level_generators(sub):
            for subset in itertools.combinations(range(m), sub):
                lifted = _lift(h, subset, m)
                lifts.setdefault(lifted.internal, []).append(lifted)
                group._hom_values.setdefault(lifted, _lift_values(group, h, subset, m, reps))
    limit = MAX_PIECE_INTERNAL.get(m, MAX_PIECE_INTERNAL[max(MAX_PIECE_INTERNAL)])
    last = max([limit, group.require_n("spanning_set"), *lifts])
    for c in range(last + 1):
        long = [] if c <= limit else _long_pieces(m, c, group.n)
        stage = sorted(lifts.get(c, []), key=lambda h: len(h.edges))
        stage += sorted(_pieces(m, c, group.has_loops), key=lambda h: len(h.edges)) if c <= limit else long
        for h in stage:
            if h in seen:
                continue
            seen.add(h)
            values = _walk_values(group, h, c + 1, reps) if h in long else _values(group, h, reps)
            refined = _split(classes, values)
            if refined is not None:
                classes = refined
                found.append(h)
                if classes.max() + 1 == dim:
                    return found
    if m == 2 and _decorated_paths(group, reps, classes, found, limit):
        return found
    raise LimitError(messages.AUT_NOT_SEPARATED.format(m=m, c=limit, rank=int(classes.max()) + 1, dim=dim))


def _split(classes: np.ndarray, values: np.ndarray) -> np.ndarray | None:
    """The classes refined by ``values`` (numbered anew), or None if no class splits.

    >>> _split(np.array([0, 0, 1]), np.array([5, 6, 7])).tolist()
    [0, 1, 2]
    """
    _, ranks = np.unique(values, return_inverse=True)
    _, refined = np.unique(np.column_stack([classes, ranks.reshape(-1)]), axis=0, return_inverse=True)
    refined = refined.reshape(-1)
    return refined if refined.max() > classes.max() else None


def _decorated_paths(group: Automorphism, reps: np.ndarray, classes: np.ndarray,
                     found: list[BilabelledGraph], limit: int) -> bool:
    """Past the plain paths (m = 2): paths of length L from label 1 to label 2 with a rooted graph g
    glued at their j-th vertex, g from the level-1 injective basis (its values span every invariant
    function of a vertex), by L, then j, then g; appends the ones that split a class to ``found``;
    True once the classes are the orbits.

    Such a graph counts the walks u = w_0, ..., w_L = v weighted by g's value at w_j; together they
    count the walks whose j-th vertex lies in each vertex orbit, so they see where a walk passes (near
    a corner of a grid, say), which walk counts alone do not: in the 10 x 10 grid, (0, 1) has as many
    walks of each length to (1, 9) as to (8, 0). The level-1 generators alone are not enough: in the
    4 x 4 grid they are the degree d, and walks of length 3 from (0, 1) to (1, 3) and to (2, 0) pass
    their second vertex with d summing to 2 * 3 + 4 = 2 + 2 * 4; d^2 tells them apart. Scanned modulo a prime
    (unequal residues are unequal counts, so every split found is real): per (j, g) one running
    row block (e_u A^j * g) A^(L-j), one sparse step per length; the kept ones are then counted
    exactly (:func:`_decorated_values`). Lengths run to n; past ``MAX_DECORATED_WORK`` entries
    stepped in all: LimitError.
    """
    n = group.require_n("spanning_set")
    rooted = [g for g in group.injective_basis(1) if g.vertices > 1 or g.edges]
    if not rooted:
        return False                    # one vertex orbit: a decorated path is a plain path times a constant
    digits = _digits(reps, n, 2)
    roots, row = np.unique(digits[:, 0], return_inverse=True)
    row = row.reshape(-1)
    vertex_values = [_vertex_values(group, g) for g in rooted]
    table = group.neighbour_table
    head = _unit_rows(roots, n)                 # e_u A^(length - 1)
    running: dict[tuple[int, int], np.ndarray] = {}
    work = 0
    for length in range(2, n + 1):
        head = _walk_step(head, table, _SCAN_PRIME)
        for i, f in enumerate(vertex_values):
            running[(length - 1, i)] = head * np.append(f % _SCAN_PRIME, 0)[None, :] % _SCAN_PRIME
        work += len(running) * head.size * table.shape[1]
        if work > MAX_DECORATED_WORK:
            raise LimitError(messages.TOO_LARGE.format(
                what=f"the walk steps of decorated paths separating the orbits of {group} on pairs",
                count=work, limit=MAX_DECORATED_WORK, m=2))
        for (at, i), block in sorted(running.items()):
            running[(at, i)] = block = _walk_step(block, table, _SCAN_PRIME)
            if length - 1 + rooted[i].internal <= limit:
                continue                    # an enumerated piece, already tried
            refined = _split(classes, block[row, digits[:, 1]])
            if refined is None:
                continue
            classes[:] = refined
            h = _decorated_path(length, at, rooted[i])
            group._hom_values[h] = _decorated_values(group, h, length, at, rooted[i], reps)
            found.append(h)
            if classes.max() + 1 == len(reps):
                return True
    return False


def _vertex_values(group: Automorphism, h: BilabelledGraph) -> np.ndarray:
    """The values of a (0, 1)-graph at every vertex (exact), from those at the vertex orbits."""
    orbit = group._tuple_orbits(1)
    reps = group._injective_representatives(1)
    return np.asarray(_values(group, h, reps))[np.searchsorted(reps, orbit)]


def _unit_rows(roots: np.ndarray, n: int) -> np.ndarray:
    """One row e_u per root u, with a zero column n (the neighbour table's padding)."""
    rows = np.zeros((len(roots), n + 1), dtype=np.int64)
    rows[np.arange(len(roots)), roots] = 1
    return rows


def _walk_step(rows: np.ndarray, table: np.ndarray, modulus: int | None) -> np.ndarray:
    """rows A (the last column, padding, stays zero), reduced modulo ``modulus`` unless None."""
    out = np.zeros_like(rows)
    out[:, :-1] = rows[:, table].sum(axis=2)
    return out % modulus if modulus else out


def _decorated_path(length: int, at: int, rooted: BilabelledGraph) -> BilabelledGraph:
    """The path of ``length`` edges from label 1 to label 2 with ``rooted``'s root glued at its
    vertex number ``at`` (0: label 1).

    >>> print(_decorated_path(2, 1, BilabelledGraph(2, [(0, 1)], [0])))
    graph[{1} {2} ; 1-a, 2-a, a-b]
    """
    path = [0, *range(2, length + 1), 1]
    where = {0: path[at], **{u: length + u for u in range(1, rooted.vertices)}}
    edges = list(zip(path, path[1:])) + [(where[a], where[b]) for a, b in rooted.edges]
    return BilabelledGraph(length + rooted.vertices, edges, [0, 1])


def _decorated_values(group: Automorphism, h: BilabelledGraph, length: int, at: int,
                      rooted: BilabelledGraph, reps: np.ndarray) -> np.ndarray:
    """Exact hom counts of :func:`_decorated_path` at the pairs ``reps``: ((e_u A^at) * g) A^(length - at)
    at v, in int64 while degree^length * max g stays below 2^62, else in Python integers."""
    n = group.require_n("spanning_set")
    digits = _digits(reps, n, 2)
    roots, row = np.unique(digits[:, 0], return_inverse=True)
    table = group.neighbour_table
    f = _vertex_values(group, rooted)
    exact = table.shape[1] ** length * max(int(f.max()), 1) < 2**62
    rows = _unit_rows(roots, n).astype(np.int64 if exact else object)
    for step in range(length):
        if step == at:
            rows = rows * np.append(f, 0).astype(rows.dtype)[None, :]
        rows = _walk_step(rows, table, None)
    return rows[row.reshape(-1), digits[:, 1]]


def _lift(h: BilabelledGraph, subset: tuple[int, ...], m: int) -> BilabelledGraph:
    """The (0, m)-graph with h's labels at the positions ``subset`` and isolated vertices elsewhere."""
    extra = iter(range(h.vertices, h.vertices + m - len(subset)))
    where = dict(zip(subset, h.outputs))
    return BilabelledGraph(h.vertices + m - len(subset), h.edges,
                           [where[i] if i in where else next(extra) for i in range(m)])


def _lift_values(group: Automorphism, h: BilabelledGraph, subset: tuple[int, ...], m: int,
                 reps: np.ndarray) -> np.ndarray:
    """The values of ``_lift(h, subset, m)`` at the injective m-tuples ``reps``: h's values (cached
    at the orbits of injective sub-tuples) at each tuple's entries in ``subset``, counted once."""
    n = group.require_n("spanning_set")
    sub_reps = group._injective_representatives(len(subset))
    entries = _digits(reps, n, m)[:, list(subset)]
    orbit = group._tuple_orbits(len(subset))[np.ravel_multi_index(tuple(entries.T), (n,) * len(subset))]
    return np.asarray(_values(group, h, sub_reps))[np.searchsorted(sub_reps, orbit)]


def _pieces(m: int, c: int, loops: bool) -> list[BilabelledGraph]:
    """(0, m)-graphs with m distinct labelled vertices, each adjacent to one connected internal part
    of c vertices (c = 0: the loop for m = 1, the edge for m = 2)."""
    if c == 0:
        if m == 1:
            return [BilabelledGraph(1, [(0, 0)], [0])] if loops else []
        if m == 2:
            return [BilabelledGraph(2, [(0, 1)], [0, 1])]
        return []
    inner = list(itertools.combinations(range(m, m + c), 2))
    out: dict[BilabelledGraph, None] = {}
    for mask in range(1 << len(inner)):
        edges = [e for i, e in enumerate(inner) if mask >> i & 1]
        if not _connected(range(m, m + c), edges):
            continue
        for loop_mask in range(1 << c) if loops else (0,):
            loop_edges = [(m + i, m + i) for i in range(c) if loop_mask >> i & 1]
            for attach in itertools.product(range(1, 1 << c), repeat=m):
                spokes = [(i, m + j) for i, s in enumerate(attach) for j in range(c) if s >> j & 1]
                out[BilabelledGraph(m + c, edges + loop_edges + spokes, range(m))] = None
    return list(out)


def _long_pieces(m: int, c: int, n: int | None) -> list[BilabelledGraph]:
    """Past the enumerated sizes: the path of length c + 1 (m = 2), the cycle of length c + 1 (m = 1)."""
    if n is None or c + 1 > n or m not in (1, 2):
        return []
    return [BilabelledGraph.rooted_cycle(c + 1) if m == 1 else BilabelledGraph.path(c + 1)]


def _connected(vertices: range, edges: list[tuple[int, int]]) -> bool:
    todo = set(vertices)
    stack = [todo.pop()]
    while stack:
        u = stack.pop()
        for a, b in edges:
            for x, y in ((a, b), (b, a)):
                if x == u and y in todo:
                    todo.remove(y)
                    stack.append(y)
    return not todo


def _monomial_basis(group: Automorphism, reps: np.ndarray, constant: BilabelledGraph,
                    generators: list[BilabelledGraph], prime: int) -> list[BilabelledGraph]:
    """Greedy basis of gluings of generators: the constant, then the generators alone, then products,
    smallest first, each kept one multiplied by every generator (the generators first, because on
    graphs with many orbits, e.g. long cycles, they span nearly everything and most products of
    small ones only repeat them)."""
    dim = len(reps)
    gen_values = [(_values(group, g, reps) % prime).astype(np.float64) for g in generators]
    gen_sizes = [g.size for g in generators]
    kept: list[tuple[BilabelledGraph, np.ndarray, tuple[int, ...], tuple[int, ...]]] = []
    echelon = _Echelon(dim, prime)
    heap: list[tuple[tuple[int, int, int], int, int, int]] = [((0, 0, 0), 0, -1, -1)]
    seen: set[tuple[int, ...]] = {()}
    counter = 1
    while heap and len(kept) < dim:
        batch = [heapq.heappop(heap) for _ in range(min(_BATCH, len(heap)))]
        rows = []
        for _, _, parent, g in batch:
            if parent < 0:
                rows.append(np.ones(dim))
            else:
                rows.append(np.mod(kept[parent][1] * gen_values[g], prime))
        for (key, _, parent, g), accepted, row in zip(batch, echelon.add(np.array(rows)), rows):
            if not accepted:
                continue
            if parent < 0:
                graph, word = constant, ()
            else:
                base = kept[parent][0]          # the constant glued with a generator is the generator
                graph = generators[g] if base == constant else base.glue(generators[g])
                if base != constant:        # exact values of the product, never counted afresh
                    group._hom_values.setdefault(graph, _product(_values(group, base, reps),
                                                                 _values(group, generators[g], reps)))
                word = tuple(sorted(kept[parent][2] + (g,)))
            size = key[1:]
            kept.append((graph, row, word, size))
            for j, extra in enumerate(gen_sizes):
                child = tuple(sorted(word + (j,)))
                if child not in seen:
                    seen.add(child)
                    child_key = (int(len(child) > 1), size[0] + extra[0], size[1] + extra[1])
                    heapq.heappush(heap, (child_key, counter, len(kept) - 1, j))
                    counter += 1
    return [graph for graph, *_ in kept]


def _product(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The exact entrywise product of two hom-count vectors: int64 while it stays below 2^62,
    else Python integers.

    >>> _product(np.array([2**40, 3]), np.array([2**30, 1])).tolist()
    [1180591620717411303424, 3]
    """
    if x.dtype != object and y.dtype != object and int(abs(x).max()) * int(abs(y).max()) < 2**62:
        return x * y
    return x.astype(object) * y.astype(object)


class _Echelon:
    """Rows in reduced echelon form modulo a prime p < 2^20, kept in float64 (exact: see ``_mulmod``).

    A row's pivot columns hold the identity, so only its free (non-pivot) columns are stored, as one
    contiguous block: reducing a batch is one product with it, and adding rows rewrites it once.
    """

    def __init__(self, dim: int, prime: int) -> None:
        self.dim, self.p = dim, prime
        self.free = np.arange(dim)
        self.pivots = np.zeros(0, dtype=np.int64)
        #: the rows (in pivot order) restricted to the free columns
        self.block = np.zeros((0, dim))

    def add(self, batch: np.ndarray) -> list[bool]:
        """Reduce the rows in order; keep each one independent of the rows before it."""
        p = self.p
        residual = batch[:, self.free]
        if len(self.pivots):
            residual = np.mod(residual - _mulmod(batch[:, self.pivots], self.block, p), p)
        taken, where = _eliminate(residual, self.dim - len(self.pivots), p)
        if taken:
            fresh = residual[taken]
            keep = np.setdiff1d(np.arange(len(self.free)), where)
            old = np.mod(self.block[:, keep] - _mulmod(self.block[:, where], fresh[:, keep], p), p)
            self.block = np.vstack([old, fresh[:, keep]])
            self.pivots = np.concatenate([self.pivots, self.free[where]])
            self.free = self.free[keep]
        chosen = set(taken)
        accepted = [i in chosen for i in range(len(batch))]
        return accepted


def _eliminate(rows: np.ndarray, room: int, p: int) -> tuple[list[int], list[int]]:
    """Gaussian elimination modulo p in place, rows in order: (the rows independent of those before
    them, at most ``room``; their pivot columns). Those rows end in reduced echelon form (pivot 1,
    zeros in the other pivot columns); rows found dependent end as zeros.

    >>> rows = np.array([[2., 4.], [1., 2.], [0., 3.]])
    >>> _eliminate(rows, 2, 7), rows[[0, 2]].tolist()
    (([0, 2], [0, 1]), [[1.0, 0.0], [0.0, 1.0]])
    """
    taken: list[int] = []
    where: list[int] = []
    for i, v in enumerate(rows):
        if len(taken) == room:
            break
        nonzero = np.flatnonzero(v)
        if not len(nonzero):
            continue
        col = int(nonzero[0])
        v[:] = np.mod(v * pow(int(v[col]), -1, p), p)
        later = i + 1 + np.flatnonzero(rows[i + 1:, col])
        rows[later] = np.mod(rows[later] - np.outer(rows[later, col], v), p)
        taken.append(i)
        where.append(col)
    for j in range(len(taken) - 1, 0, -1):     # back substitution: clear each pivot column above
        above = [t for t in taken[:j] if rows[t, where[j]]]
        rows[above] = np.mod(rows[above] - np.outer(rows[above, where[j]], rows[taken[j]]), p)
    return taken, where


def _mulmod(x: np.ndarray, y: np.ndarray, p: int) -> np.ndarray:
    """(x @ y) mod p for residues below 2^20: float64 sums of up to 2^13 products stay exact."""
    out = np.zeros((x.shape[0], y.shape[1]))
    for start in range(0, x.shape[1], 8192):
        out = np.mod(out + np.mod(x[:, start:start + 8192] @ y[start:start + 8192], p), p)
    return out
