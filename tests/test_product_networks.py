"""Typed feature spaces, mixed layers, networks, pooling and masks over products of groups.

Oracles: ``G.matrix`` (the kron of the factors' own dense matrices, checked in test_product_groups.py)
assembled into the block matrix of a whole mixed layer; per-block EquivariantLinear layers; ``G.act``
of sampled product elements (permutations and O(3) elements with reflections); each padded sample
run alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.plan import axis_sorts
from catnn.errors import CompileError, ShapeError
from catnn.features import FeatureSpace, FeatureSpaceError, space
from catnn.groups.orthogonal import random_orthogonal
from catnn.networks import Bilinear, Gate, MixedLinear, Network, NormNonlinearity, Pointwise, Pool
from catnn.nn import EquivariantLinear

#: the weights and biases of an MLP 1 -> h1 -> h2 -> 1 under S_h1 x S_h2: W1, b1 | W2 | b2, W3 | b3
MLP = "2*V(1,0) + V(1,1) + 2*V(0,1) + V(0,0)"
MIXED = [("S x S", MLP, MLP, (4, 3)),
         ("S x O(3)", "2*V(1,0) + V(1,1) + V(0,0)", "V(1,1) + 2*V(0,1) + V(2,0)", (4, 3)),
         ("O x S", "V(1,1) + 2*V(0,2)", "3*V(1,0) + V(2,1)", (3, 2)),
         ("S x S x S", "V(1,0,1) + V(0,1,0)", "2*V(0,1,1) + V(1,0,0)", (2, 3, 2))]


def random_features(sp: FeatureSpace, ns: tuple[int, ...], batch: int = 3, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(batch, c, *(ns[s] for s in range(len(ns)) for _ in range(k[s])), generator=gen,
                           dtype=torch.float64) for k, c in sp.items()}


def dense_stack(Gn, diagrams) -> torch.Tensor:
    return torch.tensor(np.stack([np.asarray(Gn.matrix(d), dtype=float) for d in diagrams]))


def block_matrix(layer: MixedLinear, ns: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole layer as one dense matrix (rows: outputs, channel-major; columns: inputs) and its bias."""
    G = layer.group.at(ns)
    ins, outs = layer.in_space, layer.out_space
    rows = [torch.zeros(c * FeatureSpace({l: 1}).dim(ns), ins.dim(ns), dtype=torch.float64) for l, c in outs.items()]
    bias = [torch.zeros(c * FeatureSpace({l: 1}).dim(ns), dtype=torch.float64) for l, c in outs.items()]
    starts = np.cumsum([0] + [c * FeatureSpace({k: 1}).dim(ns) for k, c in ins.items()])
    for i, (k, c) in enumerate(ins.items()):
        for j, (l, d) in enumerate(outs.items()):
            diagrams = layer.group.spanning_set(k, l)
            key = f"{','.join(map(str, k))}_{','.join(map(str, l))}"
            if not diagrams:
                assert key not in layer.weight
                continue
            w = layer.weight[key].detach().double()
            block = torch.einsum("dpq,doi->opiq", dense_stack(G, diagrams), w)
            rows[j][:, starts[i]:starts[i + 1]] += block.reshape(rows[j].shape[0], -1)
    for j, (l, d) in enumerate(outs.items()):
        key = ",".join(map(str, l))
        if key in layer.bias:
            cols = dense_stack(G, layer.group.spanning_set((0,) * len(ns), l))[:, :, 0]
            bias[j] = torch.einsum("dp,do->op", cols, layer.bias[key].detach().double()).reshape(-1)
    return torch.cat(rows), torch.cat(bias)


def flat(feats: dict, sp: FeatureSpace) -> torch.Tensor:
    return torch.cat([feats[k].reshape(feats[k].shape[0], -1) for k in sp.orders], 1)


