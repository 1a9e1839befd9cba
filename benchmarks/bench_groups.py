"""catnn layers of O(3), SO(3), Sp(4) and A_5 against a dense weight and one op per diagram.

    python benchmarks/bench_groups.py                     # all cases, CPU, one thread
    python benchmarks/bench_groups.py --case so3 --quick  # one case, 3 rounds

Cases (issue 5): O(3) and SO(3) 4 -> 4, Sp(4) 2 -> 2, A_5 3 -> 3, each the group's full spanning set
(no bias) at its own n, float32. SO(3) 4 -> 4 has no ε-diagrams (they need k + l - 3 even), so two
more cases run the Levi-Civita stage: SO(3) 4 -> 3 (105 ε-diagrams, nothing else) and SO(4) 4 -> 4
(105 Brauer + 210 ε-diagrams). Methods:

- catnn: the layer's plan through the torch emitter (and the opt_einsum emitter).
- one-op-per-diagram: every diagram does its own einsum (its constants included: J, ε, the
  jellyfish head), its own channel mixing and its own write into one shared output buffer.
- dense (W prebuilt): the materialised weight W (C_out n^l × C_in n^k) as one matmul, W built
  outside the timing (inference with frozen weights).
- dense (W from weights): W rebuilt from the per-diagram weights and the stacked dense diagram
  matrices, then the matmul: what a training step with a dense weight does.

Before timing, every method is checked against catnn (max abs difference printed). Times are the
best of ``--repeat`` interleaved rounds (median in brackets), forward and forward+backward
(gradients for the input and the weights; the prebuilt dense W has no backward row). Peak memory of
one forward beyond the inputs and weights: the growth of the peak resident set (VmHWM) of a fresh
process that runs only that method once (tensors this small sit in already-mapped pages, so
expect 0 for most rows: the byte counts of the plan and of W are printed beside them).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable

import torch

import catnn
from timing import Timer, backward, no_grad
from catnn.compiler.backends import emit
from catnn.compiler.factorize import factorize
from catnn.compiler.kernels import constant_value, kernels_for
from catnn.compiler.ir import letters
from catnn.compiler.plan import build_plan

CASES = {
    "o3": dict(group="O", n=3, k=4, l=4, B=32, C=16),
    "so3": dict(group="SO", n=3, k=4, l=4, B=32, C=16),
    "so3_43": dict(group="SO", n=3, k=4, l=3, B=32, C=16),
    "so4": dict(group="SO", n=4, k=4, l=4, B=16, C=16),
    "sp4": dict(group="Sp", n=4, k=2, l=2, B=64, C=32),
    "a5": dict(group="A", n=5, k=3, l=3, B=16, C=16),
}


# -- methods ----------------------------------------------------------------------------------------
def diagonal(t: torch.Tensor, blocks: tuple[tuple[int, ...], ...]) -> torch.Tensor:
    """The view of t with one trailing axis per block (a block of several axes is their diagonal)."""
    lead = t.dim() - sum(len(b) for b in blocks)
    stride = t.stride()
    sizes = list(t.shape[:lead]) + [t.shape[lead + b[0]] for b in blocks]
    strides = list(stride[:lead]) + [sum(stride[lead + a] for a in b) for b in blocks]
    return t.as_strided(sizes, strides, t.storage_offset())


def diagram_ops(G, diagrams, like: torch.Tensor) -> list[tuple]:
    """Per diagram (no sharing): core einsum and constants, mixing einsum, write einsum, view, sign."""
    ops = []
    for d in diagrams:
        h = kernels_for(G.name, d).halves(factorize(d))
        bottom = [torch.tensor(constant_value(kind, G.n)).to(like) for kind, _ in h.bottom.constants]
        top = [torch.tensor(constant_value(kind, G.n)).to(like) for kind, _ in h.top.constants]
        core_eq = (f"bc{letters(h.bottom.input)}" + "".join(f",{letters(labs)}" for _, labs in h.bottom.constants)
                   + f"->bc{letters(h.bottom.core)}")
        acc = h.top.acc                    # accumulator axis i reads core axis perm[i]
        mix_eq = f"bc{letters(range(len(h.perm)))},oc->bo{letters(h.perm)}"
        view = tuple(dict.fromkeys(h.top.output))
        const_labels = {lab for _, labs in h.top.constants for lab in labs}
        present = tuple(lab for lab in view if lab in acc or lab in const_labels)
        write_eq = (f"bo{letters(acc)}" + "".join(f",{letters(labs)}" for _, labs in h.top.constants)
                    + f"->bo{letters(present)}")
        blocks = tuple(tuple(a for a, lab in enumerate(h.top.output) if lab == v) for v in view)
        index = (slice(None), slice(None)) + tuple(slice(None) if lab in present else None for lab in view)
        ops.append((core_eq, bottom, mix_eq, write_eq, top, blocks, index, h.sign))
    return ops


def one_op_per_diagram(ops, x: torch.Tensor, w: torch.Tensor, l: int) -> torch.Tensor:
    B, n = x.shape[0], x.shape[-1]
    out = x.new_zeros((B, w.shape[1]) + (n,) * l)
    for i, (core_eq, bottom, mix_eq, write_eq, top, blocks, index, sign) in enumerate(ops):
        core = torch.einsum(core_eq, x, *bottom)
        acc = torch.einsum(mix_eq, core, w[i] if sign > 0 else -w[i])
        diagonal(out, blocks).add_(torch.einsum(write_eq, acc, *top)[index])
    return out


def dense_matrices(G, diagrams) -> torch.Tensor:
    """The (D, n^l, n^k) float32 stack of the diagrams' dense matrices."""
    return torch.stack([torch.tensor(G.matrix(d).astype("float32")) for d in diagrams])


