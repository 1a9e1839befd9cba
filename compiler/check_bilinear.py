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

__all__ = ["pairing_vanishes", "MAX_ENTRIES"]

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
