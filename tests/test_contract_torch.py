"""The torch emitter's spelling of contractions (compiler/contract_torch.py) against torch.einsum itself.

Random two-operand equations (an operand with lead axes b, c and up to three distinct axes, a matrix on
two letters, any subset of the letters kept in any order) and chains of three or more operands; every
spelling, matmul, broadcast product or pairwise path, must equal ``torch.einsum`` of the same equation.
"""

from __future__ import annotations

import random

import pytest
import torch

import catnn
from catnn.compiler.backends import emit
from catnn.compiler.contract_torch import CONTRACT_HELPER, spell
from catnn.compiler.plan import build_plan


def namespace() -> dict:
    ns: dict = {"torch": torch}
    exec(CONTRACT_HELPER, ns)
    return ns


@pytest.mark.parametrize("seed", range(4))
def test_two_operand_spellings_equal_einsum(seed):
    rng = random.Random(seed)
    ns = namespace()
    for _ in range(200):
        axes = rng.sample("ijkl", rng.randint(1, 3))
        matrix = "".join(rng.sample("ijklm", 2))
        letters = list(dict.fromkeys(axes + list(matrix)))
        kept = rng.sample(letters, rng.randint(0, len(letters)))
        equation = f"bc{''.join(axes)},{matrix}->bc{''.join(kept)}"
        a = torch.randn(2, 3, *[4] * len(axes), dtype=torch.float64)
        m = torch.randn(4, 4, dtype=torch.float64)
        expression = spell(equation, ["a", "m"])
        outer_summed = not set(matrix) & set(axes) and not set(matrix) <= set(kept)
        assert ("einsum" not in expression) == (not outer_summed)   # einsum only for an outer product summed
        got = eval(expression, {**ns, "a": a, "m": m})
        torch.testing.assert_close(got, torch.einsum(equation, a, m))


def test_many_operands_follow_a_cached_path():
    ns = namespace()
    x = torch.randn(2, 3, 4, 4, 4, dtype=torch.float64)
    e1, e2 = torch.randn(4, 4, 5, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    expression = spell("bcijk,jkl,lm->bcim", ["x", "e1", "e2"])
    for _ in range(2):
        got = eval(expression, {**ns, "x": x, "e1": e1, "e2": e2})
        torch.testing.assert_close(got, torch.einsum("bcijk,jkl,lm->bcim", x, e1, e2))
    assert len(ns["_rt__PATHS"]) == 1


def test_levi_civita_chains_are_emitted_pairwise():
    G = catnn.group("SO", n=5)
    diagrams = [d for d in G.spanning_set(3, 2) if type(d).__name__ == "EpsilonDiagram"]
    source = emit(build_plan(G, 3, 2, diagrams), backend="torch").source
    assert "_rt__contract(" in source
    assert all(line.count(",") <= 3 for line in source.splitlines() if "torch.einsum('" in line)


def test_many_operands_compile_once_for_every_size():
    """Under torch.compile the path is the equation's (a constant), not one from symbolic sizes: one
    graph serves every batch and size, and its numbers equal einsum's."""
    from torch._dynamo.utils import counters
    ns = namespace()
    expression = spell("bcij,kil,lj->bck", ["x", "e1", "e2"])
    function = eval(f"lambda x, e1, e2: {expression}", ns)
    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(function, dynamic=True, backend="aot_eager", fullgraph=True)
    for batch, n in ((4, 3), (5, 6)):
        x = torch.randn(batch, 2, n, n, dtype=torch.float64)
        e1, e2 = torch.randn(n, n, n, dtype=torch.float64), torch.randn(n, n, dtype=torch.float64)
        torch.testing.assert_close(compiled(x, e1, e2), torch.einsum("bcij,kil,lj->bck", x, e1, e2))
    assert counters["stats"]["unique_graphs"] == 1, dict(counters["stats"])
    assert not ns["_rt__PATHS"]
