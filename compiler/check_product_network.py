"""Typed feature spaces, mixed-order layers and networks over a product of groups, in the language.

>>> import catnn
>>> prog = catnn.compile("group points: S x space: O(3)\\n"
...     "layer mix : V(1, 0) + V(1, 1) -> V(1, 0) + V(1, 1)\\n"
...     "layer read : V(0, 0) + V(0, 1) -> V(0, 1)\\n"
...     "network net : V(1, 0) + V(1, 1) -> V(0, 1) = mix[1 -> 8*V(1, 0) + 4*V(1, 1)] >> gate"
...     " >> mean(points) >> read[8*V(0, 0) + 4*V(0, 1) -> 1]")
>>> [(st.name, str(st.out_space)) for st in prog.net.stages]
[('mix', '8*V(1,0) + 4*V(1,1)'), ('gate', '8*V(1,0) + 4*V(1,1)'), ('mean', '8*V(0,0) + 4*V(0,1)'), ('read', '1*V(0,1)')]

A feature space over G_0 × … × G_{r-1} is a sum of typed tensor powers ``4*V(1, 1)`` (one entry per
sort, or by sort name ``V(points: 1)``, the others 0), the spelling of :mod:`catnn.features`. A layer
declares orders only (``layer mix : V(1, 0) + V(1, 1) -> V(1, 1)``: one block per pair of orders, each
the product's full spanning set); a network stage gives channels (``mix[1 -> 8*V(1, 0) + 4*V(1, 1)]``,
a plain width is every order's). Nonlinearities follow the rules of :mod:`catnn.typed` sort by sort,
and ``sum(points)`` / ``mean(0)`` pool over one sort (``sum`` alone: every axis).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from catnn import messages
from catnn.errors import CheckError, CompileError, Span
from catnn.features import FeatureSpace
from catnn.grammar import ast
from catnn.groups.base import MAX_SPANNING
from catnn.spec import MixedLayerSpec, NetworkSpec, Stage

from .check_bilinear import product_pairing_vanishes
from .check_network import POOLS, first_layer, follow_stages, layer_stage, spanning_count_or_none

__all__ = ["check_typed_signature", "check_product_network", "check_sort_stage"]

Order = tuple[int, ...]


# -- layers between typed feature spaces ----------------------------------------------------------------
def check_typed_signature(checker: Any, item: ast.LayerDef) -> Any:
    """``layer NAME : V(1, 0) + V(1, 1) -> V(1, 1)``: a MixedLayerSpec, or a plain layer for one order a side."""
    sig, G = item.arity, checker.group
    if sig.input.kind == "product":
        return _bilinear(checker, item)
    if sig.output.kind == "product":
        raise CheckError(messages.PRODUCT_ONLY_INPUT, sig.output.span)
    sides = []
    for side in (sig.input, sig.output):
        terms = _terms(checker, side)
        for _, channels, span in terms:
            if channels is not None:
                raise CheckError(messages.TYPED_LAYER_CHANNELS.format(name=item.name), span)
        sides.append(tuple(sorted({order for order, _, _ in terms})))
    ins, outs = sides
    if len(ins) == len(outs) == 1:
        k_node, l_node = (_single_orders(side) for side in (sig.input, sig.output))
        return checker.layer(ast.LayerDef(item.name, ast.TypedArity(k_node, l_node, sig.span), item.learn,
                                          item.name_span, item.span))
    if item.learn is not None:
        raise CheckError(messages.MIXED_NO_LEARN.format(name=item.name), item.learn[0].span)
    counts = []
    for k in ins:
        for l in outs:
            count = spanning_count_or_none(G, k, l)
            if count is not None and count > MAX_SPANNING:
                raise CheckError(messages.LIMIT_EXCEEDED.format(
                    what=f"the {G} spanning set for {k} -> {l} ({count} diagrams)", limit=MAX_SPANNING), sig.span)
            counts.append(count)
    if all(c == 0 for c in counts):
        raise CheckError(messages.MIXED_EMPTY.format(group=G, ins=_text(ins), outs=_text(outs)), sig.span)
    return MixedLayerSpec(item.name, G, None, ins, outs, item.span)   # type: ignore[arg-type]


def _bilinear(checker: Any, item: ast.LayerDef) -> Any:
    """``layer q : (1, 1) @ (1, 1) -> (1, 0)`` (or ``outer(...)``): x ⊗ y, then a learnable (a+b) -> l layer."""
    from dataclasses import fields

    from catnn.spec import BilinearLayerSpec
    sig = item.arity
    for term in sig.input.terms:
        if term.orders is None:
            example = ", ".join(["1"] + ["0"] * (len(checker.group.factors) - 1))
            raise CheckError(messages.TYPED_SPACE_NUMBER.format(group=checker.group, example=example,
                                                                order=term.order), term.span)
    a, b = (checker.orders(t.orders) for t in sig.input.terms)
    outs = _terms(checker, sig.output)
    if len({order for order, _, _ in outs}) != 1:
        raise CheckError(messages.BILINEAR_OUTPUT, sig.output.span)
    if outs[0][1] is not None:
        raise CheckError(messages.TYPED_LAYER_CHANNELS.format(name=item.name), outs[0][2])
    span = sig.input.span
    k = ast.Orders(tuple(ast.OrderEntry(None, x + y, span) for x, y in zip(a, b)), span)
    spec = checker.layer(ast.LayerDef(item.name, ast.TypedArity(k, _single_orders(sig.output), sig.span), item.learn,
                                      item.name_span, item.span))
    if a == b and not sig.input.outer and product_pairing_vanishes(checker.group, a, spec.l, spec.diagrams):
        count = len(spec.diagrams) if spec.diagrams is not None else checker.group.spanning_count(spec.k, spec.l)
        raise CheckError(messages.BILINEAR_ZERO.format(group=checker.group, count=count, s="" if count == 1 else "s",
                                                       a=a, l=spec.l), sig.input.span)
    return BilinearLayerSpec(**{f.name: getattr(spec, f.name) for f in fields(spec)} | {"factors": (a, b),
                                                                                      "outer": sig.input.outer})


def _single_orders(side: ast.Space) -> ast.Orders:
    """The ast orders of a side with one typed order (``(1, 0)``, ``V(1, 0)`` or ``V(1, 0) + V(1, 0)``)."""
    return side.terms[0].orders


def _terms(checker: Any, side: ast.Space) -> list[tuple[Order, int | None, Span]]:
    """(typed order, channels or None, span) of each term of a space written over the product."""
    r = len(checker.group.factors)
    example = ", ".join(["1"] + ["0"] * (r - 1))
    if side.kind == "number":
        raise CheckError(messages.TYPED_SPACE_NUMBER.format(group=checker.group, example=example,
                                                            order=side.terms[0].order), side.span)
    if side.kind == "product":
        raise CheckError(messages.PRODUCT_ONLY_INPUT, side.span)
    out = []
    for term in side.terms:
        if term.orders is None:
            written = f"V{term.order}" if term.channels is None else f"{term.channels}*V{term.order}"
            raise CheckError(messages.TYPED_SPACE_TERM.format(group=checker.group, example=example, term=written),
                             term.span)
        if term.channels is not None and term.channels < 1:
            raise CheckError(messages.WIDTH_POSITIVE, term.span)
        out.append((checker.orders(term.orders), term.channels, term.span))
    return out


def _text(orders: tuple[Order, ...]) -> str:
    return " + ".join(f"V({','.join(map(str, k))})" for k in orders)


# -- networks ------------------------------------------------------------------------------------------
def check_product_network(checker: Any, item: ast.NetworkDef) -> NetworkSpec:
    """A ``network`` over the product: stages resolved, typed feature spaces followed stage by stage.

    Errors point at the stage (or pair of stages) at fault: a nonlinearity that breaks one sort's
    symmetry at its name (naming the order and the sort), a layer whose input does not match (naming
    the sort that differs).
    """
    from catnn.typed import check_typed_stage, typed_stage_output   # the rules per sort (imports torch)
    G = checker.group
    (k, ins, in_space), (l, outs, out_space) = (_network_side(checker, side) for side in _sides(checker, item.arity))
    resolved = [_resolve(checker, st) for st in item.stages]
    first = first_layer(item, resolved)
    if first.in_space.orders != ins or (in_space is not None and first.in_space != in_space):
        raise CheckError(messages.NETWORK_SPACE_INPUT.format(name=item.name, k=in_space or k, layer=first.name,
                                                             lk=first.in_space), first.span)

    def stage(r: Stage, flow: FeatureSpace) -> Stage:
        checked = _pool_view(flow, r.sort) if r.kind == "pool" else flow
        try:
            check_typed_stage(G, r.name, checked.orders)
        except CompileError as err:
            raise CheckError(err.message, r.span) from None
        return replace(r, in_space=flow, out_space=typed_stage_output(r.name, flow, r.sort))

    stages, flow, last = follow_stages(resolved, first, lambda a, f, b: _chain(checker, a, f, b), stage)
    if flow.orders != outs or (out_space is not None and flow != out_space):
        raise CheckError(messages.NETWORK_SPACE_OUTPUT.format(name=item.name, l=out_space or l, m=flow), last.span)
    return NetworkSpec(item.name, G, None, k, l, tuple(stages), item.span, first.in_space, flow)  # type: ignore


def _sides(checker: Any, arity: Any) -> tuple[Any, Any]:
    if isinstance(arity, ast.Arity):
        checker.typed_arity(arity)      # plain k -> l: the located "orders are tuples" error
    if isinstance(arity, ast.TypedArity):
        return arity.k, arity.l
    return arity.input, arity.output


def _network_side(checker: Any, side: Any) -> tuple[Any, tuple[Order, ...], FeatureSpace | None]:
    """(the side as text or a typed order, its orders, its space when channels are given)."""
    if isinstance(side, ast.Orders):
        order = checker.orders(side)
        return order, (order,), None
    terms = _terms(checker, side)
    orders = tuple(sorted({order for order, _, _ in terms}))
    if all(channels is None for _, channels, _ in terms):
        return _text(orders), orders, None
    missing = next(((order, span) for order, channels, span in terms if channels is None), None)
    if missing is not None:
        raise CheckError(messages.WIDTH_NEEDS_CHANNELS.format(order=_text((missing[0],))[1:]), missing[1])
    return _text(orders), orders, FeatureSpace([(order, c) for order, c, _ in terms])


def _resolve(checker: Any, st: ast.Stage) -> Stage:
    """A checked stage: a layer with its typed spaces, a nonlinearity, or a pool (with its sort)."""
    entry = checker.env.get(st.name)
    if entry is None or entry.kind != "layer":
        return check_sort_stage(checker, st, entry)
    return layer_stage(checker.group, st, entry.value, lambda st, width, orders: _widths(checker, st, width, orders))


def check_sort_stage(checker: Any, st: ast.Stage, entry: Any) -> Stage:
    """A nonlinearity or pooling stage; ``sum(points)`` / ``mean(0)`` record the sort pooled over."""
    stage = checker.nonlinearity(replace(st, sort=None), entry)
    kind = "pool" if st.name in POOLS else stage.kind
    if st.sort is None:
        return replace(stage, kind=kind)
    if kind != "pool":
        raise CheckError(messages.STAGE_SORT_NOT_POOL.format(name=st.name, sort=st.sort), st.span)
    r = len(checker.group.factors)
    if isinstance(st.sort, int):
        if st.sort >= r:
            raise CheckError(messages.STAGE_SORT_RANGE.format(name=st.name, sort=st.sort, group=checker.group,
                                                              last=r - 1), st.span)
        return replace(stage, kind=kind, sort=st.sort)
    return replace(stage, kind=kind, sort=checker.sort_index(st.sort, st.span))


def _widths(checker: Any, st: ast.Stage, width: Any, orders: tuple[Order, ...]) -> FeatureSpace:
    """One side of a stage's widths: a count for every order, or a typed space with channels."""
    if isinstance(width, int) or width.kind == "number":
        count = width if isinstance(width, int) else width.terms[0].order
        if count < 1:
            raise CheckError(messages.WIDTH_POSITIVE, st.span)
        return FeatureSpace({k: count for k in orders})
    terms = _terms(checker, width)
    for order, channels, span in terms:
        if channels is None:
            raise CheckError(messages.WIDTH_NEEDS_CHANNELS.format(order=_text((order,))[1:]), span)
    features = FeatureSpace([(order, c) for order, c, _ in terms])
    if features.orders != orders:
        raise CheckError(messages.STAGE_WIDTH_ORDERS.format(name=st.name, orders=_text(orders), given=features),
                         width.span)
    return features


