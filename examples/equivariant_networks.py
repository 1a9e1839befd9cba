"""Two equivariant networks end to end: O(3) invariants of vector sets, and S_n on padded graph batches.

    python examples/equivariant_networks.py

1. ``examples/mixed_networks.diag`` declares an O(3) network from 4 vectors per sample to 2
   invariants (a bilinear layer raises the order, a mixed-order layer splits out invariant
   channels, a gate uses them). It is built in memory (``prog.nn.invariants()``) and as a
   standalone module (``catnn compile``); both give the same numbers for the same weights, and a
   random rotation or reflection of the input leaves the output unchanged.
2. An S_n network on graphs (adjacency matrices) of different sizes, padded into one batch with a
   node mask: each graph's output equals running it alone, and it is invariant under relabelling
   the nodes.
"""

from __future__ import annotations

import importlib.util
import pathlib
import tempfile

import numpy as np
import torch

import catnn
from catnn.compiler.write import write_module
from catnn.networks import Gate, MixedLinear, Network, Pointwise, Pool
from catnn.nn import EquivariantLinear

HERE = pathlib.Path(__file__).parent


def act(g: np.ndarray, x: torch.Tensor) -> torch.Tensor:
    """g applied to every trailing axis of x (batch and channels first)."""
    out = x
    for axis in range(2, x.dim()):
        out = torch.movedim(torch.tensordot(torch.as_tensor(g, dtype=x.dtype), out, dims=([1], [axis])), 0, axis)
    return out


def o3_invariants(rng: np.random.Generator) -> dict[str, float]:
    prog = catnn.load(HERE / "mixed_networks.diag")
    net = prog.nn.invariants().double()
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "mixed_networks.py"
        path.write_text(write_module(prog))
        spec = importlib.util.spec_from_file_location("mixed_networks", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        compiled = module.invariants().double()
    compiled.load_state_dict(net.state_dict())
    x = torch.from_numpy(rng.standard_normal((5, 4, 3)))            # 5 samples of 4 vectors in R^3
    y = net(x)
    g = catnn.group("O", n=3).sample(rng)                             # a random rotation or reflection
    return {"O(3) invariance error": float((net(act(g, x)) - y).abs().max()),
            "O(3) compiled - in memory": float((compiled(x) - y).abs().max())}


def sn_graphs(rng: np.random.Generator) -> dict[str, float]:
    G = catnn.group("S")
    net = Network(G, [EquivariantLinear(G, 2, 2, 1, 8, normalize=True), Pointwise("relu"),
                      MixedLinear(G, "8*V2", "8*V0 + 8*V1 + 8*V2", normalize=True), Gate(G, "8*V0 + 8*V1 + 8*V2"),
                      MixedLinear(G, "8*V0 + 8*V1 + 8*V2", "4*V1", normalize=True), Pointwise("silu"),
                      Pool("mean")]).double()
    sizes, N = (5, 9, 3, 7), 9
    graphs = [torch.from_numpy((rng.random((s, s)) < 0.4).astype(float)) for s in sizes]
    x = torch.zeros(len(sizes), 1, N, N, dtype=torch.float64)
    mask = torch.zeros(len(sizes), N, dtype=torch.bool)
    for b, a in enumerate(graphs):
        a = torch.triu(a, 1) + torch.triu(a, 1).T
        graphs[b] = a
        x[b, 0, :len(a), :len(a)], mask[b, :len(a)] = a, True
    y = net(x, mask=mask)
    alone = max(float((y[b] - net(a[None, None])[0]).abs().max()) for b, a in enumerate(graphs))
    p = rng.permutation(sizes[1])
    relabelled = graphs[1][p][:, p]
    invariance = float((net(relabelled[None, None]) - net(graphs[1][None, None])).abs().max())
    return {"S_n padded batch - graphs alone": alone, "S_n relabelling error": invariance}


def main() -> dict[str, float]:
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    with torch.no_grad():
        results = {**o3_invariants(rng), **sn_graphs(rng)}
    for name, value in results.items():
        print(f"{name:32s} {value:.1e}")
    return results


if __name__ == "__main__":
    main()
