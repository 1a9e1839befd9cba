"""Text to syntax tree: the Lark LALR parser, a non-recursive transformer, and error translation.

>>> from catnn.grammar.parser import parse_expression
>>> parse_expression("swap >> swap").op
'>>'
>>> parse_expression("{1, 2")
Traceback (most recent call last):
  ...
catnn.errors.ParseError: <string>:1:1: error: unterminated block: '{' is never closed
  {1, 2
  ^

The grammar (``diagram.lark``) is package data, loaded once on first use. Parsing never recurses
on the input's nesting (Lark's LALR parser keeps an explicit stack and the tree is transformed by
``Transformer_NonRecursive``), so 10,000 nested parentheses parse fine. Every failure is a
:class:`~catnn.errors.ParseError` whose message uses the language's words, not Lark's terminal names.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction
from functools import cache
from typing import Any

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedToken, VisitError

from catnn import messages
from catnn.errors import CatnnError, ParseError, Span

from . import ast

__all__ = ["parse", "parse_expression", "make_lark", "lark_parser", "LARK_OPTIONS"]

#: how the grammar is built; tests build it once more with ``strict=True``
LARK_OPTIONS: dict[str, Any] = dict(
    parser="lalr", lexer="basic", start=["program", "expression"],
    propagate_positions=True, maybe_placeholders=False,
)

_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
#: a tensor power in a feature space: V, V2 (the order may also follow as V**2)
_POWER_NAME = re.compile(r"V([0-9]*)")
_INTEGER = re.compile(r"[0-9]+")
#: the most digits of a number literal (Python refuses to read integers over 4300 digits)
MAX_LITERAL_DIGITS = 4000


class _MalformedNumber(Exception):
    """Raised by the lexer callback; ``parse`` turns it into a ParseError with a span."""

    def __init__(self, token: Token) -> None:
        super().__init__(str(token))
        self.token = token


def _check_number(token: Token) -> Token:
    if not _DECIMAL.fullmatch(token):
        raise _MalformedNumber(token)
    return token


def make_lark(**overrides: Any) -> Lark:
    """A fresh Lark parser for ``diagram.lark`` (``overrides`` such as ``strict=True`` for tests)."""
    options = {**LARK_OPTIONS, "lexer_callbacks": {"NUMBER": _check_number}, **overrides}
    return Lark.open_from_package("catnn.grammar", "diagram.lark", **options)


@cache
def lark_parser() -> Lark:
    """The shared parser, built on first use."""
    return make_lark()


def parse(text: str, filename: str = "<string>") -> ast.Module:
    """A whole program as an :class:`ast.Module`; raises :class:`ParseError`."""
    return _run(text, filename, "program")


def parse_expression(text: str, filename: str = "<string>") -> ast.Expr:
    """One expression, e.g. ``"1/2 * (id(2) + swap)"``; raises :class:`ParseError`."""
    return _run(text, filename, "expression")


def _run(text: str, filename: str, start: str) -> Any:
    if not isinstance(text, str):
        raise ParseError(messages.NOT_TEXT.format(kind=type(text).__name__))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    shown = text.translate(_OTHER_LINE_BREAKS)  # what spans print: its lines are the lexer's lines
    try:
        tree = lark_parser().parse(text, start=start)
        return _ToAst(text, shown, filename).transform(tree)
    except _MalformedNumber as err:
        token = err.token if len(err.token) <= 60 else f"{err.token[:40]}... ({len(err.token)} characters)"
        raise ParseError(messages.MALFORMED_NUMBER.format(text=token),
                         _token_span(err.token, shown, filename)) from None
    except UnexpectedCharacters as err:
        raise _character_error(err, text, shown, filename) from None
    except UnexpectedToken as err:
        raise _token_error(err, shown, filename, start) from None
    except VisitError as err:
        if isinstance(err.orig_exc, CatnnError):
            raise err.orig_exc from None
        raise
    except LarkError as err:  # not expected from an LALR parse, but never leak a Lark error
        raise ParseError(messages.SYNTAX_ERROR.format(detail=str(err).splitlines()[0]),
                         Span.at(shown, 1, 1, file=filename)) from None


#: characters that str.splitlines() breaks lines at but the lexer does not (it rejects them
#: outside comments); spans print them as spaces so that caret lines match the lexer's lines
_OTHER_LINE_BREAKS = {c: " " for c in (0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}


# -- tree to AST -----------------------------------------------------------------------------------
def _token_span(tok: Token, text: str, filename: str) -> Span:
    return Span.at(text, tok.line, tok.column, tok.end_line, tok.end_column, filename)


def _join(a: Span, b: Span) -> Span:
    """The span from the start of ``a`` to the end of ``b``."""
    return Span(a.file, a.line, a.column, b.end_line, b.end_column, a.text)


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):
    """Builds the frozen AST; every node gets the span of the text it covers."""

    def __init__(self, source: str, shown: str, filename: str) -> None:
        super().__init__()
        self.source, self.text, self.filename = source, shown, filename

    def _span(self, meta: Any) -> Span:
        return Span.at(self.text, meta.line, meta.column, meta.end_line, meta.end_column, self.filename)

    def _tspan(self, tok: Token) -> Span:
        return _token_span(tok, self.text, self.filename)

    def _integer(self, tok: Token, what: str) -> int:
        if not _INTEGER.fullmatch(tok):
            raise ParseError(messages.NOT_INTEGER.format(what=what, text=tok), self._tspan(tok))
        return self._whole(tok, tok)

    def _whole(self, text: str, tok: Token) -> int:
        """``int(text)`` for a run of digits from ``tok``; a located error past Python's digit limit."""
        if len(text) > MAX_LITERAL_DIGITS:
            raise ParseError(messages.LIMIT_EXCEEDED.format(what=f"a {len(text)}-digit number",
                                                             limit=f"{MAX_LITERAL_DIGITS} digits"), self._tspan(tok))
        return int(text)

    # start symbols
    def program(self, meta: Any, items: list) -> ast.Module:
        return ast.Module(tuple(items), self.source, self.filename, self._span(meta))

    def expression(self, meta: Any, children: list) -> ast.Expr:
        return children[0]

    # declarations
    def group_decl(self, meta: Any, c: list) -> ast.GroupDecl:
        size = None
        if len(c) > 1 and c[2].type == "NUMBER":
            size = self._integer(c[2], "a group size")
        graph = c[2] if len(c) > 1 and c[2].type == "NAME" else None
        return ast.GroupDecl(str(c[0]), size, self._tspan(c[0]), self._span(meta),
                             None if graph is None else str(graph), None if graph is None else self._tspan(graph))

    def signature_decl(self, meta: Any, c: list) -> ast.GroupDecl:
        """``group O(1,3)``: the name with its signature, e.g. ``O(1,3)``, and no size."""
        p, q = (self._integer(tok, "a group signature") for tok in (c[2], c[3]))
        name_span = Span.at(self.text, c[0].line, c[0].column, c[4].end_line, c[4].end_column, self.filename)
        return ast.GroupDecl(f"{c[0]}({p},{q})", None, name_span, self._span(meta))

    # products of groups: group points: S x space: O(3), typed orders (1, 0), (points: 1)
    def product_decl(self, meta: Any, c: list) -> ast.ProductGroupDecl:
        factors = [x for x in c if isinstance(x, tuple)]
        for sign in c:
            if isinstance(sign, Token) and sign != "x":
                raise ParseError(messages.PRODUCT_SIGN.format(found=sign), self._tspan(sign))
        decls = tuple(decl for _, _, decl in factors)
        name = " x ".join(decl.name if decl.size is None else f"{decl.name}({decl.size})" for decl in decls)
        return ast.ProductGroupDecl(name, None, _join(decls[0].name_span, decls[-1].span), self._span(meta),
                                    factors=decls, sorts=tuple(sort for sort, _, _ in factors),
                                    sort_spans=tuple(span for _, span, _ in factors))

    def sort_times(self, meta: Any, c: list) -> Token | None:
        return None if c[0].type == "TIMES" else c[0]

    def sort_factor(self, meta: Any, c: list) -> tuple:
        sort = None
        if len(c) > 1 and c[1].type == "NAME":       # points: S
            sort, c = c[0], c[1:]
        args = [t for t in c[1:] if t.type in ("NUMBER", "DIM", "NAME")]
        span = self._span(meta) if sort is None else _join(self._tspan(c[0]), self._span(meta))
        if len(args) == 2:            # O(1,3): a signature
            p, q = (self._integer(tok, "a group signature") for tok in args)
            decl = ast.GroupDecl(f"{c[0]}({p},{q})", None, span, span)
        else:
            size = self._integer(args[0], "a group size") if args and args[0].type == "NUMBER" else None
            graph = args[0] if args and args[0].type == "NAME" else None
            decl = ast.GroupDecl(str(c[0]), size, self._tspan(c[0]), span, None if graph is None else str(graph),
                                 None if graph is None else self._tspan(graph))
        return (None if sort is None else str(sort)), (None if sort is None else self._tspan(sort)), decl

    def typed_order(self, meta: Any, c: list) -> ast.Orders:
        return ast.Orders(tuple(x for x in c if isinstance(x, ast.OrderEntry)), self._span(meta))

    def order_entry(self, meta: Any, c: list) -> ast.OrderEntry:
        sort = str(c[0]) if len(c) == 2 else None
        return ast.OrderEntry(sort, self._integer(c[-1], "an order"), self._span(meta))

    def typed_arity(self, meta: Any, c: list) -> ast.TypedArity:
        return ast.TypedArity(c[0], c[1], self._span(meta))

    def typed_space(self, meta: Any, c: list) -> ast.Space:
        orders = c[0]
        term = ast.SpaceTerm(sum(e.order for e in orders.entries), None, orders.span, orders)
        return ast.Space((term,), "typed", self._span(meta))

    def typed_term(self, meta: Any, c: list) -> ast.SpaceTerm:
        channels = None
        if len(c) == 4:
            if c[1] != "*":
                raise ParseError(messages.SPACE_OPERATOR, self._tspan(c[1]))
            channels = self._integer(c[0], "a channel count")
        name, orders = c[-2], c[-1]
        if name != "V":
            raise ParseError(messages.SPACE_NAME.format(name=name), self._tspan(name))
        return ast.SpaceTerm(sum(e.order for e in orders.entries), channels, self._span(meta), orders)

    def product_literal(self, meta: Any, c: list) -> ast.ProductLiteral:
        return ast.ProductLiteral(tuple(x for x in c if not isinstance(x, Token)), self._span(meta))

    # graphs: graph G = ..., and graph[...] literals
    def graph_decl(self, meta: Any, c: list) -> ast.GraphDecl:
        family, args, rows, span = c[1]
        return ast.GraphDecl(str(c[0]), family, args, rows, span, self._tspan(c[0]), self._span(meta))

    def graph_family(self, meta: Any, c: list) -> tuple:
        args = tuple(x for x in c[1:] if isinstance(x, ast.GraphPath))
        return str(c[0]), args, None, self._span(meta)

    def graph_matrix(self, meta: Any, c: list) -> tuple:
        return str(c[0]), (), tuple(x for x in c[1:] if isinstance(x, tuple)), self._span(meta)

    def graph_path(self, meta: Any, c: list) -> ast.GraphPath:
        numbers = tuple(self._integer(t, "a vertex number") for t in c if t.type == "NUMBER")
        return ast.GraphPath(numbers, self._span(meta))

    def graph_row(self, meta: Any, c: list) -> tuple[int, ...]:
        return tuple(self._integer(t, "an adjacency entry") for t in c if t.type == "NUMBER")

    def graph_literal(self, meta: Any, c: list) -> ast.GraphLiteral:
        blocks = tuple(x for x in c if isinstance(x, ast.Block))
        edges = tuple(x for x in c if isinstance(x, ast.GraphEdge))
        return ast.GraphLiteral(blocks, edges, self._span(meta))

    def graph_edge(self, meta: Any, c: list) -> ast.GraphEdge:
        return ast.GraphEdge(tuple(x for x in c if isinstance(x, ast.GraphVertex)), self._span(meta))

    def graph_vertex(self, meta: Any, c: list) -> ast.GraphVertex:
        tok = c[0]
        label = None
        if tok.type == "INPUT":
            label = ast.Label(self._whole(tok[:-1], tok), True, self._tspan(tok))
        elif tok.type == "NUMBER":
            label = ast.Label(self._integer(tok, "a vertex label"), False, self._tspan(tok))
        return ast.GraphVertex(str(tok), label, self._tspan(tok))

    def arity(self, meta: Any, c: list) -> ast.Arity:
        k, l = (self._integer(t, "an arity") for t in c)
        return ast.Arity(k, l, self._span(meta))

    def diagram_def(self, meta: Any, c: list) -> ast.Definition:
        return self._definition("diagram", meta, c)

    def morphism_def(self, meta: Any, c: list) -> ast.Definition:
        return self._definition("morphism", meta, c)

    def _definition(self, kind: str, meta: Any, c: list) -> ast.Definition:
        arity = c[1] if len(c) == 3 else None
        return ast.Definition(kind, str(c[0]), arity, c[-1], self._tspan(c[0]), self._span(meta))

    def layer_def(self, meta: Any, c: list) -> ast.LayerDef:
        learn = tuple(c[4:-1]) if len(c) > 2 else None
        return ast.LayerDef(str(c[0]), c[1], learn, self._tspan(c[0]), self._span(meta))

    def network_def(self, meta: Any, c: list) -> ast.NetworkDef:
        return ast.NetworkDef(str(c[0]), c[1], tuple(c[2:]), self._tspan(c[0]), self._span(meta))

    def stage(self, meta: Any, c: list) -> ast.Stage:
        channels = None
        if len(c) > 1:
            left, right = c[2], c[3]
            if left.kind == right.kind == "number":
                channels = (left.terms[0].order, right.terms[0].order)
            else:
                channels = (left, right)
        return ast.Stage(str(c[0]), channels, self._span(meta))

    def sort_stage(self, meta: Any, c: list) -> ast.Stage:
        arg = c[2]
        sort = self._integer(arg, "a sort number") if arg.type == "NUMBER" else str(arg)
        return ast.Stage(str(c[0]), None, self._span(meta), sort)

    # feature spaces (layer and network signatures, stage widths)
    def signature(self, meta: Any, c: list) -> ast.Arity | ast.Signature | ast.TypedArity:
        left, right = c
        if left.kind == right.kind == "number":
            return ast.Arity(left.terms[0].order, right.terms[0].order, self._span(meta))
        if left.kind == right.kind == "typed":
            return ast.TypedArity(left.terms[0].orders, right.terms[0].orders, self._span(meta))
        return ast.Signature(left, right, self._span(meta))

    def order_space(self, meta: Any, c: list) -> ast.Space:
        term = ast.SpaceTerm(self._integer(c[0], "an order or a channel width"), None, self._tspan(c[0]))
        return ast.Space((term,), "number", self._span(meta))

    def product_space(self, meta: Any, c: list) -> ast.Space:
        terms = tuple(ast.SpaceTerm(self._integer(t, "an order"), None, self._tspan(t)) for t in (c[0], c[2]))
        return ast.Space(terms, "product", self._span(meta))

    def outer_space(self, meta: Any, c: list) -> ast.Space:
        if c[0] != "outer":
            raise ParseError(messages.UNKNOWN_PAIRING.format(name=str(c[0])), self._tspan(c[0]))
        product = self.product_space(meta, c[2:5])
        return ast.Space(product.terms, "product", product.span, outer=True)

    def typed_product_space(self, meta: Any, c: list) -> ast.Space:
        terms = tuple(ast.SpaceTerm(sum(e.order for e in o.entries), None, o.span, o) for o in (c[0], c[2]))
        return ast.Space(terms, "product", self._span(meta))

    def typed_outer_space(self, meta: Any, c: list) -> ast.Space:
        if c[0] != "outer":
            raise ParseError(messages.UNKNOWN_PAIRING.format(name=str(c[0])), self._tspan(c[0]))
        product = self.typed_product_space(meta, c[2:5])
        return ast.Space(product.terms, "product", product.span, outer=True)

    def sum_space(self, meta: Any, c: list) -> ast.Space:
        return ast.Space(tuple(t for t in c if isinstance(t, ast.SpaceTerm)), "sum", self._span(meta))

    def space_term(self, meta: Any, c: list) -> ast.SpaceTerm:
        channels = None
        if len(c) >= 3 and c[1].type == "MUL_OP":
            if c[1] != "*":
                raise ParseError(messages.SPACE_OPERATOR, self._tspan(c[1]))
            channels, c = self._integer(c[0], "a channel count"), c[2:]
        name = c[0]
        match = _POWER_NAME.fullmatch(name)
        if match is None or (match.group(1) and len(c) > 1):
            raise ParseError(messages.SPACE_NAME.format(name=name), self._tspan(name))
        order = self._whole(match.group(1), name) if match.group(1) else 1
        if len(c) > 1:
            order = self._integer(c[2], "an order")
        return ast.SpaceTerm(order, channels, self._span(meta))

    # expressions: operator chains fold to the left
    def _fold(self, c: list, ops: dict[str, str]) -> ast.Expr:
        node = c[0]
        for i in range(1, len(c), 2):
            right = c[i + 1]
            node = ast.BinOp(ops.get(c[i], str(c[i])), node, right, _join(node.span, right.span))
        return node

    def sum(self, meta: Any, c: list) -> ast.Expr:
        return self._fold(c, {})

    def forward(self, meta: Any, c: list) -> ast.Expr:
        return self._fold(c, {})

    def backward(self, meta: Any, c: list) -> ast.Expr:
        return self._fold(c, {})

    def tensor(self, meta: Any, c: list) -> ast.Expr:
        return self._fold(c, {"⊗": "@"})

    def product(self, meta: Any, c: list) -> ast.Expr:
        return self._fold(c, {})

    def neg(self, meta: Any, c: list) -> ast.Neg:
        return ast.Neg(c[1], self._span(meta))

    def scalar_power(self, meta: Any, c: list) -> ast.Power:
        return ast.Power(c[0], c[2], self._span(meta))

    def exponent(self, meta: Any, c: list) -> int:
        tokens = [t for t in c if t.type in ("MINUS", "NUMBER")]
        value = self._integer(tokens[-1], "an exponent")
        return -value if len(tokens) == 2 else value

    def transpose(self, meta: Any, c: list) -> ast.Transpose:
        return ast.Transpose(c[0], self._span(meta))

    def tensor_power(self, meta: Any, c: list) -> ast.TensorPower:
        return ast.TensorPower(c[0], self._integer(c[2], "a tensor power"), self._span(meta))

    # atoms
    def number(self, meta: Any, c: list) -> ast.Number:
        text = str(c[0])
        if sum(ch.isdigit() for ch in text) > MAX_LITERAL_DIGITS:   # Python refuses to read such integers
            raise ParseError(messages.LIMIT_EXCEEDED.format(what=f"a {len(text)}-digit number",
                                                             limit=f"{MAX_LITERAL_DIGITS} digits"), self._span(meta))
        return ast.Number(Fraction(text), text, self._span(meta))

    def dim(self, meta: Any, c: list) -> ast.Dim:
        return ast.Dim(self._span(meta))

    def name(self, meta: Any, c: list) -> ast.Name:
        return ast.Name(str(c[0]), self._span(meta))

    def call(self, meta: Any, c: list) -> ast.Call:
        args = tuple(self._integer(t, "a generator argument") for t in c[2:-1])
        return ast.Call(str(c[0]), args, self._span(meta))

    def literal(self, meta: Any, c: list) -> ast.Literal:
        return ast.Literal(tuple(c), self._span(meta))

    def head_literal(self, meta: Any, c: list) -> ast.HeadLiteral:
        close = next(i for i, x in enumerate(c) if isinstance(x, Token) and x.type == "RSQB")
        return ast.HeadLiteral(str(c[0]), tuple(c[2:close]), tuple(c[close + 1:]), self._span(meta))

    def wrapped_literal(self, meta: Any, c: list) -> ast.WrappedLiteral:
        return ast.WrappedLiteral(str(c[0]), tuple(c[2:-1]), self._span(meta))

    def paren(self, meta: Any, c: list) -> ast.Expr:
        # no node of its own: the inner span keeps carets on the text that is wrong, even when
        # the parentheses sit on other lines
        return c[1]

    def block(self, meta: Any, c: list) -> ast.Block:
        return ast.Block(tuple(c[1:-1]), self._span(meta))

    def label(self, meta: Any, c: list) -> ast.Label:
        tok = c[0]
        if tok.type == "INPUT":
            return ast.Label(self._whole(tok[:-1], tok), True, self._tspan(tok))
        return ast.Label(self._integer(tok, "a vertex label"), False, self._tspan(tok))


