"""Bilinear layers: x ⊗ y then a learned (a+b) -> l layer, against the dense oracle, without the product."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import catnn
import oracles_groups  # noqa: F401 - registers the SO/Sp/A/H/B generators with the oracle
from catnn.errors import CatnnError, CheckError
from catnn.networks import Bilinear
from oracle_layers import diagram_matrices, kron_apply
from oracles import commutant_dimension, group_generators


def dense_bilinear(G, layer, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Σ_d weight[d] · G.matrix(d) applied to kron(x_c, y_c) (or kron(x_c, y_e)), plus the bias."""
    n, B = G.n, x.shape[0]
    xs, ys = x.reshape(B, x.shape[1], -1), y.reshape(B, y.shape[1], -1)
    if layer.channels == "pair":
        z = np.stack([[np.kron(xs[b, c], ys[b, c]) for c in range(xs.shape[1])] for b in range(B)])
    else:
        z = np.stack([[np.kron(xs[b, c], ys[b, e]) for c in range(xs.shape[1]) for e in range(ys.shape[1])]
                      for b in range(B)])
    block = layer.plan.blocks[0]
    mats = diagram_matrices(G, block.diagrams)                        # (D, n^l, n^(a+b))
    w = layer.effective_weight(n).detach().numpy()                    # (D, O, I)
    out = np.einsum("dpq,doi,biq->bop", mats, w, z)
    bias_diagrams = layer.plan.sections[0].bias_diagrams
    if bias_diagrams:
        cols = diagram_matrices(G, bias_diagrams)[:, :, 0]
        out += np.einsum("dp,do->op", cols, layer.bias.detach().numpy())[None]
    return out.reshape((B, out.shape[1]) + (n,) * layer.l)


CASES = [("S", 3, 1, 1, 2), ("S", 3, 2, 1, 1), ("S", 3, 0, 2, 2), ("O", 3, 1, 1, 2), ("O", 3, 2, 2, 0),
         ("SO", 3, 1, 1, 1), ("Sp", 4, 1, 1, 2), ("Sp", 4, 2, 1, 1), ("H", 3, 1, 1, 2), ("A", 4, 1, 1, 1),
         ("B", 3, 1, 1, 0)]


@pytest.mark.parametrize("channels", ["pair", "outer"])
@pytest.mark.parametrize("backend", ["torch", "einsum"])
@pytest.mark.parametrize("name,n,a,b,l", CASES)
def test_bilinear_equals_the_dense_oracle(name, n, a, b, l, backend, channels):
    G = catnn.group(name, n=n)
    cin = 2 if channels == "pair" else (2, 3)
    layer = Bilinear(G, a, b, l, cin, 2, channels=channels, backend=backend).double()
    with torch.no_grad():
        if layer.bias is not None:
            layer.bias.normal_()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, layer.in_channels[0]) + (n,) * a)
    y = rng.standard_normal((2, layer.in_channels[1]) + (n,) * b)
    got = layer(torch.from_numpy(x), torch.from_numpy(y)).detach().numpy()
    np.testing.assert_allclose(got, dense_bilinear(G, layer, x, y), atol=1e-10)


def test_bilinear_is_equivariant_in_both_arguments_and_raises_the_order_for_o_n():
    n = 3
    G = catnn.group("O", n=n)
    # O(n) has no linear map V -> V ⊗ V (the oracle's commutant, from the Lie algebra and a reflection) ...
    assert commutant_dimension(1, 2, n, *group_generators("O", n)) == 0
    layer = Bilinear(G, 1, 1, 2, (2, 2), 3, channels="outer").double()
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((4, 2, n)), rng.standard_normal((4, 2, n))
    out = layer(torch.from_numpy(x), torch.from_numpy(y)).detach().numpy()
    assert np.abs(out).max() > 1e-2                                    # ... but a bilinear one to order 2
    for _ in range(3):
        g = G.sample(rng)
        moved = layer(torch.from_numpy(kron_apply(g, x)), torch.from_numpy(kron_apply(g, y))).detach().numpy()
        np.testing.assert_allclose(moved, kron_apply(g, out), atol=1e-10)


@pytest.mark.parametrize("a,b,l", [(2, 2, 0), (2, 2, 1), (2, 2, 2), (3, 1, 1), (1, 2, 1)])
def test_contracting_diagrams_never_form_the_product(a, b, l, monkeypatch):
    """Every tensor the layer computes has at most max(a, b, l) axes of size n: x ⊗ y (a + b axes) never exists."""
    n, B, C = 9, 2, 3
    sizes = []
    einsum, matmul = torch.einsum, torch.matmul

    def recording(f):
        def wrapped(*args, **kwargs):
            out = f(*args, **kwargs)
            sizes.append(out.numel())
            return out
        return wrapped

    monkeypatch.setattr(torch, "einsum", recording(einsum))
    monkeypatch.setattr(torch, "matmul", recording(matmul))
    layer = Bilinear("S", a, b, l, C, 4).double()
    out = layer(torch.randn(B, C, *(n,) * a, dtype=torch.float64), torch.randn(B, C, *(n,) * b, dtype=torch.float64))
    assert sizes and max(sizes) <= B * max(C, 4) * n ** max(a, b, l) < B * C * n ** (a + b)
    monkeypatch.undo()
    assert out.shape == (B, 4) + (n,) * l


