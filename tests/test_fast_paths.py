"""The torch emitter's fast spellings against independent oracles: chain cores batched over permuted
sources (A_n jellyfish, SO(n) ε), broadcast adds over a short trailing run as a tiling matmul
(S_n × O(3)), the constant-only joins ``_rt__contract`` keeps, and features of one entry per channel
mixed by one mm.

Oracles: the einsum emitter (every contraction by opt_einsum, no batching, no tiling) and autograd
through it for gradients; ``G.matrix`` (kron of the factors' dense matrices) for product layers. Each
test first checks that the generated source takes the path it is about, so none passes vacuously.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import catnn
from catnn.compiler.backends import emit
from catnn.compiler.contract_torch import CONTRACT_HELPER
from catnn.compiler.plan import build_plan
from catnn.groups.alternating import Jellyfish
from catnn.levi_civita import EpsilonDiagram


def grads(fn, x, w, g):
    return torch.autograd.grad(fn(x, w), (x, w), g)


@pytest.mark.parametrize("name,n,k,l,diagonals", [("A", 5, 3, 2, False), ("A", 4, 3, 1, False), ("SO", 4, 3, 3, False),
                                                  ("A", 5, 4, 1, True), ("SO", 3, 4, 1, True)])
def test_batched_chains_equal_the_einsum_emitter_forward_and_backward(name, n, k, l, diagonals):
    """Forward and gradients of every ε-diagram / jellyfish of a spanning set; with ``diagonals`` a
    batch is sure to stack diagonal views of the input (cores reading a repeated input axis)."""
    G = catnn.group(name, n=n)
    heads = [d for d in G.spanning_set(k, l) if isinstance(d, (EpsilonDiagram, Jellyfish))]
    plan = build_plan(G, k, l, heads)
    torch_fn, einsum_fn = emit(plan, backend="torch"), emit(plan, backend="einsum")
    assert "one chain on the stacked permuted sources" in torch_fn.source and "gs_c" in torch_fn.source
    assert "torch.stack((_rt__diagonal(x0" in torch_fn.source or not diagonals
    gen = torch.Generator().manual_seed(n + 10 * k + 100 * l)
    x = torch.randn((2, 3) + (n,) * k, dtype=torch.float64, generator=gen).requires_grad_()
    w = torch.randn(len(heads), 2, 3, dtype=torch.float64, generator=gen).requires_grad_()
    g = torch.randn((2, 2) + (n,) * l, dtype=torch.float64, generator=gen)
    want = einsum_fn.function(x, w)
    assert want.abs().max() > 1e-3
    torch.testing.assert_close(torch_fn.function(x, w), want, rtol=1e-10, atol=1e-10)
    for got, expected in zip(grads(torch_fn.function, x, w, g), grads(einsum_fn.function, x, w, g)):
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def dense(Gn, diagrams) -> torch.Tensor:
    return torch.tensor(np.stack([np.asarray(Gn.matrix(d), dtype=float) for d in diagrams]))


@pytest.mark.parametrize("name", ["S x O(3)", "S x SO(3)", "O(3) x S x O(2)"])
def test_short_trailing_broadcasts_equal_the_dense_matrices_and_autograd(name):
    """Every typed k -> l of total order <= 4 whose source shows ``_rt__tile_add`` (a fold, a write or a
    gradient accumulation broadcast over a block followed by a fixed sort of size <= 8), forward
    against the sum of weight ⊗ dense matrix, gradients against autograd through the einsum emitter."""
    G = catnn.group(name)
    ns = tuple(f.n if f.n is not None else 4 for f in G.factors)
    Gn, r = G.at(ns), len(ns)
    orders = [o for o in np.ndindex(*(3,) * r) if sum(o) <= 2]
    gen = torch.Generator().manual_seed(0)
    checked = 0
    for k in orders:
        for l in orders:
            diagrams = G.spanning_set(k, l) if sum(k) + sum(l) <= 4 else ()
            for chosen in (diagrams, diagrams[-1:]):       # the layer, and its last diagram alone (a write)
                if not chosen:
                    continue
                plan = build_plan(G, k, l, chosen)
                torch_fn, einsum_fn = emit(plan, backend="torch"), emit(plan, backend="einsum")
                if "_rt__tile_add(" not in torch_fn.source:
                    continue
                shape = tuple(ns[s] for s in range(r) for _ in range(k[s]))
                x = torch.randn(2, 2, *shape, dtype=torch.float64, generator=gen).requires_grad_()
                w = torch.randn(len(chosen), 3, 2, dtype=torch.float64, generator=gen).requires_grad_()
                y = torch_fn.plan_function((x,), (w,), (None,), (3,), n=ns)[0]
                want = torch.einsum("dpq,doi,biq->bop", dense(Gn, chosen), w, x.reshape(2, 2, -1))
                torch.testing.assert_close(y.reshape(want.shape), want, rtol=1e-10, atol=1e-10)
                g = torch.randn(y.shape, dtype=torch.float64, generator=gen)
                expected = torch.autograd.grad(einsum_fn.plan_function((x,), (w,), (None,), (3,), n=ns)[0], (x, w), g)
                for a, e in zip(torch.autograd.grad(y, (x, w), g), expected):
                    torch.testing.assert_close(a, e, rtol=1e-10, atol=1e-10)
                checked += 1
    assert checked >= 2


def test_constant_joins_are_kept_once_per_constants_and_equal_einsum():
    ns: dict = {"torch": torch, "_rt__CONSTANTS": {}}
    exec(CONTRACT_HELPER, ns)
    gen = torch.Generator().manual_seed(1)
    e1, e2, e3 = (torch.randn(s, dtype=torch.float64, generator=gen) for s in ((4, 4, 5), (5, 4, 6), (6, 4)))
    ns["_rt__CONSTANTS"].update({"e1": e1, "e2": e2, "e3": e3})
    equation = "bcijk,ilm,mjq,qk->bcl"
    for seed in range(3):
        x = torch.randn(2, 3, 4, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        got = ns["_rt__contract"](equation, x, e1, e2, e3)
        torch.testing.assert_close(got, torch.einsum(equation, x, e1, e2, e3), rtol=1e-12, atol=1e-12)
    steps = ns["_rt__PATHS"][(equation, (x.shape, e1.shape, e2.shape, e3.shape), (False, True, True, True))]
    joined = next(iter(ns["_rt__JOINED"].values()))[0]
    assert len(ns["_rt__JOINED"]) == 1 and 0 < len(joined) < len(steps)
    fresh = torch.randn(6, 4, dtype=torch.float64, generator=gen)      # not a cached constant: no join kept
    x = torch.randn(2, 3, 4, 4, 4, dtype=torch.float64, generator=gen)
    torch.testing.assert_close(ns["_rt__contract"](equation, x, e1, e2, fresh), torch.einsum(equation, x, e1, e2, fresh))


class _Ops(TorchDispatchMode):
    """The names of the aten ops dispatched inside the block."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.names.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("name,n,k,l", [("S", 5, 2, 2), ("O", 4, 2, 2), ("S", 4, 1, 0)])
