"""Composition, tensor product and transpose of A_n diagrams with jellyfish (issue 16).

Oracle: dense matrices built here from the definitions (a loop over every index tuple: constant on the
blocks, and for a jellyfish the sign of the block values followed by the unused values of [n]), never
``G.matrix``; the laws matrix(f >> g) = matrix(g) @ matrix(f), matrix(f @ g) = kron, matrix(f.T) =
matrix(f)ᵀ; every result term lies in the A_n spanning set.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

import catnn
from catnn.diagram import Diagram
from catnn.errors import DiagramError
from catnn.groups.alternating import Jellyfish
from oracles import brute_partition_matrix


def parity(values) -> int:
    return (-1) ** sum(values[i] > values[j] for i in range(len(values)) for j in range(i + 1, len(values)))


def dense(d, n: int) -> np.ndarray:
    """The (n^l, n^k) matrix of a partition diagram or jellyfish, from the definition."""
    if isinstance(d, Diagram):
        return brute_partition_matrix(d.blocks, d.k, d.l, n).astype(object)
    out = np.zeros((n**d.l, n**d.k), dtype=object)
    for x in itertools.product(range(n), repeat=d.k + d.l):
        values = [{x[v - 1] for v in block} for block in d.blocks]
        if any(len(v) != 1 for v in values):
            continue
        head = [v.pop() for v in values]
        if len(set(head)) < len(head):
            continue
        row = int(np.ravel_multi_index(x[:d.l], (n,) * d.l)) if d.l else 0
        col = int(np.ravel_multi_index(x[d.l:], (n,) * d.k)) if d.k else 0
        out[row, col] = parity(head + [v for v in range(n) if v not in head])
    return out


def dense_morphism(m, n: int) -> np.ndarray:
    out = np.zeros((n**m.l, n**m.k), dtype=object)
    for d, c in m.terms:
        coeff = c.constant()
        assert coeff is not None, f"coefficient {c} of {d} is not a number"
        out = out + Fraction(coeff) * dense(d, n)
    return out


def at_n(m, n: int) -> dict:
    """The nonzero terms of a morphism with coefficients evaluated at n."""
    return {d: c for d, c in m.evaluate(n) if c}


def in_spanning_set(m, G) -> bool:
    n = G.n
    return all((isinstance(d, Diagram) and d.num_blocks <= n) or
               (isinstance(d, Jellyfish) and d.num_blocks in (n - 1, n)) for d, _ in m.terms)


def pick(G, k: int, l: int, rng, count: int, jelly: bool) -> list:
    spanning = [d for d in G.spanning_set(k, l) if isinstance(d, Jellyfish) or not jelly]
    if not spanning:
        return []
    return [spanning[i] for i in rng.choice(len(spanning), min(count, len(spanning)), replace=False)]


def arities(most: int) -> list[tuple[int, int, int]]:
    return [(k, l, m) for k, l, m in itertools.product(range(4), repeat=3) if k + l + m <= most]


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_composition_is_the_matrix_product(n, rng):
    """f >> g for f or g a jellyfish (and both), every arity k -> l -> m with k + l + m <= 5 (6 at n = 5,
    where jellyfish need k + l >= 4)."""
    G = catnn.group("A", n=n)
    checked = 0
    for k, l, m in arities(6 if n == 5 else 5):
        for first_jelly, second_jelly in ((True, False), (False, True), (True, True)):
            for f in pick(G, k, l, rng, 3, first_jelly):
                for g in pick(G, l, m, rng, 2, second_jelly):
                    result = G.compose(f, g)
                    assert in_spanning_set(result, G), str(result)
                    expected = dense(g, n).dot(dense(f, n))
                    np.testing.assert_array_equal(dense_morphism(result, n), expected, err_msg=f"{f} >> {g}")
                    checked += 1
    assert checked > 30


SHAPES = [(0, 1), (1, 0), (1, 1), (0, 2), (2, 1), (1, 2), (0, 3), (2, 2), (1, 3), (3, 1), (0, 4)]


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_tensor_product_is_the_kronecker_product(n, rng):
    """f @ g and g @ f for a jellyfish f and a jellyfish or partition diagram g, up to n + 1 vertices
    (5 at n = 5: the brute-force oracle loops over n^(k+l) tuples per term)."""
    G = catnn.group("A", n=n)
    checked = 0
    for (k1, l1), (k2, l2) in itertools.product(SHAPES, repeat=2):
        if k1 + l1 + k2 + l2 > (5 if n == 5 else max(n + 1, 4)):
            continue
        for f in pick(G, k1, l1, rng, 2, True):
            for g in pick(G, k2, l2, rng, 2, checked % 2 == 0) or pick(G, k2, l2, rng, 2, False):
                for left, right in ((f, g), (g, f)):
                    result = G.lift(left) @ G.lift(right)
                    assert in_spanning_set(result, G), str(result)
                    expected = np.kron(dense(left, n), dense(right, n))
                    np.testing.assert_array_equal(dense_morphism(result, n), expected, err_msg=f"{left} @ {right}")
                    checked += 1
    assert checked > 10


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_transpose_is_the_matrix_transpose(n):
    G = catnn.group("A", n=n)
    for k, l in [(0, 2), (1, 1), (1, 2), (2, 2), (3, 1)]:
        for d in G.spanning_set(k, l):
            if isinstance(d, Jellyfish):
                np.testing.assert_array_equal(dense_morphism(d.T, n), dense(d, n).T, err_msg=str(d))


@pytest.mark.parametrize("n", [3, 4])
def test_composition_is_associative_and_mixes_with_partitions(n, rng):
    """(f >> g) >> h == f >> (g >> h) term by term at n (exact; partition-only compositions keep the loop
    symbolic), with jellyfish and partition diagrams mixed."""
    G = catnn.group("A", n=n)
    for _ in range(6):
        f = G.lift(pick(G, 1, 2, rng, 1, True)[0]) + 2 * G.lift(pick(G, 1, 2, rng, 1, False)[0])
        g = G.lift(pick(G, 2, 2, rng, 1, True)[0]) - G.lift(pick(G, 2, 2, rng, 1, False)[0])
        h = G.lift(pick(G, 2, 1, rng, 1, True)[0])
        assert at_n((f >> g) >> h, n) == at_n(f >> (g >> h), n)
        np.testing.assert_array_equal(dense_morphism((f >> g) >> h, n),
                                      dense_morphism(h, n).dot(dense_morphism(g, n)).dot(dense_morphism(f, n)))


def test_a_program_composes_jellyfish():
    """Under ``group A(4)`` jelly[...] literals compose and tensor like any diagram."""
    prog = catnn.compile("""
