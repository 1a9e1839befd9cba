"""ε-diagrams (catnn.levi_civita): canonical form, and exact algebra checked against brute-force matrices.

The oracle here loops over every index tuple and evaluates ε(x_free) · Π δ(pairs) from the
definition (math.md §a.7), independently of catnn's dense builders.
"""

from __future__ import annotations

import itertools
import math
import pickle
from fractions import Fraction

import numpy as np
import pytest

import oracles
from catnn.coeff import Poly
from catnn.diagram import Diagram, cap, cup, identity, merge, swap
from catnn.errors import DiagramError
from catnn.levi_civita import EpsilonDiagram, compose_terms, epsilon_tensor, levi_civita, permutation_sign
from catnn.morphism import Morphism


def _eps_value(values) -> int:
    if len(set(values)) != len(values):
        return 0
    inversions = sum(1 for i, j in itertools.combinations(range(len(values)), 2) if values[i] > values[j])
    return -1 if inversions % 2 else 1


def brute_matrix(d, n: int) -> np.ndarray:
    """The matrix of a Brauer or ε-diagram by looping over all (outputs, inputs) tuples."""
    free = getattr(d, "free", ())
    pairs = d.pairs if isinstance(d, EpsilonDiagram) else d.blocks
    out = np.zeros((n**d.l, n**d.k), dtype=np.int64)
    for x in itertools.product(range(n), repeat=d.k + d.l):
        if any(x[a - 1] != x[b - 1] for a, b in pairs):
            continue
        value = _eps_value([x[v - 1] for v in free]) if free else 1
        row = int(np.ravel_multi_index(x[:d.l], (n,) * d.l)) if d.l else 0
        col = int(np.ravel_multi_index(x[d.l:], (n,) * d.k)) if d.k else 0
        out[row, col] = value
    return out


def brute_morphism(f: Morphism, n: int) -> np.ndarray:
    total = np.zeros((n**f.l, n**f.k), dtype=object)
    for d, c in f.terms:
        total = total + c.evaluate(n) * brute_matrix(d, n).astype(object)
    return total


def as_int(matrix: np.ndarray) -> np.ndarray:
    assert all(Fraction(x).denominator == 1 for x in matrix.flat)
    return matrix.astype(np.int64)


def random_eps(rng, k: int, l: int, n: int) -> EpsilonDiagram:
    order = (rng.permutation(k + l) + 1).tolist()
    rest = order[n:]
    return EpsilonDiagram(order[:n], [rest[i:i + 2] for i in range(0, len(rest), 2)], k, l)


def random_term(rng, k: int, l: int, n: int):
    """A random ε-diagram or Brauer diagram k -> l (whichever exists; ε preferred half the time)."""
    can_eps = k + l >= n and (k + l - n) % 2 == 0
    can_brauer = (k + l) % 2 == 0
    if can_eps and (not can_brauer or rng.integers(2)):
        return random_eps(rng, k, l, n)
    return oracles.random_diagram(rng, k, l, brauer=True)


def admissible(a: int, b: int, n: int) -> bool:
    return (a + b) % 2 == 0 or (a + b >= n and (a + b - n) % 2 == 0)


# -- the value type ----------------------------------------------------------------------------
def test_canonical_form_equality_hash_and_text():
    a = EpsilonDiagram([4, 1], [[3, 2]], k=2, l=2)
    b = EpsilonDiagram.from_labels((1, 4), [(2, 3)], k=2, l=2)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a.free == (1, 4) and a.pairs == ((2, 3),) and a.order == 2
    assert a.free_outputs() == (1,) and a.free_inputs() == (4,)
    assert str(a) == "eps[1, 2'] {2, 1'}" and repr(a) == "EpsilonDiagram([1, 4], [[2, 3]], k=2, l=2)"
    assert a != EpsilonDiagram([1, 3], [[2, 4]], 2, 2) and a != Diagram([[1, 4], [2, 3]], 2, 2)
    assert pickle.loads(pickle.dumps(a)) == a
    with pytest.raises(AttributeError, match="immutable"):
        a.free = (2, 3)
    assert a.sort_key() > Diagram([[1, 2], [3, 4]], 2, 2).sort_key()
    assert str(a.shape()) == "{1, 2'} {2, 1'}"


