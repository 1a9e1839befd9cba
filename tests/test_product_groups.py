"""Products of groups (issue 12): dimensions against an independent commutant oracle, spanning sets and
bases by rank, the per-sort algebra (>>, @, .T, loops and Sp signs) against dense matrices,
equivariance under sampled elements, the text form, and the errors.

The oracle (``oracles.product_commutant_dimension``) never sees a diagram: it stacks the equations
W ρ_l(x) = ρ_k(x) W for generators (g, 1) and (1, h) of the product (group generators, plus Lie algebra
generators for the continuous factors) and counts the null space.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

import catnn
import oracles_groups  # noqa: F401  (registers the SO, Sp, A, H, B generators)
from catnn.coeff import MPoly, Poly, as_mpoly
from catnn.diagram import Diagram, cap, cup, identity, swap
from catnn.errors import DiagramError, GroupError, LimitError
from catnn.groups import ProductGroup, group
from catnn.groups.alternating import Jellyfish
from catnn.groups.product import ProductDiagram, ProductMorphism
from oracles import group_generators, kron_power, matrix_rank, product_commutant_dimension

#: one small size per factor: every n^(k+l) stays tiny, and most sizes sit below k + l, where the
#: spanning sets are dependent and the bases must be chosen
SIZES = {"S": 3, "A": 3, "O": 2, "SO": 3, "Sp": 2, "H": 2, "B": 3}
PAIRS = list(itertools.combinations_with_replacement(SIZES, 2))


def typed_orders(total: int, sorts: int = 2):
    """Every (k, l) pair of order tuples with sum(k) + sum(l) <= total."""
    for values in itertools.product(range(total + 1), repeat=2 * sorts):
        if sum(values) <= total:
            yield values[:sorts], values[sorts:]


ORDERS = list(typed_orders(4))


def product_of(names) -> ProductGroup:
    return group(" x ".join(f"{name}({SIZES[name]})" for name in names))


def oracle_factors(names):
    return [(SIZES[name], *group_generators(name, SIZES[name])) for name in names]


def dense(G: ProductGroup, x) -> np.ndarray:
    return np.array(G.matrix(x), dtype=object)


# -- dimensions, spanning sets, bases ---------------------------------------------------------
def test_the_orders_cover_every_typed_pair():
    assert len(ORDERS) == 70 and len(PAIRS) == 28


def _check_dimensions(names, orders) -> None:
    G, factors = product_of(names), oracle_factors(names)
    for k, l in orders:
        assert G.dimension(k, l) == product_commutant_dimension(k, l, factors), (k, l)


def _check_span_and_basis(names, orders) -> None:
    G = product_of(names)
    for k, l in orders:
        dim = G.dimension(k, l)
        spanning, basis = G.spanning_set(k, l), G.basis(k, l)
        assert len(spanning) == G.spanning_count(k, l)
        assert matrix_rank([G.matrix(d) for d in spanning]) == dim, (k, l)
        assert len(basis) == dim and matrix_rank([G.matrix(d) for d in basis]) == dim, (k, l)
        assert set(basis) <= set(spanning)


UP_TO_THREE = [(k, l) for k, l in ORDERS if sum(k) + sum(l) <= 3]
FOUR = [(k, l) for k, l in ORDERS if sum(k) + sum(l) == 4]


@pytest.mark.parametrize("names", PAIRS, ids="x".join)
def test_dimension_rank_and_basis_up_to_total_order_three(names):
    """Every pair, k + l <= 3: dimension = the oracle's, rank(spanning set) = dimension, basis independent."""
    _check_dimensions(names, UP_TO_THREE)
    _check_span_and_basis(names, UP_TO_THREE)


@pytest.mark.parametrize("names", [("S", "O"), ("A", "Sp"), ("SO", "B")], ids="x".join)
def test_dimension_rank_and_basis_at_total_order_four(names):
    _check_dimensions(names, FOUR)
    _check_span_and_basis(names, FOUR)


