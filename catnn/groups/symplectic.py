"""Sp(n), n even: the Brauer category at loop value -n, as a strict monoidal functor (math.md §a.6).

Basis order (e_1, e_1', e_2, e_2', ...): 0-based index 2t is e_t and 2t+1 is e_t'. The invariant
form is J = block-diag([[0, 1], [-1, 0]]) (``G.form``); Sp(n) = {g : gᵀ J g = J}.

The functor F (derived from the pictures; catnn's names: ``cup`` is 0 -> 2, ``cap`` is 2 -> 0):

- a strand is the identity; a **crossing is minus the swap**: F(swap) = -P;
- ``cap`` (2 -> 0, two inputs paired) is the form itself: v ↦ Σ_ab J[a, b] v[a, b];
- ``cup`` (0 -> 2, two outputs paired) is vec(Jᵀ) = Σ_ab J[b, a] e_a ⊗ e_b, so that the snake
  identities hold (Jᵀ J = J Jᵀ = I) and cap ∘ cup = Σ_ab J[a, b] J[b, a] = -n (**a loop is -n**);
- the crossing sign is forced: F(cap)·P = -F(cap) because J is antisymmetric.

No functor from B(-n) preserves transposes (that would need a cup equal to the cap's transpose,
A = B with AB = I, impossible for an antisymmetric A): ``matrix(d.T) == transpose_sign(d) · matrix(d).T``
with ``transpose_sign(d) = (-1)^(number of same-row pairs)``.

(math.md §a.6 writes the other valid choice, outputs paired by J and inputs by Jᵀ; it differs from
this one by (-1)^(number of same-row pairs), which is also a strict functor.)

Every Brauer diagram β factors as σ_in >> d' >> σ_out with d' planar in normal form (top pairs left,
then through-strands, then bottom pairs right) and permutations σ, so

    F(β)[x] = sgn(σ_out) · sgn(σ_in) · Π_{output pairs a<b} J[x_b, x_a]
              · Π_{input pairs a<b} J[x_a, x_b] · Π_{strands} δ,

where σ_out lists the outputs in normal-form order (each pair's smaller label first, pairs by their
smaller label, then the strands' outputs in increasing order) and σ_in the inputs (the strands'
inputs in the order of their outputs, then the pairs). Then ``matrix(f >> g) == matrix(g) @ matrix(f)``
with ``f >> g`` composed at loop -n (``G.compose``), and ``matrix(f @ g) == kron``.

>>> from catnn.groups import group
>>> from catnn.diagram import cup, cap, swap
>>> G = group("Sp", n=2)
>>> G.matrix(cap()).tolist(), G.matrix(cup()).T.tolist(), G.matrix(swap())[1].tolist()
([[0, 1, -1, 0]], [[0, -1, 1, 0]], [0, 0, -1, 0])
>>> G.compose(cup(), cap())
<Morphism 0 -> 0: -n * id(0)>
>>> factor_sign(swap(), [0, 1], [1, 0])                 # the planar factor is the identity
-1
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from .. import messages
from ..coeff import Poly
from ..diagram import Diagram
from ..errors import GroupError
from ..levi_civita import permutation_sign
from ..morphism import Morphism
from .base import rng_of
from .counting import bratteli_walks
from .independence import greedy_basis
from .orthogonal import BrauerGroup

__all__ = ["Symplectic", "symplectic_form", "pair_weight", "normal_order", "diagram_sign",
           "transpose_sign", "SpFactor", "factor", "factor_sign", "symplectic_gram", "random_symplectic"]


class Symplectic(BrauerGroup):
    """The symplectic group Sp(n) (n even); its category is the Brauer category B(-n)."""

    name = "Sp"
    aliases = ("symplectic",)
    min_n = 2

    def valid_size(self, n: int) -> bool:
        return n >= 2 and n % 2 == 0

    def size_condition(self) -> str:
        return "an even integer n >= 2"

    @property
    def loop(self) -> Poly:
        """A closed loop is worth -n."""
        return -Poly.n()

    @property
    def form(self) -> np.ndarray:
        """J = block-diag([[0, 1], [-1, 0]]) in the basis (e_1, e_1', e_2, e_2', ...)."""
        return symplectic_form(self.require_n("form"))

    def dimension(self, k: int, l: int) -> int:
        """Walks in the Sp(n) Bratteli diagram (shapes with at most n/2 rows); (m-1)!! once n >= m."""
        n = self.require_n("dimension")
        return bratteli_walks(k + l, lambda shape: len(shape) <= n // 2)

    def basis(self, k: int, l: int) -> tuple[Diagram, ...]:
        """All Brauer diagrams when n >= k + l; below that the first-come independent ones.

        Independence is decided on the exact Gram matrix <F_β, F_γ> = ± n^(loops of β ∪ γ) (the sign
        from the J factors around each loop), modulo a prime.
        """
        self.require_n("basis")
        return _sp_basis(self, k, l)

    def lift(self, x: Any) -> Morphism:
        """``x`` in B(-n). A morphism built elsewhere with loops worth n (e.g. ``f >> g`` on bare
        diagrams) is refused when its coefficients involve n, since they may hold loops valued n;
        build it with ``G.compose``/``G.lift`` instead. ``matrix`` goes through here."""
        if isinstance(x, Morphism) and x.loop != self.loop and not _loop_free(x):
            raise GroupError(messages.SP_LOOP.format(loop=x.loop))
        return super().lift(x)

    def diagram_tensor(self, d: Diagram, n: int) -> np.ndarray:
        """F_β as an (n,)*(l+k) int64 tensor (outputs, then inputs)."""
        m = d.k + d.l
        if m == 0:
            return np.ones((), dtype=np.int64)
        tensor = np.ones((), dtype=np.int64)
        for a, b in d.blocks:
            tensor = np.multiply.outer(tensor, pair_weight(d, a, b, n))
        axis_labels = [v for p in d.blocks for v in p]
        where = {v: i for i, v in enumerate(axis_labels)}
        return diagram_sign(d) * np.transpose(tensor, [where[v] for v in range(1, m + 1)])

    def sample(self, rng: np.random.Generator | int | None = None) -> np.ndarray:
        """A random symplectic matrix (gᵀ J g = J), well conditioned; see ``random_symplectic``."""
        return random_symplectic(self.require_n("sample"), rng_of(rng))


@lru_cache(maxsize=64)
def _sp_basis(G: Symplectic, k: int, l: int) -> tuple[Diagram, ...]:
    n = G.require_n("basis")
    what = f"the Brauer diagrams of {G} for {k} -> {l}"
    chosen = greedy_basis(G.spanning_set(k, l), G.dimension(k, l), n, what,
                          lambda d: G.diagram_tensor(d, n), gram=lambda ds: symplectic_gram_matrix(ds, n))
    return tuple(chosen)


def _loop_free(x: Morphism) -> bool:
    """True if no coefficient of ``x`` involves n (so no closed loop was valued when building it)."""
    return all(c.constant() is not None for _, c in x.terms)


def symplectic_form(n: int) -> np.ndarray:
    """J = block-diag([[0, 1], [-1, 0]] * n/2), int64.

    >>> symplectic_form(4).tolist()
    [[0, 1, 0, 0], [-1, 0, 0, 0], [0, 0, 0, 1], [0, 0, -1, 0]]
    """
    J = np.zeros((n, n), dtype=np.int64)
    for t in range(0, n, 2):
        J[t, t + 1], J[t + 1, t] = 1, -1
    return J


def pair_weight(d: Diagram, a: int, b: int, n: int) -> np.ndarray:
    """The n x n factor W[x_a, x_b] of the pair {a < b}: I (a strand), Jᵀ (two outputs), J (two inputs)."""
    if d.is_top(a) != d.is_top(b):
        return np.eye(n, dtype=np.int64)
    J = symplectic_form(n)
    return J.T.copy() if d.is_top(a) else J


def normal_order(d: Diagram) -> tuple[list[int], list[int]]:
    """``(sigma_out, sigma_in)``: 0-based outputs and inputs in the planar normal form's order.

    Outputs: the output pairs (smaller label first, pairs by smaller label), then the strands'
    outputs increasing. Inputs: the strands' inputs in the order of their outputs, then the input
    pairs (smaller label first).

    >>> normal_order(Diagram.from_blocks([[1, 4], [2, 3]], k=2, l=2))     # the swap
    ([0, 1], [1, 0])
    """
    l = d.l
    top_pairs = [p for p in d.blocks if p[1] <= l]
    strands = sorted(p for p in d.blocks if p[0] <= l < p[1])
    bottom_pairs = [p for p in d.blocks if p[0] > l]
    sigma_out = [v - 1 for p in top_pairs for v in p] + [a - 1 for a, _ in strands]
    sigma_in = [b - l - 1 for _, b in strands] + [v - l - 1 for p in bottom_pairs for v in p]
    return sigma_out, sigma_in


def diagram_sign(d: Diagram) -> int:
    """sgn(σ_out) · sgn(σ_in) for the normal-form orders: the functor's global sign for β."""
    sigma_out, sigma_in = normal_order(d)
    return permutation_sign(sigma_out) * permutation_sign(sigma_in)


