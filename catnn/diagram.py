"""Partition diagrams: the morphisms of the partition category P(n), in canonical form.

A (k, l)-diagram maps (R^n)^{⊗k} → (R^n)^{⊗l}. Its top row holds the l outputs, labelled 1..l,
its bottom row the k inputs, labelled l+1..l+k (Pearce-Crump's labelling). In DSL text the
outputs are written ``1..l`` and the inputs ``1'..k'``.

>>> swap = Diagram.from_blocks([[1, 4], [2, 3]], k=2, l=2)
>>> print(swap)
{1, 2'} {2, 1'}
>>> swap >> swap == Diagram.identity(2)
True
>>> (cup() >> cap()).coefficient(Diagram.from_blocks([], k=0, l=0))
Poly('n')

Laws (checked in the tests on random diagrams): ``>>`` is associative with the identities as
units, ``@`` is associative with ``identity(0)`` as unit, and ``(f >> g).T == g.T >> f.T``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from numbers import Integral
from typing import TYPE_CHECKING

from . import messages
from .errors import DiagramError
from .kinds import DiagramOps
from .unionfind import components

if TYPE_CHECKING:
    from .coeff import Poly

__all__ = [
    "Diagram", "identity", "permutation", "swap", "merge", "split", "unit", "counit", "cup", "cap",
    "set_partitions", "perfect_matchings",
]


class Diagram(DiagramOps):
    """An immutable, hashable (k, l)-partition diagram.

    >>> d = Diagram.from_blocks([[1, 2, 3]], k=1, l=2)   # split: 1 -> 2
    >>> d.k, d.l, d.blocks
    (1, 2, ((1, 2, 3),))
    """

    __slots__ = ("k", "l", "blocks", "_hash")
    kind = "partition"

    #: the sort order of diagram kinds inside a :class:`~catnn.morphism.Morphism`
    kind_rank = 0

    def __init__(self, blocks: Iterable[Iterable[int]], k: int, l: int) -> None:
        for value in (k, l):
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
                raise DiagramError(messages.NEGATIVE_ARITY.format(value=value))
        k, l = int(k), int(l)           # numpy integers welcome, stored as int
        self.k, self.l = k, l
        self.blocks = _canonical(blocks, k, l)
        self._hash = hash((self.k, self.l, self.blocks))

    @classmethod
    def from_blocks(cls, blocks: Iterable[Iterable[int]], *, k: int, l: int) -> Diagram:
        """A diagram from blocks of 1-based labels (outputs 1..l, then inputs l+1..l+k)."""
        return cls(blocks, k, l)

    @classmethod
    def identity(cls, k: int) -> Diagram:
        """The identity on k strands: output i joined to input i."""
        return cls(([i, k + i] for i in range(1, k + 1)), k, k)

    @classmethod
    def permutation(cls, perm: Sequence[int]) -> Diagram:
        """Output i (0-based) joined to input ``perm[i]``; its matrix is ``np.transpose(x, perm)``.

        >>> Diagram.permutation([1, 0]) == swap()
        True
        """
        k = len(perm)
        if sorted(perm) != list(range(k)):
            raise DiagramError(messages.NOT_PERMUTATION.format(perm=list(perm), last=k - 1))
        return cls(([i + 1, k + p + 1] for i, p in enumerate(perm)), k, k)

    # -- structure ----------------------------------------------------------------------------
    def top_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Blocks lying wholly in the top row (outputs only)."""
        return tuple(b for b in self.blocks if b[-1] <= self.l)

    def bottom_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Blocks lying wholly in the bottom row (inputs only)."""
        return tuple(b for b in self.blocks if b[0] > self.l)

    def propagating_blocks(self) -> tuple[tuple[int, ...], ...]:
        """Blocks meeting both rows."""
        return tuple(b for b in self.blocks if b[0] <= self.l < b[-1])

    @property
    def num_blocks(self) -> int:
        """The number of blocks."""
        return len(self.blocks)

    def is_brauer(self) -> bool:
        """True if every block has exactly two vertices."""
        return all(len(b) == 2 for b in self.blocks)

    def is_permutation(self) -> bool:
        """True if every block joins exactly one output to one input."""
        return self.k == self.l and all(len(b) == 2 and b[0] <= self.l < b[1] for b in self.blocks)

    def is_planar(self) -> bool:
        """True if the blocks do not cross when drawn inside the rectangle.

        >>> swap().is_planar(), identity(2).is_planar()
        (False, True)
        """
        order = {v: i for i, v in enumerate([*range(1, self.l + 1), *range(self.l + self.k, self.l, -1)])}
        spans = [sorted(order[v] for v in b) for b in self.blocks]
        owner = {p: i for i, s in enumerate(spans) for p in s}
        return not any(
            owner[a] != owner[b] and owner[a] == owner[c] and owner[b] == owner[d]
            for a in range(len(owner)) for b in range(a + 1, len(owner))
            for c in range(b + 1, len(owner)) for d in range(c + 1, len(owner))
        )

    def sort_key(self) -> tuple:
        """A total order on diagrams, used to print morphisms deterministically."""
        return (self.kind_rank, self.k, self.l, len(self.blocks), self.blocks)

    # -- algebra ------------------------------------------------------------------------------
    def compose(self, other: Diagram) -> tuple[int, Diagram]:
        """``self`` then ``other``: the number c of closed components removed, and the diagram.

        >>> cap().compose(cup())
        (0, Diagram.from_blocks([[1, 2], [3, 4]], k=2, l=2))
        """
        if not isinstance(other, Diagram) or type(other) is not type(self):
            raise DiagramError(messages.NOT_DIAGRAM.format(kind=type(other).__name__))
        if self.l != other.k:
            raise DiagramError(messages.ARITY_COMPOSE.format(
                left=self, lout=self.l, right=other, rin=other.k))
        m, mid, k = other.l, self.l, self.k
        # stacked vertices: 0..m-1 other's top, m..m+mid-1 the glued row, then self's bottom;
        # other's label v sits at v-1 and self's label v at m+v-1
        groups = components(
            [[v - 1 for v in b] for b in other.blocks] + [[m + v - 1 for v in b] for b in self.blocks],
            m + mid + k,
        )
        outer = [[v + 1 if v < m else v - mid + 1 for v in g if v < m or v >= m + mid] for g in groups]
        closed = sum(1 for g in outer if not g)
        return closed, Diagram([g for g in outer if g], k, m)

    def tensor(self, other: Diagram) -> Diagram:
        """``self`` placed left of ``other``.

        >>> identity(1).tensor(identity(1)) == identity(2)
        True
        """
        if not isinstance(other, Diagram) or type(other) is not type(self):
            raise DiagramError(messages.NOT_DIAGRAM.format(kind=type(other).__name__))
        l1, l2, k1 = self.l, other.l, self.k
        left = [[v if v <= l1 else v + l2 for v in b] for b in self.blocks]
        right = [[v + l1 if v <= l2 else v + l1 + k1 for v in b] for b in other.blocks]
        return Diagram(left + right, self.k + other.k, l1 + l2)

    @property
    def T(self) -> Diagram:
        """The flip: rows exchanged, a (l, k)-diagram; its matrix is the transpose.

        >>> split().T == merge()
        True
        """
        return Diagram(([v + self.k if v <= self.l else v - self.l for v in b] for b in self.blocks),
                       self.l, self.k)

    # morphism-protocol hooks: how a Morphism composes and tensors terms of this kind
    def _compose_terms(self, other: Diagram, loop: Poly) -> list[tuple[Poly, Diagram]]:
        closed, result = self.compose(other)
        return [(loop**closed, result)]

    def _tensor_terms(self, other: Diagram) -> list[tuple[Poly, Diagram]]:
        from .coeff import Poly
        return [(Poly.const(1), self.tensor(other))]

    # -- identity and printing ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self.k == other.k and self.l == other.l and self.blocks == other.blocks
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        """DSL text that parses back to this diagram; the empty 0 -> 0 diagram is ``id(0)``."""
        if not self.blocks:
            return "id(0)"
        return " ".join("{" + ", ".join(self.label_name(v) for v in b) + "}" for b in self.blocks)

    def __repr__(self) -> str:
        blocks = [list(b) for b in self.blocks]
        return f"Diagram.from_blocks({blocks}, k={self.k}, l={self.l})"


def _canonical(blocks: Iterable[Iterable[int]], k: int, l: int) -> tuple[tuple[int, ...], ...]:
    """Sorted blocks of sorted labels; every label 1..k+l exactly once."""
    size = k + l
    seen: set[int] = set()
    result = []
    for block in blocks:
        labels = tuple(block)
        if not labels:
            raise DiagramError(messages.EMPTY_BLOCK)
        for v in labels:
            if isinstance(v, bool) or not isinstance(v, Integral) or not 1 <= v <= size:
                raise DiagramError(messages.LABEL_RANGE.format(label=v, k=k, l=l))
        labels = tuple(sorted(int(v) for v in labels))
        for v in labels:
            if v in seen:
                raise DiagramError(messages.LABEL_TWICE.format(label=v))
            seen.add(v)
        result.append(labels)
    missing = sorted(set(range(1, size + 1)) - seen)
    if missing:
        raise DiagramError(messages.LABEL_MISSING.format(label=missing[0]))
    return tuple(sorted(result))


# -- generators -------------------------------------------------------------------------------
def identity(k: int = 1) -> Diagram:
    """``id(k)``: k parallel strands."""
    return Diagram.identity(k)


def permutation(perm: Sequence[int]) -> Diagram:
    """The permutation diagram sending input ``perm[i]`` to output i."""
    return Diagram.permutation(perm)


def swap() -> Diagram:
    """The crossing 2 -> 2."""
    return Diagram([[1, 4], [2, 3]], 2, 2)


def merge() -> Diagram:
    """2 -> 1: both inputs and the output in one block (multiplication of the Frobenius algebra)."""
    return Diagram([[1, 2, 3]], 2, 1)


def split() -> Diagram:
    """1 -> 2: the input copied to both outputs."""
    return Diagram([[1, 2, 3]], 1, 2)


def unit() -> Diagram:
    """0 -> 1: the all-ones vector."""
    return Diagram([[1]], 0, 1)


def counit() -> Diagram:
    """1 -> 0: the sum of the entries."""
    return Diagram([[1]], 1, 0)


def cup() -> Diagram:
    """0 -> 2: the two outputs paired (drawn as ∪ under the top row); matrix vec(I)."""
    return Diagram([[1, 2]], 0, 2)


def cap() -> Diagram:
    """2 -> 0: the two inputs paired (∩ over the bottom row); the trace."""
    return Diagram([[1, 2]], 2, 0)


# -- enumeration ------------------------------------------------------------------------------
def set_partitions(m: int, max_blocks: int | None = None) -> Iterator[list[list[int]]]:
    """All set partitions of ``1..m`` (lazily, as restricted growth strings).

    >>> sum(1 for _ in set_partitions(4)), sum(1 for _ in set_partitions(4, max_blocks=2))
    (15, 8)
    """
    limit = m if max_blocks is None else max_blocks
    if m == 0:
        yield []
        return
    if limit < 1:       # m >= 1 vertices need at least one block
        return

    def grow(prefix: list[int], used: int) -> Iterator[list[int]]:
        if len(prefix) == m:
            yield prefix
            return
        for b in range(min(used + 1, limit)):
            yield from grow(prefix + [b], max(used, b + 1))

    for rgs in grow([0], 1):
        blocks: list[list[int]] = [[] for _ in range(max(rgs) + 1)]
        for v, b in enumerate(rgs, 1):
            blocks[b].append(v)
        yield blocks


def perfect_matchings(m: int) -> Iterator[list[list[int]]]:
    """All perfect matchings of ``1..m`` (none when m is odd), lazily.

    >>> sum(1 for _ in perfect_matchings(6))
    15
    """
    def match(rest: list[int]) -> Iterator[list[list[int]]]:
        if not rest:
            yield []
            return
        first = rest[0]
        for i in range(1, len(rest)):
            for tail in match(rest[1:i] + rest[i + 1:]):
                yield [[first, rest[i]], *tail]

    if m % 2 == 0:
        yield from match(list(range(1, m + 1)))
