"""Dense references for layer tests: a whole layer Σ_i Λ_i ⊗ D_i applied with n^(k+l) matrices.

Used by test_emit, test_nn and test_codegen. The matrices come from ``G.matrix`` (exact integers,
checked against brute-force loops in test_groups_basic) or, with ``brute=True``, straight from
``oracles.brute_partition_matrix``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from oracles import brute_partition_matrix


def diagram_matrices(G: Any, diagrams: Sequence[Any], brute: bool = False) -> np.ndarray:
    """The (len(diagrams), n^l, n^k) float64 stack of the diagrams' dense matrices."""
    n = G.n
    if not diagrams:
        return np.zeros((0, 1, 1))
    if brute:
        mats = [brute_partition_matrix(d.blocks, d.k, d.l, n) for d in diagrams]
    else:
        mats = [np.asarray(G.matrix(d), dtype=float) for d in diagrams]
    return np.stack([np.asarray(m, dtype=float) for m in mats])


def dense_layer(G: Any, k: int, l: int, diagrams: Sequence[Any], weight: np.ndarray, x: np.ndarray,
                bias_diagrams: Sequence[Any] = (), bias: np.ndarray | None = None,
                scales: Sequence[float] | None = None, brute: bool = False) -> np.ndarray:
    """out[b, o, P] = Σ_i scale_i Σ_c weight[i, o, c] Σ_Q D_i[P, Q] x[b, c, Q] (+ bias), float64."""
    n = G.n
    B, C = x.shape[:2]
    O = weight.shape[1]
    mats = diagram_matrices(G, diagrams, brute)
    w = np.asarray(weight, dtype=float)
    if scales is not None:
        w = w * np.asarray(scales, dtype=float)[:, None, None]
    out = np.zeros((B, O, n**l))
    if len(diagrams):
        out += np.einsum("dpq,doc,bcq->bop", mats, w, np.asarray(x, dtype=float).reshape(B, C, n**k))
    if bias is not None and len(bias_diagrams):
        cols = diagram_matrices(G, bias_diagrams, brute)[:, :, 0]
        out += np.einsum("dp,do->op", cols, np.asarray(bias, dtype=float))[None]
    return out.reshape((B, O) + (n,) * l)


def kron_apply(g: np.ndarray, t: np.ndarray, lead: int = 2) -> np.ndarray:
    """g acting on every trailing axis of t (t's first ``lead`` axes are batch and channels)."""
    for axis in range(lead, t.ndim):
        t = np.moveaxis(np.tensordot(g, t, axes=([1], [axis])), 0, axis)
    return t
