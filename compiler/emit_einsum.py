"""The opt_einsum emitter: every contraction of a plan as a cached ``opt_einsum`` expression.

The emitted functions work on numpy arrays and on torch tensors alike (opt_einsum dispatches on
the array type): cores, permutations and channel mixing are ``_rt__contract(equation, *operands)``
calls, each a ``opt_einsum.contract_expression`` built once per operand shapes and cached (paths
are planned once, not on every call); stacking, broadcasting and the diagonal writes into the
output buffer use the array's own namespace (``_rt__xp``) and strided views. Gradients (torch tensors)
come from torch's autograd through these ops.

>>> import numpy as np, catnn
>>> from catnn.compiler.plan import build_plan
>>> G = catnn.group("S")
>>> fn = EinsumEmitter(build_plan(G, 1, 1, G.spanning_set(1, 1))).emit()
>>> x = np.arange(6.0).reshape(1, 2, 3)                      # (batch, channels, n)
>>> fn(x, np.ones((2, 1, 2))).tolist()                      # x_i + sum_j x_j, summed over channels
[[[18.0, 20.0, 22.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence

from .emit_common import SourceEmitter
from .ir import CoreStep, MixGroup, View, letters

__all__ = ["EinsumEmitter", "HELPERS", "CONSTANT_HELPER"]

HELPERS = '''def _rt__xp(a):
    """The array namespace of a (numpy or torch), without importing either."""
    return sys.modules[type(a).__module__.partition(".")[0]]


def _rt__diagonal(t, blocks):
    """The writable view of t with one trailing axis per block of its trailing axes; a block of
    several axes is their common diagonal: _rt__diagonal(t, ((0, 1), (2,)))[b, c, i, j] is t[b, c, i, i, j]."""
    lead = t.ndim - sum(len(block) for block in blocks)
    torch_like = hasattr(t, "as_strided")
    stride = t.stride() if torch_like else t.strides
    sizes = list(t.shape[:lead]) + [t.shape[lead + block[0]] for block in blocks]
    strides = list(stride[:lead]) + [sum(stride[lead + a] for a in block) for block in blocks]
    if torch_like:
        return t.as_strided(sizes, strides, t.storage_offset())
    return _rt__xp(t).lib.stride_tricks.as_strided(t, sizes, strides, writeable=True)


def _rt__zeros(like, shape):
    """Zeros of like's dtype (and device)."""
    if hasattr(like, "new_zeros"):
        return like.new_zeros(shape)
    return _rt__xp(like).zeros(shape, dtype=like.dtype)


def _rt__like(values, like):
    """A 1-d array of values with like's dtype (and device)."""
    if hasattr(like, "new_tensor"):
        return like.new_tensor(values)
    return _rt__xp(like).asarray(values, dtype=like.dtype)


_rt__EXPRESSIONS = {}


def _rt__contract(equation, *operands):
    """opt_einsum.contract, with the expression (and its path) built once per operand shapes."""
    key = (equation,) + tuple(tuple(op.shape) for op in operands)
    expression = _rt__EXPRESSIONS.get(key)
    if expression is None:
        if len(_rt__EXPRESSIONS) > 4096:
            _rt__EXPRESSIONS.clear()
        shapes = [tuple(op.shape) for op in operands]
        expression = _rt__EXPRESSIONS[key] = opt_einsum.contract_expression(equation, *shapes)
    return expression(*operands)
'''

CONSTANT_HELPER = '''_rt__CONSTANTS = {}


def _rt__constant(kind, n, like):
    """The constant `kind` at size n as an array of like's type, dtype and device (cached)."""
    key = (kind, n, type(like), str(like.dtype), str(getattr(like, "device", "")))
    if key not in _rt__CONSTANTS:
        values = globals()["_rt__const_" + kind](n)
        if hasattr(like, "new_tensor"):
            _rt__CONSTANTS[key] = like.new_tensor(values)
        else:
            _rt__CONSTANTS[key] = _rt__xp(like).asarray(values, dtype=like.dtype)
    return _rt__CONSTANTS[key]
'''


class EinsumEmitter(SourceEmitter):
    """Spells each plan step as an opt_einsum contraction (numpy or torch operands)."""

    imports = ("import sys", "", "import opt_einsum")

    constant_helper = CONSTANT_HELPER

    def backend_helpers(self) -> tuple[str, ...]:
        return (HELPERS,)

    def sign_vector(self, signs: list[int], like: str) -> str:
        return f"_rt__like({signs}, {like})[:, None, None]"

    def contract(self, equation: str, operands: str) -> str:
        return f"_rt__contract({equation!r}, {operands})"

    def stack(self, parts: list[str]) -> str:
        return f"_rt__xp(x).stack(({', '.join(parts)}), 1)"

    def reduction(self, c: CoreStep) -> str:
        consts = "".join(f", {kind}" for kind, _ in c.constants)
        eq = f"bc{letters(c.source_labels)}{''.join(f',{letters(labs)}' for _, labs in c.constants)}->bc{letters(c.labels)}"
        if c.source_labels == c.labels and not c.constants:
            return c.source
        return self.contract(eq, f"{c.source}{consts}")

    def group(self, g: MixGroup) -> None:
        M, d = len(g.members), g.dims
        acc = letters(range(d))
        terms, start = [], 0
        for run in g.runs:
            P, I = run.count, f"I{run.input}"
            rows = f"wb{run.block}[{run.start}:{run.start + P * M}]"
            features = g.features[start:start + P]
            start += P
            if P == 1:
                core, perm = features[0]
                inverse = {p: i for i, p in enumerate(perm)}
                feats, fsub = core, f"bc{letters(inverse[j] for j in range(d))}"
            else:
                parts = [self.permute(core, perm) if list(perm) != sorted(perm) else core for core, perm in features]
                feats, fsub = self.stack(parts), f"bpc{acc}"
            if M == 1:
                weights, wsub = (rows, "poc") if P > 1 else (f"{rows}[0]", "oc")
                eq = f"{fsub},{wsub}->bo{acc}"
            else:
                weights, wsub = (f"{rows}.reshape({M}, {P}, O, {I})", "mpoc") if P > 1 else (rows, "moc")
                eq = f"{fsub},{wsub}->bmo{acc}"
            terms.append(self.contract(eq, f"{feats}, {weights}"))
        target = g.members[0] if M == 1 else g.name
        self.line(f"{target} = {' + '.join(terms)}  # {g.name}")
        if M > 1:
            self.line(f"{', '.join(g.members)} = {', '.join(f'{g.name}[:, {i}]' for i in range(M))}")

    def add_into(self, view: View, value: str, comment: str) -> None:
        if view.is_whole:
            self.line(f"out += {value}{comment}")
        else:
            self.line(f"view = _rt__diagonal(out, {view.blocks()}){comment}")
            self.line(f"view += {value}")

    def zeros(self, shape: str) -> str:
        return f"_rt__zeros(x, ({shape}))"

    def permute(self, expr: str, perm: Sequence[int], lead: int = 2) -> str:
        src = letters(range(len(perm)))
        dst = letters(perm)
        return f"_rt__contract('{'bc'[:lead]}{src}->{'bc'[:lead]}{dst}', {expr})"
