"""The syntax tree of the diagram language: frozen nodes, each with the :class:`Span` it came from.

>>> from catnn.grammar import parse
>>> module = parse("diagram swap : 2 -> 2 = {1, 2'} {2, 1'}")
>>> d = module.items[0]
>>> d.kind, d.name, (d.arity.k, d.arity.l), d.value.blocks[0].labels[1]
('diagram', 'swap', (2, 2), Label(index=2, is_input=True))
>>> str(d.value.span)
'<string>:1:25'

Nodes are syntax only: no name is resolved and no arity is checked here (``catnn.compiler`` does
that). Spans do not take part in ``==``, so two parses of the same text with different spacing
compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Union

from catnn.errors import Span

__all__ = [
    "Number", "Dim", "Name", "Call", "Label", "Block", "Literal", "HeadLiteral", "WrappedLiteral", "Neg", "BinOp", "Power",
    "TensorPower", "Expr", "GroupDecl", "Arity", "SpaceTerm", "Space", "Signature", "Definition", "LayerDef", "Stage", "NetworkDef",
    "Item", "Module", "children", "GraphVertex", "GraphEdge", "GraphLiteral", "GraphPath", "GraphDecl",
    "ProductLiteral", "Transpose", "ProductGroupDecl", "OrderEntry", "Orders", "TypedArity",
]


def _span() -> Span:
    # a default lets tests and tools build nodes by hand; the parser always fills it in
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


# -- expressions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Number:
    """An exact rational literal: ``3``, ``0.25`` (= 1/4)."""

    value: Fraction
    text: str
    span: Span = _span()


@dataclass(frozen=True)
class Dim:
    """The dimension symbol ``n``."""

    span: Span = _span()


@dataclass(frozen=True)
class Name:
    """A reference to a definition or a generator without arguments: ``swap``, ``f``."""

    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Call:
    """A generator with integer arguments: ``id(2)``."""

    name: str
    args: tuple[int, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Label:
    """One vertex of a literal: output ``3`` (``is_input=False``) or input ``3'``."""

    index: int
    is_input: bool
    span: Span = _span()

    def __str__(self) -> str:
        return f"{self.index}'" if self.is_input else str(self.index)


