"""Aut(G) of graphs with a thousand vertices and more: the group's order against the known formula,
every generator an automorphism (checked on the edge list here), and orbit counts against closed forms.

Orders: the cycle C_n has the dihedral group (2n), the r x c grid (r != c, both > 1) the four symmetries
of a rectangle, the d-cube the hyperoctahedral group (2^d d!). A relabelled copy of a graph must give
the same order (the search may not depend on vertex names).
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest

import catnn
from catnn.api import compile_program


def cycle(n: int) -> np.ndarray:
    a = np.zeros((n, n), dtype=int)
    i = np.arange(n)
    a[i, (i + 1) % n] = a[(i + 1) % n, i] = 1
    return a


def grid(r: int, c: int) -> np.ndarray:
    a = np.zeros((r * c, r * c), dtype=int)
    for i in range(r):
        for j in range(c):
            v = i * c + j
            if j + 1 < c:
                a[v, v + 1] = a[v + 1, v] = 1
            if i + 1 < r:
                a[v, v + c] = a[v + c, v] = 1
    return a


def cube(d: int) -> np.ndarray:
    a = np.zeros((2**d, 2**d), dtype=int)
    for v in range(2**d):
        for b in range(d):
            a[v, v ^ (1 << b)] = 1
    return a


CASES = {
    "C_1000": (lambda: cycle(1000), 2 * 1000),
    "grid 30x40": (lambda: grid(30, 40), 4),
    "Q_10": (lambda: cube(10), 2**10 * factorial(10)),
}


def edge_set(a: np.ndarray) -> set[tuple[int, int]]:
    return {(int(u), int(v)) for u, v in zip(*np.nonzero(a))}


@pytest.mark.parametrize("name", list(CASES))
def test_large_graph_orders_and_generators(name):
    build, order = CASES[name]
    a = build()
    G = catnn.group("Aut", graph=a)
    assert G.order == order
    edges = edge_set(a)
    for g in G.generators:
        assert sorted(g.tolist()) == list(range(len(a)))
        assert {(int(g[u]), int(g[v])) for u, v in edges} == edges


def test_relabelled_cycle_has_the_same_group():
    rng = np.random.default_rng(3)
    sigma = rng.permutation(400)
    a = cycle(400)[np.ix_(sigma, sigma)]
    G = catnn.group("Aut", graph=a)
    assert G.order == 800
    g = G.random_automorphism(rng)
    assert edge_set(a[np.ix_(g, g)]) == edge_set(a)


def test_cycle_1000_layer_checks():
    """The orbits of the dihedral group on vertex pairs are the distances 0..500."""
    prog = compile_program("graph C = cycle(1000)\ngroup Aut(C)\nlayer f : 1 -> 1\n")
    assert prog.group.order == 2000
    assert prog.group.dimension(1, 1) == 501
    assert prog.group.vertex_orbits() == (tuple(range(1000)),)
