"""Exact counts: Stirling and Bell numbers, double factorials, walks in Bratteli diagrams.

>>> stirling2(4, 2), restricted_bell(4, 3), double_factorial(5), brauer_count(6)
(7, 14, 15, 15)
>>> bratteli_walks(6, lambda shape: o_allowed(shape, 2)), bratteli_walks(4, lambda shape: o_allowed(shape, 2), (1, 1))
(10, 3)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

__all__ = ["stirling2", "restricted_bell", "bell", "double_factorial", "brauer_count", "bratteli_walks",
           "o_allowed", "columns"]

Shape = tuple[int, ...]


def stirling2(m: int, t: int) -> int:
    """Stirling number of the second kind: partitions of m things into exactly t blocks."""
    if t < 0 or t > m:
        return 0
    return _stirling_row(m)[t]


@lru_cache(maxsize=64)
def _stirling_row(m: int) -> tuple[int, ...]:
    """(S(m, 0), .., S(m, m)), built row by row (no recursion, so large m cannot overflow the stack)."""
    row = [1]
    for size in range(1, m + 1):
        row = [0] + [t * (row[t] if t < len(row) else 0) + row[t - 1] for t in range(1, size + 1)]
    return tuple(row)


def restricted_bell(m: int, n: int) -> int:
    """Partitions of m things into at most n blocks (1 for m = 0)."""
    return sum(stirling2(m, t) for t in range(min(n, m) + 1)) if m else 1


def bell(m: int) -> int:
    """The Bell number: all partitions of m things."""
    return restricted_bell(m, m)


def double_factorial(m: int) -> int:
    """m!! with (-1)!! = 0!! = 1."""
    result = 1
    while m > 1:
        result, m = result * m, m - 2
    return result


def brauer_count(m: int) -> int:
    """The number of Brauer diagrams (perfect matchings) on m vertices: (m-1)!! for even m, else 0."""
    return double_factorial(m - 1) if m % 2 == 0 else 0


def bratteli_walks(steps: int, allowed: Callable[[Shape], bool], end: Shape = ()) -> int:
    """Walks of ``steps`` box additions/removals from the empty shape to ``end``, staying in ``allowed``.

    Back to the empty shape, for O(n) (shapes with λ'_1 + λ'_2 <= n, :func:`o_allowed`) and Sp(2m)
    (at most m rows) this counts dim Hom_G((R^n)^{⊗k}, (R^n)^{⊗l}) with k + l = steps: V ⊗ V_λ is
    the sum of V_μ over the allowed μ one box away from λ.
    """
    counts: dict[Shape, int] = {(): 1}
    for _ in range(steps):
        nxt: dict[Shape, int] = {}
        for shape, ways in counts.items():
            for other in _neighbours(shape):
                if allowed(other):
                    nxt[other] = nxt.get(other, 0) + ways
        counts = nxt
    return counts.get(end, 0)


def _neighbours(shape: Shape) -> list[Shape]:
    rows = list(shape)
    out = []
    for i in range(len(rows) + 1):
        if i == len(rows) or i == 0 or rows[i] < rows[i - 1]:
            grown = rows[:i] + [rows[i] + 1 if i < len(rows) else 1] + rows[i + 1:]
            out.append(tuple(grown))
    for i in range(len(rows)):
        if i == len(rows) - 1 or rows[i] > rows[i + 1]:
            shrunk = rows[:i] + [rows[i] - 1] + rows[i + 1:]
            out.append(tuple(r for r in shrunk if r))
    return out


def columns(shape: Shape) -> Shape:
    """The conjugate shape (column lengths)."""
    return tuple(sum(1 for r in shape if r > j) for j in range(shape[0])) if shape else ()


def o_allowed(shape: Shape, n: int) -> bool:
    """The O(n) Bratteli diagram's shapes: the first two columns hold at most n boxes."""
    cols = columns(shape) + (0, 0)
    return cols[0] + cols[1] <= n
