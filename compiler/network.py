"""Network stages that are not linear layers: which nonlinearities and poolings keep equivariance.

>>> import catnn
>>> from catnn.features import space
>>> check_stage(catnn.group("S"), "relu", (2,))          # permutations commute with pointwise maps
>>> check_stage(catnn.group("O"), "relu", (0, 2))
Traceback (most recent call last):
...
catnn.errors.CompileError: 'relu' is not O(n)-equivariant on tensors of order 2: use gate or norm_relu
>>> stage_output("mean", space("4*V1 + 2*V2"))
space('6*V0')

The rules (each verified numerically in tests/test_networks.py):

- **pointwise** maps f (relu, gelu, ...), applied entry by entry, commute with g^{⊗k} for every
  tensor order k exactly when g permutes entries: permutation groups (S_n, A_n, Aut(G)). On order 0
  (invariant channels) every f is fine for every group. H_n acts by *signed* permutations, so it
  allows the odd maps (tanh, identity) only. O(n), SO(n), Sp(n) and B_n (≅ O(n-1) on 1^⊥) allow
  none on orders >= 1.
- **norm_f**: ``x · f(|x| + b) / |x|`` per channel, |x| the Euclidean norm over the tensor axes and
  b a learned bias per channel; equivariant for every subgroup of O(n), i.e. every group here but
  Sp(n): Sp(n) is not compact and does not preserve |x|. (Its invariant J-form is no substitute:
  ``<x, J^{⊗k} x>`` vanishes identically for odd k and is indefinite for even k.) Order-0 channels
  get ``f(x)`` itself.
- **gate**: order-0 channels s gate every channel of order >= 1, ``y_c = x_c · sigmoid((W s + b)_c)``,
  with W, b learned; the order-0 channels themselves become ``relu(s)``. Invariant scalars times
  equivariant tensors are equivariant for *every* group, Sp(n) included. It needs order-0 channels.
- **sum / mean** pooling: every entry of each order summed (mean: divided by n^k), giving order-0
  channels. That is the (k -> 0) diagram of singleton blocks, invariant exactly when the group's
  category contains it (S_n, A_n, B_n, Aut(G): the groups that fix the all-ones vector). Learned
  readouts are k -> 0 layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from catnn import messages
from catnn.diagram import Diagram
from catnn.errors import CompileError
from catnn.features import FeatureSpace

__all__ = [
    "POINTWISE", "ODD", "NORMS", "GATES", "POOLS", "NONLINEARITIES", "STAGE_FUNCTIONS",
    "stage_kind", "check_stage", "stage_output", "norm_function",
]

#: maps applied entry by entry
POINTWISE = ("relu", "gelu", "silu", "tanh", "sigmoid", "softplus", "elu", "leaky_relu", "identity")
#: the odd ones (f(-x) = -f(x)): those commute with sign flips too (H_n)
ODD = frozenset({"tanh", "identity"})
#: norm nonlinearities x · f(|x| + b) / |x|
NORMS = tuple(f"norm_{f}" for f in ("relu", "gelu", "silu", "tanh", "sigmoid", "softplus"))
GATES = ("gate",)
#: parameter-free invariant readouts
POOLS = ("sum", "mean")
#: every nonlinearity name a network may use
NONLINEARITIES = POINTWISE + GATES + NORMS
#: every stage name that is not a layer
STAGE_FUNCTIONS = NONLINEARITIES + POOLS

#: groups whose elements are not orthogonal matrices (the Euclidean norm is not invariant)
_NOT_ORTHOGONAL = frozenset({"Sp"})
#: groups of signed permutation matrices (odd pointwise maps commute with them)
_SIGNED_PERMUTATIONS = frozenset({"H"})


def stage_kind(name: str) -> str:
    """``"pointwise"``, ``"norm"``, ``"gate"`` or ``"pool"``; CompileError for an unknown name."""
    if name in POINTWISE:
        return "pointwise"
    if name in NORMS:
        return "norm"
    if name in GATES:
        return "gate"
    if name in POOLS:
        return "pool"
    raise CompileError(messages.UNKNOWN_NONLINEARITY.format(name=name, known=", ".join(STAGE_FUNCTIONS)))


def norm_function(name: str) -> str:
    """The pointwise map inside a norm nonlinearity: ``norm_relu`` -> ``relu``."""
    return name[len("norm_"):]


def check_stage(group: Any, name: str, orders: Iterable[int]) -> None:
    """Raise CompileError if stage ``name`` on features of these tensor orders breaks equivariance."""
    orders = tuple(orders)
    kind = stage_kind(name)
    if kind == "pointwise":
        for k in orders:
            if not _pointwise_ok(group, name, k):
                raise CompileError(messages.POINTWISE_NOT_EQUIVARIANT.format(
                    name=name, group=group, order=k, instead=_instead(group, name)))
    elif kind == "norm" and group.name in _NOT_ORTHOGONAL and any(orders):
        raise CompileError(messages.NORM_NOT_EQUIVARIANT.format(name=name, group=group))
    elif kind == "gate" and 0 not in orders:
        shown = " + ".join(f"V{k}" for k in orders)
        example = " + ".join(f"C*V{k}" for k in (0, *orders))
        instead = "a k -> 0 layer for invariants" if group.name in _NOT_ORTHOGONAL else "norm_relu"
        raise CompileError(messages.GATE_NEEDS_SCALARS.format(space=shown, example=example, instead=instead))
    elif kind == "pool":
        for k in orders:
            if k and not group.accepts(_singletons(k)):
                raise CompileError(messages.POOL_NOT_INVARIANT.format(name=name, group=group, order=k))


def stage_output(name: str, features: FeatureSpace) -> FeatureSpace:
    """The features after stage ``name``: pools give order-0 channels, the others keep the space."""
    if stage_kind(name) == "pool":
        return FeatureSpace({0: features.total}) if features.total else FeatureSpace({})
    return features


def _pointwise_ok(group: Any, name: str, order: int) -> bool:
    if order == 0 or name == "identity" or getattr(group, "is_permutation_group", False):
        return True
    return group.name in _SIGNED_PERMUTATIONS and name in ODD


def _instead(group: Any, name: str) -> str:
    """What to use instead of a pointwise map, in words."""
    if group.name in _NOT_ORTHOGONAL:
        return "gate (norm nonlinearities are no option: Sp(n) does not preserve the Euclidean norm)"
    norm = f"norm_{name}" if f"norm_{name}" in NORMS else "norm_relu"
    if group.name in _SIGNED_PERMUTATIONS:
        return f"an odd function (tanh), gate or {norm}"
    return f"gate or {norm}"


def _singletons(k: int) -> Diagram:
    """The k -> 0 diagram whose blocks are single vertices: the sum of all entries."""
    return Diagram([[v] for v in range(1, k + 1)], k, 0)
