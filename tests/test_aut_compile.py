"""Aut(G) compiled: plans, both emitters, layers, compiled modules and the language, against oracles.

Oracles written here, sharing no code with catnn's contraction: ``hom_oracle`` builds X_H straight
from the definition (a sum over all maps of F's vertices into [n] of the product of A over F's edges,
as one ``numpy.einsum`` over integer sublists, then placed on the label positions), itself checked
against the enumeration of every map (``test_aut.brute_hom_tensor``); automorphism groups by brute
force (``test_aut.oracle_automorphisms``); ranks modulo a prime (``test_aut.rank_mod_p``).
Graphs: C_5, Petersen, P_4, K_{1,4}, an asymmetric graph and K_4 (whose layers must span exactly the
S_4 layers).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from functools import partial

import numpy as np
import pytest
import torch

import catnn
from catnn.bilabelled import BilabelledGraph
from catnn.compiler.write import write_module
from catnn.compiler.backends import emit
from catnn.compiler.plan_graph import adjacency_kind, bottom_steps
from catnn.compiler.plan import build_plan
from catnn.errors import CheckError
from catnn.nn import EquivariantLinear
from test_aut import brute_hom_tensor, cycle, graph, group_of, oracle_automorphisms, random_graph, rank_mod_p

GRAPH_NAMES = ["C5", "Petersen", "P4", "K1,4", "asymmetric", "K4"]
EMITTERS = {backend: partial(emit, backend=backend) for backend in ("torch", "einsum")}


# -- the oracle -------------------------------------------------------------------------------------
def hom_oracle(h: BilabelledGraph, a: np.ndarray) -> np.ndarray:
    """(n,)*(l+k) tensor, axes outputs then inputs: Σ_φ Π_{uv ∈ E(F)} A[φ(u), φ(v)], φ fixed on labels."""
    n = len(a)
    args: list = []
    touched = set()
    for u, v in h.edges:
        args += [a.astype(np.int64), [u, v]]
        touched |= {u, v}
    args += [x for u in range(h.vertices) if u not in touched for x in (np.ones(n, dtype=np.int64), [u])]
    labelled = list(dict.fromkeys(h.outputs + h.inputs))
    values = np.einsum(*args, labelled, optimize=True) if args else np.ones((), dtype=np.int64)
    positions = h.outputs + h.inputs
    if not positions:
        return np.asarray(values).reshape(())
    grid = np.indices((n,) * len(positions)).reshape(len(positions), -1)
    at = [positions.index(u) for u in labelled]
    same = np.all([grid[p] == grid[at[labelled.index(u)]] for p, u in enumerate(positions)], axis=0)
    out = values[tuple(grid[p] for p in at)] * same
    return out.reshape((n,) * len(positions))


def apply_oracle(graphs, a: np.ndarray, x: np.ndarray, k: int, l: int) -> np.ndarray:
    """out[b, d, I] = Σ_J X_d[I, J] x[b, J] for x of shape (B, n, ..., n)."""
    n, B = len(a), x.shape[0]
    mats = np.stack([hom_oracle(h, a).reshape(n**l, n**k) for h in graphs]).astype(float)
    return np.einsum("dij,bj->bdi", mats, x.reshape(B, n**k)).reshape((B, len(graphs)) + (n,) * l)


def run_plan(plan, backend: str, x: torch.Tensor, weight: torch.Tensor, bias=None) -> np.ndarray:
    fn = EMITTERS[backend](plan, "layer")
    extra = {} if plan.k else {"n": plan.n}
    return fn(x, weight, bias, **extra).detach().numpy()


def is_forest(h: BilabelledGraph) -> bool:
    """True if F has no cycle (and no loop)."""
    root = list(range(h.vertices))

    def find(u: int) -> int:
        while root[u] != u:
            u = root[u]
        return u

    for u, v in h.edges:
        if find(u) == find(v):
            return False
        root[find(u)] = find(v)
    return True


def splits(name: str, m: int) -> list[tuple[int, int]]:
    """(k, l) with k + l = m; the asymmetric graph's 1296 graphs at m = 4 run for two splits."""
    every = [(k, m - k) for k in range(m + 1)]
    return [(1, 3), (2, 2)] if name == "asymmetric" and m == 4 else every


