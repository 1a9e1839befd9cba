"""Products G_1 × … × G_r of catnn's groups acting on typed tensors, and their diagrams (math.md §f).

>>> from catnn.groups import group
>>> G = group("S(3) x O(2)")
>>> G.factors, G.ns
((catnn.group('S', n=3), catnn.group('O', n=2)), (3, 2))
>>> G.dimension((1, 1), (1, 1))                       # dim Hom_S(3)(1, 1) · dim Hom_O(2)(1, 1)
2
>>> [str(d) for d in G.spanning_set((1, 1), (1, 1))]
["({1, 1'} | {1, 1'})", "({1} {1'} | {1, 1'})"]

Sort s has its own space V_s = R^{n_s}; a typed tensor of orders k = (k_0, …, k_{r-1}) lives in
V_0^{⊗k_0} ⊗ … ⊗ V_{r-1}^{⊗k_{r-1}}, and Hom_G is the tensor product of the factors' Hom spaces: its
diagrams are :class:`ProductDiagram` tuples of per-sort diagrams, its dimension the product.

Sizes. Each factor has its own size, fixed (``"S(5) x S(7)"``) or free (``"S x S"``: two sizes, chosen
independently later); ``G.ns`` is the tuple (None for a free one) and ``G.at(ns)`` fixes them. A
product has no single ``n``: ``catnn.group("S x O", n=(5, 3))`` sets the sizes, an integer ``n`` is
refused. Orders are tuples with one entry per factor, everywhere.

Matrices. ``G.matrix(d)`` is dense, rows and columns flattened with all axes of sort 0 first, then
sort 1, …, each sort's axes in its own convention, so ``matrix((d_0, d_1)) = kron(M_0(d_0), M_1(d_1))``.
Coefficients are :class:`~catnn.coeff.MPoly` in ``n_0, n_1, …`` (a loop of sort s is worth ``n_s``,
``-n_s`` for Sp), exact until the sizes are given.

Text. A product diagram is written as its parts in parentheses, separated by ``|``:
``({1, 2'} {2, 1'} | eps[1, 1'])``; :meth:`ProductDiagram.parse` reads it back given the group.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from fractions import Fraction
from functools import lru_cache
from math import prod
from numbers import Integral
from typing import Any

import numpy as np

from .. import messages
from ..coeff import MPoly, Poly, as_mpoly
from ..dense import combine
from ..errors import DiagramError, GroupError, LimitError
from ..kinds import HOOKS, Frozen
from ..morphism import Morphism, _zero_witness
from .base import MAX_DENSE, MAX_SPANNING, Group, _count_text, rng_of

__all__ = ["ProductGroup", "ProductDiagram", "ProductMorphism", "Orders"]

Orders = tuple[int, ...]


class ProductDiagram(Frozen):
    """An immutable, hashable tuple of per-sort diagrams; ``k`` and ``l`` are tuples of orders.

    >>> from catnn.diagram import identity, swap, cup, cap
    >>> d = ProductDiagram([swap(), identity(1)])
    >>> d.k, d.l, str(d)
    ((2, 1), (2, 1), "({1, 2'} {2, 1'} | {1, 1'})")
    >>> print(ProductDiagram([cup(), cup()]) >> ProductDiagram([cap(), cap()]))
    n_0*n_1 * (id(0) | id(0))
    """

    __slots__ = ("parts", "k", "l", "_hash")

    def __init__(self, parts: Iterable[Any]) -> None:
        parts = tuple(parts)
        if not parts:
            raise DiagramError(messages.PRODUCT_EMPTY)
        for part in parts:
            if not hasattr(part, "_compose_terms"):
                raise DiagramError(messages.PRODUCT_PART.format(kind=type(part).__name__))
        self.parts = parts
        self.k: Orders = tuple(p.k for p in parts)
        self.l: Orders = tuple(p.l for p in parts)
        self._hash = hash(("product", parts))

    @classmethod
    def parse(cls, text: str, group: ProductGroup | str) -> ProductDiagram:
        """The product diagram written ``(d_0 | d_1 | …)``, each part read under its factor.

        >>> print(ProductDiagram.parse("({1, 1'} | eps[1, 1'])", "S x SO(2)"))
        ({1, 1'} | eps[1, 1'])
        """
        from . import group as make_group
        G = make_group(group)
        diagram = HOOKS["parse"]   # catnn.diagram: the language reads each part (registered by catnn.api)
        if not isinstance(G, ProductGroup):
            raise GroupError(messages.NOT_PRODUCT.format(group=G))
        inner = text.strip()
        if not (inner.startswith("(") and inner.endswith(")")):
            raise DiagramError(messages.PRODUCT_TEXT.format(text=text, why="it is not in parentheses"))
        pieces = inner[1:-1].split("|")
        if len(pieces) != len(G.factors):
            raise DiagramError(messages.PRODUCT_TEXT.format(
                text=text, why=f"it has {len(pieces)} parts but {G} has {len(G.factors)} sorts"))
        parts = [diagram(piece.strip(), factor) for piece, factor in zip(pieces, G.factors)]
        for s, part in enumerate(parts):
            if isinstance(part, Morphism):
                raise DiagramError(messages.PRODUCT_TEXT.format(text=text, why=f"part {s} is not one diagram"))
        return cls(parts)

    @property
    def sorts(self) -> int:
        """The number of sorts (parts)."""
        return len(self.parts)

    def sort_key(self) -> tuple:
        """A total order on product diagrams (the parts' orders, sort 0 first)."""
        return tuple(p.sort_key() for p in self.parts)

    def to_morphism(self) -> ProductMorphism:
        """This diagram as a one-term morphism (loops worth n_s)."""
        return ProductMorphism.of(self)

    @property
    def T(self) -> ProductMorphism:
        """Every part flipped (signed as each kind's flip is)."""
        return self.to_morphism().T

    def __rshift__(self, other: object) -> ProductMorphism:
        return self.to_morphism() >> other

    def __rrshift__(self, other: object) -> ProductMorphism:
        return as_product_morphism(other) >> self.to_morphism()

    def __matmul__(self, other: object) -> ProductMorphism:
        return self.to_morphism() @ other

    def __rmatmul__(self, other: object) -> ProductMorphism:
        return as_product_morphism(other) @ self.to_morphism()

    def __add__(self, other: object) -> ProductMorphism:
        return self.to_morphism() + other

    __radd__ = __add__

    def __sub__(self, other: object) -> ProductMorphism:
        return self.to_morphism() - other

    def __rsub__(self, other: object) -> ProductMorphism:
        return as_product_morphism(other) - self.to_morphism()

    def __neg__(self) -> ProductMorphism:
        return -self.to_morphism()

    def __mul__(self, scalar: object) -> ProductMorphism:
        return self.to_morphism() * scalar

    __rmul__ = __mul__

    def __truediv__(self, scalar: object) -> ProductMorphism:
        return self.to_morphism() / scalar

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ProductDiagram):
            return self.parts == other.parts
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        return "(" + " | ".join(str(p) for p in self.parts) + ")"

    def __repr__(self) -> str:
        return f"<ProductDiagram {self.k} -> {self.l}: {self}>"


