"""SO(n), Sp(n), A_n, H_n and B_n through the compiler and the runtime.

Oracles: the dense matrices G.matrix(d) (checked against the definitions in test_groups_classical),
brute-force tensors written here from the definitions (ε-diagrams, jellyfish, Sp's cap and cup),
the composition law (compiled f then compiled g equals compiled f >> g), random group elements
(equivariance, and its failure for reflections and odd permutations) and gradcheck.
"""

from __future__ import annotations

import importlib.util
import itertools
from fractions import Fraction
from functools import partial

import numpy as np
import pytest
import torch

import catnn
from catnn.cli import main
from catnn.compiler.backends import emit
from catnn.compiler.write import write_module
from catnn.compiler.plan import build_plan
from catnn.diagram import Diagram
from catnn.errors import CatnnError, GroupError, LimitError
from catnn.groups.alternating import Jellyfish
from catnn.levi_civita import EpsilonDiagram
from catnn.morphism import Morphism
from catnn.nn import EquivariantLinear, ShapeError
from catnn.spec import LayerSpec
from oracle_layers import dense_layer, kron_apply

EMITTERS = {backend: partial(emit, backend=backend) for backend in ("torch", "einsum")}
#: every group and size of the sweep (n <= 6 where the group is defined)
SWEEP = ([("Sp", n) for n in (2, 4, 6)] + [("SO", n) for n in range(1, 7)] + [("A", n) for n in range(2, 7)]
         + [("H", n) for n in range(1, 7)] + [("B", n) for n in range(1, 7)])


pytestmark = pytest.mark.usefixtures("torch_one_thread")


# -- helpers ------------------------------------------------------------------------------------------
def run_plan(plan, backend, x, w, b=None, n=None):
    """The emitted function of ``plan`` on float64 torch tensors (numpy in, numpy out)."""
    fn = EMITTERS[backend](plan)
    args = [torch.from_numpy(x), torch.from_numpy(w)] + ([torch.from_numpy(b)] if b is not None else [])
    out = fn(*args, **({} if plan.k else {"n": n}))
    return out.detach().numpy()


def apply_morphism(G, m, x, backend="torch"):
    """A morphism at the group's n through its own plan: x (B, n, .., n) -> (B, n, .., n)."""
    plan = build_plan(G, m.k, m.l, m.diagrams)
    w = np.array([float(c) for _, c in m.evaluate(G.n)]).reshape(-1, 1, 1)
    return run_plan(plan, backend, x[:, None], w, n=G.n)[:, 0]


def parity(values) -> int:
    """The sign of the permutation that sorts distinct ``values``."""
    values = list(values)
    inversions = sum(1 for i in range(len(values)) for j in range(i + 1, len(values)) if values[i] > values[j])
    return -1 if inversions % 2 else 1


def brute_epsilon(d: EpsilonDiagram, n: int) -> np.ndarray:
    """H[x] = ε(x at the free vertices, in label order) · Π δ over the pairs (math.md §a.7), by loops."""
    m = d.k + d.l
    out = np.zeros((n,) * m)
    for x in itertools.product(range(n), repeat=m):
        legs = [x[v - 1] for v in d.free]
        if len(set(legs)) == n and all(x[a - 1] == x[b - 1] for a, b in d.pairs):
            out[x] = parity(legs)
    return out.reshape(n**d.l, n**d.k)


def brute_jellyfish(j: Jellyfish, n: int) -> np.ndarray:
    """J[x] = [x constant on blocks] · ε(v_1, .., v_t[, missing value]) (math.md §a.8), by loops."""
    m = j.k + j.l
    blocks = sorted(j.blocks, key=min)
    out = np.zeros((n,) * m)
    for x in itertools.product(range(n), repeat=m):
        values = [x[b[0] - 1] for b in blocks]
        if all(x[v - 1] == x[b[0] - 1] for b in blocks for v in b) and len(set(values)) == len(values):
            out[x] = parity(values + [v for v in range(n) if v not in values])
    return out.reshape(n**j.l, n**j.k)


def plainly_summed(d) -> int:
    """Blocks lying wholly among the inputs and not touched by a Levi-Civita head."""
    if isinstance(d, Jellyfish):
        return 0
    blocks = d.pairs if isinstance(d, EpsilonDiagram) else d.blocks
    return sum(1 for b in blocks if min(b) > d.l)


def symplectic_form(n: int) -> np.ndarray:
    J = np.zeros((n, n))
    for t in range(0, n, 2):
        J[t, t + 1], J[t + 1, t] = 1, -1
    return J


