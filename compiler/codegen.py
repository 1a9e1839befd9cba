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
import builtins
import keyword
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from catnn import messages
from catnn.errors import CompileError

from .plan import CoreStep, FoldStep, MixGroup, MixStep, Plan, WriteStep, letters

__all__ = ["SourceEmitter", "Emitted", "check_name", "docstring", "poly_source", "RESERVED"]

#: names a generated module defines or imports itself (builtins are refused too)
RESERVED = frozenset({"torch", "opt_einsum", "sys", "math", "numpy", "np", "nn", "F", "self", "x",
                      "weight", "bias", "n", "B", "I", "O", "w", "out", "super", "object", "print",
                      "len", "range", "tuple", "list", "dict", "type", "isinstance", "float", "int"})


def check_name(name: Any, what: str = "name") -> str:
    """``name`` if it is safe as a Python identifier in generated code, else CompileError.

    Safe: ASCII, an identifier, not a keyword or builtin, not a name the module uses, no leading
    underscore and no ``__`` (generated helpers are ``_NAME`` and ``_NAME__suffix``, so they never
    collide with a program name or with each other).

    >>> check_name("edge")
    'edge'
    >>> check_name("x; import os")
    Traceback (most recent call last):
    ...
    catnn.errors.CompileError: cannot use 'x; import os' as a Python name in generated code
    """
    ok = (isinstance(name, str) and name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
          and not name.startswith("_") and "__" not in name and name not in RESERVED
          and not hasattr(builtins, name))
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
        """The function ``NAME(x, weight, bias=None)`` (plus ``n=`` when k = 0)."""
        p = self.plan
        n_default = "None" if p.n is None else str(int(p.n))
        signature = "x, weight, bias=None" if p.k else f"x, weight, bias=None, n={n_default}"
        self.lines = [f"def {self.name}({signature}):", "    " + docstring(self.doc, "    ")]
        self.forward_body()
        self.line("return out")
        return "\n".join(self.lines) + "\n"

    def forward_body(self) -> None:
        """The forward steps, leaving the result in ``out`` (in-place updates, no autograd needed)."""
        p = self.plan
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
        for f in p.folds:
            self.fold(f)
        self.line("# the output buffer: built by the first write, or zeroed once")
        if p.first_write is None:
            self.line(f"out = {self.zeros(self.shape_expr('B', 'O', p.l))}")
        for w in p.writes:
            self.write(w)

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


# -- the module writer --------------------------------------------------------------------------------
def write_module(program: Any, backend: str = "torch") -> str:
    """The source of a standalone module for a checked program (``catnn compile``).

    ``program`` has ``.group``, ``.definitions`` ({name: Diagram | Morphism | LayerSpec | NetworkSpec},
    in source order), and optionally ``.spans``, ``.source`` and ``.filename``. The module imports
    only torch (and ``sys``/``opt_einsum`` for ``backend="einsum"``); it never imports catnn.
    """
    return _ModuleWriter(program, backend).write()