def test_square_default_and_errors():
    layer = Bilinear("S", 1, 1, 2, 3, 2).double()
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(layer(x), layer(x, x))
    with pytest.raises(CatnnError, match="equal channels in both factors, got 2 and 3"):
        Bilinear("S", 1, 1, 1, (2, 3), 2)
    with pytest.raises(CatnnError, match="unknown channel mode 'cross'"):
        Bilinear("S", 1, 1, 1, 2, 2, channels="cross")
    with pytest.raises(CatnnError, match="expects features 3\\*V1, got shape \\(2, 3, 4, 4\\)"):
        layer(torch.randn(2, 3, 4, 4, dtype=torch.float64))


def test_gradcheck_bilinear():
    layer = Bilinear("O", 1, 1, 2, 2, 2).double()
    x = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, c: layer(a, c), (x, y))
    assert torch.autograd.gradcheck(lambda w: torch.func.functional_call(
        layer, {"weight": w, "bias": layer.bias}, (x, y)), (layer.weight.detach().clone().requires_grad_(),))


def test_bilinear_layers_in_the_language():
    prog = catnn.compile("group O(3)\nlayer sq : 1 @ 1 -> 2 = learn(1/2 * (id(2) + swap), cap >> cup)")
    assert prog.sq.factors == (1, 1) and (prog.sq.k, prog.sq.l) == (2, 2)
    layer = prog.nn.sq(2, 3).double()
    x = np.random.default_rng(2).standard_normal((2, 2, 3))
    got = layer(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, dense_bilinear(catnn.group("O", n=3), layer, x, x), atol=1e-10)
    with pytest.raises(CheckError, match="layer 'sq' is 2 -> 2 but this is a 1 -> 1 morphism"):
        catnn.compile("layer sq : 1 @ 1 -> 2 = learn(id(1))")
    with pytest.raises(CheckError, match="a bilinear layer a @ b -> l has a single output order"):
        catnn.compile("layer sq : 1 @ 1 -> V1 + V2")
    with pytest.raises(CheckError, match="a bilinear layer takes plain widths"):
        catnn.compile("layer sq : 1 @ 1 -> 2\nnetwork f : 1 -> 2 = sq[2*V1 -> 3*V2]")


AUT_CASES = [(1, 1, 1), (1, 1, 2), (2, 1, 1), (1, 1, 0)]


@pytest.mark.parametrize("channels", ["pair", "outer"])
@pytest.mark.parametrize("backend", ["torch", "einsum"])
@pytest.mark.parametrize("a,b,l", AUT_CASES)
def test_bilinear_aut_equals_the_dense_oracle(a, b, l, backend, channels):
    """Aut(Petersen): bilabelled graphs on x ⊗ y, each core one contraction of x, y and adjacency matrices."""
    A = np.zeros((10, 10), dtype=int)
    for u, v in [(i, (i + 1) % 5) for i in range(5)] + [(i, i + 5) for i in range(5)] + \
                [(5 + i, 5 + (i + 2) % 5) for i in range(5)]:
        A[u, v] = A[v, u] = 1
    G = catnn.group("Aut", graph=A)
    cin = 2 if channels == "pair" else (2, 3)
    layer = Bilinear(G, a, b, l, cin, 2, channels=channels, backend=backend).double()
    with torch.no_grad():
        if layer.bias is not None:
            layer.bias.normal_()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, layer.in_channels[0]) + (10,) * a)
    y = rng.standard_normal((2, layer.in_channels[1]) + (10,) * b)
    got = layer(torch.from_numpy(x), torch.from_numpy(y)).detach().numpy()
    np.testing.assert_allclose(got, dense_bilinear(G, layer, x, y), atol=1e-9)


def test_gradcheck_bilinear_aut():
    C5 = np.roll(np.eye(5, dtype=int), 1, axis=1)
    layer = Bilinear(catnn.group("Aut", graph=C5 + C5.T), 1, 1, 1, 2, 2).double()
    x = torch.randn(2, 2, 5, dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 2, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, c: layer(a, c), (x, y))
    assert torch.autograd.gradcheck(lambda w: torch.func.functional_call(
        layer, {"weight": w, "bias": layer.bias}, (x, y)), (layer.weight.detach().clone().requires_grad_(),))
