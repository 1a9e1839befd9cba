"""The three workloads on product groups (examples/nbody.py, exchangeable.py, weight_space.py): each
script's quick mode, and their parts against oracles written here.

Oracles: Coulomb forces summed pair by pair in numpy; a padded batch of matrices against each matrix
alone; the hand-written one-term-per-operation layer (no catnn) against the catnn direct-sum layer with
the same weights; the zoo's networks evaluated after permuting their hidden neurons (the same function);
group elements drawn here (numpy permutations, orthogonal matrices from a QR decomposition, reflections
included).
"""

from __future__ import annotations

import math
import pathlib
import runpy

import numpy as np
import pytest
import torch

import catnn
from catnn.demo import one_thread
from catnn.nn import EquivariantLinear

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


def load(name: str) -> dict:
    """The script's globals, without running its ``if __name__ == "__main__"`` block."""
    return runpy.run_path(str(EXAMPLES / name), run_name=f"example_{name[:-3]}")


def orthogonal(rng: np.random.Generator, det: int) -> torch.Tensor:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if round(np.linalg.det(q)) != det:
        q[:, 0] = -q[:, 0]
    return torch.from_numpy(q)


# -- the product layers these models stand on ---------------------------------------------------------------------------
@pytest.mark.parametrize("k,l", [((1, 0), (1, 0)), ((1, 0), (0, 1)), ((0, 1), (1, 1)), ((1, 0), (0, 0))])
def test_product_layer_gradients_when_a_sort_has_no_input_axes(k, l):
    """The generated backward of a product layer whose input lacks a sort's axes (it read n as None)."""
    layer = EquivariantLinear(catnn.group("S(4) x S(3)"), k, l, 2, 3).double()
    x = torch.randn(2, 2, *([4] * k[0] + [3] * k[1]), dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: layer(t), (x,))


def test_product_layer_means_divide_by_each_sorts_own_size():
    """normalize=True over S(3) x S(4): pooling an item axis divides by 4, a user axis by 3 (it divided by n_0)."""
    G = catnn.group("S(3) x S(4)")
    x = torch.randn(2, 1, 3, 4, dtype=torch.float64)
    cases = (((0, 0), "({1'} | {1'})", x.mean((2, 3))), ((1, 0), "({1, 1'} | {1'})", x.mean(3)),
             ((0, 1), "({1'} | {1, 1'})", x.mean(2)))
    for l, name, want in cases:
        layer = EquivariantLinear(G, (1, 1), l, 1, 1, bias=False, normalize=True).double()
        pooled = [d for d in layer.diagrams if str(d) == name]
        one = EquivariantLinear(G, (1, 1), l, 1, 1, bias=False, normalize=True, diagrams=pooled).double()
        with torch.no_grad():
            one.weight.fill_(1.0)
        assert torch.allclose(one(x), want, atol=1e-12), l


# -- N-body ------------------------------------------------------------------------------------------------------------
def test_nbody_forces_are_coulombs_law_pair_by_pair():
    coulomb = load("nbody.py")["coulomb"]
    rng = np.random.default_rng(0)
    x, q = rng.standard_normal((2, 5, 3)), rng.choice([-1.0, 1.0], (2, 5))
    want = np.zeros_like(x)
    for s, i, j in np.ndindex(2, 5, 5):
        if i != j:
            d = x[s, i] - x[s, j]
            want[s, i] += q[s, i] * q[s, j] * d / np.linalg.norm(d) ** 3
    assert np.allclose(coulomb(torch.from_numpy(x), torch.from_numpy(q), clip=1e9).numpy(), want)


def test_nbody_forces_balance_and_the_clip_keeps_their_direction():
    """Opposite pair forces sum to zero (momentum); the clip shortens a force, never turns it."""
    coulomb = load("nbody.py")["coulomb"]
    x, q = torch.randn(8, 5, 3, dtype=torch.float64), torch.randint(0, 2, (8, 5)).double() * 2 - 1
    free = coulomb(x, q, clip=1e9)
    assert free.sum(1).abs().max() < 1e-9 * free.abs().max()
    clipped = coulomb(x, q, clip=0.5)
    assert clipped.norm(dim=-1).max() <= 0.5 + 1e-12
    cosine = (clipped * free).sum(-1) / (clipped.norm(dim=-1) * free.norm(dim=-1))
    assert torch.allclose(cosine, torch.ones_like(cosine))


