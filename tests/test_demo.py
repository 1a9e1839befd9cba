"""catnn.demo: the triangle data against brute-force counts, the models' symmetry, training, the command.

Oracles: triangle counts by enumerating node triples; invariance under permutations drawn here
(numpy), applied by explicit indexing; padded batches against each graph run alone; the S_n
network's weights set by hand to trace(A³)/6 (the claim that it can express the count exactly).
"""

from __future__ import annotations

import io
import itertools
import re

import numpy as np
import pytest
import torch

import catnn
from catnn.demo import (ENTRYWISE, EXAMPLES, MATMUL, MessagePassing, ProgressBar, TriangleCounter, compile_examples,
                        equivariance_error, one_thread, relative_error, train, triangle_data)
from catnn.errors import CatnnError


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors: one torch thread is as fast, and immune to a busy machine."""
    with one_thread():
        yield


def brute_triangles(a: np.ndarray) -> int:
    n = len(a)
    return sum(1 for i, j, k in itertools.combinations(range(n), 3) if a[i, j] and a[j, k] and a[i, k])


def graphs_alone(data):
    """Each graph of a padded batch as its own (1, 1, n, n) tensor."""
    return [data.adjacency[b:b + 1, :, :int(m.sum()), :int(m.sum())] for b, m in enumerate(data.mask)]


# -- data -----------------------------------------------------------------------------------------------
def test_triangle_counts_match_brute_force():
    data = triangle_data(40, seed=3)
    for graph, count in zip(graphs_alone(data), data.triangles):
        assert brute_triangles(graph[0, 0].numpy()) == int(count)


def test_graphs_are_simple_padded_and_in_range():
    data = triangle_data(60, sizes=(6, 14), seed=5)
    a = data.adjacency[:, 0]
    sizes = data.mask.sum(1)
    assert a.shape == (60, 14, 14) and sizes.min() >= 6 and sizes.max() <= 14 and len(set(sizes.tolist())) > 3
    assert torch.equal(a, a.transpose(1, 2)) and not a.diagonal(dim1=1, dim2=2).any()
    assert set(a.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(data.mask, torch.arange(14)[None] < sizes[:, None])          # real nodes first
    outside = ~(data.mask[:, :, None] & data.mask[:, None, :])
    assert not a[outside].any()
    many = triangle_data(2000, sizes=(6, 14), density=(0.2, 0.6), seed=7)
    edges, pairs = many.adjacency.sum() / 2, (many.mask.sum(1) * (many.mask.sum(1) - 1) / 2).sum()
    assert float(edges / pairs) == pytest.approx(0.4, abs=0.02)                    # E[p] = 0.4
    again, other = triangle_data(60, sizes=(6, 14), seed=5), triangle_data(60, sizes=(6, 14), seed=6)
    assert torch.equal(again.adjacency, data.adjacency) and not torch.equal(other.adjacency, data.adjacency)


# -- models ---------------------------------------------------------------------------------------------
def test_the_s_n_network_can_express_the_count_exactly():
    """relu(A² + c A − c) = A² ⊙ A on a 0/1 matrix (c ≥ max A²), and the readout sums it: trace(A³) = 6 T."""
    net = TriangleCounter(channels=2, depth=1).double()
    product, _, linear, _, readout = net.network.stages
    c = 20.0
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        entries = [catnn.diagram(t) for t in (MATMUL, ENTRYWISE)]
        product.weight[_index(product.structure.entries, entries[0]), 0, 0] = 1.0           # channel 0: A @ A
        product.weight[_index(product.structure.entries, entries[1]), 1, 0] = 1.0           # channel 1: A * A = A
        identity = _index(linear.diagrams, catnn.diagram("{1, 1'} {2, 2'}"))
        linear.weight[identity, 0, 0], linear.weight[identity, 0, 1] = 1.0, c
        linear.bias[_index(linear.bias_diagrams, catnn.diagram("{1} {2}")), 0] = -c
        readout.weight[_index(readout.diagrams, catnn.diagram("{1'} {2'}")), 0, 0] = 1 / 6
    data = triangle_data(30, seed=11)
    predicted = net(data.adjacency.double(), data.mask)
    torch.testing.assert_close(predicted, data.triangles.double(), rtol=0, atol=1e-9)
    assert data.triangles.max() > 10


def _index(entries, target) -> int:
    matches = [i for i, e in enumerate(entries) if e == target]
    assert len(matches) == 1, (target, entries)
    return matches[0]


@pytest.mark.parametrize("build", [lambda: TriangleCounter(channels=4), lambda: TriangleCounter(4, bilinear=False),
                                   lambda: MessagePassing(8)], ids=["bilinear", "linear", "message-passing"])
def test_models_are_invariant_and_padding_does_not_leak(build, rng):
    torch.manual_seed(0)
    model = build().double()
    for p in model.parameters():             # a non-zero readout, so that the output depends on the input
        torch.nn.init.normal_(p, std=0.3)
    data = triangle_data(6, sizes=(5, 9), seed=2)
    a, mask = data.adjacency.double(), data.mask
    with torch.no_grad():
        y = model(a, mask)
        assert float(y.abs().min()) > 1e-6
        for b, graph in enumerate(graphs_alone(data)):
            n = graph.shape[-1]
            alone = model(graph.double(), torch.ones(1, n, dtype=torch.bool))
            torch.testing.assert_close(alone, y[b:b + 1], rtol=1e-10, atol=1e-10)
            p = torch.from_numpy(rng.permutation(n))
            moved = model(graph.double()[:, :, p][:, :, :, p], torch.ones(1, n, dtype=torch.bool))
            torch.testing.assert_close(moved, y[b:b + 1], rtol=1e-10, atol=1e-10)


def test_the_equivariance_check_is_small_for_the_network_and_large_for_a_broken_one():
    torch.manual_seed(0)
    net = TriangleCounter(channels=4)
    torch.nn.init.normal_(net.network.stages[-1].weight)
    data = triangle_data(8, sizes=(5, 8), seed=1)
    errors = equivariance_error(net, data)
    assert set(errors) == {"hidden", "output"} and max(errors.values()) < 1e-12

    class Broken(TriangleCounter):
        def forward(self, adjacency, mask=None):
            return super().forward(adjacency, mask) + adjacency[:, 0, 0, 1]      # reads one labelled entry

    broken = Broken(channels=4)
    broken.load_state_dict(net.state_dict())
    assert equivariance_error(broken, data)["output"] > 1e-3


def test_relative_error_is_the_mean_absolute_error_over_the_mean_count():
    data = triangle_data(20, seed=4)
    exact = relative_error(lambda a, m: data.triangles / 2.0, data, 2.0)
    off_by_one = relative_error(lambda a, m: (data.triangles + 1.0) / 3.0, data, 3.0)
    assert exact == 0.0
    assert off_by_one == pytest.approx(1.0 / float(data.triangles.mean()))


# -- training ---------------------------------------------------------------------------------------------
def test_training_lowers_the_error_and_counts_steps():
    data = triangle_data(64, seed=0)
    scale = float(data.triangles.mean())
    torch.manual_seed(0)
    model = MessagePassing(16)
    before = relative_error(model, data, scale)
    seen = []
    log = train(model, data, steps=40, batch_size=16, lr=3e-3, progress=lambda f, text: seen.append(f))
    assert (log.steps, log.epochs) == (40, 10.0)
    assert len(seen) == 40 and seen[-1] == 1.0 and seen == sorted(seen)
    assert relative_error(model, data, scale) < 0.5 * before


def test_training_by_time_stops_on_time():
    data = triangle_data(32, seed=0)
    log = train(MessagePassing(8), data, seconds=0.5, batch_size=8)
    assert log.steps >= 1 and 0.5 <= log.seconds < 5.0


@pytest.mark.parametrize("kwargs", [{}, {"steps": 3, "seconds": 1.0}])
def test_training_needs_steps_or_seconds(kwargs):
    with pytest.raises(CatnnError, match="steps or seconds"):
        train(MessagePassing(4), triangle_data(4), **kwargs)


# -- the command ------------------------------------------------------------------------------------------
def test_compile_examples_writes_and_imports_modules(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "tiny.diag").write_text("group S\nlayer edge : 2 -> 2\nmorphism sym = 1/2 * (id(2) + swap)\n")
    out = tmp_path / "out"
    out.mkdir()
    rows = compile_examples(source, out)
    assert rows == [("tiny.diag", "S(n): 1 morphisms, 1 layers -> tiny_diag.py")]
    namespace: dict = {}
    exec(compile((out / "tiny_diag.py").read_text(), "tiny_diag.py", "exec"), namespace)
    x = torch.randn(2, 3, 3)
    torch.testing.assert_close(namespace["sym"](x), (x + x.transpose(1, 2)) / 2)


def test_compile_examples_reports_a_bad_program(tmp_path):
    (tmp_path / "bad.diag").write_text("group S\nmorphism f = nosuch\n")
    with pytest.raises(CatnnError, match="nosuch"):
        compile_examples(tmp_path, tmp_path)


def test_catnn_demo_quick(capsys):
    from catnn.cli import main
    assert main(["demo", "--quick"]) == 0
    out = capsys.readouterr().out
    for step in ("1. compiling", "2. the plan", "3. training", "4. results"):
        assert step in out
    for program in EXAMPLES.glob("*.diag"):
        assert re.search(rf"^  {re.escape(program.name)}\s", out, re.M), program.name
    assert "Plan: S 2 -> 2, 15 diagrams" in out
    assert re.search(r"S_n network .*\n\s+test error \d\.\d{3}", out)
    assert re.search(r"message passing .*\n\s+test error \d\.\d{3}", out)
    errors = [float(v) for v in re.findall(r"(?:features|output).*:\s+(\S+)\n", out)]
    assert len(errors) == 2 and max(errors) < 1e-12


def test_the_progress_bar_redraws_one_line():
    out = io.StringIO()
    data = triangle_data(16, sizes=(4, 6))
    bar = ProgressBar(out, width=10, interval=0.0)
    train(MessagePassing(4), data, steps=3, batch_size=8, progress=bar)
    bar.close()
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n") and text.count("\r") == 3
    assert "[##########] 100%" in text.split("\r")[-1]
