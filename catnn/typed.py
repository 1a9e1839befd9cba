"""Typed features over products of groups: sizes per sort, masks on a permutation sort, the
nonlinearity rules per sort, pooling per sort.

>>> import torch, catnn
>>> from catnn.features import space
>>> G = catnn.group("S x O(3)")
>>> feats = {(1, 0): torch.ones(2, 4, 5), (1, 1): torch.ones(2, 3, 5, 3)}
>>> sort_sizes(G, feats, None, "here")                       # n_0 = 5 points, n_1 = 3 (fixed)
(5, 3)
>>> {k: tuple(t.shape) for k, t in pool_sort("sum", feats, 0, None).items()}   # sum over the points
{(0, 0): (2, 4), (0, 1): (2, 3, 3)}
>>> check_typed_stage(G, "relu", space("4*V(1,0) + 3*V(1,1)").orders)
Traceback (most recent call last):
...
catnn.errors.CompileError: 'relu' is not S(n) x O(3)-equivariant on tensors of order (1, 1): it does not commute with O(3) on the 1 axes of sort 1; use gate or norm_relu (norms over the O(3) axes only)

A typed tensor of order k = (k_0, …, k_{r-1}) is ``(B, C, n_0 × k_0 axes, n_1 × k_1 axes, …)``;
features are dicts ``{k: tensor}``. The rules, sort by sort (an element (g_0, …, g_{r-1}) acts on
each axis by its sort's factor, so a map commutes with the product exactly when it commutes with
each factor acting alone on the axes of its sort):

- **pointwise** f is equivariant on order k when every sort s with k_s > 0 allows f on order k_s
  alone (:func:`catnn.compiler.check_network.check_stage`): S_n × O(3) allows relu on (2, 0) but not
  on (1, 1).
- **norms** ``x · f(|x| + b) / |x|`` take |x| over the axes of the *non-permutation* sorts only, one
  norm per entry of the permutation axes (per point): equivariant when each of those sorts preserves
  the Euclidean norm (not Sp(n), not O(p, q)).
- **gates**: channels of order k are gated by a linear map of the channels of order p(k), k with
  every non-permutation sort set to 0 (per point on S_n × O(3): (1, 1) is gated by (1, 0)); the
  gating channels themselves pass through relu. For a single non-permutation sort this is the usual
  gate from invariants.
- **pooling over sort s** (sum or mean over the axes of sort s) maps order k to k with k_s = 0: it is
  invariant under G_s when G_s fixes the all-ones vector (S_n, A_n, B_n, Aut(G)).

Masks: a padded batch on permutation sorts is ``mask={s: (B, N_s) bools}`` (a bare tensor means
sort 0). Inputs are zeroed at padded positions, pools count real entries only, and outputs are zero
at padded positions, so each sample computes exactly as if alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Union

import torch

from . import messages
from .compiler.check_network import NORMS, _no_norms, _pointwise_ok, check_stage, stage_kind
from .errors import CompileError, ShapeError
from .features import FeatureSpace
from .groups.product import ProductGroup

__all__ = ["order_key", "typed_features", "sort_sizes", "sort_masks", "typed_mask", "masked_typed", "check_masks",
           "check_typed_stage", "typed_stage_output", "permutation_sorts", "gated_by", "typed_norm", "typed_gate",
           "pool_sort", "Masks", "typed_single", "sort_counts", "typed_bilinear", "typed_bilinear_plan"]

Order = tuple[int, ...]
Masks = Union[torch.Tensor, Mapping[int, torch.Tensor], None]


# -- orders and sizes -------------------------------------------------------------------------------
def order_key(order: Any) -> str:
    """A parameter name for an order: ``"2"``, or ``"1,0"`` for a typed one.

    >>> order_key((1, 0)), order_key(2)
    ('1,0', '2')
    """
    return ",".join(map(str, order)) if isinstance(order, tuple) else str(order)


def axes_of(order: Order, sort: int) -> tuple[int, ...]:
    """The tensor dimensions (after batch and channel) of ``sort``'s axes in a typed tensor.

    >>> axes_of((2, 1, 1), 1), axes_of((2, 1, 1), 2)
    ((4,), (5,))
    """
    start = 2 + sum(order[:sort])
    return tuple(range(start, start + order[sort]))


def typed_features(x: Any, space: FeatureSpace, what: str) -> dict[Order, torch.Tensor]:
    """``{k: tensor}`` from a dict, or from a tensor when ``space`` has one order."""
    if isinstance(x, torch.Tensor) and space.is_single:
        return {space.orders[0]: x}
    if isinstance(x, dict):
        return dict(x)
    raise ShapeError(messages.FEATURES_INPUT.format(what=what, expected="a dict {typed order: tensor}",
                                                    got=type(x).__name__))


def sort_sizes(group: ProductGroup, feats: Mapping[Order, torch.Tensor] | Iterable[tuple[Order, torch.Tensor]],
               masks: Mapping[int, torch.Tensor] | None, what: str, n: Any = None) -> tuple[int, ...]:
    """Each sort's size: from the axes of that sort (all equal), else its mask, ``n`` or the fixed size.
    ``feats``: {order: tensor}, or (order, tensor) pairs."""
    sizes = []
    pairs = list(feats.items() if isinstance(feats, Mapping) else feats)
    given = tuple(n) if isinstance(n, (tuple, list)) else (None,) * len(group.ns)
    for s, fixed in enumerate(group.ns):
        # sizes as torch gives them, compared one by one (int() or a set would fix a symbolic n)
        seen = [t.shape[a] for k, t in pairs for a in axes_of(k, s)]
        if masks and s in masks:
            seen.append(masks[s].shape[-1])
        if any(v != seen[0] for v in seen[1:]) or (fixed is not None and seen and seen[0] != fixed):
            shapes = [(k, tuple(t.shape)) for k, t in pairs]
            raise ShapeError(messages.TYPED_SIZES.format(what=what, sort=s, sizes=sorted({int(v) for v in seen}),
                                                         shapes=shapes, fixed_note=f" (fixed at {fixed})" if fixed else ""))
        size = seen[0] if seen else fixed if fixed is not None else given[s]
        if size is None:
            example = tuple(None if t != s else 5 for t in range(len(group.ns)))
            raise ShapeError(messages.NEEDS_SORT_SIZE.format(layer=what, sort=s, example=example))
        sizes.append(size if seen or isinstance(size, torch.SymInt) else int(size))  # a symbolic n stays one
    return tuple(sizes)


# -- masks ------------------------------------------------------------------------------------------
def sort_masks(mask: Masks) -> dict[int, torch.Tensor] | None:
    """``{sort: (B, N_s) mask}`` from None, a tensor (sort 0) or a dict."""
    if mask is None:
        return None
    return {0: mask} if isinstance(mask, torch.Tensor) else {int(s): m for s, m in mask.items()}


def typed_mask(masks: Mapping[int, torch.Tensor], order: Order, like: torch.Tensor) -> torch.Tensor:
    """The 0/1 tensor (B, 1, axes...) that is 1 exactly where every masked axis is a real entry."""
    out = like.new_ones((like.shape[0], 1) + (1,) * sum(order))
    for s, m in masks.items():
        for a in axes_of(order, s):
            shape = [m.shape[0], 1] + [1] * sum(order)
            shape[a] = m.shape[1]
            out = out * m.to(like.dtype).reshape(shape)
    return out


def masked_typed(feats: dict[Order, torch.Tensor], masks: Mapping[int, torch.Tensor] | None
                 ) -> dict[Order, torch.Tensor]:
    """Features with every padded entry set to zero."""
    if not masks:
        return feats
    return {k: t * typed_mask(masks, k, t) if any(k[s] for s in masks) else t for k, t in feats.items()}


def check_masks(group: ProductGroup, masks: Mapping[int, torch.Tensor], batch: int | None,
                constant_sorts: Iterable[int], what: str) -> None:
    """Masks only on permutation-like sorts of free size whose diagrams do not depend on n, (B, N_s) booleans."""
    used = set(constant_sorts)
    for s, m in masks.items():
        if not 0 <= s < len(group.factors):
            raise ShapeError(messages.MASK_SORT.format(layer=what, sort=s, group=group, last=len(group.factors) - 1))
        factor = group.factors[s]
        if group.ns[s] is not None:
            raise ShapeError(messages.MASK_FIXED_SORT.format(layer=what, sort=s, factor=factor, n=group.ns[s]))
        if s in used or not factor.is_permutation_group and factor.name not in ("H", "O", "B"):
            raise CompileError(messages.MASK_SORT_GROUP.format(layer=what, sort=s, factor=factor))
        if m.dim() != 2 or (batch is not None and m.shape[0] != batch):
            raise ShapeError(messages.MASK_SHAPE.format(layer=f"{what} (sort {s})", expected=(batch, "N"),
                                                        shape=tuple(m.shape)))


# -- layers -----------------------------------------------------------------------------------------
def check_typed_layer(group: ProductGroup, ins: FeatureSpace, outs: FeatureSpace, what: str) -> None:
    """Typed spaces with one entry per sort."""
    r = len(group.factors)
    for sp in (ins, outs):
        if sp.sorts != r:
            example = ",".join(["1"] + ["0"] * (r - 1))
            raise CompileError(messages.TYPED_SPACE.format(what=what, group=group, r=r, example=example, space=sp))


def typed_linear(layer: Any, x: Any, mask: Masks, n: Any, what: str, check_input: Callable) -> Any:
    """A :class:`~catnn.networks.MixedLinear` over a product on typed features (a tensor when the
    output has one order); ``mask``: {sort: (B, N_s)}; ``n``: sizes of sorts no input axis shows;
    ``check_input``: :func:`catnn.nn.check_input` (passed in: this module is below catnn.nn)."""
    feats = typed_features(x, layer.in_space, what)
    like = next(iter(layer.weight.values()))
    for t in feats.values():
        check_input(t, like, what)
    typed = all(isinstance(k, tuple) and t.dim() == 2 + sum(k) for k, t in feats.items())
    if not typed or set(feats) != set(layer.in_space.orders) or any(   # channels compared as torch gives them
            feats[k].shape[1] != c for k, c in layer.in_space.items()):
        shown = FeatureSpace({k: int(t.shape[1]) for k, t in feats.items()}) if typed else {
            k: tuple(t.shape) for k, t in feats.items()}
        raise ShapeError(messages.SPACE_MISMATCH.format(what=what, expected=layer.in_space, got=shown))
    masks = sort_masks(mask)
    if masks:
        check_masks(layer.group, masks, next(iter(feats.values())).shape[0], layer.plan.constant_sorts, what)
    sizes = sort_sizes(layer.group, feats, masks, what, n)
    feats = masked_typed(feats, masks)
    xs = tuple(feats[k] for k in layer.in_space.orders)
    weights = tuple(layer.weight[layer.key(b)] for b in layer.plan.blocks)
    ys = layer._function.plan_function(xs, weights, layer.biases(), tuple(c for _, c in layer.out_space.items()),
                                       n=sizes, sizes=sort_counts(masks, len(sizes), xs[0]))
    out = masked_typed(dict(zip(layer.out_space.orders, ys)), masks)
    return next(iter(out.values())) if len(out) == 1 else out


def typed_single(layer: Any, x: torch.Tensor, mask: Masks, check_input: Callable, n: Any = None) -> torch.Tensor:
    """An :class:`~catnn.nn.EquivariantLinear` over a product on a padded batch (``mask``: {sort: (B, N_s)})."""
    masks = sort_masks(mask)
    what = layer.label
    check_input(x, layer.weight, what)
    if x.dim() != 2 + sum(layer.k) or x.shape[1] != layer.in_channels:
        raise ShapeError(messages.SPACE_MISMATCH.format(what=what, expected=FeatureSpace({layer.k: layer.in_channels}),
                                                        got=f"shape {tuple(x.shape)}"))
    feats = typed_features(x, FeatureSpace({layer.k: layer.in_channels}), what)
    if masks:
        check_masks(layer.group, masks, x.shape[0], layer.plan.constant_sorts, what)
    sizes = sort_sizes(layer.group, feats, masks, what, n)
    x = masked_typed(feats, masks)[layer.k]
    y = layer._function.plan_function((x,), (layer.effective_weight(sizes),), (layer.bias,), (layer.out_channels,),
                                      n=sizes, sizes=sort_counts(masks, len(sizes), x))[0]
    return masked_typed({layer.l: y}, masks)[layer.l]


def typed_bilinear_plan(group: ProductGroup, a: Order, b: Order, l: Order, outer: bool, diagrams: Any,
                        bias: bool, normalize: bool) -> Any:
    """The plan of x ⊗ y (typed orders a, b; its axes x's then y's) followed by an (a+b) -> l layer."""
    from .compiler.plan import Input, axis_sorts, plan_layer
    source = Input(sum(a) + sum(b), (sum(a), sum(b)), outer, sorts=axis_sorts(a) + axis_sorts(b))
    zero = (0,) * len(group.factors)
    return plan_layer(group, (source,), (sum(l),), {(0, 0): diagrams},
                      (tuple(group.spanning_set(zero, l)) if bias else (),), normalize=normalize,
                      output_sorts=(axis_sorts(l),))


def typed_bilinear(layer: Any, x: torch.Tensor, y: torch.Tensor, mask: Masks, n: Any, what: str,
                   check_input: Callable) -> torch.Tensor:
    """A :class:`~catnn.networks.Bilinear` over a product: x (order a), y (order b), typed."""
    pairs = [(layer.a, x), (layer.b, y)]
    for (order, t), c in zip(pairs, layer.in_channels):
        check_input(t, layer.weight, what)
        if t.dim() != 2 + sum(order) or t.shape[1] != c:
            raise ShapeError(messages.SPACE_MISMATCH.format(what=what, expected=FeatureSpace({order: c}),
                                                            got=f"shape {tuple(t.shape)}"))
    masks = sort_masks(mask)
    if masks:
        check_masks(layer.group, masks, x.shape[0], layer.plan.constant_sorts, what)
    sizes = sort_sizes(layer.group, pairs, masks, what, n)
    x, y = (masked_typed({k: t}, masks)[k] for k, t in pairs)
    out = layer._function.plan_function(((x, y),), (layer.effective_weight(sizes),), (layer.bias,),
                                        (layer.out_channels,), n=sizes, sizes=sort_counts(masks, len(sizes), x))[0]
    return masked_typed({layer.l: out}, masks)[layer.l]


def sort_counts(masks: Mapping[int, torch.Tensor] | None, sorts: int, like: torch.Tensor) -> tuple | None:
    """Per sort, each sample's real size (B,) under its mask (None where unmasked); None without masks."""
    if not masks:
        return None
    return tuple(masks[s].to(like.dtype).sum(1).clamp(min=1) if s in masks else None for s in range(sorts))


