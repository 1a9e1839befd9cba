"""Bilinear layers in the language: ``outer(a @ b)`` multiplies every channel pair, and a channelwise
``a @ a -> l`` layer that is identically zero is a located error (issue 15, item 4).

Oracles: the dense matrices of the layer's diagrams (``G.matrix``) applied to x_c ⊗ x_d, random
rotations for equivariance, and a random-input run of the in-memory layer for "is it zero".
"""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.check_bilinear import pairing_vanishes
from catnn.compiler.write import write_module
from catnn.errors import CheckError, ParseError
from catnn.groups import group
from catnn.networks import Bilinear


def _error_lines(err: Exception) -> list[str]:
    return str(err).splitlines()


@pytest.mark.parametrize("src, where, out", [("group SO(3)\nlayer b : 1 @ 1 -> 1\n", "2:11", "outer(1 @ 1) -> 1"),
                                             ("group Sp\nlayer form : 1 @ 1 -> 0\n", "2:14", "outer(1 @ 1) -> 0"),
                                             ("group SO(3)\nlayer b : 1 @ 1 -> 1 = learn(eps(2, 1))\n", "2:11",
                                              "outer(1 @ 1) -> 1")])
def test_an_identically_zero_channelwise_layer_is_a_located_error(src, where, out):
    with pytest.raises(CheckError) as info:
        catnn.compile(src, "b.diag")
    first, line, caret = _error_lines(info.value)
    assert first.startswith(f"b.diag:{where}: error: this bilinear layer is identically zero")
    assert f"write {out}" in first
    column = int(where.split(":")[1])
    assert caret.index("^") == column + 1 and caret.strip() == "^~~~~"   # under "1 @ 1"
    assert line == "  " + src.splitlines()[1]


def test_the_outer_form_of_the_same_layer_is_accepted():
    prog = catnn.compile("group SO(3)\nlayer cross : outer(1 @ 1) -> 1\n")
    assert prog.cross.outer and prog.cross.factors == (1, 1)
    assert "outer(1 @ 1) -> 1" in "\n".join(prog.summary())


def test_an_unknown_pairing_word_is_a_located_parse_error():
    with pytest.raises(ParseError) as info:
        catnn.compile("group SO(3)\nlayer b : inner(1 @ 1) -> 1\n", "b.diag")
    assert _error_lines(info.value)[0].startswith("b.diag:2:11: error: unknown channel pairing 'inner'")


def test_outer_is_only_a_layer_input():
    with pytest.raises(CheckError, match="can only be the input of a layer"):
        catnn.compile("group O(3)\nlayer c : outer(1 @ 1) -> 0\nnetwork q : outer(1 @ 1) -> 0 = c[2 -> 1]\n")


# -- the zero check against the layer itself ---------------------------------------------------------------
CASES = [("SO(3)", 1, 1), ("SO(3)", 1, 0), ("SO(3)", 1, 2), ("SO(2)", 1, 0), ("Sp(4)", 1, 0), ("Sp(2)", 1, 2),
         ("O(3)", 1, 2), ("O", 1, 0), ("S", 1, 1), ("S(3)", 2, 1), ("SO(4)", 2, 0), ("Sp(4)", 2, 0), ("SO(3)", 2, 1)]


@pytest.mark.parametrize("name, a, l", CASES)
def test_the_zero_check_agrees_with_the_layer_on_random_input(name, a, l):
    """The check says zero exactly when the channelwise layer maps random inputs to zero."""
    G = group(name)
    if G.n is None:
        G = group(name, n=4)
    torch.manual_seed(0)
    layer = Bilinear(G, a, a, l, 3, 2, bias=False).double()
    with torch.no_grad():
        y = layer(torch.randn(4, 3, *([G.n] * a), dtype=torch.float64))
    zero = bool(y.abs().max() < 1e-9)
    assert pairing_vanishes(group(name), a, l, None) == zero


def test_the_zero_check_makes_no_claim_on_layers_too_large_to_evaluate():
    assert not pairing_vanishes(group("S"), 3, 3, None)


# -- outer layers compute every channel pair ----------------------------------------------------------------
def _cross_oracle(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Σ_{c,d} w[o, c*C + d] · M (x_c ⊗ x_d), M the dense matrix of the layer's one diagram (the ε tensor)."""
    G = group("SO(3)")
    (entry,) = layer.structure.entries
    M = torch.tensor(np.asarray(G.matrix(entry), dtype=float))
    C = x.shape[1]
    pairs = torch.einsum("bci,bdj->bcdij", x, x).reshape(x.shape[0], C * C, 9)
    return torch.einsum("ok,bkj,ij->boi", layer.weight[0].detach(), pairs, M)


def test_an_outer_so3_layer_is_the_cross_product_of_different_channels():
    prog = catnn.compile("group SO(3)\nlayer cross : outer(1 @ 1) -> 1\n")
    torch.manual_seed(1)
    layer = prog.nn.cross(3, 2).double()
    x = torch.randn(5, 3, 3, dtype=torch.float64)
    y = layer(x)
    assert y.abs().max() > 0.1
    torch.testing.assert_close(y, _cross_oracle(layer, x))
    R = torch.tensor(group("SO(3)").sample(np.random.default_rng(2)), dtype=torch.float64)
    torch.testing.assert_close(layer(x @ R.T), y @ R.T)


def test_the_compiled_outer_layer_and_network_equal_the_in_memory_ones():
    src = "group SO(3)\nlayer cross : outer(1 @ 1) -> 1\nnetwork net : 1 -> 1 = cross[2 -> 3]\n"
    prog = catnn.compile(src)
    module = types.ModuleType("compiled_outer")
    exec(write_module(prog), module.__dict__)
    torch.manual_seed(3)
    x = torch.randn(4, 2, 3, dtype=torch.float64)
    for memory, compiled in ((prog.nn.cross(2, 3), module.cross(2, 3)), (prog.nn.net(), module.net())):
        memory, compiled = memory.double(), compiled.double()
        compiled.load_state_dict(memory.state_dict())
        torch.testing.assert_close(compiled(x), memory(x))
    assert module.cross(2, 3).weight.shape == (1, 3, 4)
