"""Charged-particle N-body dynamics: an S_n × O(3) network against EGNN-style message passing and an MLP.

    python examples/nbody.py                 # 3000 train / 2000 test systems, 5 particles (a few minutes)
    python examples/nbody.py --quick         # a few seconds (the test suite runs this)

The task of EGNN (Satorras, Hoogeboom, Welling, ICML 2021, §5.1), simulated here from the physics:
5 particles of unit mass with charges ±1 (fair coin) attract or repel by Coulomb's law,
F_i = Σ_j q_i q_j (x_i − x_j) / |x_i − x_j|³; positions start N(0, I), velocities 0.5 in uniformly
random directions. Velocity Verlet with dt = 0.005 runs 600 steps (3 time units) of burn-in, then
the models see (positions, velocities, charges) and predict the positions 200 steps (one time unit)
later. (EGNN's data, as we recall it: 3000 steps of dt = 0.001, then 1000 more — the same times
with a finer step of a first-order scheme; ``--quick`` simulates 0.5 + 0.5 time units.)
Translations are handled by centring on the input positions' mean. The total force on a particle is
clipped to norm 100 (a rotation-invariant clip, so the data keeps the O(3) symmetry exactly).

Every model predicts a displacement added to the input positions:

- **catnn S_n × O(3) network**: vectors per point (channels of a (1, 1)-typed tensor, points × space).
  Each round lifts them to vectors per pair with ``EquivariantLinear(S × O(3), (1, 1) → (2, 1))``
  (its diagrams give x_i, x_j, Σ_k x_k, …), gates every pair vector by an MLP of the pair invariants
  |p_ij|² (per channel) and q_i q_j, and sums back to points with ``(2, 1) → (1, 1)``; a point-wise
  ``(1, 1) → (1, 1)`` layer and a residual complete the round. Exactly equivariant by construction.
- **EGNN-style message passing** (written here from the paper's equations, the velocity variant):
  m_ij = φ_e(h_i, h_j, |x_i − x_j|², q_i q_j), v_i ← φ_v(h_i) v_i + mean_j (x_i − x_j) φ_x(m_ij),
  x_i ← x_i + v_i, h_i ← h_i + φ_h(h_i, Σ_j m_ij); h starts as |v_i|.
- **MLP** on the 35 flattened inputs (positions, velocities, charges), 15 outputs.

Same data, optimiser (Adam, cosine schedule), batch size and epochs for all three. Reported: test MSE
of the positions, the equivariance error in float64 under random permutations × orthogonal maps
(reflections included), parameters and seconds per epoch.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

import catnn
from catnn.nn import EquivariantLinear

Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


# -- the simulator -------------------------------------------------------------------------------------------
def coulomb(x: torch.Tensor, q: torch.Tensor, clip: float = 100.0) -> torch.Tensor:
    """Forces (S, n, 3) on unit masses at ``x`` (S, n, 3) with charges ``q`` (S, n); like charges repel.

    >>> x = torch.tensor([[[0., 0, 0], [2, 0, 0]]]); q = torch.tensor([[1., 1]])
    >>> coulomb(x, q)[0, 0].tolist()    # pushed away from the other particle, 1 / 2²
    [-0.25, 0.0, 0.0]
    """
    d = x[:, :, None] - x[:, None, :]
    r2 = d.pow(2).sum(-1).masked_fill(torch.eye(x.shape[1], dtype=torch.bool), torch.inf)
    f = (q[:, :, None] * q[:, None, :] * r2.pow(-1.5))[..., None] * d
    f = f.sum(2)
    norm = f.norm(dim=-1, keepdim=True)
    return f * (clip / norm).clamp(max=1.0)


def simulate(count: int, seed: int, particles: int = 5, burn: int = 600, horizon: int = 200,
             dt: float = 5e-3) -> tuple[Batch, torch.Tensor]:
    """``count`` systems: inputs (x, v, q) after ``burn`` steps, and the positions ``horizon`` steps later.

    >>> (x, v, q), y = simulate(2, 0, burn=10, horizon=10)
    >>> tuple(x.shape), tuple(q.shape), tuple(y.shape)
    ((2, 5, 3), (2, 5), (2, 5, 3))
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(count, particles, 3, generator=g, dtype=torch.float64)
    v = torch.randn(count, particles, 3, generator=g, dtype=torch.float64)
    v = 0.5 * v / v.norm(dim=-1, keepdim=True)
    q = torch.randint(0, 2, (count, particles), generator=g).to(torch.float64) * 2 - 1
    f = coulomb(x, q)
    inputs = None
    for step in range(burn + horizon):
        if step == burn:
            inputs = (x.clone(), v.clone())
        v = v + 0.5 * dt * f
        x = x + dt * v
        f = coulomb(x, q)
        v = v + 0.5 * dt * f
    x0, v0 = inputs if inputs is not None else (x, v)
    centre = x0.mean(1, keepdim=True)
    return (x0 - centre, v0, q), x - centre


