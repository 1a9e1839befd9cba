"""Drawings over a product of groups: each sort's part in its own coloured frame, named by its sort.

>>> import catnn
>>> from catnn.draw import to_svg
>>> d = catnn.diagram("(swap | {1, 1'})", "S x O(3)")
>>> svg = to_svg(d)
>>> svg.count('class="sort"'), "sort 1" in svg
(2, True)

A product diagram ``(d_0 | d_1 | …)`` is drawn as its parts side by side, part s inside a frame of
sort s's colour (:data:`SORT_COLOURS`, with a dashed frame for odd sorts so that the sorts differ in
print too) and captioned with the sort's name and group. Morphisms are drawn term by term as
:func:`catnn.draw.layout_morphism` draws them; a layer shows a grid of the first diagrams of its
spanning set (or its chosen diagrams). :mod:`catnn.draw` passes itself in as ``kit`` (its geometry
model and the drawing of one diagram), so this module does not import it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from .morphism import _is_negative

__all__ = ["layout_product", "SortedGroup", "SORT_COLOURS"]

#: frame colours of sorts 0, 1, … (then repeated), distinct from the block palette's first colours
SORT_COLOURS = ("#4d4d4d", "#1b7837", "#762a83", "#b35806", "#2166ac")
_PAD = 6.0


@dataclass(frozen=True)
class SortedGroup:
    """A product group with its sorts' names as a program declares them (for captions)."""

    group: Any
    sort_names: tuple[str | None, ...]

    @property
    def factors(self) -> tuple[Any, ...]:
        """The product's factors."""
        return self.group.factors


def layout_product(kit: Any, obj: Any, group: Any = None, title: str = "", gap: float | None = None) -> Any:
    """The figure of a product diagram, morphism or layer spec (``group``: its product, for sort names;
    ``kit``: the :mod:`catnn.draw` module)."""
    from .groups.product import ProductDiagram
    sorts = _sort_captions(obj, group)
    if isinstance(obj, ProductDiagram):
        return _layout_parts(kit, obj, sorts, title, gap)
    if hasattr(obj, "terms"):
        return _layout_morphism(kit, obj, sorts, title)
    from .spec import LayerSpec, MixedLayerSpec, NetworkSpec
    if isinstance(obj, MixedLayerSpec):      # one grid per block k -> l, as for one group
        blocks = [_layout_layer(kit, LayerSpec(obj.name, obj.group, None, k, l), sorts, f"block {k} → {l}")
                  for k in obj.in_orders for l in obj.out_orders]
        return kit._stack(blocks, title=title)
    if isinstance(obj, NetworkSpec):
        return kit.layout_network(obj, title)
    return _layout_layer(kit, obj, sorts, title)


def _layout_morphism(kit: Any, m: Any, sorts: list[str], title: str) -> Any:
    """Terms side by side with their exact coefficients (in n_0, n_1, …), as for one group."""
    if m.is_zero():
        return kit._text_figure(f"0 : {m.k} → {m.l}")
    tokens: list[Any] = []
    for i, (d, c) in enumerate(m.terms):
        negative = _is_negative(c)
        c = -c if negative else c
        sign = ("−" if negative else "+") if i else ("−" if negative else "")
        text = sign if c == 1 else (f"{sign} " if sign else "") + kit._coefficient_factor(c)
        if text:
            tokens.append((text, False))
        tokens.append(_layout_parts(kit, d, sorts, "", None))
    return kit._row_of(tokens, title)


def _sort_captions(obj: Any, group: Any) -> list[str]:
    G = group if group is not None and hasattr(group, "factors") else getattr(obj, "group", None)
    factors = getattr(G, "factors", None)
    count = len(factors) if factors else getattr(obj, "sorts", None) or len(obj.k)
    names = getattr(group, "sort_names", None) or (None,) * count
    return [f"{names[s] or f'sort {s}'}: {factors[s]}" if factors else f"sort {s}" for s in range(count)]


def _layout_parts(kit: Any, d: Any, sorts: list[str], title: str, gap: float | None) -> Any:
    parts = [kit.layout_diagram(part, gap=gap if gap is not None else kit.diagram_gap(part)) for part in d.parts]
    size = kit.CAPTION_SIZE
    caption_h = size * 1.8
    widths = [max(f.width, kit.text_width(sorts[s], size)) + 2 * _PAD for s, f in enumerate(parts)]
    height = max(f.height for f in parts) + caption_h + 2 * _PAD
    fig = kit.Figure(sum(widths) + 4 * len(parts), height + 4, title=title, mid_y=(height + caption_h) / 2)
    x = 2.0
    for s, (part, w) in enumerate(zip(parts, widths)):
        colour = SORT_COLOURS[s % len(SORT_COLOURS)]
        fig.add(kit.Box(round(x, 2), 2, round(w, 2), height, fill="none", stroke=colour, stroke_width=1.4, radius=6,
                        dash=(4.0, 3.0) if s % 2 else (), role="sort"))
        fig.place(part, x + (w - part.width) / 2, 2 + caption_h)
        fig.add(kit.Text(round(x + w / 2, 2), 2 + size * 1.3, kit.clean_text(sorts[s]), size, color=colour,
                         italic=True, role="caption"))
        x += w + 4
    return fig


def _layout_layer(kit: Any, spec: Any, sorts: list[str], title: str) -> Any:
    G = spec.group
    limit = kit.MAX_GRID
    if spec.diagrams is not None:
        items, total = list(spec.diagrams)[:limit], len(spec.diagrams)
        what = f"{total} chosen diagram{'s' if total != 1 else ''}"
    else:
        per_sort = [f.iter_spanning_set(a, b) if hasattr(f, "iter_spanning_set") else f.spanning_set(a, b)
                    for f, a, b in zip(G.factors, spec.k, spec.l)]
        from .groups.product import ProductDiagram
        items = [ProductDiagram(parts) for parts in itertools.islice(itertools.product(*map(list, per_sort)), limit)]
        total = G.spanning_count(spec.k, spec.l)
        what = f"{G} spanning set, {total} diagram{'s' if total != 1 else ''}"
    cells = [(_layout_parts(kit, d, sorts, "", None), kit.shorten(f"{i}. {kit.clean_text(d)}", 44))
             for i, d in enumerate(items, 1)]
    return kit._grid(cells, what + (f" (first {limit} shown)" if total > limit else ""), title)
