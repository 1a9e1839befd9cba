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

__all__ = ["LayerSpec", "Stage", "NetworkSpec"]


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

    @property
    def uses_full_spanning_set(self) -> bool:
        """True when the layer learns one weight per diagram of the whole spanning set."""
        return self.diagrams is None


@dataclass(frozen=True)
class Stage:
    """One step of a network: a layer with channel widths, or a nonlinearity."""

    kind: str                 # "layer" or "nonlinearity"
    name: str                 # the layer's name, or the nonlinearity's (relu, gelu, ...)
    in_channels: int | None = None
    out_channels: int | None = None
    span: Span | None = None


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