class ProductMorphism(Frozen):
    """An immutable linear combination of product diagrams with :class:`~catnn.coeff.MPoly` coefficients.

    ``loops[s]`` is the value of a closed loop of sort s (``n`` by default; ``-n`` for Sp, set by
    ``ProductGroup.lift``), read as a polynomial in ``n_s``.

    >>> from catnn.diagram import identity, swap
    >>> sym = (ProductDiagram([identity(2)]) + ProductDiagram([swap()])) / 2
    >>> sym >> sym == sym, sym.k
    (True, (2,))
    """

    __slots__ = ("k", "l", "loops", "_terms", "_hash")

    def __init__(self, terms: Iterable[tuple[ProductDiagram, Any]], k: Orders, l: Orders,
                 loops: tuple[Poly, ...] | None = None) -> None:
        self.k, self.l = tuple(k), tuple(l)
        self.loops = tuple(Poly.n() for _ in self.k) if loops is None else tuple(loops)
        for other in (self.l, self.loops):
            if len(other) != len(self.k):
                raise DiagramError(messages.PRODUCT_SORTS.format(a=len(self.k), b=len(other)))
        acc: dict[ProductDiagram, MPoly] = {}
        for d, c in terms:
            if (d.k, d.l) != (self.k, self.l):
                raise DiagramError(messages.PRODUCT_ARITY_SUM.format(k1=self.k, l1=self.l, k2=d.k, l2=d.l))
            acc[d] = acc.get(d, MPoly()) + as_mpoly(c)
        items = sorted(((d, c) for d, c in acc.items() if c), key=lambda t: t[0].sort_key())
        self._terms: tuple[tuple[ProductDiagram, MPoly], ...] = tuple(items)
        bare = self._is_bare()
        self._hash = hash(self._terms[0][0]) if bare else hash((self.k, self.l, self.loops, self._terms))

    @classmethod
    def of(cls, d: ProductDiagram, coeff: Any = 1, loops: tuple[Poly, ...] | None = None) -> ProductMorphism:
        """The one-term morphism ``coeff * d``."""
        return cls([(d, coeff)], d.k, d.l, loops)

    @classmethod
    def zero(cls, k: Orders, l: Orders, loops: tuple[Poly, ...] | None = None) -> ProductMorphism:
        """The zero morphism k -> l."""
        return cls([], k, l, loops)

    @classmethod
    def parse(cls, text: str, group: ProductGroup | str) -> ProductMorphism:
        """The morphism ``str`` writes, ``c * (d_0 | d_1) + …``, in the group's category (its loops).

        >>> m = ProductMorphism.parse("-1/2*n_0*n_1 * ({1, 1'} | id(0)) + ({1} {1'} | id(0))", "S x Sp")
        >>> m.loops, str(m) == "-1/2*n_0*n_1 * ({1, 1'} | id(0)) + ({1} {1'} | id(0))"
        ((Poly('n'), Poly('-n')), True)
        """
        from . import group as make_group
        G = make_group(group)
        if not isinstance(G, ProductGroup):
            raise GroupError(messages.NOT_PRODUCT.format(group=G))
        terms = []
        for sign, term in _top_level_terms(text):
            head, star, tail = _split_top(term, " * ")
            coeff = MPoly.parse(head) if star else MPoly.const(1)
            witness = star and coeff.is_zero()          # "0 * (…)" names the orders only
            d = ProductDiagram.parse(tail if star else head, " x ".join(["S"] * len(G.factors)) if witness else G)
            terms.append((d, coeff * sign))
        if not terms:
            raise DiagramError(messages.PRODUCT_TERM.format(term=text))
        k, l = terms[0][0].k, terms[0][0].l
        return G.lift(cls([(d, c) for d, c in terms if c], k, l, G.loops))

    # -- inspection ---------------------------------------------------------------------------
    @property
    def terms(self) -> tuple[tuple[ProductDiagram, MPoly], ...]:
        """``((diagram, coefficient), ...)`` in canonical order, no zero coefficients."""
        return self._terms

    @property
    def diagrams(self) -> tuple[ProductDiagram, ...]:
        """The diagrams with non-zero coefficient."""
        return tuple(d for d, _ in self._terms)

    def coefficient(self, d: ProductDiagram) -> MPoly:
        """The coefficient of ``d`` (zero if absent)."""
        return dict(self._terms).get(d, MPoly())

    def evaluate(self, sizes: Sequence[int]) -> list[tuple[ProductDiagram, Fraction]]:
        """The terms with coefficients evaluated exactly at concrete sizes ``n_s = sizes[s]``."""
        return [(d, c.evaluate(tuple(sizes))) for d, c in self._terms]

    def is_zero(self) -> bool:
        """True if no term is left."""
        return not self._terms

    def with_loops(self, loops: tuple[Poly, ...]) -> ProductMorphism:
        """The same terms in a category whose loop of sort s is worth ``loops[s]``."""
        return ProductMorphism(self._terms, self.k, self.l, loops)

    def _is_bare(self) -> bool:
        """True for ``1 * d`` with every loop worth n: it equals (and hashes as) d."""
        return len(self._terms) == 1 and self._terms[0][1] == 1 and all(x == Poly.n() for x in self.loops)

    # -- algebra ------------------------------------------------------------------------------
    def _operand(self, other: object) -> ProductMorphism:
        sorts = other.sorts if isinstance(other, ProductDiagram) else len(as_product_morphism(other).k)
        if sorts != len(self.k):
            raise DiagramError(messages.PRODUCT_SORTS.format(a=len(self.k), b=sorts))
        other = as_product_morphism(other, self.loops)
        if other.loops != self.loops:
            a, b = (", ".join(str(x) for x in loops) for loops in (self.loops, other.loops))
            raise DiagramError(messages.LOOP_MISMATCH.format(a=f"({a})", b=f"({b})"))
        return other

    def __add__(self, other: object) -> ProductMorphism:
        if type(other) is int and other == 0:     # the start value of the builtin sum()
            return self
        other = self._operand(other)
        if (self.k, self.l) != (other.k, other.l):
            raise DiagramError(messages.PRODUCT_ARITY_SUM.format(k1=self.k, l1=self.l, k2=other.k, l2=other.l))
        return ProductMorphism(self._terms + other._terms, self.k, self.l, self.loops)

    __radd__ = __add__

    def __neg__(self) -> ProductMorphism:
        return ProductMorphism([(d, -c) for d, c in self._terms], self.k, self.l, self.loops)

    def __sub__(self, other: object) -> ProductMorphism:
        return self + (-self._operand(other))

    def __rsub__(self, other: object) -> ProductMorphism:
        return self._operand(other) - self

    def __mul__(self, scalar: object) -> ProductMorphism:
        if isinstance(scalar, (ProductMorphism, ProductDiagram)):
            return NotImplemented
        factor = as_mpoly(scalar)
        return ProductMorphism([(d, c * factor) for d, c in self._terms], self.k, self.l, self.loops)

    __rmul__ = __mul__

    def __truediv__(self, scalar: object) -> ProductMorphism:
        divisor = as_mpoly(scalar)
        return ProductMorphism([(d, c / divisor) for d, c in self._terms], self.k, self.l, self.loops)

    def __rshift__(self, other: object) -> ProductMorphism:
        """``self`` then ``other``, per sort, extended bilinearly."""
        other = self._operand(other)
        for s, (out, into) in enumerate(zip(self.l, other.k)):
            if out != into:
                raise DiagramError(messages.PRODUCT_COMPOSE.format(
                    sort=s, left=_short(self), lout=out, right=_short(other), rin=into))
        terms = [(d, c1 * c2 * c)
                 for d1, c1 in self._terms for d2, c2 in other._terms
                 for c, d in self._per_sort(lambda a, b: a >> b, d1.parts, d2.parts)]
        return ProductMorphism(terms, self.k, other.l, self.loops)

    def __rrshift__(self, other: object) -> ProductMorphism:
        return self._operand(other) >> self

    def __matmul__(self, other: object) -> ProductMorphism:
        """``self`` left of ``other`` in every sort, extended bilinearly."""
        other = self._operand(other)
        terms = [(d, c1 * c2 * c)
                 for d1, c1 in self._terms for d2, c2 in other._terms
                 for c, d in self._per_sort(lambda a, b: a @ b, d1.parts, d2.parts)]
        k = tuple(a + b for a, b in zip(self.k, other.k))
        l = tuple(a + b for a, b in zip(self.l, other.l))
        return ProductMorphism(terms, k, l, self.loops)

    def __rmatmul__(self, other: object) -> ProductMorphism:
        return self._operand(other) @ self

    @property
    def T(self) -> ProductMorphism:
        """The flip of every part of every term (the kinds' signs included)."""
        terms = [(t, c * s) for d, c in self._terms
                 for s, t in self._per_sort(lambda a, _: a.T, d.parts, d.parts)]
        return ProductMorphism(terms, self.l, self.k, self.loops)

    def _per_sort(self, operation: Any, left: tuple[Any, ...],
                  right: tuple[Any, ...]) -> list[tuple[MPoly, ProductDiagram]]:
        """``operation`` on the one-term morphisms of each sort, its terms multiplied out across sorts
        (a coefficient of sort s, a polynomial in n, becomes one in n_s)."""
        per_sort = []
        for s, (a, b, loop) in enumerate(zip(left, right, self.loops)):
            value = operation(Morphism.of(a, 1, loop), Morphism.of(b, 1, loop))
            per_sort.append([(MPoly.from_poly(c, s), d) for d, c in value.terms])
        out = []
        for choice in itertools.product(*per_sort):
            coeff = MPoly.const(1)
            for c, _ in choice:
                coeff = coeff * c
            out.append((coeff, ProductDiagram(d for _, d in choice)))
        return out

    # -- identity and printing ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, ProductMorphism):
            return (self.k, self.l, self.loops, self._terms) == (other.k, other.l, other.loops, other._terms)
        if isinstance(other, ProductDiagram):
            return self._is_bare() and self._terms[0][0] == other
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        """``c * (d_0 | d_1) + …``, coefficients in n_0, n_1, …"""
        if not self._terms:
            return "0 * (" + " | ".join(_zero_witness(k, l) for k, l in zip(self.k, self.l)) + ")"
        text = ""
        for i, (d, c) in enumerate(self._terms):
            negative = next(iter(c.terms.values())) < 0
            c = -c if negative else c
            term = str(d) if c == 1 else f"{c if c.is_monomial() else f'({c})'} * {d}"
            if i == 0:
                text = f"-{term}" if negative else term
            else:
                text += f" {'-' if negative else '+'} {term}"
        return text

    def __repr__(self) -> str:
        return f"<ProductMorphism {self.k} -> {self.l}: {self}>"