@pytest.mark.slow
@pytest.mark.parametrize("names", PAIRS, ids="x".join)
def test_dimension_rank_and_basis_at_total_order_four_for_every_pair(names):
    """The k + l = 4 sweep (about a minute of small SVDs on two loaded cores)."""
    _check_dimensions(names, FOUR)
    _check_span_and_basis(names, FOUR)


def test_three_factors_and_aut_against_the_oracle():
    c5 = np.roll(np.eye(5, dtype=int), 1, axis=1)
    c5 = c5 + c5.T
    rotation = np.roll(np.eye(5), 1, axis=0)
    reflection = np.eye(5)[:, [(-i) % 5 for i in range(5)]]
    G = group("Aut x S(2)", graph=c5)                             # graph= goes to the Aut factor only
    assert G == ProductGroup([group("Aut", graph=c5), group("S", n=2)])
    factors = [(5, (rotation, reflection), ()), (2, *group_generators("S", 2))]
    for k, l in typed_orders(3):
        if 5 ** (k[0] + l[0]) * 2 ** (k[1] + l[1]) <= 256:
            assert G.dimension(k, l) == product_commutant_dimension(k, l, factors), (k, l)
            assert matrix_rank([G.matrix(d) for d in G.spanning_set(k, l)]) == G.dimension(k, l)
    H = group("S(3) x O(2) x Sp(2)")
    for k, l in typed_orders(3, sorts=3):
        assert H.dimension(k, l) == product_commutant_dimension(k, l, oracle_factors(("S", "O", "Sp")))


def test_free_sizes_and_fixing_them():
    G = group("S x S")
    assert G.ns == (None, None) and G.factors == (group("S"), group("S"))
    assert G.spanning_count((1, 1), (1, 1)) == 4
    with pytest.raises(GroupError, match="depends on the sizes"):
        G.dimension((1, 1), (1, 1))
    assert G.at((2, 3)) == group("S(2) x S(3)") == group("S x S", n=(2, 3))
    assert G.at((2, 3)).dimension((2, 0), (0, 0)) == 2 * 1


# -- the algebra against dense matrices -------------------------------------------------------
ALGEBRA_PAIRS = [("S", "Sp"), ("O", "SO"), ("Sp", "Sp"), ("S", "B"), ("H", "O"), ("SO", "S")]


def _composable(G, k, m, l, rng, count=6):
    f_all, g_all = G.spanning_set(k, m), G.spanning_set(m, l)
    for _ in range(count):
        yield f_all[rng.integers(len(f_all))], g_all[rng.integers(len(g_all))]


@pytest.mark.parametrize("names", ALGEBRA_PAIRS, ids="x".join)
def test_composition_is_the_matrix_product_with_loops_and_signs(names, rng):
    G = product_of(names)
    # every sort's orders along k -> m -> l have even sums, so the Brauer factors have diagrams too
    shapes = [((1, 1), (1, 1), (1, 1)), ((0, 2), (2, 0), (0, 0)), ((1, 1), (1, 3), (1, 1)),
              ((2, 0), (2, 2), (0, 0)), ((1, 1), (3, 1), (1, 1)), ((2, 2), (0, 0), (2, 2))]
    for k, m, l in shapes:
        for f, g in _composable(G, k, m, l, rng):
            assert np.array_equal(dense(G, G.compose(f, g)), dense(G, g) @ dense(G, f)), (str(f), str(g))