class _ModuleWriter:
    def __init__(self, program: Any, backend: str) -> None:
        from .emit_einsum import EinsumEmitter
        from .emit_torch import TorchEmitter
        emitters = {"torch": TorchEmitter, "einsum": EinsumEmitter}
        if backend not in emitters:
            raise CompileError(messages.BAD_BACKEND.format(name=backend, known=", ".join(emitters)))
        self.program = program
        self.backend = backend
        self.emitter = emitters[backend]
        self.group = program.group
        self.spans = getattr(program, "spans", {}) or {}
        self.helpers: list[str] = []
        self.blocks: list[str] = []

    def write(self) -> str:
        from catnn.diagram import Diagram
        from catnn.morphism import Morphism
        from catnn.spec import LayerSpec, MixedLayerSpec, NetworkSpec
        names = {"morphisms": [], "layers": [], "networks": []}
        for name, value in self.program.definitions.items():
            try:
                check_name(name, "function or class name")
                if isinstance(value, (LayerSpec, MixedLayerSpec)):
                    self.layer(name, value)
                    names["layers"].append(name)
                elif isinstance(value, NetworkSpec):
                    self.network(name, value)
                    names["networks"].append(name)
                elif isinstance(value, (Diagram, Morphism)) or hasattr(value, "blocks") or hasattr(value, "edges"):
                    self.morphism(name, value)
                    names["morphisms"].append(name)
            except CompileError as err:
                span = self.spans.get(name)
                raise (err.with_span(span) if span is not None else err) from None
        return self.assemble(names)

    # -- pieces -------------------------------------------------------------------------------
    def plan_function(self, plan: Plan, name: str, doc: str) -> str:
        emitter = self.emitter(plan, name, doc)
        source = emitter.source()
        for helper in emitter.helper_sources():
            if helper not in self.helpers:
                self.helpers.append(helper)
        return source

    def where(self, name: str) -> str:
        span = self.spans.get(name)
        if span is None:
            return ""
        line = (span.text.splitlines() or [""])[span.line - 1].strip() if span.text else ""
        place = f"{_basename(span.file)}:{span.line}"
        return f"Defined at {place}: {line}" if line else f"Defined at {place}."

    def morphism(self, name: str, value: Any) -> None:
        from catnn.morphism import Morphism
        from .plan import build_plan
        m = value if isinstance(value, Morphism) else Morphism.of(value, 1, self.group.loop)
        k, l = m.k, m.l
        plan = build_plan(self.group, k, l, m.diagrams)
        helper = f"_{name}"
        self.blocks.append(self.plan_function(plan, helper, f"The plan of {name}; see {name}()."))
        coeffs = ", ".join(poly_source(c) for _, c in m.terms)
        doc = _doc(f"morphism {name} : {k} -> {l} over {self.group}: {m}", self.where(name),
                   f"x: (..., {', '.join(['n'] * k) or 'no axes'}) -> (..., {', '.join(['n'] * l) or 'no axes'}),"
                   " a floating tensor; leading axes are batch axes.")
        weights = (f"x.new_tensor([{coeffs}])" if self.backend == "torch" else f"_like([{coeffs}], x)") + \
            ".reshape(-1, 1, 1)"
        fixed = "None" if self.group.n is None else str(int(self.group.n))
        lines = [f"def {name}(x{'' if k else ', n=' + fixed}):", "    " + docstring(doc, "    ")]
        if k:
            lines += ["    n = x.shape[-1]", f"    lead = tuple(x.shape[:x.ndim - {k}])"]
        else:
            lines += ["    lead = tuple(x.shape)"]
        lines += [
            f"    weight = {weights}  # the coefficients at this n",
            f"    y = {helper}(x.reshape((-1, 1) + {'(n,) * ' + str(k) if k else '()'}), weight"
            f"{'' if k else ', n=n'})",
            f"    return y.reshape(lead + (n,) * {l})",
        ]
        self.blocks.append("\n".join(lines) + "\n")

    def layer(self, name: str, spec: Any) -> None:
        from .layer import layer_structure
        if not hasattr(spec, "diagrams") or getattr(spec, "factors", None):   # mixed-order or bilinear
            from .netgen import write_layer
            write_layer(self, name, spec)
            return
        structure = layer_structure(self.group, spec.k, spec.l, spec.diagrams)
        plan = structure.plan
        helper = f"_{name}"
        self.blocks.append(self.plan_function(plan, helper, f"The plan of layer {name}; see class {name}."))
        entries = [str(e) for e in structure.entries]
        listing = "\n".join(f"  weight[{i}]: {text}" for i, text in enumerate(entries))
        bias_listing = "\n".join(f"  bias[{j}]: {d}" for j, d in enumerate(plan.bias_diagrams))
        k, l = spec.k, spec.l
        doc = _doc(f"layer {name} : {k} -> {l} over {self.group}: "
                   f"{'the full spanning set' if spec.diagrams is None else 'chosen diagrams'}, "
                   f"{len(entries)} weights.", self.where(name),
                   f"Input (B, in_channels{', n' * k}), output (B, out_channels{', n' * l}). weight[i] "
                   f"(out_channels x in_channels) multiplies entry i, bias[j] (out_channels) the 0 -> {l} "
                   f"diagram j:\n" + "\n".join(filter(None, [listing, bias_listing])))
        init = tuple_source([repr(float(s)) for s in structure.init_scale()]).replace("'", "")
        fixed = "None" if self.group.n is None else str(int(self.group.n))
        lines = [
            f"class {name}(torch.nn.Module):",
            "    " + docstring(doc, "    "),
            "",
            f"    k, l, n = {k}, {l}, {fixed}",
            f"    diagrams = {tuple_source(entries)}",
            f"    bias_diagrams = {tuple_source([str(d) for d in plan.bias_diagrams])}",
            "    #: weight[i] ~ N(0, init_scale[i]**2 / in_channels): output variance ≈ input variance",
            f"    init_scale = {init}",
            "",
            "    def __init__(self, in_channels, out_channels, bias=True):",
            "        super().__init__()",
            "        self.in_channels, self.out_channels = in_channels, out_channels",
            f"        self.weight = torch.nn.Parameter(torch.empty({len(entries)}, out_channels, in_channels))",
        ]
        if plan.bias_diagrams:
            lines += [f"        self.bias = torch.nn.Parameter(torch.zeros({len(plan.bias_diagrams)}, out_channels)) "
                      "if bias else None"]
        else:
            lines += ["        self.bias = None"]
        lines += [
            "        self.reset_parameters()",
            "",
            "    def reset_parameters(self):",
            "        with torch.no_grad():",
            "            for i, scale in enumerate(self.init_scale):",
            "                self.weight[i].normal_(0.0, scale / self.in_channels ** 0.5)",
            "            if self.bias is not None:",
            "                self.bias.zero_()",
            "",
            f"    def forward(self, x{'' if k else ', n=None'}):",
        ]
        if k:
            lines += ["        n = x.shape[-1]"]
        else:
            lines += ["        n = self.n if n is None else n"]
        lines += self.layer_checks(name, k)
        weight = "self.weight"
        if structure.mixing is not None:
            rows = ", ".join("[" + ", ".join(poly_source(c) for c in row) + "]" for row in structure.mixing)
            lines += [f"        mixing = self.weight.new_tensor([{rows}])  # diagrams x entries, at this n",
                      "        weight = torch.einsum('dj,joi->doi', mixing, self.weight)"]
            weight = "weight"
        bias = "self.bias" if plan.bias_diagrams else "None"
        if plan.bias_diagrams:
            lines += [f"        bias = self.weight.new_zeros({len(plan.bias_diagrams)}, self.out_channels) "
                      "if self.bias is None else self.bias"]
            bias = "bias"
        lines += [f"        return {helper}(x, {weight}, {bias}{'' if k else ', n=n'})"]
        self.blocks.append("\n".join(lines) + "\n")

    def layer_checks(self, name: str, k: int) -> list[str]:
        lines = [f"        if x.ndim != {k + 2} or x.shape[1] != self.in_channels:",
                 f"            raise ValueError(f'{name} expects input (batch, {{self.in_channels}}"
                 f"{', n' * k}), got {{tuple(x.shape)}}')"]
        if self.group.n is not None and k:
            lines += ["        if n != self.n:",
                      f"            raise ValueError(f'{name} is built for n={{self.n}}, got n={{n}}')"]
        return lines

    def network(self, name: str, spec: Any) -> None:
        from .netgen import write_network
        write_network(self, name, spec)

    def assemble(self, names: dict[str, list[str]]) -> str:
        source = _basename(getattr(self.program, "filename", "<string>"))
        summary = [f"Generated by catnn from {source} (group {self.group}, backend {self.backend}); do not edit.",
                   "", "It imports only " + ("torch." if self.backend == "torch" else "torch, sys and opt_einsum.")]
        for kind, label in (("morphisms", "Functions (morphisms)"), ("layers", "Layers (torch.nn.Module classes)"),
                            ("networks", "Networks (torch.nn.Module classes)")):
            if names[kind]:
                summary.append(f"{label}: {', '.join(names[kind])}")
        head = docstring("\n".join(summary), "")
        imports = "import torch" if self.backend == "torch" else "import sys\n\nimport opt_einsum\nimport torch"
        parts = [head + "\n\n" + imports, *self.helpers, *self.blocks]
        return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def tuple_source(texts: Sequence[str]) -> str:
    """A tuple of plain string literals (``repr`` escapes everything)."""
    items = [repr(str(t)) for t in texts]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _doc(*paragraphs: str) -> str:
    """Paragraphs (empty ones dropped) separated by blank lines."""
    return "\n\n".join(p for p in paragraphs if p)


