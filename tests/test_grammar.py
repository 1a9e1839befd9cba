"""The grammar: it builds strictly, parses to spanned ASTs with the documented precedence, and
every printed diagram or morphism parses back to an equal value."""

from __future__ import annotations

import importlib.resources
import random
import re
from fractions import Fraction

import pytest

import catnn
from catnn.coeff import Poly
from catnn.diagram import Diagram, set_partitions
from catnn.errors import CatnnError, ParseError
from catnn.grammar import ast, parse, parse_expression
from catnn.grammar.parser import lark_parser, make_lark
from catnn.morphism import Morphism


# -- the grammar itself -------------------------------------------------------------------------
def test_grammar_is_package_data():
    assert importlib.resources.files("catnn.grammar").joinpath("diagram.lark").is_file()


def test_grammar_builds_in_strict_mode():
    # strict=True turns any shift/reduce conflict or terminal collision into an error
    strict = make_lark(strict=True)
    assert strict.parse("diagram f = 1/2 * swap >> id(2) @ {1, 1'}", start="program")


def test_parser_is_loaded_once():
    assert lark_parser() is lark_parser()


def test_every_rule_is_commented():
    text = importlib.resources.files("catnn.grammar").joinpath("diagram.lark").read_text()
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if re.match(r"\??[a-z_]+:", line)]
    assert len(rules) > 15
    for i in rules:
        assert lines[i - 1].startswith("//"), f"rule without a comment: {lines[i]}"


# -- spans and nodes ----------------------------------------------------------------------------
def test_spans_point_at_the_text():
    module = parse("group O(3)\n\ndiagram swap : 2 -> 2 = {1, 2'} {2, 1'}  # comment\n", "m.diag")
    decl, d = module.items
    assert (decl.name, decl.size) == ("O", 3)
    assert (d.span.file, d.span.line, d.span.column) == ("m.diag", 3, 1)
    assert (d.name_span.line, d.name_span.column, d.name_span.end_column) == (3, 9, 13)
    assert (d.value.span.column, d.value.span.end_column) == (25, 40)
    label = d.value.blocks[0].labels[1]
    assert (label.index, label.is_input, label.span.column) == (2, True, 29)
    assert module.filename == "m.diag" and module.source.startswith("group")


def test_nodes_are_frozen_and_compare_without_spans():
    a, b = parse_expression("swap>>swap"), parse_expression("  swap  >>\n swap")
    assert a == b and a.span != b.span
    with pytest.raises(AttributeError):
        a.op = "@"  # type: ignore[misc]


def test_group_sizes():
    assert parse("group O(n)").items[0].size is None
    assert parse("group S").items[0].size is None
    assert parse("group Sp(4)").items[0].size == 4


def test_numbers_are_exact():
    assert parse_expression("0.25") == ast.Number(Fraction(1, 4), "0.25")
    assert parse_expression("1/3").op == "/"


# -- precedence ---------------------------------------------------------------------------------
def shape(node):
    """The tree as nested tuples, for comparing precedence."""
    if isinstance(node, ast.BinOp):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, ast.Neg):
        return ("neg", shape(node.operand))
    if isinstance(node, ast.Power):
        return ("^", shape(node.base), node.exponent)
    if isinstance(node, ast.TensorPower):
        return ("**", shape(node.base), node.exponent)
    if isinstance(node, ast.Name):
        return node.name
    if isinstance(node, ast.Number):
        return node.text
    if isinstance(node, ast.Dim):
        return "n"
    if isinstance(node, ast.Call):
        return f"{node.name}{node.args}"
    return type(node).__name__


@pytest.mark.parametrize("text, expected", [
    ("a + b >> c", ("+", "a", (">>", "b", "c"))),
    ("a >> b @ c", (">>", "a", ("@", "b", "c"))),
    ("a @ b ⊗ c", ("@", ("@", "a", "b"), "c")),
    ("2 * a @ b", ("@", ("*", "2", "a"), "b")),
    ("1/2 * a", ("*", ("/", "1", "2"), "a")),
    ("-n^2", ("neg", ("^", "n", 2))),
    ("2*n^-1 * a", ("*", ("*", "2", ("^", "n", -1)), "a")),
    ("n^(-2)", ("^", "n", -2)),
    ("a ** 3 @ b", ("@", ("**", "a", 3), "b")),
    ("2 * a ** 2", ("*", "2", ("**", "a", 2))),
    ("a - b - c", ("-", ("-", "a", "b"), "c")),
    ("a >> b >> c", (">>", (">>", "a", "b"), "c")),
    ("c ∘ b ∘ a", ("∘", ("∘", "c", "b"), "a")),
    ("(a + b) * 2", ("*", ("+", "a", "b"), "2")),
    ("id(2) @ id", ("@", "id(2,)", "id")),
    ("{1} {1'} >> a", (">>", "Literal", "a")),
])
def test_precedence(text, expected):
    assert shape(parse_expression(text)) == expected


