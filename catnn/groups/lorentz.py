"""O(p,q) and SO(p,q): the indefinite orthogonal groups, e.g. the Lorentz group O(1,3) (math.md §g).

>>> from catnn.groups import group
>>> G = group("O(1,3)")
>>> G.n, G.form.diagonal().tolist(), G.dimension(2, 2), str(G)
(4, [1, -1, -1, -1], 3, 'O(1,3)')
>>> from catnn.diagram import cap, cup
>>> G.matrix(cap()).reshape(4, 4).diagonal().tolist()       # x ⊗ y ↦ xᵀ η y
[1, -1, -1, -1]
>>> G.compose(cup(), cap())                                   # a closed loop is still n = p + q
<Morphism 0 -> 0: n * id(0)>

**Convention.** η = diag(+1 ×p, -1 ×q) (``G.form``) and O(p,q) = {g : gᵀ η g = η}. ``O(1,3)`` has
time first with sign +, the mostly-minus metric (+, -, -, -); ``O(3,1)`` is the other ordering,
(+, +, +, -) with time last. Both are the Lorentz group.

**The functor** (a strict monoidal functor from the Brauer category B(n), n = p + q; catnn's names:
``cap`` is 2 -> 0, ``cup`` is 0 -> 2): a strand is δ, an input pair (cap) is the form,
x ⊗ y ↦ xᵀ η y, an output pair (cup) is the vector Σ_ij (η^{-1})_ij e_i ⊗ e_j, and a closed loop is
tr(η η^{-1}) = n. Since η = η^{-1} is diagonal, both are sign-weighted diagonals:

    F(β)[x] = E_β[x] · Π_{same-row pairs {a, b}} η(x_a),

the O(n) matrix E_β times the sign s(x_a) = η_{x_a x_a} of one end of every cap and cup. Over C,
D = diag(1 ×p, i ×q) has D² = η and g ↦ D g D^{-1} maps O(p,q) into O(n, C); F(β) is
D^{-⊗l} E_β D^{⊗k}. That conjugation is invertible, so the spanning sets, bases and dimensions are
those of O(n) and SO(n) (tests/test_lorentz.py checks this against a Lie-algebra null space).

**SO(p,q)** adds the ε-diagrams of SO(n). A free input leg is a lower index, so ε's inputs are
lowered with η: H[x] = ε(x_free) · Π_{free inputs f} η(x_f) · Π_{same-row pairs} η(x_a); this is
invariant under det g = 1 and flips sign under parity. It equals i^{-q} D^{-⊗l} H^{SO(n)} D^{⊗k}, so
every rule of SO(n)'s category holds except those multiplying two ε: ε·ε contracts to
det(η) = (-1)^q times its SO(n) value (ε^{0123} ε_{0123} = -24 in Minkowski space).
``G.compose`` and ``G.tensor`` apply that sign; plain ``f >> g`` and ``f @ g`` on ε-morphisms (and
the language's ``>>``, ``@``) use SO(n)'s rules.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from .. import messages
from ..errors import GroupError
from ..levi_civita import EpsilonDiagram
from ..morphism import Morphism
from .base import rng_of
from .orthogonal import Orthogonal, random_orthogonal
from .special_orthogonal import SpecialOrthogonal

__all__ = ["IndefiniteOrthogonal", "IndefiniteSpecialOrthogonal", "metric", "eta_legs", "is_indefinite"]


def metric(p: int, q: int) -> np.ndarray:
    """η = diag(+1 ×p, -1 ×q) as int64.

    >>> metric(1, 3).diagonal().tolist()
    [1, -1, -1, -1]
    """
    return np.diag(np.array([1] * p + [-1] * q, dtype=np.int64))


def eta_legs(d: Any) -> tuple[int, ...]:
    """The 1-based vertices whose index carries a factor η(x_v) = ±1: one end of every same-row pair
    (its smaller label) and, for an ε-diagram, every free input.

    >>> from catnn.diagram import Diagram
    >>> eta_legs(Diagram.from_blocks([[1, 2], [3, 5], [4, 6]], k=3, l=3))
    (1, 4)
    >>> eta_legs(EpsilonDiagram([1, 3], [[2, 4]], k=2, l=2))
    (3,)
    """
    pairs = d.pairs if isinstance(d, EpsilonDiagram) else d.blocks
    legs = [min(a, b) for a, b in pairs if d.is_top(a) == d.is_top(b)]
    if isinstance(d, EpsilonDiagram):
        legs += list(d.free_inputs())
    return tuple(sorted(legs))


def is_indefinite(G: Any) -> bool:
    """True for O(p,q) and SO(p,q) with p, q >= 1: non-compact, with no invariant positive norm.

    >>> from catnn.groups import group
    >>> is_indefinite(group("O(1,3)")), is_indefinite(group("O(3,0)")), is_indefinite(group("O"))
    (True, False, False)
    """
    return isinstance(G, _Signature) and G.p > 0 and G.q > 0


class _Signature:
    """What O(p,q) and SO(p,q) share: the signature, the form, the η weights, sampling, naming."""

    n: int
    p: int
    q: int
    #: the family's stem, "O" or "SO"
    stem = ""
    #: sampled determinants of the (time, space) rotation blocks, and those when p or q is 0
    _components: tuple[tuple[int, int], ...] = ()
    _definite: tuple[tuple[int, int], ...] = ()

    def _set_signature(self, p: object, q: object, n: int | None) -> None:
        counts = [int(v) for v in (p, q) if isinstance(v, Integral) and not isinstance(v, bool) and v >= 0]
        if len(counts) != 2 or sum(counts) < 1:
            raise GroupError(messages.BAD_SIGNATURE.format(group=self.stem, p=p, q=q))
        self.p, self.q = counts
        if n is not None and n != self.p + self.q:
            raise GroupError(messages.BAD_SIZE.format(group=self.label, condition=f"n={self.p + self.q}", n=n))
        self.name = self.label

    @property
    def label(self) -> str:
        """The group's name with its signature, e.g. ``O(1,3)``."""
        return f"{self.stem}({self.p},{self.q})"

    @property
    def form(self) -> np.ndarray:
        """The metric η = diag(+1 ×p, -1 ×q)."""
        return metric(self.p, self.q)

    @property
    def signs(self) -> np.ndarray:
        """The diagonal of η, (+1 ×p, -1 ×q)."""
        return np.diagonal(self.form).copy()

    def diagram_tensor(self, d: Any, n: int) -> np.ndarray:
        """O(n)'s or SO(n)'s tensor of ``d``, weighted by η (``weigh``)."""
        return self.weigh(super().diagram_tensor(d, n), d)  # type: ignore[misc]

    def weigh(self, tensor: np.ndarray, d: Any) -> np.ndarray:
        """Multiply the O(n)/SO(n) tensor of ``d`` by η(x_v) on every vertex of ``eta_legs(d)``."""
        s = self.signs
        for v in eta_legs(d):
            shape = [1] * tensor.ndim
            shape[v - 1] = -1
            tensor = tensor * s.reshape(shape)
        return tensor

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A random element R_1 · B · R_2: R_i block rotations in O(p) × O(q) (determinants drawn from
        the group's components: parity and time reversal for O(p,q)) and B a product of boosts in the
        planes (e_t, e_{p+t}), t < min(p, q), with rapidities uniform in [-2, 2]."""
        rng = rng_of(rng)
        p, q = self.p, self.q
        first, second = (self._block(rng) for _ in range(2))
        boost = np.eye(self.n)
        for t in range(min(p, q)):
            phi = rng.uniform(-2.0, 2.0)
            c, s = np.cosh(phi), np.sinh(phi)
            boost[np.ix_([t, p + t], [t, p + t])] = [[c, s], [s, c]]
        return first @ boost @ second

    def _block(self, rng: np.random.Generator) -> np.ndarray:
        """block-diag(R_p, R_q), Haar-random with determinants from ``_components``."""
        components = self._components if self.p and self.q else self._definite
        det_p, det_q = components[rng.integers(len(components))]
        out = np.zeros((self.n, self.n))
        if self.p:
            out[:self.p, :self.p] = random_orthogonal(self.p, rng, det=det_p)
        if self.q:
            out[self.p:, self.p:] = random_orthogonal(self.q, rng, det=det_q)
        return out

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and (other.p, other.q) == (self.p, self.q)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.p, self.q))

    def __repr__(self) -> str:
        return f"catnn.group({self.label!r})"

    def __str__(self) -> str:
        return self.label


class IndefiniteOrthogonal(_Signature, Orthogonal):
    """O(p,q) = {g : gᵀ η g = η}: Brauer diagrams with caps and cups weighted by η.

    >>> G = IndefiniteOrthogonal(1, 1)
    >>> G.matrix(G.generator("cup")).ravel().tolist()          # vec(η^{-1})
    [1, 0, 0, -1]
    """

    name = "O(p,q)"
    stem = "O"
    _components = ((1, 1), (1, -1), (-1, 1), (-1, -1))
    _definite = ((1, 1), (-1, -1))

    def __init__(self, p: int, q: int, n: int | None = None) -> None:
        self._set_signature(p, q, n)
        Orthogonal.__init__(self, self.p + self.q)


class IndefiniteSpecialOrthogonal(_Signature, SpecialOrthogonal):
    """SO(p,q) = O(p,q) ∩ SL(n): O(p,q)'s diagrams plus ε-diagrams with η on their free inputs.

    >>> G = IndefiniteSpecialOrthogonal(1, 1)
    >>> G.matrix(G.generator("eps", (1, 1))).tolist()          # the boost generator η^{-1} A
    [[0, -1], [-1, 0]]
    """

    name = "SO(p,q)"
    stem = "SO"
    _components = ((1, 1), (-1, -1))
    _definite = ((1, 1),)

    def __init__(self, p: int, q: int, n: int | None = None) -> None:
        self._set_signature(p, q, n)
        SpecialOrthogonal.__init__(self, self.p + self.q)

    def compose(self, f: Any, g: Any) -> Morphism:
        """``f`` then ``g`` in SO(p,q)'s category: as in SO(n), but ε·ε terms times det η = (-1)^q.

        >>> G = IndefiniteSpecialOrthogonal(1, 3)
        >>> e = G.generator("eps")
        >>> G.compose(e, e.T)                                     # ε^{μνρσ} ε_{μνρσ} = -4!
        <Morphism 0 -> 0: -(n^4 - 6*n^3 + 11*n^2 - 6*n) * id(0)>
        """
        return self._pairwise(self.lift(f), self.lift(g), lambda a, b: a >> b, self.lift(f).k, self.lift(g).l)

    def tensor(self, f: Any, g: Any) -> Morphism:
        """``f @ g`` in SO(p,q)'s category: as in SO(n), but ε ⊗ ε terms times det η = (-1)^q."""
        f, g = self.lift(f), self.lift(g)
        return self._pairwise(f, g, lambda a, b: a @ b, f.k + g.k, f.l + g.l)

    def _pairwise(self, f: Morphism, g: Morphism, op: Any, k: int, l: int) -> Morphism:
        det = (-1) ** self.q
        out = Morphism.zero(k, l, self.loop)
        for a, ca in f.terms:
            for b, cb in g.terms:
                sign = det if isinstance(a, EpsilonDiagram) and isinstance(b, EpsilonDiagram) else 1
                out = out + op(Morphism.of(a, ca * sign, self.loop), Morphism.of(b, cb, self.loop))
        return out

