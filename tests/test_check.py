"""The checker: names, arities, groups, exact normalisation; layers and networks; the API and CLI."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import catnn
from catnn.cli import main
from catnn.coeff import Poly
from catnn.compiler.check import MAX_ARITY, NONLINEARITIES
from catnn.diagram import Diagram, cap, counit, cup, identity, merge, split, swap, unit
from catnn.errors import CatnnError, CheckError, ParseError
from catnn.morphism import Morphism
from catnn.spec import LayerSpec, NetworkSpec, Stage

n = Poly.n()


def check_error(text: str, match: str) -> CheckError:
    with pytest.raises(CheckError, match=match) as info:
        catnn.compile(text)
    return info.value


# -- catnn.diagram and normalisation --------------------------------------------------------------
def test_diagram_returns_a_diagram_for_one_diagram():
    d = catnn.diagram("swap >> swap")
    assert isinstance(d, Diagram) and d == identity(2)
    assert isinstance(catnn.diagram("2 * swap"), Morphism)


def test_diagram_module_is_still_a_module():
    assert catnn.diagram.Diagram is Diagram
    assert callable(catnn.diagram.set_partitions)
    from catnn.diagram import set_partitions  # noqa: F401


def test_generators():
    for name, value in [("id", identity(1)), ("id(3)", identity(3)), ("id(0)", identity(0)), ("swap", swap()),
                        ("merge", merge()), ("split", split()), ("unit", unit()), ("counit", counit()),
                        ("cup", cup()), ("cap", cap())]:
        assert catnn.diagram(name) == value, name


def test_literal_arity_is_inferred_from_labels():
    d = catnn.diagram("{1, 2, 3'} {1', 2'}")
    assert (d.k, d.l) == (3, 2)
    assert catnn.diagram("{1'}") == counit()


def test_composition_orders():
    f, g = "split", "(swap >> merge)"
    assert catnn.diagram(f"{g} ∘ {f}") == catnn.diagram(f"{f} >> {g}")
    assert catnn.diagram("cap ∘ cup") == n * identity(0)


def test_tensor_alias_and_powers():
    assert catnn.diagram("id ⊗ swap") == catnn.diagram("id @ swap")
    assert catnn.diagram("id ** 3") == identity(3)
    assert catnn.diagram("swap ** 0") == identity(0)
    assert catnn.diagram("(id(2) + swap) ** 2") == (identity(2) + swap()) @ (identity(2) + swap())


def test_exact_scalars():
    assert catnn.diagram("0.5 * swap") == catnn.diagram("1/2 * swap") == swap() * Fraction(1, 2)
    assert catnn.diagram("0.1 * swap").coefficient(swap()) == Fraction(1, 10)
    m = catnn.diagram("(n^2 - 3*n + 1/2) * id")
    assert m.coefficient(identity(1)) == n * n - 3 * n + Fraction(1, 2)
    assert catnn.diagram("id / n").coefficient(identity(1)) == n**-1
    assert catnn.diagram("n^-2 * id") == catnn.diagram("n^(-2) * id") == catnn.diagram("id / n / n")
    assert catnn.diagram("-id").coefficient(identity(1)) == -1


def test_scalars_are_endomorphisms_of_the_empty_object():
    assert catnn.diagram("n") == n * identity(0)
    assert catnn.diagram("cup >> cap - n") == Morphism.zero(0, 0)
    assert catnn.diagram("2 * (n @ id)") == 2 * n * identity(1)


def test_zero_morphism_keeps_its_arity():
    z = catnn.diagram("swap - swap")
    assert z.is_zero() and (z.k, z.l) == (2, 2)
    assert catnn.diagram(str(z)) == z


def test_linear_combinations_are_bilinear():
    lhs = catnn.diagram("(id(2) + swap) >> (id(2) - swap)")
    assert lhs.is_zero()


def test_diagram_under_another_group():
    assert catnn.diagram("cup >> cap", group="O") == n * identity(0)
    with pytest.raises(CheckError, match="pair vertices"):
        catnn.diagram("merge", group="O")


# -- programs -------------------------------------------------------------------------------------
def test_program_definitions_in_source_order():
    prog = catnn.compile("diagram b = swap\nmorphism a = 2 * b\nlayer c : 1 -> 1\n"
                         "network d : 1 -> 1 = c[1 -> 2] >> relu >> c[2 -> 1]", "p.diag")
    assert list(prog.definitions) == ["b", "a", "c", "d"]
    assert isinstance(prog.b, Diagram) and isinstance(prog.a, Morphism)
    assert isinstance(prog.c, LayerSpec) and isinstance(prog.d, NetworkSpec)
    assert prog.spans["a"].line == 2 and prog.spans["a"].file == "p.diag"
    assert prog.filename == "p.diag" and prog.source.startswith("diagram b")
    assert prog.group == catnn.group("S") and prog.group.n is None
    assert prog["a"] is prog.a and "a" in prog and len(prog) == 4
    with pytest.raises(AttributeError, match="no definition 'zzz'"):
        prog.zzz  # noqa: B018


def test_morphism_definitions_are_morphisms_even_for_one_diagram():
    prog = catnn.compile("morphism m = swap")
    assert isinstance(prog.m, Morphism) and prog.m == swap()


def test_group_declaration():
    prog = catnn.compile("group O(3)\nmorphism loop = cup >> cap")
    assert prog.group == catnn.group("O", n=3)
    assert prog.loop == n * identity(0)  # n stays symbolic; the group's n evaluates it
    assert catnn.compile("group S(n)\ndiagram d = id").group.n is None
    assert catnn.compile("group S_n\ndiagram d = id").group == catnn.group("S")


def test_definitions_shadow_generators():
    prog = catnn.compile("diagram swap : 2 -> 2 = {1, 1'} {2, 2'}\ndiagram s = swap")
    assert prog.s == identity(2)


def test_declared_arity_builds_the_literal():
    prog = catnn.compile("diagram u : 0 -> 2 = {1, 2}")
    assert prog.u == cup()
    check_error("diagram f : 3 -> 2 = {1, 2'} {2, 1'}", "vertex 3' is in no block of this 3 -> 2 diagram")
    check_error("diagram f : 1 -> 2 = {1, 2'} {2, 1'}", "vertex 2' is out of range for a 1 -> 2 diagram")
    check_error("diagram f : 1 -> 1 = swap", "'f' is declared 1 -> 1 but its value is 2 -> 2")


def test_diagram_definitions_must_be_one_diagram():
    check_error("diagram f = 1/2 * swap", "declared a diagram but its value is 1/2")
    assert catnn.compile("diagram f = 1/2 * swap + 1/2 * swap").f == swap()


def test_brauer_groups_accept_only_pairings():
    err = check_error("group O\ndiagram f = {1, 2, 1'} {2'}", "O diagrams pair vertices two by two")
    assert err.span.line == 2
    assert catnn.compile("group O\nmorphism p = 1/2 * (id(2) + swap)").p.k == 2


def test_generators_come_from_the_group():
    class Custom(type(catnn.group("S"))):
        def generator(self, name, args=()):
            if name == "twist":
                return swap()
            return super().generator(name, args)

        def generator_names(self):
            return (*super().generator_names(), "twist")

    from catnn.compiler.check import check_expression
    from catnn.grammar import parse_expression
    assert check_expression(parse_expression("twist >> twist"), Custom()) == identity(2)
    with pytest.raises(CheckError, match="unknown name 'twist'"):
        check_expression(parse_expression("twist"), catnn.group("S"))


def test_layers():
    prog = catnn.compile("layer edge : 2 -> 2\nlayer mix : 2 -> 2 = learn(id(2), swap, 1/2 * (id(2) + swap))")
    assert prog.edge == LayerSpec("edge", "S", None, 2, 2, None, prog.edge.span)
    assert prog.edge.uses_full_spanning_set
    assert prog.mix.diagrams[:2] == (identity(2), swap())
    assert isinstance(prog.mix.diagrams[2], Morphism)
    check_error("group O\nlayer odd : 1 -> 2", "no equivariant maps 1 -> 2")
    check_error("layer q : 2 -> 2 = learn(swap, id)", "layer 'q' is 2 -> 2 but this is a 1 -> 1 morphism")
    check_error("layer q : 2 -> 2 = learn(swap, swap >> swap >> swap)", "already listed")
    check_error("layer q : 2 -> 2 = learn(swap - swap)", "zero morphism")


def test_networks():
    prog = catnn.compile("layer e : 2 -> 2\nlayer p : 2 -> 0\n"
                         "network g : 2 -> 0 = e[1 -> 16] >> relu >> e[16 -> 16] >> gelu >> p[16 -> 1]")
    g = prog.g
    assert (g.name, g.group, g.k, g.l) == ("g", "S", 2, 0)
    assert [(s.kind, s.name, s.in_channels, s.out_channels) for s in g.stages] == [
        ("layer", "e", 1, 16), ("nonlinearity", "relu", None, None), ("layer", "e", 16, 16),
        ("nonlinearity", "gelu", None, None), ("layer", "p", 16, 1)]
    assert all(isinstance(s, Stage) and s.span is not None for s in g.stages)
    base = "layer e : 2 -> 2\nlayer p : 2 -> 0\n"
    check_error(base + "network g : 2 -> 0 = e[1 -> 2] >> p[3 -> 1]", "channel widths do not chain")
    check_error(base + "network g : 2 -> 0 = p[1 -> 2] >> e[2 -> 1]", "'p' has 0 outputs but 'e' expects 2")
    check_error(base + "network g : 1 -> 0 = e[1 -> 2] >> p[2 -> 1]", "takes 1 inputs but its first layer")
    check_error(base + "network g : 2 -> 2 = e[1 -> 2] >> p[2 -> 1]", "its last layer 'p' gives 0 outputs")
    check_error(base + "network g : 2 -> 2 = e >> relu", "needs channel widths")
    check_error(base + "network g : 2 -> 2 = e[1 -> 2] >> relu[2 -> 2]", "takes no channel widths")
    check_error(base + "network g : 2 -> 2 = e[0 -> 2]", "at least 1")
    check_error(base + "network g : 2 -> 2 = relu", "has no layer")
    check_error(base + "diagram d = swap\nnetwork g : 2 -> 2 = d[1 -> 1]", "'d' is a diagram; a network stage")
    check_error(base + "network g : 2 -> 2 = e[1 -> 1] >> rleu", "did you mean 'relu'")
    assert "relu" in NONLINEARITIES


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, match", [
    ("morphism f = swapp", "unknown name 'swapp'; did you mean 'swap'"),
    ("morphism f = g\nmorphism g = id", "'g' is used before its definition on line 2"),
    ("morphism f = f", "refers to itself"),
    ("morphism f = id\nmorphism f = id", "'f' is already defined on line 1"),
    ("morphism f = swap >> cap >> cap", "'swap >> cap' has 0 outputs but 'cap' expects 2 inputs"),
    ("morphism f = cup ∘ split", "'split' has 2 outputs but 'cup' expects 0 inputs"),
    ("morphism f = swap + id", "cannot add a 2 -> 2 morphism to a 1 -> 1 morphism"),
    ("morphism f = 1 + swap", "cannot add a scalar and a 2 -> 2 morphism"),
    ("morphism f = swap * swap", "cannot multiply two morphisms"),
    ("morphism f = 1 / swap", "cannot divide by a morphism"),
    ("morphism f = swap / (n - 1)", "Laurent"),
    ("morphism f = swap / 0", "division by zero"),
    ("morphism f = swap ^ 2", "tensor power of a morphism is f \\*\\* 2"),
    ("morphism f = n ** 2", "a power of a scalar is x\\^2"),
    ("morphism f = id(1, 2)", "does not take the arguments \\(1, 2\\)"),
    ("diagram d = swap\nmorphism f = d(2)", "'d' is a diagram, not a generator"),
    ("layer e : 1 -> 1\nmorphism f = e", "'e' is a layer; only diagrams and morphisms"),
    (f"morphism f = id({MAX_ARITY + 1})", "too large"),
    ("morphism f = id ** 1001", "too large"),
    ("morphism f = (id(2) + swap) ** 40", "too large"),
    ("morphism f = (n + 1)^1000", "too large"),
    ("morphism f = {1, 1'} {1}", "vertex 1 appears in more than one place"),
    ("morphism f = {}", "at least one vertex"),
    ("morphism f = {0}", "labels start at 1"),
    ("morphism f = {5000}", "too large"),
    ("diagram a = id\ngroup O", "before the first definition"),
    ("group O\ngroup S", "already declared on line 1"),
    ("group Nope\ndiagram a = id", "unknown group 'Nope'"),
    ("group O(0)\ndiagram a = id", "O needs"),
])
def test_check_errors(text, match):
    with pytest.raises(CatnnError, match=match):
        catnn.compile(text)


def test_errors_carry_spans_and_carets():
    with pytest.raises(CheckError) as info:
        catnn.compile("group S\nmorphism f = swap >> cap >> cap", "m.diag")
    assert str(info.value).splitlines() == [
        "m.diag:2:14: error: cannot compose: 'swap >> cap' has 0 outputs but 'cap' expects 2 inputs",
        "  morphism f = swap >> cap >> cap",
        "               ^~~~~~~~~~~~~~~~~~",
    ]


def test_deep_nesting_checks_iteratively():
    depth = 10_000
    prog = catnn.compile("morphism f = " + "-(" * depth + "swap >> swap" + ")" * depth)
    assert prog.f == identity(2)
    with pytest.raises(CheckError, match="has 0 outputs"):
        catnn.compile("morphism f = " + "id @ (" * depth + "swap >> cap >> cap" + ")" * depth)


# -- API ------------------------------------------------------------------------------------------
def test_parse_returns_the_ast():
    module = catnn.parse("diagram u : 0 -> 1 = {1}", filename="u.diag")
    assert module.items[0].name == "u" and module.filename == "u.diag"


def test_load_reads_files(tmp_path):
    path = tmp_path / "m.diag"
    path.write_text("\ufeffgroup O\nmorphism loop = cup >> cap  # a loop\n", encoding="utf-8")
    prog = catnn.load(path)
    assert prog.loop == n * identity(0) and prog.filename == str(path)
    with pytest.raises(CatnnError, match="cannot read"):
        catnn.load(tmp_path / "missing.diag")
    (tmp_path / "bin.diag").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CatnnError, match="not UTF-8"):
        catnn.load(tmp_path / "bin.diag")
    (tmp_path / "bad.diag").write_text("morphism f = swap >>\n")
    with pytest.raises(ParseError) as info:
        catnn.load(tmp_path / "bad.diag")
    assert str(info.value).startswith(f"{tmp_path / 'bad.diag'}:1:21: error: unexpected end of input")


def test_compile_rejects_a_path():
    with pytest.raises(CatnnError, match="use catnn.load"):
        catnn.compile("model.diag")


def test_matrices_of_checked_morphisms():
    prog = catnn.compile("group O(3)\nmorphism P = 1/2 * (id(2) + swap) - 1/n * (cap >> cup)")
    G = prog.group
    P = G.matrix(prog.P).astype(float)
    assert np.allclose(P @ P, P) and round(np.trace(P)) == 5


# -- CLI ------------------------------------------------------------------------------------------
def test_cli_check_ok(tmp_path, capsys):
    path = tmp_path / "ok.diag"
    path.write_text("group O\nmorphism sym = 1/2 * (id(2) + swap)\nlayer e : 2 -> 2\n")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{path}: O(n), 2 definitions"
    assert out[1].split() == ["morphism", "sym", ":", "2", "->", "2", "(2", "terms)"]
    assert out[-1] == "ok"
    assert main(["check", "-q", str(path)]) == 0
    assert capsys.readouterr().out == "ok\n"


def test_cli_check_errors(tmp_path, capsys):
    bad = tmp_path / "bad.diag"
    bad.write_text("morphism f = swap >> cap >> cap\n")
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:1:14: error: cannot compose") and "Traceback" not in err
    assert main(["check", str(tmp_path / "missing.diag")]) == 1
    assert capsys.readouterr().err.startswith("catnn: error: cannot read")
    good = tmp_path / "good.diag"
    good.write_text("diagram a = id\n")
    assert main(["check", "-q", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == f"ok: {good}\n" and "cannot compose" in captured.err