def test_the_oracle_counts_homomorphisms(rng):
    a = cycle(5)
    a[2, 2] = 1                               # one loop, so looped graphs count too
    for k in range(3):
        for l in range(3):
            for _ in range(4):
                h = random_graph(rng, k, l, max_vertices=4)
                assert np.array_equal(hom_oracle(h, a), brute_hom_tensor(h, a)), h


# -- compiled contractions equal the oracle ---------------------------------------------------------
@pytest.mark.parametrize("backend", list(EMITTERS))
@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_compiled_contractions_equal_the_oracle(name, backend, rng):
    """Every spanning-set graph with k + l <= 4, one output channel each (weight = identity)."""
    G, a = group_of(name), graph(name)
    n = len(a)
    for m in range(5):
        for k, l in splits(name, m):
            graphs = G.spanning_set(k, l)
            plan = build_plan(G, k, l, graphs)
            x = rng.standard_normal((2,) + (n,) * k)
            weight = torch.eye(len(graphs), dtype=torch.float64)[:, :, None]
            got = run_plan(plan, backend, torch.tensor(x[:, None]), weight)
            np.testing.assert_allclose(got, apply_oracle(graphs, a, x, k, l), atol=1e-9, err_msg=f"{k}->{l}")
            forests = [h for h in graphs if is_forest(h)]
            if m >= 2 and forests:   # no allocated core (per batch, channel) as large as X_H: n^(k+l)
                cores = build_plan(G, k, l, forests).cores
                assert max([len(c.labels) for c in cores if not c.is_view] or [0]) < max(m, k + 1)


@pytest.mark.parametrize("backend", list(EMITTERS))
def test_graph_literals_with_loops_isolated_and_closed_parts(backend, rng):
    """Hand-made graphs: loops, isolated internal vertices, components without labels or inputs."""
    a = cycle(5)
    a[0, 0] = a[3, 3] = 1
    G = catnn.group("Aut", graph=a)
    graphs = [BilabelledGraph.parse(t) for t in [
        "graph[{1, 1'} ; 1-1]", "graph[{1} {1'} ; 1-a, a-a, a-1']", "graph[{1, 1'} ; b, 1-a]",
        "graph[{1} {1'} ; a-b, b-c, c-a]", "graph[{1} {1'} ; 1-a-b, 1'-c]", "graph[{1} {2} {1'} ; 1-2, 2-1']",
        "graph[{1} {1'} {2'} ; 1'-2', a]", "graph[{1, 2} {1'} ; 1-a-1', a-b-c-a]"]]
    for k, l in {(h.k, h.l) for h in graphs}:
        chosen = [h for h in graphs if (h.k, h.l) == (k, l)]
        x = rng.standard_normal((3,) + (5,) * k)
        weight = torch.eye(len(chosen), dtype=torch.float64)[:, :, None]
        got = run_plan(build_plan(G, k, l, chosen), backend, torch.tensor(x[:, None]), weight)
        np.testing.assert_allclose(got, apply_oracle(chosen, a, x, k, l), atol=1e-9)


