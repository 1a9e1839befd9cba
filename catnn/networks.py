"""Whole equivariant networks: mixed-order and bilinear layers, safe nonlinearities, pooling, masks.

>>> import torch, catnn
>>> from catnn.features import space
>>> from catnn.nn import EquivariantLinear
>>> net = Network("O", [EquivariantLinear("O", 1, 1, 3, 8), NormNonlinearity("norm_relu", "O", space("8*V1")),
...                     Bilinear("O", 1, 1, 0, 8, 4)])
>>> net(torch.randn(5, 3, 7)).shape                  # 5 samples, 3 vectors each in R^7 -> 4 invariants
torch.Size([5, 4])
>>> Pointwise("relu", "O", space("8*V1"))
Traceback (most recent call last):
...
catnn.errors.CompileError: 'relu' is not O(n)-equivariant on tensors of order 1: use gate or norm_relu

**Features.** A batch of features of one tensor order k is a tensor ``(B, C, n, ..., n)`` (k axes);
a mixed batch (a :class:`~catnn.features.FeatureSpace` with several orders) is a dict
``{k: tensor}``. Every module here takes either and returns a tensor when its output space has one
order, else a dict.

**Stages.** :class:`MixedLinear` (a layer between feature spaces, one plan for all its blocks),
:class:`Bilinear` (``x ⊗ y`` then an (a+b) -> l layer, the product never formed where a diagram
contracts it), :class:`Pointwise`, :class:`NormNonlinearity` and :class:`Gate` (the rules of
:mod:`catnn.compiler.check_network`: constructing a stage that would break the group's equivariance
raises :class:`~catnn.errors.CompileError`), :class:`Pool` (sum or mean of all entries) and
:class:`~catnn.nn.EquivariantLinear`; :class:`Network` chains them and checks that the feature
spaces fit.

**Masks.** Padded batches of graphs of different sizes: ``x`` is ``(B, C, N, ..., N)`` with the
real nodes first and a node mask ``mask`` (B, N) of bools. Every module takes ``mask=``: inputs are
zeroed at padded positions, sums run over real nodes only, ``normalize=True`` and ``mean`` divide
by each graph's own n, and outputs are zero at padded positions, so each graph's result equals
running it alone. Masks need layers whose diagrams do not depend on n (S_n, O(n), H_n, B_n).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from . import messages
from .compiler.backends import emit, emitter
from .compiler.plan import Input, build_mixed_plan
from .compiler.check_network import POINTWISE, check_stage, norm_function, stage_kind, stage_output
from .errors import CatnnError, CompileError
from .features import FeatureSpace, space
from .groups import Group
from .stages import FUNCTIONS, gate, node_mask, norm_nonlinearity, pointwise, pool
from .stages import masked as _masked
from .masks import Features, _check_mask, _check_space, _features, _mask_plan_ok, _result, _size, _sizes, masked_linear
from .nn import EquivariantLinear, ShapeError, _PlanModule, _resolve_group, check_input, diagram_weights
from .groups.product import ProductGroup
from .typed import (check_masks, check_typed_layer, check_typed_stage, gated_by, masked_typed, order_key,
                    permutation_sorts, pool_sort, sort_masks, sort_sizes, typed_bilinear, typed_bilinear_plan,
                    typed_gate, typed_linear, typed_norm, typed_single, typed_stage_output)

__all__ = ["Network", "EquivariantNetwork", "MixedLinear", "Bilinear", "Pointwise", "NormNonlinearity", "Gate",
           "Pool", "stage", "masked_linear", "node_mask", "FUNCTIONS"]

#: added under the square root of a norm, so that its gradient exists at 0
NORM_EPS = 1e-12


class MixedLinear(_PlanModule):
    """A G-equivariant linear layer between feature spaces ``Σ_i C_i V^{k_i} → Σ_j D_j V^{l_j}``.

    >>> layer = MixedLinear("S", "4*V0 + 2*V2", "3*V1 + 5*V2")
    >>> y = layer({0: torch.randn(6, 4), 2: torch.randn(6, 2, 9, 9)})
    >>> {k: tuple(t.shape) for k, t in y.items()}, sorted(layer.weight)
    ({1: (6, 3, 9), 2: (6, 5, 9, 9)}, ['0_1', '0_2', '2_1', '2_2'])

    Over a product of groups the orders are typed (one entry per sort, :mod:`catnn.typed`), e.g.
    the weights and biases of an MLP 1 -> h1 -> h2 -> 1 under S_{h1} × S_{h2} (hidden neurons
    permuted): W1, b1: (1,0); W2: (1,1); b2, W3: (0,1); b3: (0,0):

    >>> mlp = "2*V(1,0) + V(1,1) + 2*V(0,1) + V(0,0)"
    >>> layer = MixedLinear("S x S", mlp, mlp)
    >>> y = layer({(1, 0): torch.randn(6, 2, 16), (1, 1): torch.randn(6, 1, 16, 8),
    ...            (0, 1): torch.randn(6, 2, 8), (0, 0): torch.randn(6, 1)})
    >>> {k: tuple(t.shape) for k, t in y.items()}[(1, 1)], layer.weight["1,1_1,1"].shape
    ((6, 1, 16, 8), torch.Size([4, 1, 1]))

    ``weight["k_l"]`` (diagrams, D_l, C_k) holds the block from order k to order l (the group's
    spanning set; blocks without diagrams, e.g. O(n) between orders of different parity, are left
    out), ``bias["l"]`` (bias diagrams, D_l) the 0 -> l diagrams of output l. All blocks run as one
    plan (:mod:`catnn.compiler.plan`): cores of each input order shared by every output order,
    channel mixing of all input orders that write through one output pattern in one matmul.
    Initialisation: each block by the rule of :mod:`catnn.nn`, scaled by 1/sqrt(blocks into l).
    Typed keys are ``"1,0_1,1"`` (weights) and ``"1,1"`` (biases); ``mask={sort: (B, N_s)}`` pads
    permutation sorts; ``n=(n_0, n_1, ...)`` gives the sizes of sorts that no input axis shows.
    """

    def __init__(self, group: str | Group, in_space: Any, out_space: Any, *, n: int | None = None,
                 bias: bool = True, normalize: bool = False, backend: str = "torch", init_n: int = 16) -> None:
        super().__init__()
        self.group = _resolve_group(group, n)
        self.in_space, self.out_space = space(in_space), space(out_space)
        if isinstance(self.group, ProductGroup):
            check_typed_layer(self.group, self.in_space, self.out_space, "MixedLinear")
        emitter(backend)  # unknown backends are a CompileError naming the known ones
        self.normalize, self.backend, self.init_n, self.use_bias = bool(normalize), backend, int(init_n), bool(bias)
        self._build()
        if not self.plan.blocks:
            raise CompileError(messages.MIXED_EMPTY.format(group=self.group, ins=self.in_space, outs=self.out_space))
        ins, outs = self.in_space.items(), self.out_space.items()
        self.weight = nn.ParameterDict({
            self.key(b): nn.Parameter(torch.empty(len(b.diagrams), outs[b.output][1], ins[b.input][1]))
            for b in self.plan.blocks})
        self.bias = nn.ParameterDict({
            order_key(outs[j][0]): nn.Parameter(torch.zeros(len(s.bias_diagrams), outs[j][1]))
            for j, s in enumerate(self.plan.sections) if s.bias_diagrams})
        self.reset_parameters()

    def _build(self) -> None:
        self.plan = build_mixed_plan(self.group, self.in_space.orders, self.out_space.orders, bias=self.use_bias,
                                     normalize=self.normalize)
        self._function = emit(self.plan, "mixed_layer", self.backend)

    def key(self, block: Any) -> str:
        """The name of a block's weight: ``"k_l"`` (typed: ``"1,0_1,1"``)."""
        return f"{order_key(self.in_space.orders[block.input])}_{order_key(self.out_space.orders[block.output])}"

    @property
    def source(self) -> str:
        """The emitted Python source this layer runs."""
        return self._function.source

    def reset_parameters(self) -> None:
        """Each block N(0, s²) by the rule of :mod:`catnn.nn`, divided by sqrt(blocks into its output)."""
        from .compiler.layer import layer_structure
        fan = {j: sum(1 for b in self.plan.blocks if b.output == j) for j in range(len(self.out_space))}
        with torch.no_grad():
            for b in self.plan.blocks:
                k, l = self.in_space.orders[b.input], self.out_space.orders[b.output]
                cin = self.in_space[k]
                scales = layer_structure(self.group, k, l, b.diagrams, bias=False,
                                         normalize=self.normalize).init_scale(self.init_n)
                for i, s in enumerate(scales):
                    self.weight[self.key(b)][i].normal_(0.0, s / math.sqrt(cin * fan[b.output]))
            for p in self.bias.values():
                p.zero_()

    def forward(self, x: Features, mask: torch.Tensor | None = None, n: int | None = None) -> Features:
        """Features of ``in_space`` -> features of ``out_space``; ``n`` only matters without input axes."""
        what = f"MixedLinear({self.group} {self.in_space} -> {self.out_space})"
        if isinstance(self.group, ProductGroup):
            return typed_linear(self, x, mask, n, what, check_input)
        feats = _features(x, what)
        for t in feats.values():
            check_input(t, next(iter(self.weight.values())), what)
        _check_space(feats, self.in_space, what)
        if mask is not None:
            _mask_plan_ok(what, self.group, self.plan.constants, mask)
            _check_mask(mask, feats, what)
            feats = _masked(feats, mask)
        n = _size(feats, mask, self.group, what) if n is None or any(feats) or mask is not None else n
        if self.group.n is not None and n != self.group.n:
            raise ShapeError(messages.BAD_INPUT_N.format(layer=what, n=self.group.n, got=n))
        xs = tuple(feats[k] for k in self.in_space.orders)
        weights = tuple(self.weight[self.key(b)] for b in self.plan.blocks)
        biases = self.biases()
        ys = self._function.plan_function(xs, weights, biases, tuple(c for _, c in self.out_space.items()), n=n,
                            sizes=_sizes(mask, xs[0]))
        out = dict(zip(self.out_space.orders, ys))
        return _result(_masked(out, mask))

    def biases(self) -> tuple[torch.Tensor | None, ...]:
        """Each output's bias (None where it has no bias diagrams), in plan order."""
        return tuple(self.bias[order_key(k)] if s.bias_diagrams else None
                     for k, s in zip(self.out_space.orders, self.plan.sections))

    def extra_repr(self) -> str:
        return (f"{self.group}, {self.in_space} -> {self.out_space}, blocks={len(self.plan.blocks)}, "
                f"normalize={self.normalize}, backend={self.backend!r}")