# -- the models ------------------------------------------------------------------------------------------------
def mlp(inputs: int, hidden: int, outputs: int, act: type[nn.Module] = nn.SiLU) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, hidden), act(), nn.Linear(hidden, hidden), act(),
                         nn.Linear(hidden, outputs))


class CatnnRound(nn.Module):
    """One round: points → pairs (catnn), gates from pair invariants, pairs → points (catnn), residual."""

    def __init__(self, G: catnn.ProductGroup, channels: int, hidden: int) -> None:
        super().__init__()
        C = channels
        self.to_pairs = EquivariantLinear(G, (1, 1), (2, 1), C, C)
        self.gates = mlp(C + 1, hidden, C)
        self.to_points = EquivariantLinear(G, (2, 1), (1, 1), C, C)
        self.mix = EquivariantLinear(G, (1, 1), (1, 1), C, C)

    def forward(self, V: torch.Tensor, qq: torch.Tensor) -> torch.Tensor:
        """``V`` (B, C, n, 3) vectors per point, ``qq`` (B, n, n, 1) charge products."""
        P = self.to_pairs(V)                                            # (B, C, n, n, 3)
        invariants = torch.cat([P.pow(2).sum(-1).permute(0, 2, 3, 1), qq], -1)
        gate = self.gates(invariants).permute(0, 3, 1, 2)               # (B, C, n, n)
        return V + self.to_points(P * gate[..., None]) / V.shape[2] + self.mix(V)


