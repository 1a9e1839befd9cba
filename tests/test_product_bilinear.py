"""Bilinear layers over products of groups (typed orders), e.g. the Minkowski products p_i·p_j of a set
of four-momenta under S_n × O(1,3), and the backward of product layers that read a sort's size from n.

The oracle is the product's dense matrices (``G.matrix``: kron of the factors' own) applied to x ⊗ y
formed here, axes of sort 0 first, and random elements of the product (``G.act``); gradients are
compared with autograd through that dense computation.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import catnn
from catnn.errors import ShapeError
from catnn.networks import Bilinear
from catnn.nn import EquivariantLinear


def dense(Gn, diagrams) -> torch.Tensor:
    return torch.tensor(np.stack([np.asarray(Gn.matrix(d), dtype=float) for d in diagrams]))


def typed_shape(ns, k) -> tuple[int, ...]:
    return tuple(ns[s] for s in range(len(ns)) for _ in range(k[s]))


def product_input(x: torch.Tensor, y: torch.Tensor, a, b, outer: bool) -> torch.Tensor:
    """x ⊗ y as (B, channels, flattened typed axes of a + b), sort 0's axes first (x's before y's)."""
    ra, rb = sum(a), sum(b)
    xs, ys = "abcdef"[:ra], "ghijkl"[:rb]
    order, at_x, at_y = "", 0, 0
    for m, k in zip(a, b):
        order += xs[at_x:at_x + m] + ys[at_y:at_y + k]
        at_x, at_y = at_x + m, at_y + k
    if outer:
        out = torch.einsum(f"zc{xs},zd{ys}->zcd{order}", x, y)
        return out.reshape(x.shape[0], x.shape[1] * y.shape[1], -1)
    return torch.einsum(f"zc{xs},zc{ys}->zc{order}", x, y).reshape(x.shape[0], x.shape[1], -1)


CASES = [("S x O(1,3)", (5, 4), (1, 1), (1, 1), (2, 0)), ("S x O(1,3)", (3, 4), (1, 1), (1, 1), (1, 0)),
         ("S x O(1,3)", (4, 4), (1, 1), (0, 1), (1, 0)), ("S x O(3)", (4, 3), (1, 0), (0, 1), (1, 1)),
         ("S x S", (3, 4), (1, 1), (1, 0), (1, 1)), ("S x SO(1,3)", (2, 4), (0, 2), (0, 2), (0, 0))]


@pytest.mark.parametrize("name,ns,a,b,l", CASES)
@pytest.mark.parametrize("backend", ["torch", "einsum"])
@pytest.mark.parametrize("outer", [True, False])
def test_typed_bilinear_equals_the_dense_oracle_with_its_gradients(name, ns, a, b, l, backend, outer):
    G = catnn.group(name)
    Gn = G.at(ns)
    torch.manual_seed(1)
    layer = Bilinear(G, a, b, l, (2, 3) if outer else 2, 3, channels="outer" if outer else "pair",
                     backend=backend).double()
    with torch.no_grad():
        if layer.bias is not None:
            layer.bias.normal_()
    x = torch.randn(2, 2, *typed_shape(ns, a), dtype=torch.float64, requires_grad=True)
    y = torch.randn(2, 3 if outer else 2, *typed_shape(ns, b), dtype=torch.float64, requires_grad=True)
    out = layer(x, y, n=None if a[0] + b[0] else ns)
    assert out.shape == (2, 3, *typed_shape(ns, l))
    assert layer.structure.entries
    want = torch.einsum("dpq,doi,biq->bop", dense(Gn, layer.structure.entries), layer.effective_weight(ns),
                        product_input(x, y, a, b, outer))
    if layer.bias is not None:
        want = want + torch.einsum("dp,do->op", dense(Gn, layer.plan.sections[0].bias_diagrams)[:, :, 0],
                                   layer.bias)[None]
    torch.testing.assert_close(out.reshape(want.shape), want, rtol=1e-10, atol=1e-10)
    probe = torch.randn_like(want)
    got = torch.autograd.grad((out.reshape(want.shape) * probe).sum(), (x, y, layer.weight))
    expected = torch.autograd.grad((want * probe).sum(), (x, y, layer.weight))
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-10)


def test_minkowski_gram_layer_is_invariant_under_permutations_times_lorentz():
    """(1,1) ⊗ (1,1) -> (2,0): an S_n 2-tensor of invariants; g = (P, Λ) moves it by P only."""
    G = catnn.group("S x O(1,3)")
    Gn = G.at((6, 4))
    layer = Bilinear(G, (1, 1), (1, 1), (2, 0), 2, 4, channels="outer").double()
    x = torch.randn(3, 2, 6, 4, dtype=torch.float64)
    rng = np.random.default_rng(0)
    for _ in range(5):
        g = Gn.sample(rng)
        moved = torch.as_tensor(Gn.act(g, x.numpy(), (1, 1)))
        want = torch.as_tensor(Gn.act(g, layer(x).detach().numpy(), (2, 0)))
        torch.testing.assert_close(layer(moved).detach(), want, rtol=1e-9, atol=1e-9)
    g = (np.eye(6), np.diag([1.5, 1.0, 1.0, 1.0]))          # not a Lorentz element: the layer notices
    assert not torch.allclose(layer(torch.as_tensor(Gn.act(g, x.numpy(), (1, 1)))), layer(x))


def test_product_layer_backward_reads_the_size_of_a_sort_without_axes():
    """An S x O(1,3) layer (2,0) -> (2,0) has no O(1,3) axis: its size comes from n, forward and backward."""
    G = catnn.group("S x O(1,3)")
    layer = EquivariantLinear(G, (2, 0), (2, 0), 2, 3).double()
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    out = layer(x)
    want = torch.einsum("dpq,doi,biq->bop", dense(G.at((5, 4)), layer.structure.entries),
                        layer.effective_weight((5, 4)), x.reshape(2, 2, -1))
    probe = torch.randn_like(want)
    got = torch.autograd.grad((out.reshape(want.shape) * probe).sum(), x)[0]
    expected = torch.autograd.grad((want * probe).sum(), x)[0]
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_typed_bilinear_refuses_inputs_of_the_wrong_shape():
    G = catnn.group("S x O(1,3)")
    layer = Bilinear(G, (1, 1), (1, 1), (2, 0), 1, 2)
    with pytest.raises(ShapeError, match="size"):
        layer(torch.randn(2, 1, 5, 4), torch.randn(2, 1, 6, 4))   # two sizes of sort 0
    with pytest.raises(ShapeError, match="size"):
        layer(torch.randn(2, 1, 5, 3))                              # O(1,3) is 4-dimensional
    with pytest.raises(ShapeError, match="expects"):
        layer(torch.randn(2, 1, 5))
    with pytest.raises(ShapeError, match="masks are for sorts whose size is left free"):
        layer(torch.randn(2, 1, 5, 4), mask={1: torch.ones(2, 4, dtype=torch.bool)})   # O(1,3) has no padding
