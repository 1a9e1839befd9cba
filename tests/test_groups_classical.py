"""SO(n), Sp(n), A_n, H_n and B_n against independent oracles (math.md §a.6–a.8, §a.10, §b).

For every group, n <= 6 where defined and k + l <= 6 with n^(k+l) <= 4096:
rank(spanning set) == dimension() == the commutant dimension from tests/oracles.py (null space over
group elements and a Lie-algebra basis, no diagrams); the basis is independent; every spanning
matrix commutes with sample(); functoriality is exact on random compositions. The fast tier takes
one (k, l) per k + l and n^(k+l) <= 1024; ``-m slow`` runs every (k, l) up to 4096.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import oracles
import oracles_groups  # noqa: F401  (registers the SO, Sp, A, H, B generators)
from catnn.coeff import Poly
from catnn.dense import partition_matrix
from catnn.diagram import Diagram, cap, cup, identity, swap
from catnn.errors import DiagramError, GroupError
from catnn.groups import group
from catnn.groups.alternating import Jellyfish
from catnn.groups.symplectic import factor, factor_sign, normal_order, symplectic_form, transpose_sign
from catnn.levi_civita import EpsilonDiagram
from catnn.morphism import Morphism

SIZES = {"SO": range(1, 7), "Sp": (2, 4, 6), "A": range(1, 7), "H": range(1, 7), "B": range(1, 7)}


def _cases(limit: int, all_pairs: bool):
    for name, sizes in SIZES.items():
        for n in sizes:
            for m in range(7):
                if n**m > limit:
                    continue
                pairs = [(k, m - k) for k in range(m + 1)] if all_pairs else [(m // 2, m - m // 2)]
                for k, l in pairs:
                    yield pytest.param(name, n, k, l, id=f"{name}{n}-{k}to{l}")


FAST = list(_cases(1024, all_pairs=False))
SLOW = [c for c in _cases(4096, all_pairs=True) if c not in FAST]


def _check_group(name: str, n: int, k: int, l: int) -> None:
    G = group(name, n=n)
    spanning = G.spanning_set(k, l)
    assert len(spanning) == G.spanning_count(k, l)
    assert all(G.accepts(d) for d in spanning)
    elements, lie = oracles.group_generators(name, n)
    truth = oracles.commutant_dimension(k, l, n, elements, lie)
    matrices = [G.matrix(d) for d in spanning]
    assert oracles.matrix_rank(matrices) == G.dimension(k, l) == truth
    basis = G.basis(k, l)
    assert len(basis) == truth == oracles.matrix_rank([G.matrix(d) for d in basis])
    assert set(basis) <= set(spanning)
    rng = np.random.default_rng(n * 100 + k * 10 + l)
    for _ in range(2):
        g = G.sample(rng)
        # rounding grows with the conditioning of g (Sp samples are not orthogonal) and with k + l
        tol = max(1e-9, 1e-12 * np.linalg.cond(g) ** (k + l))
        for W in matrices:
            np.testing.assert_allclose(oracles.conjugate(W, g, k, l), W, atol=tol)


@pytest.mark.parametrize("name, n, k, l", FAST)
def test_rank_dimension_oracle_basis_equivariance(name, n, k, l):
    _check_group(name, n, k, l)


@pytest.mark.slow
@pytest.mark.parametrize("name, n, k, l", SLOW)
def test_rank_dimension_oracle_basis_equivariance_all_pairs(name, n, k, l):
    _check_group(name, n, k, l)


# -- samples are group elements ---------------------------------------------------------------
@pytest.mark.parametrize("n", range(1, 7))
def test_samples_lie_in_their_groups(n):
    rng = np.random.default_rng(n)
    for _ in range(3):
        g = group("SO", n=n).sample(rng)
        np.testing.assert_allclose(g.T @ g, np.eye(n), atol=1e-10)
        assert np.linalg.det(g) == pytest.approx(1.0)
        h = group("H", n=n).sample(rng)
        assert np.array_equal(np.abs(h).sum(axis=0), np.ones(n)) and np.array_equal(h.T @ h, np.eye(n))
        b = group("B", n=n).sample(rng)
        np.testing.assert_allclose(b.T @ b, np.eye(n), atol=1e-10)
        np.testing.assert_allclose(b @ np.ones(n), np.ones(n), atol=1e-10)
        if n % 2 == 0:
            Sp = group("Sp", n=n)
            s = Sp.sample(rng)
            np.testing.assert_allclose(s.T @ Sp.form @ s, Sp.form, atol=1e-9)
            assert not np.allclose(s.T @ s, np.eye(n))        # genuinely non-orthogonal elements
        if n >= 2:
            a = group("A", n=n).sample(rng)
            assert round(np.linalg.det(a)) == 1 and np.array_equal(np.abs(a), a)


def test_orthogonal_matrices_are_not_symplectic_equivariant():
    """The O(n) image of a cap (the trace) is not Sp-equivariant: the oracle test can fail."""
    for n in (2, 4):
        g = group("Sp", n=n).sample(np.random.default_rng(n))
        W = group("O", n=n).matrix(cap())
        assert np.abs(oracles.conjugate(W, g, 2, 0) - W).max() > 1e-3
        W = group("Sp", n=n).matrix(cap())
        np.testing.assert_allclose(oracles.conjugate(W, g, 2, 0), W, atol=1e-10)


def test_bistochastic_samples_leave_the_permutations():
    b = group("B", n=4).sample(np.random.default_rng(0))
    assert not np.allclose(np.abs(b), np.round(np.abs(b)))


# -- the extra diagrams are not equivariant for the bigger group -------------------------------
@pytest.mark.parametrize("n, k, l", [(2, 1, 1), (2, 2, 2), (3, 1, 2), (3, 2, 3), (4, 2, 2), (4, 1, 3),
                                     (5, 2, 3)])
def test_epsilon_diagrams_flip_sign_under_a_reflection(n, k, l):
    G = group("SO", n=n)
    reflection = np.diag([-1.0] + [1.0] * (n - 1))
    eps = [d for d in G.spanning_set(k, l) if isinstance(d, EpsilonDiagram)]
    assert eps
    for d in eps:
        W = G.matrix(d)
        assert np.abs(W).sum() > 0
        np.testing.assert_allclose(oracles.conjugate(W, reflection, k, l), -W)          # det(reflection) = -1
        rotation = G.sample(np.random.default_rng(1))
        np.testing.assert_allclose(oracles.conjugate(W, rotation, k, l), W, atol=1e-8)
    for d in G.spanning_set(k, l):
        if isinstance(d, Diagram):
            np.testing.assert_allclose(oracles.conjugate(G.matrix(d), reflection, k, l), G.matrix(d))


@pytest.mark.parametrize("n, k, l", [(2, 1, 1), (3, 1, 1), (3, 2, 1), (4, 2, 2), (5, 2, 3)])
def test_jellyfish_are_alternating_but_not_symmetric(n, k, l):
    G = group("A", n=n)
    odd = np.eye(n)[:, [1, 0] + list(range(2, n))]
    even = G.sample(np.random.default_rng(3))
    jellies = [d for d in G.spanning_set(k, l) if isinstance(d, Jellyfish)]
    assert jellies
    for d in jellies:
        W = G.matrix(d)
        assert np.array_equal(oracles.conjugate(W, odd, k, l), -W)
        assert np.array_equal(oracles.conjugate(W, even, k, l), W)
        assert np.array_equal(G.matrix(d.T), W.T)              # the signed flip is the transpose


# -- dimension tables of math.md §b ------------------------------------------------------------
SO_TABLE = {  # math.md §a.7: m -> dims for SO(2) .. SO(6) ("n/c" left out)
    2: [2, 1, 1, 1, 1], 3: [0, 1, 0, 0, 0], 4: [6, 3, 4, 3, 3], 5: [0, 6, 0, 1, 0],
    6: [20, 15, 25, 15, 16], 7: [0, 36, 0, 15, 0], 8: [70, 91, 196, 105, None],
}
SO_SPLIT = {(2, 2): (1, 1), (4, 2): (3, 6), (4, 4): (3, 1), (6, 2): (15, 45), (6, 4): (15, 15),
            (6, 6): (15, 1),
            (8, 2): (105, 420), (8, 4): (105, 210), (3, 3): (0, 1), (5, 3): (0, 10), (5, 5): (0, 1),
            (7, 3): (0, 105), (7, 5): (0, 21)}
A_TABLE = {  # math.md §b.2: m -> dims for A_2 .. A_8
    2: [4, 3, 2, 2, 2, 2, 2], 3: [8, 9, 6, 5, 5, 5, 5], 4: [16, 27, 22, 16, 15, 15, 15],
    5: [32, 81, 86, 63, 53, 52, 52], 6: [64, 243, 342, 282, 219, 204, 203],
}
SP_TABLE = {(4, 2): 2, (4, 4): 3, (6, 2): 5, (6, 4): 14, (6, 6): 15, (8, 2): 14, (8, 4): 84}


def test_so_table():
    for m, row in SO_TABLE.items():
        for n, value in zip(range(2, 7), row):
            if value is not None:
                assert group("SO", n=n).dimension(0, m) == value, (m, n)
    for (m, n), (brauer, eps) in SO_SPLIT.items():
        G = group("SO", n=n)
        spanning = G.spanning_set(m // 2, m - m // 2)
        assert sum(isinstance(d, Diagram) for d in spanning) == brauer
        assert sum(isinstance(d, EpsilonDiagram) for d in spanning) == eps
        assert len(spanning) == brauer + eps == math.comb(m, n) * _dfact(m - n - 1) * ((m - n) % 2 == 0) + (
            _dfact(m - 1) if m % 2 == 0 else 0)
    assert [group("SO", n=2).dimension(2, 2), group("SO", n=3).dimension(2, 2),
            group("SO", n=4).dimension(2, 2), group("SO", n=5).dimension(2, 2)] == [6, 3, 4, 3]
    assert [group("SO", n=n).dimension(1, 1) for n in (2, 3, 4)] == [2, 1, 1]


def _dfact(m: int) -> int:
    return math.prod(range(m, 0, -2)) if m > 0 else 1


def test_so_table_rank_up_to_eight_vertices_small():
    """The m = 7, 8 rows by the rank of the actual spanning matrices (n^m <= 2187)."""
    for m, n in [(7, 3), (8, 2), (8, 3)]:
        G = group("SO", n=n)
        k = m // 2
        assert oracles.matrix_rank([G.matrix(d) for d in G.spanning_set(k, m - k)]) == SO_TABLE[m][n - 2]


@pytest.mark.slow
def test_so_table_rank_eight_vertices_n4():
    G = group("SO", n=4)
    assert oracles.matrix_rank([G.matrix(d) for d in G.spanning_set(4, 4)]) == 196 == len(G.basis(4, 4))
    assert group("SO", n=5).dimension(3, 4) == oracles.matrix_rank(
        [group("SO", n=5).matrix(d) for d in group("SO", n=5).spanning_set(3, 4)]) == 15


def test_alternating_table_and_burnside():
    for m, row in A_TABLE.items():
        for n, value in zip(range(2, 9), row):
            assert group("A", n=n).dimension(0, m) == value, (m, n)
    for n in range(2, 7):
        perms = oracles_groups.alternating_elements(n)
        for m in range(7):
            assert group("A", n=n).dimension(m // 2, m - m // 2) == oracles.burnside_orbits(perms, m, n)


def test_symplectic_table():
    for (m, n), value in SP_TABLE.items():
        assert group("Sp", n=n).dimension(m // 2, m - m // 2) == value
    assert [group("Sp", n=2).dimension(0, m) for m in range(0, 12, 2)] == [1, 1, 2, 5, 14, 42]   # Catalan
    for m, n in [(8, 2), (6, 4)]:
        G = group("Sp", n=n)
        assert len(G.basis(m // 2, m - m // 2)) == SP_TABLE[(m, n)]


def test_hyperoctahedral_values_and_character_average():
    H3 = group("H", n=3)
    assert [H3.dimension(1, 1), H3.dimension(2, 2), H3.dimension(3, 1), H3.dimension(3, 3)] == [1, 4, 4, 31]
    for n in range(1, 5):
        elements = oracles_groups.all_signed_permutations(n)
        for m in range(7):
            assert group("H", n=n).dimension(0, m) == oracles_groups.signed_orbit_dimension(elements, m)


def test_bistochastic_is_o_n_minus_one_plus_trivial():
    # B_2 = S_2 (1^⊥ is a line and -1 on it is the swap); B_1 is trivial
    for m in range(7):
        assert group("B", n=2).dimension(0, m) == group("S", n=2).dimension(0, m)
        assert group("B", n=1).dimension(0, m) == 1
    assert group("B", n=3).dimension(1, 1) == 2 and group("B", n=5).dimension(2, 2) == 10


# -- exact functoriality -----------------------------------------------------------------------
def _random_so_diagram(rng, k, l, n):
    m = k + l
    options = []
    if m % 2 == 0:
        options.append("brauer")
    if m >= n and (m - n) % 2 == 0:
        options.append("eps")
    kind = options[int(rng.integers(len(options)))]
    if kind == "brauer":
        return oracles.random_diagram(rng, k, l, brauer=True)
    order = (rng.permutation(m) + 1).tolist()
    free, rest = order[:n], order[n:]
    return EpsilonDiagram(free, [rest[i:i + 2] for i in range(0, len(rest), 2)], k, l)


def _arity_chain(rng, n, length=3):
    """k0 -> k1 -> ... where each step admits a Brauer or an ε-diagram."""
    while True:
        ks = [int(x) for x in rng.integers(0, 5, size=length)]
        if all((a + b) % 2 == 0 or (a + b >= n and (a + b - n) % 2 == 0) for a, b in zip(ks, ks[1:])):
            return ks


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_so_functoriality_exact(n):
    G = group("SO", n=n)
    rng = np.random.default_rng(10 + n)
    for _ in range(40):
        a, b, c = _arity_chain(rng, n)
        f, g = _random_so_diagram(rng, a, b, n), _random_so_diagram(rng, b, c, n)
        composed = G.compose(f, g)
        assert all(G.accepts(d) for d in composed.diagrams)
        assert np.array_equal(G.matrix(composed), G.matrix(g) @ G.matrix(f))
        tensor = G.lift(f) @ G.lift(g)
        assert all(G.accepts(d) for d in tensor.diagrams)
        if n ** (a + 2 * b + c) <= 2**16:
            assert np.array_equal(G.matrix(tensor), np.kron(G.matrix(f), G.matrix(g)))
        assert np.array_equal(G.matrix(G.lift(f).T), G.matrix(f).T)


@pytest.mark.parametrize("n", [2, 4, 6])
def test_sp_functoriality_exact(n):
    G = group("Sp", n=n)
    rng = np.random.default_rng(20 + n)
    done = 0
    while done < 40:
        a, b, c = (int(x) for x in rng.integers(0, 5, size=3))
        if (a + b) % 2 or (b + c) % 2 or n ** max(a + b, b + c, a + c) > 4096:
            continue
        f = oracles.random_diagram(rng, a, b, brauer=True)
        g = oracles.random_diagram(rng, b, c, brauer=True)
        assert np.array_equal(G.matrix(G.compose(f, g)), G.matrix(g) @ G.matrix(f))
        if n ** (a + 2 * b + c) <= 2**16:
            assert np.array_equal(G.matrix(G.lift(f) @ G.lift(g)), np.kron(G.matrix(f), G.matrix(g)))
        # no functor for Sp preserves transposes (J is antisymmetric): each same-row pair flips the sign
        same_row = sum(1 for x, y in f.blocks if f.is_top(x) == f.is_top(y))
        assert np.array_equal(G.matrix(f.T), (-1) ** same_row * G.matrix(f).T)
        assert transpose_sign(f) == (-1) ** same_row
        done += 1


@pytest.mark.parametrize("name, n", [("H", 2), ("H", 3), ("B", 2), ("B", 3), ("A", 3)])
def test_filtered_functoriality_exact(name, n):
    G = group(name, n=n)
    rng = np.random.default_rng(30 + n)
    for _ in range(30):
        a, b, c = (int(x) for x in rng.integers(0, 4, size=3))
        f_options = [d for d in G.spanning_set(a, b) if isinstance(d, Diagram)]
        g_options = [d for d in G.spanning_set(b, c) if isinstance(d, Diagram)]
        if not f_options or not g_options:
            continue
        f = f_options[int(rng.integers(len(f_options)))]
        g = g_options[int(rng.integers(len(g_options)))]
        composed = G.compose(f, g)
        assert all(G.accepts(d) for d in composed.diagrams)                # the category is closed
        assert np.array_equal(G.matrix(composed), G.matrix(g) @ G.matrix(f))
        assert np.array_equal(G.matrix(f @ g), np.kron(G.matrix(f), G.matrix(g)))


# -- Sp specifics ------------------------------------------------------------------------------
def test_sp_generators_and_loop():
    G = group("Sp", n=4)
    J = symplectic_form(4)
    assert np.array_equal(G.form, J) and G.loop == -Poly.n()
    assert np.array_equal(G.matrix(swap()), -partition_matrix(swap(), 4))               # crossing -> -swap
    assert np.array_equal(G.matrix(cap()).reshape(4, 4), J)                              # 2 -> 0: the form
    assert np.array_equal(G.matrix(cup()).reshape(4, 4), J.T)                            # 0 -> 2: vec(Jᵀ)
    assert G.compose(cup(), cap()).coefficient(Diagram([], 0, 0)) == -Poly.n()
    snake = G.compose(cup() @ identity(1), identity(1) @ cap())
    assert snake == G.lift(identity(1))
    assert np.array_equal(G.matrix(snake), np.eye(4, dtype=np.int64))
    with pytest.raises(GroupError, match="loops are worth -n"):
        G.matrix(cup() >> cap())                          # built in B(n): the loop was valued n
    assert np.array_equal(G.matrix((identity(2) + swap()) / 2), G.matrix(G.lift((identity(2) + swap()) / 2)))


def test_sp_rejects_odd_sizes_and_partitions():
    with pytest.raises(GroupError):
        group("Sp", n=3)
    with pytest.raises(GroupError, match="pair vertices two by two"):
        group("Sp", n=2).lift(Diagram([[1, 2, 3]], 1, 2))


def _planar_orders(rng, d):
    """Random planar-making orders: shuffle the pairs as blocks and flip pair orientations."""
    sigma_out, sigma_in = normal_order(d)
    t = sum(1 for b in d.blocks if b[1] <= d.l)
    top = [sigma_out[2 * i: 2 * i + 2] for i in range(t)]
    top = [p[::-1] if rng.integers(2) else p for p in (top[i] for i in rng.permutation(t))]
    s = len(sigma_in) - 2 * sum(1 for b in d.blocks if b[0] > d.l)
    bottom = [sigma_in[s + 2 * i: s + 2 * i + 2] for i in range((len(sigma_in) - s) // 2)]
    bottom = [p[::-1] if rng.integers(2) else p for p in (bottom[i] for i in rng.permutation(len(bottom)))]
    return [v for p in top for v in p] + sigma_out[2 * t:], sigma_in[:s] + [v for p in bottom for v in p]


@pytest.mark.parametrize("n", [2, 4])
def test_sp_factor_sign_rule(n):
    G = group("Sp", n=n)
    rng = np.random.default_rng(40 + n)
    for _ in range(60):
        k, l = (int(x) for x in rng.integers(0, 5, size=2))
        if (k + l) % 2 or n ** (k + l) > 4096:
            continue
        d = oracles.random_diagram(rng, k, l, brauer=True)
        planar_orders = _planar_orders(rng, d)
        arbitrary = ([int(x) for x in rng.permutation(l)], [int(x) for x in rng.permutation(k)])
        for sigma_out, sigma_in in (normal_order(d), planar_orders, arbitrary):
            f = factor(d, sigma_out, sigma_in)
            assert f.sign == factor_sign(d, sigma_out, sigma_in)
            p_in = Diagram.permutation(list(sigma_in))
            p_out = Diagram.permutation([int(i) for i in np.argsort(sigma_out)])
            assert (p_in >> f.planar >> p_out) == d                               # as partition diagrams
            dense = partition_matrix(p_out, n) @ G.matrix(f.planar) @ partition_matrix(p_in, n)
            assert np.array_equal(G.matrix(d), f.sign * dense)
        assert factor(d, *planar_orders).planar.is_planar()
    # the naive rule (no sign) really is wrong: reversing one input pair's ends flips the matrix
    d = Diagram([[1, 2]], 2, 0)
    f = factor(d, [], [1, 0])
    assert f.sign == -1 and f.planar == d
    assert np.array_equal(G.matrix(f.planar) @ partition_matrix(swap(), n), -G.matrix(d))


# -- SO and A specifics ------------------------------------------------------------------------
def test_so_eps_generator():
    G = group("SO", n=3)
    e = G.generator("eps")
    assert isinstance(e, EpsilonDiagram) and (e.k, e.l) == (0, 3)
    assert G.generator("eps", (1, 2)) == EpsilonDiagram([1, 2, 3], [], 1, 2)
    assert "eps" in G.generator_names() and "eps" not in group("O", n=3).generator_names()
    assert G.generator("swap") == swap()
    with pytest.raises(GroupError, match="k \\+ l = n = 3"):
        G.generator("eps", (1, 1))
    with pytest.raises(GroupError, match="give the group a size"):
        group("SO").generator("eps")
    assert np.array_equal(G.matrix(e).reshape(3, 3, 3), oracles_levi_civita(3))


def oracles_levi_civita(n: int) -> np.ndarray:
    out = np.zeros((n,) * n, dtype=np.int64)
    for perm in itertools.permutations(range(n)):
        inversions = sum(1 for i in range(n) for j in range(i + 1, n) if perm[i] > perm[j])
        out[perm] = (-1) ** inversions
    return out


def test_so_lift_rejects_wrong_orders():
    with pytest.raises(GroupError, match="ε-diagrams with 3 free vertices"):
        group("SO", n=3).lift(EpsilonDiagram([1, 2], [], 0, 2))
    with pytest.raises(GroupError, match="pair vertices two by two"):
        group("SO", n=3).lift(Diagram([[1, 2, 3]], 0, 3))
    assert group("SO").accepts(EpsilonDiagram([1, 2], [], 0, 2))           # any order without n


def test_alternating_jellyfish_algebra_needs_n():
    """A jellyfish without its n (t blocks fit A_t and A_(t+1)) is refused clearly in algebra."""
    j = Jellyfish.from_blocks([[1], [2]], k=1, l=1)
    with pytest.raises(DiagramError, match="composition of A_n jellyfish needs their n"):
        j >> identity(1)
    with pytest.raises(DiagramError, match="composition of A_n jellyfish needs their n"):
        identity(1) >> j
    with pytest.raises(DiagramError, match="tensor product of A_n jellyfish needs their n"):
        identity(1) @ j
    with pytest.raises(GroupError, match="n-1 or n blocks"):
        group("A", n=4).lift(j)
    assert str(j) == "jelly[{1} {1'}]" and j == Jellyfish(Diagram([[2], [1]], 1, 1)) and len({j, j}) == 1
    assert isinstance(j.T, Morphism) and str(j.T) == "-jelly[{1} {1'}]"


def test_group_names_and_errors():
    assert [group(x).name for x in ("SO(3)", "Sp(4)", "A_5", "H(2)", "B", "bistochastic")] == \
        ["SO", "Sp", "A", "H", "B", "B"]
    with pytest.raises(GroupError, match="give the group a size"):
        group("SO").spanning_set(2, 2)
    with pytest.raises(GroupError, match="blocks of even size"):
        group("H", n=3).lift(Diagram([[1], [2]], 1, 1))
    with pytest.raises(GroupError, match="blocks of size 1 or 2"):
        group("B", n=3).lift(Diagram([[1, 2, 3]], 1, 2))
    assert group("B", n=3).lift(Diagram([[1], [2]], 1, 1)).k == 1


# -- exact Gram matrices (used for bases when the dense route is too big) -----------------------
@pytest.mark.parametrize("name, n, k, l", [("SO", 2, 3, 3), ("SO", 3, 2, 3), ("SO", 2, 2, 4), ("SO", 4, 3, 3),
                                           ("Sp", 2, 3, 3), ("Sp", 4, 2, 4), ("Sp", 2, 4, 4), ("B", 2, 3, 3)])
def test_combinatorial_gram_matches_dense(name, n, k, l):
    from catnn.groups.special_orthogonal import epsilon_gram
    from catnn.groups.symplectic import symplectic_gram, symplectic_gram_matrix
    G = group(name, n=n)
    spanning = [d for d in G.spanning_set(k, l) if name != "SO" or isinstance(d, EpsilonDiagram)]
    dense = np.stack([G.matrix(d).ravel() for d in spanning])
    truth = dense @ dense.T
    if name == "SO":
        assert np.array_equal(np.array([[epsilon_gram(a, b, n) for b in spanning] for a in spanning]), truth)
    if name == "Sp":
        pairwise = [[symplectic_gram(a, b, n) for b in spanning] for a in spanning]
        assert np.array_equal(np.array(pairwise), truth)
        assert np.array_equal(symplectic_gram_matrix(spanning, n), truth)


@pytest.mark.parametrize("name, n, k, l", [("SO", 2, 3, 3), ("SO", 3, 3, 4), ("Sp", 2, 4, 4), ("Sp", 4, 3, 3),
                                           ("B", 2, 3, 3), ("B", 3, 2, 4)])
def test_bases_without_the_dense_route(name, n, k, l, monkeypatch):
    """The combinatorial Gram route picks the same basis as the dense route."""
    import catnn.groups.independence as independence
    from catnn.groups import easy, special_orthogonal, symplectic
    G = group(name, n=n)
    dense_basis = G.basis(k, l)
    cached = {"SO": special_orthogonal._so_basis, "Sp": symplectic._sp_basis, "B": easy._b_basis}[name]
    cached.cache_clear()
    monkeypatch.setattr(independence, "DENSE_GRAM_ENTRIES", 0)
    assert G.basis(k, l) == dense_basis
    assert oracles.matrix_rank([G.matrix(d) for d in dense_basis]) == len(dense_basis) == G.dimension(k, l)
    cached.cache_clear()


def test_basis_selection_limit():
    from catnn.errors import LimitError
    with pytest.raises(LimitError, match="over the limit"):
        group("SO", n=2).basis(5, 5)            # 4725 ε-diagrams to reduce