def _chain(checker: Any, last: Stage, flow: FeatureSpace, r: Stage) -> None:
    """Refuse a layer whose input does not match the features flowing into it."""
    span = Span(last.span.file, last.span.line, last.span.column, r.span.end_line, r.span.end_column, last.span.text)
    if flow.orders != r.in_space.orders:
        detail = ""
        if flow.is_single and r.in_space.is_single:
            a, b = flow.orders[0], r.in_space.orders[0]
            sort = next(s for s, (x, y) in enumerate(zip(a, b)) if x != y)
            detail = messages.TYPED_STAGE_SORT.format(sort=sort, name=checker.sort_label(sort))
        raise CheckError(messages.TYPED_STAGE_ORDERS.format(right=r.name, rin=_text(r.in_space.orders), left=last.name,
                                                            lout=_text(flow.orders), detail=detail), span)
    if flow != r.in_space:
        raise CheckError(messages.SPACE_MISMATCH.format(what=f"'{r.name}'", expected=r.in_space, got=flow), span)


def _pool_view(features: FeatureSpace, sort: int | None) -> FeatureSpace:
    """What a pool over ``sort`` is checked on: each order with the other sorts set to 0."""
    if sort is None:
        return features
    return FeatureSpace([(tuple(e if s == sort else 0 for s, e in enumerate(k)), c) for k, c in features.items()])
