"""Spanning sets of Aut(G) for grid graphs: pair orbits that paths cannot separate.

Oracles, sharing no code with catnn's spanning-set construction:

- the symmetries of an r x c grid written here (row flip, column flip, and the transpose when r = c),
  each checked to be an automorphism on the edge list; catnn's group must have exactly their number
  of elements (4, or 8 for a square: the grid's automorphism group is that of the rectangle);
- the dimension: orbits of those symmetries on [n]^m, by breadth-first search over the tuples;
- the span: every basis matrix, built densely from its graph (``BilabelledGraph.dense``: hom counts
  by einsum), is fixed by those symmetries, and the matrices have rank = the number of orbits
  (rank modulo a prime, elimination written here), so they span the whole commutant;
- decorated paths: their exact counts against the dense hom-count tensor of the same graph.

The 4 x 4 and 10 x 10 grids have pairs with equal walk counts of every length in different orbits;
they need the decorated paths. The wall clock is a hang guard only (bench_aut.py --scale measures).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from test_aut_large import grid
from test_aut_scale import rank_mod_p
from test_groups_basic import HANG_GUARD

import catnn
from catnn.errors import LimitError
from catnn.groups import automorphism as aut_module


def symmetries(r: int, c: int) -> list[np.ndarray]:
    """The rectangle's (or square's) symmetries of the r x c grid as vertex permutations, checked."""
    i, j = np.divmod(np.arange(r * c), c)
    maps = [i * c + (c - 1 - j), (r - 1 - i) * c + j]
    if r == c:
        maps.append(j * c + i)
    a = grid(r, c)
    edges = {(int(u), int(v)) for u, v in zip(*np.nonzero(a))}
    for g in maps:
        assert {(int(g[u]), int(g[v])) for u, v in edges} == edges
    return maps


def tuple_orbits(maps: list[np.ndarray], n: int, m: int) -> tuple[int, np.ndarray]:
    """(number of orbits of the generated group on [n]^m, one representative flat tuple per orbit),
    by breadth-first search from each unvisited tuple."""
    digits = np.indices((n,) * m).reshape(m, -1)
    weights = n ** np.arange(m - 1, -1, -1)
    images = [(g[digits] * weights[:, None]).sum(axis=0) for g in maps]
    seen = np.zeros(n**m, dtype=bool)
    reps = []
    for start in range(n**m):
        if seen[start]:
            continue
        reps.append(start)
        seen[start] = True
        queue = [start]
        while queue:
            t = queue.pop()
            for image in images:
                if not seen[image[t]]:
                    seen[image[t]] = True
                    queue.append(int(image[t]))
    return len(reps), np.array(reps)


def group_size(maps: list[np.ndarray], n: int) -> int:
    """The number of elements the permutations generate (closure by search)."""
    found = {tuple(range(n))}
    queue = [np.arange(n)]
    while queue:
        x = queue.pop()
        for g in maps:
            y = tuple(g[x])
            if y not in found:
                found.add(y)
                queue.append(np.array(y))
    return len(found)


def check_span(r: int, c: int, k: int, l: int) -> None:
    """The basis spans the commutant of the grid's symmetries on (R^n)^{⊗(k+l)}."""
    start = time.perf_counter()
    a = grid(r, c)
    n, m = r * c, k + l
    maps = symmetries(r, c)
    G = catnn.group("Aut", graph=a)
    assert G.order == group_size(maps, n)
    basis = G.spanning_set(k, l)
    assert time.perf_counter() - start < HANG_GUARD
    count, _ = tuple_orbits(maps, n, m)
    assert len(basis) == len(set(basis)) == count
    digits = np.indices((n,) * m).reshape(m, -1)
    tensors = np.array([np.asarray(h.dense(a), dtype=object).reshape(-1) for h in basis])
    for g in maps:
        moved = np.ravel_multi_index(tuple(g[digits]), (n,) * m)
        assert (tensors[:, moved] == tensors).all()
    assert rank_mod_p(np.array(tensors % 1_000_003, dtype=np.int64)) == count


@pytest.mark.parametrize("r, c", [(5, 6), (4, 4)])
def test_grid_pair_basis_spans_the_commutant(r, c):
    check_span(r, c, 1, 1)


def test_grid_three_labels_span_the_commutant():
    check_span(3, 4, 1, 2)


def test_square_grids_need_decorated_paths():
    """In the 4 x 4 grid, (0, 1) has as many walks of every length to (1, 3) as to (2, 0), yet no
    symmetry fixes (0, 1): paths alone cannot separate the two pair orbits; a decorated path does."""
    a = grid(4, 4)
    walks = [np.linalg.matrix_power(a, L) for L in range(17)]
    assert all(w[1, 7] == w[1, 8] for w in walks)
    _, reps = tuple_orbits(symmetries(4, 4), 16, 2)
    assert 1 * 16 + 7 in reps and 1 * 16 + 8 in reps
    G = catnn.group("Aut", graph=a)
    decorated = [h for h in G.level_generators(2) if h.internal > aut_module.MAX_PIECE_INTERNAL[2]]
    assert decorated


@pytest.mark.parametrize("length, at", [(3, 1), (5, 2), (4, 3), (31, 11)])
def test_decorated_path_counts_are_exact(length, at):
    a = grid(4, 5)
    G = catnn.group("Aut", graph=a)
    reps = G._injective_representatives(2)
    for rooted in G.injective_basis(1)[1:]:
        h = aut_module._decorated_path(length, at, rooted)
        assert h.vertices == length + rooted.vertices and len(h.edges) == length + len(rooted.edges)
        exact = aut_module._decorated_values(G, h, length, at, rooted, reps)
        dense = np.asarray(h.dense(a)).reshape(-1)[reps]
        assert [int(x) for x in exact] == [int(x) for x in dense]


def test_decorated_path_work_is_bounded(monkeypatch):
    monkeypatch.setattr(aut_module, "MAX_DECORATED_WORK", 10)
    with pytest.raises(LimitError, match="decorated paths"):
        catnn.group("Aut", graph=grid(4, 4)).level_generators(2)      # a fresh instance: nothing cached


def large_grid_basis(r: int, c: int) -> tuple[np.ndarray, tuple, np.ndarray]:
    """(adjacency, the 1 -> 1 basis, one pair per orbit), the size checked against the symmetries."""
    start = time.perf_counter()
    a = grid(r, c)
    G = catnn.group("Aut", graph=a)
    basis = G.spanning_set(1, 1)
    assert time.perf_counter() - start < HANG_GUARD
    count, reps = tuple_orbits(symmetries(r, c), r * c, 2)
    assert len(basis) == len(set(basis)) == count
    return a, basis, reps


@pytest.mark.slow
@pytest.mark.parametrize("r, c", [(8, 12), (12, 12)])
def test_large_grid_pair_basis_has_the_dimension(r, c):
    """12 x 12: its level-1 basis has products with a long rooted cycle (their values are products)."""
    large_grid_basis(r, c)


@pytest.mark.slow
def test_10x10_grid_pair_basis_is_a_basis():
    """Independence from the values at one pair per orbit (an invariant matrix is fixed by them),
    each counted densely from the graph (in Python integers: minutes)."""
    a, basis, reps = large_grid_basis(10, 10)
    count = len(reps)
    rows = np.array([[int(x) % 1_000_003 for x in np.asarray(h.dense(a)).reshape(-1)[reps]] for h in basis])
    assert rank_mod_p(rows) == count