def test_closed_loops_give_one_power_per_sort_and_sp_its_sign():
    G = group("S(3) x Sp(2) x O(4)")
    loop = G.compose(ProductDiagram([cup(), cup(), cup()]), ProductDiagram([cap(), cap(), cap()]))
    n0, n1, n2 = (MPoly.symbol(s) for s in range(3))
    assert loop.coefficient(ProductDiagram([identity(0)] * 3)) == -n0 * n1 * n2
    assert dense(G, loop).tolist() == [[3 * (-2) * 4]]
    bare = ProductDiagram([cup(), cup(), cup()]) >> ProductDiagram([cap(), cap(), cap()])
    assert bare.coefficient(ProductDiagram([identity(0)] * 3)) == n0 * n1 * n2
    with pytest.raises(GroupError, match="G.compose"):
        G.matrix(bare)


@pytest.mark.parametrize("names", ALGEBRA_PAIRS, ids="x".join)
def test_tensor_product_is_kron_per_sort(names, rng):
    G = product_of(names)
    n = [f.n for f in G.factors]
    for (ka, la), (kb, lb) in [(((1, 0), (1, 2)), ((1, 1), (1, 1))), (((0, 2), (2, 0)), ((2, 0), (0, 2)))]:
        a_all, b_all = G.spanning_set(ka, la), G.spanning_set(kb, lb)
        for _ in range(4):
            a, b = a_all[rng.integers(len(a_all))], b_all[rng.integers(len(b_all))]
            # kron gives axes (a's sorts, then b's sorts); the product convention wants sort 0 first
            full = np.kron(dense(G, a), dense(G, b))
            axes = [n[0]] * la[0] + [n[1]] * la[1] + [n[0]] * lb[0] + [n[1]] * lb[1] \
                + [n[0]] * ka[0] + [n[1]] * ka[1] + [n[0]] * kb[0] + [n[1]] * kb[1]
            out = [list(range(0, la[0])), list(range(la[0], la[0] + la[1]))]
            base = la[0] + la[1]
            out = out[0] + list(range(base, base + lb[0])) + out[1] + list(range(base + lb[0], base + lb[0] + lb[1]))
            start = sum(la) + sum(lb)
            ins = [start + i for i in range(ka[0])] + [start + sum(ka) + i for i in range(kb[0])] \
                + [start + ka[0] + i for i in range(ka[1])] + [start + sum(ka) + kb[0] + i for i in range(kb[1])]
            expected = full.reshape(axes).transpose(out + ins).reshape(full.shape)
            assert np.array_equal(dense(G, G.lift(a) @ G.lift(b)), expected)


def test_matrix_of_a_pair_is_the_kron_of_its_parts():
    G = group("S(2) x O(3)")
    d = ProductDiagram([Diagram.from_blocks([[1, 2, 3]], k=1, l=2), cap()])
    split = np.zeros((4, 2), dtype=int)
    split[0, 0] = split[3, 1] = 1                                  # e_i -> e_i ⊗ e_i
    expected = np.kron(split, np.eye(3).reshape(1, 9))
    assert np.array_equal(G.matrix(d), expected)


def _same_row_pairs(d: Diagram) -> int:
    return sum(1 for a, b in d.blocks if (a <= d.l) == (b <= d.l))


@pytest.mark.parametrize("names", ALGEBRA_PAIRS + [("A", "S")], ids="x".join)
def test_transpose_is_the_signed_matrix_transpose(names):
    G = product_of(names)
    for k, l in [((1, 1), (1, 1)), ((0, 2), (2, 0)), ((2, 1), (0, 1)), ((1, 2), (1, 0))]:
        for d in G.spanning_set(k, l):
            sign = 1
            for f, part in zip(G.factors, d.parts):
                if f.name == "Sp":
                    sign *= (-1) ** _same_row_pairs(part)      # math.md §a.6: no Sp functor keeps transposes
            assert np.array_equal(dense(G, G.lift(d).T), sign * dense(G, d).T), str(d)


