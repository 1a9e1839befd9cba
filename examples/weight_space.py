"""Weight spaces: predict a sinusoid's frequency from the weights of an MLP trained on it, with an
S_{h1} × S_{h2}-invariant catnn network, a hand-written NFN/DWS-style network and MLPs on the
flattened weights.

    python examples/weight_space.py              # a zoo of 2000 MLPs, a few minutes on 2 cores
    python examples/weight_space.py --quick      # seconds (the test suite runs this)

**The zoo** (generated and trained here, in one vectorised batch): networks 1 → h → h → 1 (h = 16,
ReLU) fitted to y = sin(ω x + φ) on 64 points of [−π, π], ω uniform in [0.5, 3], φ uniform in
[0, 2π]; network i is initialised from seed ``seed + i`` (recorded in the zoo) and trained with Adam
for 400 full-batch steps. The task: predict ω from the weights alone (test MSE of the standardised
frequency; predicting the mean scores 1).

**The symmetry.** Permuting the hidden neurons of a layer (rows of W1 and b1 with the columns of W2,
or rows of W2 and b2 with the columns of W3) leaves the network's function unchanged, so ω is
invariant under S_{h1} × S_{h2}. The weights are a direct sum of typed tensors, each hidden layer a
sort; the fixed input and output neuron indices (one each) are channels:

    (1, 0): W1, b1 (2 channels)    (1, 1): W2ᵀ (1)    (0, 1): b2, W3 (2)    (0, 0): b3 (1)

**Models** (same optimiser, epochs and data):

- **catnn**: :class:`DirectSumLinear` layers, a block ``EquivariantLinear(S(h1) x S(h2), k_i, l_j)``
  for every pair of types, ReLU, then a direct sum → (0, 0) layer (invariants) and an MLP head.
- **NFN/DWS-style**: the same layer space written by hand, one operation per term (:class:`TermLinear`,
  no catnn), the same depth and head.
- **MLP** on the 321 flattened weights, and the same MLP trained on randomly permuted copies
  (a fresh hidden-neuron permutation of every training network at every step).

Each is tested on the test zoo and on the same networks with their hidden neurons randomly permuted
(the same functions): the invariant models must not move.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections.abc import Callable

import torch
from torch import nn

import catnn
from catnn.nn import EquivariantLinear

Types = tuple[tuple[int, ...], ...]
TYPES: Types = ((1, 0), (1, 1), (0, 1), (0, 0))
CHANNELS = (2, 1, 2, 1)


# -- the zoo ------------------------------------------------------------------------------------------------------
def sinusoid_zoo(count: int, hidden: int, seed: int, steps: int = 400) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """``count`` trained MLPs 1 → hidden → hidden → 1 (weights stacked, float32) and their frequencies.

    >>> zoo, omega = sinusoid_zoo(3, 4, 0, steps=2)
    >>> {k: tuple(v.shape) for k, v in zoo.items()}["W2"], tuple(omega.shape)
    ((3, 4, 4), (3,))
    """
    omega, phase = zoo_targets(count, seed)
    x = torch.linspace(-math.pi, math.pi, 64)
    y = torch.sin(omega[:, None] * x[None] + phase[:, None])
    shapes = {"W1": (hidden, 1), "b1": (hidden,), "W2": (hidden, hidden), "b2": (hidden,), "W3": (1, hidden), "b3": (1,)}
    params = {name: torch.empty(count, *shape) for name, shape in shapes.items()}
    for i in range(count):      # each network from its own seed, PyTorch's default initialisation
        torch.manual_seed(seed + i)
        layers = (nn.Linear(1, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 1))
        for j, layer in enumerate(layers, 1):
            params[f"W{j}"][i], params[f"b{j}"][i] = layer.weight.detach(), layer.bias.detach()
    params = {name: nn.Parameter(p) for name, p in params.items()}
    optimiser = torch.optim.Adam(params.values(), lr=1e-2)
    for _ in range(steps):
        loss = (zoo_forward(params, x) - y).pow(2).mean(1).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return {name: p.detach() for name, p in params.items()}, omega


def zoo_targets(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The sinusoids' frequencies and phases, from the zoo's seed."""
    g = torch.Generator().manual_seed(seed)
    omega = 0.5 + 2.5 * torch.rand(count, generator=g)
    return omega, 2 * math.pi * torch.rand(count, generator=g)


