"""The oracles themselves, checked against hand-computable facts (no catnn involved)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from oracles import (GENERATORS, MAX_ORACLE_SIZE, all_permutations, brute_partition_matrix,
                     burnside_orbits, commutant_dimension, commutant_dimension_dense, group_generators,
                     kron_power, lie_power, matrix_rank, permutation_matrix, random_blocks,
                     random_pairing, symmetric_group_orbits)


def test_kron_and_lie_powers():
    g = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert np.array_equal(kron_power(g, 0), [[1]])
    assert np.array_equal(kron_power(g, 2), np.kron(g, g))
    A = np.array([[0.0, 1.0], [-1.0, 0.0]])
    assert np.array_equal(lie_power(A, 0), np.zeros((1, 1)))
    assert np.array_equal(lie_power(A, 2), np.kron(A, np.eye(2)) + np.kron(np.eye(2), A))
    # dρ_k is the derivative of ρ_k: (exp tA)^{⊗k} = I + t dρ_k(A) + O(t^2)
    t = 1e-6
    rot = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    assert np.allclose((kron_power(rot, 3) - np.eye(8)) / t, lie_power(A, 3), atol=1e-5)


def test_permutation_matrix_convention():
    p = permutation_matrix([2, 0, 1])
    for i, s in enumerate([2, 0, 1]):
        assert np.array_equal(p @ np.eye(3)[i], np.eye(3)[s])       # P e_i = e_sigma(i)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_generators_are_valid(n):
    elements, lie = group_generators("S", n)
    assert not lie and len(elements) == (0 if n == 1 else 2)
    for g in elements:                                   # permutation matrices
        assert set(np.unique(g)) <= {0.0, 1.0} and np.all(g.sum(0) == 1) and np.all(g.sum(1) == 1)
    elements, lie = group_generators("O", n)
    assert len(lie) == n * (n - 1) // 2 and len(elements) == 1
    assert all(np.array_equal(A, -A.T) for A in lie)   # so(n)
    assert np.isclose(np.linalg.det(elements[0]), -1) and np.allclose(elements[0] @ elements[0].T, np.eye(n))
    assert {"S", "O"} <= set(GENERATORS)


@pytest.mark.parametrize("name", ["S", "O"])
@pytest.mark.parametrize("n, m", [(1, 3), (2, 2), (2, 4), (3, 2), (3, 3), (3, 4), (4, 2)])
def test_fast_commutant_agrees_with_the_literal_one(name, n, m):
    elements, lie = group_generators(name, n)
    for k in range(m + 1):
        assert commutant_dimension(k, m - k, n, elements, lie) == \
            commutant_dimension_dense(k, m - k, n, elements, lie)


def test_commutant_with_non_monomial_elements():
    """A generic rotation generates a dense subgroup of SO(2): commutant on V⊗V has dimension 2."""
    t = 0.7
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    assert commutant_dimension(1, 1, 2, [rot]) == commutant_dimension_dense(1, 1, 2, [rot]) == 2
    assert commutant_dimension(2, 2, 2, [rot]) == commutant_dimension_dense(2, 2, 2, [rot]) == 6
    assert commutant_dimension(1, 1, 3) == 9                   # no constraints: all matrices


def test_commutant_size_guard():
    with pytest.raises(ValueError):
        commutant_dimension(4, 3, 4)
    assert 4**6 <= MAX_ORACLE_SIZE < 4**7


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_orbit_counts(n):
    cyclic = [tuple((i + s) % n for i in range(n)) for s in range(n)]
    for m in range(5):
        assert burnside_orbits([tuple(range(n))], m, n) == n**m           # trivial group
        assert burnside_orbits(cyclic, m, n) == sum(
            1 for x in itertools.product(range(n), repeat=m)
            if x == min(tuple((v + s) % n for v in x) for s in range(n)))
        assert symmetric_group_orbits(m, n) == burnside_orbits(all_permutations(n), m, n)


def test_brute_partition_matrix():
    assert np.array_equal(brute_partition_matrix([[1, 2]], 1, 1, 3), np.eye(3, dtype=np.int64))
    assert np.array_equal(brute_partition_matrix([[1], [2]], 1, 1, 2), np.ones((2, 2)))
    assert np.array_equal(brute_partition_matrix([[1], [2]], 1, 1, 2, distinct=True), 1 - np.eye(2))
    assert np.array_equal(brute_partition_matrix([], 0, 0, 5), [[1]])
    swap = brute_partition_matrix([[1, 4], [2, 3]], 2, 2, 2)
    x = np.arange(4).reshape(2, 2)
    assert np.array_equal(swap @ x.reshape(-1), x.T.reshape(-1))


def test_matrix_rank():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, size=(6, 40))
    assert matrix_rank(list(np.vstack([a, a[:2] * 2 - a[2:4]]))) == 6
    b = rng.standard_normal((4, 10))
    assert matrix_rank(list(np.vstack([b, b[:1] + b[1:2]]))) == 4
    assert matrix_rank([]) == 0 and matrix_rank([np.zeros((3, 3))]) == 0


def test_random_inputs():
    rng = np.random.default_rng(0)
    for m in range(0, 8):
        blocks = random_blocks(rng, m)
        assert sorted(v for b in blocks for v in b) == list(range(1, m + 1))
        if m % 2 == 0:
            pairs = random_pairing(rng, m)
            assert all(len(p) == 2 for p in pairs)
            assert sorted(v for p in pairs for v in p) == list(range(1, m + 1))
    with pytest.raises(ValueError):
        random_pairing(rng, 3)
