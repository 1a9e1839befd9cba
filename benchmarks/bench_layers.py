"""catnn layers against their floor and the usual alternatives, side by side in one process.

    python benchmarks/bench_layers.py                      # all cases, CPU, one thread
    python benchmarks/bench_layers.py --case s22 --device cuda
    python benchmarks/bench_layers.py --quick              # fewer repeats (a smoke run)

Cases (issue 4): S_n 2 -> 2 at n=64, B=8, C=32; S_n 3 -> 3 at n=24, B=8, C=16; O(n) 4 -> 4 at n=16,
B=4, C=8. Methods:

- floor: the channel mixing of the full-support (permutation) diagrams only, as one matmul on their
  stacked permuted inputs (the fastest of that and ``torch.einsum``); no equivariant layer can do less.
- catnn: the layer's plan through the torch emitter (and the opt_einsum emitter).
- one-op-per-diagram: every diagram does its own reduction, its own channel mixing and its own
  write into one shared output buffer (math.md §c.4 without sharing).
- IGN-style: every diagram's map built at full n^l size (Maron et al.'s 15 ops for 2 -> 2), stacked,
  then mixed with one einsum.
- dense: the materialised weight W (C_out n^l × C_in n^k), at a smaller n where it fits; catnn is
  timed at that n too.

Times are the best of ``--repeat`` interleaved rounds (the median is printed too), forward and
forward+backward (gradients for the input and the weights). Peak memory of one forward, beyond
the inputs and weights: CUDA's ``max_memory_allocated`` on GPU; on CPU the growth of the peak
resident set (VmHWM) of a fresh process that runs only that method once.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable

import torch

import catnn
from timing import Timer, backward, no_grad
from catnn.compiler.backends import emit
from catnn.compiler.factorize import factorize
from catnn.compiler.kernels import kernels_for
from catnn.compiler.emit_torch import diagonal_view
from catnn.compiler.ir import diagonal_blocks, letters
from catnn.compiler.plan import build_plan

CASES = {
    "s22": dict(group="S", k=2, n=64, B=8, C=32, dense_n=16),
    "s33": dict(group="S", k=3, n=24, B=8, C=16, dense_n=8),
    "o44": dict(group="O", k=4, n=16, B=4, C=8, dense_n=5),
}


# -- methods ----------------------------------------------------------------------------------------
def full_support(G, k):
    """The permutation diagrams k -> k (the floor's terms), as axis permutations."""
    return list(itertools.permutations(range(k)))


def floor_matmul(perms, x, w):
    B, C = x.shape[:2]
    feats = torch.stack([x.permute(0, 1, *(2 + p for p in perm)) for perm in perms], 1).reshape(B, len(perms) * C, -1)
    y = torch.matmul(w.transpose(0, 1).reshape(w.shape[1], -1), feats)
    return y.view((B, w.shape[1]) + x.shape[2:])


def floor_einsum(perms, x, w):
    k = x.dim() - 2
    idx = letters(range(k))
    feats = torch.stack([x.permute(0, 1, *(2 + p for p in perm)) for perm in perms], 1)
    return torch.einsum(f"bpc{idx},poc->bo{idx}", feats, w)


def diagram_pieces(group, d):
    """Per-diagram einsum pieces (no sharing): core equation, acc permutation, output view."""
    h = kernels_for(group, d).halves(factorize(d))
    core_eq = f"bc{letters(h.bottom.input)}->bc{letters(h.bottom.core)}"
    view_labels = list(dict.fromkeys(h.top.output))
    blocks = diagonal_blocks(h.top.output)
    index = (slice(None), slice(None)) + tuple(slice(None) if lab in h.top.acc else None for lab in view_labels)
    return core_eq, h.perm, blocks, index


def one_op_per_diagram(pieces, x, w, l):
    B, n = x.shape[0], x.shape[-1]
    out = x.new_zeros((B, w.shape[1]) + (n,) * l)
    for i, (core_eq, perm, blocks, index) in enumerate(pieces):
        core = torch.einsum(core_eq, x)
        core = core.permute(0, 1, *(2 + p for p in perm))
        acc = torch.einsum(f"bc{letters(range(len(perm)))},oc->bo{letters(range(len(perm)))}", core, w[i])
        diagonal_view(out, blocks).add_(acc[index])
    return out


def ign_style(pieces, x, w, l):
    """Every diagram's map at full size (B, C, n^l), stacked, then one mixing einsum."""
    B, C, n = x.shape[0], x.shape[1], x.shape[-1]
    ops = []
    for core_eq, perm, blocks, index in pieces:
        core = torch.einsum(core_eq, x).permute(0, 1, *(2 + p for p in perm))
        full = x.new_zeros((B, C) + (n,) * l)
        view = diagonal_view(full, blocks)
        view.copy_(core[index].expand(view.shape))
        ops.append(full)
    idx = letters(range(l))
    return torch.einsum(f"bcd{idx},doc->bo{idx}", torch.stack(ops, 2), w)


def dense_weight(G, diagrams, w):
    """W[o P, c Q] = Σ_i w[i, o, c] D_i[P, Q] as a torch tensor (C_out n^l, C_in n^k)."""
    mats = torch.stack([torch.tensor(G.matrix(d).astype("float32")) for d in diagrams])
    O, C = w.shape[1:]
    W = torch.einsum("dpq,doc->opcq", mats, w.float())
    return W.reshape(O * mats.shape[1], C * mats.shape[2])


# -- one case -----------------------------------------------------------------------------------------
def build(name: str, args: argparse.Namespace) -> dict:
    """Inputs, plan and the methods of one case."""
    cfg = CASES[name]
    k = l = cfg["k"]
    n = args.n or cfg["n"]
    B, C = cfg["B"], cfg["C"]
    device, dtype = args.device, torch.float32
    G = catnn.group(cfg["group"])
    diagrams = G.spanning_set(k, l)
    bias_diagrams = G.spanning_set(0, l)
    plan = build_plan(G, k, l, diagrams, bias_diagrams=bias_diagrams)
    torch_fn = emit(plan, backend="torch").function
    einsum_fn = emit(plan, backend="einsum").function
    perms = full_support(G, k)
    pieces = [diagram_pieces(G.name, d) for d in diagrams]
    gen = torch.Generator().manual_seed(0)

    def make(*shape):
        return (torch.randn(*shape, generator=gen) / 10).to(device, dtype).requires_grad_()

    x = make(B, C, *(n,) * k)
    w = make(len(diagrams), C, C)
    b = make(len(bias_diagrams), C)
    wf = make(len(perms), C, C)
    grad = torch.randn((B, C) + (n,) * l, generator=gen).to(device, dtype)
    methods: dict[str, tuple[Callable[[], torch.Tensor], list[torch.Tensor]]] = {
        "floor (stack + matmul)": (lambda: floor_matmul(perms, x, wf), [x, wf]),
        "floor (torch.einsum)": (lambda: floor_einsum(perms, x, wf), [x, wf]),
        "catnn (torch)": (lambda: torch_fn(x, w, b), [x, w, b]),
        "catnn (opt_einsum)": (lambda: einsum_fn(x, w, b), [x, w, b]),
        "one-op-per-diagram": (lambda: one_op_per_diagram(pieces, x, w, l), [x, w]),
    }
    if not args.skip_ign:
        methods["IGN-style (full-size ops)"] = (lambda: ign_style(pieces, x, w, l), [x, w])
    if args.compile:
        compiled = torch.compile(torch_fn, dynamic=False)
        methods["catnn (torch.compile)"] = (lambda: compiled(x, w, b), [x, w, b])
    return dict(cfg=cfg, k=k, l=l, n=n, B=B, C=C, G=G, diagrams=diagrams, plan=plan, perms=perms,
                methods=methods, grad=grad)


def peak_in_subprocess(name: str, method: str, args: argparse.Namespace) -> float:
    """Peak extra memory (MB) of one forward of ``method``, in a fresh process (CPU) or here (CUDA)."""
    if args.device.startswith("cuda"):
        case = build(name, args)
        return Timer(args.device, 1).peak(lambda: no_grad(case["methods"][method][0]))
    command = [sys.executable, os.path.abspath(__file__), "--case", name, "--device", args.device,
               "--threads", str(args.threads), "--peak-of", method]
    if args.n:
        command += ["--n", str(args.n)]
    result = subprocess.run(command, capture_output=True, text=True)
    try:
        return float(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return float("nan")


def run_case(name: str, args: argparse.Namespace) -> list[str]:
    case = build(name, args)
    cfg, k, l, n, B, C = (case[key] for key in ("cfg", "k", "l", "n", "B", "C"))
    methods, plan, grad = case["methods"], case["plan"], case["grad"]
    timer = Timer(args.device, args.repeat)
    forward = timer.compare({m: (lambda f=f: no_grad(f)) for m, (f, _) in methods.items()})
    both = timer.compare({m: backward(f, grad, p) for m, (f, p) in methods.items()})
    peaks = {m: peak_in_subprocess(name, m, args) for m in methods}
    floor_fwd = min(forward["floor (stack + matmul)"][0], forward["floor (torch.einsum)"][0])
    floor_both = min(both["floor (stack + matmul)"][0], both["floor (torch.einsum)"][0])
    cat_fwd = forward["catnn (torch)"][0]
    cost = plan.cost(n, B, C, C)
    lines = [f"## {cfg['group']}_n {k} -> {l}: n={n}, B={B}, C_in=C_out={C}, {len(case['diagrams'])} diagrams, "
             f"{len(case['perms'])} in the floor ({args.device}, {torch.get_num_threads()} threads, float32)",
             "",
             "| method | forward ms (median) | fwd / floor | catnn speed-up | fwd+bwd ms (median) | "
             "fwd+bwd / floor | peak MB |",
             "|---|---|---|---|---|---|---|"]
    for m in methods:
        f_best, f_med = forward[m]
        b_best, b_med = both[m]
        lines.append(f"| {m} | {f_best * 1e3:.2f} ({f_med * 1e3:.2f}) | {f_best / floor_fwd:.2f} | "
                     f"{f_best / cat_fwd:.1f}x | {b_best * 1e3:.2f} ({b_med * 1e3:.2f}) | {b_best / floor_both:.2f} | "
                     f"{peaks[m]:.0f} |")
    lines.append("")
    lines.append(f"plan: {cost.flops / 1e6:.1f} MFLOP vs floor {cost.floor_flops / 1e6:.1f} MFLOP "
                 f"({cost.flops / cost.floor_flops:.2f}x); largest tensor {cost.largest * 4 / 2**20:.1f} MB; "
                 f"dense would be {cost.dense_flops / 1e9:.0f} GFLOP and a {cost.dense_weight * 4 / 2**30:.1f} GB weight")
    lines += dense_rows(case["G"], cfg, args, case["diagrams"], plan, timer)
    return lines


def dense_rows(G, cfg, args, diagrams, plan, timer) -> list[str]:
    """Dense materialised W against catnn at a size where W fits."""
    n, B, C, k = cfg["dense_n"], cfg["B"], cfg["C"], cfg["k"]
    Gn = catnn.group(G.name, n=n)
    gen = torch.Generator().manual_seed(1)
    w = (torch.randn(len(diagrams), C, C, generator=gen) / 10).to(args.device)
    x = (torch.randn((B, C) + (n,) * k, generator=gen)).to(args.device)
    build = time.perf_counter()
    W = dense_weight(Gn, diagrams, w.cpu()).to(args.device)
    build = time.perf_counter() - build
    fn = emit(build_plan(G, k, k, diagrams), backend="torch").function
    times = timer.compare({"dense": lambda: no_grad(lambda: torch.matmul(x.reshape(B, -1), W.T)),
                           "catnn": lambda: no_grad(lambda: fn(x, w))})
    return ["", f"dense at n={n}: W is {W.numel() * 4 / 2**20:.0f} MB (built in {build:.2f} s from "
                f"{len(diagrams)} dense diagram matrices); forward {times['dense'][0] * 1e3:.2f} ms vs catnn "
                f"{times['catnn'][0] * 1e3:.2f} ms at the same n ({times['dense'][0] / times['catnn'][0]:.1f}x)"]



def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: stable timings)")
    parser.add_argument("--repeat", type=int, default=15, help="timed rounds per method")
    parser.add_argument("--n", type=int, default=None, help="override the case's n")
    parser.add_argument("--quick", action="store_true", help="3 rounds (a smoke run)")
    parser.add_argument("--skip-ign", action="store_true", help="leave out the IGN-style method (big memory)")
    parser.add_argument("--compile", action="store_true", help="add catnn under torch.compile")
    parser.add_argument("--peak-of", metavar="METHOD", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat = 3
    if args.device == "cpu":
        torch.set_num_threads(args.threads)
    if args.peak_of:                       # child process of peak_in_subprocess
        case = build(args.case, args)
        print(Timer(args.device, 1).peak(lambda: no_grad(case["methods"][args.peak_of][0])))
        return
    print(f"# catnn layer benchmarks (torch {torch.__version__})\n")
    for name in (CASES if args.case == "all" else [args.case]):
        print("\n".join(run_case(name, args)), end="\n\n", flush=True)


if __name__ == "__main__":
    main()
