"""A weight-space layer over an MLP's weights: catnn's direct-sum layer against one operation per term.

    python benchmarks/bench_weight_space.py               # widths 784-512-512-10, B = 32, C = 16 (CPU, 1 thread)
    python benchmarks/bench_weight_space.py --quick       # widths 98-64-64-10, B = 4 (a smoke run)
    python benchmarks/bench_weight_space.py --device cuda

The input and output of the layer are the weights and biases of an MLP 784 → 512 → 512 → 10, each
entry carrying C channels (a hidden layer of a weight-space network). **Neuron indices**: NFN's "NP"
setting — every layer's neurons, the 784 inputs and 10 outputs included, form their own sort, so the
group is S_784 × S_512 × S_512 × S_10 and the six tensors are typed

    W1: (1, 1, 0, 0)   W2: (0, 1, 1, 0)   W3: (0, 0, 1, 1)   b1: (0, 1, 0, 0)   b2: (0, 0, 1, 0)   b3: (0, 0, 0, 1)

(W_i laid out inputs-first, e.g. W1 as (B, C, 784, 512)). The layer maps this direct sum to itself
with every S-equivariant term (the full basis: 36 blocks, 62 terms; means over pooled neurons). The
"HNP" setting (input and output neurons fixed, as channels) would fold 784 and 10 into channel widths.

Methods (the same layer, float32, forward + backward, inputs requiring gradients as in a hidden layer):

- **catnn**: :class:`DirectSumLinear` from examples/weight_space.py — one ``EquivariantLinear`` per
  block at its reduced output order, the small parts summed first and broadcast once;
- **one op per term**: :class:`TermLinear` from the same file, written without catnn — each term pools
  its input, mixes channels and broadcast-adds into its output (how UNF applies its basis); the tests
  check both give the same outputs for the same weights.

Times are the best (median) of ``--repeat`` interleaved rounds; memory is the growth of the process's
peak resident set (CPU) or CUDA's peak allocation during one forward+backward.
"""

from __future__ import annotations

import os
import runpy
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import Timer, setup

import catnn

EXAMPLE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "weight_space.py")
TYPES = ((1, 1, 0, 0), (0, 1, 1, 0), (0, 0, 1, 1), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1))


def main() -> None:
    args = setup(__doc__)
    parts = runpy.run_path(EXAMPLE, run_name="weight_space")
    widths, B, C = ((98, 64, 64, 10), 4, 16) if args.quick else ((784, 512, 512, 10), 32, 16)
    G = catnn.group(" x ".join(f"S({w})" for w in widths))
    channels = (C,) * len(TYPES)
    layers = {"catnn": parts["DirectSumLinear"](G, TYPES, channels, TYPES, channels).to(args.device),
              "one op per term": parts["TermLinear"](TYPES, channels, TYPES, channels).to(args.device)}
    def shape(t: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(w for w, o in zip(widths, t) if o)

    xs = [torch.randn(B, C, *shape(t), device=args.device, requires_grad=True) for t in TYPES]
    grads = [torch.randn(B, C, *shape(t), device=args.device) for t in TYPES]

    def step(layer):
        def run() -> None:
            for p in list(layer.parameters()) + xs:
                p.grad = None
            torch.autograd.backward(layer(xs), grads)
        return run

    fns = {name: step(layer) for name, layer in layers.items()}
    entries = sum(x.numel() for x in xs)
    terms = len(layers["one op per term"].terms)
    print(f"Weight-space layer, MLP {'-'.join(map(str, widths))} (NP: every layer's neurons a sort), B={B}, C={C}: "
          f"{entries / 1e6:.0f} M input entries, {len(TYPES) ** 2} blocks, {terms} terms; forward + backward")
    times = Timer(args.device, args.repeat).compare(fns)
    memory = {name: Timer(args.device, 1).peak(fn) for name, fn in fns.items()}
    print(f"  {'method':<16} {'ms best (median)':>22} {'vs catnn':>9} {'peak MB':>9}")
    for name, (best, median) in times.items():
        print(f"  {name:<16} {best * 1e3:>10.0f} ({median * 1e3:>8.0f}) {best / times['catnn'][0]:>8.2f}x "
              f"{memory[name]:>9.0f}")
    params = {name: sum(p.numel() for p in layer.parameters()) for name, layer in layers.items()}
    print(f"  parameters: {params}; the input alone is {entries * 4 / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
