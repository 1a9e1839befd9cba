"""Block kernels of Sp(n), SO(n), O(p,q), SO(p,q), A_n, H_n and B_n (registered with :mod:`.kernels` on import).

>>> import catnn
>>> from catnn.compiler.factorize import factorize
>>> from catnn.diagram import Diagram
>>> h = SymplecticKernels().halves(factorize(Diagram.from_blocks([[1, 2], [3, 4]], k=2, l=2)))
>>> h.bottom.constants, h.top.constants, h.sign          # cap on the inputs, cup on the outputs
((('J', (2, 3)),), (('J', (1, 0)),), 1)
>>> e = catnn.group("SO", n=3).generator("eps", (1, 2))   # ε_{i j a}: 1 input, 2 outputs
>>> h = EpsilonKernels().halves(factorize(e))
>>> h.bottom.constants, h.top.constants, h.bottom.core  # 1 free input < 2 free outputs: ε on top
((), (('eps3_2', (0, 1, 3)), ('eps3_3', (3, 2))), (2,))

What each block does (labels are per axis, as :mod:`.kernels` describes; no sign from factoring
arises because every label sits on its original axis, so the planar order never enters):

- **Sp(n)** (Brauer diagrams in B(-n), catnn's functor of :mod:`catnn.groups.symplectic`): a strand
  is a diagonal (identity), an input pair {a < b} is contracted with ``J[x_a, x_b]``, an output
  pair {a < b} is written through ``Jᵀ[x_a, x_b] = J[x_b, x_a]``, and the whole diagram carries
  ``diagram_sign(d) = sgn(σ_out) · sgn(σ_in)`` (crossings are minus the swap): a minus sign is
  absorbed into the first output pair's J when there is one (Jᵀ = -J; bias diagrams are 0 -> l and
  the plan adds biases unsigned), else it is ``Halves.sign``.
  Constant ``J`` (n × n, n nonzeros). Cost per (batch, channel): a J-contraction reads the n^2
  entries of each fibre (dense J: n^k for the core instead of O(n)'s n^(k-1) trace), a cup writes
  an n^2 block; nothing larger than max(n^k, n^l) exists.
- **SO(n)** ε-diagrams (:class:`~catnn.levi_civita.EpsilonDiagram`): pairs act as in O(n) (trace,
  identity strand, diagonal write); the n free legs get one label each and one Levi-Civita head on
  them (legs in label order: free outputs, then free inputs), a chain of constants
  ``eps<n>_2 .. eps<n>_<n>`` (:func:`levi_civita_head`). The head sits in the bottom half (the core
  keeps the strands and the s_t free outputs) when s_t <= s_b, else in the top half (the core keeps
  the strands and the s_b free inputs, a plain trace/view shared with Brauer diagrams, and the write
  contracts them with the head), so channel mixing runs on n^(d + min(s_t, s_b)) entries.
- **O(p,q), SO(p,q)** (:mod:`catnn.groups.lorentz`): O(n)'s and SO(n)'s kernels plus the 1-d
  constant ``eta<p>_<q>`` (η's diagonal, n entries) on the label of every cap and cup (a
  sign-weighted trace or diagonal write) and of every free input of an ε; the group names carry
  (p, q), so :func:`indefinite_kernels` resolves them (``register_family``).
- **A_n** jellyfish (:class:`~catnn.groups.alternating.Jellyfish`): the partition diagram's blocks
  (one label each: diagonals, sums, diagonal writes) plus one head ``jelly<t>_2 .. jelly<t>_<t>`` on
  the t block labels in ε order (blocks by smallest vertex): ε(v_1, .., v_t) when t = n,
  Σ_y ε(v_1, .., v_t, y) when t = n - 1 (the missing value is signed into the last core). The same
  bottom/top choice as SO (the fewer of the top-only and bottom-only blocks are kept in the core).
- **H_n, B_n** and A_n's partition diagrams: the S_n kernels (the matrices are the S_n ones).

``normalize=True`` divides by n for every block summed plainly: S_n's bottom-only blocks, the traced
input pairs of O(n) and SO(n), Sp's J-contracted input pairs. Blocks a Levi-Civita head contracts
(an ε's free inputs, a jellyfish's bottom-only blocks) are not divided: the head sums s! signed
terms, not n^s, and a core that keeps them for a head in the top half is the same tensor as (and is
shared with) the core of a diagram in which they are propagating.

The Levi-Civita stage and its cost (math.md §c.3; t = n legs for SO(n), d strands), per (batch,
channel). ε is never dense: read leg by leg, ε(x_1, .., x_t) is a product of cores along a chain
whose bond after leg j is the set of the j values used so far (C(n, j) states; an index repeats:
no state, 0), each core signing the inversions its value makes (the last one also those of the
unused values appended, which is the jellyfish's Σ_y when t = n - 1). Core j has C(n, j-1) · n ·
C(n, j) entries (529,200 for the largest core of SO(10)), the chain a few million at n = 10 where
the symbol has 10^10; constants are built once per (n, dtype, device). The half's einsum contracts
the chain with the s consumed legs (opt_einsum picks the order: along the chain from the consumed
end), at most Σ_j C(n, j-1) n C(n, j) n^(s-j) multiply-adds per fibre before the created legs,
which are then written n^(n-s) entries at a time; no intermediate exceeds C(n, j) n^max(k, l). At
n = 6 the most balanced split costs about 11k multiply-adds per fibre instead of the dense 46,656;
benchmarks/bench_epsilon.py compares the two stages at n = 6 and 7. SO(n) and A_n layers are thus
limited only by the spanning set's size (SO(8) 4 -> 4, SO(10) 5 -> 5, A_8 4 -> 4 build).

Constants are looked up at run time by the input's n; each builder checks n (``eps3_2`` needs n = 3,
``jelly3_2`` n = 3 or 4, ``J`` an even n) and raises ValueError otherwise, so a plan compiled with n
left free cannot silently run a diagram at the wrong size.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from catnn import messages
from catnn.diagram import Diagram
from catnn.groups.alternating import Jellyfish
from catnn.groups.symplectic import diagram_sign
from catnn.levi_civita import EpsilonDiagram

from .factorize import Factorization
from .kernels import (
    CONSTANTS, BottomHalf, ConstantRef, Halves, Kernels, Labels, PartitionKernels, TopHalf, register_constant,
    register_family, register_kernels,
)

__all__ = ["SymplecticKernels", "EpsilonKernels", "JellyfishKernels", "DiagramKernels", "IndefiniteKernels",
           "IndefiniteEpsilonKernels", "epsilon_kind", "jellyfish_kind", "levi_civita_head", "eta_kind",
           "indefinite_kernels", "size_misfit", "SIZES"]

J_SOURCE = '''def _const_J(n):
    """Sp(n)'s form J = block-diag([[0, 1], [-1, 0]], ...) in the basis (e_1, e_1', e_2, e_2', ...)."""
    if n % 2:
        raise ValueError(f"Sp(n) needs an even n, got n={n}")
    return [[1 if j == i + 1 and i % 2 == 0 else -1 if j == i - 1 and i % 2 else 0 for j in range(n)]
            for i in range(n)]
