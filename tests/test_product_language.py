"""Products of groups in the .diag language: group lines, typed orders, product literals, layers, and
compiled standalone modules.

Oracles: ``G.matrix`` (the kron of the factors' own dense matrices, checked in test_product_groups.py)
for every morphism and layer, ``G.act`` of random elements for equivariance, and printing round trips
(``str`` of a checked value read back under the same product). Compiled modules are written to disk,
imported, and compared with the in-memory objects and with the dense matrices.
"""

from __future__ import annotations

import importlib.util
import itertools
import random
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

import catnn
from catnn.cli import main
from catnn.coeff import MPoly
from catnn.compiler.write import write_module
from catnn.errors import CatnnError, CheckError, ParseError
from catnn.groups.product import ProductMorphism

PRODUCTS = [("S x O(3)", (4, 3)), ("S x S", (3, 4)), ("S x SO(3)", (3, 3)), ("S x Sp(2)", (3, 2))]

MORPHISMS = """
diagram d : (1, 1) -> (1, 1) = {1, 1'} {2, 2'}
morphism m = 1/2 * (swap | cap >> cup) + n_0 / n_1 * (id(2) | swap) - (id(2) | id(2)).T
morphism c = m >> m
morphism lift = (split | id(1)) @ (id(0) | id(1))
morphism loop = (cup | cup) >> (cap | cap)
"""
LAYERS = """
layer f : (1, 1) -> (1, 1)
layer g : (2, 1) -> (1, 1)
layer h : (points: 1) -> (1, 2) = learn(({1} {1'} | cup), ({1, 1'} | cup))
layer q : (1, 1) -> (1, 1) = learn((id(1) | id(1)) - ({1} {1'} | id(1)) / n_points, n_1 * ({1} {1'} | id(1)))
"""


def program(name: str, body: str) -> catnn.compiler.program.Program:
    return catnn.compile(f"group points: {name.replace(' x ', ' x space: ')}\n{body}")


def load_module(text: str, tmp_path, tag: str):
    path = tmp_path / f"{tag}.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(tag, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def typed_input(ns, k, lead, generator):
    shape = [ns[s] for s in range(len(ns)) for _ in range(k[s])]
    return torch.randn(*lead, *shape, dtype=torch.float64, generator=generator)


def dense(Gn, value) -> torch.Tensor:
    return torch.tensor(np.asarray(Gn.matrix(value), dtype=float))


# -- morphisms: compiled == in memory == dense ---------------------------------------------------------
@pytest.mark.parametrize("name,ns", PRODUCTS)
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_compiled_morphisms_equal_memory_and_the_dense_matrix(name, ns, backend, tmp_path):
    prog = program(name, MORPHISMS)
    module = load_module(write_module(prog, backend), tmp_path, f"m_{backend}_{name.replace(' ', '')}")
    Gn = prog.group.at(ns)
    generator = torch.Generator().manual_seed(0)
    for definition in ("d", "m", "c", "lift", "loop"):
        value = prog[definition]
        x = typed_input(ns, value.k, (2,), generator)
        compiled = getattr(module, definition)(x, n=ns)
        memory = getattr(prog.nn, definition)(x, n=ns)
        want = (dense(Gn, value) @ x.reshape(2, -1).T).T.reshape(compiled.shape)
        assert compiled.shape == (2, *[ns[s] for s in range(2) for _ in range(value.l[s])])
        assert torch.allclose(compiled, want, atol=1e-10), definition
        assert torch.allclose(memory, compiled, atol=1e-10), definition


def test_the_loop_is_worth_each_sorts_loop():
    """(cup | cup) >> (cap | cap): n_0 * n_1, but Sp's loop is -n (the product of the factors' loops)."""
    assert program("S x O(3)", MORPHISMS).loop.terms[0][1] == MPoly.symbol(0) * MPoly.symbol(1)
    assert program("S x Sp(2)", MORPHISMS).loop.terms[0][1] == -MPoly.symbol(0) * MPoly.symbol(1)