class Bilinear(_PlanModule):
    """``x ⊗ y`` (orders a and b) followed by a learnable (a+b) -> l layer; y defaults to x.

    >>> layer = Bilinear("O", 1, 1, 2, in_channels=4, out_channels=3)    # O(n): vectors to matrices
    >>> layer(torch.randn(2, 4, 5)).shape
    torch.Size([2, 3, 5, 5])

    ``channels="pair"`` (default) multiplies channel c of x with channel c of y (``in_channels``
    each); ``channels="outer"`` takes every pair (``in_channels=(C_x, C_y)``, C_x·C_y products,
    channel c·C_y + d). The (a+b) -> l layer is the group's spanning set (or ``diagrams``) with
    weights ``(diagrams, out_channels, products)``; it is planned like any layer with the product as
    input, except that each core is one einsum over x and y (:mod:`catnn.compiler.plan`): a diagram
    whose blocks join x's and y's axes contracts them pairwise, so x ⊗ y is never formed for it.
    """

    def __init__(self, group: str | Group, a: int, b: int, l: int, in_channels: int | tuple[int, int],
                 out_channels: int, *, channels: str = "pair", n: int | None = None, bias: bool = True,
                 normalize: bool = False, backend: str = "torch", diagrams: Any = None, init_n: int = 16) -> None:
        super().__init__()
        from .compiler.layer import layer_structure
        self.group = _resolve_group(group, n)
        if channels not in ("pair", "outer"):
            raise CatnnError(messages.BAD_CHANNEL_MODE.format(mode=channels))
        pair = (in_channels, in_channels) if isinstance(in_channels, int) else tuple(in_channels)
        if channels == "pair" and pair[0] != pair[1]:
            raise CatnnError(messages.BILINEAR_CHANNELS.format(a=pair[0], b=pair[1]))
        products = pair[0] * pair[1] if channels == "outer" else pair[0]
        if isinstance(self.group, ProductGroup):   # typed orders: one entry per sort
            (a, b), l = self.group.check_orders(a, b), self.group.check_orders(l, l)[0]
        self.a, self.b, self.l, self.channels, self.in_channels = a, b, l, channels, pair
        self.out_channels, self.backend, self.normalize = out_channels, backend, bool(normalize)
        emitter(backend)  # unknown backends are a CompileError naming the known ones
        ab = tuple(x + y for x, y in zip(a, b)) if isinstance(self.group, ProductGroup) else a + b
        self.structure = layer_structure(self.group, ab, l, diagrams, bias=bias, normalize=normalize)
        self._build()
        self.weight = nn.Parameter(torch.empty(len(self.structure.entries), out_channels, products))
        nbias = len(self.plan.sections[0].bias_diagrams)
        self.bias = nn.Parameter(torch.zeros(nbias, out_channels)) if nbias else None
        scales = self.structure.init_scale(init_n)
        with torch.no_grad():
            for i, s in enumerate(scales):
                self.weight[i].normal_(0.0, s / math.sqrt(products))

    def _build(self) -> None:
        s = self.structure
        if isinstance(self.group, ProductGroup):
            self.plan = typed_bilinear_plan(self.group, self.a, self.b, self.l, self.channels == "outer",
                                            s.plan.diagrams, bool(s.plan.bias_diagrams), s.normalize)
            self._function = emit(self.plan, "bilinear", self.backend)
            return
        source = Input(self.a + self.b, (self.a, self.b), self.channels == "outer")
        self.plan = build_mixed_plan(self.group, (source,), (self.l,), diagrams={(0, 0): s.plan.diagrams},
                                     bias=bool(s.plan.bias_diagrams), normalize=s.normalize)
        self._function = emit(self.plan, "bilinear", self.backend)

    @property
    def source(self) -> str:
        return self._function.source

    def effective_weight(self, n: int) -> torch.Tensor:
        """Per-diagram weights (learnable morphisms expanded at size n)."""
        return diagram_weights(self.weight, self.structure.mixing, n,
                               what=f"Bilinear({self.group} {self.a} @ {self.b} -> {self.l})")

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                n: int | None = None) -> torch.Tensor:
        what = f"Bilinear({self.group} {self.a} @ {self.b} -> {self.l})"
        y = x.view_as(x) if y is None else y   # a tensor of its own: torch.compile refuses one tensor passed twice
        if isinstance(self.group, ProductGroup):
            return typed_bilinear(self, x, y, mask, n, what, check_input)
        for t in (x, y):
            check_input(t, self.weight, what)
        for t, order, c in ((x, self.a, self.in_channels[0]), (y, self.b, self.in_channels[1])):
            if t.dim() != order + 2 or t.shape[1] != c:
                raise ShapeError(messages.SPACE_MISMATCH.format(what=what, expected=FeatureSpace({order: c}),
                                                                got=f"shape {tuple(t.shape)}"))
        feats = {0: x} if not self.a else {}
        feats.update({k: t for k, t in ((self.a, x), (self.b, y)) if k})
        if mask is not None:
            _mask_plan_ok(what, self.group, self.plan.constants, mask)
            _check_mask(mask, feats, what)
            x, y = (t * node_mask(mask, k, t) if k else t for t, k in ((x, self.a), (y, self.b)))
        n = _size(feats, mask, self.group, what) if n is None or self.a or self.b or mask is not None else n
        out = self._function.plan_function(((x, y),), (self.effective_weight(n),), (self.bias,),
                                           (self.out_channels,), n=n, sizes=_sizes(mask, x))[0]
        return out * node_mask(mask, self.l, out) if mask is not None and self.l else out

    def extra_repr(self) -> str:
        return (f"{self.group} {self.a} @ {self.b} -> {self.l}, in_channels={self.in_channels}, "
                f"out_channels={self.out_channels}, channels={self.channels!r}, diagrams={len(self.structure.entries)}")


