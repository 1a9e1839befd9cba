"""What a learnable layer is, without torch: its entries, diagrams, plan and initialisation rule.

>>> import catnn
>>> s = layer_structure(catnn.group("S"), 2, 2)
>>> len(s.entries), len(s.plan.diagrams), len(s.plan.bias_diagrams), s.mixing is None
(15, 15, 2, True)

Shared by :class:`catnn.nn.EquivariantLinear` (in memory) and the module writer
(:mod:`catnn.compiler.write`), so a compiled module and an in-memory layer run the same plan.

Entries are what the weights multiply: diagrams, or morphisms (``learn(f)`` with f a linear
combination). Morphism entries expand into their distinct diagrams through a coefficient matrix
``mixing[d][j]`` (exact Laurent polynomials in n): the effective per-diagram weight is
``Σ_j mixing[d][j] · weight[j]``.

Initialisation rule (derived in :mod:`catnn.nn`): entry j gets standard deviation
``init_scale[j] / sqrt(C_in)`` with ``init_scale[j] = 1 / sqrt(|T| · v_j)``.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from catnn import messages
from catnn.coeff import MPoly, Poly
from catnn.errors import CatnnError
from catnn.groups.product import ProductGroup, ProductMorphism
from catnn.kinds import kind_of
from catnn.morphism import Morphism

from .plan import Plan, build_plan

__all__ = ["LayerStructure", "layer_structure", "gc_paused", "DEFAULT_INIT_N"]

#: the n the initialisation assumes for layers whose n is left free
DEFAULT_INIT_N = 16


@dataclass(frozen=True)
class LayerStructure:
    """A layer's entries, its distinct diagrams with the mixing matrix, and its plan."""

    group: Any
    k: int
    l: int
    entries: tuple[Any, ...]
    mixing: tuple[tuple[Poly, ...], ...] | None
    plan: Plan
    normalize: bool

    def init_scale(self, init_n: int | None = None) -> list[float]:
        """``1 / sqrt(|T| · v_j)`` per entry (divide by sqrt(in_channels) for the std). A product
        diagram's v and "distinct top" are those of its parts, multiplied and joined."""
        if isinstance(self.group, ProductGroup):
            return _product_scale(self, init_n or DEFAULT_INIT_N)
        n = self.group.n if self.group.n is not None else (init_n or DEFAULT_INIT_N)

        def variance(d: Any) -> float:
            if kind_of(d) == "graph":  # a bilabelled graph of Aut(G): ||X_H||^2 / n^l
                from .plan_graph import graph_variance
                return graph_variance(self.group, d, self.normalize)
            b = len(d.bottom_blocks())
            return float(n) ** (-b if self.normalize else b)

        def parts(e: Any) -> list[tuple[Any, float]]:
            if isinstance(e, Morphism):   # a coefficient past the float range: scale 0 (the run refuses it)
                return [(d, _float(c.evaluate(n))) for d, c in e.terms]
            return [(e, 1.0)]

        v = [sum(c * c * variance(d) for d, c in parts(e)) or 1.0 for e in self.entries]
        t = sum(1 for e in self.entries if any(_distinct_top(d) for d, _ in parts(e))) or len(self.entries) or 1
        return [1.0 / math.sqrt(t * vj) for vj in v]


def _product_scale(s: LayerStructure, init_n: int) -> list[float]:
    """:meth:`LayerStructure.init_scale` of a product of groups: each entry a tuple of parts, or a
    linear combination of such tuples (``learn(f)``; coefficients at the fixed sizes, else ``init_n``)."""
    factors = s.group.factors
    sizes = tuple(init_n if f.n is None else f.n for f in factors)

    def variance(d: Any) -> float:     # the product of the parts' v (|T| = 1 each)
        scales = [layer_structure(f, p.k, p.l, (p,), bias=False, normalize=s.normalize).init_scale(init_n)[0]
                  for f, p in zip(factors, d.parts)]
        return math.prod(1.0 / (x * x) for x in scales)

    def parts(e: Any) -> list[tuple[Any, float]]:
        if isinstance(e, ProductMorphism):
            return [(d, _float(c.evaluate(sizes))) for d, c in e.terms]
        return [(e, 1.0)]

    v = [sum(c * c * variance(d) for d, c in parts(e)) or 1.0 for e in s.entries]
    top = sum(1 for e in s.entries if any(all(_distinct_top(p) for p in d.parts) for d, _ in parts(e)))
    t = top or len(s.entries) or 1
    return [1.0 / math.sqrt(t * vj) for vj in v]


