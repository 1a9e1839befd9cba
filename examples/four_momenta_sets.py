"""Sets of four-momenta: the heaviest pair's invariant mass, an S_n × O(1,3) network against DeepSets and an MLP.

    python examples/four_momenta_sets.py              # 6 particles, 2000 train / 1000 test events, 60 epochs
                                                      # (1 min of CPU; 2 min on 2 busy vCPUs)
    python examples/four_momenta_sets.py --quick      # a few seconds (the tests run this)

**The data.** An event is a set of N particles (N = 6): each has a mass m uniform in [0.1, 1], a
3-momentum with N(0, 1) entries and the energy E = √(m² + |p|²); the whole event is then seen from a
random frame, one random element of O(1,3) per event (``G.sample``: rotations × boosts of rapidity up
to 2 × parity, time reversal). The target is the invariant mass of the heaviest pair,

    m_max = max_{i<j} √((p_i + p_j)²),    (p_i + p_j)² = p_i·p_i + p_j·p_j + 2 p_i·p_j,

which depends neither on the order of the particles nor on the frame: it is invariant under
S_N × O(1,3), the permutations of the particles times the Lorentz group acting on every momentum.

**The models.** The catnn network works on the event as a typed tensor of orders (1, 1) over
``catnn.group("S x O(1,3)")``: (batch, 1, N, 4), one particle axis (sort 0, S_N) and one Minkowski
axis (sort 1, O(1,3)). A bilinear layer (1, 1) ⊗ (1, 1) → (2, 0) contracts the Minkowski axes with η:
its diagrams are (S_N partition of 4 particle legs) × (cap), so it outputs S_N-equivariant
combinations of the Gram matrix p_i·p_j (its entries, diagonals, row sums, totals), an S_N 2-tensor
invariant under O(1,3). Two S_N layers (2, 0) → (2, 0) with SiLU between them (pointwise maps are
equivariant on tensors with no Minkowski axis), a layer (2, 0) → (0, 0) and an MLP give the mass.
The baselines are DeepSets (an MLP on each particle's 4 coordinates, summed, then an MLP:
permutation-invariant but blind to Lorentz) and an MLP on the 4N coordinates (blind to both). All see
the same data, optimiser (Adam, cosine schedule) and epochs; momenta are divided by one invariant
scale, targets standardised for training, errors reported on the original scale.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from torch import nn

import catnn
from catnn.demo import fit_regression, one_thread, regression_mse
from catnn.networks import Bilinear
from catnn.nn import EquivariantLinear

GROUP = "S x O(1,3)"
ETA = torch.tensor([1.0, -1.0, -1.0, -1.0], dtype=torch.float64)


def heaviest_pair_mass(p: torch.Tensor) -> torch.Tensor:
    """max over pairs i < j of √((p_i + p_j)²) for events ``p`` (batch, N, 4).

    >>> p = torch.tensor([[[1.0, 0, 0, 0], [2.0, 0, 0, 0], [1.0, 0, 0, 0.5]]])   # masses 1, 2, √0.75
    >>> round(float(heaviest_pair_mass(p)), 6)                                      # particles 1 and 2: 3
    3.0
    """
    s = p[:, :, None, :] + p[:, None, :, :]
    m2 = (s * s * ETA.to(p)).sum(-1)
    i, j = torch.triu_indices(p.shape[1], p.shape[1], 1)
    return m2[:, i, j].clamp(min=0).sqrt().amax(1)


def events(count: int, particles: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` events (count, 1, N, 4) seen from random frames, and their heaviest pair's mass."""
    mass = rng.uniform(0.1, 1.0, (count, particles))
    momentum = rng.standard_normal((count, particles, 3))
    energy = np.sqrt(mass**2 + (momentum**2).sum(-1))
    p = np.concatenate([energy[..., None], momentum], -1)
    G = catnn.group("O(1,3)")
    frames = np.stack([G.sample(rng) for _ in range(count)])
    p = torch.from_numpy(np.einsum("bij,bnj->bni", frames, p))
    return p[:, None].float(), heaviest_pair_mass(p).float()