def test_juxtaposed_blocks_form_one_literal():
    lit = parse_expression("{1, 2'}\n{2, 1'}")
    assert isinstance(lit, ast.Literal) and len(lit.blocks) == 2


def test_comments_and_newlines_are_insignificant():
    text = "# a comment\ngroup S # trailing\nmorphism f =\n  swap   # the crossing\n  >> swap\n"
    assert len(parse(text).items) == 2


def test_mixing_composition_directions_needs_parentheses():
    with pytest.raises(ParseError, match="cannot mix '>>' and '∘'"):
        parse_expression("a >> b ∘ c")
    assert shape(parse_expression("(a >> b) ∘ c")) == ("∘", (">>", "a", "b"), "c")


def test_keywords_are_reserved():
    with pytest.raises(ParseError, match="'n' is a reserved word"):
        parse("diagram n = swap")


def test_deep_nesting_parses_without_recursion():
    depth = 10_000
    node = parse_expression("(" * depth + "swap" + ")" * depth)
    assert node == ast.Name("swap")


def test_parse_errors_are_catnn_errors():
    for bad in ["", "diagram", "{", "f >>", "1.2.3", "→", "diagram f = swap )"]:
        with pytest.raises(CatnnError):
            parse(bad)


# -- printing round-trips -----------------------------------------------------------------------
def random_diagram(rng: random.Random, k: int, l: int) -> Diagram:
    partitions = list(set_partitions(k + l))
    return Diagram(rng.choice(partitions), k, l)


def random_poly(rng: random.Random) -> Poly:
    terms = {rng.randint(-3, 3): Fraction(rng.randint(-12, 12), rng.randint(1, 7)) for _ in range(rng.randint(0, 3))}
    return Poly(terms)


def test_every_printed_diagram_parses_back():
    rng = random.Random(2024)
    seen = 0
    for _ in range(400):
        k, l = rng.randint(0, 3), rng.randint(0, 3)
        d = random_diagram(rng, k, l)
        back = catnn.diagram(str(d))
        assert isinstance(back, Diagram) and back == d, str(d)
        seen += 1
    assert seen == 400


def test_every_printed_morphism_parses_back():
    rng = random.Random(7)
    for _ in range(400):
        k, l = rng.randint(0, 3), rng.randint(0, 3)
        m = Morphism([(random_diagram(rng, k, l), random_poly(rng)) for _ in range(rng.randint(0, 4))], k, l)
        back = catnn.diagram(str(m))
        assert back == m and (back.k, back.l) == (m.k, m.l), str(m)


@pytest.mark.parametrize("text", [
    "id(0)", "{1, 2'} {2, 1'}", "-{1} {1'}", "0 * {1} {1'}", "0 * id(0)", "n * id(0)",
    "1/2 * {1, 1'} {2, 2'} + 1/2 * {1, 2'} {2, 1'}", "(n - 1) * {1, 1'}", "2*n^-1 * {1, 1'}",
    "(n^2 - 3*n + 1/2) * {1, 2, 1'}", "-1/3*n * {1'}",
])
def test_printer_forms_are_fixed_points(text):
    assert str(catnn.diagram(text)) == text


def group_or_skip(name: str, n: int):
    try:
        return catnn.group(name, n=n)
    except CatnnError:
        pytest.skip(f"the group {name} is not available")


@pytest.mark.parametrize("name, size", [("O", 3), ("Sp", 4), ("SO", 2), ("SO", 3), ("A", 3), ("H", 3), ("B", 3)])
def test_printed_diagrams_of_every_group_parse_back(name, size):
    # each group's own diagram kinds (ε-diagrams, jellyfish) and loop value (-n for Sp) survive
    G = group_or_skip(name, size)
    rng = random.Random(size)
    for k in range(3):
        for l in range(3):
            spanning = G.spanning_set(k, l)
            for d in spanning:
                assert catnn.diagram(str(d), G) == d, str(d)
            if spanning:
                m = sum((G.lift(rng.choice(spanning)) * random_poly(rng) for _ in range(3)),
                        G.lift(spanning[0]) * 0)
                back = catnn.diagram(str(m), G)
                assert back == m and getattr(back, "loop", G.loop) == G.loop, str(m)


def test_line_endings_and_odd_breaks_keep_carets_right():
    for text in ["morphism a = id\r\nmorphism f = swap >> cap >> cap\r\n",
                 "# odd\x0bbreaks\x85in\u2028a comment\nmorphism f = swap >> cap >> cap"]:
        with pytest.raises(CatnnError) as info:
            catnn.compile(text, "t.diag")
        assert str(info.value).splitlines()[1] == "  morphism f = swap >> cap >> cap"