def as_product_morphism(value: object, loops: tuple[Poly, ...] | None = None) -> ProductMorphism:
    """``value`` (a product diagram or morphism) as a product morphism with the given loop values."""
    if isinstance(value, ProductMorphism):
        return value
    if isinstance(value, ProductDiagram):
        return ProductMorphism.of(value, 1, loops)
    raise DiagramError(messages.PRODUCT_OPERAND.format(kind=type(value).__name__))


def _top_level_terms(text: str) -> list[tuple[int, str]]:
    """``(sign, term)`` for the terms of a sum, split at `` + `` and `` - `` outside any brackets."""
    out, depth, start, sign = [], 0, 0, 1
    body = text.strip()
    if body.startswith("-"):
        body, sign = body[1:], -1
    i = 0
    while i < len(body):
        char = body[i]
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0 and body[i:i + 3] in (" + ", " - "):
            out.append((sign, body[start:i].strip()))
            sign, start, i = (1 if body[i + 1] == "+" else -1), i + 3, i + 3
            continue
        i += 1
    out.append((sign, body[start:].strip()))
    return [(s, t) for s, t in out if t]


def _split_top(text: str, separator: str) -> tuple[str, str, str]:
    """``text.partition(separator)`` at the first separator outside any brackets."""
    depth = 0
    for i, char in enumerate(text):
        depth += char in "([{"
        depth -= char in ")]}"
        if depth == 0 and text.startswith(separator, i):
            return text[:i], separator, text[i + len(separator):]
    return text, "", ""


