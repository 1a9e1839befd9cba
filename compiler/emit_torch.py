"""The torch emitter: a plan as plain torch functions with a generated backward.

>>> import catnn
>>> from catnn.compiler.plan import build_plan
>>> G = catnn.group("S")
>>> fn = TorchEmitter(build_plan(G, 1, 1, G.spanning_set(1, 1)), "layer").emit()
>>> print("\\n".join(fn.source.splitlines()[:8]))
def layer__forward(xs, weights, biases, out_channels, n, sizes, save):
    \"\"\"The forward steps of layer (in place, no autograd): (outputs, saved features).\"\"\"
    x0 = xs[0]
    I0 = x0.shape[1]
    x = x0  # dtype and device of every new tensor
    B = x.shape[0]
    n = x0.shape[-1]
    wb0 = _rt__plain(weights[0])

Four definitions per plan: ``NAME__forward`` (the steps, in place, no autograd graph),
``NAME__backward`` (the plan transposed: accumulator gradients by diagonal views and sums, weight
gradients against the saved features, the input gradients by the transposed mixes and cores; a
bilinear input's cores, einsums of two factors, are differentiated locally by ``torch.func.vjp``),
``NAME__Function`` (the ``torch.autograd.Function`` joining them, with ``setup_context`` and a ``vmap``
rule for torch.func; under ``create_graph=True`` it differentiates the plain steps instead, so higher
derivatives work) and ``NAME__plan`` itself, which takes the Function when a gradient is needed and the
bare forward otherwise (and under ``torch.jit.trace``, so that the trace is plain aten ops; see
:mod:`.emit_common` for its arguments; single-order plans also get ``NAME(x, weight, bias=None)``).

Native ops only: diagonals of the input are strided views (``_rt__diagonal``, ``as_strided``), sums are
``Tensor.sum``, permutations are ``permute``/``transpose`` views, channel mixing is ``torch.matmul``
on stacked features, broadcasts are ``None``-indexing, output diagonals are strided views of the
single output buffer updated in place (``_rt__diagonal_add``; an index_put under torch.export, which
ONNX takes). Steps with constants (other groups' J or ε, an adjacency matrix) are spelled by
:mod:`.contract_torch` (a matmul or a broadcast product for one matrix, pairwise ``torch.einsum`` along a
path cached per shapes for three or more operands); a bilinear input's cores use ``torch.einsum``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from math import prod

from .contract_torch import CONTRACT_HELPER, permuted, reduced, spell
from .emit_common import SourceEmitter, docstring
from .emit_powers import PowerStack, power_groups
from .ir import CoreStep, FoldStep, MixGroup, View, WriteStep, diagonal_blocks, letters

__all__ = ["TorchEmitter", "diagonal_view", "split_operands", "short_block", "DIAGONAL_HELPER", "CONSTANT_HELPER",
           "DIAGONAL_ADD_HELPER", "TILE_ADD_HELPER", "PLAIN_HELPER", "SCALAR_MIX_HELPER", "AUTOGRAD_HELPER", "VMAP_HELPER",
           "STEPS_GRADIENT_HELPER"]

#: a core's gradient contribution: (expression, full size, the short block it broadcasts over or None)
Part = tuple[str, bool, "tuple[int, int] | None"]

#: a broadcast add whose trailing axes (after the block it broadcasts over) hold at most this many
#: entries is spelled as a matmul with a tiling matrix (:data:`TILE_ADD_HELPER`)
SHORT_RUN = 8


def diagonal_view(t, blocks):
    """The view of t with one trailing axis per block of its trailing axes; a block of several
    axes is their common diagonal: _rt__diagonal(t, ((0, 1), (2,)))[b, c, i, j] is t[b, c, i, i, j]."""
    lead = t.dim() - sum(len(block) for block in blocks)
    owner = {lead + a: i for i, block in enumerate(blocks) for a in block}
    dims = [-1 - j for j in range(lead)] + [owner[lead + a] for a in range(t.dim() - lead)]
    for i in range(len(blocks)):
        while dims.count(i) > 1:
            first = dims.index(i)
            second = dims.index(i, first + 1)
            t = t.diagonal(0, first, second)
            dims = [d for j, d in enumerate(dims) if j not in (first, second)] + [i]
    return t.permute([dims.index(-1 - j) for j in range(lead)] + [dims.index(i) for i in range(len(blocks))])


#: ``diagonal_view`` as generated code spells it (the same source, pasted into every module)
DIAGONAL_HELPER = inspect.getsource(diagonal_view).replace("def diagonal_view(", "def _rt__diagonal(", 1)

CONSTANT_HELPER = '''_rt__CONSTANTS = {}


def _rt__constant(kind, n, like):
    """The constant tensor `kind` at size n, with like's dtype and device (built once, cached; not
    cached while torch.export traces: it would keep its fake tensor; torch.compile stores the real one)."""
    key = (kind, n, like.dtype, like.device)
    if key in _rt__CONSTANTS:
        return _rt__CONSTANTS[key]
    build = _rt__constant.__globals__["_rt__const_" + kind]   # not globals(): torch.compile traces this
    value = torch.tensor(build(n), dtype=like.dtype, device=like.device)
    if not torch.compiler.is_exporting():
        _rt__CONSTANTS[key] = value
    return value
'''


DIAGONAL_ADD_HELPER = '''def _rt__diagonal_add(t, blocks, value):
    """``_rt__diagonal(t, blocks) += value`` in place; under torch.export an index_put at the diagonal's
    indices instead (ONNX's decompositions cannot take an in-place write into a diagonal view)."""
    if not torch.compiler.is_exporting():
        _rt__diagonal(t, blocks).add_(value)
        return
    index = [None] * (t.dim() - 2)
    for b, block in enumerate(blocks):
        shape = [1] * len(blocks)
        shape[b] = t.shape[2 + block[0]]
        at = torch.arange(shape[b], device=t.device).reshape(shape)
        for axis in block:
            index[axis] = at
    t[(slice(None), slice(None), *index)] += value
'''


TILE_ADD_HELPER = '''_rt__TILES = {}


def _rt__tile_add(t, value, start, stop):
    """``t += value`` in place, value (t's shape with 1 on axes start..stop-1) broadcast over that block.
    The axes after the block hold few entries (an O(3) vector's 3): an add striding in runs that short
    is slow, so the add is a matmul of value's rows with a 0/1 tiling matrix (entry r to every (m, r)),
    each entry added once (an inf in value also makes nan at its row's other entries: inf * 0). A
    non-contiguous t or a non-float dtype takes the plain add, and so do torch.compile (it fuses the
    add), torch.export (torch.Size.numel would fix a symbolic n) and torch.jit.trace (the trace keeps
    sizes symbolic). The tiling matrix is cached per shape,
    dtype and device."""
    if (torch.compiler.is_compiling() or torch.jit.is_tracing() or not t.is_contiguous()
            or not (t.is_floating_point() or t.is_complex()) or t.numel() == 0):
        t.add_(value)
        return
    rest, block = t.shape[stop:].numel(), t.shape[start:stop].numel()
    key = (rest, block, t.dtype, t.device)
    tile = _rt__TILES.get(key)
    if tile is None:
        tile = _rt__TILES[key] = torch.eye(rest, dtype=t.dtype, device=t.device).repeat(1, block)
    t.view(-1, block * rest).addmm_(value.expand(t.shape[:start] + value.shape[start:]).reshape(-1, rest), tile)
'''


def same_contraction(cores: Sequence[CoreStep]) -> list[tuple[str, list[tuple[CoreStep, tuple[int, ...]]]]]:
    """Cores (two or more) that are one contraction of their common source (or diagonal views of it)
    with its axes permuted: the contraction's equation (sources' axes first), and each core with the
    permutation of its source's (view's) axes that the equation reads.

    >>> a = CoreStep("c1", "x0", (0, 1), (0, 2), (("E", (1, 2)),), 0, 0)
    >>> b = CoreStep("c2", "x0", (0, 1), (1, 2), (("E", (0, 2)),), 0, 0)    # x's axes the other way round
    >>> [(eq, [(c.name, p) for c, p in batch]) for eq, batch in same_contraction([a, b])]
    [('bcik,ij->bckj', [('c1', (1, 0)), ('c2', (0, 1))])]
    """
    found: dict[tuple, tuple[str, list[tuple[CoreStep, tuple[int, ...]]]]] = {}
    for c in cores:
        canon: dict[int, int] = {}
        distinct = list(dict.fromkeys(c.source_labels))      # a diagonal view's axes (one per block)
        for lab in [*(lab for _, labs in c.constants for lab in labs), *c.labels, *distinct]:
            canon.setdefault(lab, len(canon))
        source = [canon[lab] for lab in distinct]
        axes = tuple(sorted(range(len(source)), key=source.__getitem__))
        consts = tuple((kind, letters(canon[lab] for lab in labs)) for kind, labs in c.constants)
        equation = (f"bc{letters(sorted(source))}{''.join(',' + labs for _, labs in consts)}"
                    f"->bc{letters(canon[lab] for lab in c.labels)}")
        key = (c.source, equation, tuple(kind for kind, _ in consts), tuple(c.sort(distinct[a]) for a in axes))
        found.setdefault(key, (equation, []))[1].append((c, axes))
    return [batch for batch in found.values() if len(batch[1]) > 1]


def short_block(labels: Sequence[int], target: Sequence[int], sizes: Sequence[int | None]) -> tuple[int, int] | None:
    """The axes ``(start, stop)`` (counting batch and channel) of the one block of ``target`` that an
    add of ``labels`` broadcasts over, when the axes after it have fixed ``sizes`` holding at most
    ``SHORT_RUN`` entries together; None otherwise (a plain add is fast: its runs are long).

    >>> short_block([0, 2], [0, 1, 2], [None, None, 3]), short_block([0, 1], [0, 1, 2], [None, None, 3])
    ((3, 4), None)
    """
    missing = [i for i, lab in enumerate(target) if lab not in labels]
    if not missing or missing != list(range(missing[0], missing[-1] + 1)) or missing[-1] == len(target) - 1:
        return None
    trailing = sizes[missing[-1] + 1:]
    if None in trailing or prod(trailing) > SHORT_RUN:
        return None
    return 2 + missing[0], 3 + missing[-1]


PLAIN_HELPER = '''def _rt__plain(w):
    """w detached when no gradient flows through it (outside grad mode, and not while torch.jit.trace
    records): torch.matmul runs a weight that requires grad (a view of a Parameter, even under no_grad)
    as a batched matmul instead of folding it into one, about 2.5x slower on CPU."""
    return w if torch.is_grad_enabled() or torch.jit.is_tracing() else w.detach()
'''


SCALAR_MIX_HELPER = '''def _rt__mix0(w, f):
    """w (R, P) times features f (B, P, 1) with one entry per channel: (B, R, 1) or (B, R). In eager code
    one mm over the whole batch (a batched matmul would run B tiny products); under torch.compile the
    batched matmul, which inductor folds into its kernels (an mm would be one more kernel to build)."""
    if torch.compiler.is_compiling():
        return torch.matmul(w, f)
    return torch.mm(f[:, :, 0], w.t())


def _rt__outer0(g, f):
    """The sum over the batch of g_b f_b^T for g (B, R, 1) and f (B, P, 1): (R, P), as :func:`_rt__mix0`."""
    if torch.compiler.is_compiling():
        return torch.matmul(g, f.transpose(1, 2)).sum(0)
    return torch.mm(g[:, :, 0].t(), f[:, :, 0])
'''


AUTOGRAD_HELPER = '''def _rt__autograd(flat):
    """Whether a plan runs its autograd.Function rather than the bare forward steps: under a torch.func
    transform (its vmap rule), else when a gradient is wanted, except while torch.jit.trace records
    (the trace stays plain aten ops)."""
    if not torch.compiler.is_compiling() and torch._C._are_functorch_transforms_active():
        return True
    return torch.is_grad_enabled() and not torch.jit.is_tracing() and any(t is not None and t.requires_grad
                                                                          for t in flat)
'''


VMAP_HELPER = '''def _rt__vmap(function, info, in_dims, out_channels, n, sizes, flat, count):
    """The vmap rule of a plan's Function: the mapped axis folded into the batch axis when only the
    inputs (the first ``count`` of ``flat``) and ``sizes`` are mapped, else one call per mapped entry."""
    V, dims = info.batch_size, in_dims[3:]
    if all(d is None for d in dims[count:]):
        xs = tuple(t.movedim(d, 0) if d is not None else t.expand((V,) + t.shape) for t, d in zip(flat[:count], dims))
        xs = tuple(t.reshape((V * t.shape[1],) + t.shape[2:]) for t in xs[:count])
        if sizes is not None:
            sizes = sizes.movedim(in_dims[2], 0).reshape(-1) if in_dims[2] is not None else sizes.repeat(V)
        outs = function.apply(out_channels, n, sizes, *xs, *flat[count:])
        return tuple(o.reshape((V, o.shape[0] // V) + o.shape[1:]) for o in outs), (0,) * len(outs)
    runs = []
    for v in range(V):
        args = tuple(t.select(d, v) if d is not None else t for t, d in zip(flat, dims))
        runs.append(function.apply(out_channels, n, sizes if in_dims[2] is None else sizes.select(in_dims[2], v),
                                   *args))
    return tuple(torch.stack(outs) for outs in zip(*runs)), (0,) * len(runs[0])
'''


STEPS_GRADIENT_HELPER = '''def _rt__steps_gradient(forward, grads, flat, needs, arguments):
    """The gradients of the inputs that ``needs`` marks, by ``torch.func.vjp`` through the plain forward
    steps (``arguments(flat)``: their xs, weights, biases, out_channels, n, sizes), composable with
    autograd (create_graph=True) and torch.func transforms. Every tensor enters as its own primal, so
    in-place steps always act on tensors of one level and an input passed twice gets each use's gradient."""
    at = [i for i, t in enumerate(flat) if t is not None]

    def outputs(*primals):
        full = list(flat)
        for i, t in zip(at, primals):
            full[i] = t
        xs, weights, biases, out_channels, n, sizes = arguments(full)
        return forward(xs, weights, biases, out_channels, n, sizes, False)[0]

    found = dict(zip(at, torch.func.vjp(outputs, *(flat[i] for i in at))[1](tuple(grads))))
    return tuple(found[i] if need else None for i, need in enumerate(needs))
'''


class TorchEmitter(SourceEmitter):
    """Spells each plan step with native torch ops, and writes the plan's transposed steps as the
    backward of an ``autograd.Function``."""

    imports = ("import torch",)
    reshape = "view"
    #: set once a contraction of three or more operands is spelled (the module then needs ``_rt__contract``)
    many_operands = False
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the blocks whose ``wb<b>`` are the weights in their own row order: block -> gathered rows
        self.direct_rows: dict[int, tuple[int, ...]] = {}

    #: set once a broadcast add is spelled by ``_rt__tile_add`` (the module then needs :data:`TILE_ADD_HELPER`)
    tile_adds = False
    #: set once features of one entry per channel are mixed (the module then needs :data:`SCALAR_MIX_HELPER`)
    scalar_mix = False

    # -- the definitions: forward steps, backward steps, autograd Function, entry points --------
    def source(self) -> str:
        p, name = self.plan, self.name
        features = [f"f{g.name[1:]}" for g in p.groups]
        saved = "(" + ", ".join(features) + ("," if len(features) == 1 else "") + ")"
        self.lines = [f"def {name}__forward(xs, weights, biases, out_channels, n, sizes, save):",
                      f'    """The forward steps of {name} (in place, no autograd): (outputs, saved features)."""']
        self.forward_body()
        self.line(f"return {self.outputs_tuple()}, ({saved} if save else ())")
        forward = "\n".join(self.lines)
        self.lines = [f"def {name}__backward(grads, xs, weights, biases, features, needs, n, sizes):",
                      f'    """The backward steps of {name}, the plan transposed: the gradient of every '
                      'input, weight and bias."""']
        self.backward_body()
        backward = "\n".join(self.lines)
        entry = "\n".join([
            f"def {name}__plan({self.signature()}):",
            "    " + docstring(self.doc, "    "),
            f"    flat = ({self.flat_inputs()}*weights, *biases)",
            "    if _rt__autograd(flat):",
            f"        return {name}__Function.apply(out_channels, n, sizes, *flat)[:{len(p.sections)}]",
            f"    return {name}__forward(xs, weights, biases, out_channels, n, sizes, False)[0]",
        ])
        return "\n\n\n".join([forward, backward, self.function_class(), entry]) + "\n" + self.single_entry()

    def flat_inputs(self) -> str:
        """The input tensors, a bilinear input's two factors apart (``xs[i][0], xs[i][1]``)."""
        parts = [f"xs[{i}][0], xs[{i}][1], " if x.factors else f"xs[{i}], " for i, x in enumerate(self.plan.inputs)]
        return "".join(parts)

    def unflatten(self) -> list[str]:
        """Lines rebuilding ``xs, weights, biases`` from ``flat``."""
        p = self.plan
        xs, at = [], 0
        for x in p.inputs:
            xs.append(f"(flat[{at}], flat[{at + 1}])" if x.factors else f"flat[{at}]")
            at += 2 if x.factors else 1
        nw = len(p.blocks)
        return [f"xs = ({''.join(x + ', ' for x in xs)})",
                f"weights = tuple(flat[{at}:{at + nw}])",
                f"biases = tuple(flat[{at + nw}:])"]

    def function_class(self) -> str:
        name, p = self.name, self.plan
        # n is read from the inputs' axes, except for sizes no input shows (k = 0, or a sort without input axes)
        n_value = "n" if not any(x.order for x in p.inputs) or len(p.sorts) > 1 else "None"
        nx = sum(2 if x.factors else 1 for x in p.inputs)
        nout = len(p.sections)
        unflatten = "\n".join("        " + line for line in self.unflatten())
        unflatten_inline = ", ".join(line.split(" = ", 1)[1] for line in self.unflatten())
        return f'''class {name}__Function(torch.autograd.Function):
    """Autograd for {name}: the backward runs the transposed plan, not a graph of the in-place steps.
    forward returns the outputs then the saved features (non-differentiable), so that setup_context
    can save them: torch.func transforms (vmap, grad) need forward and setup_context apart."""

    @staticmethod
    def forward(out_channels, n, sizes, *flat):
{unflatten}
        outs, features = {name}__forward(xs, weights, biases, out_channels, n, sizes, True)
        return outs + tuple(features)

    @staticmethod
    def setup_context(ctx, inputs, output):
        out_channels, n, sizes, *flat = inputs
        features = output[{nout}:]
        ctx.mark_non_differentiable(*features)
        ctx.save_for_backward(*flat, *features)
        ctx.meta = (len(flat), out_channels, {n_value}, sizes)

    @staticmethod
    def backward(ctx, *grads):
        grads = grads[:{nout}]
        count, out_channels, n, sizes = ctx.meta
        saved = ctx.saved_tensors
        flat, features = saved[:count], saved[count:]
        if torch.is_grad_enabled() and not torch._C._are_functorch_transforms_active():
            # create_graph=True: differentiate the plain steps (torch.func transforms take the plan below)
            def arguments(flat):
                return {unflatten_inline}, out_channels, n, sizes
            needs = ctx.needs_input_grad[3:]
            return (None, None, None) + _rt__steps_gradient({name}__forward, grads, flat, needs, arguments)
{unflatten}
        needs = ctx.needs_input_grad[3:3 + {nx}]
        return (None, None, None) + {name}__backward(grads, xs, weights, biases, features, needs, n, sizes)

    @staticmethod
    def vmap(info, in_dims, out_channels, n, sizes, *flat):
        return _rt__vmap({name}__Function, info, in_dims, out_channels, n, sizes, flat, {nx})'''

    # -- the backward ---------------------------------------------------------------------------
    def backward_body(self) -> None:
        p = self.plan
        self.inputs()
        self.gathered_weights("weights")
        self.constants("x")
        if p.groups:
            names = [f"f{g.name[1:]}" for g in p.groups]
            self.line(f"{', '.join(names)}{',' if len(names) == 1 else ''} = features")
        for j, sec in enumerate(p.sections):
            self.line(f"# output {j}: accumulator gradients, the writes and folds transposed")
            self.line(f"grad = grads[{j}]")
            self.line(f"O = O{j} = grad.shape[1]")
            for w in sec.writes:
                self.line(f"g{w.acc} = {self.transposed_write(w)}")
            for f in reversed(sec.folds):
                self.line(f"g{f.source} = {self.reduce(f'g{f.target}', f.target_labels, f.source_labels)}")
            for g in sec.groups:
                self.group_gradient(g)
        self.weight_gradients()
        self.bias_gradients()
        self.input_gradients()
        grads = [f"gx{i}a, gx{i}b, " if x.factors else f"gx{i}, " for i, x in enumerate(p.inputs)]
        grads += [f"gweight{b}, " for b in range(len(p.blocks))]
        grads += [f"gbias{j}, " for j in range(len(p.sections))]
        self.line(f"return ({''.join(grads).rstrip(' ')})")

    def transposed_write(self, w: WriteStep) -> str:
        view = self.plan.view(w.view)
        if w.first:
            return "grad"
        expr = "grad" if view.is_whole else f"_rt__diagonal(grad, {view.blocks()})"
        const_labels = {lab for _, labs in view.constants for lab in labs}
        keep = [lab for lab in view.labels if lab in w.labels or lab in const_labels]
        expr = self.reduce(expr, view.labels, keep)
        if view.constants:
            consts = "".join(f",{letters(labs)}" for _, labs in view.constants)
            names = "".join(f", {kind}" for kind, _ in view.constants)
            return self.contract(f"bo{letters(keep)}{consts}->bo{letters(w.labels)}", f"{expr}{names}")
        return self.reduce(expr, keep, w.labels)

    def reduce(self, expr: str, labels: Sequence[int], keep: Sequence[int]) -> str:
        """``expr`` (axes ``labels`` after batch and channel) summed to the axes ``keep``, in that order."""
        return reduced(expr, labels, keep)

    def group_gradient(self, g: MixGroup) -> None:
        """``gg``: the group's accumulator gradients stacked; ``gw``: its weight block's gradient;
        ``gf``: its features' gradient (the transposed matmul)."""
        i, M = g.name[1:], len(g.members)
        members = [f"g{m}" for m in g.members]
        if M == 1:
            self.line(f"gg{i} = {members[0]}.reshape(B, O, {self.flat(self.plan.group_sorts(g))})")
        else:
            self.line(f"gg{i} = torch.stack(({', '.join(members)}), 1).reshape(B, {M} * O, "
                      f"{self.flat(self.plan.group_sorts(g))})")
        self.line(f"w{i} = {self.group_weights(g)}")
        if not self.plan.group_sorts(g):     # one entry per channel: whole-batch matmuls, no batched ones
            self.scalar_mix = True
            self.line(f"gw{i} = _rt__outer0(gg{i}, f{i})")
            self.line(f"gf{i} = _rt__mix0(w{i}.t(), gg{i})")
            return
        self.line(f"gw{i} = torch.matmul(gg{i}, f{i}.transpose(1, 2)).sum(0)")
        self.line(f"gf{i} = torch.matmul(w{i}.t(), gg{i})")

    def weight_gradients(self) -> None:
        """``gweight<b>``: each run's columns of its group's ``gw``, back to block b's row order."""
        p = self.plan
        self.line("# weight and bias gradients: accumulator gradients against the saved features")
        pieces: dict[int, list[tuple[int, str]]] = {b: [] for b in range(len(p.blocks))}
        for j, sec in enumerate(p.sections):
            for g in sec.groups:
                self.run_gradients(g, f"O{j}", pieces)
        for b, parts in pieces.items():
            rows = [expr for _, expr in sorted(parts)]
            gathered = rows[0] if len(rows) == 1 else f"torch.cat(({', '.join(rows)}), 0)"
            signs = list(p.signs(b))
            if any(s != 1 for s in signs):
                gathered = f"{gathered} * {self.sign_vector(signs, f'weights[{b}]')}"
            order = list(p.gather[b])
            if order != list(range(len(order))):
                inverse = [0] * len(order)
                for row, index in enumerate(order):
                    inverse[index] = row
                gathered = f"({gathered})[{self.indices(inverse, f'inverse{b}')}]"
            self.line(f"gweight{b} = {gathered}")

    def run_gradients(self, g: MixGroup, O: str, pieces: dict[int, list[tuple[int, str]]]) -> None:
        """Each run's rows of the group's weight gradient ``gw``, as (start in its block, expression)."""
        i, M = g.name[1:], len(g.members)
        for run, cols in zip(g.runs, self.run_columns(g)):
            I = f"I{run.input}"
            part = f"gw{i}" if len(g.runs) == 1 else f"gw{i}[:, {cols}]"
            if M == 1:
                rows = f"{part}.reshape({O}, {run.count}, {I}).transpose(0, 1)"
            else:
                rows = f"{part}.reshape({M}, {O}, {run.count}, {I}).permute(0, 2, 1, 3).reshape({M * run.count}, {O}, {I})"
            pieces[run.block].append((run.start, rows))

    def run_columns(self, g: MixGroup) -> list[str]:
        """The column slice of each run in the group's (M·O, Σ P_r·I_r) weight matrix."""
        out, start = [], "0"
        for run in g.runs:
            stop = f"{start} + {run.count} * I{run.input}" if start != "0" else f"{run.count} * I{run.input}"
            out.append(f"{start}:{stop}")
            start = stop
        return out

    def bias_gradients(self) -> None:
        for j, sec in enumerate(self.plan.sections):
            biased = sorted((b, m.name) for m in sec.mixes for b in m.bias)
            if biased:
                parts = [f"g{m}.reshape(-1, grads[{j}].shape[1]).sum(0)" for _, m in biased]
                self.line(f"gbias{j} = torch.stack(({', '.join(parts)},))")
            else:
                self.line(f"gbias{j} = None")

    def input_gradients(self) -> None:
        """``gx<i>``: the features' gradients through the cores (transposed), into each input."""
        p = self.plan
        contributions = self.feature_gradients()
        at = 0
        for i, x in enumerate(p.inputs):
            needs = f"needs[{at}] or needs[{at + 1}]" if x.factors else f"needs[{at}]"
            at += 2 if x.factors else 1
            names = f"gx{i}a, gx{i}b" if x.factors else f"gx{i}"
            self.line(f"{names} = {'None, None' if x.factors else 'None'}")
            cores = [c for c in p.input_cores(i) if contributions[c.name]]
            if not cores:
                continue
            self.line(f"if {needs}:  # input {i}: the cores, transposed")
            self.indent += 1
            self.cores_gradient(i, cores, contributions)
            self.indent -= 1

    def cores_gradient(self, i: int, cores: list[CoreStep], contributions: dict[str, list[Part]]) -> None:
        into_x: list[tuple[CoreStep, str]] = []
        groups = self.power_groups(self.plan.input_cores(i))
        grouped = {m.name for members in groups.values() for m in members}
        held: dict[str, tuple[str, str]] = {}
        for c in reversed(self.plan.input_cores(i)):
            if contributions[c.name]:
                grad = f"g{c.name}"
                self.accumulate(grad, contributions[c.name], c.sorts, i)
                scaled = f"({grad}{self.scale_suffix(c)})" if self.scale_suffix(c) else grad
                if c.name in grouped:
                    held[c.name] = (grad, scaled)
                else:
                    self.chain_gradient(i, c, grad, scaled, contributions, into_x)
            if c.name in groups:    # a group's first step: every member's gradient is complete
                members = groups[c.name]
                if all(m.name in held for m in members):
                    stack = self.power_stack(members)
                    stacked = stack.gradient([held[m.name][1] for m in members])
                    self.chain_gradient(i, stack.step(), stacked, stacked, contributions, into_x)
                else:
                    for m in members:
                        if m.name in held:
                            self.chain_gradient(i, m, *held[m.name], contributions, into_x)
        if self.plan.inputs[i].factors:
            self.product_gradient(i, into_x)
        else:
            self.x_gradient(i, into_x)

    def chain_gradient(self, i: int, c: CoreStep, grad: str, scaled: str, contributions: dict[str, list[Part]],
                       into_x: list[tuple[CoreStep, str]]) -> None:
        """Core ``c``'s gradient (``grad``, ``scaled`` by its normalisation) into its source's contributions,
        or into ``into_x`` when it reads input i."""
        if c.source == f"x{i}":
            into_x.append((c, grad if self.plan.inputs[i].factors else scaled))
        elif c.constants:  # a chain step with constants (Aut(G)): source_labels name the parent's axes
            labels = list(c.source_labels)
            const_labels = {lab for _, labs in c.constants for lab in labs}
            have = [lab for lab in labels if lab in c.labels or lab in const_labels]
            consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
            names = "".join(f", {kind}" for kind, _ in c.constants)
            value = self.contract(f"bc{letters(c.labels)}{consts}->bc{letters(have)}", f"{scaled}{names}")
            contributions[c.source].append((self.broadcast(value, have, labels), have == labels, None))
        else:
            parent = self.plan.core(c.source)
            block = short_block(c.labels, parent.labels, self.sizes(parent.sorts))
            contributions[parent.name].append((self.broadcast(scaled, c.labels, parent.labels),
                                               len(c.labels) == len(parent.labels), block))

    def feature_gradients(self) -> dict[str, list[Part]]:
        """Each core's gradient contributions from the groups' ``gf`` (full size: True)."""
        contributions: dict[str, list[Part]] = {c.name: [] for c in self.plan.cores}
        for g in self.plan.groups:
            i, sorts, start = g.name[1:], self.plan.group_sorts(g), 0
            for run, cols in zip(g.runs, self.run_columns(g)):
                part = f"gf{i}" if len(g.runs) == 1 else f"gf{i}[:, {cols}]"
                P = run.count
                lead = f"B, {P}, I{run.input}" if P > 1 else f"B, I{run.input}"
                self.line(f"gf{i}_{run.input} = {part}.reshape({', '.join([lead] + [self.size(s) for s in sorts])})")
                for q, (core, perm) in enumerate(g.features[start:start + P]):
                    expr = f"gf{i}_{run.input}[:, {q}]" if P > 1 else f"gf{i}_{run.input}"
                    if list(perm) != sorted(perm):
                        expr = self.permute(expr, [perm.index(j) for j in range(len(perm))])
                    contributions[core].append((expr, True, None))
                start += P
        return contributions

    def x_gradient(self, i: int, into_x: list[tuple[CoreStep, str]]) -> None:
        """``gx<i>``: the gradients of the cores read from input i, written back through their diagonals."""
        first = next((cs for cs in into_x if cs[0].labels == cs[0].source_labels and not cs[0].constants
                      and not cs[0].scale), None)
        sorts = self.plan.inputs[i].axis_sorts
        self.line(f"gx{i} = {first[1]}" if first else f"gx{i} = grad.new_zeros(({self.shape_expr('B', f'I{i}', sorts)}))")
        chains = [c for c, _ in into_x if self.batchable(c)    # every source axis kept or met by a constant
                  and set(c.source_labels) <= set(c.labels).union(*(labs for _, labs in c.constants))]
        batches = {c.name: (equation, batch) for equation, batch in same_contraction(chains) for c, _ in batch}
        exprs = {c.name: expr for c, expr in into_x}
        for c, expr in into_x:
            if first is not None and c is first[0]:
                continue
            if c.name in batches:
                if batches[c.name][1][0][0] is c:
                    self.batched_gradient(i, *batches[c.name], exprs)
                continue
            labels = list(dict.fromkeys(c.source_labels))
            value, have = expr, list(c.labels)
            if c.constants:
                const_labels = [lab for _, labs in c.constants for lab in labs]
                have = [lab for lab in labels if lab in c.labels or lab in const_labels]
                consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
                names = "".join(f", {kind}" for kind, _ in c.constants)
                value = self.contract(f"bc{letters(c.labels)}{consts}->bc{letters(have)}", f"{expr}{names}")
            value = self.broadcast(value, have, labels)
            blocks = diagonal_blocks(c.source_labels)
            target = f"gx{i}" if len(labels) == len(c.source_labels) else f"_rt__diagonal(gx{i}, {blocks})"
            self.line(f"{target}.add_({value})")

    def batched_gradient(self, i: int, equation: str, batch: list[tuple[CoreStep, tuple[int, ...]]],
                         exprs: dict[str, str]) -> None:
        """The gradients of cores computed as one batch (:meth:`cores_forward`) into ``gx<i>``: the
        stacked core gradients through the transposed chain once, each slice permuted back."""
        terms, out = equation.split("->")
        source, *consts = terms.split(",")
        names = "".join(f", {kind}" for kind, _ in batch[0][0].constants)
        stacked = f"torch.stack(({', '.join(exprs[c.name] for c, _ in batch)}), 0).flatten(0, 1)"
        name, transposed = f"gs_{batch[0][0].name}", ",".join([out, *consts]) + "->" + source
        self.line(f"{name} = {self.contract(transposed, stacked + names)}.unflatten(0, ({len(batch)}, B))")
        for m, (c, axes) in enumerate(batch):
            back = [axes.index(a) for a in range(len(axes))]
            value = self.permute(f"{name}[{m}]", back) if back != sorted(back) else f"{name}[{m}]"
            self.line(f"{self.view_of(f'gx{i}', c)}.add_({value})")

    def product_gradient(self, i: int, into_x: list[tuple[CoreStep, str]]) -> None:
        """A bilinear input's factors: its cores are einsums of both, differentiated locally (``torch.func.vjp``)."""
        cores = ", ".join(self.core_expr(c) for c, _ in into_x)
        grads = ", ".join(g for _, g in into_x)
        self.line(f"gx{i}a, gx{i}b = torch.func.vjp(lambda x{i}a, x{i}b: ({cores},), x{i}a, x{i}b)[1](({grads},))")

    def accumulate(self, name: str, parts: list[Part], sorts: Sequence[int],
                   i: int) -> None:
        """``name = Σ parts`` (in place after the first full-size part; a part with a short block
        broadcast, :func:`short_block`, added by ``_rt__tile_add``)."""
        parts = sorted(parts, key=lambda part: not part[1])
        if parts[0][1]:
            self.line(f"{name} = {parts[0][0]}")
            rest = parts[1:]
        else:
            self.line(f"{name} = grad.new_zeros(({self.shape_expr('B', f'I{i}', sorts)}))")
            rest = parts
        for expr, _, block in rest:
            if block is None:
                self.line(f"{name} += {expr}")
            else:
                self.tile_adds = True
                self.line(f"_rt__tile_add({name}, {expr}, {block[0]}, {block[1]})")

    # -- spelling the forward steps -----------------------------------------------------------
    constant_helper = CONSTANT_HELPER

    def backend_helpers(self) -> tuple[str, ...]:
        diagonal = self.uses_diagonal() or any(x.factors for x in self.plan.inputs)
        writes = any(not self.plan.view(w.view).is_whole for w in self.plan.writes)
        return (((DIAGONAL_HELPER,) if diagonal else ()) + ((DIAGONAL_ADD_HELPER,) if writes else ())
                + (CONTRACT_HELPER,) * self.many_operands + (TILE_ADD_HELPER,) * self.tile_adds
                + (PLAIN_HELPER,) * bool(self.direct_rows) + (SCALAR_MIX_HELPER,) * self.scalar_mix + (AUTOGRAD_HELPER, VMAP_HELPER, STEPS_GRADIENT_HELPER))

    def sign_vector(self, signs: list[int], like: str) -> str:
        return f"{like}.new_tensor({signs}).view(-1, 1, 1)"

    def cores_forward(self, cores: Sequence[CoreStep]) -> None:
        """Chain cores (three or more operands, a path of pairwise einsums) that are one contraction of
        their source with its axes permuted run as one: the permuted sources stacked along the batch
        (A_n's jellyfish and SO(n)'s ε heads: the same Levi-Civita chain on each choice of legs), so
        the path's steps are dispatched once for all of them."""
        batches = {batch[0][0].name: (equation, batch)
                   for equation, batch in same_contraction([c for c in cores if self.batchable(c)])}
        groups = self.power_groups(cores)
        done: set[str] = {m.name for members in groups.values() for m in members}
        stacks: dict[str, str] = {}
        for c in cores:
            if c.name in groups:
                self.power_group(groups[c.name])
            elif c.name in batches:
                equation, batch = batches[c.name]
                done.update(m.name for m, _ in batch)
                self.batched_cores(equation, batch, stacks)
            elif c.name not in done:
                self.line(f"{c.name} = {self.core_expr(c)}")

    def power_groups(self, cores: Sequence[CoreStep]) -> dict[str, list[CoreStep]]:
        """One input's steps that differ only in their matrix, by first step (:func:`.emit_powers.power_groups`);
        resets the stacked matrices made so far (each function, each input's block, makes its own)."""
        self.power_matrices: dict[str, str] = {}
        x = self.plan.inputs[cores[0].input] if cores else None
        plain = [c for c in cores if not (x is not None and x.factors and c.source == f"x{c.input}")]
        return power_groups(plain, lambda c: self.reduction(replace(c, constants=(("K", c.constants[0][1]),))),
                            self.scale_suffix)

    def power_stack(self, members: Sequence[CoreStep]) -> PowerStack:
        """The group's :class:`.emit_powers.PowerStack`, its stacked matrix assigned on first use."""
        stack = PowerStack(members)
        matrices = stack.matrices()
        if matrices not in self.power_matrices:
            self.power_matrices[matrices] = f"k_{members[0].name}"
            self.line(f"{self.power_matrices[matrices]} = {matrices}  # {', '.join(stack.kinds)} side by side")
        return PowerStack(members, self.power_matrices[matrices])

    def power_group(self, members: Sequence[CoreStep]) -> None:
        """``c_a, c_b, ... = one matmul by the group's matrices side by side`` (:mod:`.emit_powers`)."""
        stack = self.power_stack(members)
        name = f"p_{members[0].name}"
        self.line(f"{name} = {stack.forward(self.reduction(stack.step()))}{self.scale_suffix(members[0])}")
        self.line(f"{', '.join(m.name for m in members)} = {', '.join(f'{name}[..., {p}]' for p in range(len(members)))}")

    def batchable(self, c: CoreStep) -> bool:
        """A chain core read from a plain tensor (or a diagonal view of it), without a per-sample scale."""
        x = self.plan.inputs[c.input]
        return len(c.constants) > 1 and not self.scale_suffix(c) and not (c.source == f"x{c.input}" and x.factors)

    @staticmethod
    def view_of(tensor: str, c: CoreStep) -> str:
        """``tensor`` (axes ``c.source_labels``), or its diagonal view when a label repeats."""
        if len(set(c.source_labels)) == len(c.source_labels):
            return tensor
        return f"_rt__diagonal({tensor}, {diagonal_blocks(c.source_labels)})"

    def batched_cores(self, equation: str, batch: list[tuple[CoreStep, tuple[int, ...]]], stacks: dict[str, str]
                      ) -> None:
        """``c_a, c_b, ... = one contraction of the stacked permuted sources`` (see :meth:`cores_forward`);
        ``stacks``: the stacks made so far (``s<i>``, by expression), shared by later batches."""
        sources = ", ".join(self.permute(self.view_of(c.source, c), axes) if list(axes) != sorted(axes)
                            else self.view_of(c.source, c) for c, axes in batch)
        stacked = f"torch.stack(({sources}), 0).flatten(0, 1)"
        if stacked not in stacks:
            stacks[stacked] = f"s{len(stacks)}_{batch[0][0].name}"
            self.line(f"{stacks[stacked]} = {stacked}")
        names = "".join(f", {kind}" for kind, _ in batch[0][0].constants)
        expr = self.contract(equation, f"{stacks[stacked]}{names}")
        self.line(f"{', '.join(c.name for c, _ in batch)} = {expr}.unflatten(0, ({len(batch)}, B)).unbind(0)"
                  f"  # {len(batch)} cores: one chain on the stacked permuted sources")

    def fold(self, f: FoldStep) -> None:
        sizes = self.sizes(self.plan.acc_sorts(f.target, f.target_labels))
        block = short_block(f.source_labels, f.target_labels, sizes)
        if block is None:
            super().fold(f)
            return
        self.tile_adds = True
        value = self.broadcast(f.source, f.source_labels, f.target_labels)
        self.line(f"_rt__tile_add({f.target}, {value}, {block[0]}, {block[1]})"
                  f"  # bo{letters(f.source_labels)}->bo{letters(f.target_labels)}")

    def sizes(self, sorts: Sequence[int]) -> list[int | None]:
        """The fixed size of each of these sorts (None where the size is free)."""
        return [self.plan.sorts[s].size if s < len(self.plan.sorts) else None for s in sorts]

    def write(self, w: WriteStep) -> None:
        view = self.plan.view(w.view)
        block = None if w.first or view.constants or not view.is_whole else \
            short_block(w.labels, view.labels, self.sizes([view.sort(lab) for lab in view.labels]))
        if block is None:
            super().write(w)
            return
        self.tile_adds = True
        self.line(f"_rt__tile_add(out, {self.broadcast(w.acc, w.labels, view.labels)}, {block[0]}, {block[1]})"
                  f"  # out[bo{letters(view.output)}] += {w.acc}[bo{letters(w.labels)}]")

    def contract(self, equation: str, operands: str) -> str:
        """A contraction spelled by :func:`.contract_torch.spell` (matmul, a product, einsum by pairs)."""
        parts = split_operands(operands)
        self.many_operands = self.many_operands or len(parts) > 2
        return spell(equation, parts)

    def index_array(self, values: str) -> str:
        return f"torch.tensor({values})"

    def stack(self, parts: list[str]) -> str:
        return f"torch.stack(({', '.join(parts)}), 1)"

    def reduction(self, c: CoreStep) -> str:
        eq = f"bc{letters(c.source_labels)}{''.join(f',{letters(labs)}' for _, labs in c.constants)}->bc{letters(c.labels)}"
        if c.constants:
            return self.contract(eq, f"{c.source}{''.join(f', {kind}' for kind, _ in c.constants)}")
        labels = list(dict.fromkeys(c.source_labels))
        expr = c.source
        if len(labels) < len(c.source_labels):
            expr = f"_rt__diagonal({c.source}, {diagonal_blocks(c.source_labels)})"
        return self.reduce(expr, labels, c.labels)

    def group(self, g: MixGroup) -> None:
        P, M, d = len(g.features), len(g.members), g.dims
        feats = self.features(g)
        acc = letters(range(d))
        i = g.name[1:]
        self.line(f"# {g.name}: {M} output pattern{'s' if M > 1 else ''} x {P} feature{'s' if P > 1 else ''}"
                  f" (bpc{acc},mpoc->bmo{acc})")
        self.line(f"w{i} = {self.group_weights(g)}")
        self.line(f"f{i} = {feats[0] if len(feats) == 1 else 'torch.cat((' + ', '.join(feats) + '), 1)'}")
        sorts = self.plan.group_sorts(g)
        shape = self.shape_expr("B", "O", sorts) if M == 1 else self.shape_expr("B", f"{M}, O", sorts)
        target = g.members[0] if M == 1 else g.name
        self.scalar_mix |= not sorts
        product = f"_rt__mix0(w{i}, f{i})" if not sorts else f"torch.matmul(w{i}, f{i})"
        self.line(f"{target} = {product}.view({shape})")
        if M > 1:
            self.line(f"{', '.join(g.members)} = {', '.join(f'{g.name}[:, {i}]' for i in range(M))}")

    def gathered_block(self, source: str, b: int, rows: Sequence[int]) -> str:
        """The weights themselves when every run of block b reads a range of rows in their own order
        with sign +1 (no gather per call; :meth:`group_weights` then slices at the rows' own places).
        Without grad mode they are detached (:data:`PLAIN_HELPER`)."""
        runs = [(run.start, run.count * len(g.members)) for g in self.plan.groups for run in g.runs if run.block == b]
        if any(s != 1 for s in self.plan.signs(b)) or any(
                list(rows[start:start + size]) != list(range(rows[start], rows[start] + size)) for start, size in runs):
            return super().gathered_block(source, b, rows)
        self.direct_rows[b] = tuple(rows)
        return f"_rt__plain({source}[{b}])"

    def group_weights(self, g: MixGroup) -> str:
        """The (M·O, Σ P_r·I_r) matrix of a group's stacked Λ's, from the gathered weights ``wb<b>``."""
        M = len(g.members)
        pieces = []
        for run in g.runs:
            P, I = run.count, f"I{run.input}"
            start = self.direct_rows[run.block][run.start] if run.block in self.direct_rows else run.start
            rows = f"wb{run.block}[{start}:{start + P * M}]"
            if len(g.runs) == 1:
                if M == 1 and P == 1:
                    return f"wb{run.block}[{start}]"
                if M == 1:
                    return f"{rows}.transpose(0, 1).reshape(O, {P} * {I})"
                return f"{rows}.view({M}, {P}, O, {I}).permute(0, 2, 1, 3).reshape({M} * O, {P} * {I})"
            pieces.append(f"{rows}.view({M}, {P}, O, {I}).permute(0, 2, 1, 3).reshape({M}, O, {P} * {I})")
        return f"torch.cat(({', '.join(pieces)}), 2).reshape({M} * O, -1)"

    def add_into(self, view: View, value: str, comment: str) -> None:
        if view.is_whole:
            self.line(f"out.add_({value}){comment}")
        else:
            self.line(f"_rt__diagonal_add(out, {view.blocks()}, {value}){comment}")

    def zeros(self, shape: str) -> str:
        return f"x.new_zeros(({shape}))"

    def permute(self, expr: str, perm: Sequence[int], lead: int = 2) -> str:
        return permuted(expr, perm, lead)


def split_operands(operands: str) -> list[str]:
    """The comma-separated expressions of ``operands`` (commas inside brackets do not split).

    >>> split_operands("_rt__diagonal(x0, ((0, 1),)), A")
    ['_rt__diagonal(x0, ((0, 1),))', 'A']
    """
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(operands):
        depth += (ch in "([{") - (ch in ")]}")
        if ch == "," and depth == 0:
            parts.append(operands[start:i].strip())
            start = i + 1
    return parts + [operands[start:].strip()]
