"""Signals on a cycle: an Aut(C_n) network against an S_n network and a plain MLP.

    python examples/aut_cycle.py                       # C_8, 48 training signals
    python examples/aut_cycle.py --n 12 --train 256

The task is fixed-graph node regression: x is a signal on the vertices of the cycle C_n and the
target is one round of message passing, y_i = Σ_{j ~ i} relu(x_j - x_i). It commutes with every
rotation and reflection of the cycle (Aut(C_n), the dihedral group of order 2n) but not with other
vertex permutations.

- **Aut(C_n)**: ``EquivariantLinear("Aut", 1, 2, 1, h, graph=A) >> relu >> EquivariantLinear("Aut", 2, 1,
  h, 1, graph=A)``. Its 1 -> 2 and 2 -> 1 layers hold every Aut(C_n)-equivariant linear map (bases of
  bilabelled graphs, 34 each for n = 8), so it can compute x_j - x_i on edges, the relu, and the
  sum over neighbours exactly.
- **S_n**: the same shape with S_n layers (5 diagrams each). S_n-equivariant maps cannot tell
  neighbours from other vertices, so the best it can do is a function of x_i and of all of x.
- **MLP**: n -> 8n -> n with no symmetry built in; it has to learn the cycle from the data.

Each model trains with Adam on the same few hundred samples; the script prints the test error
relative to the target's variance (0: perfect, 1: no better than the mean) and how far each trained
model is from commuting with a random automorphism of the cycle. A training step of the Aut(C_8)
network takes 2.7-2.9 times the S_n network's on a quiet machine (``benchmarks/bench_aut_cycle.py``,
one thread; this script's own times include evaluating the test set).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

import catnn
from catnn.demo import one_thread
from catnn.nn import EquivariantLinear


def cycle(n: int) -> np.ndarray:
    """The adjacency matrix of C_n."""
    a = np.roll(np.eye(n, dtype=np.int64), 1, axis=1)
    return a + a.T


def target(x: torch.Tensor, a: np.ndarray) -> torch.Tensor:
    """y_i = Σ_{j ~ i} relu(x_j - x_i) for x of shape (B, 1, n)."""
    adjacency = torch.as_tensor(a, dtype=x.dtype)
    diff = torch.relu(x[:, :, None, :] - x[:, :, :, None])      # [b, c, i, j] = relu(x_j - x_i)
    return (diff * adjacency).sum(-1)


def models(n: int, a: np.ndarray, hidden: int) -> dict[str, nn.Module]:
    """The three models, freshly initialised."""
    def equivariant(group: str, **graph: np.ndarray) -> nn.Module:
        return nn.Sequential(EquivariantLinear(group, 1, 2, 1, hidden, **graph), nn.ReLU(),
                             EquivariantLinear(group, 2, 1, hidden, 1, **graph))

    mlp = nn.Sequential(nn.Flatten(), nn.Linear(n, 8 * n), nn.ReLU(), nn.Linear(8 * n, n), nn.Unflatten(1, (1, n)))
    return {"Aut(C_n)": equivariant("Aut", graph=a), "S_n": equivariant("S"), "MLP": mlp}


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float) -> float:
    """Full-batch Adam with a cosine schedule; returns the final training loss."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.mean((model(x) - y) ** 2)
        loss.backward()
        opt.step()
        schedule.step()
    return float(loss.detach())


def equivariance_error(model: nn.Module, x: torch.Tensor, a: np.ndarray, seed: int) -> float:
    """max |f(g x) - g f(x)| for a random automorphism g of the graph."""
    g = torch.as_tensor(catnn.group("Aut", graph=a).random_automorphism(seed))
    moved = torch.empty_like(x)
    moved[..., g] = x
    out = model(x)
    out_moved = torch.empty_like(out)
    out_moved[..., g] = out
    return float((model(moved) - out_moved).abs().max())


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    """Train the three models and print their test errors; returns them by model name."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="cycle length")
    parser.add_argument("--train", type=int, default=48, help="training samples")
    parser.add_argument("--test", type=int, default=2048, help="test samples")
    parser.add_argument("--steps", type=int, default=400, help="Adam steps per model")
    parser.add_argument("--hidden", type=int, default=8, help="hidden channels of the equivariant models")
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    a = cycle(args.n)
    x_train, x_test = torch.randn(args.train, 1, args.n), torch.randn(args.test, 1, args.n)
    y_train, y_test = target(x_train, a), target(x_test, a)
    print(f"C_{args.n}: {args.train} training and {args.test} test signals, {args.steps} Adam steps each")
    print(f"{'model':<10} {'params':>7} {'train':>8} {'test':>8} {'equiv. err':>11} {'time':>6}")
    results = {}
    with one_thread():      # small tensors: on a busy machine a second thread makes each step slower
        for name, model in models(args.n, a, args.hidden).items():
            results[name] = run(name, model, (x_train, y_train, x_test, y_test), a, args)
    print("errors are mean squared errors divided by the target's variance")
    return results


def run(name: str, model: nn.Module, data: tuple[torch.Tensor, ...], a: np.ndarray, args: argparse.Namespace
        ) -> dict[str, float]:
    """Train one model, print its row of the table and return it."""
    x_train, y_train, x_test, y_test = data
    start = time.perf_counter()
    train_loss = train(model, x_train, y_train, args.steps, args.lr)
    with torch.no_grad():
        test = float(torch.mean((model(x_test) - y_test) ** 2) / y_test.var())
        equiv = equivariance_error(model, x_test[:64], a, args.seed)
    seconds = time.perf_counter() - start
    params = sum(p.numel() for p in model.parameters())
    row = {"params": params, "train": train_loss / float(y_train.var()), "test": test,
           "equivariance": equiv, "seconds": seconds}
    print(f"{name:<10} {params:>7} {row['train']:>8.4f} {test:>8.4f} {equiv:>11.1e} {seconds:>5.1f}s")
    return row


if __name__ == "__main__":
    main()