def zoo_forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Every network of the zoo on the points ``x`` (P,): (count, P)."""
    h = torch.relu(params["W1"][:, None, :, 0] * x[None, :, None] + params["b1"][:, None])
    h = torch.relu(h @ params["W2"].transpose(1, 2) + params["b2"][:, None])
    return (h @ params["W3"].transpose(1, 2))[..., 0] + params["b3"]


def permute_hidden(params: dict[str, torch.Tensor], g: torch.Generator) -> dict[str, torch.Tensor]:
    """The same networks with each one's hidden neurons permuted at random (one permutation per layer)."""
    count, h1, h2 = params["W2"].shape[0], params["W2"].shape[2], params["W2"].shape[1]
    p1 = torch.argsort(torch.rand(count, h1, generator=g), 1)
    p2 = torch.argsort(torch.rand(count, h2, generator=g), 1)
    take = torch.take_along_dim
    W2 = take(take(params["W2"], p2[:, :, None], 1), p1[:, None, :], 2)
    return {"W1": take(params["W1"], p1[:, :, None], 1), "b1": take(params["b1"], p1, 1), "W2": W2,
            "b2": take(params["b2"], p2, 1), "W3": take(params["W3"], p2[:, None, :], 2), "b3": params["b3"]}


def typed(params: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """The direct sum as typed tensors (B, C, axes): [(1, 0): W1, b1], [(1, 1): W2ᵀ], [(0, 1): b2, W3], [(0, 0): b3]."""
    return [torch.stack([params["W1"][..., 0], params["b1"]], 1), params["W2"].transpose(1, 2)[:, None],
            torch.stack([params["b2"], params["W3"][:, 0]], 1), params["b3"]]


def flat(params: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.flatten(1) for p in params.values()], 1)


# -- the layers: catnn blocks, and the same space one term at a time -----------------------------------------------
def reduced(k: tuple[int, ...], l: tuple[int, ...]) -> tuple[int, ...]:
    """The output order a block k -> l computes before broadcasting: l on the sorts k has.

    A sort with k_s = 0, l_s = 1 has one S_n diagram (the constant), so Hom(k, l) = Hom(k, l') ⊗ broadcast.

    >>> reduced((0, 1, 1), (1, 1, 0))
    (0, 1, 0)
    """
    return tuple(ls if ks else 0 for ks, ls in zip(k, l))


def expand_to(t: torch.Tensor, have: tuple[int, ...], want: tuple[int, ...]) -> torch.Tensor:
    """View ``t`` (B, C, axes of ``have``) with size-1 axes for the sorts ``want`` has and ``have`` lacks."""
    shape = list(t.shape[:2])
    it = iter(t.shape[2:])
    for h, w in zip(have, want):
        if w:
            shape.append(next(it) if h else 1)
    return t.reshape(shape)


class DirectSumLinear(nn.Module):
    """An equivariant linear map between direct sums of typed tensors (orders 0 or 1 per sort) over a
    product of symmetric groups of fixed sizes: one catnn ``EquivariantLinear`` per pair of types.

    >>> layer = DirectSumLinear(catnn.group("S(3) x S(2)"), ((1, 0), (1, 1)), (2, 1), ((0, 1),), (4,))
    >>> layer([torch.randn(5, 2, 3), torch.randn(5, 1, 3, 2)])[0].shape
    torch.Size([5, 4, 2])

    Block i → j runs at its reduced output order (:func:`reduced`); the blocks landing in one output are
    summed at their small sizes first and broadcast into the output once per maximal reduced order.
    ``normalize``: means instead of sums over the pooled neurons.
    """

    def __init__(self, group: catnn.ProductGroup, in_types: Types, in_channels: tuple[int, ...], out_types: Types,
                 out_channels: tuple[int, ...], normalize: bool = True) -> None:
        super().__init__()
        if any(o not in (0, 1) for t in in_types + out_types for o in t):
            raise ValueError("DirectSumLinear takes orders 0 or 1 per sort")
        self.in_types, self.out_types = in_types, out_types
        self.blocks = nn.ModuleDict()
        for j, l in enumerate(out_types):
            for i, k in enumerate(in_types):
                self.blocks[f"{i}_{j}"] = EquivariantLinear(group, k, reduced(k, l), in_channels[i], out_channels[j],
                                                            bias=k == l or (i == 0 and l not in in_types),
                                                            normalize=normalize)
        with torch.no_grad():           # each output sums len(in_types) blocks: keep its scale at init
            for block in self.blocks.values():
                block.weight /= len(in_types)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        return [self.output(j, l, xs) for j, l in enumerate(self.out_types)]

    def output(self, j: int, l: tuple[int, ...], xs: list[torch.Tensor]) -> torch.Tensor:
        parts: dict[tuple[int, ...], torch.Tensor] = {}
        for i, k in enumerate(self.in_types):
            r = reduced(k, l)
            y = self.blocks[f"{i}_{j}"](xs[i])
            parts[r] = parts[r] + y if r in parts else y
        for r in sorted(parts, key=sum):          # fold each part into its smallest strict superset present
            above = [s for s in parts if s != r and all(a >= b for a, b in zip(s, r))]
            if above:
                target = min(above, key=sum)
                parts[target] = parts[target] + expand_to(parts.pop(r), r, target)
        full = parts.pop(l) if l in parts else None
        for r, t in parts.items():
            t = expand_to(t, r, l)
            full = t if full is None else full + t
        return full


