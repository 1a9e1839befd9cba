"""Mixed-order feature spaces: the notation, its algebra, and layers between them (one plan per layer)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.plan import build_mixed_plan
from catnn.compiler.plan import build_plan
from catnn.errors import CatnnError, CheckError, CompileError
from catnn.features import FeatureSpace, FeatureSpaceError, V, space
from catnn.networks import MixedLinear
from oracle_layers import dense_layer, kron_apply


# -- the notation -----------------------------------------------------------------------------------
def random_space(rng: np.random.Generator) -> FeatureSpace:
    orders = rng.choice(6, size=rng.integers(1, 4), replace=False)
    return FeatureSpace({int(k): int(rng.integers(1, 20)) for k in orders})


def test_text_round_trips_and_reads_every_spelling():
    rng = np.random.default_rng(0)
    for _ in range(50):
        s = random_space(rng)
        assert space(str(s)) == s and eval(repr(s), {"space": space}) == s
    assert space("10*V0 + 5*V1 + 2*V2") == FeatureSpace({0: 10, 1: 5, 2: 2}) == 10 * V**0 + 5 * V + 2 * V**2
    assert space(" 3 * V ** 2 + V^1 +V") == FeatureSpace({2: 3, 1: 2})       # repeated orders add up
    assert space("0") == FeatureSpace({}) and str(FeatureSpace({})) == "0"
    assert space(3) == FeatureSpace({3: 1}) and space({1: 4}) == FeatureSpace({1: 4})


@pytest.mark.parametrize("text", ["", "3*W1", "V1 +", "2*V1*V2", "0*V1", "-1*V1", "V1.5", "3V1"])
def test_unreadable_spaces_are_refused_with_the_notation_in_the_message(text):
    with pytest.raises(FeatureSpaceError, match="write it like 10\\*V0 \\+ 5\\*V1"):
        space(text)


@pytest.mark.parametrize("bad", [{-1: 2}, {1: 0}, {1: -3}, {1.5: 2}, {True: 1}, {1: 2.0}])
def test_orders_and_channels_are_whole_numbers(bad):
    with pytest.raises(CatnnError):
        FeatureSpace(bad)


def test_direct_sum_and_tensor_product_laws():
    rng = np.random.default_rng(1)
    for _ in range(30):
        a, b, c = (random_space(rng) for _ in range(3))
        assert a + b == b + a and (a + b) + c == a + (b + c)
        assert (a @ b) @ c == a @ (b @ c)
        assert a @ (b + c) == a @ b + a @ c                      # ⊗ distributes over ⊕
        for n in (2, 3):
            assert (a + b).dim(n) == a.dim(n) + b.dim(n)
            assert (a @ b).dim(n) == a.dim(n) * b.dim(n)          # dimensions multiply
        assert (a * 3).total == 3 * a.total and (a**2) == a @ a
    assert V**0 == FeatureSpace({0: 1}) and (V + V**0) @ V == space("V1 + V2")


def test_spaces_are_values():
    s = space("2*V0 + 3*V2")
    assert pickle.loads(pickle.dumps(s)) == s and copy.deepcopy(s) == s
    assert len({s, space("3*V2 + 2*V0"), space("2*V0")}) == 2
    assert s.orders == (0, 2) and s[2] == 3 and s[1] == 0 and 1 not in s and list(s) == [0, 2]
    assert s.with_channels(4) == space("4*V0 + 4*V2") and not s.is_single and space("V3").is_single
    with pytest.raises(AttributeError):
        s.x = 1


# -- layers between feature spaces ------------------------------------------------------------------
def dense_mixed(G, layer, xs):
    """Σ over blocks of the dense layer oracle (matrices from G.matrix), plus each output's bias."""
    outs = {}
    for b in layer.plan.blocks:
        k, l = layer.in_space.orders[b.input], layer.out_space.orders[b.output]
        w = layer.weight[layer.key(b)].detach().numpy()
        y = dense_layer(G, k, l, b.diagrams, w, xs[k])
        outs[l] = outs.get(l, 0) + y
    for j, sec in enumerate(layer.plan.sections):
        l = sec.order
        if sec.bias_diagrams:
            B = next(iter(xs.values())).shape[0]
            zero = np.zeros((B, 1))
            y = dense_layer(G, 0, l, (), np.zeros((0, layer.out_space[l], 1)), zero, sec.bias_diagrams,
                            layer.bias[str(l)].detach().numpy())
            outs[l] = outs.get(l, 0) + y
    return outs


