"""A checked program: its group and its definitions, by name and in source order.

>>> from catnn.api import compile_program
>>> prog = compile_program("diagram swap : 2 -> 2 = {1, 2'} {2, 1'}\\nlayer edge : 2 -> 2")
>>> print(prog.swap)
{1, 2'} {2, 1'}
>>> prog.edge.k, prog.group
(2, catnn.group('S'))
>>> list(prog)
['swap', 'edge']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catnn.errors import Span
from catnn.groups import Group
from catnn.groups.product import ProductDiagram, ProductMorphism
from catnn.morphism import Morphism
from catnn.kinds import kind_of as diagram_kind
from catnn.spec import BilinearLayerSpec, LayerSpec, MixedLayerSpec, NetworkSpec

__all__ = ["Program", "kind_of"]


def kind_of(value: Any) -> str:
    """``"diagram"``, ``"morphism"``, ``"layer"`` or ``"network"``."""
    if isinstance(value, (LayerSpec, MixedLayerSpec)):
        return "layer"
    if isinstance(value, NetworkSpec):
        return "network"
    if isinstance(value, (Morphism, ProductMorphism)):
        return "morphism"
    return "diagram"


class Program:
    """The result of checking a program; ``prog.NAME`` (or ``prog["NAME"]``) is a definition.

    ``definitions`` maps each name, in source order, to a :class:`~catnn.diagram.Diagram` (for
    ``diagram``), a :class:`~catnn.morphism.Morphism` (``morphism``), a
    :class:`~catnn.spec.LayerSpec` (``layer``) or a :class:`~catnn.spec.NetworkSpec` (``network``);
    ``spans`` gives where each was defined. A definition whose name clashes with an attribute of
    this class (``group``, ``source``, ...) is reached with ``prog["name"]``.
    """

    def __init__(self, group: Group, definitions: dict[str, Any], spans: dict[str, Span],
                 source: str, filename: str) -> None:
        self.group = group
        self.definitions = definitions
        self.spans = spans
        self.source = source
        self.filename = filename

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "definitions" not in self.__dict__:
            raise AttributeError(name)
        try:
            return self.definitions[name]
        except KeyError:
            known = ", ".join(self.definitions) or "none"
            raise AttributeError(f"the program has no definition {name!r} (definitions: {known})") from None

    def __getitem__(self, name: str) -> Any:
        return self.definitions[name]

    def __contains__(self, name: object) -> bool:
        return name in self.definitions

    def __iter__(self) -> Iterator[str]:
        return iter(self.definitions)

    def __len__(self) -> int:
        return len(self.definitions)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self.definitions})

    def summary(self) -> list[str]:
        """One line per definition: its kind, name and arity, and what it holds.

        >>> from catnn.api import compile_program
        >>> compile_program("morphism sym = 1/2 * (id(2) + swap)").summary()
        ['morphism sym : 2 -> 2  (2 terms)']
        """
        width = max((len(name) for name in self.definitions), default=0)
        return [f"{kind_of(value):<8} {name.ljust(width)} : {_arity(value)}  ({_detail(value)})"
                for name, value in self.definitions.items()]

    def __repr__(self) -> str:
        return f"<Program {self.filename}: {self.group}, {_plural(len(self.definitions), 'definition')}>"


def _arity(value: Any) -> str:
    if isinstance(value, BilinearLayerSpec):
        return f"{value.product} -> {value.l}"
    return f"{value.k} -> {value.l}"


def _detail(value: Any) -> str:
    if isinstance(value, MixedLayerSpec):
        return "full spanning set per block"
    if isinstance(value, LayerSpec):
        return "full spanning set" if value.diagrams is None else _plural(len(value.diagrams), "diagram")
    if isinstance(value, NetworkSpec):
        return _plural(len(value.stages), "stage")
    if isinstance(value, (Morphism, ProductMorphism)):
        return _plural(len(value.terms), "term")
    if diagram_kind(value) in ("partition", "graph") or isinstance(value, ProductDiagram):
        text = str(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return type(value).__name__


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
