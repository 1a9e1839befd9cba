"""The Plan IR: one frozen, printable plan for every layer kind (built by :mod:`.plan`).

>>> import catnn
>>> from catnn.compiler.plan import build_plan, build_mixed_plan
>>> G = catnn.group("S")
>>> plan = build_plan(G, 2, 2, G.spanning_set(2, 2))
>>> len(plan.cores), len(plan.mixes), plan.largest_intermediate(n=100, batch=1, in_channels=1, out_channels=1)
(6, 6, 20000)
>>> mixed = build_mixed_plan(G, (0, 2), (1, 2))          # a layer V0 + V2 -> V1 + V2: the same IR
>>> [(mixed.inputs[b.input].order, mixed.outputs[b.output]) for b in mixed.blocks]
[(0, 1), (0, 2), (2, 1), (2, 2)]

A layer has inputs (tensors ``(B, C_i, n, …, n)`` of order k_i; or a *bilinear* input, the product
x ⊗ y of two tensors, never formed), outputs of orders l_j, and a block of diagrams for every
(input, output) pair it connects, each block with weights ``(len(diagrams), D_j, C_i)``. Its axes are
*typed*: every axis belongs to a :class:`Sort` (the group acting on it and its size symbol); a
single group's plan has one sort, n. Each diagram is factored (:mod:`.factorize`) and split by its
group's block kernels (:mod:`.kernels`) into a bottom half (input → core) and a top half
(accumulator → output). The plan then runs, in this order:

1. **cores** (:class:`CoreStep`), per input: one per distinct bottom half over *every* block reading
   that input, so a reduction (a diagonal, a row sum, a trace) is computed once for all output
   orders. A core keeps one axis per kept label and sums the others, ``c = einsum(x, consts)``;
   cores are derived from the smallest computed core that keeps a superset of their labels; a core
   that only takes diagonals is a strided view. Aut(G) cores are chains of contractions with the
   adjacency matrix (:mod:`.plan_graph`).
2. **mixes** (:class:`MixStep`), per output: one per distinct top half ("output pattern"); every
   diagram writing through it — from any input — is channel-mixed in one matmul
   (:class:`MixGroup`) on the low-dimensional cores, stacked along the contraction axis with their
   Λ's. A group's features come in :class:`Run` s, one per input (one weight block).
3. **folds** (:class:`FoldStep`): an accumulator whose labels are a subset of a larger one in the
   same output view is broadcast-added into it, smallest first.
4. **writes** (:class:`WriteStep`): what is left is added into diagonal views of a single output
   buffer per output (the full-size accumulator itself when there is one, else zeroed once).

Bias: the group's 0 → l diagrams, one weight per output channel, join the d = 0 accumulator of
their output view. ``normalize=True``: each summed-out block is divided by n (means, not sums) — by
the real size of every sample when a padded batch passes its ``sizes``.

Step names are unique in a plan (``x0``… inputs, ``c``… cores, ``v``… views, ``a``… accumulators,
``g``… mix groups). Constants (Sp's J, ε, an adjacency matrix) are values of the plan: their kinds
and the sources of their builders. Labels are integers throughout;
:func:`letters` renders them for printing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from math import prod
from typing import Any

from catnn import messages
from catnn.errors import CompileError

from .kernels import ConstantRef, Labels

__all__ = [
    "Plan", "Sort", "Input", "Block", "Section", "CoreStep", "Term", "MixStep", "MixGroup", "Run", "FoldStep",
    "WriteStep", "View", "Cost", "letters", "diagonal_blocks", "ALPHABET",
]


# -- the IR ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sort:
    """A sort of index: the group acting on its axes, its size symbol, and its size if fixed."""

    group: str
    symbol: str = "n"
    size: int | None = None


@dataclass(frozen=True)
class Input:
    """One input of the layer: a tensor of order ``order``, or the product of two (``factors``)."""

    order: int
    #: bilinear: the orders (a, b) of the two factors whose product x ⊗ y is this input (typed orders,
    #: one entry per sort, over a product of groups)
    factors: tuple[Any, ...] = ()
    #: bilinear channels: x_c ⊗ y_d for every pair (True) or x_c ⊗ y_c (False)
    outer: bool = False
    #: the sort of each axis (axes of sort 0 first, then sort 1, …); () when all are sort 0
    sorts: Labels = ()

    @property
    def axis_sorts(self) -> Labels:
        """The sort of each of the input's ``order`` axes."""
        return self.sorts or (0,) * self.order

    def factor_axes(self) -> tuple[Labels, Labels]:
        """The positions of x's axes and of y's among a bilinear input's axes (each in its own order).

        >>> Input(3, (1, 2)).factor_axes()
        ((0,), (1, 2))
        >>> Input(4, ((1, 1), (1, 1)), sorts=(0, 0, 1, 1)).factor_axes()     # sort 0's axes first
        ((0, 2), (1, 3))
        """
        a, b = self.factors
        if isinstance(a, int):
            return tuple(range(a)), tuple(range(a, a + b))
        xs: list[int] = []
        ys: list[int] = []
        for m, k in zip(a, b):
            at = len(xs) + len(ys)
            xs += range(at, at + m)
            ys += range(at + m, at + m + k)
        return tuple(xs), tuple(ys)


