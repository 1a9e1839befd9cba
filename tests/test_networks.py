"""Whole networks: equivariance for every group, the nonlinearity rules (and why), gradients,
networks from the language in memory and as compiled modules."""

from __future__ import annotations

import copy
import importlib.util
import pickle

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.write import write_module
from catnn.compiler.check_network import check_stage
from catnn.errors import CatnnError, CheckError, CompileError
from catnn.features import space
from catnn.networks import Bilinear, Gate, MixedLinear, Network, NormNonlinearity, Pointwise, Pool
from catnn.nn import EquivariantLinear
from oracle_layers import kron_apply

CYCLE5 = np.array([[1 if abs(i - j) in (1, 4) else 0 for j in range(5)] for i in range(5)])


# -- group elements, checked to lie in their group (so a wrong sampler cannot hide a wrong network) --
def element(G, rng) -> np.ndarray:
    g = np.asarray(G.sample(rng), dtype=float)
    n = G.n
    if G.name == "Sp":
        J = np.kron(np.eye(n // 2), [[0, 1], [-1, 0]])
        assert np.allclose(g.T @ J @ g, J)
        return g
    assert np.allclose(g.T @ g, np.eye(n)), G                         # every other group is orthogonal
    if G.name in ("S", "A", "Aut", "H"):
        assert np.allclose(np.abs(g).sum(0), 1) and np.allclose(np.abs(g), np.abs(g).round())
    if G.name in ("S", "A", "Aut"):
        assert (g >= 0).all()
    if G.name == "A" or G.name == "SO":
        assert np.isclose(np.linalg.det(g), 1)
    if G.name == "B":
        assert np.allclose(g @ np.ones(n), np.ones(n))
    if G.name == "Aut":
        assert np.allclose(g @ CYCLE5 @ g.T, CYCLE5)
    return g


def act(g: np.ndarray, x):
    """g^{⊗k} on the k trailing axes of every order."""
    if isinstance(x, dict):
        return {k: act(g, t) for k, t in x.items()}
    return torch.from_numpy(kron_apply(g, x.detach().numpy()))


def randomize(module: torch.nn.Module, scale: float = 0.5) -> None:
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0.0, scale)


# -- one network per group, using the stages its group allows ------------------------------------------
def network(name: str) -> tuple[Network, object, int]:
    """(network, input features, n): a representative network of each kind for each group."""
    G, L = _group(name), EquivariantLinear
    if name == "S":
        stages = [L(G, 2, 2, 2, 4), Pointwise("relu"), MixedLinear(G, "4*V2", "3*V0 + 2*V1 + 2*V2"), Gate(G, "3*V0 + 2*V1 + 2*V2"),
                  MixedLinear(G, "3*V0 + 2*V1 + 2*V2", "2*V1"), Bilinear(G, 1, 1, 2, 2, 3), NormNonlinearity("norm_silu", G, "3*V2"),
                  L(G, 2, 2, 3, 3), Pool("mean")]
        return Network(G, stages), "2*V2", G.n
    if name == "A":
        stages = [MixedLinear(G, "2*V1", "2*V0 + 2*V1 + 2*V2"), Pointwise("gelu"), MixedLinear(G, "2*V0 + 2*V1 + 2*V2", "3*V1"),
                  Bilinear(G, 1, 1, 1, 3, 2), Pointwise("tanh"), Pool("sum")]
        return Network(G, stages), "2*V1", G.n
    if name in ("O", "SO"):
        stages = [Bilinear(G, 1, 1, 2, (2, 2), 4, channels="outer"), L(G, 2, 2, 4, 4), NormNonlinearity("norm_relu", G, "4*V2"),
                  MixedLinear(G, "4*V2", "4*V0 + 2*V1 + 2*V2"), Gate(G, "4*V0 + 2*V1 + 2*V2"),
                  MixedLinear(G, "4*V0 + 2*V1 + 2*V2", "3*V0"), Pointwise("relu", G, "3*V0")] \
            if name == "O" else \
            [MixedLinear(G, "2*V1", "3*V1 + 2*V2"), NormNonlinearity("norm_tanh", G, "3*V1 + 2*V2"),
             MixedLinear(G, "3*V1 + 2*V2", "4*V0 + 2*V1 + 2*V2"), Gate(G, "4*V0 + 2*V1 + 2*V2"),
             MixedLinear(G, "4*V0 + 2*V1 + 2*V2", "2*V0 + 2*V1")]
        return Network(G, stages), "2*V1", G.n
    if name == "Sp":
        stages = [Bilinear(G, 1, 1, 2, (2, 2), 4, channels="outer"), MixedLinear(G, "4*V2", "3*V0 + 2*V2"),
                  Gate(G, "3*V0 + 2*V2"), MixedLinear(G, "3*V0 + 2*V2", "2*V0 + 2*V2"), Gate(G, "2*V0 + 2*V2"),
                  MixedLinear(G, "2*V0 + 2*V2", "2*V0 + 1*V2")]
        return Network(G, stages), "2*V1", G.n
    if name == "H":
        stages = [L(G, 2, 2, 2, 3), Pointwise("tanh"), MixedLinear(G, "3*V2", "2*V0 + 2*V2"), Gate(G, "2*V0 + 2*V2"),
                  NormNonlinearity("norm_relu", G, "2*V0 + 2*V2"), MixedLinear(G, "2*V0 + 2*V2", "2*V0"), Pointwise("softplus")]
        return Network(G, stages), "2*V2", G.n
    if name == "B":
        stages = [MixedLinear(G, "2*V1", "2*V0 + 2*V1 + 2*V2"), NormNonlinearity("norm_relu", G, "2*V0 + 2*V1 + 2*V2"),
                  Gate(G, "2*V0 + 2*V1 + 2*V2"), MixedLinear(G, "2*V0 + 2*V1 + 2*V2", "2*V1 + 1*V2"), Pool("sum")]
        return Network(G, stages), "2*V1", G.n
    stages = [L(G, 1, 1, 2, 3), Pointwise("relu"), L(G, 1, 2, 3, 3), Pointwise("sigmoid"), L(G, 2, 1, 3, 2), Pool("mean")]
    return Network(G, stages), "2*V1", G.n


def _group(name: str):
    sizes = {"S": 4, "A": 4, "O": 3, "SO": 3, "Sp": 4, "H": 3, "B": 4}
    return catnn.group("Aut", graph=CYCLE5) if name == "Aut" else catnn.group(name, n=sizes[name])


GROUPS = ["S", "A", "O", "SO", "Sp", "H", "B", "Aut"]


def random_features(spec, n: int, rng: np.random.Generator, batch: int = 3):
    feats = {k: torch.from_numpy(rng.standard_normal((batch, c) + (n,) * k)) for k, c in space(spec).items()}
    return next(iter(feats.values())) if len(feats) == 1 else feats


def max_error(net, x, G, rng, trials: int = 3) -> tuple[float, float]:
    """(largest |net(g x) - g net(x)| over random g, largest |net(x)|)."""
    y = net(x)
    errors = []
    for _ in range(trials):
        g = element(G, rng)
        got, want = net(act(g, x)), act(g, y)
        pairs = [(got[k], want[k]) for k in want] if isinstance(want, dict) else [(got, want)]
        errors.append(max(float((a - b).detach().abs().max()) for a, b in pairs))
    values = y.values() if isinstance(y, dict) else [y]
    return max(errors), max(float(t.detach().abs().max()) for t in values)


@pytest.mark.parametrize("name", GROUPS)
def test_whole_networks_are_equivariant_for_every_group(name):
    torch.manual_seed(0)
    net, spec, n = network(name)
    net = net.double()
    randomize(net)
    rng = np.random.default_rng(1)
    x = random_features(spec, n, rng)
    error, size = max_error(net, x, net.group, rng)
    assert size > 1e-2, "the network's output vanished: the test would prove nothing"
    assert error < 1e-10 * max(1.0, size)


def test_the_rules_are_needed_pointwise_maps_break_orthogonal_equivariance():
    """What the compiler refuses really breaks equivariance; what it allows really keeps it."""
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.standard_normal((4, 3, 4)))
    relu, tanh = Pointwise("relu"), Pointwise("tanh")
    broken = {"O": relu, "B": relu, "Sp": relu, "H": relu, "SO": tanh}
    for name, f in broken.items():
        G = catnn.group(name, n=4)
        g = element(G, rng)
        assert float((f(act(g, x)) - act(g, f(x))).abs().max()) > 1e-2, name
        with pytest.raises(CompileError, match="is not .*-equivariant on tensors of order 1"):
            check_stage(G, f.name, (1,))
    for name, f in (("S", relu), ("A", relu), ("H", tanh)):
        G = catnn.group(name, n=4)
        g = element(G, rng)
        assert float((f(act(g, x)) - act(g, f(x))).abs().max()) < 1e-14, name
        check_stage(G, f.name, (1,))


