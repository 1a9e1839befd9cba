"""Morphism: exact linear combinations of diagrams. Bilinearity of >>, @, +, -, scalar *, matrices of
combinations against brute-force sums, printing, equality with bare diagrams, and the errors."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest

import catnn
from catnn import messages
from catnn.coeff import Poly
from catnn.diagram import Diagram, cap, cup, identity, merge, split, swap, unit
from catnn.errors import CatnnError, DiagramError
from catnn.morphism import Morphism, as_morphism
from oracles import brute_partition_matrix, random_coefficient, random_diagram, random_morphism

N = Poly.n()


@lru_cache(maxsize=None)
def brute(d: Diagram, n: int) -> np.ndarray:
    return brute_partition_matrix(d.blocks, d.k, d.l, n)


def dense(m: Morphism, n: int) -> np.ndarray:
    """Σ c(n) D_d with exact Fractions, from brute-force diagram matrices."""
    total = np.zeros((n**m.l, n**m.k), dtype=object)
    total[:] = Fraction(0)
    for d, c in m.terms:
        total = total + c.evaluate(n) * brute(d, n).astype(object)
    return total


def arity(rng, top: int = 2) -> int:
    return int(rng.integers(0, top + 1))


@pytest.mark.parametrize("seed", range(12))
def test_matrix_of_combinations(seed):
    rng = np.random.default_rng(seed)
    k, l, m = arity(rng), arity(rng), arity(rng)
    f, g = random_morphism(rng, k, l), random_morphism(rng, l, m)
    for n in (1, 2, 3):
        G = catnn.group("S", n)
        assert np.array_equal(G.matrix(f), dense(f, n))
        assert np.array_equal(G.matrix(f >> g), G.matrix(g) @ G.matrix(f))
        assert np.array_equal(G.matrix(f >> g), dense(g, n) @ dense(f, n))
        assert np.array_equal(G.matrix(f @ g), np.kron(dense(f, n), dense(g, n)))
        assert np.array_equal(G.matrix(f.T), dense(f, n).T)


@pytest.mark.parametrize("seed", range(12))
def test_matrix_of_brauer_combinations(seed):
    rng = np.random.default_rng(seed)
    k, l, m = (2 * arity(rng, 1) + (seed % 2) for _ in range(3))
    f, g = random_morphism(rng, k, l, brauer=True), random_morphism(rng, l, m, brauer=True)
    for n in (1, 2, 3):
        G = catnn.group("O", n)
        assert np.array_equal(G.matrix(f >> g), G.matrix(g) @ G.matrix(f))
        assert np.array_equal(G.matrix(f >> g), dense(g, n) @ dense(f, n))


@pytest.mark.parametrize("seed", range(15))
def test_bilinearity(seed):
    rng = np.random.default_rng(seed)
    k, l, m = arity(rng), arity(rng), arity(rng)
    a, b = random_morphism(rng, k, l), random_morphism(rng, k, l)
    c, d = random_morphism(rng, l, m), random_morphism(rng, l, m)
    x, y = random_coefficient(rng), random_coefficient(rng)
    assert (a + b) >> c == (a >> c) + (b >> c)
    assert a >> (c + d) == (a >> c) + (a >> d)
    assert (x * a) >> (y * c) == (x * y) * (a >> c)
    assert (a - b) >> c == (a >> c) - (b >> c)
    assert (a + b) @ c == (a @ c) + (b @ c)
    assert c @ (a - b) == (c @ a) - (c @ b)
    assert (x * a) @ c == x * (a @ c) == a @ (c * x)
    assert a + b == b + a and (a + b) + b == a + (b + b)
    assert a - a == Morphism.zero(k, l) and (a - a).is_zero()
    assert a * 0 == Morphism.zero(k, l) and -(-a) == a
    assert a / 2 * 2 == a and (a / N) * N == a
    assert (a + b).T == a.T + b.T
    assert Morphism.zero(k, l) >> c == Morphism.zero(k, m)


@pytest.mark.parametrize("seed", range(10))
def test_associativity_and_interchange_for_combinations(seed):
    rng = np.random.default_rng(seed)
    k, l, m, p = (arity(rng) for _ in range(4))
    f, g, h = random_morphism(rng, k, l, 2), random_morphism(rng, l, m, 2), random_morphism(rng, m, p, 2)
    assert (f >> g) >> h == f >> (g >> h)
    assert (f @ g) @ h == f @ (g @ h)
    assert identity(k) >> f == f == f >> identity(l)
    q, r = random_morphism(rng, p, k, 2), random_morphism(rng, k, m, 2)
    assert (f @ q) >> (g @ r) == (f >> g) @ (q >> r)


def test_examples():
    sym = (identity(2) + swap()) / 2
    assert sym >> sym == sym
    assert str(sym) == "1/2 * {1, 1'} {2, 2'} + 1/2 * {1, 2'} {2, 1'}"
    assert cup() >> cap() == N * identity(0)
    antisym = (identity(2) - swap()) / 2
    assert (sym >> antisym).is_zero() and sym + antisym == identity(2)
    # the Frobenius relation (merge then split) = (id @ split) >> (merge @ id)
    assert merge() >> split() == (identity(1) @ split()) >> (merge() @ identity(1))
    # unit is a unit for merge
    assert (unit() @ identity(1)) >> merge() == identity(1)


def test_bare_morphisms_equal_their_diagram():
    for d in (swap(), merge(), identity(0)):
        m = Morphism.of(d)
        assert m == d and d == m and hash(m) == hash(d)
        assert len({m, d}) == 1
    assert Morphism.of(swap(), 2) != swap()
    assert Morphism.of(swap()).with_loop(-N) != swap()
    assert swap() @ swap() == swap().tensor(swap())
    assert as_morphism(swap()) == swap()


def test_inspection():
    m = 3 * swap() + (N - 1) * identity(2)
    assert (m.k, m.l) == (2, 2)
    assert m.coefficient(swap()) == 3 and m.coefficient(merge() >> split()) == 0
    assert m.coefficient(identity(2)) == N - 1
    assert set(m.diagrams) == {swap(), identity(2)}
    assert dict(m.evaluate(4)) == {swap(): 3, identity(2): 3}
    assert m.loop == N and m.with_loop(-N).loop == -N
    assert Morphism.of(swap()) ** 2 == swap() @ swap()
    assert Morphism.of(swap()) ** 0 == identity(0)
    # loops are worth -n after with_loop
    assert Morphism.of(cup()).with_loop(-N) >> Morphism.of(cap()).with_loop(-N) == \
        Morphism.of(identity(0), -N).with_loop(-N)


def test_sum_builtin_starts_from_zero():
    parts = [swap(), identity(2), 2 * swap()]
    assert sum(parts) == 3 * swap() + identity(2)
    assert sum([Morphism.of(merge())]) == merge()


@pytest.mark.parametrize("m, text", [
    (Morphism.zero(1, 1), "0 * {1} {1'}"),
    (Morphism.zero(0, 0), "0 * id(0)"),
    (Morphism.of(identity(1), N - 1), "(n - 1) * {1, 1'}"),
    (-Morphism.of(swap()), "-{1, 2'} {2, 1'}"),
    (Morphism.of(swap(), Fraction(-1, 2)), "-1/2 * {1, 2'} {2, 1'}"),
    (Morphism.of(swap(), -3 * N**-1), "-3*n^-1 * {1, 2'} {2, 1'}"),
    (identity(2) - swap(), "{1, 1'} {2, 2'} - {1, 2'} {2, 1'}"),
    (cup() >> cap(), "n * id(0)"),
])
def test_printing(m, text):
    assert str(m) == text
    assert repr(m) == f"<Morphism {m.k} -> {m.l}: {text}>"


@pytest.mark.parametrize("seed", range(6))
def test_printing_is_deterministic(seed):
    rng = np.random.default_rng(seed)
    m = random_morphism(rng, 2, 1, 4)
    reordered = Morphism(list(reversed(m.terms)), 2, 1)
    assert str(m) == str(reordered) and m == reordered and hash(m) == hash(reordered)


# -- errors -------------------------------------------------------------------------------------
def test_arity_errors():
    with pytest.raises(DiagramError) as err:
        swap() + cup()
    assert str(err.value) == messages.ARITY_SUM.format(k1=2, l1=2, k2=0, l2=2)
    with pytest.raises(DiagramError) as err:
        Morphism([(swap(), 1)], 1, 1)
    assert str(err.value) == messages.ARITY_SUM.format(k1=1, l1=1, k2=2, l2=2)
    with pytest.raises(DiagramError) as err:
        (swap() + identity(2)) >> merge() >> merge()
    assert str(err.value).startswith("cannot compose: '") and "has 1 outputs but" in str(err.value)
    long = sum(Morphism.of(random_diagram(np.random.default_rng(s), 3, 3)) for s in range(6))
    with pytest.raises(DiagramError) as err:
        long >> cup()
    assert "..." in str(err.value)          # long operands are shortened in the message


def test_loop_mismatch():
    a = Morphism.of(swap()).with_loop(-N)
    with pytest.raises(DiagramError) as err:
        a + swap() * 2
    assert str(err.value) == messages.LOOP_MISMATCH.format(a=-N, b=N)
    for op in (lambda: a >> Morphism.of(swap()), lambda: a @ Morphism.of(swap())):
        with pytest.raises(DiagramError):
            op()


@pytest.mark.parametrize("bad", [1.5, "n", None, [1]])
def test_bad_operands(bad):
    m = Morphism.of(swap(), 2)
    with pytest.raises(CatnnError):
        m * bad
    with pytest.raises(CatnnError):
        m + bad
    with pytest.raises(CatnnError) as err:
        m >> bad
    assert str(err.value) == messages.NOT_DIAGRAM.format(kind=type(bad).__name__)
    with pytest.raises(CatnnError):
        m / bad
    with pytest.raises(CatnnError):
        m / (N + 1)


@pytest.mark.parametrize("power", [-1, 1.5, True])
def test_bad_tensor_power(power):
    with pytest.raises(DiagramError) as err:
        Morphism.of(swap()) ** power
    assert str(err.value) == messages.NEGATIVE_ARITY.format(value=power)


def test_morphisms_are_immutable():
    m = Morphism.of(swap(), 2)
    with pytest.raises(AttributeError):
        m.k = 1
    with pytest.raises(AttributeError):
        m.loop = -N


def test_matrices_stay_exact_beyond_int64():
    G = catnn.group("S", 10)
    big = Morphism.of(identity(1), N**20) + Morphism.of(identity(1), 5 * N**19)
    M = G.matrix(big)
    assert M[0, 0] == 15 * 10**19 and M[0, 1] == 0
    M = G.matrix(big / 3)
    assert M[3, 3] == Fraction(15 * 10**19, 3)
    assert G.matrix(2 * identity(1)).dtype == np.int64


@pytest.mark.parametrize("seed", range(40))
def test_str_round_trips_through_the_parser(seed):
    """The printed form of a morphism is DSL text that parses back to an equal morphism."""
    if not callable(catnn.diagram):
        pytest.skip("the DSL parser (catnn.diagram) is not available")
    rng = np.random.default_rng(seed)
    k, l = arity(rng, 3), arity(rng, 3)
    m = random_morphism(rng, k, l, int(rng.integers(1, 5)))
    assert catnn.diagram(str(m)) == m
    for special in (Morphism.zero(k, l), Morphism.of(identity(0), N), -m, m / 7):
        assert catnn.diagram(str(special)) == special
