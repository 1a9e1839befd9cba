"""Aut(G) walks as matrix powers (compiler/plan_graph.py ``walks``) and steps that differ only in their
matrix run as one matmul (compiler/emit_powers.py).

Oracles: A^p from numpy's matrix_power; the plan's structure read back (no chain step absorbs an
internal vertex of degree 2 one edge at a time; every group of one-matrix steps on one source is one
matmul in the generated forward); the layer against the dense matrix Σ_H Λ_H ⊗ X_H built from exact
hom counts (each graph's X_H from its own edges, not from the plan), with normalize=True dividing by
n per vertex the bottom sums (counted on the graph), and the gradient against autograd of that matrix.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import catnn
from catnn.bilabelled import BilabelledGraph
from catnn.compiler.backends import emit
from catnn.compiler.kernels import constant_value
from catnn.compiler.plan import build_plan
from catnn.compiler.plan_graph import adjacency_kind, power_kind, walks
from test_aut_compile import _reaches_input, hom_oracle
from test_aut_sharing import CASES, petersen


@pytest.mark.parametrize("p", [2, 3, 4])
def test_power_constants_are_matrix_powers(p):
    a = petersen()
    G = catnn.group("Aut", graph=a)
    kind = power_kind(adjacency_kind(G), G.adjacency, p)
    got = constant_value(kind, len(a))
    np.testing.assert_array_equal(np.asarray(got), np.linalg.matrix_power(a, p))


def test_walks_join_paths_through_degree_two_vertices_only():
    h = BilabelledGraph.parse("graph[{1} {1'} {2'} ; 1-a, a-b, b-1', 1-c, c-2', c-d]")
    paths, inner = walks(h)
    degree = {u: sum(u in e for e in h.edges) for u in range(h.vertices)}
    assert all(degree[u] == 2 and u >= h.labelled for u in inner)
    assert sum(p for _, p in paths) == len(h.edges)              # every edge in exactly one path
    assert sorted(p for _, p in paths) == [1, 1, 1, 3]           # 1-a-b-1' is one walk of 3; c has degree 3


@pytest.mark.parametrize("a, k, l", CASES[:3])
def test_walks_through_degree_two_vertices_are_power_steps(a, k, l):
    """The cycles' spanning sets hold paths through internal vertices of degree 2: the plan's chain
    steps multiply by A^p."""
    G = catnn.group("Aut", graph=a)
    graphs = G.spanning_set(k, l)
    plan = build_plan(G, k, l, graphs)
    kinds = {kind for c in plan.cores for kind, _ in c.constants}
    longest = max(max((p for _, p in walks(h)[0]), default=1) for h in graphs)
    assert longest > 1 and {f"{adjacency_kind(G)}_p{p}" for p in range(2, longest + 1)} & kinds


@pytest.mark.parametrize("a, k, l", CASES[:3])
def test_steps_that_differ_in_their_matrix_are_one_matmul(a, k, l):
    G = catnn.group("Aut", graph=a)
    plan = build_plan(G, k, l, G.spanning_set(k, l))
    source = emit(plan, "layer", backend="torch").source
    forward = [line.strip() for line in source.split("def layer__backward")[0].splitlines()]
    families: dict[tuple, list] = {}
    for c in plan.cores:
        if len(c.constants) == 1:
            families.setdefault((c.source, c.source_labels, c.labels, c.constants[0][1]), []).append(c)
    def assigned(name: str) -> list[str]:
        return [line for line in forward if line.startswith(f"{name} = torch.matmul(")]

    grouped = [members for members in families.values() if len(members) > 1 and assigned(f"p_{members[0].name}")]
    assert grouped, "no group of steps runs as one matmul"
    for members in grouped:
        for m in members:
            assert not assigned(m.name), f"{m.name} has its own matmul"


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("a, k, l", CASES)
def test_layers_equal_the_dense_matrix_and_its_gradient(a, k, l, normalize, rng):
    G = catnn.group("Aut", graph=a)
    n = len(a)
    graphs = G.spanning_set(k, l)
    fn = emit(build_plan(G, k, l, graphs, normalize=normalize), "layer", backend="torch")
    C, O, B = 2, 3, 2
    weight = torch.tensor(rng.standard_normal((len(graphs), O, C)), requires_grad=True)
    x = torch.tensor(rng.standard_normal((B, C) + (n,) * k), requires_grad=True)
    got = fn(x, weight, None)
    scale = []
    for h in graphs:
        bottom = set(h.inputs) | {u for e in h.edges for u in e if _reaches_input(h, u)}
        scale.append(float(n) ** -len(bottom - set(h.outputs)) if normalize else 1.0)
    matrix = torch.tensor(np.stack([hom_oracle(h, a).reshape(n**l, n**k) * s for h, s in zip(graphs, scale)]))
    want = torch.einsum("doc,dij,bcj->boi", weight, matrix, x.reshape(B, C, -1)).reshape(got.shape)
    torch.testing.assert_close(got, want)
    g = torch.tensor(rng.standard_normal(tuple(got.shape)))
    for u, v in zip(torch.autograd.grad(got, (x, weight), g), torch.autograd.grad(want, (x, weight), g)):
        torch.testing.assert_close(u, v)
