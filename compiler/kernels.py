"""Block kernels: what each block of a factored diagram *does*, per group.

>>> from catnn.diagram import swap
>>> from catnn.compiler.factorize import factorize
>>> h = kernels_for("S", swap()).halves(factorize(swap()))
>>> h.bottom.input, h.top.output, h.perm          # the core is x itself; the output reads it transposed
((0, 1), (0, 1), (1, 0))

The planner (:mod:`catnn.compiler.plan`) never looks at a group. It asks the group's kernels to
split each factored diagram (:class:`~catnn.compiler.factorize.Factorization`) into two halves,
both written as einsums over integer labels:

- a :class:`BottomHalf`: input tensor (k axes, one label each; a repeated label is a diagonal)
  times optional constant tensors → the *core* (its kept labels, in core-axis order); every label
  not kept is summed out. Diagrams with equal bottom halves share one core.
- a :class:`TopHalf`: accumulator (one label per axis) times optional constants, written into the
  output (one label per output axis; a repeated label is a diagonal of the output, a label that
  is neither in the accumulator nor in a constant is a broadcast). Diagrams with equal top halves
  share one accumulator and are channel-mixed in one matmul.
- ``perm`` joins them: accumulator axis i reads core axis ``perm[i]``; ``sign`` (±1) multiplies
  the diagram's weight.

The S_n / O(n) kernel (:class:`PartitionKernels`) is the whole story for partition and Brauer
diagrams: a bottom-only block sums a generalised diagonal (O(n): a trace), a propagating block takes
a diagonal of its input axes and writes a diagonal of its output axes (O(n): an identity strand), a
top-only block writes a diagonal broadcast over its value (O(n): vec(I)).

Adding a group (Sp(n), SO(n), A_n, ...) touches nothing outside this file's registry:

1. Subclass :class:`Kernels`; implement ``handles(d)`` (which diagrams you take) and
   ``halves(f) -> Halves``. Keep the core order canonical (e.g. by smallest input axis) and the
   accumulator order canonical (by smallest output axis) so that sharing works.
2. Constant tensors (Sp's J, SO's and A_n's Levi-Civita ε) are named operands: register each with
   ``register_constant(kind, source)`` where ``source`` is plain Python (no imports) defining
   ``def _const_<kind>(n):`` that returns nested lists of numbers; it is pasted verbatim into
   generated modules, and the emitters turn it into a tensor of the input's dtype and device.
   Reference it from a half as ``(kind, labels)`` in ``constants``.
   Examples: Sp's bottom pair on axes (2, 3) with labels (5, 6): ``input=(..., 5, 6)``,
   ``constants=(("J", (5, 6)),)``, labels 5, 6 not kept (math.md §a.6: Σ_ab J_ab v[.., a, b]);
   an output pair (a cup, 0 -> 2) on output axes (0, 1) with labels (7, 8) is Jᵀ under catnn's
   functor: ``constants=(("J", (8, 7)),)`` with 7, 8 in ``output``. The sign from factoring
   (math.md §a.6 gotcha 2) goes in ``Halves.sign`` (bias diagrams are added unsigned, so a kernel
   folds a bias diagram's sign into a constant); the loop value -n only matters for composition,
   not here. SO(n)'s ε-spider: one ε constant in the bottom half whose top legs are kept core
   labels (the core then carries them to the top half), or in the top half contracting kept
   bottom legs. The kernels of Sp, SO, A, H and B are in :mod:`.kernels_classical`.
3. ``register_kernels("Sp", SymplecticKernels())`` (a group may register several kernels; the
   first whose ``handles`` accepts a diagram is used). A family whose names carry parameters
   (``O(1,3)``, ``SO(2,2)``) registers a resolver instead, ``register_family(resolve)``:
   ``resolve(name)`` returns the kernels for that name, or None if the name is not of the family.

The plan folds accumulators into larger ones only in constant-free views and derives cores from
cores only when the constants agree, so new kernels are correct without further work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from catnn import messages
from catnn.errors import CompileError
from catnn.kinds import kind_of

from .factorize import Factorization

__all__ = [
    "BottomHalf", "TopHalf", "Halves", "Kernels", "PartitionKernels", "KERNELS", "CONSTANTS",
    "register_kernels", "register_constant", "register_family", "kernels_for", "constant_sources",
    "constant_value",
]

Labels = tuple[int, ...]
#: a constant operand: (kind registered in CONSTANTS, one label per axis)
ConstantRef = tuple[str, Labels]


@dataclass(frozen=True)
class BottomHalf:
    """input (one label per input axis) times constants → core (kept labels in order); others summed."""

    input: Labels
    core: Labels
    constants: tuple[ConstantRef, ...] = ()
    #: how many blocks are summed out (``normalize=True`` divides the core by n**summed)
    summed: int = 0
    #: (label, sort) for the labels of a sort other than 0 (products of groups: one sort per factor)
    sorts: tuple[tuple[int, int], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class TopHalf:
    """accumulator (labels) times constants → added into the output (one label per output axis)."""

    acc: Labels
    output: Labels
    constants: tuple[ConstantRef, ...] = ()
    #: (label, sort) for the labels of a sort other than 0
    sorts: tuple[tuple[int, int], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Halves:
    """A diagram as bottom half, axis permutation, top half (and a sign for its weight)."""

    bottom: BottomHalf
    top: TopHalf
    #: accumulator axis i reads core axis perm[i]
    perm: Labels
    sign: int = 1


class Kernels:
    """How one group's diagrams act block by block; subclass and register (see the module docstring)."""

    def handles(self, d: Any) -> bool:
        """True if these kernels know how to run diagram ``d``."""
        raise NotImplementedError

    def halves(self, f: Factorization) -> Halves:
        """The bottom half, top half and axis permutation of a factored diagram."""
        raise NotImplementedError