# -- the rules per sort -----------------------------------------------------------------------------
def permutation_sorts(group: ProductGroup) -> tuple[bool, ...]:
    """Per sort: does its factor act by permutation matrices (pointwise maps commute with it)?"""
    return tuple(bool(getattr(f, "is_permutation_group", False)) for f in group.factors)


def gated_by(group: ProductGroup, order: Order) -> Order:
    """p(k): the order whose channels gate order k (its non-permutation sorts set to 0)."""
    return tuple(e if perm else 0 for e, perm in zip(order, permutation_sorts(group)))


def check_typed_stage(group: ProductGroup, name: str, orders: Iterable[Order]) -> None:
    """Raise CompileError if stage ``name`` on typed features of these orders breaks one sort's symmetry."""
    orders = tuple(orders)
    kind = stage_kind(name)
    for k in orders:
        if kind == "pointwise":
            bad = [(s, f, e) for s, (f, e) in enumerate(zip(group.factors, k)) if e and not _pointwise_ok(f, name, e)]
            if bad:
                s, f, e = bad[0]
                raise CompileError(messages.TYPED_POINTWISE.format(name=name, group=group, order=k, factor=f,
                                                                   axes=e, sort=s, instead=_instead(f, name)))
        elif kind == "norm":
            for f, e, perm in zip(group.factors, k, permutation_sorts(group)):
                if e and not perm:
                    check_stage(f, name, (e,))
        elif kind == "gate" and gated_by(group, k) != k and gated_by(group, k) not in orders:
            needs = gated_by(group, k)
            raise CompileError(messages.TYPED_GATE.format(order=k, needs=needs, needs_text=order_key(needs)))
        elif kind == "pool":
            for f, e in zip(group.factors, k):
                if e:
                    check_stage(f, name, (e,))


