"""Programs that used to reach internal errors: each is now a CatnnError at its place (the numeric and
order limits have golden files: long_literal, huge_power, huge_product, huge_order)."""

from __future__ import annotations

import pytest
import torch

import catnn
from catnn.cli import main
from catnn.compiler.write import write_module
from catnn.errors import CompileError

WIDE = "group S\nmorphism m = id(49)\n"


@pytest.mark.parametrize("command", ["compile", "explain"])
def test_wider_than_the_einsum_alphabet_is_refused_at_the_definition(command, tmp_path, capsys):
    path = tmp_path / "wide.diag"
    path.write_text(WIDE)
    status = main([command, str(path)] + (["-o", str(tmp_path / "wide.py")] if command == "compile" else []))
    err = capsys.readouterr().err.splitlines()
    assert status == 1
    assert err[0] == (f"{path}:2:1: error: this needs 49 distinct tensor axes in one contraction, over the 48 "
                      "that generated code can name; split the diagram into smaller pieces")
    assert err[1] == "  morphism m = id(49)" and err[2].strip() == "^" + "~" * (len("morphism m = id(49)") - 1)
    assert not (tmp_path / "wide.py").exists()


def test_wider_than_the_einsum_alphabet_in_memory():
    with pytest.raises(CompileError, match="49 distinct tensor axes"):
        catnn.compile(WIDE).nn.m


def test_the_widest_allowed_still_compiles_and_runs():
    """id(48) uses every letter: it compiles; id(3) of the same kind still equals the identity."""
    assert "def m(x):" in write_module(catnn.compile("group S\nmorphism m = id(48)\n"))
    x = torch.randn(2, 3, 3, 3, dtype=torch.float64)
    assert torch.equal(catnn.compile("group S\nmorphism m = id(3)\n").nn.m(x), x)


@pytest.mark.parametrize("text", ["10^1000 * 10^1000 * 10^1000 * 10^999 * swap",   # 3999 digits: allowed
                                  "(n + 10^1000 * 10^300)^3 * swap"])
def test_large_but_allowed_numbers_compile(text):
    prog = catnn.compile(f"group S\nmorphism m = {text}\n")
    assert "def m(x):" in write_module(prog)


@pytest.mark.parametrize("command", ["compile", "explain"])
def test_aut_layer_too_large_to_plan_is_placed_at_its_definition(command, tmp_path, capsys):
    """graph G = empty(30), a 3 -> 3 layer: the orbit computation is refused, with the layer's place."""
    path = tmp_path / "aut.diag"
    path.write_text("graph G = empty(30)\ngroup Aut(G)\nlayer q : 3 -> 3\n")
    status = main([command, str(path)] + (["-o", str(tmp_path / "aut.py")] if command == "compile" else []))
    err = capsys.readouterr().err.splitlines()
    assert status == 1
    assert err[0].startswith(f"{path}:3:1: error: the tuple set [30]^6 has 729000000 elements")
    assert err[1] == "  layer q : 3 -> 3" and err[2].startswith("  ^~~")
