"""Python source writing: the shared emitter walk, safe literals and the standalone module writer.

Both emitters (:mod:`.emit_torch`, :mod:`.emit_einsum`) turn a :class:`~.plan.Plan` into the source
of one function ``NAME(x, weight, bias=None)``; they differ only in how each step is spelled.
:class:`SourceEmitter` walks the plan (cores, mixes, folds, writes) and asks its subclass for the
spelling. Nothing from the user's program is ever pasted into code: names must pass
:func:`check_name` (ASCII identifiers, no keywords, no leading underscore, nothing the module uses
itself), numbers are rendered from exact integers, and text appears only inside docstrings made by
:func:`docstring`, which escapes it (checked by parsing it back).

:func:`write_module` (the ``catnn compile`` back end) assembles a whole program into one module that
imports only torch (and opt_einsum for ``backend="einsum"``): one function per morphism, one
``torch.nn.Module`` class per layer, byte-identical across runs.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from catnn import messages
from catnn.errors import CompileError

from .plan import CoreStep, FoldStep, MixGroup, MixStep, Plan, WriteStep, letters

__all__ = ["SourceEmitter", "Emitted", "check_name", "docstring", "poly_source", "RESERVED"]

#: names a generated module defines or imports itself; program names may not take them
RESERVED = frozenset({"torch", "opt_einsum", "sys", "math", "numpy", "np", "nn", "F", "self", "x",
                      "weight", "bias", "n", "B", "I", "O", "w", "out", "super", "object", "print",
                      "len", "range", "tuple", "list", "dict", "type", "isinstance", "float", "int"})


def check_name(name: Any, what: str = "name") -> str:
    """``name`` if it is safe as a Python identifier in generated code, else CompileError.

    >>> check_name("edge")
    'edge'
    >>> check_name("x; import os")
    Traceback (most recent call last):
    ...
    catnn.errors.CompileError: cannot use 'x; import os' as a Python name in generated code
    """
    ok = (isinstance(name, str) and name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
          and not name.startswith("_") and name not in RESERVED)
    if not ok:
        raise CompileError(messages.BAD_NAME.format(name=str(name), what=what))
    return name


def docstring(text: str, indent: str) -> str:
    """A triple-quoted literal whose value is ``text`` (continuation lines indented), escaped.

    Quotes, backslashes and non-printable characters are escaped, so no text can end the literal;
    the result is parsed back and compared before it is used.
    """
    escaped = "".join(_escape(ch) for ch in text)
    body = "\n".join((indent + line if i and line else line) for i, line in enumerate(escaped.split("\n")))
    tail = "\n" + indent if "\n" in text else ""
    literal = f'"""{body}{tail}"""'
    expected = "\n".join((indent + line if i and line else line) for i, line in enumerate(text.split("\n")))
    if ast.literal_eval(literal) != expected + tail:
        raise CompileError("internal error: docstring escaping failed")
    return literal


def _escape(ch: str) -> str:
    if ch in "\\\"":
        return "\\" + ch
    if ch == "\n" or ch.isprintable():
        return ch
    return ch.encode("unicode_escape").decode("ascii")


def poly_source(poly: Any) -> str:
    """Python source (integers, ``n`` and operators only) evaluating an exact Laurent polynomial in n.

    >>> from catnn.coeff import Poly
    >>> poly_source(Poly.n() - Fraction(1, 2) * Poly.n(-1))
    '(n - 1 / 2 * n ** -1)'
    """
    terms = sorted(poly.terms.items(), key=lambda t: -t[0])
    if not terms:
        return "0"
    parts = []
    for i, (exp, coeff) in enumerate(terms):
        coeff = Fraction(coeff)
        sign = "-" if coeff < 0 else "+"
        mag = abs(coeff)
        num = str(int(mag.numerator)) if mag.denominator == 1 else f"{int(mag.numerator)} / {int(mag.denominator)}"
        power = "" if exp == 0 else ("n" if exp == 1 else f"n ** {int(exp)}")
        if power and mag == 1:
            body = power
        elif power:
            body = f"{num} * {power}"
        else:
            body = num
        parts.append((f"-{body}" if sign == "-" else body) if i == 0 else f" {sign} {body}")
    text = "".join(parts)
    return f"({text})" if len(terms) > 1 or text.startswith("-") else text


@dataclass
class Emitted:
    """An emitted function: its name, its source, the helper sources it needs, and the callable."""

    name: str
    source: str
    helpers: tuple[str, ...]
    imports: tuple[str, ...]
    function: Any = field(default=None, repr=False)

    @property
    def full_source(self) -> str:
        """A runnable module: imports, helpers, then the function."""
        return "\n".join(self.imports) + "\n\n\n" + "\n\n\n".join((*self.helpers, self.source)) + "\n"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)


class SourceEmitter:
    """Walks a plan and writes the function; subclasses spell each step for their backend."""

    #: import lines and helper sources the emitted code needs
    imports: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()

    def __init__(self, plan: Plan, name: str = "layer", doc: str | None = None) -> None:
        self.plan = plan
        self.name = name
        self.doc = doc if doc is not None else default_doc(plan)
        self.lines: list[str] = []

    # -- the walk -----------------------------------------------------------------------------
    def source(self) -> str:
        p = self.plan
        n_default = "None" if p.n is None else str(int(p.n))
        signature = "x, weight, bias=None" if p.k else f"x, weight, bias=None, n={n_default}"
        self.lines = [f"def {self.name}({signature}):", "    " + docstring(self.doc, "    ")]
        self.line("B, I, n = x.shape[0], x.shape[1], x.shape[-1]" if p.k else "B, I = x.shape[0], x.shape[1]")
        self.line("O = weight.shape[1]")
        for kind in p.constants:
            self.line(f"{kind} = _constant({kind!r}, n, x)")
        if p.groups:
            self.weights()
        if p.cores:
            self.line("# cores: one per distinct bottom half (diagonals are views, sums are done once)")
        for c in p.cores:
            self.core(c)
        if p.groups:
            self.line("# channel mixing on the cores: one matmul per group of output patterns")
        for g in p.groups:
            self.group(g)
        for m in p.mixes:
            if m.bias:
                self.bias(m)
        if p.folds:
            self.line("# low-dimensional accumulation: small accumulators into larger ones")
        for f in sorted(p.folds, key=lambda f: len(f.source_labels)):
            self.fold(f)
        self.line("# the output buffer: built by the first write, or zeroed once")
        if p.first_write is None:
            self.line(f"out = {self.zeros(self.shape_expr('B', 'O', p.l))}")
        for w in p.writes:
            self.write(w)
        self.line("return out")
        return "\n".join(self.lines) + "\n"

    def line(self, text: str) -> None:
        self.lines.append("    " + text)

    # -- shared spelling ----------------------------------------------------------------------
    @staticmethod
    def shape_expr(b: str, c: str, d: int) -> str:
        return ", ".join([b, c] + ["n"] * d)

    @staticmethod
    def dims(start: int, count: int) -> str:
        return ", ".join(str(start + i) for i in range(count))

    def scale_suffix(self, c: CoreStep) -> str:
        if not self.plan.normalize or not c.scale:
            return ""
        return " / n" if c.scale == 1 else f" / n ** {c.scale}"

    def broadcast(self, expr: str, labels: Sequence[int], target: Sequence[int], lead: int = 2) -> str:
        """``expr`` (axes ``labels``) indexed so it broadcasts against axes ``target``."""
        present = [lab for lab in target if lab in labels]
        if list(labels) != present:
            expr = self.permute(expr, [list(labels).index(lab) for lab in present], lead)
        if list(labels) == list(target):
            return expr
        index = [":"] * lead + [":" if lab in labels else "None" for lab in target]
        while index and index[-1] == ":":
            index.pop()
        return f"{expr}[{', '.join(index)}]" if index else expr

    def bias_expr(self, m: MixStep) -> str:
        return " + ".join(f"bias[{j}]" for j in m.bias)

    def einsum_equation(self, c: CoreStep) -> str:
        consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
        return f"bc{letters(c.source_labels)}{consts}->bc{letters(c.labels)}"

    # -- what a backend spells ----------------------------------------------------------------
    def weights(self) -> None:
        raise NotImplementedError

    def core(self, c: CoreStep) -> None:
        raise NotImplementedError

    def group(self, g: MixGroup) -> None:
        raise NotImplementedError

    def bias(self, m: MixStep) -> None:
        raise NotImplementedError

    def fold(self, f: FoldStep) -> None:
        self.line(f"{f.target} += {self.broadcast(f.source, f.source_labels, f.target_labels)}"
                  f"  # bo{letters(f.source_labels)}->bo{letters(f.target_labels)}")

    def write(self, w: WriteStep) -> None:
        raise NotImplementedError

    def zeros(self, shape: str) -> str:
        raise NotImplementedError

    def permute(self, expr: str, perm: Sequence[int], lead: int = 2) -> str:
        raise NotImplementedError

    # -- building -----------------------------------------------------------------------------
    def emit(self) -> Emitted:
        """The function's source, its helpers, and the callable (source executed once)."""
        source = self.source()
        emitted = Emitted(self.name, source, self.helper_sources(), self.imports)
        namespace: dict[str, Any] = {}
        exec(compile(emitted.full_source, f"<catnn {self.name}>", "exec"), namespace)  # noqa: S102
        emitted.function = namespace[self.name]
        return emitted

    def helper_sources(self) -> tuple[str, ...]:
        from .kernels import CONSTANTS
        consts = tuple(CONSTANTS[kind].strip() + "\n" for kind in self.plan.constants)
        return self.helpers + consts


def default_doc(plan: Plan) -> str:
    """The docstring of an emitted layer function: what it computes and which diagram is which."""
    head = (f"{plan.group} {plan.k} -> {plan.l}: x (B, C_in{', n' * plan.k}) -> (B, C_out{', n' * plan.l}).\n\n"
            f"out = sum_i weight[i] (x) D_i{' + sum_j bias[j] (x) E_j' if plan.bias_diagrams else ''}"
            f"{'; each summed-out block divided by n' if plan.normalize else ''}.")
    lines = [head, ""]
    lines += [f"D_{i}: {d}" for i, d in enumerate(plan.diagrams)]
    lines += [f"E_{j}: {d}" for j, d in enumerate(plan.bias_diagrams)]
    return "\n".join(lines)