def act(g: np.ndarray, t: torch.Tensor) -> torch.Tensor:
    """g on every trailing axis of (B, C, n, .., n)."""
    return torch.from_numpy(kron_apply(g, t.detach().numpy()))


def layer_with_bias(group, k, l, n, backend="torch", **options):
    layer = EquivariantLinear(group, k, l, 2, 3, n=n, backend=backend, **options).double()
    with torch.no_grad():
        if layer.bias is not None:
            layer.bias.normal_()
    return layer


# -- compiled plans against the dense oracle -----------------------------------------------------------
@pytest.mark.parametrize("name,n", SWEEP, ids=[f"{g}{n}" for g, n in SWEEP])
@pytest.mark.parametrize("m", range(7))
def test_full_spanning_set_plans_equal_dense_oracle(name, n, m, rng):
    """Every (k, l) with k + l = m: the whole spanning set in one layer, bias included, both backends;
    and no core or accumulator has more than max(k, l) axes (nothing of size n^(k+l))."""
    G = catnn.group(name, n=n)
    for k in range(m + 1):
        l = m - k
        diagrams, bias = G.spanning_set(k, l), G.spanning_set(0, l)
        if not diagrams:
            continue
        plan = build_plan(G, k, l, diagrams, bias_diagrams=bias)
        assert max(len(c.labels) for c in plan.cores) <= max(k, l)
        assert max(len(a.labels) for a in plan.mixes) <= l
        x = rng.standard_normal((2, 2) + (n,) * k)
        w, b = rng.standard_normal((len(diagrams), 3, 2)), rng.standard_normal((len(bias), 3))
        expected = dense_layer(G, k, l, diagrams, w, x, bias, b)
        for backend in EMITTERS:
            got = run_plan(plan, backend, x, w, b, n)
            np.testing.assert_allclose(got, expected, atol=1e-9, err_msg=f"{name}({n}) {k} -> {l} {backend}")


SLOW_SWEEP = [(g, n, m) for g, n in [("Sp", 2), ("Sp", 4), ("SO", 2), ("SO", 3), ("SO", 4), ("A", 3), ("A", 4),
                                      ("H", 3), ("B", 3)] for m in (7, 8) if (g, n, m) != ("A", 4, 8)]


@pytest.mark.slow
@pytest.mark.parametrize("name,n,m", SLOW_SWEEP, ids=[f"{g}{n}-{m}" for g, n, m in SLOW_SWEEP])
def test_full_spanning_set_plans_equal_dense_oracle_larger(name, n, m, rng):
    """The same sweep at k + l = 7 and 8 (about two minutes; A_4 at 8 takes six more, so it is left out)."""
    test_full_spanning_set_plans_equal_dense_oracle(name, n, m, rng)


@pytest.mark.parametrize("name,n,k,l", [("SO", 3, 2, 2), ("SO", 3, 3, 2), ("SO", 4, 2, 2), ("Sp", 4, 2, 2),
                                        ("Sp", 2, 3, 1), ("A", 4, 2, 2), ("A", 3, 1, 2), ("A", 3, 3, 1),
                                        ("A", 4, 3, 1), ("H", 3, 2, 2), ("B", 3, 1, 3)])
def test_random_subsets_normalized(name, n, k, l, rng):
    """Random diagram subsets with ``normalize=True``: each plainly summed block divided by n (input
    pairs of ε-diagrams; not the blocks a Levi-Civita head contracts)."""
    G = catnn.group(name, n=n)
    spanning = G.spanning_set(k, l)
    picked = [spanning[i] for i in sorted(rng.choice(len(spanning), min(12, len(spanning)), replace=False))]
    plan = build_plan(G, k, l, picked, normalize=True)
    x, w = rng.standard_normal((3, 2) + (n,) * k), rng.standard_normal((len(picked), 2, 2))
    scales = [float(n) ** -plainly_summed(d) for d in picked]
    expected = dense_layer(G, k, l, picked, w, x, scales=scales)
    for backend in EMITTERS:
        np.testing.assert_allclose(run_plan(plan, backend, x, w), expected, atol=1e-9)


