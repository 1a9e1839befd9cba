"""Aut(G) layers: every bilabelled graph X_H runs as a planned contraction with G's adjacency matrix.

>>> import numpy as np, catnn
>>> C5 = np.roll(np.eye(5, dtype=int), 1, axis=1); C5 = C5 + C5.T
>>> G = catnn.group("Aut", graph=C5)
>>> from catnn.compiler.plan import build_plan
>>> plan = build_plan(G, 1, 1, G.spanning_set(1, 1))
>>> [str(d) for d in plan.diagrams]
["{1, 1'}", "{1} {1'}", "graph[{1} {1'} ; 1-1']"]
>>> [(c.name, c.source, len(c.constants)) for c in plan.cores]      # x, its sum, and A x
[('c0', 'x0', 0), ('c1', 'x0', 0), ('c2', 'x0', 1)]

X_H is a tensor network (math.md §a.9, :meth:`~catnn.bilabelled.BilabelledGraph.einsum_spec`): one
index per vertex of F, one adjacency operand per edge. A layer ``Σ_H Λ_H ⊗ X_H`` is planned in the
same IR as the other groups (:mod:`.ir`, built by :mod:`.plan` through :class:`GraphPlanner`), split per graph along its connected components:

- **bottom** (the components that hold an input vertex): x, with one axis per input label (a vertex
  with several input labels is a diagonal), is contracted with their edges down to a *core* on their
  output vertices; every other vertex there is summed. The order is an ``opt_einsum`` path from
  :class:`LineagePath`, which contracts the running tensor with one adjacency operand per step
  (opt_einsum's unrestricted optimum would first multiply adjacency operands into constants as large
  as X_H itself); it is computed once per (bottom structure, n) and cached. Each step is one
  :class:`~.plan.CoreStep`, shown by ``explain()`` and spelled by both emitters; steps are keyed by
  their structure, so graphs whose bottoms begin alike share them (``A x`` is computed once), and a
  step that another step of the same contraction keeps more axes of is that step summed.
- **walks**: in a single group's layer (not in products), a path through internal vertices of
  degree 2 is one edge whose matrix is A^p (:func:`walks`, :func:`power_kind`: an exact integer
  constant registered like A), so ``1-a-b-1'`` is one matmul by A³, not three by A; its inner
  vertices still count as summed for ``normalize``.
- **top** (components without an input): their edges and isolated internal vertices (an all-ones
  vector) are constants of the output view, written after channel mixing; output vertices on no edge
  are broadcasts, repeated output labels diagonals. A component with no label at all is a scalar
  factor and goes there too. Bias graphs (0 -> l) are all top.

Channel mixing then groups graphs by output pattern exactly as for partition diagrams. The layer
allocates the chain tensors (one axis per vertex still needed: kept outputs and vertices with edges
left), the mixed accumulators and the output, never a dense n^(k+l) matrix; the search above
minimises the chain tensors' sizes, and ``Plan.largest_intermediate`` reports them.

The adjacency matrix is data of the plan: it is registered as the constant ``adj_<digest>`` (digest:
SHA-256 of the matrix) whose source is a tuple of 0/1 strings, one per row, written by catnn from
the validated integer matrix, so a compiled module carries its graph and needs no argument to run
(and no text of the user's reaches generated code). ``normalize=True`` divides by n for each vertex
summed out of the input (the top half's internal vertices are not scaled).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from math import prod
from collections.abc import Callable
from typing import Any

import numpy as np
from opt_einsum import paths as opt_einsum_paths

from catnn import messages
from catnn.errors import LimitError
from catnn.unionfind import UnionFind

from .ir import CoreStep, Sort
from .kernels import CONSTANTS, BottomHalf, ConstantRef, Halves, Labels, TopHalf, register_constant

__all__ = ["GraphPlanner", "adjacency_kind", "power_kind", "hidden_vertices", "graph_halves", "walks",
           "bottom_steps", "hanging_pieces", "graph_variance",
           "LineagePath", "ASSUMED_BATCH_CHANNELS"]

#: the size opt_einsum assumes for the batch × channel axis of x when it orders a bottom's contractions
ASSUMED_BATCH_CHANNELS = 256
#: labels a single step may use (the emitters' einsum alphabet)
_MAX_STEP_LABELS = 48

Edge = tuple[int, int]

register_constant("ones", "def _const_ones(n):\n    return [1] * n\n")


# -- the adjacency matrix as a registered constant --------------------------------------------------
def adjacency_kind(group: Any) -> str:
    """The constant kind of ``group``'s adjacency matrix (registered on first use).

    >>> import numpy as np, catnn
    >>> adjacency_kind(catnn.group("Aut", graph=np.ones((2, 2), dtype=int) - np.eye(2, dtype=int)))
    'adj_719fd9dc4790'
    """
    a = group.adjacency
    digest = hashlib.sha256(repr(a.shape).encode() + a.astype("int8").tobytes()).hexdigest()[:12]
    kind = f"adj_{digest}"
    if kind not in CONSTANTS:
        register_constant(kind, _adjacency_source(kind, a))
    return kind


def power_kind(kind: str, a: Any, p: int) -> str:
    """The constant kind of A^p, ``kind`` being A's (registered on first use); its entries count walks.

    >>> import numpy as np
    >>> kind = power_kind("adj_x", np.ones((2, 2), dtype=int) - np.eye(2, dtype=int), 2)
    >>> kind, [line.strip() for line in CONSTANTS[kind].splitlines()[-3:-1]]
    ('adj_x_p2', ['[1, 0],', '[0, 1],'])
    """
    power = f"{kind}_p{p}"
    if power not in CONSTANTS:
        product = _matrix_power(a, p)
        n = int(a.shape[0])
        rows = ",\n        ".join(str([int(v) for v in row]) for row in product.tolist())
        register_constant(power, _graph_constant(power, n, f"A^{p} for the graph G of Aut(G) ({n} vertices): "
                                                           f"walks of length {p}.", f"return [\n        {rows},\n    ]"))
    return power


def _matrix_power(a: Any, p: int) -> Any:
    """A^p exactly, by repeated squaring: int64 while the walk counts stay below 2^62 (every entry,
    and every partial sum, of a power up to p is at most the largest row sum to the p), else Python
    integers.

    >>> import numpy as np
    >>> _matrix_power(np.array([[1, 1], [1, 0]]), 10).tolist(), _matrix_power(np.full((2, 2), 2), 70)[0, 0]
    ([[89, 55], [55, 34]], 696898287454081973172991196020261297061888)
    """
    exact = int(a.sum(axis=1).max(initial=0)) ** p < 2**62
    base, result = a.astype(np.int64 if exact else object), None
    while p:
        if p & 1:
            result = base if result is None else result.dot(base)
        p >>= 1
        if p:
            base = base.dot(base)
    return result


def hidden_vertices(kind: str) -> int:
    """The inner vertices of the walks a constant's entries count: p - 1 for A^p (:func:`power_kind`), else 0.

    >>> hidden_vertices("adj_719fd9dc4790_p3"), hidden_vertices("adj_719fd9dc4790"), hidden_vertices("ones")
    (2, 0, 0)
    """
    base, _, p = kind.rpartition("_p")
    return int(p) - 1 if base.startswith("adj_") and p.isdigit() else 0


def _adjacency_source(kind: str, a: Any) -> str:
    """``def _const_<kind>(n)`` returning the matrix, rows as 0/1 strings (ints formatted here)."""
    n = int(a.shape[0])
    rows = ["".join("1" if int(v) else "0" for v in row) for row in a.tolist()]
    body = "\n".join(f'        "{row}",' for row in rows)
    return _graph_constant(kind, n, f"The adjacency matrix of the graph G of Aut(G) ({n} vertices), one 0/1 "
                                    f"string per row.", f"rows = (\n{body}\n    )\n"
                                                        f"    return [[int(c) for c in row] for row in rows]")


def _graph_constant(kind: str, n: int, doc: str, body: str) -> str:
    '''``def _const_<kind>(n)``: ``doc``, a refusal of any n but the graph's, then ``body`` (indented).

    >>> print(_graph_constant("k", 3, "Three.", "return [1, 2, 3]"))
    def _const_k(n):
        """Three."""
        if n != 3:
            raise ValueError('this code is built for a graph on 3 vertices, got n=%d' % n)
        return [1, 2, 3]
    <BLANKLINE>
    '''
    return (f"def _const_{kind}(n):\n"
            f'    """{doc}"""\n'
            f"    if n != {n}:\n"
            f"        raise ValueError('this code is built for a graph on {n} vertices, got n=%d' % n)\n"
            f"    {body}\n")


# -- one graph: bottom (from x) and top (into the output) -------------------------------------------
def _components(h: Any) -> list[int]:
    """The connected component of each vertex of F (named by a representative vertex)."""
    sets = UnionFind(h.vertices)
    for a, b in h.edges:
        sets.union(a, b)
    return [sets.find(u) for u in range(h.vertices)]


def graph_halves(h: Any, kind: str, power: Callable[[int], str] | None = None) -> Halves:
    """The bottom half (x and the edges of the components with an input, down to their output
    vertices) and the top half (the rest, written into the output) of one graph.

    Labels are vertex numbers of ``h``; ``perm`` is the identity (the core keeps the output vertices
    in order of first output). :func:`bottom_steps` turns the bottom half into a chain of steps.
    With ``power`` (p -> the constant kind of A^p), every path through internal vertices of degree 2
    is one edge of A^p (:func:`walks`): its p - 1 inner vertices are summed by the matrix power.

    >>> from catnn.bilabelled import BilabelledGraph
    >>> halves = graph_halves(BilabelledGraph.parse("graph[{1} {2} {1'} ; 1-1', 2-a]"), "A")
    >>> halves.bottom
    BottomHalf(input=(2,), core=(0,), constants=(('A', (0, 2)),), summed=1)
    >>> halves.top
    TopHalf(acc=(0,), output=(0, 1), constants=(('A', (1, 3)),))
    >>> graph_halves(BilabelledGraph.parse("graph[{1} {1'} ; 1-a, a-b, b-1']"), "A", "A{}".format).bottom
    BottomHalf(input=(1,), core=(0,), constants=(('A3', (0, 1)),), summed=3)
    """
    comp = _components(h)
    with_input = {comp[u] for u in h.inputs}
    paths, inner = walks(h) if power is not None else ([(e, 1) for e in h.edges], set())
    kinds = [(kind if p == 1 else power(p), e) for e, p in paths]    # type: ignore[misc]
    edges = tuple((k, e) for k, e in kinds if comp[e[0]] in with_input)
    kept = tuple(u for u in dict.fromkeys(h.outputs) if comp[u] in with_input)
    touched = {u for e in h.edges for u in e}
    constants: list[ConstantRef] = [(k, e) for k, e in kinds if comp[e[0]] not in with_input]
    constants += [("ones", (u,)) for u in range(h.labelled, h.vertices)
                  if u not in touched and comp[u] not in with_input]
    hidden = sum(1 for u in inner if comp[u] in with_input)
    summed = len({*h.inputs, *(u for _, e in edges for u in e)} - set(kept)) + hidden
    bottom = BottomHalf(tuple(h.inputs), kept, edges, summed)
    return Halves(bottom, TopHalf(kept, tuple(h.outputs), tuple(constants)), tuple(range(len(kept))))


def walks(h: Any) -> tuple[list[tuple[Edge, int]], set[int]]:
    """The edges of ``h`` with each path through internal vertices of degree 2 made one edge
    (its ends, its length p: the entries of A^p count its walks), and the inner vertices removed.
    A path is kept apart where its ends already share an edge, or where it closes on itself.

    >>> from catnn.bilabelled import BilabelledGraph
    >>> walks(BilabelledGraph.parse("graph[{1} {1'} {2'} ; 1-a, 1'-b, a-b, 1-2']"))
    ([((0, 2), 1), ((0, 1), 3)], {3, 4})
    """
    paths = {tuple(sorted(e)): 1 for e in h.edges}
    inner: set[int] = set()
    for v in range(h.labelled, h.vertices):
        ends = [e for e in paths if v in e]
        if len(ends) != 2:
            continue
        (u,), (w,) = (set(e) - {v} for e in ends)
        joined = (min(u, w), max(u, w))
        if u == w or u == v or w == v or joined in paths:
            continue
        paths[joined] = paths.pop(ends[0]) + paths.pop(ends[1])
        inner.add(v)
    return list(paths.items()), inner


@lru_cache(maxsize=4096)
def bottom_steps(inputs: Labels, edges: tuple[Edge, ...], kept: Labels, n: int
                 ) -> tuple[tuple[tuple[Edge, ...], Labels], ...]:
    """The chain from x: per step, (edges absorbed, vertices kept after it), an opt_einsum path.

    Vertices are those of the graph; x carries one axis per distinct input vertex. Label-free parts
    hanging from one vertex are first grouped into one operand (:func:`hanging_pieces`: a vector on
    that vertex), then :class:`LineagePath` orders the operands through ``opt_einsum.contract_path``;
    the last step keeps exactly ``kept`` (in some order). Cached per (structure, n).

    >>> bottom_steps((1,), ((0, 2), (1, 2)), (0,), 5)               # A A x: two matrix products
    ((((1, 2),), (2,)), (((0, 2),), (0,)))
    >>> bottom_steps((0,), ((0, 1), (1, 2)), (0,), 5)               # x_i (A A 1)_i: one step, no n^2
    ((((0, 1), (1, 2)), (0,)),)
    """
    import opt_einsum
    if not edges:
        return (((), tuple(sorted(kept))),)
    groups = hanging_pieces(edges, frozenset(inputs) | frozenset(kept))
    vertices = sorted({*inputs, *(u for e in edges for u in e), *kept})
    symbol = {u: opt_einsum.get_symbol(i + 1) for i, u in enumerate(vertices)}
    vertex = {s: u for u, s in symbol.items()}
    z = opt_einsum.get_symbol(0)
    x = z + "".join(symbol[u] for u in dict.fromkeys(inputs))
    terms = [x] + ["".join(symbol[u] for u in needed) for _, needed in groups]
    equation = ",".join(terms) + "->" + z + "".join(symbol[u] for u in kept)
    shapes = [(ASSUMED_BATCH_CHANNELS,) + (n,) * (len(t) - 1) if i == 0 else (n,) * len(t) for i, t in enumerate(terms)]
    _, info = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize=LineagePath())
    operands: list[tuple[Edge, ...]] = [()] + [group for group, _ in groups]
    steps = []
    for inds, _, step_equation, _, _ in info.contraction_list:
        taken = [operands.pop(i) for i in inds]
        result = step_equation.split("->")[1]
        steps.append((tuple(sorted(e for es in taken for e in es)), tuple(vertex[s] for s in result if s != z)))
        operands.append(())
    return tuple(steps)


def hanging_pieces(edges: tuple[Edge, ...], protected: frozenset[int]
                   ) -> list[tuple[tuple[Edge, ...], tuple[int, ...]]]:
    """Edges grouped into operands: (edges, the vertices it shares with the rest), each group one
    edge or a label-free part that meets the rest in at most one vertex (it reduces to a vector).

    Without grouping, the chain would enter such a part from its attachment vertex and keep that
    vertex alive beside the part's own (an n^2 tensor for a pendant path); as one operand it
    contracts to a vector first. ``protected`` vertices (x's and the kept ones) are never private.

    >>> hanging_pieces(((0, 1), (1, 2), (2, 3)), frozenset({0, 3}))    # a path between two labels
    [(((0, 1),), (0, 1)), (((1, 2),), (1, 2)), (((2, 3),), (2, 3))]
    >>> hanging_pieces(((0, 1), (1, 2), (1, 3)), frozenset({0}))       # a claw hanging from 0
    [(((0, 1), (1, 2), (1, 3)), (0,))]
    """
    groups = [(e,) for e in edges]

    def shared(part: tuple[Edge, ...], rest: list[tuple[Edge, ...]]) -> tuple[int, ...]:
        others = set(protected).union(*(_ends(g) for g in rest))
        return tuple(sorted(_ends(part) & others))

    def mergeable(i: int, j: int) -> bool:
        rest = [g for t, g in enumerate(groups) if t not in (i, j)]
        return bool(_ends(groups[i]) & _ends(groups[j])) and len(shared(groups[i] + groups[j], rest)) <= 1

    while True:
        pair = next(((i, j) for i in range(len(groups)) for j in range(i + 1, len(groups)) if mergeable(i, j)), None)
        if pair is None:
            break
        groups = [g for t, g in enumerate(groups) if t not in pair] + [groups[pair[0]] + groups[pair[1]]]
    return [(tuple(sorted(g)), shared(g, groups[:i] + groups[i + 1:])) for i, g in enumerate(groups)]


def _ends(group: tuple[Edge, ...]) -> set[int]:
    return {u for e in group for u in e}


class LineagePath(opt_einsum_paths.PathOptimizer):
    """Paths that contract the running tensor (operand 0, x) with one other operand at a time.

    Unrestricted paths multiply adjacency operands together first (A[i, j] A[i, k] is cheaper
    than touching x), building constant tensors as large as the dense matrix X_H; here every step
    carries x, so the largest tensor is a lineage tensor and steps are shared across graphs. The
    order minimises the summed step sizes exactly (search over absorbed sets, up to
    ``LineagePath.exact_limit`` operands), else greedily (smallest next step first).

    >>> import opt_einsum
    >>> opt_einsum.contract_path("zj,ia,aj->zi", (8, 5), (5, 5), (5, 5), shapes=True,
    ...                          optimize=LineagePath())[0]
    [(0, 2), (0, 1)]
    """

    exact_limit = 12

    def __call__(self, inputs: list[frozenset[str]], output: frozenset[str], size_dict: dict[str, int],
                 memory_limit: int | None = None) -> list[tuple[int, ...]]:
        others = list(range(1, len(inputs)))
        search = _LineageSearch(inputs, output, size_dict)
        order = search.exact() if len(others) <= self.exact_limit else search.greedy()
        positions = list(range(len(inputs)))
        path = []
        for j in order:   # the lineage is position 0, then the last (opt_einsum appends results)
            lineage = 0 if not path else len(positions) - 1
            at = positions.index(j)
            path.append(tuple(sorted((lineage, at))))
            positions = [p for i, p in enumerate(positions) if i not in (lineage, at)] + [-1]
        return path


class _LineageSearch:
    """Orders in which x absorbs the other operands, costed by the size of each step's indices."""

    def __init__(self, inputs: list[frozenset[str]], output: frozenset[str], size_dict: dict[str, int]) -> None:
        self.inputs, self.output, self.size = inputs, output, size_dict
        self.best: dict[frozenset[int], tuple[int, tuple[int, ...]]] = {}

    def current(self, done: frozenset[int]) -> frozenset[str]:
        """The lineage's indices after absorbing ``done``: those still needed later."""
        if not done:
            return self.inputs[0]
        have = self.inputs[0].union(*(self.inputs[i] for i in done))
        later = self.output.union(*(self.inputs[i] for i in range(1, len(self.inputs)) if i not in done))
        return have & later

    def moves(self, done: frozenset[int]) -> list[tuple[int, int]]:
        """(cost, operand) for each next operand, preferring those that share an index with x."""
        have = self.current(done)
        rest = [i for i in range(1, len(self.inputs)) if i not in done]
        touching = [i for i in rest if self.inputs[i] & have] or rest
        return [(prod(self.size[c] for c in have | self.inputs[i]), i) for i in touching]

    def exact(self) -> tuple[int, ...]:
        return self._solve(frozenset())[1]

    def _solve(self, done: frozenset[int]) -> tuple[int, tuple[int, ...]]:
        if len(done) == len(self.inputs) - 1:
            return 0, ()
        if done not in self.best:
            options = []
            for cost, i in self.moves(done):
                rest, order = self._solve(done | {i})
                options.append((cost + rest, (i,) + order))
            self.best[done] = min(options)
        return self.best[done]

    def greedy(self) -> tuple[int, ...]:
        done: frozenset[int] = frozenset()
        order = []
        while len(done) < len(self.inputs) - 1:
            _, i = min(self.moves(done))
            order.append(i)
            done = done | {i}
        return tuple(order)


# -- the whole layer --------------------------------------------------------------------------------
class _Cores:
    """Core steps shared across a layer's graphs: one per distinct (source, step structure).

    Steps that read the same source with the same constants form a *family*; :meth:`shared` turns a
    member whose kept axes another member (or the family's shared product) also keeps into a sum of
    that member, so one contraction serves the family (``A x`` summed is not recomputed as ``1ᵀA x``).
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.steps: list[CoreStep] = []
        self.by_key: dict[tuple, CoreStep] = {}
        self.by_name: dict[str, CoreStep] = {}

    def chain(self, bottom: BottomHalf) -> tuple[str, Labels]:
        """(final core name, the vertex on each of its axes) for one graph's bottom half."""
        edges = tuple(e for _, e in bottom.constants)
        kinds = {e: k for k, e in bottom.constants}
        local = {u: i for i, u in enumerate(dict.fromkeys(bottom.input))}
        source, source_labels = "x", tuple(local[u] for u in bottom.input)
        for absorbed, keep in bottom_steps(bottom.input, edges, bottom.core, self.n):
            step, axes = self.step(source, source_labels, local, tuple((kinds[e], e) for e in absorbed), keep)
            source, source_labels = step.name, tuple(range(len(axes)))
            local = {u: i for i, u in enumerate(axes)}
        return source, tuple(local)

    def step(self, source: str, source_labels: Labels, local: dict[int, int], absorbed: tuple[ConstantRef, ...],
             keep: Labels) -> tuple[CoreStep, Labels]:
        """The step ``source x absorbed edges -> keep`` (``local``: vertex -> label of the source's
        axes), shared with an equal step of another graph. A step with constants on a diagonal of
        x reads the diagonal's view (a plain tensor: a matmul, not an einsum over a repeated index)."""
        local = dict(local)
        pending = [e for _, e in absorbed]
        while pending:   # number new vertices outward from the known ones (a canonical-enough order)
            e = min(pending, key=lambda e: (-sum(u in local for u in e), sorted(local.get(u, 1 << 30) for u in e)))
            pending.remove(e)
            for u in e:
                local.setdefault(u, len(local))
        if len(local) > _MAX_STEP_LABELS:
            raise LimitError(messages.LIMIT_EXCEEDED.format(what=f"a contraction step over {len(local)} vertices",
                                                            limit=f"{_MAX_STEP_LABELS} indices"))
        constants = tuple(sorted((kind, tuple(sorted((local[a], local[b])))) for kind, (a, b) in absorbed))
        kept = tuple(sorted(local[u] for u in keep))
        if constants and len(set(source_labels)) < len(source_labels):
            view = self.make(source, source_labels, (), tuple(sorted(set(source_labels))))
            source, source_labels = view.name, view.labels
        at = {lab: u for u, lab in local.items()}
        return self.make(source, source_labels, constants, kept), tuple(at[lab] for lab in kept)

    def make(self, source: str, source_labels: Labels, constants: tuple[ConstantRef, ...], kept: Labels) -> CoreStep:
        """The step with this structure (created on first use)."""
        key = (source, source_labels, constants, kept)
        if key not in self.by_key:
            summed = len({*source_labels, *(lab for _, labs in constants for lab in labs)}) - len(kept)
            summed += sum(hidden_vertices(kind) for kind, _ in constants)
            parent = self.by_name[source].summed if source != "x" else 0
            step = CoreStep(f"c{len(self.steps)}", source, source_labels, kept, constants, summed, parent + summed)
            self.steps.append(step)
            self.by_key[key] = self.by_name[step.name] = step
        return self.by_key[key]

    def shared(self) -> list[CoreStep]:
        """The steps, each family member that another member keeps more of rewritten as a sum of the
        smallest such member, in an order where every step follows its source.

        A family of one-edge steps whose kept axes no member covers first gets the member keeping
        their union, when no member's own product (:func:`_made`) is smaller: ``x ⊙ A`` summed
        either way is one product and two sums."""
        families: dict[tuple, list[CoreStep]] = {}
        for s in list(self.steps):
            families.setdefault((s.source, s.source_labels, s.constants), []).append(s)
        wider: dict[str, CoreStep] = {}
        for (source, labels, constants), members in families.items():
            union = tuple(sorted({lab for m in members for lab in m.labels}))
            if (len(constants) == 1 and len(members) > 1 and all(m.labels != union for m in members)
                    and all(len(union) <= _made(m) for m in members)):
                members.append(self.make(source, labels, constants, union))
            for s in members:
                covers = [m for m in members if set(s.labels) < set(m.labels) and not m.is_view]
                if covers:
                    wider[s.name] = min(covers, key=lambda m: (len(m.labels), self.steps.index(m)))
        rewritten = {s.name: s if s.name not in wider else self.reduced(s, wider[s.name]) for s in self.steps}
        order: dict[str, CoreStep] = {}

        def place(s: CoreStep) -> None:
            if s.source in rewritten and s.source not in order:
                place(rewritten[s.source])
            order.setdefault(s.name, s)

        for s in self.steps:
            place(rewritten[s.name])
        return list(order.values())

    @staticmethod
    def reduced(s: CoreStep, parent: CoreStep) -> CoreStep:
        """``s`` as the sum of ``parent`` (same family, more axes kept) over the axes it drops."""
        return CoreStep(s.name, parent.name, parent.labels, s.labels, (), len(parent.labels) - len(s.labels), s.summed)


def _made(step: CoreStep) -> int:
    """The axes (per batch and channel) of the tensor a one-edge step's matmul or broadcast product makes.

    >>> _made(CoreStep("c1", "x", (0,), (1,), (("A", (0, 1)),))), _made(CoreStep("c2", "x", (0,), (0,), (("A", (0, 1)),)))
    (1, 2)
    """
    every = set(step.all_labels)
    inner = [lab for lab in step.constants[0][1] if lab in step.source_labels and lab not in step.labels]
    return len(every) - (len(inner) == 1 and len(set(step.constants[0][1]) & set(step.source_labels)) == 1)


class GraphPlanner:
    """How the planner (:mod:`.plan`) runs Aut(G): graphs' halves, and cores as contraction chains.

    >>> import numpy as np, catnn
    >>> C5 = np.roll(np.eye(5, dtype=int), 1, axis=1); C5 = C5 + C5.T
    >>> GraphPlanner(catnn.group("Aut", graph=C5)).n
    5
    """

    def __init__(self, group: Any, powers: bool = True) -> None:
        self.name, self.n = "Aut", group.require_n("a layer")
        self.kind = adjacency_kind(group)
        self.sorts = (Sort("Aut", "n", self.n),)
        self.adjacency, self.powers = group.adjacency, powers

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GraphPlanner) and (self.kind, self.n, self.powers) == (other.kind, other.n,
                                                                                     other.powers)

    def __hash__(self) -> int:
        return hash((self.kind, self.n, self.powers))

    def power(self, p: int) -> str:
        """The constant kind of A^p (registered on first use)."""
        return power_kind(self.kind, self.adjacency, p)

    @staticmethod
    def constant_sort(kind: str) -> int:
        """Aut(G) has one sort."""
        return 0

    @staticmethod
    def diagram(d: Any) -> Any:
        """A partition diagram as its bilabelled graph (graphs pass through)."""
        from catnn.bilabelled import BilabelledGraph
        return d if isinstance(d, BilabelledGraph) else BilabelledGraph.from_diagram(d)

    def halves(self, h: Any) -> Halves:
        """A graph's halves; with ``powers`` (single groups), paths through internal vertices of degree 2 as A^p."""
        return graph_halves(h, self.kind, self.power if self.powers else None)

    def schedule(self, halves: list[Halves]) -> tuple[list[CoreStep], list[str], list[Halves]]:
        """The chain steps of every graph's bottom (shared), each graph's last core, and its halves
        with the core axes in chain order."""
        cores = _Cores(self.n)
        names, out = [], []
        for half in halves:
            name, axes = cores.chain(half.bottom)
            out.append(Halves(half.bottom, half.top, tuple(axes.index(u) for u in half.bottom.core)))
            names.append(name)
        return cores.shared(), names, out


# -- initialisation ---------------------------------------------------------------------------------
@lru_cache(maxsize=65536)
def graph_variance(group: Any, h: Any, normalize: bool = False) -> float:
    """v_H = ||X_H||_F^2 / n^l: the mean over output positions of Σ_J X_H[I, J]^2 (the variance of
    (X_H x)[I] for unit-variance i.i.d. x), divided by n^(2s) with ``normalize`` (s: the vertices the
    bottom sums). ||X_H||^2 is the hom count of H glued to itself, every vertex summed.

    >>> import numpy as np, catnn
    >>> from catnn.bilabelled import BilabelledGraph
    >>> C5 = np.roll(np.eye(5, dtype=int), 1, axis=1); C5 = C5 + C5.T
    >>> graph_variance(catnn.group("Aut", graph=C5), BilabelledGraph.adjacency())   # 2 neighbours
    2.0
    """
    from catnn.bilabelled import BilabelledGraph
    double = h.glue(h)
    closed = BilabelledGraph(double.vertices, double.edges)
    n = group.require_n("a layer's initialisation")
    scale = n ** (2 * graph_halves(h, "A").bottom.summed) if normalize else 1
    return float(int(closed.dense(group.adjacency))) / n**h.l / scale