# -- typed feature spaces -----------------------------------------------------------------------------
def test_typed_spaces_read_print_and_multiply():
    s = space(MLP)
    assert s.orders == ((0, 0), (0, 1), (1, 0), (1, 1)) and s.sorts == 2 and space(str(s)) == s
    assert s.dim((5, 7)) == 1 + 2 * 7 + 2 * 5 + 35
    a, b = space("V(1,0) + 2*V(0,1)"), space("3*V(1,1)")
    assert (a @ b).dim((3, 4)) == a.dim((3, 4)) * b.dim((3, 4)) and (a @ b)[(2, 1)] == 3
    assert FeatureSpace({(1, 0): 2}) ** 0 == space("V(0,0)")
    with pytest.raises(FeatureSpaceError, match="one length"):
        space("V(1,0) + V(1,0,0)")
    with pytest.raises(FeatureSpaceError, match="one length"):
        space("V(1,0) + V1")
    with pytest.raises(FeatureSpaceError):
        FeatureSpace({(1, -1): 2})


# -- mixed layers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name,ins,outs,ns", MIXED)
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_mixed_layers_equal_the_dense_block_matrix(name, ins, outs, ns, backend):
    torch.manual_seed(0)
    layer = MixedLinear(name, ins, outs, backend=backend).double()
    with torch.no_grad():
        for p in layer.bias.values():
            p.normal_()
    x = random_features(layer.in_space, ns)
    y = layer(x)
    y = y if isinstance(y, dict) else {layer.out_space.orders[0]: y}
    M, b = block_matrix(layer, ns)
    assert M.abs().sum() > 0 and len(layer.plan.blocks) > 1
    want = flat(x, layer.in_space) @ M.T + b
    assert torch.allclose(flat(y, layer.out_space), want, atol=1e-10)


@pytest.mark.parametrize("name,ins,outs,ns", MIXED[:2])
def test_mixed_layers_equal_the_sum_of_per_block_layers(name, ins, outs, ns):
    """One plan for all blocks == Σ_i EquivariantLinear(k_i -> l_j) with the same weights (bias once)."""
    layer = MixedLinear(name, ins, outs).double()
    with torch.no_grad():
        for p in layer.bias.values():
            p.normal_()
    x = random_features(layer.in_space, ns)
    y = layer(x)
    for l, d in layer.out_space.items():
        want = torch.zeros_like(y[l])
        for idx, (k, c) in enumerate(layer.in_space.items()):
            key = f"{','.join(map(str, k))}_{','.join(map(str, l))}"
            if key not in layer.weight:
                continue
            single = EquivariantLinear(name, k, l, c, d, bias=False, n=ns).double()
            with torch.no_grad():
                single.weight.copy_(layer.weight[key])
            want += single(x[k])
        bias_key = ",".join(map(str, l))
        if bias_key in layer.bias:
            zero = (0,) * len(ns)
            only_bias = EquivariantLinear(name, zero, l, 1, d, n=ns).double()
            with torch.no_grad():
                only_bias.weight.zero_()
                only_bias.bias.copy_(layer.bias[bias_key])
            want += only_bias(torch.zeros(x[k].shape[0], 1, dtype=torch.float64))
        assert torch.allclose(y[l], want, atol=1e-10), l


def test_mixed_layers_pass_gradcheck_through_the_generated_backward():
    layer = MixedLinear("S x O(3)", "V(1,0) + V(1,1)", "V(1,1) + V(0,0)").double()
    x = random_features(layer.in_space, (3, 3), batch=2)
    names = [name for name, _ in layer.named_parameters()]
    params = [p.detach().clone().normal_().requires_grad_() for _, p in layer.named_parameters()]

    def run(a, b, *values):
        out = torch.func.functional_call(layer, dict(zip(names, values)), ({(1, 0): a, (1, 1): b},))
        return tuple(out[k] for k in layer.out_space.orders)

    inputs = (x[(1, 0)].requires_grad_(), x[(1, 1)].requires_grad_(), *params)
    assert "Function.apply" in layer.source or "__Function" in layer.source
    assert torch.autograd.gradcheck(run, inputs)