@pytest.mark.parametrize("n,m", [(2, 2), (2, 4), (3, 3), (3, 5), (4, 4)])
def test_epsilon_plans_equal_the_definition(n, m, rng):
    """Each SO(n) ε-diagram alone, against its tensor written from the definition by loops."""
    G = catnn.group("SO", n=n)
    for k in range(m + 1):
        for d in (d for d in G.spanning_set(k, m - k) if isinstance(d, EpsilonDiagram)):
            x = rng.standard_normal((2, 1) + (n,) * k)
            expected = (x.reshape(2, -1) @ brute_epsilon(d, n).T).reshape((2, 1) + (n,) * d.l)
            for backend in EMITTERS:
                got = run_plan(build_plan(G, k, d.l, [d]), backend, x, np.ones((1, 1, 1)), n=n)
                np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=f"{d} {backend}")


@pytest.mark.parametrize("n,m", [(2, 2), (2, 3), (3, 3), (3, 4), (4, 4)])
def test_jellyfish_plans_equal_the_definition(n, m, rng):
    """Each A_n jellyfish alone (n-1 and n blocks), against its tensor written from the definition."""
    G = catnn.group("A", n=n)
    for k in range(m + 1):
        for j in (d for d in G.spanning_set(k, m - k) if isinstance(d, Jellyfish)):
            x = rng.standard_normal((2, 1) + (n,) * k)
            expected = (x.reshape(2, -1) @ brute_jellyfish(j, n).T).reshape((2, 1) + (n,) * j.l)
            for backend in EMITTERS:
                got = run_plan(build_plan(G, k, j.l, [j]), backend, x, np.ones((1, 1, 1)), n=n)
                np.testing.assert_allclose(got, expected, atol=1e-12, err_msg=f"{j} {backend}")


@pytest.mark.parametrize("n", [2, 4, 6])
def test_symplectic_cap_and_cup_are_the_form(n, rng):
    """cap: x -> Σ_ab J[a, b] x[a, b]; cup: 1 -> vec(Jᵀ); swap: minus the flip (J written here)."""
    G, J = catnn.group("Sp", n=n), symplectic_form(n)
    x = rng.standard_normal((3, n, n))
    np.testing.assert_allclose(apply_morphism(G, G.lift(catnn.diagram("cap", G)), x), np.einsum("ab,zab->z", J, x))
    cup = apply_morphism(G, G.lift(catnn.diagram("cup", G)), np.ones((1,)))
    np.testing.assert_allclose(cup[0], J.T)
    np.testing.assert_allclose(apply_morphism(G, G.lift(catnn.diagram("swap", G)), x), -x.transpose(0, 2, 1))


def random_morphism(G, k, l, rng, terms=3):
    """A random combination of the group's spanning diagrams with rational coefficients."""
    spanning = G.spanning_set(k, l)
    picked = rng.choice(len(spanning), min(terms, len(spanning)), replace=False)
    parts = [Fraction(int(rng.integers(-4, 5)) or 1, int(rng.integers(1, 4))) * G.lift(spanning[i]) for i in picked]
    return sum(parts[1:], parts[0])


@pytest.mark.parametrize("name,n,arities", [("Sp", 2, (2, 2, 2)), ("Sp", 4, (1, 3, 1)), ("Sp", 4, (3, 1, 3)),
                                            ("SO", 3, (2, 1, 2)), ("SO", 3, (1, 2, 3)), ("SO", 2, (2, 2, 2)),
                                            ("SO", 4, (2, 2, 2)), ("B", 3, (2, 1, 2)), ("H", 3, (2, 2, 2))])
def test_compiled_composition_law(name, n, arities, rng):
    """compiled(f >> g) == compiled(g) ∘ compiled(f): loop values (-n for Sp) and ε·ε at n."""
    G = catnn.group(name, n=n)
    for _ in range(4):
        f = random_morphism(G, arities[0], arities[1], rng)
        g = random_morphism(G, arities[1], arities[2], rng)
        fg = G.compose(f, g)
        x = rng.standard_normal((2,) + (n,) * arities[0])
        expected = apply_morphism(G, g, apply_morphism(G, f, x))
        if fg.is_zero():
            np.testing.assert_allclose(expected, 0, atol=1e-9)
            continue
        for backend in EMITTERS:
            np.testing.assert_allclose(apply_morphism(G, fg, x, backend), expected, atol=1e-9)


# -- layers ------------------------------------------------------------------------------------------
EQUIVARIANCE = [("SO", 3, 2, 2), ("SO", 3, 3, 2), ("SO", 3, 1, 2), ("SO", 4, 2, 2), ("SO", 2, 1, 1),
                ("Sp", 2, 2, 2), ("Sp", 4, 2, 2), ("Sp", 4, 3, 1), ("Sp", 6, 1, 3), ("A", 4, 2, 2),
                ("A", 5, 3, 2), ("A", 3, 2, 1), ("H", 3, 2, 2), ("H", 4, 3, 1), ("B", 3, 2, 2), ("B", 4, 1, 2)]