def test_nbody_simulation_is_centred_and_reproducible():
    simulate = load("nbody.py")["simulate"]
    (x, _, q), y = simulate(6, 3, burn=40, horizon=40)
    assert torch.allclose(x.mean(1), torch.zeros(6, 3, dtype=torch.float64), atol=1e-12)
    (x1, _, _), y1 = simulate(6, 3, burn=40, horizon=40)
    assert torch.equal(x, x1) and torch.equal(y, y1) and not torch.allclose(x, y)
    assert set(q.unique().tolist()) == {-1.0, 1.0}
    (_, v0, _), _ = simulate(6, 3, burn=0, horizon=1)
    assert torch.allclose(v0.norm(dim=-1), torch.full((6, 5), 0.5, dtype=torch.float64))


def test_nbody_quick_run_reports_every_model_and_the_symmetric_ones_are_exact(capsys):
    results = load("nbody.py")["main"](["--quick"])
    out = capsys.readouterr().out
    for name in ("catnn S_n x O(3)", "EGNN-style", "MLP"):
        assert name in out and math.isfinite(results[name])
    assert results["catnn S_n x O(3): equivariance"] < 1e-9
    assert results["EGNN-style: equivariance"] < 1e-9
    assert results["MLP: equivariance"] > 1e-4


def test_nbody_catnn_model_is_equivariant_under_elements_drawn_here():
    module = load("nbody.py")
    torch.manual_seed(0)
    model = module["CatnnNBody"](channels=4, hidden=8, rounds=2).double()
    for p in model.out.parameters():
        torch.nn.init.normal_(p)
    x, v = torch.randn(3, 5, 3, dtype=torch.float64), torch.randn(3, 5, 3, dtype=torch.float64)
    q = torch.tensor([1.0, -1, 1, 1, -1], dtype=torch.float64).expand(3, 5)
    rng = np.random.default_rng(1)
    y = model(x, v, q)
    for det in (1, -1):
        Q, perm = orthogonal(rng, det), torch.from_numpy(rng.permutation(5))
        assert torch.allclose(model(x[:, perm] @ Q, v[:, perm] @ Q, q[:, perm]), y[:, perm] @ Q, atol=1e-12)
    assert not torch.allclose(model(x, v, q), model(x, v, q[:, [1, 0, 2, 3, 4]]))   # charges matter


# -- exchangeable matrices -----------------------------------------------------------------------------------------------
def test_exchangeable_padded_batch_computes_each_matrix_as_if_alone():
    module = load("exchangeable.py")
    torch.manual_seed(0)
    model = module["CatnnExchangeable"](channels=4, layers=3).double()
    R, seen, rows, cols = (t.double() for t in module["ratings"](3, (2, 6), (2, 7), torch.Generator().manual_seed(2)))
    out = model(R, seen, rows, cols)
    for b in range(3):
        n, m = int(rows[b].sum()), int(cols[b].sum())
        alone = model(R[b:b + 1, :n, :m], seen[b:b + 1, :n, :m], rows[b:b + 1, :n], cols[b:b + 1, :m])
        assert torch.allclose(out[b, :n, :m], alone[0], atol=1e-12)
        assert out[b, n:].abs().max() == 0 and out[b, :, m:].abs().max() == 0


def test_exchangeable_network_commutes_with_users_and_items_permuted():
    module = load("exchangeable.py")
    torch.manual_seed(0)
    model = module["CatnnExchangeable"](channels=4, layers=3).double()
    R, seen = torch.randn(2, 5, 4, dtype=torch.float64), (torch.rand(2, 5, 4) < 0.5).double()
    rows, cols = torch.ones(2, 5, dtype=torch.float64), torch.ones(2, 4, dtype=torch.float64)
    rng = np.random.default_rng(3)
    p, s = torch.from_numpy(rng.permutation(5)), torch.from_numpy(rng.permutation(4))
    y = model(R, seen, rows, cols)
    moved = model(R[:, p][:, :, s], seen[:, p][:, :, s], rows, cols)
    assert torch.allclose(moved, y[:, p][:, :, s], atol=1e-12) and y.std() > 0


