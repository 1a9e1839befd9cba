"""Drawings of diagrams, morphisms, layers and programs: one geometry model, two renderers.

A (k, l)-diagram is drawn as two rows of vertices: the l outputs ``1..l`` on top, the k inputs
``1'..k'`` below (the DSL's names). A block is a set of curves that meet: a pair is one curve (an
arc bending into the rectangle when both ends lie in one row, a strand between the rows otherwise);
a block of three or more vertices is a small filled node with a curve to each of its vertices.
ε-diagrams join their free vertices to an ``ε`` box; jellyfish add a dashed ``ε`` head with a
tentacle to each block; bilabelled graphs draw their edges in dark red between the labelled
vertices and hollow internal vertices. A kind the module does not know is a labelled box showing
``str(d)``.

>>> from catnn.diagram import swap
>>> fig = layout(swap())
>>> sum(1 for item in fig.items if item.role == "vertex")
4
>>> svg = to_svg(swap())
>>> svg.startswith("<svg") and svg.count('class="vertex"')
4

The geometry (:class:`Figure`: curves, dots, boxes and texts in pixel units, y pointing down) is
computed once; :func:`to_svg` writes it as SVG text with no dependency, :func:`to_png` renders the
same items with matplotlib (the optional extra ``catnn[draw]``). Output is deterministic: the same
object gives byte-identical SVG, and identical PNG bytes for one matplotlib version.
"""

from __future__ import annotations

import io
import math
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import messages
from .errors import CatnnError
from .kinds import HOOKS, Frozen
from .kinds import kind_of as diagram_kind
from .spec import BilinearLayerSpec

__all__ = [
    "Curve", "Dot", "Box", "Text", "Figure", "DiagramDrawing", "BlockGeometry",
    "layout", "layout_diagram", "layout_morphism", "layout_layer", "layout_network", "layout_program",
    "to_svg", "to_png", "render", "output_format", "write", "draw", "coefficient_text",
]

Point = tuple[float, float]

# -- style ------------------------------------------------------------------------------------
STEP = 38.0            # horizontal distance between neighbouring vertices
PAD_X = 20.0           # room left and right of the outermost vertices (their labels)
PAD_TOP = 22.0         # room above the top row (its labels)
PAD_BOTTOM = 24.0      # room below the bottom row (its labels)
VERTEX_R = 4.2
NODE_R = 3.4
STROKE = 1.9
HALO = 3.2             # extra width of the white halo under each block's curves
LABEL_SIZE = 11.0
COEFF_SIZE = 15.0
CAPTION_SIZE = 9.5
TITLE_SIZE = 13.0
FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"
INK = "#222222"
MUTED = "#666666"
EDGE_COLOR = "#b2182b"
EPS_COLOR = "#222222"
#: block colours, in canonical block order (colour-blind friendly, dark enough on white)
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8c6d00", "#56b4e9", "#7f3c8d", "#3b7d23",
           "#e31a1c", "#555555")
MAX_ROW_WIDTH = 1000.0  # a morphism's terms wrap onto a new line beyond this width
MAX_GRID = 60           # a layer grid shows at most this many diagrams


# -- the geometry model -----------------------------------------------------------------------
@dataclass(frozen=True)
class Curve:
    """A path: ``points[0]``, then cubic Bézier segments as triples (control, control, end)."""

    points: tuple[Point, ...]
    color: str = INK
    width: float = STROKE
    dash: tuple[float, ...] = ()
    role: str = "strand"

    @property
    def start(self) -> Point:
        return self.points[0]

    @property
    def end(self) -> Point:
        return self.points[-1]

    def moved(self, dx: float, dy: float) -> Curve:
        return replace(self, points=tuple((x + dx, y + dy) for x, y in self.points))

    def sample(self, per_segment: int = 12) -> list[Point]:
        """Points along the curve (for spacing checks)."""
        out = [self.points[0]]
        for i in range(1, len(self.points), 3):
            p0, p1, p2, p3 = self.points[i - 1], self.points[i], self.points[i + 1], self.points[i + 2]
            for j in range(1, per_segment + 1):
                out.append(_bezier(p0, p1, p2, p3, j / per_segment))
        return out


@dataclass(frozen=True)
class Dot:
    """A filled circle: a vertex, a block's node or an internal graph vertex."""

    x: float
    y: float
    r: float
    fill: str = INK
    stroke: str = "#ffffff"
    stroke_width: float = 1.0
    role: str = "vertex"

    def moved(self, dx: float, dy: float) -> Dot:
        return replace(self, x=self.x + dx, y=self.y + dy)


@dataclass(frozen=True)
class Box:
    """A rectangle with optionally rounded corners (ε nodes, fallback boxes, network stages)."""

    x: float
    y: float
    w: float
    h: float
    fill: str = "#ffffff"
    stroke: str = INK
    stroke_width: float = 1.2
    radius: float = 0.0
    dash: tuple[float, ...] = ()
    role: str = "box"

    def moved(self, dx: float, dy: float) -> Box:
        return replace(self, x=self.x + dx, y=self.y + dy)


@dataclass(frozen=True)
class Text:
    """One line of text; ``y`` is the baseline, ``anchor`` is start, middle or end."""

    x: float
    y: float
    text: str
    size: float = LABEL_SIZE
    anchor: str = "middle"
    color: str = INK
    bold: bool = False
    italic: bool = False
    role: str = "label"

    def moved(self, dx: float, dy: float) -> Text:
        return replace(self, x=self.x + dx, y=self.y + dy)


Item = Curve | Dot | Box | Text


@dataclass
class Figure:
    """Items in drawing order inside a ``width`` x ``height`` canvas (pixels, y down)."""

    width: float
    height: float
    items: list[Item] = field(default_factory=list)
    title: str = ""
    #: where the middle of the diagrams' rectangles lies (coefficients are centred on it)
    mid_y: float | None = None

    def add(self, item: Item) -> None:
        self.items.append(item)

    def place(self, other: Figure, dx: float, dy: float) -> None:
        """Copy ``other``'s items into this figure, shifted by (dx, dy)."""
        self.items.extend(item.moved(dx, dy) for item in other.items)


