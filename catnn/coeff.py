"""Exact coefficients: Laurent polynomials in the dimension symbol ``n`` over the rationals.

>>> n = Poly.n()
>>> c = (n - 1) * (n + 1) / n
>>> str(c)
'n - n^-1'
>>> c.evaluate(4)
Fraction(15, 4)
>>> Poly.parse_number("3/6") == Poly.const(Fraction(1, 2))
True

A coefficient stays exact until a concrete ``n`` is given; ``evaluate`` returns a ``Fraction``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from numbers import Rational
from typing import Any, Union

from . import messages
from .errors import DiagramError
from .kinds import Frozen

__all__ = ["Poly", "Scalar", "as_poly", "MPoly", "as_mpoly"]

Scalar = Union[int, Fraction, "Poly"]


class _Laurent:
    """What :class:`Poly` and :class:`MPoly` share: division from the right, powers, equality with
    numbers, hashing and printing. A subclass sets ``_coerce`` (a number or polynomial to its kind),
    ``_text`` (one term as text) and its ``const``.
    """

    __slots__ = ()

    def is_zero(self) -> bool:
        """True for the zero polynomial."""
        return not self._terms

    def __bool__(self) -> bool:
        return bool(self._terms)

    def is_monomial(self) -> bool:
        """True for a single term ``c * n^e`` (``c * n_0^e0 * n_1^e1 ...``) with ``c != 0``."""
        return len(self._terms) == 1

    def __rtruediv__(self, other: object) -> Any:
        return type(self)._coerce(other) / self

    def __pow__(self, power: int) -> Any:
        if power < 0:
            return type(self).const(1) / self ** (-power)
        result = type(self).const(1)
        for _ in range(power):
            result = result * self
        return result

    def __eq__(self, other: object) -> bool:
        """Equal to polynomials of its own kind and to numbers (a Poly never equals an MPoly)."""
        if isinstance(other, Rational) and not isinstance(other, bool):
            other = type(self).const(Fraction(other))
        return isinstance(other, type(self)) and self._terms == other._terms

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        if not self._terms:
            return "0"
        parts = [type(self)._text(key, c) for key, c in self._terms.items()]
        text = parts[0]
        for part in parts[1:]:
            text += f" - {part[1:]}" if part.startswith("-") else f" + {part}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class Poly(_Laurent):
    """An immutable Laurent polynomial ``sum c_e n^e`` with rational ``c_e``.

    >>> Poly.n(2) + 3 == Poly({2: 1, 0: 3})
    True
    """

    __slots__ = ("_terms", "_hash")

    @staticmethod
    def _coerce(value: object) -> Poly:
        return as_poly(value)

    @staticmethod
    def _text(e: int, c: Fraction) -> str:
        return _monomial(e, c)

    def __init__(self, terms: dict[int, Fraction | int] | None = None) -> None:
        clean = {int(e): Fraction(c) for e, c in (terms or {}).items() if c != 0}
        self._terms = dict(sorted(clean.items(), reverse=True))
        # a constant equals (==) its number, so it must hash like it too
        constant = self.constant()
        self._hash = hash(constant) if constant is not None else hash(tuple(self._terms.items()))

    # -- constructors ------------------------------------------------------------------------
    @classmethod
    def const(cls, value: int | Fraction) -> Poly:
        """The constant polynomial ``value``."""
        return cls({0: value})

    @classmethod
    def n(cls, power: int = 1) -> Poly:
        """The monomial ``n^power``."""
        return cls({power: 1})

    @classmethod
    def parse_number(cls, text: str) -> Poly:
        """A constant from ``'3'``, ``'-2/5'`` or ``'0.25'`` (decimals are exact: 1/4)."""
        return cls.const(Fraction(text))

    # -- inspection ---------------------------------------------------------------------------
    @property
    def terms(self) -> dict[int, Fraction]:
        """``{exponent: coefficient}``, highest exponent first, no zeros."""
        return dict(self._terms)

    def constant(self) -> Fraction | None:
        """The value if this polynomial is constant, else None."""
        if not self._terms:
            return Fraction(0)
        if set(self._terms) == {0}:
            return self._terms[0]
        return None

    def evaluate(self, n: int | Fraction) -> Fraction:
        """The exact value at a concrete ``n`` (``n != 0`` when there are negative powers)."""
        if n == 0 and any(e < 0 for e in self._terms):
            raise DiagramError(messages.ZERO_DIVISION)
        value = Fraction(n)
        return sum((c * value**e for e, c in self._terms.items()), Fraction(0))

    def substitute(self, value: Poly) -> Poly:
        """This polynomial with ``n`` replaced by the monomial ``value`` (e.g. ``-n``)."""
        if not value.is_monomial():
            raise DiagramError(messages.NOT_LAURENT.format(divisor=value))
        return sum((value**e * c for e, c in self._terms.items()), Poly())

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other: Scalar) -> Poly:
        if _defers(other):
            return NotImplemented
        other = as_poly(other)
        terms = dict(self._terms)
        for e, c in other._terms.items():
            terms[e] = terms.get(e, 0) + c
        return Poly(terms)

    __radd__ = __add__

    def __neg__(self) -> Poly:
        return Poly({e: -c for e, c in self._terms.items()})

    def __sub__(self, other: Scalar) -> Poly:
        if _defers(other):
            return NotImplemented
        return self + (-as_poly(other))

    def __rsub__(self, other: Scalar) -> Poly:
        if _defers(other):
            return NotImplemented
        return as_poly(other) - self

    def __mul__(self, other: Scalar) -> Poly:
        if _defers(other):
            return NotImplemented
        other = as_poly(other)
        terms: dict[int, Fraction] = {}
        for e1, c1 in self._terms.items():
            for e2, c2 in other._terms.items():
                terms[e1 + e2] = terms.get(e1 + e2, 0) + c1 * c2
        return Poly(terms)

    __rmul__ = __mul__

    def __truediv__(self, other: Scalar) -> Poly:
        other = as_poly(other)
        if other.is_zero():
            raise DiagramError(messages.ZERO_DIVISION)
        if not other.is_monomial():
            raise DiagramError(messages.NOT_LAURENT.format(divisor=other))
        (e, c), = other._terms.items()
        return Poly({e0 - e: c0 / c for e0, c0 in self._terms.items()})


def _monomial(e: int, c: Fraction) -> str:
    """``c n^e`` as DSL text: ``3``, ``-1/2``, ``n``, ``-n^2``, ``2*n^-1``, ``1/3*n``."""
    power = "" if e == 0 else "n" if e == 1 else f"n^{e}"
    number = str(c)
    if not power:
        return number
    if c == 1:
        return power
    if c == -1:
        return f"-{power}"
    return f"{number}*{power}"


def _defers(other: object) -> bool:
    """True for diagrams and morphisms: ``c * d`` must reach their reflected operator."""
    return isinstance(other, Frozen)


def as_poly(value: object) -> Poly:
    """``value`` as a :class:`Poly`; ints (numpy's too), Fractions and Polys are accepted.

    >>> as_poly(2) + as_poly(Fraction(1, 2))
    Poly('5/2')
    """
    if isinstance(value, Poly):
        return value
    if isinstance(value, bool) or not isinstance(value, Rational):
        raise DiagramError(messages.BAD_SCALAR.format(kind=type(value).__name__))
    return Poly.const(Fraction(value))


# -- several size symbols: coefficients of products of groups --------------------------------
Monomial = tuple[tuple[int, int], ...]


class MPoly(_Laurent):
    """An immutable Laurent polynomial in the size symbols ``n_0, n_1, ...`` (one per sort of a
    product group) with rational coefficients; ``Poly`` stays the one-symbol case.

    >>> n0, n1 = MPoly.symbol(0), MPoly.symbol(1)
    >>> c = (n0 + 1) * n1**2 / n0
    >>> str(c), c.evaluate((2, 3))
    ('n_1^2 + n_0^-1*n_1^2', Fraction(27, 2))
    >>> MPoly.from_poly(Poly.n() - 1, 1) == n1 - 1
    True

    A monomial is a sorted tuple of ``(symbol index, non-zero exponent)``; ``()`` is the constant 1.
    """

    __slots__ = ("_terms", "_hash")

    @staticmethod
    def _coerce(value: object) -> MPoly:
        return as_mpoly(value)

    @staticmethod
    def _text(mono: Monomial, c: Fraction) -> str:
        return _mono_text(mono, c)

    def __init__(self, terms: dict[Monomial, Fraction | int] | None = None) -> None:
        clean = {tuple(sorted((int(s), int(e)) for s, e in mono if e)): Fraction(c)
                 for mono, c in (terms or {}).items() if c != 0}
        self._terms = dict(sorted(clean.items(), key=lambda t: _mono_key(t[0]), reverse=True))
        constant = self.constant()
        self._hash = hash(constant) if constant is not None else hash(tuple(self._terms.items()))

    # -- constructors ------------------------------------------------------------------------
    @classmethod
    def const(cls, value: int | Fraction) -> MPoly:
        """The constant ``value``."""
        return cls({(): value})

    @classmethod
    def symbol(cls, sort: int, power: int = 1) -> MPoly:
        """The monomial ``n_sort^power``."""
        return cls({((sort, power),): 1})

    @classmethod
    def parse(cls, text: str) -> MPoly:
        """The polynomial ``str`` writes (optionally in parentheses): ``-1/2*n_0^2*n_1 + 3``.

        >>> MPoly.parse("(n_0^-1*n_1 - 2/3)") == MPoly.symbol(1) / MPoly.symbol(0) - Fraction(2, 3)
        True
        """
        body = text.strip()
        if body.startswith("(") and body.endswith(")"):
            body = body[1:-1].strip()
        total = MPoly()
        pieces = _SIGNS.split(body)                # term, sign, term, sign, term ...
        for sign, term in zip(["+", *pieces[1::2]], pieces[0::2]):
            value = cls.const(-1 if sign == "-" else 1)
            if term.startswith("-"):
                value, term = -value, term[1:]
            for factor in term.split("*"):
                value = value * _parse_factor(factor.strip(), text)
            total = total + value
        return total

    @classmethod
    def from_poly(cls, poly: Poly, sort: int) -> MPoly:
        """A one-symbol ``Poly`` in n read as a polynomial in ``n_sort``."""
        return cls({((sort, e),): c for e, c in poly.terms.items()})

    # -- inspection ---------------------------------------------------------------------------
    @property
    def terms(self) -> dict[Monomial, Fraction]:
        """``{monomial: coefficient}``, highest total degree first, no zeros."""
        return dict(self._terms)

    def symbols(self) -> frozenset[int]:
        """The sorts whose symbol occurs with a non-zero exponent."""
        return frozenset(s for mono in self._terms for s, _ in mono)

    def constant(self) -> Fraction | None:
        """The value if this polynomial is constant, else None."""
        if not self._terms:
            return Fraction(0)
        if set(self._terms) == {()}:
            return self._terms[()]
        return None

    def evaluate(self, sizes: tuple[int | Fraction, ...] | list[int | Fraction]) -> Fraction:
        """The exact value at concrete sizes, ``sizes[s]`` for ``n_s``."""
        total = Fraction(0)
        for mono, c in self._terms.items():
            value = c
            for s, e in mono:
                if s >= len(sizes):
                    raise DiagramError(messages.MPOLY_SIZES.format(symbol=f"n_{s}", count=len(sizes)))
                if sizes[s] == 0 and e < 0:
                    raise DiagramError(messages.ZERO_DIVISION)
                value *= Fraction(sizes[s]) ** e
            total += value
        return total

    # -- arithmetic ---------------------------------------------------------------------------
    def __add__(self, other: object) -> MPoly:
        other = as_mpoly(other)
        terms = dict(self._terms)
        for mono, c in other._terms.items():
            terms[mono] = terms.get(mono, 0) + c
        return MPoly(terms)

    __radd__ = __add__

    def __neg__(self) -> MPoly:
        return MPoly({mono: -c for mono, c in self._terms.items()})

    def __sub__(self, other: object) -> MPoly:
        return self + (-as_mpoly(other))

    def __rsub__(self, other: object) -> MPoly:
        return as_mpoly(other) - self

    def __mul__(self, other: object) -> MPoly:
        if _defers(other):   # diagrams, morphisms, product diagrams and morphisms: their own operator
            return NotImplemented
        other = as_mpoly(other)
        terms: dict[Monomial, Fraction] = {}
        for m1, c1 in self._terms.items():
            for m2, c2 in other._terms.items():
                mono = _mono_product(m1, m2)
                terms[mono] = terms.get(mono, 0) + c1 * c2
        return MPoly(terms)

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> MPoly:
        other = as_mpoly(other)
        if other.is_zero():
            raise DiagramError(messages.ZERO_DIVISION)
        if not other.is_monomial():
            raise DiagramError(messages.NOT_LAURENT_SORTS.format(divisor=other))
        (mono, c), = other._terms.items()
        inverse = tuple((s, -e) for s, e in mono)
        return MPoly({_mono_product(m, inverse): c0 / c for m, c0 in self._terms.items()})


_SIGNS = re.compile(r"\s+([+-])\s+")
_SYMBOL = re.compile(r"n_(\d+)(?:\^(-?\d+))?")


def _parse_factor(factor: str, text: str) -> MPoly:
    """One factor of a monomial: ``n_1``, ``n_0^-2`` or a number."""
    symbol = _SYMBOL.fullmatch(factor)
    if symbol:
        return MPoly.symbol(int(symbol.group(1)), int(symbol.group(2) or 1))
    try:
        return MPoly.const(Fraction(factor))
    except ValueError:
        raise DiagramError(messages.MPOLY_TEXT.format(text=text, factor=factor)) from None


def _mono_key(mono: Monomial) -> tuple:
    """Highest total degree first, then by symbol exponents (deterministic printing)."""
    return (sum(e for _, e in mono), tuple((-s, e) for s, e in mono))


def _mono_product(a: Monomial, b: Monomial) -> Monomial:
    powers = dict(a)
    for s, e in b:
        powers[s] = powers.get(s, 0) + e
    return tuple(sorted((s, e) for s, e in powers.items() if e))


def _mono_text(mono: Monomial, c: Fraction) -> str:
    """``c * n_0^2*n_1`` as text: ``3``, ``n_1``, ``-n_0*n_1``, ``1/2*n_0^-1``."""
    power = "*".join(f"n_{s}" if e == 1 else f"n_{s}^{e}" for s, e in mono)
    if not power:
        return str(c)
    if c == 1:
        return power
    if c == -1:
        return f"-{power}"
    return f"{c}*{power}"


def as_mpoly(value: object) -> MPoly:
    """``value`` as an :class:`MPoly`: numbers, MPolys and constant Polys (a Poly in n does not say
    which sort's size it means, so a non-constant one is refused).

    >>> as_mpoly(Poly.const(2)) + MPoly.symbol(0)
    MPoly('n_0 + 2')
    """
    if isinstance(value, MPoly):
        return value
    if isinstance(value, Poly):
        constant = value.constant()
        if constant is None:
            raise DiagramError(messages.POLY_IN_PRODUCT.format(poly=value))
        return MPoly.const(constant)
    if isinstance(value, bool) or not isinstance(value, Rational):
        raise DiagramError(messages.BAD_SCALAR_SORTS.format(kind=type(value).__name__))
    return MPoly.const(Fraction(value))