@pytest.mark.parametrize("name,n,ins,outs", [
    ("S", 3, "2*V0 + 3*V1 + 2*V2", "3*V0 + 2*V1 + 2*V2"),
    ("O", 3, "2*V1 + 3*V2", "2*V0 + 3*V1 + 1*V2 + 1*V3"),
    ("SO", 3, "2*V1 + 1*V2", "1*V0 + 2*V1 + 2*V2"),
    ("Sp", 4, "2*V1 + 2*V2", "3*V0 + 2*V2"),
    ("A", 4, "1*V0 + 2*V1", "2*V1 + 1*V2"),
])
@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_mixed_layer_equals_the_dense_oracle_block_by_block(name, n, ins, outs, backend):
    G = catnn.group(name, n=n)
    layer = MixedLinear(G, ins, outs, backend=backend).double()
    with torch.no_grad():
        for p in layer.bias.values():
            p.normal_()
    rng = np.random.default_rng(2)
    xs = {k: rng.standard_normal((2, c) + (n,) * k) for k, c in layer.in_space.items()}
    got = layer({k: torch.from_numpy(x) for k, x in xs.items()})
    expected = dense_mixed(G, layer, xs)
    for l in layer.out_space.orders:
        np.testing.assert_allclose(got[l].detach().numpy(), expected.get(l, 0), atol=1e-10)


def bottom_half(d):
    """What a diagram does to its input, from the definition: its input blocks, each kept or summed."""
    return frozenset((tuple(sorted(v - d.l for v in b if v > d.l)), any(v <= d.l for v in b))
                     for b in d.blocks if any(v > d.l for v in b))


def test_one_plan_shares_the_cores_of_an_input_order_across_output_orders():
    G = catnn.group("S")
    ins, outs = (1, 2), (0, 1, 2)
    plan = build_mixed_plan(G, ins, outs)
    for i, k in enumerate(ins):
        halves = [{bottom_half(d) for d in G.spanning_set(k, l)} for l in outs]
        assert [len(build_plan(G, k, l, G.spanning_set(k, l)).cores) for l in outs] == [len(h) for h in halves]
        # one core per distinct bottom half over all output orders: the union, not the sum
        assert len(plan.input_cores(i)) == len(set().union(*halves)) < sum(len(h) for h in halves)
        readers = {plan.outputs[b.output] for b in plan.blocks if b.input == i}
        assert readers == set(outs)
    # different input orders writing one output pattern are mixed in one matmul
    for j, section in enumerate(plan.sections):
        cross = [g for g in section.groups if len({plan.core_input(c) for c, _ in g.features}) > 1]
        assert cross, f"output {outs[j]}: no matmul mixes both input orders"
    assert "shared by output orders [0, 1, 2]" in plan.explain()


def test_mixed_layer_api_shapes_init_and_persistence():
    layer = MixedLinear("S", "4*V0 + 2*V2", "3*V1 + 5*V2").double()
    assert sorted(layer.weight) == ["0_1", "0_2", "2_1", "2_2"] and sorted(layer.bias) == ["1", "2"]
    assert layer.weight["2_2"].shape == (15, 5, 2) and layer.bias["2"].shape == (2, 5)
    x = {0: torch.randn(3, 4, dtype=torch.float64), 2: torch.randn(3, 2, 6, 6, dtype=torch.float64)}
    y = layer(x)
    assert y[1].shape == (3, 3, 6) and y[2].shape == (3, 5, 6, 6)
    for twin in (pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer)):
        torch.testing.assert_close(twin(x)[2], y[2], rtol=0, atol=0)
    single = MixedLinear("S", "2*V2", "3*V2")(torch.randn(1, 2, 5, 5))
    assert isinstance(single, torch.Tensor) and single.shape == (1, 3, 5, 5)
    assert "def mixed_layer__plan(xs, weights" in layer.source


def test_mixed_layer_initialisation_keeps_the_output_variance():
    torch.manual_seed(0)
    n = 24
    layer = MixedLinear("S", "16*V1 + 16*V2", "16*V1", init_n=n)
    x = {1: torch.randn(64, 16, n), 2: torch.randn(64, 16, n, n)}
    with torch.no_grad():
        var = layer(x).var().item()
    assert 0.6 < var < 1.8          # ≈ 1 (positions on no diagonal dominate; see catnn.nn)


def test_mixed_layer_errors():
    with pytest.raises(CompileError, match="O\\(n\\) has no equivariant maps between 1\\*V1 and 1\\*V0"):
        MixedLinear("O", "V1", "V0", bias=False)
    layer = MixedLinear("S", "2*V0 + 2*V1", "V1")
    with pytest.raises(CatnnError, match="expects features 2\\*V0 \\+ 2\\*V1, got 2\\*V1"):
        layer({1: torch.randn(1, 2, 3)})
    with pytest.raises(CatnnError, match="unknown backend"):
        MixedLinear("S", "V1", "V1", backend="jax")


