"""catnn networks under DistributedDataParallel: 2 CPU processes (gloo, localhost) train like one.

Two processes are spawned with ``torch.multiprocessing``; each wraps the same catnn network (same
initial ``state_dict``) in ``DistributedDataParallel`` and trains on its half of a fixed batch with
SGD. DDP averages the gradients over the ranks, so with equal halves and a per-rank mean loss every
step equals a single-process step on the whole batch with the mean loss. The oracle is that
single-process run, in float64; the test compares every parameter of both ranks with it.
"""

from __future__ import annotations

import datetime
import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from catnn.networks import Network, Pointwise
from catnn.nn import EquivariantLinear

pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                                reason="torch.distributed with the gloo backend is not available")

WORLD = 2
STEPS = 4
LR = 0.05


def network() -> Network:
    """A small S_n graph network: 2 -> 2 layers with relu, then a 2 -> 0 readout."""
    return Network("S", [EquivariantLinear("S", 2, 2, 1, 4), Pointwise("relu"),
                         EquivariantLinear("S", 2, 2, 4, 4), Pointwise("relu"),
                         EquivariantLinear("S", 2, 0, 4, 1)]).double()


def data() -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed batch of 8 random 5 x 5 matrices and targets."""
    g = torch.Generator().manual_seed(7)
    return (torch.randn(8, 1, 5, 5, generator=g, dtype=torch.float64),
            torch.randn(8, 1, generator=g, dtype=torch.float64))


def sgd(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    """STEPS steps of SGD on the mean squared error over (x, y)."""
    optimiser = torch.optim.SGD(model.parameters(), lr=LR)
    for _ in range(STEPS):
        loss = (model(x) - y).pow(2).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


def _worker(rank: int, port: int, state: dict, out_dir: str) -> None:
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD,
                            timeout=datetime.timedelta(seconds=60))
    try:
        model = network()
        model.load_state_dict(state)
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        x, y = data()
        half = len(x) // WORLD
        sgd(ddp, x[rank * half:(rank + 1) * half], y[rank * half:(rank + 1) * half])
        torch.save(model.state_dict(), os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_on_two_processes_equals_one_process(tmp_path):
    torch.manual_seed(0)
    reference = network()
    state = {k: v.clone() for k, v in reference.state_dict().items()}
    mp.spawn(_worker, args=(_free_port(), state, str(tmp_path)), nprocs=WORLD, join=True)

    x, y = data()
    sgd(reference, x, y)
    expected = reference.state_dict()
    moved = max(float((expected[k] - state[k]).abs().max()) for k in state)
    assert moved > 1e-3, "training should move the parameters, or the comparison proves nothing"
    for rank in range(WORLD):
        trained = torch.load(tmp_path / f"rank{rank}.pt")
        assert trained.keys() == expected.keys()
        for name, value in expected.items():
            torch.testing.assert_close(trained[name], value, rtol=0, atol=1e-6, msg=f"rank {rank}, {name}")


def test_gradient_averaging_is_the_full_batch_mean():
    """The premise of the comparison, checked without processes: mean of half-batch gradients."""
    torch.manual_seed(0)
    model = network()
    x, y = data()
    half = len(x) // WORLD

    def grads(xs: torch.Tensor, ys: torch.Tensor) -> list[torch.Tensor]:
        model.zero_grad()
        (model(xs) - ys).pow(2).mean().backward()
        return [p.grad.clone() for p in model.parameters()]

    full = grads(x, y)
    parts = [grads(x[r * half:(r + 1) * half], y[r * half:(r + 1) * half]) for r in range(WORLD)]
    for i, g in enumerate(full):
        torch.testing.assert_close(sum(p[i] for p in parts) / WORLD, g, rtol=0, atol=1e-12)
