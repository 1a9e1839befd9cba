"""Layers over products of groups: catnn's shared plan against its floor and one op per term.

    python benchmarks/bench_products.py                 # CPU, 1 thread
    python benchmarks/bench_products.py --quick         # small sizes (a smoke run)
    python benchmarks/bench_products.py --device cuda

Cases (float32, batch B, C channels in and out):

- S_n × O(3), typed orders (1, 1) -> (1, 1), n = 256, C = 32 (points × space, a vector per point);
- S_n × O(3), (2, 1) -> (1, 1), n = 256, C = 32 (a vector per pair of points to a vector per point;
  (2, 0) -> (1, 1) has no diagrams: O(3) maps nothing equivariantly from scalars to one vector);
- S_n × S_m, (1, 1) -> (1, 1), n = m = 256, C = 32 (exchangeable matrices);
- S_n × Aut(C_32), (1, 1) -> (1, 1), n = 256, C = 32 (a signal on a ring of 32 vertices per point:
  34 diagrams, the ring's 17 distance classes twice, run as shared chains of matrix products).

Methods:

- **floor**: the channel mixing of the full-support diagrams only (every block of every part joins
  one input and one output vertex: the permutations), stacked and mixed in one matmul; no
  equivariant layer can do less;
- **catnn**: ``EquivariantLinear(G, k, l, C, C)`` (the group's spanning set, the bias), one plan;
- **one op per term**: each product diagram planned and run alone (its own reduction, mixing and
  write), summed: how UNF applies its "valid partitions".

Times are the best (median) of ``--repeat`` interleaved rounds; ratios are against catnn. Memory is
the plan's own account (``Plan.cost``): elements allocated and the largest tensor.

Figures (CPU, one thread, best of 15 on a shared 2-core machine, three runs at load ~2; noisy), before
-> after the torch emitter's tiling adds, gather-free weights and ``_rt__plain`` (docs/compiler.md):

    case                   catnn ms        catnn / floor    one op per term / catnn
    S x O(3) (1,1)->(1,1)  1.31 -> 0.45    2.7x -> 1.6x     1.76x -> 1.5x
    S x O(3) (2,1)->(1,1)  73.5 -> 42.2    (no floor)       1.54x -> 1.58x
    S x S (1,1)->(1,1)     106 -> 93       0.79x -> 0.75x   7.0x -> 5.0x

One op per term got faster too (each term is a catnn plan), so its ratios fell. Where the goals of
issue 12 are out of reach, and why: S x O(3) (1,1)'s two terms include the full-support matmul itself
(the floor), so one op per term is at most floor + the other term + their sum, about 2.5x the floor:
3x is unreachable even at the floor. catnn's 1.6x is the matmul (0.19 ms) plus a pass summing x over
the points (0.06 ms: torch reduces with innermost runs of 3), the tiling add (0.05 ms) and about 0.1 ms
of per-call dispatch at B = 8. (2,1) -> (1,1) reads its 200 MB input twice (a sum over each of the two
point axes; no native op gives both in one pass) where one op per term reads it three times, so about
1.5x is the bound of that comparison.

S x Aut(C_32) (1,1) -> (1,1) at n = 256 (CPU, one thread, best of 5, one run at load ~2.2; noisy):
catnn 344 ms, one op per term 1032 ms (3.0x), the floor 4.7 ms. The floor mixes the one full-support
diagram; catnn mixes all 34 (17 distance classes of the ring, with and without the points' sum),
so about 34 floors (160 ms) of matmul is inherent; the rest is the 30 chain steps (a 32 x 32 matrix
product each, shared by prefix) and stacking the 34 features.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import Timer, setup  # noqa: E402

import catnn  # noqa: E402
from catnn.nn import EquivariantLinear  # noqa: E402


def full_support(d) -> bool:
    """Every block of every part joins exactly one output and one input vertex (a graph part: every
    vertex one input and one output label, no edge)."""
    return all(_permutes(p) for p in d.parts)


def _permutes(p) -> bool:
    if hasattr(p, "edges"):
        return not p.edges and sorted(p.inputs) == sorted(p.outputs) == list(range(p.vertices))
    return all(len(b) == 2 and b[0] <= p.l < b[1] for b in p.blocks)


def cycle(n: int) -> np.ndarray:
    a = np.roll(np.eye(n, dtype=int), 1, axis=1)
    return a + a.T


def case(name: str, k: tuple[int, ...], l: tuple[int, ...], ns: tuple[int, ...], B: int, C: int, device: str):
    G = catnn.group(name, graph=cycle(ns[1])) if "Aut" in name else catnn.group(name)
    layer = EquivariantLinear(G, k, l, C, C).to(device)
    x = torch.randn(B, C, *(ns[s] for s in range(len(ns)) for _ in range(k[s])), device=device)
    terms = [EquivariantLinear(G, k, l, C, C, diagrams=(d,), bias=False).to(device) for d in layer.diagrams]
    perms = [d for d in layer.diagrams if full_support(d)]

    def one_op_per_term():
        return sum(t(x) for t in terms)

    def floor():
        if not perms:
            return x.new_zeros(())
        stacked = torch.stack([x] * len(perms), 1).reshape(B, len(perms) * C, -1)   # permutations are views
        w = torch.randn(C, len(perms) * C, device=device)
        return torch.matmul(w, stacked)

    title = f"{name} {k} -> {l}, sizes {ns}, B={B}, C={C}: {len(layer.diagrams)} diagrams, {len(perms)} full-support"
    return title, {"floor": floor, "catnn": lambda: layer(x), "one op per term": one_op_per_term}, layer


def x_numel(ns: tuple[int, ...], k: tuple[int, ...], B: int) -> int:
    numel = B * 32
    for s, order in enumerate(k):
        numel *= ns[s] ** order
    return numel


def main() -> None:
    args = setup(__doc__)
    n, B = (32, 2) if args.quick else (256, 8)
    timer = Timer(args.device, args.repeat)
    for name, k, l, ns in [("S x O(3)", (1, 1), (1, 1), (n, 3)), ("S x O(3)", (2, 1), (1, 1), (n, 3)),
                           ("S x S", (1, 1), (1, 1), (n, n)), ("S x Aut", (1, 1), (1, 1), (n, 32))]:
        title, fns, layer = case(name, k, l, ns, B, 32, args.device)
        with torch.no_grad():
            times = timer.compare(fns)
        print(title)
        print(f"  {'method':<16} {'forward ms':>22} {'vs catnn':>9}")
        for method, (best, median) in times.items():
            print(f"  {method:<16} {best * 1e3:>10.2f} ({median * 1e3:>8.2f}) {best / times['catnn'][0]:>8.2f}x")
        cost = layer.plan.cost(ns, B, 32, 32)
        print(f"  catnn: {cost.memory * 4 / 2**20:.1f} MB allocated, largest tensor {cost.largest:.3g} elements "
              f"(the input has {x_numel(ns, k, B):.3g}); planned/floor flops "
              f"{f'{cost.flops / cost.floor_flops:.2f}' if cost.floor_flops else 'n/a (k != l: no permutations)'};"
              f" a dense weight would have {cost.dense_weight:.3g} elements")


if __name__ == "__main__":
    main()
