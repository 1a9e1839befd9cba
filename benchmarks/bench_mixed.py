"""Mixed-order and bilinear layers: one shared plan against one layer per block, forward and backward.

    python benchmarks/bench_mixed.py                 # CPU, 1 thread
    python benchmarks/bench_mixed.py --device cuda --repeat 20

Cases (float32):

- **mixed S_n**: ``MixedLinear("S", "C*V0 + C*V1 + C*V2", same)`` at n = 32: 9 blocks in one plan;
- **mixed O(n)**: ``MixedLinear("O", "C*V0 + C*V2", same)`` at n = 24 (4 blocks);
- **bilinear S_n**: ``Bilinear("S", 1, 1, 2)`` at n = 48 (x ⊗ y never formed);
- **mixed S x S**: ``MixedLinear("S x S", W, W)`` on the weights and biases of an MLP
  1 -> h1 -> h2 -> 1, W = "C*V(1,0) + C*V(1,1) + C*V(0,1) + C*V(0,0)" (C channels per summand), at
  h1 = h2 = 64: 16 typed blocks in one plan.

Each is timed against **per block**: one ``EquivariantLinear`` per (input order, output order) block
with the same weights, outputs summed per order (what a model without the shared plan runs; for
the bilinear layer, the product x ⊗ y formed, then a 2 -> 2 layer). Times are the best (median) of
``--repeat`` interleaved rounds; ratios are per-block / shared (above 1: the shared plan is faster).
The backward of the shared plan is the generated one (the plan transposed, see
:mod:`catnn.compiler.emit_torch`).
"""

from __future__ import annotations

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import Timer, setup  # noqa: E402

from catnn.networks import Bilinear, MixedLinear  # noqa: E402
from catnn.nn import EquivariantLinear  # noqa: E402


def mixed_case(group: str, space: str, n: int, B: int, device: str) -> tuple[dict, str]:
    """The shared-plan layer and the per-block layers with the same weights."""
    layer = MixedLinear(group, space, space, n=n).to(device)
    blocks = {}
    for b in layer.plan.blocks:
        k, l = layer.in_space.orders[b.input], layer.out_space.orders[b.output]
        one = EquivariantLinear(group, k, l, layer.in_space[k], layer.out_space[l], diagrams=b.diagrams,
                                bias=False, n=n).to(device)
        with torch.no_grad():
            one.weight.copy_(layer.weight[layer.key(b)])
        blocks[(k, l)] = one
    x = {k: torch.randn(B, c, *(n,) * k, device=device, requires_grad=True) for k, c in layer.in_space.items()}

    def shared():
        return layer(x)

    def per_block():
        out: dict[int, torch.Tensor] = {}
        for (k, l), one in blocks.items():
            y = one(x[k])
            out[l] = y if l not in out else out[l] + y
        return out

    return {"shared plan": shared, "per block": per_block}, f"{group} {space} -> {space}, n={n}, B={B}"


def product_case(group: str, space: str, ns: tuple[int, ...], B: int, device: str) -> tuple[dict, str]:
    """A typed mixed layer over a product and its per-block layers with the same weights."""
    layer = MixedLinear(group, space, space).to(device)
    blocks = {}
    for b in layer.plan.blocks:
        k, l = layer.in_space.orders[b.input], layer.out_space.orders[b.output]
        one = EquivariantLinear(group, k, l, layer.in_space[k], layer.out_space[l], diagrams=b.diagrams,
                                bias=False, n=ns).to(device)
        with torch.no_grad():
            one.weight.copy_(layer.weight[layer.key(b)])
        blocks[(k, l)] = one
    x = {k: torch.randn(B, c, *(ns[s] for s in range(len(ns)) for _ in range(k[s])), device=device,
                        requires_grad=True) for k, c in layer.in_space.items()}

    def per_block():
        out: dict = {}
        for (k, l), one in blocks.items():
            y = one(x[k])
            out[l] = y if l not in out else out[l] + y
        return out

    return {"shared plan": lambda: layer(x), "per block": per_block}, f"{group} {space} -> same, n={ns}, B={B}"


def bilinear_case(n: int, B: int, C: int, device: str) -> tuple[dict, str]:
    layer = Bilinear("S", 1, 1, 2, C, C).to(device)
    dense = EquivariantLinear("S", 2, 2, C, C, diagrams=layer.plan.blocks[0].diagrams, bias=False).to(device)
    with torch.no_grad():
        dense.weight.copy_(layer.weight)
    x = torch.randn(B, C, n, device=device, requires_grad=True)
    y = torch.randn(B, C, n, device=device, requires_grad=True)
    return ({"shared plan": lambda: layer(x, y),
             "per block": lambda: dense(torch.einsum("bci,bcj->bcij", x, y))},
            f"S bilinear 1 @ 1 -> 2, n={n}, B={B}, C={C}")


def total(out) -> torch.Tensor:
    return sum(t.sum() for t in out.values()) if isinstance(out, dict) else out.sum()


def main() -> None:
    args = setup(__doc__)
    s = 0.5 if args.quick else 1.0
    C = 16
    cases = [mixed_case("S", f"{C}*V0 + {C}*V1 + {C}*V2", int(32 * s), 8, args.device),
             mixed_case("O", f"{C}*V0 + {C}*V2", int(24 * s), 8, args.device),
             bilinear_case(int(48 * s), 8, C, args.device),
             product_case("S x S", f"{C}*V(1,0) + {C}*V(1,1) + {C}*V(0,1) + {C}*V(0,0)", (int(64 * s),) * 2, 8,
                          args.device)]
    timer = Timer(args.device, args.repeat)
    for fns, title in cases:
        fwd = timer.compare({name: torch.no_grad()(fn) for name, fn in fns.items()})
        both = timer.compare({name: (lambda fn=fn: total(fn()).backward()) for name, fn in fns.items()})
        print(title)
        print(f"  {'method':<12} {'forward ms':>22} {'forward+backward ms':>24}")
        for name in fns:
            print(f"  {name:<12} {fwd[name][0] * 1e3:>10.2f} ({fwd[name][1] * 1e3:>8.2f})"
                  f" {both[name][0] * 1e3:>12.2f} ({both[name][1] * 1e3:>8.2f})")
        print(f"  per block / shared: forward {fwd['per block'][0] / fwd['shared plan'][0]:.2f}x, "
              f"forward+backward {both['per block'][0] / both['shared plan'][0]:.2f}x")


if __name__ == "__main__":
    main()
