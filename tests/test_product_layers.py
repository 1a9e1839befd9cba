"""Layers over products of groups (typed axes): plans, both backends and EquivariantLinear against
the product's dense matrices, random elements of the product, gradients.

The oracle is ``G.matrix`` (kron of the factors' own matrices, checked in test_product_groups.py) and
``G.act`` of sampled elements; the plan never sees either.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.backends import emit
from catnn.compiler.plan import build_plan
from catnn.errors import ShapeError
from catnn.nn import EquivariantLinear

PRODUCTS = [("S x O", (4, 3)), ("S x S", (3, 4)), ("O x S x S", (2, 3, 2)), ("S x H", (3, 2)), ("B x S", (3, 2)),
            ("S x SO(3)", (3, 3)), ("SO(3) x S", (3, 2)), ("S x Sp", (3, 2)), ("S x O(1,3)", (2, 4)),
            ("S x A(4)", (2, 4))]   # the last five: factors with constants (ε, J, η, jellyfish heads), one per sort


def typed_orders(r: int, total: int) -> list[tuple[int, ...]]:
    return [o for o in itertools.product(range(total + 1), repeat=r) if sum(o) <= total]


def dense(Gn, diagrams) -> torch.Tensor:
    return torch.tensor(np.stack([np.asarray(Gn.matrix(d), dtype=float) for d in diagrams]))


def assert_equals_dense(layer: EquivariantLinear, Gn, x: torch.Tensor) -> None:
    """``layer(x)`` (bias included) against Σ_d W_d ⊗ G.matrix(d) applied to x, and the bias diagrams'."""
    want = torch.einsum("dpq,doi,biq->bop", dense(Gn, layer.diagrams), layer.weight, x.reshape(*x.shape[:2], -1))
    want = want + torch.einsum("dp,do->op", dense(Gn, layer.bias_diagrams)[:, :, 0], layer.bias)[None]
    assert torch.allclose(layer(x).reshape(want.shape), want, atol=1e-12)