# -- errors in the language's words ------------------------------------------------------------
#: how a terminal is named in messages; terminals that are plain strings are quoted instead
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "INPUT": "an input vertex such as 1'",
    "TENSOR_OP": "'@'",
    "MUL_OP": "'*' or '/'",
    "$END": "the end of the input",
}
#: terminals listed together as "an operator" when several are possible
_OPERATORS = {"PLUS", "MINUS", "FORWARD", "BACKWARD", "TENSOR_OP", "MUL_OP", "CARET", "TENSOR_POWER", "TRANSPOSE"}
_DEFINITION_KEYWORDS = ("group", "graph", "diagram", "morphism", "layer", "network")
_RESERVED = (*_DEFINITION_KEYWORDS, "learn", "n")
_CLOSERS = {"RPAR", "RBRACE", "RSQB"}
_OPENERS = {"LPAR", "LBRACE", "LSQB"}
#: look-alike characters people paste from papers, and what they probably meant
_LOOKALIKES = {"→": "->", "−": "-", "–": "-", "—": "-", "′": "'", "’": "'", "‘": "'",
               "×": "*", "·": "*", "⋅": "*", "÷": "/", "⊕": "+", "≫": ">>", "○": "∘"}


def _character_error(err: UnexpectedCharacters, text: str, shown: str, filename: str) -> ParseError:
    char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
    span = Span.at(shown, err.line, err.column, file=filename)
    if char.isascii() and char.isprintable():
        return ParseError(messages.UNEXPECTED_CHARACTER.format(char=char), span)
    name = unicodedata.name(char, "control character" if unicodedata.category(char) == "Cc" else "unnamed")
    glyph = f"'{char}' " if char.isprintable() and not char.isspace() else ""
    message = messages.STRAY_CHARACTER.format(shown=glyph, code=ord(char), name=name)
    if char in _LOOKALIKES:
        message += messages.DID_YOU_MEAN.format(suggestion=_LOOKALIKES[char])
    return ParseError(message, span)