def test_exchangeable_quick_run_reports_both_settings(capsys):
    results = load("exchangeable.py")["main"](["--quick"])
    out = capsys.readouterr().out
    for key in ("transductive: catnn S_n x S_m", "transductive: matrix factorisation", "inductive: catnn S_n x S_m",
                "inductive: MLP on row/column statistics"):
        assert math.isfinite(results[key]) and results[key] > 0
    assert "Inductive" in out and "Transductive" in out


# -- weight spaces ---------------------------------------------------------------------------------------------------------
def test_zoo_networks_keep_their_function_when_hidden_neurons_are_permuted():
    module = load("weight_space.py")
    zoo, omega = module["sinusoid_zoo"](4, 5, 0, steps=3)
    x = torch.linspace(-3, 3, 11)
    moved = module["permute_hidden"](zoo, torch.Generator().manual_seed(0))
    assert torch.allclose(module["zoo_forward"](moved, x), module["zoo_forward"](zoo, x), atol=1e-5)
    assert not torch.allclose(moved["W2"], zoo["W2"])
    again, _ = module["sinusoid_zoo"](4, 5, 0, steps=3)        # seeds recorded: the zoo is reproducible
    assert all(torch.equal(again[k], zoo[k]) for k in zoo) and omega.min() >= 0.5 and omega.max() <= 3


def term_of(diagram, k, l) -> tuple[str, ...]:
    """The hand-written layer's term for a catnn block diagram (reduced output order)."""
    words = []
    for part, ks, ls in zip(diagram.parts, k, l):
        words.append("none" if not ks else "id" if str(part) == "{1, 1'}" and ls else "pool")
    return tuple(words)


@pytest.mark.parametrize("sizes", [(3, 4), (2, 3, 2)])
def test_direct_sum_layer_equals_the_hand_written_terms(sizes):
    """catnn's blocks (reduced outputs, broadcast) == one operation per term, weights copied across."""
    module = load("weight_space.py")
    r = len(sizes)
    types = tuple(t for t in ((1,) * r, (0,) * r, (1,) + (0,) * (r - 1), (0,) * (r - 1) + (1,), (1, 1) + (0,) * (r - 2)))
    types = tuple(dict.fromkeys(types))
    G = catnn.group(" x ".join(f"S({n})" for n in sizes))
    torch.manual_seed(0)
    cin, cout = tuple(range(1, len(types) + 1)), (2,) * len(types)
    fast = module["DirectSumLinear"](G, types, cin, types, cout).double()
    slow = module["TermLinear"](types, cin, types, cout).double()
    index = {t: a for a, t in enumerate(slow.terms)}
    with torch.no_grad():
        for j, l in enumerate(types):
            for i, k in enumerate(types):
                block = fast.blocks[f"{i}_{j}"]
                weight = block.effective_weight(tuple(sizes))
                for d, w in zip(block.diagrams, weight):
                    slow.weights[index[(i, j, term_of(d, k, module["reduced"](k, l)))]].copy_(w)
                if block.bias is not None:
                    slow.biases[j].copy_(block.bias[0])
    xs = [torch.randn(3, c, *(n for n, o in zip(sizes, t) if o), dtype=torch.float64) for t, c in zip(types, cin)]
    for a, b in zip(fast(xs), slow(xs)):
        assert torch.allclose(a, b, atol=1e-12) and a.abs().max() > 0


def test_catnn_weight_space_model_is_invariant_in_float64():
    module = load("weight_space.py")
    zoo, _ = module["sinusoid_zoo"](6, 5, 1, steps=3)
    zoo = {k: v.double() for k, v in zoo.items()}
    torch.manual_seed(0)
    model = module["catnn_net"](5).double().eval()
    moved = module["permute_hidden"](zoo, torch.Generator().manual_seed(4))
    y = model(zoo)
    assert (model(moved) - y).abs().max() < 1e-9 * y.abs().max() and y.std() > 0


def test_weight_space_quick_run_invariant_models_do_not_move(capsys):
    results = load("weight_space.py")["main"](["--quick"])
    capsys.readouterr()
    for name in ("catnn S_h1 x S_h2", "NFN/DWS-style (by hand)"):
        assert abs(results[name] - results[f"{name}: permuted"]) < 1e-5 * results[name]
    assert results["MLP on flat weights"] != results["MLP on flat weights: permuted"]
