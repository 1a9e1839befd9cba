"""Layers over products with an Aut(G) factor (S x Aut(G), Aut(G) x O(3), ...): plans in both
backends and EquivariantLinear against the product's dense matrices, random elements of the product,
gradients, and the .diag path (layer in memory and compiled module).

The oracle is ``G.matrix`` (kron of the factors' own matrices; the Aut factor's is the hom tensor of
each bilabelled graph, checked against brute force in test_aut.py) and ``G.act`` of sampled elements.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.backends import emit
from catnn.compiler.plan import build_plan
from catnn.compiler.write import write_module
from catnn.nn import EquivariantLinear
from test_product_language import load_module
from test_product_layers import assert_equals_dense, axes, dense, plans_checked_against_dense


def cycle(n: int) -> np.ndarray:
    a = np.roll(np.eye(n, dtype=int), 1, axis=1)
    return a + a.T


def path(n: int) -> np.ndarray:
    a = np.eye(n, k=1, dtype=int)
    return a + a.T


#: (group text, graph, sizes per sort): Aut first or second, a free S, a fixed O(3), three factors, two
#: graph sorts (each its own adjacency constant, built at its own sort)
PRODUCTS = [("S x Aut", cycle(5), (3, 5)), ("Aut x S", path(4), (4, 3)), ("Aut x O(3)", cycle(4), (4, 3)),
            ("S x Aut x S", path(3), (2, 3, 2)), ("Aut x Aut", cycle(4), (4, 4))]


@pytest.mark.parametrize("name,graph,ns", PRODUCTS)
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_plans_equal_the_dense_matrices(name, graph, ns, backend):
    """Every typed k -> l with total k + l <= 3 (<= 2 for three factors): the planned layer
    (spanning set + bias) is the sum of weight (x) dense matrix, axes of sort 0 first."""
    most = 3 if len(ns) == 2 else 2
    assert plans_checked_against_dense(catnn.group(name, graph=graph), ns, backend, most) > 5


@pytest.mark.parametrize("name,graph,ns,k,l", [("S x Aut", cycle(5), (4, 5), (1, 1), (1, 1)),
                                               ("Aut x S", path(4), (4, 3), (2, 0), (1, 1)),
                                               ("Aut x O(3)", cycle(6), (6, 3), (1, 1), (1, 1))])
def test_layers_are_equivariant_under_random_elements(name, graph, ns, k, l):
    """(g_0, g_1, ...) acting on every axis of its sort: automorphisms of the graph on the Aut axes."""
    G = catnn.group(name, graph=graph)
    layer = EquivariantLinear(G, k, l, 3, 2, n=ns).double()
    with torch.no_grad():
        layer.bias.normal_() if layer.bias is not None else None
    x = torch.randn(4, 3, *axes(ns, k), dtype=torch.float64)
    rng = np.random.default_rng(0)
    Gn = G.at(ns)
    moved = 0
    for _ in range(5):
        g = Gn.sample(rng)
        gx = torch.as_tensor(Gn.act(g, x.numpy(), k))
        gy = torch.as_tensor(Gn.act(g, layer(x).detach().numpy(), l))
        assert torch.allclose(layer(gx), gy, atol=1e-10)
        moved += not torch.allclose(gx, x)
    assert moved    # the elements are not all the identity


def test_layer_matches_the_dense_matrix_and_passes_gradcheck():
    G = catnn.group("S x Aut", graph=cycle(5))
    layer = EquivariantLinear(G, (1, 1), (1, 1), 2, 3).double()
    with torch.no_grad():
        layer.bias.normal_()
    x = torch.randn(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    Gn = G.at((4, 5))
    assert_equals_dense(layer, Gn, x)
    assert torch.autograd.gradcheck(lambda x, w: EquivariantLinear.forward(layer, x), (x, layer.weight))


def test_two_graphs_of_one_size_get_their_own_plans():
    """C_4 and P_4 both have 4 vertices (and equal text in the group's name): their layers differ."""
    ring, line = catnn.group("S x Aut", graph=cycle(4)), catnn.group("S x Aut", graph=path(4))
    k = l = (0, 1)
    x = torch.randn(1, 1, 4, dtype=torch.float64)
    ys = []
    for G in (ring, line):
        diagrams = G.spanning_set(k, l)
        fn = emit(build_plan(G, k, l, diagrams), "layer", "torch").plan_function
        w = torch.ones(len(diagrams), 1, 1, dtype=torch.float64)
        ys.append(fn((x,), (w,), (None,), (1,), n=(2, 4))[0])
        want = torch.einsum("dpq,bq->bp", dense(G.at((2, 4)), diagrams), x.reshape(1, -1))
        assert torch.allclose(ys[-1].reshape(want.shape), want, atol=1e-12)
    assert not torch.allclose(ys[0], ys[1])


def test_plans_never_hold_the_full_product_size():
    """S(256) x Aut(C_32) at (1, 1) -> (1, 1): the largest tensor is the stacked features of one mix
    (a core per diagram, batch x channels x n_0 x n_1 each), far below the product size (n_0 n_1)^2."""
    G = catnn.group("S x Aut", graph=cycle(32))
    diagrams = G.spanning_set((1, 1), (1, 1))
    plan = build_plan(G, (1, 1), (1, 1), diagrams)
    n, b, c = (256, 32), 8, 16
    largest = plan.largest_intermediate(n, batch=b, in_channels=c, out_channels=c)
    assert largest <= len(diagrams) * b * c * 256 * 32 < (256 * 32) ** 2


PROGRAM = """\
graph G = cycle(5)
group S x Aut(G)
layer q : (1, 1) -> (1, 1)
layer up : (1, 0) -> (1, 2)
"""


@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_the_language_layers_and_their_compiled_module_agree(backend, tmp_path):
    """``group S x Aut(G)``: each compiled layer equals the dense matrices of the diagrams it prints,
    and the in-memory layer with the compiled one's state_dict gives the same outputs."""
    prog = catnn.compile(PROGRAM)
    text = write_module(prog, backend)
    assert "import numpy" not in text and "import catnn" not in text
    module = load_module(text, tmp_path, f"ring_{backend}")
    ns = (4, 5)
    Gn = prog.group.at(ns)
    torch.manual_seed(0)
    for definition in ("q", "up"):
        k = prog[definition].k
        compiled = getattr(module, definition)(3, 2).double()
        with torch.no_grad():
            for p in compiled.parameters():
                p.normal_()
        x = torch.randn(2, 3, *axes(ns, k), dtype=torch.float64)
        y = compiled(x, n=ns)
        entries = [catnn.diagram(t, Gn) for t in type(compiled).diagrams]
        biases = [catnn.diagram(t, Gn) for t in type(compiled).bias_diagrams]
        want = torch.einsum("dpq,doi,biq->bop", dense(Gn, entries), compiled.weight.detach(), x.reshape(2, 3, -1))
        want = want + torch.einsum("dp,do->op", dense(Gn, biases)[:, :, 0], compiled.bias.detach())[None]
        assert torch.allclose(y.reshape(want.shape), want, atol=1e-10), definition
        memory = getattr(prog.nn, definition)(3, 2, backend=backend).double()
        memory.load_state_dict(compiled.state_dict())
        assert torch.allclose(memory(x), y, atol=1e-10), definition


@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_mixed_layers_equal_the_dense_block_matrix(backend):
    """MixedLinear over S x Aut(C_5): one plan for every block (graph chains shared per input) equals
    the dense block matrix of the product's spanning sets."""
    from test_product_networks import block_matrix, flat, random_features

    from catnn.networks import MixedLinear
    G = catnn.group("S x Aut", graph=cycle(5))
    torch.manual_seed(0)
    layer = MixedLinear(G, "2*V(1,0) + V(1,1) + V(0,1)", "V(1,1) + 2*V(0,1) + V(0,0)", backend=backend).double()
    with torch.no_grad():
        for p in layer.bias.values():
            p.normal_()
    ns = (3, 5)
    x = random_features(layer.in_space, ns)
    M, b = block_matrix(layer, ns)
    want = flat(x, layer.in_space) @ M.T + b
    assert torch.allclose(flat(layer(x), layer.out_space), want, atol=1e-10)


def test_the_docs_example_runs():
    import re
    from pathlib import Path
    text = (Path(__file__).parent.parent / "docs" / "products.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if '"S x Aut"' in b)
    scope: dict = {}
    exec(compile(block, "docs/products.md", "exec"), scope)
    assert scope["layer"](torch.randn(2, 4, 10, 5)).shape == (2, 8, 10, 5)


@pytest.mark.parametrize("name,graph,ns,k,l", [("S x Aut", cycle(5), (4, 5), (1, 1), (1, 1)),
                                               ("Aut x S", path(4), (4, 3), (2, 0), (1, 1))])
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_normalize_is_each_factors_own_normalize(name, graph, ns, k, l, backend):
    """The product's normalized layer is Σ_d w_d ⊗_s N_s(d_s), N_s the factor's own normalized layer
    (Aut(G): divided by n per graph vertex summed out of x, tested in test_aut_compile.py)."""
    from test_product_networks import normalized_product_output
    G = catnn.group(name, graph=graph)
    layer = EquivariantLinear(G, k, l, 1, 1, normalize=True, bias=False, n=ns, backend=backend).double()
    x = torch.randn(1, 1, *axes(ns, k), dtype=torch.float64)
    want = normalized_product_output(layer, G, ns, k, l, x)
    assert np.abs(want).max() > 1e-3
    np.testing.assert_allclose(layer(x).detach().flatten().numpy(), want, atol=1e-12)
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x, w: EquivariantLinear.forward(layer, x), (x, layer.weight))


def test_a_masked_network_gives_each_padded_sample_its_own_result():
    """Points (S, padded per sample) each carrying a signal on C_5: gate, mean over the points, and a
    layer to a ring signal (one output order: a tensor); each sample's output equals running it alone,
    and the network commutes with random elements of the product."""
    from catnn.networks import Gate, MixedLinear, Network, Pool
    G = catnn.group("S x Aut", graph=cycle(5))
    h = "4*V(1,0) + 2*V(1,1)"
    torch.manual_seed(0)
    net = Network(G, [MixedLinear(G, "V(1,1)", h), Gate(G, h), MixedLinear(G, h, h), Pool("mean", sort=0),
                      MixedLinear(G, "4*V(0,0) + 2*V(0,1)", "V(0,1)")]).double()
    x = {(1, 1): torch.randn(3, 1, 7, 5, dtype=torch.float64)}
    sizes = (7, 4, 2)
    out = net(x, mask={0: torch.arange(7)[None] < torch.tensor(sizes)[:, None]})
    for i, m in enumerate(sizes):
        alone = net({(1, 1): x[(1, 1)][i:i + 1, :, :m]})
        assert torch.allclose(out[i:i + 1], alone, atol=1e-10)
    Gn, rng = G.at((7, 5)), np.random.default_rng(3)
    y = net(x)
    for _ in range(3):
        g = Gn.sample(rng)
        gx = torch.as_tensor(Gn.act(g, x[(1, 1)].numpy(), (1, 1)))
        assert torch.allclose(net({(1, 1): gx}), torch.as_tensor(Gn.act(g, y.detach().numpy(), (0, 1))),
                              atol=1e-10)