@pytest.mark.parametrize("name,n,k,l", EQUIVARIANCE)
@pytest.mark.parametrize("backend", sorted(EMITTERS))
def test_layers_are_equivariant(name, n, k, l, backend):
    """layer(g · x) == g · layer(x) for random elements of the group (its own sample, same basis)."""
    G = catnn.group(name, n=n)
    layer = layer_with_bias(name, k, l, n, backend)
    x = torch.randn((3, 2) + (n,) * k, dtype=torch.float64)
    y = layer(x)
    assert y.shape == (3, 3) + (n,) * l and y.abs().max() > 1e-3
    for seed in range(3):
        g = np.asarray(G.sample(np.random.default_rng(seed)), dtype=float)
        torch.testing.assert_close(layer(act(g, x)), act(g, y), atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("n,k,l", [(3, 2, 1), (3, 3, 2), (2, 1, 1), (4, 2, 2)])
def test_epsilon_layers_are_not_reflection_equivariant(n, k, l):
    """A layer of ε-diagrams only picks up det = -1 under a reflection: f(R x) = -R f(x) != R f(x)."""
    G = catnn.group("SO", n=n)
    eps = [d for d in G.spanning_set(k, l) if isinstance(d, EpsilonDiagram)]
    layer = EquivariantLinear(G, k, l, 2, 2, diagrams=eps, bias=False).double()
    R = np.eye(n)
    R[0, 0] = -1
    x = torch.randn((2, 2) + (n,) * k, dtype=torch.float64)
    y = layer(x)
    assert y.abs().max() > 1e-3
    torch.testing.assert_close(layer(act(R, x)), -act(R, y))


def test_jellyfish_layers_are_not_symmetric_group_equivariant():
    """Jellyfish flip sign under an odd permutation: A_4- but not S_4-equivariant."""
    G = catnn.group("A", n=4)
    jelly = [d for d in G.spanning_set(2, 2) if isinstance(d, Jellyfish)]
    layer = EquivariantLinear(G, 2, 2, 2, 2, diagrams=jelly, bias=False).double()
    P = np.eye(4)[[1, 0, 2, 3]]
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    y = layer(x)
    assert y.abs().max() > 1e-3
    torch.testing.assert_close(layer(act(P, x)), -act(P, y))


def test_symplectic_layers_are_not_orthogonal_equivariant():
    """An orthogonal matrix that is not symplectic breaks the Sp(4) layer (the test can fail)."""
    layer = layer_with_bias("Sp", 2, 2, 4)
    g = np.eye(4)[[0, 2, 1, 3]]                     # orthogonal, gᵀ J g != J
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    assert (layer(act(g, x)) - act(g, layer(x))).abs().max() > 1e-3


@pytest.mark.parametrize("name,n,k,l", [("SO", 3, 2, 1), ("SO", 3, 1, 2), ("Sp", 4, 2, 2), ("Sp", 2, 1, 3),
                                        ("A", 3, 2, 1), ("A", 3, 1, 2), ("H", 2, 2, 2), ("B", 2, 1, 2)])
@pytest.mark.parametrize("backend", sorted(EMITTERS))
def test_gradcheck(name, n, k, l, backend):
    """Gradients for input, weights and bias (and second derivatives) against finite differences."""
    layer = EquivariantLinear(name, k, l, 1, 2, n=n, backend=backend).double()
    fn = layer._function.function
    x = torch.randn((1, 1) + (n,) * k, dtype=torch.float64, requires_grad=True)
    args = (x, layer.weight) + ((torch.randn_like(layer.bias, requires_grad=True),) if layer.bias is not None else ())
    assert torch.autograd.gradcheck(fn, args, fast_mode=True)
    assert torch.autograd.gradgradcheck(fn, args, fast_mode=True)


@pytest.mark.parametrize("name", ["Sp", "H", "B"])
def test_layers_with_n_free(name):
    """Sp, H and B spanning sets do not depend on n: one layer runs at every valid n, equal to the
    layer built for that n with the same weights."""
    free = layer_with_bias(name, 2, 2, None)
    for n in (2, 4):
        fixed = EquivariantLinear(name, 2, 2, 2, 3, n=n).double()
        fixed.load_state_dict(free.state_dict())
        x = torch.randn(2, 2, n, n, dtype=torch.float64)
        torch.testing.assert_close(free(x), fixed(x))


def test_size_errors():
    """Groups whose spanning set needs n refuse n=None; a free-n layer refuses sizes it has no
    constants for."""
    for name in ("SO", "A"):
        with pytest.raises(GroupError, match="depends on n"):
            EquivariantLinear(name, 2, 2, 1, 1)
    with pytest.raises(ShapeError, match="even"):
        EquivariantLinear("Sp", 2, 2, 1, 1)(torch.randn(1, 1, 3, 3))
    eps = EpsilonDiagram([1, 2, 3], [], k=1, l=2)
    layer = EquivariantLinear("SO", 1, 2, 1, 1, diagrams=[eps], bias=False)
    assert layer(torch.randn(1, 1, 3)).shape == (1, 1, 3, 3)
    with pytest.raises(ShapeError, match="eps3_2 needs n = 3, got n=4"):
        layer(torch.randn(1, 1, 4))
    assert issubclass(LimitError, CatnnError)


# -- programs and compiled modules -------------------------------------------------------------------
PROGRAMS = {
    "so3": """
group SO(3)
diagram cross : 2 -> 1 = eps[1, 1', 2']
morphism hat = -eps[1, 2, 1']
morphism rot = eps(1, 2) >> eps(2, 1) + 1/2 * {1, 1'}
layer edge : 3 -> 2 = learn(eps[1, 2, 1'] {2', 3'}, eps[1, 1', 2'] {2, 3'} - 1/3 * eps[2, 1', 3'] {1, 2'})
layer mixer : 3 -> 2
layer pool : 3 -> 0
""",
    "sp4": """
group Sp(4)
morphism omega = cap
morphism twist = 1/2 * (id(2) + swap) - 1/n * (cap >> cup)
layer edge : 2 -> 2
layer pick : 2 -> 2 = learn(id(2), swap - cap >> cup)
layer lift : 1 -> 3
""",
    "a5": """
group A(5)
diagram head = jelly[{1, 1'} {2'} {3'} {4'}]
morphism both = jelly[{1', 2'} {3'} {4'} {5'} {6'}] + {1', 2', 3', 4', 5', 6'}
layer three : 3 -> 2
layer pick : 2 -> 2 = learn(id(2), jelly[{1} {2} {1'} {2'}], swap - jelly[{1} {2'} {2} {1'}])
""",
    "h4": "group H(4)\nmorphism m = {1, 2, 1', 2'} - {1, 2} {1', 2'}\nlayer edge : 2 -> 2\n",
    "b3": "group B(3)\nmorphism m = {1, 1'} {2} {2'}\nlayer edge : 2 -> 2\nlayer up : 1 -> 2\n",
}


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=sorted(PROGRAMS))
def program(request):
    return request.param, catnn.compile(PROGRAMS[request.param], f"{request.param}.diag")