@dataclass(frozen=True)
class Block:
    """The diagrams from input ``input`` to output ``output``; ``weights[b]`` is (len, D_j, C_i)."""

    input: int
    output: int
    diagrams: tuple[Any, ...]


@dataclass(frozen=True)
class CoreStep:
    """``name = einsum(source[source_labels], *constants -> labels) * n**-scale``."""

    name: str
    source: str                     # "x<i>" (input i) or the name of an earlier core of the same input
    source_labels: Labels
    labels: Labels
    constants: tuple[ConstantRef, ...] = ()
    scale: int = 0                  # normalize=True: extra summed-out blocks in this step
    summed: int = 0                 # summed-out blocks in total (from the input)
    input: int = 0                  # the input it reads
    label_sorts: Labels = ()        # the sort of each label (labels are 0, 1, ...); () when all are sort 0

    def sort(self, label: int) -> int:
        """The sort of ``label`` (which group acts on that axis, which size it has)."""
        return self.label_sorts[label] if self.label_sorts else 0

    @property
    def sorts(self) -> Labels:
        """The sort of each kept axis."""
        return tuple(self.sort(lab) for lab in self.labels)

    @property
    def is_view(self) -> bool:
        """True if the step only takes diagonals and permutes: a strided view, no arithmetic."""
        return not self.constants and set(self.labels) == set(self.source_labels)

    @property
    def all_labels(self) -> Labels:
        """Every label the step reads (source and constants), in order of first appearance."""
        return tuple(dict.fromkeys([*self.source_labels, *(lab for _, labs in self.constants for lab in labs)]))

    @property
    def summed_labels(self) -> Labels:
        """The labels this step sums out."""
        return tuple(lab for lab in self.all_labels if lab not in self.labels)


@dataclass(frozen=True)
class Term:
    """One diagram inside a mix: its term index (``Plan.terms``), its core, and which core axis feeds
    each accumulator axis."""

    index: int
    core: str
    perm: Labels                    # accumulator axis i reads core axis perm[i]
    sign: int = 1


@dataclass(frozen=True)
class View:
    """A (diagonal) view of an output buffer: one label per output axis, plus fill constants."""

    name: str
    output: Labels
    constants: tuple[ConstantRef, ...] = ()
    label_sorts: Labels = ()        # the sort of each label (labels are 0, 1, ...); () when all are sort 0

    def sort(self, label: int) -> int:
        """The sort of ``label``."""
        return self.label_sorts[label] if self.label_sorts else 0

    @property
    def labels(self) -> Labels:
        """The view's axes: the output labels without repeats, in order of first appearance."""
        return tuple(dict.fromkeys(self.output))

    @property
    def is_whole(self) -> bool:
        """True if the view is the whole output (no diagonal, no constants)."""
        return not self.constants and len(self.labels) == len(self.output)

    def blocks(self) -> tuple[Labels, ...]:
        """For each view axis, the output axes it covers (a diagonal when more than one)."""
        return diagonal_blocks(self.output)