class SetLorentzNet(nn.Module):
    """Bilinear (1,1) ⊗ (1,1) → (2,0) (the Gram matrix's S_N-equivariant combinations), S_N layers on
    (2,0) with SiLU, a layer (2,0) → (0,0) and an MLP."""

    def __init__(self, channels: int = 16, invariants: int = 32, hidden: int = 64) -> None:
        super().__init__()
        G = catnn.group(GROUP)
        self.gram = Bilinear(G, (1, 1), (1, 1), (2, 0), 1, channels, channels="outer")
        self.pairs = nn.ModuleList([EquivariantLinear(G, (2, 0), (2, 0), channels, channels) for _ in range(2)])
        self.pool = EquivariantLinear(G, (2, 0), (0, 0), channels, invariants)
        self.head = mlp(invariants, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.gram(x)
        for layer in self.pairs:
            h = layer(nn.functional.silu(h))
        return self.head(nn.functional.silu(self.pool(nn.functional.silu(h))))[:, 0]


class DeepSets(nn.Module):
    """ρ(Σ_i φ(p_i)): permutation-invariant, blind to Lorentz transformations."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(4, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, hidden))
        self.rho = mlp(hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rho(self.phi(x[:, 0]).sum(1))[:, 0]


class PlainMLP(nn.Module):
    """An MLP on the 4N coordinates, blind to both symmetries."""

    def __init__(self, particles: int = 6, hidden: int = 128) -> None:
        super().__init__()
        self.net = mlp(4 * particles, hidden, layers=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(len(x), -1))[:, 0]


def mlp(inputs: int, hidden: int, layers: int = 2) -> nn.Sequential:
    """``layers`` SiLU layers of width ``hidden``, then one output."""
    widths = [inputs] + [hidden] * layers
    parts: list[nn.Module] = []
    for a, b in zip(widths, widths[1:]):
        parts += [nn.Linear(a, b), nn.SiLU()]
    return nn.Sequential(*parts, nn.Linear(hidden, 1))


@torch.no_grad()
def invariance_error(model: nn.Module, x: torch.Tensor, trials: int = 5, seed: int = 1) -> float:
    """max |f(g x) − f(x)| / max |f(x)| in float64 over random g = (permutation, Lorentz element)."""
    net = model.double()
    x = x.double()
    y = net(x)
    G = catnn.group(GROUP).at((x.shape[2], 4))
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(trials):
        moved = torch.from_numpy(G.act(G.sample(rng), x.numpy(), (1, 1)))
        worst = max(worst, float((net(moved) - y).abs().max()))
    model.float()
    return worst / float(y.abs().max())


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train the three models, print a table and return the metrics (torch on one thread: the tensors
    are small, and threads that wait for each other on a busy machine make every step slower)."""
    with one_thread():
        return run(argv)


def run(argv: list[str] | None = None) -> dict[str, float]:
    """:func:`main` in the current torch threads."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few-second run (200 events, 8 epochs)")
    parser.add_argument("--particles", type=int, default=6)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick or os.environ.get("CATNN_EXAMPLE_TINY") == "1":
        args.train, args.test, args.epochs = 200, 200, 8
    rng = np.random.default_rng(args.seed)
    x_train, y_train = events(args.train, args.particles, rng)
    x_test, y_test = events(args.test, args.particles, rng)
    p = x_train[:, 0].double()
    scale = float((p * p * ETA).sum(-1).abs().mean().sqrt())     # Lorentz invariant
    x_train, x_test = x_train / scale, x_test / scale
    results: dict[str, float] = {"mean predictor test MSE": float(((y_test - y_train.mean()) ** 2).mean())}
    print(f"heaviest pair mass, events of {args.particles} four-momenta: {args.train} train / {args.test} test, "
          f"{args.epochs} epochs; predicting the mean: test MSE {results['mean predictor test MSE']:.4f}")
    print(f"  {'model':<22}{'parameters':>11}{'test MSE':>11}{'train MSE':>11}{'invariance':>12}{'seconds':>9}")
    models = (("S_n x O(1,3) network", SetLorentzNet), ("DeepSets", DeepSets),
              ("MLP", lambda: PlainMLP(args.particles)))
    for name, build in models:
        torch.manual_seed(args.seed)
        model = build()
        start = time.perf_counter()
        target_scale = fit_regression(model, x_train, y_train, args.epochs, seed=args.seed)
        seconds = time.perf_counter() - start
        params = sum(p.numel() for p in model.parameters())
        results[f"{name} test MSE"] = regression_mse(model, x_test, y_test, target_scale)
        results[f"{name} train MSE"] = regression_mse(model, x_train, y_train, target_scale)
        results[f"{name} invariance error"] = invariance_error(model, x_test)
        print(f"  {name:<22}{params:>11}{results[f'{name} test MSE']:>11.2e}{results[f'{name} train MSE']:>11.2e}"
              f"{results[f'{name} invariance error']:>12.1e}{seconds:>9.1f}")
    print("  invariance: max |f(g x) - f(x)| / max |f(x)| over 5 random g = (permutation of the particles, "
          "Lorentz element) in float64")
    return results


if __name__ == "__main__":
    main()
