"""catnn under PyTorch's tools: every object kind (tests/pytorch_kinds.py) x torch.func.vmap, torch.func.grad,
per-sample gradients, double backward, torch.jit.trace, torch.export with a dynamic n, ONNX (onnxruntime)
and torch.compile with a dynamic n, each against the eager module in float64.

The oracle is the eager module itself (its numbers are checked against dense matrices elsewhere):
vmap against a loop of eager calls, grad against ``backward()``, traced/exported/compiled programs at
a second n and batch against eager at that n. The expensive rows (export and ONNX of every kind,
torch.compile with inductor) are ``slow``; the default run keeps one of each.
"""

from __future__ import annotations

import pytest
import torch
from pytorch_kinds import BY_NAME, KINDS, Kind, outputs

from catnn.errors import CatnnError

pytestmark = pytest.mark.usefixtures("torch_one_thread")

FAST = ("O 2->2", "MixedLinear S V0+V1->V1+V2", "Network S x O(3)")      # the kinds the default run exports
IDS = [kind.name for kind in KINDS]


def built(kind: Kind) -> torch.nn.Module:
    return kind.build().double()


def inputs(kind: Kind, n: int, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    torch.manual_seed(seed)
    return tuple(t.double() if t.is_floating_point() else t for t in kind.inputs(n, batch))


def close(got: object, want: object, atol: float = 1e-10) -> bool:
    got, want = outputs(got), outputs(want)
    return len(got) == len(want) and all(g.shape == w.shape and torch.allclose(g.to(w), w, atol=atol)
                                         for g, w in zip(got, want))


def total(y: object) -> torch.Tensor:
    """A scalar depending on every output entry unevenly (a plain sum hides transposed gradients)."""
    return sum((o * torch.linspace(0.5, 1.5, o.numel(), dtype=o.dtype).reshape(o.shape)).sum() for o in outputs(y))


# -- torch.func -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_vmap_equals_a_loop_of_eager_calls(kind: Kind) -> None:
    m = built(kind)
    samples = [inputs(kind, kind.n, 3, seed) for seed in range(3)]
    mapped = torch.func.vmap(m)(*(torch.stack(ts) for ts in zip(*samples)))
    for v, xs in enumerate(samples):
        assert close(tuple(o[v] for o in outputs(mapped)), m(*xs))
    with torch.no_grad():    # the bare forward steps (no autograd.Function) under vmap
        assert close(tuple(o[1] for o in outputs(torch.func.vmap(m)(*(torch.stack(ts) for ts in zip(*samples))))),
                     m(*samples[1]))


@pytest.mark.parametrize("name", ["S 2->2", "Bilinear O 1@1->2", "MixedLinear S V0+V1->V1+V2"])
def test_vmap_over_an_ensemble_of_weights(name: str) -> None:
    """Mapped weights (torch.func.stack_module_state): the vmap rule's one-call-per-entry branch."""
    kind = BY_NAME[name]
    models = [built(kind) for _ in range(3)]
    for seed, m in enumerate(models):
        torch.manual_seed(seed)
        for p in m.parameters():
            torch.nn.init.normal_(p.data)
    params, buffers = torch.func.stack_module_state(models)
    xs = inputs(kind, kind.n, 2)
    ys = torch.func.vmap(lambda p, b: torch.func.functional_call(models[0], (p, b), xs))(params, buffers)
    for e, m in enumerate(models):
        assert close(tuple(o[e] for o in outputs(ys)), m(*xs))


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_func_grad_equals_backward(kind: Kind) -> None:
    m = built(kind)
    xs = inputs(kind, kind.n, 3)
    got = torch.func.grad(lambda x: total(m(x, *xs[1:])))(xs[0])
    x = xs[0].clone().requires_grad_()
    total(m(x, *xs[1:])).backward()
    assert torch.allclose(got, x.grad, atol=1e-10)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_per_sample_gradients_equal_one_backward_per_sample(kind: Kind) -> None:
    """vmap(grad(loss)) over the batch with the parameters as the grad argument."""
    m = built(kind)
    xs = inputs(kind, kind.n, 3)
    params = {k: p.detach() for k, p in m.named_parameters()}

    def loss(p: dict[str, torch.Tensor], *sample: torch.Tensor) -> torch.Tensor:
        return total(torch.func.functional_call(m, p, tuple(t[None] for t in sample)))

    per_sample = torch.func.vmap(torch.func.grad(loss), in_dims=(None,) + (0,) * len(xs))(params, *xs)
    for b in range(3):
        m.zero_grad()
        loss(dict(m.named_parameters()), *(t[b] for t in xs)).backward()
        for k, p in m.named_parameters():
            assert torch.allclose(per_sample[k][b], p.grad if p.grad is not None else torch.zeros_like(p),
                                  atol=1e-10), k


@pytest.mark.parametrize("name", ["S 2->2", "Bilinear O 1@1->2", "MixedLinear S V0+V1->V1+V2"])
def test_double_backward(name: str) -> None:
    """create_graph=True differentiates the plain steps: gradgradcheck, an input used twice (Bilinear's
    y = x) and inputs without grad (only the weights) included."""
    kind = BY_NAME[name]
    m = built(kind)
    xs = tuple(t.requires_grad_() for t in inputs(kind, 3, 2))
    weights = tuple(m.parameters())
    assert torch.autograd.gradgradcheck(lambda *ts: total(m(*ts[:len(xs)])), xs + weights)
    detached = tuple(t.detach() for t in xs)
    with_graph = torch.autograd.grad(total(m(*detached)), weights, create_graph=True)
    plain = torch.autograd.grad(total(m(*detached)), weights)
    assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(with_graph, plain))


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_double_backward_equals_central_differences_of_the_gradient(kind: Kind) -> None:
    """Every kind: the Hessian-vector product that double backward gives, for the inputs and weights
    together, against (g(θ + εv) - g(θ - εv)) / 2ε of the first gradient g; nonzero, so it can fail."""
    m = built(kind)
    xs = inputs(kind, kind.n, 2)
    floats = [i for i, t in enumerate(xs) if t.is_floating_point()]
    names = [k for k, _ in m.named_parameters()]
    theta = [xs[i] for i in floats] + [p.detach() for p in m.parameters()]

    def gradient(values: list[torch.Tensor], create_graph: bool = False) -> tuple[torch.Tensor, ...]:
        args = list(xs)
        for i, v in zip(floats, values):
            args[i] = v
        params = dict(zip(names, values[len(floats):]))
        y = total(torch.func.functional_call(m, params, tuple(args)))
        return torch.autograd.grad(y, values, create_graph=create_graph, allow_unused=True, materialize_grads=True)

    torch.manual_seed(1)
    v = [torch.randn_like(t) for t in theta]
    leaves = [t.clone().requires_grad_() for t in theta]
    g = gradient(leaves, create_graph=True)
    hv = torch.autograd.grad(sum((a * b).sum() for a, b in zip(g, v)), leaves, allow_unused=True,
                             materialize_grads=True)
    eps = 1e-5
    plus = gradient([(t + eps * d).requires_grad_() for t, d in zip(theta, v)])
    minus = gradient([(t - eps * d).requires_grad_() for t, d in zip(theta, v)])
    for got, p, q in zip(hv, plus, minus):
        assert torch.allclose(got, (p - q) / (2 * eps), atol=1e-6, rtol=1e-6)
    assert max(float(h.abs().max()) for h in hv) > 1e-3