def term_choices(k: tuple[int, ...], l: tuple[int, ...]) -> list[tuple[str, ...]]:
    """The S_n diagrams of Hom(k, l) for orders 0/1, one word per sort: "id" (keep the neuron),
    "pool" (mean over it, then broadcast if l has it), "none" (the sort is on neither side or only on l).

    >>> term_choices((1, 1), (1, 0))
    [('id', 'pool'), ('pool', 'pool')]
    """
    options = {(1, 1): ("id", "pool"), (1, 0): ("pool",), (0, 1): ("none",), (0, 0): ("none",)}
    return list(itertools.product(*(options[ks, ls] for ks, ls in zip(k, l))))


class TermLinear(nn.Module):
    """The space of :class:`DirectSumLinear` written by hand (no catnn), NFN/DWS-style: every term is
    its own operation — pool the input over some neurons, mix the channels, broadcast-add into the
    output (UNF's way of applying one basis element at a time)."""

    def __init__(self, in_types: Types, in_channels: tuple[int, ...], out_types: Types,
                 out_channels: tuple[int, ...]) -> None:
        super().__init__()
        self.in_types, self.out_types = in_types, out_types
        self.terms = [(i, j, c) for j, l in enumerate(out_types) for i, k in enumerate(in_types)
                      for c in term_choices(k, l)]
        into = [sum(in_channels[i] for i, o, _ in self.terms if o == j) for j in range(len(out_types))]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.randn(out_channels[j], in_channels[i]) / math.sqrt(into[j])) for i, j, _ in self.terms)
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(c)) for c in out_channels)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        outs: list[torch.Tensor | None] = [None] * len(self.out_types)
        for (i, j, choice), w in zip(self.terms, self.weights):
            k, l, x = self.in_types[i], self.out_types[j], xs[i]
            axes = [s for s in range(len(k)) if k[s]]
            pooled = tuple(2 + a for a, s in enumerate(axes) if choice[s] == "pool")
            if pooled:
                x = x.mean(pooled)
            kept = tuple(1 if ks and c == "id" else 0 for ks, c in zip(k, choice))
            y = expand_to(torch.einsum("oc,bc...->bo...", w, x), kept, l)
            outs[j] = y if outs[j] is None else outs[j] + y
        return [o + expand_to(b[None, :], (0,) * len(l), l) for o, b, l in zip(outs, self.biases, self.out_types)]


# -- the models ---------------------------------------------------------------------------------------------------------
def head(channels: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, 1))


class InvariantNet(nn.Module):
    """Two equivariant direct-sum layers with ReLUs, a direct sum → (0, 0) layer, an MLP head.
    ``layer``: a :class:`DirectSumLinear` (catnn) or :class:`TermLinear` (by hand) factory."""

    def __init__(self, layer: Callable[..., nn.Module], channels: int = 16, hidden: int = 64) -> None:
        super().__init__()
        C = (channels,) * len(TYPES)
        self.layers = nn.ModuleList([layer(TYPES, CHANNELS, TYPES, C), layer(TYPES, C, TYPES, C),
                                     layer(TYPES, C, ((0, 0),), (channels,))])
        self.head = head(channels, hidden)

    def forward(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        xs = typed(params)
        for layer in self.layers[:-1]:
            xs = [torch.relu(x) for x in layer(xs)]
        return self.head(self.layers[-1](xs)[0])[:, 0]


def catnn_net(hidden: int) -> InvariantNet:
    G = catnn.group("S x S").at((hidden, hidden))
    return InvariantNet(lambda *a: DirectSumLinear(G, *a))


class FlatMLP(nn.Module):
    """An MLP on the flattened weights; ``augment``: train on hidden-permuted copies."""

    def __init__(self, inputs: int, hidden: int = 128, augment: bool = False) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 1))
        self.augment = augment
        self.g = torch.Generator().manual_seed(1)

    def forward(self, params: dict[str, torch.Tensor]) -> torch.Tensor:
        if self.augment and self.training:
            params = permute_hidden(params, self.g)
        return self.net(flat(params))[:, 0]


