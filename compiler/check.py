"""Meaning: resolve names, check arities and groups, normalise every expression exactly.

>>> from catnn.grammar import parse
>>> prog = check_program(parse("group O\\nmorphism loop = cup >> cap"))
>>> print(prog.loop)
n * id(0)
>>> check_program(parse("group O\\ndiagram m = merge", "m.diag"))
Traceback (most recent call last):
  ...
catnn.errors.CheckError: m.diag:2:13: error: O diagrams pair vertices two by two, but block {1, 1', 2'} has 3 vertices
  diagram m = merge
              ^~~~~

Every expression evaluates to a scalar (a :class:`~catnn.coeff.Poly` in n) or a
:class:`~catnn.morphism.Morphism` of the group's category (its loop value; ``-n`` for Sp).
Generators are looked up through the group (``G.generator``), literals are checked vertex by
vertex, and every diagram is admitted by ``G.lift``. Evaluation keeps an explicit stack, so
deeply nested input cannot overflow Python's recursion limit, and size limits keep hostile input
(``id(10^9)``, ``(id(2) + swap) ** 1000``) from hanging.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from catnn import messages
from catnn.coeff import Poly
from catnn.diagram import Diagram, identity
from catnn.errors import CatnnError, CheckError, Span
from catnn.groups import Group, group as make_group
from catnn.groups.base import MAX_SPANNING
from catnn.grammar import ast
from catnn.kinds import kind_of
from catnn.morphism import Morphism
from catnn.spec import LayerSpec, NetworkSpec, Stage

from .budget import Budget, coefficient_work, pair_work
from .check_network import STAGE_FUNCTIONS, check_layer_signature, check_network, spanning_count_or_none
from .check_graph import aut_group, declared_adjacency, did_you_mean, group_ref, literal_graph
from .program import Program

__all__ = ["check_program", "check_expression", "refuse_typed", "NONLINEARITIES", "MAX_ARITY", "MAX_POWER",
           "MAX_TERMS", "MAX_DIGITS"]

#: the stage names a network may use besides layers: nonlinearities and poolings (rules: .network)
NONLINEARITIES = STAGE_FUNCTIONS
#: the most input or output vertices any value may have
MAX_ARITY = 1000
#: the largest exponent accepted in ``x^e`` and ``f ** e``
MAX_POWER = 1000
#: the most decimal digits of a number in a program (a literal or a computed coefficient)
MAX_DIGITS = 4000
_BITS_PER_DIGIT = 3.33


def _bits(c: Any) -> int:
    """The size of a rational: the longer of its numerator and denominator, in bits."""
    return max(abs(c.numerator).bit_length(), c.denominator.bit_length())


def _digits_message() -> str:
    return messages.LIMIT_EXCEEDED.format(what="a number in this program", limit=f"{MAX_DIGITS} digits")
#: the most terms a morphism or polynomial may have, and the most term pairs one product may form
MAX_TERMS = 50_000

Value = Union[Poly, Morphism]


@dataclass
class _Entry:
    kind: str            # "diagram", "morphism", "layer" or "network"
    value: Any           # Morphism for diagrams and morphisms; LayerSpec / NetworkSpec otherwise
    span: Span


def check_program(module: ast.Module) -> Program:
    """Check a parsed program over one group and normalise its definitions; raises :class:`CheckError`.

    Programs over a product of groups (``group S x O(3)``) are checked by
    :func:`catnn.compiler.check_product.check_program`, the entry point of every program.
    """
    return _Checker(module.items).run(module)


def check_expression(expr: ast.Expr, group: Group | str = "S") -> Diagram | Morphism:
    """One expression under ``group``: a Diagram when the value is exactly ``1 * d``, else a Morphism.

    >>> from catnn.grammar import parse_expression
    >>> check_expression(parse_expression("swap >> swap")) == Diagram.identity(2)
    True
    """
    checker = _Checker(())
    checker.group = make_group(group)
    value = checker.as_morphism(checker.evaluate(expr), expr.span)
    return _bare(value) or value


def _bare(m: Morphism) -> Diagram | None:
    """The diagram d if ``m`` is exactly ``1 * d``."""
    if len(m.terms) == 1 and m.terms[0][1] == 1:
        return m.terms[0][0]
    return None


class _Checker:
    #: True over a product of groups (:mod:`.check_product`): orders are tuples there
    typed_orders = False
    #: the program's numbers: polynomials in n (in n_0, n_1, ... over a product)
    Scalar: type = Poly
    #: the errors for a sum of a number and a morphism, and of two morphisms of different arities
    SCALAR_SUM, ARITY_SUM = messages.SCALAR_SUM, messages.ARITY_SUM

    def __init__(self, items: tuple) -> None:
        self.group: Group = make_group("S")
        self.env: dict[str, _Entry] = {}
        self.group_span: Span | None = None
        self.first_definition: Span | None = None
        #: every name the program defines, with where: tells "later" from "unknown"
        self.declared: dict[str, Span] = {}
        for item in items:
            if not isinstance(item, ast.GroupDecl):
                self.declared.setdefault(item.name, item.name_span)
        self.current: str | None = None
        #: generators already looked up and lifted (the group is fixed once definitions start)
        self.generators: dict[tuple[str, tuple[int, ...]], Morphism] = {}
        #: the diagram algebra the program may ask for, estimated before each step (see .budget)
        self.budget = Budget()

    # -- program ----------------------------------------------------------------------------
    def run(self, module: ast.Module) -> Program:
        definitions: dict[str, Any] = {}
        for item in module.items:
            if isinstance(item, ast.GroupDecl):
                self.declare_group(item)
                continue
            if isinstance(item, ast.GraphDecl):
                self.declare_graph(item)
                continue
            self.new_name(item)
            if not self.typed_orders:     # typed orders over a single group: a located error
                refuse_typed(item, self.group)
            self.current = item.name
            if isinstance(item, ast.Definition):
                kind, (value, stored) = item.kind, self.definition(item)
            elif isinstance(item, ast.LayerDef):
                kind, value = "layer", self.layer(item)
                stored = value
            else:
                kind, value = "network", self.network(item)
                stored = value
            self.env[item.name] = _Entry(kind, value, item.span)
            definitions[item.name] = stored
            self.current = None
        spans = {name: entry.span for name, entry in self.env.items()}
        program = Program(self.group, definitions, spans, module.source, module.filename)
        program.group_assumed = self.group_span is None   # no `group` line: S, which `catnn check` says
        return program

    def declare_group(self, item: ast.GroupDecl) -> None:
        if self.group_span is not None:
            raise CheckError(messages.GROUP_TWICE.format(line=self.group_span.line), item.span)
        if self.first_definition is not None:
            raise CheckError(messages.GROUP_AFTER_DEFINITIONS.format(line=self.first_definition.line),
                             item.span)
        if isinstance(item, ast.ProductGroupDecl):     # .check_product checks these programs
            raise CheckError(messages.PRODUCT_ENTRY, item.span)
        graphs = {name: entry.value for name, entry in self.env.items() if entry.kind == "graph"}
        aut = aut_group(item, graphs, item.graph_span or item.span)
        if aut is not None:
            self.group, self.group_span = aut, item.span
            return
        try:
            make_group(item.name)
        except CatnnError as err:
            raise CheckError(err.message, item.name_span) from None
        try:
            self.group = make_group(item.name, n=item.size)
        except CatnnError as err:
            raise CheckError(err.message, item.span) from None
        self.group_span = item.span

    def declare_graph(self, item: ast.GraphDecl) -> None:
        """``graph G = ...``: its adjacency matrix, for ``group Aut(G)``."""
        if item.name in self.env:
            raise CheckError(messages.DUPLICATE_DEFINITION.format(name=item.name, line=self.env[item.name].span.line),
                             item.name_span)
        self.env[item.name] = _Entry("graph", declared_adjacency(item), item.span)

    def new_name(self, item: Any) -> None:
        name, span = item.name, item.name_span
        if self.first_definition is None:
            self.first_definition = item.span
        if name in self.env:
            raise CheckError(messages.DUPLICATE_DEFINITION.format(name=name, line=self.env[name].span.line), span)
        from .pysource import check_name      # the rule `catnn compile` applies, so check agrees with it
        try:
            check_name(name, "definition name")
        except CatnnError as err:
            raise CheckError(err.message, span) from None

    def definition(self, item: ast.Definition) -> tuple[Any, Any]:
        """(value, what the name stands for): a morphism's value, or a diagram definition's bare diagram."""
        if item.arity is not None and isinstance(item.value, ast.Literal):
            value = self.declared_literal(item.value, item.arity)
        else:
            value = self.as_morphism(self.evaluate(item.value), item.value.span)
            if item.arity is not None:
                k, l = self.declared_arity(item.arity)
                if (value.k, value.l) != (k, l):
                    raise CheckError(messages.DECLARED_ARITY.format(
                        name=item.name, k=k, l=l, vk=value.k, vl=value.l), item.value.span)
        if item.kind == "morphism":
            return value, value
        diagram = self.bare(value)
        if diagram is None:
            raise CheckError(messages.NOT_SINGLE_DIAGRAM.format(name=item.name, value=_short(str(value))),
                             item.value.span)
        return value, diagram

    def declared_literal(self, node: ast.Literal, arity: Any) -> Any:
        """A literal with its declared arity (which numbers its vertices)."""
        return self.literal(node, arity)

    def declared_arity(self, arity: Any) -> tuple[Any, Any]:
        """(k, l) of a declared arity, checked."""
        return self.check_arity(arity)

    def layer(self, item: ast.LayerDef) -> LayerSpec:
        if isinstance(item.arity, ast.Signature):     # bilinear a @ b -> l, or mixed V0 + V2 -> V1
            for term in (*item.arity.input.terms, *item.arity.output.terms):   # before any counting
                if term.order > MAX_ARITY:
                    raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"an order of {term.order}",
                                                                   limit=MAX_ARITY), term.span)
            return check_layer_signature(self, item)
        return self.spanning_layer(item, *self.check_arity(item.arity))

    def spanning_layer(self, item: ast.LayerDef, k: Any, l: Any) -> LayerSpec:
        """A ``k -> l`` layer: the whole spanning set (refused when empty or too large), or ``learn(...)``."""
        G, (ref, n, name) = self.group, self.layer_group()
        if item.learn is None:
            count = spanning_count_or_none(G, k, l)
            if count == 0:
                raise CheckError(messages.LAYER_EMPTY.format(group=G, k=k, l=l), item.arity.span)
            if count is not None and count > MAX_SPANNING:
                raise CheckError(messages.LIMIT_EXCEEDED.format(
                    what=f"the {name} spanning set for {k} -> {l} ({count} diagrams)", limit=MAX_SPANNING),
                    item.arity.span)
            return LayerSpec(item.name, ref, n, k, l, None, item.span)
        return LayerSpec(item.name, ref, n, k, l, self.learned(item, k, l), item.span)

    def layer_group(self) -> tuple[Any, Any, str]:
        """(the group as a layer spec records it, its fixed n, its name in messages)."""
        return group_ref(self.group), self.group.n, self.group.name

    def learned(self, item: ast.LayerDef, k: Any, l: Any) -> tuple[Any, ...]:
        """The checked ``learn(...)`` entries of a layer: each a bare diagram where it is one, else its morphism."""
        chosen: list[Any] = []
        for expr in item.learn:
            value = self.as_morphism(self.evaluate(expr), expr.span)
            if (value.k, value.l) != (k, l):
                raise CheckError(messages.LEARN_ARITY.format(name=item.name, k=k, l=l, vk=value.k, vl=value.l),
                                 expr.span)
            if value.is_zero():
                raise CheckError(messages.LEARN_ZERO, expr.span)
            stored = self.bare(value) or value
            if stored in chosen:
                raise CheckError(messages.LEARN_DUPLICATE, expr.span)
            chosen.append(stored)
        return tuple(chosen)

    def bare(self, value: Any) -> Any:
        """The one diagram a morphism is (coefficient 1), or None."""
        return _bare(value)

    def network(self, item: ast.NetworkDef) -> NetworkSpec:
        if isinstance(item.arity, ast.Arity):
            self.check_arity(item.arity)
        return check_network(self, item)

    def nonlinearity(self, stage: ast.Stage, entry: _Entry | None) -> Stage:
        if entry is not None:
            raise CheckError(messages.STAGE_NOT_LAYER.format(name=stage.name, kind=entry.kind), stage.span)
        if stage.sort is not None:
            raise CheckError(messages.STAGE_SORT_SINGLE.format(name=stage.name, sort=stage.sort, group=self.group),
                             stage.span)
        if stage.name not in NONLINEARITIES:
            layers = [name for name, e in self.env.items() if e.kind == "layer"]
            message = messages.UNKNOWN_STAGE.format(name=stage.name, known=", ".join(NONLINEARITIES))
            raise CheckError(message + did_you_mean(stage.name, [*layers, *NONLINEARITIES]), stage.span)
        if stage.channels is not None:
            raise CheckError(messages.NONLINEARITY_WIDTHS.format(name=stage.name), stage.span)
        return Stage("nonlinearity", stage.name, span=stage.span)

    def check_arity(self, arity: ast.Arity) -> tuple[int, int]:
        for value in (arity.k, arity.l):
            if value > MAX_ARITY:
                raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"an arity of {value}", limit=MAX_ARITY),
                                 arity.span)
        return arity.k, arity.l

    # -- expressions --------------------------------------------------------------------------
    def evaluate(self, expr: ast.Expr) -> Value:
        """The value of ``expr``, computed bottom-up with an explicit stack (no recursion)."""
        todo: list[tuple[ast.Expr, bool]] = [(expr, False)]
        done: list[Value] = []
        while todo:
            node, ready = todo.pop()
            kids = ast.children(node)
            if kids and not ready:
                todo.append((node, True))
                todo.extend((kid, False) for kid in reversed(kids))
                continue
            args = done[len(done) - len(kids):]
            del done[len(done) - len(kids):]
            try:
                done.append(self.apply(node, args))
            except CatnnError as err:
                if err.span is not None:
                    raise
                raise CheckError(err.message, node.span) from None
        return done[0]

    def apply(self, node: ast.Expr, args: list[Value]) -> Value:
        if isinstance(node, ast.Number):
            return Poly.const(node.value)
        if isinstance(node, ast.Dim):
            return Poly.n()
        if isinstance(node, ast.Name):
            return self.name(node.name, node.span)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Literal):
            return self.literal(node, None)
        if isinstance(node, (ast.HeadLiteral, ast.WrappedLiteral)):
            return self.tagged_literal(node)
        if isinstance(node, ast.GraphLiteral):
            return self.graph_literal(node)
        if isinstance(node, ast.ProductLiteral):
            raise CheckError(messages.PRODUCT_LITERAL_SINGLE.format(group=self.group), node.span)
        if isinstance(node, ast.Neg):
            return -args[0]
        if isinstance(node, ast.Transpose):
            return self.transpose(node, args[0])
        if isinstance(node, ast.Power):
            return self.power(node, args[0])
        if isinstance(node, ast.TensorPower):
            return self.tensor_power(node, args[0])
        return self.binary(node, *args)

    def name(self, name: str, span: Span) -> Morphism:
        entry = self.env.get(name)
        if entry is not None:
            if entry.kind in ("layer", "network", "graph"):
                raise CheckError(messages.NOT_AN_EXPRESSION.format(name=name, kind=entry.kind), span)
            return entry.value
        return self.generator(name, (), span)

    def call(self, node: ast.Call) -> Morphism:
        entry = self.env.get(node.name)
        if entry is not None:
            raise CheckError(messages.NOT_A_GENERATOR.format(name=node.name, kind=entry.kind), node.span)
        for value in node.args:
            if value > MAX_ARITY:
                raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"{node.name}({value})", limit=MAX_ARITY),
                                 node.span)
        return self.generator(node.name, node.args, node.span)

    def generator(self, name: str, args: tuple[int, ...], span: Span) -> Morphism:
        G = self.group
        cached = self.generators.get((name, args))
        if cached is not None:
            return cached
        try:
            made = G.generator(name, args)
        except CatnnError as err:
            raise CheckError(err.message, span) from None
        if made is not None:
            self.generators[name, args] = self.lift(made, span)
            return self.generators[name, args]
        if name in G.generator_names():
            raise CheckError(messages.GENERATOR_ARGUMENTS.format(name=name, args=", ".join(map(str, args))), span)
        if name == self.current:
            raise CheckError(messages.SELF_REFERENCE.format(name=name), span)
        if name in self.declared:
            raise CheckError(messages.USED_BEFORE_DEFINED.format(name=name, line=self.declared[name].line), span)
        candidates = [n for n, e in self.env.items() if e.kind in ("diagram", "morphism")]
        raise CheckError(messages.UNKNOWN_NAME.format(name=name)
                         + did_you_mean(name, [*candidates, *G.generator_names()]), span)

    def lift(self, x: Any, span: Span) -> Morphism:
        try:
            return self.group.lift(x)
        except CatnnError as err:
            raise CheckError(err.message, span) from None

    def literal(self, node: ast.Literal, arity: ast.Arity | None) -> Morphism:
        """A diagram literal, checked label by label so that each error points at its vertex."""
        blocks, k, l = self.vertices([(block.labels, block.span) for block in node.blocks], node.span, arity)
        return self.lift(Diagram(blocks, k, l), node.span)

    def graph_literal(self, node: ast.GraphLiteral) -> Morphism:
        """``graph[{1} {1'} ; 1-a, a-1']``: a bilabelled graph (a partition diagram when edgeless)."""
        made = literal_graph(node, self.vertices)
        if kind_of(made) == "graph" and self.group.name != "Aut":
            raise CheckError(messages.GRAPH_LITERAL_GROUP.format(group=self.group), node.span)
        return self.lift(made, node.span)

    def tagged_literal(self, node: ast.HeadLiteral | ast.WrappedLiteral) -> Morphism:
        """``eps[free] pairs`` (an ε-diagram) or ``jelly[blocks]`` (a jellyfish)."""
        if node.tag not in _LITERAL_KINDS:
            known = ", ".join(form for _, _, form in _LITERAL_KINDS.values())
            raise CheckError(messages.UNKNOWN_LITERAL.format(tag=node.tag, known=known), node.span)
        has_head, make, form = _LITERAL_KINDS[node.tag]
        if has_head != isinstance(node, ast.HeadLiteral):
            raise CheckError(messages.LITERAL_FORM.format(tag=node.tag, form=form), node.span)
        groups = [(block.labels, block.span) for block in node.blocks]
        if isinstance(node, ast.HeadLiteral):
            groups.insert(0, (node.head, None))
        blocks, k, l = self.vertices(groups, node.span, None)
        try:
            made = make(blocks[0], blocks[1:], k, l) if has_head else make(blocks, k, l)
        except CatnnError as err:
            raise CheckError(err.message, node.span) from None
        return self.lift(made, node.span)

    def vertices(self, groups: list[tuple[tuple[ast.Label, ...], Span | None]], span: Span,
                 arity: ast.Arity | None) -> tuple[list[list[int]], int, int]:
        """Groups of labels (blocks, each with its span) as 1-based labels, and k, l.

        Outputs become 1..l and inputs l+1..l+k. Every vertex must appear exactly once; without a
        declared arity, the largest output and input labels give l and k. A group without a span
        (the bracketed head of ``eps[...]``) may be empty.
        """
        labels = [label for group, _ in groups for label in group]
        for group, where in groups:
            if not group and where is not None:
                raise CheckError(messages.EMPTY_BLOCK, where)
        for label in labels:
            if label.index == 0:
                raise CheckError(messages.LABEL_ZERO, label.span)
        if arity is not None:
            k, l = self.check_arity(arity)
        else:
            k = max((x.index for x in labels if x.is_input), default=0)
            l = max((x.index for x in labels if not x.is_input), default=0)
            if max(k, l) > MAX_ARITY:
                raise CheckError(messages.LIMIT_EXCEEDED.format(
                    what=f"a {k} -> {l} diagram", limit=f"{MAX_ARITY} vertices per row"), span)
        seen: set[tuple[bool, int]] = set()
        for label in labels:
            if label.index > (k if label.is_input else l):
                raise CheckError(messages.LABEL_RANGE.format(label=label, k=k, l=l), label.span)
            if (label.is_input, label.index) in seen:
                raise CheckError(messages.LABEL_TWICE.format(label=label), label.span)
            seen.add((label.is_input, label.index))
        if len(seen) < k + l:
            missing = next(ast.Label(i, inp) for inp, top in ((False, l), (True, k))
                           for i in range(1, top + 1) if (inp, i) not in seen)
            raise CheckError(messages.LITERAL_MISSING.format(label=missing, k=k, l=l), span)
        return [[x.index + l if x.is_input else x.index for x in group] for group, _ in groups], k, l

    def as_morphism(self, value: Value, span: Span) -> Morphism:
        """A scalar c becomes ``c * id(0)``, the 0 -> 0 morphism it stands for."""
        if isinstance(value, Poly):
            return self.lift(Morphism.of(identity(0), value, self.group.loop), span)
        return value

    def binary(self, node: ast.BinOp, left: Value, right: Value) -> Value:
        result = self._binary(node, left, right)
        self.limit_digits(result, node.span)
        return result

    def _binary(self, node: ast.BinOp, left: Value, right: Value) -> Value:
        op = node.op
        if op in ("+", "-"):
            return self.add(node, left, right)
        if op in ("*", "/"):
            return self.multiply(node, left, right)
        left, right = self.as_morphism(left, node.left.span), self.as_morphism(right, node.right.span)
        if op == "@":
            self.limit_terms(left, right, node.span)
            self.limit_arity(width(left.k) + width(right.k), width(left.l) + width(right.l), node.span)
            self.budget.spend(pair_work(left, right, width(left.k, left.l, right.k, right.l), self.group),
                              "this tensor product")
            return left @ right
        first, then = (left, right) if op == ">>" else (right, left)
        if first.l != then.k:
            raise self.compose_error(node, first, then)
        self.limit_terms(first, then, node.span)
        self.budget.spend(pair_work(first, then, width(first.k, first.l, then.l), self.group, width(first.l)),
                          "this composition")
        return first >> then

    def compose_error(self, node: ast.BinOp, first: Morphism, then: Morphism) -> CheckError:
        """The error for ``first >> then`` (written either way round) when the arities do not meet."""
        first_node, then_node = (node.left, node.right) if node.op == ">>" else (node.right, node.left)
        return CheckError(messages.ARITY_COMPOSE.format(
            left=_excerpt(first_node.span), lout=first.l, right=_excerpt(then_node.span), rin=then.k), node.span)

    def add(self, node: ast.BinOp, left: Value, right: Value) -> Value:
        scalars = isinstance(left, self.Scalar), isinstance(right, self.Scalar)
        if all(scalars):
            return left + right if node.op == "+" else left - right
        if any(scalars):
            morphism = right if scalars[0] else left
            if width(morphism.k, morphism.l):
                raise CheckError(self.SCALAR_SUM.format(k=morphism.k, l=morphism.l), node.span)
            left, right = self.as_morphism(left, node.span), self.as_morphism(right, node.span)
        if (left.k, left.l) != (right.k, right.l):
            raise CheckError(self.ARITY_SUM.format(k1=left.k, l1=left.l, k2=right.k, l2=right.l), node.span)
        self.budget.spend(len(left.terms) + len(right.terms), "this sum")
        return left + right if node.op == "+" else left - right

    def multiply(self, node: ast.BinOp, left: Value, right: Value) -> Value:
        Scalar = self.Scalar
        if node.op == "/":
            if not isinstance(right, Scalar):
                raise CheckError(messages.DIVIDE_BY_MORPHISM, node.right.span)
            if right.is_zero():
                raise CheckError(messages.ZERO_DIVISION, node.right.span)
            return self.divide(node, left, right)
        if isinstance(left, Scalar) and isinstance(right, Scalar):
            self.limit_poly(len(left.terms) * len(right.terms), node.span)
            self.budget.spend(len(left.terms) * len(right.terms), "this product")
            return left * right
        if not isinstance(left, Scalar) and not isinstance(right, Scalar):
            if not width(left.k, left.l) or not width(right.k, right.l):
                self.limit_terms(left, right, node.span)
                self.budget.spend(pair_work(left, right, width(left.k, left.l, right.k, right.l), self.group),
                                  "this product")
                return left @ right  # a 0 -> 0 morphism is a scalar: its product is the tensor
            raise CheckError(messages.MORPHISM_PRODUCT, node.span)
        scalar, morphism = (left, right) if isinstance(left, Scalar) else (right, left)
        self.budget.spend(coefficient_work(morphism, self.as_morphism(scalar, node.span)), "this product")
        return right * left if isinstance(left, Scalar) else left * right

    def divide(self, node: ast.BinOp, left: Value, right: Value) -> Value:
        """``left / right`` by a nonzero number (a divisor that is not a monomial: located at the expression)."""
        return left / right

    def transpose(self, node: ast.Transpose, value: Value) -> Morphism:
        """``f.T``: the flip of a morphism; a number is refused (it has no outputs to flip)."""
        if isinstance(value, self.Scalar):
            raise CheckError(messages.TRANSPOSE_OF_SCALAR, node.span)
        return value.T

    def power(self, node: ast.Power, base: Value) -> Poly:
        if not isinstance(base, Poly):
            raise CheckError(messages.POWER_OF_MORPHISM.format(exponent=abs(node.exponent)), node.span)
        if abs(node.exponent) > MAX_POWER:
            raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"the exponent {node.exponent}", limit=MAX_POWER),
                             node.span)
        if node.exponent < 0 and base.is_zero():
            raise CheckError(messages.ZERO_DIVISION, node.span)
        e, exponents = abs(node.exponent), base.terms.keys()
        spread = max(exponents, default=0) - min(exponents, default=0)
        self.limit_poly(e * (e * spread + 1) * len(base.terms), node.span)  # the work of e products
        self.budget.spend(e * (e * spread + 1) * len(base.terms), "this power")
        if e * max((_bits(c) for c in base.terms.values()), default=0) > MAX_DIGITS * _BITS_PER_DIGIT + 64:
            raise CheckError(_digits_message(), node.span)     # refused before the power is computed
        result = base ** e
        self.limit_digits(result, node.span)
        return result if node.exponent >= 0 else Poly.const(1) / result

    def tensor_power(self, node: ast.TensorPower, base: Value) -> Morphism:
        if isinstance(base, self.Scalar):
            raise CheckError(messages.TENSOR_POWER_OF_SCALAR.format(exponent=node.exponent), node.span)
        e = node.exponent
        if e > MAX_POWER:
            raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"the tensor power {e}", limit=MAX_POWER), node.span)
        self.limit_arity(width(base.k) * e, width(base.l) * e, node.span)
        if len(base.terms) ** e > MAX_TERMS:  # the terms of the result, before any work
            raise CheckError(messages.LIMIT_EXCEEDED.format(
                what=f"this tensor power ({len(base.terms)}^{e} terms)", limit=f"{MAX_TERMS} terms"), node.span)
        result = self.as_morphism(self.Scalar.const(1), node.span)
        for _ in range(e):      # each step estimated first: a step may expand (ε ⊗ ε is a sum of n! terms)
            self.budget.spend(pair_work(result, base, width(result.k, result.l, base.k, base.l), self.group),
                              "this tensor power")
            result = result @ base
        return result

    # -- limits ---------------------------------------------------------------------------------
    @staticmethod
    def limit_terms(a: Morphism, b: Morphism, span: Span) -> None:
        pairs = len(a.terms) * len(b.terms)
        if pairs > MAX_TERMS:
            raise CheckError(messages.LIMIT_EXCEEDED.format(
                what=f"this product of morphisms ({len(a.terms)} x {len(b.terms)} terms)", limit=f"{MAX_TERMS} term pairs"),
                span)

    @staticmethod
    def limit_digits(value: Value, span: Span) -> None:
        """A CheckError if a coefficient of ``value`` has more than :data:`MAX_DIGITS` digits (Python
        cannot even print such integers by default)."""
        polys = [value] if isinstance(value, Poly) else [c for _, c in getattr(value, "terms", ())]
        if any(_bits(c) > MAX_DIGITS * _BITS_PER_DIGIT for p in polys for c in p.terms.values()):
            raise CheckError(_digits_message(), span)

    @staticmethod
    def limit_poly(pairs: int, span: Span) -> None:
        if pairs > MAX_TERMS:
            raise CheckError(messages.LIMIT_EXCEEDED.format(what="this polynomial in n",
                                                           limit=f"{MAX_TERMS} term pairs"), span)

    @staticmethod
    def limit_arity(k: int, l: int, span: Span) -> None:
        if max(k, l) > MAX_ARITY:
            raise CheckError(messages.LIMIT_EXCEEDED.format(
                what=f"a {k} -> {l} morphism", limit=f"{MAX_ARITY} vertices per row"), span)


def width(*arities: Any) -> int:
    """The vertices of some arities: ints, or tuples of per-sort orders over a product.

    >>> width(2, 1), width((1, 2), (0, 1))
    (3, 4)
    """
    return sum(a if isinstance(a, int) else sum(a) for a in arities)


def refuse_typed(item: Any, group: Any) -> None:
    """A CheckError at the first typed order in ``item`` (a definition, layer or network): over a single
    group, orders are numbers."""
    arity = getattr(item, "arity", None)
    sides = []
    if isinstance(arity, ast.TypedArity):
        sides = [arity.k, arity.l]
    elif isinstance(arity, ast.Signature):
        sides = [t.orders for t in (*arity.input.terms, *arity.output.terms) if t.orders is not None]
    for stage in getattr(item, "stages", ()):
        if stage.channels is not None and isinstance(stage.channels[0], ast.Space):
            sides += [t.orders for space in stage.channels for t in space.terms if t.orders is not None]
    if sides:
        raise CheckError(messages.TYPED_NEEDS_PRODUCT.format(text=_excerpt(sides[0].span), group=group),
                         sides[0].span)


# -- tagged literals ---------------------------------------------------------------------------------
def _epsilon(free: list[int], pairs: list[list[int]], k: int, l: int) -> Any:
    from catnn.levi_civita import EpsilonDiagram
    return EpsilonDiagram(free, pairs, k, l)


def _jellyfish(blocks: list[list[int]], k: int, l: int) -> Any:
    from catnn.groups.alternating import Jellyfish
    return Jellyfish(Diagram(blocks, k, l))


#: tag -> (labels in the brackets?, constructor, an example); the forms the diagram kinds print
_LITERAL_KINDS = {
    "eps": (True, _epsilon, "eps[1, 2'] {2, 1'}"),
    "jelly": (False, _jellyfish, "jelly[{1, 1'} {2}]"),
}


# -- helpers -----------------------------------------------------------------------------------------
def _excerpt(span: Span, width: int = 40) -> str:
    """The source text under ``span`` (its first line), shortened for a message."""
    lines = span.text.splitlines()
    if not 1 <= span.line <= len(lines):
        return "?"
    row = lines[span.line - 1]
    stop = span.end_column - 1 if span.end_line == span.line else len(row)
    text = row[span.column - 1:stop].strip()
    if span.end_line != span.line:
        text += " ..."
    return _short(text, width)


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."
