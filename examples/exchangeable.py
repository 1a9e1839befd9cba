"""Exchangeable matrices: an S_n × S_m network completes ratings matrices, against matrix factorisation
and an MLP on row and column statistics.

    python examples/exchangeable.py              # a few minutes on 2 cores
    python examples/exchangeable.py --quick      # seconds (the test suite runs this)

Data (generated here from seeds): a users × items matrix R_ij = a_i + b_j + (U Vᵀ)_ij / √3 + 0.1 ε_ij
with a, b, U, V, ε standard normal (user and item biases, rank-3 tastes); each entry is observed with
probability 1/2. The models see some observed entries
and predict others; errors are root mean squared errors on held-out observed entries.

- **Inductive**: train on 2000 matrices of 10–30 users × 10–30 items; test on 200 *new* matrices of
  35–60 × 35–60 (users, items and sizes never seen). Each training step hides a fresh fifth of the
  observed entries and predicts them; the test matrices hide a fixed fifth. Matrix factorisation has no
  factors for new users or items, so it has no inductive row.
- **Transductive**: one 150 × 120 matrix; a fifth of its observed entries are held out for the test,
  every model trains on the rest (the networks by hiding a fresh fifth of the rest at each step,
  matrix factorisation by fitting it).

Matrices of different sizes share a batch padded to the largest, with a mask on each sort (users,
items): every layer computes each matrix as if it were alone (checked by the test suite).

Models (same optimiser, Adam with a cosine schedule, and the same steps in each setting):

- **catnn S_n × S_m network**: ``EquivariantLinear(S x S, (1, 1) → (1, 1))`` layers (the 4 diagrams
  of Hartford et al., ICML 2018: the entry, its row, its column, everything, plus a bias). Input
  channels: the visible value (0 elsewhere) and the visibility indicator. Pooled diagrams are means
  over each matrix's own users / items: each diagram is its own catnn layer, divided by the sample's
  size of each summed sort.
- **MLP on row / column statistics**: per entry, the mean, spread and visible fraction of its row and
  of its column and the matrix mean, into an MLP.
- **matrix factorisation** (transductive only): rank-8 factors and row/column biases, weight decay.
"""

from __future__ import annotations

import argparse
import itertools
import time

import torch
from torch import nn

import catnn
from catnn.nn import EquivariantLinear

Matrices = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]   # ratings, observed, rows, columns


# -- data ----------------------------------------------------------------------------------------------------
def ratings(count: int, users: tuple[int, int], items: tuple[int, int], g: torch.Generator,
            rank: int = 3) -> Matrices:
    """``count`` matrices of ``users`` (lowest, highest) × ``items`` entries, padded to the highest sizes:
    ratings, observed entries, user mask, item mask.

    >>> R, seen, rows, cols = ratings(2, (3, 5), (2, 4), torch.Generator().manual_seed(0))
    >>> tuple(R.shape), bool((seen <= rows[:, :, None] * cols[:, None, :]).all())
    ((2, 5, 4), True)
    """
    N, M = users[1], items[1]
    n = torch.randint(users[0], N + 1, (count,), generator=g)
    m = torch.randint(items[0], M + 1, (count,), generator=g)
    rows = (torch.arange(N)[None] < n[:, None]).float()
    cols = (torch.arange(M)[None] < m[:, None]).float()
    U = torch.randn(count, N, rank, generator=g)
    V = torch.randn(count, M, rank, generator=g)
    a, b = torch.randn(count, N, 1, generator=g), torch.randn(count, 1, M, generator=g)
    R = a + b + U @ V.transpose(1, 2) / rank ** 0.5 + 0.1 * torch.randn(count, N, M, generator=g)
    inside = rows[:, :, None] * cols[:, None, :]
    observed = (torch.rand(count, N, M, generator=g) < 0.5).float() * inside
    return R * inside, observed, rows, cols


