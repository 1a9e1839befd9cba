"""One plan for a layer between mixed-order feature spaces (and for bilinear and masked layers).

>>> import catnn
>>> p = build_mixed_plan(catnn.group("S"), (0, 2), (1, 2))
>>> [(p.inputs[b.input].order, p.outputs[b.output]) for b in p.blocks]
[(0, 1), (0, 2), (2, 1), (2, 2)]
>>> [len(cores) for cores in p.cores]        # order 2: one set of cores for both output orders
[1, 6]

A layer ``Σ_i C_i V^{k_i} → Σ_j D_j V^{l_j}`` has a block of diagrams for every pair (k_i, l_j),
each block with its own weights ``(len(diagrams), D_j, C_i)``. The plan is the single-order plan of
:mod:`.plan` with its two halves shared across blocks:

- **cores, per input order**: the bottom halves of *all* blocks reading input i are scheduled
  together, so a reduction of the order-k_i input (a diagonal, a row sum, a trace) is computed once
  and serves every output order;
- **accumulators, per output order**: the top halves of all blocks writing output j are scheduled
  together, so diagrams from *different* input orders that write through the same output pattern are
  channel-mixed in one matmul (their cores concatenated along the channel axis, their Λ's side by
  side), small accumulators are folded into large ones, and output j is written once.

The same machinery runs two special cases: a **bilinear** input (``Input.factors = (a, b)``) whose
cores read ``x ⊗ y`` without forming it: each core is one einsum over the two factors, so a block
contracting across them never holds the product; and **per-graph sizes** (``sizes``, a (B,)
tensor): ``normalize=True`` divides each summed-out block by the real n of every sample of a padded
batch.

:func:`emit_mixed` writes the plan as one Python function
``NAME(xs, weights, biases, out_channels, n=None, sizes=None)`` returning a tuple of outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from catnn import messages
from catnn.errors import CompileError

from .codegen import Emitted, broadcast, docstring, flat_size, with_constants
from .kernels import constant_sources
from .plan import CoreStep, FoldStep, MixGroup, MixStep, OutputSteps, View, WriteStep, _halves, _schedule_accumulators, \
    _schedule_cores, letters

__all__ = ["Input", "Block", "Section", "MixedPlan", "build_mixed_plan", "emit_mixed", "PER_GRAPH_HELPER"]


@dataclass(frozen=True)
class Input:
    """One input of the layer: a tensor of order ``order``, or the product of two (``factors``)."""

    order: int
    #: bilinear: the orders (a, b) of the two factors whose product x ⊗ y is this input
    factors: tuple[int, ...] = ()
    #: bilinear channels: x_c ⊗ y_d for every pair (True) or x_c ⊗ y_c (False)
    outer: bool = False


@dataclass(frozen=True)
class Block:
    """The diagrams from input ``input`` to output ``output``; ``weights[b]`` is (len, D_j, C_i)."""

    input: int
    output: int
    diagrams: tuple[Any, ...]


@dataclass(frozen=True)
class Section(OutputSteps):
    """Everything written into one output: views, mixes, mix groups, folds and writes."""

    order: int
    views: tuple[View, ...]
    mixes: tuple[MixStep, ...]
    groups: tuple[MixGroup, ...]
    folds: tuple[FoldStep, ...]
    writes: tuple[WriteStep, ...]
    bias_diagrams: tuple[Any, ...] = ()


@dataclass(frozen=True)
class MixedPlan:
    """The whole layer; ``terms[t] = (block, row)``: term t of a mix is ``weights[block][row]``."""

    group: str
    n: int | None
    normalize: bool
    inputs: tuple[Input, ...]
    outputs: tuple[int, ...]
    blocks: tuple[Block, ...]
    cores: tuple[tuple[CoreStep, ...], ...]     # per input; names c0, c1, ... unique across inputs
    sections: tuple[Section, ...]               # per output
    terms: tuple[tuple[int, int], ...]
    constants: tuple[str, ...] = field(default=())

    def core_input(self, name: str) -> int:
        """The input whose cores include ``name``."""
        return next(i for i, cores in enumerate(self.cores) if any(c.name == name for c in cores))

    def explain(self) -> str:
        """What is computed once and shared: cores per input order, mix groups per output order.

        >>> import catnn
        >>> print(build_mixed_plan(catnn.group("S"), (1, 2), (1,)).explain().splitlines()[0])
        Mixed plan: S V1 + V2 -> V1, 2 blocks (1 -> 1: 2 diagrams, 2 -> 1: 5 diagrams)
        """
        ins = " + ".join("V" + "(x)V".join(map(str, x.factors)) if x.factors else f"V{x.order}" for x in self.inputs)
        blocks = ", ".join(f"{self.inputs[b.input].order} -> {self.outputs[b.output]}: {len(b.diagrams)} diagrams"
                           for b in self.blocks)
        lines = [f"Mixed plan: {self.group} {ins} -> {' + '.join(f'V{l}' for l in self.outputs)}, "
                 f"{len(self.blocks)} blocks ({blocks})"]
        for i, cores in enumerate(self.cores):
            readers = sorted({self.outputs[b.output] for b in self.blocks if b.input == i})
            lines.append(f"  input {i} (order {self.inputs[i].order}): {len(cores)} cores, shared by output "
                         f"orders {readers}")
            for c in cores:
                eq = f"bc{letters(c.source_labels)}{''.join(',' + letters(l) for _, l in c.constants)}->bc{letters(c.labels)}"
                lines.append(f"    {c.name} = {eq} from {c.source}")
        for j, sec in enumerate(self.sections):
            lines.append(f"  output {j} (order {sec.order}): {len(sec.groups)} channel mixes, {len(sec.folds)} folds, "
                         f"{len(sec.writes)} writes")
            for g in sec.groups:
                feats = " ".join(f"{core}(input {self.core_input(core)})" for core, _ in g.features)
                lines.append(f"    {g.name}: one matmul, {len(g.members)} accumulators x {len(g.features)} "
                             f"features: {feats}")
        return "\n".join(lines)


def build_mixed_plan(group: Any, inputs: Sequence[int | Input], outputs: Sequence[int], *,
                     diagrams: Mapping[tuple[int, int], Sequence[Any]] | None = None, bias: bool = True,
                     normalize: bool = False) -> MixedPlan:
    """The plan of a layer from ``inputs`` (orders, or :class:`Input`) to the output ``orders``.

    ``diagrams[(i, j)]`` (indices into inputs and outputs) overrides the group's spanning set of a
    block; blocks without diagrams are left out. ``bias``: each output gets the group's 0 -> l
    diagrams, one weight per output channel (``biases[j]`` is (len, D_j)).
    """
    if getattr(group, "name", group) == "Aut":
        raise CompileError(messages.MIXED_AUT)
    ins = tuple(x if isinstance(x, Input) else Input(int(x)) for x in inputs)
    chosen = {} if diagrams is None else {key: tuple(v) for key, v in diagrams.items()}
    blocks = []
    for i, x in enumerate(ins):
        for j, l in enumerate(outputs):
            ds = chosen[(i, j)] if (i, j) in chosen else (tuple(group.spanning_set(x.order, l))
                                                          if diagrams is None else ())
            if ds:
                blocks.append(Block(i, j, tuple(ds)))
    bias_diagrams = tuple(tuple(group.spanning_set(0, l)) if bias else () for l in outputs)
    name = getattr(group, "name", group)
    return _build(name, getattr(group, "n", None), bool(normalize), ins, tuple(outputs), tuple(blocks),
                  bias_diagrams)


@lru_cache(maxsize=128)
def _build(group: str, n: int | None, normalize: bool, inputs: tuple[Input, ...], outputs: tuple[int, ...],
           blocks: tuple[Block, ...], bias_diagrams: tuple[tuple[Any, ...], ...]) -> MixedPlan:
    halves = {b: [_halves(group, d) for d in block.diagrams] for b, block in enumerate(blocks)}
    cores, core_of = _input_cores(inputs, blocks, halves)
    sections, terms = [], []
    for j, l in enumerate(outputs):
        mine = [(b, r) for b, block in enumerate(blocks) if block.output == j for r in range(len(block.diagrams))]
        offset = len(terms)
        terms.extend(mine)
        hs = [halves[b][r] for b, r in mine]
        names = [core_of[b][r] for b, r in mine]
        bias_halves = [_halves(group, d) for d in bias_diagrams[j]]
        views, mixes, groups, folds, writes = _schedule_accumulators(hs, bias_halves, names, l)
        mixes = [MixStep(m.name, m.view, m.labels, tuple(_shift(t, offset) for t in m.terms), m.bias, m.group)
                 for m in mixes]
        folds = sorted(folds, key=lambda f: len(f.source_labels))
        sections.append(Section(l, tuple(views), tuple(mixes), tuple(groups), tuple(folds), tuple(writes),
                                bias_diagrams[j]))
    constants = sorted({kind for cs in cores for c in cs for kind, _ in c.constants}
                       | {kind for s in sections for v in s.views for kind, _ in v.constants})
    return MixedPlan(group, n, normalize, inputs, outputs, blocks, tuple(cores), tuple(sections), tuple(terms),
                     tuple(constants))


def _input_cores(inputs: tuple[Input, ...], blocks: tuple[Block, ...], halves: dict) -> tuple[list, dict]:
    """Per input, one core schedule over the bottom halves of every block reading it."""
    cores: list[tuple[CoreStep, ...]] = []
    core_of: dict[int, list[str]] = {}
    base = 0
    for i in range(len(inputs)):
        mine = [b for b, block in enumerate(blocks) if block.input == i]
        steps, names = _schedule_cores([h.bottom for b in mine for h in halves[b]])
        rename = {s.name: f"c{base + m}" for m, s in enumerate(steps)}
        rename["x"] = f"x{i}"
        cores.append(tuple(CoreStep(rename[s.name], rename[s.source], s.source_labels, s.labels, s.constants,
                                    s.scale, s.summed) for s in steps))
        it = iter(names)
        for b in mine:
            core_of[b] = [rename[next(it)] for _ in halves[b]]
        base += len(steps)
    return cores, core_of


def _shift(t: Any, offset: int) -> Any:
    return type(t)(t.index + offset, t.core, t.perm, t.sign)


# -- emitting ---------------------------------------------------------------------------------------
PER_GRAPH_HELPER = '''def _per_graph(n, sizes, dims):
    """n, or the real size of each sample of a padded batch shaped (B, 1, ...) to divide a core."""
    if sizes is None:
        return n
    return sizes.reshape((-1,) + (1,) * (1 + dims))
'''


def emit_mixed(plan: MixedPlan, name: str = "layer", backend: str = "torch", doc: str | None = None) -> Emitted:
    """The Python function running ``plan`` (cached); ``backend="einsum"`` contracts with opt_einsum."""
    if backend not in ("torch", "einsum"):
        raise CompileError(messages.BAD_BACKEND.format(name=backend, known="torch, einsum"))
    return _emit(plan, name, backend, doc)


@lru_cache(maxsize=128)
def _emit(plan: MixedPlan, name: str, backend: str, doc: str | None) -> Emitted:
    writer = _Writer(plan, backend)
    source = writer.function(name, doc or _default_doc(plan))
    return Emitted.load(name, source, writer.helper_sources(), writer.imports())


def _default_doc(plan: MixedPlan) -> str:
    ins = " + ".join(f"V{x.order}" if not x.factors else "V" + "(x)V".join(map(str, x.factors))
                     for x in plan.inputs)
    outs = " + ".join(f"V{l}" for l in plan.outputs)
    lines = [f"{plan.group}: {ins} -> {outs}; one weight (D_j, C_i) per diagram of each block.", ""]
    for b, block in enumerate(plan.blocks):
        lines.append(f"block {b} (input {block.input} -> output {block.output}): "
                     + ", ".join(str(d) for d in block.diagrams))
    return "\n".join(lines)


class _Writer:
    """Spells a mixed plan as torch code (cores by einsum; opt_einsum for ``backend="einsum"``)."""

    def __init__(self, plan: MixedPlan, backend: str) -> None:
        self.plan = plan
        self.backend = backend
        self.lines: list[str] = []
        self.uses_diagonal = False

    def line(self, text: str) -> None:
        self.lines.append("    " + text)

    def imports(self) -> tuple[str, ...]:
        return ("import sys", "", "import opt_einsum", "import torch") if self.backend == "einsum" \
            else ("import torch",)

    def helper_sources(self) -> tuple[str, ...]:
        from .emit_torch import CONSTANT_HELPER, DIAGONAL_HELPER
        helpers = [PER_GRAPH_HELPER] if self.plan.normalize else []
        if self.uses_diagonal:
            helpers.append(DIAGONAL_HELPER)
        if self.backend == "einsum":
            from .emit_einsum import HELPERS
            helpers.append(HELPERS)
        if self.plan.constants:
            helpers.append(CONSTANT_HELPER)
            helpers += constant_sources(self.plan.constants)
        return tuple(helpers)

    # -- the function ---------------------------------------------------------------------------
    def function(self, name: str, doc: str) -> str:
        p = self.plan
        self.lines = [f"def {name}(xs, weights, biases, out_channels, n=None, sizes=None):",
                      "    " + docstring(doc, "    ")]
        self.inputs()
        for b in range(len(p.blocks)):
            self.line(f"w{b} = weights[{b}]")
        for kind in p.constants:
            self.line(f"{kind} = _constant({kind!r}, n, x)")
        for i, cores in enumerate(p.cores):
            if cores:
                self.line(f"# cores of input {i} (order {p.inputs[i].order}): one per distinct bottom half")
            for c in cores:
                self.core(i, c)
        for j, section in enumerate(p.sections):
            self.section(j, section)
        self.line(f"return ({''.join(f'y{j}, ' for j in range(len(p.sections)))})")
        return "\n".join(self.lines) + "\n"

    def inputs(self) -> None:
        sizes_from = None
        for i, x in enumerate(self.plan.inputs):
            if x.factors:
                self.line(f"x{i}a, x{i}b = xs[{i}]  # the factors of the product input")
                channels = f"x{i}a.shape[1] * x{i}b.shape[1]" if x.outer else f"x{i}a.shape[1]"
                if sizes_from is None and any(x.factors):
                    sizes_from = f"x{i}{'a' if x.factors[0] else 'b'}"
            else:
                self.line(f"x{i} = xs[{i}]")
                channels = f"x{i}.shape[1]"
                if sizes_from is None and x.order:
                    sizes_from = f"x{i}"
            self.line(f"I{i} = {channels}")
        first = self.plan.inputs[0]
        self.line(f"x = x0{'a' if first.factors else ''}  # dtype and device of every new tensor")
        self.line("B = x.shape[0]")
        if sizes_from is not None:
            self.line(f"n = {sizes_from}.shape[-1]")

    def core(self, i: int, c: CoreStep) -> None:
        x = self.plan.inputs[i]
        consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
        names = "".join(f", {kind}" for kind, _ in c.constants)
        out = letters(c.labels)
        if c.source == f"x{i}" and x.factors:
            a = x.factors[0]
            left, right = letters(c.source_labels[:a]), letters(c.source_labels[a:])
            second = "p" if x.outer else "c"
            eq = f"bc{left},b{second}{right}{consts}->bc{second if x.outer else ''}{out}"
            expr = self.contract(eq, f"x{i}a, x{i}b{names}")
            if x.outer:
                expr = f"{expr}.reshape(B, I{i}{', n' * len(c.labels)})"
        elif c.source_labels == c.labels and not c.constants:
            expr = c.source
        else:
            expr = self.contract(f"bc{letters(c.source_labels)}{consts}->bc{out}", f"{c.source}{names}")
        if self.plan.normalize and c.scale:
            power = "" if c.scale == 1 else f" ** {c.scale}"
            expr = f"{expr} / _per_graph(n, sizes, {len(c.labels)}){power}"
        self.line(f"{c.name} = {expr}")

    def contract(self, eq: str, operands: str) -> str:
        if self.backend == "einsum":
            return f"_contract({eq!r}, {operands})"
        return f"torch.einsum({eq!r}, {operands})"

    # -- one output ---------------------------------------------------------------------------
    def section(self, j: int, s: Section) -> None:
        self.line(f"# output {j} (order {s.order})")
        self.line(f"O = out_channels[{j}]")
        if s.bias_diagrams:
            self.line(f"bias = biases[{j}]")
        for g in s.groups:
            self.mix_group(s, g)
        for m in s.mixes:
            if m.bias:
                total = " + ".join(f"bias[{b}]" for b in m.bias)
                self.line(f"{m.name} = {m.name} + {total}" if m.terms else f"{m.name} = ({total}).reshape(1, O)")
        for f in s.folds:
            self.line(f"{f.target} = {f.target} + {broadcast(f.source, f.source_labels, f.target_labels, _permute)}")
        if s.first_write is None:
            self.line(f"out = x.new_zeros((B, O{', n' * s.order}))")
        for w in s.writes:
            self.write(s, w)
        self.line(f"y{j} = out")

    def mix_group(self, s: Section, g: MixGroup) -> None:
        p = self.plan
        runs = _runs(p, g)
        feats = []
        for i, members in runs:
            parts = [_permute(core, perm) for core, perm in members]
            if len(parts) == 1:
                feats.append(f"{parts[0]}.reshape(B, I{i}, {flat_size(g.dims)})")
            else:
                feats.append(f"torch.stack(({', '.join(parts)}), 1).reshape(B, {len(parts)} * I{i}, {flat_size(g.dims)})")
        self.line(f"f = {feats[0] if len(feats) == 1 else 'torch.cat((' + ', '.join(feats) + '), 1)'}")
        rows = [self.member_weight(s.mix(m), runs) for m in g.members]
        self.line(f"wg = {rows[0] if len(rows) == 1 else 'torch.cat((' + ', '.join(rows) + '), 0)'}")
        M, d = len(g.members), g.dims
        if M == 1:
            self.line(f"{g.members[0]} = torch.matmul(wg, f).view(B, O{', n' * d})")
            return
        self.line(f"g = torch.matmul(wg, f).view(B, {M}, O{', n' * d})")
        self.line(f"{', '.join(g.members)} = {', '.join(f'g[:, {i}]' for i in range(M))}")

    def member_weight(self, m: MixStep, runs: list) -> str:
        """The (O, Σ P_i I_i) weight block of one accumulator, in the order of the stacked features."""
        pieces, start = [], 0
        for i, members in runs:
            terms = m.terms[start:start + len(members)]
            start += len(members)
            block = {self.plan.terms[t.index][0] for t in terms}.pop()
            rows = [self.plan.terms[t.index][1] for t in terms]
            gathered = f"w{block}[{rows}]"
            if any(t.sign != 1 for t in terms):
                gathered = f"({gathered} * w{block}.new_tensor({[float(t.sign) for t in terms]}).view(-1, 1, 1))"
            pieces.append(f"{gathered}.transpose(0, 1).reshape(O, {len(rows)} * I{i})")
        return pieces[0] if len(pieces) == 1 else f"torch.cat(({', '.join(pieces)}), 1)"

    def write(self, s: Section, w: WriteStep) -> None:
        view = s.view(w.view)
        if w.first:
            self.line(f"out = {w.acc}")
            return
        value, labels = with_constants(view, w.acc, w.labels, self.contract)
        value = broadcast(value, labels, view.labels, _permute)
        if view.is_whole:
            self.line(f"out = out + {value}")
            return
        self.uses_diagonal = True
        self.line(f"_diagonal(out, {view.blocks()}).add_({value})")


def _runs(plan: MixedPlan, g: MixGroup) -> list[tuple[int, list[tuple[str, tuple[int, ...]]]]]:
    """The group's features split into consecutive runs from the same input."""
    runs: list[tuple[int, list]] = []
    for core, perm in g.features:
        i = plan.core_input(core)
        if runs and runs[-1][0] == i:
            runs[-1][1].append((core, perm))
        else:
            runs.append((i, [(core, perm)]))
    return runs


def _permute(expr: str, perm: Sequence[int]) -> str:
    """``expr`` (batch, channels, axes) with axis i reading axis ``perm[i]``."""
    if list(perm) == list(range(len(perm))):
        return expr
    return f"{expr}.permute(0, 1, {', '.join(str(2 + p) for p in perm)})"

