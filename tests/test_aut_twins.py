"""Aut(G) of graphs with twins (vertices whose transposition is an automorphism) or many isomorphic
components: huge groups whose order must come from the structure, not from individualising vertices
one by one.

Oracles: brute force over all n! permutations for small random graphs (with loops and twins); for
the large families, |Aut| by closed formulas (empty and complete graphs n!, stars k!, K_{p,q}
p! q! (2 p!^2 when p = q), t disjoint triangles 6^t t!, a path 0-1-2 with r isolated vertices 2 r!,
t disjoint C_m's (2m)^t t!),
every generator checked against the edge set, and the group they generate closed by breadth-first
search on small cases. The check of a small layer on each family runs under a hang guard (the fuzz
suite found ``graph G = edges(0-1-2, 203)`` hanging in ``order``); the guard is not a timing.
"""

from __future__ import annotations

import itertools
import time
from math import factorial

import numpy as np
import pytest
from test_groups_basic import HANG_GUARD

import catnn
from catnn.api import compile_program


def empty(n: int) -> np.ndarray:
    return np.zeros((n, n), dtype=int)


def star(k: int) -> np.ndarray:
    a = empty(k + 1)
    a[0, 1:] = a[1:, 0] = 1
    return a


def bipartite(p: int, q: int) -> np.ndarray:
    a = empty(p + q)
    a[:p, p:] = a[p:, :p] = 1
    return a


def triangles(t: int) -> np.ndarray:
    a = empty(3 * t)
    for i in range(t):
        block = slice(3 * i, 3 * i + 3)
        a[block, block] = 1 - np.eye(3, dtype=int)
    return a


def path_plus_isolated(r: int) -> np.ndarray:
    a = empty(3 + r)
    a[0, 1] = a[1, 0] = a[1, 2] = a[2, 1] = 1
    return a


def disjoint(*blocks: np.ndarray) -> np.ndarray:
    n = sum(len(b) for b in blocks)
    a = empty(n)
    at = 0
    for b in blocks:
        a[at:at + len(b), at:at + len(b)] = b
        at += len(b)
    return a


def cycle(m: int) -> np.ndarray:
    a = empty(m)
    for i in range(m):
        a[i, (i + 1) % m] = a[(i + 1) % m, i] = 1
    return a


def shuffled(a: np.ndarray, seed: int) -> np.ndarray:
    sigma = np.random.default_rng(seed).permutation(len(a))
    return a[np.ix_(sigma, sigma)]


#: 100 disjoint 6-cycles in the language
CYCLES = "edges(" + ", ".join(f"{6 * i}-{6 * i + 1}-{6 * i + 2}-{6 * i + 3}-{6 * i + 4}-{6 * i + 5}-{6 * i}"
                              for i in range(100)) + ")"


FAMILIES = {
    "empty(300)": (lambda: empty(300), factorial(300)),
    "complete(300)": (lambda: 1 - np.eye(300, dtype=int), factorial(300)),
    "star(300)": (lambda: star(300), factorial(300)),
    "K_{20,30}": (lambda: bipartite(20, 30), factorial(20) * factorial(30)),
    "K_{25,25}": (lambda: bipartite(25, 25), 2 * factorial(25) ** 2),
    "100 triangles": (lambda: triangles(100), 6**100 * factorial(100)),
    "path + 201 isolated": (lambda: path_plus_isolated(201), 2 * factorial(201)),
    "166 C_6's, shuffled": (lambda: shuffled(disjoint(*[cycle(6)] * 166), 1), 12**166 * factorial(166)),
    "20 C_5's + 10 C_7's": (lambda: disjoint(*[cycle(5)] * 20, *[cycle(7)] * 10),
                            10**20 * factorial(20) * 14**10 * factorial(10)),
}


def brute_automorphisms(a: np.ndarray) -> set[tuple[int, ...]]:
    n = len(a)
    return {p for p in itertools.permutations(range(n)) if np.array_equal(a[np.ix_(p, p)], a)}


def closure(generators: list[tuple[int, ...]], n: int) -> set[tuple[int, ...]]:
    """The group generated, by breadth-first search from the identity."""
    seen = {tuple(range(n))}
    frontier = list(seen)
    while frontier:
        nxt = []
        for g in frontier:
            for h in generators:
                gh = tuple(h[x] for x in g)
                if gh not in seen:
                    seen.add(gh)
                    nxt.append(gh)
        frontier = nxt
    return seen


def random_graph_with_twins(rng: np.random.Generator) -> np.ndarray:
    """A random graph on <= 4 vertices, then some vertices copied (as twins, adjacent or not)."""
    base = int(rng.integers(1, 5))
    a = np.triu((rng.random((base, base)) < 0.5).astype(int), 1)
    a = a + a.T
    a[np.diag_indices(base)] = rng.random(base) < 0.3
    copies = rng.integers(0, base, size=int(rng.integers(0, 4)))
    for v in copies:
        row = a[v].copy()
        adjacent = int(rng.random() < 0.5)
        a = np.block([[a, row[:, None]], [row[None, :], np.array([[a[v, v]]])]])
        a[v, -1] = a[-1, v] = adjacent
    return a