def _instead(factor: Any, name: str) -> str:
    """What to use instead of a pointwise map that one sort's factor refuses."""
    norm = f"norm_{name}" if f"norm_{name}" in NORMS else "norm_relu"
    if _no_norms(factor):
        return "gate (no norm nonlinearity: that sort preserves no positive norm)"
    odd = "an odd function (tanh), " if factor.name == "H" else ""
    return f"{odd}gate or {norm} (norms over the {factor} axes only)"


def typed_stage_output(name: str, features: FeatureSpace, sort: int | None = None) -> FeatureSpace:
    """The features after a stage: pools over ``sort`` set k_sort = 0 (all sorts: order 0), others keep them.

    >>> from catnn.features import space
    >>> str(typed_stage_output("sum", space("2*V(1,0) + 3*V(1,1)"), 0))
    '2*V(0,0) + 3*V(0,1)'
    """
    if stage_kind(name) != "pool":
        return features
    return FeatureSpace([(_pooled(k, sort), c) for k, c in features.items()])


def _pooled(order: Order, sort: int | None) -> Order:
    return tuple(0 if sort is None or s == sort else e for s, e in enumerate(order))


# -- the stages' formulas ---------------------------------------------------------------------------
def typed_norm(function: str, feats: dict[Order, torch.Tensor], bias: Mapping[str, torch.Tensor],
               perm: tuple[bool, ...], eps: float) -> dict[Order, torch.Tensor]:
    """``x · f(|x| + b) / |x|``, |x| over the axes of the non-permutation sorts (``f(x)`` where there are none)."""
    from .stages import FUNCTIONS
    act, out = FUNCTIONS[function], {}
    for k, t in feats.items():
        dims = tuple(a for s, p in enumerate(perm) if not p for a in axes_of(k, s))
        if not dims:
            out[k] = act(t)
            continue
        r = torch.sqrt(t.pow(2).sum(dims, keepdim=True) + eps)
        b = bias[order_key(k)].reshape((1, -1) + (1,) * sum(k))
        out[k] = t * (act(r + b) / r)
    return out


