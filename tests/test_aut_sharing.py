"""Aut(G) chain steps shared within a contraction family (compiler/plan_graph.py ``_Cores.shared``).

A step that another step of the same contraction (same source, same constants) keeps more axes of
is that step summed, one-edge families share their product, and steps with constants on a diagonal
of x read the diagonal's view. Oracles: the plan's structure read back (no family recomputes a
contraction another member covers; every step follows its source) and the layer against the dense
matrix Σ_H Λ_H ⊗ X_H built from the exact X_H, with its gradient against autograd of that matrix.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.backends import emit
from catnn.compiler.plan import build_plan
from test_aut_compile import hom_oracle


def cycle(n: int) -> np.ndarray:
    a = np.roll(np.eye(n, dtype=np.int64), 1, axis=1)
    return a + a.T


def petersen() -> np.ndarray:
    a = np.zeros((10, 10), dtype=np.int64)
    for i in range(5):
        for u, v in ((i, (i + 1) % 5), (i, i + 5), (i + 5, (i + 2) % 5 + 5)):
            a[u, v] = a[v, u] = 1
    return a


CASES = [(cycle(8), 1, 2), (cycle(8), 2, 1), (cycle(6), 2, 2), (petersen(), 2, 1)]


@pytest.mark.parametrize("a, k, l", CASES)
def test_no_family_member_recomputes_a_wider_one(a, k, l):
    G = catnn.group("Aut", graph=a)
    cores = build_plan(G, k, l, G.spanning_set(k, l)).cores
    seen = set()
    for c in cores:
        assert c.source.startswith("x") or c.source in seen, f"{c.name} before its source {c.source}"
        seen.add(c.name)
        if c.constants:
            assert len(set(c.source_labels)) == len(c.source_labels), f"{c.name} contracts a diagonal of x"
            wider = [d for d in cores if (d.source, d.source_labels, d.constants) == (c.source, c.source_labels,
                                                                                      c.constants)
                     and set(c.labels) < set(d.labels)]
            assert not wider, f"{c.name} recomputes {wider[0].name} and sums it"


@pytest.mark.parametrize("a, k, l", CASES)
def test_shared_layers_equal_the_dense_matrix_and_its_gradient(a, k, l, rng):
    G = catnn.group("Aut", graph=a)
    n = len(a)
    graphs = G.spanning_set(k, l)
    fn = emit(build_plan(G, k, l, graphs), "layer", backend="torch")
    C, O, B = 2, 3, 2
    weight = torch.tensor(rng.standard_normal((len(graphs), O, C)), requires_grad=True)
    x = torch.tensor(rng.standard_normal((B, C) + (n,) * k), requires_grad=True)
    got = fn(x, weight, None)
    matrix = torch.tensor(np.stack([hom_oracle(h, a).reshape(n**l, n**k) for h in graphs]).astype(float))
    want = torch.einsum("doc,dij,bcj->boi", weight, matrix, x.reshape(B, C, -1)).reshape(got.shape)
    torch.testing.assert_close(got, want)
    g = torch.tensor(rng.standard_normal(tuple(got.shape)))
    got_grads = torch.autograd.grad(got, (x, weight), g)
    want_grads = torch.autograd.grad(want, (x, weight), g)
    for u, v in zip(got_grads, want_grads):
        torch.testing.assert_close(u, v)