@dataclass
class BlockGeometry:
    """How one block is drawn: its labels, its curves and the nodes where they meet."""

    labels: tuple[int, ...]
    curves: list[Curve] = field(default_factory=list)
    nodes: list[Point] = field(default_factory=list)


@dataclass
class DiagramDrawing(Figure):
    """A diagram's figure with its geometry: vertex positions by label, and each block's curves."""

    k: int = 0
    l: int = 0
    vertices: dict[int, Point] = field(default_factory=dict)
    blocks: list[BlockGeometry] = field(default_factory=list)


# -- text helpers -----------------------------------------------------------------------------
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: object) -> str:
    """``text`` as one printable line: control characters become U+FFFD, newlines spaces."""
    s = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    return _INVALID_XML.sub("\ufffd", s)


# DejaVu Sans advance widths in em (other characters count as 0.62 em)
_WIDTHS = {**dict.fromkeys(" .,:;'|!ijlIJ·/\\", 0.32), **dict.fromkeys("()[]frt-", 0.39),
           **dict.fromkeys("*_`\"?sz", 0.5), **dict.fromkeys("mMW%@…", 0.97),
           **dict.fromkeys("+<=>^~−→#wCDGHNOQU&", 0.8), **dict.fromkeys("⁻¹²³⁴⁵⁶⁷⁸⁹⁰", 0.45)}


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The rendered width of one line of DejaVu Sans (the font both renderers ask for), estimated."""
    em = sum(_WIDTHS.get(c, 0.62) for c in text)
    return em * size * (1.1 if bold else 1.0)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[:max(limit - 1, 1)] + "…"


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def coefficient_text(c: Any) -> str:
    """A coefficient for display: ``n^-1`` as ``n⁻¹``, ``3*n`` as ``3n``, minus as ``−``.

    >>> from catnn.coeff import Poly
    >>> coefficient_text(Poly.n() ** 2 - 3 * Poly.n() + Poly.const(1) / 2)
    'n² − 3n + 1/2'
    """
    s = str(c)
    s = re.sub(r"\^(-?\d+)", lambda m: m.group(1).translate(_SUPERSCRIPT), s)
    s = re.sub(r"(?<![/\d])(\d+)\*n", r"\1n", s)
    return s.replace("*", "·").replace("-", "−")


def arrow(k: int, l: int) -> str:
    return f"{k} → {l}"


# -- geometry helpers -------------------------------------------------------------------------
def _bezier(p0: Point, p1: Point, p2: Point, p3: Point, t: float) -> Point:
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1])


def _round(p: Point) -> Point:
    return (round(p[0], 2), round(p[1], 2))


def _cubic(p0: Point, c1: Point, c2: Point, p3: Point, **style: Any) -> Curve:
    return Curve((_round(p0), _round(c1), _round(c2), _round(p3)), **style)


ROW_CLEARANCE = 22.0   # room kept between the deepest arcs of the two rows
#: where a block's node may go, in steps (x) and fractions of the row gap (y) from its natural place
_NODE_DX = (0.0, 0.25, -0.25, 0.5, -0.5, 0.75, -0.75, 1.0, -1.0, 1.4, -1.4)
_NODE_DY = (0.0, 0.08, -0.08, 0.16, -0.16, 0.24, -0.24, 0.32, -0.32)


def arc_depth(span: float) -> float:
    """How deep (pixels) an arc joining two vertices ``span`` pixels apart reaches: wider is deeper,
    so nested arcs never touch."""
    return 12.0 + 7.5 * (max(span / STEP, 1.0) - 1.0)


def _row_needs(k: int, l: int, blocks: Sequence[Sequence[int]]) -> tuple[float, float]:
    """The depth of the deepest one-row structure (arc or node) under the top and over the bottom row."""
    top = bottom = 0.0
    for b in blocks:
        if len(b) < 2:
            continue
        if max(b) <= l:
            top = max(top, arc_depth((max(b) - min(b)) * STEP))
        elif min(b) > l:
            bottom = max(bottom, arc_depth((max(b) - min(b)) * STEP))
    return top, bottom


def needed_gap(k: int, l: int, blocks: Sequence[Sequence[int]] = ()) -> float:
    """The distance between the rows that a diagram with these blocks needs."""
    m = min(max(k, l), 10)
    top, bottom = _row_needs(k, l, blocks)
    if k and l:
        return max(52.0 + 9.0 * m, top + bottom + ROW_CLEARANCE)
    return max(30.0 + 2.0 * m, top + bottom + 14.0)      # one row: no strands to make room for


def diagram_gap(d: Any) -> float:
    """``needed_gap`` of a diagram of any kind this module draws (0 for other kinds)."""
    try:
        kind = diagram_kind(d)
        if kind == "epsilon":
            return needed_gap(d.k, d.l, [tuple(d.free), *d.pairs])
        if kind in ("partition", "jellyfish"):
            return needed_gap(d.k, d.l, d.blocks)
    except Exception:  # noqa: BLE001 - an unknown kind: it is drawn as a box anyway
        pass
    return 0.0


class _Panel:
    """Builds one diagram's drawing: vertex rows, then blocks placed one by one."""

    def __init__(self, k: int, l: int, label_name: Any, blocks: Sequence[Sequence[int]] = (), columns: int = 1,
                 extra_gap: float = 0.0, gap: float | None = None) -> None:
        self.k, self.l = k, l
        m = max(k, l, columns)
        self.width = (m - 1) * STEP + 2 * PAD_X
        self.need_top, self.need_bottom = _row_needs(k, l, blocks)
        self.gap = max(needed_gap(k, l, blocks), gap or 0.0) + extra_gap
        self.yt = PAD_TOP if l else 8.0            # an empty row needs no room for labels
        self.yb = self.yt + self.gap
        self.height = self.yb + (PAD_BOTTOM if k else 8.0)
        self.vertices: dict[int, Point] = {}
        for i in range(l):
            self.vertices[i + 1] = (self._x(i, l), self.yt)
        for i in range(k):
            self.vertices[l + i + 1] = (self._x(i, k), self.yb)
        self.label_name = label_name
        self.background: list[Item] = []     # drawn first (jellyfish tentacles)
        self.layers: list[list[Item]] = []   # one list per block: halos, then strokes
        self.front: list[Item] = []          # nodes, drawn over every curve
        self.blocks: list[BlockGeometry] = []
        self.obstacles: list[Point] = list(self.vertices.values())
        self.nodes: list[Point] = []           # nodes placed so far (curves must keep clear of them)
        self.colour = 0

    def _x(self, i: int, count: int) -> float:
        return round(self.width / 2 + (i - (count - 1) / 2) * STEP, 2)

    def top(self, label: int) -> bool:
        return label <= self.l

    def next_colour(self) -> str:
        colour = PALETTE[self.colour % len(PALETTE)]
        self.colour += 1
        return colour

    # -- shapes -----------------------------------------------------------------------------
    def depth(self, span: float, top: bool) -> float:
        """How far an arc (or a one-row node) of this horizontal span reaches into the rectangle."""
        room = self.gap - (self.need_bottom if top else self.need_top) - ROW_CLEARANCE
        return min(arc_depth(span), max(room, 0.3 * self.gap))

    def pair_curve(self, a: int, b: int, colour: str) -> Curve:
        (xa, ya), (xb, yb) = self.vertices[a], self.vertices[b]
        if self.top(a) == self.top(b):
            sign = 1 if self.top(a) else -1
            control = ya + sign * self.depth(abs(xb - xa), self.top(a)) / 0.75
            return _cubic((xa, ya), (xa, control), (xb, control), (xb, yb), color=colour)
        if not self.top(a):
            (xa, ya), (xb, yb) = (xb, yb), (xa, ya)
        bend = 0.45 * self.gap
        return _cubic((xa, ya), (xa, ya + bend), (xb, yb - bend), (xb, yb), color=colour)

    def leg(self, v: Point, node: Point, colour: str, **style: Any) -> Curve:
        """A curve from a vertex that leaves it vertically and meets ``node``."""
        (xv, yv), (xn, yn) = v, node
        return _cubic((xv, yv), (xv, yv + (yn - yv) * 0.6), (xn + (xv - xn) * 0.3, yn - (yn - yv) * 0.1),
                      (xn, yn), color=colour, **style)

    def node_position(self, labels: Sequence[int]) -> Point:
        """Where a block's node goes: near its vertices' centre, clear of what is drawn already."""
        points = [self.vertices[v] for v in labels]
        t = sum(1 for v in labels if self.top(v))
        b = len(labels) - t
        x0 = sum(p[0] for p in points) / len(points)
        span = max(p[0] for p in points) - min(p[0] for p in points)
        if t and b:
            y0 = self.yt + self.gap * min(max(b / (t + b), 0.3), 0.7)
        elif t:
            y0 = self.yt + self.depth(span, True)
        else:
            y0 = self.yb - self.depth(span, False)
        return self.free_spot(x0, y0, dxs=_NODE_DX, dys=_NODE_DY, legs=points)

    def free_spot(self, x0: float, y0: float, dxs: Sequence[float] = (0.0, 0.3, -0.3, 0.6, -0.6, 0.9, -0.9),
                  dys: Sequence[float] = (0.0, 0.12, -0.12, 0.22, -0.22, 0.32, -0.32), enough: float = 13.0,
                  legs: Sequence[Point] = ()) -> Point:
        """The candidate near (x0, y0) with the most room (ties: the nearest, then the first).

        Room is the distance from the spot to everything drawn so far and, when ``legs`` (vertex
        positions) are given, from the legs joining them to the spot to every node drawn so far:
        a curve must not seem to pass through another block's node.
        """
        lo, hi = self.yt + 0.16 * self.gap, self.yb - 0.16 * self.gap
        left, right = PAD_X * 0.5, self.width - PAD_X * 0.5
        best, best_score = (x0, min(max(y0, lo), hi)), -math.inf
        for dy in dys:
            for dx in dxs:
                x, y = x0 + dx * STEP, min(max(y0 + dy * self.gap, lo), hi)
                if not left <= x <= right:
                    continue
                room = min((math.hypot(x - px, y - py) for px, py in self.obstacles), default=99.0)
                if legs and self.nodes:
                    samples = [q for v in legs for q in self.leg(v, (x, y), INK).sample(8)[2:-1]]
                    room = min(room, min(math.hypot(qx - nx, qy - ny) for qx, qy in samples for nx, ny in self.nodes))
                score = min(room, enough) - 0.06 * math.hypot(x - x0, y - y0)
                if score > best_score + 1e-9:
                    best, best_score = (x, y), score
        return _round(best)

    def record(self, curves: Iterable[Curve], nodes: Iterable[Point] = ()) -> None:
        for c in curves:
            self.obstacles.extend(c.sample(8)[1:-1])
        self.obstacles.extend(nodes)
        self.nodes.extend(nodes)

    # -- blocks -----------------------------------------------------------------------------
    def add_block(self, labels: Sequence[int], colour: str | None = None, node: str = "dot") -> BlockGeometry:
        """Draw a block: nothing for a singleton, one curve for a pair, a node and legs otherwise.

        ``node="hub"`` always gives a node (edges of bilabelled graphs attach to it);
        ``node="epsilon"`` gives an ``ε`` box (the free vertices of an ε-diagram)."""
        labels = tuple(labels)
        geometry = BlockGeometry(labels)
        if len(labels) == 1 and node == "dot":
            self.blocks.append(geometry)
            return geometry
        colour = colour or self.next_colour()
        if len(labels) == 2 and node == "dot":
            geometry.curves.append(self.pair_curve(labels[0], labels[1], colour))
        else:
            centre = self.node_position(labels)
            geometry.nodes.append(centre)
            geometry.curves.extend(self.leg(self.vertices[v], centre, colour) for v in labels)
            if node in ("dot", "hub"):
                self.front.append(Dot(centre[0], centre[1], NODE_R, fill=colour, stroke="#ffffff",
                                      stroke_width=0.8, role="node"))
            else:
                self.front.extend(_eps_box(centre, colour))
        self.record(geometry.curves, geometry.nodes)
        self.blocks.append(geometry)
        self.layers.append([replace(c, color="#ffffff", width=STROKE + HALO, role="halo") for c in geometry.curves]
                           + list(geometry.curves))
        return geometry

    def finish(self, title: str = "") -> DiagramDrawing:
        fig = DiagramDrawing(self.width, self.height, title=title, mid_y=(self.yt + self.yb) / 2,
                             k=self.k, l=self.l, vertices=dict(self.vertices), blocks=self.blocks)
        fig.items.extend(self.background)
        for layer in self.layers:
            fig.items.extend(layer)
        fig.items.extend(self.front)
        for label in range(1, self.k + self.l + 1):
            x, y = self.vertices[label]
            fig.add(Dot(x, y, VERTEX_R, fill=INK, stroke="#ffffff", stroke_width=1.0, role="vertex"))
        for label in range(1, self.k + self.l + 1):
            x, y = self.vertices[label]
            baseline = y - 8.0 if self.top(label) else y + 8.0 + LABEL_SIZE * 0.78
            fig.add(Text(x, baseline, clean_text(self.label_name(label)), LABEL_SIZE, color=INK, role="label"))
        if not self.k + self.l:
            fig.add(Box(PAD_X * 0.5, self.yt, self.width - PAD_X, self.gap, fill="none", stroke="#bbbbbb",
                        stroke_width=1.0, dash=(3.0, 3.0), role="empty"))
        return fig