@dataclass(frozen=True)
class MixStep:
    """``name[b, o, labels] = Σ_terms Σ_c Λ_t[o, c] · permute(core_t)[b, c, labels]`` (+ bias)."""

    name: str
    view: str
    labels: Labels                  # accumulator axes, as labels of its view
    terms: tuple[Term, ...]
    bias: tuple[int, ...] = ()      # bias-diagram indices (of its output) added to this d = 0 accumulator
    group: str | None = None        # the MixGroup computing it (None: bias only)


@dataclass(frozen=True)
class Run:
    """Consecutive features of a mix group read from one input: their weights are the rows
    ``start:start + members * count`` of that block's gathered weights (member-major)."""

    input: int
    block: int
    start: int
    count: int


@dataclass(frozen=True)
class MixGroup:
    """Mixes that read the same stacked features: one stack, one matmul (their Λ's stacked).

    The matmul's output has ``len(members) * C_out`` channels, one block per member accumulator.
    """

    name: str
    features: tuple[tuple[str, Labels], ...]   # (core, perm) of each stacked feature
    members: tuple[str, ...]                   # the mixes it computes
    dims: int                                  # axes of each feature (and accumulator)
    runs: tuple[Run, ...] = ()


@dataclass(frozen=True)
class FoldStep:
    """``target += source`` broadcast over the target labels the source lacks."""

    source: str
    target: str
    source_labels: Labels
    target_labels: Labels


@dataclass(frozen=True)
class WriteStep:
    """``view(out) += acc`` (broadcast, times the view's constants); ``first``: ``out = acc``."""

    acc: str
    view: str
    labels: Labels                  # the accumulator's labels
    first: bool = False


@dataclass(frozen=True)
class Section:
    """Everything written into one output: views, mixes, mix groups, folds, writes, bias diagrams."""

    order: int
    views: tuple[View, ...]
    mixes: tuple[MixStep, ...]
    groups: tuple[MixGroup, ...]
    folds: tuple[FoldStep, ...]
    writes: tuple[WriteStep, ...]
    bias_diagrams: tuple[Any, ...] = ()
    #: the sort of each output axis; () when all are sort 0
    sorts: Labels = ()

    @property
    def axis_sorts(self) -> Labels:
        """The sort of each of the output's ``order`` axes."""
        return self.sorts or (0,) * self.order

    @property
    def first_write(self) -> WriteStep | None:
        """The write that makes the output buffer (``out = acc``), if one does."""
        return next((w for w in self.writes if w.first), None)


@dataclass(frozen=True)
class Cost:
    """Costs of a plan at concrete sizes (multiply-adds counted as 2 flops for matmuls)."""

    flops: int
    memory: int                     # elements allocated (views excluded)
    largest: int                    # elements of the largest tensor allocated
    dense_flops: int
    dense_weight: int               # elements of the dense weights W (C_out·C_in·n^(k+l) per block)
    floor_flops: int                # channel mixing of the full-support diagrams only


