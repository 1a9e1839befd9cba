"""The Plan IR: sharing, grouping, folding, costs, explain, and the kernel registry."""

from __future__ import annotations

import pytest

import catnn
from catnn.compiler import kernels
from catnn.compiler.plan import build_plan
from catnn.errors import CompileError


def full_plan(name, k, l, bias=True, **kw):
    G = catnn.group(name)
    return build_plan(G, k, l, G.spanning_set(k, l), bias_diagrams=G.spanning_set(0, l) if bias else (), **kw)


def test_one_core_per_bottom_half_and_one_group_per_dimension():
    # S_n k -> k: cores are (partition of the k inputs, subset kept) pairs: 6 for k=2, 22 for k=3
    assert len(full_plan("S", 2, 2).cores) == 6
    p3 = full_plan("S", 3, 3)
    assert len(p3.cores) == 22
    assert len(p3.mixes) == 22                           # (partition of the outputs, subset propagating)
    assert [g.dims for g in p3.groups] == [0, 1, 2, 3]   # every output pattern of a dimension shares features
    assert [len(g.features) for g in p3.groups] == [5, 10, 12, 6]


def test_every_diagram_is_one_term_and_every_bias_joins_a_scalar_accumulator():
    p = full_plan("S", 2, 3)
    indices = sorted(t.index for m in p.mixes for t in m.terms)
    assert indices == list(range(len(p.diagrams)))
    assert sorted(p.gather[0]) == indices
    biased = [m for m in p.mixes if m.bias]
    assert sorted(j for m in biased for j in m.bias) == list(range(len(p.bias_diagrams)))
    assert all(not m.labels for m in biased)


def test_the_full_size_accumulator_is_the_output_buffer():
    p = full_plan("S", 2, 2)
    first = p.sections[0].first_write
    assert first is not None and p.mix(first.acc).labels == (0, 1)
    assert len([w for w in p.writes if w.first]) == 1
    # smaller accumulators of the whole view are folded into it, not written
    whole = {v.name for v in p.views if v.is_whole}
    assert all(p.view(w.view).name not in whole or w.first for w in p.writes)


def test_o_n_plan_without_full_support_zeroes_the_buffer_once():
    p = full_plan("O", 2, 4, bias=False)
    assert p.sections[0].first_write is None
    assert all(len(m.labels) <= 2 for m in p.mixes)


def test_cores_are_derived_from_smaller_cores():
    p = full_plan("S", 3, 3)
    total = next(c for c in p.cores if c.summed == 3)
    assert total.source != "x0"                         # the total sum comes from a row sum, not from x
    assert sum(1 for c in p.cores if c.is_view) == 5   # the five partitions with every block kept


@pytest.mark.parametrize("name,k,l", [("S", 2, 2), ("S", 3, 3), ("S", 2, 4), ("O", 4, 4), ("O", 3, 5)])
def test_no_tensor_has_more_than_max_k_l_axes(name, k, l):
    p = full_plan(name, k, l)
    assert all(len(c.labels) <= k for c in p.cores)
    assert all(len(m.labels) <= l for m in p.mixes)
    n = 1000
    cost = p.cost(n=n)
    stack = max(len(g.features) for g in p.groups)
    assert cost.largest <= stack * n ** max(k, l)
    assert cost.largest < n ** (k + l) / 100


def test_cost_and_explain():
    p = full_plan("S", 2, 2)
    cost = p.cost(n=64, batch=8, in_channels=32, out_channels=32)
    assert cost.dense_flops == 2 * 8 * 32 * 32 * 64**4
    assert cost.floor_flops == 2 * 8 * 32 * 32 * 2 * 64**2
    assert cost.floor_flops <= cost.flops < 1.2 * cost.floor_flops
    text = p.explain(n=64, batch=8, in_channels=32, out_channels=32)
    for piece in ("c0", "view", "sum", "mix", "fold", "write", "bcij->bcij", "bpcij,mpoc->bmoij",
                  "planned:", "dense:", "speed-up", "(8, 32, 64, 64)"):
        assert piece in text, piece
    assert str(p).startswith("Plan: S 2 -> 2")


def test_normalize_scales_each_summed_block():
    p = full_plan("S", 2, 2, normalize=True)
    assert all(c.summed == len(c.summed_labels) + (p.core(c.source).summed if c.source != "x0" else 0)
               for c in p.cores)
    assert {c.summed for c in p.cores} == {0, 1, 2}


def test_plans_are_cached_hashable_and_deterministic():
    a, b = full_plan("S", 2, 3), full_plan("S", 2, 3)
    assert a is b and hash(a) == hash(b)
    G = catnn.group("S")
    c = build_plan(G, 2, 3, list(G.spanning_set(2, 3)), bias_diagrams=list(G.spanning_set(0, 3)))
    assert c == a


def test_fixed_n_and_group_names():
    assert full_plan("S", 1, 1).n is None
    p = build_plan(catnn.group("O", n=3), 1, 1, catnn.group("O").spanning_set(1, 1))
    assert p.n == 3 and p.group == "O"
    assert build_plan("S", 1, 1, catnn.group("S").spanning_set(1, 1)).group == "S"


def test_a_group_without_kernels_is_a_compile_error():
    with pytest.raises(CompileError, match="no block kernels"):
        build_plan("NoSuchGroup", 1, 1, catnn.group("S").spanning_set(1, 1))


def test_kernel_registry_first_match_and_constants():
    class Never(kernels.Kernels):
        def handles(self, d):
            return False

    kernels.register_kernels("Toy", Never())
    kernels.register_kernels("Toy", kernels.PartitionKernels())
    try:
        d = catnn.group("S").spanning_set(1, 1)[0]
        assert isinstance(kernels.kernels_for("Toy", d), kernels.PartitionKernels)
        kernels.register_constant("toyvec", "def _const_toyvec(n):\n    return [i + 1 for i in range(n)]\n")
        assert kernels.constant_value("toyvec", 3) == [1, 2, 3]
        with pytest.raises(ValueError):
            kernels.register_constant("bad", "def something_else(n): pass")
    finally:
        kernels.KERNELS.pop("Toy")
        kernels.CONSTANTS.pop("toyvec", None)


def test_uncached_twins_plan_from_scratch_and_agree():
    from catnn.compiler.plan import build_mixed_plan, build_mixed_plan_uncached, build_plan_uncached
    G = catnn.group("S")
    cached = build_plan(G, 2, 2, G.spanning_set(2, 2))
    fresh = build_plan_uncached(G, 2, 2, G.spanning_set(2, 2))
    assert fresh == cached and fresh is not cached and build_plan(G, 2, 2, G.spanning_set(2, 2)) is cached
    mixed = build_mixed_plan(G, (1, 2), (1,))
    again = build_mixed_plan_uncached(G, (1, 2), (1,))
    assert again == mixed and again is not mixed