def transpose_sign(d: Diagram) -> int:
    """The sign s with F(d.T) = s · F(d)ᵀ: (-1)^(number of pairs with both ends in one row).

    >>> transpose_sign(Diagram.from_blocks([[1, 2]], k=2, l=0)), transpose_sign(Diagram.identity(2))
    (-1, 1)
    """
    return -1 if sum(1 for a, b in d.blocks if d.is_top(a) == d.is_top(b)) % 2 else 1


class SpFactor(NamedTuple):
    """β = permutation(sigma_in) >> planar >> permutation(argsort(sigma_out)), and
    F(β) = sign · P_out · F(planar) · P_in (P the plain permutation matrices)."""

    sign: int
    sigma_out: tuple[int, ...]
    planar: Diagram
    sigma_in: tuple[int, ...]


def factor(d: Diagram, sigma_out: Sequence[int] | None = None,
           sigma_in: Sequence[int] | None = None) -> SpFactor:
    """Rearrange β's rows: planar top position i holds output ``sigma_out[i]``, planar bottom position
    j holds input ``sigma_in[j]`` (0-based; default: ``normal_order``). Returns the planar diagram
    and the sign with which F(β) = sign · P_out F(planar) P_in.

    Applied to a vector: ``w = sign * transpose(F(planar) · transpose(v, sigma_in), argsort(sigma_out))``
    (tensor axes: the k input factors of v, the l output factors of w).

    >>> f = factor(Diagram.from_blocks([[1, 4], [2, 3]], k=2, l=2))
    >>> f.sign, str(f.planar)
    (-1, "{1, 1'} {2, 2'}")
    """
    default_out, default_in = normal_order(d)
    sigma_out = tuple(default_out if sigma_out is None else sigma_out)
    sigma_in = tuple(default_in if sigma_in is None else sigma_in)
    if sorted(sigma_out) != list(range(d.l)) or sorted(sigma_in) != list(range(d.k)):
        raise GroupError(messages.NOT_PERMUTATION.format(perm=[list(sigma_out), list(sigma_in)],
                                                         last=f"{d.l - 1} / {d.k - 1}"))
    top_at = {v + 1: i + 1 for i, v in enumerate(sigma_out)}
    bottom_at = {d.l + v + 1: d.l + j + 1 for j, v in enumerate(sigma_in)}
    where = {**top_at, **bottom_at}
    planar = Diagram([[where[v] for v in b] for b in d.blocks], d.k, d.l)
    return SpFactor(factor_sign(d, sigma_out, sigma_in), sigma_out, planar, sigma_in)