# -- layers: compiled == in memory == dense ----------------------------------------------------------
def layer_oracle(Gn, module_class, layer, x):
    """Σ_i weight[i] ⊗ M(e_i) x + Σ_j bias[j] ⊗ M(b_j), the entries (diagrams or morphisms) read from the
    compiled class's text."""
    entries = [catnn.diagram(text, Gn) for text in module_class.diagrams]
    biases = [catnn.diagram(text, Gn) for text in module_class.bias_diagrams]
    B, C = x.shape[:2]
    want = torch.einsum("dpq,doi,biq->bop", torch.stack([dense(Gn, d) for d in entries]), layer.weight.detach(),
                        x.reshape(B, C, -1))
    if biases:
        want = want + torch.einsum("dp,do->op", torch.stack([dense(Gn, b)[:, 0] for b in biases]),
                                   layer.bias.detach())[None]
    return want


@pytest.mark.parametrize("name,ns", PRODUCTS)
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_compiled_layers_equal_memory_and_the_dense_matrix(name, ns, backend, tmp_path):
    prog = program(name, LAYERS)
    module = load_module(write_module(prog, backend), tmp_path, f"l_{backend}_{name.replace(' ', '')}")
    Gn = prog.group.at(ns)
    generator = torch.Generator().manual_seed(1)
    torch.manual_seed(2)
    for definition in ("f", "g", "h", "q"):
        spec = prog[definition]
        compiled = getattr(module, definition)(3, 2).double()
        with torch.no_grad():
            for p in compiled.parameters():
                p.normal_()
        x = typed_input(ns, spec.k, (2, 3), generator)
        y = compiled(x, n=ns)
        want = layer_oracle(Gn, type(compiled), compiled, x)
        assert torch.allclose(y.reshape(want.shape), want, atol=1e-10), definition
        if all(spec.k[s] or Gn.ns[s] is not None for s in range(2)) and all(
                spec.k[s] or prog.group.ns[s] is not None for s in range(2)):
            memory = getattr(prog.nn, definition)(3, 2, backend=backend).double()
            memory.load_state_dict(compiled.state_dict())
            assert torch.allclose(memory(x), y, atol=1e-10), definition


def test_compiled_layers_are_equivariant_and_train(tmp_path):
    """S_n x O(3), reflections included: f(g x) = g f(x); a few steps of gradient descent lower the loss."""
    prog = catnn.load("examples/point_cloud.diag")
    module = load_module(write_module(prog), tmp_path, "point_cloud")
    G = prog.group.at((6, 3))
    layer = module.mix(2, 2).double()
    x = torch.randn(4, 2, 6, 3, dtype=torch.float64)
    rng = np.random.default_rng(0)
    for _ in range(3):
        g = G.sample(rng)
        gx = torch.as_tensor(G.act(g, x.numpy(), (1, 1)))
        gy = torch.as_tensor(G.act(g, layer(x).detach().numpy(), (1, 1)))
        assert torch.allclose(layer(gx), gy, atol=1e-10)
    target = x.flip(1)
    optimiser = torch.optim.SGD(layer.parameters(), lr=0.05)
    losses = []
    for _ in range(20):
        loss = ((layer(x) - target) ** 2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]


def test_generated_modules_import_only_torch():
    text = write_module(program("S x O(3)", MORPHISMS + LAYERS))
    assert [line for line in text.splitlines() if line.startswith(("import", "from"))] == ["import torch"]
    assert "catnn" not in text.split('"""', 2)[2].replace("Generated by catnn", "")


def test_sizes_that_disagree_are_refused(tmp_path):
    module = load_module(write_module(program("S x O(3)", LAYERS)), tmp_path, "sizes")
    layer = module.f(1, 1)
    with pytest.raises(ValueError, match="sort 1"):
        layer(torch.randn(2, 1, 4, 2))                # O(3) fixes n_1 = 3
    with pytest.raises(ValueError, match="expects input"):
        layer(torch.randn(2, 1, 4))
    free = load_module(write_module(catnn.compile("group S x S\nlayer up : (1, 0) -> (1, 1)")), tmp_path, "free")
    with pytest.raises(ValueError, match="no input axis of sort 1"):
        free.up(1, 1)(torch.randn(2, 1, 4))
    assert free.up(1, 1)(torch.randn(2, 1, 4), n=(None, 5)).shape == (2, 1, 4, 5)