'''

LEVI_CIVITA_SOURCE = '''def _const_{kind}(n):
    """Constant {kind}: core {core} of the {legs} cores of {what} (n = {sizes}), as nested lists.

    The symbol read leg by leg: the bond after leg j is the set of the j values used so far (rank of its
    bitmask among the sets of that size); a core maps (set, value) to the set with the value added, with
    the sign of the inversions that value makes; the last core also signs the unused values appended.
    """
    legs, core = {legs}, {core}
    if n not in ({sizes},):
        raise ValueError(f"{what} needs n = {sizes}, got n={{n}}")

    def ranks(size):
        return {{m: i for i, m in enumerate(m for m in range(1 << n) if bin(m).count("1") == size)}}

    def sign(used, v):
        flips = bin(used >> (v + 1)).count("1")
        if core == legs:
            now = used | 1 << v
            flips += sum(bin(now >> (r + 1)).count("1") for r in range(n) if not now >> r & 1)
        return -1 if flips % 2 else 1

    before, after = ranks(core - 1), ranks(core)
    if core == 1:
        return [sign(0, v) for v in range(n)]
    if core == legs:
        return [[0 if used >> v & 1 else sign(used, v) for v in range(n)] for used in before]
    out = [[[0] * len(after) for _ in range(n)] for _ in before]
    for used, row in before.items():
        for v in range(n):
            if not used >> v & 1:
                out[row][v][after[used | 1 << v]] = sign(used, v)
    return out
