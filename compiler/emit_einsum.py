"""The opt_einsum emitter: every contraction of a plan as a cached ``opt_einsum`` expression.

The emitted function works on numpy arrays and on torch tensors alike (opt_einsum dispatches on
the array type): cores, permutations and channel mixing are ``_contract(equation, *operands)``
calls, each a ``opt_einsum.contract_expression`` built once per operand shapes and cached (paths
are planned once, not on every call); stacking, broadcasting and the diagonal writes into the
output buffer use the array's own namespace (``_xp``) and strided views.

>>> import numpy as np, catnn
>>> from catnn.compiler.plan import build_plan
>>> G = catnn.group("S")
>>> fn = emit(build_plan(G, 1, 1, G.spanning_set(1, 1)))
>>> x = np.arange(6.0).reshape(1, 2, 3)                      # (batch, channels, n)
>>> fn(x, np.ones((2, 1, 2))).tolist()                      # x_i + sum_j x_j, summed over channels
[[[18.0, 20.0, 22.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from .codegen import Emitted, SourceEmitter, with_constants
from .plan import CoreStep, MixGroup, Plan, WriteStep, letters

__all__ = ["emit", "EinsumEmitter", "HELPERS"]

HELPERS = '''def _xp(a):
    """The array namespace of a (numpy or torch), without importing either."""
    return sys.modules[type(a).__module__.partition(".")[0]]


def _diagonal(t, blocks):
    """The writable view of t with one trailing axis per block of its trailing axes; a block of
    several axes is their common diagonal: _diagonal(t, ((0, 1), (2,)))[b, c, i, j] is t[b, c, i, i, j]."""
    lead = t.ndim - sum(len(block) for block in blocks)
    torch_like = hasattr(t, "as_strided")
    stride = t.stride() if torch_like else t.strides
    sizes = list(t.shape[:lead]) + [t.shape[lead + block[0]] for block in blocks]
    strides = list(stride[:lead]) + [sum(stride[lead + a] for a in block) for block in blocks]
    if torch_like:
        return t.as_strided(sizes, strides, t.storage_offset())
    return _xp(t).lib.stride_tricks.as_strided(t, sizes, strides, writeable=True)


def _zeros(like, shape):
    """Zeros of like's dtype (and device)."""
    if hasattr(like, "new_zeros"):
        return like.new_zeros(shape)
    return _xp(like).zeros(shape, dtype=like.dtype)


def _like(values, like):
    """A 1-d array of values with like's dtype (and device)."""
    if hasattr(like, "new_tensor"):
        return like.new_tensor(values)
    return _xp(like).asarray(values, dtype=like.dtype)


_EXPRESSIONS = {}


def _contract(equation, *operands):
    """opt_einsum.contract, with the expression (and its path) built once per operand shapes."""
    key = (equation,) + tuple(tuple(op.shape) for op in operands)
    expression = _EXPRESSIONS.get(key)
    if expression is None:
        if len(_EXPRESSIONS) > 4096:
            _EXPRESSIONS.clear()
        shapes = [tuple(op.shape) for op in operands]
        expression = _EXPRESSIONS[key] = opt_einsum.contract_expression(equation, *shapes)
    return expression(*operands)
'''

CONSTANT_HELPER = '''_CONSTANTS = {}


def _constant(kind, n, like):
    """The constant `kind` at size n as an array of like's type, dtype and device (cached)."""
    key = (kind, n, type(like), str(like.dtype), str(getattr(like, "device", "")))
    if key not in _CONSTANTS:
        values = globals()["_const_" + kind](n)
        if hasattr(like, "new_tensor"):
            _CONSTANTS[key] = like.new_tensor(values)
        else:
            _CONSTANTS[key] = _xp(like).asarray(values, dtype=like.dtype)
    return _CONSTANTS[key]
'''


class EinsumEmitter(SourceEmitter):
    """Spells each plan step as an opt_einsum contraction (numpy or torch operands)."""

    imports = ("import sys", "", "import opt_einsum")

    def helper_sources(self) -> tuple[str, ...]:
        self.helpers = (HELPERS,) + ((CONSTANT_HELPER,) if self.plan.constants else ())
        return super().helper_sources()

    def sign_vector(self, signs: list[int]) -> str:
        return f"_like({signs}, weight)[:, None, None]"

    def core(self, c: CoreStep) -> None:
        consts = "".join(f", {kind}" for kind, _ in c.constants)
        eq = self.einsum_equation(c)
        if c.source_labels == c.labels and not c.constants:
            self.line(f"{c.name} = {c.source}  # {eq}")
            return
        self.line(f"{c.name} = _contract({eq!r}, {c.source}{consts}){self.scale_suffix(c)}")

    def group(self, g: MixGroup) -> None:
        P, M, d = len(g.features), len(g.members), g.dims
        acc = letters(range(d))
        rows = f"w[{g.offset}:{g.offset + P * M}]"
        if P == 1:
            core, perm = g.features[0]
            inverse = {p: i for i, p in enumerate(perm)}
            core_letters = letters(inverse[j] for j in range(d))
            feats, fsub = core, f"bc{core_letters}"
        else:
            parts = [self.permute(core, perm) if list(perm) != sorted(perm) else core for core, perm in g.features]
            feats, fsub = f"_xp(x).stack(({', '.join(parts)}), 1)", f"bpc{acc}"
        if M == 1:
            wsub = "poc" if P > 1 else "oc"
            weights = rows if P > 1 else f"{rows}[0]"
            eq = f"{fsub},{wsub}->bo{acc}"
            self.line(f"{g.members[0]} = _contract({eq!r}, {feats}, {weights})  # {g.name}")
            return
        wsub = "mpoc" if P > 1 else "moc"
        weights = f"{rows}.reshape({M}, {P}, O, I)" if P > 1 else rows
        eq = f"{fsub},{wsub}->bmo{acc}"
        self.line(f"{g.name} = _contract({eq!r}, {feats}, {weights})")
        self.line(f"{', '.join(g.members)} = {', '.join(f'{g.name}[:, {i}]' for i in range(M))}")

    def write(self, w: WriteStep) -> None:
        view = self.plan.view(w.view)
        if w.first:
            self.line(f"out = {w.acc}")
            return
        value, labels = with_constants(view, w.acc, w.labels, lambda eq, ops: f"_contract({eq!r}, {ops})")
        value = self.broadcast(value, labels, view.labels)
        comment = f"  # out[bo{letters(view.output)}] += {w.acc}[bo{letters(w.labels)}]"
        if view.is_whole:
            self.line(f"out += {value}{comment}")
        else:
            self.line(f"view = _diagonal(out, {view.blocks()}){comment}")
            self.line(f"view += {value}")

    def zeros(self, shape: str) -> str:
        return f"_zeros(x, ({shape}))"

    def permute(self, expr: str, perm: Sequence[int], lead: int = 2) -> str:
        src = letters(range(len(perm)))
        dst = letters(perm)
        return f"_contract('bc{src}->bc{dst}', {expr})" if lead == 2 else \
            f"_contract('{'bc'[:lead]}{src}->{'bc'[:lead]}{dst}', {expr})"


def emit(plan: Plan, name: str = "layer", doc: str | None = None) -> Emitted:
    """The opt_einsum function for ``plan`` (source and callable); cached per (plan, name, doc)."""
    return _emit(plan, name, doc)


@lru_cache(maxsize=256)
def _emit(plan: Plan, name: str, doc: str | None) -> Emitted:
    return EinsumEmitter(plan, name, doc).emit()
