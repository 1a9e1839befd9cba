"""Work, size and output budgets (issue 15, item 6): hostile programs are refused up front, at their place.

Each case used to run for minutes, exhaust memory or print gigabytes; each is now a located error
(or a bounded output) reached within the budget, which the tests read back rather than time.
"""

from __future__ import annotations

import pytest

import catnn
from catnn.cli import main
from catnn.compiler import ir
from catnn.compiler.budget import MAX_SOURCE_BYTES, MAX_WORK, source_estimate
from catnn.compiler.check import _Checker
from catnn.compiler.check_product import _ProductChecker
from catnn.compiler.contract_torch import CONTRACT_HELPER
from catnn.compiler.layer import layer_structure
from catnn.compiler.write import explain_program, write_module
from catnn.errors import CatnnError, CheckError, CompileError, ParseError
from catnn.grammar import parse


def _chain(m0: str, depth: int = 30, group: str = "O") -> str:
    lines = [f"group {group}", f"morphism m0 = {m0}"]
    lines += [f"morphism m{i} = m{i - 1} >> m{i - 1}" for i in range(1, depth + 1)]
    return "\n".join(lines) + "\n"


def _refused(src: str) -> tuple[CheckError, int]:
    """The located error checking ``src`` gives, and the work the checker spent before refusing."""
    checker = _Checker(parse(src, "h.diag").items)
    with pytest.raises(CheckError) as info:
        checker.run(parse(src, "h.diag"))
    return info.value, checker.budget.spent


@pytest.mark.parametrize("m0", ["id(2) + cap >> cup", "n * id(2) + swap", "swap + cap >> cup"])
def test_thirty_nested_self_compositions_are_refused_within_the_budget(m0):
    """Each composition doubles the degree of the coefficients: the budget stops the chain early."""
    err, spent = _refused(_chain(m0))
    assert "diagram algebra is too large" in err.message and spent <= MAX_WORK
    depth = err.span.line - 2                       # m_i is on line i + 2
    assert 5 <= depth <= 20 and str(err).splitlines()[1] == f"  morphism m{depth} = m{depth - 1} >> m{depth - 1}"


def test_compositions_that_do_not_grow_pass_the_budget():
    """swap >> swap is id(2) and cap >> cup is idempotent up to n: thirty levels stay one term each."""
    prog = catnn.compile(_chain("swap"))
    assert str(prog.m30) == "{1, 1'} {2, 2'}"
    assert str(catnn.compile(_chain("cap >> cup")).m3) == "n^7 * {1, 2} {1', 2'}"


@pytest.mark.parametrize("src, text", [("group SO(3)\nmorphism m = eps(2, 1) ** 500\n", "eps(2, 1) ** 500"),
                                       ("group S\nmorphism m = (id(2) + swap) ** 15\n", "(id(2) + swap) ** 15"),
                                       ("group SO(200)\nmorphism m = eps(100, 100) >> eps(100, 100)\n",
                                        "eps(100, 100) >> eps(100, 100)")])
def test_expanding_powers_and_products_are_refused_at_the_expression(src, text):
    err, spent = _refused(src)
    first, line, caret = str(err).splitlines()
    assert first.startswith("h.diag:2:14: error: this program's diagram algebra is too large")
    assert caret.strip() == "^" + "~" * (len(text) - 1) and spent <= MAX_WORK


@pytest.mark.parametrize("src, line", [
    (_chain("(id(2) + cap >> cup | n * id(2) + swap)", group="S x O"), None),
    ("group S x O\nmorphism m = ((id(2) + swap | id(1)) + (swap | id(1))) ** 15\n", 2)])
def test_product_programs_spend_the_same_budget(src, line):
    """Over a product of groups the checker spends the single-group budget on the same steps; the
    chain used to run for minutes (its coefficients are polynomials in n_0 and n_1)."""
    checker = _ProductChecker(parse(src, "h.diag").items)
    with pytest.raises(CheckError) as info:
        checker.run(parse(src, "h.diag"))
    assert "diagram algebra is too large" in info.value.message and checker.budget.spent <= MAX_WORK
    assert info.value.span.line == line if line else 5 <= info.value.span.line - 2 <= 20


