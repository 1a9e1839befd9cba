"""The example scripts (examples/*.py from issue 7), each run with runpy at a tiny size.

``CATNN_EXAMPLE_TINY=1`` shrinks data and epochs; the scripts' ``main`` returns their metrics. Besides
running them, the tests check the scripts' data against the formulas computed here independently
(triangles and wedges by enumeration, the EMLP target in numpy) and the symmetry of their models
under group elements drawn here (numpy permutations, orthogonal matrices from a QR decomposition).
"""

from __future__ import annotations

import itertools
import math
import pathlib
import re
import runpy

import numpy as np
import pytest
import torch

from catnn.demo import one_thread

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def _tiny(monkeypatch):
    monkeypatch.setenv("CATNN_EXAMPLE_TINY", "1")
    with one_thread():
        yield


def load(name: str) -> dict:
    """The script's globals, without running its ``if __name__ == "__main__"`` block."""
    return runpy.run_path(str(EXAMPLES / name), run_name=f"example_{name[:-3]}")


def random_orthogonal(rng: np.random.Generator, n: int, det: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    if round(np.linalg.det(q)) != det:
        q[:, 0] = -q[:, 0]
    return q


# -- graphs -------------------------------------------------------------------------------------------------
def test_graphs_triangles_runs_and_reports_every_model(capsys):
    results = load("graphs_triangles.py")["main"]([])
    out = capsys.readouterr().out
    names = ["S_n network (bilinear)", "S_n network (linear only)", "message passing (GIN)"]
    for name in names:
        assert math.isfinite(results[name]) and results[name] >= 0
        assert name in out
    assert max(results[f"{name}: equivariance"] for name in names[:2]) < 1e-12


# -- physics --------------------------------------------------------------------------------------------------
def test_physics_o5_data_is_the_emlp_target():
    module = load("physics_o5.py")
    x, y = module["o5_data"](50, torch.Generator().manual_seed(1))
    v = x.double().numpy()
    x1, x2 = v[:, 0], v[:, 1]
    r1, r2 = np.linalg.norm(x1, axis=1), np.linalg.norm(x2, axis=1)
    expected = np.sin(r1) - 0.5 * r2**3 + np.einsum("bi,bi->b", x1, x2) / (r1 * r2)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert x.shape == (50, 2, 5)


def test_physics_o5_network_is_o5_invariant_and_the_mlp_is_not(rng):
    module = load("physics_o5.py")
    torch.manual_seed(0)
    net, mlp = module["O5Net"]().double(), module["PlainMLP"]().double()
    x = torch.from_numpy(rng.standard_normal((20, 2, 5)))
    with torch.no_grad():
        for det in (1, -1):
            g = torch.from_numpy(random_orthogonal(rng, 5, det))
            moved = x @ g.T                                         # g applied to both vectors
            torch.testing.assert_close(net(moved), net(x), rtol=1e-10, atol=1e-10)
            assert float((mlp(moved) - mlp(x)).abs().max()) > 1e-3
    params = [sum(p.numel() for p in m.parameters()) for m in (net, mlp)]
    assert abs(params[0] - params[1]) < 0.1 * params[0]         # "about as many parameters"


def test_physics_o5_runs(capsys):
    results = load("physics_o5.py")["main"]([])
    assert {"O(5) network test MSE", "MLP test MSE", "O(5) invariance error"} <= set(results)
    assert all(math.isfinite(v) for v in results.values())
    assert results["O(5) invariance error"] < 1e-12
    assert "O(5) network" in capsys.readouterr().out


# -- .diag -> torch ------------------------------------------------------------------------------------------
def test_diag_to_torch_wedges_are_paths_of_length_two():
    module = load("diag_to_torch.py")
    a, mask, y = module["wedge_data"](30, torch.Generator().manual_seed(2))
    for b in range(30):
        n = int(mask[b].sum())
        adj = a[b, 0, :n, :n].numpy()
        wedges = sum(1 for centre in range(n) for i, j in itertools.combinations(range(n), 2)
                     if centre not in (i, j) and adj[centre, i] and adj[centre, j])
        assert wedges == int(y[b])
        assert not a[b, 0, n:].any() and not a[b, 0, :, n:].any()


def test_diag_to_torch_compiles_imports_and_trains(tmp_path, capsys):
    module = load("diag_to_torch.py")
    compiled = module["compile_program"](EXAMPLES / "edge_model.diag", tmp_path / "edge_model_diag.py")
    source = (tmp_path / "edge_model_diag.py").read_text()
    assert "import catnn" not in source and "from catnn" not in source
    model = compiled.wedges().double()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.2)
    x = torch.from_numpy((np.random.default_rng(0).random((3, 1, 7, 7)) < 0.4).astype(float))
    x = x + x.transpose(2, 3)
    p = torch.from_numpy(np.random.default_rng(1).permutation(7))
    torch.testing.assert_close(model(x[:, :, p][:, :, :, p]), model(x), rtol=1e-10, atol=1e-10)
    results = module["main"]([])
    assert math.isfinite(results["test error"]) and math.isfinite(results["mean baseline"])
    assert "compiled network 'wedges'" in capsys.readouterr().out


# -- the README ------------------------------------------------------------------------------------------------
README = EXAMPLES.parent / "README.md"


def readme_blocks() -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_test_command_is_what_ci_runs():
    ci = (EXAMPLES.parent / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert any(block.strip() == ci for block in readme_blocks())


def test_readme_programs_check(tmp_path):
    from catnn.cli import main
    programs = [b for b in readme_blocks() if re.match(r"(#[^\n]*\n)?group ", b)]
    assert len(programs) >= 2
    for i, text in enumerate(programs):
        (tmp_path / f"p{i}.diag").write_text(text, encoding="utf-8")
        assert main(["check", "-q", str(tmp_path / f"p{i}.diag")]) == 0, text


def test_readme_example_trains_the_layer(tmp_path, monkeypatch, capsys):
    blocks = readme_blocks()
    program = next(b for b in blocks if b.startswith("# model.diag"))
    script = next(b for b in blocks if 'catnn.load("model.diag")' in b)
    (tmp_path / "model.diag").write_text(program, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    exec(compile(script, "README.md", "exec"), {})
    loss, moved = capsys.readouterr().out.split()[1:]
    assert float(loss) < 1e-8 and float(moved) < 1e-4
