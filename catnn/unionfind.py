"""Union-find over the vertices 0..size-1, and the connected components of a (hyper)graph.

>>> uf = UnionFind(5)
>>> uf.union(0, 3), uf.union(3, 4)
(None, None)
>>> uf.find(4) == uf.find(0) != uf.find(1)
True
>>> components([[0, 3], [3, 4], [2]], 5)
[[0, 3, 4], [1], [2]]
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["UnionFind", "components"]


class UnionFind:
    """Disjoint sets of 0..size-1 with path halving; ``union(a, b)`` hangs a's root under b's."""

    __slots__ = ("parent",)

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, v: int) -> int:
        """The root of v's set."""
        parent = self.parent
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    def union(self, a: int, b: int) -> None:
        """Join the sets of a and b."""
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[int]]:
        """The sets as sorted vertex lists, ordered by their least vertex."""
        out: dict[int, list[int]] = {}
        for v in range(len(self.parent)):
            out.setdefault(self.find(v), []).append(v)
        return list(out.values())


def components(edges: Sequence[Sequence[int]], size: int) -> list[list[int]]:
    """Connected components (sorted vertex lists, 0-based, by least vertex) of these (hyper)edges."""
    sets = UnionFind(size)
    for edge in edges:
        for v in edge[1:]:
            sets.union(v, edge[0])
    return sets.groups()