def _eps_box(centre: Point, colour: str, label: str = "ε", dash: tuple[float, ...] = ()) -> list[Item]:
    x, y = centre
    side = 15.0
    return [Box(round(x - side / 2, 2), round(y - side / 2, 2), side, side, fill="#ffffff", stroke=colour,
                stroke_width=1.4, radius=3.0, dash=dash, role="epsilon"),
            Text(x, round(y + 4.2, 2), label, 11.5, color=colour, italic=False, role="epsilon")]


def _label_namer(d: Any) -> Any:
    if diagram_kind(d) not in (None, "graph"):
        return d.label_name
    l = d.l
    return lambda v: str(v) if v <= l else f"{v - l}'"


# -- diagrams ---------------------------------------------------------------------------------
def layout_diagram(d: Any, title: str = "", gap: float | None = None) -> DiagramDrawing:
    """The drawing of one diagram: a partition diagram, an ε-diagram, a jellyfish or a
    bilabelled graph. Other kinds raise TypeError (:func:`layout` falls back to a text box).

    ``gap`` asks for at least this distance between the rows (terms of one morphism and cells of
    one grid share it, so their rows line up)."""
    layouts = {"jellyfish": _layout_jellyfish, "epsilon": _layout_epsilon, "graph": _layout_graph,
               "partition": _layout_partition}
    kind = diagram_kind(d)
    if kind not in layouts:
        raise TypeError(f"cannot draw a {type(d).__name__}")
    return layouts[kind](d, title, gap)