@pytest.mark.parametrize("free, pairs, k, l, message", [
    ([], [[1, 2]], 1, 1, "at least one free vertex"),
    ([1], [[2, 3, 4]], 2, 2, "has 3 vertices"),
    ([1, 5], [[2, 3]], 2, 2, "out of range"),
    ([1, 2], [[2, 3]], 2, 2, "more than one place"),
    ([1, 2], [], 2, 2, "is in no block"),
    ([1], [], -1, 2, "non-negative"),
])
def test_invalid_epsilon_diagrams(free, pairs, k, l, message):
    with pytest.raises(DiagramError, match=message):
        EpsilonDiagram(free, pairs, k, l)


def test_signed_and_levi_civita():
    assert EpsilonDiagram.signed([3, 1, 2], [], 0, 3)[0] == 1
    assert EpsilonDiagram.signed([1, 3, 2], [], 0, 3)[0] == -1
    for n in range(1, 5):
        eps = levi_civita(n)
        for x in itertools.product(range(n), repeat=n):
            assert eps[x] == _eps_value(x)
    assert [permutation_sign(p) for p in ([0], [1, 0], [2, 0, 1], [0, 2, 1])] == [1, -1, 1, -1]


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_tensor_matches_brute_force(n):
    rng = np.random.default_rng(n)
    for _ in range(25):
        k = int(rng.integers(0, 4))
        l = int(rng.integers(max(0, n - k), 5))
        if (k + l - n) % 2:
            l += 1
        d = random_eps(rng, k, l, n)
        assert np.array_equal(epsilon_tensor(d, n).reshape(n**l, n**k), brute_matrix(d, n))
    with pytest.raises(DiagramError, match="needs exactly n"):
        epsilon_tensor(EpsilonDiagram([1, 2], [], 0, 2), 3)


def test_epsilon_contraction_identity():
    """ε_{A C} ε_{B C} = j! det[δ(a_p, b_q)] for j contracted indices (math.md §a.7, Brauer–Grood)."""
    for n in range(1, 5):
        eps = levi_civita(n).reshape(n**n)
        for j in range(n + 1):
            r = n - j
            left = levi_civita(n).reshape(n**r, n**j)
            contracted = left @ left.T                         # Σ_C ε_{A C} ε_{B C}
            det = np.zeros((n**r, n**r), dtype=np.int64)
            for a in itertools.product(range(n), repeat=r):
                for b in itertools.product(range(n), repeat=r):
                    det[np.ravel_multi_index(a, (n,) * r) if r else 0,
                        np.ravel_multi_index(b, (n,) * r) if r else 0] = round(np.linalg.det(
                            np.array([[float(x == y) for y in b] for x in a]))) if r else 1
            assert np.array_equal(contracted, math.factorial(j) * det)
        assert eps @ eps == math.factorial(n)


# -- exact algebra against brute force ---------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_composition_exact(n):
    rng = np.random.default_rng(100 + n)
    seen = {"zero": 0, "loops": 0, "eps-eps": 0, "eps-brauer": 0}
    trials = 0
    while trials < 80:
        a, b, c = (int(x) for x in rng.integers(0, 5, size=3))
        if not (admissible(a, b, n) and admissible(b, c, n)) or n ** max(a + b, b + c, a + c) > 2000:
            continue
        f, g = random_term(rng, a, b, n), random_term(rng, b, c, n)
        if not (isinstance(f, EpsilonDiagram) or isinstance(g, EpsilonDiagram)):
            continue
        trials += 1
        composed = f >> g
        assert np.array_equal(as_int(brute_morphism(composed, n)), brute_matrix(g, n) @ brute_matrix(f, n))
        assert all(d.k == a and d.l == c for d in composed.diagrams)
        if composed.is_zero():
            seen["zero"] += 1
        if any(coeff.constant() is None for _, coeff in composed.terms):
            seen["loops"] += 1
        both = isinstance(f, EpsilonDiagram) and isinstance(g, EpsilonDiagram)
        seen["eps-eps" if both else "eps-brauer"] += 1
        if both:
            assert all(isinstance(d, Diagram) for d in composed.diagrams)   # ε·ε leaves only Brauer terms
    if n in (2, 3):                     # every kind of case (zero, loops, ε·ε, ε·Brauer) was met
        assert all(count > 0 for count in seen.values()), seen


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tensor_and_transpose_exact(n):
    rng = np.random.default_rng(200 + n)
    trials = 0
    while trials < 40:
        k1, l1, k2, l2 = (int(x) for x in rng.integers(0, 4, size=4))
        if not (admissible(k1, l1, n) and admissible(k2, l2, n)) or n ** (k1 + l1 + k2 + l2) > 5000:
            continue
        f, g = random_term(rng, k1, l1, n), random_term(rng, k2, l2, n)
        trials += 1
        product = f @ g
        assert (product.k, product.l) == (k1 + k2, l1 + l2)
        expected = np.kron(brute_matrix(f, n), brute_matrix(g, n))
        assert np.array_equal(as_int(brute_morphism(product, n)), expected)
        flipped = f.T if isinstance(f, EpsilonDiagram) else Morphism.of(f.T)
        assert np.array_equal(as_int(brute_morphism(flipped, n)), brute_matrix(f, n).T)
        assert flipped.T == Morphism.of(f)


