"""Cores of a product with Aut(G) factors: the other sorts' part first, then each graph's edges as a chain.

>>> import numpy as np, catnn
>>> from catnn.compiler.plan import build_plan
>>> C5 = np.roll(np.eye(5, dtype=int), 1, axis=1); C5 = C5 + C5.T
>>> G = catnn.group("S x Aut", graph=C5)
>>> plan = build_plan(G, (1, 1), (1, 1), G.spanning_set((1, 1), (1, 1)))
>>> [(c.name, c.source, len(c.constants)) for c in plan.cores if c.constants]   # A on x, on x summed over S
[('c4', 'c0', 1), ('c5', 'c2', 1)]

A product diagram acts on disjoint axes, one part per sort, so its bottom half is the composite of
its parts' bottoms. Here each bottom runs in two stages (:func:`product_graph_schedule`):

- **the other sorts** (and diagonals, sums of graph vertices on no edge): one core from x, scheduled
  and shared by the planner's own scheduler (:func:`~.plan._schedule_cores`), keeping the other
  sorts' core axes and every graph vertex an edge still needs;
- **the graph sorts**: the edges (adjacency constants of every Aut sort) absorbed one operand at a
  time along :func:`~.plan_graph.bottom_steps`'s path (one matrix product per step for a path
  graph), the other sorts' axes carried along as batch. Steps are keyed by their structure, so
  equal steps of different diagrams are computed once.

Nothing has more axes than a core of one diagram (a chain tensor of the graph part times the other
sorts' kept axes): the product size prod n_s^(k_s + l_s) is never formed.
"""

from __future__ import annotations

from collections.abc import Callable

from catnn import messages
from catnn.errors import LimitError

from .ir import CoreStep
from .kernels import BottomHalf, ConstantRef, Halves, Labels
from .plan_graph import _MAX_STEP_LABELS, bottom_steps

__all__ = ["product_graph_schedule"]

#: (steps, the core name of each bottom): the planner's scheduler of constant-free or classical bottoms
Scheduler = Callable[[list[BottomHalf]], tuple[list[CoreStep], list[str]]]


def product_graph_schedule(halves: list[Halves], adjacency: frozenset[str], sorts: int, n: int,
                           schedule_cores: Scheduler) -> tuple[list[CoreStep], list[str], list[Halves]]:
    """Core steps, the core of each diagram and its halves (``perm`` onto that core's axes).

    ``adjacency``: the constant kinds that are edges of a graph sort; labels are tagged
    ``label * sorts + sort``; ``n`` sizes the path search (the largest graph).
    """
    firsts = [_first_stage(h.bottom, adjacency) for h in halves]
    steps, names = schedule_cores([first for first, _ in firsts])
    chains = _Chains(steps, sorts)
    out_names, out = [], []
    for h, (first, edges), name in zip(halves, firsts, names):
        axes = first.core
        if edges:
            name, axes = chains.run(name, first.core, edges, h.bottom.core, n)
        out_names.append(name)
        out.append(Halves(h.bottom, h.top, tuple(axes.index(h.bottom.core[p]) for p in h.perm), h.sign))
    return chains.steps, out_names, out


def _first_stage(bottom: BottomHalf, adjacency: frozenset[str]) -> tuple[BottomHalf, tuple[ConstantRef, ...]]:
    """The bottom without its graph edges (keeping the vertices they need), and those edges."""
    edges = tuple(c for c in bottom.constants if c[0] in adjacency)
    if not edges:
        return bottom, ()
    others = tuple(c for c in bottom.constants if c[0] not in adjacency)
    needed = set(bottom.core) | {lab for _, labs in edges for lab in labs}
    read = dict.fromkeys([*bottom.input, *(lab for _, labs in others for lab in labs)])
    core = tuple(lab for lab in read if lab in needed)
    return BottomHalf(bottom.input, core, others, len(read) - len(core), bottom.sorts), edges


class _Chains:
    """Chain steps after the first stage, shared by structure (source, edges, kept labels)."""

    def __init__(self, steps: list[CoreStep], sorts: int) -> None:
        self.steps, self.sorts = list(steps), sorts
        self.by_key: dict[tuple, CoreStep] = {}
        self.by_name = {s.name: s for s in steps}

    def run(self, source: str, axes: Labels, edges: tuple[ConstantRef, ...], core: Labels, n: int
            ) -> tuple[str, Labels]:
        """(final core name, the tagged label on each of its axes) for one bottom's edges."""
        kind_of = {labs: kind for kind, labs in edges}
        graph = {lab for _, labs in edges for lab in labs}     # vertices on no edge are carried too
        carried = tuple(lab for lab in axes if lab not in graph)
        inputs = tuple(lab for lab in axes if lab in graph)
        kept = tuple(lab for lab in core if lab in graph)
        for absorbed, keep in bottom_steps(inputs, tuple(labs for _, labs in edges), kept, n):
            step = self.step(source, axes, tuple((kind_of[e], e) for e in absorbed), carried + tuple(keep))
            source = step.name
            axes = carried + tuple(keep)
        return source, axes

    def step(self, source: str, axes: Labels, absorbed: tuple[ConstantRef, ...], keep: Labels) -> CoreStep:
        """``source`` (tagged labels ``axes``) times the ``absorbed`` edges, down to ``keep`` (in order)."""
        local = {lab: i for i, lab in enumerate(axes)}
        for _, labs in absorbed:
            for lab in labs:
                local.setdefault(lab, len(local))
        if len(local) > _MAX_STEP_LABELS:
            raise LimitError(messages.LIMIT_EXCEEDED.format(what=f"a contraction step over {len(local)} axes",
                                                            limit=f"{_MAX_STEP_LABELS} indices"))
        constants = tuple(sorted((kind, tuple(sorted(local[lab] for lab in labs))) for kind, labs in absorbed))
        kept = tuple(local[lab] for lab in keep)
        label_sorts = tuple(lab % self.sorts for lab in local)
        label_sorts = label_sorts if any(label_sorts) else ()
        key = (source, len(axes), constants, kept, label_sorts)
        if key not in self.by_key:
            summed = len(local) - len(kept)
            parent = self.by_name[source].summed if source in self.by_name else 0
            step = CoreStep(f"c{len(self.steps)}", source, tuple(range(len(axes))), kept, constants, summed,
                            parent + summed, label_sorts=label_sorts)
            self.steps.append(step)
            self.by_key[key] = self.by_name[step.name] = step
        return self.by_key[key]