@pytest.mark.parametrize("backend", sorted(EMITTERS))
def test_programs_compile_to_modules_equal_to_memory(program, backend, tmp_path):
    """Each program's module (constants' source pasted in): layers equal the in-memory layers with
    the same weights; morphisms equal the dense matrices."""
    key, prog = program
    path = tmp_path / f"{key}_{backend}.py"
    path.write_text(write_module(prog, backend=backend))
    module = load_module(path, f"{key}_{backend}")
    G, n = prog.group, prog.group.n
    for name, value in prog.definitions.items():
        if isinstance(value, LayerSpec):
            compiled = getattr(module, name)(2, 3).double()
            with torch.no_grad():
                if compiled.bias is not None:
                    compiled.bias.normal_()
            memory = EquivariantLinear.from_spec(value, 2, 3, backend=backend).double()
            memory.load_state_dict(compiled.state_dict())
            x = torch.randn((2, 2) + (n,) * value.k, dtype=torch.float64)
            torch.testing.assert_close(compiled(x), memory(x), rtol=0, atol=0)
            g = torch.from_numpy(np.asarray(G.sample(np.random.default_rng(5)), dtype=float))
            torch.testing.assert_close(compiled(act(g.numpy(), x)), act(g.numpy(), compiled(x)))
        else:
            m = value if isinstance(value, Morphism) else Morphism.of(value, 1, G.loop)
            x = np.random.default_rng(1).standard_normal((3,) + (n,) * m.k)
            expected = x.reshape(3, -1) @ np.asarray(G.matrix(value), dtype=float).T
            got = getattr(module, name)(torch.from_numpy(x)).numpy().reshape(3, -1)
            np.testing.assert_allclose(got, expected, atol=1e-9, err_msg=name)
            np.testing.assert_allclose(apply_morphism(G, m, x, backend).reshape(3, -1), expected, atol=1e-9)