def test_examples_by_hand():
    e2 = EpsilonDiagram([1, 2], [], 0, 2)
    assert str(e2 @ e2) == "{1, 3} {2, 4} - {1, 4} {2, 3}"
    assert str(e2 >> e2.T) == "(n^2 - n) * id(0)"                       # ε·ε = n(n-1) = n! at n = 2
    e3 = EpsilonDiagram([1, 2, 3], [], 0, 3)
    assert (e3 >> e3.T).coefficient(Diagram([], 0, 0)).evaluate(3) == 6
    assert str(e3 >> (identity(1) @ cap())) == "0 * {1}"                 # two legs joined: ε = 0
    assert str((e2 >> swap())) == "-eps[1, 2]"                           # antisymmetry
    rot = EpsilonDiagram([1, 2], [], 1, 1)                               # ε_ij as a 1 -> 1 map: J
    assert str(rot >> rot) == "-(n - 1) * {1, 1'}"                       # J² = -I in dimension 2
    assert str(cup() >> (rot @ identity(1)) >> cap()) == "0 * id(0)"    # tr J = 0
    loop = cup() >> cap()
    assert str((loop @ rot)) == "n * eps[1, 1']"
    assert compose_terms(cup(), EpsilonDiagram([1, 2], [], 2, 0), Poly.n()) == []         # ε(x, x) = 0
    mixed = identity(2) + EpsilonDiagram([1, 2], [[3, 4]], 2, 2)
    assert str(mixed) == "{1, 1'} {2, 2'} + eps[1, 2] {1', 2'}"          # Brauer terms print first


@pytest.mark.parametrize("n", [2, 3])
def test_laws(n):
    """Category laws, as matrices at n = the ε order (the only n where ε-diagrams mean anything:
    identities such as 'antisymmetrising n + 1 indices gives 0' hold only there, so two ways of
    reducing a product of three ε can give different, equal-valued, sums of diagrams)."""
    rng = np.random.default_rng(7 + n)
    checked = 0
    while checked < 25:
        a, b, c, d = (int(x) for x in rng.integers(0, 4, size=4))
        if not all(admissible(x, y, n) for x, y in ((a, b), (b, c), (c, d))):
            continue
        if n ** (a + 2 * b + 2 * c + d) > 4096:
            continue
        f, g, h = random_term(rng, a, b, n), random_term(rng, b, c, n), random_term(rng, c, d, n)

        def dense(x):
            return as_int(brute_morphism(Morphism.of(x) if not isinstance(x, Morphism) else x, n))

        assert np.array_equal(dense((f >> g) >> h), dense(f >> (g >> h)))
        assert np.array_equal(dense((f >> g).T), dense(_t(g) >> _t(f)))
        assert identity(a) >> f == Morphism.of(f) == f >> identity(b)
        assert np.array_equal(dense((f @ g) >> (identity(b) @ h)), dense((f >> identity(b)) @ (g >> h)))
        checked += 1
    # with at most one ε per product the reductions are canonical: formal equality holds
    e = EpsilonDiagram(range(1, n + 1), [], 0, n)
    bra = oracles.random_diagram(rng, n, n, brauer=True)
    bra2 = oracles.random_diagram(rng, n, n, brauer=True)
    assert (e >> bra) >> bra2 == e >> (bra >> bra2)


def _t(d):
    return d.T if isinstance(d, EpsilonDiagram) else Morphism.of(d.T)


def test_refusals():
    e = EpsilonDiagram([1, 2], [], 0, 2)
    with pytest.raises(DiagramError, match="only with Brauer diagrams"):
        e >> merge()
    with pytest.raises(DiagramError, match="2 and 3 free vertices"):
        e >> EpsilonDiagram([1, 2, 3], [], 2, 1)
    with pytest.raises(DiagramError, match="2 and 3 free vertices"):
        e @ EpsilonDiagram([1, 2, 3], [], 0, 3)
    with pytest.raises(DiagramError, match="cannot compose"):
        e >> identity(1)