def _basename(path: str) -> str:
    import os
    return os.path.basename(str(path)) or str(path)


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``: all or nothing."""
    import os
    import tempfile
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".catnn-", suffix=".py.tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def explain_program(program: Any, n: int | None = None, batch: int = 1, channels: int = 1) -> str:
    """The plan of every morphism and layer of a program, and of every layer stage of its networks."""
    from catnn.morphism import Morphism
    from catnn.spec import LayerSpec, NetworkSpec
    from .layer import layer_structure
    from .plan import build_plan
    group = program.group
    sections = []
    from .netgen import explain_layer
    for name, value in program.definitions.items():
        try:
            if not hasattr(value, "diagrams") and hasattr(value, "in_orders") or getattr(value, "factors", None):
                sections.append((f"layer {name}", explain_layer(group, value)))   # mixed-order or bilinear
            elif isinstance(value, LayerSpec):
                plan = layer_structure(group, value.k, value.l, value.diagrams).plan
                sections.append((f"layer {name}", plan.explain(n, batch, channels, channels)))
            elif isinstance(value, NetworkSpec):
                for i, stage in enumerate(value.stages):
                    spec = program.definitions.get(stage.name)
                    if stage.kind == "layer" and (getattr(spec, "factors", None) or not hasattr(spec, "diagrams")):
                        sections.append((f"network {name}, stage {i}: {stage.name}", explain_layer(group, spec)))
                    elif stage.kind == "layer":
                        plan = layer_structure(group, spec.k, spec.l, spec.diagrams).plan
                        sections.append((f"network {name}, stage {i}: {stage.name}"
                                         f"[{stage.in_channels} -> {stage.out_channels}]",
                                         plan.explain(n, batch, stage.in_channels, stage.out_channels)))
            elif hasattr(value, "k") and hasattr(value, "l"):
                m = value if isinstance(value, Morphism) else Morphism.of(value, 1, group.loop)
                plan = build_plan(group, m.k, m.l, m.diagrams)
                sections.append((f"morphism {name}", plan.explain(n, batch, 1, 1)))
        except CompileError as err:
            span = (getattr(program, "spans", {}) or {}).get(name)
            raise (err.with_span(span) if span is not None else err) from None
    return "\n\n".join(f"== {title} ==\n{text}" for title, text in sections)


class InMemoryModule:
    """``catnn.compile(text).nn``: what ``catnn compile`` would write, built in memory.

    ``prog.nn.f(x)`` applies morphism (or diagram) ``f`` (:class:`catnn.nn.MorphismFunction`);
    ``prog.nn.edge(in_channels, out_channels, **options)`` builds layer ``edge`` as a
    :class:`catnn.nn.EquivariantLinear`; ``prog.nn.net(**options)`` builds network ``net``
    (:class:`catnn.networks.EquivariantNetwork`). torch is imported on first use only.
    """

    def __init__(self, program: Any, backend: str = "torch") -> None:
        self._program = program
        self._backend = backend
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        definitions = self._program.definitions
        if name not in definitions:
            known = ", ".join(definitions) or "none"
            raise AttributeError(f"the program has no definition {name!r} (definitions: {known})")
        if name not in self._cache:
            self._cache[name] = self._build(definitions[name])
        return self._cache[name]

    def _build(self, value: Any) -> Any:
        from functools import partial
        from catnn.spec import LayerSpec, MixedLayerSpec, NetworkSpec
        if isinstance(value, MixedLayerSpec) or getattr(value, "factors", None):   # mixed or bilinear
            from catnn.networks import layer_factory
            return layer_factory(self._program.group, value, self._backend)
        if isinstance(value, LayerSpec):
            from catnn.nn import EquivariantLinear
            return partial(EquivariantLinear.from_spec, value, backend=self._backend)
        if isinstance(value, NetworkSpec):
            from catnn.networks import EquivariantNetwork
            layers = {k: v for k, v in self._program.definitions.items() if isinstance(v, LayerSpec)}
            return partial(EquivariantNetwork, value, layers, backend=self._backend)
        from catnn.nn import MorphismFunction
        return MorphismFunction(self._program.group, value, backend=self._backend)

    def __dir__(self) -> list[str]:
        return sorted(self._program.definitions)

    def __repr__(self) -> str:
        return f"<catnn in-memory module: {', '.join(self._program.definitions)}>"
