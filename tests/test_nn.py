"""catnn.nn.EquivariantLinear: equivariance, span, gradients, dtypes, persistence, initialisation."""

from __future__ import annotations

import copy
import io
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import catnn
from catnn.diagram import identity, swap
from catnn.errors import CatnnError
from catnn.nn import EquivariantLinear, ShapeError
from oracle_layers import dense_layer, kron_apply
from oracles import matrix_rank


@pytest.mark.parametrize("backend", ["torch", "einsum"])
@pytest.mark.parametrize("name,k,l", [("S", 2, 2), ("S", 1, 3), ("S", 3, 2), ("O", 2, 2), ("O", 1, 3),
                                      ("O", 3, 3), ("S", 2, 0), ("O", 0, 2)])
def test_equivariant_under_random_group_elements(name, k, l, backend):
    n = 4
    G = catnn.group(name, n=n)
    layer = EquivariantLinear(name, k, l, 2, 3, backend=backend, n=n).double()
    with torch.no_grad():
        layer.bias.normal_() if layer.bias is not None else None
    x = torch.randn((5, 2) + (n,) * k, dtype=torch.float64)
    y = layer(x).detach().numpy()
    rng = np.random.default_rng(7)
    for _ in range(3):
        g = G.sample(rng).astype(float)
        gx = torch.from_numpy(kron_apply(g, x.numpy()))
        np.testing.assert_allclose(layer(gx).detach().numpy(), kron_apply(g, y), atol=1e-10)


@pytest.mark.parametrize("name,k,l,n", [("S", 1, 1, 3), ("S", 2, 1, 3), ("S", 2, 2, 3), ("S", 2, 2, 2),
                                        ("O", 2, 2, 3), ("O", 1, 3, 2), ("O", 3, 3, 3)])
def test_one_channel_layer_spans_the_commutant(name, k, l, n):
    """The maps a 1 -> 1 channel layer can represent have rank G.dimension(k, l)."""
    G = catnn.group(name, n=n)
    layer = EquivariantLinear(name, k, l, 1, 1, bias=False).double()
    basis = torch.eye(n**k, dtype=torch.float64).reshape((n**k, 1) + (n,) * k)
    maps = []
    for i in range(len(layer.diagrams)):
        with torch.no_grad():
            layer.weight.zero_()
            layer.weight[i] = 1.0
        maps.append(layer(basis).detach().numpy().reshape(n**k, n**l).T.round().astype(np.int64))
    assert matrix_rank(maps) == G.dimension(k, l)


def test_matches_dense_layer_with_bias_and_any_n():
    layer = EquivariantLinear("S", 2, 3, 3, 2).double()
    with torch.no_grad():
        layer.bias.normal_()
    for n in (2, 3, 5):
        G = catnn.group("S", n=n)
        x = torch.randn(2, 3, n, n, dtype=torch.float64)
        expected = dense_layer(G, 2, 3, layer.diagrams, layer.weight.detach().numpy(), x.numpy(),
                               layer.bias_diagrams, layer.bias.detach().numpy())
        np.testing.assert_allclose(layer(x).detach().numpy(), expected, atol=1e-10)


def test_normalize_divides_each_summed_block_by_n():
    plain = EquivariantLinear("S", 2, 1, 1, 1, bias=False).double()
    mean = EquivariantLinear("S", 2, 1, 1, 1, bias=False, normalize=True).double()
    mean.load_state_dict(plain.state_dict())
    n = 5
    x = torch.randn(1, 1, n, n, dtype=torch.float64)
    # {1} {1'} {2'} alone: total sum vs mean over n^2 entries
    d = next(i for i, d in enumerate(plain.diagrams) if str(d) == "{1} {1'} {2'}")
    with torch.no_grad():
        for layer in (plain, mean):
            layer.weight.zero_()
            layer.weight[d] = 1.0
    torch.testing.assert_close(plain(x), x.sum().expand(1, 1, n))
    torch.testing.assert_close(mean(x), x.mean().expand(1, 1, n))


@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_gradcheck(backend):
    layer = EquivariantLinear("S", 2, 2, 2, 2, backend=backend).double()
    x = torch.randn(2, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    w = layer.weight.detach().clone().requires_grad_()
    b = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    fn = layer._function.function
    assert torch.autograd.gradcheck(lambda x, w, b: fn(x, w, b), (x, w, b))
    y = EquivariantLinear("O", 2, 2, 1, 1).double()
    assert torch.autograd.gradcheck(lambda x: y(x), (torch.randn(1, 1, 3, 3, dtype=torch.float64,
                                                                 requires_grad=True),))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16])
