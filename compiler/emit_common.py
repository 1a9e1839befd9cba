"""Emitting: the one walk over a plan that both backends share, and the function it yields.

>>> import catnn
>>> from catnn.compiler.plan import build_plan
>>> from catnn.compiler.backends import emit
>>> G = catnn.group("S")
>>> fn = emit(build_plan(G, 1, 1, G.spanning_set(1, 1)), "layer", "einsum")
>>> [line for line in fn.source.splitlines() if line.startswith("def ")]
['def layer__plan(xs, weights, biases, out_channels, n=None, sizes=None):', 'def layer(x, weight, bias=None):']

A plan (:mod:`.ir`) becomes one function ``NAME__plan(xs, weights, biases, out_channels, n=None,
sizes=None)`` returning a tuple of outputs: ``xs[i]`` is input i (a pair of tensors for a bilinear
input), ``weights[b]`` block b's (len, D_j, C_i) weights, ``biases[j]`` output j's (len, D_j) bias
(or None when it has no bias diagrams), ``out_channels[j]`` = D_j, ``n`` the size when no input
has an axis, ``sizes`` the real size of every sample of a padded batch (``normalize=True`` divides
by it). A plan with one input and one output also gets ``NAME(x, weight, bias=None)`` (with
``n=`` when k = 0). :class:`SourceEmitter` walks the plan — inputs, gathered weights, constants,
cores, then per output its mix groups, biases, folds and writes — and a backend
(:mod:`.emit_torch`, :mod:`.emit_einsum`) spells each step; :mod:`.backends` names them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from catnn import messages
from catnn.errors import CompileError

from .ir import CoreStep, FoldStep, MixGroup, MixStep, Plan, Section, View, WriteStep, letters
from .pysource import docstring

__all__ = ["SourceEmitter", "Emitted", "broadcast", "with_constants", "default_doc", "docstring", "constant_helpers",
           "PER_GRAPH_HELPER", "HELPER_PREFIX"]

#: the prefix of every helper pasted into generated code ("runtime": ``_rt__diagonal``, ``_rt__const_J``, …):
#: program names never start with ``_`` and never hold ``__``, and a definition NAME's own functions
#: are ``_NAME`` and ``_NAME__plan``/``__forward``/``__backward``/``__Function``, so no name collides
HELPER_PREFIX = "_rt__"

PER_GRAPH_HELPER = '''def _rt__per_graph(n, sizes, dims):
    """n, or the real size of each sample of a padded batch shaped (B, 1, ...) to divide a core."""
    if sizes is None:
        return n
    return sizes.reshape((-1,) + (1,) * (1 + dims))
'''


@dataclass
class Emitted:
    """An emitted function: its name, its source, the helper sources it needs, and the callable."""

    name: str
    source: str
    helpers: tuple[str, ...]
    imports: tuple[str, ...]
    function: Any = field(default=None, repr=False)
    plan_function: Any = field(default=None, repr=False)

    @property
    def full_source(self) -> str:
        """A runnable module: imports, helpers, then the function."""
        return "\n".join(self.imports) + "\n\n\n" + "\n\n\n".join((*self.helpers, self.source)) + "\n"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    @classmethod
    def load(cls, name: str, source: str, helpers: tuple[str, ...], imports: tuple[str, ...]) -> Emitted:
        """The emitted function with its module (imports, helpers, source) executed once."""
        emitted = cls(name, source, helpers, imports)
        namespace: dict[str, Any] = {}
        exec(compile(emitted.full_source, f"<catnn {name}>", "exec"), namespace)  # noqa: S102 - our own code
        emitted.plan_function = namespace[f"{name}__plan"]
        emitted.function = namespace.get(name, emitted.plan_function)
        return emitted


class SourceEmitter:
    """Walks a plan and writes its functions; subclasses spell each step for their backend."""

    #: import lines the emitted code needs
    imports: tuple[str, ...] = ()
    #: the array method that reshapes a bias-only accumulator (numpy has no shape-changing ``view``)
    reshape = "reshape"
    #: index lists up to this long are written as literals; longer ones become module constants
    INLINE_INDICES = 1024

    def __init__(self, plan: Plan, name: str = "layer", doc: str | None = None) -> None:
        self.plan = plan
        self.name = name
        self.doc = doc if doc is not None else default_doc(plan)
        self.lines: list[str] = []
        self.indent = 0
        self.index_constants: dict[str, str] = {}

    # -- the functions --------------------------------------------------------------------------
    def source(self) -> str:
        """``NAME__plan`` (and ``NAME`` for single-order plans): the plan's forward steps."""
        self.lines = [f"def {self.name}__plan({self.signature()}):", "    " + docstring(self.doc, "    ")]
        self.forward_body()
        self.line(f"return {self.outputs_tuple()}")
        return "\n".join(self.lines) + "\n" + self.single_entry()

    def signature(self) -> str:
        n_default = "None" if self.plan.n is None else str(int(self.plan.n))
        return f"xs, weights, biases, out_channels, n={n_default}, sizes=None"

    def outputs_tuple(self) -> str:
        return "(" + "".join(f"y{j}, " for j in range(len(self.plan.sections))).rstrip(" ") + ")"

    def single_entry(self) -> str:
        """``NAME(x, weight, bias=None)`` calling ``NAME__plan``, for a plan with one input and output."""
        p = self.plan
        if not p.is_single:
            return ""
        n_default = "None" if p.n is None else str(int(p.n))
        signature = "x, weight, bias=None" if p.k else f"x, weight, bias=None, n={n_default}"
        return "\n\n" + "\n".join([
            f"def {self.name}({signature}):",
            f'    """{p.headline}; see '
            f'{self.name}__plan."""',
            f"    return {self.name}__plan((x,), (weight,), (bias,), (weight.shape[1],), "
            f"{'None' if p.k else 'n'})[0]",
        ]) + "\n"

    def forward_body(self) -> None:
        """The forward steps, leaving output j in ``y<j>``."""
        p = self.plan
        self.inputs()
        self.gathered_weights("weights")
        self.constants("x")
        for i in range(len(p.inputs)):
            cores = p.input_cores(i)
            if cores:
                self.line(f"# cores of input {i}: one per distinct bottom half (diagonals are views, sums done once)")
            self.cores_forward(cores)
        for j, sec in enumerate(p.sections):
            self.section(j, sec)

    def cores_forward(self, cores: Sequence[CoreStep]) -> None:
        """The lines computing one input's cores, in order."""
        for c in cores:
            self.line(f"{c.name} = {self.core_expr(c)}")

    def inputs(self) -> None:
        """``x<i>`` (or ``x<i>a, x<i>b``), ``I<i>`` channels, ``B``, ``n`` and ``x`` (dtype and device)."""
        sizes_from = None
        for i, x in enumerate(self.plan.inputs):
            if x.factors:
                self.line(f"x{i}a, x{i}b = xs[{i}]  # the factors of the product input")
                self.line(f"I{i} = {f'x{i}a.shape[1] * x{i}b.shape[1]' if x.outer else f'x{i}a.shape[1]'}")
                if sizes_from is None and any(x.factors):
                    sizes_from = f"x{i}{'a' if x.factors[0] else 'b'}"
            else:
                self.line(f"x{i} = xs[{i}]")
                self.line(f"I{i} = x{i}.shape[1]")
                if sizes_from is None and x.order:
                    sizes_from = f"x{i}"
        first = self.plan.inputs[0]
        self.line(f"x = x0{'a' if first.factors else ''}  # dtype and device of every new tensor")
        self.line("B = x.shape[0]")
        if len(self.plan.sorts) <= 1:
            if sizes_from is not None:
                self.line(f"n = {sizes_from}.shape[-1]")
            return
        found = {}   # typed axes: each sort's size from an axis of that sort, else from n = (n_0, n_1, ...)
        for sort in range(len(self.plan.sorts)):
            found[sort] = next((f"x{i}.shape[{2 + x.axis_sorts.index(sort)}]" for i, x in enumerate(self.plan.inputs)
                                if not x.factors and sort in x.axis_sorts), None)
        if None in found.values():
            self.line(f"{', '.join(self.size(s) for s in found)}, = n")
        for sort, expr in found.items():
            if expr is not None:
                self.line(f"{self.size(sort)} = {expr}")

    def gathered_weights(self, source: str) -> None:
        """``wb<b>``: block b's weight rows in the order its mix groups read them, times their signs."""
        for b, rows in enumerate(self.plan.gather):
            self.line(f"wb{b} = {self.gathered_block(source, b, rows)}")

    def gathered_block(self, source: str, b: int, rows: Sequence[int]) -> str:
        """Block b's weight rows in gathered order, times their signs."""
        expr = f"{source}[{b}]"
        if list(rows) != list(range(len(self.plan.blocks[b].diagrams))):
            expr = f"{expr}[{self.indices(list(rows), f'order{b}')}]"
        signs = list(self.plan.signs(b))
        if any(s != 1 for s in signs):
            expr = f"{expr} * {self.sign_vector(signs, f'{source}[{b}]')}"
        return expr

    def indices(self, values: list[int], what: str) -> str:
        """An index list as code: a literal, or (over ``INLINE_INDICES`` entries) the module constant
        ``_NAME__what``, parsed once from one string: a literal of 10^5 numbers is slow to compile.

        >>> import catnn
        >>> from catnn.compiler.plan import build_plan
        >>> e = SourceEmitter(build_plan("S", 1, 1, catnn.group("S").spanning_set(1, 1)), "f")
        >>> e.indices([1, 0], "order0"), e.indices(list(range(2000)), "order0"), e.index_constants["_f__order0"][:28]
        ('[1, 0]', '_f__order0', '[int(i) for i in "0 1 2 3 4 ')
        """
        if len(values) <= self.INLINE_INDICES:
            return str(values)
        name = f"_{self.name}__{what}"
        self.index_constants[name] = self.index_array(f'[int(i) for i in "{" ".join(map(str, values))}".split()]')
        return name

    def index_array(self, values: str) -> str:
        """An index list (the source of a Python list) as this backend's index for ``weight[...]``."""
        return values

    def index_sources(self) -> tuple[str, ...]:
        """The module constants :meth:`indices` made (after the functions were written)."""
        return tuple(f"{name} = {value}\n" for name, value in self.index_constants.items())

    def constants(self, like: str) -> None:
        sorts = self.plan.constant_sorts or (0,) * len(self.plan.constants)
        for kind, sort in zip(self.plan.constants, sorts):
            self.line(f"{kind} = _rt__constant({kind!r}, {self.size(sort)}, {like})")

    def section(self, j: int, sec: Section) -> None:
        self.line(f"# output {j} (order {sec.order}): channel mixing on the cores, one matmul per group")
        self.line(f"O = out_channels[{j}]")
        if sec.bias_diagrams:
            self.line(f"bias = biases[{j}]")
        for g in sec.groups:
            self.group(g)
        for m in sec.mixes:
            if m.bias:
                self.bias(m)
        for f in sec.folds:
            self.fold(f)
        if sec.first_write is None:
            self.line(f"out = {self.zeros(self.shape_expr('B', 'O', sec.axis_sorts))}")
        for w in sec.writes:
            self.write(w)
        self.line(f"y{j} = out")

    def line(self, text: str) -> None:
        self.lines.append("    " * (1 + self.indent) + text)

    # -- shared spelling ----------------------------------------------------------------------
    @staticmethod
    def size(sort: int) -> str:
        """The name of a sort's size in generated code: ``n`` (sort 0), ``n1``, ``n2``, …"""
        return "n" if sort == 0 else f"n{sort}"

    def flat(self, sorts: Sequence[int]) -> str:
        """The number of entries of axes of these sorts, spelled for a reshape (never -1: a batch of 0
        has no size to infer): ``1``, ``n``, ``n ** 2``, ``n ** 2 * n1``."""
        counts = {s: list(sorts).count(s) for s in dict.fromkeys(sorts)}
        return " * ".join(self.size(s) + (f" ** {c}" if c > 1 else "") for s, c in counts.items()) or "1"

    def shape_expr(self, b: str, c: str, sorts: Sequence[int]) -> str:
        """``B, C, n, …``: a shape with one size per axis (each axis's sort)."""
        return ", ".join([b, c] + [self.size(s) for s in sorts])

    def scale_suffix(self, c: CoreStep) -> str:
        if not self.plan.normalize or not c.scale:
            return ""
        if len(self.plan.sorts) > 1:
            return self.sorted_scale(c)
        power = "" if c.scale == 1 else f" ** {c.scale}"
        return f" / _rt__per_graph(n, sizes, {len(c.labels)}){power}"

    def sorted_scale(self, c: CoreStep) -> str:
        """Products: each summed-out block divided by its own sort's size (``sizes[s]``: each sample's
        own n_s under a mask on sort s, ``sizes`` a tuple with one entry per sort)."""
        counts = Counter(c.sort(lab) for lab in c.summed_labels)
        if c.constants or sum(counts.values()) != c.scale:
            raise CompileError(messages.TYPED_NORMALIZE_CONSTANTS.format(group=self.plan.group))
        parts = [f"_rt__per_graph({self.size(s)}, sizes and sizes[{s}], {len(c.labels)})" + (f" ** {a}" if a > 1 else "")
                 for s, a in sorted(counts.items())]
        return f" / ({' * '.join(parts)})" if len(parts) > 1 else f" / {parts[0]}"

    def broadcast(self, expr: str, labels: Sequence[int], target: Sequence[int], lead: int = 2) -> str:
        """``expr`` (axes ``labels``) indexed so it broadcasts against axes ``target``."""
        return broadcast(expr, labels, target, lambda e, perm: self.permute(e, perm, lead), lead)

    def core_expr(self, c: CoreStep) -> str:
        """The expression computing core ``c`` from its source (an input, its factors, or a core)."""
        x = self.plan.inputs[c.input]
        consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
        names = "".join(f", {kind}" for kind, _ in c.constants)
        out = letters(c.labels)
        if c.source == f"x{c.input}" and x.factors:
            a = x.factors[0]
            left, right = letters(c.source_labels[:a]), letters(c.source_labels[a:])
            second = "p" if x.outer else "c"
            eq = f"bc{left},b{second}{right}{consts}->bc{second if x.outer else ''}{out}"
            expr = self.contract(eq, f"x{c.input}a, x{c.input}b{names}")
            if x.outer:
                expr = f"{expr}.reshape({self.shape_expr('B', f'I{c.input}', c.sorts)})"
        else:
            expr = self.reduction(c)
        return expr + self.scale_suffix(c)

    def features(self, g: MixGroup) -> list[str]:
        """Per run of ``g``, its stacked features (B, P_r·I_i, entries)."""
        out, start, flat = [], 0, self.flat(self.plan.group_sorts(g))
        for run in g.runs:
            parts = [self.permute(core, perm) if list(perm) != sorted(perm) else core
                     for core, perm in g.features[start:start + run.count]]
            start += run.count
            out.append(f"{parts[0]}.reshape(B, I{run.input}, {flat})" if len(parts) == 1 else
                       f"{self.stack(parts)}.reshape(B, {len(parts)} * I{run.input}, {flat})")
        return out

    def bias(self, m: MixStep) -> None:
        total = " + ".join(f"bias[{j}]" for j in m.bias)
        if m.terms:
            self.line(f"{m.name} += {total}")
        else:
            self.line(f"{m.name} = ({total}).{self.reshape}(1, O)  # bias only")

    def fold(self, f: FoldStep) -> None:
        self.line(f"{f.target} += {self.broadcast(f.source, f.source_labels, f.target_labels)}"
                  f"  # bo{letters(f.source_labels)}->bo{letters(f.target_labels)}")

    # -- what a backend spells ----------------------------------------------------------------
    def sign_vector(self, signs: list[int], like: str) -> str:
        """The signs as an array that broadcasts against a weight ``like`` (diagrams, out, in)."""
        raise NotImplementedError

    def contract(self, equation: str, operands: str) -> str:
        raise NotImplementedError

    def reduction(self, c: CoreStep) -> str:
        """Core ``c`` from a plain source: diagonals, sums, constants."""
        raise NotImplementedError

    def stack(self, parts: list[str]) -> str:
        raise NotImplementedError

    def group(self, g: MixGroup) -> None:
        raise NotImplementedError

    def write(self, w: WriteStep) -> None:
        """``out = acc`` (the first write), else the accumulator, times the view's constants and
        broadcast, added into its view of ``out``."""
        view = self.plan.view(w.view)
        if w.first:
            self.line(f"out = {w.acc}")
            return
        value, labels = with_constants(view, w.acc, w.labels, self.contract)
        self.add_into(view, self.broadcast(value, labels, view.labels),
                      f"  # out[bo{letters(view.output)}] += {w.acc}[bo{letters(w.labels)}]")

    def add_into(self, view: View, value: str, comment: str) -> None:
        """``view(out) += value`` in place (a diagonal view when the view repeats an output label)."""
        raise NotImplementedError

    def zeros(self, shape: str) -> str:
        raise NotImplementedError

    def permute(self, expr: str, perm: Sequence[int], lead: int = 2) -> str:
        raise NotImplementedError

    #: the backend's ``_rt__constant`` (a constant at size n, as an array like the input)
    constant_helper = ""

    def backend_helpers(self) -> tuple[str, ...]:
        """The helpers this backend's spelling calls (diagonal views, cached contractions, …)."""
        raise NotImplementedError

    def helper_sources(self) -> tuple[str, ...]:
        """The helpers the written functions call: the backend's, the per-sample scale, the constants'
        builders, then the long index lists (call after :meth:`source`)."""
        helpers = self.backend_helpers() + ((PER_GRAPH_HELPER,) if self.plan.normalize else ())
        if self.plan.constants:
            helpers += (self.constant_helper,) + constant_helpers(self.plan)
        return helpers + self.index_sources()

    # -- building -----------------------------------------------------------------------------
    def emit(self) -> Emitted:
        """The functions' source, their helpers, and the callable (source executed once)."""
        source = self.source()
        return Emitted.load(self.name, source, self.helper_sources(), self.imports)

    def uses_diagonal(self) -> bool:
        p = self.plan
        cores = any(len(set(c.source_labels)) < len(c.source_labels) for c in p.cores)
        return cores or any(not p.view(w.view).is_whole for w in p.writes)