@dataclass(frozen=True)
class Plan:
    """A whole layer, as steps; see the module docstring. Hashable; build with :func:`build_plan`
    or :func:`build_mixed_plan`."""

    group: str
    n: int | None
    normalize: bool
    inputs: tuple[Input, ...]
    outputs: tuple[int, ...]
    blocks: tuple[Block, ...]
    cores: tuple[CoreStep, ...]
    sections: tuple[Section, ...]
    #: term t of a mix is row ``terms[t][1]`` of block ``terms[t][0]``'s weights
    terms: tuple[tuple[int, int], ...]
    #: per block, its weight rows in the order the mix groups read them (see :class:`Run`)
    gather: tuple[tuple[int, ...], ...]
    constants: tuple[str, ...] = ()
    constant_sources: tuple[str, ...] = ()
    sorts: tuple[Sort, ...] = ()
    #: the sort whose size each constant is built at (aligned with ``constants``)
    constant_sorts: tuple[int, ...] = ()

    # -- lookups ------------------------------------------------------------------------------
    @cached_property
    def _by_name(self) -> dict[str, Any]:
        steps = [*self.cores, *(s for sec in self.sections for s in (*sec.views, *sec.mixes, *sec.groups))]
        return {s.name: s for s in steps}

    def core(self, name: str) -> CoreStep:
        return self._by_name[name]

    def view(self, name: str) -> View:
        return self._by_name[name]

    def mix(self, name: str) -> MixStep:
        return self._by_name[name]

    def input_cores(self, i: int) -> tuple[CoreStep, ...]:
        """The cores read from input ``i``."""
        return tuple(c for c in self.cores if c.input == i)

    def core_input(self, name: str) -> int:
        """The input whose cores include ``name``."""
        return self.core(name).input

    @property
    def views(self) -> tuple[View, ...]:
        return tuple(v for s in self.sections for v in s.views)

    @property
    def mixes(self) -> tuple[MixStep, ...]:
        return tuple(m for s in self.sections for m in s.mixes)

    @property
    def groups(self) -> tuple[MixGroup, ...]:
        return tuple(g for s in self.sections for g in s.groups)

    @property
    def folds(self) -> tuple[FoldStep, ...]:
        return tuple(f for s in self.sections for f in s.folds)

    @property
    def writes(self) -> tuple[WriteStep, ...]:
        return tuple(w for s in self.sections for w in s.writes)

    # -- the single-order view (one input, one output, one block) -----------------------------
    @property
    def is_single(self) -> bool:
        """True for a layer V^k -> V^l (one plain input, one output, at most one block)."""
        return len(self.inputs) == 1 and len(self.outputs) == 1 and not self.inputs[0].factors

    @property
    def k(self) -> int:
        return self._single().inputs[0].order

    @property
    def l(self) -> int:
        return self._single().outputs[0]

    @property
    def diagrams(self) -> tuple[Any, ...]:
        """The weight diagrams of a single-block plan, in weight order."""
        return self._single().blocks[0].diagrams if self.blocks else ()

    @property
    def bias_diagrams(self) -> tuple[Any, ...]:
        return self._single().sections[0].bias_diagrams

    def _single(self) -> Plan:
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            raise AttributeError("k, l, diagrams and bias_diagrams belong to plans with one input and one output")
        return self

    def signs(self, block: int) -> tuple[int, ...]:
        """The sign of each gathered weight row of ``block`` (-1 for Sp crossings)."""
        return self._signs[block]

    @cached_property
    def _signs(self) -> tuple[tuple[int, ...], ...]:
        by_row: list[dict[int, int]] = [{} for _ in self.blocks]
        for m in self.mixes:
            for t in m.terms:
                if t.sign != 1:
                    b, row = self.terms[t.index]
                    by_row[b][row] = t.sign
        return tuple(tuple(by_row[b].get(row, 1) for row in rows) for b, rows in enumerate(self.gather))

    # -- costs --------------------------------------------------------------------------------
    def group_sorts(self, g: MixGroup) -> Labels:
        """The sort of each axis of a mix group's features and accumulators."""
        core, perm = g.features[0]
        c = self.core(core)
        return tuple(c.sort(c.labels[p]) for p in perm)

    def acc_sorts(self, name: str, labels: Sequence[int]) -> Labels:
        """The sorts of accumulator ``name``'s axes ``labels`` (labels of its view)."""
        view = self.view(self.mix(name).view)
        return tuple(view.sort(lab) for lab in labels)

    def cost(self, n: int | Sequence[int] | None = None, batch: int = 1, in_channels: int = 1,
             out_channels: int = 1) -> Cost:
        """Flops and memory of the plan at size ``n`` (one per sort, or one for all; default: the
        plan's own sizes, else 16)."""
        sizes = self._sizes(n)

        def size(sorts: Iterable[int]) -> int:
            return prod(sizes[s] for s in sorts)

        B, I, O = batch, in_channels, out_channels
        flops = memory = largest = 0

        def alloc(numel: int) -> None:
            nonlocal memory, largest
            memory += numel
            largest = max(largest, numel)

        for c in self.cores:
            if not c.is_view:
                flops += B * I * size(c.sort(lab) for lab in c.all_labels)
                alloc(B * I * size(c.sorts))
        for g in self.groups:
            numel = size(self.group_sorts(g))
            if self.stacks(g):
                alloc(B * len(g.features) * I * numel)
            flops += 2 * B * O * len(g.members) * len(g.features) * I * numel
            alloc(B * O * len(g.members) * numel)
        for m in self.mixes:
            if not m.terms:
                alloc(O)
        for sec in self.sections:
            for f in sec.folds:
                flops += B * O * size(self.acc_sorts(f.target, f.target_labels))
            if sec.first_write is None:
                alloc(B * O * size(sec.axis_sorts))
            for w in sec.writes:
                if not w.first:
                    view = self.view(w.view)
                    flops += B * O * size(view.sort(lab) for lab in view.labels)
        floor = sum(2 * B * O * I * size(sec.axis_sorts) for sec in self.sections for m in sec.mixes
                    if len(m.labels) == sec.order for t in m.terms
                    if self.inputs[self.core(t.core).input].order == sec.order)
        dense = sum(size(self.inputs[b.input].axis_sorts) * size(self.sections[b.output].axis_sorts)
                    for b in self.blocks)
        return Cost(flops, memory, largest, 2 * B * O * I * dense, O * I * dense, floor)

    def largest_intermediate(self, n: int | Sequence[int] | None = None, batch: int = 1, in_channels: int = 1,
                             out_channels: int = 1) -> int:
        """Elements of the largest tensor the plan allocates (the output buffers included)."""
        return self.cost(n, batch, in_channels, out_channels).largest

    def stacks(self, g: MixGroup) -> bool:
        """True if the group copies its features (several, or one permuted or strided core)."""
        if len(g.features) != 1:
            return True
        name, perm = g.features[0]
        core = self.core(name)
        plain = not core.is_view or (core.source.startswith("x") and core.labels == core.source_labels)
        return not plain or perm != tuple(range(len(perm)))

    def _sizes(self, n: int | Sequence[int] | None) -> tuple[int, ...]:
        """One size per sort: ``n`` (an int for every sort), else each sort's own, else 16."""
        count = max(len(self.sorts), 1)
        if n is None:
            return tuple(s.size if s.size is not None else 16 for s in self.sorts) or (16,)
        return tuple(n) if not isinstance(n, int) else (n,) * count

    # -- printing -----------------------------------------------------------------------------
    def explain(self, n: int | Sequence[int] | None = None, batch: int = 1, in_channels: int = 1,
                out_channels: int = 1, itemsize: int = 4) -> str:
        """Each step (einsum or op, shape, flops, memory), what is shared, and planned vs dense totals."""
        return _explain(self, self._sizes(n), batch, in_channels, out_channels, itemsize)

    def __str__(self) -> str:
        return self.explain()