def _short(m: ProductMorphism) -> str:
    text = str(m)
    return text if len(text) <= 40 else f"{text[:37]}..."


class ProductGroup:
    """G_0 × … × G_{r-1}: factor s acts on its own R^{n_s} (see the module docstring).

    >>> from catnn.groups import group
    >>> G = ProductGroup([group("S"), group("Sp", n=2)])
    >>> str(G), G.ns, G.at((4, 2)).dimension((2, 0), (2, 0))
    ('S(n) x Sp(2)', (None, 2), 15)
    """

    def __init__(self, factors: Iterable[Group]) -> None:
        self.factors: tuple[Group, ...] = tuple(factors)
        if not self.factors:
            raise GroupError(messages.PRODUCT_EMPTY_GROUP)
        for f in self.factors:
            if not isinstance(f, Group):
                raise GroupError(messages.PRODUCT_FACTOR.format(kind=type(f).__name__))

    # -- sizes --------------------------------------------------------------------------------
    @property
    def ns(self) -> tuple[int | None, ...]:
        """The factors' sizes, None for a free one."""
        return tuple(f.n for f in self.factors)

    @property
    def loops(self) -> tuple[Poly, ...]:
        """The value of a closed loop of each sort, as a polynomial in n (n; -n for Sp)."""
        return tuple(f.loop for f in self.factors)

    def at(self, ns: Sequence[int | None]) -> ProductGroup:
        """The same product with sizes ``ns`` (a fixed size must agree; None keeps a factor's own)."""
        if len(ns) != len(self.factors):
            raise GroupError(messages.PRODUCT_SIZES.format(group=self, r=len(self.factors), ns=tuple(ns)))
        out = []
        for f, n in zip(self.factors, ns):
            if n is None or f.n == n:
                out.append(f)
            elif f.n is not None:
                raise GroupError(messages.BAD_SIZE.format(group=f.name, condition=f"n={f.n}", n=n))
            else:
                out.append(type(f)(n))
        return ProductGroup(out)

    def require_ns(self, what: str) -> tuple[int, ...]:
        """Every factor's size, or a clear error saying that ``what`` needs them."""
        if any(n is None for n in self.ns):
            raise GroupError(messages.PRODUCT_NEEDS_NS.format(what=what, group=self))
        return tuple(int(n) for n in self.ns)  # type: ignore[arg-type]

    # -- Hom spaces ---------------------------------------------------------------------------
    def check_orders(self, k: Any, l: Any) -> tuple[Orders, Orders]:
        """``k`` and ``l`` as tuples of one non-negative integer per factor, else GroupError."""
        r = len(self.factors)
        for value in (k, l):
            if not isinstance(value, (tuple, list)) or len(value) != r:
                raise GroupError(messages.PRODUCT_ORDERS.format(group=self, r=r, value=value))
            for entry in value:
                if isinstance(entry, bool) or not isinstance(entry, Integral) or entry < 0:
                    raise GroupError(messages.NEGATIVE_ARITY.format(value=entry))
        return tuple(int(x) for x in k), tuple(int(x) for x in l)

    def spanning_count(self, k: Orders, l: Orders) -> int:
        """How many tuples ``spanning_set(k, l)`` has: the product of the factors' counts."""
        k, l = self.check_orders(k, l)
        return prod(f.spanning_count(a, b) for f, a, b in zip(self.factors, k, l))

    def spanning_set(self, k: Orders, l: Orders) -> tuple[ProductDiagram, ...]:
        """Every tuple of the factors' spanning diagrams (factor 0 slowest); LimitError above
        ``MAX_SPANNING`` tuples."""
        k, l = self.check_orders(k, l)
        count = self.spanning_count(k, l)
        if count > MAX_SPANNING:
            raise LimitError(messages.TOO_LARGE.format(
                what=f"the {self} spanning set for {k} -> {l}", count=_count_text(count),
                limit=MAX_SPANNING, m=sum(k) + sum(l)))
        return _cached_tuples(self, k, l, "spanning_set")

    def basis(self, k: Orders, l: Orders) -> tuple[ProductDiagram, ...]:
        """Every tuple of the factors' basis diagrams: independent, of size ``dimension(k, l)``."""
        k, l = self.check_orders(k, l)
        self.require_ns("basis")
        return _cached_tuples(self, k, l, "basis")

    def dimension(self, k: Orders, l: Orders) -> int:
        """dim Hom_G = Π_s dim Hom_{G_s}(V_s^{⊗k_s}, V_s^{⊗l_s})."""
        k, l = self.check_orders(k, l)
        self.require_ns("dimension")
        return prod(f.dimension(a, b) for f, a, b in zip(self.factors, k, l))

    # -- the functor --------------------------------------------------------------------------
    def accepts(self, d: Any) -> bool:
        """True if ``d`` is a product diagram whose part s belongs to factor s's category."""
        return (isinstance(d, ProductDiagram) and d.sorts == len(self.factors)
                and all(f.accepts(p) for f, p in zip(self.factors, d.parts)))

    def lift(self, x: Any) -> ProductMorphism:
        """``x`` as a morphism of this product's category (loop of sort s worth the factor's loop).

        A morphism built with another loop value in sort s (e.g. ``>>`` on bare diagrams, loops worth
        n, for an Sp factor) is refused when its coefficients involve n_s; use ``G.compose``.
        """
        m = as_product_morphism(x)
        for d, _ in m.terms:
            self._check_diagram(d)
        changed = {s for s, (a, b) in enumerate(zip(m.loops, self.loops)) if a != b}
        if any(changed & c.symbols() for _, c in m.terms):
            raise GroupError(messages.PRODUCT_LOOP.format(group=self))
        return m.with_loops(self.loops)

    def _check_diagram(self, d: ProductDiagram) -> None:
        if d.sorts != len(self.factors):
            raise GroupError(messages.PRODUCT_WRONG_SORTS.format(d=d, sorts=d.sorts, group=self,
                                                                 r=len(self.factors)))
        for s, (f, part) in enumerate(zip(self.factors, d.parts)):
            if not f.accepts(part):
                raise GroupError(messages.PRODUCT_REJECT.format(sort=s, group=f, why=f.reject_message(part)))

    def compose(self, f: Any, g: Any) -> ProductMorphism:
        """``f`` then ``g`` in this product's category (loops of sort s worth the factor's loop)."""
        return self.lift(f) >> self.lift(g)

    def matrix(self, x: Any) -> np.ndarray:
        """The dense exact matrix (Π n_s^{l_s}, Π n_s^{k_s}) of a product diagram or morphism: axes of
        sort 0 first, so a diagram's matrix is the kron of its parts' matrices (int64, or Fractions)."""
        ns = self.require_ns("matrix")
        m = self.lift(x)
        entries = prod(n ** (a + b) for n, a, b in zip(ns, m.k, m.l))
        if entries > MAX_DENSE:
            raise LimitError(messages.TOO_LARGE.format(
                what=f"the dense {m.k} -> {m.l} matrix of {self}", count=entries, limit=MAX_DENSE,
                m=sum(m.k) + sum(m.l)))
        parts = []
        for d, c in m.evaluate(ns):
            dense = np.ones((1, 1), dtype=np.int64)
            for f, part in zip(self.factors, d.parts):
                dense = np.kron(dense, f.matrix(part))
            parts.append((c, dense))
        shape = (prod(n**b for n, b in zip(ns, m.l)), prod(n**a for n, a in zip(ns, m.k)))
        return combine(parts, shape)

    def sample(self, rng: np.random.Generator | int | None = None) -> tuple[np.ndarray, ...]:
        """A random element: one matrix per factor, each as the factor's ``sample`` draws it."""
        generator = rng_of(rng)
        return tuple(f.sample(generator) for f in self.factors)

    def act(self, g: Sequence[np.ndarray], x: np.ndarray, k: Orders) -> np.ndarray:
        """The element ``g`` (one matrix per factor) applied to a typed tensor ``x`` of orders ``k``.

        The trailing axes of ``x`` are k_0 axes of size n_0, then k_1 of size n_1, …; leading axes
        (batch, channels) are left alone. Dense, for tests and small sizes.

        >>> from catnn.groups import group
        >>> G = group("S(2) x S(3)")
        >>> g = (np.array([[0, 1], [1, 0]]), np.eye(3, dtype=int))
        >>> G.act(g, np.arange(6).reshape(2, 3), (1, 1)).tolist()
        [[3, 4, 5], [0, 1, 2]]
        """
        k, _ = self.check_orders(k, k)
        if len(g) != len(self.factors):
            raise GroupError(messages.PRODUCT_SIZES.format(group=self, r=len(self.factors), ns=len(g)))
        expected = tuple(np.shape(h)[0] for h, a in zip(g, k) for _ in range(a))
        x = np.asarray(x)
        if x.ndim < len(expected) or x.shape[x.ndim - len(expected):] != expected:
            raise GroupError(messages.PRODUCT_ACT_SHAPE.format(shape=x.shape, k=k, expected=expected))
        axis = x.ndim - len(expected)
        for h, a in zip(g, k):
            for _ in range(a):
                x = np.moveaxis(np.tensordot(h, x, axes=([1], [axis])), 0, axis)
                axis += 1
        return x

    # -- identity and printing ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProductGroup) and other.factors == self.factors

    def __hash__(self) -> int:
        return hash(("product", self.factors))

    def __repr__(self) -> str:
        return f"catnn.group({str(self)!r})"

    def __str__(self) -> str:
        return " x ".join(str(f) for f in self.factors)


@lru_cache(maxsize=256)
def _cached_tuples(G: ProductGroup, k: Orders, l: Orders, method: str) -> tuple[ProductDiagram, ...]:
    per_factor = [getattr(f, method)(a, b) for f, a, b in zip(G.factors, k, l)]
    return tuple(ProductDiagram(parts) for parts in itertools.product(*per_factor))
