"""What every diagram kind shares: write-once slots, and operators that go through a Morphism.

>>> from catnn.diagram import identity, swap
>>> print(swap() + identity(2))                      # a Diagram is a DiagramOps
{1, 1'} {2, 2'} + {1, 2'} {2, 1'}
>>> swap().k = 3
Traceback (most recent call last):
...
AttributeError: Diagram is immutable: cannot set 'k'

Partition diagrams, ε-diagrams, jellyfish and bilabelled graphs are all :class:`DiagramOps`: each
provides ``k``, ``l`` and the morphism-protocol hooks of :mod:`catnn.morphism`, and ``>>``, ``@``,
``+``, ``-``, scalar ``*`` and ``/`` then work by turning it into a one-term morphism.
:class:`~catnn.morphism.Morphism` itself is :class:`Frozen` only.

The algebra imports neither :mod:`catnn.morphism` from here nor the drawing: the Morphism class
and the SVG renderer register themselves in :data:`HOOKS` when their modules load (both load with
``import catnn``), so imports flow one way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from .morphism import Morphism

__all__ = ["Frozen", "DiagramOps", "HOOKS", "KINDS", "kind_of", "svg"]

#: every diagram kind by name, filled as its class is defined: "partition" (partition and Brauer
#: diagrams), "epsilon" (SO(n)'s ε-diagrams), "jellyfish" (A_n), "graph" (bilabelled graphs, Aut(G)).
#: The compiler's kernels, the drawing and the initialisation dispatch on these names.
KINDS: dict[str, type] = {}


def kind_of(obj: object) -> str | None:
    """The kind of a diagram (None for anything else: a morphism, a layer, …).

    >>> from catnn.diagram import swap
    >>> kind_of(swap()), kind_of(swap() + swap())
    ('partition', None)
    """
    return type(obj).kind or None if isinstance(obj, DiagramOps) else None

#: "morphism": the Morphism class (set by :mod:`catnn.morphism`); "svg": the renderer (:mod:`catnn.draw`);
#: "parse": one expression read under a group (:func:`catnn.api.diagram`)
HOOKS: dict[str, Any] = {}


def svg(obj: object) -> str | None:
    """The SVG drawing of a diagram or morphism (None if :mod:`catnn.draw` is not loaded)."""
    render = HOOKS.get("svg")
    return render(obj) if render is not None else None


class Frozen:
    """Slots written once, in ``__init__`` (or by pickle); the object never changes after."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        if hasattr(self, name):
            raise AttributeError(f"{type(self).__name__} is immutable: cannot set {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: cannot delete {name!r}")


class DiagramOps(Frozen):
    """The operators of a diagram kind, through :meth:`to_morphism`, and its 1-based label names.

    A kind may override :meth:`_operand` to convert the other side of a binary operator first.
    """

    __slots__ = ()

    l: int
    #: the kind's name in :data:`KINDS` (each concrete kind sets it)
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            KINDS[cls.kind] = cls

    def to_morphism(self) -> Morphism:
        """This diagram as a one-term morphism."""
        return HOOKS["morphism"].of(self)

    def _operand(self, other: object) -> object:
        """The other side of ``>>``, ``@``, ``+`` or ``-``, as this kind meets it."""
        return other

    @property
    def T(self) -> Morphism:
        """The flip (rows exchanged) as a one-term morphism signed by the kind's ``_transpose_terms()``;
        its matrix is the transpose. Kinds whose flip is a diagram of their own kind override it."""
        (c, d), = self._transpose_terms()   # type: ignore[attr-defined]
        return HOOKS["morphism"].of(d, c)

    def _repr_svg_(self) -> str | None:
        """The drawing Jupyter shows inline (see :mod:`catnn.draw`)."""
        return svg(self)

    def is_top(self, label: int) -> bool:
        """True if the 1-based ``label`` is an output (top-row) vertex."""
        return label <= self.l

    def label_name(self, label: int) -> str:
        """DSL name of a 1-based label: outputs ``3``, inputs ``2'``."""
        return str(label) if label <= self.l else f"{label - self.l}'"

    def __rshift__(self, other: object) -> Morphism:
        return self.to_morphism() >> self._operand(other)

    def __rrshift__(self, other: object) -> Morphism:
        return self._operand(other) >> self.to_morphism()

    def __matmul__(self, other: object) -> Morphism:
        return self.to_morphism() @ self._operand(other)

    def __rmatmul__(self, other: object) -> Morphism:
        return self._operand(other) @ self.to_morphism()

    def __add__(self, other: object) -> Morphism:
        return self.to_morphism() + self._operand(other)

    __radd__ = __add__

    def __sub__(self, other: object) -> Morphism:
        return self.to_morphism() - self._operand(other)

    def __rsub__(self, other: object) -> Morphism:
        return self._operand(other) - self.to_morphism()

    def __neg__(self) -> Morphism:
        return -self.to_morphism()

    def __mul__(self, scalar: object) -> Morphism:
        return self.to_morphism() * scalar

    __rmul__ = __mul__

    def __truediv__(self, scalar: object) -> Morphism:
        return self.to_morphism() / scalar