def diagonal_blocks(labels: Sequence[int]) -> tuple[Labels, ...]:
    """The axes carrying each distinct label, in order of first appearance (a diagonal view's blocks).

    >>> diagonal_blocks((0, 1, 0, 2))
    ((0, 2), (1,), (3,))
    """
    return tuple(tuple(a for a, lab in enumerate(labels) if lab == v) for v in dict.fromkeys(labels))


#: index letters for labels (b, c, o, p are reserved for batch, channels, outputs and stacks)
ALPHABET = "ijklmnqrstuvwxyzadefghABCDEFGHIJKLMNOPQRSTUVWXYZ"


def letters(labels: Iterable[int]) -> str:
    """Index letters for labels when printing einsums (b, c, o, p are reserved for batch/channels/stack).

    >>> letters((0, 1, 1))
    'ijj'
    """
    labels = tuple(labels)
    if any(lab >= len(ALPHABET) for lab in labels):   # a CompileError: callers place it at the definition
        raise CompileError(messages.EINSUM_ALPHABET.format(count=max(labels) + 1, limit=len(ALPHABET)))
    return "".join(ALPHABET[lab] for lab in labels)


# -- explain --------------------------------------------------------------------------------------
Row = tuple[str, str, str, str, int, int]


def _explain(plan: Plan, sizes: tuple[int, ...], B: int, I: int, O: int, itemsize: int) -> str:
    """The table behind :meth:`Plan.explain`: one heading per input and output of a layer with several."""
    several = not plan.is_single
    rows: list[Row | str] = []
    for i, x in enumerate(plan.inputs):
        if several:
            readers = sorted({plan.outputs[b.output] for b in plan.blocks if b.input == i})
            rows.append(f"input {i} ({_space(x)}): {len(plan.input_cores(i))} cores, shared by output orders "
                        f"{readers}")
        rows += _core_rows(plan, plan.input_cores(i), sizes, B, I)
    for j, sec in enumerate(plan.sections):
        if several:
            rows.append(f"output {j} (order {sec.order}): {len(sec.groups)} channel mixes, {len(sec.folds)} folds, "
                        f"{len(sec.writes)} writes")
        rows += _mix_rows(plan, sec, sizes, B, I, O) + _output_rows(plan, sec, sizes, B, O)
    cost = plan.cost(sizes, B, I, O)
    width = max([len(r[2]) for r in rows if not isinstance(r, str)] + [10])
    at = ", ".join(f"{s.symbol}={size}" for s, size in zip(plan.sorts, sizes)) or f"n={sizes[0]}"
    lines = [_heading(plan), f"  at {at}, batch={B}, in_channels={I}, out_channels={O}, {itemsize}-byte elements",
             f"  {'step':<5} {'op':<6} {'einsum / op':<{width}} {'shape':<22} {'flops':>10} {'memory':>10}"]
    for row in rows:
        if isinstance(row, str):
            lines.append(f"  # {row}")
            continue
        name, op, text, shp, flops, mem = row
        lines.append(f"  {name:<5} {op:<6} {text:<{width}} {shp:<22} {_num(flops):>10} {_bytes(mem * itemsize):>10}")
    lines += [
        f"  planned: {_num(cost.flops)} flops, {_bytes(cost.memory * itemsize)} allocated, "
        f"largest tensor {_num(cost.largest)} elements",
        f"  dense:   {_num(cost.dense_flops)} flops, weight {_bytes(cost.dense_weight * itemsize)} "
        f"({_num(cost.dense_weight)} elements)",
        f"  speed-up in flops: {cost.dense_flops / max(cost.flops, 1):.1f}x"
        + (f"; floor (full-support mixing) {_num(cost.floor_flops)} flops, planned/floor "
           f"{cost.flops / cost.floor_flops:.2f}" if cost.floor_flops else ""),
    ]
    return "\n".join(lines)