def factor_sign(d: Diagram, sigma_out: Sequence[int], sigma_in: Sequence[int]) -> int:
    """The sign rule when factorising under Sp: F(β) = sgn(σ_out) sgn(σ_in) · P_out F(β') P_in.

    Because crossings map to minus the swap, a permutation σ maps to sgn(σ) times its plain
    permutation matrix; the rearranged (e.g. planar) diagram β' carries its own pair weights (Jᵀ on
    output pairs, J on input pairs, read left to right in β'), so a pair whose ends change order is
    accounted for by the permutation signs (math.md §a.6 gotcha 2).
    """
    return permutation_sign(list(sigma_out)) * permutation_sign(list(sigma_in))


def symplectic_gram(a: Diagram, b: Diagram, n: int) -> int:
    """<F_a, F_b> = Σ_x F_a[x] F_b[x] exactly: Π over the loops of a ∪ b of tr(product of I, J, Jᵀ).

    Around a loop the product of the pair factors (transposed when a pair is walked from its larger
    label to its smaller) is J^e with e = Σ e_i mod 4 (I = J^0, J = J^1, Jᵀ = -J = J^3); its trace
    is n for e = 0, -n for e = 2 and 0 for odd e.
    """
    steps = (_steps(a), _steps(b))
    seen: set[int] = set()
    value = diagram_sign(a) * diagram_sign(b)
    for start in range(1, a.k + a.l + 1):
        if start in seen:
            continue
        total, cur = 0, start
        while True:                      # every vertex has one pair in a and one in b: alternate
            for step in steps:
                seen.add(cur)
                cur, power = step[cur]
                total += power
            if cur == start:
                break
        value *= {0: n, 2: -n}.get(total % 4, 0)
        if value == 0:
            return 0
    return value