# -- torch.jit.trace and torch.export -------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_jit_trace_passes_its_check_and_runs_at_another_n(kind: Kind) -> None:
    m = built(kind)
    traced = torch.jit.trace(m, inputs(kind, kind.n, 4))      # check_trace=True: raises if graphs differ
    other = inputs(kind, kind.n if "trace" in kind.fixed_by else kind.other_n, 3, seed=1)
    assert close(traced(*other), m(*other))
    if "trace" in kind.fixed_by:     # the constant is the traced n's: another n is refused, not computed wrong
        with pytest.raises(RuntimeError, match="size of tensor"):
            traced(*inputs(kind, kind.other_n, 3))


def _export(kind: Kind) -> None:
    m = built(kind)
    xs = inputs(kind, kind.n, 4)
    static = "export" in kind.fixed_by      # exported at its n (a dynamic n is refused by torch)
    dim = torch.export.Dim("n", min=2, max=64)
    program = torch.export.export(m, xs, dynamic_shapes=None if static else kind.dynamic_shapes(xs, dim))
    other = inputs(kind, kind.n if static else kind.other_n, 4, seed=1)
    assert close(program.module()(*other), m(*other))


@pytest.mark.parametrize("name", FAST)
def test_export_with_a_dynamic_n(name: str) -> None:
    _export(BY_NAME[name])


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_export_with_a_dynamic_n_every_kind(kind: Kind) -> None:
    _export(kind)


# -- ONNX -----------------------------------------------------------------------------------------
def _onnx(kind: Kind, tmp_path: object) -> None:
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    m = kind.build()   # float32: what ONNX deployments run
    xs = tuple(kind.inputs(kind.n, 4))
    path = str(tmp_path / "model.onnx")
    static = "export" in kind.fixed_by
    torch.onnx.export(m, xs, path, dynamo=True, dynamic_shapes=None if static else kind.dynamic_shapes(
        xs, torch.export.Dim("n", min=2, max=64)))
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    torch.manual_seed(1)
    other = tuple(kind.inputs(kind.n if static else kind.other_n, 4))
    feeds = {i.name: t.numpy() for i, t in zip(session.get_inputs(), other)}
    got = tuple(torch.as_tensor(a) for a in session.run(None, feeds))
    assert close(got, m(*other), atol=1e-5)


