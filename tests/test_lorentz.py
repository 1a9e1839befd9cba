"""O(p,q) and SO(p,q) (the Lorentz group O(1,3)) against independent oracles (math.md §a.5, §a.7, §g).

- dimensions: the commutant oracle of tests/oracles.py (null space of the Lie algebra
  so(p,q) = {η^{-1} A : A antisymmetric} acting on (R^n)^{⊗k} ⊗ (R^n)^{*⊗l}, plus one time and one
  space reflection for O(p,q), or their product for SO(p,q)), no diagrams, for p + q <= 5 and
  k + l <= 6 with n^(k+l) <= 4096; rank(spanning set) == dimension() == the oracle;
- every spanning matrix commutes with sampled elements (boosts with rapidity up to 2, parity,
  time reversal) to relative 1e-10 in float64; SO(p,q)'s ε-matrices break under parity;
- the functor from its definition: cap = η, cup = η^{-1}, a loop is n; exact functoriality of
  ``G.compose`` and ``G.tensor`` on random chains (with loops and ε·ε terms);
- layers (both backends, compiled programs) equal the dense matrices, are equivariant, gradcheck;
- network rules (no norm nonlinearities) and golden errors.
"""

from __future__ import annotations

import importlib.util
import itertools
import re

import numpy as np
import pytest
import torch

import catnn
import oracles
from catnn.compiler.write import write_module
from catnn.compiler.kernels import constant_value
from catnn.compiler.layer import layer_structure
from catnn.compiler.check_network import check_stage
from catnn.diagram import Diagram, cap, cup, identity, swap
from catnn.errors import CompileError, GroupError
from catnn.groups import group
from catnn.levi_civita import EpsilonDiagram
from catnn.nn import EquivariantLinear
from oracle_layers import dense_layer, kron_apply

SIGNATURES = [(p, q) for n in range(2, 6) for p in range(1, n) for q in (n - p,)] + [(3, 0), (0, 2)]


def _eta(p: int, q: int) -> np.ndarray:
    return np.diag([1.0] * p + [-1.0] * q)


