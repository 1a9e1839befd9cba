"""The Lorentz examples (examples/particle_interaction.py, examples/four_momenta_sets.py) in ``--quick`` mode.

Their targets are checked against formulas computed here from the definitions (lepton tensors built
as 4 x 4 arrays and contracted with η; the heaviest pair by enumerating pairs), their models'
invariance under group elements drawn here (numpy permutations, boosts and rotations built from
their matrices), and their quick runs must be exactly invariant in float64 and beat predicting the mean.
"""

from __future__ import annotations

import doctest
import importlib.util
import itertools
import math
import pathlib
import runpy

import numpy as np
import pytest
import torch

from catnn.demo import one_thread

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
ETA = np.diag([1.0, -1.0, -1.0, -1.0])


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


def load(name: str) -> dict:
    """The script's globals, without running its ``if __name__ == "__main__"`` block."""
    return runpy.run_path(str(EXAMPLES / name), run_name=f"example_{name[:-3]}")


def lorentz(rng: np.random.Generator) -> np.ndarray:
    """A boost along a random axis (rapidity in [-2, 2]) after a random rotation, times parity or time
    reversal at random: built from the matrices, not from catnn."""
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    rotation = np.eye(4)
    rotation[1:, 1:] = q
    n = rng.standard_normal(3)
    n /= np.linalg.norm(n)
    phi = rng.uniform(-2, 2)
    boost = np.eye(4)
    boost[0, 0] = np.cosh(phi)
    boost[0, 1:] = boost[1:, 0] = np.sinh(phi) * n
    boost[1:, 1:] += (np.cosh(phi) - 1) * np.outer(n, n)
    flip = np.diag([(-1.0) ** rng.integers(2), 1.0, 1.0, (-1.0) ** rng.integers(2)])
    g = flip @ boost @ rotation
    assert np.allclose(g.T @ ETA @ g, ETA)
    return g


@pytest.mark.parametrize("name", ["particle_interaction.py", "four_momenta_sets.py"])
def test_the_examples_docstrings(name):
    spec = importlib.util.spec_from_file_location(f"example_{name[:-3]}", EXAMPLES / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = doctest.testmod(module)
    assert result.attempted >= 2 and result.failed == 0


# -- e- mu- -> e- mu- -------------------------------------------------------------------------------------------
def test_amplitude_is_the_contraction_of_the_lepton_tensors(rng):
    amplitude = load("particle_interaction.py")["amplitude"]
    p = rng.standard_normal((20, 4, 4)) / 4
    got_physics = amplitude(torch.from_numpy(p), "physics").numpy()
    got_emlp = amplitude(torch.from_numpy(p), "emlp").numpy()
    for b in range(20):
        p1, p2, p3, p4 = p[b]
        dot = lambda u, v: u @ ETA @ v
        # physics: symmetric tensors with upper indices; lower the muon's with η on both sides
        le = np.outer(p1, p3) + np.outer(p3, p1) - ETA * (dot(p1, p3) - dot(p1, p1))
        lm = np.outer(p2, p4) + np.outer(p4, p2) - ETA * (dot(p2, p4) - dot(p2, p2))
        assert np.isclose(got_physics[b], np.sum(le * (ETA @ lm @ ETA)))
        # EMLP's: unsymmetrised, the electron's upper, the muon's lower, times 4
        le = np.outer(p1, p3) - ETA * (dot(p1, p3) - dot(p1, p1))
        lm = np.outer(ETA @ p2, ETA @ p4) - ETA * (dot(p2, p4) - dot(p2, p2))
        assert np.isclose(got_emlp[b], 4 * np.sum(le * lm))


def test_particle_interaction_models_are_lorentz_invariant_and_the_mlp_is_not(rng):
    module = load("particle_interaction.py")
    torch.manual_seed(0)
    net, mlp = module["LorentzNet"]().double(), module["PlainMLP"]().double()
    x = torch.from_numpy(rng.standard_normal((30, 4, 4)))
    with torch.no_grad():
        for _ in range(4):
            g = torch.from_numpy(lorentz(rng))
            moved = x @ g.T
            torch.testing.assert_close(net(moved), net(x), rtol=1e-9, atol=1e-9)
            assert float((mlp(moved) - mlp(x)).abs().max()) > 1e-3


def test_particle_interaction_quick_run(capsys):
    results = load("particle_interaction.py")["main"](["--quick"])
    out = capsys.readouterr().out
    for name in ("O(1,3) network", "O(1,3) polynomial", "MLP", "MLP + augmentation"):
        assert name in out and math.isfinite(results[f"{name} test MSE"])
    assert results["O(1,3) network invariance error"] < 1e-9
    assert results["O(1,3) polynomial invariance error"] < 1e-9
    assert results["MLP invariance error"] > 1e-3
    assert results["O(1,3) network test MSE"] < 0.5 * results["target variance"]


# -- sets of four-momenta ---------------------------------------------------------------------------------------
def test_heaviest_pair_mass_by_enumeration(rng):
    module = load("four_momenta_sets.py")
    x, y = module["events"](15, 5, rng)
    p = x[:, 0].double().numpy()
    for b in range(15):
        masses = [math.sqrt(max(0.0, (p[b, i] + p[b, j]) @ ETA @ (p[b, i] + p[b, j])))
                  for i, j in itertools.combinations(range(5), 2)]
        assert math.isclose(float(y[b]), max(masses), rel_tol=1e-5)
        assert all((p[b, i] @ ETA @ p[b, i]) > 0.009 for i in range(5))    # masses at least 0.1: timelike


def test_set_network_is_invariant_under_permutations_times_lorentz(rng):
    module = load("four_momenta_sets.py")
    torch.manual_seed(0)
    net, deepsets = module["SetLorentzNet"]().double(), module["DeepSets"]().double()
    x = torch.from_numpy(rng.standard_normal((10, 1, 6, 4)))
    with torch.no_grad():
        for _ in range(3):
            perm, g = torch.from_numpy(rng.permutation(6)), torch.from_numpy(lorentz(rng))
            moved = x[:, :, perm] @ g.T
            torch.testing.assert_close(net(moved), net(x), rtol=1e-9, atol=1e-9)
            torch.testing.assert_close(deepsets(x[:, :, perm]), deepsets(x), rtol=1e-9, atol=1e-9)
            assert float((deepsets(moved) - deepsets(x)).abs().max()) > 1e-3


def test_four_momenta_sets_quick_run(capsys):
    results = load("four_momenta_sets.py")["main"](["--quick"])
    out = capsys.readouterr().out
    for name in ("S_n x O(1,3) network", "DeepSets", "MLP"):
        assert name in out and math.isfinite(results[f"{name} test MSE"])
    assert results["S_n x O(1,3) network invariance error"] < 1e-9
    assert results["DeepSets invariance error"] > 1e-3
    assert results["S_n x O(1,3) network test MSE"] < 0.7 * results["mean predictor test MSE"]