def test_mixed_layer_errors_name_the_typed_space():
    with pytest.raises(CompileError, match=r"typed orders, one entry per sort \(2 here\)"):
        MixedLinear("S x O(3)", "2*V1", "V(1,1)")
    with pytest.raises(CompileError, match="normalize=True over S.* x Sp.*meets a constant"):
        MixedLinear("S x Sp", "V(1,2)", "V(1,0)", normalize=True)
    layer = MixedLinear("S x O(3)", "V(1,0) + V(1,1)", "V(1,1)")
    with pytest.raises(ShapeError, match="expects features"):
        layer({(1, 0): torch.randn(2, 1, 4), (1, 1): torch.randn(2, 2, 4, 3)})
    with pytest.raises(ShapeError, match="sort 0 must all have one size"):
        layer({(1, 0): torch.randn(2, 1, 4), (1, 1): torch.randn(2, 1, 5, 3)})
    with pytest.raises(ShapeError, match=r"sort 1 must all have one size \(fixed at 3\)"):
        layer({(1, 0): torch.randn(2, 1, 4), (1, 1): torch.randn(2, 1, 4, 2)})
    assert MixedLinear("S x S", "V(1,0)", "V(0,1)")(torch.randn(2, 1, 4), n=(None, 6)).shape == (2, 1, 6)
    with pytest.raises(ShapeError, match="no input axis of sort 1"):
        MixedLinear("S x S", "V(1,0)", "V(0,1)")(torch.randn(2, 1, 4))


# -- networks over products ---------------------------------------------------------------------------


def act(G, g, feats: dict) -> dict:
    return {k: torch.as_tensor(G.act(g, t.detach().numpy(), k)) for k, t in feats.items()}


def as_dict(y, sp: FeatureSpace) -> dict:
    return y if isinstance(y, dict) else {sp.orders[0]: y}


def elements(Gn, count: int, seed: int = 0) -> list:
    """Random elements; every O(3) factor drawn once as a reflection (det -1) and once as a rotation."""
    rng = np.random.default_rng(seed)
    out = [Gn.sample(rng) for _ in range(count)]
    for det in (-1, 1):
        out.append(tuple(random_orthogonal(g.shape[0], rng, det) if f.name == "O" else g
                         for f, g in zip(Gn.factors, Gn.sample(rng))))
    return out


def point_cloud_net(pool: str = "mean") -> Network:
    """S_n x O(3): points with a scalar and coordinates -> per-point scalars and vectors -> invariants and a vector."""
    G = catnn.group("S x O(3)")
    h = "4*V(1,0) + 3*V(1,1) + 2*V(2,0)"
    return Network(G, [MixedLinear(G, "V(1,0) + V(1,1)", h), Gate(G, h), MixedLinear(G, h, h),
                       NormNonlinearity("norm_silu", G, h), MixedLinear(G, h, "2*V(1,0) + 2*V(1,1)"),
                       Pointwise("identity"), Pool(pool, sort=0), MixedLinear(G, "2*V(0,0) + 2*V(0,1)", "V(0,0) + V(0,1)")])


def mlp_space_net() -> Network:
    """S_h1 x S_h2 on the weights of an MLP: relu everywhere, pooled over the second hidden layer."""
    G = catnn.group("S x S")
    return Network(G, [MixedLinear(G, MLP, "4*V(1,0) + 4*V(1,1) + 4*V(0,1) + 2*V(0,0)"), Pointwise("relu"),
                       Pool("sum", sort=1), MixedLinear(G, "6*V(0,0) + 8*V(1,0)", "V(1,0) + V(0,0)")])