def _space(x: Input) -> str:
    return "V" + "(x)V".join(map(str, x.factors)) if x.factors else f"V{x.order}"


def _heading(plan: Plan) -> str:
    tail = ", normalize" if plan.normalize else ""
    if plan.is_single:
        return (f"Plan: {plan.group} {plan.k} -> {plan.l}, {len(plan.diagrams)} diagrams, "
                f"{len(plan.bias_diagrams)} bias diagrams{tail}")
    blocks = ", ".join(f"{_space(plan.inputs[b.input])} -> V{plan.outputs[b.output]}: {len(b.diagrams)} diagrams"
                       for b in plan.blocks)
    return (f"Plan: {plan.group} {' + '.join(_space(x) for x in plan.inputs)} -> "
            f"{' + '.join(f'V{l}' for l in plan.outputs)}, {len(plan.blocks)} blocks ({blocks}){tail}")


def _dims(lead: tuple[int, ...], sorts: Iterable[int], sizes: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, lead + tuple(sizes[s] for s in sorts))) + ")"


def _numel(sorts: Iterable[int], sizes: tuple[int, ...]) -> int:
    return prod(sizes[s] for s in sorts)


def _core_rows(plan: Plan, cores: Sequence[CoreStep], sizes: tuple[int, ...], B: int, I: int) -> list[Row]:
    rows = []
    for c in cores:
        consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
        eq = f"bc{letters(c.source_labels)}{consts}->bc{letters(c.labels)}"
        op = "view" if c.is_view else ("einsum" if c.constants else "sum")
        flops = 0 if c.is_view else B * I * _numel((c.sort(lab) for lab in c.all_labels), sizes)
        mem = 0 if c.is_view else B * I * _numel(c.sorts, sizes)
        scale = f" /n^{c.scale}" if plan.normalize and c.scale else ""
        rows.append((c.name, op, f"{eq}  from {c.source}{scale}", _dims((B, I), c.sorts, sizes), flops, mem))
    return rows