# -- training and evaluation ------------------------------------------------------------------------------------------
def subset(params: dict[str, torch.Tensor], index: torch.Tensor) -> dict[str, torch.Tensor]:
    return {name: p[index] for name, p in params.items()}


def fit(model: nn.Module, params: dict[str, torch.Tensor], y: torch.Tensor, epochs: int, batch_size: int = 64,
        lr: float = 1e-3, seed: int = 0) -> float:
    """Adam with a cosine schedule on the MSE; returns seconds per epoch."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    order = torch.Generator().manual_seed(seed)
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        for index in torch.randperm(len(y), generator=order).split(batch_size):
            loss = (model(subset(params, index)) - y[index]).pow(2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()
    model.eval()
    return (time.perf_counter() - start) / max(epochs, 1)


@torch.no_grad()
def mse(model: nn.Module, params: dict[str, torch.Tensor], y: torch.Tensor) -> float:
    return float((model(params) - y).pow(2).mean())


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train the zoo, then every model; prints the table and returns the metrics."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny zoo and few epochs (seconds)")
    parser.add_argument("--networks", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    count, hidden, epochs, steps = (48, 6, 2, 10) if args.quick else (2000, 16, 40, 400)
    count, epochs = args.networks or count, args.epochs or epochs
    start = time.perf_counter()
    zoo, omega = sinusoid_zoo(count, hidden, args.seed, steps)
    grid, phase = torch.linspace(-math.pi, math.pi, 64), zoo_targets(count, args.seed)[1]
    misfit = zoo_forward(zoo, grid) - torch.sin(omega[:, None] * grid + phase[:, None])
    results = {"zoo seconds": time.perf_counter() - start, "zoo fit RMSE": float(misfit.pow(2).mean().sqrt())}
    y = (omega - omega.mean()) / omega.std()
    split = count * 3 // 4
    train, test = subset(zoo, torch.arange(split)), subset(zoo, torch.arange(split, count))
    permuted = permute_hidden(test, torch.Generator().manual_seed(args.seed + 7))
    print(f"Weight spaces: {count} MLPs 1-{hidden}-{hidden}-1 fitted to sinusoids (seeds {args.seed}.."
          f"{args.seed + count - 1}, {steps} steps, {results['zoo seconds']:.0f} s, fit RMSE "
          f"{results['zoo fit RMSE']:.3f}; {split} train / {count - split} test); {epochs} epochs.")
    print(f"Test MSE of the standardised frequency (predicting the mean: {float(y[split:].pow(2).mean()):.3f})")
    print(f"  {'model':<32}{'parameters':>11}{'test MSE':>10}{'permuted':>10}{'s / epoch':>11}")
    models = {"catnn S_h1 x S_h2": lambda: catnn_net(hidden), "NFN/DWS-style (by hand)": lambda: InvariantNet(TermLinear),
              "MLP on flat weights": lambda: FlatMLP(flat(zoo).shape[1]),
              "MLP + permutation augmentation": lambda: FlatMLP(flat(zoo).shape[1], augment=True)}
    for name, build in models.items():
        torch.manual_seed(args.seed)
        model = build()
        per_epoch = fit(model, train, y[:split], epochs, seed=args.seed)
        params = sum(p.numel() for p in model.parameters())
        results[name], results[f"{name}: permuted"] = mse(model, test, y[split:]), mse(model, permuted, y[split:])
        results[f"{name}: s/epoch"] = per_epoch
        print(f"  {name:<32}{params:>11}{results[name]:>10.4f}{results[f'{name}: permuted']:>10.4f}{per_epoch:>11.2f}")
    return results


if __name__ == "__main__":
    main()