@pytest.mark.parametrize("make,ns", [(point_cloud_net, (6, 3)), (mlp_space_net, (5, 4))])
def test_networks_are_equivariant_under_random_product_elements(make, ns):
    torch.manual_seed(0)
    net = make().double()
    G = net.group.at(ns)
    x = random_features(net.in_space, ns, batch=2)
    y = as_dict(net(x), net.out_space)
    assert all(t.abs().max() > 1e-3 for t in y.values())
    for g in elements(G, 4):
        gy = as_dict(net(act(G, g, x)), net.out_space)
        want = act(G, g, y)
        for k in y:
            assert torch.allclose(gy[k], want[k], atol=1e-10), k


def test_the_refused_maps_really_break_a_sort():
    """The rule is not vacuous: relu on S_n x O(3) features of order (1, 1) (what check_typed_stage
    refuses) is not equivariant, while on (2, 0) (allowed) it is."""
    G = catnn.group("S x O(3)").at((4, 3))
    rng = np.random.default_rng(3)
    for k, ok in (((1, 1), False), ((2, 0), True)):
        x = {k: torch.randn(2, 3, *([4] * k[0] + [3] * k[1]), dtype=torch.float64)}
        g = (G.sample(rng)[0], random_orthogonal(3, rng, -1))
        same = torch.allclose(torch.relu(act(G, g, x)[k]), act(G, g, {k: torch.relu(x[k])})[k], atol=1e-10)
        assert same == ok
    with pytest.raises(CompileError, match=r"stage 1 \(relu\).*order \(1, 1\): it does not commute with O\(3\) on the 1 axes of sort 1"):
        Network("S x O(3)", [MixedLinear("S x O(3)", "V(1,0)", "V(2,0) + V(1,1)"), Pointwise("relu")])
    Network("S x O(3)", [MixedLinear("S x O(3)", "V(1,0)", "V(2,0)"), Pointwise("relu")])


def test_stages_that_break_one_sort_are_refused_with_the_stage_named():
    with pytest.raises(CompileError, match="Sp.*does not preserve the Euclidean norm"):
        NormNonlinearity("norm_relu", "S x Sp", "V(1,1)")
    NormNonlinearity("norm_relu", "S x Sp", "V(1,0)")          # no Sp axes: a norm per entry is fine
    with pytest.raises(CompileError, match=r"gates order \(1, 1\) by the channels of order \(1, 0\)"):
        Gate("S x O(3)", "V(0,0) + V(1,1)")
    with pytest.raises(CompileError, match="not O\\(3\\)-invariant"):
        Pool("sum", "S x O(3)", "V(1,1)", sort=1)
    Pool("sum", "S x O(3)", "V(1,1)", sort=0)
    with pytest.raises(CompileError, match=r"stage 2 \(sum\).*O\(3\)"):
        Network("S x O(3)", [MixedLinear("S x O(3)", "V(1,1)", "V(1,1)"), Pointwise("identity"), Pool("sum")])


# -- padded batches -----------------------------------------------------------------------------------
def pad(feats: dict, sizes: tuple[int, ...], ns: tuple[int | None, ...]) -> dict:
    """One sample's typed features zero-padded to sizes ns (None: the sort is not padded)."""
    out = {}
    for k, t in feats.items():
        widths = []
        for s in reversed(range(len(k))):
            for _ in range(k[s]):
                widths += [0, (ns[s] - sizes[s]) if ns[s] is not None else 0]
        out[k] = torch.nn.functional.pad(t, widths)
    return out


def padded_batch(net: Network, samples: list[tuple[int, ...]], padded: tuple[int | None, ...], seed: int = 0):
    """Samples of different sizes, each alone and padded into one batch with masks on the padded sorts."""
    alone = [random_features(net.in_space, ns, batch=1, seed=seed + i) for i, ns in enumerate(samples)]
    batch = {k: torch.cat([pad(a, ns, padded)[k] for a, ns in zip(alone, samples)]) for k in net.in_space.orders}
    masks = {s: torch.tensor([[j < ns[s] for j in range(padded[s])] for ns in samples])
             for s in range(len(padded)) if padded[s] is not None}
    return alone, batch, masks