# -- round trips ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,ns", PRODUCTS)
def test_printed_product_diagrams_and_morphisms_parse_back(name, ns):
    """Every printed product diagram and random morphism (coefficients in n_0, n_1) reads back equal."""
    G = catnn.group(name)
    rng = random.Random(5)
    orders = [o for o in itertools.product(range(3), repeat=2)]
    checked = 0
    for k, l in itertools.product(orders, repeat=2):
        if sum(k) + sum(l) > 3:
            continue
        diagrams = G.at(ns).spanning_set(k, l)
        for d in diagrams[:4]:
            assert catnn.diagram(str(d), G) == d, str(d)
            checked += 1
        if diagrams:
            terms = [(rng.choice(diagrams), random_mpoly(rng)) for _ in range(3)]
            m = G.lift(ProductMorphism(terms, k, l, G.loops))
            back = catnn.diagram(str(m), G)
            assert back == m and (back.k, back.l) == (m.k, m.l), str(m)
    assert checked > 12


def random_mpoly(rng: random.Random) -> MPoly:
    return MPoly({tuple((s, rng.randint(-2, 2)) for s in range(2)): Fraction(rng.randint(-9, 9), rng.randint(1, 5))
                  for _ in range(rng.randint(1, 3))})


@pytest.mark.parametrize("name", [name for name, _ in PRODUCTS])
def test_program_values_round_trip_through_text(name):
    """parse -> check -> str -> a program again: every definition's printed value is the same value."""
    prog = program(name, MORPHISMS)
    again = program(name, "\n".join(f"morphism {d}_again = {prog[d]}" for d in prog))
    G = prog.group
    for d in prog:     # lifted: a ProductDiagram equals its one-term morphism only where every loop is n (not Sp)
        assert G.lift(again[f"{d}_again"]) == G.lift(prog[d]), d


def test_the_forms_of_orders_and_literals_agree():
    prog = catnn.compile("""group points: S x space: O(3)
diagram flat : (1, 1) -> (1, 1) = {1, 1'} {2, 2'}
diagram parts = ({1, 1'} | {1, 1'})
morphism sizes = n_points * n_space^-1 * flat - n_0 / n_1 * parts
layer named : (points: 1) -> (points: 1, space: 2)
layer positional : (1, 0) -> (1, 2)
""")
    assert prog.flat == prog.parts
    assert prog.sizes.is_zero()
    mixed = catnn.compile("group S x S\ndiagram e : (2, 1) -> (1, 2) = {1, 1', 2'} {2, 3'} {3}").e
    assert mixed == catnn.diagram("({1, 1', 2'} | {1, 1'} {2})", "S x S")
    assert (prog.named.k, prog.named.l) == (prog.positional.k, prog.positional.l) == ((1, 0), (1, 2))
    assert catnn.diagram("(id(1) | swap).T", "S x S") == catnn.diagram("(id(1) | swap)", "S x S")


@pytest.mark.parametrize("line", ["group S × O(3)", "group S x O(3)", "group a: S x b: O(3)", "group S(n) x O(3)"])
def test_group_lines(line):
    assert catnn.compile(line + "\nlayer f : (1, 1) -> (1, 1)").group == catnn.group("S x O(3)")


def test_three_factors_and_fixed_sizes():
    prog = catnn.compile("group S(5) × S(7) x Sp(4)\nlayer f : (1, 1, 0) -> (0, 1, 2)")
    assert prog.group == catnn.group("S(5) x S(7) x Sp(4)")
    assert prog.group.spanning_count((1, 1, 0), (0, 1, 2)) == len(prog.nn.f(1, 1).weight)


