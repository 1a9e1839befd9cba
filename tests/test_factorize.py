"""Planar factorisation: d == σ_k >> planar >> σ_l exactly, for every small diagram."""

from __future__ import annotations

import numpy as np
import pytest

import catnn
from catnn.compiler.factorize import factorize, inverse
from catnn.diagram import Diagram

SIZES = [(k, m - k) for m in range(7) for k in range(m + 1)]


@pytest.mark.parametrize("k,l", SIZES)
def test_every_partition_diagram_recomposes_exactly(k, l):
    for d in catnn.group("S").spanning_set(k, l):
        f = factorize(d)
        assert f.planar.is_planar(), d
        assert f.recompose() == d, d
        assert sorted(f.sigma_in) == list(range(k)) and sorted(f.sigma_out) == list(range(l))


def test_planar_layout():
    # {1, 3'} {2} {1', 2'}: propagating 1<-3', top-only 2, bottom-only {1', 2'}
    d = Diagram.from_blocks([[1, 5], [2], [3, 4]], k=3, l=2)
    f = factorize(d)
    assert f.top == ((1,),)
    assert f.propagating == (((0,), (2,)),)
    assert f.bottom == ((0, 1),)
    assert f.sigma_in == (2, 0, 1) and f.sigma_out == (1, 0)
    assert str(f.planar) == "{1} {2, 1'} {2', 3'}"


def test_planar_block_orders():
    # propagating blocks ordered by their smallest input, in the same order on both rows
    d = Diagram.from_blocks([[1, 5], [2, 3, 4]], k=2, l=3)        # {1, 2'} {2, 3, 1'}
    f = factorize(d)
    assert f.propagating == (((1, 2), (0,)), ((0,), (1,)))
    assert str(f.planar) == "{1, 2, 1'} {3, 2'}"


def test_factorisation_matches_dense_matrices():
    G = catnn.group("S", n=3)
    rng = np.random.default_rng(0)
    diagrams = G.spanning_set(2, 3)
    for i in rng.choice(len(diagrams), 10, replace=False):
        f = factorize(diagrams[i])
        lhs = G.matrix(f.output_permutation()) @ G.matrix(f.planar) @ G.matrix(f.input_permutation())
        assert np.array_equal(lhs, G.matrix(diagrams[i]))


def test_brauer_diagrams_factor_into_brauer_diagrams():
    for d in catnn.group("O").spanning_set(3, 3):
        f = factorize(d)
        assert f.planar.is_brauer() and f.recompose() == d


def test_inverse():
    assert inverse((2, 0, 1)) == (1, 2, 0)
    assert inverse(()) == ()