'''


def epsilon_kind(legs: int, core: int) -> str:
    """Core ``core`` (2..legs; 1 only when legs = 1) of an SO(n) ε with ``legs`` = n legs (registered on
    first use; see :func:`levi_civita_head`).

    >>> epsilon_kind(2, 2), __import__("catnn").compiler.kernels.constant_value("eps2_2", 2)
    ('eps2_2', [[0, 1], [-1, 0]])
    """
    return _levi_civita_kind("eps", legs, core, f"the Levi-Civita symbol with {legs} legs", str(legs))


def jellyfish_kind(blocks: int, core: int) -> str:
    """Core ``core`` of an A_n jellyfish head with ``blocks`` tentacles (n = blocks or blocks + 1).

    >>> from catnn.compiler.kernels import constant_value
    >>> constant_value(jellyfish_kind(1, 1), 2)                  # ε(v, missing value)
    [1, -1]
    """
    return _levi_civita_kind("jelly", blocks, core, f"the A_n jellyfish head with {blocks} tentacles",
                             f"{blocks}, {blocks + 1}")


def _levi_civita_kind(prefix: str, legs: int, core: int, what: str, sizes: str) -> str:
    kind = f"{prefix}{legs}_{core}"
    if kind not in CONSTANTS:
        register_constant(kind, LEVI_CIVITA_SOURCE.format(kind=kind, what=what, legs=legs, core=core, sizes=sizes))
        SIZES[kind] = tuple(int(size) for size in sizes.split(", "))
    return kind


def levi_civita_head(kind: Callable[[int, int], str], legs: Sequence[int],
                     fresh: Callable[[], int]) -> tuple[ConstantRef, ...]:
    """A Levi-Civita head on the labels ``legs`` (ε order) as a chain of small constants.

    ε(x_1, .., x_t) = Σ_bonds core_2[x_1, x_2, s_2] core_3[s_2, x_3, s_3] ... core_t[s_(t-1), x_t]: the
    bond s_j ranges over the C(n, j) sets of values of the first j legs (s_1 is x_1 itself) and is a
    fresh label from ``fresh``. Contracting s legs of it with a core costs at most
    Σ_j C(n, j-1) n C(n, j) n^(s-j) per fibre, and the chain holds about 4^n n entries, not n^n.

    >>> labels = iter(range(10, 20))
    >>> levi_civita_head(lambda t, j: f"eps{t}_{j}", (0, 1, 2), lambda: next(labels))
    (('eps3_2', (0, 1, 10)), ('eps3_3', (10, 2)))
    """
    t = len(legs)
    if t == 1:
        return ((kind(1, 1), (legs[0],)),)
    chain, bond = [], legs[0]
    for j in range(2, t):
        nxt = fresh()
        chain.append((kind(t, j), (bond, legs[j - 1], nxt)))
        bond = nxt
    chain.append((kind(t, t), (bond, legs[-1])))
    return tuple(chain)


#: Levi-Civita constant kind -> the sizes n it exists for
SIZES: dict[str, tuple[int, ...]] = {}


def size_misfit(kinds: Iterable[str], n: int) -> str | None:
    """Why a plan using the constants ``kinds`` cannot run at size n (None if it can).

    >>> size_misfit([epsilon_kind(3, 3)], 4)
    'its constant eps3_3 needs n = 3, got n=4'
    """
    for kind in kinds:
        if kind in SIZES and n not in SIZES[kind]:
            return messages.CONSTANT_SIZE.format(kind=kind, sizes=" or ".join(map(str, SIZES[kind])), n=n)
    return None


# -- building halves from per-axis labels ---------------------------------------------------------
def _ordered(kept: Iterable[int], axes: Sequence[int], consts: Sequence[ConstantRef]) -> Labels:
    """``kept`` in order of first appearance on the axes, then in the constants (canonical for sharing)."""
    keep = set(kept)
    seen = dict.fromkeys([*axes, *(lab for _, labs in consts for lab in labs)])
    return tuple(lab for lab in seen if lab in keep)


def _halves(inputs: Sequence[int], outputs: Sequence[int], kept: Iterable[int], summed: int,
            bottom: Sequence[ConstantRef] = (), top: Sequence[ConstantRef] = (), sign: int = 1) -> Halves:
    """Halves from a label per input and output axis, the core's labels, the number of plainly summed
    blocks (``normalize`` divides by n for each) and the constants of each half."""
    kept = tuple(kept)
    core = _ordered(kept, inputs, bottom)
    acc = _ordered(kept, outputs, top)
    return Halves(BottomHalf(tuple(inputs), core, tuple(bottom), summed=summed),
                  TopHalf(acc, tuple(outputs), tuple(top)), tuple(core.index(lab) for lab in acc), sign)


class _Axes:
    """Per-axis label lists of a (k, l)-diagram, filled block by block with fresh labels."""

    def __init__(self, k: int, l: int) -> None:
        self.l = l
        self.inputs, self.outputs = [0] * k, [0] * l
        self.count = 0

    def fresh(self) -> int:
        self.count += 1
        return self.count - 1

    def put(self, vertex: int, label: int) -> None:
        """Label the 1-based ``vertex`` (outputs 1..l, inputs l+1..l+k)."""
        if vertex <= self.l:
            self.outputs[vertex - 1] = label
        else:
            self.inputs[vertex - self.l - 1] = label

    def block(self, vertices: Iterable[int]) -> int:
        """One fresh label on every vertex of a block (diagonals, sums, diagonal writes)."""
        label = self.fresh()
        for v in vertices:
            self.put(v, label)
        return label


def _split(axes: _Axes, blocks: Iterable[tuple[int, ...]]) -> tuple[list[int], list[int], list[int]]:
    """One label per block; returns the labels of the top-only, propagating and bottom-only blocks."""
    top, through, bottom = [], [], []
    for b in blocks:
        label = axes.block(b)
        side = top if b[-1] <= axes.l else bottom if b[0] > axes.l else through
        side.append(label)
    return top, through, bottom


def _with_head(axes: _Axes, head: tuple[ConstantRef, ...], through: list[int], created: list[int], consumed: list[int],
               summed: int, bottom: Sequence[ConstantRef] = (), top: Sequence[ConstantRef] = ()) -> Halves:
    """A Levi-Civita head on the labels it touches: in the half whose side has fewer of them
    (``bottom`` and ``top``: further constants of each half, e.g. O(p,q)'s η weights)."""
    if len(created) <= len(consumed):
        return _halves(axes.inputs, axes.outputs, through + created, summed, bottom=(*head, *bottom), top=top)
    return _halves(axes.inputs, axes.outputs, through + consumed, summed, bottom=bottom, top=(*top, *head))


# -- the kernels ----------------------------------------------------------------------------------
class DiagramKernels(PartitionKernels):
    """The S_n kernels, for partition diagrams only (A_n's, H_n's and B_n's, SO(n)'s Brauer ones)."""

    def handles(self, d: Any) -> bool:
        return isinstance(d, Diagram)


class SymplecticKernels(Kernels):
    """Sp(n): strands, J-contracted input pairs, Jᵀ-written output pairs, the functor's sign."""

    def handles(self, d: Any) -> bool:
        return isinstance(d, Diagram) and d.is_brauer()

    def halves(self, f: Factorization) -> Halves:
        d = f.diagram
        axes = _Axes(d.k, d.l)
        strands, bottom, top = [], [], []
        for a, b in d.blocks:
            if d.is_top(a) != d.is_top(b):
                strands.append(axes.block((a, b)))
                continue
            first, second = axes.fresh(), axes.fresh()
            axes.put(a, first)
            axes.put(b, second)
            if d.is_top(a):
                top.append(("J", (second, first)))           # Jᵀ[x_a, x_b] on an output pair
            else:
                bottom.append(("J", (first, second)))        # J[x_a, x_b] on an input pair
        sign = diagram_sign(d)
        if sign < 0 and top:                                 # -Jᵀ = J: the sign goes into a cup
            top[0] = ("J", top[0][1][::-1])
            sign = 1
        return _halves(axes.inputs, axes.outputs, strands, len(bottom), bottom, top, sign)


class EpsilonKernels(Kernels):
    """SO(n) ε-diagrams: O(n)'s pair kernels plus one Levi-Civita stage on the free legs."""

    def handles(self, d: Any) -> bool:
        return isinstance(d, EpsilonDiagram)

    def halves(self, f: Factorization) -> Halves:
        d = f.diagram
        axes = _Axes(d.k, d.l)
        top, through, traced = _split(axes, d.pairs)
        legs = [axes.block((v,)) for v in d.free]
        outs = [lab for v, lab in zip(d.free, legs) if v <= d.l]
        ins = [lab for v, lab in zip(d.free, legs) if v > d.l]
        head = levi_civita_head(epsilon_kind, legs, axes.fresh)
        return _with_head(axes, head, through, outs, ins, len(traced), bottom=self.weights(traced + ins),
                          top=self.weights(top))

    def weights(self, labels: Iterable[int]) -> tuple[ConstantRef, ...]:
        """Constants on the labels of the input pairs and free inputs (bottom half) or of the output
        pairs (top half): none in SO(n); η's signs in SO(p,q)."""
        return ()


class JellyfishKernels(Kernels):
    """A_n jellyfish: the partition's block kernels plus a Levi-Civita head on the block values."""

    def handles(self, d: Any) -> bool:
        return isinstance(d, Jellyfish)

    def halves(self, f: Factorization) -> Halves:
        d = f.diagram
        axes = _Axes(d.k, d.l)
        ordered = sorted(d.blocks, key=min)
        top, through, bottom = _split(axes, ordered)
        head = levi_civita_head(jellyfish_kind, tuple(range(len(ordered))), axes.fresh)
        return _with_head(axes, head, through, top, bottom, 0)


ETA_SOURCE = '''def _const_{kind}(n):
    """O({p},{q})'s metric η = diag(+1 x{p}, -1 x{q}) as its diagonal (a sign per index value)."""
    if n != {n}:
        raise ValueError(f"O({p},{q}) needs n = {n}, got n={{n}}")
    return [1] * {p} + [-1] * {q}
