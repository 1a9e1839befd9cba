"""How long building a layer takes (a user's start-up time), stage by stage, each case in a fresh process.

    python benchmarks/bench_build.py                  # every case
    python benchmarks/bench_build.py --case s44 s55   # some cases
    python benchmarks/bench_build.py --profile s55    # cProfile of one build (top 30 by cumulative time)

"Built" is ``EquivariantLinear(group, k, l, C, D)`` (``MixedLinear`` for the mixed case) from a
fresh process with nothing cached (catnn and torch already imported) to a layer ready for its first
forward. Each case runs twice, each time in its own subprocess: once plain, for the total time (wall
and CPU) and the peak memory, and once with the stages wrapped in timers, for the breakdown in CPU
seconds (steadier than wall time on a shared machine):

- spanning: the group's spanning sets (``Group.spanning_set``, the layer's and the bias's);
- halves: factorisation and block kernels per diagram (``plan.Planner.halves``);
- schedule: the cores, accumulators, groups, folds and writes (``plan._schedule_*``);
- source: writing the generated source (the emitters' ``_emit`` less the load);
- load: compiling and executing it (``Emitted.load``);
- init: the initialisation scales and the weights (``reset_parameters``);
- other: the rest of the constructor (entries, the structure cache, hashing, ...).

The imports (torch, catnn and the compiler modules) are timed apart, before the build. Peak memory
is the growth of the peak resident set (VmHWM) during the build over the resident set after the
imports, and the process's whole peak (torch included) in parentheses.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

CASES = {
    "s22": ("S", 2, 2, None),
    "s33": ("S", 3, 3, None),
    "s44": ("S", 4, 4, None),
    "s55": ("S", 5, 5, None),
    "o44": ("O", 4, 4, None),
    "o66": ("O", 6, 6, None),
    "s35": ("S", 3, 5, None),
    "mixed": ("S", "8*V0 + 8*V1 + 8*V2 + 8*V3", "8*V0 + 8*V1 + 8*V2 + 8*V3", None),
}
STAGES = ("spanning", "halves", "schedule", "source", "load", "init", "other")


def _status(key: str) -> int:
    """A field of /proc/self/status in kB (0 where there is none)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _imports() -> None:
    """torch, catnn and the compiler modules a build uses (timed apart from the build)."""
    import torch  # noqa: F401
    import catnn.networks  # noqa: F401
    import catnn.nn  # noqa: F401
    from catnn.compiler import backends, emit_common, layer, plan, write  # noqa: F401


def _build(case: str) -> Any:
    from catnn.networks import MixedLinear
    from catnn.nn import EquivariantLinear
    name, k, l, n = CASES[case]
    if isinstance(k, str):
        return MixedLinear(name, k, l, n=n)
    return EquivariantLinear(name, k, l, 8, 8, n=n)


def _timed(times: dict[str, float], stage: str, owner: Any, attr: str) -> None:
    """Wrap ``owner.attr`` so that its time (outermost calls only) adds to ``times[stage]``."""
    fn = getattr(owner, attr)
    depth = [0]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        depth[0] += 1
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            depth[0] -= 1
            if not depth[0]:
                times[stage] += time.process_time() - start

    setattr(owner, attr, wrapper)


def _stage_wrappers(times: dict[str, float]) -> None:
    from catnn.compiler import backends, emit_common, plan
    from catnn.groups.base import Group
    from catnn.networks import MixedLinear
    from catnn.nn import EquivariantLinear
    for stage, owner, attr in (("spanning", Group, "spanning_set"), ("halves", plan.Planner, "halves"),
                               ("schedule", plan, "_schedule_cores"), ("schedule", plan, "_schedule_accumulators"),
                               ("source", backends, "_emit"), ("load", emit_common.Emitted, "load"),
                               ("init", EquivariantLinear, "reset_parameters"),
                               ("init", MixedLinear, "reset_parameters")):
        _timed(times, stage, owner, attr)


def child(case: str, stages: bool) -> dict[str, Any]:
    """One cold build in this process: total seconds, peak memory and (``stages``) the breakdown."""
    started = time.perf_counter()
    _imports()
    import torch
    imports = time.perf_counter() - started
    times: dict[str, float] = defaultdict(float)
    if stages:
        _stage_wrappers(times)
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass
    base = _status("VmRSS")
    start, cpu = time.perf_counter(), time.process_time()
    layer = _build(case)
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    times["source"] -= times["load"]              # _emit() = source + load
    times["other"] = cpu - sum(times[s] for s in STAGES if s != "other")
    weights = [layer.weight] if isinstance(layer.weight, torch.Tensor) else list(layer.weight.values())
    return {"total": total, "cpu": cpu, "imports": imports, "peak_mb": (_status("VmHWM") - base) / 1024,
            "process_mb": _status("VmHWM") / 1024, "diagrams": sum(map(len, weights)),
            "source_kb": len(layer.source) / 1024, "stages": dict(times)}


def run(case: str, stages: bool) -> dict[str, Any]:
    """``child`` in a fresh interpreter."""
    cmd = [sys.executable, __file__, "--child", case] + (["--stages"] if stages else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=dict(os.environ))
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile(case: str, lines: int = 30) -> None:
    """cProfile of one cold build, by cumulative time."""
    _imports()
    prof = cProfile.Profile(time.process_time)
    prof.runcall(_build, case)
    pstats.Stats(prof).sort_stats("cumulative").print_stats(lines)
    pstats.Stats(prof).sort_stats("tottime").print_stats(lines)


def table(results: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> str:
    head = ["case", "diagrams", "imports s", "wall s", "CPU s", "peak MB (process)", "source KB",
            *(f"{s} CPU s" for s in STAGES)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case, (plain, staged) in results.items():
        name, k, l, _ = CASES[case]
        title = f"{name} {k} -> {l}" if isinstance(k, int) else f"{name} mixed {k} -> {l}"
        peak = f"{plain['peak_mb']:.0f} ({plain['process_mb']:.0f})"
        cells = [title, str(plain["diagrams"]), f"{plain['imports']:.2f}", f"{plain['total']:.2f}",
                 f"{plain['cpu']:.2f}", peak, f"{plain['source_kb']:.0f}",
                 *(f"{staged['stages'].get(s, 0.0):.2f}" for s in STAGES)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--profile", choices=sorted(CASES))
    parser.add_argument("--child", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--stages", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.stages)))
        return
    if args.profile:
        profile(args.profile)
        return
    results = {}
    for case in args.case:
        results[case] = (run(case, False), run(case, True))
        print(f"{case}: {results[case][0]['total']:.2f} s", file=sys.stderr, flush=True)
    print(table(results))


if __name__ == "__main__":
    main()