def test_dtypes(dtype):
    layer = EquivariantLinear("S", 2, 2, 3, 4).to(dtype)
    x = torch.randn(2, 3, 6, 6).to(dtype)
    y = layer(x)
    assert y.dtype == dtype and y.shape == (2, 4, 6, 6)
    reference = EquivariantLinear("S", 2, 2, 3, 4).double()
    reference.load_state_dict(layer.state_dict())
    tol = {torch.float64: 1e-12, torch.float32: 1e-4, torch.bfloat16: 0.1}[dtype]
    torch.testing.assert_close(y.double(), reference(x.double()), atol=tol * 10, rtol=tol)


def test_parameters_are_one_coefficient_per_diagram_and_channel_pair():
    layer = EquivariantLinear("S", 3, 3, 4, 5)
    assert layer.weight.shape == (203, 5, 4) and layer.bias.shape == (5, 5)
    assert sum(p.numel() for p in layer.parameters()) == 203 * 20 + 25
    assert EquivariantLinear("O", 1, 1, 2, 2).bias is None          # O(n) has no 0 -> 1 diagram
    assert EquivariantLinear("O", 1, 2, 2, 2).bias.shape == (1, 2)   # the cup vec(I)
    assert EquivariantLinear("S", 2, 2, 2, 2, bias=False).bias is None


def test_state_dict_pickle_and_deepcopy_round_trip():
    layer = EquivariantLinear("S", 2, 2, 3, 3, normalize=True)
    x = torch.randn(2, 3, 5, 5)
    y = layer(x)
    fresh = EquivariantLinear("S", 2, 2, 3, 3, normalize=True)
    fresh.load_state_dict(layer.state_dict())
    torch.testing.assert_close(fresh(x), y)
    buffer = io.BytesIO()
    torch.save(layer, buffer)
    buffer.seek(0)
    for clone in (pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer),
                  torch.load(buffer, weights_only=False)):
        torch.testing.assert_close(clone(x), y)
        assert clone.source == layer.source
    assert "_function" not in layer.__getstate__() and "plan" not in layer.__getstate__()


def test_autograd_trains():
    torch.manual_seed(0)
    layer = EquivariantLinear("S", 2, 1, 2, 1)
    x = torch.randn(16, 2, 4, 4)
    target = x.sum(-1)[:, :1]                                       # row sums of channel 0
    opt = torch.optim.Adam(layer.parameters(), lr=0.05)
    first = None
    for _ in range(150):
        loss = ((layer(x) - target) ** 2).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3 * first


@pytest.mark.parametrize("name,k,l,normalize", [("S", 2, 2, False), ("S", 2, 2, True), ("S", 1, 2, False),
                                                ("O", 2, 2, False), ("S", 3, 1, True)])
def test_initialisation_keeps_the_variance(name, k, l, normalize):
    torch.manual_seed(0)
    n, C = 16, 32
    ratios = []
    for _ in range(4):
        layer = EquivariantLinear(name, k, l, C, C, n=n, normalize=normalize)
        x = torch.randn((8, C) + (n,) * k)
        with torch.no_grad():
            y = layer(x)
        distinct = torch.ones((n,) * l, dtype=torch.bool)     # positions with all-distinct indices
        for a in range(l):
            for b in range(a + 1, l):
                shape = [1] * l
                shape[a], shape[b] = n, n
                distinct &= ~torch.eye(n, dtype=torch.bool).reshape([n if i in (a, b) else 1 for i in range(l)])
        ratios.append((y[..., distinct].var() / x.var()).item())
    assert 0.8 < float(np.mean(ratios)) < 1.25, ratios


def test_learnable_morphisms_expand_to_diagrams():
    sym = (identity(2) + swap()) / 2
    layer = EquivariantLinear("S", 2, 2, 2, 2, diagrams=[sym, identity(2)], bias=False).double()
    assert layer.weight.shape == (2, 2, 2) and len(layer.plan.diagrams) == 2
    x = torch.randn(3, 2, 4, 4, dtype=torch.float64)
    w = layer.weight.detach()
    expected = (torch.einsum("oc,bcij->boij", w[0], (x + x.transpose(2, 3)) / 2)
                + torch.einsum("oc,bcij->boij", w[1], x))
    torch.testing.assert_close(layer(x), expected)
    tr = catnn.Poly.n() * identity(1)                                 # n * id: coefficient evaluated per n
    scaled = EquivariantLinear("S", 1, 1, 1, 1, diagrams=[tr], bias=False).double()
    with torch.no_grad():
        scaled.weight.fill_(1.0)
    v = torch.randn(1, 1, 5, dtype=torch.float64)
    torch.testing.assert_close(scaled(v), 5 * v)


