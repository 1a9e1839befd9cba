"""Typed feature spaces, mixed-order layers and networks over products in the .diag language, and their
compiled standalone modules.

Oracles: the Python-API objects built directly (``MixedLinear``, ``Network`` of ``catnn.networks``,
given the same weights), dense block matrices assembled from ``G.matrix`` of the product's spanning
sets, and ``G.act`` of random elements of the product (O(3) reflections included) for equivariance,
all in float64. Compiled modules are written to disk and imported.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import catnn
from catnn.cli import main
from catnn.compiler.write import write_module
from catnn.errors import CheckError, ParseError
from catnn.features import FeatureSpace, space
from catnn.groups.orthogonal import random_orthogonal
from catnn.networks import Bilinear, Gate, MixedLinear, Network, NormNonlinearity, Pointwise, Pool
from catnn.nn import EquivariantLinear
from catnn.spec import LayerSpec, MixedLayerSpec
from test_product_language import load_module

MIXED = [
    ("points: S x space: O(3)", "V(1, 0) + V(points: 1, space: 1)", "V(1, 1) + V(0, 1) + V(2, 0)",
     "2*V(1,0) + 1*V(1,1)", "1*V(1,1) + 2*V(0,1) + 1*V(2,0)", (4, 3)),
    ("a: S x b: S", "V(1, 0) + V(1, 1) + V(0, 0)", "V(1, 1) + V(0, 1)",
     "1*V(0,0) + 2*V(1,0) + 1*V(1,1)", "2*V(0,1) + 1*V(1,1)", (3, 4)),
    ("p: S x q: Sp(2)", "V(1, 1) + V(0, 2)", "V(1, 1) + V(0, 0)", "2*V(0,2) + 1*V(1,1)", "1*V(0,0) + 2*V(1,1)", (3, 2)),
]

NETWORK = """
group points: S x space: O(3)
layer mix : V(1, 0) + V(1, 1) -> V(1, 0) + V(1, 1) + V(2, 0)
layer mid : V(1, 0) + V(1, 1) + V(2, 0) -> V(1, 0) + V(1, 1)
layer read : V(0, 0) + V(0, 1) -> V(0, 0) + V(0, 1)
network net : 1*V(1, 0) + 1*V(1, 1) -> 1*V(0, 0) + 1*V(0, 1) =
    mix[1 -> 4*V(1, 0) + 3*V(1, 1) + 2*V(2, 0)] >> gate
    >> mid[4*V(1, 0) + 3*V(1, 1) + 2*V(2, 0) -> 2] >> norm_silu >> mean(points) >> read[2 -> 1]