def test_equivariance_of_a_mixed_layer_under_random_elements():
    n = 3
    G = catnn.group("SO", n=n)
    layer = MixedLinear(G, "2*V0 + 2*V1 + 1*V2", "2*V0 + 2*V1 + 2*V2").double()
    rng = np.random.default_rng(4)
    x = {k: rng.standard_normal((2, c) + (n,) * k) for k, c in layer.in_space.items()}
    y = layer({k: torch.from_numpy(t) for k, t in x.items()})
    for _ in range(3):
        g = G.sample(rng)
        gy = layer({k: torch.from_numpy(kron_apply(g, t)) for k, t in x.items()})
        for k, t in y.items():
            np.testing.assert_allclose(gy[k].detach().numpy(), kron_apply(g, t.detach().numpy()), atol=1e-10)


# -- the language ----------------------------------------------------------------------------------------
def test_mixed_layers_in_the_language():
    prog = catnn.compile("layer mix : V0 + V**2 -> V1 + V2\nlayer down : V1 + V2 -> 2\n"
                         "network f : V0 + V2 -> 2 = mix[4*V0 + 2*V2 -> 3*V1 + 5*V2] >> relu >> down[3*V1 + 5*V2 -> 2]")
    assert prog.mix.in_orders == (0, 2) and prog.mix.out_orders == (1, 2)
    stages = prog.f.stages
    assert stages[0].in_space == space("4*V0 + 2*V2") and stages[0].out_space == space("3*V1 + 5*V2")
    assert stages[1].in_space == space("3*V1 + 5*V2") and stages[2].out_space == space("2*V2")
    assert prog.summary()[0] == "layer    mix  : V0 + V2 -> V1 + V2  (full spanning set per block)"


@pytest.mark.parametrize("source,message,caret", [
    ("layer m : 4*V0 -> V1", "a layer declares orders only", "4*V0"),
    ("layer m : V0 -> 1 @ 1", "a tensor product a @ b can only be the input", "1 @ 1"),
    ("layer m : V0 + W2 -> V1", "expected V, V<order> or V**<order>", "W2"),
    ("layer m : 2/V0 -> V1", "write channels times a tensor power as 4*V2", "/"),
    ("layer m : V0 + V1 -> V1 = learn(id(1))", "learn(...) is for single-order layers", "id(1)"),
    ("layer m : V0 + V1 -> V1\nnetwork f : V0 + V1 -> 1 = m[2*V0 + 3*V2 -> 1*V1]",
     "the widths of 'm' must cover its orders V0 + V1, got 2*V0 + 3*V2", "2*V0 + 3*V2"),
    ("layer m : V0 + V1 -> V1\nnetwork f : V0 + V1 -> 1 = m[2*V0 + V1 -> 1*V1]",
     "give every order its channel count here, e.g. 4*V1", "V1"),
    ("layer m : V0 + V1 -> V1\nlayer e : 2 -> 2\nnetwork f : V0 + V1 -> 2 = m[2 -> 3] >> e[3 -> 3]",
     "cannot compose: 'm' has 1 outputs but 'e' expects 2 inputs", "m[2 -> 3] >> e[3 -> 3]"),
    ("layer m : V0 + V1 -> V0 + V1\nnetwork f : V0 + V1 -> V0 + V1 = m[2 -> 3] >> m[2 -> 3]",
     "'m' expects features 2*V0 + 2*V1, got 3*V0 + 3*V1", "m[2 -> 3] >> m[2 -> 3]"),
    ("layer m : V0 + V1 -> V1\nnetwork f : V1 -> 1 = m[2 -> 3]",
     "network 'f' takes V1 but its first layer 'm' expects 2*V0 + 2*V1", "m[2 -> 3]"),
    ("layer m : V0 + V1 -> V1\nnetwork f : V0 + V1 -> V0 + V1 = m[2 -> 3]",
     "network 'f' is declared to give V0 + V1 but its stages give 3*V1", "m[2 -> 3]"),
    ("group O\nlayer m : V1 + V3 -> V0 + V2", "O(n) has no equivariant maps between V1 + V3 and V0 + V2",
     ": V1 + V3 -> V0 + V2"),
])
def test_feature_space_errors_point_at_their_place(source, message, caret):
    with pytest.raises(CatnnError) as info:
        catnn.compile(source, "f.diag")
    text = str(info.value)
    assert message in text, text
    line, marks = text.splitlines()[1:3]
    start = marks.index("^")
    assert line[start:start + len(caret)] == caret, text
    assert isinstance(info.value, CheckError) or "ParseError" in type(info.value).__name__
