"""Meaning of programs over a product of groups: sorts, typed orders, product diagrams and layers.

>>> from catnn.grammar import parse
>>> prog = check_program_over_product(parse("group points: S x space: O(3)\\n"
...     "morphism m = (swap | id(1)) + n_points * ({1, 1'} {2, 2'} | id(1))"))
>>> print(prog.m)
n_0 * ({1, 1'} {2, 2'} | {1, 1'}) + ({1, 2'} {2, 1'} | {1, 1'})
>>> prog.sorts
('points', 'space')

A product line ``group S x O(3)`` (or ``×``; sorts optionally named, ``group points: S x space: O(3)``)
makes every value a :class:`~catnn.groups.product.ProductMorphism` (scalars are
:class:`~catnn.coeff.MPoly` in ``n_0, n_1, …``, also spelled ``n_points``). A product literal
``(d_0 | d_1)`` reads part s under factor s (its generators, literals and ``n``); a plain literal
needs a typed arity, which numbers the vertices across the sorts, sort 0's first. Orders are tuples,
``(1, 0)``, or by sort name, ``(points: 1)`` (the other sorts 0). Layers learn the product's whole
spanning set or one weight per listed product diagram or morphism; layers between typed feature
spaces and networks are checked by :mod:`.check_product_network`.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Union

from catnn import messages
from catnn.coeff import MPoly
from catnn.diagram import Diagram, identity
from catnn.errors import CatnnError, CheckError, Span
from catnn.grammar import ast
from catnn.groups import group as make_group
from catnn.groups.product import ProductDiagram, ProductGroup, ProductMorphism

from .check import (_BITS_PER_DIGIT, MAX_ARITY, MAX_DIGITS, MAX_POWER, MAX_TERMS, _bits, _Checker, _digits_message,
                    _excerpt)
from .check import check_expression as check_single_expression
from .check import check_program as check_single
from .check_graph import aut_group, did_you_mean
from .check_product_network import check_product_network, check_typed_signature
from .program import Program

__all__ = ["check_program", "check_expression", "check_program_over_product", "check_product_expression",
           "is_product_program"]

Value = Union[MPoly, ProductMorphism]
_SIZE_SYMBOL = re.compile(r"n_([0-9]+|[A-Za-z][A-Za-z0-9_]*)")
_RESERVED_SORTS = frozenset({"n", "V", "x", "group", "graph", "diagram", "morphism", "layer", "network", "learn"})


def check_program(module: ast.Module) -> Program:
    """Check any parsed program: over a product of groups here, over one group by :mod:`.check`.

    >>> from catnn.grammar import parse
    >>> check_program(parse("group S x S\\nlayer f : (1, 1) -> (1, 1)")).f.k
    (1, 1)
    """
    if is_product_program(module):
        return check_program_over_product(module)
    return check_single(module)


def check_expression(expr: ast.Expr, group: Any = "S") -> Any:
    """One expression under ``group`` (a product's name or group too): a diagram when exactly ``1 * d``.

    >>> from catnn.grammar import parse_expression
    >>> print(check_expression(parse_expression("(swap | id(1))"), "S x O"))
    ({1, 2'} {2, 1'} | {1, 1'})
    """
    G = make_group(group)
    if isinstance(G, ProductGroup):
        return check_product_expression(expr, G)
    return check_single_expression(expr, G)


def is_product_program(module: ast.Module) -> bool:
    """True when the program's first group line is a product of groups."""
    first = next((item for item in module.items if isinstance(item, ast.GroupDecl)), None)
    return isinstance(first, ast.ProductGroupDecl)


def check_program_over_product(module: ast.Module) -> Program:
    """Check a program whose group line is a product; raises :class:`CheckError`."""
    return _ProductChecker(module.items).run(module)


def check_product_expression(expr: ast.Expr, G: ProductGroup) -> ProductDiagram | ProductMorphism:
    """One expression over the product ``G``: a ProductDiagram when it is exactly ``1 * d``.

    >>> from catnn.grammar import parse_expression
    >>> print(check_product_expression(parse_expression("(cup | id(0)) >> (cap | id(0))"), make_group("S x Sp")))
    n_0 * (id(0) | id(0))
    """
    checker = _ProductChecker(())
    checker.group = G
    checker.sorts = tuple(None for _ in G.factors)
    value = checker.as_morphism(checker.evaluate(expr), expr.span)
    return _bare_product(value) or value


def _bare_product(m: ProductMorphism) -> ProductDiagram | None:
    if len(m.terms) == 1 and m.terms[0][1] == 1:
        return m.terms[0][0]
    return None


class _ProductChecker(_Checker):
    """The checker of :mod:`.check` with product values: sorts, typed orders, product literals."""

    group: Any
    sorts: tuple[str | None, ...] = ()
    typed_orders = True
    Scalar = MPoly
    SCALAR_SUM, ARITY_SUM = messages.PRODUCT_SCALAR_SUM, messages.PRODUCT_ARITIES_SUM

    # -- declarations ---------------------------------------------------------------------------
    def run(self, module: ast.Module) -> Program:
        items = module.items
        line = next(i for i, item in enumerate(items) if isinstance(item, ast.ProductGroupDecl))
        before = next((item for item in items[:line] if not isinstance(item, (ast.GroupDecl, ast.GraphDecl))), None)
        if before is not None:
            raise CheckError(messages.GROUP_AFTER_DEFINITIONS.format(line=before.span.line), items[line].span)
        program = super().run(module)
        program.sorts = self.sorts
        return program

    def declare_group(self, item: ast.GroupDecl) -> None:
        if not isinstance(item, ast.ProductGroupDecl) or self.group_span is not None:
            super().declare_group(item)    # a second group line: the base checker's error
            return
        graphs = {name: entry.value for name, entry in self.env.items() if entry.kind == "graph"}
        factors = []
        for decl in item.factors:
            aut = aut_group(decl, graphs, decl.graph_span or decl.span)
            factors.append(aut if aut is not None else _factor(decl))
        self.sorts = _sort_names(item)
        self.group, self.group_span = ProductGroup(factors), item.span

    # -- orders -----------------------------------------------------------------------------------
    def orders(self, orders: ast.Orders) -> tuple[int, ...]:
        """A typed order as a tuple of one order per sort (named entries: the other sorts 0)."""
        entries, r = orders.entries, len(self.group.factors)
        named = [e for e in entries if e.sort is not None]
        if named and len(named) != len(entries):
            raise CheckError(messages.ORDERS_MIXED, orders.span)
        for e in entries:
            if e.order > MAX_ARITY:
                raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"an order of {e.order}", limit=MAX_ARITY),
                                 e.span)
        if sum(e.order for e in entries) > MAX_ARITY:
            raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"{sum(e.order for e in entries)} axes",
                                                           limit=f"{MAX_ARITY} vertices per row"), orders.span)
        if not named:
            if len(entries) != r:
                raise CheckError(messages.ORDERS_LENGTH.format(group=self.group, r=r, count=len(entries)),
                                 orders.span)
            return tuple(e.order for e in entries)
        out = [0] * r
        seen: set[int] = set()
        for e in entries:
            s = self.sort_index(e.sort, e.span)
            if s in seen:
                raise CheckError(messages.SORT_ORDER_TWICE.format(name=e.sort), e.span)
            seen.add(s)
            out[s] = e.order
        return tuple(out)

    def sort_index(self, name: str, span: Span) -> int:
        if name in self.sorts:
            return self.sorts.index(name)
        known = [s for s in self.sorts if s is not None]
        if not known:
            raise CheckError(messages.NO_SORT_NAMES.format(group=self.group), span)
        raise CheckError(messages.UNKNOWN_SORT.format(name=name, group=self.group, known=", ".join(known))
                         + did_you_mean(name, known), span)

    def typed_arity(self, arity: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if not isinstance(arity, ast.TypedArity):
            zeros = ", ".join("0" for _ in self.group.factors[1:])
            raise CheckError(messages.TYPED_ARITY_NEEDED.format(
                group=self.group, k=arity.k, l=arity.l, example=f"({arity.k}, {zeros}) -> ({arity.l}, {zeros})"),
                arity.span)
        return self.orders(arity.k), self.orders(arity.l)

    # -- definitions ------------------------------------------------------------------------------
    def declared_literal(self, node: ast.Literal, arity: Any) -> ProductMorphism:
        return self.flat_literal(node, *self.typed_arity(arity))

    def declared_arity(self, arity: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return self.typed_arity(arity)

    def layer(self, item: ast.LayerDef) -> Any:
        if isinstance(item.arity, ast.Signature):
            return check_typed_signature(self, item)
        return self.spanning_layer(item, *self.typed_arity(item.arity))

    def layer_group(self) -> tuple[Any, Any, str]:
        return self.group, None, str(self.group)

    def bare(self, value: Any) -> Any:
        return _bare_product(value)

    def network(self, item: ast.NetworkDef) -> Any:
        return check_product_network(self, item)

    # -- expressions ------------------------------------------------------------------------------
    def apply(self, node: ast.Expr, args: list[Value]) -> Value:
        if isinstance(node, ast.Number):
            return MPoly.const(node.value)
        if isinstance(node, ast.Dim):
            raise CheckError(messages.PRODUCT_DIM.format(group=self.group, symbols=self.symbols()), node.span)
        if isinstance(node, ast.Name):
            return self.name(node.name, node.span)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.ProductLiteral):
            return self.product_literal(node)
        if isinstance(node, (ast.Literal, ast.HeadLiteral, ast.WrappedLiteral, ast.GraphLiteral)):
            example = " | ".join("..." for _ in self.group.factors)
            arity = " -> ".join("(" + ", ".join("1" for _ in self.group.factors) + ")" for _ in range(2))
            raise CheckError(messages.PRODUCT_PLAIN_LITERAL.format(group=self.group, example=example, arity=arity),
                             node.span)
        if isinstance(node, ast.Neg):
            return -args[0]
        if isinstance(node, ast.Transpose):
            if isinstance(args[0], MPoly):
                raise CheckError(messages.TRANSPOSE_OF_SCALAR, node.span)
            return args[0].T
        if isinstance(node, ast.Power):
            return self.power(node, args[0])
        if isinstance(node, ast.TensorPower):
            return self.tensor_power(node, args[0])
        return self.binary(node, *args)

    def symbols(self) -> str:
        names = [f"n_{s}" for s in range(len(self.group.factors))]
        names += [f"n_{name}" for name in self.sorts if name is not None]
        return ", ".join(names)

    def name(self, name: str, span: Span) -> Value:   # type: ignore[override]
        entry = self.env.get(name)
        if entry is not None:
            if entry.kind in ("layer", "network", "graph"):
                raise CheckError(messages.NOT_AN_EXPRESSION.format(name=name, kind=entry.kind), span)
            return entry.value
        match = _SIZE_SYMBOL.fullmatch(name)
        if match is not None and name not in self.declared:
            sort = match.group(1)
            if sort.isdigit() and int(sort) < len(self.group.factors):
                return MPoly.symbol(int(sort))
            if sort in self.sorts:
                return MPoly.symbol(self.sorts.index(sort))
        return self.generator(name, (), span)

    def call(self, node: ast.Call) -> ProductMorphism:
        entry = self.env.get(node.name)
        if entry is not None:
            raise CheckError(messages.NOT_A_GENERATOR.format(name=node.name, kind=entry.kind), node.span)
        return self.generator(node.name, node.args, node.span)

    def generator(self, name: str, args: tuple[int, ...], span: Span) -> ProductMorphism:
        if any(name in f.generator_names() for f in self.group.factors):
            written = f"{name}({', '.join(map(str, args))})" if args else name
            example = " | ".join([written] + ["id(0)" for _ in self.group.factors[1:]])
            raise CheckError(messages.PRODUCT_GENERATOR.format(name=written, group=self.group, example=example), span)
        if name == self.current:
            raise CheckError(messages.SELF_REFERENCE.format(name=name), span)
        if name in self.declared:
            raise CheckError(messages.USED_BEFORE_DEFINED.format(name=name, line=self.declared[name].line), span)
        candidates = [n for n, e in self.env.items() if e.kind in ("diagram", "morphism")]
        raise CheckError(messages.UNKNOWN_NAME.format(name=name) + did_you_mean(name, candidates), span)

    def lift(self, x: Any, span: Span) -> ProductMorphism:
        try:
            return self.group.lift(x)
        except CatnnError as err:
            raise CheckError(err.message, span) from None

    def as_morphism(self, value: Value, span: Span) -> ProductMorphism:   # type: ignore[override]
        """A scalar c becomes ``c * (id(0) | id(0) | …)``."""
        if isinstance(value, MPoly):
            empty = ProductDiagram(identity(0) for _ in self.group.factors)
            return ProductMorphism.of(empty, value, self.group.loops)
        return value

    def product_literal(self, node: ast.ProductLiteral) -> ProductMorphism:
        """``(e_0 | e_1 | …)``: part s read under factor s, the parts' terms multiplied out."""
        factors = self.group.factors
        if len(node.parts) != len(factors):
            raise CheckError(messages.PRODUCT_PARTS.format(count=len(node.parts), group=self.group, r=len(factors)),
                             node.span)
        per_sort, k, l = [], [], []
        for s, (part, factor) in enumerate(zip(node.parts, factors)):
            sub = _PartChecker(factor, s, self)
            value = sub.as_morphism(sub.evaluate(part), part.span)
            per_sort.append([(MPoly.from_poly(c, s), d) for d, c in value.terms])
            k.append(value.k)
            l.append(value.l)
        self.limit_pairs([len(terms) for terms in per_sort], node.span)
        terms = []
        for choice in itertools.product(*per_sort):
            coeff = MPoly.const(1)
            for c, _ in choice:
                coeff = coeff * c
            terms.append((ProductDiagram(d for _, d in choice), coeff))
        return self.lift(ProductMorphism(terms, tuple(k), tuple(l), self.group.loops), node.span)

    @staticmethod
    def limit_digits(value: Value, span: Span) -> None:
        """The checker's digit limit on every coefficient of a scalar or a product morphism."""
        polys = [value] if isinstance(value, MPoly) else [c for _, c in value.terms]
        if any(_bits(c) > MAX_DIGITS * _BITS_PER_DIGIT for p in polys for c in p.terms.values()):
            raise CheckError(_digits_message(), span)

    def limit_pairs(self, counts: list[int], span: Span) -> None:
        total = 1
        for c in counts:
            total *= max(c, 1)   # a part of no terms (zero) makes the whole product zero
        if total > MAX_TERMS:
            raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"this product diagram ({total} terms)",
                                                           limit=f"{MAX_TERMS} terms"), span)

    def flat_literal(self, node: ast.Literal, k: tuple[int, ...], l: tuple[int, ...]) -> ProductMorphism:
        """A plain literal under a typed arity: vertices numbered across sorts (sort 0's first), each
        block within one sort."""
        arity = ast.Arity(sum(k), sum(l), node.span)
        blocks, _, _ = self.vertices([(block.labels, block.span) for block in node.blocks], node.span, arity)
        top = sum(l)
        out_sort = [s for s, x in enumerate(l) for _ in range(x)]
        in_sort = [s for s, x in enumerate(k) for _ in range(x)]

        def sort_of(v: int) -> int:
            return out_sort[v - 1] if v <= top else in_sort[v - top - 1]

        def label(v: int) -> str:
            return str(v) if v <= top else f"{v - top}'"

        parts: list[list[list[int]]] = [[] for _ in self.group.factors]
        for block, where in zip(blocks, node.blocks):
            sorts = [sort_of(v) for v in block]
            odd = next((i for i, s in enumerate(sorts) if s != sorts[0]), None)
            if odd is not None:
                a, b = sorts[0], sorts[odd]
                raise CheckError(messages.BLOCK_JOINS_SORTS.format(
                    block="{" + ", ".join(label(v) for v in block) + "}", a=a, a_name=self.sort_label(a),
                    va=label(block[0]), b=b, b_name=self.sort_label(b), vb=label(block[odd])), where.span)
            parts[sorts[0]].append([self.local(v, sorts[0], k, l, top) for v in block])
        try:
            diagram = ProductDiagram(Diagram(p, a, b) for p, a, b in zip(parts, k, l))
        except CatnnError as err:
            raise CheckError(err.message, node.span) from None
        return self.lift(diagram, node.span)

    @staticmethod
    def local(v: int, s: int, k: tuple[int, ...], l: tuple[int, ...], top: int) -> int:
        """Vertex ``v`` of the flat numbering as a vertex of sort s's own diagram (outputs 1..l_s, then inputs)."""
        if v <= top:
            return v - sum(l[:s])
        return l[s] + (v - top) - sum(k[:s])

    def sort_label(self, s: int) -> str:
        name = self.sorts[s] if s < len(self.sorts) else None
        return f" ({name})" if name else ""

    # -- operations -------------------------------------------------------------------------------
    def compose_error(self, node: ast.BinOp, first: Any, then: Any) -> CheckError:
        """The first sort whose orders do not meet, named."""
        first_node, then_node = (node.left, node.right) if node.op == ">>" else (node.right, node.left)
        sort = next(s for s, (a, b) in enumerate(zip(first.l, then.k)) if a != b)
        return CheckError(messages.SORT_MISMATCH.format(
            op=node.op, left=_excerpt(first_node.span), lout=first.l, right=_excerpt(then_node.span), rin=then.k,
            sort=sort, name=self.sort_label(sort)), node.span)

    def divide(self, node: ast.BinOp, left: Value, right: Value) -> Value:
        """``left / right``; a divisor that is not a monomial is located at the divisor."""
        try:
            return left / right
        except CatnnError as err:
            raise CheckError(err.message, node.right.span) from None

    def power(self, node: ast.Power, base: Value) -> MPoly:   # type: ignore[override]
        if not isinstance(base, MPoly):
            raise CheckError(messages.POWER_OF_MORPHISM.format(exponent=abs(node.exponent)), node.span)
        if abs(node.exponent) > MAX_POWER:
            raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"the exponent {node.exponent}", limit=MAX_POWER),
                             node.span)
        if node.exponent < 0 and base.is_zero():
            raise CheckError(messages.ZERO_DIVISION, node.span)
        e = abs(node.exponent)
        self.limit_poly(e * len(base.terms) ** min(e, 8), node.span)
        self.budget.spend(e * len(base.terms) ** min(e, 8), "this power")
        result = base ** e
        self.limit_digits(result, node.span)
        if node.exponent >= 0:
            return result
        try:
            return MPoly.const(1) / result
        except CatnnError as err:
            raise CheckError(err.message, node.span) from None


