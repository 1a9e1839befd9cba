"""The training step of examples/aut_cycle.py: the Aut(C_n) network against the S_n network (issue 16).

    python benchmarks/bench_aut_cycle.py                 # C_8, 48 signals, hidden 8 (the example's defaults)
    python benchmarks/bench_aut_cycle.py --repeat 5      # fewer rounds

Per model: the aten ops one forward and one backward dispatch (views apart, then all), counted by a
``TorchDispatchMode``, and the time of one Adam step (forward, backward, update) as the best and the
median of ``--repeat`` interleaved rounds of 20 steps, one thread, with the Aut/S_n ratio side by side.
On a shared machine the times are noisy; the op counts are not.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from catnn.demo import one_thread
from timing import Timer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from aut_cycle import cycle, models, target  # noqa: E402

#: aten ops that only make views (no arithmetic, no allocation of data)
VIEWS = frozenset({"view", "_unsafe_view", "unsqueeze", "permute", "expand", "transpose", "select", "slice",
                   "diagonal", "t", "detach", "lift_fresh", "as_strided", "alias"})


class OpCount(TorchDispatchMode):
    """The aten ops dispatched inside the ``with`` block, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.ops[func.overloadpacket.__name__] += 1
        return func(*args, **(kwargs or {}))

    def summary(self) -> str:
        work = sum(v for k, v in self.ops.items() if k not in VIEWS)
        return f"{work} ({sum(self.ops.values())})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--train", type=int, default=48)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    a = cycle(args.n)
    x = torch.randn(args.train, 1, args.n)
    y = target(x, a)
    built = models(args.n, a, args.hidden)
    nets = {name: built[name] for name in ("Aut(C_n)", "S_n")}
    steps = {}
    print(f"C_{args.n}, {args.train} signals, hidden {args.hidden}: aten ops not views (all)")
    print("| model | forward ops | backward ops | step ms best (median) | / S_n |")
    print("|---|---|---|---|---|")
    for name, net in nets.items():
        opt = torch.optim.Adam(net.parameters(), lr=1e-2)

        def step(net: torch.nn.Module = net, opt: torch.optim.Optimizer = opt) -> None:
            for _ in range(20):
                opt.zero_grad()
                torch.mean((net(x) - y) ** 2).backward()
                opt.step()
        steps[name] = step
    with one_thread():
        times = Timer("cpu", args.repeat).compare(steps)
    for name, net in nets.items():
        with OpCount() as forward:
            loss = torch.mean((net(x) - y) ** 2)
        with OpCount() as backward:
            loss.backward()
        best, median = (t / 20 * 1e3 for t in times[name])
        ratio = times[name][0] / times["S_n"][0]
        print(f"| {name} | {forward.summary()} | {backward.summary()} | {best:.2f} ({median:.2f}) | {ratio:.2f} |")


if __name__ == "__main__":
    main()