# -- errors --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,message,where", [
    ("group S x S\nlayer f : (a: 1) -> (1, 0)", "have no names", (2, 12)),
    ("group p: S x q: S\nlayer f : (p: 1, 1) -> (1, 0)", "either by position", (2, 11)),
    ("group p: S x q: S\nlayer f : (p: 1, p: 1) -> (1, 0)", "given twice", (2, 18)),
    ("group p: S x p: S", "already used by sort 0", (1, 14)),
    ("group n: S x q: S", "reserved word", (1, 7)),
    ("group S x S\nmorphism m = swap", "generator of each sort", (2, 14)),
    ("group S x S\nmorphism m = {1, 1'}", "a diagram literal needs its sorts", (2, 14)),
    ("group S x S\nmorphism m = (2).T", "nothing to flip", (2, 14)),
    ("group S x S\nmorphism m = (id(1) | swap) + (swap | id(1)) @ (id(1) | id(0))", "cannot add", (2, 14)),
    ("group S x S\nlayer f : (1, 1) -> (1, 1) = learn((id(1) | id(1)), (id(1) | id(1)))", "already listed", (2, 53)),
    ("group S x S\nlayer f : 1 @ 1 -> (1, 1)", "instead of 1", (2, 11)),
    ("group S x S\nlayer f : V(1, 0, 2) -> (1, 1)", "has 2 entries", (2, 12)),
    ("group S\nmorphism m = (swap | swap)", "needs a product of groups", (2, 14)),
    ("diagram d = swap\ngroup S x S", "group", (2, 1)),
    ("group S x Sp\nmorphism m = ({1} | {1})", None, (2, 21)),
    ("group S x O(3)\nmorphism m = (swap | {1, 2, 1'})", "pair", (2, 22)),
    ("group S x S\nmorphism m = (swap | (swap | swap))", "do not nest", (2, 22)),
    ("group S x S\nmorphism a = (swap | id(1))\nmorphism b = (a | a)", "of the whole product", (3, 15)),
    ("morphism m = 2 × swap", "did you mean '*'", (1, 16)),
    ("group S x S\nlayer f : (600, 600) -> (1, 1)", "too large", (2, 11)),
    ("group S x S\nmorphism m = (swap | swap) >> (id(1) | swap)", "differ in sort 0", (2, 14)),
    ("group S x O(3)\nmorphism m = (id(2) | swap) / (n_0 + n_1)", "Laurent", (2, 32)),
])
def test_located_errors(text, message, where):
    with pytest.raises((CheckError, ParseError)) as info:
        catnn.compile(text)
    err = info.value
    assert (err.span.line, err.span.column) == where, str(err)
    if message is not None:
        assert message in err.message, str(err)


def test_the_single_group_checker_refuses_a_product_line():
    from catnn.compiler.check import check_program
    from catnn.grammar import parse
    with pytest.raises(CheckError, match="catnn.compiler.check_program"):
        check_program(parse("group S x S"))
    assert catnn.compiler.check_program(parse("group S x S\nlayer f : (1, 1) -> (1, 1)")).f.k == (1, 1)


# -- the command line ----------------------------------------------------------------------------------
def test_cli_check_compile_explain_draw(tmp_path, capsys):
    source = "examples/point_cloud.diag"
    assert main(["check", source]) == 0
    out = capsys.readouterr().out
    assert "points: S(n) x space: O(3), 7 definitions" in out and "layer    mix" in out
    target = tmp_path / "point_cloud.py"
    assert main(["compile", source, "-o", str(target)]) == 0
    assert "class mix(torch.nn.Module)" in target.read_text(encoding="utf-8")
    assert main(["explain", source, "--n", "32"]) == 0
    explained = capsys.readouterr().out
    assert "n=32, n1=3" in explained and "Plan: S(n) x O(3) (1, 2) -> (1, 0), 2 diagrams" in explained
    drawing = tmp_path / "point_cloud.svg"
    assert main(["draw", source, "-o", str(drawing)]) == 0
    svg = drawing.read_text(encoding="utf-8")
    assert svg.count('class="sort"') >= 4 and "points: S(n)" in svg and "space: O(3)" in svg


