"""Graphs in the language: ``graph G = ...`` declarations, ``group Aut(G)`` and ``graph[...]`` literals.

>>> from catnn.api import compile_program
>>> prog = compile_program('''
... graph C = cycle(5)
... group Aut(C)
... diagram walk = graph[{1} {1'} ; 1-a-1']      # two steps on the cycle: A^2
... ''')
>>> prog.group.order, prog.walk.matrix(prog.group.adjacency)[0].tolist()
(10, [2, 0, 1, 1, 0])

Declarations name a graph G on the vertices 0..n-1:

- families: ``cycle(n)`` (n >= 3), ``path(n)``, ``complete(n)``, ``empty(n)`` (no edges),
  ``star(k)`` (K_{1,k}: centre 0, leaves 1..k), ``grid(r, c)`` (vertex i*c + j at row i, column j),
  ``petersen`` (outer cycle 0..4, spokes i - i+5, inner pentagram 5 + (i, i+2 mod 5));
- ``edges(0-1-2, 2-3, 5)``: paths of vertex numbers (0-1-2 is the edges 0-1 and 1-2; 0-0 is a
  loop); a lone number only makes the vertex exist; n is the largest vertex + 1;
- ``adjacency[[0, 1], [1, 0]]``: the 0/1 matrix row by row (symmetric; loops on the diagonal).

A literal ``graph[{1, 1'} {2} ; 1-a, a-2, b]`` lists the labelled vertices as blocks (like a partition
diagram), then after ``;`` its edges: ends are labels (naming their block) or internal vertices
(any other name); ``u-v-w`` is a path and a lone name an isolated vertex.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import numpy as np

from catnn import messages
from catnn.errors import CatnnError, CheckError, Span
from catnn.grammar import ast

__all__ = ["declared_adjacency", "literal_graph", "aut_group", "group_ref", "did_you_mean", "FAMILIES",
           "MAX_GRAPH_VERTICES"]

#: the most vertices a declared graph may have (Aut(C_1000) takes seconds; spanning sets need far fewer)
MAX_GRAPH_VERTICES = 1000


def _cycle(n: int) -> tuple[int, list[tuple[int, int]]]:
    return n, [(i, (i + 1) % n) for i in range(n)]


def _path(n: int) -> tuple[int, list[tuple[int, int]]]:
    return n, [(i, i + 1) for i in range(n - 1)]


def _complete(n: int) -> tuple[int, list[tuple[int, int]]]:
    return n, [(i, j) for i in range(n) for j in range(i + 1, n)]


def _empty(n: int) -> tuple[int, list[tuple[int, int]]]:
    return n, []


def _star(k: int) -> tuple[int, list[tuple[int, int]]]:
    return k + 1, [(0, i) for i in range(1, k + 1)]


def _grid(r: int, c: int) -> tuple[int, list[tuple[int, int]]]:
    right = [(i * c + j, i * c + j + 1) for i in range(r) for j in range(c - 1)]
    down = [(i * c + j, (i + 1) * c + j) for i in range(r - 1) for j in range(c)]
    return r * c, right + down


def _petersen() -> tuple[int, list[tuple[int, int]]]:
    outer = [(i, (i + 1) % 5) for i in range(5)]
    return 10, outer + [(i, i + 5) for i in range(5)] + [(5 + i, 5 + (i + 2) % 5) for i in range(5)]


#: family -> (builder, smallest value of each argument, what it takes, an example)
FAMILIES: dict[str, tuple[Callable[..., tuple[int, list[tuple[int, int]]]], tuple[int, ...], str, str]] = {
    "cycle": (_cycle, (3,), "one size n >= 3", "cycle(5)"),
    "path": (_path, (1,), "one size n >= 1", "path(4)"),
    "complete": (_complete, (1,), "one size n >= 1", "complete(4)"),
    "empty": (_empty, (1,), "one size n >= 1", "empty(3)"),
    "star": (_star, (1,), "a number of leaves k >= 1", "star(4)"),
    "grid": (_grid, (1, 1), "rows and columns, each >= 1", "grid(3, 4)"),
    "petersen": (_petersen, (), "no arguments", "petersen"),
}
_FORMS = ("edges", "adjacency")


def did_you_mean(name: str, candidates: list[str]) -> str:
    """The hint appended to an unknown-name error: the closest candidate, or nothing.

    >>> did_you_mean("cycel", ["cycle", "path"]), did_you_mean("zzz", ["cycle"])
    ("; did you mean 'cycle'?", '')
    """
    close = difflib.get_close_matches(name, candidates, n=1)
    return messages.DID_YOU_MEAN.format(suggestion=close[0]) if close else ""


def declared_adjacency(decl: ast.GraphDecl) -> np.ndarray:
    """The 0/1 adjacency matrix a ``graph`` declaration describes; CheckError (with a span) if bad.

    >>> from catnn.grammar import parse
    >>> declared_adjacency(parse("graph G = edges(0-1-2)").items[0]).tolist()
    [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    if decl.family == "adjacency" and decl.rows is not None:
        return _matrix(decl)
    if decl.rows is not None or decl.family not in (*FAMILIES, "edges"):
        known = ", ".join([*(FAMILIES[f][3] for f in FAMILIES), "edges(0-1, ...)", "adjacency[[...]]"])
        hint = did_you_mean(decl.family, [*FAMILIES, *_FORMS])
        raise CheckError(messages.GRAPH_FAMILY_UNKNOWN.format(name=decl.family, known=known) + hint,
                         decl.value_span)
    if decl.family == "edges":
        return _edges(decl)
    builder, minimum, takes, example = FAMILIES[decl.family]
    sizes = [p.vertices[0] for p in decl.args if len(p.vertices) == 1]
    if len(sizes) != len(decl.args) or len(sizes) != len(minimum) or any(map(int.__lt__, sizes, minimum)):
        raise CheckError(messages.GRAPH_FAMILY_ARGS.format(name=decl.family, takes=takes, example=example),
                         decl.value_span)
    n, edges = builder(*[min(s, MAX_GRAPH_VERTICES + 1) for s in sizes])
    return _build(n, edges, decl.value_span)


def _edges(decl: ast.GraphDecl) -> np.ndarray:
    if not decl.args:
        raise CheckError(messages.GRAPH_FAMILY_ARGS.format(name="edges", takes="paths of vertex numbers",
                                                           example="edges(0-1-2, 2-3)"), decl.value_span)
    for path in decl.args:
        if max(path.vertices) >= MAX_GRAPH_VERTICES:
            _too_many(max(path.vertices) + 1, path.span)
    n = max(v for path in decl.args for v in path.vertices) + 1
    return _build(n, [e for path in decl.args for e in zip(path.vertices, path.vertices[1:])], decl.value_span)


def _matrix(decl: ast.GraphDecl) -> np.ndarray:
    rows = decl.rows or ()
    n = len(rows)
    if n > MAX_GRAPH_VERTICES:
        _too_many(n, decl.value_span)
    for i, row in enumerate(rows):
        if len(row) != n:
            raise CheckError(messages.GRAPH_MATRIX_ROWS.format(n=n, row=i, m=len(row)), decl.value_span)
    bad = sorted({v for row in rows for v in row if v not in (0, 1)})   # before numpy: any size of integer
    if bad:
        raise CheckError(messages.AUT_NOT_BINARY.format(value=bad[0]), decl.value_span)
    a = np.array(rows, dtype=np.int64).reshape(n, n)
    if not np.array_equal(a, a.T):
        i, j = (int(v) for v in np.argwhere(a != a.T)[0])
        raise CheckError(messages.AUT_NOT_SYMMETRIC.format(i=i, j=j), decl.value_span)
    return a


def _build(n: int, edges: list[tuple[int, int]], span: Span) -> np.ndarray:
    if n > MAX_GRAPH_VERTICES:
        _too_many(n, span)
    a = np.zeros((n, n), dtype=np.int64)
    for u, v in edges:
        a[u, v] = a[v, u] = 1
    return a


def _too_many(n: int, span: Span) -> None:
    raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"a graph on {n} vertices",
                                                    limit=f"{MAX_GRAPH_VERTICES} vertices"), span)


