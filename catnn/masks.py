"""Features and padded batches: the checks and helpers every layer kind shares, and a masked
single-order layer (:func:`masked_linear`).

>>> import torch
>>> from catnn.nn import EquivariantLinear
>>> layer = EquivariantLinear("S", 1, 1, 1, 1)
>>> x = torch.randn(2, 1, 4)
>>> mask = torch.tensor([[True, True, True, False], [True, True, True, True]])
>>> torch.allclose(masked_linear(layer, x, mask)[0, :, :3], layer(x[:1, :, :3])[0])
True

A padded batch holds graphs of different sizes in one tensor: a (B, N) boolean ``mask`` marks each
sample's real nodes; every layer then computes each sample as if it ran alone (padded entries are
zeroed on the way in and out; ``normalize=True`` divides by each sample's own n).
"""

from __future__ import annotations

from typing import Any, Union

import torch

from . import messages
from .compiler.backends import emit
from .compiler.plan import build_mixed_plan
from .errors import CompileError, ShapeError
from .features import FeatureSpace
from .groups import Group
from .stages import masked as _masked
from .stages import node_mask

__all__ = ["Features", "masked_linear"]

Features = Union[torch.Tensor, dict[int, torch.Tensor]]


# -- features and masks -----------------------------------------------------------------------------
def _features(x: Features, what: str) -> dict[int, torch.Tensor]:
    """``{k: tensor}`` from a tensor (its order read from its shape) or a dict."""
    if isinstance(x, torch.Tensor):
        if x.dim() < 2:
            raise ShapeError(messages.FEATURES_INPUT.format(what=what, expected="(batch, channels, n, ...)",
                                                            got=f"shape {tuple(x.shape)}"))
        return {x.dim() - 2: x}
    if isinstance(x, dict):
        return dict(x)
    raise ShapeError(messages.FEATURES_INPUT.format(what=what, expected="a tensor or a dict {order: tensor}",
                                                    got=type(x).__name__))


def _result(feats: dict[int, torch.Tensor]) -> Features:
    """A tensor for one order, else the dict."""
    return next(iter(feats.values())) if len(feats) == 1 else feats


def _space_of(feats: dict[int, torch.Tensor]) -> FeatureSpace:
    return FeatureSpace({k: int(t.shape[1]) for k, t in feats.items()})


def _check_space(feats: dict[int, torch.Tensor], expected: FeatureSpace, what: str) -> None:
    # compared size by size: under torch.compile the channel counts may be symbolic
    if sorted(feats) != list(expected.orders) or any(feats[k].shape[1] != c for k, c in expected.items()):
        raise ShapeError(messages.SPACE_MISMATCH.format(what=what, expected=expected, got=_space_of(feats)))


def _check_mask(mask: torch.Tensor, feats: dict[int, torch.Tensor], layer: str) -> None:
    batch = next(iter(feats.values())).shape[0] if feats else mask.shape[0]
    sizes = [t.shape[-1] for k, t in feats.items() if k]   # a list: symbolic sizes (torch.export) do not hash
    n = sizes[0] if sizes else (mask.shape[1] if mask.dim() == 2 else None)
    if mask.dim() != 2 or mask.shape[0] != batch or mask.shape[1] != n or any(size != n for size in sizes):
        raise ShapeError(messages.MASK_SHAPE.format(layer=layer, expected=(batch, n), shape=tuple(mask.shape)))


#: constants that stay right on a padded batch: Sp's J is block-diagonal in pairs (2j, 2j+1), so J at
#: the padded size restricted to a sample's nodes is that sample's own J when its nodes come in whole pairs
MASKABLE_CONSTANTS = frozenset({"J"})


def _mask_plan_ok(layer: str, group: Group, constants: tuple[str, ...], mask: torch.Tensor | None = None) -> None:
    """Refuse a mask where a padded sample would not compute as if alone: a fixed n, or constants that
    depend on the size (SO(n)'s and A_n's Levi-Civita symbols have n legs); Sp's J needs whole pairs."""
    if group.n is not None:
        raise ShapeError(messages.MASK_FIXED_N.format(layer=layer, n=group.n))
    unmaskable = [kind for kind in constants if kind not in MASKABLE_CONSTANTS]
    if unmaskable:
        raise CompileError(messages.MASK_GROUP.format(layer=layer, group=group, constants=", ".join(unmaskable)))
    if constants and mask is not None and mask.dim() == 2 and (
            mask.shape[1] % 2 or not bool((mask[:, 0::2] == mask[:, 1::2]).all())):
        raise ShapeError(messages.MASK_PAIRS.format(layer=layer))


def _size(feats: dict[int, torch.Tensor], mask: torch.Tensor | None, group: Group, what: str) -> int:
    for k, t in feats.items():   # the sizes as torch gives them: int() would fix a symbolic n (torch.compile)
        if k:
            return t.shape[-1]
    if mask is not None:
        return mask.shape[1]
    if group.n is None:
        raise ShapeError(messages.NEEDS_N.format(what=f"{what} (no input axes to read n from)", group=group.name))
    return group.n


def _sizes(mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """Each graph's node count, for means; at least 1, so an empty graph's means are 0 (its sums are), not NaN."""
    return None if mask is None else mask.to(like.dtype).sum(1).clamp(min=1)


# -- layers -------------------------------------------------------------------------------------------
def masked_linear(layer: Any, x: torch.Tensor, mask: torch.Tensor | None,
                  n: int | None = None) -> torch.Tensor:
    """``layer(x)`` on a padded batch: each graph's result as if it ran alone (module docstring).

    Without a mask, ``n`` gives the size to layers without input axes (k = 0).
    """
    name = f"EquivariantLinear({layer.group} {layer.k} -> {layer.l})"
    if mask is not None:
        _mask_plan_ok(name, layer.group, layer.plan.constants, mask)
    if x.dim() != layer.k + 2 or x.shape[1] != layer.in_channels:
        raise ShapeError(messages.SPACE_MISMATCH.format(what=name, expected=FeatureSpace({layer.k: layer.in_channels}),
                                                        got=f"shape {tuple(x.shape)}"))
    feats = _features(x, name)
    if mask is not None:
        _check_mask(mask, feats, name)
    x = _masked(feats, mask)[layer.k]
    n = _size(feats, mask, layer.group, name) if n is None or mask is not None or layer.group.n else n
    if layer.k and (mask is None or not layer.config.normalize):
        y = layer(x)
    else:
        plan = build_mixed_plan(layer.group, (layer.k,), (layer.l,), diagrams={(0, 0): layer.plan.diagrams},
                                bias=bool(layer.plan.bias_diagrams), normalize=True)
        function = emit(plan, "layer", layer.config.backend).plan_function
        y = function((x,), (layer.effective_weight(n),), (layer.bias,), (layer.out_channels,), n=n,
                     sizes=_sizes(mask, x))[0]
    return y * node_mask(mask, layer.l, y) if layer.l and mask is not None else y