# -- nonlinearities and pooling -------------------------------------------------------------------
class _Stage(nn.Module):
    """A parameter-light stage with a name, checked against a group and a feature space."""

    def __init__(self, name: str, group: str | Group | None, features: Any) -> None:
        super().__init__()
        self.name = name
        self.group = None if group is None else _resolve_group(group, None)
        self.features = None if features is None else space(features)
        if self.group is None and self.features is not None and self.features.sorts and stage_kind(name) in (
                "norm", "gate"):
            raise CompileError(messages.TYPED_STAGE_GROUP.format(what=name))
        if self.group is not None and self.features is not None:
            _check_stage(self.group, name, self.features.orders)

    def extra_repr(self) -> str:
        return self.name + ("" if self.features is None else f", {self.features}")


class Pointwise(_Stage):
    """A map applied entry by entry (relu, gelu, ...); refused where it breaks equivariance.

    Without a group it is not checked (a :class:`Network` checks it against its own group).
    """

    def __init__(self, name: str, group: str | Group | None = None, features: Any = None) -> None:
        if name not in POINTWISE:
            stage_kind(name)  # unknown names raise
            raise CatnnError(messages.UNKNOWN_NONLINEARITY.format(name=name, known=", ".join(POINTWISE)))
        super().__init__(name, group, features)

    def forward(self, x: Features, mask: torch.Tensor | None = None) -> Features:
        return _result(_masked_any(pointwise(self.name, _features_any(x, self.features, self.name)), mask))


