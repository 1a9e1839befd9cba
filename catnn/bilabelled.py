"""Bilabelled graphs: the diagrams of the graph automorphism groups Aut(G) (math.md §a.9).

A (k, l)-bilabelled graph H = (F, out, in) is a graph F on the vertices 0..v-1 with a tuple of l
output vertices and a tuple of k input vertices (repeats allowed: one vertex may carry several
labels). Its matrix X_H into a graph G on n vertices is n^l × n^k, and entry (I, J) counts the graph
homomorphisms F → G sending ``out[a]`` to ``i_a`` and ``in[b]`` to ``j_b``.

>>> A = BilabelledGraph.adjacency()              # 1 -> 1: the adjacency matrix itself
>>> print(A), print(A >> A)
graph[{1} {1'} ; 1-1']
graph[{1} {1'} ; 1-a, 1'-a]
(None, None)
>>> import numpy as np
>>> C4 = np.array([[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0]])
>>> (A >> A).terms[0][0].matrix(C4).tolist() == (C4 @ C4).tolist()
True

Conventions (those of partition diagrams): outputs are labelled ``1..l``, inputs ``1'..k'``;
``f >> g`` is "f, then g" and glues f's outputs onto g's inputs, ``X_{f >> g} = X_g @ X_f``, with no
n^c factor (hom counting already sums over the glued vertices, which become internal); ``f @ g`` is
the disjoint union with concatenated labels, ``X_{f @ g} = kron(X_f, X_g)``; ``H.T`` swaps the two
label tuples, ``X_{H.T} = X_H.T``; ``f.glue(g)`` identifies the labels of two graphs of the same
type, ``X = X_f * X_g`` (entrywise).

What F may contain. Edges are undirected. Loops are allowed (a loop at u makes φ(u) a looped vertex
of G); they are needed because gluing can close an edge onto one vertex (``cup >> merge``-style).
Parallel edges are collapsed to one: the target graphs are 0/1 adjacency matrices, where A∘A = A, so
multiplicity never changes a count. Isolated internal vertices are kept (each is a factor n), as are
internal components that touch no label (a scalar factor).

Canonical form. Two bilabelled graphs are equal when F is isomorphic by a map fixing every label. The
labelled vertices are numbered by first appearance in ``outputs + inputs``; the internal vertices are
ordered by individualisation-refinement (colour refinement, then branching on the first non-trivial
colour class, pruned by the automorphisms found at equal leaves) and the smallest edge list wins. This
is exponential only for internal parts with large symmetric structure; the search stops with a
LimitError after ``CANON_LIMIT`` nodes (graphs of up to a few dozen vertices are instant).

For the compiler, ``einsum_spec()`` states X_H as one contraction: one adjacency operand per edge, one
index per vertex of F, an all-ones vector for each vertex on no edge, the internal indices summed and
one output index per label (repeats allowed, meaning a diagonal).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import messages
from .errors import DiagramError, LimitError
from .kinds import DiagramOps
from .unionfind import UnionFind

if TYPE_CHECKING:
    from .coeff import Poly
    from .diagram import Diagram

__all__ = ["BilabelledGraph", "EinsumSpec", "CANON_LIMIT"]

#: the most search-tree nodes a canonical labelling may visit before giving up
CANON_LIMIT = 200_000

Edge = tuple[int, int]


@dataclass(frozen=True)
class EinsumSpec:
    """X_H as one einsum: ``contract(equation, *[A] * len(operands), *[ones(n)] * len(vectors))``.

    >>> spec = BilabelledGraph(3, [(0, 2), (2, 1)], outputs=[0], inputs=[1]).einsum_spec()
    >>> spec.operands, spec.output, spec.summed, spec.equation
    (('ac', 'bc'), 'ab', 'c', 'ac,bc->ab')
    """

    #: one index pair per edge of F, each an adjacency-matrix operand (``'aa'`` for a loop)
    operands: tuple[str, ...]
    #: one index per vertex of F that lies on no edge: an all-ones vector operand of length n
    vectors: tuple[str, ...]
    #: one index per label, outputs 1..l then inputs 1'..k'; a repeated index is a diagonal
    output: str
    #: the indices of the internal vertices, summed over
    summed: str

    @property
    def free(self) -> str:
        """The distinct indices of ``output``, in order of first appearance."""
        return "".join(dict.fromkeys(self.output))

    @property
    def equation(self) -> str:
        """The einsum equation over the distinct free indices (expand repeats with ``expand``)."""
        return ",".join(self.operands + self.vectors) + "->" + self.free

    def expand(self, core: np.ndarray, n: int) -> np.ndarray:
        """The (n,)*len(output) tensor from ``core`` (axes ``free``), writing repeats on diagonals."""
        core = np.asarray(core)
        if self.output == self.free:
            return core
        out = np.zeros((n,) * len(self.output), dtype=core.dtype)
        grid = np.indices((n,) * len(self.free))
        out[tuple(grid[self.free.index(c)] for c in self.output)] = core
        return out


class BilabelledGraph(DiagramOps):
    """An immutable, hashable (k, l)-bilabelled graph in canonical form.

    >>> H = BilabelledGraph(2, [(0, 1)], outputs=[0, 1])       # 0 -> 2: vec(A)
    >>> H.k, H.l, H.vertices, H.edges, H.outputs, H.inputs
    (0, 2, 2, ((0, 1),), (0, 1), ())
    """

    __slots__ = ("k", "l", "vertices", "edges", "outputs", "inputs", "_hash")
    kind = "graph"
    meets_other_kinds = True

    #: the sort order of diagram kinds inside a :class:`~catnn.morphism.Morphism` (partition diagrams: 0)
    kind_rank = 4

    def __init__(self, vertices: int, edges: Iterable[Sequence[int]] = (),
                 outputs: Sequence[int] = (), inputs: Sequence[int] = ()) -> None:
        if isinstance(vertices, bool) or not isinstance(vertices, int) or vertices < 0:
            raise DiagramError(messages.GRAPH_VERTICES.format(value=vertices))
        clean_edges = [_check_edge(e, vertices) for e in edges]
        outs = tuple(_check_vertex(u, vertices) for u in outputs)
        ins = tuple(_check_vertex(u, vertices) for u in inputs)
        self.k, self.l = len(ins), len(outs)
        self.vertices, self.edges, self.outputs, self.inputs = _canonical(vertices, clean_edges, outs, ins)
        self._hash = hash((self.vertices, self.edges, self.outputs, self.inputs))

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_diagram(cls, d: Diagram) -> BilabelledGraph:
        """The edgeless graph of a partition diagram: one vertex per block (its matrix is D_π)."""
        owner = {v: i for i, block in enumerate(d.blocks) for v in block}
        return cls(len(d.blocks), (), [owner[a] for a in range(1, d.l + 1)],
                   [owner[a] for a in range(d.l + 1, d.l + d.k + 1)])

    @classmethod
    def adjacency(cls) -> BilabelledGraph:
        """1 -> 1: one edge from the output to the input; its matrix is the adjacency matrix A."""
        return cls(2, [(0, 1)], [0], [1])

    @classmethod
    def identity(cls, k: int = 1) -> BilabelledGraph:
        """k -> k: k vertices, each both output i and input i."""
        return cls(k, (), range(k), range(k))

    @classmethod
    def path(cls, length: int) -> BilabelledGraph:
        """0 -> 2: a path of ``length`` edges from label 1 to label 2 (its tensor is A^length).

        >>> BilabelledGraph.path(3) == BilabelledGraph(4, [(0, 2), (2, 3), (3, 1)], outputs=[0, 1])
        True

        Built in canonical form directly, without refinement: see :func:`_walk_graph`.
        """
        return _walk_graph(cls, length, closed=False)

    @classmethod
    def rooted_cycle(cls, length: int) -> BilabelledGraph:
        """0 -> 1: a closed walk of ``length`` edges through label 1 (a cycle for length >= 3; its
        tensor is the diagonal of A^length).

        >>> BilabelledGraph.rooted_cycle(4) == BilabelledGraph(4, [(0, 2), (2, 3), (3, 1), (1, 0)], outputs=[0])
        True
        """
        return _walk_graph(cls, length, closed=True)

    @classmethod
    def parse(cls, text: str) -> BilabelledGraph:
        """The graph ``str`` prints: ``graph[{1, 1'} {2} ; 1-a, a-2, b]`` (blocks, then edges).

        Labelled vertices are the blocks, named in edges by any of their labels; other names
        (letters) are internal vertices; a bare name after ``;`` is an internal vertex on no edge;
        ``u-v-w`` is a path (the edges u-v and v-w). The ``graph[...]`` brackets may be left out.

        >>> g = BilabelledGraph.parse("graph[{1} {1'} ; 1-a-1']")
        >>> g == BilabelledGraph.adjacency() >> BilabelledGraph.adjacency()
        True
        """
        return _parse(text)

    # -- structure ----------------------------------------------------------------------------
    @property
    def labelled(self) -> int:
        """How many vertices carry a label (they are numbered 0..labelled-1)."""
        return len(set(self.outputs + self.inputs))

    @property
    def internal(self) -> int:
        """How many vertices carry no label."""
        return self.vertices - self.labelled

    @property
    def size(self) -> tuple[int, int]:
        """``(internal vertices, edges)``: the order in which spanning sets are enumerated."""
        return (self.internal, len(self.edges))

    def to_diagram(self) -> Diagram | None:
        """The partition diagram of an edgeless graph without internal vertices, else None."""
        from .diagram import Diagram
        if self.edges or self.internal:
            return None
        labels = list(self.outputs) + list(self.inputs)
        blocks: dict[int, list[int]] = {}
        for position, u in enumerate(labels, 1):
            blocks.setdefault(u, []).append(position)
        return Diagram(blocks.values(), self.k, self.l)

    def label_name(self, position: int) -> str:
        """DSL name of a 0-based label position: outputs ``1..l``, then inputs ``1'..k'``."""
        return str(position + 1) if position < self.l else f"{position - self.l + 1}'"

    def sort_key(self) -> tuple:
        """A total order on bilabelled graphs, used to print morphisms deterministically."""
        return (self.kind_rank, self.k, self.l, self.vertices, len(self.edges),
                self.outputs, self.inputs, self.edges)

    # -- algebra ------------------------------------------------------------------------------
    def compose(self, other: BilabelledGraph | Diagram) -> BilabelledGraph:
        """``self`` then ``other``: self's outputs glued onto other's inputs (no n^c factor).

        >>> A = BilabelledGraph.adjacency()
        >>> A.compose(A).size
        (1, 2)
        """
        other = _as_graph(other)
        if self.l != other.k:
            raise DiagramError(messages.ARITY_COMPOSE.format(left=self, lout=self.l, right=other,
                                                             rin=other.k))
        shift = self.vertices
        pairs = [(a, shift + b) for a, b in zip(self.outputs, other.inputs)]
        return _quotient(self.vertices + other.vertices,
                         list(self.edges) + [(a + shift, b + shift) for a, b in other.edges], pairs,
                         [u + shift for u in other.outputs], list(self.inputs))

    def tensor(self, other: BilabelledGraph | Diagram) -> BilabelledGraph:
        """``self`` left of ``other``: the disjoint union with concatenated labels."""
        other = _as_graph(other)
        shift = self.vertices
        return BilabelledGraph(self.vertices + other.vertices,
                               list(self.edges) + [(a + shift, b + shift) for a, b in other.edges],
                               list(self.outputs) + [u + shift for u in other.outputs],
                               list(self.inputs) + [u + shift for u in other.inputs])

    def glue(self, other: BilabelledGraph | Diagram) -> BilabelledGraph:
        """Both graphs on the same labels (label i of one identified with label i of the other).

        Its matrix is the entrywise product ``X_self * X_other``.
        """
        other = _as_graph(other)
        if (self.k, self.l) != (other.k, other.l):
            raise DiagramError(messages.GRAPH_GLUE.format(k1=self.k, l1=self.l, k2=other.k, l2=other.l))
        shift = self.vertices
        pairs = [(a, b + shift) for a, b in zip(self.outputs + self.inputs, other.outputs + other.inputs)]
        return _quotient(self.vertices + other.vertices,
                         list(self.edges) + [(a + shift, b + shift) for a, b in other.edges], pairs,
                         list(self.outputs), list(self.inputs))

    def relabel(self, k: int, l: int) -> BilabelledGraph:
        """The same F with its labels ``outputs + inputs`` split anew as l outputs and k inputs.

        The tensor of X_H is unchanged; only its matrix shape (n^l, n^k) changes.
        """
        labels = self.outputs + self.inputs
        if k + l != len(labels) or min(k, l) < 0:
            raise DiagramError(messages.GRAPH_RELABEL.format(m=len(labels), k=k, l=l))
        out = object.__new__(type(self))     # the canonical numbering reads outputs + inputs: unchanged
        out.k, out.l = k, l
        out.vertices, out.edges, out.outputs, out.inputs = self.vertices, self.edges, labels[:l], labels[l:]
        out._hash = hash((out.vertices, out.edges, out.outputs, out.inputs))
        return out

    @property
    def T(self) -> BilabelledGraph:
        """The flip: outputs and inputs exchanged, a (l, k)-graph; its matrix is the transpose."""
        return BilabelledGraph(self.vertices, self.edges, self.inputs, self.outputs)

    # morphism-protocol hooks: how a Morphism composes and tensors terms of this kind
    def _compose_terms(self, other: Any, loop: Poly) -> list[tuple[Poly, BilabelledGraph]]:
        from .coeff import Poly
        return [(Poly.const(1), self.compose(other))]

    def _tensor_terms(self, other: Any) -> list[tuple[Poly, BilabelledGraph]]:
        from .coeff import Poly
        return [(Poly.const(1), self.tensor(other))]

    # a partition diagram followed by (or left of) a graph: it acts as its edgeless graph
    def _rcompose_terms(self, first: Any, loop: Poly) -> list[tuple[Poly, BilabelledGraph]]:
        from .coeff import Poly
        return [(Poly.const(1), _as_graph(first).compose(self))]

    def _rtensor_terms(self, left: Any) -> list[tuple[Poly, BilabelledGraph]]:
        from .coeff import Poly
        return [(Poly.const(1), _as_graph(left).tensor(self))]

    def _operand(self, other: object) -> object:
        """Partition diagrams met by a graph become edgeless graphs (so the two kinds compose)."""
        return _as_term(other)

    # -- evaluation ---------------------------------------------------------------------------
    def einsum_spec(self) -> EinsumSpec:
        """X_H as one contraction: an adjacency operand per edge, an index per vertex of F.

        Vertex u gets index ``opt_einsum.get_symbol(u)``; labelled vertices come first, so the
        output reads outputs 1..l then inputs 1'..k' (a vertex with several labels repeats).
        """
        from opt_einsum import get_symbol
        touched = {u for e in self.edges for u in e}
        return EinsumSpec(
            operands=tuple(get_symbol(a) + get_symbol(b) for a, b in self.edges),
            vectors=tuple(get_symbol(u) for u in range(self.vertices) if u not in touched),
            output="".join(get_symbol(u) for u in self.outputs + self.inputs),
            summed="".join(get_symbol(u) for u in range(self.labelled, self.vertices)),
        )

    def dense(self, adjacency: Any) -> np.ndarray:
        """The exact (n,)*(l+k) hom-count tensor into the graph with this 0/1 adjacency matrix.

        Axes: outputs 1..l, then inputs 1'..k'. Evaluated by ``opt_einsum.contract`` in int64, or
        in Python integers when a count could pass 2^62 (n^internal is a bound on every entry and
        every intermediate). Never used in a runtime path.
        """
        import opt_einsum
        A = np.asarray(adjacency)
        n = A.shape[0]
        exact = n ** max(self.internal, 1) < 2**62
        A = A.astype(np.int64 if exact else object)
        spec = self.einsum_spec()
        if not spec.operands and not spec.vectors:
            return np.ones((), dtype=A.dtype)
        ones = np.ones(n, dtype=A.dtype)
        core = opt_einsum.contract(spec.equation, *([A] * len(spec.operands)), *([ones] * len(spec.vectors)))
        return spec.expand(np.asarray(core, dtype=A.dtype), n)

    def matrix(self, adjacency: Any) -> np.ndarray:
        """The dense (n^l, n^k) matrix X_H (rows: outputs, columns: inputs, row-major)."""
        n = np.asarray(adjacency).shape[0]
        return self.dense(adjacency).reshape(n**self.l, n**self.k)

    # -- identity and printing ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return (self.k, self.l, self.vertices, self.edges, self.outputs, self.inputs) == \
                   (other.k, other.l, other.vertices, other.edges, other.outputs, other.inputs)
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        """``graph[{labels of a vertex} ... ; edges]``: blocks as in partition diagrams, internal vertices a, b, ...

        The brackets delimit the literal, so it reads the same inside ``learn(a, b)`` and before
        ``-``. An edgeless graph without internal vertices prints exactly like its partition diagram.
        """
        labels = self.outputs + self.inputs
        names: dict[int, list[str]] = {}
        for position, u in enumerate(labels):
            names.setdefault(u, []).append(self.label_name(position))
        for u in range(self.labelled, self.vertices):
            names[u] = [_letters(u - self.labelled)]
        blocks = " ".join("{" + ", ".join(names[u]) + "}" for u in range(self.labelled))
        touched = {u for e in self.edges for u in e}
        items = [f"{names[a][0]}-{names[b][0]}" for a, b in self.edges]
        items += [names[u][0] for u in range(self.labelled, self.vertices) if u not in touched]
        if not items:
            return blocks or "id(0)"
        return f"graph[{blocks} ; {', '.join(items)}]" if blocks else f"graph[; {', '.join(items)}]"

    def __repr__(self) -> str:
        return (f"BilabelledGraph({self.vertices}, {list(self.edges)}, outputs={list(self.outputs)}, "
                f"inputs={list(self.inputs)})")


# -- helpers: validation, gluing, parsing --------------------------------------------------------
def _check_vertex(u: object, vertices: int) -> int:
    if isinstance(u, bool) or not isinstance(u, (int, np.integer)) or not 0 <= int(u) < vertices:
        raise DiagramError(messages.GRAPH_VERTEX_RANGE.format(vertex=u, v=vertices))
    return int(u)


def _check_edge(edge: object, vertices: int) -> Edge:
    try:
        a, b = edge  # type: ignore[misc]
    except (TypeError, ValueError):
        raise DiagramError(messages.GRAPH_BAD_EDGE.format(edge=edge)) from None
    a, b = _check_vertex(a, vertices), _check_vertex(b, vertices)
    return (a, b) if a <= b else (b, a)


def _as_graph(x: Any) -> BilabelledGraph:
    from .diagram import Diagram
    if isinstance(x, BilabelledGraph):
        return x
    if isinstance(x, Diagram):
        return BilabelledGraph.from_diagram(x)
    raise DiagramError(messages.NOT_DIAGRAM.format(kind=type(x).__name__))


def _as_term(x: object) -> object:
    """Partition diagrams met by a graph become edgeless graphs (so the two kinds compose)."""
    from .diagram import Diagram
    from .morphism import Morphism
    if isinstance(x, Diagram):
        return BilabelledGraph.from_diagram(x)
    if isinstance(x, Morphism) and any(isinstance(d, Diagram) for d in x.diagrams):
        return Morphism([(_as_graph(d), c) for d, c in x.terms], x.k, x.l, x.loop)
    return x


def _quotient(vertices: int, edges: list[Edge], pairs: list[tuple[int, int]],
              outputs: list[int], inputs: list[int]) -> BilabelledGraph:
    """The graph on ``vertices`` with each pair of vertices identified."""
    sets = UnionFind(vertices)
    for a, b in pairs:
        sets.union(a, b)
    roots = sorted({sets.find(u) for u in range(vertices)})
    new = {r: i for i, r in enumerate(roots)}
    at = [new[sets.find(u)] for u in range(vertices)]
    return BilabelledGraph(len(roots), [(at[a], at[b]) for a, b in edges],
                           [at[u] for u in outputs], [at[u] for u in inputs])


def _letters(i: int) -> str:
    """Internal vertex names: a..z, then aa, ab, ..."""
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(ord("a") + r) + name
    return name


_BLOCK = re.compile(r"\{([^{}]*)\}")
_LABEL = re.compile(r"^(\d+)('?)$")
_INTERNAL = re.compile(r"^[a-z]+$")


def _parse(text: str) -> BilabelledGraph:
    def fail(why: str) -> DiagramError:
        return DiagramError(messages.GRAPH_TEXT.format(text=text, why=why))

    body = text.strip()
    if body.startswith("graph"):
        inner = body[len("graph"):].strip()
        if not (inner.startswith("[") and inner.endswith("]")):
            raise fail("expected graph[...]")
        body = inner[1:-1]
    head, _, tail = body.partition(";")
    head = head.strip()
    if head == "id(0)":
        head = ""
    if _BLOCK.sub("", head).strip():
        raise fail("expected blocks like {1, 2'} before ';'")
    vertex_of: dict[str, int] = {}
    outs: dict[int, int] = {}
    ins: dict[int, int] = {}
    blocks = _BLOCK.findall(head)
    for u, block in enumerate(blocks):
        for name in (s.strip() for s in block.split(",")):
            match = _LABEL.match(name)
            if not match or int(match.group(1)) < 1:
                raise fail(f"{name!r} is not a label like 2 or 2'")
            table = ins if match.group(2) else outs
            if int(match.group(1)) in table:
                raise fail(f"label {name} appears twice")
            table[int(match.group(1))] = u
            vertex_of[name] = u
    for table, kind in ((outs, "outputs"), (ins, "inputs")):
        if sorted(table) != list(range(1, len(table) + 1)):
            raise fail(f"{kind} must be numbered 1, 2, ... without gaps")
    count = len(blocks)
    edges = []
    for item in (s.strip() for s in tail.split(",")) if tail.strip() else ():
        ends = [s.strip() for s in item.split("-")]
        if not all(ends):
            raise fail(f"{item!r} is not an edge like 1-a")
        ids = []
        for name in ends:
            if name not in vertex_of:
                if not _INTERNAL.match(name):
                    raise fail(f"unknown vertex {name!r}")
                vertex_of[name], count = count, count + 1
            ids.append(vertex_of[name])
        edges += list(zip(ids, ids[1:]))
    return BilabelledGraph(count, edges, [outs[i] for i in sorted(outs)], [ins[i] for i in sorted(ins)])


# -- canonical form -----------------------------------------------------------------------------
def _walk_graph(cls: type[BilabelledGraph], length: int, closed: bool) -> BilabelledGraph:
    """The path of ``length`` edges between labels 0 and 1 (or the closed walk through label 0) in
    the numbering :func:`_canonical` gives it, built directly: long paths would otherwise take about
    length / 2 refinement rounds each.

    Why this numbering. Refinement from the labels splits the internal vertices by their distance
    to the two ends, one step per round: after round t the colours are the labels, then x_1, y_1,
    ..., x_t, y_t (x_d at distance d from label 0's end, y_d from the other end), then the rest; in
    round t + 1 the rest splits as x_{t+1} (a neighbour coloured x_t) < y_{t+1} (one coloured y_t) <
    the others, since x_t < y_t < the rest. For a path the ends differ, so this is discrete: x_d is
    2d, y_d is 2d + 1 (a middle vertex at equal distances is an x). For a closed walk x_d and y_d
    share a colour until the search individualises x_1; then x_d is 2d - 1 and y_d is 2d, and the
    reflection gives the same edges. ``tests/test_aut_scale.py`` checks this against
    :func:`_canonical` for every length up to 120.

    >>> _walk_graph(BilabelledGraph, 4, closed=False).edges
    ((0, 2), (1, 3), (2, 4), (3, 4))
    """
    if isinstance(length, bool) or not isinstance(length, int) or length < 1:
        raise DiagramError(messages.GRAPH_WALK_LENGTH.format(value=length))
    internal = length - 1
    first = 1 if closed else 2
    near = [first + 2 * d for d in range((internal + 1) // 2)]
    far = [first + 1 + 2 * d for d in range(internal // 2)]
    walk = [0, *near, *far[::-1], 0 if closed else 1]
    out = object.__new__(cls)
    out.k, out.l = 0, 1 if closed else 2
    out.vertices = internal + (1 if closed else 2)
    out.edges = tuple(sorted({(min(a, b), max(a, b)) for a, b in zip(walk, walk[1:])}))
    out.outputs, out.inputs = (0,) if closed else (0, 1), ()
    out._hash = hash((out.vertices, out.edges, out.outputs, out.inputs))
    return out


def _canonical(vertices: int, edges: list[Edge], outputs: tuple[int, ...], inputs: tuple[int, ...]
               ) -> tuple[int, tuple[Edge, ...], tuple[int, ...], tuple[int, ...]]:
    """(vertices, sorted edges, outputs, inputs) in the canonical numbering."""
    first: dict[int, int] = {}
    for u in outputs + inputs:
        first.setdefault(u, len(first))
    p = len(first)
    internal = [u for u in range(vertices) if u not in first]
    order = {u: i for u, i in first.items()}
    order.update({u: p + i for i, u in enumerate(internal)})
    edge_set = sorted({tuple(sorted((order[a], order[b]))) for a, b in edges})
    if vertices - p > 0:
        position = _canonical_positions(vertices, edge_set, p)
        edge_set = sorted({tuple(sorted((position[a], position[b]))) for a, b in edge_set})
    else:
        position = list(range(vertices))
    relabel = [position[order[u]] for u in range(vertices)]
    return (vertices, tuple(edge_set),                                # type: ignore[arg-type]
            tuple(relabel[u] for u in outputs), tuple(relabel[u] for u in inputs))


def _canonical_positions(v: int, edges: list[tuple[int, ...]], p: int) -> list[int]:
    """Canonical positions of vertices 0..v-1, where 0..p-1 (the labelled ones) keep theirs."""
    nbrs: list[list[int]] = [[] for _ in range(v)]
    for a, b in edges:
        nbrs[a].append(b)
        if a != b:
            nbrs[b].append(a)
    start = [u if u < p else p for u in range(v)]
    search = _CanonSearch(nbrs, edges)
    search.run(_refine(nbrs, start), [])
    return search.best_positions  # type: ignore[return-value]


def _refine(nbrs: list[list[int]], colours: list[int]) -> list[int]:
    """Colour refinement to the coarsest equitable colouring finer than ``colours``.

    New colours are ranks of (old colour, sorted neighbour colours), so they are canonical and keep
    the order of the old colours (labelled vertices stay 0..p-1).
    """
    if len(nbrs) > _NUMPY_REFINE:
        return _refine_numpy(nbrs, colours)
    return _refine_python(nbrs, colours)


def _refine_python(nbrs: list[list[int]], colours: list[int]) -> list[int]:
    """:func:`_refine` in Python rounds (small graphs: no numpy overhead).

    >>> _refine_python([[1], [0, 2], [1, 3], [2]], [0, 1, 1, 1])
    [0, 1, 3, 2]
    """
    count = -1
    while True:
        sigs = [(colours[u], tuple(sorted(colours[w] for w in nbrs[u]))) for u in range(len(nbrs))]
        ranks = {s: i for i, s in enumerate(sorted(set(sigs)))}
        colours = [ranks[s] for s in sigs]
        if len(ranks) == count:
            return colours
        count = len(ranks)


#: graphs with more vertices than this are refined with numpy rounds (long paths: rounds ~ length / 2)
_NUMPY_REFINE = 40


def _refine_numpy(nbrs: list[list[int]], colours: list[int]) -> list[int]:
    """:func:`_refine` by numpy rounds, the same colours: a signature row is the colour, the sorted
    neighbour colours, then -1 padding (so a shorter row sorts first exactly when Python's tuples do).

    >>> path = [[1], [0, 2], [1, 3], [2]]
    >>> _refine_numpy(path, [0, 1, 1, 1]) == _refine_python(path, [0, 1, 1, 1])
    True
    """
    v = len(nbrs)
    width = max(1, max(len(x) for x in nbrs))
    table = np.full((v, width), v, dtype=np.int64)
    for u, x in enumerate(nbrs):
        table[u, :len(x)] = x
    current = np.asarray(colours, dtype=np.int64)
    fits = (v + 1) ** (width + 1) < 2**62
    count = -1
    while True:
        padded = np.append(current, np.iinfo(np.int64).max)
        neighbours = np.sort(padded[table], axis=1)
        neighbours[neighbours == np.iinfo(np.int64).max] = -1
        rows = np.column_stack([current, neighbours]) + 1
        if fits and int(current.max()) < v:     # one integer per row, in the rows' lexicographic order
            keys = rows @ (v + 1) ** np.arange(width, -1, -1, dtype=np.int64)
            current = np.unique(keys, return_inverse=True)[1].reshape(-1)
        else:
            order = np.lexsort(rows.T[::-1])
            ordered = rows[order]
            new = np.ones(v, dtype=np.int64)
            new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
            current = np.empty(v, dtype=np.int64)
            current[order] = np.cumsum(new) - 1
        colours_now = int(current.max()) + 1
        if colours_now == count:
            return current.tolist()
        count = colours_now


class _CanonSearch:
    """Individualisation-refinement with automorphism pruning; keeps the least leaf certificate."""

    def __init__(self, nbrs: list[list[int]], edges: list[tuple[int, ...]]) -> None:
        self.nbrs, self.edges = nbrs, edges
        self.best: tuple | None = None
        self.best_positions: list[int] | None = None
        self.automorphisms: list[list[int]] = []
        self.nodes = 0

    def run(self, colours: list[int], prefix: list[int]) -> None:
        self.nodes += 1
        if self.nodes > CANON_LIMIT:
            raise LimitError(messages.GRAPH_CANON_LIMIT.format(limit=CANON_LIMIT, v=len(colours)))
        v = len(colours)
        if len(set(colours)) == v:
            self._leaf(colours)
            return
        sizes: dict[int, int] = {}
        for c in colours:
            sizes[c] = sizes.get(c, 0) + 1
        target = min(c for c, s in sizes.items() if s > 1)
        explored: list[int] = []
        for u in range(v):
            if colours[u] != target or self._equivalent(u, explored, prefix):
                continue
            split = [2 * c + (1 if c == target and w != u else 0) for w, c in enumerate(colours)]
            self.run(_refine(self.nbrs, split), prefix + [u])
            explored.append(u)

    def _leaf(self, positions: list[int]) -> None:
        cert = tuple(sorted(tuple(sorted((positions[a], positions[b]))) for a, b in self.edges))
        if self.best is None or cert < self.best:
            self.best, self.best_positions = cert, positions
        elif cert == self.best:
            assert self.best_positions is not None
            at = {pos: u for u, pos in enumerate(self.best_positions)}
            gamma = [at[positions[u]] for u in range(len(positions))]
            if any(gamma[u] != u for u in range(len(gamma))):
                self.automorphisms.append(gamma)

    def _equivalent(self, u: int, explored: list[int], prefix: list[int]) -> bool:
        """True if an automorphism found so far fixes ``prefix`` and maps an explored vertex to u."""
        if not explored or not self.automorphisms:
            return False
        orbits = UnionFind(len(self.nbrs))
        for gamma in self.automorphisms:
            if all(gamma[x] == x for x in prefix):
                for x, y in enumerate(gamma):
                    orbits.union(x, y)
        return orbits.find(u) in {orbits.find(x) for x in explored}
