"""Declarations that the language produces and the runtime consumes: layers and networks.

>>> LayerSpec("edge", group="S", n=None, k=2, l=2).uses_full_spanning_set
True

These are plain frozen data, so the checker (``catnn.compiler``), the emitters and ``catnn.nn``
agree on them without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import Span

__all__ = ["LayerSpec", "BilinearLayerSpec", "MixedLayerSpec", "Stage", "NetworkSpec"]


@dataclass(frozen=True)
class LayerSpec:
    """A learnable layer k -> l: the group's full spanning set, or chosen diagrams."""

    name: str
    group: str
    n: int | None
    k: int
    l: int
    #: None for the group's full spanning set, else the chosen diagrams (or morphisms)
    diagrams: tuple[Any, ...] | None = None
    span: Span | None = None
    #: a bilinear layer ``a @ b -> l``: the orders (a, b) of the two factors, k = a + b
    factors: tuple[int, int] | None = None

    @property
    def uses_full_spanning_set(self) -> bool:
        """True when the layer learns one weight per diagram of the whole spanning set."""
        return self.diagrams is None


@dataclass(frozen=True)
class BilinearLayerSpec(LayerSpec):
    """A bilinear layer ``a @ b -> l``: x ⊗ y (orders a and b, ``factors``), then a learnable (a+b) -> l layer.

    >>> BilinearLayerSpec("q", "S", None, 2, 1, factors=(1, 1)).factors
    (1, 1)

    ``outer`` (written ``outer(a @ b)``) multiplies every channel of x with every channel of y,
    x_c ⊗ y_d; otherwise channel c with channel c.
    """

    outer: bool = False

    @property
    def product(self) -> str:
        """The input as written: ``1 @ 1``, or ``outer(1 @ 1)``."""
        text = f"{self.factors[0]} @ {self.factors[1]}"
        return f"outer({text})" if self.outer else text

    def __post_init__(self) -> None:
        typed = self.factors is not None and isinstance(self.factors[0], tuple)
        total = tuple(map(sum, zip(*self.factors))) if typed else sum(self.factors or ())
        if self.factors is None or len(self.factors) != 2 or total != self.k:
            raise ValueError(f"a bilinear layer needs factors (a, b) with a + b = k, got {self.factors}")


@dataclass(frozen=True)
class MixedLayerSpec:
    """A learnable layer between mixed-order feature spaces, ``V0 + V2 -> V1``: orders only.

    Channels per order come with each use in a network (``mix[4*V0 + 2*V2 -> 3*V1]``). Every
    block k -> l learns the group's full spanning set.
    """

    name: str
    group: str
    n: int | None
    in_orders: tuple[int, ...]
    out_orders: tuple[int, ...]
    span: Span | None = None

    @property
    def k(self) -> str:
        """The input orders as text, ``V0 + V2`` (typed: ``V(1,0) + V(1,1)``; for listings)."""
        return _orders_text(self.in_orders)

    @property
    def l(self) -> str:
        """The output orders as text."""
        return _orders_text(self.out_orders)


def _orders_text(orders: tuple[Any, ...]) -> str:
    return " + ".join(f"V({','.join(map(str, k))})" if isinstance(k, tuple) else f"V{k}" for k in orders)


@dataclass(frozen=True)
class Stage:
    """One step of a network: a layer with channel widths, or a nonlinearity."""

    kind: str                 # "layer", "nonlinearity" or "pool"
    name: str                 # the layer's name, or the nonlinearity's (relu, gelu, ...)
    in_channels: int | None = None
    out_channels: int | None = None
    span: Span | None = None
    #: the layer's declaration (LayerSpec or MixedLayerSpec), for layers
    layer: Any = None
    #: the features (catnn.features.FeatureSpace) the stage reads and gives
    in_space: Any = None
    out_space: Any = None
    #: the sort a pooling runs over (products of groups; None: every sort)
    sort: int | None = None


@dataclass(frozen=True)
class NetworkSpec:
    """A network k -> l: stages applied left to right."""

    name: str
    group: str
    n: int | None
    k: int
    l: int
    stages: tuple[Stage, ...]
    span: Span | None = None
    #: the features (catnn.features.FeatureSpace) the network reads and gives
    in_space: Any = None
    out_space: Any = None