class NormNonlinearity(_Stage):
    """``x · f(|x| + b) / |x|`` per channel of order >= 1 (|x|: norm over the tensor axes); f(x) on order 0.

    >>> act = NormNonlinearity("norm_relu", "O", "2*V0 + 3*V2")
    >>> sorted(act.bias), act.bias["2"].shape
    (['2'], torch.Size([3]))

    ``bias[str(k)]`` holds b, one per channel of order k (initialised to zero, where norm_relu is
    the identity on tensors). Equivariant for subgroups of O(n); refused for Sp(n). Over a product
    (typed orders) |x| runs over the axes of the non-permutation sorts only (:mod:`catnn.typed`):
    one norm per point on S_n × O(3), ``bias["1,1"]``.
    """

    def __init__(self, name: str, group: str | Group | None, features: Any) -> None:
        if stage_kind(name) != "norm":
            raise CatnnError(messages.UNKNOWN_NONLINEARITY.format(name=name, known="norm_relu, norm_gelu, ..."))
        super().__init__(name, group, features)
        normed = [k for k in self.features.orders if _normed(self.group, k)]
        self.bias = nn.ParameterDict({order_key(k): nn.Parameter(torch.zeros(self.features[k])) for k in normed})

    def forward(self, x: Features, mask: torch.Tensor | None = None) -> Features:
        feats = _features_any(x, self.features, self.name)
        if isinstance(self.group, ProductGroup):
            out = typed_norm(norm_function(self.name), feats, self.bias, permutation_sorts(self.group), NORM_EPS)
        else:
            out = norm_nonlinearity(norm_function(self.name), feats, self.bias, NORM_EPS)
        return _result(_masked_any(out, mask))


