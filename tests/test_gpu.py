"""Devices: every object kind (tests/pytorch_kinds.py) on CUDA against CPU (``-m gpu``, skipped without
CUDA), and on the ``meta`` device in every run.

The meta test is the CPU-only guard against constants, index tensors or buffers created on the wrong
device: a module moved with ``.to("meta")`` must run forward on meta inputs and give meta outputs of
the CPU outputs' shapes; a tensor built on the CPU inside a runtime path meets a meta tensor and fails.
The CUDA tests compare outputs and gradients (inputs and parameters) in float64, and one compiled call.
``benchmarks/gpu_check.sh`` runs them with the benchmarks on a CUDA machine.
"""

from __future__ import annotations

import copy

import pytest
import torch
from pytorch_kinds import KINDS, Kind, outputs

IDS = [kind.name for kind in KINDS]
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def on(device: str, ts: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    return tuple(t.to(device) for t in ts)


def cpu_inputs(kind: Kind, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, ...]:
    torch.manual_seed(3)
    return tuple(t.to(dtype) if t.is_floating_point() else t for t in kind.inputs(kind.n, 3))


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_meta_device_runs_every_kind_with_the_right_shapes(kind: Kind) -> None:
    m = kind.build()
    xs = cpu_inputs(kind, torch.float32)
    want = outputs(m(*xs))
    meta = copy.deepcopy(m).to("meta")
    got = outputs(meta(*on("meta", xs)))
    assert [t.device.type for t in got] == ["meta"] * len(want)
    assert [t.shape for t in got] == [t.shape for t in want]
    assert [t.dtype for t in got] == [t.dtype for t in want]


@pytest.mark.gpu
@CUDA
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_cuda_equals_cpu_outputs_and_gradients(kind: Kind) -> None:
    m = kind.build().double()
    gpu = copy.deepcopy(m).to("cuda")
    xs = tuple(t.requires_grad_() if t.is_floating_point() else t for t in cpu_inputs(kind))
    xg = tuple(t.detach().to("cuda").requires_grad_() if t.is_floating_point() else t.to("cuda") for t in xs)
    want, got = outputs(m(*xs)), outputs(gpu(*xg))
    assert all(g.device.type == "cuda" and torch.allclose(g.cpu(), w, atol=1e-10) for g, w in zip(got, want))
    weights = [torch.linspace(-1, 1, t.numel(), dtype=t.dtype).reshape(t.shape) for t in want]
    sum((t * w).sum() for t, w in zip(want, weights)).backward()
    sum((t * w.to("cuda")).sum() for t, w in zip(got, weights)).backward()
    for a, b in zip(xs + tuple(m.parameters()), xg + tuple(gpu.parameters())):
        if a.is_floating_point() and a.grad is not None:
            assert torch.allclose(b.grad.cpu(), a.grad, atol=1e-10)


@pytest.mark.gpu
@CUDA
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_cuda_vmap_and_compile_equal_cpu(kind: Kind) -> None:
    m = kind.build()
    gpu = copy.deepcopy(m).to("cuda")
    xs = cpu_inputs(kind, torch.float32)
    want = outputs(m(*xs))
    mapped = outputs(torch.func.vmap(gpu)(*(t[None].to("cuda") for t in xs)))
    assert all(torch.allclose(g[0].cpu(), w, atol=1e-4) for g, w in zip(mapped, want))
    torch._dynamo.reset()
    compiled = outputs(torch.compile(gpu, dynamic=True)(*on("cuda", xs)))
    assert all(torch.allclose(g.cpu(), w, atol=1e-4) for g, w in zip(compiled, want))