def _layout_partition(d: Any, title: str, gap: float | None = None) -> DiagramDrawing:
    panel = _Panel(d.k, d.l, _label_namer(d), d.blocks, gap=gap)
    blocks = list(d.blocks)
    # pairs first (their shape is fixed), then the nodes of larger blocks, each placed in free room;
    # colours follow the canonical block order so equal diagrams always look the same
    colours: dict[tuple[int, ...], str] = {}
    for b in blocks:
        if len(b) > 1:
            colours[b] = panel.next_colour()
    for b in sorted(blocks, key=lambda b: (len(b) > 2, b)):
        panel.add_block(b, colours.get(b))
    panel.blocks.sort(key=lambda g: g.labels)
    return panel.finish(title)


def _layout_epsilon(d: Any, title: str, gap: float | None = None) -> DiagramDrawing:
    panel = _Panel(d.k, d.l, _label_namer(d), [tuple(d.free), *d.pairs], gap=gap)
    for pair in d.pairs:
        panel.add_block(pair)
    panel.add_block(tuple(d.free), EPS_COLOR, node="epsilon")
    panel.blocks.sort(key=lambda g: g.labels)
    return panel.finish(title)


def _layout_jellyfish(d: Any, title: str, gap: float | None = None) -> DiagramDrawing:
    panel = _Panel(d.k, d.l, _label_namer(d), d.blocks, gap=gap)
    blocks = list(d.blocks)
    geometries = []
    for b in sorted(blocks, key=lambda b: (len(b) > 2, b)):
        geometries.append(panel.add_block(b))
    head = panel.free_spot(panel.width / 2, (panel.yt + panel.yb) / 2)
    for g in sorted(geometries, key=lambda g: g.labels):     # tentacles, in ε order
        if g.nodes:
            anchor = g.nodes[0]
        elif g.curves:
            c = g.curves[0]
            anchor = _round(_bezier(*c.points[:4], 0.5))
        else:
            anchor = panel.vertices[g.labels[0]]
        panel.background.append(_cubic(head, head, anchor, anchor, color="#888888", width=1.1,
                                       dash=(3.0, 2.5), role="tentacle"))
    panel.front.extend(_eps_box(head, "#555555", "ε", dash=(2.0, 1.5)))
    panel.blocks.sort(key=lambda g: g.labels)
    return panel.finish(title)


