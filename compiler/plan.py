"""Planning: the one builder of the Plan IR (:mod:`.ir`) for every layer kind.

>>> import catnn
>>> G = catnn.group("S")
>>> plan = build_plan(G, 1, 1, G.spanning_set(1, 1))
>>> [(c.name, c.source) for c in plan.cores]
[('c0', 'x0'), ('c1', 'c0')]

:func:`build_plan` (one input, one output) and :func:`build_mixed_plan` (feature spaces, bilinear
and masked layers) are views of :func:`plan_layer`, the one cached builder; the ``*_uncached``
twins plan from scratch (for tests). A group is planned through its :class:`Planner`: the default
one asks the group's block kernels (:mod:`.kernels`) for each diagram's halves and shares cores by
bottom half; Aut(G) plans its cores as contraction chains (:class:`~.plan_graph.GraphPlanner`).
Planning is pure: the plan carries the constants it uses (kinds and builder sources).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from catnn.groups.product import ProductGroup

from . import kernels_classical  # noqa: F401 - registers the kernels of Sp, SO, A, H and B
from .factorize import factorize
from .ir import Block, CoreStep, FoldStep, Input, MixGroup, MixStep, Plan, Run, Section, Sort, Term, View, WriteStep
from .kernels import (CONSTANTS, BottomHalf, ConstantRef, Halves, Labels, TopHalf, constant_sources, kernels_for,
                      register_constant)
from .plan_graph import GraphPlanner
from .plan_product_graph import product_graph_schedule

__all__ = ["build_plan", "build_mixed_plan", "build_plan_uncached", "build_mixed_plan_uncached", "plan_layer",
           "Planner", "ProductPlanner", "planner_for", "axis_sorts", "Plan", "Input"]


# -- building -------------------------------------------------------------------------------------
def build_plan(group: Any, k: int, l: int, diagrams: Sequence[Any], *, bias_diagrams: Sequence[Any] = (),
               n: int | None = None, normalize: bool = False, cached: bool = True) -> Plan:
    """The plan of the layer ``Σ_i weight[i] ⊗ diagrams[i]`` (+ ``Σ_j bias[j] ⊗ bias_diagrams[j]``).

    ``group`` is a :class:`~catnn.groups.Group` or its name; its block kernels split each diagram
    (Aut(G): bilabelled graphs, contractions with G's adjacency matrix, :mod:`.plan_graph`).
    """
    blocks = {(0, 0): diagrams} if len(diagrams) else {}
    if isinstance(group, ProductGroup):    # typed orders: one entry per sort
        k, l = group.check_orders(k, l)
        return plan_layer(group, (Input(sum(k), sorts=axis_sorts(k)),), (sum(l),), blocks, (tuple(bias_diagrams),),
                          normalize=normalize, cached=cached, output_sorts=(axis_sorts(l),))
    return plan_layer(group, (Input(k),), (l,), blocks, (tuple(bias_diagrams),), n=n, normalize=normalize,
                      cached=cached)


def axis_sorts(orders: Sequence[int]) -> Labels:
    """The sort of each axis of a typed tensor of these orders (sort 0's axes first).

    >>> axis_sorts((2, 1))
    (0, 0, 1)
    """
    return tuple(s for s, k in enumerate(orders) for _ in range(k))


def build_mixed_plan(group: Any, inputs: Sequence[int | Input], outputs: Sequence[int], *,
                     diagrams: Mapping[tuple[int, int], Sequence[Any]] | None = None, bias: bool = True,
                     normalize: bool = False, cached: bool = True) -> Plan:
    """The plan of a layer from ``inputs`` (orders, or :class:`Input`) to the output ``orders``.

    ``diagrams[(i, j)]`` (indices into inputs and outputs) overrides the group's spanning set of a
    block; blocks without diagrams are left out. ``bias``: each output gets the group's 0 -> l
    diagrams, one weight per output channel (``biases[j]`` is (len, D_j)).
    """
    if isinstance(group, ProductGroup):     # typed orders (tuples, one entry per sort)
        return _typed_mixed_plan(group, inputs, outputs, diagrams, bias, normalize, cached)
    ins = tuple(x if isinstance(x, Input) else Input(int(x)) for x in inputs)
    chosen: dict[tuple[int, int], Sequence[Any]] = {}
    for i, x in enumerate(ins):
        for j, l in enumerate(outputs):
            if diagrams is None:
                chosen[(i, j)] = group.spanning_set(x.order, l)
            elif (i, j) in diagrams:
                chosen[(i, j)] = diagrams[(i, j)]
    bias_diagrams = tuple(tuple(group.spanning_set(0, l)) if bias else () for l in outputs)
    return plan_layer(group, ins, tuple(outputs), chosen, bias_diagrams, normalize=normalize, cached=cached)


def _typed_mixed_plan(group: ProductGroup, inputs: Sequence[Sequence[int]], outputs: Sequence[Sequence[int]],
                      diagrams: Mapping[tuple[int, int], Sequence[Any]] | None, bias: bool, normalize: bool,
                      cached: bool) -> Plan:
    """:func:`build_mixed_plan` over a product: inputs and outputs are typed orders."""
    ins = tuple(group.check_orders(k, k)[0] for k in inputs)
    outs = tuple(group.check_orders(l, l)[0] for l in outputs)
    chosen = {(i, j): (group.spanning_set(k, l) if diagrams is None else diagrams.get((i, j), ()))
              for i, k in enumerate(ins) for j, l in enumerate(outs)}
    zero = (0,) * len(group.factors)
    bias_diagrams = tuple(tuple(group.spanning_set(zero, l)) if bias else () for l in outs)
    return plan_layer(group, tuple(Input(sum(k), sorts=axis_sorts(k)) for k in ins), tuple(sum(l) for l in outs),
                      chosen, bias_diagrams, normalize=normalize, cached=cached,
                      output_sorts=tuple(axis_sorts(l) for l in outs))


def plan_layer(group: Any, inputs: tuple[Input, ...], outputs: tuple[int, ...],
               diagrams: Mapping[tuple[int, int], Sequence[Any]], bias: tuple[tuple[Any, ...], ...], *,
               n: int | None = None, normalize: bool = False, cached: bool = True,
               output_sorts: tuple[Labels, ...] | None = None) -> Plan:
    """The one builder behind :func:`build_plan` and :func:`build_mixed_plan` (cached per arguments).

    ``output_sorts[j]``: the sort of each axis of output j (default: all sort 0)."""
    planner = planner_for(group, n)
    blocks = tuple(Block(i, j, tuple(planner.diagram(d) for d in ds))
                   for (i, j), ds in sorted(diagrams.items()) if len(ds))
    bias = tuple(tuple(planner.diagram(d) for d in ds) for ds in bias)
    sorts = tuple(output_sorts) if output_sorts is not None else ((),) * len(outputs)
    build = _build if cached else _build.__wrapped__
    return build(planner, bool(normalize), tuple(inputs), tuple(outputs), blocks, bias, sorts)


def build_plan_uncached(*args: Any, **kwargs: Any) -> Plan:
    """:func:`build_plan` without the cache (plans from scratch; for tests)."""
    return build_plan(*args, **kwargs, cached=False)


def build_mixed_plan_uncached(*args: Any, **kwargs: Any) -> Plan:
    """:func:`build_mixed_plan` without the cache (plans from scratch; for tests)."""
    return build_mixed_plan(*args, **kwargs, cached=False)


class Planner:
    """What the builder asks of a group: its diagrams' halves and a schedule of the cores.

    The default serves every group with block kernels (:mod:`.kernels`); Aut(G) plans its cores as
    contraction chains (:class:`~.plan_graph.GraphPlanner`). Planners are hashable (cache keys).
    """

    def __init__(self, name: str, n: int | None) -> None:
        self.name, self.n = name, n
        self.sorts = (Sort(name, "n", n),)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        return (self.name, self.n)

    def constant_sort(self, kind: str) -> int:
        """The sort whose size a constant is built at (one group: sort 0)."""
        return 0

    def diagram(self, d: Any) -> Any:
        """``d`` as this planner takes it (the identity; Aut(G) turns partitions into graphs)."""
        return d

    def halves(self, d: Any) -> Halves:
        return kernels_for(self.name, d).halves(factorize(d))

    def schedule(self, halves: list[Halves]) -> tuple[list[CoreStep], list[str], list[Halves]]:
        """Core steps reading one input (source ``x``), the core of each diagram, and its halves."""
        steps, names = _schedule_cores([h.bottom for h in halves])
        return steps, names, halves


def planner_for(group: Any, n: int | None = None) -> Planner:
    """The planner of ``group`` (a Group or a group name) at size ``n`` (default: the group's)."""
    if isinstance(group, ProductGroup):
        return ProductPlanner(group)
    name = getattr(group, "name", group)
    if name == "Aut":
        return GraphPlanner(group)
    return Planner(name, n if n is not None else getattr(group, "n", None))


class ProductPlanner(Planner):
    """A product of groups: each part of a :class:`~catnn.groups.product.ProductDiagram` split by its
    factor's kernels, the halves put side by side with labels tagged by sort (label·r + s), cores
    and accumulators then shared across the whole layer as for one group. Axes of sort 0 come first.
    An Aut(G) factor's part is a bilabelled graph split by its :class:`~.plan_graph.GraphPlanner`; its
    edges run as chains after the other sorts' core (:mod:`.plan_product_graph`).
    """

    def __init__(self, group: ProductGroup) -> None:
        super().__init__(str(group), None)
        self.factors = tuple(f.name for f in group.factors)
        self.sorts = tuple(Sort(f.name, "n" if s == 0 else f"n{s}", f.n) for s, f in enumerate(group.factors))
        self.graphs = tuple(GraphPlanner(f, powers=False) if f.name == "Aut" else None for f in group.factors)

    def _key(self) -> tuple:
        return (self.name, self.sorts, self.graphs)

    def constant_sort(self, kind: str) -> int:
        """Sort 0's constants keep their kind; sort s's are ``KIND__s<s>`` (built at n_s)."""
        base, _, sort = kind.rpartition("__s")
        return int(sort) if base and sort.isdigit() else 0

    def halves(self, d: Any) -> Halves:
        r = len(self.factors)
        parts = [kernels_for(name, part).halves(factorize(part)) if graph is None else graph.halves(graph.diagram(part))
                 for name, graph, part in zip(self.factors, self.graphs, d.parts)]

        def joined(pick: Any) -> Labels:
            return tuple(lab * r + s for s, h in enumerate(parts) for lab in pick(h))

        def constants(pick: Any) -> tuple[ConstantRef, ...]:
            return tuple((_sorted_kind(kind, s), tuple(lab * r + s for lab in labs))
                         for s, h in enumerate(parts) for kind, labs in pick(h))

        def sorts(labels: Iterable[int]) -> tuple[tuple[int, int], ...]:
            return tuple((lab, lab % r) for lab in dict.fromkeys(labels) if lab % r)

        inputs, core = joined(lambda h: h.bottom.input), joined(lambda h: h.bottom.core)
        acc, output = joined(lambda h: h.top.acc), joined(lambda h: h.top.output)
        below, above = constants(lambda h: h.bottom.constants), constants(lambda h: h.top.constants)
        starts = [sum(len(h.bottom.core) for h in parts[:s]) for s in range(r)]
        perm = tuple(starts[s] + p for s, h in enumerate(parts) for p in h.perm)
        sign = 1
        for h in parts:
            sign *= h.sign
        bottom = BottomHalf(inputs, core, below, sum(h.bottom.summed for h in parts),
                            sorts(inputs + core + tuple(lab for _, labs in below for lab in labs)))
        top = TopHalf(acc, output, above, sorts(acc + output + tuple(lab for _, labs in above for lab in labs)))
        return Halves(bottom, top, perm, sign)

    def schedule(self, halves: list[Halves]) -> tuple[list[CoreStep], list[str], list[Halves]]:
        """With Aut(G) factors, each graph part's edges run as a chain after the other sorts' core
        (:mod:`.plan_product_graph`); else one core per distinct bottom half."""
        graphs = [(s, g) for s, g in enumerate(self.graphs) if g is not None]
        if not graphs:
            return super().schedule(halves)
        kinds = frozenset(_sorted_kind(g.kind, s) for s, g in graphs)
        return product_graph_schedule(halves, kinds, len(self.factors), max(g.n for _, g in graphs), _schedule_cores)


def _sorted_kind(kind: str, sort: int) -> str:
    """A constant of sort s > 0 as its own kind ``KIND__s<s>`` (the same builder, run at n_s)."""
    if not sort:
        return kind
    renamed = f"{kind}__s{sort}"
    if renamed not in CONSTANTS:
        register_constant(renamed, CONSTANTS[kind].replace(f"def _const_{kind}(", f"def _const_{renamed}(", 1))
    return renamed


@lru_cache(maxsize=256)
def _build(planner: Planner, normalize: bool, inputs: tuple[Input, ...], outputs: tuple[int, ...],
           blocks: tuple[Block, ...], bias: tuple[tuple[Any, ...], ...], output_sorts: tuple[Labels, ...]) -> Plan:
    halves = {b: [planner.halves(d) for d in block.diagrams] for b, block in enumerate(blocks)}
    for b, block in enumerate(blocks):      # a typed x ⊗ y: its axes are x's then y's, not sort-major
        order = _factor_axes(inputs[block.input])
        if order:
            halves[b] = [replace(h, bottom=replace(h.bottom, input=tuple(h.bottom.input[i] for i in order)))
                         for h in halves[b]]
    cores, core_of = _input_cores(planner, inputs, blocks, halves)
    sections, terms, counters = [], [], [0, 0, 0]
    for j, l in enumerate(outputs):
        mine = [(b, r) for b, block in enumerate(blocks) if block.output == j for r in range(len(block.diagrams))]
        offset = len(terms)
        terms.extend(mine)
        hs = [halves[b][r] for b, r in mine]
        names = [core_of[b][r] for b, r in mine]
        bias_halves = [planner.halves(d) for d in bias[j]]
        steps = _schedule_accumulators(hs, bias_halves, names, l)
        sections.append(_section(l, steps, bias[j], offset, counters, output_sorts[j]))
    gathered, sections = _gather(blocks, cores, sections, terms)
    kinds = sorted({kind for c in cores for kind, _ in c.constants}
                   | {kind for s in sections for v in s.views for kind, _ in v.constants})
    return Plan(planner.name, planner.n, normalize, inputs, outputs, blocks, tuple(cores), tuple(sections),
                tuple(terms), gathered, tuple(kinds), constant_sources(kinds), planner.sorts,
                tuple(planner.constant_sort(kind) for kind in kinds))


def _factor_axes(x: Input) -> Labels:
    """For a bilinear input over a product, where each axis of x ⊗ y (x's axes, then y's) sits in the
    sort-major order the product's diagrams use; () otherwise.

    >>> _factor_axes(Input(4, (2, 2), sorts=(0, 1, 0, 1)))
    (0, 2, 1, 3)
    """
    if not x.factors or not x.sorts:
        return ()
    split = x.factors[0]
    tagged = [(s, i >= split, i) for i, s in enumerate(x.sorts)]
    where = {i: pos for pos, (_, _, i) in enumerate(sorted(tagged))}
    return tuple(where[i] for i in range(len(x.sorts)))


def _input_cores(planner: Planner, inputs: tuple[Input, ...], blocks: tuple[Block, ...],
                 halves: dict[int, list[Halves]]) -> tuple[list[CoreStep], dict[int, list[str]]]:
    """Per input, one core schedule over the bottom halves of every block reading it (names unique)."""
    cores: list[CoreStep] = []
    core_of: dict[int, list[str]] = {}
    for i in range(len(inputs)):
        mine = [b for b, block in enumerate(blocks) if block.input == i]
        steps, names, scheduled = planner.schedule([h for b in mine for h in halves[b]])
        rename = {s.name: f"c{len(cores) + m}" for m, s in enumerate(steps)}
        rename["x"] = f"x{i}"
        cores += [CoreStep(rename[s.name], rename[s.source], s.source_labels, s.labels, s.constants, s.scale,
                           s.summed, i, s.label_sorts) for s in steps]
        it, done = iter(names), iter(scheduled)
        for b in mine:
            core_of[b] = [rename[next(it)] for _ in halves[b]]
            halves[b] = [next(done) for _ in halves[b]]
    return cores, core_of


def _section(order: int, steps: tuple, bias: tuple[Any, ...], offset: int, counters: list[int],
             sorts: Labels = ()) -> Section:
    """One output's steps, with term indices shifted by ``offset`` and names made plan-unique."""
    views, mixes, groups, folds, writes = steps
    rename: dict[str, str] = {}
    for prefix, items, c in (("v", views, 0), ("a", mixes, 1), ("g", groups, 2)):
        for item in items:
            rename[item.name] = f"{prefix}{counters[c]}"
            counters[c] += 1
    if offset == 0 and all(old == new for old, new in rename.items()):   # the first output: nothing moves
        return Section(order, tuple(views), tuple(mixes), tuple(groups),
                       tuple(sorted(folds, key=lambda f: len(f.source_labels))), tuple(writes), bias, sorts)
    views = tuple(View(rename[v.name], v.output, v.constants, v.label_sorts) for v in views)
    mixes = tuple(MixStep(rename[m.name], rename[m.view], m.labels,
                          tuple(Term(t.index + offset, t.core, t.perm, t.sign) for t in m.terms), m.bias,
                          rename.get(m.group)) for m in mixes)
    groups = tuple(MixGroup(rename[g.name], g.features, tuple(rename[a] for a in g.members), g.dims)
                   for g in groups)
    folds = tuple(sorted((FoldStep(rename[f.source], rename[f.target], f.source_labels, f.target_labels)
                          for f in folds), key=lambda f: len(f.source_labels)))
    writes = tuple(WriteStep(rename[w.acc], rename[w.view], w.labels, w.first) for w in writes)
    return Section(order, views, mixes, groups, folds, writes, bias, sorts)


def _gather(blocks: tuple[Block, ...], cores: list[CoreStep], sections: list[Section],
            terms: list[tuple[int, int]]) -> tuple[tuple[tuple[int, ...], ...], list[Section]]:
    """Each group's features split into runs (one per input), and each block's weight rows in the
    order the runs read them: group by group, run by run, member-major."""
    input_of = {c.name: c.input for c in cores}
    gathered: list[list[int]] = [[] for _ in blocks]
    out = []
    for sec in sections:
        mixes = {m.name: m for m in sec.mixes}
        groups = []
        for g in sec.groups:
            runs, start = [], 0
            while start < len(g.features):
                i = input_of[g.features[start][0]]
                stop = start
                while stop < len(g.features) and input_of[g.features[stop][0]] == i:
                    stop += 1
                block = terms[mixes[g.members[0]].terms[start].index][0]
                runs.append(Run(i, block, len(gathered[block]), stop - start))
                for member in g.members:
                    gathered[block] += [terms[t.index][1] for t in mixes[member].terms[start:stop]]
                start = stop
            groups.append(MixGroup(g.name, g.features, g.members, g.dims, tuple(runs)))
        out.append(Section(sec.order, sec.views, sec.mixes, tuple(groups), sec.folds, sec.writes, sec.bias_diagrams,
                           sec.sorts))
    return tuple(tuple(rows) for rows in gathered), out


def _relabel(sequences: Iterable[Labels], first: Labels = ()) -> dict[int, int]:
    """Labels renumbered: ``first`` in order, then the rest by first appearance."""
    mapping: dict[int, int] = {}
    for lab in (*first, *(lab for seq in sequences for lab in seq)):
        mapping.setdefault(lab, len(mapping))
    return mapping


def _constants(consts: tuple[ConstantRef, ...], m: dict[int, int]) -> tuple[ConstantRef, ...]:
    return tuple((kind, tuple(m[lab] for lab in labs)) for kind, labs in consts)


def _bottom_struct(h: BottomHalf) -> tuple[tuple, Labels]:
    """(input pattern with constants and label sorts, kept labels in that pattern's numbering)."""
    m = _relabel([h.input, *(labs for _, labs in h.constants)])
    return (tuple(m[lab] for lab in h.input), _constants(h.constants, m), _sorts(h.sorts, m)), \
        tuple(m[lab] for lab in h.core)


def _sorts(sorts: tuple[tuple[int, int], ...], m: dict[int, int]) -> Labels:
    """The sort of each renumbered label (``m``: old -> new), or () when every label is of sort 0."""
    if not sorts:
        return ()
    of = dict(sorts)
    out = [0] * len(m)
    for old, new in m.items():
        out[new] = of.get(old, 0)
    return tuple(out)


def _schedule_cores(bottoms: list[BottomHalf]) -> tuple[list[CoreStep], list[str]]:
    """One core per distinct bottom half; each from the cheapest available source."""
    keyed: dict[tuple, tuple[tuple, Labels, int]] = {}
    per_diagram = []
    seen: dict[BottomHalf, tuple] = {}    # equal halves have equal structures: relabel each once
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
        (inputs, consts, sorts) = struct
        done = by_struct.setdefault(struct, [])
        step = _core_step(f"c{len(steps)}", inputs, consts, kept, summed, done, sorts)
        steps.append(step)
        done.append(step)
        names[(struct, kept)] = step.name
    return steps, [names[key] for key in per_diagram]


def _core_step(name: str, inputs: Labels, consts: tuple[ConstantRef, ...], kept: Labels, summed: int,
               done: list[CoreStep], sorts: Labels = ()) -> CoreStep:
    everything = set(inputs) | {lab for _, labs in consts for lab in labs}
    direct = CoreStep(name, "x", inputs, kept, consts, summed, summed, label_sorts=sorts)
    if direct.is_view:
        return direct
    parents = [c for c in done if set(kept) < set(c.labels)]
    if not parents or len(everything) < min(len(c.labels) for c in parents):
        return direct
    parent = min(parents, key=lambda c: (len(c.labels), c.name))
    return CoreStep(name, parent.name, parent.labels, kept, (), summed - parent.summed, summed, label_sorts=sorts)


def _schedule_accumulators(halves: list[Halves], bias_halves: list[Halves], core_names: list[str], l: int
                           ) -> tuple[list, list, list, list, list]:
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
        vkey = (tuple(m[lab] for lab in top.output), _constants(top.constants, m), _sorts(top.sorts, m))
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
    groups = []
    for features, members in grouped.items():
        name = f"g{len(groups)}"
        for a in members:
            a["group"] = name
        groups.append(MixGroup(name, features, tuple(a["name"] for a in members), len(features[0][1])))
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


