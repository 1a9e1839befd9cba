"""The torch emitter: a plan as one plain torch function (and its readable source).

>>> import catnn
>>> from catnn.compiler.plan import build_plan
>>> G = catnn.group("S")
>>> fn = emit(build_plan(G, 1, 1, G.spanning_set(1, 1)), "layer")
>>> print("\\n".join(fn.source.splitlines()[:23]))
def layer__forward(x, weight, bias=None, n=None, save=False):
    \"\"\"The forward steps of layer (in place, no autograd): (out, saved features).\"\"\"
    B, I, n = x.shape[0], x.shape[1], x.shape[-1]
    O = weight.shape[1]
    w = weight[[1, 0]]  # the Λ's of each mix group together
    # cores: one per distinct bottom half (diagonals are views, sums are done once)
    c0 = x  # bci->bci
    c1 = c0.sum(2)  # bci->bc
    # channel mixing on the cores: one matmul per group of output patterns
    # g0: 1 output pattern x 1 feature (bpc,mpoc->bmo)
    w0 = w[0:1].transpose(0, 1).reshape(O, 1 * I)
    f0 = c1.reshape(B, I, -1)
    a0 = torch.matmul(w0, f0).view(B, O)
    # g1: 1 output pattern x 1 feature (bpci,mpoc->bmoi)
    w1 = w[1:2].transpose(0, 1).reshape(O, 1 * I)
    f1 = c0.reshape(B, I, -1)
    a1 = torch.matmul(w1, f1).view(B, O, n)
    # low-dimensional accumulation: small accumulators into larger ones
    a1 += a0[:, :, None]  # bo->boi
    # the output buffer: built by the first write, or zeroed once
    out = a1
    return out, ((f0, f1) if save else ())
<BLANKLINE>

Four definitions per plan: ``NAME__forward`` (the steps, in place, no autograd graph),
``NAME__backward`` (the plan transposed: accumulator gradients by diagonal views and sums, weight
gradients against the saved features, the input gradient by the transposed mixes and cores),
``NAME__Function`` (the ``torch.autograd.Function`` joining them; under ``create_graph=True`` it
differentiates the plain steps instead, so higher derivatives work) and ``NAME`` itself, which
takes the Function when a gradient is needed and the bare forward otherwise.

Native ops only: diagonals of the input are strided views (``_diagonal``, ``as_strided``), sums are
``Tensor.sum``, permutations are ``permute``/``transpose`` views, channel mixing is ``torch.matmul``
on stacked features, broadcasts are ``None``-indexing, output diagonals are ``as_strided`` views
of the single output buffer updated in place. Steps with constants (other groups' J or ε) use
``torch.einsum``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from functools import lru_cache

from .codegen import Emitted, SourceEmitter, docstring, with_constants
from .plan import CoreStep, MixGroup, Plan, WriteStep, diagonal_blocks, letters

__all__ = ["emit", "TorchEmitter", "diagonal_view", "DIAGONAL_HELPER", "CONSTANT_HELPER"]

def diagonal_view(t, blocks):
    """The view of t with one trailing axis per block of its trailing axes; a block of several
    axes is their common diagonal: _diagonal(t, ((0, 1), (2,)))[b, c, i, j] is t[b, c, i, i, j]."""
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
DIAGONAL_HELPER = inspect.getsource(diagonal_view).replace("def diagonal_view(", "def _diagonal(", 1)

CONSTANT_HELPER = '''_CONSTANTS = {}


def _constant(kind, n, like):
    """The constant tensor `kind` at size n, with like's dtype and device (built once, cached)."""
    key = (kind, n, like.dtype, like.device)
    if key not in _CONSTANTS:
        _CONSTANTS[key] = torch.tensor(globals()["_const_" + kind](n), dtype=like.dtype, device=like.device)
    return _CONSTANTS[key]