def test_laws_on_random_product_morphisms(rng):
    G = group("S(2) x O(2)")
    f_all, g_all = G.spanning_set((1, 2), (2, 0)), G.spanning_set((2, 0), (1, 2))
    n0, n1 = MPoly.symbol(0), MPoly.symbol(1)
    f = sum(c * d for c, d in zip([n0, 2, n1 / 3, -1], f_all[:4]))
    g = sum(c * d for c, d in zip([Fraction(1, 2), n0 * n1, 1], g_all[-3:]))
    assert (f >> g).T == g.T >> f.T
    assert (f >> g) >> f == f >> (g >> f)
    assert np.array_equal(dense(G, f >> g), dense(G, g) @ dense(G, f))
    assert np.array_equal(dense(G, f + g.T), dense(G, f) + dense(G, g).T)


def test_jellyfish_parts_refuse_composition_like_single_groups():
    d = ProductDiagram([Jellyfish.from_blocks([[1], [2]], k=1, l=1), identity(1)])
    with pytest.raises(DiagramError, match="jellyfish"):
        d >> d


# -- equivariance -----------------------------------------------------------------------------
def test_act_is_the_kron_of_tensor_powers(rng):
    G = group("O(2) x S(3)")
    g = G.sample(rng)
    x = rng.standard_normal((4, 2, 2, 3))                          # batch axis, then orders (2, 1)
    want = np.kron(kron_power(g[0], 2), kron_power(g[1], 1)) @ x.reshape(4, -1).T
    assert np.allclose(G.act(g, x, (2, 1)).reshape(4, -1), want.T)


@pytest.mark.parametrize("names", PAIRS, ids="x".join)
def test_every_spanning_matrix_is_equivariant(names, rng):
    G = product_of(names)
    for k, l in [((1, 1), (1, 1)), ((2, 0), (1, 1)), ((0, 2), (1, 1)), ((1, 0), (2, 1)), ((2, 1), (0, 1))]:
        for _ in range(2):
            g = G.sample(rng)
            in_shape = [f.n for f, a in zip(G.factors, k) for _ in range(a)]
            out_shape = [f.n for f, b in zip(G.factors, l) for _ in range(b)]
            x = rng.standard_normal(in_shape)
            gx = G.act(g, x, k).reshape(-1)
            for d in G.spanning_set(k, l):
                M = np.asarray(G.matrix(d), dtype=np.float64)
                lhs = G.act(g, (M @ x.reshape(-1)).reshape(out_shape), l).reshape(-1)
                assert np.allclose(lhs, M @ gx, atol=1e-10), (str(d), names)


def test_samples_are_one_matrix_per_factor_in_the_factors_groups(rng):
    G = group("Sp(4) x S(3) x SO(3)")
    sp, perm, rot = G.sample(rng)
    J = G.factors[0].form
    assert np.allclose(sp.T @ J @ sp, J) and sorted(perm.sum(0).tolist()) == [1, 1, 1]
    assert np.allclose(rot.T @ rot, np.eye(3)) and np.isclose(np.linalg.det(rot), 1.0)


# -- identity, hashing, text ------------------------------------------------------------------
def test_product_diagrams_are_frozen_hashable_and_canonical():
    a = ProductDiagram([Diagram.from_blocks([[2, 3], [1, 4]], k=2, l=2), cup()])
    b = ProductDiagram([swap(), cup()])
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert ProductMorphism.of(a) == a and hash(ProductMorphism.of(a)) == hash(a)
    with pytest.raises(AttributeError):
        a.parts = ()
    assert (a.k, a.l, a.sorts) == ((2, 0), (2, 2), 2)


@pytest.mark.parametrize("name", ["S(3) x O(2)", "A(3) x SO(3)", "Sp(2) x H(2) x B(3)", "SO(2) x S(2)"])
def test_text_round_trips(name):
    G = group(name)
    r = len(G.factors)
    for k, l in [((1,) * r, (1,) * r), ((2,) + (0,) * (r - 1), (0,) * (r - 1) + (2,)), ((0,) * r, (2,) * r)]:
        for d in G.spanning_set(k, l):
            assert ProductDiagram.parse(str(d), G) == d
            assert ProductDiagram.parse(str(d).replace(" ", ""), name) == d