def test_modules_paste_their_constants():
    """The standalone module defines the constant builders it uses and imports only torch."""
    text = write_module(catnn.compile(PROGRAMS["so3"]))
    assert "def _rt__const_eps3_3(n):" in text and "import catnn" not in text
    assert "def _rt__const_J(n):" in write_module(catnn.compile(PROGRAMS["sp4"]), backend="einsum")
    assert "def _rt__const_jelly4_4(n):" in write_module(catnn.compile(PROGRAMS["a5"]))


EXAMPLES = {"so3_vectors": "SO", "sp4_forms": "Sp"}


@pytest.mark.parametrize("stem", sorted(EXAMPLES))
def test_example_compiles_with_the_cli(stem, tmp_path):
    """``catnn compile`` writes a module for each new example; its layers are equivariant."""
    source = f"examples/{stem}.diag"
    prog = catnn.load(source)
    out = tmp_path / f"{stem}.py"
    assert main(["compile", source, "-o", str(out)]) == 0
    module = load_module(out, stem)
    G, n = prog.group, prog.group.n
    g = np.asarray(G.sample(np.random.default_rng(2)), dtype=float)
    for name, value in prog.definitions.items():
        if isinstance(value, LayerSpec):
            layer = getattr(module, name)(2, 2).double()
            x = torch.randn((2, 2) + (n,) * value.k, dtype=torch.float64)
            torch.testing.assert_close(layer(act(g, x)), act(g, layer(x)))


def test_so3_vectors_example():
    prog = catnn.load("examples/so3_vectors.diag")
    G = prog.group
    assert G == catnn.group("SO", n=3)
    a, b, c = np.random.default_rng(3).standard_normal((3, 3))
    M = lambda x: np.asarray(G.matrix(x), dtype=float)  # noqa: E731
    np.testing.assert_allclose(M(prog.cross) @ np.kron(a, b), np.cross(a, b))
    np.testing.assert_allclose(M(prog.triple) @ np.kron(np.kron(a, b), c), np.linalg.det(np.stack([a, b, c])))
    hat = (M(prog.hat) @ a).reshape(3, 3)
    np.testing.assert_allclose(hat @ b, np.cross(a, b))
    np.testing.assert_allclose(hat, -hat.T)
    swap = M(catnn.diagram("swap", G))
    np.testing.assert_allclose(M(prog.eps_eps), np.eye(9) - swap)
    assert prog.cross_again == Morphism.of(prog.cross, 1, G.loop)
    counts = {name: len(G.spanning_set(prog[name].k, prog[name].l))
              for name in ("vectors", "matrices", "pairs", "mixer")}
    assert counts == {"vectors": 1, "matrices": 3, "pairs": 1, "mixer": 10}
    assert G.dimension(3, 2) == 6
    assert all(isinstance(d, EpsilonDiagram) for d in G.spanning_set(3, 2))


def test_sp4_forms_example():
    prog = catnn.load("examples/sp4_forms.diag")
    G = prog.group
    assert G == catnn.group("Sp", n=4)
    J = symplectic_form(4)
    M = lambda x: np.asarray(G.matrix(x), dtype=float)  # noqa: E731
    a, b = np.random.default_rng(4).standard_normal((2, 4))
    np.testing.assert_allclose(M(prog.omega) @ np.kron(a, b), a @ J @ b)
    assert M(prog.loop).item() == -4
    assert prog.snake_left == prog.snake_right == G.lift(Diagram.identity(1))
    X = np.random.default_rng(5).standard_normal((4, 4))
    np.testing.assert_allclose((M(prog.antisym) @ X.reshape(-1)).reshape(4, 4), (X - X.T) / 2)
    np.testing.assert_allclose((M(prog.sym) @ X.reshape(-1)).reshape(4, 4), (X + X.T) / 2)
    P = M(prog.along_form)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    assert round(np.trace(P)) == 1
    assert G.compose(prog.along_form, prog.along_form) == prog.along_form
    image = (P @ X.reshape(-1)).reshape(4, 4)
    np.testing.assert_allclose(image, np.sum(J * X) / np.sum(J * J) * J, atol=1e-12)
    assert len(G.spanning_set(2, 2)) == 3 and len(G.spanning_set(4, 0)) == 3