def test_compile_of_a_refused_program_writes_nothing(tmp_path, capsys):
    path = tmp_path / "p.diag"
    path.write_text("group S\nmorphism m = (id(2) + swap) ** 15\n")
    assert main(["compile", str(path), "-o", str(tmp_path / "p.py")]) == 1
    assert "diagram algebra is too large" in capsys.readouterr().err
    assert not (tmp_path / "p.py").exists()


# -- integers beyond Python's int/str conversion limit ----------------------------------------------------
LONG = "7" * 5000
PLACES = [f"group S({LONG})\n", f"morphism m = id({LONG})\n", f"diagram d : {LONG} -> 1 = {{1}}\n",
          f"morphism m = n^{LONG}\n", f"morphism m = swap ** {LONG}\n", f"graph G = cycle({LONG})\n",
          f"graph G = adjacency[[0, {LONG}], [1, 0]]\n", f"graph G = edges(0-{LONG})\n", f"diagram d = {{1, {LONG}'}}\n",
          f"group O(1,{LONG})\n", f"layer q : V{LONG} -> V1\n", f"layer q : {LONG}*V1 -> V1\n",
          f"layer q : V**{LONG} -> V1\n", f"layer q : outer(1 @ {LONG}) -> 1\n",
          f"layer q : 1 -> 1\nnetwork f : 1 -> 1 = q[{LONG} -> 1]\n", f"morphism m = eps({LONG}, 1)\n"]


@pytest.mark.parametrize("src", PLACES, ids=range(len(PLACES)))
def test_a_5000_digit_integer_anywhere_is_a_located_parse_error(src):
    with pytest.raises(ParseError) as info:
        catnn.compile(src, "big.diag")
    err = info.value
    line = src.splitlines()[err.span.line - 1]
    assert line[err.span.column - 1:].startswith(LONG[:10]) or line[err.span.column - 1:].startswith("V")
    assert "5000-digit number is too large: the limit is 4000 digits" in err.message


def test_a_malformed_long_number_is_quoted_short():
    with pytest.raises(ParseError) as info:
        catnn.compile(f"morphism m = 1e{LONG} * swap\n")
    assert len(str(info.value).splitlines()[0]) < 200 and "(5002 characters)" in info.value.message


# -- explain prints a bounded table -----------------------------------------------------------------------
def test_explain_of_a_wide_layer_is_bounded_and_keeps_the_totals():
    """S 6 -> 1 has 877 diagrams: more rows than printed, and one stacking step of thousands of characters."""
    prog = catnn.compile("group S\nlayer q : 6 -> 1\n")
    text = explain_program(prog)
    lines = text.splitlines()
    assert len(lines) < ir.MAX_EXPLAIN_ROWS + 20 and max(map(len, lines)) < 200
    assert any("more steps not shown" in line for line in lines)
    plan = layer_structure(catnn.group("S"), 6, 1).plan
    cost = plan.cost(plan._sizes(None), 1, 1, 1)
    assert f"planned: {ir._num(cost.flops)} flops" in text        # the totals count every step


@pytest.mark.slow
def test_explain_of_layer_8_to_1_prints_kilobytes_not_gigabytes(tmp_path, capsys):
    path = tmp_path / "q.diag"
    path.write_text("group S\nlayer q : 8 -> 1\n")
    assert main(["explain", str(path)]) == 0
    assert len(capsys.readouterr().out) < 100_000


# -- the module writer's source budget --------------------------------------------------------------------
def test_two_s5_layers_are_refused_before_planning():
    prog = catnn.compile("group S\nlayer q : 5 -> 5\nlayer r : 5 -> 5\n", "s.diag")
    with pytest.raises(CompileError) as info:
        write_module(prog)
    assert str(info.value).startswith("s.diag:3:1: error: the compiled module would take about")
    assert source_estimate(prog.group, prog.q) < MAX_SOURCE_BYTES < 2 * source_estimate(prog.group, prog.q)