@pytest.mark.parametrize("pool", ["sum", "mean"])
def test_padded_point_clouds_give_each_clouds_own_result(pool):
    torch.manual_seed(1)
    net = point_cloud_net(pool).double()
    samples = [(3, 3), (5, 3), (1, 3), (4, 3)]
    alone, batch, masks = padded_batch(net, samples, (5, None))
    y = as_dict(net(batch, mask=masks[0]), net.out_space)          # a bare (B, N) mask is sort 0's
    for i, (x, ns) in enumerate(zip(alone, samples)):
        want = as_dict(net(x), net.out_space)
        for k in want:
            assert torch.allclose(y[k][i:i + 1], want[k], atol=1e-10), (i, k)


def test_padded_mlp_weights_of_different_widths_on_both_sorts():
    """S_h1 x S_h2 with masks on both hidden layers: per-neuron outputs equal each MLP's own, and are
    zero on padded neurons."""
    torch.manual_seed(2)
    G = catnn.group("S x S")
    h = "3*V(1,0) + 2*V(1,1) + 3*V(0,1) + V(0,0)"
    net = Network(G, [MixedLinear(G, MLP, h), Pointwise("tanh"), MixedLinear(G, h, h), Pointwise("relu"),
                      MixedLinear(G, h, "V(1,0) + V(0,1)")]).double()
    samples = [(2, 3), (4, 1), (3, 3)]
    alone, batch, masks = padded_batch(net, samples, (4, 3), seed=5)
    y = net(batch, mask=masks)
    for i, (x, ns) in enumerate(zip(alone, samples)):
        want = net(x)
        assert torch.allclose(y[(1, 0)][i, :, :ns[0]], want[(1, 0)][0], atol=1e-10)
        assert torch.allclose(y[(0, 1)][i, :, :ns[1]], want[(0, 1)][0], atol=1e-10)
        assert not y[(1, 0)][i, :, ns[0]:].any() and not y[(0, 1)][i, :, ns[1]:].any()
    unmasked = net(batch)
    assert not torch.allclose(unmasked[(1, 0)][1, :, :4], y[(1, 0)][1, :, :4], atol=1e-6)   # the mask matters


def test_masks_are_refused_on_sorts_that_cannot_be_padded():
    net = point_cloud_net()
    x = random_features(net.in_space, (4, 3), batch=2)
    x = {k: t.float() for k, t in x.items()}
    with pytest.raises(ShapeError, match=r"sort 1 \(O\(3\)\) is fixed at n=3"):
        net(x, mask={1: torch.ones(2, 3, dtype=torch.bool)})
    with pytest.raises(ShapeError, match="a mask on sort 2"):
        net(x, mask={2: torch.ones(2, 3, dtype=torch.bool)})
    with pytest.raises(ShapeError, match="sort 0 must all have one size"):
        net(x, mask=torch.ones(2, 5, dtype=torch.bool))


def test_networks_over_products_pass_gradcheck():
    net = Network("S x O(3)", [MixedLinear("S x O(3)", "V(1,0) + V(1,1)", "2*V(1,0) + V(1,1)"),
                               Gate("S x O(3)", "2*V(1,0) + V(1,1)"), Pool("mean", sort=0),
                               MixedLinear("S x O(3)", "2*V(0,0) + V(0,1)", "V(0,1)")]).double()
    x = random_features(net.in_space, (3, 3), batch=2)
    mask = torch.tensor([[True, True, False], [True, True, True]])
    a, b = x[(1, 0)].requires_grad_(), x[(1, 1)].requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: net({(1, 0): a, (1, 1): b}, mask=mask), (a, b))


