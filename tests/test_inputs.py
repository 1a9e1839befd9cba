"""Hostile and edge inputs: empty batches, wrong dtype, device or type, empty graphs under masks, and
``catnn.nn`` / ``catnn.networks`` after a plain ``import catnn``.

Oracles: the shapes the conventions fix ((B, C, n, ..., n)), zero gradients for an empty batch (a sum
over no samples), and the in-memory layer on one graph alone for the masked empty graph.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.write import write_module
from catnn.errors import CatnnError
from catnn.networks import Bilinear, MixedLinear
from catnn.nn import EquivariantLinear, InputError, MorphismFunction

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = """\
group S
morphism sym = 1/2 * (id(2) + swap)
layer edge : 2 -> 2
layer pool : 2 -> 0
layer lift : 0 -> 2
layer mixed : V1 + V2 -> V0 + V1
layer bil : 1 @ 1 -> 1
network net : 2 -> 0 = edge[2 -> 4] >> relu >> pool[4 -> 3]
network meaned : 2 -> 0 = edge[2 -> 3] >> tanh >> mean
"""

LAYERS = [("S", 2, 2, None), ("S", 2, 0, None), ("S", 0, 2, 4), ("S", 1, 1, None), ("O", 2, 2, None),
          ("Sp", 1, 3, None), ("SO", 2, 1, 3), ("A", 1, 1, 4)]


def empty_batch_ok(module, inputs, shape):
    """module(*inputs) has ``shape`` and backward gives zero gradients of the right shapes."""
    y = module(*inputs)
    assert tuple(y.shape) == shape
    y.sum().backward()
    for t in [*inputs, *module.parameters()]:
        if t.requires_grad:
            assert t.grad is not None and t.grad.shape == t.shape and not t.grad.any()


@pytest.mark.parametrize("backend", ["torch", "einsum"])
@pytest.mark.parametrize("group,k,l,n", LAYERS)
def test_empty_batch_every_layer(group, k, l, n, backend):
    layer = EquivariantLinear(group, k, l, 3, 2, n=n, backend=backend)
    size = n or 4
    x = torch.randn((0, 3) + (size,) * k, requires_grad=True)
    empty_batch_ok(layer, (x,), (0, 2) + (size,) * l)


def test_empty_batch_aut_layer():
    adjacency = np.array([[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]])
    layer = EquivariantLinear("Aut", 2, 1, 3, 2, graph=adjacency)
    x = torch.randn(0, 3, 4, 4, requires_grad=True)
    empty_batch_ok(layer, (x,), (0, 2, 4))


def test_empty_batch_mixed_and_bilinear_layers():
    mixed = MixedLinear("S", {1: 2, 2: 3}, {0: 4, 1: 5})
    x1, x2 = torch.randn(0, 2, 5, requires_grad=True), torch.randn(0, 3, 5, 5, requires_grad=True)
    out = mixed({1: x1, 2: x2})
    assert {k: tuple(v.shape) for k, v in out.items()} == {0: (0, 4), 1: (0, 5, 5)}
    (out[0].sum() + out[1].sum()).backward()
    assert x2.grad.shape == x2.shape and not x2.grad.any()
    bilinear = Bilinear("S", 1, 1, 1, 3, 2)
    empty_batch_ok(bilinear, (torch.randn(0, 3, 5, requires_grad=True),), (0, 2, 5))


@pytest.fixture(scope="module")
def program():
    return catnn.compile(PROGRAM, "inputs.diag")


@pytest.fixture(scope="module")
def compiled(program, tmp_path_factory):
    path = tmp_path_factory.mktemp("inputs") / "inputs_module.py"
    path.write_text(write_module(program))
    spec = importlib.util.spec_from_file_location("inputs_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("where", ["memory", "compiled"])
def test_empty_batch_program_objects(program, compiled, where):
    source = program.nn if where == "memory" else compiled
    assert tuple(source.sym(torch.randn(0, 5, 5)).shape) == (0, 5, 5)
    empty_batch_ok(source.edge(2, 3), (torch.randn(0, 2, 5, 5, requires_grad=True),), (0, 3, 5, 5))
    empty_batch_ok(source.pool(2, 3), (torch.randn(0, 2, 5, 5, requires_grad=True),), (0, 3))
    empty_batch_ok(source.bil(2, 3), (torch.randn(0, 2, 5, requires_grad=True),), (0, 3, 5))
    for name in ("net", "meaned"):
        empty_batch_ok(getattr(source, name)(), (torch.randn(0, 2, 5, 5, requires_grad=True),), (0, 3))


# -- dtype, device, type ------------------------------------------------------------------------------
BAD_INPUTS = [
    (lambda: torch.randn(2, 3, 4, 4, dtype=torch.float64), "got dtype torch.float64 on cpu"),
    (lambda: torch.randn(2, 3, 4, 4, device="meta"), "got dtype torch.float32 on meta"),
    (lambda: np.zeros((2, 3, 4, 4), dtype=np.float32), "got a numpy.ndarray"),
]


@pytest.mark.parametrize("make,got", BAD_INPUTS)
def test_wrong_input_in_memory_names_layer_expected_and_got(program, make, got):
    expected = "expects a torch.Tensor of dtype torch.float32 on cpu"
    layer = program.nn.edge(3, 2)
    with pytest.raises(InputError, match=f"^layer edge {expected}.*{got}"):
        layer(make())
    plain = EquivariantLinear("S", 2, 2, 3, 2)
    with pytest.raises(InputError, match=r"^EquivariantLinear\(S\(n\) 2 -> 2\) " + expected):
        plain(make())
    assert issubclass(InputError, CatnnError) and issubclass(InputError, TypeError)


@pytest.mark.parametrize("make,got", BAD_INPUTS)
def test_wrong_input_compiled_names_layer_expected_and_got(compiled, make, got):
    x = make()
    expected = "expects a torch.Tensor of dtype torch.float32 on cpu"
    with pytest.raises(TypeError, match=f"^layer edge {expected}.*{got}"):
        compiled.edge(3, 2)(x)
    with pytest.raises(TypeError, match=f"^layer edge {expected}.*{got}"):   # its first stage
        compiled.net()(x[:, :2])
    with pytest.raises(TypeError, match=f"^layer bil {expected}.*{got}"):
        compiled.bil(3, 2)(x[:, :, :, 0])
    with pytest.raises(TypeError, match=f"^layer mixed {expected}.*{got}"):
        compiled.mixed({1: 2, 2: 3}, {0: 1, 1: 1})({1: x[:, :2, :, 0], 2: x})


def test_wrong_input_mixed_and_bilinear_in_memory():
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    with pytest.raises(InputError, match=r"^Bilinear\(S\(n\) 1 @ 1 -> 1\) expects .* got dtype torch.float64"):
        Bilinear("S", 1, 1, 1, 3, 2)(x)
    with pytest.raises(InputError, match=r"^MixedLinear\(.*\) expects .* got dtype torch.float64"):
        MixedLinear("S", {1: 3}, {0: 1, 1: 1})({1: x})


def test_matching_dtype_still_runs():
    layer = EquivariantLinear("S", 2, 2, 3, 2).double()
    assert layer(torch.randn(1, 3, 4, 4, dtype=torch.float64)).dtype == torch.float64


# -- masks ------------------------------------------------------------------------------------------
def test_all_false_mask_with_normalize_gives_zeros_not_nan():
    """An empty graph in a padded batch: its means are 0 (its sums are), so the output is the bias
    alone, as for a layer whose every summed-out block is empty."""
    layer = EquivariantLinear("S", 2, 2, 2, 3, normalize=True).double()
    scalar = EquivariantLinear("S", 2, 0, 2, 3, normalize=True).double()
    with torch.no_grad():
        scalar.bias.normal_()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    mask = torch.ones(2, 4, dtype=torch.bool)
    mask[1] = False
    y = layer(x, mask=mask)
    assert not torch.isnan(y).any() and not y[1].any()
    torch.testing.assert_close(y[0], layer(x[:1])[0])
    s = scalar(x, mask=mask)
    assert not torch.isnan(s).any()
    torch.testing.assert_close(s[1], scalar.bias[0])
    torch.testing.assert_close(s[0], scalar(x[:1])[0])


@pytest.mark.parametrize("where", ["memory", "compiled"])
def test_all_false_mask_mean_pooling(program, compiled, where):
    net = (program.nn if where == "memory" else compiled).meaned().double()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    mask = torch.tensor([[True, True, True, False], [False] * 4])
    y = net(x, mask=mask)
    assert not torch.isnan(y).any()
    torch.testing.assert_close(y[0], net(x[:1, :, :3, :3])[0])


# -- lazy submodules --------------------------------------------------------------------------------
def test_nn_and_networks_after_plain_import_without_torch_up_front():
    code = ("import sys, catnn; assert 'torch' not in sys.modules, 'torch imported by import catnn'; "
            "layer = catnn.nn.EquivariantLinear('S', 2, 2, 4, 8); print(type(layer).__name__); "
            "print(catnn.networks.EquivariantNetwork.__name__); "
            "print(hasattr(catnn, 'no_such_thing'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["EquivariantLinear", "EquivariantNetwork", "False"]


def test_morphism_function_empty_batch():
    f = MorphismFunction("S", catnn.diagram("swap"))
    assert tuple(f(torch.randn(0, 3, 3)).shape) == (0, 3, 3)
