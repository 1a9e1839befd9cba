"""The chained Levi-Civita stage against the previous dense-constant stage, side by side (issue 16).

    python benchmarks/bench_epsilon.py                     # all cases, CPU, one thread
    python benchmarks/bench_epsilon.py --case so7 --quick  # fewer repeats (a smoke run)

Each case builds one layer of the spanning set's ε-diagrams (SO(n)) or jellyfish (A_n) twice with the
same weights: once as catnn plans it now (the head as a chain of constants whose bonds are the sets of
values used, about 4^n n entries), once with the head as the whole dense (n,)^t Levi-Civita constant
(the stage catnn had before, which it refused above 7 legs). Both run through the torch emitter and
the opt_einsum emitter; times are the best of ``--repeat`` interleaved rounds (median in brackets),
forward and forward+backward, as ratios to the chained stage through the torch emitter.

Reading the ratios: the torch emitter runs a contraction of three or more operands (the chain's 3 to
n + 1) as two-operand einsums along opt_einsum's path, found once per shapes
(:mod:`catnn.compiler.contract_torch`); before, ``torch.einsum`` searched an order on every call, which
cost milliseconds. Measured on a shared 2-core machine (one thread, best of 5, noisy), chained stage
through the torch emitter, before -> after: SO(7) 4 -> 3 forward 1.78 -> 0.84 ms, fwd+bwd 10.2 -> 2.3 ms;
A(6) 3 -> 3 forward 59.6 -> 12.4 ms, fwd+bwd 133 -> 22.9 ms.

Then (issue 16) the chained stage got three spellings (docs/compiler.md, "Spellings the torch emitter
chooses for speed"): chain cores that are one contraction of x with its axes permuted (or of its
diagonals) run as one on the stacked sources, forward and backward; constant-only joins are done once
per constants; and with constants the path is catnn's own: bounded joins (at most 2^17 entries, never
a chain whole, so never the n^t head) chosen for the fewest data multiplications, two data steps per
chain. Best of 15 (median), forward / fwd+bwd ms, chained vs dense, same machine, noisy:

    case          before: chained / dense                    after: chained / dense
    SO(6) 3 -> 3  0.42 / 0.29,  1.26 / 1.03   (load ~5)      0.19 / 0.18,  0.71 / 0.68   (load ~2)
    SO(7) 4 -> 3  0.56 / 1.06,  1.92 / 3.30                  0.58 / 1.09,  1.61 / 2.36
    A(6) 3 -> 3   2.97 / 1.44,  6.77 / 3.62                  1.73 / 1.55,  4.38 / 3.84
    A(7) 4 -> 3   10.9 / 4.38,  17.5 / 11.9                  3.35 / 4.87,  8.08 / 10.8

A(6) stays about 10% behind the dense stage: at n = 6 the dense heads are small (n^5 = 7776 and
n^6 entries) and contract x in one einsum per core, while a chain that is never joined whole needs two
data steps (through joins of 4320 and 720 entries) of about the same multiplications; reaching the
dense stage's one step would take joining the chain whole, which is the dense head itself.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

import torch

import catnn
from timing import Timer, backward, no_grad
from catnn.compiler.backends import emit
from catnn.compiler import plan as plan_module
from catnn.compiler.factorize import Factorization
from catnn.compiler.kernels import KERNELS, ConstantRef, Halves, Kernels, register_constant
from catnn.compiler.kernels_classical import EpsilonKernels, JellyfishKernels
from catnn.compiler.plan import build_plan
from catnn.groups.alternating import Jellyfish
from catnn.levi_civita import EpsilonDiagram

CASES = {
    "so6": dict(group="SO", n=6, k=3, l=3, B=8, C=8),
    "so7": dict(group="SO", n=7, k=4, l=3, B=4, C=8),
    "a6": dict(group="A", n=6, k=3, l=3, B=8, C=8),
    "a7": dict(group="A", n=7, k=4, l=3, B=4, C=4),
}

DENSE_SOURCE = '''def _const_dense{t}(n):
    """The (n,)*{t} Levi-Civita head, dense (the missing value appended when t = n - 1)."""
    t = {t}

    def entry(prefix):
        if len(prefix) < t:
            return [entry(prefix + (v,)) for v in range(n)]
        if len(set(prefix)) < t:
            return 0
        full = prefix + tuple(v for v in range(n) if v not in prefix)
        return -1 if sum(full[i] > full[j] for i in range(n) for j in range(i + 1, n)) % 2 else 1

    return entry(())
'''


def dense_head(chain: tuple[ConstantRef, ...]) -> tuple[ConstantRef, ...]:
    """The one dense constant on the legs of a chain (leg j is the middle label of core j)."""
    if not chain:
        return chain
    legs = (chain[0][1][0],) + tuple(labs[1] for _, labs in chain) if len(chain[0][1]) > 1 else chain[0][1]
    kind = f"dense{len(legs)}"
    register_constant(kind, DENSE_SOURCE.format(t=len(legs)))
    return ((kind, legs),)


class DenseHead(Kernels):
    """The current kernels with the head's chain replaced by the dense symbol (the previous stage)."""

    def __init__(self, inner: Kernels) -> None:
        self.inner = inner

    def handles(self, d: object) -> bool:
        return isinstance(d, (EpsilonDiagram, Jellyfish))

    def halves(self, f: Factorization) -> Halves:
        h = self.inner.halves(f)
        bottom = type(h.bottom)(h.bottom.input, h.bottom.core, dense_head(h.bottom.constants), h.bottom.summed)
        top = type(h.top)(h.top.acc, h.top.output, dense_head(h.top.constants))
        return Halves(bottom, top, h.perm, h.sign)