# -- normalize: means per sort ------------------------------------------------------------------------
@pytest.mark.parametrize("name,ns,k,l", [("S x S", (3, 4), (2, 1), (1, 1)), ("S x O(3)", (4, 3), (1, 2), (1, 0)),
                                         ("O x S x S", (2, 3, 2), (1, 1, 1), (1, 0, 1))])
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_normalize_divides_each_summed_block_by_its_own_sorts_size(name, ns, k, l, backend):
    """Oracle: Σ_d w_d M(d) / Π_s n_s^(bottom-only blocks of d's sort-s part)."""
    G = catnn.group(name)
    layer = EquivariantLinear(G, k, l, 2, 3, normalize=True, bias=False, backend=backend).double()
    x = torch.randn(2, 2, *(ns[s] for s in range(len(ns)) for _ in range(k[s])), dtype=torch.float64)
    scales = torch.tensor([1.0 / np.prod([n ** len(p.bottom_blocks()) for p, n in zip(d.parts, ns)])
                           for d in layer.diagrams], dtype=torch.float64)
    assert scales.min() < 1
    want = torch.einsum("dpq,d,doi,biq->bop", dense_stack(G.at(ns), layer.diagrams), scales, layer.weight,
                        x.reshape(2, 2, -1))
    assert torch.allclose(layer(x).reshape(want.shape), want, atol=1e-12)
    if backend == "torch":          # the generated backward (einsum runs through autograd)
        assert torch.autograd.gradcheck(lambda x: layer(x), (x.requires_grad_(),))


def normalized_factor_matrix(f, k: int, l: int, part, n: int) -> np.ndarray:
    """The dense matrix of factor f's own normalized layer with the one diagram ``part`` (weight 1)."""
    layer = EquivariantLinear(f, k, l, 1, 1, diagrams=[part], normalize=True, bias=False, n=n).double()
    with torch.no_grad():
        layer.weight.fill_(1.0)
    eye = torch.eye(n**k, dtype=torch.float64).reshape(n**k, 1, *([n] * k))
    return layer(eye).detach().reshape(n**k, -1).T.numpy()


def normalized_product_output(layer: EquivariantLinear, G, ns, k, l, x: torch.Tensor) -> np.ndarray:
    """Σ_d w_d (⊗_s N_s(d_s)) x, flattened, for a one-channel layer: each factor's own normalized matrix."""
    want = 0
    for d, w in zip(layer.diagrams, layer.weight.detach().flatten().tolist()):
        M = np.ones((1, 1))
        for f, part, n, a, b in zip(G.factors, d.parts, ns, k, l):
            M = np.kron(M, normalized_factor_matrix(f if f.n else catnn.group(f.name, n=n), a, b, part, n))
        want = want + w * (M @ x.flatten().numpy())
    return want


def test_normalize_over_products_is_each_factors_own_normalize():
    """S_n x SO(3) (ε-diagrams of sort 1): the product's normalized layer is Σ_d w_d ⊗_s N_s(d_s)."""
    G, ns, k, l = catnn.group("S x SO(3)"), (4, 3), (1, 2), (1, 1)
    layer = EquivariantLinear(G, k, l, 1, 1, normalize=True, bias=False).double()
    x = torch.randn(1, 1, 4, 3, 3, dtype=torch.float64)
    want = normalized_product_output(layer, G, ns, k, l, x)
    assert np.abs(want).max() > 1e-3
    np.testing.assert_allclose(layer(x).detach().flatten().numpy(), want, atol=1e-12)


def test_padded_means_per_sort_equal_each_sample_alone():
    G = catnn.group("S x S")
    net = Network(G, [MixedLinear(G, MLP, "2*V(1,0) + V(1,1) + V(0,0)", normalize=True), Pointwise("tanh"),
                      MixedLinear(G, "2*V(1,0) + V(1,1) + V(0,0)", "V(0,1) + V(0,0)", normalize=True)]).double()
    samples = [(2, 3), (4, 1), (3, 2)]
    alone, batch, masks = padded_batch(net, samples, (4, 3), seed=9)
    y = net(batch, mask=masks)
    for i, (x, ns) in enumerate(zip(alone, samples)):
        want = net(x)
        assert torch.allclose(y[(0, 0)][i], want[(0, 0)][0], atol=1e-10)
        assert torch.allclose(y[(0, 1)][i, :, :ns[1]], want[(0, 1)][0], atol=1e-10)


