"""Both emitters against the dense oracle: every S_n and O(n) diagram with k + l <= 6, random layers."""

from __future__ import annotations

from functools import partial
import numpy as np
import pytest
import torch

import catnn
from catnn.compiler import emit_common as emit_module
from catnn.compiler import emit_einsum, emit_torch, kernels
from catnn.compiler.backends import emit
from catnn.compiler.factorize import factorize
from catnn.compiler.plan import build_plan
from catnn.dense import partition_tensor
from oracle_layers import dense_layer

EMITTERS = {backend: partial(emit, backend=backend) for backend in ("torch", "einsum")}
SIZES = [(k, m - k) for m in range(7) for k in range(m + 1)]


def run(plan, backend, x, w, b, n):
    fn = EMITTERS[backend](plan)
    extra = {} if plan.k else {"n": n}
    if isinstance(x, np.ndarray):
        return fn(x, w, b, **extra)
    return fn(x, w, b, **extra).detach().numpy()


def random_inputs(rng, k, count, nbias, n, B=2, I=2, O=3):
    x = rng.standard_normal((B, I) + (n,) * k)
    return x, rng.standard_normal((count, O, I)), rng.standard_normal((nbias, O))


@pytest.mark.parametrize("name,n", [("S", 3), ("O", 3), ("O", 2)])
@pytest.mark.parametrize("k,l", SIZES)
def test_full_spanning_set_equals_dense_oracle(name, n, k, l, rng):
    """All diagrams of (k, l) in one layer with random weights, both backends, bias included."""
    G = catnn.group(name, n=n)
    diagrams, bias = G.spanning_set(k, l), G.spanning_set(0, l)
    if not diagrams:
        pytest.skip("no diagrams")
    plan = build_plan(G, k, l, diagrams, bias_diagrams=bias)
    x, w, b = random_inputs(rng, k, len(diagrams), len(bias), n)
    expected = dense_layer(G, k, l, diagrams, w, x, bias, b)
    for backend in EMITTERS:
        got = run(plan, backend, torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), n)
        np.testing.assert_allclose(got, expected, atol=1e-10, err_msg=backend)


@pytest.mark.parametrize("k,l", [(1, 2), (2, 2), (3, 1), (2, 3)])
def test_single_diagram_plans(k, l):
    """Each diagram alone (its own plan) against its matrix, the brute-force oracle for the matrices."""
    G = catnn.group("S", n=3)
    rng = np.random.default_rng(k * 10 + l)
    for d in G.spanning_set(k, l):
        plan = build_plan(G, k, l, [d])
        x, w, _ = random_inputs(rng, k, 1, 0, 3, B=1, I=1, O=1)
        expected = dense_layer(G, k, l, [d], w, x, brute=True)
        np.testing.assert_allclose(run(plan, "torch", torch.from_numpy(x), torch.from_numpy(w), None, 3),
                                   expected, atol=1e-12, err_msg=str(d))


@pytest.mark.parametrize("seed", range(6))
def test_random_layers_normalized_and_numpy(seed):
    """Random diagram subsets, random channels, normalize on/off, numpy arrays through opt_einsum."""
    rng = np.random.default_rng(seed)
    name = ["S", "O"][seed % 2]
    k, l = [(2, 2), (3, 1), (1, 3), (2, 4), (3, 3), (4, 2)][seed]
    n = 4
    G = catnn.group(name, n=n)
    spanning = G.spanning_set(k, l)
    picked = [spanning[i] for i in sorted(rng.choice(len(spanning), min(len(spanning), 7), replace=False))]
    normalize = bool(seed % 3)
    plan = build_plan(G, k, l, picked, bias_diagrams=G.spanning_set(0, l), normalize=normalize)
    I, O = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    x, w, b = random_inputs(rng, k, len(picked), len(plan.bias_diagrams), n, B=3, I=I, O=O)
    scales = [float(n) ** -len(factorize(d).bottom) if normalize else 1.0 for d in picked]
    expected = dense_layer(G, k, l, picked, w, x, plan.bias_diagrams, b, scales=scales)
    np.testing.assert_allclose(run(plan, "einsum", x, w, b, n), expected, atol=1e-10)
    for backend in EMITTERS:
        got = run(plan, backend, torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), n)
        np.testing.assert_allclose(got, expected, atol=1e-10, err_msg=backend)