def broadcast(expr: str, labels: Sequence[int], target: Sequence[int],
              permute: Callable[[str, list[int]], str], lead: int = 2) -> str:
    """``expr`` (``lead`` leading axes, then axes ``labels``) permuted into the order of ``target`` and
    ``None``-indexed where ``target`` has a label it lacks, so that it broadcasts against ``target``.

    >>> broadcast("a", [2, 1], [1, 2, 3], lambda e, perm: f"{e}.permute({perm})")
    'a.permute([1, 0])[:, :, :, :, None]'
    """
    present = [lab for lab in target if lab in labels]
    if list(labels) != present:
        expr = permute(expr, [list(labels).index(lab) for lab in present])
    if list(labels) == list(target):
        return expr
    index = [":"] * lead + [":" if lab in labels else "None" for lab in target]
    while index and index[-1] == ":":
        index.pop()
    return f"{expr}[{', '.join(index)}]" if index else expr


def with_constants(view: View, value: str, labels: Sequence[int],
                   contract: Callable[[str, str], str]) -> tuple[str, list[int]]:
    """An accumulator ``value`` (axes ``labels``) contracted with a write view's constants, if it has
    any: the expression (``contract(equation, operands)``) and the labels it is left with.

    >>> view = View("v0", (0, 1), (("J", (0, 1)),))
    >>> with_constants(view, "a0", [0], lambda eq, ops: f"einsum({eq!r}, {ops})")
    ("einsum('boi,ij->boij', a0, J)", [0, 1])
    """
    if not view.constants:
        return value, list(labels)
    consts = "".join(f",{letters(labs)}" for _, labs in view.constants)
    names = "".join(f", {kind}" for kind, _ in view.constants)
    present = [lab for lab in view.labels if lab in labels or any(lab in labs for _, labs in view.constants)]
    return contract(f"bo{letters(labels)}{consts}->bo{letters(present)}", f"{value}{names}"), present