@pytest.mark.parametrize("name", ["S 2->2"])
def test_onnx_export_runs_in_onnxruntime(name: str, tmp_path: object) -> None:
    _onnx(BY_NAME[name], tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_onnx_export_every_kind(kind: Kind, tmp_path: object) -> None:
    _onnx(kind, tmp_path)


# -- torch.compile ----------------------------------------------------------------------------------
def _compile(kind: Kind, backend: str) -> None:
    """One compilation serves two sizes (and two batch sizes): no recompilation, no graph break."""
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    m = built(kind)
    compiled = torch.compile(m, dynamic=True, backend=backend, fullgraph=False)
    for n, batch, seed in ((kind.n, 4, 0), (kind.other_n, 3, 1)):
        xs = inputs(kind, n, batch, seed)
        y = compiled(*xs)
        assert close(y, m(*xs))
        got = torch.autograd.grad(total(y), tuple(m.parameters()), allow_unused=True)
        want = torch.autograd.grad(total(m(*xs)), tuple(m.parameters()), allow_unused=True)
        assert all((g is None) == (w is None) and (g is None or torch.allclose(g, w, atol=1e-10))
                   for g, w in zip(got, want))
    if "compile" in kind.fixed_by:      # recompiled at the second n (docs/pytorch.md): numbers only
        return
    # a constant (SO(3)'s ε) built inside the first graph is cached after it: one recompile to read it
    # (none when an earlier eager call cached it)
    assert counters["stats"]["unique_graphs"] <= (1 if kind.dynamic_n else 2), dict(counters["stats"])
    assert not counters["graph_break"], dict(counters["graph_break"])


@pytest.mark.parametrize("name", ["O 2->2", "SO(3) 2->1 (eps)", "Network S x O(3)"])
def test_compile_with_a_dynamic_n_compiles_once(name: str) -> None:
    """aot_eager (tracing, no code generation); SO(3)'s ε chain contracts three operands; the product
    network's typed stages pass a symbolic n on (one graph for two sizes)."""
    _compile(BY_NAME[name], "aot_eager")


@pytest.mark.parametrize("duck", [True, False])
def test_compile_when_the_first_n_equals_the_channel_count(duck: bool) -> None:
    """torch's duck shaping gives n and the channel axis one symbol when they are equal at the first
    call, and the weight's static channel count then fixes n: the next n recompiles once. Without duck
    shaping (docs/pytorch.md) one graph serves every n and batch size."""
    from torch._dynamo.utils import counters
    from torch.fx.experimental import _config as fx_config

    from catnn.nn import EquivariantLinear
    torch._dynamo.reset()
    counters.clear()
    layer = EquivariantLinear("O", 2, 2, 5, 5).double()
    compiled = torch.compile(layer, dynamic=True, backend="eager")
    with fx_config.patch(use_duck_shape=duck):
        for batch, n in ((3, 5), (3, 7), (5, 9), (4, 6)):
            x = torch.randn(batch, 5, n, n, dtype=torch.double)
            assert torch.allclose(compiled(x), layer(x), atol=1e-12)
    assert counters["stats"]["unique_graphs"] == (2 if duck else 1), dict(counters["stats"])


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_compile_every_kind_with_inductor(kind: Kind) -> None:
    _compile(kind, "inductor")


# -- what cannot work -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_jit_script_is_refused_with_a_catnn_error(kind: Kind) -> None:
    """catnn's modules name the tools that work; a compiled module is plain generated Python, which
    TorchScript's frontend rejects with its own error."""
    m = kind.build().module
    if kind.name.startswith("compiled"):
        with pytest.raises(RuntimeError):     # the frontend's error (a second try: "Can't redefine method")
            torch.jit.script(m)
        return
    with pytest.raises(CatnnError, match="torch.jit.trace"):
        torch.jit.script(m)


def test_jit_trace_of_mean_pools_runs_at_another_n() -> None:
    """``mean`` divides by n as torch gives it: a float(n) would be a constant of the trace (wrong at another n)."""
    from pytorch_kinds import Positional

    from catnn.networks import Pool
    plain = Positional(Pool("mean"), orders=(1, 2))
    typed = Positional(Pool("mean", "S x O(3)", "V(1,0) + V(1,1)", sort=0), orders=((1, 0), (1, 1)))
    for m, shapes in ((plain, lambda n: ((2, 3, n), (2, 1, n, n))), (typed, lambda n: ((2, 1, n), (2, 1, n, 3)))):
        traced = torch.jit.trace(m, tuple(torch.randn(s) for s in shapes(5)))
        xs = tuple(torch.randn(s) for s in shapes(8))
        assert close(traced(*xs), m(*xs), atol=1e-6)