class CatnnNBody(nn.Module):
    """The S_n × O(3) network: [x, v] as 2 channels of vectors per point, rounds, one output channel."""

    def __init__(self, channels: int = 16, hidden: int = 32, rounds: int = 3) -> None:
        super().__init__()
        G = catnn.group("S x O(3)")
        self.embed = EquivariantLinear(G, (1, 1), (1, 1), 2, channels)
        self.rounds = nn.ModuleList(CatnnRound(G, channels, hidden) for _ in range(rounds))
        self.out = EquivariantLinear(G, (1, 1), (1, 1), channels, 1)
        nn.init.zeros_(self.out.weight)                                 # start from "the particles stay"

    def forward(self, x: torch.Tensor, v: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        V = self.embed(torch.stack([x, v], 1))
        qq = (q[:, :, None] * q[:, None, :])[..., None]
        for r in self.rounds:
            V = r(V, qq)
        return x + self.out(V)[:, 0]


class EGNNLayer(nn.Module):
    """E(n)-equivariant message passing with velocities (Satorras et al. 2021, eqs. 3-7)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.edge = nn.Sequential(nn.Linear(2 * hidden + 2, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        self.coord = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))
        self.vel = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))
        self.node = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))

    def forward(self, h: torch.Tensor, x: torch.Tensor, v: torch.Tensor, v0: torch.Tensor,
                qq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Features h (B, n, H), positions x and velocities v (B, n, 3), initial velocities v0, q_i q_j."""
        n = x.shape[1]
        d = x[:, :, None] - x[:, None, :]                               # (B, n, n, 3): x_i - x_j
        hi, hj = h[:, :, None].expand(-1, -1, n, -1), h[:, None].expand(-1, n, -1, -1)
        m = self.edge(torch.cat([hi, hj, d.pow(2).sum(-1, keepdim=True), qq], -1))
        off = 1 - torch.eye(n, dtype=x.dtype)[None, :, :, None]        # no self-messages
        m = m * off
        v = self.vel(h) * v0 + (d * self.coord(m)).sum(2) / (n - 1)
        return h + self.node(torch.cat([h, m.sum(2)], -1)), x + v, v


class EGNN(nn.Module):
    """Four EGNN layers; h starts as an embedding of |v|, the edge attribute is q_i q_j."""

    def __init__(self, hidden: int = 64, layers: int = 4) -> None:
        super().__init__()
        self.embed = nn.Linear(1, hidden)
        self.layers = nn.ModuleList(EGNNLayer(hidden) for _ in range(layers))

    def forward(self, x: torch.Tensor, v: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        h = self.embed(v.norm(dim=-1, keepdim=True))
        qq = (q[:, :, None] * q[:, None, :])[..., None]
        y, u = x, v
        for layer in self.layers:
            h, y, u = layer(h, y, u, v, qq)
        return y


class PlainMLP(nn.Module):
    """An MLP on the flattened (x, v, q): blind to both symmetries."""

    def __init__(self, particles: int = 5, hidden: int = 256) -> None:
        super().__init__()
        self.net = mlp(7 * particles, hidden, 3 * particles)

    def forward(self, x: torch.Tensor, v: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        flat = torch.cat([x.flatten(1), v.flatten(1), q], 1)
        return x + self.net(flat).reshape(x.shape)


# -- training and evaluation ------------------------------------------------------------------------------------
def fit(model: nn.Module, data: Batch, y: torch.Tensor, epochs: int, batch_size: int = 100, lr: float = 1e-3,
        seed: int = 0) -> float:
    """Adam with a cosine schedule on the position MSE; returns seconds per epoch."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    order = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        for index in torch.randperm(len(y), generator=order).split(batch_size):
            loss = (model(*(t[index] for t in data)) - y[index]).pow(2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()
    return (time.perf_counter() - start) / max(epochs, 1)


@torch.no_grad()
def mse(model: nn.Module, data: Batch, y: torch.Tensor) -> float:
    return float((model(*data) - y).pow(2).mean())


def random_orthogonal(rng: np.random.Generator, det: int) -> torch.Tensor:
    """A Haar-random 3 × 3 orthogonal matrix with the given determinant."""
    Q, R = np.linalg.qr(rng.standard_normal((3, 3)))
    Q = Q * np.sign(np.diag(R))
    if np.linalg.det(Q) * det < 0:
        Q[:, 0] = -Q[:, 0]
    return torch.from_numpy(Q)


@torch.no_grad()
def equivariance_error(model: nn.Module, data: Batch, trials: int = 6, seed: int = 0) -> float:
    """max |f(σ·x Q, σ·v Q, σ·q) − σ·f(x, v, q) Q| / max |f| in float64, σ a permutation, Q orthogonal
    (half the trials reflections); the model is copied to float64 and left as it was."""
    net = model.double()
    x, v, q = (t.double() for t in data)
    y = net(x, v, q)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for trial in range(trials):
        Q, perm = random_orthogonal(rng, 1 if trial % 2 else -1), torch.from_numpy(rng.permutation(x.shape[1]))
        moved = net(x[:, perm] @ Q, v[:, perm] @ Q, q[:, perm])
        worst = max(worst, float((moved - y[:, perm] @ Q).abs().max() / y.abs().max()))
    model.float()
    return worst


MODELS: dict[str, Callable[[], nn.Module]] = {"catnn S_n x O(3)": CatnnNBody, "EGNN-style": EGNN, "MLP": PlainMLP}


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Simulate, train the three models, print the table and return the metrics."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny data and few epochs (seconds)")
    parser.add_argument("--train", type=int)
    parser.add_argument("--test", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train, test, epochs = (96, 64, 2) if args.quick else (3000, 2000, 30)
    train, test, epochs = args.train or train, args.test or test, args.epochs or epochs
    start = time.perf_counter()
    (x, v, q), y = simulate(train + test, args.seed, **({"burn": 100, "horizon": 100} if args.quick else {}))
    data = tuple(t.float() for t in (x, v, q))
    train_data, test_data = tuple(t[:train] for t in data), tuple(t[train:] for t in data)
    y_train, y_test = y[:train].float(), y[train:].float()
    results = {"simulation seconds": time.perf_counter() - start,
               "predict the input positions": float((test_data[0] - y_test).pow(2).mean())}
    print(f"N-body (5 charged particles): {train} train / {test} test systems, {epochs} epochs "
          f"(simulated in {results['simulation seconds']:.0f} s)")
    print(f"  {'model':<20}{'parameters':>11}{'test MSE':>11}{'equivariance':>14}{'s / epoch':>11}")
    print(f"  {'(positions as they are)':<31}{results['predict the input positions']:>11.4f}")
    for name, build in MODELS.items():
        torch.manual_seed(args.seed)
        model = build()
        per_epoch = fit(model, train_data, y_train, epochs, seed=args.seed)
        params = sum(p.numel() for p in model.parameters())
        results[name] = mse(model, test_data, y_test)
        results[f"{name}: equivariance"] = equivariance_error(model, tuple(t[:32] for t in test_data))
        results[f"{name}: s/epoch"], results[f"{name}: parameters"] = per_epoch, params
        print(f"  {name:<20}{params:>11}{results[name]:>11.4f}{results[f'{name}: equivariance']:>14.1e}"
              f"{per_epoch:>11.2f}")
    return results


if __name__ == "__main__":
    main()
