"""Mixed-order feature spaces: direct sums of tensor powers with channels, ``Σ_k C_k · V^{⊗k}``.

>>> from catnn.features import V, space
>>> s = 10*V**0 + 5*V + 2*V**2            # EMLP's notation works as written
>>> s, str(s), s.orders, s[1], s.total
(space('10*V0 + 5*V1 + 2*V2'), '10*V0 + 5*V1 + 2*V2', (0, 1, 2), 5, 17)
>>> space("10*V0 + 5*V1 + 2*V2") == s == space({0: 10, 1: 5, 2: 2})
True
>>> s.dim(3)                              # 10 + 5*3 + 2*9 numbers per sample at n = 3
43

``V`` is R^n, ``V**k`` (or ``V<k>`` in text) its k-th tensor power, ``c * W`` the direct sum of c
copies (c channels). ``+`` is the direct sum, ``@`` the tensor product (``(V + V**0) @ V`` is
``V2 + V1``), ``**`` a tensor power. ``str`` prints the canonical text, which :func:`space` reads
back. The order-k part of a batch is a tensor ``(B, C_k, n, ..., n)`` with k axes of size n; a
mixed batch is a dict ``{k: tensor}`` (see :mod:`catnn.networks`). This module needs no torch.

**Typed orders** (products of groups, ``docs/products.md``): over G_0 × … × G_{r-1} an order is a
tuple (k_0, …, k_{r-1}), one entry per sort, written ``V(k_0,...,k_{r-1})``; every order of one space
has the same length. The part of order k is a tensor ``(B, C_k, n_0 × k_0 axes, n_1 × k_1 axes, …)``.

>>> w = space("2*V(1,0) + V(1,1)")              # over S x S: 2 vectors of sort 0 and a matrix
>>> w.orders, w.sorts, w.dim((3, 4)), str(w @ w)
(((1, 0), (1, 1)), 2, 18, '4*V(2,0) + 4*V(2,1) + 1*V(2,2)')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from numbers import Integral
from typing import Any, Union

from . import messages
from .errors import CatnnError

__all__ = ["FeatureSpace", "FeatureSpaceError", "space", "V"]


class FeatureSpaceError(CatnnError, ValueError):
    """A feature space that cannot be read or built."""


Order = Union[int, tuple[int, ...]]


class FeatureSpace:
    """``Σ_k C_k · V^{⊗k}``: tensor orders k with C_k >= 1 channels each (immutable, hashable).

    >>> FeatureSpace({2: 3, 0: 1}).items()
    ((0, 1), (2, 3))
    >>> FeatureSpace({(0, 1): 1, (1, 0): 2}).items()      # typed orders: one entry per sort
    (((0, 1), 1), ((1, 0), 2))
    >>> str(FeatureSpace({}))                 # the zero space
    '0'
    """

    __slots__ = ("_items",)

    def __init__(self, channels: Mapping[Order, int] | Iterable[tuple[Order, int]] = ()) -> None:
        pairs = channels.items() if isinstance(channels, Mapping) else channels
        merged: dict[Order, int] = {}
        for order, count in pairs:
            key = _order(order)
            if key is None or not (_whole(count) and count >= 1):
                raise FeatureSpaceError(messages.FEATURE_SPACE_ENTRY.format(order=order, channels=count))
            merged[key] = merged.get(key, 0) + int(count)
        if len({_rank(k) for k in merged}) > 1:
            raise FeatureSpaceError(messages.FEATURE_SPACE_SORTS.format(orders=", ".join(map(str, merged))))
        # sorted by order alone: under torch.compile a count read from a shape may be symbolic
        object.__setattr__(self, "_items", tuple(sorted(merged.items(), key=lambda item: item[0])))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("FeatureSpace is immutable")

    # -- reading ------------------------------------------------------------------------------
    def items(self) -> tuple[tuple[Order, int], ...]:
        """``(order, channels)`` pairs by increasing order."""
        return self._items

    @property
    def orders(self) -> tuple[Order, ...]:
        """The tensor orders present, increasing."""
        return tuple(k for k, _ in self._items)

    @property
    def sorts(self) -> int | None:
        """The number of sorts of a typed space (orders are tuples); None for plain int orders."""
        return _rank(self._items[0][0]) if self._items else None

    @property
    def total(self) -> int:
        """Channels summed over all orders."""
        return sum(c for _, c in self._items)

    @property
    def is_single(self) -> bool:
        """True for a single tensor order (``C * V**k``)."""
        return len(self._items) == 1

    def dim(self, n: int | tuple[int, ...]) -> int:
        """The dimension Σ_k C_k n^k of one sample (typed: Σ_k C_k Π_s n_s^{k_s}, ``n`` one size per sort)."""
        if isinstance(n, tuple):
            return sum(c * math.prod(size**e for size, e in zip(n, k)) for k, c in self._items)
        return sum(c * n**k for k, c in self._items)

    def with_channels(self, channels: int) -> FeatureSpace:
        """The same orders, ``channels`` each.

        >>> space("V0 + V2").with_channels(4)
        space('4*V0 + 4*V2')
        """
        return FeatureSpace({k: channels for k in self.orders})

    def __getitem__(self, order: Order) -> int:
        return dict(self._items).get(order, 0)

    def __contains__(self, order: object) -> bool:
        return order in self.orders

    def __iter__(self) -> Iterator[Order]:
        return iter(self.orders)

    def __len__(self) -> int:
        return len(self._items)

    # -- algebra ------------------------------------------------------------------------------
    def __add__(self, other: FeatureSpace) -> FeatureSpace:
        if not isinstance(other, FeatureSpace):
            return NotImplemented
        return FeatureSpace([*self._items, *other._items])

    def __mul__(self, count: int) -> FeatureSpace:
        if not _whole(count) or count < 0:
            return NotImplemented
        return FeatureSpace({k: c * count for k, c in self._items if c * count})

    __rmul__ = __mul__

    def __matmul__(self, other: FeatureSpace) -> FeatureSpace:
        """The tensor product: ``V^a ⊗ V^b = V^(a+b)``, channels multiplied."""
        if not isinstance(other, FeatureSpace):
            return NotImplemented
        return FeatureSpace([(_add(a, b), c * d) for a, c in self._items for b, d in other._items])

    def __pow__(self, power: int) -> FeatureSpace:
        """The tensor power (``W**0`` is one invariant channel, ``V**0``)."""
        if not _whole(power) or power < 0:
            return NotImplemented
        result = FeatureSpace({(0,) * self.sorts if self.sorts else 0: 1})
        for _ in range(int(power)):
            result = result @ self
        return result

    # -- identity and printing ----------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, FeatureSpace) and other._items == self._items

    def __hash__(self) -> int:
        return hash(("FeatureSpace", self._items))

    def __str__(self) -> str:
        return " + ".join(f"{c}*V{_order_text(k)}" for k, c in self._items) or "0"

    def __repr__(self) -> str:
        return f"space({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FeatureSpace, (dict(self._items),))


_TERM = re.compile(r"(?:(\d+)\s*\*\s*)?V(?:(\d+)|\s*(?:\*\*|\^)\s*(\d+)|\(\s*(\d+(?:\s*,\s*\d+)*)\s*,?\s*\))?")


def space(spec: Union[str, FeatureSpace, Mapping[int, int], int]) -> FeatureSpace:
    """A :class:`FeatureSpace` from text (``"10*V0 + 5*V1"``, ``"2*V**2"``), a dict, or a space.

    An int k is the single order k with one channel.

    >>> space("3*V + V**2"), space(2)
    (space('3*V1 + 1*V2'), space('1*V2'))
    >>> space("3*W1")
    Traceback (most recent call last):
    ...
    catnn.features.FeatureSpaceError: cannot read the feature space '3*W1': '3*W1' is not a term c*V<k>; write it like 10*V0 + 5*V1 + 2*V2
    """
    if isinstance(spec, FeatureSpace):
        return spec
    if isinstance(spec, Mapping):
        return FeatureSpace(spec)
    if _whole(spec) and spec >= 0:
        return FeatureSpace({int(spec): 1})
    if not isinstance(spec, str):
        raise FeatureSpaceError(messages.FEATURE_SPACE_TEXT.format(text=spec, why=f"a {type(spec).__name__}"))
    return _parse(spec)


def _parse(text: str) -> FeatureSpace:
    if text.strip() == "0":
        return FeatureSpace({})
    pairs = []
    for term in text.split("+"):
        match = _TERM.fullmatch(term.strip())
        if match is None:
            why = "an empty term" if not term.strip() else f"{term.strip()!r} is not a term c*V<k>"
            raise FeatureSpaceError(messages.FEATURE_SPACE_TEXT.format(text=text, why=why))
        count, order, typed = match.group(1), match.group(2) or match.group(3), match.group(4)
        if count is not None and int(count) == 0:
            raise FeatureSpaceError(messages.FEATURE_SPACE_TEXT.format(text=text, why="a channel count of 0"))
        key: Order = tuple(int(e) for e in typed.split(",")) if typed else int(order) if order is not None else 1
        pairs.append((key, int(count) if count is not None else 1))
    return FeatureSpace(pairs)


def _whole(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _order(value: Any) -> Order | None:
    """An int order >= 0, or a non-empty tuple of them (typed); None for anything else."""
    if _whole(value) and value >= 0:
        return int(value)
    if isinstance(value, tuple) and value and all(_whole(e) and e >= 0 for e in value):
        return tuple(int(e) for e in value)
    return None


def _rank(order: Order) -> int | None:
    return len(order) if isinstance(order, tuple) else None


def _add(a: Order, b: Order) -> Order:
    return tuple(x + y for x, y in zip(a, b)) if isinstance(a, tuple) else a + b


def _order_text(order: Order) -> str:
    """``2`` or ``(1,0)``: how an order follows the V of a term."""
    return f"({','.join(map(str, order))})" if isinstance(order, tuple) else str(order)


#: V = R^n itself, one channel of order 1
V = FeatureSpace({1: 1})