@contextmanager
def dense_stage(group: str) -> Iterator[None]:
    """Plans built inside use the dense-constant stage for ``group``'s ε-diagrams or jellyfish."""
    kernels = DenseHead(EpsilonKernels() if group == "SO" else JellyfishKernels())
    KERNELS[group].insert(0, kernels)
    plan_module._build.cache_clear()              # plans are cached by their diagrams
    try:
        yield
    finally:
        KERNELS[group].remove(kernels)
        plan_module._build.cache_clear()


def run_case(name: str, repeat: int) -> list[str]:
    cfg = CASES[name]
    G = catnn.group(cfg["group"], n=cfg["n"])
    k, l, n, B, C = (cfg[key] for key in ("k", "l", "n", "B", "C"))
    diagrams = [d for d in G.spanning_set(k, l) if isinstance(d, (EpsilonDiagram, Jellyfish))]
    chained_plan = build_plan(G, k, l, diagrams)
    with dense_stage(cfg["group"]):
        dense_plan = build_plan(G, k, l, diagrams)
    chained, dense = emit(chained_plan, backend="torch").function, emit(dense_plan, backend="torch").function
    chained_oe, dense_oe = emit(chained_plan, backend="einsum").function, emit(dense_plan, backend="einsum").function
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((B, C) + (n,) * k, generator=gen).requires_grad_()
    w = (torch.randn(len(diagrams), C, C, generator=gen) / 10).requires_grad_()
    grad = torch.randn((B, C) + (n,) * l, generator=gen)
    methods = {"chained (now)": lambda: chained(x, w), "dense constant (before)": lambda: dense(x, w),
               "chained, opt_einsum emitter": lambda: chained_oe(x, w),
               "dense constant, opt_einsum emitter": lambda: dense_oe(x, w)}
    diff = float((no_grad(methods["chained (now)"]) - no_grad(methods["dense constant (before)"])).abs().max())
    timer = Timer("cpu", repeat)
    forward = timer.compare({m: (lambda f=f: no_grad(f)) for m, f in methods.items()})
    both = timer.compare({m: backward(f, grad, [x, w]) for m, f in methods.items()})
    base_f, base_b = forward["chained (now)"][0], both["chained (now)"][0]
    lines = [f"## {G} {k} -> {l}: {len(diagrams)} diagrams, B={B}, C={C} (cpu, {torch.get_num_threads()} "
             f"thread(s), float32; max diff {diff:.1e})", "",
             f"constants: chained {', '.join(chained_plan.constants)}; dense {', '.join(dense_plan.constants)}", "",
             "| stage | forward ms (median) | time / chained | fwd+bwd ms (median) | time / chained |",
             "|---|---|---|---|---|"]
    for m in methods:
        (fb, fm), (bb, bm) = forward[m], both[m]
        lines.append(f"| {m} | {fb * 1e3:.2f} ({fm * 1e3:.2f}) | {fb / base_f:.2f} | {bb * 1e3:.2f} ({bm * 1e3:.2f}) "
                     f"| {bb / base_b:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: stable timings)")
    parser.add_argument("--repeat", type=int, default=10, help="timed rounds per method")
    parser.add_argument("--quick", action="store_true", help="3 rounds (a smoke run)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    for name in CASES if args.case == "all" else [args.case]:
        print("\n".join(run_case(name, 3 if args.quick else args.repeat)) + "\n", flush=True)


if __name__ == "__main__":
    main()