def test_a_failed_compile_leaves_the_output_alone(tmp_path, capsys):
    bad = tmp_path / "bad.diag"
    bad.write_text("group S x S\nlayer f : (1, 1, 1) -> (1, 1)\n", encoding="utf-8")
    target = tmp_path / "out.py"
    target.write_text("keep", encoding="utf-8")
    assert main(["compile", str(bad), "-o", str(target)]) == 1
    assert target.read_text(encoding="utf-8") == "keep"
    assert "bad.diag:2:11: error" in capsys.readouterr().err


def test_errors_are_catnn_errors_not_tracebacks():
    for text in ["group S x", "group x S", "group S x S x", "group (S) x S", "group S x S\nlayer f : () -> (1, 1)"]:
        with pytest.raises(CatnnError):
            catnn.compile(text)


# -- the documentation -----------------------------------------------------------------------------------
ROOT = Path(__file__).parent.parent


def test_the_language_docs_product_program_checks():
    """The product program of docs/language.md: centre is I - J/n on the points, the identity on space."""
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8").split("## Products of groups", 1)[1]
    prog = catnn.compile(text.split("```\n", 2)[1], "language.md")
    assert list(prog) == ["same", "spread", "centre", "sq_norm", "mix", "gram", "pick", "embed", "head", "dot", "net"]
    G = prog.group.at((4, 3))
    want = np.kron(np.eye(4) - np.ones((4, 4)) / 4, np.eye(3))
    assert np.allclose(G.matrix(prog.centre).astype(float), want)
    assert (prog.gram.k, prog.gram.l) == ((1, 2), (1, 0))


def test_the_readme_product_program_trains(monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    script = next(b for b in blocks if 'catnn.load("examples/point_cloud.diag")' in b)
    monkeypatch.chdir(ROOT)
    torch.manual_seed(0)
    scope: dict = {}
    exec(compile(script, "README.md", "exec"), scope)
    assert float(capsys.readouterr().out.split()[1]) < 1e-8
    assert torch.allclose(scope["mix"].weight.flatten().sort().values, torch.tensor([-1 / 20, 1.0]), atol=1e-4)


# -- random product expressions ---------------------------------------------------------------------------
PARTS = ["id(1)", "id(0)", "swap", "cup", "cap", "{1, 1'}", "n", "2", "id(2)", "cup >> cap"]
OPERATORS = [" >> ", " @ ", " + ", " - ", " * "]


def random_expression(rng: random.Random, depth: int) -> str:
    if depth == 0 or rng.random() < 0.3:
        return f"({rng.choice(PARTS)} | {rng.choice(PARTS)})" if rng.random() < 0.85 else rng.choice(["n_0", "1/2"])
    text = f"{random_expression(rng, depth - 1)}{rng.choice(OPERATORS)}{random_expression(rng, depth - 1)}"
    return f"({text}).T" if rng.random() < 0.2 else f"({text})"


def test_random_product_expressions_are_values_or_located_errors():
    """Every expression either checks, and then its function equals G.matrix, or fails with a located
    CatnnError (never an internal exception)."""
    rng = random.Random(12)
    G = catnn.group("S x O")
    Gn = G.at((3, 2))
    values = errors = 0
    for _ in range(80):
        text = random_expression(rng, 3)
        try:
            prog = catnn.compile(f"group S x O\nmorphism m = {text}")
        except CatnnError as err:
            assert err.span is not None and err.span.line == 2, (text, str(err))
            errors += 1
            continue
        m = prog.m
        if sum(m.k) + sum(m.l) > 6:
            continue
        x = typed_input((3, 2), m.k, (2,), torch.Generator().manual_seed(0))
        y = prog.nn.m(x, n=(3, 2))
        want = (dense(Gn, m) @ x.reshape(2, -1).T).T.reshape(y.shape)
        assert torch.allclose(y, want, atol=1e-10), text
        values += 1
    assert values > 10 and errors > 10