def _distinct_top(d: Any) -> bool:
    """True if a diagram's top row has one vertex per block (it reaches positions with distinct indices)."""
    if kind_of(d) == "graph":
        return len(set(d.outputs)) == d.l
    if kind_of(d) == "partition":  # canonical blocks are sorted: a second vertex is the only candidate
        return all(len(block) < 2 or block[1] > d.l for block in d.blocks)
    return all(sum(1 for v in block if v <= d.l) <= 1 for block in d.blocks)


def _float(value: Any) -> float:
    """``float(value)``, or ±inf past the float range (where ``float`` of a Fraction raises)."""
    try:
        return float(value)
    except OverflowError:
        return -math.inf if value < 0 else math.inf


def layer_structure(group: Any, k: int, l: int, diagrams: Any = None, *, bias: bool = True,
                    normalize: bool = False, lifted: bool = False) -> LayerStructure:
    """The structure of a layer of ``group`` from k to l (``diagrams`` None: the spanning set).

    ``lifted``: ``diagrams`` are the ``entries`` of an earlier structure (a layer rebuilding its
    plan, e.g. after unpickling), used as they are instead of lifted and checked one by one again.
    """
    if diagrams is None:
        entries = tuple(group.spanning_set(k, l))
    else:
        entries = tuple(diagrams) if lifted else _entries(group, k, l, diagrams)
    return _structure(group, k, l, entries, bool(bias), bool(normalize))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector switched off for the block, then back to its state before.

    Building a big layer makes millions of small tuples, none of them cyclic garbage; with the
    collector on, its repeated passes over that growing heap cost as much as the work itself.

    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@lru_cache(maxsize=256)
def _structure(group: Any, k: int, l: int, entries: tuple[Any, ...], bias: bool, normalize: bool) -> LayerStructure:
    diagrams, mixing = _expand(entries)
    bias_diagrams = group.spanning_set(tuple(0 for _ in l) if isinstance(l, tuple) else 0, l) if bias else ()
    with gc_paused():
        plan = build_plan(group, k, l, diagrams, bias_diagrams=bias_diagrams, normalize=normalize)
    return LayerStructure(group, k, l, entries, mixing, plan, normalize)


def _entries(group: Any, k: int, l: int, diagrams: Any) -> tuple[Any, ...]:
    """The learnable entries, lifted into the group's category and checked for arity."""
    out = []
    for d in diagrams:
        if (d.k, d.l) != (k, l):
            raise CatnnError(messages.LAYER_ARITY.format(diagram=d, dk=d.k, dl=d.l, k=k, l=l))
        m = group.lift(d)
        bare = len(m.terms) == 1 and m.terms[0][1] == 1
        out.append(m.terms[0][0] if bare else m)
    return tuple(out)


def _expand(entries: tuple[Any, ...]) -> tuple[tuple[Any, ...], tuple[tuple[Poly, ...], ...] | None]:
    """Distinct diagrams and the (diagrams × entries) coefficient matrix (None: the identity); over a
    product of groups the coefficients are MPoly in n_0, n_1, …"""
    morphisms = (Morphism, ProductMorphism)
    if not any(isinstance(e, morphisms) for e in entries):
        return entries, None
    scalar = MPoly if any(isinstance(e, ProductMorphism) for e in entries) else Poly
    index: dict[Any, int] = {}
    for e in entries:
        for d in (e.diagrams if isinstance(e, morphisms) else (e,)):
            index.setdefault(d, len(index))
    matrix = [[scalar() for _ in entries] for _ in index]
    for j, e in enumerate(entries):
        for d, c in (e.terms if isinstance(e, morphisms) else ((e, scalar.const(1)),)):
            matrix[index[d]][j] = c
    return tuple(index), tuple(tuple(row) for row in matrix)