def _mix_rows(plan: Plan, sec: Section, sizes: tuple[int, ...], B: int, I: int, O: int) -> list[Row]:
    rows = []
    for g in sec.groups:
        d, P, M = g.dims, len(g.features), len(g.members)
        sorts = plan.group_sorts(g)
        acc = letters(range(d))
        feats = " ".join(f"{core}[{_feature_letters(perm)}]" if d else core for core, perm in g.features)
        numel = _numel(sorts, sizes)
        flops = 2 * B * O * M * P * I * numel
        mem = (B * P * I * numel if plan.stacks(g) else 0) + B * M * O * numel
        rows.append((g.name, "mix", f"bpc{acc},mpoc->bmo{acc}  p={P}: {feats}  m={M}: {' '.join(g.members)}",
                     _dims((B, M * O), sorts, sizes), flops, mem))
    for m in sec.mixes:
        if m.bias:
            rows.append((m.name, "bias", f"+= bias{list(m.bias)}",
                         _dims((B if m.terms else 1, O), plan.acc_sorts(m.name, m.labels), sizes),
                         B * O if m.terms else O, 0 if m.terms else O))
    return rows


def _output_rows(plan: Plan, sec: Section, sizes: tuple[int, ...], B: int, O: int) -> list[Row]:
    rows = []
    for f in sec.folds:
        eq = f"bo{letters(f.source_labels)}->bo{letters(f.target_labels)}"
        sorts = plan.acc_sorts(f.target, f.target_labels)
        rows.append((f.target, "fold", f"+= {f.source}  {eq}", _dims((B, O), sorts, sizes),
                     B * O * _numel(sorts, sizes), 0))
    if sec.first_write is None:
        rows.append(("out", "zeros", "", _dims((B, O), sec.axis_sorts, sizes), 0,
                     B * O * _numel(sec.axis_sorts, sizes)))
    for w in sec.writes:
        view = plan.view(w.view)
        consts = "".join(f" * {kind}[{letters(labs)}]" for kind, labs in view.constants)
        sorts = tuple(view.sort(lab) for lab in view.labels)
        if w.first:
            rows.append(("out", "write", f"= {w.acc}  (the buffer itself)", _dims((B, O), sec.axis_sorts, sizes), 0, 0))
        else:
            rows.append(("out", "write", f"out[bo{letters(view.output)}] += {w.acc}[bo{letters(w.labels)}]{consts}",
                         _dims((B, O), sorts, sizes), B * O * _numel(sorts, sizes), 0))
    return rows


def _feature_letters(perm: Labels) -> str:
    """Letters of a permuted core's axes, named after the accumulator axes they feed."""
    inverse = {p: i for i, p in enumerate(perm)}
    return letters(inverse[j] for j in range(len(perm)))


def _num(x: int) -> str:
    return f"{x:.3g}" if x >= 10000 else str(x)


def _bytes(b: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if b < 1024 or unit == "TB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return f"{b} B"