# -- group Aut(G) ----------------------------------------------------------------------------------
def aut_group(item: ast.GroupDecl, graphs: dict[str, np.ndarray], graph_span: Span) -> Any | None:
    """The group of ``group Aut(G)``; None when the declaration names no graph and is not Aut."""
    from catnn.groups import REGISTRY, group as make_group
    from catnn.groups.automorphism import Automorphism
    is_aut = REGISTRY.get(item.name.lower()) is Automorphism
    if item.graph is None and not is_aut:
        return None
    if not is_aut:
        raise CheckError(messages.GROUP_NO_GRAPH.format(group=item.name), item.name_span)
    if item.graph is None:
        raise CheckError(messages.AUT_NEEDS_GRAPH_DECL, item.span)
    if item.graph not in graphs:
        raise CheckError(messages.GRAPH_UNKNOWN.format(name=item.graph) + did_you_mean(item.graph, list(graphs)),
                         graph_span)
    try:
        return make_group("Aut", graph=graphs[item.graph])
    except CatnnError as err:
        raise CheckError(err.message, item.span) from None


def group_ref(G: Any) -> Any:
    """What a layer or network spec records as its group: the name, or the group itself when a
    name cannot rebuild it (Aut(G) carries its graph)."""
    return G if getattr(G, "adjacency", None) is not None else G.name


# -- graph[...] literals ---------------------------------------------------------------------------
def literal_graph(node: ast.GraphLiteral, vertices: Callable[..., tuple[list[list[int]], int, int]]) -> Any:
    """The bilabelled graph of a literal; ``vertices`` checks the blocks (the checker's rule).

    Returns the partition diagram instead when there is no edge and no internal vertex.
    """
    from catnn.bilabelled import BilabelledGraph
    blocks, k, l = vertices([(block.labels, block.span) for block in node.blocks], node.span, None)
    vertex_of = {label: u for u, block in enumerate(blocks) for label in block}
    names: dict[str, int] = {}
    count = len(blocks)
    edges = []
    for edge in node.edges:
        ids = []
        for v in edge.vertices:
            if v.label is not None:
                position = v.label.index + l if v.label.is_input else v.label.index
                if position not in vertex_of or v.label.index == 0 or v.label.index > (k if v.label.is_input else l):
                    raise CheckError(messages.GRAPH_EDGE_LABEL.format(label=v.label), v.span)
                ids.append(vertex_of[position])
            else:
                if v.name not in names:
                    names[v.name], count = count, count + 1
                ids.append(names[v.name])
        edges += list(zip(ids, ids[1:]))
    try:
        graph = BilabelledGraph(count, edges, [vertex_of[a] for a in range(1, l + 1)],
                                [vertex_of[l + b] for b in range(1, k + 1)])
    except CatnnError as err:
        raise CheckError(err.message, node.span) from None
    diagram = graph.to_diagram()
    return graph if diagram is None else diagram
