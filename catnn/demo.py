"""``catnn demo``: compile the bundled programs, show a plan, and count triangles with an S_n network.

>>> data = triangle_data(3, sizes=(4, 6), seed=0)
>>> data.adjacency.shape, data.mask.shape, data.triangles.shape
(torch.Size([3, 1, 6, 6]), torch.Size([3, 6]), torch.Size([3]))
>>> net = TriangleCounter(channels=4)
>>> net(data.adjacency, data.mask).shape
torch.Size([3])

**The task.** Random graphs (Erdős–Rényi, n nodes and edge probability p drawn per graph) are
padded into batches with a node mask; the target is each graph's number of triangles,
``trace(A³) / 6``, divided by the mean count of the training set. Errors are reported as the mean
absolute error divided by the mean count (0.1 = off by a tenth of a typical count).

**The S_n network** (:class:`TriangleCounter`) maps adjacency matrices (2-tensors) to a number.
Its first stage is a bilinear S_n layer ``2 @ 2 -> 2`` restricted to two diagrams, the matrix
product ``{1, 1'} {2', 3'} {2, 4'}`` (``x @ y``) and the entrywise product
``{1, 1', 3'} {2, 2', 4'}`` (``x * y``), applied to the adjacency matrix with itself; then
``2 -> 2`` layers (all 15 diagrams, block sums divided by n) with relu, and a ``2 -> 0`` readout
(sums). ``bilinear=False`` replaces the bilinear stage by a plain ``2 -> 2`` layer: linear layers
and relu alone cannot form products such as ``(A²)_ij A_ij``; they learn degree statistics and end
up near message passing's error (``examples/graphs_triangles.py``: 0.08 against 0.10).

**The baseline** (:class:`MessagePassing`) is a GIN-style network on node features: h ← MLP(h + A h),
summed over nodes, then an MLP; plain torch, trained the same way (:func:`train`).

**Equivariance** (:func:`equivariance_error`) is measured in float64: every graph's real nodes are
relabelled by a random permutation P; the hidden 2 -> 2 features must move as P X Pᵀ and the
output must not move.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, TextIO

import torch
from torch import nn

from . import messages
from .errors import CatnnError
from .networks import Bilinear, Network, Pointwise
from .nn import EquivariantLinear

__all__ = ["GraphData", "triangle_data", "TriangleCounter", "MessagePassing", "TrainLog", "train",
           "relative_error", "equivariance_error", "compile_examples", "ProgressBar", "one_thread", "run_demo",
           "MATMUL", "ENTRYWISE"]

#: (x ⊗ y) -> x @ y: output i is input 1' (x's row), x's column 2' meets y's row 3', output j is 4'
MATMUL = "{1, 1'} {2', 3'} {2, 4'}"
#: (x ⊗ y) -> x * y: both row indices and both column indices equal
ENTRYWISE = "{1, 1', 3'} {2, 2', 4'}"

#: the bundled programs, when catnn runs from a source checkout (``pip install -e .``)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


# -- data -----------------------------------------------------------------------------------------
@dataclass
class GraphData:
    """Padded graphs: ``adjacency`` (B, 1, N, N), ``mask`` (B, N) bools, ``triangles`` (B,)."""

    adjacency: torch.Tensor
    mask: torch.Tensor
    triangles: torch.Tensor

    def __len__(self) -> int:
        return len(self.triangles)

    def __getitem__(self, index: torch.Tensor) -> GraphData:
        return GraphData(self.adjacency[index], self.mask[index], self.triangles[index])


def triangle_data(count: int, sizes: tuple[int, int] = (6, 14), density: tuple[float, float] = (0.2, 0.6),
                  seed: int = 0) -> GraphData:
    """``count`` Erdős–Rényi graphs, n uniform in ``sizes`` and p in ``density``, with triangle counts.

    >>> data = triangle_data(2, sizes=(3, 3), density=(1.0, 1.0))     # two triangles K_3
    >>> data.triangles.tolist(), data.mask.all().item()
    ([1.0, 1.0], True)
    """
    g = torch.Generator().manual_seed(seed)
    N = sizes[1]
    n = torch.randint(sizes[0], sizes[1] + 1, (count,), generator=g)
    p = torch.empty(count).uniform_(density[0], density[1], generator=g)
    mask = torch.arange(N)[None, :] < n[:, None]
    upper = (torch.rand(count, N, N, generator=g) < p[:, None, None]).triu(1) & mask[:, :, None] & mask[:, None, :]
    a = (upper | upper.transpose(1, 2)).to(torch.get_default_dtype())
    triangles = torch.einsum("bij,bjk,bki->b", a, a, a) / 6
    return GraphData(a[:, None], mask, triangles)


# -- models ---------------------------------------------------------------------------------------
class TriangleCounter(nn.Module):
    """The S_n network of the module docstring: ``forward(adjacency, mask) -> (B,)``.

    >>> [type(s).__name__ for s in TriangleCounter(channels=4).network.stages]
    ['Bilinear', 'Pointwise', 'EquivariantLinear', 'Pointwise', 'EquivariantLinear']

    The readout's weights start at zero: it sums n² entries of non-negative features, so a random
    start would put the first predictions tens of counts away from the targets.
    """

    def __init__(self, channels: int = 16, depth: int = 1, bilinear: bool = True) -> None:
        super().__init__()
        import catnn
        C = channels
        first: nn.Module = (Bilinear("S", 2, 2, 2, 1, C, diagrams=[catnn.diagram(MATMUL), catnn.diagram(ENTRYWISE)])
                            if bilinear else EquivariantLinear("S", 2, 2, 1, C, normalize=True))
        stages: list[nn.Module] = [first, Pointwise("relu")]
        for _ in range(depth):
            stages += [EquivariantLinear("S", 2, 2, C, C, normalize=True), Pointwise("relu")]
        readout = EquivariantLinear("S", 2, 0, C, 1)
        nn.init.zeros_(readout.weight)
        self.network = Network("S", stages + [readout])

    def forward(self, adjacency: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.network(adjacency, mask=mask)[:, 0]

    def hidden(self) -> Network:
        """The stages before the readout, as a 2 -> 2 network (sharing this one's parameters)."""
        return Network("S", list(self.network.stages)[:-1])


class MessagePassing(nn.Module):
    """A GIN-style baseline in plain torch: ``h <- relu(MLP(h + A h))`` per node, summed, then an MLP.

    >>> MessagePassing(channels=8)(torch.ones(2, 1, 3, 3), torch.ones(2, 3, dtype=torch.bool)).shape
    torch.Size([2])
    """

    def __init__(self, channels: int = 32, depth: int = 3) -> None:
        super().__init__()
        C = channels
        self.embed = nn.Linear(1, C)
        self.layers = nn.ModuleList(nn.Sequential(nn.Linear(C, C), nn.ReLU(), nn.Linear(C, C)) for _ in range(depth))
        self.readout = nn.Sequential(nn.Linear(C, C), nn.ReLU(), nn.Linear(C, 1))

    def forward(self, adjacency: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        a, m = adjacency[:, 0], mask.to(adjacency.dtype)[:, :, None]
        h = self.embed(m) * m
        for layer in self.layers:
            h = torch.relu(layer(h + a @ h)) * m
        return self.readout(h.sum(1))[:, 0]


# -- training -------------------------------------------------------------------------------------
@dataclass
class TrainLog:
    """What :func:`train` did: optimiser steps, epochs (steps / batches per epoch), seconds, last loss."""

    steps: int
    epochs: float
    seconds: float
    loss: float


def train(model: nn.Module, data: GraphData, *, steps: int | None = None, seconds: float | None = None,
          batch_size: int = 32, lr: float = 1e-3, seed: int = 0,
          progress: Callable[[float, str], None] | None = None) -> TrainLog:
    """Adam on the mean squared error of counts / (mean training count), for ``steps`` or ``seconds``.

    Batches are drawn epoch by epoch (a fresh shuffle each epoch, seeded by ``seed``); the learning
    rate follows a cosine from ``lr`` to 0 over the fraction of the run done (steps taken, or
    seconds spent). ``progress(fraction, text)`` is called after each step.

    >>> log = train(MessagePassing(8), triangle_data(16, sizes=(4, 6)), steps=5, batch_size=8)
    >>> log.steps, log.epochs
    (5, 2.5)
    """
    if (steps is None) == (seconds is None):
        raise CatnnError(messages.TRAIN_STEPS_OR_SECONDS)
    scale = data.triangles.mean().clamp(min=1.0)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    batches = math.ceil(len(data) / batch_size)
    start, taken, loss = time.perf_counter(), 0, float("nan")

    def done() -> float:
        return taken / steps if steps is not None else (time.perf_counter() - start) / seconds

    while done() < 1.0:
        for index in torch.randperm(len(data), generator=order).split(batch_size):
            fraction = done()
            if fraction >= 1.0:
                break
            for group in optimiser.param_groups:
                group["lr"] = lr * 0.5 * (1.0 + math.cos(math.pi * fraction))
            batch = data[index]
            step_loss = (model(batch.adjacency, batch.mask) - batch.triangles / scale).pow(2).mean()
            optimiser.zero_grad()
            step_loss.backward()
            optimiser.step()
            taken, loss = taken + 1, step_loss.item()
            if progress is not None:
                progress(min(done(), 1.0), f"epoch {taken / batches:5.1f}  loss {loss:.4f}")
    return TrainLog(taken, taken / batches, time.perf_counter() - start, loss)


def fit_regression(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, *, batch_size: int = 100,
                   lr: float = 3e-3, seed: int = 0,
                   augment: Callable[[torch.Tensor], torch.Tensor] | None = None) -> tuple[float, float]:
    """Adam on standardised targets, the learning rate on a cosine from ``lr`` to 0; ``augment`` moves each
    batch's inputs (the targets are invariant). Returns the target (mean, std), for :func:`regression_mse`.

    >>> x = torch.linspace(-1, 1, 192).reshape(64, 3); y = x.sum(1, keepdim=True)
    >>> model = nn.Linear(3, 1)
    >>> scale = fit_regression(model, x, y, 30, batch_size=16, lr=0.1)
    >>> regression_mse(model, x, y, scale) < 1e-2 * float(y.var())
    True
    """
    mean, std = y.mean(), y.std()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for index in torch.randperm(len(x), generator=order).split(batch_size):
            inputs = x[index] if augment is None else augment(x[index])
            loss = (model(inputs) - (y[index] - mean) / std).pow(2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()
    return float(mean), float(std)


@torch.no_grad()
def regression_mse(model: nn.Module, x: torch.Tensor, y: torch.Tensor, scale: tuple[float, float]) -> float:
    """Mean squared error on the original scale of targets a :func:`fit_regression` model predicts."""
    mean, std = scale
    return float(((model(x) * std + mean - y) ** 2).mean())


@torch.no_grad()
def relative_error(model: nn.Module, data: GraphData, scale: float) -> float:
    """Mean |predicted count − count| / mean count; the model predicts counts / ``scale``.

    >>> data = triangle_data(8)
    >>> relative_error(lambda a, m: torch.zeros(len(a)), data, 1.0)   # predicting 0 is off by 100%
    1.0
    """
    predicted = model(data.adjacency, data.mask) * scale
    return float((predicted - data.triangles).abs().mean() / data.triangles.mean())


@torch.no_grad()
def equivariance_error(model: TriangleCounter, data: GraphData, trials: int = 3, seed: int = 0) -> dict[str, float]:
    """Float64 errors under random relabellings of each graph's real nodes (padding stays put).

    ``hidden``: max |h(P A Pᵀ) − P h(A) Pᵀ| over the 2 -> 2 features before the readout, divided by
    max |h(A)|; ``output``: max |f(P A Pᵀ) − f(A)| / max |f(A)|.

    >>> errors = equivariance_error(TriangleCounter(channels=4), triangle_data(4, sizes=(4, 7)))
    >>> sorted(errors), max(errors.values()) < 1e-12
    (['hidden', 'output'], True)
    """
    net = copy.deepcopy(model).double()
    hidden = net.hidden()
    a, mask = data.adjacency.double(), data.mask
    g = torch.Generator().manual_seed(seed)
    h, y = hidden(a, mask=mask), net(a, mask)
    errors = {"hidden": 0.0, "output": 0.0}
    for _ in range(trials):
        perm = _relabelling(mask, g)
        h_moved, y_moved = hidden(_permute(a, perm), mask=mask), net(_permute(a, perm), mask)
        errors["hidden"] = max(errors["hidden"], float((h_moved - _permute(h, perm)).abs().max() / h.abs().max()))
        errors["output"] = max(errors["output"], float((y_moved - y).abs().max() / y.abs().max()))
    return errors


def _relabelling(mask: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """(B, N) indices: a random permutation of each graph's real nodes, padded nodes fixed at the end."""
    keys = torch.rand(mask.shape, generator=g, dtype=torch.float64)
    keys[~mask] = 2.0
    return keys.argsort(dim=1)


def _permute(x: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """``x[b, c, perm[b]][:, perm[b]]`` for every graph b and channel c of a (B, C, N, N) tensor."""
    rows = perm[:, None, :, None].expand(-1, x.shape[1], -1, x.shape[3])
    x = x.gather(2, rows)
    return x.gather(3, perm[:, None, None, :].expand(-1, x.shape[1], x.shape[2], -1))


# -- the demo -------------------------------------------------------------------------------------
class ProgressBar:
    """A one-line progress bar, redrawn in place with ``\\r`` (at most every ``interval`` seconds).

    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressBar(out, width=10)
    >>> bar(1.0, "done"); bar.close()
    >>> out.getvalue().split("\\r")[-1]
    '  [##########] 100%  done\\n'
    """

    def __init__(self, stream: TextIO, width: int = 30, interval: float = 0.2) -> None:
        self.stream, self.width, self.interval = stream, width, interval
        self.last, self.length, self.full = -math.inf, 0, False

    def __call__(self, fraction: float, text: str) -> None:
        now = time.perf_counter()
        if self.full or (now - self.last < self.interval and fraction < 1.0):
            return
        self.last, self.full = now, fraction >= 1.0
        filled = int(round(self.width * fraction))
        line = f"  [{'#' * filled}{'-' * (self.width - filled)}] {100 * fraction:3.0f}%  {text}"
        self.stream.write("\r" + line.ljust(self.length))
        self.length = len(line)
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def compile_examples(directory: Path, out_dir: Path) -> list[tuple[str, str]]:
    """Load every ``*.diag`` in ``directory``, write its compiled module to ``out_dir`` and import it.

    Returns (file name, summary) pairs; the summary counts what the module defines.
    """
    from . import load
    from .compiler.write import write_module
    rows = []
    for path in sorted(directory.glob("*.diag")):
        program = load(path)
        target = out_dir / f"{path.stem}_diag.py"
        target.write_text(write_module(program), encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"catnn_demo_{path.stem}", target)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        kinds = _kinds(program)
        rows.append((path.name, f"{program.group}: {kinds} -> {target.name}"))
    return rows


def _kinds(program: object) -> str:
    """``"2 morphisms, 1 layers"``: what a program defines, by kind."""
    from .spec import LayerSpec, NetworkSpec
    counts = {"morphisms": 0, "layers": 0, "networks": 0}
    for value in program.definitions.values():
        kind = "layers" if isinstance(value, LayerSpec) else "networks" if isinstance(value, NetworkSpec) else None
        counts[kind or "morphisms"] += 1
    return ", ".join(f"{v} {k}" for k, v in counts.items() if v)


#: ``--quick``: a smoke run of every step, too short for the network to learn much
QUICK = dict(train=200, test=200, channels=8, steps=40)


def run_demo(seconds: float = 40.0, quick: bool = False, seed: int = 0, out: TextIO | None = None) -> int:
    """The ``catnn demo`` command: four steps, printed to ``out`` (standard output); returns 0.

    The S_n network trains for ``seconds`` (``quick``: a fixed 40 steps on smaller data), the
    baseline for the same number of optimiser steps.
    """
    out = sys.stdout if out is None else out
    with one_thread():
        return _run_demo(seconds, quick, seed, out)


def _run_demo(seconds: float, quick: bool, seed: int, out: TextIO) -> int:
    sizes = QUICK if quick else dict(train=2000, test=1000, channels=16)
    budget = dict(steps=QUICK["steps"]) if quick else dict(seconds=seconds)
    out.write("catnn demo: string diagrams -> equivariant layers -> a trained S_n graph network\n\n")
    _step_compile(out)
    torch.manual_seed(seed)
    model = TriangleCounter(channels=sizes["channels"])
    _step_explain(model, out)
    train_data = triangle_data(sizes["train"], seed=seed)
    test_data = triangle_data(sizes["test"], seed=seed + 1)
    results = _step_train(model, train_data, test_data, budget, seed, out)
    errors = equivariance_error(model, test_data, seed=seed)
    out.write("\n4. results\n")
    for name, value in results.items():
        out.write(f"  {name}\n  {'':4}{value}\n")
    if quick:
        out.write(f"  (--quick: {QUICK['steps']} steps are too few to learn; `catnn demo` trains for real)\n")
    out.write(f"  equivariance in float64 (3 random relabellings of {len(test_data)} test graphs):\n"
              f"    hidden 2 -> 2 features, |h(PAPᵀ) - P h(A) Pᵀ| / |h|: {errors['hidden']:.1e}\n"
              f"    output (invariant), |f(PAPᵀ) - f(A)| / |f|:          {errors['output']:.1e}\n")
    return 0


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block (then restore the setting), its one-time costs paid.

    The demo's tensors are small (a batch of 14 x 14 graphs): a second thread gains little, and on
    a busy machine threads that wait for each other make every step several times slower. torch
    imports its compiler stack (1-2 s) when the first optimizer is made; one is made here, so that
    the first model timed inside the block does not pay for it.
    """
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _step_compile(out: TextIO) -> None:
    out.write("1. compiling the bundled programs (examples/*.diag) to standalone torch modules\n")
    if not EXAMPLES.is_dir():
        out.write(f"  skipped: no examples folder at {EXAMPLES} (catnn is not running from a source checkout)\n\n")
        return
    with tempfile.TemporaryDirectory(prefix="catnn-demo-") as tmp:
        start = time.perf_counter()
        rows = compile_examples(EXAMPLES, Path(tmp))
        width = max((len(name) for name, _ in rows), default=0)
        for name, summary in rows:
            out.write(f"  {name:<{width}}  {summary}\n")
        out.write(f"  {len(rows)} programs compiled, written to {tmp} and imported in "
                  f"{time.perf_counter() - start:.1f} s (the folder is removed afterwards)\n\n")


def _step_explain(model: TriangleCounter, out: TextIO) -> None:
    layer = model.network.stages[2]
    out.write("2. the plan of the network's S_n 2 -> 2 layer (what `catnn explain FILE.diag` prints)\n")
    text = layer.explain(n=14, batch=32)
    out.write("".join(f"  {line}\n" for line in text.splitlines()) + "\n")


def _step_train(model: TriangleCounter, train_data: GraphData, test_data: GraphData, budget: dict[str, float],
                seed: int, out: TextIO) -> dict[str, str]:
    scale = float(train_data.triangles.mean())
    out.write(f"3. training: count the triangles of random graphs ({len(train_data)} train, {len(test_data)} test; "
              f"n = 6..14 nodes, edge probability 0.2..0.6, mean count {scale:.1f})\n")
    params = sum(p.numel() for p in model.parameters())
    out.write(f"  S_n network: bilinear 2@2->2 (x@y, x*y) >> relu >> 2->2 (15 diagrams) >> relu >> 2->0;"
              f" {params} parameters, {' '.join(f'{v:g} {k}' for k, v in budget.items())}\n")
    log = _with_bar(lambda bar: train(model, train_data, **budget, seed=seed, progress=bar), out)
    torch.manual_seed(seed)
    baseline = MessagePassing()
    params = sum(p.numel() for p in baseline.parameters())
    out.write(f"  message-passing baseline (GIN-style, 3 rounds of sum aggregation): {params} parameters, "
              f"the same {log.steps} steps\n")
    base_log = _with_bar(lambda bar: train(baseline, train_data, steps=log.steps, seed=seed, progress=bar), out)
    rows = {}
    for name, net, run in (("S_n network", model, log), ("message passing", baseline, base_log)):
        rows[f"{name} ({run.epochs:.1f} epochs, {run.seconds:.0f} s):"] = (
            f"test error {relative_error(net, test_data, scale):.3f}, train error "
            f"{relative_error(net, train_data, scale):.3f}  (mean |count error| / mean count)")
    return rows


def _with_bar(run: Callable[[ProgressBar], TrainLog], out: TextIO) -> TrainLog:
    bar = ProgressBar(out)
    try:
        return run(bar)
    finally:
        bar.close()
