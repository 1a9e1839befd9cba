"""The group interface every group implements, and the machinery they share.

>>> from catnn.groups import group
>>> G = group("O", n=3)
>>> [str(d) for d in G.spanning_set(1, 1)], G.dimension(2, 2), G.form is None
(["{1, 1'}"], 3, True)

A group is a strict monoidal functor from a diagram category to matrices: ``spanning_set`` lists
the diagrams whose images span Hom_G((R^n)^{⊗k}, (R^n)^{⊗l}), ``matrix`` evaluates the functor
densely (tests, small n), ``lift`` turns diagrams into morphisms of the group's category (its loop
value), and ``sample`` draws group elements in the same basis as ``matrix``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from numbers import Integral
from typing import Any

import numpy as np

from .. import messages
from ..coeff import Poly
from ..dense import as_matrix, combine
from ..errors import GroupError, LimitError
from ..morphism import Morphism, as_morphism

__all__ = ["Group", "MAX_SPANNING", "MAX_DENSE"]

#: the largest spanning set catnn enumerates; beyond it ``spanning_set`` raises LimitError
MAX_SPANNING = 250_000
#: the most entries ``matrix`` builds densely (n^(k+l)); beyond it LimitError, not a MemoryError
MAX_DENSE = 1 << 26


class Group:
    """Base class: a group acting on R^n through its defining representation."""

    #: canonical short name ("S", "O", ...) and accepted aliases
    name = ""
    aliases: tuple[str, ...] = ()
    #: the smallest n the group is defined for
    min_n = 1
    #: True for groups of permutation matrices, where pointwise nonlinearities are equivariant
    is_permutation_group = False

    def __init__(self, n: int | None = None) -> None:
        if n is not None and (isinstance(n, bool) or not isinstance(n, Integral) or not self.valid_size(n)):
            raise GroupError(messages.BAD_SIZE.format(group=self.name, condition=self.size_condition(), n=n))
        self.n = None if n is None else int(n)

    # -- what a subclass provides -------------------------------------------------------------
    def valid_size(self, n: int) -> bool:
        """True if the group is defined on R^n."""
        return n >= self.min_n

    def size_condition(self) -> str:
        """The rule for n, in words, for error messages."""
        return f"an integer n >= {self.min_n}"

    def spanning_count(self, k: int, l: int) -> int:
        """How many diagrams ``spanning_set(k, l)`` has (computed without enumerating)."""
        raise NotImplementedError

    def iter_spanning_set(self, k: int, l: int) -> Iterator[Any]:
        """The spanning diagrams, lazily, in a fixed order."""
        raise NotImplementedError

    def dimension(self, k: int, l: int) -> int:
        """The exact dimension of Hom_G((R^n)^{⊗k}, (R^n)^{⊗l})."""
        raise NotImplementedError

    def diagram_tensor(self, d: Any, n: int) -> np.ndarray:
        """The functor's image of one diagram as an exact integer (n,)*(l+k) tensor."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A random group element as an (n, n) matrix in the basis ``matrix`` uses."""
        raise NotImplementedError

    def accepts(self, d: Any) -> bool:
        """True if ``d`` is a diagram of this group's category."""
        raise NotImplementedError

    # -- shared behaviour ---------------------------------------------------------------------
    @property
    def loop(self) -> Poly:
        """The value of a closed loop in the group's diagram category (n; -n for Sp)."""
        return Poly.n()

    @property
    def form(self) -> np.ndarray | None:
        """The invariant bilinear form (Sp: J); None for the other groups."""
        return None

    def require_n(self, what: str) -> int:
        """The group's n, or a clear error saying that ``what`` needs one."""
        if self.n is None:
            raise GroupError(messages.NEEDS_N.format(what=what, group=self.name))
        return self.n

    def spanning_set(self, k: int, l: int) -> tuple[Any, ...]:
        """Diagrams whose matrices span Hom_G; refused above ``MAX_SPANNING`` diagrams."""
        _check_arity(k, l)
        count = self.spanning_count(k, l)
        if count > MAX_SPANNING:
            raise LimitError(messages.TOO_LARGE.format(
                what=f"the {self.name} spanning set for {k} -> {l}", count=_count_text(count),
                limit=MAX_SPANNING, m=k + l))
        return _cached_spanning(self, k, l)

    def basis(self, k: int, l: int) -> tuple[Any, ...]:
        """A linearly independent subset of ``spanning_set(k, l)`` of size ``dimension(k, l)``."""
        self.require_n("basis")
        return self.spanning_set(k, l)

    def matrix(self, x: Any) -> np.ndarray:
        """The dense exact (n^l, n^k) matrix of a diagram or morphism (int64, or Fractions).

        Every term must belong to the group's category (``accepts``), else GroupError.
        """
        n = self.require_n("matrix")
        morphism = self.lift(x)       # refuses diagrams outside the group's category
        entries = n ** (morphism.k + morphism.l)
        if entries > MAX_DENSE:
            raise LimitError(messages.TOO_LARGE.format(
                what=f"the dense {morphism.k} -> {morphism.l} matrix at n={n}", count=entries,
                limit=MAX_DENSE, m=morphism.k + morphism.l))
        parts = [(c, as_matrix(self.diagram_tensor(d, n), d.k, d.l, n)) for d, c in morphism.evaluate(n)]
        return combine(parts, (n**morphism.l, n**morphism.k))

    def lift(self, x: Any) -> Morphism:
        """``x`` as a morphism of this group's category (its loop value)."""
        for d, _ in as_morphism(x, self.loop).terms:
            if not self.accepts(d):
                raise GroupError(self.reject_message(d))
        return as_morphism(x, self.loop).with_loop(self.loop)

    def generator(self, name: str, args: tuple[int, ...] = ()) -> Any | None:
        """The named generator of the group's category, or None if there is none by that name.

        Every group knows ``id(k)`` (``id`` alone is ``id(1)``), ``swap``, ``merge``, ``split``,
        ``unit``, ``counit``, ``cup`` and ``cap``; groups may add their own (``eps`` for SO(n)).
        Whether a generator belongs to the group's category is checked by ``accepts``.
        """
        from .. import diagram
        fixed = {"swap": diagram.swap, "merge": diagram.merge, "split": diagram.split, "unit": diagram.unit,
                 "counit": diagram.counit, "cup": diagram.cup, "cap": diagram.cap}
        if name == "id" and len(args) <= 1:
            return diagram.identity(*args)
        if name in fixed and not args:
            return fixed[name]()
        return None

    def generator_names(self) -> tuple[str, ...]:
        """Names ``generator`` knows, for messages and completion."""
        return ("id", "swap", "merge", "split", "unit", "counit", "cup", "cap")

    def reject_message(self, d: Any) -> str:
        """Why ``d`` is not a diagram of this group's category."""
        return messages.NOT_DIAGRAM.format(kind=type(d).__name__)

    def compose(self, f: Any, g: Any) -> Morphism:
        """``f`` then ``g`` in this group's category (closed loops worth ``self.loop``)."""
        return self.lift(f) >> self.lift(g)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.n == self.n

    def __hash__(self) -> int:
        return hash((type(self), self.n))

    def __repr__(self) -> str:
        size = "" if self.n is None else f", n={self.n}"
        return f"catnn.group({self.name!r}{size})"

    def __str__(self) -> str:
        return f"{self.name}({'n' if self.n is None else self.n})"


@lru_cache(maxsize=512)
def _cached_spanning(G: Group, k: int, l: int) -> tuple[Any, ...]:
    return tuple(G.iter_spanning_set(k, l))


def _count_text(count: int) -> str:
    """A count for a message: exact up to 15 digits, then its order of magnitude."""
    digits = len(str(count))
    return str(count) if digits <= 15 else f"about 10^{digits - 1}"


def _check_arity(k: int, l: int) -> None:
    for value in (k, l):
        if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
            raise GroupError(messages.NEGATIVE_ARITY.format(value=value))


def rng_of(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A numpy Generator from a Generator, a seed or None."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
