"""Planar factorisation: every diagram as ``σ_k``, then a planar diagram, then ``σ_l`` (math.md §c.1).

A (k, l)-diagram d factors as ``d = σ_l ∘ d' ∘ σ_k`` where σ_k, σ_l are permutation diagrams and d'
is *planar in the algorithmic sense*: its top row holds the top-only blocks at the left, then the
propagating blocks; its bottom row holds the propagating blocks (in the same order) then the
bottom-only blocks; every block occupies a contiguous run of each row it meets. In catnn's
"first, then" notation that is ``permutation(sigma_in) >> planar >> permutation(inverse(sigma_out))``.

>>> from catnn.diagram import Diagram
>>> d = Diagram.from_blocks([[1, 4], [2], [3]], k=2, l=2)   # {1, 2'} {2} {1'}
>>> f = factorize(d)
>>> f.top, f.propagating, f.bottom
(((1,),), (((0,), (1,)),), ((0,),))
>>> f.sigma_in, f.sigma_out
((1, 0), (1, 0))
>>> print(f.planar)
{1} {2, 1'} {2'}
>>> f.recompose() == d
True

Orders (fixed, so that equal bottom halves give equal cores, see :mod:`catnn.compiler.plan`):
propagating blocks by their smallest input axis; top-only blocks by their smallest output axis;
bottom-only blocks by their smallest input axis. Axes here are 0-based: output axis ``i`` is label
``i + 1``, input axis ``j`` is label ``l + j + 1``.

Only the block structure is used (``top_blocks``, ``propagating_blocks``, ``bottom_blocks`` and
``blocks`` of the diagram), so diagram types of other groups factor the same way; what a block
*does* (a diagonal sum, a J-weighted contraction, an ε-spider) is decided by the group's block
kernels in :mod:`catnn.compiler.kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from catnn.diagram import Diagram

__all__ = ["Factorization", "factorize", "inverse"]

Axes = tuple[int, ...]


@dataclass(frozen=True)
class Factorization:
    """The planar factorisation of one diagram, as 0-based axis tuples.

    ``top``: top-only blocks (output axes); ``propagating``: (output axes, input axes) pairs;
    ``bottom``: bottom-only blocks (input axes); each in planar order.
    """

    diagram: Any
    top: tuple[Axes, ...]
    propagating: tuple[tuple[Axes, Axes], ...]
    bottom: tuple[Axes, ...]

    @property
    def k(self) -> int:
        return self.diagram.k

    @property
    def l(self) -> int:
        return self.diagram.l

    @property
    def sigma_in(self) -> Axes:
        """Input axes in planar order: planar input position i is original input axis ``sigma_in[i]``."""
        return tuple(a for _, b in self.propagating for a in b) + tuple(a for b in self.bottom for a in b)

    @property
    def sigma_out(self) -> Axes:
        """Output axes in planar order: planar output position i is original output axis ``sigma_out[i]``."""
        return tuple(a for b in self.top for a in b) + tuple(a for t, _ in self.propagating for a in t)

    @property
    def planar(self) -> Diagram:
        """The planar middle factor d' (a :class:`~catnn.diagram.Diagram` on the same block sizes)."""
        k, l = self.k, self.l
        blocks, top_pos, bottom_pos = [], 0, 0
        for block in self.top:
            blocks.append(range(top_pos + 1, top_pos + len(block) + 1))
            top_pos += len(block)
        for t, b in self.propagating:
            outs = range(top_pos + 1, top_pos + len(t) + 1)
            ins = range(l + bottom_pos + 1, l + bottom_pos + len(b) + 1)
            blocks.append([*outs, *ins])
            top_pos, bottom_pos = top_pos + len(t), bottom_pos + len(b)
        for block in self.bottom:
            blocks.append(range(l + bottom_pos + 1, l + bottom_pos + len(block) + 1))
            bottom_pos += len(block)
        return Diagram(blocks, k, l)

    def input_permutation(self) -> Diagram:
        """σ_k: the permutation diagram that puts the inputs in planar order."""
        return Diagram.permutation(self.sigma_in)

    def output_permutation(self) -> Diagram:
        """σ_l: the permutation diagram that puts the planar outputs back in place."""
        return Diagram.permutation(inverse(self.sigma_out))

    def recompose(self) -> Any:
        """``σ_k >> d' >> σ_l`` computed with the diagram algebra (equals the diagram, exactly)."""
        return self.input_permutation() >> self.planar >> self.output_permutation()


def inverse(perm: Axes) -> Axes:
    """The inverse permutation.

    >>> inverse((2, 0, 1))
    (1, 2, 0)
    """
    out = [0] * len(perm)
    for i, p in enumerate(perm):
        out[p] = i
    return tuple(out)


@lru_cache(maxsize=4096)
def factorize(d: Any) -> Factorization:
    """The planar factorisation of ``d`` (cached; diagrams are immutable and hashable)."""
    l = d.l
    if type(d) is Diagram:
        return _factorize_canonical(d)
    top = sorted((tuple(v - 1 for v in b) for b in d.top_blocks()), key=min)          # outputs only
    bottom = sorted((tuple(v - l - 1 for v in b) for b in d.bottom_blocks()), key=min)  # inputs only
    prop = sorted(((tuple(v - 1 for v in b if v <= l), tuple(v - l - 1 for v in b if v > l))
                   for b in d.propagating_blocks()), key=lambda tb: min(tb[1]))
    return Factorization(d, tuple(top), tuple(prop), tuple(bottom))


def _factorize_canonical(d: Diagram) -> Factorization:
    """:func:`factorize` of a partition diagram in one pass: its canonical blocks are sorted tuples in
    order of their smallest label, so the top-only and bottom-only blocks already come in planar order."""
    l = d.l
    top, prop, bottom = [], [], []
    for b in d.blocks:
        if b[-1] <= l:
            top.append(tuple(v - 1 for v in b))
        elif b[0] > l:
            bottom.append(tuple(v - l - 1 for v in b))
        else:
            prop.append((tuple(v - 1 for v in b if v <= l), tuple(v - l - 1 for v in b if v > l)))
    prop.sort(key=lambda tb: tb[1][0])
    return Factorization(d, tuple(top), tuple(prop), tuple(bottom))