def hide(observed: torch.Tensor, g: torch.Generator, fraction: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the observed entries: (visible, held out), about ``fraction`` held out."""
    held = (torch.rand(observed.shape, generator=g) < fraction).float() * observed
    return observed - held, held


# -- the catnn network ------------------------------------------------------------------------------------------
class ExchangeableLayer(nn.Module):
    """S_n × S_m (1, 1) → (1, 1) with means over each matrix's own rows and columns.

    Each product diagram (identity or pooled, per sort) is a one-diagram catnn layer; a pooled sort is
    divided by the sample's own size of that sort, and the padding is zeroed, so a padded matrix
    computes as if alone.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        G = catnn.group("S x S")
        diagrams = G.spanning_set((1, 1), (1, 1))
        self.pooled = [tuple(str(part) != "{1, 1'}" for part in d.parts) for d in diagrams]
        self.terms = nn.ModuleList(EquivariantLinear(G, (1, 1), (1, 1), in_channels, out_channels, diagrams=(d,),
                                                     bias=not any(p)) for d, p in zip(diagrams, self.pooled))

    def forward(self, x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """``x`` (B, C, N, M) zero outside the mask; ``rows`` (B, N), ``cols`` (B, M) 0/1 masks."""
        n, m = rows.sum(1).clamp(min=1), cols.sum(1).clamp(min=1)
        out = 0
        for term, (pool_rows, pool_cols) in zip(self.terms, self.pooled):
            scale = (n if pool_rows else 1) * (m if pool_cols else 1)
            out = out + term(x) / (scale.reshape(-1, 1, 1, 1) if torch.is_tensor(scale) else scale)
        return out * (rows[:, None, :, None] * cols[:, None, None, :])


class CatnnExchangeable(nn.Module):
    """Exchangeable layers with ReLUs: (visible value, visibility) → a prediction for every entry."""

    def __init__(self, channels: int = 16, layers: int = 4) -> None:
        super().__init__()
        widths = [2] + [channels] * (layers - 1) + [1]
        self.layers = nn.ModuleList(ExchangeableLayer(a, b) for a, b in itertools.pairwise(widths))

    def forward(self, values: torch.Tensor, visible: torch.Tensor, rows: torch.Tensor,
                cols: torch.Tensor) -> torch.Tensor:
        x = torch.stack([values * visible, visible], 1)
        for i, layer in enumerate(self.layers):
            x = layer(x, rows, cols)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x[:, 0]


# -- baselines ------------------------------------------------------------------------------------------------------
def statistics(values: torch.Tensor, visible: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Per entry (B, N, M, 7): its row's and column's visible mean, spread and visible fraction, the matrix mean."""
    v = values * visible
    feats = []
    for axis, size in ((2, cols.sum(1)), (1, rows.sum(1))):
        count = visible.sum(axis, keepdim=True).clamp(min=1)
        mean = v.sum(axis, keepdim=True) / count
        spread = ((v - mean * visible).pow(2).sum(axis, keepdim=True) / count).sqrt()
        fraction = visible.sum(axis, keepdim=True) / size.reshape(-1, 1, 1).clamp(min=1)
        feats += [t.expand_as(v) for t in (mean, spread, fraction)]
    total = (v.sum((1, 2)) / visible.sum((1, 2)).clamp(min=1)).reshape(-1, 1, 1).expand_as(v)
    return torch.stack(feats + [total], -1)


class StatisticsMLP(nn.Module):
    """An MLP on each entry's row and column statistics (:func:`statistics`)."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(7, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))

    def forward(self, values: torch.Tensor, visible: torch.Tensor, rows: torch.Tensor,
                cols: torch.Tensor) -> torch.Tensor:
        return self.net(statistics(values, visible, rows, cols))[..., 0]


class Factorisation(nn.Module):
    """R ≈ U Vᵀ + a + b + c for one matrix (transductive: one row of U per user it was trained on)."""

    def __init__(self, users: int, items: int, rank: int = 8) -> None:
        super().__init__()
        self.U = nn.Parameter(0.1 * torch.randn(users, rank))
        self.V = nn.Parameter(0.1 * torch.randn(items, rank))
        self.a, self.b, self.c = (nn.Parameter(torch.zeros(s)) for s in ((users, 1), (1, items), ()))

    def forward(self, values: torch.Tensor, visible: torch.Tensor, rows: torch.Tensor,
                cols: torch.Tensor) -> torch.Tensor:
        return (self.U @ self.V.T + self.a + self.b + self.c)[None]


# -- training ---------------------------------------------------------------------------------------------------------
def train(model: nn.Module, data: Matrices, steps: int, batch_size: int, seed: int, lr: float = 3e-3,
          refit: bool = False) -> float:
    """Adam, cosine schedule; each step hides a fresh fifth of a batch's observed entries and fits them
    (``refit``: fit all observed entries, for matrix factorisation). Returns seconds per step."""
    R, observed, rows, cols = data
    decay = 1e-4 if refit else 0.0
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, steps)
    g = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(steps):
        index = torch.randint(0, len(R), (batch_size,), generator=g) if batch_size < len(R) else torch.arange(len(R))
        seen = observed[index]
        visible, held = (seen, seen) if refit else hide(seen, g)
        prediction = model(R[index], visible, rows[index], cols[index])
        loss = ((prediction - R[index]).pow(2) * held).sum() / held.sum().clamp(min=1)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
    return (time.perf_counter() - start) / max(steps, 1)


@torch.no_grad()
def rmse(model: nn.Module, data: Matrices, visible: torch.Tensor, held: torch.Tensor) -> float:
    R, _, rows, cols = data
    prediction = model(R, visible, rows, cols)
    return float((((prediction - R).pow(2) * held).sum() / held.sum()).sqrt())


def mean_rmse(data: Matrices, visible: torch.Tensor, held: torch.Tensor) -> float:
    """Predicting each matrix's visible mean."""
    R = data[0]
    mean = (R * visible).sum((1, 2), keepdim=True) / visible.sum((1, 2), keepdim=True)
    return float((((mean - R).pow(2) * held).sum() / held.sum()).sqrt())


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Both settings, every model; prints the tables and returns the metrics."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and few steps (seconds)")
    parser.add_argument("--steps", type=int, help="training steps in each setting")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    count, tests, steps, big = (32, 8, 6, (30, 20)) if args.quick else (2000, 200, 800, (150, 120))
    steps = args.steps or steps
    g = torch.Generator().manual_seed(args.seed)
    results: dict[str, float] = {}

    one = ratings(1, (big[0], big[0]), (big[1], big[1]), g)
    visible, held = hide(one[1], g)
    train_one = (one[0], visible, one[2], one[3])
    results["transductive: predict the mean"] = mean_rmse(one, visible, held)
    print(f"Transductive: one {big[0]} x {big[1]} matrix, {int(visible.sum())} entries to train on, "
          f"{int(held.sum())} held out; {steps} steps.  RMSE (predicting the mean: "
          f"{results['transductive: predict the mean']:.3f})")
    models = {"catnn S_n x S_m": CatnnExchangeable, "MLP on row/column statistics": StatisticsMLP,
              "matrix factorisation": lambda: Factorisation(*big)}
    for name, build in models.items():
        torch.manual_seed(args.seed)
        model = build()
        per_step = train(model, train_one, steps, 1, args.seed, refit=name == "matrix factorisation")
        results[f"transductive: {name}"] = rmse(model, one, visible, held)
        print(f"  {name:<30}{results[f'transductive: {name}']:>8.3f}   {1000 * per_step:6.1f} ms / step")

    data = ratings(count, (10, 30), (10, 30), g)
    test = ratings(tests, (35, 60), (35, 60), g)
    visible, held = hide(test[1], g)
    results["inductive: predict the mean"] = mean_rmse(test, visible, held)
    print(f"Inductive: {count} matrices of 10-30 x 10-30 to train on, {tests} new ones of 35-60 x 35-60 to test; "
          f"{steps} steps of 32 matrices.  RMSE (predicting the mean: {results['inductive: predict the mean']:.3f})")
    for name, build in list(models.items())[:2]:
        torch.manual_seed(args.seed)
        model = build()
        per_step = train(model, data, steps, 32, args.seed)
        results[f"inductive: {name}"] = rmse(model, test, visible, held)
        results[f"inductive: {name}: ms/step"] = 1000 * per_step
        print(f"  {name:<30}{results[f'inductive: {name}']:>8.3f}   {1000 * per_step:6.1f} ms / step")
    print("  matrix factorisation: no factors for users and items it never saw")
    return results


if __name__ == "__main__":
    main()