def test_sp_norm_is_not_invariant_and_its_j_form_vanishes_on_odd_orders():
    G = catnn.group("Sp", n=4)
    rng = np.random.default_rng(3)
    J = np.kron(np.eye(2), [[0, 1], [-1, 0]])
    x = rng.standard_normal((5, 4))
    g = element(G, rng)
    norms, moved = np.linalg.norm(x, axis=1), np.linalg.norm(x @ g.T, axis=1)
    assert np.abs(norms - moved).max() > 1e-2                       # |g x| != |x|: no norm nonlinearity
    assert np.allclose(np.einsum("bi,ij,bj->b", x, J, x), 0)         # <x, J x> = 0 for every vector
    t = rng.standard_normal((5, 4, 4))                               # order 2: <t, (J⊗J) t> is invariant
    q = np.einsum("bij,ik,jl,bkl->b", t, J, J, t)
    gt = np.einsum("ia,jb,xab->xij", g, g, t)
    assert np.allclose(np.einsum("bij,ik,jl,bkl->b", gt, J, J, gt), q) and (q < 0).any() and (q > 0).any()
    with pytest.raises(CompileError, match="Sp\\(4\\) does not preserve the Euclidean norm"):
        NormNonlinearity("norm_relu", G, "2*V1")


def test_pooling_is_invariant_exactly_for_groups_fixing_the_ones_vector():
    rng = np.random.default_rng(5)
    x = torch.from_numpy(rng.standard_normal((2, 3, 4, 4)))
    pool = Pool("sum")
    for name, ok in (("S", True), ("B", True), ("A", True), ("O", False), ("H", False)):
        G = catnn.group(name, n=4)
        moved = float((pool(act(element(G, rng), x)) - pool(x)).abs().max())
        assert (moved < 1e-12) == ok, name
        if ok:
            check_stage(G, "sum", (2,))
        else:
            with pytest.raises(CompileError, match="use a 2 -> 0 layer"):
                check_stage(G, "sum", (2,))