class Gate(_Stage):
    """Order-0 channels s gate the others: ``y_c = x_c · sigmoid((W s + b)_c)``, and ``s -> relu(s)``.

    >>> gate = Gate("SO(3)", "4*V0 + 2*V1 + 1*V2")
    >>> gate.weight.shape, gate.bias.shape            # 3 gated channels from 4 scalars
    (torch.Size([3, 4]), torch.Size([3]))

    Gated channels are ordered by tensor order, then channel. Equivariant for every group, Sp(n)
    included: the gates are invariant. Needs order-0 channels. Over a product, order k is gated by
    the channels of order p(k) (its non-permutation sorts set to 0: per point on S_n × O(3),
    :mod:`catnn.typed`), with ``weight[key(k)]``, ``bias[key(k)]`` per gated order.
    """

    def __init__(self, group: str | Group | None, features: Any) -> None:
        super().__init__("gate", group, features)
        if isinstance(self.group, ProductGroup):
            self._typed_parameters()
            return
        if 0 not in self.features:   # without a group to check against, the rule still holds
            check_stage(_resolve_group("O", None), "gate", self.features.orders)
        scalars, gated = self.features[0], self.features.total - self.features[0]
        self.weight = nn.Parameter(torch.randn(gated, scalars) / math.sqrt(scalars))
        self.bias = nn.Parameter(torch.zeros(gated))

    def _typed_parameters(self) -> None:
        """Over a product: ``weight[key(k)]`` (C_k, C_p(k)) and ``bias[key(k)]`` per gated order k."""
        gated = [k for k in self.features.orders if gated_by(self.group, k) != k]
        self.weight = nn.ParameterDict({order_key(k): nn.Parameter(
            torch.randn(self.features[k], self.features[gated_by(self.group, k)])
            / math.sqrt(self.features[gated_by(self.group, k)])) for k in gated})
        self.bias = nn.ParameterDict({order_key(k): nn.Parameter(torch.zeros(self.features[k])) for k in gated})

    def forward(self, x: Features, mask: torch.Tensor | None = None) -> Features:
        feats = _features_any(x, self.features, "gate")
        _check_space(feats, self.features, "gate")
        if isinstance(self.group, ProductGroup):
            return _result(_masked_any(typed_gate(feats, self.weight, self.bias, permutation_sorts(self.group)), mask))
        return _result(_masked(gate(feats, self.weight, self.bias, dict(self.features.items())), mask))


class Pool(_Stage):
    """``sum`` or ``mean`` of every entry of each order: order-0 channels (orders ascending).

    >>> Pool("mean")({1: torch.ones(2, 3, 5), 2: torch.ones(2, 1, 5, 5)}).shape
    torch.Size([2, 4])

    ``mean`` divides order k by n^k (with a mask: each graph's own n). Invariant only for groups
    that fix the all-ones vector (S_n, A_n, B_n, Aut(G)); learned readouts are k -> 0 layers.

    Over a product, ``sort=s`` pools the axes of sort s only (k -> k with k_s = 0; orders that meet
    concatenate their channels), e.g. a sum over the points of S_n × O(3) features:

    >>> Pool("sum", "S x O(3)", "2*V(1,0) + V(1,1)", sort=0)({(1, 0): torch.ones(1, 2, 5),
    ...                                                       (1, 1): torch.ones(1, 1, 5, 3)})[(0, 1)].shape
    torch.Size([1, 1, 3])

    ``sort=None`` pools every axis (order (0, …, 0)); only sorts with axes need to fix the all-ones vector.
    """

    def __init__(self, name: str, group: str | Group | None = None, features: Any = None,
                 sort: int | None = None) -> None:
        if stage_kind(name) != "pool":
            raise CatnnError(messages.UNKNOWN_NONLINEARITY.format(name=name, known="sum, mean"))
        self.sort = sort
        super().__init__(name, group, None if features is None else _pooled_features(space(features), sort))
        self.features = None if features is None else space(features)
        sorts = len(self.group.factors) if isinstance(self.group, ProductGroup) else self.features and self.features.sorts
        if sort is not None and (self.group is not None or self.features is not None) and not (
                isinstance(sort, int) and 0 <= sort < (sorts or 0)):
            raise CompileError(messages.POOL_SORT.format(name=name, sort=sort, group=self.group or self.features))

    def forward(self, x: Features, mask: torch.Tensor | None = None) -> Features:
        feats = _features_any(x, self.features, self.name)
        if feats and isinstance(next(iter(feats)), tuple):
            out = pool_sort(self.name, feats, self.sort, sort_masks(mask))
            return _result(out) if self.sort is not None else next(iter(out.values()))
        return pool(self.name, feats, mask)