@pytest.mark.parametrize("trial", range(40))
def test_small_graphs_with_twins_against_brute_force(trial):
    a = random_graph_with_twins(np.random.default_rng(trial))
    G = catnn.group("Aut", graph=a)
    expected = brute_automorphisms(a)
    listed = [tuple(int(x) for x in g) for g in G.automorphisms()]
    assert G.order == len(expected) == len(listed) and set(listed) == expected
    assert listed[0] == tuple(range(len(a)))
    generators = [tuple(int(x) for x in g) for g in G.generators]
    assert closure(generators, len(a)) == expected
    assert tuple(G.random_automorphism(trial).tolist()) in expected


@pytest.mark.parametrize("name", list(FAMILIES))
def test_twin_families_orders_and_generators(name):
    build, order = FAMILIES[name]
    a = build()
    start = time.perf_counter()
    G = catnn.group("Aut", graph=a)
    assert G.order == order
    edges = {(int(u), int(v)) for u, v in zip(*np.nonzero(a))}
    for g in [*G.generators, G.random_automorphism(0)]:
        assert sorted(g.tolist()) == list(range(len(a)))
        assert {(int(g[u]), int(g[v])) for u, v in edges} == edges
    assert time.perf_counter() - start < HANG_GUARD


@pytest.mark.parametrize("trial", range(25))
def test_disjoint_unions_against_brute_force(trial):
    """Random small components, some repeated (relabelled), some not: components permuted as wholes."""
    rng = np.random.default_rng(100 + trial)
    blocks = []
    while sum(len(b) for b in blocks) < 5:
        size = int(rng.integers(1, 4))
        b = np.triu((rng.random((size, size)) < 0.6).astype(int), 1)
        b = b + b.T
        b[np.diag_indices(size)] = rng.random(size) < 0.2
        blocks += [b] * int(rng.integers(1, 3))
    a = shuffled(disjoint(*blocks)[:8, :8], trial)
    G = catnn.group("Aut", graph=a)
    expected = brute_automorphisms(a)
    listed = [tuple(int(x) for x in g) for g in G.automorphisms()]
    assert G.order == len(expected) == len(listed) and set(listed) == expected
    assert listed[0] == tuple(range(len(a)))
    assert closure([tuple(int(x) for x in g) for g in G.generators], len(a)) == expected


def test_generated_group_of_a_twin_quotient_with_twins():
    """Two disjoint triangles plus two isolated vertices: twins at two levels (6^2 2! 2!)."""
    a = np.zeros((8, 8), dtype=int)
    a[:6, :6] = triangles(2)
    G = catnn.group("Aut", graph=a)
    expected = brute_automorphisms(a)
    assert G.order == len(expected) == 144
    assert closure([tuple(int(x) for x in g) for g in G.generators], 8) == expected


@pytest.mark.parametrize("graph", ["edges(0-1-2, 203)", "empty(300)", "star(300)", "complete(200)", pytest.param(CYCLES, id="100 C_6s")])
def test_small_layers_on_twin_graphs_check_without_hanging(graph):
    """The program the fuzz suite hung on, and its relatives: the check ends (ok, or a located
    error), and the dimension of a 1 -> 1 layer is the number of orbits on pairs, computed here
    from the structure (a twin class contributes its diagonal and off-diagonal pairs)."""
    start = time.perf_counter()
    for layer in ("1 @ 3 -> 2", "1 -> 1", "2 -> 2"):
        try:
            compile_program(f"graph G = {graph}\ngroup Aut(G)\nlayer d0 : {layer}\n")
        except catnn.CatnnError as err:
            assert "<string>:3:" in str(err) and "^" in str(err)
    assert time.perf_counter() - start < HANG_GUARD
    prog = compile_program(f"graph G = {graph}\ngroup Aut(G)\nlayer d0 : 1 -> 1\n")
    assert prog.group.dimension(1, 1) == pair_orbits(graph)


def pair_orbits(graph: str) -> int:
    """Orbits of Aut on vertex pairs: vertex orbits O_i (twin classes here) give |O_i| > 1 ? 2 : 1
    orbits inside O_i x O_i, and one orbit for each ordered pair of different vertex orbits."""
    if graph == CYCLES:     # one vertex orbit of 600; inside a C_6 distances 0..3, plus "another C_6"
        return 4 + 1
    sizes = {"edges(0-1-2, 203)": [2, 1, 201], "empty(300)": [300], "star(300)": [1, 300],
             "complete(200)": [200]}[graph]
    return sum(2 if s > 1 else 1 for s in sizes) + len(sizes) * (len(sizes) - 1)
