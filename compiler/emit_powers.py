"""Aut(G) chain steps that differ only in their matrix run as one matmul with the matrices side by side.

>>> from catnn.compiler.ir import CoreStep
>>> steps = [CoreStep(f"c{p}", "c0", (0,), (1,), ((f"A{p}", (0, 1)),)) for p in (1, 2, 3)]
>>> stack = PowerStack(steps)
>>> stack.flat, stack.forward("torch.matmul(c0, K)")
('K', 'torch.matmul(c0, K).unflatten(-1, (-1, 3))')
>>> stack.matrices()
'torch.stack((A1, A2, A3), -1).flatten(1)'

A layer of Aut(G) multiplies one core by A, A² and A³ (:func:`.plan_graph.walks`: the paths of
length p through internal vertices are one edge of A^p): ``c0 @ A``, ``c0 @ A2``, ``c0 @ A3`` are
three matmuls of a few hundred rows each, where dispatch costs more than arithmetic. The steps of one
:func:`power_groups` group read the same source, keep the same axes and carry one matrix each on the
same labels, so they are one matmul with K = [A | A² | A³] (the matrices stacked on a last axis
and flattened with the new label y: column y·M + p), the result unflattened and read back per member
(``s[..., p]``); their gradients are stacked the same way, so the transposed step is one matmul too.
The torch emitter (:mod:`.emit_torch`) uses a group only when every member is spelled as a matmul
followed at most by sums (y stays the last axis), which is the one-edge step whose matrix meets one
axis of the source.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .ir import CoreStep

__all__ = ["power_groups", "PowerStack"]


def power_groups(cores: Sequence[CoreStep], spelled: Callable[[CoreStep], str], scale: Callable[[CoreStep], str]
                 ) -> dict[str, list[CoreStep]]:
    """Groups of two or more one-matrix steps with the same source, axes, matrix labels and ``scale``
    (the normalisation's spelling) whose forward spelling (``spelled``, the step's expression with its
    matrix named ``K``) is a matmul leaving the matrix's new label last; keyed by the group's first step.

    >>> steps = [CoreStep(f"c{p}", "x0", (0, 1), (0, 2), ((f"A{p}", (1, 2)),)) for p in (1, 2)]
    >>> groups = power_groups(steps, lambda c: "torch.matmul(x0, K)", lambda c: "")
    >>> {k: [c.name for c in v] for k, v in groups.items()}
    {'c1': ['c1', 'c2']}
    """
    families: dict[tuple, list[CoreStep]] = {}
    for c in cores:
        if len(c.constants) == 1 and len(set(c.source_labels)) == len(c.source_labels):
            labels = c.constants[0][1]
            key = (c.input, c.source, c.source_labels, c.labels, labels, scale(c))
            families.setdefault(key, []).append(c)
    groups = {}
    for members in families.values():
        if len(members) > 1 and _matmul_with_new_label_last(members[0], spelled(members[0])):
            groups[members[0].name] = members
    return groups


def _matmul_with_new_label_last(c: CoreStep, expr: str) -> bool:
    """True if ``expr`` is one matmul by the matrix, then sums only, and the matrix's new label is kept last."""
    new = [lab for lab in c.constants[0][1] if lab not in c.source_labels]
    return (expr.startswith("torch.matmul(") and ".permute(" not in expr and ".transpose(" not in expr
            and len(new) == 1 and c.labels[-1:] == tuple(new))


class PowerStack:
    """One group's stacked matrix and spellings (see the module's docstring)."""

    def __init__(self, members: Sequence[CoreStep], flat: str = "K") -> None:
        self.members, self.flat = list(members), flat
        first = self.members[0]
        self.labels = first.constants[0][1]
        self.new = next(lab for lab in self.labels if lab not in first.source_labels)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(c.constants[0][0] for c in self.members)

    def matrices(self) -> str:
        """K: the matrices stacked last, flattened with the new label (rows and columns as the matrix's labels)."""
        stacked = f"torch.stack(({', '.join(self.kinds)}), -1)"
        return f"{stacked}.flatten(1)" if self.new == self.labels[1] else f"{stacked}.transpose(1, 2).flatten(0, 1)"

    def step(self) -> CoreStep:
        """The first member with K for its matrix: the group's contraction, the new label standing for (y, p)."""
        first = self.members[0]
        return replace(first, constants=((self.flat, self.labels),))

    def forward(self, expr: str) -> str:
        """The group's result from the first member's spelling with K: the (y, p) axis unflattened."""
        return f"{expr}.unflatten(-1, (-1, {len(self.members)}))"

    def gradient(self, grads: Sequence[str]) -> str:
        """The members' gradients stacked like K's columns, for the transposed step of :meth:`step`.

        >>> PowerStack([CoreStep("c1", "x0", (0, 1), (0, 2), (("A", (1, 2)),))] * 2).gradient(["g1", "g2"])
        'torch.stack((g1, g2), 4).flatten(3, 4)'
        """
        at = 2 + self.members[0].labels.index(self.new)
        return f"torch.stack(({', '.join(grads)}), {at + 1}).flatten({at}, {at + 1})"
