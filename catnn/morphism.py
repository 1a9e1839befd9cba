"""Morphisms: finite linear combinations of diagrams with exact coefficients.

>>> from catnn.diagram import identity, swap, cap, cup
>>> sym = (identity(2) + swap()) / 2
>>> print(sym)
1/2 * {1, 1'} {2, 2'} + 1/2 * {1, 2'} {2, 1'}
>>> sym >> sym == sym                     # the symmetriser is idempotent
True
>>> print(cup() >> cap())                 # a closed loop is worth n
n * id(0)

``>>`` (first, then), ``@`` (tensor), ``+``, ``-`` and scalar ``*`` are bilinear. Each morphism
remembers the value of a closed loop (``n`` in P(n) and B(n); ``-n`` for Sp(n), math.md §a.6).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

from . import messages
from .coeff import Poly, as_poly
from .errors import DiagramError
from .kinds import HOOKS, Frozen, svg

__all__ = ["Morphism", "as_morphism"]


class Morphism(Frozen):
    """An immutable linear combination ``sum c_d d`` of (k, l)-diagrams.

    >>> from catnn.diagram import identity
    >>> m = Morphism.of(identity(1)) * 3
    >>> m.k, m.l, m.coefficient(identity(1))
    (1, 1, Poly('3'))
    """

    __slots__ = ("k", "l", "loop", "_terms", "_hash")

    def __init__(self, terms: Iterable[tuple[Any, Poly | int | Fraction]], k: int, l: int,
                 loop: Poly | None = None) -> None:
        self.k, self.l = k, l
        self.loop = Poly.n() if loop is None else loop
        acc: dict[Any, Poly] = {}
        for diagram, coeff in terms:
            if (diagram.k, diagram.l) != (k, l):
                raise DiagramError(messages.ARITY_SUM.format(k1=k, l1=l, k2=diagram.k, l2=diagram.l))
            acc[diagram] = acc.get(diagram, Poly()) + as_poly(coeff)
        items = sorted(((d, c) for d, c in acc.items() if not c.is_zero()), key=lambda t: t[0].sort_key())
        self._terms: tuple[tuple[Any, Poly], ...] = tuple(items)
        self._hash = hash(self._terms[0][0]) if self._is_bare() else hash((k, l, self.loop, self._terms))

    @classmethod
    def of(cls, diagram: Any, coeff: Poly | int | Fraction = 1, loop: Poly | None = None) -> Morphism:
        """The one-term morphism ``coeff * diagram``."""
        return cls([(diagram, coeff)], diagram.k, diagram.l, loop)

    @classmethod
    def zero(cls, k: int, l: int, loop: Poly | None = None) -> Morphism:
        """The zero morphism k -> l."""
        return cls([], k, l, loop)

    # -- inspection ---------------------------------------------------------------------------
    @property
    def terms(self) -> tuple[tuple[Any, Poly], ...]:
        """``((diagram, coefficient), ...)`` in canonical order, no zero coefficients."""
        return self._terms

    @property
    def diagrams(self) -> tuple[Any, ...]:
        """The diagrams with non-zero coefficient."""
        return tuple(d for d, _ in self._terms)

    def coefficient(self, diagram: Any) -> Poly:
        """The coefficient of ``diagram`` (zero if absent)."""
        return dict(self._terms).get(diagram, Poly())

    def evaluate(self, n: int) -> list[tuple[Any, Fraction]]:
        """The terms with coefficients evaluated exactly at a concrete ``n``."""
        return [(d, c.evaluate(n)) for d, c in self._terms]

    def is_zero(self) -> bool:
        """True if no term is left."""
        return not self._terms

    def with_loop(self, loop: Poly) -> Morphism:
        """The same terms in a category whose closed loop is worth ``loop`` (e.g. ``-n`` for Sp)."""
        return Morphism(self._terms, self.k, self.l, loop)

    def _is_bare(self) -> bool:
        """True for ``1 * d`` in P(n): such a morphism equals (and hashes as) the diagram d."""
        return (len(self._terms) == 1 and self._terms[0][1] == 1 and self.loop == Poly.n())

    # -- algebra ------------------------------------------------------------------------------
    def _check_loop(self, other: Morphism) -> None:
        if self.loop != other.loop:
            raise DiagramError(messages.LOOP_MISMATCH.format(a=self.loop, b=other.loop))

    def __add__(self, other: object) -> Morphism:
        if type(other) is int and other == 0:     # the start value of the builtin sum()
            return self
        other = as_morphism(other, self.loop)
        self._check_loop(other)
        if (self.k, self.l) != (other.k, other.l):
            raise DiagramError(messages.ARITY_SUM.format(k1=self.k, l1=self.l, k2=other.k, l2=other.l))
        return Morphism(self._terms + other._terms, self.k, self.l, self.loop)

    __radd__ = __add__

    def __neg__(self) -> Morphism:
        return Morphism([(d, -c) for d, c in self._terms], self.k, self.l, self.loop)

    def __sub__(self, other: object) -> Morphism:
        return self + (-as_morphism(other, self.loop))

    def __rsub__(self, other: object) -> Morphism:
        return as_morphism(other, self.loop) - self

    def __mul__(self, scalar: object) -> Morphism:
        if isinstance(scalar, Frozen):   # a morphism or a diagram: not a scalar
            return NotImplemented
        factor = as_poly(scalar)
        return Morphism([(d, c * factor) for d, c in self._terms], self.k, self.l, self.loop)

    __rmul__ = __mul__

    def __truediv__(self, scalar: object) -> Morphism:
        divisor = as_poly(scalar)
        return Morphism([(d, c / divisor) for d, c in self._terms], self.k, self.l, self.loop)

    def __rshift__(self, other: object) -> Morphism:
        """``self`` then ``other``, extended bilinearly."""
        other = as_morphism(other, self.loop)
        self._check_loop(other)
        if self.l != other.k:
            raise DiagramError(messages.ARITY_COMPOSE.format(
                left=_short(self), lout=self.l, right=_short(other), rin=other.k))
        terms = [(d, c1 * c2 * c)
                 for d1, c1 in self._terms for d2, c2 in other._terms
                 for c, d in _compose_pair(d1, d2, self.loop)]
        return Morphism(terms, self.k, other.l, self.loop)

    def __rrshift__(self, other: object) -> Morphism:
        return as_morphism(other, self.loop) >> self

    def __matmul__(self, other: object) -> Morphism:
        """``self`` left of ``other``, extended bilinearly."""
        other = as_morphism(other, self.loop)
        self._check_loop(other)
        terms = [(d, c1 * c2 * c)
                 for d1, c1 in self._terms for d2, c2 in other._terms
                 for c, d in _tensor_pair(d1, d2)]
        return Morphism(terms, self.k + other.k, self.l + other.l, self.loop)

    def __rmatmul__(self, other: object) -> Morphism:
        return as_morphism(other, self.loop) @ self

    @property
    def T(self) -> Morphism:
        """The flip of every term."""
        terms = [(t, c * s) for d, c in self._terms for s, t in _transpose_terms(d)]
        return Morphism(terms, self.l, self.k, self.loop)

    def __pow__(self, power: int) -> Morphism:
        """The tensor power ``self @ self @ ...`` (``power`` factors; 0 gives the empty diagram)."""
        from .diagram import identity
        if isinstance(power, bool) or not isinstance(power, int) or power < 0:
            raise DiagramError(messages.NEGATIVE_ARITY.format(value=power))
        result = as_morphism(identity(0), self.loop)
        for _ in range(power):
            result = result @ self
        return result

    # -- identity and printing ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Morphism):
            return (self.k, self.l, self.loop, self._terms) == (other.k, other.l, other.loop, other._terms)
        if hasattr(other, "_compose_terms"):
            return self._is_bare() and self._terms[0][0] == other
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        """DSL text that parses back to an equal morphism.

        >>> from catnn.diagram import identity
        >>> print(Morphism.zero(1, 1)), print(Morphism.of(identity(1), Poly.n() - 1))
        0 * {1} {1'}
        (n - 1) * {1, 1'}
        (None, None)
        """
        if not self._terms:
            return f"0 * {_zero_witness(self.k, self.l)}"
        text = ""
        for i, (d, c) in enumerate(self._terms):
            sign, c = ("-", -c) if _is_negative(c) else ("+", c)
            term = str(d) if c == 1 else f"{_coeff_text(c)} * {d}"
            text += (f"-{term}" if sign == "-" else term) if i == 0 else f" {sign} {term}"
        return text

    def __repr__(self) -> str:
        return f"<Morphism {self.k} -> {self.l}: {self}>"

    def _repr_svg_(self) -> str | None:
        """The drawing Jupyter shows inline (see :mod:`catnn.draw`)."""
        return svg(self)


# Diagram kinds meet through these hooks: a kind whose flip carries a sign (ε-diagrams, jellyfish)
# provides ``_transpose_terms()``; a kind that can follow or sit right of a partition diagram provides
# ``_rcompose_terms(first, loop)`` / ``_rtensor_terms(left)`` (tried when the two kinds differ).
def _compose_pair(d1: Any, d2: Any, loop: Poly) -> list[tuple[Poly, Any]]:
    if type(d1) is not type(d2) and hasattr(d2, "_rcompose_terms"):
        return d2._rcompose_terms(d1, loop)
    return d1._compose_terms(d2, loop)


def _tensor_pair(d1: Any, d2: Any) -> list[tuple[Poly, Any]]:
    if type(d1) is not type(d2) and hasattr(d2, "_rtensor_terms"):
        return d2._rtensor_terms(d1)
    return d1._tensor_terms(d2)


def _transpose_terms(d: Any) -> list[tuple[Poly, Any]]:
    if hasattr(d, "_transpose_terms"):
        return d._transpose_terms()
    return [(Poly.const(1), d.T)]


def _is_negative(c: Poly) -> bool:
    return next(iter(c.terms.values())) < 0


def _coeff_text(c: Poly) -> str:
    return str(c) if c.is_monomial() else f"({c})"


def _short(m: Morphism) -> str:
    text = str(m)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _zero_witness(k: int, l: int) -> str:
    from .diagram import Diagram
    return str(Diagram([[v] for v in range(1, k + l + 1)], k, l)) if k + l else "id(0)"


def as_morphism(value: object, loop: Poly | None = None) -> Morphism:
    """``value`` (a diagram or morphism) as a morphism with the given loop value."""
    if isinstance(value, Morphism):
        return value
    if hasattr(value, "_compose_terms"):
        return Morphism.of(value, 1, loop)
    raise DiagramError(messages.NOT_DIAGRAM.format(kind=type(value).__name__))


HOOKS["morphism"] = Morphism
