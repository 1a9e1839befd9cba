"""torch.compile of a catnn layer: first-call compile time, a second n without recompiling, compiled vs eager.

    python benchmarks/bench_compile.py                      # S_n 2 -> 2, inductor, CPU
    python benchmarks/bench_compile.py --device cuda
    python benchmarks/bench_compile.py --backend aot_eager  # tracing cost only, no code generation
    python benchmarks/bench_compile.py --quick              # a smoke run (small sizes, 3 rounds)
    python benchmarks/bench_compile.py --warm-setup         # inductor's one-time set-up not counted
    python benchmarks/bench_compile.py --dynamic auto       # torch's default: static first, dynamic at a new n

What it prints, for ``EquivariantLinear("S", 2, 2, C, C)`` compiled with ``torch.compile(layer,
dynamic=True)``:

- **first call**: seconds of the first forward (dynamo traces the plan once, with n symbolic) and of
  the first backward (the generated backward, compiled on first use). Inductor's on-disk caches are
  pointed at a fresh temporary directory first (``--warm-cache`` keeps the user's), so this is the
  cost a new process pays. Goal: at most 15 s for forward + backward. ``--warm-setup`` first compiles
  an unrelated function in that fresh cache, so that inductor's once-per-cache set-up (a precompiled
  header, about 4 s here, and its vector ISA checks) is not counted: the cost of this layer alone.
- **second n**: the first forward + backward at another n, and the number of graphs dynamo compiled
  in all (``torch._dynamo.utils.counters``): 1 means the second n reused the first compilation.
  ``--dynamic auto`` compiles with torch's default (``dynamic=None``) instead: the first n compiles
  with static shapes (cheaper code generation), and the second n recompiles once with n symbolic
  (2 graphs), after which every n reuses it.
- **steady state**: best and median forward + backward time, compiled and eager, interleaved
  (:mod:`timing`), and the ratio eager / compiled (goal: >= 1).

Timings on a shared machine are noisy: compare ratios from one run, not absolute seconds across runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--backend", default="inductor", help="torch.compile backend (inductor, aot_eager, eager)")
    parser.add_argument("--n", type=int, nargs=2, default=(32, 48), metavar=("N1", "N2"), help="the two sizes")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: stable timings)")
    parser.add_argument("--repeat", type=int, default=10, help="timed rounds per method")
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 rounds (a smoke run)")
    parser.add_argument("--dynamic", choices=("true", "auto"), default="true",
                        help="true: torch.compile(dynamic=True), one graph for every n; auto: torch's default "
                             "(static first, one dynamic recompilation at the second n)")
    parser.add_argument("--warm-cache", action="store_true", help="keep inductor's on-disk caches")
    parser.add_argument("--warm-setup", action="store_true",
                        help="compile an unrelated function first: inductor's once-per-cache set-up (its "
                             "precompiled header, the vector ISA checks) is then not counted")
    args = parser.parse_args()
    if args.quick:
        args.n, args.batch, args.channels, args.repeat = (8, 12), 4, 4, 3
    return args


#: torch._dynamo.utils.compile_times() entries, in the order a first call runs them
PHASES = {"bytecode_tracing": "dynamo tracing", "aot_collect_metadata": "AOT metadata",
          "aot_trace_joint_graph": "AOT joint graph", "compile_fx.<locals>.fw_compiler_base": "inductor forward",
          "compile_fx.<locals>.bw_compiler": "inductor backward", "compile_file": "C++ compiles (summed over workers)"}


def phases() -> str:
    """Seconds per compile phase of the calls so far (C++ compiles: their count and total)."""
    import torch
    names, values = torch._dynamo.utils.compile_times(repr="csv")
    times = dict(zip(names, values))
    parts = []
    for key, label in PHASES.items():
        spent = [float(v) for v in str(times.get(key, "")).split(",") if v.strip()]
        if spent:
            parts.append(f"{label} {sum(spent):.2f} s" + (f" ({len(spent)} files)" if key == "compile_file" else ""))
    return ", ".join(parts)


def main() -> None:
    args = parse()
    if not args.warm_cache:   # before torch is imported: inductor reads it once
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="catnn-bench-compile-")
    import torch
    from timing import Timer
    from torch._dynamo.utils import counters

    from catnn.nn import EquivariantLinear

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    C, B = args.channels, args.batch
    layer = EquivariantLinear("S", 2, 2, C, C).to(args.device)
    timer = Timer(args.device, args.repeat)

    def data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(B, C, n, n, device=args.device), torch.randn(B, C, n, n, device=args.device)

    def step(module: torch.nn.Module, x: torch.Tensor, grad: torch.Tensor) -> None:
        layer.zero_grad(set_to_none=True)
        module(x).backward(grad)

    if args.warm_setup:
        torch.compile(lambda t: (t * 2).sum(1), dynamic=True, backend=args.backend)(torch.randn(4, 5, 6, device=args.device))
    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(layer, dynamic=True if args.dynamic == "true" else None, backend=args.backend)
    print(f"S_n 2 -> 2, C={C}, B={B}, n={args.n[0]} then {args.n[1]}, {args.device}, {torch.get_num_threads()} "
          f"threads, float32, backend={args.backend}, dynamic={args.dynamic}, torch {torch.__version__}")
    x, grad = data(args.n[0])
    forward = timer.once(lambda: compiled(x))
    first = timer.once(lambda: step(compiled, x, grad))
    print(f"first call            forward {forward:7.2f} s   forward + backward {forward + first:7.2f} s   "
          f"(goal <= 15 s)")
    print(f"  where the first call went  {phases()}")
    x2, grad2 = data(args.n[1])
    second = timer.once(lambda: step(compiled, x2, grad2))
    graphs = counters["stats"]["unique_graphs"]
    print(f"second n = {args.n[1]:<4d}       forward + backward {second:7.2f} s   graphs compiled in all: {graphs} "
          f"({'no recompilation' if graphs == 1 else 'recompiled'}), graph breaks: {sum(counters['graph_break'].values())}")
    same = torch.allclose(compiled(x2).detach(), layer(x2).detach(), atol=1e-4, rtol=1e-4)  # no_grad would recompile
    times = timer.compare({"eager": lambda: step(layer, x2, grad2), "compiled": lambda: step(compiled, x2, grad2)})
    (eb, em), (cb, cm) = times["eager"], times["compiled"]
    print(f"steady fwd+bwd (n={args.n[1]})  eager {eb * 1e3:8.2f} ms (median {em * 1e3:8.2f})   "
          f"compiled {cb * 1e3:8.2f} ms (median {cm * 1e3:8.2f})   eager/compiled {eb / cb:5.2f}x (goal >= 1)   "
          f"outputs agree: {same}")


if __name__ == "__main__":
    main()