def axes(ns: tuple[int, ...], k: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(ns[s] for s in range(len(ns)) for _ in range(k[s]))


def plans_checked_against_dense(G, ns: tuple[int, ...], backend: str, most: int) -> int:
    """How many typed k -> l with total k + l <= most were checked: the planned layer (spanning set +
    bias) equals the sum of weight (x) dense matrix, axes of sort 0 first (asserted for each)."""
    r, Gn = len(ns), G.at(ns)
    torch.manual_seed(0)
    checked = 0
    for k in typed_orders(r, 2):
        for l in typed_orders(r, 2):
            diagrams = G.spanning_set(k, l)
            if sum(k) + sum(l) > most or not diagrams:
                continue
            bias = G.spanning_set((0,) * r, l)
            fn = emit(build_plan(G, k, l, diagrams, bias_diagrams=bias), "layer", backend).plan_function
            x = torch.randn(2, 2, *axes(ns, k), dtype=torch.float64)
            w = torch.randn(len(diagrams), 3, 2, dtype=torch.float64)
            b = torch.randn(len(bias), 3, dtype=torch.float64) if bias else None
            y = fn((x,), (w,), (b,), (3,), n=ns)[0]
            want = torch.einsum("dpq,doi,biq->bop", dense(Gn, diagrams), w, x.reshape(2, 2, -1))
            if bias:
                want += torch.einsum("dp,do->op", dense(Gn, bias)[:, :, 0], b)[None]
            assert torch.allclose(y.reshape(want.shape), want, atol=1e-10), (k, l)
            checked += 1
    return checked


@pytest.mark.parametrize("name,ns", PRODUCTS)
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_plans_equal_the_dense_matrices(name, ns, backend):
    """Every typed k -> l with total k + l <= 3: the planned layer (spanning set + bias) is the sum of
    weight (x) dense matrix, axes of sort 0 first."""
    assert plans_checked_against_dense(catnn.group(name), ns, backend, 3) > 5


@pytest.mark.parametrize("name,ns,k,l", [("S x O(3)", (6, 3), (1, 1), (1, 1)), ("S x O(3)", (5, 3), (2, 0), (1, 1)),
                                         ("S x S", (4, 5), (1, 1), (1, 1)), ("S x S x S", (3, 4, 2), (1, 1, 0), (0, 1, 1))])
def test_layers_are_equivariant_under_random_elements(name, ns, k, l):
    """(g_0, g_1, ...) acting on every axis of its sort (permutations, and O(3) reflections included)."""
    G = catnn.group(name)
    layer = EquivariantLinear(G, k, l, 3, 2, n=ns).double()
    with torch.no_grad():
        layer.bias.normal_() if layer.bias is not None else None
    x = torch.randn(4, 3, *(ns[s] for s in range(len(ns)) for _ in range(k[s])), dtype=torch.float64)
    rng = np.random.default_rng(0)
    Gn = G.at(ns)
    for _ in range(5):
        g = Gn.sample(rng)
        gx = torch.as_tensor(Gn.act(g, x.numpy(), k))
        gy = torch.as_tensor(Gn.act(g, layer(x).detach().numpy(), l))
        assert torch.allclose(layer(gx), gy, atol=1e-10)


def test_layer_matches_the_dense_matrix_and_passes_gradcheck():
    G = catnn.group("S x O(3)")
    layer = EquivariantLinear(G, (1, 2), (1, 2), 2, 3).double()      # bias: (S 0 -> 1) x (O 0 -> 2), the cup
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(2, 2, 5, 3, 3, dtype=torch.float64, requires_grad=True)
    Gn = G.at((5, 3))
    assert_equals_dense(layer, Gn, x)
    assert torch.autograd.gradcheck(lambda x, w: EquivariantLinear.forward(layer, x), (x, layer.weight))


def test_initialisation_keeps_the_variance():
    torch.manual_seed(0)
    layer = EquivariantLinear("S x O(3)", (1, 1), (1, 1), 64, 64)
    y = layer(torch.randn(16, 64, 32, 3))
    assert 0.6 < y.std().item() < 1.5


def test_free_sizes_are_read_per_sort_and_fixed_sizes_checked():
    layer = EquivariantLinear("S x S", (1, 1), (1, 1), 2, 2)
    assert layer(torch.randn(1, 2, 3, 7)).shape == (1, 2, 3, 7)
    assert layer(torch.randn(1, 2, 6, 2)).shape == (1, 2, 6, 2)
    with pytest.raises(ShapeError, match="equal sizes per sort"):
        EquivariantLinear("S x O(3)", (1, 1), (1, 1), 2, 2)(torch.randn(1, 2, 4, 4))
    with pytest.raises(ShapeError, match="equal sizes per sort"):
        EquivariantLinear("S x S", (2, 0), (1, 1), 2, 2)(torch.randn(1, 2, 4, 5))
    with pytest.raises(ShapeError, match=r"no input axis of sort 1 .* n=\(None, 5\)"):
        EquivariantLinear("S x S", (1, 0), (0, 1), 2, 2)(torch.randn(1, 2, 4))
    fixed = EquivariantLinear("S x S", (1, 0), (0, 1), 2, 2, n=(None, 5))
    assert fixed(torch.randn(3, 2, 4)).shape == (3, 2, 5)


def test_a_sorts_constants_are_built_at_its_size():
    """S_n x SO(3) with n = 3 = the SO(3) size and n = 5: the ε chain of sort 1 is read at n_1 = 3 and
    is named apart from any sort-0 constant; a points x space cross-product layer is equivariant."""
    G = catnn.group("S x SO(3)")
    plan = build_plan(G, (1, 2), (1, 1), G.spanning_set((1, 2), (1, 1)))
    assert plan.constants and all(kind.endswith("__s1") for kind in plan.constants)
    assert set(plan.constant_sorts) == {1}
    layer = EquivariantLinear(G, (1, 2), (1, 1), 2, 2, n=(5, 3)).double()
    x = torch.randn(3, 2, 5, 3, 3, dtype=torch.float64)
    Gn, rng = G.at((5, 3)), np.random.default_rng(1)
    for _ in range(3):
        g = Gn.sample(rng)
        gy = torch.as_tensor(Gn.act(g, layer(x).detach().numpy(), (1, 1)))
        assert torch.allclose(layer(torch.as_tensor(Gn.act(g, x.numpy(), (1, 2)))), gy, atol=1e-10)


def test_plans_never_hold_the_full_product_size():
    G = catnn.group("S x O(3)")
    plan = build_plan(G, (1, 1), (1, 1), G.spanning_set((1, 1), (1, 1)))
    n = (256, 3)
    assert plan.largest_intermediate(n, batch=8, in_channels=32, out_channels=32) <= 8 * 32 * 256 * 3 * 2
    assert plan.cost(n).dense_weight == (256 * 3) ** 2


def test_the_readme_product_example_runs():
    import re
    from pathlib import Path
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if 'catnn.group("S x O(3)")' in b)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)
    assert scope["y"].shape == (32, 8, 100, 3) and scope["G"].at((5, 3)).dimension((1, 1), (1, 1)) == 2