@dataclass(frozen=True)
class Block:
    """One block ``{1, 2'}`` of a literal (possibly empty, which the checker rejects)."""

    labels: tuple[Label, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Literal:
    """A diagram literal: juxtaposed blocks ``{1, 2'} {2, 1'}``."""

    blocks: tuple[Block, ...]
    span: Span = _span()


@dataclass(frozen=True)
class HeadLiteral:
    """A tagged literal with labels in brackets, then blocks: ``eps[1, 2'] {2, 1'}``."""

    tag: str
    head: tuple[Label, ...]
    blocks: tuple[Block, ...]
    span: Span = _span()


@dataclass(frozen=True)
class WrappedLiteral:
    """A tagged literal wrapping a partition literal: ``jelly[{1, 1'} {2}]``."""

    tag: str
    blocks: tuple[Block, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Neg:
    """``-operand``."""

    operand: Expr
    span: Span = _span()


@dataclass(frozen=True)
class BinOp:
    """``left op right`` for op in ``+ - * / >> ∘ @`` (``⊗`` is stored as ``@``)."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Power:
    """``base ^ exponent``: a scalar power such as ``n^2`` or ``n^-1``."""

    base: Expr
    exponent: int
    span: Span = _span()


@dataclass(frozen=True)
class TensorPower:
    """``base ** exponent``: the tensor power ``base @ base @ ...`` (``** 0`` is ``id(0)``)."""

    base: Expr
    exponent: int
    span: Span = _span()


@dataclass(frozen=True)
class GraphVertex:
    """A vertex named in an edge of a graph literal: a label ``1``, ``2'`` or an internal ``a``."""

    name: str
    label: Label | None         # the label it names (None for an internal vertex)
    span: Span = _span()


@dataclass(frozen=True)
class GraphEdge:
    """``1-a-1'`` in a graph literal: a path of vertices (one vertex alone: an isolated vertex)."""

    vertices: tuple[GraphVertex, ...]
    span: Span = _span()


@dataclass(frozen=True)
class GraphLiteral:
    """A bilabelled graph ``graph[{1} {1'} ; 1-a, a-1']``: blocks of labels, then edges."""

    blocks: tuple[Block, ...]
    edges: tuple[GraphEdge, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Transpose:
    """``operand.T``: the flip of a morphism (outputs and inputs exchanged)."""

    operand: Expr
    span: Span = _span()


@dataclass(frozen=True)
class ProductLiteral:
    """A product diagram or morphism ``(swap | id(1))``: one expression per sort, each read under its factor."""

    parts: tuple[Expr, ...]
    span: Span = _span()


Expr = Union[Number, Dim, Name, Call, Literal, HeadLiteral, WrappedLiteral, Neg, BinOp, Power, TensorPower,
             GraphLiteral, ProductLiteral, Transpose]


def children(node: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of ``node``, left to right (literals and leaves have none)."""
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, (Neg, Transpose)):
        return (node.operand,)
    if isinstance(node, (Power, TensorPower)):
        return (node.base,)
    return ()


# -- declarations --------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupDecl:
    """``group O(3)``: the name as written and the size (None for symbolic n)."""

    name: str
    size: int | None
    name_span: Span = _span()
    span: Span = _span()
    graph: str | None = None    # group Aut(G): the declared graph's name
    graph_span: Span = _span()


@dataclass(frozen=True)
class ProductGroupDecl(GroupDecl):
    """``group points: S x space: O(3)``: ``factors`` as group lines, each sort's name (None if unnamed)."""

    factors: tuple[GroupDecl, ...] = ()
    sorts: tuple[str | None, ...] = ()
    sort_spans: tuple[Span | None, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class OrderEntry:
    """One entry of a typed order: ``1`` (by position) or ``points: 1`` (``sort`` the sort's name)."""

    sort: str | None
    order: int
    span: Span = _span()


@dataclass(frozen=True)
class Orders:
    """A typed order ``(1, 0)`` or ``(points: 1)``: one order per sort of a product group."""

    entries: tuple[OrderEntry, ...]
    span: Span = _span()


@dataclass(frozen=True)
class TypedArity:
    """``: (1, 1) -> (1, 0)``: typed orders of a product group's diagrams, morphisms and layers."""

    k: Orders
    l: Orders
    span: Span = _span()


@dataclass(frozen=True)
class Arity:
    """``: k -> l``."""

    k: int
    l: int
    span: Span = _span()


@dataclass(frozen=True)
class SpaceTerm:
    """One tensor power of a feature space: ``4*V2`` (order 2, 4 channels) or ``V2`` (channels None)."""

    order: int
    channels: int | None
    span: Span = _span()
    #: a typed tensor of a product group, ``V(1, 1)``: its orders (``order`` is then their sum)
    orders: Orders | None = None


@dataclass(frozen=True)
class Space:
    """A feature space as written: a bare number ``2``, a product ``1 @ 1``, or a sum ``4*V0 + V2``.

    A bare number is one term whose ``order`` is the number (in channel widths, it is a channel
    count); a product's terms are its factors' orders.
    """

    terms: tuple[SpaceTerm, ...]
    kind: str               # "number", "product", "sum" or "typed" (one typed order, ``(1, 1)``)
    span: Span = _span()
    #: a product written ``outer(a @ b)``: every channel of x times every channel of y
    outer: bool = False


@dataclass(frozen=True)
class Signature:
    """``: in -> out`` of a layer or network when a side is not a plain number (see :class:`Space`)."""

    input: Space
    output: Space
    span: Span = _span()


@dataclass(frozen=True)
class Definition:
    """``diagram NAME [: k -> l] = expr`` or ``morphism NAME [: k -> l] = expr``."""

    kind: str               # "diagram" or "morphism"
    name: str
    arity: Arity | TypedArity | None
    value: Expr
    name_span: Span = _span()
    span: Span = _span()


@dataclass(frozen=True)
class LayerDef:
    """``layer NAME : k -> l`` (full spanning set) or ``... = learn(e1, e2, ...)``; ``arity`` is a
    :class:`Signature` for bilinear (``a @ b -> l``) and mixed-order (``V0 + V2 -> V1``) layers."""

    name: str
    arity: Arity | Signature | TypedArity
    learn: tuple[Expr, ...] | None
    name_span: Span = _span()
    span: Span = _span()


@dataclass(frozen=True)
class Stage:
    """A network stage: ``edge[1 -> 16]`` (channels given) or ``relu`` (``channels`` None).

    Widths written as feature spaces, ``mix[4*V0 + 2*V2 -> 3*V1]``, are a pair of :class:`Space`.
    """

    name: str
    channels: tuple[int, int] | tuple[Space, Space] | None
    span: Span = _span()
    #: the sort a pooling runs over, ``sum(points)`` or ``sum(0)`` (products of groups); None: every sort
    sort: str | int | None = None


@dataclass(frozen=True)
class NetworkDef:
    """``network NAME : k -> l = stage >> stage >> ...`` (``arity`` a :class:`Signature` for spaces)."""

    name: str
    arity: Arity | Signature
    stages: tuple[Stage, ...]
    name_span: Span = _span()
    span: Span = _span()


@dataclass(frozen=True)
class GraphPath:
    """``0-1-2`` (or one vertex ``5``) in ``edges(...)``: vertex numbers."""

    vertices: tuple[int, ...]
    span: Span = _span()


@dataclass(frozen=True)
class GraphDecl:
    """``graph G = cycle(5)``: a family with arguments, ``edges(0-1, ...)``, or ``adjacency[[...]]``."""

    name: str
    family: str                     # cycle, path, ..., edges, or adjacency
    args: tuple[GraphPath, ...]     # the arguments (a family's sizes are one-vertex paths)
    rows: tuple[tuple[int, ...], ...] | None   # adjacency[[...]]: the matrix rows
    value_span: Span = _span()
    name_span: Span = _span()
    span: Span = _span()


Item = Union[GroupDecl, ProductGroupDecl, GraphDecl, Definition, LayerDef, NetworkDef]


@dataclass(frozen=True)
class Module:
    """A whole program: its items in source order, with the text and file name they came from."""

    items: tuple[Item, ...]
    source: str = field(compare=False, repr=False)
    filename: str = field(compare=False, repr=False)
    span: Span = _span()