def test_python_stages_refuse_what_breaks_equivariance():
    with pytest.raises(CompileError, match="'relu' is not O\\(n\\)-equivariant on tensors of order 1: use gate or norm_relu"):
        Pointwise("relu", "O", "3*V1")
    with pytest.raises(CompileError, match="'gate' needs order-0"):
        Gate("O", "3*V1 + 2*V2")
    with pytest.raises(CompileError, match="'mean' is not SO\\(3\\)-invariant"):
        Pool("mean", "SO(3)", "2*V1")
    with pytest.raises(CompileError, match="not O\\(n\\)-equivariant on tensors of order 2"):
        Network("O", [EquivariantLinear("O", 2, 2, 1, 2), Pointwise("gelu")])   # checked by the network
    Pointwise("relu", "O", "3*V0")                                                  # invariants are fine
    with pytest.raises(CatnnError, match="stage 1 \\(EquivariantLinear\\) expects features 3\\*V2, got 2\\*V2"):
        Network("S", [EquivariantLinear("S", 2, 2, 1, 2), EquivariantLinear("S", 2, 2, 3, 2)])
    with pytest.raises(CatnnError, match="unknown nonlinearity 'softmax'"):
        Pointwise("softmax")


GOLDEN = ("group O\nlayer edge : 2 -> 2\nnetwork gnn : 2 -> 2 = edge[1 -> 4] >> relu >> edge[4 -> 4]\n",
          "gnn.diag:3:40: error: 'relu' is not O(n)-equivariant on tensors of order 2: use gate or norm_relu\n"
          "  network gnn : 2 -> 2 = edge[1 -> 4] >> relu >> edge[4 -> 4]\n"
          "                                         ^~~~")


