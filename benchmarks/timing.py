"""The measuring harness both benchmark scripts share: interleaved timings and peak memory.

>>> Timer("cpu", repeat=3).compare({"noop": lambda: None})["noop"][0] >= 0
True
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch


class Timer:
    """Best and median of ``repeat`` interleaved rounds (after two warm-up calls of each method)."""

    def __init__(self, device: str, repeat: int) -> None:
        self.device, self.repeat = device, repeat

    def sync(self) -> None:
        """Wait for the device, so a timing covers the work and not only its launch."""
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()

    def once(self, fn: Callable[[], object]) -> float:
        """Seconds for one call of ``fn``."""
        self.sync()
        t = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - t

    def compare(self, fns: dict[str, Callable[[], object]]) -> dict[str, tuple[float, float]]:
        """``{name: (best, median)}`` seconds, the methods run in turn in each round."""
        for fn in fns.values():
            for _ in range(2):
                fn()
        times: dict[str, list[float]] = {name: [] for name in fns}
        for _ in range(self.repeat):
            for name, fn in fns.items():
                times[name].append(self.once(fn))
        return {name: (min(ts), statistics.median(ts)) for name, ts in times.items()}

    def peak(self, fn: Callable[[], object]) -> float:
        """Extra memory of one call in MB: CUDA's max allocated, else the growth of the peak RSS."""
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
            base = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            fn()
            torch.cuda.synchronize()
            return (torch.cuda.max_memory_allocated() - base) / 2**20
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
            base = _status("VmRSS")
            fn()
            return (_status("VmHWM") - base) / 1024
        except OSError:
            return float("nan")


def _status(key: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def no_grad(fn: Callable[[], torch.Tensor]) -> torch.Tensor:
    """``fn()`` without building an autograd graph."""
    with torch.no_grad():
        return fn()


def backward(fn: Callable[[], torch.Tensor], grad: torch.Tensor, params: list[torch.Tensor]) -> Callable[[], None]:
    """A call that runs ``fn`` forward and back (gradients of ``params`` cleared first)."""
    def run() -> None:
        for p in params:
            p.grad = None
        fn().backward(grad)
    return run


def setup(doc: str) -> argparse.Namespace:
    """The options every small benchmark takes (``--device``, ``--repeat``, ``--quick``), with one
    torch thread and a fixed seed."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return args