def stage(name: str, group: str | Group, features: Any, sort: int | None = None) -> nn.Module:
    """The nonlinearity or pooling stage called ``name`` for ``features``, checked for ``group``;
    ``sort``: the sort a pool runs over (products of groups).

    >>> type(stage("norm_silu", "O", "3*V1")).__name__, stage("mean", "S", "3*V1 + 2*V2").features
    ('NormNonlinearity', space('3*V1 + 2*V2'))
    >>> stage("sum", "S x O(3)", "V(1,1)", sort=0).sort
    0
    """
    kind = stage_kind(name)
    if kind == "pointwise":
        return Pointwise(name, group, features)
    if kind == "norm":
        return NormNonlinearity(name, group, features)
    if kind == "gate":
        return Gate(group, features)
    return Pool(name, group, features, sort=sort)


# -- networks -----------------------------------------------------------------------------------------
class Network(nn.Module):
    """Stages applied in order, their feature spaces checked to fit; ``forward(x, mask=None)``.

    ``stages`` are :class:`~catnn.nn.EquivariantLinear`, :class:`MixedLinear`, :class:`Bilinear`
    (applied to the order-a and order-b parts of its input, or to x twice), :class:`Pointwise`,
    :class:`NormNonlinearity`, :class:`Gate` and :class:`Pool` modules. Stages built without a
    group are checked against the network's. Build one from the language with
    ``catnn.compile(text).nn.NAME()`` (or :meth:`from_spec`).
    """

    def __init__(self, group: str | Group, stages: list[nn.Module]) -> None:
        super().__init__()
        self.group = _resolve_group(group, None)
        self.stages = nn.ModuleList(stages)
        self.spaces = self._spaces()

    @classmethod
    def from_spec(cls, spec: Any, layers: dict[str, Any] | None = None, **options: Any) -> Network:
        """The network a checked ``network`` declaration (:class:`~catnn.spec.NetworkSpec`) describes.

        ``options`` (``backend``, ``normalize``, ``bias``, ``init_n``) go to every layer.
        """
        from .groups import group as make_group
        G = make_group(spec.group, n=spec.n)
        return cls(G, _stages_from_spec(G, spec, layers or {}, options))

    def _spaces(self) -> list[FeatureSpace]:
        """The feature space before each stage and after the last; checks each stage against the group."""
        layers = [s for s in self.stages if _in_space(s) is not None]
        if not layers:
            raise CatnnError(messages.NETWORK_NO_LAYER.format(name=type(self).__name__))
        flow = _in_space(layers[0])
        spaces = [flow]
        for i, s in enumerate(self.stages):
            expected = _in_space(s)
            if expected is not None and not _accepts(s, flow):
                raise ShapeError(messages.SPACE_MISMATCH.format(what=f"stage {i} ({type(s).__name__})",
                                                                expected=expected, got=flow))
            if isinstance(s, _Stage):
                if isinstance(self.group, ProductGroup):
                    _adopt(s, self.group, flow, i)
                    flow = typed_stage_output(s.name, flow, getattr(s, "sort", None))
                    spaces.append(flow)
                    continue
                check_stage(self.group, s.name, flow.orders)
                flow = stage_output(s.name, flow)
            else:
                flow = _out_space(s)
            spaces.append(flow)
        return spaces

    @property
    def in_space(self) -> FeatureSpace:
        return self.spaces[0]

    @property
    def out_space(self) -> FeatureSpace:
        return self.spaces[-1]

    def forward(self, x: Features, mask: torch.Tensor | None = None, n: int | None = None) -> Features:
        """The network on x (a tensor, or a dict {order: tensor}); ``mask``: (B, n) node mask of a
        padded batch; ``n``: the size, needed only when no input has axes and there is no mask."""
        if isinstance(self.group, ProductGroup):
            return _typed_forward(self, x, mask, n)
        feats = _features(x, "network")
        _check_space(feats, self.in_space, "the network")
        if mask is not None:
            _check_mask(mask, feats, "the network")
            feats = _masked(feats, mask)
        n = next((t.shape[-1] for k, t in feats.items() if k), n if mask is None else mask.shape[1])
        for s, after in zip(self.stages, self.spaces[1:]):
            feats = _run(s, feats, mask, after, n)
        return _result(feats)


