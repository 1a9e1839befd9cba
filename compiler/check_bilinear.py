"""Bilinear layers that vanish: channel c of x times channel c of x, through maps that kill x ⊗ x.

>>> from catnn.groups import group
>>> pairing_vanishes(group("SO(3)"), 1, 1, None)      # the cross product of a vector with itself
True
>>> pairing_vanishes(group("O"), 1, 2, None)          # x x^T is not zero
False

A channelwise bilinear layer ``a @ a -> l`` feeds the symmetric tensor x_c ⊗ x_c to each learned map
T (one per entry), so it computes zero for every input when the symmetrisation of every T over its
two input halves is zero. The check evaluates the entries' exact tensors at the group's n, or at two
sizes n >= k + l when n is free (where distinct diagrams have independent tensors, so zero there is
zero as a formal combination); layers too large to evaluate within :data:`MAX_ENTRIES` pass unchecked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catnn.errors import CatnnError

__all__ = ["pairing_vanishes", "product_pairing_vanishes", "MAX_ENTRIES"]

#: the most tensor entries (entries x n^(k+l), per test size) the check evaluates
MAX_ENTRIES = 1 << 20


def pairing_vanishes(group: Any, a: int, l: int, diagrams: tuple[Any, ...] | None) -> bool:
    """True if the channelwise layer ``a @ a -> l`` (``diagrams`` None: the spanning set) is zero at every n."""
    k = 2 * a
    if a == 0 or group.name == "Aut":
        return False
    try:
        count = len(diagrams) if diagrams is not None else group.spanning_count(k, l)
        sizes = [group.n] if group.n is not None else _test_sizes(group, k + l)
        if not count or any(count * n ** (k + l) > MAX_ENTRIES for n in sizes):    # before any enumeration
            return False
        entries = [group.lift(e) for e in (group.spanning_set(k, l) if diagrams is None else diagrams)]
        return all(_kills_squares(group, e, a, l, n) for n in sizes for e in entries)
    except (CatnnError, NotImplementedError):     # a size or diagram the group cannot evaluate: no claim
        return False


def _test_sizes(group: Any, m: int) -> list[int]:
    """The two smallest sizes at least max(m, 2) that the group allows."""
    sizes: list[int] = []
    n = max(m, 2)
    while len(sizes) < 2:
        if group.valid_size(n):
            sizes.append(n)
        n += 1
    return sizes


def _kills_squares(group: Any, entry: Any, a: int, l: int, n: int) -> bool:
    """True if ``entry`` (a morphism 2a -> l) maps every x ⊗ x to zero at size n."""
    total: Any = 0
    for d, c in entry.evaluate(n):
        total = total + c * np.asarray(group.diagram_tensor(d, n), dtype=object)
    if isinstance(total, int):
        return total == 0
    axes = [*range(l), *range(l + a, l + 2 * a), *range(l, l + a)]   # the two input halves swapped
    return not np.any(total + total.transpose(axes))


def product_pairing_vanishes(group: Any, a: tuple[int, ...], l: tuple[int, ...],
                             diagrams: tuple[Any, ...] | None) -> bool:
    """:func:`pairing_vanishes` over a product of groups: typed orders a, l; x ⊗ x's axes are, sort by
    sort, the a_s axes of x then the a_s of y, as in ``G.matrix`` (sort 0's first).

    >>> from catnn.groups import group
    >>> product_pairing_vanishes(group("S x SO(3)"), (0, 1), (0, 1), None)   # a cross product per cloud
    True
    >>> product_pairing_vanishes(group("S x O(3)"), (1, 1), (1, 0), None)    # each point's |x|^2 is not zero
    False
    """
    k = tuple(2 * e for e in a)
    if not any(a) or any(f.name == "Aut" for f in group.factors):
        return False
    try:
        count = len(diagrams) if diagrams is not None else group.spanning_count(k, l)
        options = [[f.n] if f.n is not None else _test_sizes(f, m + o) for f, m, o in zip(group.factors, k, l)]
        points = [tuple(o[min(i, len(o) - 1)] for o in options) for i in range(max(len(o) for o in options))]
        volume = max(np.prod([n ** (m + o) for n, m, o in zip(ns, k, l)], dtype=object) for ns in points)
        if not count or count * volume > MAX_ENTRIES:
            return False
        entries = [group.lift(e) for e in (group.spanning_set(k, l) if diagrams is None else diagrams)]
        return all(_product_kills_squares(group.at(ns), e, a, l) for ns in points for e in entries)
    except (CatnnError, NotImplementedError):
        return False


def _product_kills_squares(G: Any, entry: Any, a: tuple[int, ...], l: tuple[int, ...]) -> bool:
    """True if the product morphism ``entry`` (2a -> l) maps every x ⊗ x to zero at G's sizes."""
    ns = G.ns
    M = np.asarray(G.matrix(entry), dtype=float)
    shape = [ns[s] for s, e in enumerate(l) for _ in range(e)]
    shape += [ns[s] for s, e in enumerate(a) for _ in range(2 * e)]
    T = M.reshape(shape)
    axes, start = list(range(sum(l))), sum(l)
    for e in a:                      # within each sort: x's a_s axes and y's a_s axes swapped
        axes += [*range(start + e, start + 2 * e), *range(start, start + e)]
        start += 2 * e
    return bool(np.allclose(T + T.transpose(axes), 0.0, atol=1e-9))