'''


class TorchEmitter(SourceEmitter):
    """Spells each plan step with native torch ops."""

    imports = ("import torch",)
    reshape = "view"

    # -- the four definitions: forward steps, backward steps, autograd Function, entry point ----
    def source(self) -> str:
        p, name = self.plan, self.name
        n_default = "None" if p.n is None else str(int(p.n))
        features = [f"f{g.name[1:]}" for g in p.groups]
        saved = "(" + ", ".join(features) + ("," if len(features) == 1 else "") + ")"
        self.lines = [f"def {name}__forward(x, weight, bias=None, n=None, save=False):",
                      f'    """The forward steps of {name} (in place, no autograd): (out, saved features)."""']
        self.forward_body()
        self.line(f"return out, ({saved} if save else ())")
        forward = "\n".join(self.lines)
        self.lines = [f"def {name}__backward(grad, weight, features, need_x, n):",
                      f'    """The backward steps of {name}, the plan transposed: (grad x, grad weight, '
                      'grad bias)."""']
        self.backward_body()
        backward = "\n".join(self.lines)
        signature = "x, weight, bias=None" if p.k else f"x, weight, bias=None, n={n_default}"
        n_arg = "n" if not p.k else "None"
        entry = "\n".join([
            f"def {name}({signature}):",
            "    " + docstring(self.doc, "    "),
            "    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad",
            "                                    or (bias is not None and bias.requires_grad)):",
            f"        return {name}__Function.apply(x, weight, bias, {n_arg})",
            f"    return {name}__forward(x, weight, bias, {n_arg})[0]",
        ])
        return "\n\n\n".join([forward, backward, self.function_class(), entry]) + "\n"

    def function_class(self) -> str:
        name = self.name
        n_value = "n" if not self.plan.k else "x.shape[-1]"
        return f'''class {name}__Function(torch.autograd.Function):
    """Autograd for {name}: the backward runs the transposed plan, not a graph of the in-place steps."""

    @staticmethod
    def forward(ctx, x, weight, bias, n):
        out, features = {name}__forward(x, weight, bias, n, True)
        ctx.save_for_backward(x, weight, bias, *features)
        ctx.n = {n_value}
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight, bias, *features = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: differentiate the plain steps instead
            inputs = (x, weight, bias)
            wanted = [t for t in inputs if t is not None and t.requires_grad]
            out = {name}__forward(x, weight, bias, ctx.n)[0]
            grads = iter(torch.autograd.grad(out, wanted, grad, create_graph=True, allow_unused=True))
            return tuple(next(grads) if t is not None and t.requires_grad else None for t in inputs) + (None,)
        gx, gweight, gbias = {name}__backward(grad, weight, features, ctx.needs_input_grad[0], ctx.n)
        return gx, gweight, gbias, None'''

    def backward_body(self) -> None:
        p = self.plan
        self.line("B, O, I = grad.shape[0], grad.shape[1], weight.shape[2]")
        for kind in p.constants:
            self.line(f"{kind} = _constant({kind!r}, n, grad)")
        if p.groups:
            names = [f"f{g.name[1:]}" for g in p.groups]
            self.line(f"{', '.join(names)}{',' if len(names) == 1 else ''} = features")
            self.weights()
            for g in p.groups:
                self.line(f"w{g.name[1:]} = {self.group_weights(g)}")
        self.line("# accumulator gradients: the writes and folds, transposed")
        for w in p.writes:
            self.line(f"g{w.acc} = {self.transposed_write(w)}")
        for f in reversed(p.folds):
            self.line(f"g{f.source} = {self.reduce(f'g{f.target}', f.target_labels, f.source_labels)}")
        self.weight_gradients()
        if not p.groups:
            self.line("return None, gweight, gbias")
            return
        self.line("if not need_x:")
        self.line("    return None, gweight, gbias")
        self.input_gradient()
        self.line("return gx, gweight, gbias")

    def transposed_write(self, w: WriteStep) -> str:
        view = self.plan.view(w.view)
        if w.first:
            return "grad"
        expr = "grad" if view.is_whole else f"_diagonal(grad, {view.blocks()})"
        const_labels = {lab for _, labs in view.constants for lab in labs}
        keep = [lab for lab in view.labels if lab in w.labels or lab in const_labels]
        expr = self.reduce(expr, view.labels, keep)
        if view.constants:
            consts = "".join(f",{letters(labs)}" for _, labs in view.constants)
            names = "".join(f", {kind}" for kind, _ in view.constants)
            return f"torch.einsum('bo{letters(keep)}{consts}->bo{letters(w.labels)}', {expr}{names})"
        return self.reduce(expr, keep, w.labels)

    def reduce(self, expr: str, labels: Sequence[int], keep: Sequence[int]) -> str:
        """``expr`` (axes ``labels`` after batch and channel) summed to the axes ``keep``, in that order."""
        summed = [i for i, lab in enumerate(labels) if lab not in keep]
        if summed:
            dims = ", ".join(str(2 + i) for i in summed)
            expr = f"{expr}.sum({dims if len(summed) == 1 else '(' + dims + ')'})"
        rest = [lab for lab in labels if lab in keep]
        if rest != list(keep):
            expr = self.permute(expr, [rest.index(lab) for lab in keep])
        return expr

    def weight_gradients(self) -> None:
        p = self.plan
        self.line("# weight and bias gradients: accumulator gradients against the saved features")
        pieces = []
        for g in p.groups:
            i, P, M = g.name[1:], len(g.features), len(g.members)
            members = [f"g{m}" for m in g.members]
            if M == 1:
                self.line(f"gg{i} = {members[0]}.reshape(B, O, -1)")
                rows = f"gw{i}.view(O, {P}, I).transpose(0, 1)"
            else:
                self.line(f"gg{i} = torch.stack(({', '.join(members)}), 1).reshape(B, {M} * O, -1)")
                rows = f"gw{i}.view({M}, O, {P}, I).permute(0, 2, 1, 3).reshape({M * P}, O, I)"
            self.line(f"gw{i} = torch.matmul(gg{i}, f{i}.transpose(1, 2)).sum(0)")
            pieces.append(rows)
        if not pieces:
            self.line("gweight = weight.new_zeros(weight.shape)")
        else:
            gathered = pieces[0] if len(pieces) == 1 else f"torch.cat(({', '.join(pieces)}), 0)"
            signs = list(p.signs)
            if any(s != 1 for s in signs):
                gathered = f"{gathered} * {self.sign_vector(signs)}"
            order = list(p.order)
            if order != list(range(len(order))):
                inverse = [0] * len(order)
                for row, index in enumerate(order):
                    inverse[index] = row
                gathered = f"({gathered})[{self.indices(inverse, 'inverse')}]"
            self.line(f"gweight = {gathered}")
        biased = sorted(((j, m) for m in p.mixes for j in m.bias))
        if biased:
            parts = [f"g{m.name}.reshape(-1, O).sum(0)" for _, m in biased]
            self.line(f"gbias = torch.stack(({', '.join(parts)},))")
        else:
            self.line("gbias = None")

    def input_gradient(self) -> None:
        self.line("# input gradient: the mixes and the cores, transposed")
        contributions = self.feature_gradients()
        into_x: list[tuple[CoreStep, str]] = []
        for c in reversed(self.plan.cores):
            if not contributions[c.name]:
                continue
            grad = f"g{c.name}"
            self.accumulate(grad, contributions[c.name], len(c.labels))
            scaled = f"({grad}{self.scale_suffix(c)})" if self.scale_suffix(c) else grad
            if c.source == "x":
                into_x.append((c, scaled))
            elif c.constants:  # a chain step with constants (Aut(G)): source_labels name the parent's axes
                labels = list(c.source_labels)
                const_labels = {lab for _, labs in c.constants for lab in labs}
                have = [lab for lab in labels if lab in c.labels or lab in const_labels]
                consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
                names = "".join(f", {kind}" for kind, _ in c.constants)
                value = f"torch.einsum('bc{letters(c.labels)}{consts}->bc{letters(have)}', {scaled}{names})"
                contributions[c.source].append((self.broadcast(value, have, labels), have == labels))
            else:
                parent = self.plan.core(c.source)
                contributions[parent.name].append((self.broadcast(scaled, c.labels, parent.labels),
                                                   len(c.labels) == len(parent.labels)))
        self.x_gradient(into_x)

    def feature_gradients(self) -> dict[str, list[tuple[str, bool]]]:
        """``gf = W^T gg`` per group; returns each core's gradient contributions (full size: True)."""
        contributions: dict[str, list[tuple[str, bool]]] = {c.name: [] for c in self.plan.cores}
        for g in self.plan.groups:
            i, P, d = g.name[1:], len(g.features), g.dims
            lead = f"B, {P}, I" if P > 1 else "B, I"
            self.line(f"gf{i} = torch.matmul(w{i}.t(), gg{i}).view({', '.join([lead] + ['n'] * d)})")
            for q, (core, perm) in enumerate(g.features):
                expr = f"gf{i}[:, {q}]" if P > 1 else f"gf{i}"
                if list(perm) != sorted(perm):
                    expr = self.permute(expr, [perm.index(j) for j in range(len(perm))])
                contributions[core].append((expr, True))
        return contributions

    def x_gradient(self, into_x: list[tuple[CoreStep, str]]) -> None:
        """``gx``: the gradients of the cores read from x, written back through their diagonals."""
        first = next((cs for cs in into_x if cs[0].labels == cs[0].source_labels and not cs[0].constants
                      and not cs[0].scale), None)
        self.line(f"gx = {first[1]}" if first else f"gx = grad.new_zeros(({self.shape_expr('B', 'I', self.plan.k)}))")
        for c, expr in into_x:
            if first is not None and c is first[0]:
                continue
            labels = list(dict.fromkeys(c.source_labels))
            value, have = expr, list(c.labels)
            if c.constants:
                const_labels = [lab for _, labs in c.constants for lab in labs]
                have = [lab for lab in labels if lab in c.labels or lab in const_labels]
                consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
                names = "".join(f", {kind}" for kind, _ in c.constants)
                value = f"torch.einsum('bc{letters(c.labels)}{consts}->bc{letters(have)}', {expr}{names})"
            value = self.broadcast(value, have, labels)
            blocks = diagonal_blocks(c.source_labels)
            target = "gx" if len(labels) == len(c.source_labels) else f"_diagonal(gx, {blocks})"
            self.line(f"{target}.add_({value})")

    def accumulate(self, name: str, parts: list[tuple[str, bool]], dims: int) -> None:
        """``name = Σ parts`` (in place after the first full-size part)."""
        parts = sorted(parts, key=lambda part: not part[1])
        if parts[0][1]:
            self.line(f"{name} = {parts[0][0]}")
            rest = parts[1:]
        else:
            self.line(f"{name} = grad.new_zeros(({self.shape_expr('B', 'I', dims)}))")
            rest = parts
        for expr, _ in rest:
            self.line(f"{name} += {expr}")

    def helper_sources(self) -> tuple[str, ...]:
        helpers = (DIAGONAL_HELPER,) if self._uses_diagonal() else ()
        if self.plan.constants:
            helpers += (CONSTANT_HELPER,)
        self.helpers = helpers
        return super().helper_sources()

    def _uses_diagonal(self) -> bool:
        p = self.plan
        cores = any(len(set(c.source_labels)) < len(c.source_labels) for c in p.cores)
        return cores or any(not p.view(w.view).is_whole for w in p.writes)

    def sign_vector(self, signs: list[int]) -> str:
        return f"weight.new_tensor({signs}).view(-1, 1, 1)"

    def index_array(self, values: str) -> str:
        return f"torch.tensor({values})"

    def core(self, c: CoreStep) -> None:
        src = c.source
        eq = self.einsum_equation(c)
        if c.constants:
            consts = ", ".join(kind for kind, _ in c.constants)
            self.line(f"{c.name} = torch.einsum({eq!r}, {src}, {consts}){self.scale_suffix(c)}")
            return
        labels = list(dict.fromkeys(c.source_labels))
        expr = src
        if len(labels) < len(c.source_labels):
            expr = f"_diagonal({src}, {diagonal_blocks(c.source_labels)})"
        expr = self.reduce(expr, labels, c.labels)
        self.line(f"{c.name} = {expr}{self.scale_suffix(c)}  # {eq}")

    def group(self, g: MixGroup) -> None:
        P, M, d = len(g.features), len(g.members), g.dims
        feats = [self.permute(core, perm) if list(perm) != sorted(perm) else core for core, perm in g.features]
        if P == 1:
            stacked = f"{feats[0]}.reshape(B, I, -1)"
        else:
            stacked = f"torch.stack(({', '.join(feats)}), 1).reshape(B, {P} * I, -1)"
        weights = self.group_weights(g)
        acc = letters(range(d))
        self.line(f"# {g.name}: {M} output pattern{'s' if M > 1 else ''} x {P} feature{'s' if P > 1 else ''}"
                  f" (bpc{acc},mpoc->bmo{acc})")
        i = g.name[1:]
        self.line(f"w{i} = {weights}")
        self.line(f"f{i} = {stacked}")
        shape = self.shape_expr("B", "O", d) if M == 1 else self.shape_expr("B", f"{M}, O", d)
        target = g.members[0] if M == 1 else g.name
        self.line(f"{target} = torch.matmul(w{i}, f{i}).view({shape})")
        if M > 1:
            self.line(f"{', '.join(g.members)} = {', '.join(f'{g.name}[:, {i}]' for i in range(M))}")

    @staticmethod
    def group_weights(g: MixGroup) -> str:
        """The (M·O, P·I) matrix of a group's stacked Λ's, from the gathered weights ``w``."""
        P, M = len(g.features), len(g.members)
        rows = f"w[{g.offset}:{g.offset + P * M}]"
        if M == 1:
            return f"{rows}.transpose(0, 1).reshape(O, {P} * I)"
        return f"{rows}.view({M}, {P}, O, I).permute(0, 2, 1, 3).reshape({M} * O, {P} * I)"

    def write(self, w: WriteStep) -> None:
        view = self.plan.view(w.view)
        if w.first:
            self.line(f"out = {w.acc}")
            return
        value, labels = with_constants(view, w.acc, w.labels, lambda eq, ops: f"torch.einsum({eq!r}, {ops})")
        value = self.broadcast(value, labels, view.labels)
        target = "out" if view.is_whole else f"_diagonal(out, {view.blocks()})"
        self.line(f"{target}.add_({value})  # out[bo{letters(view.output)}] += {w.acc}[bo{letters(w.labels)}]")

    def zeros(self, shape: str) -> str:
        return f"x.new_zeros(({shape}))"

    def permute(self, expr: str, perm: Sequence[int], lead: int = 2) -> str:
        perm = list(perm)
        moved = [i for i, p in enumerate(perm) if p != i]
        if len(moved) == 2:
            a, b = moved
            return f"{expr}.transpose({lead + a}, {lead + b})"
        return f"{expr}.permute({', '.join(str(i) for i in range(lead))}, {', '.join(str(lead + p) for p in perm)})"


def emit(plan: Plan, name: str = "layer", doc: str | None = None) -> Emitted:
    """The torch function for ``plan`` (source and callable); cached per (plan, name, doc)."""
    return _emit(plan, name, doc)


@lru_cache(maxsize=256)
def _emit(plan: Plan, name: str, doc: str | None) -> Emitted:
    return TorchEmitter(plan, name, doc).emit()