def test_a_forbidden_nonlinearity_is_a_compile_error_at_its_name():
    with pytest.raises(CheckError) as info:
        catnn.compile(GOLDEN[0], "gnn.diag")
    assert str(info.value) == GOLDEN[1]


@pytest.mark.parametrize("group,stage,message", [
    ("Sp(4)", "relu", "'relu' is not Sp(4)-equivariant on tensors of order 2: use gate (norm nonlinearities are "
                      "no option: Sp(n) does not preserve the Euclidean norm)"),
    ("Sp(4)", "norm_relu", "'norm_relu' is not Sp(4)-equivariant: Sp(4) does not preserve the Euclidean norm"),
    ("H", "gelu", "'gelu' is not H(n)-equivariant on tensors of order 2: use an odd function (tanh), gate or norm_gelu"),
    ("SO(3)", "gate", "'gate' needs order-0 (invariant) channels"),
    ("O", "sum", "'sum' is not O(n)-invariant on tensors of order 2"),
])
def test_what_each_group_refuses_and_suggests(group, stage, message):
    source = f"group {group}\nlayer edge : 2 -> 2\nnetwork g : 2 -> 2 = edge[1 -> 4] >> {stage} >> edge[4 -> 4]"
    with pytest.raises(CheckError) as info:
        catnn.compile(source)
    assert message in str(info.value)
    assert str(info.value).splitlines()[-1].strip().startswith("^")


def test_every_allowed_stage_compiles_for_its_groups():
    allowed = {"S": ["relu", "gelu", "gate", "norm_relu", "tanh"], "O": ["gate", "norm_relu", "norm_sigmoid"],
               "Sp(4)": ["gate"], "H": ["tanh", "gate", "norm_relu"], "B": ["gate", "norm_gelu"]}
    for group, names in allowed.items():
        for name in names:
            catnn.compile(f"group {group}\nlayer mix : V0 + V2 -> V0 + V2\n"
                          f"network g : V0 + V2 -> V0 + V2 = mix[2 -> 3] >> {name} >> mix[3 -> 1]")
    catnn.compile("group S\nlayer e : 2 -> 2\nnetwork g : 2 -> 0 = e[1 -> 2] >> relu >> mean")
    with pytest.raises(CheckError, match="'mean' cannot come before the first layer"):
        catnn.compile("group S\nlayer e : 0 -> 2\nnetwork g : 2 -> 2 = mean >> e[1 -> 2]")


