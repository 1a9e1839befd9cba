"""Compiled modules over a product of groups: morphism functions and layer classes on typed tensors.

>>> import catnn
>>> from catnn.compiler.write import write_module
>>> text = write_module(catnn.compile("group S x O(3)\\nlayer f : (1, 1) -> (1, 1)"))
>>> [line for line in text.splitlines() if line.startswith(("import", "class f"))]
['import torch', 'class f(torch.nn.Module):']

A typed tensor of orders k = (k_0, k_1, …) has k_0 trailing axes of size n_0, then k_1 of size n_1, …
(sort 0's first, :mod:`catnn.groups.product`). Layers take ``(B, C, typed axes)``; morphism functions
take ``(..., typed axes)`` (leading axes are batch axes). Each sort's size is read from an input axis
of that sort, else from the fixed size on the group line, else from ``n=(n_0, n_1, …)``; both
helpers (:data:`TYPED_SIZES_HELPER`, :data:`TYPED_COEFFICIENTS_HELPER`) are pasted into the module
and run in memory too (:func:`typed_sizes`, :func:`typed_values`, used by
:class:`catnn.nn.ProductMorphismFunction` and the layers), so the two agree by construction.
Coefficients stay exact (:class:`~catnn.coeff.MPoly`) until the sizes are known, then are evaluated
with Python integers and rounded once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from catnn.errors import RangeError, ShapeError
from catnn.groups.product import ProductDiagram, ProductGroup

from .pysource import docstring, tuple_source

__all__ = ["write_product_morphism", "write_product_layer", "typed_table", "typed_values", "typed_sizes",
           "TYPED_SIZES_HELPER", "TYPED_COEFFICIENTS_HELPER", "explain_product"]

#: pasted into generated modules over products, and run by the in-memory morphism functions
TYPED_SIZES_HELPER = '''def _rt__typed_sizes(what, x, orders, lead, n, fixed):
    """The size of every sort of a typed input: from x's axes of that sort (sort 0's first, after lead
    leading axes), else n[s] (n None: no sizes given), else the fixed size; a ValueError naming what
    when the axes, n and the fixed sizes disagree or a size is unknown."""
    n = (None,) * len(fixed) if n is None else tuple(n)
    if len(n) != len(fixed):
        raise ValueError(f"{what} needs one size per sort, n=({', '.join(['...'] * len(fixed))}), got n={n}")
    axes = sum(orders)
    if x.ndim < lead + axes:
        raise ValueError(f"{what} expects at least {lead + axes} axes ({lead} leading, then the typed axes of "
                         f"orders {orders}), got shape {tuple(x.shape)}")
    shape, sizes, start = tuple(x.shape[x.ndim - axes:]), [], 0
    for s, k in enumerate(orders):
        seen = set(shape[start:start + k]) | {size for size in (n[s], fixed[s]) if size is not None}
        start += k
        if len(seen) > 1:
            raise ValueError(f"{what}: sort {s} has sizes {sorted(seen)} (its axes in shape {tuple(x.shape)}, "
                             f"n={n}, fixed sizes {fixed}); they must agree")
        if not seen:
            raise ValueError(f"{what} has no input axis of sort {s} to read its size from: pass n=(...) with "
                             f"one size per sort (None where the input has axes)")
        sizes.append(int(seen.pop()))
    return tuple(sizes)
'''

TYPED_COEFFICIENTS_HELPER = '''def _rt__typed_coefficients(what, table, sizes, limit):
    """The polynomials of table at these sizes (one per sort), evaluated exactly (Python integers) and
    rounded once to floats. Each is (denominator, shifts, ((numerator, powers), ...)): the sum of
    numerator * prod(sizes[s] ** powers[s]) over denominator * prod(sizes[s] ** shifts[s]).
    """
    def monomial(powers):
        value = 1
        for size, power in zip(sizes, powers):
            value *= size ** power
        return value

    values = []
    for i, (denominator, shifts, terms) in enumerate(table):
        top = sum(a * monomial(powers) for a, powers in terms)
        bottom = denominator * monomial(shifts)
        if bottom == 0:
            raise ZeroDivisionError(f"{what}: coefficient {i} divides by a size that is 0 at sizes {sizes}")
        value = top / bottom if abs(top) // abs(bottom) <= limit else None
        if value is None or abs(value) > limit:
            raise OverflowError(f"{what}: coefficient {i} is beyond the largest value of the dtype "
                                f"({limit:.4g}) at sizes {sizes}")
        values.append(value)
    return values
'''


def typed_table(polys: Sequence[Any], sorts: int) -> tuple:
    """Exact polynomials in n_0, n_1, … as integer rows for ``_rt__typed_coefficients``.

    >>> from catnn.coeff import MPoly
    >>> typed_table([MPoly.symbol(0) / 2 - MPoly.symbol(1, -1)], 2)
    ((2, (0, 1), ((1, (1, 1)), (-2, (0, 0)))),)
    """
    rows = []
    for poly in polys:
        terms = [(dict(mono), Fraction(c)) for mono, c in poly.terms.items()]
        shifts = tuple(max([0] + [-powers.get(s, 0) for powers, _ in terms]) for s in range(sorts))
        denominator = math.lcm(*(c.denominator for _, c in terms)) if terms else 1
        rows.append((denominator, shifts, tuple((int(c * denominator),
                                                 tuple(powers.get(s, 0) + shifts[s] for s in range(sorts)))
                                                for powers, c in terms)))
    return tuple(rows)


def typed_values(polys: Sequence[Any], sizes: Sequence[int], limit: float, what: str) -> list[float]:
    """The exact values of ``polys`` (in n_0, n_1, …) at ``sizes``, each rounded once, as generated modules
    compute them; a value beyond ``limit`` is a :class:`~catnn.errors.RangeError`.

    >>> from catnn.coeff import MPoly
    >>> typed_values([MPoly.symbol(0) / MPoly.symbol(1)], (3, 4), 1e308, "m")
    [0.75]
    """
    try:
        return _RUNTIME["_rt__typed_coefficients"](what, typed_table(polys, len(sizes)), tuple(sizes), limit)
    except (OverflowError, ZeroDivisionError) as err:
        raise RangeError(str(err)) from None


def typed_sizes(what: str, x: Any, orders: Sequence[int], lead: int, n: Any, fixed: Sequence[int | None]) -> tuple:
    """Each sort's size for a typed input, as generated modules find it (a ShapeError if unknown or inconsistent).

    >>> import torch
    >>> typed_sizes("f", torch.zeros(2, 5, 3), (1, 1), 1, None, (None, 3))
    (5, 3)
    """
    try:
        return _RUNTIME["_rt__typed_sizes"](what, x, tuple(orders), lead, n, tuple(fixed))
    except ValueError as err:
        raise ShapeError(str(err)) from None


def _source(value: Any) -> str:
    """Python source of nested tuples of integers (past 2**64 in hex: any length parses)."""
    if isinstance(value, tuple):
        return f"({', '.join(_source(v) for v in value)}{',' if len(value) == 1 else ''})"
    return str(value) if abs(value) < 2 ** 64 else ("-" if value < 0 else "") + hex(abs(value))


def _helpers() -> dict[str, Any]:
    """The pasted helpers, run in memory (the same code as in a compiled module)."""
    namespace: dict[str, Any] = {}
    exec(TYPED_SIZES_HELPER + "\n\n" + TYPED_COEFFICIENTS_HELPER, namespace)  # noqa: S102 - our own helpers
    return namespace


_RUNTIME = _helpers()


def _axes(orders: Sequence[int], sizes: str) -> str:
    """The typed axes of these orders, spelled ``(sizes[0], sizes[0], sizes[1])``."""
    items = [f"{sizes}[{s}]" for s, k in enumerate(orders) for _ in range(k)]
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def _axes_text(orders: Sequence[int]) -> str:
    return ", ".join(f"n_{s}" for s, k in enumerate(orders) for _ in range(k)) or "no axes"


# -- morphisms ---------------------------------------------------------------------------------------
def write_product_morphism(writer: Any, name: str, value: Any) -> None:
    """``def NAME(x, n=(...))`` applying a product morphism to the trailing typed axes of x."""
    from .plan import build_plan
    G: ProductGroup = writer.group
    m = G.lift(value)
    k, l = m.k, m.l
    plan = build_plan(G, k, l, m.diagrams)
    helper = f"_{name}"
    writer.blocks.append(writer.plan_function(plan, helper, f"The plan of {name}; see {name}()."))
    for source in (TYPED_SIZES_HELPER, TYPED_COEFFICIENTS_HELPER):
        if source not in writer.helpers:
            writer.helpers.append(source)
    torch_backend = writer.backend == "torch"
    finfo = "torch.finfo" if torch_backend else "_rt__xp(x).finfo"
    table = _source(typed_table([c for _, c in m.terms], len(G.factors)))
    values = f"_rt__typed_coefficients({f'morphism {name}'!r}, {table}, sizes, {finfo}(x.dtype).max)"
    weight = f"x.new_tensor({values})" if torch_backend else f"_rt__like({values}, x)"
    doc = "\n\n".join(p for p in (
        f"morphism {name} : {k} -> {l} over {G}: {m}", writer.where(name),
        f"x: (..., {_axes_text(k)}) -> (..., {_axes_text(l)}), a floating tensor; leading axes are batch axes. "
        "A sort without input axes takes its size from n=(n_0, n_1, ...) or the group line.") if p)
    lines = [f"def {name}(x, n=None):", "    " + docstring(doc, "    "),
             f"    sizes = _rt__typed_sizes({f'morphism {name}'!r}, x, {k!r}, 0, n, {tuple(G.ns)!r})",
             f"    lead = tuple(x.shape[:x.ndim - {sum(k)}])",
             f"    weight = {weight}.reshape(-1, 1, 1)  # the coefficients at these sizes",
             f"    flat = x.reshape((-1, 1) + tuple(x.shape[x.ndim - {sum(k)}:]))",
             f"    y = {helper}__plan((flat,), (weight,), (None,), (1,), sizes)[0]",
             f"    return y.reshape(lead + {_axes(l, 'sizes')})"]
    writer.blocks.append("\n".join(lines) + "\n")


# -- layers --------------------------------------------------------------------------------------------
def write_product_layer(writer: Any, name: str, spec: Any) -> None:
    """``class NAME(torch.nn.Module)``: input (B, C_in, typed axes of k) -> (B, C_out, typed axes of l)."""
    from .layer import layer_structure
    G: ProductGroup = writer.group
    structure = layer_structure(G, spec.k, spec.l, spec.diagrams)
    helper = f"_{name}"
    writer.blocks.append(writer.plan_function(structure.plan, helper, f"The plan of layer {name}; see class {name}."))
    if TYPED_SIZES_HELPER not in writer.helpers:
        writer.helpers.append(TYPED_SIZES_HELPER)
    entries = [str(e) for e in structure.entries]
    listing = [f"  weight[{i}]: {text}" for i, text in enumerate(entries)]
    listing += [f"  bias[{j}]: {d}" for j, d in enumerate(structure.plan.bias_diagrams)]
    k, l = spec.k, spec.l
    doc = "\n\n".join(p for p in (
        f"layer {name} : {k} -> {l} over {G}: "
        f"{'the full spanning set' if spec.diagrams is None else 'chosen diagrams'}, {len(entries)} weights.",
        writer.where(name),
        f"Input (B, in_channels, {_axes_text(k)}), output (B, out_channels, {_axes_text(l)}): sort 0's axes first. "
        "A sort without input axes takes its size from the group line or from forward(x, n=(...)). weight[i] "
        f"(out_channels x in_channels) multiplies entry i, bias[j] (out_channels) the 0 -> {l} diagram j:\n"
        + "\n".join(listing)) if p)
    init = tuple_source([repr(float(s)) for s in structure.init_scale()]).replace("'", "")
    nbias = len(structure.plan.bias_diagrams)
    what = f"layer {name}"
    forward = ["    def forward(self, x, n=None):",
               writer.check_input(what, "x", "self.weight"),
               f"        if x.ndim != {sum(k) + 2} or x.shape[1] != self.in_channels:",
               f"            raise ValueError(f'{name} expects input (batch, {{self.in_channels}}, {_axes_text(k)}), "
               "got {tuple(x.shape)}')",
               f"        sizes = _rt__typed_sizes({what!r}, x, self.k, 2, n, self.sizes)"]
    weight = "self.weight"
    if structure.mixing is not None:      # learn(f, ...) with linear combinations: their coefficients at these sizes
        if TYPED_COEFFICIENTS_HELPER not in writer.helpers:
            writer.helpers.append(TYPED_COEFFICIENTS_HELPER)
        table = _source(typed_table([c for row in structure.mixing for c in row], len(G.factors)))
        forward += [f"        mixing = self.weight.new_tensor(_rt__typed_coefficients({what!r}, {table}, sizes, "
                    f"torch.finfo(self.weight.dtype).max)).reshape({len(structure.mixing)}, {len(entries)})",
                    "        weight = torch.einsum('dj,joi->doi', mixing, self.weight)  # diagrams x entries"]
        weight = "weight"
    bias = "None"
    if nbias:
        forward.append(f"        bias = self.weight.new_zeros({nbias}, self.out_channels) if self.bias is None "
                       "else self.bias")
        bias = "bias"
    forward.append(f"        return {helper}__plan((x,), ({weight},), ({bias},), (self.out_channels,), sizes)[0]")
    lines = [f"class {name}(torch.nn.Module):", "    " + docstring(doc, "    "), "",
             f"    k, l, sizes = {k!r}, {l!r}, {tuple(G.ns)!r}",
             f"    diagrams = {tuple_source(entries)}",
             f"    bias_diagrams = {tuple_source([str(d) for d in structure.plan.bias_diagrams])}",
             "    #: weight[i] ~ N(0, init_scale[i]**2 / in_channels): output variance ≈ input variance",
             f"    init_scale = {init}", "", *writer.layer_init(structure), "", *forward]
    writer.blocks.append("\n".join(lines) + "\n")


def explain_product(group: ProductGroup, value: Any, n: int | None, batch: int, channels: int) -> str:
    """The plan of a product layer spec or morphism, costed with every free size at ``n`` (default 16)."""
    from .layer import layer_structure
    from .plan import build_plan
    ns = tuple((n or 16) if fixed is None else fixed for fixed in group.ns)
    if isinstance(value, ProductDiagram):
        value = value.to_morphism()
    if hasattr(value, "terms"):
        m = group.lift(value)
        text = build_plan(group, m.k, m.l, m.diagrams).explain(ns, batch, 1, 1)
    else:
        plan = layer_structure(group, value.k, value.l, value.diagrams).plan
        text = plan.explain(ns, batch, channels, channels)
    head, _, rest = text.partition("\n")     # the plan counts axes; say the typed orders
    return head.replace(f" {sum(value.k)} -> {sum(value.l)},", f" {value.k} -> {value.l},", 1) + "\n" + rest