"""

SINGLE = """
group S x O(3)
layer f : (1, 1) -> (1, 1)
layer g : (1, 1) -> (0, 1)
network vecs : (1, 1) -> (0, 1) = f[1 -> 4] >> norm_relu >> f[4 -> 3] >> identity >> g[3 -> 2] >> norm_sigmoid
network pooled : (1, 1) -> (0, 1) = f[1 -> 4] >> norm_tanh >> f[4 -> 2] >> sum(0)
"""


def features(sp: FeatureSpace, ns: tuple[int, ...], batch: int = 2, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    return {k: torch.randn(batch, c, *(ns[s] for s in range(len(ns)) for _ in range(k[s])), generator=gen,
                           dtype=torch.float64) for k, c in sp.items()}


def as_dict(y, sp: FeatureSpace) -> dict:
    return y if isinstance(y, dict) else {sp.orders[0]: y}


def randomise(module: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype))


def dense_layer(G, Gn, layer, x: dict, ins: FeatureSpace, outs: FeatureSpace) -> dict:
    """Σ over blocks k -> l and diagrams d of weight[k_l][d] ⊗ G.matrix(d), plus the 0 -> l bias diagrams."""
    out = {}
    batch = next(iter(x.values())).shape[0]
    for l, d_out in outs.items():
        size = FeatureSpace({l: 1}).dim(Gn.ns)
        y = torch.zeros(batch, d_out, size, dtype=torch.float64)
        for k, _ in ins.items():
            key = f"{','.join(map(str, k))}_{','.join(map(str, l))}"
            diagrams = G.spanning_set(k, l)
            if not diagrams:
                assert key not in layer.weight
                continue
            mats = torch.tensor(np.stack([np.asarray(Gn.matrix(d), dtype=float) for d in diagrams]))
            flat = x[k].reshape(batch, x[k].shape[1], -1)
            y += torch.einsum("dpq,doi,biq->bop", mats, layer.weight[key].detach(), flat)
        key = ",".join(map(str, l))
        if key in layer.bias:
            cols = torch.tensor(np.stack([np.asarray(Gn.matrix(d), dtype=float)[:, 0]
                                          for d in G.spanning_set((0,) * len(Gn.ns), l)]))
            y += torch.einsum("dp,do->op", cols, layer.bias[key].detach())[None]
        out[l] = y.reshape(batch, d_out, *(Gn.ns[s] for s in range(len(l)) for _ in range(l[s])))
    return out


def elements(Gn, count: int, seed: int = 0) -> list:
    """Random elements of the product; each O(3) factor also once as a reflection, once as a rotation."""
    rng = np.random.default_rng(seed)
    out = [Gn.sample(rng) for _ in range(count)]
    for det in (-1, 1):
        out.append(tuple(random_orthogonal(g.shape[0], rng, det) if f.name == "O" else g
                         for f, g in zip(Gn.factors, Gn.sample(rng))))
    return out


def act(Gn, g, feats: dict) -> dict:
    return {k: torch.as_tensor(Gn.act(g, t.detach().numpy(), k)) for k, t in feats.items()}


# -- typed feature spaces and mixed layers ---------------------------------------------------------------
def test_typed_spaces_by_position_and_by_sort_name():
    prog = catnn.compile("group points: S x space: O(3)\n"
                         "layer m : V(points: 1) + V(1, 1) -> V(space: 1) + V(points: 1, space: 1)\n"
                         "layer one : V(points: 1, space: 1) -> V(1, 1)\n"
                         "layer same : (1, 1) -> (1, 1)")
    assert isinstance(prog.m, MixedLayerSpec)
    assert (prog.m.in_orders, prog.m.out_orders) == (((1, 0), (1, 1)), ((0, 1), (1, 1)))
    assert prog.m.k == "V(1,0) + V(1,1)" and space(prog.m.l).orders == prog.m.out_orders
    assert isinstance(prog.one, LayerSpec) and (prog.one.k, prog.one.l) == ((1, 1), (1, 1))
    assert prog.one == LayerSpec("one", prog.group, None, (1, 1), (1, 1), None, prog.one.span)


@pytest.mark.parametrize("group,ins,outs,cin,cout,ns", MIXED, ids=[m[0] for m in MIXED])
def test_mixed_layers_equal_python_the_dense_block_matrix_and_compiled(group, ins, outs, cin, cout, ns, tmp_path):
    prog = catnn.compile(f"group {group}\nlayer mix : {ins} -> {outs}")
    G = prog.group
    Gn = G.at(ns)
    cin, cout = space(cin), space(cout)
    memory = prog.nn.mix(cin, cout).double()
    direct = MixedLinear(G, cin, cout).double()
    randomise(memory, 3)
    direct.load_state_dict(memory.state_dict())
    module = load_module(write_module(prog), tmp_path, f"mix_{G.factors[1].name}")
    compiled = module.mix(dict(cin.items()), dict(cout.items())).double()
    compiled.load_state_dict(memory.state_dict())
    x = features(cin, ns)
    want = dense_layer(G, Gn, memory, x, cin, cout)
    for y in (memory(x), direct(x), compiled(x, n=ns)):
        y = as_dict(y, cout)
        assert set(y) == set(want)
        for k in want:
            assert torch.allclose(y[k], want[k], atol=1e-10), k
    assert max(t.abs().max() for t in want.values()) > 1e-2


def test_mixed_layers_are_equivariant_compiled(tmp_path):
    prog = catnn.compile("group S x O(3)\nlayer mix : V(1, 0) + V(1, 1) + V(2, 0) -> V(1, 1) + V(0, 1)")
    module = load_module(write_module(prog), tmp_path, "mix_equivariant")
    cin, cout = space("2*V(1,0) + 2*V(1,1) + 1*V(2,0)"), space("3*V(1,1) + 1*V(0,1)")
    layer = module.mix(dict(cin.items()), dict(cout.items())).double()
    randomise(layer, 5)
    Gn = prog.group.at((5, 3))
    x = features(cin, Gn.ns)
    y = layer(x)
    for g in elements(Gn, 3):
        gy, want = layer(act(Gn, g, x)), act(Gn, g, y)
        for k in want:
            assert torch.allclose(gy[k], want[k], atol=1e-10), k


# -- networks --------------------------------------------------------------------------------------------
def python_network(G) -> Network:
    """The NETWORK program, built directly with catnn.networks."""
    h = "4*V(1,0) + 3*V(1,1) + 2*V(2,0)"
    return Network(G, [MixedLinear(G, "V(1,0) + V(1,1)", h), Gate(G, h), MixedLinear(G, h, "2*V(1,0) + 2*V(1,1)"),
                       NormNonlinearity("norm_silu", G, "2*V(1,0) + 2*V(1,1)"), Pool("mean", sort=0),
                       MixedLinear(G, "2*V(0,0) + 2*V(0,1)", "V(0,0) + V(0,1)")])


@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_networks_equal_python_and_compiled_and_are_equivariant(backend, tmp_path):
    prog = catnn.compile(NETWORK)
    memory = prog.nn.net().double()
    randomise(memory, 7)
    direct = python_network(prog.group).double()
    direct.load_state_dict(memory.state_dict())
    compiled = load_module(write_module(prog, backend), tmp_path, f"net_{backend}").net().double()
    compiled.load_state_dict(memory.state_dict())
    Gn = prog.group.at((6, 3))
    x = features(memory.in_space, Gn.ns)
    y = memory(x)
    assert set(y) == {(0, 0), (0, 1)} and y[(0, 1)].shape == (2, 1, 3)
    for other in (direct(x), compiled(x)):
        for k in y:
            assert torch.allclose(other[k], y[k], atol=1e-10), k
    for g in elements(Gn, 3):
        gy, want = compiled(act(Gn, g, x)), act(Gn, g, y)
        for k in y:
            assert torch.allclose(gy[k], want[k], atol=1e-10), k


def test_padded_point_clouds_give_each_clouds_own_result_compiled(tmp_path):
    prog = catnn.compile(NETWORK)
    net = load_module(write_module(prog), tmp_path, "net_padded").net().double()
    randomise(net, 11)
    sizes, padded = (6, 3, 1), 6
    clouds = [features(space("V(1,0) + V(1,1)"), (m, 3), batch=1, seed=m) for m in sizes]
    alone = [net(c) for c in clouds]
    batch = {k: torch.cat([torch.nn.functional.pad(c[k], (0, 0) * k[1] + (0, padded - c[k].shape[2]))
                           for c in clouds]) for k in clouds[0]}
    mask = torch.arange(padded)[None] < torch.tensor(sizes)[:, None]
    together = net(batch, mask=mask)
    for i, y in enumerate(alone):
        for k in y:
            assert torch.allclose(together[k][i], y[k][0], atol=1e-10), (i, k)


def test_compiled_networks_refuse_masks_where_memory_does(tmp_path):
    """A mask on the fixed O(3) sort, or on a free Sp sort (its J depends on n), is refused by both."""
    for text, mask in [(NETWORK, {1: torch.ones(2, 3, dtype=torch.bool)}),
                       ("group S x Sp\nlayer f : V(1, 1) -> V(1, 1)\nnetwork net : (1, 1) -> (1, 1) = f[1 -> 1]",
                        {1: torch.ones(2, 4, dtype=torch.bool)})]:
        prog = catnn.compile(text)
        compiled = load_module(write_module(prog), tmp_path, f"masks_{len(text)}").net().double()
        memory = prog.nn.net().double()
        x = features(memory.in_space, (5, 3 if "O(3)" in text else 4))
        x = x if len(x) > 1 else next(iter(x.values()))
        with pytest.raises(catnn.errors.CatnnError):
            memory(x, mask=mask)
        with pytest.raises(ValueError, match="can be padded"):
            compiled(x, mask=mask)
        assert type(compiled).mask_sorts == (0,)


def test_networks_of_single_typed_layers_compile_and_equal_memory(tmp_path):
    prog = catnn.compile(SINGLE)
    module = load_module(write_module(prog), tmp_path, "single_typed")
    Gn = prog.group.at((5, 3))
    x = torch.randn(2, 1, 5, 3, dtype=torch.float64)
    for name in ("vecs", "pooled"):
        memory = getattr(prog.nn, name)().double()
        randomise(memory, 13)
        compiled = getattr(module, name)().double()
        compiled.load_state_dict(memory.state_dict())
        y = memory(x)
        assert y.shape == (2, 2, 3)
        assert torch.allclose(compiled(x), y, atol=1e-10), name
        for g in elements(Gn, 2):
            gy = compiled(act(Gn, g, {(1, 1): x})[(1, 1)])
            assert torch.allclose(gy, act(Gn, g, {(0, 1): y})[(0, 1)], atol=1e-10), name


def test_a_compiled_network_trains(tmp_path):
    prog = catnn.compile(NETWORK)
    torch.manual_seed(0)
    net = load_module(write_module(prog), tmp_path, "net_train").net().double()
    x = features(space("V(1,0) + V(1,1)"), (8, 3), batch=16)
    target = x[(1, 1)].mean(2)         # the centroid, an equivariant vector per cloud
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = (net(x)[(0, 1)] - target).pow(2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


# -- bilinear layers ---------------------------------------------------------------------------------------
BILINEAR = """
group points: S x space: O(3)
layer f : (1, 1) -> (1, 1)
layer dot : (1, 1) @ (1, 1) -> (1, 0)
layer pairs : outer((1, 1) @ (points: 1, space: 1)) -> (points: 1)
layer cross : (0, 1) @ (1, 1) -> (1, 0) =
    learn(({1, 1'} | {1', 2'}), n_points * ({1} {1'} | {1', 2'}) - ({1, 1'} | {1', 2'}))
layer g : (0, 0) -> (0, 0)
network norms : (1, 1) -> (0, 0) = f[1 -> 4] >> dot[4 -> 3] >> relu >> sum(points) >> g[3 -> 1]
network grams : (1, 1) -> (0, 0) = f[1 -> 3] >> pairs[3 -> 2] >> tanh >> mean(points) >> g[2 -> 1]
"""


@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_bilinear_layers_equal_python_and_compiled(backend, tmp_path):
    prog = catnn.compile(BILINEAR)
    module = load_module(write_module(prog, backend), tmp_path, f"bil_{backend}")
    G = prog.group
    ns = (5, 3)
    gen = torch.Generator().manual_seed(4)
    for name, a, b, l, mode in [("dot", (1, 1), (1, 1), (1, 0), "pair"), ("pairs", (1, 1), (1, 1), (1, 0), "outer"),
                                ("cross", (0, 1), (1, 1), (1, 0), "pair")]:
        spec = prog[name]
        memory = getattr(prog.nn, name)(3, 2).double()
        randomise(memory, 17)
        direct = Bilinear(G, a, b, l, 3, 2, channels=mode, diagrams=spec.diagrams).double()
        direct.load_state_dict(memory.state_dict())
        compiled = getattr(module, name)(3, 2).double()
        compiled.load_state_dict(memory.state_dict())
        x = torch.randn(2, 3, *(ns[s] for s in range(2) for _ in range(a[s])), generator=gen, dtype=torch.float64)
        y = torch.randn(2, 3, *(ns[s] for s in range(2) for _ in range(b[s])), generator=gen, dtype=torch.float64)
        want = memory(x, y)
        assert want.shape == (2, 2, 5) and want.abs().max() > 1e-3
        assert torch.allclose(direct(x, y), want, atol=1e-10), name
        assert torch.allclose(compiled(x, y), want, atol=1e-10), name
        for g in elements(G.at(ns), 2):
            gx, gy = act(G.at(ns), g, {a: x})[a], act(G.at(ns), g, {b: y})[b]
            assert torch.allclose(compiled(gx, gy), act(G.at(ns), g, {l: want})[l], atol=1e-10), name


def test_dot_product_networks_are_invariant_and_compiled_equals_memory(tmp_path):
    prog = catnn.compile(BILINEAR)
    module = load_module(write_module(prog), tmp_path, "bil_net")
    Gn = prog.group.at((6, 3))
    x = torch.randn(3, 1, 6, 3, dtype=torch.float64)
    mask = torch.arange(6)[None] < torch.tensor([[6], [4], [2]])
    for name in ("norms", "grams"):
        memory = getattr(prog.nn, name)().double()
        randomise(memory, 19)
        compiled = getattr(module, name)().double()
        compiled.load_state_dict(memory.state_dict())
        y = memory(x)
        assert y.shape == (3, 1) and torch.allclose(compiled(x), y, atol=1e-10)
        assert torch.allclose(compiled(x, mask=mask), memory(x, mask=mask), atol=1e-10)
        assert torch.allclose(compiled(x[1:2, :, :4], mask=None), compiled(x, mask=mask)[1:2], atol=1e-10)
        for g in elements(Gn, 3):
            assert torch.allclose(compiled(act(Gn, g, {(1, 1): x})[(1, 1)]), y, atol=1e-10), name


# -- errors ------------------------------------------------------------------------------------------------
HEAD = "group points: S x space: O(3)\nlayer f : (1, 1) -> (1, 1)\n"


@pytest.mark.parametrize("text,message,where", [
    (HEAD + "network net : (1, 1) -> (0, 1) = f[1 -> 2] >> sum(pionts)", "did you mean 'points'", (3, 47)),
    (HEAD + "network net : (1, 1) -> (0, 1) = f[1 -> 2] >> sum(2)", "has sorts 0..1", (3, 47)),
    (HEAD + "network net : (1, 1) -> (1, 1) = f[1 -> 2] >> norm_relu(points)", "only a pooling", (3, 47)),
    (HEAD + "network net : 1 -> 1 = f[1 -> 2]", "orders are tuples", (3, 13)),
    (HEAD + "network net : V(1, 1) -> V(0, 1) = f[1 -> 2]", "stages give 2*V(1,1)", (3, 36)),
    (HEAD + "network net : (1, 1) -> (1, 1) = f[1 -> 2*V(1, 0)]", "must cover its orders V(1,1)", (3, 41)),
    (HEAD + "network net : 2*V(1, 1) -> (1, 1) = f[1 -> 2]", "takes 2*V(1,1)", (3, 37)),
    (HEAD + "network net : (1, 1) -> (1, 1) = f[V(1, 1) -> 2]", "channel count", (3, 36)),
    (HEAD + "network net : (1, 1) -> (1, 1) = f[1 -> 2] >> sum(points) >> f[2 -> 1]", "they differ in sort 0",
     (3, 47)),
    (HEAD + "layer m : V(1, 0) + V(1, 1) -> V(1, 1) = learn((id(1) | id(1)))", "learns its group's full", (3, 48)),
    (HEAD + "layer m : 2*V(1, 0) + V(1, 1) -> V(1, 1)", "declares typed orders only", (3, 11)),
    (HEAD + "layer m : 1 -> V(1, 1)", "instead of 1", (3, 11)),
    (HEAD + "layer m : V(0, 1) + V(0, 3) -> V(0, 0) + V(0, 2)", "every block is empty", (3, 9)),
    (HEAD + "layer m : 1 @ 1 -> V(1, 0)", "instead of 1", (3, 11)),
    ("group S x SO(3)\nlayer m : (0, 1) @ (0, 1) -> (0, 1)", "write outer((0, 1) @ (0, 1))", (2, 11)),
    ("group S x Sp(2)\nlayer m : (1, 1) @ (1, 1) -> (1, 0) = learn(({1, 1', 2'} | {1', 2'}))", "identically zero",
     (2, 11)),
    (HEAD + "layer m : (1, 1) @ (1, 1) -> V(1, 0) + V(0, 0)", "a single output order", (3, 30)),
    (HEAD + "layer m : inner((1, 1) @ (1, 1)) -> (1, 0)", "outer(a @ b)", (3, 11)),
    (HEAD + "layer m : (1, 1) @ (1, 1) -> (1, 0)\nnetwork net : (1, 1) -> (1, 0) = f[1 -> 2] >> "
     "m[2*V(1, 1) -> 1]", "plain widths", (4, 47)),
    ("group S\nlayer f : 1 -> 1\nnetwork net : 1 -> 0 = f[1 -> 2] >> sum(0)", "over S(n) write 'sum'", (3, 37)),
])
def test_located_errors(text, message, where):
    with pytest.raises((CheckError, ParseError)) as info:
        catnn.compile(text)
    err = info.value
    assert (err.span.line, err.span.column) == where, str(err)
    if message is not None:
        assert message in err.message, str(err)


# -- the example -----------------------------------------------------------------------------------------
def test_the_example_compiles_and_its_network_equals_memory(tmp_path, capsys):
    source = "examples/point_cloud_network.diag"
    assert main(["check", source]) == 0
    assert "network  predict" in capsys.readouterr().out
    target = tmp_path / "pcn.py"
    assert main(["compile", source, "-o", str(target)]) == 0
    module = load_module(target.read_text(encoding="utf-8"), tmp_path, "pcn")
    prog = catnn.load(source)
    memory = prog.nn.predict().double()
    compiled = module.predict().double()
    compiled.load_state_dict(memory.state_dict())
    x = features(memory.in_space, (7, 3))
    y, z = memory(x), compiled(x)
    assert set(y) == set(z) == {(0, 0), (0, 1)}
    assert all(torch.allclose(z[k], y[k], atol=1e-10) for k in y)
    assert main(["explain", source, "--n", "32"]) == 0
    assert "V(1,0) + V(1,1) -> " in capsys.readouterr().out


# -- the README ------------------------------------------------------------------------------------------
def readme_blocks() -> list[str]:
    import re
    from pathlib import Path
    text = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```[a-z]*\n(.*?)```", text, re.S)


def test_the_readme_network_program_is_the_example():
    block = next(b for b in readme_blocks() if b.startswith("group points:") and "network predict" in b)
    readme, example = catnn.compile(block), catnn.load("examples/point_cloud_network.diag")
    assert readme.summary() == example.summary()
    shown = [[(st.kind, st.name, st.in_space, st.out_space, st.sort) for st in prog.predict.stages]
             for prog in (readme, example)]
    assert shown[0] == shown[1] and len(shown[0]) == 6


@pytest.mark.slow
def test_the_readme_network_trains(monkeypatch, capsys):
    from pathlib import Path
    script = next(b for b in readme_blocks() if "nn.predict()" in b and "for step in" in b)
    monkeypatch.chdir(Path(__file__).parent.parent)
    exec(compile(script, "README.md", "exec"), {})
    assert float(capsys.readouterr().out.split()[1]) < 1e-3


def test_exchangeable_matrices_pointwise_maps_and_a_pool_over_every_axis(tmp_path):
    """S x S (rows x columns of a ratings matrix): relu is allowed on every order, `sum` pools both sorts."""
    prog = catnn.compile("group rows: S x cols: S\nlayer f : (1, 1) -> (1, 1)\nlayer r : (0, 0) -> (0, 0)\n"
                         "network net : (1, 1) -> (0, 0) = f[1 -> 4] >> relu >> f[4 -> 4] >> gelu >> sum >> r[4 -> 2]")
    assert [st.sort for st in prog.net.stages] == [None] * 6
    memory = prog.nn.net().double()
    randomise(memory, 23)
    direct = Network(prog.group, [EquivariantLinear(prog.group, (1, 1), (1, 1), 1, 4),
                                  Pointwise("relu"),
                                  EquivariantLinear(prog.group, (1, 1), (1, 1), 4, 4),
                                  Pointwise("gelu"), Pool("sum"),
                                  EquivariantLinear(prog.group, (0, 0), (0, 0), 4, 2)]).double()
    direct.load_state_dict(memory.state_dict())
    compiled = load_module(write_module(prog), tmp_path, "exchangeable").net().double()
    compiled.load_state_dict(memory.state_dict())
    x = torch.randn(3, 1, 5, 4, dtype=torch.float64)
    y = memory(x)
    assert y.shape == (3, 2)
    assert torch.allclose(direct(x), y, atol=1e-10) and torch.allclose(compiled(x), y, atol=1e-10)
    rows, cols = torch.randperm(5), torch.randperm(4)
    assert torch.allclose(compiled(x[:, :, rows][:, :, :, cols]), y, atol=1e-10)
    mask = {0: torch.arange(5)[None] < torch.tensor([[5], [3], [1]]),
            1: torch.arange(4)[None] < torch.tensor([[4], [2], [4]])}
    padded = compiled(x, mask=mask)
    assert torch.allclose(padded, memory(x, mask=mask), atol=1e-10)
    assert torch.allclose(padded[1], compiled(x[1:2, :, :3, :2])[0], atol=1e-10)