# -- gradients ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["S", "O", "Sp"])
def test_gradcheck_on_small_networks(name):
    torch.manual_seed(3)
    G = {"S": catnn.group("S"), "O": catnn.group("O", n=3), "Sp": catnn.group("Sp", n=2)}[name]
    if name == "S":
        net = Network(G, [EquivariantLinear(G, 2, 2, 1, 2, normalize=True), Pointwise("tanh"),
                          MixedLinear(G, "2*V2", "2*V0 + 1*V1", normalize=True), Gate(G, "2*V0 + 1*V1"),
                          MixedLinear(G, "2*V0 + 1*V1", "1*V1"), Bilinear(G, 1, 1, 0, 1, 2), Pointwise("softplus")])
        x = torch.randn(2, 1, 3, 3, dtype=torch.float64)
    else:
        net = Network(G, [Bilinear(G, 1, 1, 2, (2, 2), 2, channels="outer"), MixedLinear(G, "2*V2", "2*V0 + 1*V2"),
                          Gate(G, "2*V0 + 1*V2")] + ([NormNonlinearity("norm_softplus", G, "2*V0 + 1*V2")]
                                                     if name == "O" else []))
        x = torch.randn(2, 2, G.n, dtype=torch.float64)
    net = net.double()
    randomize(net)
    params = [p for p in net.parameters()]
    x.requires_grad_(True)

    def f(inp, *ps):
        with torch.no_grad():
            for p, q in zip(params, ps):
                p.copy_(q)
        out = net(inp)
        return tuple(out.values()) if isinstance(out, dict) else out

    def g(inp, *ps):
        out = torch.func.functional_call(net, {n_: p for (n_, _), p in zip(net.named_parameters(), ps)}, (inp,))
        return tuple(out.values()) if isinstance(out, dict) else out

    inputs = (x, *[p.detach().clone().requires_grad_(True) for p in params])
    assert torch.autograd.gradcheck(g, inputs, eps=1e-6, atol=1e-7)


# -- networks from the language: in memory and compiled ------------------------------------------------
PROGRAMS = {
    "S": """group S
layer edge : 2 -> 2
layer mix : V2 -> V0 + V1 + V2
layer node : V0 + V1 + V2 -> V1
layer pair : 1 @ 1 -> 2
layer pool : 2 -> 0
network net : 2 -> 0 = edge[2 -> 4] >> relu >> mix[4 -> 3*V0 + 2*V1 + 2*V2] >> gate >> norm_relu
    >> node[3*V0 + 2*V1 + 2*V2 -> 3] >> pair[3 -> 3] >> silu >> pool[3 -> 2]
network pooled : 2 -> 0 = edge[2 -> 3] >> tanh >> mean
""",
    "O(3)": """group O(3)
layer sq : 1 @ 1 -> 2 = learn(1/2 * (id(2) + swap), cap >> cup)
layer lin : 2 -> 2
layer mixed : V2 -> V0 + V2
layer read : V0 + V2 -> V0
network net : 1 -> 0 = sq[2 -> 4] >> lin[4 -> 4] >> norm_relu >> mixed[4 -> 4*V0 + 2*V2] >> gate
    >> read[4*V0 + 2*V2 -> 3*V0] >> relu
""",
    "Sp(4)": """group Sp(4)
layer up : V2 -> V0 + V2
layer read : V0 + V2 -> V0
network net : 2 -> 0 = up[2 -> 3*V0 + 2*V2] >> gate >> read[3*V0 + 2*V2 -> 2*V0] >> gelu
""",
    "SO(3)": """group SO(3)
layer cross : V1 -> V1 + V2
layer up : V1 + V2 -> V0 + V1
network net : V1 -> V0 + V1 = cross[2 -> 2*V1 + 2*V2] >> norm_tanh >> up[2*V1 + 2*V2 -> 3*V0 + 2*V1] >> gate
""",
}


def load(text: str, path) -> object:
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("backend", ["torch", "einsum"])
@pytest.mark.parametrize("group", list(PROGRAMS))
def test_compiled_networks_equal_in_memory_networks(group, backend, tmp_path):
    prog = catnn.compile(PROGRAMS[group], "net.diag")
    module = load(write_module(prog, backend), tmp_path / f"net_{backend}.py")
    assert "catnn" not in (tmp_path / f"net_{backend}.py").read_text().replace("Generated by catnn", "")
    rng = np.random.default_rng(4)
    n = prog.group.n or 5
    for name in [k for k, v in prog.definitions.items() if type(v).__name__ == "NetworkSpec"]:
        memory = prog.nn.__getattr__(name)(backend=backend).double()
        randomize(memory)
        compiled = getattr(module, name)().double()
        compiled.load_state_dict(memory.state_dict())              # the same keys, no renaming
        x = random_features(prog.definitions[name].in_space, n, rng)
        got, want = compiled(x), memory(x)
        pairs = [(got[k], want[k]) for k in want] if isinstance(want, dict) else [(got, want)]
        for a, b in pairs:
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        if prog.group.n is not None:                                # and the language network is equivariant
            error, size = max_error(memory, x, prog.group, rng, trials=2)
            assert size > 1e-3 and error < 1e-10 * max(1.0, size)


