"""Drawings: well-formed, escaped, deterministic SVG; blocks drawn connected; PNG; ``catnn draw``."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from catnn import draw
from catnn.cli import main
from catnn.coeff import Poly
from catnn.diagram import Diagram, identity, set_partitions, swap
from catnn.errors import CatnnError
from catnn.morphism import Morphism
from catnn.spec import LayerSpec

SVG = "{http://www.w3.org/2000/svg}"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRAM = """group S
diagram transpose : 2 -> 2 = {1, 2'} {2, 1'}
diagram big : 3 -> 3 = {1, 3, 2', 3'} {2} {1'}
morphism p = 0.5 * id(2) + 0.5 * transpose - (1/n) * ({1', 2'} >> (unit @ unit))
layer edge : 2 -> 2
layer mix : 2 -> 2 = learn(id(2), transpose)
network net : 2 -> 2 = edge[1 -> 4] >> relu >> mix[4 -> 1]
"""


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(SVG + tag) if e.get("class") == cls]


def random_diagrams(count: int, seed: int = 0) -> list[Diagram]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        m = rng.randint(1, 10)
        k = rng.randint(0, m)
        labels = list(range(1, m + 1))
        rng.shuffle(labels)
        blocks: list[list[int]] = []
        for v in labels:
            if blocks and rng.random() < 0.55:
                rng.choice(blocks).append(v)
            else:
                blocks.append([v])
        out.append(Diagram(blocks, k, m - k))
    return out


# -- SVG structure ----------------------------------------------------------------------------
@pytest.mark.parametrize("d", [swap(), identity(3), Diagram([[1, 3, 5, 6], [2], [4]], 3, 3),
                               Diagram([[1, 5], [2, 3], [4, 6]], 3, 3), Diagram([], 0, 0),
                               Diagram([[1, 2]], 0, 2), Diagram([[1, 2, 3]], 3, 0),
                               Diagram([list(range(1, 11))], 5, 5)])
def test_vertices_and_labels(d: Diagram) -> None:
    root = parse(draw.to_svg(d))
    assert root.tag == SVG + "svg"
    assert len(by_class(root, "circle", "vertex")) == d.k + d.l
    labels = [e.text for e in by_class(root, "text", "label")]
    assert sorted(labels) == sorted(d.label_name(v) for v in range(1, d.k + d.l + 1))


def test_outputs_on_top_inputs_below_in_order() -> None:
    d = Diagram([[1, 5], [2, 4], [3, 6]], 3, 3)
    fig = draw.layout_diagram(d)
    top = [fig.vertices[v] for v in (1, 2, 3)]
    bottom = [fig.vertices[v] for v in (4, 5, 6)]
    assert len({y for _, y in top}) == 1 and len({y for _, y in bottom}) == 1
    assert top[0][1] < bottom[0][1]                      # y grows downwards: outputs above
    assert [x for x, _ in top] == sorted(x for x, _ in top)
    assert [x for x, _ in bottom] == sorted(x for x, _ in bottom)


def _check_connected(fig: draw.DiagramDrawing, blocks) -> None:
    assert sorted(g.labels for g in fig.blocks) == sorted(tuple(b) for b in blocks)
    assert len(set(fig.vertices.values())) == len(fig.vertices)      # no two vertices share a spot
    for g in fig.blocks:
        own = {fig.vertices[v] for v in g.labels}
        if len(g.labels) == 1:
            assert not g.curves and not g.nodes
            continue
        ends = [p for c in g.curves for p in (c.start, c.end)]
        # every curve end is one of the block's vertices or one of its nodes ...
        assert set(ends) <= own | set(g.nodes), g.labels
        # ... every vertex of the block is reached ...
        assert own <= set(ends), g.labels
        # ... and the curves join them all into one piece
        parent = {p: p for p in ends}

        def find(p):
            while parent[p] != p:
                p = parent[p]
            return p

        for c in g.curves:
            parent[find(c.start)] = find(c.end)
        assert len({find(p) for p in own}) == 1, g.labels


def test_every_block_is_drawn_connected_to_exactly_its_vertices() -> None:
    for d in random_diagrams(200):
        _check_connected(draw.layout_diagram(d), d.blocks)


def test_all_partitions_of_small_diagrams_are_connected() -> None:
    for k, l in ((1, 2), (2, 2), (0, 4), (3, 1)):
        for blocks in set_partitions(k + l):
            d = Diagram(blocks, k, l)
            _check_connected(draw.layout_diagram(d), d.blocks)


def test_curves_stay_inside_the_rectangle() -> None:
    for d in random_diagrams(60, seed=3):
        fig = draw.layout_diagram(d)
        ys = [y for _, y in fig.vertices.values()]
        lo, hi = (min(ys), max(ys)) if d.k and d.l else (0, fig.height)
        for g in fig.blocks:
            for c in g.curves:
                for x, y in c.sample():
                    assert 0 <= x <= fig.width, d
                    assert lo - 1e-6 <= y <= hi + 1e-6, d


def test_epsilon_diagram_joins_free_vertices_to_one_box() -> None:
    levi = pytest.importorskip("catnn.levi_civita")
    d = levi.EpsilonDiagram([1, 2, 4], [[3, 5]], k=2, l=3)
    fig = draw.layout_diagram(d)
    _check_connected(fig, [tuple(d.free), *d.pairs])
    free = next(g for g in fig.blocks if g.labels == tuple(d.free))
    assert len(free.nodes) == 1
    root = parse(draw.to_svg(d))
    assert len(by_class(root, "rect", "epsilon")) == 1
    assert [e.text for e in by_class(root, "text", "epsilon")] == ["ε"]
    assert len(by_class(root, "circle", "vertex")) == 5


def test_other_kinds_draw_or_fall_back() -> None:
    alt = pytest.importorskip("catnn.groups.alternating")
    j = alt.Jellyfish.from_blocks([[1, 3], [2], [4]], k=2, l=2)
    root = parse(draw.to_svg(j))
    assert len(by_class(root, "circle", "vertex")) == 4
    assert len(by_class(root, "path", "tentacle")) == 3           # one per block
    bil = pytest.importorskip("catnn.bilabelled")
    g = bil.BilabelledGraph.parse("{1, 1'} {2} ; 1-a, a-2, b, a-a")
    root = parse(draw.to_svg(g))
    assert len(by_class(root, "circle", "vertex")) == 3
    assert len(by_class(root, "circle", "internal")) == 2
    assert len(by_class(root, "path", "edge")) == 3


class Strange:
    """A kind catnn.draw does not know, with a hostile text form."""

    k, l = 1, 1

    def __str__(self) -> str:
        return "</text><script>alert('x')</script>&amp; \x00\x1b \"q\""


def test_unknown_kind_is_a_labelled_box_and_escaped() -> None:
    svg = draw.to_svg(Strange())
    root = parse(svg)
    assert not list(root.iter(SVG + "script")) and "<script" not in svg
    (text,) = by_class(root, "text", "fallback")
    assert text.text.startswith("</text><script>alert('x')</script>&amp; ")
    assert "\x00" not in text.text and "\ufffd" in text.text
    assert len(by_class(root, "rect", "fallback")) == 1


def test_hostile_titles_and_names_are_escaped() -> None:
    fig = draw.layout(swap())
    fig.title = '<svg onload="x">&'
    fig.add(draw.Text(0, 0, "a<b>&\"c'", role="note"))
    svg = draw.to_svg(fig)
    root = parse(svg)
    assert root.find(SVG + "title").text == '<svg onload="x">&'
    assert [e.text for e in by_class(root, "text", "note")] == ["a<b>&\"c'"]
    assert svg.count("<svg") == 1


# -- morphisms, layers, programs --------------------------------------------------------------
def test_morphism_is_a_row_of_terms_with_exact_coefficients() -> None:
    n = Poly.n()
    tr = Diagram([[1, 2], [3], [4]], 2, 2)
    m = Morphism([(identity(2), Poly.const(1) / 2), (swap(), Poly.const(1) / 2), (tr, -(n ** -1))], 2, 2)
    root = parse(draw.to_svg(m))
    assert [e.text for e in by_class(root, "text", "coefficient")] == ["1/2 ·", "+ 1/2 ·", "− n⁻¹ ·"]
    assert len(by_class(root, "circle", "vertex")) == 12
    # all terms share one row gap: their vertex rows line up
    ys = {float(e.get("cy")) for e in by_class(root, "circle", "vertex")}
    assert len(ys) == 2


def test_morphism_signs_and_polynomial_coefficients() -> None:
    n = Poly.n()
    m = Morphism([(identity(1), -1), (Diagram([[1], [2]], 1, 1), n * n - 3 * n + Poly.const(1) / 2)], 1, 1)
    texts = [e.text for e in by_class(parse(draw.to_svg(m)), "text", "coefficient")]
    assert texts == ["−", "+ (n² − 3n + 1/2) ·"]
    zero = parse(draw.to_svg(Morphism.zero(1, 1)))
    assert [e.text for e in by_class(zero, "text", "coefficient")] == ["0 ·"]


def test_repr_svg_for_notebooks() -> None:
    for obj in (swap(), swap() + identity(2), (swap() + identity(2)) / 2):
        svg = obj._repr_svg_()
        assert parse(svg).tag == SVG + "svg"


def test_layer_grid_of_the_spanning_set() -> None:
    root = parse(draw.to_svg(LayerSpec("edge", group="S", n=None, k=2, l=2)))
    assert len(by_class(root, "rect", "cell")) == 15
    assert len(by_class(root, "circle", "vertex")) == 60
    captions = [e.text for e in by_class(root, "text", "caption")]
    assert captions[0] == "S(n) spanning set, 15 diagrams"
    assert captions[1:] == [f"{i}. {d}" for i, d in enumerate(
        __import__("catnn").group("S").spanning_set(2, 2), 1)]


def test_layer_of_chosen_diagrams_and_a_group_that_needs_n() -> None:
    chosen = LayerSpec("mix", group="S", n=None, k=2, l=2, diagrams=(identity(2), swap()))
    assert len(by_class(parse(draw.to_svg(chosen)), "rect", "cell")) == 2
    needs_n = parse(draw.to_svg(LayerSpec("rot", group="SO", n=None, k=2, l=1)))
    notes = [e.text for e in by_class(needs_n, "text", "note")]
    assert notes and "n" in notes[0]


def test_big_layers_are_capped() -> None:
    root = parse(draw.to_svg(LayerSpec("big", group="S", n=None, k=3, l=3)))
    assert len(by_class(root, "rect", "cell")) == draw.MAX_GRID
    assert "first" in by_class(root, "text", "caption")[0].text


def test_program_drawing() -> None:
    from catnn.api import compile_program
    program = compile_program(PROGRAM, "<test>")
    root = parse(draw.to_svg(program))
    titles = [e.text for e in by_class(root, "text", "title")]
    assert titles == ["diagram transpose : 2 → 2", "diagram big : 3 → 3", "morphism p : 2 → 2",
                      "layer edge : 2 → 2", "layer mix : 2 → 2", "network net : 2 → 2"]
    stages = [e.text for e in by_class(root, "text", "stage")]
    assert stages == ["edge [1 → 4]", "relu", "mix [4 → 1]"]


# -- determinism ------------------------------------------------------------------------------
def test_svg_is_deterministic_across_processes(tmp_path) -> None:
    source = tmp_path / "p.diag"
    source.write_text(PROGRAM, encoding="utf-8")
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}.svg"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": REPO}
        subprocess.run([sys.executable, "-m", "catnn", "draw", str(source), "-o", str(out)], check=True,
                       env=env, capture_output=True, cwd=REPO)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert draw.to_svg(swap() + identity(2)) == draw.to_svg(swap() + identity(2))


# -- PNG --------------------------------------------------------------------------------------
def test_png_same_geometry(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    d = Diagram([[1, 3, 5, 6], [2], [4]], 3, 3)
    data = draw.to_png(d)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert data == draw.to_png(d)
    path = tmp_path / "d.png"
    draw.draw(swap() + identity(2), path)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_png_without_matplotlib_is_a_clear_error(monkeypatch, tmp_path) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)       # import matplotlib -> ImportError
    with pytest.raises(CatnnError, match="matplotlib"):
        draw.to_png(swap())
    target = tmp_path / "x.png"
    with pytest.raises(CatnnError, match="catnn\\[draw\\]"):
        draw.draw(swap(), target)
    assert not target.exists()


def test_unknown_output_format() -> None:
    with pytest.raises(CatnnError, match=r"\.svg or \.png"):
        draw.draw(swap(), "out.pdf")


# -- the command line -------------------------------------------------------------------------
def test_cli_draw_writes_svg_and_png(tmp_path, capsys) -> None:
    source = tmp_path / "p.diag"
    source.write_text(PROGRAM, encoding="utf-8")
    out = tmp_path / "out.svg"
    assert main(["draw", str(source), "-o", str(out)]) == 0
    assert parse(out.read_text(encoding="utf-8")).tag == SVG + "svg"
    assert "wrote" in capsys.readouterr().out
    assert main(["draw", str(source), "--name", "big", "-o", str(out)]) == 0
    root = parse(out.read_text(encoding="utf-8"))
    assert [e.text for e in by_class(root, "text", "title")] == ["diagram big : 3 → 3"]
    assert main(["draw", str(source)]) == 0                       # default: p.svg beside the program
    assert (tmp_path / "p.svg").exists()
    assert sorted(os.listdir(tmp_path)) == ["out.svg", "p.diag", "p.svg"]     # no temporary files left
    if draw_png_available():
        assert main(["draw", str(source), "-o", str(tmp_path / "out.png")]) == 0
        assert (tmp_path / "out.png").read_bytes().startswith(b"\x89PNG")


def draw_png_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("matplotlib") is not None


def test_cli_draw_to_stdout(tmp_path, capsys) -> None:
    source = tmp_path / "p.diag"
    source.write_text(PROGRAM, encoding="utf-8")
    assert main(["draw", str(source), "--name", "transpose", "-o", "-"]) == 0
    assert parse(capsys.readouterr().out).tag == SVG + "svg"


def test_cli_bad_program_leaves_the_output_alone(tmp_path, capsys) -> None:
    source = tmp_path / "bad.diag"
    source.write_text("group S\ndiagram f : 2 -> 2 = swap >> nope\n", encoding="utf-8")
    out = tmp_path / "out.svg"
    out.write_text("precious", encoding="utf-8")
    before = os.stat(out).st_mtime_ns
    assert main(["draw", str(source), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "bad.diag:2:" in err and "^" in err and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "precious" and os.stat(out).st_mtime_ns == before
    assert sorted(os.listdir(tmp_path)) == ["bad.diag", "out.svg"]


def test_cli_errors_exit_1(tmp_path, capsys) -> None:
    source = tmp_path / "p.diag"
    source.write_text(PROGRAM, encoding="utf-8")
    assert main(["draw", str(source), "--name", "nope", "-o", str(tmp_path / "o.svg")]) == 1
    assert "no definition 'nope'" in capsys.readouterr().err
    assert main(["draw", str(source), "-o", str(tmp_path / "o.pdf")]) == 1
    assert ".svg or .png" in capsys.readouterr().err
    assert main(["draw", str(tmp_path / "missing.diag"), "-o", str(tmp_path / "o.svg")]) == 1
    assert "cannot read" in capsys.readouterr().err
    assert main(["draw", str(source), "-o", str(tmp_path / "no" / "such" / "dir.svg")]) == 1
    assert "cannot write" in capsys.readouterr().err
    assert not (tmp_path / "o.svg").exists()
    odd = tmp_path / "prog.svg"                      # a program named .svg is never drawn over
    odd.write_text(PROGRAM, encoding="utf-8")
    assert main(["draw", str(odd)]) == 1
    assert "refusing" in capsys.readouterr().err and odd.read_text(encoding="utf-8") == PROGRAM