class PartitionKernels(Kernels):
    """S_n and O(n): diagonal-sum reduce, diagonal extract, diagonal embed and broadcast.

    >>> from catnn.diagram import Diagram
    >>> from catnn.compiler.factorize import factorize
    >>> h = PartitionKernels().halves(factorize(Diagram.from_blocks([[1, 4], [2], [3]], k=2, l=2)))
    >>> h.bottom, h.top.output, h.perm
    (BottomHalf(input=(1, 0), core=(0,), constants=(), summed=1), (0, 1), (0,))
    """

    def handles(self, d: Any) -> bool:
        return kind_of(d) == "partition"

    def halves(self, f: Factorization) -> Halves:
        d = len(f.propagating)
        inputs = [0] * f.k
        for label, (_, axes) in enumerate(f.propagating):
            for a in axes:
                inputs[a] = label
        for j, axes in enumerate(f.bottom):
            for a in axes:
                inputs[a] = d + j
        order = sorted(range(d), key=lambda i: min(f.propagating[i][0]))
        outputs = [0] * f.l
        for label, i in enumerate(order):
            for a in f.propagating[i][0]:
                outputs[a] = label
        for j, axes in enumerate(f.top):
            for a in axes:
                outputs[a] = d + j
        bottom = BottomHalf(tuple(inputs), tuple(range(d)), summed=len(f.bottom))
        top = TopHalf(tuple(range(d)), tuple(outputs))
        return Halves(bottom, top, tuple(order))


#: group name (as ``Group.name``) -> kernels tried in order
KERNELS: dict[str, list[Kernels]] = {}
#: constant kind -> Python source defining ``_const_<kind>(n)`` (nested lists of numbers)
CONSTANTS: dict[str, str] = {}
#: resolvers of parametrised families: group name -> its kernels, or None if not of the family
FAMILIES: list[Callable[[str], list[Kernels] | None]] = []


def register_kernels(group_name: str, kernels: Kernels, *, first: bool = False) -> None:
    """Use ``kernels`` for diagrams of the group called ``group_name`` (appended, or tried first)."""
    entry = KERNELS.setdefault(group_name, [])
    entry.insert(0, kernels) if first else entry.append(kernels)


def register_family(resolve: Callable[[str], list[Kernels] | None]) -> None:
    """Resolve group names of a parametrised family (e.g. ``O(p,q)``) to kernels on first use."""
    FAMILIES.append(resolve)


def register_constant(kind: str, source: str) -> None:
    """Register a constant tensor by the source of its builder ``def _const_<kind>(n): ...``."""
    if not kind.isidentifier() or f"def _const_{kind}(n)" not in source:
        raise ValueError(f"constant {kind!r}: source must define _const_{kind}(n)")
    CONSTANTS[kind] = source


def kernels_for(group_name: str, d: Any) -> Kernels:
    """The kernels that run diagram ``d`` for the group ``group_name``."""
    if group_name not in KERNELS:
        for resolve in FAMILIES:
            found = resolve(group_name)
            if found is not None:
                KERNELS[group_name] = found
                break
    for kernels in KERNELS.get(group_name, ()):
        if kernels.handles(d):
            return kernels
    raise CompileError(messages.NO_KERNELS.format(group=group_name, kind=type(d).__name__))


def constant_sources(kinds: Iterable[str]) -> tuple[str, ...]:
    """The registered builders of these constants, as helper sources pasted into generated code.

    >>> from catnn.compiler import kernels_classical     # registers Sp's J (and the other groups' constants)
    >>> constant_sources(["J"])[0].splitlines()[0]
    'def _const_J(n):'
    """
    return tuple(CONSTANTS[kind].strip() + "\n" for kind in kinds)


def constant_value(kind: str, n: int) -> Any:
    """The registered constant ``kind`` at size n, as nested lists (run from its registered source)."""
    namespace: dict[str, Any] = {}
    exec(CONSTANTS[kind], namespace)  # noqa: S102 - registered by catnn's own group modules
    return namespace[f"_const_{kind}"](n)


for _name in ("S", "O"):
    register_kernels(_name, PartitionKernels())