def _layout_graph(g: Any, title: str, gap: float | None = None) -> DiagramDrawing:
    """A bilabelled graph: each vertex of F carrying labels is a block of those labels (a grey node
    when it carries several), internal vertices are hollow dots, F's edges are dark red."""
    k, l = g.k, g.l
    labelled = set(g.outputs) | set(g.inputs)
    internal = [u for u in range(g.vertices) if u not in labelled]
    panel = _Panel(k, l, lambda v: str(v) if v <= l else f"{v - l}'", columns=len(internal) + 1,
                   extra_gap=24.0 * min(len(internal), 3) + (12.0 if g.edges else 0.0), gap=gap)
    labels_of: dict[int, list[int]] = {}
    for position, u in enumerate(tuple(g.outputs) + tuple(g.inputs), 1):
        labels_of.setdefault(u, []).append(position)
    where: dict[int, Point] = {}
    for u in sorted(labels_of):
        block = tuple(labels_of[u])
        geometry = panel.add_block(block, "#555555", node="dot" if len(block) == 1 else "hub")
        where[u] = geometry.nodes[0] if geometry.nodes else panel.vertices[block[0]]
    edges: list[Curve] = []

    def add_edge(a: int, b: int) -> None:
        points = list(panel.vertices.values()) + list(where.values())
        curve = _graph_edge(panel, where[a], where[b], points) if a != b else _graph_loop(panel, where[a])
        edges.append(curve)
        panel.record([curve])

    done = set()
    for i, (a, b) in enumerate(g.edges):         # edges between labelled vertices first
        if a in where and b in where:
            add_edge(a, b)
            done.add(i)
    # internal vertices: evenly spaced slots across the middle, in the order of where their
    # labelled neighbours are (so edges cross as little as this simple rule allows)
    mid = (panel.yt + panel.yb) / 2
    wish = {}
    for u in internal:
        known = [where[w][0] for a, b in g.edges for v, w in ((a, b), (b, a)) if v == u and w in where and w != u]
        wish[u] = sum(known) / len(known) if known else panel.width / 2
    order = sorted(internal, key=lambda u: (wish[u], u))
    spacing = min(STEP, (panel.width - PAD_X) / max(len(order), 1))
    for j, u in enumerate(order):
        x = panel.width / 2 + (j - (len(order) - 1) / 2) * spacing
        y = mid + (0.18 * panel.gap * (1 if j % 2 else -1) if len(order) > 1 else 0.0)   # a zigzag
        where[u] = panel.free_spot(x, y, dxs=(0.0, 0.25, -0.25, 0.5, -0.5), dys=(0.0, 0.1, -0.1, 0.2, -0.2),
                                   enough=15.0)
        panel.obstacles.append(where[u])
    for i, (a, b) in enumerate(g.edges):
        if i not in done:
            add_edge(a, b)
    panel.layers.append([replace(c, color="#ffffff", width=2.2 + HALO, role="halo") for c in edges] + edges)
    for u in internal:
        x, y = where[u]
        panel.front.append(Dot(x, y, VERTEX_R + 0.6, fill="#ffffff", stroke=EDGE_COLOR, stroke_width=1.6,
                               role="internal"))
    panel.blocks.sort(key=lambda b: b.labels)
    return panel.finish(title)


def _graph_edge(panel: _Panel, pa: Point, pb: Point, points: Sequence[Point]) -> Curve:
    """An edge of F: an arc along a row, else a line, bent when it would pass over a vertex."""
    if abs(pa[1] - pb[1]) < 1e-6 and pa[1] in (panel.yt, panel.yb):
        sign = 1 if pa[1] == panel.yt else -1
        control = pa[1] + sign * panel.depth(abs(pb[0] - pa[0]), sign > 0) / 0.75
        return _cubic(pa, (pa[0], control), (pb[0], control), pb, color=EDGE_COLOR, width=2.2, role="edge")
    others = [p for p in points if p != pa and p != pb]
    length = math.hypot(pb[0] - pa[0], pb[1] - pa[1]) or 1.0
    nx, ny = -(pb[1] - pa[1]) / length, (pb[0] - pa[0]) / length
    best, best_room = None, -1.0
    for bend in (0.0, 14.0, -14.0, 26.0, -26.0):
        c1, c2 = _lerp(pa, pb, 1 / 3), _lerp(pa, pb, 2 / 3)
        c1, c2 = (c1[0] + nx * bend, c1[1] + ny * bend), (c2[0] + nx * bend, c2[1] + ny * bend)
        curve = _cubic(pa, c1, c2, pb, color=EDGE_COLOR, width=2.2, role="edge")
        room = min((math.hypot(x - ox, y - oy) for x, y in curve.sample(16) for ox, oy in others), default=99.0)
        if room >= 9.0:
            return curve
        if room > best_room:
            best, best_room = curve, room
    assert best is not None
    return best


def _graph_loop(panel: _Panel, p: Point) -> Curve:
    """A loop at ``p``, on whichever side has the most room."""
    x, y = p
    best, best_room = None, -1.0
    for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        if (y == panel.yt and dy < 0) or (y == panel.yb and dy > 0):
            continue
        px, py = -dy, dx                          # perpendicular
        c1 = (x + dx * 22 + px * 11, y + dy * 22 + py * 11)
        c2 = (x + dx * 22 - px * 11, y + dy * 22 - py * 11)
        curve = _cubic(p, c1, c2, p, color=EDGE_COLOR, width=2.2, role="edge")
        room = min((math.hypot(qx - ox, qy - oy) for qx, qy in curve.sample(8)[2:-2]
                    for ox, oy in panel.obstacles if (ox, oy) != p), default=99.0)
        if room > best_room + 1e-9:
            best, best_room = curve, room
    assert best is not None
    return best


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _fallback(obj: Any, title: str = "") -> Figure:
    """A labelled box showing ``str(obj)``: for kinds this module cannot draw."""
    text = shorten(clean_text(obj), 90)
    kind = type(obj).__name__
    if isinstance(obj, Frozen):   # a diagram or a morphism
        kind = f"{kind} {arrow(obj.k, obj.l)}"
    w = max(text_width(text, 11.0), text_width(kind, CAPTION_SIZE)) + 24
    fig = Figure(w + 8, 58, title=title, mid_y=29)
    fig.add(Box(4, 4, w, 50, fill="#f7f7f7", stroke="#999999", radius=5, role="fallback"))
    fig.add(Text(4 + w / 2, 24, text, 11.0, role="fallback"))
    fig.add(Text(4 + w / 2, 43, kind, CAPTION_SIZE, color=MUTED, italic=True, role="caption"))
    return fig


def _text_figure(text: str, size: float = 11.0, color: str = MUTED, italic: bool = True) -> Figure:
    text = clean_text(text)
    fig = Figure(text_width(text, size) + 8, size * 1.6, mid_y=size * 0.8)
    fig.add(Text(4, size * 1.15, text, size, anchor="start", color=color, italic=italic, role="note"))
    return fig