def _token_error(err: UnexpectedToken, text: str, filename: str, start: str) -> ParseError:
    tok = err.token
    expected = set(getattr(err, "accepts", None) or err.expected)
    at_end = tok.type == "$END"
    if at_end:
        line, column = _end_position(text, tok)
        span = Span.at(text, line, column, file=filename)
    else:
        span = _token_span(tok, text, filename)
    stack = _value_stack(err)
    if at_end and not stack:  # nothing was read but comments and spaces
        which = messages.EMPTY_PROGRAM if start == "program" else messages.EMPTY_EXPRESSION
        return ParseError(which, span if text else Span.at("\n", 1, 1, file=filename))  # a caret on the empty line
    found = _describe_found(tok)
    if (at_end or tok in _DEFINITION_KEYWORDS) and expected & _CLOSERS:
        opener = _innermost_open(stack)
        if opener is not None:
            what = messages.UNCLOSED_BLOCK.format() if opener.type == "LBRACE" else \
                messages.UNCLOSED_BRACKET.format(bracket=str(opener))
            return ParseError(what, _token_span(opener, text, filename))
    if tok.type == "TIMES":     # × outside a group line: a look-alike of *
        return ParseError(messages.TIMES_IN_EXPRESSION, span)
    if tok.type in ("FORWARD", "BACKWARD") and expected & {"FORWARD", "BACKWARD"}:
        return ParseError(messages.MIXED_COMPOSITION, span)
    if "NAME" in expected and tok in _RESERVED:
        return ParseError(messages.RESERVED_WORD.format(word=tok), span)
    return ParseError(messages.UNEXPECTED.format(found=found, expected=_describe_expected(expected)), span)