def test_in_memory_networks_from_the_language_are_modules():
    prog = catnn.compile(PROGRAMS["S"])
    net = prog.nn.net(normalize=True)
    assert [type(s).__name__ for s in net.stages] == [
        "EquivariantLinear", "Pointwise", "MixedLinear", "Gate", "NormNonlinearity", "MixedLinear", "Bilinear",
        "Pointwise", "EquivariantLinear"]
    assert net.in_space == space("2*V2") and net.out_space == space("2*V0")
    assert net(torch.randn(3, 2, 6, 6)).shape == (3, 2)
    twin = pickle.loads(pickle.dumps(net))
    x = torch.randn(1, 2, 4, 4)
    torch.testing.assert_close(twin(x), net(x)) and torch.testing.assert_close(copy.deepcopy(net)(x), net(x))
    assert prog.nn.pair(2, 3)(torch.randn(1, 2, 5)).shape == (1, 3, 5, 5)
    assert prog.nn.mix("2*V2", "1*V0 + 1*V1 + 1*V2")(torch.randn(1, 2, 5, 5))[1].shape == (1, 1, 5)


def test_bilinear_aut_layers_in_the_language_equal_the_module():
    prog = catnn.compile("graph G = cycle(5)\ngroup Aut(G)\nlayer m : 1 @ 1 -> 2")
    layer = prog.nn.m(2, 3)
    twin = Bilinear(catnn.group("Aut", graph=CYCLE5), 1, 1, 2, 2, 3)
    twin.load_state_dict(layer.state_dict())
    x, y = torch.randn(4, 2, 5), torch.randn(4, 2, 5)
    torch.testing.assert_close(layer(x, y), twin(x, y))


@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_mixed_aut_layer_equals_its_dense_blocks(backend):
    """One plan for Aut(C5) V0 + V1 -> V1 + V2: each output is the sum of its blocks' dense matrices."""
    G = catnn.group("Aut", graph=CYCLE5)
    torch.manual_seed(0)
    layer = MixedLinear(G, "V0 + 2*V1", "V1 + 3*V2", backend=backend).double()
    with torch.no_grad():
        for p in layer.bias.values():
            p.normal_()
    x = {0: torch.randn(2, 1, dtype=torch.float64), 1: torch.randn(2, 2, 5, dtype=torch.float64)}
    y = layer(x)
    for j, l in enumerate(layer.out_space.orders):
        want = torch.zeros(2, layer.out_space[l], 5**l, dtype=torch.float64)
        for b in layer.plan.blocks:
            if b.output == j:
                k = layer.in_space.orders[b.input]
                dense = torch.tensor(np.stack([G.matrix(d) for d in b.diagrams]).astype(float))
                want += torch.einsum("dpq,doi,biq->bop", dense, layer.weight[layer.key(b)], x[k].reshape(2, -1, 5**k))
        biases = layer.plan.sections[j].bias_diagrams
        if biases:
            dense = torch.tensor(np.stack([G.matrix(d)[:, 0] for d in biases]).astype(float))
            want += torch.einsum("dp,do->op", dense, layer.bias[str(l)])[None]
        assert torch.allclose(y[l].reshape(want.shape), want, atol=1e-12)


def test_the_example_script_runs_and_its_claims_hold():
    import runpy
    from pathlib import Path
    script = Path(__file__).parent.parent / "examples" / "equivariant_networks.py"
    results = runpy.run_path(str(script))["main"]()
    assert set(results) == {"O(3) invariance error", "O(3) compiled - in memory", "S_n padded batch - graphs alone",
                            "S_n relabelling error"}
    assert all(value < 1e-10 for value in results.values())