@pytest.mark.parametrize("backend", list(EMITTERS))
def test_layer_with_channels_bias_and_normalize(backend, rng):
    """Σ_H Λ_H ⊗ X_H x + Σ_β b_β ⊗ E_β; normalize divides by n per vertex summed out of x."""
    a = graph("P4")
    n, k, l = 4, 2, 1
    layer = EquivariantLinear("Aut", k, l, 3, 2, graph=a, backend=backend, normalize=True).double()
    with torch.no_grad():
        layer.bias.normal_()
    x = rng.standard_normal((2, 3) + (n,) * k)
    got = layer(torch.tensor(x)).detach().numpy()
    graphs, bias_graphs = layer.diagrams, layer.bias_diagrams
    scale = []
    for h in graphs:
        bottom = {u for u in h.inputs} | {u for e in h.edges for u in e if _reaches_input(h, u)}
        scale.append(float(n) ** -len(bottom - set(h.outputs)))
    mats = np.stack([hom_oracle(h, a).reshape(n**l, n**k) * s for h, s in zip(graphs, scale)])
    w = layer.weight.detach().numpy()
    want = np.einsum("dij,doc,bcj->boi", mats, w, x.reshape(2, 3, -1))
    cols = np.stack([hom_oracle(h, a).reshape(-1) for h in bias_graphs])
    want += np.einsum("di,do->oi", cols, layer.bias.detach().numpy())[None]
    np.testing.assert_allclose(got, want.reshape(got.shape), atol=1e-9)


def _reaches_input(h: BilabelledGraph, u: int) -> bool:
    """True if vertex u is joined to an input vertex by a path of F."""
    seen, todo = {u}, [u]
    while todo:
        w = todo.pop()
        if w in h.inputs:
            return True
        for e in h.edges:
            for x, y in (e, e[::-1]):
                if x == w and y not in seen:
                    seen.add(y)
                    todo.append(y)
    return False


# -- layers are equivariant; K_4 is S_4 -------------------------------------------------------------
def permute_axes(t: np.ndarray, g: np.ndarray, lead: int = 2) -> np.ndarray:
    """(g · t)[..., g(i), g(j)] = t[..., i, j] on every axis after the first ``lead``."""
    inverse = np.argsort(g)
    for axis in range(lead, t.ndim):
        t = np.take(t, inverse, axis=axis)
    return t


@pytest.mark.parametrize("name", GRAPH_NAMES)
def test_layers_are_equivariant_under_every_automorphism(name, rng):
    a = graph(name)
    n = len(a)
    elements = np.array(sorted(oracle_automorphisms(name)))
    for k, l in [(1, 1), (1, 2), (2, 1), (2, 2), (0, 2), (2, 0)]:
        if name == "asymmetric" and (k, l) == (2, 2):
            continue            # 1296 graphs: covered by the contraction test; the group is trivial
        layer = EquivariantLinear("Aut", k, l, 2, 3, graph=a).double()
        with torch.no_grad():
            if layer.bias is not None:
                layer.bias.normal_()
        x = rng.standard_normal((1, 2) + (n,) * k)
        moved = np.concatenate([permute_axes(x, g) for g in elements])
        y = layer(torch.tensor(x)).detach().numpy()
        got = layer(torch.tensor(moved)).detach().numpy()
        want = np.concatenate([permute_axes(y, g) for g in elements])
        np.testing.assert_allclose(got, want, atol=1e-9, err_msg=f"{name} {k}->{l}")


def compiled_matrices(G, k: int, l: int, diagrams) -> np.ndarray:
    """The matrices of ``diagrams`` as the compiled plan applies them, one basis input at a time."""
    n = G.n
    plan = build_plan(G, k, l, diagrams)
    basis = torch.eye(n**k, dtype=torch.float64).reshape((n**k, 1) + (n,) * k)
    weight = torch.eye(len(diagrams), dtype=torch.float64)[:, :, None]
    out = run_plan(plan, "torch", basis, weight)            # (n^k, D, n, ..., n)
    return np.rint(out.reshape(n**k, len(diagrams), n**l).transpose(1, 2, 0)).astype(np.int64)