@pytest.mark.parametrize("src", ["group S\nlayer q : 3 -> 3\n", "group O\nlayer q : 2 -> 4\n",
                                 "group S\nmorphism m = (id(2) + swap) ** 6\n", "group SO(3)\nlayer q : 2 -> 1\n"])
def test_the_source_estimate_is_within_a_factor_of_two_of_the_source(src):
    prog = catnn.compile(src)
    estimate = sum(source_estimate(prog.group, v) for v in prog.definitions.values())
    empty = len(write_module(catnn.compile("group S\nmorphism e = id(0)\n")))   # the module's fixed part
    source = write_module(prog)
    helper = len(CONTRACT_HELPER) if CONTRACT_HELPER in source else 0         # fixed too, where needed
    actual = len(source) - empty - helper
    assert actual / 2 <= estimate <= 2 * actual, (estimate, actual)


def test_errors_of_every_budget_are_catnn_errors():
    for cls in (CheckError, CompileError, ParseError):
        assert issubclass(cls, CatnnError)


# -- network stages' weights ------------------------------------------------------------------------------
@pytest.mark.parametrize("widths, weights", [("100000 -> 100000", 2 * 10 ** 10), ("20000 -> 20000", 8 * 10 ** 8)])
def test_a_stage_too_wide_to_allocate_is_refused_at_the_stage(widths, weights):
    """S 1 -> 1 has 2 diagrams: 2 x C_in x C_out weights, refused before torch is asked for them."""
    src = f"layer q : 1 -> 1\nnetwork f : 1 -> 1 = q[{widths}]\n"
    with pytest.raises(CheckError) as info:
        catnn.compile(src, "w.diag")
    assert str(info.value).startswith(f"w.diag:2:22: error: this stage's weight tensor ({weights} weights)")


def test_a_wide_stage_within_the_budget_builds_with_the_counted_weights():
    prog = catnn.compile("group SO(3)\nlayer cross : outer(1 @ 1) -> 1\nnetwork f : 1 -> 1 = cross[30 -> 20]\n")
    from catnn.compiler.budget import stage_weights
    (stage,) = prog.f.stages
    counted = stage_weights(prog.group, stage)
    assert counted == 1 * 30 * 30 * 20 == sum(p.numel() for n, p in prog.nn.f().named_parameters() if "weight" in n)


@pytest.mark.parametrize("src", ["group A(4)\ndiagram d0 : 2 -> 2 = jelly[{2'} {1} {1'} {2}]\nmorphism m = d0 ** 5\n",
                                 "group A(8)\ndiagram d : 4 -> 4 = jelly[{1} {2} {3} {4} {1'} {2'} {3'} {4'}]\n"
                                 "morphism m = d >> d\n"])
def test_jellyfish_products_are_costed_by_their_set_partitions(src):
    """A_n products with a jellyfish enumerate the result's set partitions (A(8), 8 vertices: 4140 of
    them, each summed over glued values); found by the fuzzer as a hang, now refused before starting."""
    err, spent = _refused(src)
    assert "diagram algebra is too large" in err.message and err.span.line == 3 and spent <= MAX_WORK


def test_a_small_jellyfish_composition_chain_is_within_the_budget():
    src = "group A(4)\ndiagram d0 : 2 -> 2 = jelly[{2'} {1} {1'} {2}]\nmorphism m = d0 >> d0 >> d0 >> d0\n"
    prog = catnn.compile(src)
    G = prog.group
    import numpy as np
    d0 = np.asarray(G.matrix(prog.d0), dtype=float)
    np.testing.assert_allclose(np.asarray(G.matrix(prog.m), dtype=float), np.linalg.matrix_power(d0, 4))


@pytest.mark.parametrize("entry", ["2", "9" * 60, "0" + "9" * 60])
def test_an_adjacency_entry_of_any_size_is_a_located_error(entry):
    """Found by the slow fuzz run: a 60-digit entry overflowed numpy's int64 before the 0/1 check."""
    with pytest.raises(CheckError) as info:
        catnn.compile(f"graph G = adjacency[[0, {entry}], [1, 0]]\ngroup Aut(G)\n", "g.diag")
    assert str(info.value).startswith("g.diag:1:11: error: the adjacency matrix must have 0/1 entries")