class EquivariantNetwork(Network):
    """A program's ``network`` declaration as a module: ``EquivariantNetwork(spec, layers, **options)``.

    ``layers`` maps layer names to their specs for declarations that do not carry them.
    """

    def __init__(self, spec: Any, layers: dict[str, Any] | None = None, **options: Any) -> None:
        from .groups import group as make_group
        G = make_group(spec.group, n=spec.n)
        super().__init__(G, _stages_from_spec(G, spec, layers or {}, options))
        self.spec = spec


def _run(s: nn.Module, feats: dict[int, torch.Tensor], mask: torch.Tensor | None,
         after: FeatureSpace, n: int | None) -> dict[int, torch.Tensor]:
    if isinstance(s, EquivariantLinear):
        return {s.l: masked_linear(s, feats[s.k], mask, n)}
    if isinstance(s, Bilinear):
        return {s.l: s(feats[s.a], feats[s.b], mask=mask, n=n)}
    if isinstance(s, MixedLinear):
        return _features(s(feats, mask=mask, n=n), "MixedLinear")
    out = s(feats, mask=mask)
    return out if isinstance(out, dict) else {after.orders[0]: out}


def _typed_forward(net: Network, x: Features, mask: Any, n: Any) -> Features:
    """A network over a product on typed features; ``mask``: {sort: (B, N_s)} (a tensor: sort 0)."""
    feats = _features_any(x, net.in_space, "the network")
    _check_space(feats, net.in_space, "the network")
    masks = sort_masks(mask)
    if masks:
        batch = next(iter(feats.values())).shape[0] if feats else None
        check_masks(net.group, masks, batch, (), "the network")
    sizes = sort_sizes(net.group, feats, masks, "the network", n)
    feats = masked_typed(feats, masks)
    for i, (s, after) in enumerate(zip(net.stages, net.spaces[1:])):
        if isinstance(s, MixedLinear):
            out = s(feats, mask=masks, n=sizes)
        elif isinstance(s, EquivariantLinear):
            out = {s.l: typed_single(s, feats[s.k], masks, check_input, sizes)}
        elif isinstance(s, Bilinear):
            out = {s.l: s(feats[s.a], feats[s.b], mask=masks, n=sizes)}
        elif isinstance(s, _Stage):
            out = s(feats, mask=masks)
        else:
            raise CatnnError(messages.TYPED_STAGE.format(index=i, kind=type(s).__name__, group=net.group))
        feats = out if isinstance(out, dict) else {after.orders[0]: out}
    return _result(feats)


def _adopt(s: _Stage, group: ProductGroup, flow: FeatureSpace, index: int) -> None:
    """A stage inside a network over a product: checked sort by sort on the features that reach it
    (the error names the stage), and given the network's group if it was built without one."""
    checked = _pooled_features(flow, s.sort) if isinstance(s, Pool) else flow
    try:
        check_typed_stage(group, s.name, checked.orders)
    except CompileError as err:
        raise CompileError(f"stage {index} ({s.name}): {err}") from None
    if s.group is None:
        if isinstance(s, (NormNonlinearity, Gate)):
            raise CompileError(messages.TYPED_STAGE_GROUP.format(what=f"stage {index} ({s.name})"))
        s.group = group


def _check_stage(group: Any, name: str, orders: Any) -> None:
    if isinstance(group, ProductGroup):
        check_typed_stage(group, name, orders)
    else:
        check_stage(group, name, orders)


def _normed(group: Any, order: Any) -> bool:
    """Does a norm nonlinearity take a norm (and a bias) on this order?"""
    if isinstance(group, ProductGroup):
        return any(e and not p for e, p in zip(order, permutation_sorts(group)))
    return bool(order)


def _features_any(x: Features, features: FeatureSpace | None, what: str) -> dict[Any, torch.Tensor]:
    """``_features``, except that a tensor of a typed single space gets its typed order."""
    if isinstance(x, torch.Tensor) and features is not None and features.sorts and features.is_single:
        return {features.orders[0]: x}
    return _features(x, what)