def dense_weight(mats: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """W[(o, P), (c, Q)] = Σ_i w[i, o, c] D_i[P, Q], as (C_out n^l, C_in n^k)."""
    O, C = w.shape[1:]
    return torch.einsum("dpq,doc->opcq", mats, w).reshape(O * mats.shape[1], C * mats.shape[2])


def dense_apply(W: torch.Tensor, x: torch.Tensor, l: int) -> torch.Tensor:
    B, n = x.shape[0], x.shape[-1]
    return torch.matmul(x.reshape(B, -1), W.t()).view((B, -1) + (n,) * l)


# -- one case -----------------------------------------------------------------------------------------
def build(name: str) -> dict:
    """Inputs, plan and methods of one case."""
    cfg = CASES[name]
    k, l, n, B, C = (cfg[key] for key in ("k", "l", "n", "B", "C"))
    G = catnn.group(cfg["group"], n=n)
    diagrams = G.spanning_set(k, l)
    plan = build_plan(G, k, l, diagrams)
    torch_fn, einsum_fn = emit(plan, backend="torch").function, emit(plan, backend="einsum").function
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((B, C) + (n,) * k, generator=gen).requires_grad_()
    w = (torch.randn(len(diagrams), C, C, generator=gen) / 10).requires_grad_()
    ops = diagram_ops(G, diagrams, x)
    mats = dense_matrices(G, diagrams)
    with torch.no_grad():
        W = dense_weight(mats, w)
    methods: dict[str, tuple[Callable[[], torch.Tensor], list[torch.Tensor] | None]] = {
        "catnn (torch)": (lambda: torch_fn(x, w), [x, w]),
        "catnn (opt_einsum)": (lambda: einsum_fn(x, w), [x, w]),
        "one-op-per-diagram": (lambda: one_op_per_diagram(ops, x, w, l), [x, w]),
        "dense (W prebuilt)": (lambda: dense_apply(W, x, l), None),
        "dense (W from weights)": (lambda: dense_apply(dense_weight(mats, w), x, l), [x, w]),
    }
    grad = torch.randn((B, C) + (n,) * l, generator=gen)
    return dict(cfg=cfg, G=G, k=k, l=l, n=n, B=B, C=C, diagrams=diagrams, plan=plan, methods=methods,
                grad=grad, W=W, mats=mats)


def peak_in_subprocess(name: str, method: str, threads: int) -> float:
    command = [sys.executable, os.path.abspath(__file__), "--case", name, "--threads", str(threads),
               "--peak-of", method]
    result = subprocess.run(command, capture_output=True, text=True)
    try:
        return float(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def run_case(name: str, args: argparse.Namespace) -> tuple[list[str], dict]:
    case = build(name)
    cfg, G, k, l, n, B, C = (case[key] for key in ("cfg", "G", "k", "l", "n", "B", "C"))
    methods, plan = case["methods"], case["plan"]
    reference = no_grad(methods["catnn (torch)"][0])
    agree = {m: float((no_grad(f) - reference).abs().max()) for m, (f, _) in methods.items()}
    timer = Timer("cpu", args.repeat)
    forward = timer.compare({m: (lambda f=f: no_grad(f)) for m, (f, _) in methods.items()})
    both = timer.compare({m: backward(f, case["grad"], p) for m, (f, p) in methods.items() if p is not None})
    peaks = {m: peak_in_subprocess(name, m, args.threads) for m in methods}
    cat_fwd, cat_both = forward["catnn (torch)"][0], both["catnn (torch)"][0]
    lines = [f"## {G} {k} -> {l}: n={n}, B={B}, C_in=C_out={C}, {len(case['diagrams'])} diagrams "
             f"(cpu, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}, float32)", "",
             "| method | forward ms (median) | time / catnn | fwd+bwd ms (median) | time / catnn | peak MB | "
             "max diff |",
             "|---|---|---|---|---|---|---|"]
    for m in methods:
        f_best, f_med = forward[m]
        row = f"| {m} | {f_best * 1e3:.2f} ({f_med * 1e3:.2f}) | {f_best / cat_fwd:.2f} | "
        if m in both:
            b_best, b_med = both[m]
            row += f"{b_best * 1e3:.2f} ({b_med * 1e3:.2f}) | {b_best / cat_both:.2f} | "
        else:
            row += "- | - | "
        lines.append(row + f"{peaks[m]:.0f} | {agree[m]:.1e} |")
    cost = plan.cost(n, B, C, C)
    lines += ["", f"plan: {len(plan.cores)} cores, {len(plan.groups)} mix groups, {cost.flops / 1e6:.1f} MFLOP "
                  f"(dense matmul {cost.dense_flops / 1e6:.1f} MFLOP); {cost.memory * 4 / 2**20:.2f} MB allocated, "
                  f"largest tensor {cost.largest * 4 / 2**20:.2f} MB; constants {', '.join(plan.constants) or 'none'}",
              f"dense: W is {case['W'].numel() * 4 / 2**20:.1f} MB, the stacked diagram matrices "
              f"{case['mats'].numel() * 4 / 2**20:.1f} MB"]
    summary = dict(case=name, group=f"{G} {k} -> {l}", dense=forward["dense (W prebuilt)"][0] / cat_fwd,
                   dense_train=both["dense (W from weights)"][0] / cat_both,
                   one_op=forward["one-op-per-diagram"][0] / cat_fwd,
                   one_op_train=both["one-op-per-diagram"][0] / cat_both)
    return lines, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: stable timings)")
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds per method")
    parser.add_argument("--quick", action="store_true", help="3 rounds (a smoke run)")
    parser.add_argument("--peak-of", metavar="METHOD", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 3
    torch.set_num_threads(args.threads)
    if args.peak_of:                       # child process of peak_in_subprocess
        case = build(args.case)
        print(Timer("cpu", 1).peak(lambda: no_grad(case["methods"][args.peak_of][0])))
        return
    print(f"# catnn group layers (torch {torch.__version__})\n")
    summaries = []
    for name in (CASES if args.case == "all" else [args.case]):
        lines, summary = run_case(name, args)
        summaries.append(summary)
        print("\n".join(lines), end="\n\n", flush=True)
    print("## summary: how many times slower than catnn (torch) each alternative is\n")
    print("| case | dense W prebuilt, fwd | dense W from weights, fwd+bwd | one-op-per-diagram, fwd | "
          "one-op-per-diagram, fwd+bwd |")
    print("|---|---|---|---|---|")
    for s in summaries:
        print(f"| {s['group']} | {s['dense']:.2f} | {s['dense_train']:.2f} | {s['one_op']:.2f} | "
              f"{s['one_op_train']:.2f} |")


if __name__ == "__main__":
    main()
