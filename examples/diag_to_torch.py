"""From a ``.diag`` file to a trained model with nothing but PyTorch at training time.

    python examples/diag_to_torch.py              # ~30 s on a laptop CPU

1. ``catnn compile examples/edge_model.diag -o edge_model_diag.py`` writes a standalone module
   (it imports only torch): one ``torch.nn.Module`` class per layer and per network.
2. The module is imported with importlib, like any other Python file.
3. A plain PyTorch loop trains its network ``wedges`` to count the paths of length 2 (wedges,
   Σ_i d_i (d_i − 1) / 2 over the degrees d_i) of random graphs of 6 to 14 nodes, padded into
   batches with a node mask. The error is reported against predicting the mean count.

Set CATNN_EXAMPLE_TINY=1 for a few-second run (the test suite does).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import sys
import tempfile
from types import ModuleType

import torch

HERE = pathlib.Path(__file__).resolve().parent


def compile_program(source: pathlib.Path, target: pathlib.Path) -> ModuleType:
    """Run ``catnn compile SOURCE -o TARGET`` (as the shell would) and import the module it writes."""
    from catnn.cli import main as catnn_cli
    status = catnn_cli(["compile", str(source), "-o", str(target)])
    if status != 0:
        sys.exit(status)
    spec = importlib.util.spec_from_file_location(target.stem, target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wedge_data(count: int, generator: torch.Generator, sizes: tuple[int, int] = (6, 14)):
    """Padded adjacency matrices (count, 1, N, N), node masks (count, N) and wedge counts (count,)."""
    N = sizes[1]
    n = torch.randint(sizes[0], N + 1, (count,), generator=generator)
    p = torch.empty(count).uniform_(0.1, 0.5, generator=generator)
    mask = torch.arange(N)[None, :] < n[:, None]
    upper = (torch.rand(count, N, N, generator=generator) < p[:, None, None]).triu(1)
    upper &= mask[:, :, None] & mask[:, None, :]
    a = (upper | upper.transpose(1, 2)).float()
    degree = a.sum(-1)
    return a[:, None], mask, (degree * (degree - 1) / 2).sum(-1)


def main(argv: list[str] | None = None) -> dict[str, float]:
    tiny = os.environ.get("CATNN_EXAMPLE_TINY") == "1"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1 if tiny else 30)
    parser.add_argument("--train", type=int, default=64 if tiny else 2000)
    parser.add_argument("--test", type=int, default=64 if tiny else 1000)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        compiled = compile_program(HERE / "edge_model.diag", pathlib.Path(tmp) / "edge_model_diag.py")

    # From here on: plain PyTorch.
    torch.manual_seed(0)
    model = compiled.wedges()                       # edge[1 -> 16] >> relu >> edge[16 -> 16] >> relu >> readout
    torch.nn.init.zeros_(model.stages[-1].weight)   # the readout sums n² non-negative entries: start it at 0
    g = torch.Generator().manual_seed(0)
    x, mask, y = wedge_data(args.train, g)
    x_test, mask_test, y_test = wedge_data(args.test, g)
    scale = y.mean()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, args.epochs)
    for epoch in range(args.epochs):
        for index in torch.randperm(len(y), generator=g).split(32):
            loss = (model(x[index], mask=mask[index])[:, 0] - y[index] / scale).pow(2).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        schedule.step()

    with torch.no_grad():
        predicted = model(x_test, mask=mask_test)[:, 0] * scale
    error = float((predicted - y_test).abs().mean() / y_test.mean())
    baseline = float((y.mean() - y_test).abs().mean() / y_test.mean())
    print(f"wedge counts of {args.test} test graphs (model trained {args.epochs} epochs on {args.train} graphs):")
    print(f"  compiled network 'wedges': mean |error| / mean count = {error:.3f}")
    print(f"  predicting the training mean:                          {baseline:.3f}")
    return {"test error": error, "mean baseline": baseline}


if __name__ == "__main__":
    main()