def _masked_any(feats: dict[Any, torch.Tensor], mask: Any) -> dict[Any, torch.Tensor]:
    """Padded entries zeroed: typed features under {sort: mask}, plain ones under a (B, N) mask."""
    if feats and isinstance(next(iter(feats)), tuple):
        return masked_typed(feats, sort_masks(mask))
    return _masked(feats, mask)


def _pooled_features(features: FeatureSpace, sort: int | None) -> FeatureSpace:
    """What a pool checks: the space itself (the sort is checked by :func:`catnn.typed.check_typed_stage`
    on the orders with the other sorts zeroed)."""
    if sort is None or not features.sorts:
        return features
    return FeatureSpace([(tuple(e if s == sort else 0 for s, e in enumerate(k)), c) for k, c in features.items()])


def _in_space(s: nn.Module) -> FeatureSpace | None:
    if isinstance(s, EquivariantLinear):
        return FeatureSpace({s.k: s.in_channels})
    if isinstance(s, MixedLinear):
        return s.in_space
    if isinstance(s, Bilinear):
        return FeatureSpace({s.a: s.in_channels[0]}) + (FeatureSpace({s.b: s.in_channels[1]})
                                                       if s.b != s.a else FeatureSpace({}))
    if isinstance(s, _Stage):
        return None
    raise CatnnError(messages.NETWORK_STAGE.format(kind=type(s).__name__))


def _accepts(s: nn.Module, flow: FeatureSpace) -> bool:
    if isinstance(s, Bilinear) and s.a == s.b:
        return flow == FeatureSpace({s.a: s.in_channels[0]}) and s.in_channels[0] == s.in_channels[1]
    return flow == _in_space(s)


def _out_space(s: nn.Module) -> FeatureSpace:
    if isinstance(s, EquivariantLinear):
        return FeatureSpace({s.l: s.out_channels})
    if isinstance(s, MixedLinear):
        return s.out_space
    return FeatureSpace({s.l: s.out_channels})


def _stages_from_spec(G: Group, spec: Any, layers: dict[str, Any], options: dict[str, Any]) -> list[nn.Module]:
    """The modules of a network declaration, the feature spaces followed from its first layer."""
    flow = None
    modules: list[nn.Module] = []
    for st in spec.stages:
        if st.kind == "layer":
            layer = getattr(st, "layer", None) or layers[st.name]
            module = _layer_module(G, layer, st, options)
            flow = _out_space(module)
        else:
            if flow is None:
                flow = _first_space(G, spec, layers, options)
            sort = getattr(st, "sort", None)
            module = stage(st.name, G, flow, sort=sort)
            typed = isinstance(G, ProductGroup)
            flow = typed_stage_output(st.name, flow, sort) if typed else stage_output(st.name, flow)
        modules.append(module)
    return modules


def _first_space(G: Group, spec: Any, layers: dict[str, Any], options: dict[str, Any]) -> FeatureSpace:
    first = next(st for st in spec.stages if st.kind == "layer")
    return _in_space(_layer_module(G, getattr(first, "layer", None) or layers[first.name], first, options))


def _layer_module(G: Group, layer: Any, st: Any, options: dict[str, Any]) -> nn.Module:
    from .spec import BilinearLayerSpec, MixedLayerSpec
    if isinstance(layer, MixedLayerSpec):
        return MixedLinear(G, st.in_space, st.out_space, **options)
    if isinstance(layer, BilinearLayerSpec):
        return Bilinear(G, layer.factors[0], layer.factors[1], layer.l, st.in_channels, st.out_channels,
                        diagrams=layer.diagrams, channels="outer" if layer.outer else "pair", **options)
    return EquivariantLinear(G, layer.k, layer.l, st.in_channels, st.out_channels, diagrams=layer.diagrams,
                             **options)



def layer_factory(group: Group, spec: Any, backend: str = "torch") -> Any:
    """A callable building the layer a ``layer`` declaration describes (what ``prog.nn.NAME`` is).

    Plain and bilinear layers take ``(in_channels, out_channels, **options)``, mixed-order layers
    their feature spaces ``(in_space, out_space, **options)``.
    """
    from functools import partial

    from .spec import BilinearLayerSpec, MixedLayerSpec
    if isinstance(spec, MixedLayerSpec):
        return partial(MixedLinear, group, backend=backend)
    if isinstance(spec, BilinearLayerSpec):
        a, b = spec.factors
        return partial(Bilinear, group, a, b, spec.l, diagrams=spec.diagrams, backend=backend,
                       channels="outer" if spec.outer else "pair")
    return partial(EquivariantLinear, group, spec.k, spec.l, diagrams=spec.diagrams, backend=backend)