'''


def eta_kind(p: int, q: int) -> str:
    """The constant holding η's diagonal for O(p,q) and SO(p,q) (registered on first use).

    >>> eta_kind(1, 3), __import__("catnn").compiler.kernels.constant_value("eta1_3", 4)
    ('eta1_3', [1, -1, -1, -1])
    """
    kind = f"eta{p}_{q}"
    if kind not in CONSTANTS:
        register_constant(kind, ETA_SOURCE.format(kind=kind, p=p, q=q, n=p + q))
        SIZES[kind] = (p + q,)
    return kind


class _EtaWeights:
    """η's diagonal as a 1-d constant on given labels (O(p,q), SO(p,q))."""

    def __init__(self, p: int, q: int) -> None:
        self.kind = eta_kind(p, q)

    def weights(self, labels: Iterable[int]) -> tuple[ConstantRef, ...]:
        """One η constant per label."""
        return tuple((self.kind, (label,)) for label in labels)


class IndefiniteKernels(_EtaWeights, Kernels):
    """O(p,q), SO(p,q) Brauer diagrams: O(n)'s kernels with η's signs on every cap and cup.

    A same-row pair keeps O(n)'s single label (a trace on the inputs, a diagonal write on the
    outputs) and gains the 1-d constant ``eta<p>_<q>`` on that label: a sign-weighted trace
    Σ_x η(x) v[.., x, .., x, ..] or a sign-weighted diagonal (math.md §g). Nothing is larger than in
    O(n).

    >>> from catnn.compiler.factorize import factorize
    >>> h = IndefiniteKernels(1, 3).halves(factorize(Diagram.from_blocks([[1, 2], [3, 4]], k=2, l=2)))
    >>> h.bottom.input, h.bottom.constants, h.top.output, h.top.constants
    ((1, 1), (('eta1_3', (1,)),), (0, 0), (('eta1_3', (0,)),))
    """

    def handles(self, d: Any) -> bool:
        return isinstance(d, Diagram) and d.is_brauer()

    def halves(self, f: Factorization) -> Halves:
        d = f.diagram
        axes = _Axes(d.k, d.l)
        top, through, bottom = _split(axes, d.blocks)
        return _halves(axes.inputs, axes.outputs, through, len(bottom), bottom=self.weights(bottom),
                       top=self.weights(top))


class IndefiniteEpsilonKernels(_EtaWeights, EpsilonKernels):
    """SO(p,q) ε-diagrams: SO(n)'s ε-stage, with η on the caps and cups and on every free input."""


_SIGNATURE = re.compile(r"^(S?O)\((\d+),(\d+)\)$")


def indefinite_kernels(name: str) -> list[Kernels] | None:
    """The kernels of ``O(p,q)`` or ``SO(p,q)`` (a group name), None for other names.

    >>> [type(k).__name__ for k in indefinite_kernels("SO(1,3)")], indefinite_kernels("O")
    (['IndefiniteEpsilonKernels', 'IndefiniteKernels'], None)
    """
    match = _SIGNATURE.match(name)
    if match is None:
        return None
    p, q = int(match.group(2)), int(match.group(3))
    brauer = IndefiniteKernels(p, q)
    return [IndefiniteEpsilonKernels(p, q), brauer] if match.group(1) == "SO" else [brauer]


register_constant("J", J_SOURCE)
register_kernels("Sp", SymplecticKernels())
register_kernels("SO", EpsilonKernels())
register_kernels("SO", DiagramKernels())
register_kernels("A", JellyfishKernels())
register_family(indefinite_kernels)
for _name in ("A", "H", "B"):
    register_kernels(_name, DiagramKernels())