@pytest.mark.parametrize("m", range(5))
def test_complete_graph_layers_span_the_symmetric_group_layers(m):
    aut, sym = group_of("K4"), catnn.group("S", n=4)
    for k, l in [(m // 2, m - m // 2), (m, 0)]:
        X = compiled_matrices(aut, k, l, aut.spanning_set(k, l)).reshape(-1, 4 ** m)
        D = compiled_matrices(sym, k, l, sym.spanning_set(k, l)).reshape(-1, 4 ** m)
        rank = rank_mod_p(X)
        assert rank == len(X) == aut.dimension(k, l) == rank_mod_p(D) == rank_mod_p(np.vstack([X, D]))


def test_layer_arguments_and_pickling():
    import pickle
    from catnn.errors import GroupError
    a = graph("C5")
    layer = EquivariantLinear("Aut", 1, 2, 2, 3, graph=a).double()
    assert layer.n == 5 and layer.group == group_of("C5") and len(layer.diagrams) == 13
    x = torch.randn(4, 2, 5, dtype=torch.float64)
    again = pickle.loads(pickle.dumps(layer))
    assert torch.equal(again(x), layer(x))
    with pytest.raises(GroupError, match="Aut needs a graph"):
        EquivariantLinear("Aut", 1, 1, 1, 1)
    with pytest.raises(GroupError, match="does not match the graph"):
        EquivariantLinear("Aut", 1, 1, 1, 1, graph=a, n=6)


# -- autograd, sharing, caching ----------------------------------------------------------------------
@pytest.mark.parametrize("backend", list(EMITTERS))
def test_gradients_through_chained_cores(backend):
    G = group_of("C5")
    chosen = [h for h in G.spanning_set(2, 1) if len(h.edges) >= 2][:6]
    layer = EquivariantLinear(G, 2, 1, 2, 2, diagrams=chosen, backend=backend).double()
    assert any(c.source != "x0" and c.constants for c in layer.plan.cores)      # a chain step
    x = torch.randn(2, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    weight = layer.weight.detach().clone().requires_grad_()
    bias = layer.bias.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(layer._function.function, (x, weight, bias))


def test_steps_are_shared_and_paths_cached():
    G = group_of("C5")
    walk1, walk2 = BilabelledGraph.adjacency(), BilabelledGraph.parse("graph[{1} {1'} ; 1-a-1']")
    kind = adjacency_kind(G)
    plan = build_plan(G, 1, 1, [walk1, walk2])      # A x, and the walks of length 2 as one matrix A^2: A^2 x
    assert [(c.source, c.constants[0][0]) for c in plan.cores] == [("x0", kind), ("x0", f"{kind}_p2")]
    before = bottom_steps.cache_info().hits
    build_plan(G, 2, 2, G.spanning_set(2, 2), normalize=True)     # a new plan, the same structures
    assert bottom_steps.cache_info().hits > before


def test_the_adjacency_matrix_is_data_of_the_module():
    a = graph("Petersen")
    kind = adjacency_kind(group_of("Petersen"))
    from catnn.compiler.kernels import CONSTANTS, constant_value
    source = CONSTANTS[kind]
    rows = [line.strip().strip('",') for line in source.splitlines() if line.strip().startswith('"') and
            set(line.strip().strip('",')) <= {"0", "1"}]
    assert len(rows) == 10 and np.array_equal(constant_value(kind, 10), a)
    with pytest.raises(ValueError, match="10 vertices"):
        constant_value(kind, 11)


# -- the language and compiled modules --------------------------------------------------------------
PROGRAM = """
graph C = cycle(5)
group Aut(C)
diagram walk = graph[{1} {1'} ; 1-a-1']
morphism smooth = 1/2 * id(1) + 1/4 * adj - walk / n
layer lift : 1 -> 2
layer msg : 2 -> 1 = learn(graph[{1, 1'} {2'} ; 1-2'], {1, 1'} {2'}, smooth @ {1'})
layer read : 1 -> 0
network net : 1 -> 0 = lift[1 -> 3] >> relu >> msg[3 -> 2] >> relu >> read[2 -> 1]
"""


def load_module(code: str, path: Path):
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("backend", list(EMITTERS))
def test_compiled_module_equals_in_memory_layers(backend, tmp_path, rng):
    prog = catnn.compile(PROGRAM)
    G = prog.group
    code = write_module(prog, backend)
    assert "import catnn" not in code and "from catnn" not in code and f"_rt__const_{adjacency_kind(G)}" in code
    module = load_module(code, tmp_path / f"aut_{backend}.py")
    x = torch.tensor(rng.standard_normal((4, 5)))
    smooth = np.asarray(G.matrix(prog.smooth), dtype=float)
    np.testing.assert_allclose(module.smooth(x).numpy(), x.numpy() @ smooth.T, atol=1e-12)
    np.testing.assert_allclose(module.walk(x).numpy(), x.numpy() @ hom_oracle(prog.walk, G.adjacency).T, atol=1e-12)
    for name, cin, cout in [("lift", 2, 3), ("msg", 3, 2), ("read", 2, 1)]:
        spec = prog[name]
        memory = EquivariantLinear.from_spec(spec, cin, cout, backend=backend).double()
        compiled = getattr(module, name)(cin, cout).double()
        with torch.no_grad():
            memory.bias.normal_() if memory.bias is not None else None
        compiled.load_state_dict(memory.state_dict())
        xs = torch.tensor(rng.standard_normal((3, cin) + (5,) * spec.k))
        np.testing.assert_allclose(compiled(xs).detach().numpy(), memory(xs).detach().numpy(), atol=1e-10)
    net = module.net().double()
    memory_net = prog.nn.net().double()
    net.load_state_dict(memory_net.state_dict())
    xs = torch.tensor(rng.standard_normal((3, 1, 5)))
    np.testing.assert_allclose(net(xs).detach().numpy(), memory_net(xs).detach().numpy(), atol=1e-10)


def test_printed_graphs_round_trip_through_the_language(rng):
    for name in ["C5", "P4", "asymmetric"]:
        G = group_of(name)
        for k, l in [(1, 1), (2, 1), (1, 2), (0, 3)]:
            for h in G.spanning_set(k, l):
                assert catnn.diagram(str(h), group=G) == h
        m = sum((i + 1) * h for i, h in enumerate(G.spanning_set(1, 1)))
        assert catnn.diagram(str(m), group=G) == m
    a = np.zeros((5, 5), dtype=int)
    G = catnn.group("Aut", graph=a + np.eye(5, dtype=int))
    for _ in range(30):
        h = random_graph(rng, int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        text = str(h)
        assert catnn.diagram(text, group=G) == h
        assert catnn.diagram(f"{text} - {text}", group=G).is_zero()       # delimited: '-' after it is minus


def test_language_composes_and_tensors_graphs():
    """Gluing (no n^c factor: glued vertices become internal) and disjoint union, in the language."""
    G, a = group_of("C5"), graph("C5")
    looped = a.copy()
    looped[1, 1] = 1
    L = catnn.group("Aut", graph=looped)

    def d(text, group=G):
        return catnn.diagram(text, group=group)

    assert d("adj >> adj") == d("graph[{1} {1'} ; 1-a-1']")
    assert d("adj @ id(1)") == d("graph[{1} {2, 2'} {1'} ; 1-1']")
    assert d("adj >> {1, 2, 1'}") == d("graph[{1, 2} {1'} ; 1-1']")
    assert d("adj >> adj >> adj") == d("graph[{1} {1'} ; 1-a-b-1']")
    trace = d("{1, 2} >> (adj @ id(1)) >> {1', 2'}", L)                  # tr(A) = the loops
    assert trace == d("graph[; a-a]", L) and int(hom_oracle(trace, looped)) == 1
    unit = d("{1} >> {1'}")                                             # one isolated internal vertex: n
    assert unit == d("graph[; a]") and int(hom_oracle(unit, a)) == 5
    m = d("2 * adj - graph[{1} {1'} ; 1-a-1'] + 1/2 * {1, 1'}")
    want = 2 * a - a @ a + np.eye(5) / 2
    np.testing.assert_allclose(np.asarray(G.matrix(m), dtype=float), want)


def test_many_internal_vertices_print_and_parse():
    """Internal vertex 13 prints as 'n', the dimension keyword; the literal still reads it."""
    h = BilabelledGraph(16, [(0, 1)] + [(i, i + 1) for i in range(1, 15)], [0], [15])
    G = catnn.group("Aut", graph=cycle(5))
    assert "-n," in str(h) and catnn.diagram(str(h), group=G) == h


def test_language_declarations():
    prog = catnn.compile("""
graph P = petersen
graph E = edges(0-1-2-3-0, 4)
graph M = adjacency[[0, 1, 1], [1, 0, 0], [1, 0, 1]]
graph R = grid(2, 3)
graph S = star(4)
group Aut(P)
layer f : 1 -> 1
""")
    assert prog.group.order == 120 and prog.group.n == 10
    assert prog.f.group is prog.group
    compiled = {name: catnn.compile(f"graph X = {text}\ngroup Aut(X)\nlayer f : 1 -> 1").group
                for name, text in [("E", "edges(0-1-2-3-0, 4)"), ("M", "adjacency[[0, 1, 1], [1, 0, 0], [1, 0, 1]]"),
                                   ("R", "grid(2, 3)"), ("S", "star(4)"), ("C", "cycle(6)"), ("K", "complete(4)")]}
    assert compiled["E"].n == 5 and compiled["E"].order == 8            # a 4-cycle and an isolated vertex
    assert compiled["M"].adjacency.tolist() == [[0, 1, 1], [1, 0, 0], [1, 0, 1]] and compiled["M"].order == 1
    assert compiled["R"].order == 4 and compiled["S"].order == 24 and compiled["C"].order == 12
    assert compiled["K"].order == 24


@pytest.mark.parametrize("text, message", [
    ("graph G = cycle(2)\ngroup Aut(G)", "cycle takes one size n >= 3"),
    ("graph G = grid(3)\ngroup Aut(G)", "grid takes rows and columns"),
    ("graph G = adjacency[[0, 1], [1]]\ngroup Aut(G)", "row 1 has 1"),
    ("graph G = adjacency[[0, 2], [2, 0]]\ngroup Aut(G)", "0/1 entries"),
    ("graph G = adjacency[[0, 1], [0, 0]]\ngroup Aut(G)", "symmetric"),
    ("graph G = cycle(5000)\ngroup Aut(G)", "too large"),
    ("graph G = edges(0-5000)\ngroup Aut(G)", "too large"),
    ("graph G = cycle(5)\ngraph G = path(3)", "already defined"),
    ("graph G = cycle(5)\ngroup S(G)", "does not take a graph"),
    ("graph G = cycle(5)\ngroup Aut(5)", "Aut needs a graph"),
    ("graph G = cycle(5)\ngroup Aut(G)\ndiagram G = adj", "already defined"),
    ("graph G = cycle(5)\ngroup Aut(G)\ndiagram d = graph[{1} ; 1-2]", "2 is not in any block"),
])
def test_language_errors(text, message):
    with pytest.raises(CheckError, match=message):
        catnn.compile(text)


# -- the example -------------------------------------------------------------------------------------
def test_example_runs_at_a_tiny_size(capsys):
    path = Path(__file__).parent.parent / "examples" / "aut_cycle.py"
    spec = importlib.util.spec_from_file_location("aut_cycle_example", path)
    example = importlib.util.module_from_spec(spec)
    sys.modules["aut_cycle_example"] = example
    spec.loader.exec_module(example)
    results = example.main(["--n", "5", "--train", "16", "--test", "32", "--steps", "15", "--hidden", "3"])
    assert set(results) == {"Aut(C_n)", "S_n", "MLP"}
    assert results["Aut(C_n)"]["equivariance"] < 1e-4 and results["S_n"]["equivariance"] < 1e-4
    assert all(np.isfinite(r["test"]) for r in results.values())
    assert "Aut(C_n)" in capsys.readouterr().out
