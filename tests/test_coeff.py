"""Poly: exact Laurent polynomials in n. Ring laws on seeded random polynomials, exact evaluation as a
ring homomorphism, division rules, printing, and the documented errors."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from catnn import messages
from catnn.coeff import Poly, as_poly
from catnn.errors import CatnnError, DiagramError
from oracles import random_coefficient

N = Poly.n()
POINTS = [Fraction(1), Fraction(2), Fraction(-3), Fraction(5, 7), Fraction(-1, 4), Fraction(11)]


def _random_polys(seed: int, count: int) -> list[Poly]:
    rng = np.random.default_rng(seed)
    return [random_coefficient(rng) for _ in range(count)]


def _value(terms: dict[int, Fraction], x: Fraction) -> Fraction:
    """Independent evaluation of {exponent: coefficient} at x."""
    return sum((Fraction(c) * x**e for e, c in terms.items()), Fraction(0))


@pytest.mark.parametrize("seed", range(8))
def test_ring_laws(seed):
    p, q, r = _random_polys(seed, 3)
    assert p + q == q + p
    assert p * q == q * p
    assert (p + q) + r == p + (q + r)
    assert (p * q) * r == p * (q * r)
    assert p * (q + r) == p * q + p * r
    assert p + 0 == p and 0 + p == p
    assert p * 1 == p and 1 * p == p
    assert (p - p).is_zero() and p - q == -(q - p)
    assert p * 0 == Poly()


@pytest.mark.parametrize("seed", range(8))
def test_evaluation_is_a_ring_homomorphism(seed):
    p, q = _random_polys(seed, 2)
    for x in POINTS:
        assert (p + q).evaluate(x) == p.evaluate(x) + q.evaluate(x)
        assert (p * q).evaluate(x) == p.evaluate(x) * q.evaluate(x)
        assert (p - q).evaluate(x) == p.evaluate(x) - q.evaluate(x)
        assert p.evaluate(x) == _value(p.terms, x)
        assert isinstance(p.evaluate(x), Fraction)


@pytest.mark.parametrize("seed", range(6))
def test_division_by_monomials(seed):
    p, = _random_polys(seed, 1)
    for divisor in (N, N**2 * 3, Poly.const(Fraction(-2, 5)), N**-1):
        quotient = p / divisor
        assert quotient * divisor == p
        for x in POINTS:
            assert quotient.evaluate(x) == p.evaluate(x) / divisor.evaluate(x)
    assert 1 / N == N**-1 == Poly({-1: 1})
    assert (N**-2) * N**2 == 1


def test_exact_values_and_constructors():
    c = (N - 1) * (N + 1) / N
    assert c.terms == {1: Fraction(1), -1: Fraction(-1)}
    assert c.evaluate(4) == Fraction(15, 4)
    assert Poly.parse_number("0.25") == Poly.const(Fraction(1, 4))
    assert Poly.parse_number("-2/5").constant() == Fraction(-2, 5)
    assert Poly.n(3).evaluate(10) == 1000
    assert Poly({2: 0, 1: 0}).is_zero()
    assert not Poly() and N and Poly.const(-1)              # truthiness: zero is falsy
    assert N.constant() is None and Poly().constant() == 0 and Poly.const(7).constant() == 7
    assert N.is_monomial() and not (N + 1).is_monomial() and not Poly().is_monomial()
    assert list((N**-1 + 3 + N**2).terms) == [2, 0, -1]          # highest exponent first
    assert (N + 1) ** 3 == N**3 + 3 * N**2 + 3 * N + 1
    assert (N**2).substitute(-N) == N**2 and (N**3).substitute(-N) == -(N**3)
    assert (N + N**-1).substitute(-N) == -(N + N**-1)


def test_equality_and_hash_with_numbers():
    assert Poly.const(3) == 3 and Poly.const(Fraction(1, 2)) == Fraction(1, 2)
    assert Poly() == 0
    assert hash(Poly.const(3)) == hash(3)                   # equal objects hash equal
    assert hash(Poly()) == hash(0)
    assert hash(Poly.const(Fraction(1, 2))) == hash(Fraction(1, 2))
    assert {Poly.const(3): "x"}[3] == "x"
    assert len({N + 1, 1 + N, Poly({1: 1, 0: 1})}) == 1
    assert N != 1 and N != "n"


def test_numpy_integers_are_scalars():
    assert as_poly(np.int64(3)) == 3
    assert N * np.int64(2) == 2 * N


@pytest.mark.parametrize("poly, text", [
    (Poly(), "0"),
    (Poly.const(3), "3"),
    (Poly.const(Fraction(-1, 2)), "-1/2"),
    (N, "n"),
    (-(N**2), "-n^2"),
    (2 * N**-1, "2*n^-1"),
    (Fraction(1, 3) * N, "1/3*n"),
    (N - N**-1, "n - n^-1"),
    (N**2 - 2 * N + 1, "n^2 - 2*n + 1"),
])
def test_printing(poly, text):
    assert str(poly) == text
    assert repr(poly) == f"Poly({text!r})"


def test_division_errors():
    with pytest.raises(DiagramError) as err:
        N / (N + 1)
    assert str(err.value) == messages.NOT_LAURENT.format(divisor=N + 1)
    with pytest.raises(DiagramError, match=messages.ZERO_DIVISION):
        N / 0
    with pytest.raises(DiagramError, match=messages.ZERO_DIVISION):
        Poly.const(2) / Poly()
    with pytest.raises(DiagramError, match=messages.ZERO_DIVISION):
        (N**-1).evaluate(0)
    with pytest.raises(DiagramError):
        (N + 1) ** -1
    with pytest.raises(DiagramError):
        N.substitute(N + 1)
    assert N.evaluate(0) == 0


@pytest.mark.parametrize("bad", [0.5, "1", True, None, [1], complex(1, 1)])
def test_bad_scalars(bad):
    with pytest.raises(CatnnError) as err:
        N + bad
    assert str(err.value) == messages.BAD_SCALAR.format(kind=type(bad).__name__)
    with pytest.raises(CatnnError):
        as_poly(bad)
    with pytest.raises(CatnnError):
        N * bad
