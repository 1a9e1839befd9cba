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

from fractions import Fraction
from numbers import Rational
from typing import Union

from . import messages
from .errors import DiagramError
from .kinds import Frozen

__all__ = ["Poly", "Scalar", "as_poly"]

Scalar = Union[int, Fraction, "Poly"]


class Poly:
    """An immutable Laurent polynomial ``sum c_e n^e`` with rational ``c_e``.

    >>> Poly.n(2) + 3 == Poly({2: 1, 0: 3})
    True
    """

    __slots__ = ("_terms", "_hash")

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

    def is_zero(self) -> bool:
        """True for the zero polynomial."""
        return not self._terms

    def __bool__(self) -> bool:
        return bool(self._terms)

    def is_monomial(self) -> bool:
        """True for ``c * n^e`` with ``c != 0``."""
        return len(self._terms) == 1

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

    def __rtruediv__(self, other: Scalar) -> Poly:
        return as_poly(other) / self

    def __pow__(self, power: int) -> Poly:
        if power < 0:
            return Poly.const(1) / self ** (-power)
        result = Poly.const(1)
        for _ in range(power):
            result = result * self
        return result

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Rational) and not isinstance(other, bool):
            other = Poly.const(Fraction(other))
        return isinstance(other, Poly) and self._terms == other._terms

    def __hash__(self) -> int:
        return self._hash

    # -- printing -----------------------------------------------------------------------------
    def __str__(self) -> str:
        if not self._terms:
            return "0"
        parts = [_monomial(e, c) for e, c in self._terms.items()]
        text = parts[0]
        for part in parts[1:]:
            text += f" - {part[1:]}" if part.startswith("-") else f" + {part}"
        return text

    def __repr__(self) -> str:
        return f"Poly({str(self)!r})"


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
