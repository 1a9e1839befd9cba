"""The Plan IR: how a whole layer ``Σ_π Λ_π ⊗ D_π`` runs without any n^(k+l) tensor.

>>> import catnn
>>> plan = build_plan(catnn.group("S"), 2, 2, catnn.group("S").spanning_set(2, 2))
>>> len(plan.cores), len(plan.mixes), plan.largest_intermediate(n=100, batch=1, in_channels=1, out_channels=1)
(6, 6, 20000)

A layer with weights ``Λ_π ∈ R^{C_out×C_in}`` maps ``x: (B, C_in, n, …, n)`` (k axes) to
``y: (B, C_out, n, …, n)`` (l axes). Each diagram is factored (:mod:`.factorize`) and split by its
group's block kernels (:mod:`.kernels`) into a bottom half (input → core) and a top half
(accumulator → output). The plan then runs, in this order:

1. **cores** (:class:`CoreStep`): one per distinct bottom half. A core keeps one axis per kept label
   and sums the others: ``c = einsum(x, consts)``. Cores with the same input pattern are derived
   from the smallest already computed core that keeps a superset of their labels, so a sum over
   n^k entries is done once and the rest sum small tensors. A core that only takes diagonals is a
   strided view (no copy, no arithmetic).
2. **mixes** (:class:`MixStep`): one per distinct top half ("output pattern"): every diagram that
   writes through the same top half is channel-mixed in one matmul on the low-dimensional core
   tensors, their permuted cores stacked along the contraction axis with their Λ's.
3. **folds** (:class:`FoldStep`): an accumulator whose labels are a subset of a larger one in the
   same output view is broadcast-added into it (low-dimensional accumulation), smallest first.
4. **writes** (:class:`WriteStep`): what is left is added into diagonal views of a single output
   buffer; the buffer is the full-size accumulator itself when there is one (built by the first
   write), else it is zeroed once.

Bias: the group's 0 → l diagrams, one weight per output channel, join the d = 0 accumulator of
their output view. ``normalize=True``: each summed-out block is divided by n (means, not sums).

Labels are integers throughout; :func:`letters` renders them for printing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from .factorize import factorize
from .kernels import BottomHalf, ConstantRef, Halves, Labels, TopHalf, kernels_for

__all__ = [
    "Plan", "CoreStep", "Term", "MixStep", "MixGroup", "FoldStep", "WriteStep", "View", "Cost",
    "OutputSteps", "build_plan", "letters", "diagonal_blocks",
]


# -- the IR ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoreStep:
    """``name = einsum(source[source_labels], *constants -> labels) * n**-scale``."""

    name: str
    source: str                     # "x" (the input) or the name of an earlier core
    source_labels: Labels
    labels: Labels
    constants: tuple[ConstantRef, ...] = ()
    scale: int = 0                  # normalize=True: extra summed-out blocks in this step
    summed: int = 0                 # summed-out blocks in total (from the input)

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
    """One diagram inside a mix: weight index, its core, and which core axis feeds each acc axis."""

    index: int
    core: str
    perm: Labels                    # accumulator axis i reads core axis perm[i]
    sign: int = 1


@dataclass(frozen=True)
class View:
    """A (diagonal) view of the output buffer: one label per output axis, plus fill constants."""

    name: str
    output: Labels
    constants: tuple[ConstantRef, ...] = ()

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
    bias: tuple[int, ...] = ()      # bias-diagram indices added to this (d = 0) accumulator
    group: str | None = None        # the MixGroup computing it (None: bias only)


@dataclass(frozen=True)
class MixGroup:
    """Mixes that read the same stacked features: one stack, one matmul (their Λ's stacked).

    The matmul's output has ``len(members) * C_out`` channels, one block per member accumulator.
    """

    name: str
    features: tuple[tuple[str, Labels], ...]   # (core, perm) of each stacked feature
    members: tuple[str, ...]                   # the mixes it computes, in weight order
    offset: int                                # first row of its weights in ``Plan.order``
    dims: int                                  # axes of each feature (and accumulator)


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
class Cost:
    """Costs of a plan at concrete sizes (multiply-adds counted as 2 flops for matmuls)."""

    flops: int
    memory: int                     # elements allocated (views excluded)
    largest: int                    # elements of the largest tensor allocated
    dense_flops: int
    dense_weight: int               # elements of the dense weight W (C_out·C_in·n^(k+l))
    floor_flops: int                # channel mixing of the full-support diagrams only


class OutputSteps:
    """Lookups by name over the steps that write one output: its ``views``, ``mixes`` and ``writes``.

    Shared by :class:`Plan` and the per-output sections of :class:`~.mixed.MixedPlan`.
    """

    views: tuple[View, ...]
    mixes: tuple[MixStep, ...]
    writes: tuple[WriteStep, ...]

    def view(self, name: str) -> View:
        return self._views_by_name[name]

    def mix(self, name: str) -> MixStep:
        return self._mixes_by_name[name]

    @cached_property
    def _views_by_name(self) -> dict[str, View]:
        return {v.name: v for v in self.views}

    @cached_property
    def _mixes_by_name(self) -> dict[str, MixStep]:
        return {m.name: m for m in self.mixes}

    @property
    def first_write(self) -> WriteStep | None:
        return next((w for w in self.writes if w.first), None)


@dataclass(frozen=True)
class Plan(OutputSteps):
    """A whole layer, as steps; see the module docstring. Hashable; build with :func:`build_plan`."""

    group: str
    k: int
    l: int
    n: int | None
    normalize: bool
    diagrams: tuple[Any, ...]
    bias_diagrams: tuple[Any, ...]
    cores: tuple[CoreStep, ...]
    views: tuple[View, ...]
    mixes: tuple[MixStep, ...]
    groups: tuple[MixGroup, ...]
    folds: tuple[FoldStep, ...]
    writes: tuple[WriteStep, ...]
    constants: tuple[str, ...] = field(default=())

    # -- lookups ------------------------------------------------------------------------------
    def core(self, name: str) -> CoreStep:
        return self._cores_by_name[name]

    @cached_property
    def _cores_by_name(self) -> dict[str, CoreStep]:
        return {c.name: c for c in self.cores}

    @property
    def order(self) -> tuple[int, ...]:
        """Weight rows in group order (``weight[order]`` puts each group's Λ's together)."""
        return tuple(t.index for g in self.groups for name in g.members for t in self.mix(name).terms)

    @property
    def signs(self) -> tuple[int, ...]:
        """The sign of each weight row in group order (aligned with ``order``; -1 for Sp crossings)."""
        return tuple(t.sign for g in self.groups for name in g.members for t in self.mix(name).terms)

    # -- costs --------------------------------------------------------------------------------
    def cost(self, n: int | None = None, batch: int = 1, in_channels: int = 1, out_channels: int = 1) -> Cost:
        """Flops and memory of the plan at size ``n`` (default: the plan's own n, else 16)."""
        n = self._size(n)
        B, I, O = batch, in_channels, out_channels
        flops = memory = largest = 0

        def alloc(numel: int) -> None:
            nonlocal memory, largest
            memory += numel
            largest = max(largest, numel)

        dims = {"x": self.k}
        for c in self.cores:
            dims[c.name] = len(c.labels)
            if not c.is_view:
                flops += B * I * n ** len(c.all_labels)
                alloc(B * I * n ** len(c.labels))
        for g in self.groups:
            if self.stacks(g):
                alloc(B * len(g.features) * I * n**g.dims)          # stacked (or copied) features
            flops += 2 * B * O * len(g.members) * len(g.features) * I * n**g.dims
            alloc(B * O * len(g.members) * n**g.dims)
        for m in self.mixes:
            if not m.terms:
                alloc(O)
        for f in self.folds:
            flops += B * O * n ** len(f.target_labels)
        first = self.first_write
        if first is None:
            alloc(B * O * n**self.l)
        for w in self.writes:
            if not w.first:
                flops += B * O * n ** len(self.view(w.view).labels)
        full = sum(len(m.terms) for m in self.mixes if len(m.labels) == self.k == self.l)
        return Cost(flops, memory, largest, 2 * B * O * I * n ** (self.k + self.l),
                    O * I * n ** (self.k + self.l), 2 * B * O * I * full * n**self.l)

    def largest_intermediate(self, n: int | None = None, batch: int = 1, in_channels: int = 1,
                             out_channels: int = 1) -> int:
        """Elements of the largest tensor the plan allocates (the output buffer included)."""
        return self.cost(n, batch, in_channels, out_channels).largest

    def stacks(self, g: MixGroup) -> bool:
        """True if the group copies its features (several, or one permuted or strided core)."""
        if len(g.features) != 1:
            return True
        name, perm = g.features[0]
        core = self.core(name)
        plain = not core.is_view or (core.source == "x" and core.labels == core.source_labels)
        return not plain or perm != tuple(range(len(perm)))

    def _size(self, n: int | None) -> int:
        return n if n is not None else (self.n if self.n is not None else 16)

    # -- printing -----------------------------------------------------------------------------
    def explain(self, n: int | None = None, batch: int = 1, in_channels: int = 1, out_channels: int = 1,
                itemsize: int = 4) -> str:
        """Each step (einsum or op, shape, flops, memory) and planned vs dense totals."""
        return _explain(self, self._size(n), batch, in_channels, out_channels, itemsize)

    def __str__(self) -> str:
        return self.explain()


# -- building -------------------------------------------------------------------------------------
def build_plan(group: Any, k: int, l: int, diagrams: Sequence[Any], *, bias_diagrams: Sequence[Any] = (),
               n: int | None = None, normalize: bool = False) -> Plan:
    """The plan of the layer ``Σ_i weight[i] ⊗ diagrams[i]`` (+ ``Σ_j bias[j] ⊗ bias_diagrams[j]``).

    ``group`` is a :class:`~catnn.groups.Group` or its name; its block kernels split each diagram.
    Aut(G) (bilabelled graphs, contractions with G's adjacency matrix) is planned by
    :mod:`.kernels_graph`.
    """
    name = getattr(group, "name", group)
    if name == "Aut":
        from .kernels_graph import build_graph_plan
        return build_graph_plan(group, k, l, diagrams, bias_diagrams, normalize=normalize)
    if n is None:
        n = getattr(group, "n", None)
    return _build(name, k, l, tuple(diagrams), tuple(bias_diagrams), n, bool(normalize))


@lru_cache(maxsize=256)
def _build(group: str, k: int, l: int, diagrams: tuple[Any, ...], bias_diagrams: tuple[Any, ...],
           n: int | None, normalize: bool) -> Plan:
    halves = [_halves(group, d) for d in diagrams]
    bias_halves = [_halves(group, d) for d in bias_diagrams]
    cores, core_names = _schedule_cores([h.bottom for h in halves])
    views, mixes, groups, folds, writes = _schedule_accumulators(halves, bias_halves, core_names, l)
    constants = sorted({kind for c in cores for kind, _ in c.constants}
                       | {kind for v in views for kind, _ in v.constants})
    return Plan(group, k, l, n, normalize, diagrams, bias_diagrams, tuple(cores), tuple(views),
                tuple(mixes), tuple(groups), tuple(folds), tuple(writes), tuple(constants))


def _halves(group: str, d: Any) -> Halves:
    return kernels_for(group, d).halves(factorize(d))


def _relabel(sequences: Iterable[Labels], first: Labels = ()) -> dict[int, int]:
    """Labels renumbered: ``first`` in order, then the rest by first appearance."""
    mapping: dict[int, int] = {}
    for lab in (*first, *(lab for seq in sequences for lab in seq)):
        mapping.setdefault(lab, len(mapping))
    return mapping


def _constants(consts: tuple[ConstantRef, ...], m: dict[int, int]) -> tuple[ConstantRef, ...]:
    return tuple((kind, tuple(m[lab] for lab in labs)) for kind, labs in consts)


def _bottom_struct(h: BottomHalf) -> tuple[tuple, Labels]:
    """(input pattern with constants, kept labels in that pattern's numbering)."""
    m = _relabel([h.input, *(labs for _, labs in h.constants)])
    return (tuple(m[lab] for lab in h.input), _constants(h.constants, m)), tuple(m[lab] for lab in h.core)


def _schedule_cores(bottoms: list[BottomHalf]) -> tuple[list[CoreStep], list[str]]:
    """One core per distinct bottom half; each from the cheapest available source."""
    keyed: dict[tuple, tuple[tuple, Labels, int]] = {}
    seen: dict[BottomHalf, tuple] = {}    # equal halves have equal structures: relabel each once
    per_diagram = []
    for h in bottoms:
        key = seen.get(h)
        if key is None:
            struct, kept = _bottom_struct(h)
            key = seen[h] = (struct, kept)
            keyed.setdefault(key, (struct, kept, h.summed))
        per_diagram.append(key)
    steps: list[CoreStep] = []
    names: dict[tuple, str] = {}
    by_struct: dict[tuple, list[CoreStep]] = {}
    ordered = sorted(keyed.values(), key=lambda v: (repr(v[0]), -len(v[1]), v[1]))
    for struct, kept, summed in ordered:
        (inputs, consts) = struct
        done = by_struct.setdefault(struct, [])
        step = _core_step(f"c{len(steps)}", inputs, consts, kept, summed, done)
        steps.append(step)
        done.append(step)
        names[(struct, kept)] = step.name
    return steps, [names[key] for key in per_diagram]


def _core_step(name: str, inputs: Labels, consts: tuple[ConstantRef, ...], kept: Labels, summed: int,
               done: list[CoreStep]) -> CoreStep:
    everything = set(inputs) | {lab for _, labs in consts for lab in labs}
    direct = CoreStep(name, "x", inputs, kept, consts, summed, summed)
    if direct.is_view:
        return direct
    parents = [c for c in done if set(kept) < set(c.labels)]
    if not parents or len(everything) < min(len(c.labels) for c in parents):
        return direct
    parent = min(parents, key=lambda c: (len(c.labels), c.name))
    return CoreStep(name, parent.name, parent.labels, kept, (), summed - parent.summed, summed)


def _schedule_accumulators(halves: list[Halves], bias_halves: list[Halves], core_names: list[str], l: int):
    """Views, mixes (one per top half), groups, folds (small into large) and writes (the rest)."""
    views, ordered = _accumulators(halves, bias_halves, core_names)
    groups = _group_mixes(ordered)
    mixes = [MixStep(a["name"], a["view"].name, a["labels"], tuple(a["terms"]), tuple(a["bias"]), a.get("group"))
             for a in ordered]
    folds, writes = _folds_and_writes(ordered, l)
    return views, mixes, groups, folds, writes


def _accumulators(halves: list[Halves], bias_halves: list[Halves], core_names: list[str]):
    """One accumulator per distinct top half, in a fixed order, each with its terms and biases."""
    views: dict[tuple, View] = {}
    accs: dict[tuple, dict] = {}
    seen: dict[TopHalf, dict] = {}      # equal halves have equal accumulators: relabel each once

    def acc_for(top: TopHalf) -> dict:
        if top not in seen:
            seen[top] = relabelled(top)
        return seen[top]

    def relabelled(top: TopHalf) -> dict:
        m = _relabel([top.output, *(labs for _, labs in top.constants)])
        vkey = (tuple(m[lab] for lab in top.output), _constants(top.constants, m))
        if vkey not in views:
            views[vkey] = View(f"v{len(views)}", *vkey)
        labels = tuple(m[lab] for lab in top.acc)
        return accs.setdefault((vkey, labels), {"view": views[vkey], "labels": labels, "terms": [], "bias": []})

    for i, (h, core) in enumerate(zip(halves, core_names)):
        acc_for(h.top)["terms"].append(Term(i, core, h.perm, h.sign))
    for j, h in enumerate(bias_halves):
        acc_for(h.top)["bias"].append(j)
    ordered = sorted(accs.values(), key=lambda a: (int(a["view"].name[1:]), len(a["labels"]), a["labels"]))
    for i, a in enumerate(ordered):
        a["name"] = f"a{i}"
        a["terms"].sort(key=lambda t: (int(t.core[1:]), t.perm, t.index))
    return list(views.values()), ordered


def _group_mixes(ordered: list[dict]) -> list[MixGroup]:
    """Accumulators that read the same (core, permutation) features share one matmul."""
    grouped: dict[tuple, list[dict]] = {}
    for a in ordered:
        if a["terms"]:
            grouped.setdefault(tuple((t.core, t.perm) for t in a["terms"]), []).append(a)
    groups, offset = [], 0
    for features, members in grouped.items():
        name = f"g{len(groups)}"
        for a in members:
            a["group"] = name
        groups.append(MixGroup(name, features, tuple(a["name"] for a in members), offset, len(features[0][1])))
        offset += len(features) * len(members)
    return groups


def _folds_and_writes(ordered: list[dict], l: int) -> tuple[list[FoldStep], list[WriteStep]]:
    """Each accumulator folds into the smallest larger one of its (constant-free) view, or is written."""
    folds, roots = [], []
    for a in sorted(ordered, key=lambda a: len(a["labels"])):
        view = a["view"]
        targets = [b for b in ordered if b["view"] is view and not view.constants
                   and set(a["labels"]) < set(b["labels"])]
        if targets:
            b = min(targets, key=lambda b: (len(b["labels"]), b["labels"]))
            folds.append(FoldStep(a["name"], b["name"], a["labels"], b["labels"]))
        else:
            roots.append(a)
    first = next((a for a in ordered if a["terms"] and a["view"].is_whole
                  and a["labels"] == a["view"].output and len(a["labels"]) == l), None)
    writes = [WriteStep(a["name"], a["view"].name, a["labels"], a is first)
              for a in sorted(roots, key=lambda a: (a is not first, a["name"]))]
    return folds, writes


def diagonal_blocks(labels: Sequence[int]) -> tuple[Labels, ...]:
    """The axes carrying each distinct label, in order of first appearance (a diagonal view's blocks).

    >>> diagonal_blocks((0, 1, 0, 2))
    ((0, 2), (1,), (3,))
    """
    return tuple(tuple(a for a, lab in enumerate(labels) if lab == v) for v in dict.fromkeys(labels))


def letters(labels: Iterable[int]) -> str:
    """Index letters for labels when printing einsums (b, c, o, p are reserved for batch/channels/stack).

    >>> letters((0, 1, 1))
    'ijj'
    """
    alphabet = "ijklmnqrstuvwxyzadefghABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(alphabet[lab] for lab in labels)


# -- explain --------------------------------------------------------------------------------------
def _explain(plan: Plan, n: int, B: int, I: int, O: int, itemsize: int) -> str:
    """The table behind :meth:`Plan.explain`."""
    rows = [*_core_rows(plan, n, B, I), *_mix_rows(plan, n, B, I, O), *_output_rows(plan, n, B, O)]
    cost = plan.cost(n, B, I, O)
    head = (f"Plan: {plan.group} {plan.k} -> {plan.l}, {len(plan.diagrams)} diagrams, "
            f"{len(plan.bias_diagrams)} bias diagrams{', normalize' if plan.normalize else ''}\n"
            f"  at n={n}, batch={B}, in_channels={I}, out_channels={O}, {itemsize}-byte elements")
    width = max([len(r[2]) for r in rows] + [10])
    lines = [head, f"  {'step':<5} {'op':<6} {'einsum / op':<{width}} {'shape':<22} {'flops':>10} {'memory':>10}"]
    for name, op, text, shp, flops, mem in rows:
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


Row = tuple[str, str, str, str, int, int]


def _dims(lead: tuple[int, ...], d: int, n: int) -> str:
    return "(" + ", ".join(map(str, lead + (n,) * d)) + ")"


def _core_rows(plan: Plan, n: int, B: int, I: int) -> list[Row]:
    rows = []
    for c in plan.cores:
        consts = "".join(f",{letters(labs)}" for _, labs in c.constants)
        eq = f"bc{letters(c.source_labels)}{consts}->bc{letters(c.labels)}"
        op = "view" if c.is_view else ("einsum" if c.constants else "sum")
        flops = 0 if c.is_view else B * I * n ** len(c.all_labels)
        mem = 0 if c.is_view else B * I * n ** len(c.labels)
        scale = f" /n^{c.scale}" if plan.normalize and c.scale else ""
        rows.append((c.name, op, f"{eq}  from {c.source}{scale}", _dims((B, I), len(c.labels), n), flops, mem))
    return rows


def _mix_rows(plan: Plan, n: int, B: int, I: int, O: int) -> list[Row]:
    rows = []
    for g in plan.groups:
        d, P, M = g.dims, len(g.features), len(g.members)
        acc = letters(range(d))
        feats = " ".join(f"{core}[{_feature_letters(perm)}]" if d else core for core, perm in g.features)
        flops = 2 * B * O * M * P * I * n**d
        mem = (B * P * I * n**d if plan.stacks(g) else 0) + B * M * O * n**d
        rows.append((g.name, "mix", f"bpc{acc},mpoc->bmo{acc}  p={P}: {feats}  m={M}: {' '.join(g.members)}",
                     _dims((B, M * O), d, n), flops, mem))
    for m in plan.mixes:
        if m.bias:
            rows.append((m.name, "bias", f"+= bias{list(m.bias)}", _dims((B if m.terms else 1, O), len(m.labels), n),
                         B * O if m.terms else O, 0 if m.terms else O))
    return rows


def _output_rows(plan: Plan, n: int, B: int, O: int) -> list[Row]:
    rows = []
    for f in plan.folds:
        eq = f"bo{letters(f.source_labels)}->bo{letters(f.target_labels)}"
        rows.append((f.target, "fold", f"+= {f.source}  {eq}", _dims((B, O), len(f.target_labels), n),
                     B * O * n ** len(f.target_labels), 0))
    if plan.first_write is None:
        rows.append(("out", "zeros", "", _dims((B, O), plan.l, n), 0, B * O * n**plan.l))
    for w in plan.writes:
        view = plan.view(w.view)
        consts = "".join(f" * {kind}[{letters(labs)}]" for kind, labs in view.constants)
        if w.first:
            rows.append(("out", "write", f"= {w.acc}  (the buffer itself)", _dims((B, O), plan.l, n), 0, 0))
        else:
            rows.append(("out", "write", f"out[bo{letters(view.output)}] += {w.acc}[bo{letters(w.labels)}]{consts}",
                         _dims((B, O), len(view.labels), n), B * O * n ** len(view.labels), 0))
    return rows


def _feature_letters(perm: Labels) -> str:
    """Letters of a permuted core's axes, named after the accumulator axes they feed."""
    inverse = {p: i for i, p in enumerate(perm)}
    return letters(inverse[j] for j in range(len(perm)))


def _num(x: int) -> str:
    return f"{x:.3g}" if x >= 10000 else str(x)


def _bytes(b: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if b < 1024 or unit == "TB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return f"{b} B"
