"""Spanning sets of Aut(G) for graphs with hundreds or thousands of vertices: cycles and hypercubes.

Oracles, sharing no code with catnn's spanning-set construction:

- the dimension of Hom(V, V) is the number of orbits of Aut(G) on vertex pairs, counted here by a
  breadth-first search over the pairs with the generators (each generator first checked to be an
  automorphism on the edge list), and against the closed forms: floor(n/2) + 1 for C_n (distances),
  d + 1 for the d-cube (Hamming distances);
- independence: both graphs are vertex-transitive, so an invariant matrix is fixed by its row 0;
  each basis graph must be the identity, the all-ones matrix or a path between its two labels, whose
  row 0 is the walk count (A^L e_0) computed here modulo a prime; those rows have full rank (rank by
  elimination written here; independent modulo p means independent over Q).

The wall clock is a hang guard only (measured figures are in benchmarks/bench_aut.py --scale).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_aut_large import cube, cycle, grid
from test_groups_basic import HANG_GUARD

import catnn
from catnn.errors import LimitError

P = 1_000_003


def pair_orbits(generators: tuple[np.ndarray, ...], n: int) -> int:
    """Orbits of the generated group on ordered vertex pairs: components of the graph joining each
    pair (u, v) to (g u, g v), by least-label propagation both ways along every link."""
    u, v = np.divmod(np.arange(n * n), n)
    images = [g[u] * n + g[v] for g in generators]
    labels = np.arange(n * n)
    while True:
        before = labels.copy()
        for image in images:
            np.minimum.at(labels, image, labels.copy())
            labels = np.minimum(labels, labels[image])
        labels = labels[labels]
        if np.array_equal(labels, before):
            return len(np.unique(labels))


def path_length(h) -> int | None:
    """L if h is the path of length L from its output to its input (internal vertices of degree 2)."""
    out, inp = h.outputs[0], h.inputs[0]
    if out == inp or len(h.edges) != h.vertices - 1 or h.vertices != h.internal + 2:
        return None
    nbrs: dict[int, list[int]] = {v: [] for v in range(h.vertices)}
    for a, b in h.edges:
        nbrs[a].append(b)
        nbrs[b].append(a)
    previous, here, length = None, out, 0
    while here != inp:
        nxt = [w for w in nbrs[here] if w != previous]
        if len(nxt) != 1 or (here != out and len(nbrs[here]) != 2):
            return None
        previous, here, length = here, nxt[0], length + 1
    return length


def row_zero(h, walks: list[np.ndarray]) -> np.ndarray:
    """Row 0 of h's matrix modulo P: identity, all-ones, or walk counts ``walks[L]`` for a path."""
    n = len(walks[0])
    if str(h) == "{1, 1'}":
        return walks[0]
    if str(h) == "{1} {1'}":
        return np.ones(n, dtype=np.int64)
    length = path_length(h)
    assert length is not None, f"unexpected basis graph {h}"
    return walks[length]


def walks_from_zero(a: np.ndarray, longest: int) -> list[np.ndarray]:
    """e_0 A^L modulo P for L = 0..longest."""
    out = [np.eye(1, len(a), 0, dtype=np.int64)[0]]
    for _ in range(longest):
        out.append((a @ out[-1]) % P)
    return out


def rank_mod_p(rows: np.ndarray) -> int:
    m = rows.copy() % P
    rank = 0
    for col in range(m.shape[1]):
        pivot = next((r for r in range(rank, len(m)) if m[r, col]), None)
        if pivot is None:
            continue
        m[[rank, pivot]] = m[[pivot, rank]]
        m[rank] = m[rank] * pow(int(m[rank, col]), -1, P) % P
        for r in range(len(m)):
            if r != rank and m[r, col]:
                m[r] = (m[r] - m[r, col] * m[rank]) % P
        rank += 1
        if rank == len(m):
            break
    return rank


def check_basis(a: np.ndarray, closed_form: int) -> None:
    start = time.perf_counter()
    G = catnn.group("Aut", graph=a)
    edges = {(int(u), int(v)) for u, v in zip(*np.nonzero(a))}
    for g in G.generators:
        assert {(int(g[u]), int(g[v])) for u, v in edges} == edges
    basis = G.spanning_set(1, 1)
    assert time.perf_counter() - start < HANG_GUARD
    assert len(basis) == len(set(basis)) == G.dimension(1, 1) == closed_form == pair_orbits(G.generators, len(a))
    walks = walks_from_zero(a, max(h.vertices for h in basis))
    assert rank_mod_p(np.array([row_zero(h, walks) for h in basis])) == len(basis)


@pytest.mark.parametrize("n", [301])
def test_cycle_spanning_set_is_a_basis(n):
    check_basis(cycle(n), n // 2 + 1)


def test_hypercube_10_spanning_set_is_a_basis():
    check_basis(cube(10), 11)


@pytest.mark.slow
def test_cycle_1000_spanning_set_is_a_basis():
    check_basis(cycle(1000), 501)


def test_grid_spanning_set_is_refused_not_hung():
    """A 30 x 30 grid has about 10^5 orbits on pairs: refused at once (never an endless elimination)."""
    start = time.perf_counter()
    G = catnn.group("Aut", graph=grid(30, 30))
    assert G.order == 8
    with pytest.raises(LimitError, match="orbits"):
        G.spanning_set(1, 1)
    assert time.perf_counter() - start < HANG_GUARD


def test_numpy_refinement_gives_the_python_colours():
    """Big bilabelled graphs are refined by numpy rounds; canonical forms need the very same colours."""
    from catnn.bilabelled import _refine_numpy, _refine_python
    rng = np.random.default_rng(7)
    for _ in range(200):
        v = int(rng.integers(1, 90))
        nbrs: list[list[int]] = [[] for _ in range(v)]
        for x in range(v):
            for y in range(x, v):
                if rng.random() < 3 / v:
                    nbrs[x].append(y)
                    if x != y:
                        nbrs[y].append(x)
        colours = [int(c) for c in rng.integers(0, 2 * v if rng.random() < 0.5 else 3, size=v)]
        assert _refine_numpy(nbrs, colours) == _refine_python(nbrs, colours)


def test_walk_graphs_are_built_in_the_canonical_numbering():
    """Paths and rooted cycles are built directly (no refinement); the general canonical form of the
    same walk, given in a shuffled numbering, must be the very same graph (edges, labels, hash)."""
    from catnn.bilabelled import BilabelledGraph
    rng = np.random.default_rng(3)
    for length in range(1, 121):
        for closed in (False, True):
            ends = 1 if closed else 2
            internal = rng.permutation(np.arange(ends, ends + length - 1)).tolist()
            walk = [0, *internal, 0 if closed else 1]
            general = BilabelledGraph(length - 1 + ends, list(zip(walk, walk[1:])), outputs=range(ends))
            built = BilabelledGraph.rooted_cycle(length) if closed else BilabelledGraph.path(length)
            assert (built.vertices, built.edges, built.outputs, built.inputs, hash(built)) == \
                   (general.vertices, general.edges, general.outputs, general.inputs, hash(general))