def _value_stack(err: UnexpectedToken) -> list:
    parser = getattr(err, "interactive_parser", None)
    state = getattr(parser, "parser_state", None)
    return list(getattr(state, "value_stack", []) or [])


def _innermost_open(stack: list) -> Token | None:
    """The last bracket token still on the parser's stack: it was opened and never closed."""
    for value in reversed(stack):
        if isinstance(value, Token) and value.type in _OPENERS:
            return value
    return None


def _end_position(text: str, tok: Token) -> tuple[int, int]:
    """Just after the last token (where the missing text should go)."""
    if getattr(tok, "end_line", None) and tok.end_column:
        return tok.end_line, tok.end_column
    return 1, 1


def _describe_found(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "NAME":
        return f"name '{tok}'"
    if tok.type == "NUMBER":
        return f"number {tok}"
    if tok.type == "INPUT":
        return f"input vertex {tok}"
    return f"'{tok}'"


def _describe_expected(expected: set[str]) -> str:
    lark = lark_parser()
    words: list[str] = []
    operators = expected & _OPERATORS
    keywords = {t for t in expected if _literal(lark, t) in _DEFINITION_KEYWORDS}
    rest = sorted(expected - keywords - (operators if len(operators) >= 3 else set()),
                  key=lambda t: (t not in _TERMINAL_WORDS, _literal(lark, t) or t))
    for t in rest:
        word = _TERMINAL_WORDS.get(t)
        if word is None:
            literal = _literal(lark, t)
            word = f"'{literal}'" if literal is not None else t.lower()
        if word not in words:
            words.append(word)
    if len(operators) >= 3:
        words.append("an operator")
    if keywords:
        words.append("a new definition" if len(keywords) >= 3 else
                     " or ".join(f"'{_literal(lark, k)}'" for k in sorted(keywords)))
    if "the end of the input" in words:  # say it last: it reads better
        words.remove("the end of the input")
        words.append("the end of the input")
    if not words:
        return "nothing"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _literal(lark: Lark, terminal: str) -> str | None:
    """The text of a terminal that is one fixed string, else None."""
    try:
        pattern = lark.get_terminal(terminal).pattern
    except KeyError:
        return None
    return pattern.value if pattern.type == "str" else None