def _oracle_generators(p: int, q: int, special: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """so(p,q) from its definition, and reflections of one time axis and one space axis."""
    n = p + q
    eta_inv = np.linalg.inv(_eta(p, q))
    lie = []
    for i in range(n):
        for j in range(i + 1, n):
            A = np.zeros((n, n))
            A[i, j], A[j, i] = 1.0, -1.0
            lie.append(eta_inv @ A)
    reflections = []
    for axis in ([0] if p else []) + ([n - 1] if q else []):
        r = np.eye(n)
        r[axis, axis] = -1.0
        reflections.append(r)
    if special:
        reflections = [reflections[0] @ reflections[1]] if len(reflections) == 2 else []
    return reflections, lie


def _cases(limit: int, all_pairs: bool):
    for p, q in SIGNATURES:
        n = p + q
        for m in range(7):
            if n**m > limit:
                continue
            pairs = [(k, m - k) for k in range(m + 1)] if all_pairs else [(m // 2, m - m // 2)]
            for name in ("O", "SO"):
                for k, l in pairs:
                    yield pytest.param(name, p, q, k, l, id=f"{name}({p},{q})-{k}to{l}")


def _fast(case) -> bool:
    """One (k, l) per k + l: n^(k+l) <= 256, or <= 1024 for 1 <= p <= q, and O(1,3), SO(1,3) at 3 -> 3."""
    _, p, q, k, l = case.values
    size = (p + q) ** (k + l)
    return size <= 256 or (size <= 1024 and 1 <= p <= q) or (p, q, k, l) == (1, 3, 3, 3)


#: the fast tier (``_fast``); ``-m slow`` runs every (k, l) up to n^(k+l) = 4096
FAST = [c for c in _cases(4096, all_pairs=False) if _fast(c)]
SLOW = [c for c in _cases(4096, all_pairs=True) if c not in FAST]


def _relative_error(W: np.ndarray, g: np.ndarray, k: int, l: int) -> float:
    """|g^{⊗l} W g^{-⊗k} - W| relative to |W| times the growth |g|^l |g^{-1}|^k of the action."""
    growth = np.linalg.norm(g, 2) ** l * np.linalg.norm(np.linalg.inv(g), 2) ** k
    return float(np.abs(oracles.conjugate(W, g, k, l) - W).max() / (np.abs(W).max() * growth))


def _check(name: str, p: int, q: int, k: int, l: int) -> None:
    G = group(f"{name}({p},{q})")
    spanning = G.spanning_set(k, l)
    elements, lie = _oracle_generators(p, q, special=name == "SO")
    truth = oracles.commutant_dimension(k, l, p + q, elements, lie)
    matrices = [G.matrix(d) for d in spanning]
    assert oracles.matrix_rank(matrices) == G.dimension(k, l) == truth
    basis = G.basis(k, l)
    assert len(basis) == truth == oracles.matrix_rank([G.matrix(d) for d in basis])
    rng = np.random.default_rng(1000 * p + 100 * q + 10 * k + l)
    for _ in range(2):
        g = G.sample(rng)
        for W in matrices:
            assert _relative_error(W, g, k, l) < 1e-10


@pytest.mark.parametrize("name, p, q, k, l", FAST)
def test_rank_dimension_oracle_basis_equivariance(name, p, q, k, l):
    _check(name, p, q, k, l)


@pytest.mark.slow
@pytest.mark.parametrize("name, p, q, k, l", SLOW)
def test_rank_dimension_oracle_basis_equivariance_all_pairs(name, p, q, k, l):
    _check(name, p, q, k, l)


def test_dimensions_equal_those_of_o_n_and_so_n():
    """The claim of math.md §g, checked on catnn's numbers (the oracle test checks them against truth)."""
    for p, q in SIGNATURES:
        for m in range(7):
            k, l = m // 2, m - m // 2
            assert group(f"O({p},{q})").dimension(k, l) == group("O", n=p + q).dimension(k, l)
            assert group(f"SO({p},{q})").dimension(k, l) == group("SO", n=p + q).dimension(k, l)


# -- samples --------------------------------------------------------------------------------------
@pytest.mark.parametrize("p, q", SIGNATURES)
def test_samples_lie_in_their_groups_and_reach_every_component(p, q):
    eta = _eta(p, q)
    rng = np.random.default_rng(p * 10 + q)
    for name in ("O", "SO"):
        G = group(f"{name}({p},{q})")
        components, spread = set(), []
        for _ in range(40):
            g = G.sample(rng)
            np.testing.assert_allclose(g.T @ eta @ g, eta, atol=1e-12)
            # the component: signs of det and of the time-time block's determinant
            time_block = np.linalg.det(g[:p, :p]) if p else 1.0
            components.add((round(np.linalg.det(g)), int(np.sign(time_block))))
            spread.append(np.linalg.norm(g, 2))      # e^{max |rapidity|}
        expected = 4 if name == "O" and p and q else 1 if name == "SO" and not (p and q) else 2
        assert len(components) == expected
        if name == "SO":
            assert {det for det, _ in components} == {1}
        assert max(spread) <= np.exp(2.0) + 1e-9
        if p and q:
            assert max(spread) > 2.0                 # boosts happen (a rotation has norm 1)


def test_lorentz_parity_and_time_reversal():
    """O(1,3)'s matrices commute with P = diag(1, -1, -1, -1) and T = diag(-1, 1, 1, 1); SO(1,3)'s
    ε-matrices change sign under each (and survive PT)."""
    P, T = np.diag([1.0, -1, -1, -1]), np.diag([-1.0, 1, 1, 1])
    G, H = group("O(1,3)"), group("SO(1,3)")
    for k, l in [(1, 1), (2, 2), (0, 4), (3, 1), (2, 0)]:
        for d in G.spanning_set(k, l):
            W = G.matrix(d)
            for g in (P, T):
                np.testing.assert_array_equal(oracles.conjugate(W, g, k, l), W)
        eps = [d for d in H.spanning_set(k, l) if isinstance(d, EpsilonDiagram)]
        assert bool(eps) == (k + l == 4)
        for d in eps:
            W = H.matrix(d).astype(float)
            np.testing.assert_array_equal(oracles.conjugate(W, P, k, l), -W)
            np.testing.assert_array_equal(oracles.conjugate(W, T, k, l), -W)
            np.testing.assert_array_equal(oracles.conjugate(W, P @ T, k, l), W)


# -- the functor from its definition -------------------------------------------------------------
@pytest.mark.parametrize("p, q", [(1, 3), (3, 1), (2, 2), (1, 1), (2, 1)])
def test_cap_cup_loop_and_strands(p, q):
    n = p + q
    eta = _eta(p, q)
    for name in ("O", "SO"):
        G = group(f"{name}({p},{q})")
        np.testing.assert_array_equal(G.form, eta)
        np.testing.assert_array_equal(G.matrix(cap()), eta.reshape(1, n * n))          # x ⊗ y ↦ xᵀηy
        np.testing.assert_array_equal(G.matrix(cup()), np.linalg.inv(eta).reshape(n * n, 1))
        np.testing.assert_array_equal(G.matrix(identity(2)), np.eye(n * n))
        swap_matrix = np.eye(n * n)[[j * n + i for i in range(n) for j in range(n)]]
        np.testing.assert_array_equal(G.matrix(swap()), swap_matrix)
        assert G.matrix(G.compose(cup(), cap())).tolist() == [[n]]                        # a loop is n
        snake = G.compose(cup() @ identity(1), identity(1) @ cap())
        np.testing.assert_array_equal(G.matrix(snake), np.eye(n))


def test_lorentz_epsilon_is_eps_with_lowered_inputs():
    """ε(1,3) with two inputs: W[a, b; c, d] = ε_{abef} η^{ec} η^{fd}, built from np arrays only."""
    H = group("SO(1,3)")
    eta = _eta(1, 3)
    eps = np.zeros((4,) * 4)
    for perm in itertools.permutations(range(4)):
        eps[perm] = np.linalg.det(np.eye(4)[list(perm)])
    expected = np.einsum("abef,ec,fd->abcd", eps, eta, eta).reshape(16, 16)
    np.testing.assert_array_equal(H.matrix(H.generator("eps", (2, 2))), expected)


def _random_diagram(rng, k, l, n, special):
    m = k + l
    options = (["brauer"] if m % 2 == 0 else []) + (["eps"] if special and m >= n and (m - n) % 2 == 0 else [])
    if options[int(rng.integers(len(options)))] == "brauer":
        return oracles.random_diagram(rng, k, l, brauer=True)
    order = (rng.permutation(m) + 1).tolist()
    free, rest = order[:n], order[n:]
    return EpsilonDiagram(free, [rest[i:i + 2] for i in range(0, len(rest), 2)], k, l)


def _chain(rng, n, special):
    while True:
        ks = [int(x) for x in rng.integers(0, 5, size=3)]
        if all((a + b) % 2 == 0 or (special and a + b >= n and (a + b - n) % 2 == 0) for a, b in zip(ks, ks[1:])):
            return ks


@pytest.mark.parametrize("name, p, q", [("O", 1, 3), ("O", 2, 1), ("SO", 1, 3), ("SO", 2, 2), ("SO", 1, 2),
                                        ("SO", 1, 1)])
def test_functoriality_exact(name, p, q):
    n = p + q
    G = group(f"{name}({p},{q})")
    rng = np.random.default_rng(7 * p + q)
    epsilon_pairs = 0
    for _ in range(40):
        a, b, c = _chain(rng, n, name == "SO")
        f, g = _random_diagram(rng, a, b, n, name == "SO"), _random_diagram(rng, b, c, n, name == "SO")
        epsilon_pairs += isinstance(f, EpsilonDiagram) and isinstance(g, EpsilonDiagram)
        composed = G.compose(f, g)
        assert all(G.accepts(d) for d in composed.diagrams)
        assert np.array_equal(G.matrix(composed), G.matrix(g) @ G.matrix(f))
        if n ** (a + 2 * b + c) <= 2**16:
            tensor = G.tensor(f, g) if name == "SO" else G.lift(f) @ G.lift(g)
            assert np.array_equal(G.matrix(tensor), np.kron(G.matrix(f), G.matrix(g)))
    assert name == "O" or epsilon_pairs > 0


def test_epsilon_contraction_carries_det_eta():
    """ε^{μνρσ} ε_{μνρσ} = -4! in Minkowski space (det η = -1), +4! in SO(4) and SO(2,2)."""
    for name, value in [("SO(1,3)", -24), ("SO(3,1)", -24), ("SO(2,2)", 24), ("SO(4,0)", 24)]:
        H = group(name)
        e = H.generator("eps")
        assert H.matrix(H.compose(e, e.T)).tolist() == [[value]]
        assert (H.matrix(e.T) @ H.matrix(e)).tolist() == [[value]]


# -- names and errors -----------------------------------------------------------------------------
def test_names_and_equality():
    G = group("O(1,3)")
    assert (G.p, G.q, G.n, G.name, str(G), repr(G)) == (1, 3, 4, "O(1,3)", "O(1,3)", "catnn.group('O(1,3)')")
    assert group(" so ( 2 , 1 ) ").name == "SO(2,1)"
    assert group("O(1,3)") == G and group("O(3,1)") != G and group("O", n=4) != G
    assert group("O(1,3)", n=4) == G
    assert len({G, group("O(1,3)"), group("SO(1,3)")}) == 2
    np.testing.assert_array_equal(group("O(3,1)").form, np.diag([1, 1, 1, -1]))


@pytest.mark.parametrize("text, needle", [
    ("O(1,-3)", "p, q >= 0 with p + q >= 1"),
    ("O(0,0)", "got p=0, q=0"),
    ("SO(-1,2)", "SO(p,q) needs integers"),
])
def test_bad_signatures(text, needle):
    with pytest.raises(GroupError, match=re.escape(needle)):
        group(text)


def test_wrong_size_and_partition_diagrams():
    with pytest.raises(GroupError, match=r"SO\(1,3\) needs n=4, got n=5"):
        group("SO(1,3)", n=5)
    with pytest.raises(GroupError, match="pair"):
        group("O(1,3)").matrix(Diagram.from_blocks([[1, 2, 3]], k=3, l=0))


# -- layers, compiled programs, networks -----------------------------------------------------------
LAYERS = [("O(1,3)", 2, 2), ("O(1,3)", 1, 3), ("O(1,3)", 2, 0), ("O(1,3)", 0, 2), ("SO(1,3)", 2, 2),
          ("SO(1,3)", 1, 3), ("SO(1,3)", 3, 1), ("SO(1,3)", 0, 4), ("O(2,1)", 3, 1), ("SO(2,1)", 2, 1),
          ("SO(1,2)", 1, 2), ("O(2,2)", 2, 2), ("SO(1,1)", 1, 1)]


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _random_layer(name, k, l, backend, seed=0):
    torch.manual_seed(seed)
    layer = EquivariantLinear(name, k, l, 2, 3, backend=backend).double()
    with torch.no_grad():
        layer.weight.normal_()
        if layer.bias is not None:
            layer.bias.normal_()
    return layer


@pytest.mark.parametrize("backend", ["torch", "einsum"])
@pytest.mark.parametrize("name, k, l", LAYERS)
def test_layers_equal_dense_matrices_and_are_equivariant(name, k, l, backend):
    G = group(name)
    n = G.n
    layer = _random_layer(name, k, l, backend)
    assert len(layer.diagrams) == len(G.spanning_set(k, l))
    x = torch.randn((4, 2) + (n,) * k, dtype=torch.float64)
    y = layer(x).detach().numpy()
    bias = None if layer.bias is None else layer.bias.detach().numpy()
    expected = dense_layer(G, k, l, layer.diagrams, layer.weight.detach().numpy(), x.numpy(),
                           layer.plan.bias_diagrams, bias)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    rng = np.random.default_rng(3)
    for _ in range(3):
        g = G.sample(rng)
        moved = layer(torch.from_numpy(kron_apply(g, x.numpy()))).detach().numpy()
        target = kron_apply(g, y)
        assert np.abs(moved - target).max() <= 1e-10 * np.abs(target).max()


def test_so_layers_break_under_parity_and_o_layers_do_not():
    P = np.diag([1.0, -1, -1, -1])
    x = torch.randn((3, 2, 4, 4), dtype=torch.float64)
    for name, broken in [("SO(1,3)", True), ("O(1,3)", False)]:
        layer = _random_layer(name, 2, 2, "torch")
        moved = layer(torch.from_numpy(kron_apply(P, x.numpy()))).detach().numpy()
        error = np.abs(moved - kron_apply(P, layer(x).detach().numpy())).max()
        assert (error > 1e-3) == broken


def test_layers_never_build_dense_eta_arrays():
    """The plan's constants are η's diagonal (n entries) and SO's ε; nothing is larger than SO(4)'s."""
    plan = layer_structure(group("SO(1,3)"), 3, 3).plan
    assert "eta1_3" in plan.constants
    assert all(kind == "eta1_3" or kind.startswith("eps4") for kind in plan.constants)
    assert constant_value("eta1_3", 4) == [1, -1, -1, -1]
    with pytest.raises(ValueError, match="needs n = 4"):
        constant_value("eta1_3", 3)
    euclidean = layer_structure(group("SO", n=4), 3, 3).plan
    for args in [(4,), (4, 8, 16, 16)]:
        assert plan.largest_intermediate(*args) == euclidean.largest_intermediate(*args)


def test_gradcheck_small_layer():
    layer = _random_layer("SO(1,2)", 2, 1, "torch")
    x = torch.randn((2, 2, 3, 3), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (x,), eps=1e-6, atol=1e-8)
    weight = layer.weight.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda w: torch.func.functional_call(layer, {"weight": w}, (x.detach(),)),
                                    (weight,), eps=1e-6, atol=1e-8)


PROGRAM = """group SO(1,3)
morphism eta = cap
layer edge : 2 -> 2
layer vec : 1 -> 1
"""


@pytest.mark.parametrize("backend", ["torch", "einsum"])
def test_compiled_program_and_module(backend, tmp_path):
    prog = catnn.compile(PROGRAM, "lorentz.diag")
    assert prog.group == group("SO(1,3)")
    path = tmp_path / f"lorentz_{backend}.py"
    text = write_module(prog, backend=backend)
    assert "_const_eta1_3(n):" in text and "import catnn" not in text
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(f"lorentz_{backend}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    compiled = module.edge(2, 3).double()
    memory = EquivariantLinear.from_spec(prog.definitions["edge"], 2, 3, backend=backend).double()
    memory.load_state_dict(compiled.state_dict())
    x = torch.randn((2, 2, 4, 4), dtype=torch.float64)
    torch.testing.assert_close(compiled(x), memory(x), rtol=0, atol=0)
    v = np.random.default_rng(0).standard_normal((3, 4, 4))
    got = module.eta(torch.from_numpy(v)).numpy()
    np.testing.assert_allclose(got, np.einsum("bij,ij->b", v, np.diag([1.0, -1, -1, -1])).reshape(got.shape))


def test_network_with_gates_is_equivariant():
    prog = catnn.compile("group O(1,3)\nlayer up : V1 -> V0 + V1\nlayer down : V0 + V1 -> V1\n"
                         "network net : 1 -> 1 = up[2 -> 3*V0 + 4*V1] >> gate >> down[3*V0 + 4*V1 -> 2*V1]\n")
    net = prog.nn.net().double()
    x = torch.randn((3, 2, 4), dtype=torch.float64)
    y = net(x).detach().numpy()
    g = group("O(1,3)").sample(5)
    moved = net(torch.from_numpy(kron_apply(g, x.numpy()))).detach().numpy()
    assert np.abs(moved - kron_apply(g, y)).max() <= 1e-10 * np.abs(y).max() * np.linalg.norm(g, 2) ** 2


@pytest.mark.parametrize("stage, orders, needle", [
    ("norm_relu", (0, 1), "O(1,3) preserves no positive norm (the η-norm"),
    ("relu", (2,), "'relu' is not O(1,3)-equivariant on tensors of order 2: use gate (norm"),
    ("gate", (2,), "or use a k -> 0 layer for invariants"),
])
def test_network_rules(stage, orders, needle):
    with pytest.raises(CompileError, match=re.escape(needle)):
        check_stage(group("O(1,3)"), stage, orders)
    for allowed, ok_orders in [("gate", (0, 2)), ("relu", (0,)), ("norm_relu", (0,))]:
        check_stage(group("SO(1,3)"), allowed, ok_orders)
    check_stage(group("O(3,0)"), "norm_relu", (1,))          # compact: norms are fine
