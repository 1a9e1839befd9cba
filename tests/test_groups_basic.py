"""S_n and O(n): equivariance, dimensions against independent oracles, bases, math.md tables, scale.

Oracles (tests/oracles.py) never use diagrams or catnn's dense code: the commutant dimension is a
null-space computation over group generators and Lie-algebra elements, orbit counts come from
Burnside's lemma.
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest

import catnn
from catnn import messages
from catnn.diagram import Diagram, cap, cup, identity, merge, set_partitions, split, swap
from catnn.errors import CatnnError, GroupError, LimitError
from catnn.groups import REGISTRY, group
from catnn.groups.base import MAX_SPANNING, _cached_spanning
from oracles import (MAX_ORACLE_SIZE, all_permutations, bell_triangle, brute_partition_matrix, burnside_orbits,
                     commutant_dimension, group_generators, kron_power, matrix_rank, random_blocks,
                     symmetric_group_orbits)

GRID = [(k, m - k, n) for n in range(1, 6) for m in range(0, 7) for k in range(m + 1)]


def _ids(case):
    k, l, n = case
    return f"k{k}-l{l}-n{n}"


def _double_factorial(m: int) -> int:
    return math.prod(range(m, 0, -2)) if m > 0 else 1


# -- sampling -----------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_symmetric_samples_are_permutation_matrices(n):
    G = group("S", n)
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(30):
        g = G.sample(rng)
        assert g.shape == (n, n)
        assert set(np.unique(g)) <= {0, 1}
        assert np.all(g.sum(axis=0) == 1) and np.all(g.sum(axis=1) == 1)
        seen.add(g.tobytes())
    assert len(seen) == min(math.factorial(n), len(seen)) and (n < 3 or len(seen) > 1)
    assert np.array_equal(G.sample(7), G.sample(7))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_orthogonal_samples_are_orthogonal_with_both_determinants(n):
    G = group("O", n)
    rng = np.random.default_rng(1)
    dets = set()
    for _ in range(40):
        g = G.sample(rng)
        assert g.shape == (n, n)
        assert np.allclose(g @ g.T, np.eye(n), atol=1e-12)
        det = np.linalg.det(g)
        assert abs(abs(det) - 1) < 1e-9
        dets.add(int(round(det)))
    assert dets == {-1, 1}, "O(n) sampling must include reflections"
    assert np.allclose(G.sample(3), G.sample(3))


# -- equivariance -------------------------------------------------------------------------------
def _elements(G, n: int, count: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(2)
    elements = [G.sample(rng) for _ in range(count)]
    gens, _ = group_generators(G.name, n)
    return elements + list(gens)


def _is_equivariant(W: np.ndarray, g: np.ndarray, k: int, l: int) -> bool:
    lhs = W @ kron_power(g, k)
    rhs = kron_power(g, l) @ W
    return np.allclose(lhs, rhs, atol=1e-9)


EQUIV = [(k, m - k, n) for n in (1, 2, 3, 4) for m in range(0, 6) for k in range(m + 1) if n**m <= 1024]


@pytest.mark.parametrize("name", ["S", "O"])
@pytest.mark.parametrize("k, l, n", EQUIV, ids=map(_ids, EQUIV))
def test_spanning_matrices_are_equivariant(name, k, l, n):
    G = group(name, n)
    elements = _elements(G, n)
    if name == "O":
        reflection = np.eye(n)
        reflection[-1, -1] = -1
        elements.append(reflection)
    spanning = G.spanning_set(k, l)
    if not spanning:
        return
    Ws = np.array([G.matrix(d) for d in spanning], dtype=float)      # (diagrams, n^l, n^k)
    assert Ws.shape[1:] == (n**l, n**k)
    for g in elements:
        gk, gl = kron_power(g.astype(float), k), kron_power(g.astype(float), l)
        error = np.abs(Ws @ gk - gl @ Ws).max(axis=(1, 2))
        assert np.all(error < 1e-9), [str(d) for d, e in zip(spanning, error) if e >= 1e-9]


def test_equivariance_check_can_fail():
    """A partition diagram that is not a pairing is S_n- but not O(n)-equivariant."""
    n = 3
    W = group("S", n).matrix(merge()).astype(float)
    rng = np.random.default_rng(5)
    g = group("O", n).sample(rng)
    assert not _is_equivariant(W, g, 2, 1)
    assert _is_equivariant(W, group("S", n).sample(rng), 2, 1)


# -- dimensions, ranks, bases -------------------------------------------------------------------
# The rank of a spanning set does not depend on how its m = k + l vertices split into inputs and
# outputs (the flattened matrices are the same vectors up to one fixed permutation of coordinates),
# so above n^m = 1024 the rank and basis checks run on the balanced split only; the dimension is
# checked against the oracles for every split.
RANK_GRID = [(k, l, n) for k, l, n in GRID if n**(k + l) <= 1024 or k == (k + l) // 2]


@pytest.mark.parametrize("k, l, n", GRID, ids=map(_ids, GRID))
def test_symmetric_dimension(k, l, n):
    G = group("S", n)
    m = k + l
    dim = G.dimension(k, l)
    assert dim == symmetric_group_orbits(m, n)
    if n**m <= MAX_ORACLE_SIZE:
        assert dim == commutant_dimension(k, l, n, *group_generators("S", n))
    spanning = G.spanning_set(k, l)
    assert len(spanning) == len(set(spanning)) == len(list(set_partitions(m)))
    basis = G.basis(k, l)
    assert len(basis) == dim and set(basis) <= set(spanning)
    assert all(d.num_blocks <= n for d in basis)


@pytest.mark.parametrize("k, l, n", RANK_GRID, ids=map(_ids, RANK_GRID))
def test_symmetric_rank_and_basis_independence(k, l, n):
    G = group("S", n)
    dim = G.dimension(k, l)
    assert matrix_rank([G.matrix(d) for d in G.spanning_set(k, l)]) == dim
    assert matrix_rank([G.matrix(d) for d in G.basis(k, l)]) == dim


@pytest.mark.parametrize("k, l, n", GRID, ids=map(_ids, GRID))
def test_orthogonal_dimension(k, l, n):
    G = group("O", n)
    m = k + l
    dim = G.dimension(k, l)
    if n**m <= MAX_ORACLE_SIZE:
        # permutation matrices lie in O(n): adding them changes no solution, and their exact orbit
        # reduction makes the oracle fast (the plain generators are checked on their own below)
        elements, lie = group_generators("O", n)
        permutations, _ = group_generators("S", n)
        assert dim == commutant_dimension(k, l, n, elements + permutations, lie)
    spanning = G.spanning_set(k, l)
    assert len(spanning) == len(set(spanning)) == (0 if m % 2 else _double_factorial(m - 1))
    assert all(d.is_brauer() for d in spanning)
    basis = G.basis(k, l)
    assert len(basis) == dim and set(basis) <= set(spanning)


PLAIN_O = [(k, l, n) for k, l, n in GRID if n**(k + l) <= 729] + [(3, 3, 4), (2, 3, 5)]


@pytest.mark.parametrize("k, l, n", PLAIN_O, ids=map(_ids, PLAIN_O))
def test_orthogonal_dimension_plain_generators(k, l, n):
    """The oracle with exactly so(n) and one reflection, nothing else."""
    assert group("O", n).dimension(k, l) == commutant_dimension(k, l, n, *group_generators("O", n))


@pytest.mark.parametrize("k, l, n", RANK_GRID, ids=map(_ids, RANK_GRID))
def test_orthogonal_rank_and_basis_independence(k, l, n):
    G = group("O", n)
    dim = G.dimension(k, l)
    assert matrix_rank([G.matrix(d) for d in G.spanning_set(k, l)]) == dim
    assert matrix_rank([G.matrix(d) for d in G.basis(k, l)]) == dim


@pytest.mark.parametrize("m, n", [(m, n) for m in range(0, 7) for n in range(1, 5)])
def test_symmetric_orbit_counts_agree(m, n):
    """The two orbit-count oracles agree with each other (element enumeration vs cycle types)."""
    assert burnside_orbits(all_permutations(n), m, n) == symmetric_group_orbits(m, n)


# -- math.md tables -----------------------------------------------------------------------------
#: math.md §b.1: rows m = 1..8, columns n = 1..8
RESTRICTED_BELL = {
    1: [1, 1, 1, 1, 1, 1, 1, 1],
    2: [1, 2, 2, 2, 2, 2, 2, 2],
    3: [1, 4, 5, 5, 5, 5, 5, 5],
    4: [1, 8, 14, 15, 15, 15, 15, 15],
    5: [1, 16, 41, 51, 52, 52, 52, 52],
    6: [1, 32, 122, 187, 202, 203, 203, 203],
    7: [1, 64, 365, 715, 855, 876, 877, 877],
    8: [1, 128, 1094, 2795, 3845, 4111, 4139, 4140],
}


@pytest.mark.parametrize("m", sorted(RESTRICTED_BELL))
def test_math_md_restricted_bell_table(m):
    for n, expected in enumerate(RESTRICTED_BELL[m], start=1):
        for k in range(m + 1):
            assert group("S", n).dimension(k, m - k) == expected, (m, n, k)
        assert symmetric_group_orbits(m, n) == expected
        # "via counts": the partitions with at most n blocks, counted by hand from the enumeration
        assert sum(1 for p in set_partitions(m) if len(p) <= n) == expected
    assert len(group("S").spanning_set(m // 2, m - m // 2)) == RESTRICTED_BELL[m][-1]


def test_math_md_k2_l2_facts():
    """k = l = 2: 15 for n >= 4; 14 for n = 3; 8 for n = 2; 1 for n = 1; all 15 D_π always span."""
    for n, expected in [(1, 1), (2, 8), (3, 14), (4, 15), (5, 15)]:
        G = group("S", n)
        assert G.dimension(2, 2) == expected
        assert matrix_rank([G.matrix(d) for d in G.spanning_set(2, 2)]) == expected


#: math.md §b.3: O(n) dimensions by m = k + l, for n = 1, 2, ...; the last value holds for larger n
ORTHOGONAL = {4: [1, 3], 6: [1, 10, 15], 8: [1, 35, 91, 105]}


@pytest.mark.parametrize("m", sorted(ORTHOGONAL))
def test_math_md_orthogonal_table(m):
    values = ORTHOGONAL[m]
    for n in range(1, 7):
        expected = values[min(n, len(values)) - 1]
        for k in range(m + 1):
            assert group("O", n).dimension(k, m - k) == expected, (m, n, k)
    assert group("O").spanning_count(m // 2, m // 2) == _double_factorial(m - 1)


@pytest.mark.parametrize("m, n", [(4, 1), (4, 2), (6, 1), (6, 2), (6, 3), (8, 1), (8, 2), (8, 3), (8, 4)])
def test_orthogonal_rank_and_independence_threshold(m, n):
    """rank(E_β) equals the table, and the E_β are independent iff n >= m/2 (math.md §a.5)."""
    G = group("O", n)
    k = m // 2
    mats = [G.matrix(d) for d in G.spanning_set(k, m - k)]
    rank = matrix_rank(mats)
    assert rank == G.dimension(k, m - k)
    assert (rank == len(mats)) == (2 * n >= m)
    basis = G.basis(k, m - k)
    assert matrix_rank([G.matrix(d) for d in basis]) == len(basis) == rank


def test_orthogonal_basis_for_k_plus_l_10():
    G = group("O", 2)
    basis = G.basis(5, 5)
    assert len(basis) == G.dimension(5, 5) == 126
    assert matrix_rank([G.matrix(d) for d in basis]) == 126


# -- the orbit basis X_π ------------------------------------------------------------------------
def _coarsenings(blocks: list[list[int]]):
    """Every θ ≥ π: merge the blocks of π along a set partition of the blocks."""
    t = len(blocks)
    for grouping in _partitions_of(list(range(t))):
        yield [sorted(v for i in part for v in blocks[i]) for part in grouping]


def _partitions_of(items: list[int]):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for sub in _partitions_of(rest):
        yield [[first], *sub]
        for i in range(len(sub)):
            yield sub[:i] + [[first, *sub[i]]] + sub[i + 1:]


@pytest.mark.parametrize("seed", range(12))
def test_diagram_basis_is_sum_of_orbit_basis(seed):
    rng = np.random.default_rng(seed)
    k, l = int(rng.integers(0, 3)), int(rng.integers(0, 4))
    blocks = random_blocks(rng, k + l)
    d = Diagram.from_blocks(blocks, k=k, l=l)
    for n in (1, 2, 3, 4):
        G = group("S", n)
        X = G.orbit_matrix(d)
        assert np.array_equal(X, brute_partition_matrix(d.blocks, k, l, n, distinct=True))
        assert (not X.any()) == (d.num_blocks > n)
        total = sum(brute_partition_matrix(theta, k, l, n, distinct=True)
                    for theta in _coarsenings([list(b) for b in d.blocks]))
        assert np.array_equal(G.matrix(d), total)
        assert np.array_equal(brute_partition_matrix(d.blocks, k, l, n), total)


@pytest.mark.parametrize("k, l, n", [(1, 1, 2), (2, 1, 3), (2, 2, 2), (0, 3, 3)])
def test_orbit_basis_partitions_the_entries(k, l, n):
    G = group("S", n)
    orbit = [G.orbit_matrix(d) for d in G.spanning_set(k, l)]
    assert np.array_equal(sum(orbit), np.ones((n**l, n**k), dtype=np.int64))
    nonzero = [x for x in orbit if x.any()]
    assert len(nonzero) == G.dimension(k, l) == matrix_rank(nonzero)


# -- Maron et al.'s 15 operations (math.md §a.4) ------------------------------------------------
def _diag(v):
    return np.diag(v)


MARON = {  # op number: (function of X, π with t1=1, t2=2, b1=3, b2=4)
    1: (lambda X: _diag(np.diag(X)), [[1, 2, 3, 4]]),
    2: (lambda X: np.trace(X) * np.eye(len(X)), [[1, 2], [3, 4]]),
    3: (lambda X: _diag(X.sum(axis=1)), [[1, 2, 3], [4]]),
    4: (lambda X: _diag(X.sum(axis=0)), [[1, 2, 4], [3]]),
    5: (lambda X: X.sum() * np.eye(len(X)), [[1, 2], [3], [4]]),
    6: (lambda X: np.tile(X.sum(axis=0)[:, None], (1, len(X))), [[1, 4], [2], [3]]),
    7: (lambda X: np.tile(X.sum(axis=1)[:, None], (1, len(X))), [[1, 3], [2], [4]]),
    8: (lambda X: np.tile(X.sum(axis=0)[None, :], (len(X), 1)), [[1], [2, 4], [3]]),
    9: (lambda X: np.tile(X.sum(axis=1)[None, :], (len(X), 1)), [[1], [2, 3], [4]]),
    10: (lambda X: X.copy(), [[1, 3], [2, 4]]),
    11: (lambda X: X.T.copy(), [[1, 4], [2, 3]]),
    12: (lambda X: np.tile(np.diag(X)[:, None], (1, len(X))), [[1, 3, 4], [2]]),
    13: (lambda X: np.tile(np.diag(X)[None, :], (len(X), 1)), [[1], [2, 3, 4]]),
    14: (lambda X: np.trace(X) * np.ones_like(X), [[1], [2], [3, 4]]),
    15: (lambda X: X.sum() * np.ones_like(X), [[1], [2], [3], [4]]),
}


@pytest.mark.parametrize("op", sorted(MARON))
def test_maron_ops_are_diagrams(op):
    fn, blocks = MARON[op]
    n = 4
    G = group("S", n)
    d = Diagram.from_blocks(blocks, k=2, l=2)
    X = np.random.default_rng(op).standard_normal((n, n))
    assert np.allclose(fn(X).reshape(-1), G.matrix(d) @ X.reshape(-1))


def test_maron_ops_are_the_whole_spanning_set():
    diagrams = {Diagram.from_blocks(b, k=2, l=2) for _, b in MARON.values()}
    assert diagrams == set(group("S").spanning_set(2, 2))


# -- sizes, names, errors -----------------------------------------------------------------------
def test_n_none_where_independent_of_n():
    G = group("S")
    assert G.n is None and len(G.spanning_set(2, 2)) == 15
    assert len(group("O").spanning_set(2, 2)) == 3
    for what, call in [("dimension", lambda: G.dimension(2, 2)), ("basis", lambda: G.basis(2, 2)),
                       ("matrix", lambda: G.matrix(swap())), ("sample", lambda: G.sample(0))]:
        with pytest.raises(GroupError) as err:
            call()
        assert str(err.value) == messages.NEEDS_N.format(what=what, group="S")


@pytest.mark.parametrize("name, expected", [
    ("S", ("S", None)), ("S_n", ("S", None)), ("s", ("S", None)), ("symmetric", ("S", None)),
    ("Sym", ("S", None)), ("O", ("O", None)), ("O(n)", ("O", None)), ("O(3)", ("O", 3)),
    ("O_3", ("O", 3)), ("O3", ("O", 3)), ("orthogonal", ("O", None)), (" S_n ", ("S", None)),
])
def test_group_names(name, expected):
    G = group(name)
    assert (G.name, G.n) == expected
    assert catnn.group(name) == G and hash(catnn.group(name)) == hash(G)
    assert group(G) is G


def test_group_equality_and_printing():
    assert group("S", 3) == group("S_n", n=3) != group("S", 4)
    assert group("S", 3) != group("O", 3)
    assert repr(group("O", 3)) == "catnn.group('O', n=3)" and str(group("O", 3)) == "O(3)"
    assert repr(group("S")) == "catnn.group('S')" and str(group("S")) == "S(n)"
    assert group("S", 3).form is None and group("O", 3).form is None
    assert group("O", 3).loop == catnn.Poly.n()
    assert group("S", 2).is_permutation_group and not group("O", 2).is_permutation_group


@pytest.mark.parametrize("name", ["Q", "S(", "", "GL", "S_m", "3"])
def test_unknown_group(name):
    with pytest.raises(GroupError) as err:
        group(name, 3)
    known = ", ".join(sorted({c.name for c in REGISTRY.values()}))
    assert str(err.value) == messages.UNKNOWN_GROUP.format(name=name, known=known)
    assert isinstance(err.value, CatnnError)


@pytest.mark.parametrize("name", ["S", "O"])
@pytest.mark.parametrize("n", [0, -1, 2.5, True, "3"])
def test_bad_size(name, n):
    with pytest.raises(GroupError) as err:
        group(name, n)
    assert str(err.value) == messages.BAD_SIZE.format(group=name, condition="an integer n >= 1", n=n)


def test_size_in_name_must_agree():
    with pytest.raises(GroupError) as err:
        group("O(3)", n=4)
    assert str(err.value) == messages.BAD_SIZE.format(group="O", condition="n=3", n=4)
    assert group("O(3)", n=3).n == 3


@pytest.mark.parametrize("k, l", [(-1, 2), (2, -1), (1.5, 1), (True, 1)])
def test_bad_arity(k, l):
    bad = k if not (isinstance(k, int) and not isinstance(k, bool) and k >= 0) else l
    for G in (group("S", 3), group("O", 3)):
        with pytest.raises(GroupError) as err:
            G.spanning_set(k, l)
        assert str(err.value) == messages.NEGATIVE_ARITY.format(value=bad)


def test_non_pairing_lifted_into_orthogonal():
    G = group("O", 3)
    for d, block in [(merge(), "{1, 1', 2'}"), (split(), "{1, 2, 1'}"),
                     (Diagram.from_blocks([[1], [2]], k=1, l=1), "{1}")]:
        with pytest.raises(GroupError) as err:
            G.lift(d)
        size = block.count(",") + 1
        assert str(err.value) == messages.NOT_PAIRING.format(group="O", block=block, size=size)
        with pytest.raises(GroupError):
            G.matrix(d)
        with pytest.raises(GroupError):
            G.lift(swap() + d if d.k == d.l == 2 else d)
    with pytest.raises(CatnnError):
        G.lift("cup")
    assert G.compose(cup(), cap()) == catnn.Poly.n() * identity(0)
    assert group("S", 3).lift(merge()) == merge()


def test_matrix_of_morphisms_is_exact():
    G = group("S", 3)
    m = (identity(2) + swap()) / 2
    M = G.matrix(m)
    assert M.dtype == object and M[1, 3] == Fraction(1, 2) and M[0, 0] == 1
    assert np.array_equal(G.matrix(2 * swap()), 2 * G.matrix(swap()))
    assert G.matrix(2 * swap()).dtype == np.int64


#: seconds past which a step counts as hung (a guard, not a timing: benchmarks time things)
HANG_GUARD = 60.0


# -- scale --------------------------------------------------------------------------------------
def test_spanning_set_k_plus_l_8_is_enumerated_without_hanging():
    """Counts and distinctness; the speed itself is measured by benchmarks/bench_build.py.

    The wall-clock bound is a hang guard only (generous, so a loaded CI machine cannot trip it).
    """
    _cached_spanning.cache_clear()
    start = time.perf_counter()
    spanning = group("S").spanning_set(4, 4)
    assert len(spanning) == 4140 and len(set(spanning)) == 4140
    assert len(group("O").spanning_set(4, 4)) == 105
    assert len(group("O").spanning_set(5, 5)) == 945
    assert time.perf_counter() - start < HANG_GUARD


def _bell(m: int) -> int:
    return sum(1 for _ in set_partitions(m)) if m < 6 else bell_triangle(m)


def test_limit_error_instead_of_hanging():
    m = next(m for m in range(1, 40) if bell_triangle(m) > MAX_SPANNING)
    start = time.perf_counter()
    with pytest.raises(LimitError) as err:
        group("S").spanning_set(m // 2, m - m // 2)
    assert str(err.value) == messages.TOO_LARGE.format(
        what=f"the S spanning set for {m // 2} -> {m - m // 2}", count=bell_triangle(m),
        limit=MAX_SPANNING, m=m)
    m_o = next(m for m in range(2, 40, 2) if _double_factorial(m - 1) > MAX_SPANNING)
    with pytest.raises(LimitError):
        group("O", 3).spanning_set(m_o // 2, m_o // 2)
    for G in (group("S", 4), group("O", 4)):
        with pytest.raises(LimitError) as err:
            G.spanning_set(500, 500)
        assert "has about 10^" in str(err.value) and len(str(err.value)) < 200
    assert time.perf_counter() - start < HANG_GUARD
    with pytest.raises(LimitError):
        group("O", 2).basis(6, 6)


def test_numpy_integers_as_sizes_and_arities():
    G = group("S", np.int64(3))
    assert G == group("S", 3) and type(G.n) is int
    assert G.dimension(np.int64(2), np.int64(2)) == 14
    assert len(G.spanning_set(np.int64(1), 1)) == 2


def test_dense_matrix_limit():
    from catnn.groups.base import MAX_DENSE
    n = 10
    m = next(m for m in range(1, 30) if n**m > MAX_DENSE)
    with pytest.raises(LimitError) as err:
        group("S", n).matrix(identity(m // 2) @ Diagram.from_blocks([[v] for v in range(1, m % 2 + 1)],
                                                                    k=m % 2, l=0))
    assert "over the limit" in str(err.value)