def test_a_single_product_layer_takes_masks_per_sort():
    layer = EquivariantLinear("S x S", (1, 1), (1, 1), 1, 2, normalize=True).double()
    with torch.no_grad():
        layer.bias.normal_()
    samples, padded = [(2, 3), (4, 1), (3, 2)], (4, 3)
    alone = [torch.randn(1, 1, *ns, dtype=torch.float64) for ns in samples]
    batch = torch.cat([torch.nn.functional.pad(x, (0, padded[1] - ns[1], 0, padded[0] - ns[0]))
                       for x, ns in zip(alone, samples)])
    masks = {s: torch.tensor([[j < ns[s] for j in range(padded[s])] for ns in samples]) for s in (0, 1)}
    y = layer(batch, mask=masks)
    for i, (x, ns) in enumerate(zip(alone, samples)):
        assert torch.allclose(y[i, :, :ns[0], :ns[1]], layer(x)[0], atol=1e-10)
        assert not y[i, :, ns[0]:].any() and not y[i, :, :, ns[1]:].any()


def test_the_docs_product_network_example_runs():
    import re
    from pathlib import Path
    text = (Path(__file__).parent.parent / "docs" / "products.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "mlp = space" in b)
    scope: dict = {}
    exec(compile(block, "docs/products.md", "exec"), scope)
    assert scope["y"][(1, 1)].shape == (8, 1, 16, 32) and scope["out"][(0, 1)].shape == (4, 1, 3)


# -- bilinear layers over products ------------------------------------------------------------------


@pytest.mark.parametrize("name,ns,a,b,l,channels", [("S x O(3)", (4, 3), (1, 1), (1, 1), (1, 0), "pair"),
                                                    ("S x O(3)", (4, 3), (1, 1), (0, 1), (1, 0), "outer"),
                                                    ("S x O(3)", (4, 3), (1, 1), (1, 1), (0, 2), "pair"),
                                                    ("S x S", (3, 2), (1, 1), (1, 0), (1, 1), "outer")])
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_bilinear_layers_equal_the_dense_matrix_on_x_tensor_y(name, ns, a, b, l, channels, backend):
    """Oracle: x ⊗ y formed densely, its axes put in sort-major order, times Σ_d w_d G.matrix(d)."""
    layer = Bilinear(name, a, b, l, 2 if channels == "pair" else (2, 3), 2, channels=channels, backend=backend).double()
    with torch.no_grad():
        layer.bias.normal_() if layer.bias is not None else None
    cx, cy = layer.in_channels
    x = torch.randn(2, cx, *(ns[s] for s in axis_sorts(a)), dtype=torch.float64)
    y = torch.randn(2, cy, *(ns[s] for s in axis_sorts(b)), dtype=torch.float64)
    if channels == "pair":
        xy = torch.einsum("bcp,bcq->bcpq", x.reshape(2, cx, -1), y.reshape(2, cy, -1))
    else:
        xy = torch.einsum("bcp,bdq->bcdpq", x.reshape(2, cx, -1), y.reshape(2, cy, -1)).reshape(2, cx * cy, -1, y[0, 0].numel())
    xy = xy.reshape(2, xy.shape[1], *x.shape[2:], *y.shape[2:])
    tags = sorted([(s, 0, i) for i, s in enumerate(axis_sorts(a))] + [(s, 1, sum(a) + i) for i, s in enumerate(axis_sorts(b))])
    xy = xy.permute(0, 1, *[2 + t[2] for t in tags]).reshape(2, xy.shape[1], -1)
    G = catnn.group(name).at(ns)
    want = torch.einsum("dpq,doi,biq->bop", dense_stack(G, layer.structure.entries), layer.weight, xy)
    if layer.bias is not None:
        want = want + torch.einsum("dp,do->op", dense_stack(G, layer.plan.bias_diagrams)[:, :, 0], layer.bias)[None]
    assert torch.allclose(layer(x, y).reshape(want.shape), want, atol=1e-10)


def test_dot_products_per_point_gate_vectors_in_an_equivariant_network():
    """S_n x O(3): a Bilinear (1,1) @ (1,1) -> (1,0) gives each point's dot products, which gate its vectors."""
    G = catnn.group("S x O(3)")
    net = Network(G, [MixedLinear(G, "V(1,1)", "3*V(1,1)"), Bilinear(G, (1, 1), (1, 1), (1, 0), 3, 4),
                      Pointwise("relu"), Pool("mean", sort=0), MixedLinear(G, "4*V(0,0)", "2*V(0,0)")]).double()
    x = torch.randn(2, 1, 5, 3, dtype=torch.float64)
    y = net(x)
    assert y.abs().max() > 1e-3
    Gn = G.at((5, 3))
    for g in elements(Gn, 3):
        assert torch.allclose(net(act(Gn, g, {(1, 1): x})[(1, 1)]), y, atol=1e-10)
    layer = net.stages[1]
    assert "einsum('bcij,bcij->bci'" in layer.source.replace('"', "'")       # per point: x ⊗ y never formed
    z = torch.randn(2, 3, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z: layer(z), (z,))
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    padded = layer(z, mask=mask)
    assert torch.allclose(padded[0, :, :2], layer(z[:1, :, :2])[0], atol=1e-10) and not padded[0, :, 2:].any()


def test_pool_sorts_are_checked_and_initialisation_keeps_the_variance():
    with pytest.raises(CompileError, match="over sort 2"):
        Pool("sum", "S x O(3)", "V(1,1)", sort=2)
    with pytest.raises(CompileError, match="over sort 0"):
        Pool("sum", "S", "V1", sort=0)
    torch.manual_seed(0)
    sp = space("16*V(1,0) + 16*V(1,1) + 16*V(0,1) + 16*V(0,0)")
    y = MixedLinear("S x S", sp, sp)({k: t.float() for k, t in random_features(sp, (16, 16), batch=8).items()})
    assert all(0.6 < t.std().item() < 1.5 for t in y.values())


def test_norms_and_gates_over_typed_features_need_the_group():
    for make in (lambda: Gate(None, "V(0,0) + V(1,1)"), lambda: NormNonlinearity("norm_relu", None, "V(1,1)")):
        with pytest.raises(CompileError, match="needs the product group at construction"):
            make()
    with pytest.raises(CompileError, match=r"stage 1 \(gate\) over typed features needs the product group"):
        Network("S x O(3)", [MixedLinear("S x O(3)", "V(1,0)", "V(1,0) + V(1,1)"), Gate(None, "V0 + V1")])


def test_a_free_orthogonal_sort_can_be_padded_too():
    """S x O (both sizes free), masks on both sorts: the O(n) sort's diagrams (and its cup bias) do not
    depend on n, so padded coordinates are as if absent."""
    torch.manual_seed(3)
    G = catnn.group("S x O")
    h = "2*V(1,0) + 2*V(0,2) + V(1,1) + 2*V(0,0)"
    net = Network(G, [MixedLinear(G, "V(1,1) + V(0,2)", h), Gate(G, h), MixedLinear(G, h, "V(1,1) + V(0,2)")])
    with torch.no_grad():
        for p in net.stages[0].bias.values():
            p.normal_()
    net = net.double()
    samples = [(3, 2), (2, 4), (4, 3)]
    alone, batch, masks = padded_batch(net, samples, (4, 4), seed=11)
    y = net(batch, mask=masks)
    for i, (x, ns) in enumerate(zip(alone, samples)):
        want = net(x)
        assert torch.allclose(y[(1, 1)][i, :, :ns[0], :ns[1]], want[(1, 1)][0], atol=1e-10)
        assert torch.allclose(y[(0, 2)][i, :, :ns[1], :ns[1]], want[(0, 2)][0], atol=1e-10)
        assert not y[(0, 2)][i, :, ns[1]:].any()
