"""Greedy linear independence of spanning diagrams, decided exactly on Gram matrices modulo primes.

>>> greedy_independent([[1, 2, 1], [2, 4, 2], [1, 2, 2]], target=2)
[0, 2]

For vectors v_1, v_2, ... (the diagrams' matrices) the Gram matrix G = [<v_i, v_j>] has the same
linear relations between its columns as the vectors have, so its pivot columns, taken left to
right, are the first-come independent subset. The groups compute G combinatorially (powers of n
and signs, no dense matrix), and the elimination runs modulo a prime below 2^31 in int64 numpy
arithmetic. A set independent modulo p is independent over Q; its size is compared with the exact
dimension, and another prime is tried in the (unlikely) case they differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import messages
from ..errors import LimitError

__all__ = ["greedy_independent", "greedy_basis", "pivot_columns_mod", "PRIMES", "MAX_SELECTION",
           "DENSE_GRAM_ENTRIES"]

#: the most spanning diagrams ``greedy_basis`` reduces (the elimination is cubic); above: LimitError
MAX_SELECTION = 3_000
#: below this many dense entries (diagrams × n^(k+l)) the Gram matrix is M Mᵀ of the dense matrices
DENSE_GRAM_ENTRIES = 2**25

#: primes below 2^31, so that products of two residues fit in int64
PRIMES = (2_147_483_629, 2_147_483_587, 2_147_483_563)


def greedy_independent(gram: Sequence[Sequence[int]], target: int) -> list[int]:
    """Indices of the first-come independent columns of an integer Gram matrix; ``target`` of them.

    Raises ArithmeticError if no prime reproduces ``target`` (the exact dimension).
    """
    size = len(gram)
    if size == 0:
        if target:
            raise ArithmeticError("empty Gram matrix but a non-zero dimension")
        return []
    for prime in PRIMES:
        if isinstance(gram, np.ndarray):
            residues = gram.astype(np.int64) % prime
        else:
            residues = np.array([[int(x) % prime for x in row] for row in gram], dtype=np.int64)
        pivots = pivot_columns_mod(residues, prime)
        if len(pivots) == target:
            return pivots
    raise ArithmeticError(f"modular elimination found {len(pivots)} independent diagrams, not {target}")


def greedy_basis(diagrams: Sequence[Any], target: int, n: int, what: str,
                 tensor: Callable[[Any], np.ndarray], inner: Callable[[Any, Any], int] | None = None,
                 gram: Callable[[Sequence[Any]], np.ndarray] | None = None) -> list[Any]:
    """The first-come ``target`` independent diagrams among ``diagrams``.

    The Gram matrix comes from the dense integer tensors (``tensor(d)``, entries in {-1, 0, 1}, so
    float64 products are exact) when that is small, else from the exact combinatorial ``gram(diagrams)``
    (a whole matrix) or inner product ``inner(a, b)``. Refuses (LimitError) above ``MAX_SELECTION``
    diagrams; ``what`` names them.
    """
    if len(diagrams) == target:
        return list(diagrams)
    if len(diagrams) > MAX_SELECTION:
        m = diagrams[0].k + diagrams[0].l
        raise LimitError(messages.TOO_LARGE.format(what=what, count=len(diagrams), limit=MAX_SELECTION, m=m))
    size = n ** (diagrams[0].k + diagrams[0].l)
    if len(diagrams) * size <= DENSE_GRAM_ENTRIES:
        dense = np.stack([tensor(d).reshape(-1).astype(np.float64) for d in diagrams])
        matrix = np.rint(dense @ dense.T).astype(np.int64)
    elif gram is not None:
        matrix = gram(diagrams)
    else:
        assert inner is not None
        matrix = [[inner(a, b) for b in diagrams] for a in diagrams]
    return [diagrams[i] for i in greedy_independent(matrix, target)]


def pivot_columns_mod(matrix: np.ndarray, prime: int, limit: int | None = None) -> list[int]:
    """Pivot columns, in order, of an integer matrix modulo ``prime`` (< 2^31), by row reduction.

    Stops after ``limit`` pivots when given.

    >>> pivot_columns_mod(np.array([[1, 2, 1], [2, 4, 2], [1, 2, 2]]), 7)
    [0, 2]
    """
    mat = matrix.astype(np.int64) % prime           # prime < 2^31: products fit in int64
    rows, cols = mat.shape
    pivots: list[int] = []
    r = 0
    for c in range(cols):
        if r == rows or len(pivots) == limit:
            break
        nonzero = np.nonzero(mat[r:, c])[0]
        if nonzero.size == 0:
            continue
        p = r + int(nonzero[0])
        if p != r:
            mat[[r, p]] = mat[[p, r]]
        mat[r, c:] = mat[r, c:] * pow(int(mat[r, c]), -1, prime) % prime
        below = mat[r + 1:, c:]                     # left of c, rows r.. are zero already
        below -= below[:, :1] * mat[r, c:] % prime
        below %= prime
        pivots.append(c)
        r += 1
    return pivots