@pytest.mark.parametrize("name", ["S(2) x Sp(2)", "O(2) x SO(2) x S(2)"])
def test_morphism_text_round_trips(name, rng):
    G = group(name)
    r = len(G.factors)
    k, l = (1,) * r, (1,) * r
    spanning = G.spanning_set(k, l)
    for _ in range(20):
        m = G.lift(ProductMorphism.zero(k, l))
        for _ in range(int(rng.integers(0, 4))):
            m = m + G.lift(spanning[rng.integers(len(spanning))]) * _random_mpoly(rng)
        loop = G.compose(ProductDiagram([cup()] * r), ProductDiagram([cap()] * r))
        for value in (m, m @ loop, G.lift(m).T):
            assert ProductMorphism.parse(str(value), G) == value, str(value)


def test_morphism_text_shows_exact_coefficients():
    G = group("S x Sp")
    d = ProductDiagram([identity(1), identity(1)])
    m = G.compose(ProductDiagram([cup(), cup()]), ProductDiagram([cap(), cap()])) @ d / 2
    assert str(m) == "-1/2*n_0*n_1 * ({1, 1'} | {1, 1'})"
    assert str(m - d) == "-(1/2*n_0*n_1 + 1) * ({1, 1'} | {1, 1'})"
    assert str(d - d) == "0 * ({1} {1'} | {1} {1'})"


def test_group_names_parse_with_x_and_times_and_keep_single_groups():
    assert group("S x O(3)") == group("S×O(3)") == group("  S   x   O( 3 ) ")
    assert str(group("S(5) x S(7)")) == "S(5) x S(7)" and len(group("S x S x A x Sp(2)").factors) == 4
    assert group("S_n x O(n)").ns == (None, None)
    assert group("SO(3)").n == 3 and group("symmetric", n=4).dimension(1, 1) == 2
    assert group(group("S x O")) == group("S x O")
    assert eval(repr(group("S x O(3)")), {"catnn": catnn}) == group("S x O(3)")


# -- multivariate coefficients ----------------------------------------------------------------
def _random_mpoly(rng) -> MPoly:
    terms = {}
    for _ in range(int(rng.integers(1, 4))):
        mono = tuple((s, int(rng.integers(-2, 3))) for s in range(3) if rng.random() < 0.6)
        terms[mono] = Fraction(int(rng.integers(-5, 6)), int(rng.integers(1, 4)))
    return MPoly(terms)


def test_mpoly_evaluation_is_a_ring_homomorphism(rng):
    for _ in range(200):
        a, b = _random_mpoly(rng), _random_mpoly(rng)
        at = tuple(Fraction(int(rng.integers(1, 9)), int(rng.integers(1, 4))) for _ in range(3))
        assert (a + b).evaluate(at) == a.evaluate(at) + b.evaluate(at)
        assert (a * b).evaluate(at) == a.evaluate(at) * b.evaluate(at)
        assert (a - b).evaluate(at) == a.evaluate(at) - b.evaluate(at)
        assert (a**2).evaluate(at) == a.evaluate(at) ** 2
        mono = MPoly.symbol(int(rng.integers(3)), int(rng.integers(-2, 3))) * 3
        assert (a / mono).evaluate(at) == a.evaluate(at) / mono.evaluate(at)


def test_mpoly_text_round_trips(rng):
    for _ in range(100):
        a = _random_mpoly(rng)
        assert MPoly.parse(str(a)) == a and MPoly.parse(f"({a})") == a
    with pytest.raises(DiagramError, match="size symbol"):
        MPoly.parse("2*m_0")