def symplectic_gram_matrix(diagrams: Sequence[Diagram], n: int) -> np.ndarray:
    """All ``symplectic_gram`` values at once (int64), vectorised over the second diagram.

    Walking a's pair after b's from every vertex is the permutation mate_a ∘ mate_b; each loop of
    a ∪ b splits into two of its cycles, walked in opposite directions (J-powers e and -e), so the
    loops are half the cycles and each contributes n (e = 0), -n (e = 2) or 0 (e odd).
    """
    size = diagrams[0].k + diagrams[0].l
    count = len(diagrams)
    mates = np.empty((count, size), dtype=np.int64)
    powers = np.empty((count, size), dtype=np.int64)
    for i, d in enumerate(diagrams):
        for x, (y, e) in _steps(d).items():
            mates[i, x - 1], powers[i, x - 1] = y - 1, e
    signs = np.array([diagram_sign(d) for d in diagrams], dtype=np.int64)
    rows = np.arange(count)[:, None]
    start = np.broadcast_to(np.arange(size), (count, size))
    out = np.zeros((count, count), dtype=np.int64)
    for i in range(count):
        perm = mates[i][mates]                                  # b's step, then a's
        inc = powers + powers[i][mates]
        pos, acc, done = start.copy(), np.zeros((count, size), dtype=np.int64), np.zeros((count, size), bool)
        lowest = start.copy()
        for _ in range(size):
            acc += np.where(done, 0, inc[rows, pos])
            pos = perm[rows, pos]
            np.minimum(lowest, pos, out=lowest)
            done |= pos == start
        first = lowest == start                                 # one start per cycle
        cycles = first.sum(axis=1)
        twos = (first & (acc % 4 == 2)).sum(axis=1)
        odd = (first & (acc % 2 == 1)).any(axis=1)
        values = np.where(odd, 0, n ** (cycles // 2) * np.where((twos // 2) % 2, -1, 1))
        out[i] = signs[i] * signs * values
    return out


def _steps(d: Diagram) -> dict[int, tuple[int, int]]:
    """vertex -> (partner, e): walking the pair from this end multiplies by J^e (0: I, 1: J, 3: Jᵀ)."""
    out = {}
    for x, y in d.blocks:
        power = 0 if d.is_top(x) != d.is_top(y) else (3 if d.is_top(x) else 1)
        out[x], out[y] = (y, power), (x, (4 - power) % 4)
    return out


def random_symplectic(n: int, rng: np.random.Generator, spread: float = 0.5) -> np.ndarray:
    """A random element of Sp(n) in the basis (e_1, e_1', ...), as K_1 · D · K_2 (the KAK form).

    K_i = [[A, -B], [B, A]] for a Haar-random unitary A + iB (the compact part Sp(n) ∩ O(n) ≅ U(n/2),
    written in the (e_1..e_r, e_1'..e_r') order and then interleaved), and D = diag(e^s, e^-s) on each
    pair (e_t, e_t') with s ~ N(0, spread²): gᵀ J g = J, and the condition number stays near e^(4·spread).
    """
    r = n // 2
    order = [i // 2 + (r if i % 2 else 0) for i in range(n)]     # interleaved index -> blocked index

    def compact() -> np.ndarray:
        z = rng.standard_normal((r, r)) + 1j * rng.standard_normal((r, r))
        q, upper = np.linalg.qr(z)
        q = q * (np.diag(upper) / np.abs(np.diag(upper)))
        blocked = np.block([[q.real, -q.imag], [q.imag, q.real]])
        return blocked[np.ix_(order, order)]

    stretch = np.exp(spread * rng.standard_normal(r))
    diagonal = np.diag([stretch[i // 2] ** (-1 if i % 2 else 1) for i in range(n)])
    return compact() @ diagonal @ compact()
