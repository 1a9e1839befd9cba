"""The torch emitter: a plan as one plain torch function (and its readable source).

>>> import catnn
>>> from catnn.compiler.plan import build_plan
>>> G = catnn.group("S")
>>> fn = emit(build_plan(G, 1, 1, G.spanning_set(1, 1)), "layer")
>>> for line in fn.source.splitlines()[10:]:
...     print(line)
    w = weight[[1, 0]]  # the Λ's of each mix group together
    # cores: one per distinct bottom half (diagonals are views, sums are done once)
    c0 = x  # bci->bci
    c1 = c0.sum(2)  # bci->bc
    # channel mixing on the cores: one matmul per group of output patterns
    # g0: 1 output pattern x 1 feature (bpc,mpoc->bmo)
    w0 = w[0:1].transpose(0, 1).reshape(O, 1 * I)
    a0 = torch.matmul(w0, c1.reshape(B, I, -1)).view(B, O)
    # g1: 1 output pattern x 1 feature (bpci,mpoc->bmoi)
    w1 = w[1:2].transpose(0, 1).reshape(O, 1 * I)
    a1 = torch.matmul(w1, c0.reshape(B, I, -1)).view(B, O, n)
    # low-dimensional accumulation: small accumulators into larger ones
    a1 += a0[:, :, None]  # bo->boi
    # the output buffer: built by the first write, or zeroed once
    out = a1
    return out

Native ops only: diagonals of the input are strided views (``_diagonal``, ``as_strided``), sums are
``Tensor.sum``, permutations are ``permute``/``transpose`` views, channel mixing is ``torch.matmul``
on stacked features, broadcasts are ``None``-indexing, output diagonals are ``as_strided`` views
of the single output buffer updated in place. Steps with constants (other groups' J or ε) use
``torch.einsum``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from .codegen import Emitted, SourceEmitter
from .plan import CoreStep, MixGroup, MixStep, Plan, WriteStep, letters

__all__ = ["emit", "TorchEmitter", "DIAGONAL_HELPER", "CONSTANT_HELPER"]

DIAGONAL_HELPER = '''def _diagonal(t, blocks):
    """The view of t with one trailing axis per block of its trailing axes; a block of several
    axes is their common diagonal: _diagonal(t, ((0, 1), (2,)))[b, c, i, j] is t[b, c, i, i, j]."""
    lead = t.dim() - sum(len(block) for block in blocks)
    stride = t.stride()
    sizes = list(t.shape[:lead]) + [t.shape[lead + block[0]] for block in blocks]
    strides = list(stride[:lead]) + [sum(stride[lead + a] for a in block) for block in blocks]
    return t.as_strided(sizes, strides, t.storage_offset())
'''

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

    def weights(self) -> None:
        order = list(self.plan.order)
        gathered = "weight" if order == list(range(len(self.plan.diagrams))) else f"weight[{order}]"
        signs = [t.sign for g in self.plan.groups for name in g.members for t in self.plan.mix(name).terms]
        if any(s != 1 for s in signs):
            gathered = f"{gathered} * weight.new_tensor({signs}).view(-1, 1, 1)"
        self.line(f"w = {gathered}  # the Λ's of each mix group together")

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
            blocks = tuple(tuple(a for a, lab in enumerate(c.source_labels) if lab == v) for v in labels)
            expr = f"_diagonal({src}, {blocks})"
        summed = [i for i, lab in enumerate(labels) if lab not in c.labels]
        if summed:
            dims = ", ".join(str(2 + i) for i in summed)
            expr = f"{expr}.sum({dims if len(summed) == 1 else '(' + dims + ')'})"
            labels = [lab for lab in labels if lab in c.labels]
        if labels != list(c.labels):
            expr = self.permute(expr, [labels.index(lab) for lab in c.labels])
        self.line(f"{c.name} = {expr}{self.scale_suffix(c)}  # {eq}")

    def group(self, g: MixGroup) -> None:
        P, M, d = len(g.features), len(g.members), g.dims
        feats = [self.permute(core, perm) if list(perm) != sorted(perm) else core for core, perm in g.features]
        if P == 1:
            stacked = f"{feats[0]}.reshape(B, I, -1)"
        else:
            stacked = f"torch.stack(({', '.join(feats)}), 1).reshape(B, {P} * I, -1)"
        rows = f"w[{g.offset}:{g.offset + P * M}]"
        if M == 1:
            weights = f"{rows}.transpose(0, 1).reshape(O, {P} * I)"
        else:
            weights = f"{rows}.view({M}, {P}, O, I).permute(0, 2, 1, 3).reshape({M} * O, {P} * I)"
        acc = letters(range(d))
        self.line(f"# {g.name}: {M} output pattern{'s' if M > 1 else ''} x {P} feature{'s' if P > 1 else ''}"
                  f" (bpc{acc},mpoc->bmo{acc})")
        self.line(f"w{g.name[1:]} = {weights}")
        shape = self.shape_expr("B", "O", d) if M == 1 else self.shape_expr("B", f"{M}, O", d)
        target = g.members[0] if M == 1 else g.name
        self.line(f"{target} = torch.matmul(w{g.name[1:]}, {stacked}).view({shape})")
        if M > 1:
            self.line(f"{', '.join(g.members)} = {', '.join(f'{g.name}[:, {i}]' for i in range(M))}")

    def bias(self, m: MixStep) -> None:
        if m.terms:
            self.line(f"{m.name} += {self.bias_expr(m)}")
        else:
            self.line(f"{m.name} = ({self.bias_expr(m)}).view(1, O)  # bias only")

    def write(self, w: WriteStep) -> None:
        view = self.plan.view(w.view)
        if w.first:
            self.line(f"out = {w.acc}")
            return
        value, labels = w.acc, list(w.labels)
        if view.constants:
            consts = "".join(f",{letters(labs)}" for _, labs in view.constants)
            present = [lab for lab in view.labels if lab in labels or any(lab in labs for _, labs in view.constants)]
            eq = f"bo{letters(labels)}{consts}->bo{letters(present)}"
            names = ", ".join(kind for kind, _ in view.constants)
            value, labels = f"torch.einsum({eq!r}, {value}, {names})", present
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