def test_float32_and_source_is_standalone():
    G = catnn.group("S")
    plan = build_plan(G, 2, 2, G.spanning_set(2, 2), bias_diagrams=G.spanning_set(0, 2))
    for backend, emit_with in EMITTERS.items():
        fn = emit_with(plan)
        assert "\ndef layer(x, weight, bias=None):\n" in "\n" + fn.source
        assert "D_14: {1} {2} {1'} {2'}" in fn.source
        namespace: dict = {}
        exec(fn.full_source, namespace)                  # runs without catnn in its namespace
        x, w, b = torch.randn(2, 3, 5, 5), torch.randn(15, 4, 3), torch.randn(2, 4)
        torch.testing.assert_close(namespace["layer"](x, w, b), fn(x, w, b), msg=backend)
        assert "catnn" not in fn.full_source.replace("<catnn", "")


@pytest.mark.parametrize("backend", list(EMITTERS))
def test_two_to_two_at_n_2000_never_builds_n_to_the_four(backend):
    """n^4 = 1.6e13 entries would not fit anywhere; the plan touches only O(n^2) per channel."""
    n = 2000
    G = catnn.group("S")
    plan = build_plan(G, 2, 2, G.spanning_set(2, 2), bias_diagrams=G.spanning_set(0, 2))
    assert plan.largest_intermediate(n=n) <= 2 * n * n
    x = torch.randn(1, 1, n, n)
    w, b = torch.randn(15, 1, 1), torch.randn(2, 1)
    y = EMITTERS[backend](plan)(x, w, b)
    assert y.shape == (1, 1, n, n) and torch.isfinite(y).all()
    perm = torch.randperm(n)                            # equivariance, checked at full size
    y_perm = EMITTERS[backend](plan)(x[:, :, perm][:, :, :, perm], w, b)
    torch.testing.assert_close(y_perm, y[:, :, perm][:, :, :, perm], rtol=1e-4, atol=1e-2)


def test_three_to_three_at_n_200():
    n = 200
    G = catnn.group("S")
    plan = build_plan(G, 3, 3, G.spanning_set(3, 3))
    assert plan.largest_intermediate(n=n) <= 6 * n**3
    x = torch.randn(1, 1, n, n, n)
    y = emit(plan)(x, torch.randn(203, 1, 1) / 100)
    assert y.shape == (1, 1, n, n, n) and torch.isfinite(y).all()


# -- a kernel with constants: the path other groups (Sp's J, SO's ε) take ---------------------------
class WeightedKernels(kernels.PartitionKernels):
    """Toy group: every bottom-only and top-only block weighted by the vector (1, 2, ..., n)."""

    def halves(self, f):
        h = super().halves(f)
        d = len(f.propagating)
        bottom = kernels.BottomHalf(h.bottom.input, h.bottom.core,
                                    tuple(("ramp", (d + j,)) for j in range(len(f.bottom))), h.bottom.summed)
        top = kernels.TopHalf(h.top.acc, h.top.output, tuple(("ramp", (d + j,)) for j in range(len(f.top))))
        return kernels.Halves(bottom, top, h.perm)


def weighted_matrix(d, n):
    t = partition_tensor(d, n).astype(float)
    ramp = np.arange(1.0, n + 1)
    f = factorize(d)
    for axes in f.top:
        t = t * ramp.reshape([n if a == axes[0] else 1 for a in range(d.l + d.k)])
    for axes in f.bottom:
        t = t * ramp.reshape([n if a == d.l + axes[0] else 1 for a in range(d.l + d.k)])
    return t.reshape(n**d.l, n**d.k)


@pytest.fixture
def weighted_group():
    kernels.register_kernels("Weighted", WeightedKernels())
    kernels.register_constant("ramp", "def _const_ramp(n):\n    return [i + 1 for i in range(n)]\n")
    yield
    kernels.KERNELS.pop("Weighted")
    kernels.CONSTANTS.pop("ramp")