def test_shape_errors_and_bad_arguments():
    layer = EquivariantLinear("S", 2, 2, 3, 4)
    with pytest.raises(ShapeError, match="expects input"):
        layer(torch.randn(2, 3, 5))
    with pytest.raises(ShapeError, match="3 input channels, got 2"):
        layer(torch.randn(2, 2, 5, 5))
    with pytest.raises(ShapeError, match="equal trailing axes"):
        layer(torch.randn(2, 3, 5, 4))
    with pytest.raises(ShapeError, match="built for n=4"):
        EquivariantLinear("S", 1, 1, 1, 1, n=4)(torch.randn(1, 1, 5))
    with pytest.raises(CatnnError, match="in_channels must be a positive integer"):
        EquivariantLinear("S", 1, 1, 0, 1)
    with pytest.raises(CatnnError, match="unknown backend 'jax'"):
        EquivariantLinear("S", 1, 1, 1, 1, backend="jax")
    with pytest.raises(CatnnError, match="is 2 -> 2, but the layer is 1 -> 1"):
        EquivariantLinear("S", 1, 1, 1, 1, diagrams=[swap()])
    with pytest.raises(CatnnError):
        EquivariantLinear("O", 1, 1, 1, 1, diagrams=[catnn.Diagram.from_blocks([[1], [2]], k=1, l=1)])


def test_zero_input_axes_need_a_fixed_n():
    layer = EquivariantLinear("S", 0, 2, 2, 3, n=4)
    assert layer(torch.randn(5, 2)).shape == (5, 3, 4, 4)
    with pytest.raises(CatnnError, match="depends on n|needs"):
        EquivariantLinear("S", 0, 1, 1, 1)(torch.randn(1, 1))


def test_importing_catnn_does_not_import_torch():
    code = ("import sys, catnn, catnn.compiler.plan, catnn.compiler.emit_einsum, catnn.compiler.emit_torch, "
            "catnn.compiler.write; assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_repr_source_and_explain():
    layer = EquivariantLinear("O", 2, 2, 3, 4)
    assert "O(n) 2 -> 2, in_channels=3, out_channels=4, diagrams=3" in repr(layer)
    assert "\ndef layer(x, weight, bias=None):" in layer.source
    assert "planned:" in layer.explain(n=10, batch=2)


@pytest.mark.slow
def test_torch_compile():
    layer = EquivariantLinear("S", 2, 2, 2, 3)
    compiled = torch.compile(layer)
    for n in (5, 6):
        x = torch.randn(2, 2, n, n)
        torch.testing.assert_close(compiled(x), layer(x), rtol=1e-5, atol=1e-5)
    x = torch.randn(2, 2, 5, 5, requires_grad=True)
    compiled(x).sum().backward()
    assert x.grad is not None and layer.weight.grad is not None


def test_gc_paused_restores_the_collector_state():
    import gc
    from catnn.compiler.layer import gc_paused
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), gc_paused():
        assert not gc.isenabled()
        1 / 0
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()               # a collector the caller switched off stays off
    finally:
        gc.enable()


@pytest.mark.parametrize("name,k,l", [("S", 2, 2), ("O", 2, 2), ("Sp", 2, 2)])
def test_lifted_entries_rebuild_the_same_structure(name, k, l):
    """A layer rebuilds its plan from its stored entries without lifting them again (lifted=True):
    the structure equals the one from lifting those entries, and a pickled layer computes the same."""
    from catnn.compiler.layer import layer_structure
    G = catnn.group(name)
    lifted = layer_structure(G, k, l)
    again = layer_structure(G, k, l, list(lifted.entries))
    assert layer_structure(G, k, l, lifted.entries, lifted=True).plan == again.plan == lifted.plan
    layer = EquivariantLinear(G, k, l, 2, 3)
    clone = pickle.loads(pickle.dumps(layer))
    x = torch.randn(2, 2, *(4,) * k)
    torch.testing.assert_close(clone(x), layer(x))
    assert clone.plan == layer.plan and clone.source == layer.source