def constant_helpers(plan: Plan) -> tuple[str, ...]:
    """The builders of the plan's constants as pasted into generated code (``_rt__const_<kind>``)."""
    return tuple(source.replace("def _const_", f"def {HELPER_PREFIX}const_", 1) for source in plan.constant_sources)


#: layers with more diagrams than this do not list them in their docstring (it would take megabytes)
DOC_DIAGRAMS = 10_000


def default_doc(plan: Plan) -> str:
    """The docstring of an emitted plan function: what it computes and which diagram is which."""
    norm = "; each summed-out block divided by n" if plan.normalize else ""
    if plan.is_single:
        head = (f"{plan.headline}.\n\n"
                f"out = sum_i weight[i] (x) D_i{' + sum_j bias[j] (x) E_j' if plan.bias_diagrams else ''}{norm}.")
        lines = [head, ""]
        if len(plan.diagrams) <= DOC_DIAGRAMS:
            lines += [f"D_{i}: {d}" for i, d in enumerate(plan.diagrams)]
        else:
            lines.append(f"D_0 .. D_{len(plan.diagrams) - 1}: the layer's diagrams, in order (too many to list here)")
        lines += [f"E_{j}: {d}" for j, d in enumerate(plan.bias_diagrams)]
        return "\n".join(lines)
    ins = " + ".join(f"V{x.order}" if not x.factors else "V" + "(x)V".join(map(str, x.factors)) for x in plan.inputs)
    outs = " + ".join(f"V{l}" for l in plan.outputs)
    lines = [f"{plan.group}: {ins} -> {outs}; one weight (D_j, C_i) per diagram of each block{norm}.", ""]
    for b, block in enumerate(plan.blocks):
        listed = ", ".join(str(d) for d in block.diagrams) if len(block.diagrams) <= DOC_DIAGRAMS else \
            f"{len(block.diagrams)} diagrams (too many to list here)"
        lines.append(f"block {b} (input {block.input} -> output {block.output}): {listed}")
    for j, sec in enumerate(plan.sections):
        if sec.bias_diagrams:
            lines.append(f"bias of output {j}: " + ", ".join(str(d) for d in sec.bias_diagrams))
    return "\n".join(lines)