@pytest.mark.parametrize("k,l", [(2, 2), (1, 3), (3, 1)])
def test_kernels_with_constants_plug_in(weighted_group, k, l, rng):
    n = 3
    diagrams = catnn.group("S").spanning_set(k, l)
    plan = build_plan("Weighted", k, l, diagrams, n=n)
    assert plan.constants == ("ramp",)
    x, w, _ = random_inputs(rng, k, len(diagrams), 0, n)
    mats = np.stack([weighted_matrix(d, n) for d in diagrams])
    B, I = x.shape[:2]
    expected = np.einsum("dpq,doc,bcq->bop", mats, w, x.reshape(B, I, -1)).reshape((B, w.shape[1]) + (n,) * l)
    for backend in EMITTERS:
        got = run(plan, backend, torch.from_numpy(x), torch.from_numpy(w), None, n)
        np.testing.assert_allclose(got, expected, atol=1e-10, err_msg=backend)
    np.testing.assert_allclose(run(plan, "einsum", x, w, None, n), expected, atol=1e-10)


@pytest.mark.parametrize("name", ["S", "O"])
@pytest.mark.parametrize("k,l", SIZES)
def test_torch_backward_equals_autograd_through_the_einsum_backend(name, k, l):
    """The generated backward (the plan transposed) against autograd through opt_einsum contractions."""
    n = 3
    G = catnn.group(name, n=n)
    diagrams, bias = G.spanning_set(k, l), G.spanning_set(0, l)
    if not diagrams:
        pytest.skip("no diagrams")
    plan = build_plan(G, k, l, diagrams, bias_diagrams=bias, normalize=(k + l) % 2 == 0)
    gen = torch.Generator().manual_seed(k * 7 + l)
    x = torch.randn((2, 2) + (n,) * k, dtype=torch.float64, generator=gen).requires_grad_()
    w = torch.randn(len(diagrams), 3, 2, dtype=torch.float64, generator=gen).requires_grad_()
    b = torch.randn(len(bias), 3, dtype=torch.float64, generator=gen).requires_grad_()
    g = torch.randn((2, 3) + (n,) * l, dtype=torch.float64, generator=gen)
    extra = {} if k else {"n": n}
    inputs = (x, w, b) if bias else (x, w)
    got = torch.autograd.grad(EMITTERS["torch"](plan)(x, w, b, **extra), inputs, g)
    expected = torch.autograd.grad(EMITTERS["einsum"](plan)(x, w, b, **extra), inputs, g)
    for a, e in zip(got, expected):
        torch.testing.assert_close(a, e, rtol=1e-10, atol=1e-10)


def test_double_backward_differentiates_the_plain_steps():
    G = catnn.group("S")
    plan = build_plan(G, 2, 1, G.spanning_set(2, 1), bias_diagrams=G.spanning_set(0, 1))
    fn = EMITTERS["torch"](plan)
    x = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 2, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(1, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fn, (x, w, b))
    assert torch.autograd.gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("emitter", [emit_torch.TorchEmitter, emit_einsum.EinsumEmitter])
def test_long_index_lists_as_module_constants_equal_the_dense_oracle(emitter, monkeypatch, rng):
    """Index lists over INLINE_INDICES become module constants (what huge layers get); forced here on
    S_n 2 -> 3 (52 diagrams, permuted weight rows): forward against the dense oracle, and for torch
    the generated backward's weight gradient (the inverse permutation) against autograd's."""
    monkeypatch.setattr(emitter, "INLINE_INDICES", 4)
    monkeypatch.setattr(emit_module, "DOC_DIAGRAMS", 8)
    G = catnn.group("S", n=3)
    diagrams, bias = G.spanning_set(2, 3), G.spanning_set(0, 3)
    plan = build_plan(G, 2, 3, diagrams, bias_diagrams=bias)
    assert list(plan.gather[0]) != list(range(len(diagrams)))
    fn = emitter(plan, "layer").emit()
    assert "weights[0][_layer__order0]" in fn.source and "_layer__order0 = " in fn.full_source
    assert "D_0 .. D_51: the layer's diagrams" in fn.source and "D_1:" not in fn.source
    x, w, b = random_inputs(rng, 2, len(diagrams), len(bias), 3)
    expected = dense_layer(G, 2, 3, diagrams, w, x, bias, b)
    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    out = fn(xt, wt, bt)
    np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-10)
    if emitter is emit_torch.TorchEmitter:
        assert "_layer__inverse0" in fn.source
        grad = torch.from_numpy(rng.standard_normal(out.shape))
        got = torch.autograd.grad(out, (xt, wt, bt), grad)
        plain = fn.function.__globals__["layer__forward"]((xt,), (wt,), (bt,), (3,), None, None, False)[0][0]
        want = torch.autograd.grad(plain, (xt, wt, bt), grad)
        for g, e in zip(got, want):
            torch.testing.assert_close(g, e)