def test_one_entry_per_channel_mixing_is_one_mm_and_equals_the_einsum_emitter(name, n, k, l):
    """Features with one entry per channel (sums to order 0) mix in one mm over the batch in eager code
    (no batched matmul of B tiny products), forward and backward; under torch.compile the batched
    matmul: both equal the einsum emitter."""
    G = catnn.group(name, n=n)
    plan = build_plan(G, k, l, G.spanning_set(k, l))
    torch_fn, einsum_fn = emit(plan, backend="torch"), emit(plan, backend="einsum")
    assert "_rt__mix0(w" in torch_fn.source and "_rt__outer0(gg" in torch_fn.source
    gen = torch.Generator().manual_seed(n + 10 * k + 100 * l)
    x = torch.randn((6, 3) + (n,) * k, dtype=torch.float64, generator=gen).requires_grad_()
    w = torch.randn(len(plan.diagrams), 2, 3, dtype=torch.float64, generator=gen).requires_grad_()
    g = torch.randn((6, 2) + (n,) * l, dtype=torch.float64, generator=gen)
    with _Ops() as ops:
        got = torch_fn.function(x, w)
        got_grads = grads(torch_fn.function, x, w, g)
    assert "mm" in ops.names
    want = einsum_fn.function(x, w)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    for a, b in zip(got_grads, grads(einsum_fn.function, x, w, g)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
    torch._dynamo.reset()
    compiled = torch.compile(torch_fn.function, backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(x, w), want, rtol=1e-10, atol=1e-10)
    for a, b in zip(grads(compiled, x, w, g), got_grads):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)
