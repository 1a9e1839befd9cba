"""Every examples/*.diag program checks, and its definitions do what its comments claim.

The claims are checked twice where possible: symbolically (exact morphisms with n a symbol) and on
dense matrices from ``G.matrix`` at a small n.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import catnn
from catnn.cli import main
from catnn.coeff import Poly
from catnn.diagram import identity
from catnn.morphism import Morphism

EXAMPLES = Path(__file__).parent.parent / "examples"
PROGRAMS = sorted(EXAMPLES.glob("*.diag"))
n = Poly.n()


def load(name: str) -> catnn.compiler.program.Program:  # type: ignore[name-defined]
    return catnn.load(EXAMPLES / name)


def dense(G, x, size: int) -> np.ndarray:
    return catnn.group(G.name, n=size).matrix(x).astype(float)


def test_there_are_examples():
    names = {p.name for p in PROGRAMS}
    assert {"sn_graph_layer.diag", "orthogonal_cups_caps.diag", "projectors.diag", "network.diag"} <= names


@pytest.mark.parametrize("path", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_example_checks(path: Path, capsys):
    program = catnn.load(path)
    assert len(program) > 0
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().startswith("#"), "every example opens with a comment saying what it shows"
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "ok"


def test_sn_graph_layer():
    prog = load("sn_graph_layer.diag")
    G = prog.group
    assert G.name == "S"
    rng = np.random.default_rng(0)
    size = 4
    A = rng.standard_normal((size, size))
    apply = lambda x: dense(G, x, size) @ A.reshape(-1)  # noqa: E731
    assert np.allclose(apply(prog.transpose), A.T.reshape(-1))
    assert np.allclose(apply(prog.diagonal), np.diag(np.diag(A)).reshape(-1))
    assert np.allclose(apply(prog.row_sums), np.repeat(A.sum(1)[:, None], size, 1).reshape(-1))
    assert np.allclose(apply(prog.degree), A.sum(1))
    assert np.allclose(apply(prog.total), A.sum())
    assert prog.degree_again == prog.degree
    assert prog.symmetrise >> prog.symmetrise == prog.symmetrise
    assert np.allclose(apply(prog.symmetrise), ((A + A.T) / 2).reshape(-1))
    assert len(G.spanning_set(prog.edge.k, prog.edge.l)) == 15 and prog.edge.uses_full_spanning_set
    assert prog.sym_edge.diagrams == (identity(2), prog.transpose, prog.diagonal, prog.row_sums)
    assert (prog.readout.k, prog.readout.l) == (2, 0)


def test_orthogonal_cups_caps():
    prog = load("orthogonal_cups_caps.diag")
    G = prog.group
    assert G.name == "O"
    assert prog.snake_left == prog.snake_right == identity(1)
    assert prog.loop == n * identity(0)
    P, A, T = prog.traceless_symmetric, prog.antisymmetric, prog.trace_part
    assert P >> P == P and A >> A == A and T >> T == T          # projections, exactly in n
    assert P >> A == Morphism.zero(2, 2)
    assert catnn.diagram("swap", G) >> P == P                      # symmetric
    assert (P >> catnn.diagram("cap", G)).is_zero()                # traceless
    assert prog.resolution == identity(2)
    size = 3
    X = np.random.default_rng(1).standard_normal((size, size))
    image = (dense(G, P, size) @ X.reshape(-1)).reshape(size, size)
    expected = (X + X.T) / 2 - np.trace(X) / size * np.eye(size)
    assert np.allclose(image, expected)
    assert round(np.trace(dense(G, P, size))) == size * (size + 1) // 2 - 1   # its rank
    Y = np.random.default_rng(2).standard_normal((size,) * 3)
    assert np.allclose(dense(G, prog.partial_trace, size) @ Y.reshape(-1), np.einsum("ijj->i", Y))
    assert len(G.spanning_set(2, 2)) == 3 and len(G.spanning_set(4, 0)) == 3


def test_projectors():
    prog = load("projectors.diag")
    G = prog.group
    assert prog.mean >> prog.mean == prog.mean
    assert prog.centre >> prog.centre == prog.centre
    assert prog.centred_sum.is_zero() and (prog.centred_sum.k, prog.centred_sum.l) == (1, 0)
    assert prog.sym_alt.is_zero() and prog.sym_again == prog.sym2
    assert prog.sym2 == catnn.diagram("1/2 * (id(2) + swap)")
    assert prog.sym3 >> prog.sym3 == prog.sym3
    assert prog.s1 >> prog.sym3 == prog.sym3 == prog.sym3 >> prog.s2
    assert len(prog.sym3.terms) == 6
    assert prog.assoc_left == prog.assoc_right and prog.special == identity(1)
    assert prog.three == identity(3)
    assert prog.pairs == prog.sym2 @ prog.sym2
    assert prog.scaled.coefficient(identity(1)) == n * n - 3 * n + Poly.const(1) / 2
    size = 4
    v = np.arange(size, dtype=float)
    assert np.allclose(dense(G, prog.mean, size) @ v, np.full(size, v.mean()))
    assert np.allclose(dense(G, prog.centre, size) @ v, v - v.mean())
    S3 = dense(G, prog.sym3, 3)
    assert np.allclose(S3 @ S3, S3) and round(np.trace(S3)) == 10     # dim Sym^3(R^3)


def test_network():
    prog = load("network.diag")
    gnn = prog.gnn
    assert (gnn.k, gnn.l) == (2, 0)
    assert [(s.kind, s.name, s.in_channels, s.out_channels) for s in gnn.stages] == [
        ("layer", "edge", 1, 16), ("nonlinearity", "relu", None, None), ("layer", "edge", 16, 16),
        ("nonlinearity", "relu", None, None), ("layer", "pool", 16, 1)]
    assert [s.name for s in prog.deepsets.stages] == ["set_layer", "relu", "set_layer", "gelu", "set_pool"]
    assert prog.mix.diagrams == (identity(2), prog.swap2, prog.f)
    assert prog.f == catnn.diagram("{1, 2, 1', 2'}")                 # the diagonal, as a single diagram
    assert (prog.nodes.k, prog.nodes.l) == (2, 1)
    G = catnn.group("S", n=3)
    P = G.matrix(prog.p).astype(float)
    X = np.random.default_rng(3).standard_normal((3, 3))
    expected = (X + X.T) / 2 - np.trace(X) / 3 * np.ones((3, 3))
    assert np.allclose(P @ X.reshape(-1), expected.reshape(-1))


def test_cheat_sheet_program_checks():
    text = (Path(__file__).parent.parent / "docs" / "language.md").read_text(encoding="utf-8")
    program = text.split("```\n", 2)[1]
    prog = catnn.compile(program, "language.md")
    assert list(prog) == ["swap", "tr", "p", "same", "big", "edge", "mix", "pool", "gnn"]
    assert prog.same == catnn.diagram("cap >> cup", "O")
    assert catnn.diagram("1/2 * swap + id(2) >> cup @ cap") == catnn.diagram("((1/2) * swap) + (id(2) >> (cup @ cap))")