def test_mpoly_against_poly_and_numbers():
    n = Poly.n()
    for p in [n**2 - 3, n / 2 + 1 / n, Poly.const(7)]:
        assert MPoly.from_poly(p, 1).evaluate((5, 4)) == p.evaluate(4)
    assert MPoly.const(3) == 3 and hash(MPoly.const(3)) == hash(3) and as_mpoly(Poly.const(2)) == 2
    assert MPoly.symbol(0) != n and str(MPoly()) == "0"
    assert (MPoly.const(2) == Poly.const(2)) == (Poly.const(2) == MPoly.const(2))     # symmetric
    with pytest.raises(DiagramError, match="which sort"):
        as_mpoly(n)
    with pytest.raises(DiagramError, match="Laurent"):
        MPoly.const(1) / (MPoly.symbol(0) + 1)
    with pytest.raises(DiagramError, match="n_2"):
        MPoly.symbol(2).evaluate((1, 2))


# -- errors -----------------------------------------------------------------------------------
def _message(error, call) -> str:
    with pytest.raises(error) as info:
        call()
    return str(info.value)


def test_golden_errors():
    G = group("S(3) x O(3)")
    assert _message(GroupError, lambda: G.dimension((1,), (1, 1))) == \
        "orders of S(3) x O(3) are tuples with one entry per factor (2 of them), got (1,)"
    assert _message(GroupError, lambda: G.spanning_set(2, 2)) == \
        "orders of S(3) x O(3) are tuples with one entry per factor (2 of them), got 2"
    assert _message(GroupError, lambda: group("S x Q(3)")) == (
        "cannot read the factor 'Q(3)' of the product 'S x Q(3)': unknown group 'Q(3)'; "
        "known groups: A, Aut, B, H, O, S, SO, Sp")
    assert _message(GroupError, lambda: group("S x O", n=3)) == (
        "S x O is a product: give one size per factor, n=(5, 5) (None leaves a size free), "
        "or write them in the name, e.g. S(5) x O(5); got n=3")
    two, three = ProductDiagram([identity(1)] * 2), ProductDiagram([identity(1)] * 3)
    assert _message(DiagramError, lambda: two >> three) == "cannot combine diagrams of products with 2 and 3 sorts"
    assert _message(GroupError, lambda: G.compose(three, three)) == \
        "the product diagram ({1, 1'} | {1, 1'} | {1, 1'}) has 3 parts but S(3) x O(3) has 2 factors"
    split = ProductDiagram([identity(1), Diagram.from_blocks([[1, 2, 3]], k=1, l=2)])
    assert _message(GroupError, lambda: G.lift(split)) == \
        "sort 1 (O(3)): O diagrams pair vertices two by two, but block {1, 2, 1'} has 3 vertices"
    assert _message(DiagramError, lambda: G.lift(two) >> group("S(3) x Sp(2)").lift(two)) == \
        "cannot combine morphisms whose loops evaluate to (n, n) and (n, -n)"
    assert _message(DiagramError, lambda: two >> ProductDiagram([cap(), identity(1)])) == (
        "cannot compose in sort 0: '({1, 1'} | {1, 1'})' has 1 outputs there but "
        "'({1', 2'} | {1, 1'})' expects 2 inputs")
    assert "write it like" in _message(DiagramError, lambda: ProductDiagram.parse("{1, 1'} | {1, 1'}", G))
    assert "2 parts but S(3) x O(3) has 2" not in _message(DiagramError, lambda: ProductDiagram.parse("({1, 1'})", G))
    assert _message(GroupError, lambda: G.act(G.sample(0), np.zeros((3, 2)), (1, 1))) == \
        "a typed tensor of orders (1, 1) must end in axes of sizes (3, 3), got shape (3, 2)"


def test_huge_spanning_sets_are_refused_before_enumerating():
    G = group("S x S")
    with pytest.raises(LimitError, match="spanning set"):
        G.spanning_set((5, 5), (5, 5))
    big = group("S(9) x O(9)")
    with pytest.raises(LimitError, match="dense"):
        big.matrix(ProductDiagram([identity(4), identity(4)]))
