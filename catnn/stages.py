"""The formulas of network stages, written once: :mod:`catnn.networks` runs them, and compiled modules
paste their source (:data:`catnn.compiler.write_network.NETWORK_HELPERS`, read from this file's text).

>>> import torch
>>> node_mask(torch.tensor([[True, True, False]]), 2, torch.zeros(1)).squeeze().tolist()
[[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
>>> pool("mean", {1: torch.ones(2, 3, 5)}, None).shape
torch.Size([2, 3])

Features are dicts ``{order: tensor (B, C, n, …, n)}``. Each function uses torch and nothing else
from catnn (the module writer pastes :data:`PASTED` verbatim, each name with a leading underscore),
so a compiled network computes exactly what the in-memory one does.
"""

from __future__ import annotations

import torch

__all__ = ["FUNCTIONS", "node_mask", "masked", "pointwise", "norm_nonlinearity", "gate", "pool", "PASTED"]

#: the names whose source compiled modules paste (in this order), as ``_NAME``
PASTED = ("FUNCTIONS", "node_mask", "masked", "pointwise", "norm_nonlinearity", "gate", "pool")

FUNCTIONS = {
    "relu": torch.relu, "gelu": torch.nn.functional.gelu, "silu": torch.nn.functional.silu,
    "tanh": torch.tanh, "sigmoid": torch.sigmoid, "softplus": torch.nn.functional.softplus,
    "elu": torch.nn.functional.elu, "leaky_relu": torch.nn.functional.leaky_relu, "identity": lambda t: t,
}


def node_mask(mask, k, like):
    """The (B, 1, N, ..., N) product of a (B, N) node mask over k axes, with like's dtype."""
    m = mask.to(like.dtype)
    out = m.new_ones((m.shape[0], 1) + (1,) * k)
    for axis in range(k):
        shape = [m.shape[0], 1] + [1] * k
        shape[2 + axis] = m.shape[1]
        out = out * m.reshape(shape)
    return out


def masked(f, mask):
    """Features {order: tensor} with every padded entry set to zero."""
    if mask is None:
        return f
    return {k: t * node_mask(mask, k, t) if k else t for k, t in f.items()}


def pointwise(name, f):
    """The map ``name`` applied entry by entry to every order."""
    return {k: FUNCTIONS[name](t) for k, t in f.items()}


def norm_nonlinearity(name, f, bias, eps):
    """x * act(|x| + b) / |x| per channel of order >= 1 (|x| over the tensor axes, ``bias[str(k)]``
    holds b); act(x) on order 0; ``eps`` under the square root keeps the gradient at 0."""
    act, out = FUNCTIONS[name], {}
    for k, t in f.items():
        if not k:
            out[k] = act(t)
            continue
        r = torch.sqrt(t.pow(2).sum(tuple(range(2, 2 + k))) + eps)
        scale = act(r + bias[str(k)]) / r
        out[k] = t * scale.reshape(scale.shape + (1,) * k)
    return out


def gate(f, weight, bias, channels):
    """Order-0 channels s gate the others, x_c * sigmoid((W s + b)_c) (orders ascending, then
    channel; ``channels``: {order: channels}); s becomes relu(s)."""
    s = f[0]
    gates = torch.sigmoid(torch.nn.functional.linear(s, weight, bias))
    out, start = {0: torch.relu(s)}, 0
    for k in sorted(channels):
        if k:
            g = gates[:, start:start + channels[k]]
            out[k] = f[k] * g.reshape(g.shape + (1,) * k)
            start += channels[k]
    return out


def pool(name, f, mask):
    """sum or mean of every entry of each order, as order-0 channels (orders ascending); ``mean``
    divides order k by n^k (with a mask, each sample's own n, at least 1: an empty sample's means are 0)."""
    parts = []
    for k, t in sorted(f.items()):
        if mask is not None and k:
            t = t * node_mask(mask, k, t)
        total = t.sum(tuple(range(2, 2 + k))) if k else t
        if name == "mean" and k:
            size = mask.to(t.dtype).sum(1).clamp(min=1).reshape(-1, 1) if mask is not None else t.shape[-1]
            total = total / size ** k
        parts.append(total)
    return torch.cat(parts, 1)