class _PartChecker(_Checker):
    """Part s of a product literal: an expression of factor s alone (its generators, literals and n)."""

    def __init__(self, factor: Any, sort: int, product: _ProductChecker) -> None:
        super().__init__(())
        self.group, self.sort, self.product = factor, sort, product

    def apply(self, node: ast.Expr, args: list[Any]) -> Any:
        if isinstance(node, ast.ProductLiteral):
            raise CheckError(messages.PRODUCT_NESTED.format(sort=self.sort, group=self.group), node.span)
        return super().apply(node, args)

    def generator(self, name: str, args: tuple[int, ...], span: Span) -> Any:
        outer = self.product.env.get(name)
        if outer is not None and not args and name not in self.group.generator_names():
            raise CheckError(messages.PRODUCT_NAME_IN_PART.format(name=name, kind=outer.kind, sort=self.sort,
                                                                  group=self.group), span)
        return super().generator(name, args, span)


def _factor(decl: ast.GroupDecl) -> Any:
    """One factor of a product line, as its own group line would make it."""
    try:
        make_group(decl.name)
    except CatnnError as err:
        raise CheckError(err.message, decl.name_span) from None
    try:
        return make_group(decl.name, n=decl.size)
    except CatnnError as err:
        raise CheckError(err.message, decl.span) from None


def _sort_names(item: ast.ProductGroupDecl) -> tuple[str | None, ...]:
    """The sorts' names (None where unnamed): distinct and not reserved words."""
    seen: dict[str, int] = {}
    for s, (name, span) in enumerate(zip(item.sorts, item.sort_spans)):
        if name is None:
            continue
        if name in seen:
            raise CheckError(messages.SORT_TWICE.format(name=name, sort=seen[name]), span)
        if name in _RESERVED_SORTS:
            raise CheckError(messages.SORT_NAME_RESERVED.format(name=name), span)
        seen[name] = s
    return tuple(item.sorts)