def typed_gate(feats: dict[Order, torch.Tensor], weights: Mapping[str, torch.Tensor],
               biases: Mapping[str, torch.Tensor], perm: tuple[bool, ...]) -> dict[Order, torch.Tensor]:
    """Each order k != p(k) times sigmoid(W_k s + b_k), s the channels of order p(k) (broadcast over
    k's non-permutation axes); the gating orders (k == p(k)) through relu."""
    out = {}
    for k, t in feats.items():
        p = tuple(e if q else 0 for e, q in zip(k, perm))
        if p == k:
            out[k] = torch.relu(t)
            continue
        s = feats[p]
        g = torch.sigmoid(torch.einsum("oi,bi...->bo...", weights[order_key(k)], s)
                          + biases[order_key(k)].reshape((1, -1) + (1,) * sum(p)))
        shape = [g.shape[0], g.shape[1]] + [1] * sum(k)
        for sort, q in enumerate(perm):
            if q:
                for a, b in zip(axes_of(k, sort), axes_of(p, sort)):
                    shape[a] = g.shape[b]
        out[k] = t * g.reshape(shape)
    return out


def pool_sort(name: str, feats: dict[Order, torch.Tensor], sort: int | None,
              masks: Mapping[int, torch.Tensor] | None) -> dict[Order, torch.Tensor]:
    """``sum`` or ``mean`` over the axes of ``sort`` (None: every sort); orders that meet add their
    channels (concatenated, orders ascending). ``mean`` divides by n_s^{k_s}, each sample's own n_s
    under a mask (at least 1: an empty sample's means are 0)."""
    parts: dict[Order, list[torch.Tensor]] = {}
    for k in sorted(feats):   # the orders alone: dynamo sorts no (order, tensor) pairs
        t = feats[k]
        if masks:
            t = t * typed_mask(masks, k, t) if any(k[s] for s in masks) else t
        sorts = range(len(k)) if sort is None else (sort,)
        dims = tuple(a for s in sorts for a in axes_of(k, s))
        total = t.sum(dims) if dims else t
        if name == "mean":
            for s in sorts:
                if k[s]:
                    total = total / _count(masks, s, t.shape[axes_of(k, s)[0]], total) ** k[s]
        parts.setdefault(_pooled(k, sort), []).append(total)
    return {k: torch.cat(ts, 1) for k, ts in parts.items()}


def _count(masks: Mapping[int, torch.Tensor] | None, sort: int, size: int, like: torch.Tensor) -> Any:
    """n_s as torch gives it (a traced size under torch.jit.trace: ``float()`` would fix the trace's n),
    or each sample's own count under a mask on that sort, shaped to divide ``like``."""
    if masks and sort in masks:
        return masks[sort].to(like.dtype).sum(1).clamp(min=1).reshape((-1,) + (1,) * (like.dim() - 1))
    return size
