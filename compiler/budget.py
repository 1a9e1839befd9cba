"""A work budget for checking: the diagram algebra a program asks for is estimated before it is done.

>>> from catnn.groups import group
>>> from catnn.diagram import swap
>>> m = group("S").lift(swap() + swap().T)
>>> pair_work(m, m, 4)          # 1 x 1 term pairs x 4 vertices, plus 2 x 1 x 1 coefficient products
6
>>> budget = Budget(10)
>>> budget.spend(8, "this product")
>>> budget.spend(8, "this product")
Traceback (most recent call last):
  ...
catnn.errors.LimitError: this program's diagram algebra is too large: the limit is 10 work units (this product needs about 8, after 8 already spent); catnn refuses rather than run for minutes

Checking a program multiplies, composes and expands morphisms; each such step costs about (term
pairs) x (vertices of the result) x (terms one pair can expand into) plus the products of their
coefficient polynomials. :class:`Budget` adds up these estimates over the whole program and
refuses the step that would pass :data:`MAX_WORK` before doing it, so hostile programs
(``m1 = m0 >> m0``, ``m2 = m1 >> m1``, ... thirty times; ``eps(2, 1) ** 500``) end in a second or
two with an error at the expression instead of running for minutes.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from catnn import messages
from catnn.errors import CatnnError, LimitError

__all__ = ["Budget", "MAX_WORK", "MAX_SOURCE_BYTES", "MAX_WEIGHTS", "pair_work", "pair_cost", "coefficient_work",
           "source_estimate", "stage_weights"]

#: the most work units the expressions of one program may take (under a second of CPU on a laptop)
MAX_WORK = 100_000
#: a coefficient product of numbers this many bits long counts one extra unit
_BITS_PER_UNIT = 4000


class Budget:
    """The work units a program has spent, refused past ``limit``."""

    def __init__(self, limit: int = MAX_WORK) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, units: int, what: str) -> None:
        """Add ``units``; a :class:`LimitError` (without a place: the checker adds it) past the limit."""
        if self.spent + units > self.limit:
            raise LimitError(messages.LIMIT_EXCEEDED.format(
                what="this program's diagram algebra",
                limit=f"{self.limit} work units ({what} needs about {units}, after {self.spent} already spent); "
                      "catnn refuses rather than run for minutes"))
        self.spent += units


def pair_work(a: Any, b: Any, vertices: int, group: Any = None, middle: int = 0) -> int:
    """The work of combining every term of morphism ``a`` with every term of ``b`` into diagrams of
    ``vertices`` vertices (``middle`` glued ones for a composition): pairs x the cost of one pair, plus
    the coefficient products."""
    pairs = len(a.terms) * len(b.terms)
    return pairs * pair_cost(a, b, vertices, group, middle) + coefficient_work(a, b)


def pair_cost(a: Any, b: Any, vertices: int, group: Any = None, middle: int = 0) -> int:
    """The work of one pair of diagrams: its vertices for partition diagrams and graphs; times n! where
    both sides hold ε-diagrams (a product of two Levi-Civita symbols is a sum over permutations); for
    A_n with a jellyfish on either side, every set partition of the result's vertices into at most n
    blocks (``alternating_terms``), each about 3 units per vertex (its refinements) and, for a
    composition, a sum over the glued vertices' values (measured: about n^middle / 16 units)."""
    kinds = {getattr(d, "kind", "partition") for d, _ in (*a.terms, *b.terms)}
    n = getattr(group, "n", None)
    if n is None:
        return max(vertices, 1)
    if "jellyfish" in kinds:
        outer = vertices - middle
        return 3 * outer * _partitions_at_most(outer, n) * max(1, n ** min(middle, 8) // 16)
    special = [any(getattr(d, "kind", "partition") == "epsilon" for d, _ in m.terms) for m in (a, b)]
    return max(vertices, 1) * (math.factorial(min(int(n), 12)) if all(special) else 1)


@lru_cache(maxsize=4096)
def _partitions_at_most(m: int, n: int) -> int:
    """The set partitions of m elements into at most n blocks (1 past 60 elements: the caller's budget is
    exceeded anyway, so the count saturates at 10^30)."""
    if m > 60:
        return 10 ** 30
    row = [1] + [0] * min(m, n)           # Stirling numbers S(i, j), j <= n, row by row
    for i in range(1, m + 1):
        row = [0] + [j * row[j] + row[j - 1] for j in range(1, len(row))]
    return sum(row) if m else 1


def coefficient_work(a: Any, b: Any) -> int:
    """The term products of multiplying every coefficient polynomial of ``a`` by every one of ``b``."""
    return 2 * _poly_size(a) * _poly_size(b)


def _poly_size(m: Any) -> int:
    polys = [c for _, c in m.terms]
    size = sum(len(p.terms) for p in polys)
    bits = max((max(abs(v.numerator).bit_length(), v.denominator.bit_length())
                for p in polys for v in p.terms.values()), default=0)
    return size * (1 + bits // _BITS_PER_UNIT)




# -- the module writer's budget ----------------------------------------------------------------------------
#: the largest module ``catnn compile`` writes (an S_n 5 -> 5 layer's module is about 20 MB)
MAX_SOURCE_BYTES = 24 << 20
#: bytes of generated source per (diagram, axis) of a plan, measured on S_n layers and sums of permutations
_BYTES_PER_AXIS = 16
#: the fixed part of a function (morphisms) and of a class (layers)
_FUNCTION_BYTES, _CLASS_BYTES = 128, 4096


def source_estimate(group: Any, value: Any) -> int:
    """About how many bytes of source a definition's module code takes, before planning it.

    >>> from catnn.groups import group
    >>> from catnn.spec import LayerSpec
    >>> source_estimate(group("S"), LayerSpec("q", "S", None, 4, 4))     # 4140 diagrams x 9 axes x 16 + 4096
    600256
    """
    from catnn.groups.product import ProductDiagram, ProductMorphism
    from catnn.kinds import kind_of
    from catnn.morphism import Morphism
    from catnn.spec import LayerSpec, MixedLayerSpec
    if isinstance(value, (Morphism, ProductMorphism)):
        return _FUNCTION_BYTES + _BYTES_PER_AXIS * sum(_axes(d.k, d.l) for d, _ in value.terms)
    if kind_of(value) is not None or isinstance(value, ProductDiagram):         # one diagram
        return _FUNCTION_BYTES + _BYTES_PER_AXIS * _axes(value.k, value.l)
    if isinstance(value, MixedLayerSpec):
        pairs = [(k, l) for k in value.in_orders for l in value.out_orders]
        return _CLASS_BYTES + sum(_BYTES_PER_AXIS * _count(group, k, l) * _axes(k, l) for k, l in pairs)
    if isinstance(value, LayerSpec):
        count = len(value.diagrams) if value.diagrams is not None else _count(group, value.k, value.l)
        return _CLASS_BYTES + _BYTES_PER_AXIS * count * _axes(value.k, value.l)
    return 0           # a network: its stages are the layers' classes, written once each


def _axes(k: Any, l: Any) -> int:
    """Axes of a k -> l map plus one, orders plain or typed (one entry per sort).

    >>> _axes(2, 1), _axes((1, 1), (1, 0))
    (4, 4)
    """
    return sum(k if isinstance(k, tuple) else (k,)) + sum(l if isinstance(l, tuple) else (l,)) + 1


def _count(group: Any, k: Any, l: Any) -> int:
    """The spanning set's size, or 0 where the group cannot count it (e.g. it needs n)."""
    try:
        return group.spanning_count(k, l)
    except (NotImplementedError, CatnnError):
        return 0


# -- network stages' weights -------------------------------------------------------------------------------
#: the most weights one network stage may have (2^28 floats: a gigabyte), checked before any is allocated
MAX_WEIGHTS = 1 << 28


def stage_weights(group: Any, stage: Any) -> int:
    """How many weights a checked layer stage allocates: entries x input channels x output channels,
    block by block (a bilinear ``outer`` stage reads every pair of channels).

    >>> from catnn.groups import group
    >>> from catnn.features import FeatureSpace
    >>> from catnn.spec import LayerSpec, Stage
    >>> q = LayerSpec("q", "S", None, 2, 2)
    >>> stage_weights(group("S"), Stage("layer", "q", 3, 5, layer=q, in_space=FeatureSpace({2: 3}),
    ...                                 out_space=FeatureSpace({2: 5})))      # 15 diagrams x 3 x 5
    225
    """
    from catnn.spec import MixedLayerSpec
    spec = stage.layer
    if isinstance(spec, MixedLayerSpec):
        return sum(_count(group, k, l) * c * d for k, c in stage.in_space.items() for l, d in stage.out_space.items())
    count = len(spec.diagrams) if spec.diagrams is not None else _count(group, spec.k, spec.l)
    products = stage.in_channels ** 2 if getattr(spec, "outer", False) else stage.in_channels
    return max(count, 1) * products * stage.out_channels