group A(4)
diagram rot = jelly[{1} {2} {1'}]
morphism twice = rot >> jelly[{1} {1'} {2'}]
morphism wide = jelly[{1} {2} {3}] @ {1, 1'}
morphism back = rot >> jelly[{1'} {2'} {1}]
morphism scalar = jelly[{1} {2} {3}] >> jelly[{1'} {2'} {3'}]
""")
    G = catnn.group("A", n=4)
    rot = dense(Jellyfish.from_blocks([[1], [2], [3]], k=1, l=2), 4)
    down = dense(Jellyfish.from_blocks([[1], [2], [3]], k=2, l=1), 4)
    np.testing.assert_array_equal(dense_morphism(prog.twice, 4), down.dot(rot))
    wide = np.kron(dense(Jellyfish.from_blocks([[1], [2], [3]], k=0, l=3), 4), np.eye(4, dtype=int))
    np.testing.assert_array_equal(dense_morphism(prog.wide, 4), wide)
    up = dense(Jellyfish.from_blocks([[1], [2], [3]], k=2, l=1), 4)
    np.testing.assert_array_equal(dense_morphism(prog.back, 4), up.dot(rot))
    assert prog.scalar.terms == ((Diagram([], 0, 0), catnn.coeff.Poly.const(24)),)   # 4 · 3 · 2 signs squared
    assert in_spanning_set(prog.twice, G) and in_spanning_set(prog.back, G)
    assert np.abs(dense_morphism(prog.twice, 4)).max() > 0


def test_jellyfish_of_different_sizes_do_not_mix():
    a = Jellyfish.from_blocks([[1], [2]], k=1, l=1, n=2)
    b = Jellyfish.from_blocks([[1], [2]], k=1, l=1, n=3)
    with pytest.raises(DiagramError, match="different A_n"):
        a >> b
    with pytest.raises(DiagramError, match="n-1 or n blocks"):
        Jellyfish.from_blocks([[1], [2]], k=1, l=1, n=4)