# -- morphisms --------------------------------------------------------------------------------
def layout_morphism(m: Any, title: str = "") -> Figure:
    """Terms side by side, with exact coefficients between them: ``1/2 · d1 + 1/2 · d2 − n⁻¹ · d3``."""
    from .morphism import _is_negative
    terms = list(m.terms)
    if not terms:
        from .diagram import Diagram
        zero = layout(Diagram([[v] for v in range(1, m.k + m.l + 1)], m.k, m.l)) if m.k + m.l else None
        tokens: list[Any] = [("0 ·", False)] + ([zero] if zero else [])
    else:
        tokens = []
        gap = max(diagram_gap(d) for d, _ in terms)
        for i, (d, c) in enumerate(terms):
            negative = _is_negative(c)
            c = -c if negative else c
            sign = ("−" if negative else "+") if i else ("−" if negative else "")
            text = sign if c == 1 else (f"{sign} " if sign else "") + _coefficient_factor(c)
            if text:
                tokens.append((text, False))
            tokens.append(layout(d, gap=gap))
    return _row_of(tokens, title)


def _coefficient_factor(c: Any) -> str:
    text = coefficient_text(c)
    return (text if c.is_monomial() else f"({text})") + " ·"


def _row_of(tokens: list[Any], title: str) -> Figure:
    """Lay tokens (figures, or (text, _) pairs) in rows no wider than MAX_ROW_WIDTH."""
    gap = 6.0
    rows: list[list[tuple[Any, float]]] = [[]]
    x = 0.0
    for tok in tokens:
        w = tok.width if isinstance(tok, Figure) else text_width(tok[0], COEFF_SIZE) + 2 * gap
        if rows[-1] and x + w > MAX_ROW_WIDTH and isinstance(tok, Figure) is False:
            rows.append([])
            x = 0.0
        rows[-1].append((tok, w))
        x += w
    figures = [t for t, _ in (p for r in rows for p in r) if isinstance(t, Figure)]
    height = max((f.height for f in figures), default=COEFF_SIZE * 2)
    mid = max((f.mid_y if f.mid_y is not None else f.height / 2 for f in figures), default=height / 2)
    width = max(sum(w for _, w in r) for r in rows)
    fig = Figure(width, height * len(rows), title=title, mid_y=mid)
    for r, row in enumerate(rows):
        x, top = 0.0, r * height
        for tok, w in row:
            if isinstance(tok, Figure):
                fig.place(tok, x, top + (mid - (tok.mid_y if tok.mid_y is not None else tok.height / 2)))
            else:
                fig.add(Text(round(x + w / 2, 2), round(top + mid + COEFF_SIZE * 0.36, 2), tok[0], COEFF_SIZE,
                             color=INK, role="coefficient"))
            x += w
    return fig


# -- layers, networks, programs ---------------------------------------------------------------
def layout_layer(spec: Any, group: Any = None, title: str = "") -> Figure:
    """A layer's diagrams (or its group's spanning set) as a grid with small captions."""
    note = ""
    if spec.diagrams is not None:
        items = list(spec.diagrams)
        total = len(items)
        what = f"{total} chosen diagram{'s' if total != 1 else ''}"
    else:
        try:
            G = _layer_group(spec, group)
            total = G.spanning_count(spec.k, spec.l)
            items = []
            for d in G.iter_spanning_set(spec.k, spec.l):
                if len(items) >= MAX_GRID:
                    break
                items.append(d)
            what = f"{G} spanning set, {total} diagram{'s' if total != 1 else ''}"
        except CatnnError as err:
            items, total, what, note = [], 0, f"{spec.group} spanning set", str(err)
    cells = []
    gap = max((diagram_gap(d) for d in items[:MAX_GRID]), default=0.0)
    for i, d in enumerate(items[:MAX_GRID], 1):
        body = layout(d, gap=gap)
        caption = shorten(f"{i}. {clean_text(d)}", 44)
        cells.append((body, caption))
    fig = _grid(cells, f"{what}" + (f" (first {MAX_GRID} shown)" if total > MAX_GRID else ""), title)
    if note:
        fig = _stack([fig, _text_figure(note)], title=title)
    return fig


def _layer_group(spec: Any, group: Any) -> Any:
    if group is not None and getattr(group, "name", None) == spec.group and getattr(group, "n", None) == spec.n:
        return group
    from .groups import group as make_group
    return make_group(spec.group, n=spec.n)


