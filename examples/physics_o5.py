"""O(5)-invariant regression: an O(5) network against a plain MLP on the same data.

    python examples/physics_o5.py                 # 1000 train / 1000 test samples, 100 epochs (~1 min)
    python examples/physics_o5.py --epochs 300

The synthetic task of the EMLP paper (Finzi, Welling, Wilson, ICML 2021): two vectors x1, x2 in
R^5 with i.i.d. N(0, 1) entries, and the target

    f(x1, x2) = sin(|x1|) - |x2|^3 / 2 + x1·x2 / (|x1| |x2|),

which every orthogonal map g (rotation or reflection) leaves unchanged: f(g x1, g x2) = f(x1, x2).

The O(5) network takes the pair as a (batch, 2, 5) tensor: 2 channels of a 1-tensor. An O(n)
1 -> 1 layer mixes the channels (its one Brauer diagram is the identity), ``norm_relu`` rescales
each vector by a learned function of its length, and a bilinear (1, 1) -> 0 layer (the cap
diagram, x·y, on every pair of channels) produces invariants; a plain MLP on those invariants gives
the prediction. The baseline is an MLP on the 10 concatenated coordinates with about as many
parameters. Both see the same data, the same optimiser (Adam, cosine schedule) and the same epochs;
targets are standardised for training and errors reported on the original scale.

Set CATNN_EXAMPLE_TINY=1 for a few-second run (the test suite does).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch
from torch import nn

import catnn
from catnn.demo import fit_regression, regression_mse
from catnn.networks import Bilinear, Network, NormNonlinearity
from catnn.nn import EquivariantLinear


def o5_data(count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` samples: x (count, 2, 5), the two vectors as channels, and f(x1, x2)."""
    x = torch.randn(count, 2, 5, generator=generator)
    x1, x2 = x[:, 0], x[:, 1]
    r1, r2 = x1.norm(dim=-1), x2.norm(dim=-1)
    return x, torch.sin(r1) - r2**3 / 2 + (x1 * x2).sum(-1) / (r1 * r2)


class O5Net(nn.Module):
    """O(5) 1 -> 1 mixing, norm_relu, bilinear invariants x_c · x_d, then an MLP on the invariants."""

    def __init__(self, channels: int = 8, invariants: int = 32, hidden: int = 64) -> None:
        super().__init__()
        C = channels
        self.invariants = Network("O", [EquivariantLinear("O", 1, 1, 2, C),
                                        NormNonlinearity("norm_relu", "O", f"{C}*V1"),
                                        Bilinear("O", 1, 1, 0, (C, C), invariants, channels="outer")])
        self.head = mlp(invariants, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.invariants(x))[:, 0]


class PlainMLP(nn.Module):
    """The baseline: an MLP on the 10 coordinates, blind to the symmetry."""

    def __init__(self, hidden: int = 86) -> None:
        super().__init__()
        self.net = mlp(10, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(len(x), -1))[:, 0]


def mlp(inputs: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                         nn.Linear(hidden, 1))


@torch.no_grad()
def invariance_error(model: nn.Module, x: torch.Tensor, trials: int = 10, seed: int = 0) -> float:
    """max |f(g x) - f(x)| / max |f(x)| in float64 over random orthogonal g (det +1 and -1)."""
    net = model.double()
    x = x.double()
    y = net(x)
    rng = np.random.default_rng(seed)
    O5 = catnn.group("O", n=5)
    worst = 0.0
    for _ in range(trials):
        g = torch.from_numpy(O5.sample(rng))
        worst = max(worst, float((net(x @ g.T) - y).abs().max() / y.abs().max()))
    model.float()
    return worst


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train both models, print a table and return the metrics."""
    tiny = os.environ.get("CATNN_EXAMPLE_TINY") == "1"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=64 if tiny else 1000)
    parser.add_argument("--test", type=int, default=64 if tiny else 1000)
    parser.add_argument("--epochs", type=int, default=2 if tiny else 100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    g = torch.Generator().manual_seed(args.seed)
    x_train, y_train = o5_data(args.train, g)
    x_test, y_test = o5_data(args.test, g)
    results: dict[str, float] = {"target variance": float(y_test.var())}
    print(f"O(5)-invariant regression: {args.train} train / {args.test} test samples, {args.epochs} epochs, "
          f"test target variance {results['target variance']:.1f}")
    print(f"  {'model':<14}{'parameters':>11}{'test MSE':>11}{'train MSE':>11}")
    for name, build in (("O(5) network", O5Net), ("MLP", PlainMLP)):
        torch.manual_seed(args.seed)
        model = build()
        scale = fit_regression(model, x_train, y_train, args.epochs, batch_size=64, seed=args.seed)
        params = sum(p.numel() for p in model.parameters())
        results[f"{name} test MSE"] = regression_mse(model, x_test, y_test, scale)
        results[f"{name} train MSE"] = regression_mse(model, x_train, y_train, scale)
        print(f"  {name:<14}{params:>11}{results[f'{name} test MSE']:>11.4f}{results[f'{name} train MSE']:>11.4f}")
        if name.startswith("O(5)"):
            results["O(5) invariance error"] = invariance_error(model, x_test)
    print(f"  O(5) network invariance error (float64, 10 random orthogonal matrices): "
          f"{results['O(5) invariance error']:.1e}")
    return results


if __name__ == "__main__":
    main()
