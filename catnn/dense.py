"""Dense matrices straight from the definitions: for tests, small n and ``Group.matrix``.

>>> from catnn.diagram import swap
>>> partition_matrix(swap(), 2)
array([[1, 0, 0, 0],
       [0, 0, 1, 0],
       [0, 1, 0, 0],
       [0, 0, 0, 1]])

Never used in a runtime path: these arrays have n^(k+l) entries.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from math import lcm

import numpy as np

from .diagram import Diagram

__all__ = ["partition_tensor", "partition_matrix", "orbit_matrix", "as_matrix", "combine"]


def partition_tensor(d: Diagram, n: int, *, distinct: bool = False) -> np.ndarray:
    """The (n,)*(l+k) 0/1 tensor of ``d``: 1 where the index is constant on every block.

    With ``distinct=True`` the values on different blocks must also differ (the orbit basis X_π).
    Axes: outputs 1..l, then inputs 1'..k'.
    """
    m, b = d.k + d.l, d.num_blocks
    if m == 0:
        return np.ones((), dtype=np.int64)
    tensor = np.zeros((n,) * m, dtype=np.int64)
    if distinct:
        values = np.array(list(itertools.permutations(range(n), b)), dtype=np.int64).reshape(-1, b).T
    else:
        values = np.indices((n,) * b).reshape(b, -1)
    owner = {v: i for i, block in enumerate(d.blocks) for v in block}
    index = tuple(values[owner[v]] for v in range(1, m + 1))
    tensor[index] = 1
    return tensor


def as_matrix(tensor: np.ndarray, k: int, l: int, n: int) -> np.ndarray:
    """A (n,)*(l+k) tensor reshaped to its (n^l, n^k) matrix (row-major, first index most significant)."""
    return tensor.reshape(n**l, n**k)


def partition_matrix(d: Diagram, n: int) -> np.ndarray:
    """D_π: the diagram-basis matrix of a partition diagram, shape (n^l, n^k)."""
    return as_matrix(partition_tensor(d, n), d.k, d.l, n)


def orbit_matrix(d: Diagram, n: int) -> np.ndarray:
    """X_π: the orbit-basis matrix (equality pattern exactly π); zero if π has more than n blocks."""
    return as_matrix(partition_tensor(d, n, distinct=True), d.k, d.l, n)


def combine(parts: list[tuple[Fraction, np.ndarray]], shape: tuple[int, int]) -> np.ndarray:
    """``sum c * M`` exactly: int64 when the result is integral, else an object array of Fractions."""
    scale = lcm(*(c.denominator for c, _ in parts)) if parts else 1
    bound = sum(abs(int(c * scale)) * int(np.abs(matrix).max(initial=0)) for c, matrix in parts)
    # int64 while no sum can overflow; Python integers (object arrays) beyond that, still exact
    total = np.zeros(shape, dtype=np.int64 if bound < 2**62 else object)
    if total.dtype == object:
        total.fill(0)
    for c, matrix in parts:
        weight = int(c * scale)
        total += weight * (matrix.astype(np.int64) if total.dtype != object else matrix.astype(object))
    if scale == 1:
        return total
    out = np.empty(shape, dtype=object)
    out.flat[:] = [Fraction(int(x), scale) for x in total.flat]
    return out