def _grid(cells: list[tuple[Figure, str]], subtitle: str, title: str) -> Figure:
    pad = 10.0
    cap_h = CAPTION_SIZE * 1.6
    if not cells:
        return _stack([_text_figure(subtitle, CAPTION_SIZE + 1)], title=title)
    cell_w = max(max(f.width, text_width(c, CAPTION_SIZE)) for f, c in cells) + pad
    cell_h = max(f.height for f, _ in cells) + cap_h + pad
    cols = max(1, min(len(cells), math.ceil(math.sqrt(1.5 * len(cells))), int(MAX_ROW_WIDTH // cell_w) or 1))
    rows = math.ceil(len(cells) / cols)
    head = CAPTION_SIZE * 2.2
    fig = Figure(max(cols * cell_w, text_width(subtitle, CAPTION_SIZE + 1) + 8), head + rows * cell_h, title=title)
    fig.add(Text(4, CAPTION_SIZE * 1.4, clean_text(subtitle), CAPTION_SIZE + 1, anchor="start", color=MUTED,
                 italic=True, role="caption"))
    for i, (body, caption) in enumerate(cells):
        r, c = divmod(i, cols)
        x0, y0 = c * cell_w, head + r * cell_h
        fig.add(Box(x0 + 2, y0 + 2, cell_w - 4, cell_h - 4, fill="#fafafa", stroke="#e2e2e2", stroke_width=1.0,
                    radius=4, role="cell"))
        fig.place(body, x0 + (cell_w - body.width) / 2, y0 + 2)
        fig.add(Text(round(x0 + cell_w / 2, 2), round(y0 + cell_h - pad / 2 - CAPTION_SIZE * 0.45, 2), caption,
                     CAPTION_SIZE, color=MUTED, role="caption"))
    return fig


def layout_network(spec: Any, title: str = "") -> Figure:
    """A network's stages as a chain of boxes: ``edge [1 → 16] → relu → ...``."""
    h, gap = 30.0, 26.0
    boxes = []
    for stage in spec.stages:
        text = clean_text(stage.name)
        if stage.kind == "layer" and stage.in_channels is not None:
            text += f" [{stage.in_channels} → {stage.out_channels}]"
        elif stage.kind == "layer" and getattr(stage, "in_space", None) is not None:   # a mixed-order layer
            text += f" [{stage.in_space} → {stage.out_space}]"
        boxes.append((text, stage.kind == "layer"))
    widths = [text_width(t, 11.0) + 18 for t, _ in boxes]
    fig = Figure(sum(widths) + gap * max(len(boxes) - 1, 0) + 8, h + 8, title=title, mid_y=4 + h / 2)
    x = 4.0
    for i, ((text, is_layer), w) in enumerate(zip(boxes, widths)):
        fig.add(Box(round(x, 2), 4, round(w, 2), h, fill="#eef4fb" if is_layer else "#f6f6f6",
                    stroke="#0072b2" if is_layer else "#999999", radius=6, role="stage"))
        fig.add(Text(round(x + w / 2, 2), 4 + h / 2 + 4, text, 11.0, role="stage"))
        x += w
        if i < len(boxes) - 1:
            fig.add(Text(round(x + gap / 2, 2), 4 + h / 2 + 5, "→", 14.0, color=MUTED, role="arrow"))
            x += gap
    return fig


def _stack(figures: list[Figure], title: str = "", gap: float = 8.0) -> Figure:
    width = max((f.width for f in figures), default=0.0)
    height = sum(f.height for f in figures) + gap * max(len(figures) - 1, 0)
    fig = Figure(width, height, title=title)
    y = 0.0
    for f in figures:
        fig.place(f, 0, y)
        y += f.height + gap
    return fig


def layout_program(program: Any, names: Sequence[str] | None = None, title: str = "") -> Figure:
    """Every definition of a checked program (or the named ones), each under a heading."""
    from .compiler.program import kind_of
    chosen = list(program.definitions) if names is None else list(names)
    sections = []
    group = program.group
    if getattr(program, "sorts", None):     # a product with named sorts: they caption the drawings
        from .draw_product import SortedGroup
        group = SortedGroup(group, program.sorts)
    for name in chosen:
        value = program.definitions[name]
        body = layout(value, group=group)
        bilinear = isinstance(value, BilinearLayerSpec)
        sides = arrow(value.product, value.l) if bilinear else arrow(value.k, value.l)
        head = f"{kind_of(value)} {clean_text(name)} : {sides}"
        section = Figure(max(body.width, text_width(head, TITLE_SIZE, bold=True)) + 8,
                         body.height + TITLE_SIZE * 1.9)
        section.add(Text(4, TITLE_SIZE * 1.25, head, TITLE_SIZE, anchor="start", bold=True, role="title"))
        section.place(body, 4, TITLE_SIZE * 1.9)
        sections.append(section)
    return _stack(sections, title=title or getattr(program, "filename", ""), gap=14.0)


def layout(obj: Any, group: Any = None, title: str = "", gap: float | None = None) -> Figure:
    """The figure of any drawable object; unknown kinds become a labelled box with ``str(obj)``."""
    from .morphism import Morphism
    from .spec import LayerSpec, MixedLayerSpec, NetworkSpec
    if isinstance(obj, Figure):
        return obj
    from .groups.product import ProductDiagram, ProductGroup, ProductMorphism
    if isinstance(obj, (ProductDiagram, ProductMorphism)) or isinstance(getattr(obj, "group", None), ProductGroup):
        from .draw_product import layout_product     # sorts in their own frames, drawn with this module's kit
        return layout_product(sys.modules[__name__], obj, group, title, gap)
    if isinstance(obj, Morphism):
        return layout_morphism(obj, title)
    if isinstance(obj, MixedLayerSpec):      # one grid per block k -> l
        blocks = [layout_layer(LayerSpec(obj.name, obj.group, obj.n, k, l), group, f"block {k} → {l}")
                  for k in obj.in_orders for l in obj.out_orders]
        return _stack(blocks, title=title)
    if isinstance(obj, LayerSpec):
        return layout_layer(obj, group, title)
    if isinstance(obj, NetworkSpec):
        return layout_network(obj, title)
    from .compiler.program import Program
    if isinstance(obj, Program):
        return layout_program(obj, title=title)
    from .diagram import Diagram
    if isinstance(obj, Diagram):
        return layout_diagram(obj, title, gap)
    try:
        return layout_diagram(obj, title, gap)
    except Exception:  # noqa: BLE001 - a kind being written elsewhere: show its text, never crash
        return _fallback(obj, title)


# -- the SVG renderer -------------------------------------------------------------------------
def _num(v: float) -> str:
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _attr(value: object) -> str:
    """Text escaped for an XML attribute or element (no markup can get through)."""
    s = _INVALID_XML.sub("\ufffd", str(value))
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _svg_path(points: Sequence[Point]) -> str:
    d = [f"M{_num(points[0][0])} {_num(points[0][1])}"]
    for i in range(1, len(points), 3):
        d.append("C" + " ".join(f"{_num(x)} {_num(y)}" for x, y in points[i:i + 3]))
    return " ".join(d)


def _margin(fig: Figure) -> tuple[float, float, float]:
    pad = 8.0
    return pad, math.ceil(fig.width + 2 * pad), math.ceil(fig.height + 2 * pad)


def to_svg(obj: Any, *, xml_declaration: bool = False) -> str:
    """The SVG text of ``obj`` (a diagram, morphism, layer, program or :class:`Figure`)."""
    fig = layout(obj)
    pad, w, h = _margin(fig)
    out = []
    if xml_declaration:
        out.append('<?xml version="1.0" encoding="UTF-8"?>')
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
               f'font-family="{_attr(FONT)}">')
    if fig.title:
        out.append(f"<title>{_attr(clean_text(fig.title))}</title>")
    out.append(f'<rect width="{w}" height="{h}" fill="#ffffff"/>')
    out.append(f'<g transform="translate({_num(pad)} {_num(pad)})">')
    for item in fig.items:
        out.append(_svg_item(item))
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _dash(dash: tuple[float, ...]) -> str:
    return f' stroke-dasharray="{" ".join(_num(v) for v in dash)}"' if dash else ""


def _svg_item(item: Item) -> str:
    if isinstance(item, Curve):
        return (f'<path class="{item.role}" d="{_svg_path(item.points)}" fill="none" stroke="{item.color}" '
                f'stroke-width="{_num(item.width)}" stroke-linecap="round"{_dash(item.dash)}/>')
    if isinstance(item, Dot):
        return (f'<circle class="{item.role}" cx="{_num(item.x)}" cy="{_num(item.y)}" r="{_num(item.r)}" '
                f'fill="{item.fill}" stroke="{item.stroke}" stroke-width="{_num(item.stroke_width)}"/>')
    if isinstance(item, Box):
        rounded = f' rx="{_num(item.radius)}"' if item.radius else ""
        return (f'<rect class="{item.role}" x="{_num(item.x)}" y="{_num(item.y)}" width="{_num(item.w)}" '
                f'height="{_num(item.h)}"{rounded} fill="{item.fill}" stroke="{item.stroke}" '
                f'stroke-width="{_num(item.stroke_width)}"{_dash(item.dash)}/>')
    style = (' font-weight="bold"' if item.bold else "") + (' font-style="italic"' if item.italic else "")
    return (f'<text class="{item.role}" x="{_num(item.x)}" y="{_num(item.y)}" font-size="{_num(item.size)}" '
            f'text-anchor="{item.anchor}" fill="{item.color}"{style}>{_attr(item.text)}</text>')


# -- the PNG renderer (matplotlib) ------------------------------------------------------------
def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure as MplFigure
    except ImportError:
        raise CatnnError(messages.DRAW_NEEDS_MATPLOTLIB) from None
    return matplotlib, FigureCanvasAgg, MplFigure


def to_png(obj: Any, *, scale: float = 2.0) -> bytes:
    """PNG bytes of ``obj``: the same geometry as :func:`to_svg`, rendered by matplotlib."""
    _, FigureCanvasAgg, MplFigure = _matplotlib()
    from matplotlib.patches import Circle, FancyBboxPatch, PathPatch, Rectangle
    from matplotlib.path import Path as MplPath
    fig = layout(obj)
    pad, w, h = _margin(fig)
    dpi = 96.0 * scale
    pt = 0.75                                   # points per pixel unit (1 px = 1/96 in)
    mfig = MplFigure(figsize=(w / 96.0, h / 96.0), dpi=dpi, facecolor="#ffffff")
    FigureCanvasAgg(mfig)
    ax = mfig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-pad, w - pad)
    ax.set_ylim(h - pad, -pad)
    ax.set_axis_off()
    for z, item in enumerate(fig.items):
        if isinstance(item, Curve):
            codes = [MplPath.MOVETO] + [MplPath.CURVE4] * (len(item.points) - 1)
            lw = item.width * pt
            style = (0, tuple(v * pt / lw for v in item.dash)) if item.dash else "solid"
            ax.add_patch(PathPatch(MplPath(item.points, codes), fill=False, edgecolor=item.color, linewidth=lw,
                                   capstyle="round", joinstyle="round", linestyle=style, zorder=z))
        elif isinstance(item, Dot):
            ax.add_patch(Circle((item.x, item.y), item.r, facecolor=item.fill, edgecolor=item.stroke,
                                linewidth=item.stroke_width * pt, zorder=z))
        elif isinstance(item, Box):
            lw = item.stroke_width * pt
            common = dict(facecolor="none" if item.fill == "none" else item.fill, edgecolor=item.stroke,
                          linewidth=lw, zorder=z,
                          linestyle=(0, tuple(v * pt / lw for v in item.dash)) if item.dash else "solid")
            if item.radius:
                ax.add_patch(FancyBboxPatch((item.x, item.y), item.w, item.h,
                                            boxstyle=f"round,pad=0,rounding_size={item.radius}", **common))
            else:
                ax.add_patch(Rectangle((item.x, item.y), item.w, item.h, **common))
        else:
            ha = {"start": "left", "middle": "center", "end": "right"}[item.anchor]
            ax.text(item.x, item.y, clean_text(item.text), fontsize=item.size * pt, ha=ha, va="baseline",
                    color=item.color, fontweight="bold" if item.bold else "normal",
                    fontstyle="italic" if item.italic else "normal", family="DejaVu Sans",
                    parse_math=False, zorder=z)
    buffer = io.BytesIO()
    mfig.savefig(buffer, format="png", dpi=dpi, facecolor="#ffffff", metadata={"Software": None})
    return buffer.getvalue()


# -- files ------------------------------------------------------------------------------------
def render(obj: Any, fmt: str) -> bytes:
    """``obj`` as the bytes of an ``"svg"`` or ``"png"`` file."""
    if fmt == "svg":
        return to_svg(obj, xml_declaration=True).encode("utf-8")
    if fmt == "png":
        return to_png(obj)
    raise CatnnError(messages.DRAW_FORMAT.format(path=f"*.{fmt}"))


def output_format(path: str) -> str:
    """``"svg"`` or ``"png"`` from a file name; a CatnnError for anything else."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".svg", ".png"):
        raise CatnnError(messages.DRAW_FORMAT.format(path=path))
    return ext[1:]


def write(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` atomically: a temporary file beside it, then ``os.replace``."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    try:
        fd, temp = tempfile.mkstemp(prefix=".catnn-draw-", suffix=".tmp", dir=folder)
    except OSError as err:
        raise CatnnError(messages.DRAW_WRITE.format(path=target, reason=err.strerror or err)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException as err:          # interrupted or failed: leave no temporary file behind
        try:
            os.unlink(temp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise CatnnError(messages.DRAW_WRITE.format(path=target, reason=err.strerror or err)) from None
        raise


def draw(obj: Any, path: str | os.PathLike[str]) -> str:
    """Draw ``obj`` to ``path`` (``.svg``, or ``.png`` with matplotlib); returns the path."""
    target = os.fspath(path)
    write(render(obj, output_format(target)), target)
    return target


HOOKS["svg"] = to_svg
