"""Independent oracles for the test suite: dense matrices and dimensions computed from first principles.

Nothing here calls catnn's dense builders (``catnn.dense``, ``Group.matrix``, ``Group.dimension``);
the oracles work from the definitions in math.md §a.1–a.5 so that a test comparing catnn with them can
actually fail. Conventions (DESIGN.md): a (k, l)-diagram has outputs labelled 1..l and inputs
l+1..l+k; its matrix is n^l x n^k with rows = output multi-index, columns = input multi-index, both
flattened row-major (first index most significant).

Contents:

- ``kron_power(g, k)``, ``lie_power(A, k)``: the tensor-power representation and its derivative.
- ``commutant_dimension(k, l, n, elements, lie)``: dim of {W : W g^{⊗k} = g^{⊗l} W,
  W dρ_k(A) = dρ_l(A) W}, by a null-space computation (no diagrams involved);
  ``commutant_dimension_dense`` is the literal stacked-kron version, for tiny sizes and for checking
  the fast one.
- ``product_commutant_dimension(k, l, factors)``: the same for a product G_0 × G_1 × … on typed
  tensors (orders are tuples), from the stacked constraints of the generators (g, 1, ..), (1, h, ..).
- ``group_generators(name, n)``: ``(elements, lie_elements)`` generating a group (``GENERATORS``
  dict; add a builder with ``@generators("SO")``).
- ``burnside_orbits(perms, m, n)``, ``symmetric_group_orbits(m, n)``: orbit counts on [n]^m.
- ``brute_partition_matrix(blocks, k, l, n, distinct=False)``: D_π / X_π by an explicit loop.
- ``matrix_rank(matrices)``: rank of a family of matrices read as vectors.
- ``random_blocks``, ``random_pairing``, ``random_diagram``, ``random_morphism``: seeded random
  inputs for law tests.

Numerical tolerance. ``commutant_dimension`` is exact for signed-permutation elements (orbit
counting with signs) and uses float64 SVD for the rest, on blocks that never mix: with orthonormal
bases and operators whose entries are small integers (or orthogonal matrices) a singular value is
"zero" when <= ``TOL`` (1e-8) times the block's largest singular value (at least 1), and a singular
value between that and ``GAP`` (1e-5) times the scale makes the oracle raise rather than guess.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

import numpy as np

__all__ = [
    "MAX_ORACLE_SIZE", "TOL", "GAP",
    "kron_power", "lie_power", "commutant_dimension", "commutant_dimension_dense", "product_commutant_dimension",
    "GENERATORS", "generators", "group_generators", "permutation_matrix",
    "burnside_orbits", "symmetric_group_orbits", "all_permutations",
    "brute_partition_matrix", "matrix_rank",
    "random_blocks", "random_pairing", "random_diagram", "random_morphism", "random_composable_chain",
]

#: the commutant oracle refuses when n^(k+l) exceeds this
MAX_ORACLE_SIZE = 4096
#: relative threshold below which a singular value counts as zero
TOL = 1e-8
#: singular values in (TOL, GAP] (relative) are ambiguous: the oracle raises instead of guessing
GAP = 1e-5


# -- tensor powers ------------------------------------------------------------------------------
def kron_power(g: np.ndarray, k: int) -> np.ndarray:
    """g^{⊗k} (row-major, first factor most significant); ``[[1]]`` for k = 0."""
    g = np.asarray(g)
    out = np.ones((1, 1), dtype=np.result_type(g, np.int64))
    for _ in range(k):
        out = np.kron(out, g)
    return out


def lie_power(A: np.ndarray, k: int) -> np.ndarray:
    """dρ_k(A) = Σ_i I ⊗ .. ⊗ A (i-th factor) ⊗ .. ⊗ I on (R^n)^{⊗k}; ``zeros((1, 1))`` for k = 0."""
    A = np.asarray(A)
    n = A.shape[0]
    if k == 0:
        return np.zeros((1, 1), dtype=np.result_type(A, np.int64))
    eye = np.eye(n, dtype=A.dtype)
    total = np.zeros((n**k, n**k), dtype=np.result_type(A, np.int64))
    for i in range(k):
        total = total + np.kron(np.kron(kron_power(eye, i), A), kron_power(eye, k - 1 - i))
    return total


# -- commutant dimension ------------------------------------------------------------------------
def _check_size(k: int, l: int, n: int) -> None:
    if n**(k + l) > MAX_ORACLE_SIZE:
        raise ValueError(f"commutant oracle refuses n^(k+l) = {n}^{k + l} > {MAX_ORACLE_SIZE}")


def commutant_dimension_dense(k: int, l: int, n: int, elements: Iterable[np.ndarray] = (),
                              lie: Iterable[np.ndarray] = ()) -> int:
    """The literal oracle: nullity of the stacked constraint matrices on vec(W) (row-major vec).

    vec(A W B) = (A ⊗ B^T) vec(W), so W G_k - G_l W becomes (I ⊗ G_k^T - G_l ⊗ I) vec(W).
    Slow (one n^(k+l)-square block per constraint); use for n^(k+l) <= 256.
    """
    _check_size(k, l, n)
    eye_l, eye_k = np.eye(n**l), np.eye(n**k)
    blocks = [np.zeros((1, n**(k + l)))]
    for g in elements:
        g = np.asarray(g, dtype=float)
        blocks.append(np.kron(eye_l, kron_power(g, k).T) - np.kron(kron_power(g, l), eye_k))
    for A in lie:
        A = np.asarray(A, dtype=float)
        blocks.append(np.kron(eye_l, lie_power(A, k).T) - np.kron(lie_power(A, l), eye_k))
    stacked = np.vstack(blocks)
    s = np.linalg.svd(stacked, compute_uv=False)
    scale = max(1.0, float(s.max(initial=0.0)))
    _check_gap(s, scale)
    return n**(k + l) - int(np.sum(s > TOL * scale))


def product_commutant_dimension(k: Sequence[int], l: Sequence[int],
                                factors: Sequence[tuple[int, Iterable[np.ndarray], Iterable[np.ndarray]]]) -> int:
    """dim Hom_G(T(k), T(l)) for G = G_0 × G_1 × …, factor s given as ``(n_s, elements, lie)``.

    T(k) = V_0^{⊗k_0} ⊗ V_1^{⊗k_1} ⊗ … (sort 0 most significant). An element g of factor s acts as
    I ⊗ .. ⊗ g^{⊗k_s} ⊗ .. ⊗ I (a Lie element A as I ⊗ .. ⊗ dρ_{k_s}(A) ⊗ .. ⊗ I); W is in the
    commutant when W ρ_k(x) = ρ_l(x) W for every one of them. Nullity of the stacked constraints S on
    vec(W), as ``commutant_dimension_dense``: exact when the generators are integer matrices (the rank
    of the integer Gram matrix SᵀS modulo two large primes, as ``matrix_rank``), float64 SVD with the
    TOL/GAP rule otherwise. Refuses (ValueError) above 256 entries of W.
    """
    sizes = [n for n, _, _ in factors]
    rows, cols = math.prod(n**b for n, b in zip(sizes, l)), math.prod(n**a for n, a in zip(sizes, k))
    if rows * cols > 256:
        raise ValueError(f"product commutant oracle refuses {rows * cols} > 256 entries")

    def typed(s: int, X: np.ndarray, orders: Sequence[int], power: Callable) -> np.ndarray:
        out = np.ones((1, 1))
        for t, (n, a) in enumerate(zip(sizes, orders)):
            out = np.kron(out, power(X, a) if t == s else np.eye(n**a))
        return out

    blocks = [np.zeros((1, rows * cols))]
    for s, (_, elements, lie) in enumerate(factors):
        pairs = [(np.asarray(g, dtype=float), kron_power) for g in elements]
        pairs += [(np.asarray(A, dtype=float), lie_power) for A in lie]
        for X, power in pairs:
            blocks.append(np.kron(np.eye(rows), typed(s, X, k, power).T) - np.kron(typed(s, X, l, power), np.eye(cols)))
    stacked = np.vstack(blocks)
    peak = float(np.abs(stacked).max(initial=0.0))
    if np.all(stacked == np.round(stacked)) and peak**2 * stacked.shape[0] < 2.0**53:
        gram = stacked.T @ stacked                 # integer and exact: rank(S) = rank(SᵀS) over Q
        exact = np.array([[int(x) for x in row] for row in gram.tolist()], dtype=object)
        return rows * cols - max(_rank_mod_p(exact, p) for p in (2_147_483_629, 2_147_483_587))
    s_values = np.linalg.svd(stacked, compute_uv=False)
    scale = max(1.0, float(s_values.max(initial=0.0)))
    _check_gap(s_values, scale)
    return rows * cols - int(np.sum(s_values > TOL * scale))


def commutant_dimension(k: int, l: int, n: int, elements: Iterable[np.ndarray] = (),
                        lie: Iterable[np.ndarray] = ()) -> int:
    """dim {W in R^{n^l x n^k} : W g^{⊗k} = g^{⊗l} W for g in elements, W dρ_k(A) = dρ_l(A) W for A in lie}.

    Signed-permutation elements are handled exactly: for such (orthogonal) g the condition is
    g^{⊗(l+k)} vec(W) = vec(W), a signed permutation of the coordinates, so the solutions are spanned
    by one signed indicator per orbit without a sign conflict. Every other constraint then restricts
    that space by a float64 null-space computation, done block by block (the columns of the current
    basis that the constraint couples), which keeps n^(k+l) = 4096 cheap. Raises ValueError when
    n^(k+l) > MAX_ORACLE_SIZE.
    """
    _check_size(k, l, n)
    elements = [np.asarray(g, dtype=float) for g in elements]
    mono = [g for g in elements if _is_signed_permutation(g)]
    others = [g for g in elements if not _is_signed_permutation(g)]
    basis = _signed_orbit_basis(mono, k + l, n)
    ops: list[Callable[[np.ndarray], np.ndarray]] = []
    ops += [_group_operator(g, k, l, n) for g in others]
    ops += [_lie_operator(np.asarray(A, dtype=float), k, l, n) for A in lie]
    for op in ops:
        if basis.shape[1] == 0:
            break
        basis = _restrict(basis, op)
    return int(basis.shape[1])


def _is_signed_permutation(g: np.ndarray) -> bool:
    if g.ndim != 2 or g.shape[0] != g.shape[1]:
        return False
    nonzero = g != 0
    return bool(np.all(np.isin(g, (-1.0, 0.0, 1.0))) and np.all(nonzero.sum(0) == 1)
                and np.all(nonzero.sum(1) == 1))


def _signed_orbit_basis(mono: list[np.ndarray], m: int, n: int) -> np.ndarray:
    """Orthonormal basis (columns) of the vectors of (R^n)^{⊗m} fixed by every g^{⊗m}, g in ``mono``."""
    size = n**m
    parent = list(range(size))
    parity = [0] * size          # sign of v_x relative to v_parent(x): 0 means +, 1 means -
    conflict = [False] * size

    def find(x: int) -> tuple[int, int]:
        sign = 0
        path = []
        while parent[x] != x:
            path.append(x)
            sign ^= parity[x]
            x = parent[x]
        root, acc = x, sign
        for y in path:                        # path compression keeping parities right
            nxt_sign = acc ^ parity[y]
            parent[y], parity[y], acc = root, acc, nxt_sign
        return root, sign

    coords = np.indices((n,) * m).reshape(m, -1) if m else np.zeros((0, 1), dtype=np.int64)
    for g in mono:
        sigma = np.argmax(g != 0, axis=0)          # column i has its nonzero in row sigma[i]
        eps = g[sigma, np.arange(n)]
        image = np.ravel_multi_index(sigma[coords], (n,) * m) if m else np.zeros(1, dtype=np.int64)
        signs = np.prod(eps[coords], axis=0) if m else np.ones(1)
        # fixed vector v: v_{image(x)} = signs(x) * v_x
        for x, y, s in zip(range(size), image.tolist(), signs.tolist()):
            rx, px = find(x)
            ry, py = find(y)
            rel = 0 if s > 0 else 1
            if rx == ry:
                if px ^ py != rel:
                    conflict[rx] = True
                continue
            parent[ry], parity[ry] = rx, px ^ py ^ rel
            conflict[rx] = conflict[rx] or conflict[ry]
    orbits: dict[int, list[tuple[int, int]]] = {}
    for x in range(size):
        root, sign = find(x)
        orbits.setdefault(root, []).append((x, sign))
    good = [members for root, members in orbits.items() if not conflict[root]]
    basis = np.zeros((size, len(good)))
    for j, members in enumerate(good):
        for x, sign in members:
            basis[x, j] = -1.0 if sign else 1.0
        basis[:, j] /= math.sqrt(len(members))
    return basis


def _apply_axis(matrix: np.ndarray, tensor: np.ndarray, axis: int) -> np.ndarray:
    """new[..., i, ...] = Σ_j matrix[i, j] tensor[..., j, ...] on ``axis``."""
    return np.moveaxis(np.tensordot(matrix, tensor, axes=([1], [axis])), 0, axis)


def _group_operator(g: np.ndarray, k: int, l: int, n: int) -> Callable[[np.ndarray], np.ndarray]:
    """Columns vec(W) -> vec(W g^{⊗k} - g^{⊗l} W), computed one tensor factor at a time."""
    m = k + l

    def op(columns: np.ndarray) -> np.ndarray:
        t = columns.reshape((n,) * m + (-1,))
        right, left = t, t
        for b in range(l, m):                 # (W g^{⊗k})[I, J] = Σ_J' W[I, J'] Π g[j'_b, j_b]
            right = _apply_axis(g.T, right, b)
        for a in range(l):                    # (g^{⊗l} W)[I, J] = Σ_I' Π g[i_a, i'_a] W[I', J]
            left = _apply_axis(g, left, a)
        return (right - left).reshape(n**m, -1)
    return op


def _lie_operator(A: np.ndarray, k: int, l: int, n: int) -> Callable[[np.ndarray], np.ndarray]:
    """Columns vec(W) -> vec(W dρ_k(A) - dρ_l(A) W)."""
    m = k + l

    def op(columns: np.ndarray) -> np.ndarray:
        t = columns.reshape((n,) * m + (-1,))
        out = np.zeros_like(t)
        for b in range(l, m):
            out += _apply_axis(A.T, t, b)
        for a in range(l):
            out -= _apply_axis(A, t, a)
        return out.reshape(n**m, -1)
    return op


def _check_gap(s: np.ndarray, scale: float) -> None:
    ambiguous = s[(s > TOL * scale) & (s <= GAP * scale)]
    if ambiguous.size:
        raise ArithmeticError(f"commutant oracle: ambiguous singular values {ambiguous} (scale {scale})")


def _restrict(basis: np.ndarray, op: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """An orthonormal basis of {basis @ c : op(basis @ c) = 0}, computed on independent blocks."""
    image = op(basis)
    mags = np.abs(image)
    nonzero = mags > 1e-12 * max(1.0, float(mags.max(initial=0.0)))
    cols = basis.shape[1]
    # columns coupled through a shared nonzero row of the image belong to one block: label
    # propagation on the bipartite (row, column) graph until every column holds its block's minimum
    rows_nz, cols_nz = np.nonzero(nonzero)
    label = np.arange(cols)
    while True:
        row_label = np.full(basis.shape[0], cols)
        np.minimum.at(row_label, rows_nz, label[cols_nz])
        new = label.copy()
        np.minimum.at(new, cols_nz, row_label[rows_nz])
        if np.array_equal(new, label):
            break
        label = new
    blocks: dict[int, list[int]] = {}
    for c, root in enumerate(label.tolist()):
        blocks.setdefault(root, []).append(c)
    kept = []
    for members in blocks.values():
        sub_cols = np.array(members)
        rows = np.nonzero(nonzero[:, sub_cols].any(axis=1))[0]
        if rows.size == 0:
            kept.append(basis[:, sub_cols])
            continue
        sub = image[np.ix_(rows, sub_cols)]
        # all right singular vectors are needed, the left ones never: skip the big U when tall
        _, s, vt = np.linalg.svd(sub, full_matrices=sub.shape[0] < sub.shape[1])
        scale = max(1.0, float(s.max(initial=0.0)))
        _check_gap(s, scale)
        rank = int(np.sum(s > TOL * scale))
        null = vt[rank:].T
        if null.shape[1]:
            kept.append(basis[:, sub_cols] @ null)
    return np.hstack(kept) if kept else np.zeros((basis.shape[0], 0))


# -- group generators ---------------------------------------------------------------------------
#: name -> builder(n) returning (elements, lie_elements); extend with @generators("NAME")
GENERATORS: dict[str, Callable[[int], tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]]] = {}


def generators(name: str):
    """Register ``builder(n) -> (elements, lie_elements)`` under ``name``."""
    def wrap(builder):
        GENERATORS[name] = builder
        return builder
    return wrap


def group_generators(name: str, n: int) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """``(elements, lie_elements)`` (float64 n x n arrays) that together generate the group."""
    return GENERATORS[name](n)


def permutation_matrix(sigma: Sequence[int]) -> np.ndarray:
    """P with P e_i = e_{sigma(i)}, i.e. P[sigma[i], i] = 1 (float64)."""
    n = len(sigma)
    p = np.zeros((n, n))
    for i, s in enumerate(sigma):
        p[s, i] = 1.0
    return p


def _unit(n: int, i: int, j: int) -> np.ndarray:
    e = np.zeros((n, n))
    e[i, j] = 1.0
    return e


@generators("S")
def _symmetric(n: int):
    """A transposition (0 1) and the n-cycle i -> i+1 generate S_n (nothing for n = 1)."""
    if n == 1:
        return (), ()
    transposition = [1, 0] + list(range(2, n))
    cycle = [(i + 1) % n for i in range(n)]
    return (permutation_matrix(transposition), permutation_matrix(cycle)), ()


@generators("O")
def _orthogonal(n: int):
    """so(n) basis E_ij - E_ji (i < j) and one reflection diag(-1, 1, .., 1): together they generate O(n)."""
    lie = tuple(_unit(n, i, j) - _unit(n, j, i) for i in range(n) for j in range(i + 1, n))
    reflection = np.eye(n)
    reflection[0, 0] = -1.0
    return (reflection,), lie


# -- orbit counting -----------------------------------------------------------------------------
def bell_triangle(m: int) -> int:
    """Bell(m) by Aitken's triangle (each row starts with the last entry of the row before)."""
    row = [1]
    for _ in range(m):
        nxt = [row[-1]]
        for x in row:
            nxt.append(nxt[-1] + x)
        row = nxt
    return row[0]


def all_permutations(n: int) -> list[tuple[int, ...]]:
    """Every element of S_n as a tuple (sigma(0), .., sigma(n-1))."""
    return list(itertools.permutations(range(n)))


def burnside_orbits(perms: Sequence[Sequence[int]], m: int, n: int) -> int:
    """Orbits of the group ``perms`` (ALL its elements, permutations of range(n)) on [n]^m.

    Burnside: (1/|G|) Σ_g fix(g)^m, since g fixes a tuple iff it fixes every entry.
    """
    total = sum(sum(1 for i in range(n) if p[i] == i) ** m for p in perms)
    value = Fraction(total, len(perms))
    assert value.denominator == 1, "not a group: Burnside average is not an integer"
    return int(value)


def _integer_partitions(n: int, largest: int | None = None) -> Iterable[list[int]]:
    largest = n if largest is None else largest
    if n == 0:
        yield []
        return
    for part in range(min(n, largest), 0, -1):
        for rest in _integer_partitions(n - part, part):
            yield [part, *rest]


def symmetric_group_orbits(m: int, n: int) -> int:
    """Orbits of S_n on [n]^m by Burnside over cycle types: Σ_λ fix(λ)^m / z_λ (exact Fractions)."""
    total = Fraction(0)
    for shape in _integer_partitions(n):
        z = 1
        for size in set(shape):
            count = shape.count(size)
            z *= size**count * math.factorial(count)
        total += Fraction(shape.count(1) ** m, z)
    assert total.denominator == 1
    return int(total)


# -- brute-force diagram matrices ---------------------------------------------------------------
def brute_partition_matrix(blocks: Iterable[Iterable[int]], k: int, l: int, n: int,
                           distinct: bool = False) -> np.ndarray:
    """D_π (or X_π with ``distinct``) by looping over every multi-index x = (outputs, inputs).

    Labels 1..l are outputs, l+1..l+k inputs; entry [row(x_1..x_l), col(x_{l+1}..x_{l+k})] is 1 when
    x is constant on each block (and, with ``distinct``, different blocks take different values).
    """
    blocks = [list(b) for b in blocks]
    out = np.zeros((n**l, n**k), dtype=np.int64)
    for x in itertools.product(range(n), repeat=k + l):
        values = []
        ok = True
        for b in blocks:
            vals = {x[v - 1] for v in b}
            if len(vals) != 1:
                ok = False
                break
            values.append(vals.pop())
        if not ok or (distinct and len(set(values)) != len(values)):
            continue
        row = 0
        for i in x[:l]:
            row = row * n + i
        col = 0
        for j in x[l:]:
            col = col * n + j
        out[row, col] = 1
    return out


def matrix_rank(matrices: Sequence[np.ndarray]) -> int:
    """Rank of the matrices read as vectors.

    Integer matrices (the diagram matrices) get an exact rank: their Gram matrix is computed in
    float64, exact while its entries stay below 2^53, and its rank over Q (= the rank of the family)
    is found by elimination modulo two large primes (a rank mod p never exceeds the rank over Q and
    equals it unless p divides every maximal nonzero minor, so the larger of the two is taken).
    Other matrices fall back to float64 SVD with the TOL/GAP rule of the commutant oracle.
    """
    if not len(matrices):
        return 0
    stacked = np.array([np.asarray(mat, dtype=float).ravel() for mat in matrices])
    if stacked.size and np.all(stacked == np.round(stacked)):
        peak = float(np.abs(stacked).max(initial=0.0))
        if peak**2 * stacked.shape[1] < 2.0**53:
            gram = stacked @ stacked.T
            exact = np.array([[int(x) for x in row] for row in gram.tolist()], dtype=object)
            return max(_rank_mod_p(exact, p) for p in (2_147_483_629, 2_147_483_587))
    s = np.linalg.svd(stacked, compute_uv=False)
    scale = max(1.0, float(s.max(initial=0.0)))
    _check_gap(s, scale)
    return int(np.sum(s > TOL * scale))


def _rank_mod_p(matrix: np.ndarray, prime: int) -> int:
    """Rank of an integer matrix modulo ``prime`` (< 2^31, so products fit in int64)."""
    mat = np.array([[int(x) % prime for x in row] for row in matrix], dtype=np.int64).reshape(matrix.shape)
    rows, cols = mat.shape
    rank = 0
    for c in range(cols):
        if rank == rows:
            break
        nonzero = np.nonzero(mat[rank:, c])[0]
        if nonzero.size == 0:
            continue
        pivot = rank + int(nonzero[0])
        if pivot != rank:
            mat[[rank, pivot]] = mat[[pivot, rank]]
        mat[rank, c:] = mat[rank, c:] * pow(int(mat[rank, c]), -1, prime) % prime
        below = mat[rank + 1:, c:]
        below -= below[:, :1] * mat[rank, c:] % prime
        below %= prime
        rank += 1
    return rank


# -- random inputs for law tests ----------------------------------------------------------------
def random_blocks(rng: np.random.Generator, m: int) -> list[list[int]]:
    """A random set partition of 1..m (block count drawn first, then a random assignment)."""
    if m == 0:
        return []
    t = int(rng.integers(1, m + 1))
    owner = rng.integers(0, t, size=m)
    blocks: dict[int, list[int]] = {}
    for v, b in enumerate(owner.tolist(), 1):
        blocks.setdefault(b, []).append(v)
    return list(blocks.values())


def random_pairing(rng: np.random.Generator, m: int) -> list[list[int]]:
    """A uniformly random perfect matching of 1..m (m even)."""
    if m % 2:
        raise ValueError("a pairing needs an even number of vertices")
    order = (rng.permutation(m) + 1).tolist()
    return [[order[i], order[i + 1]] for i in range(0, m, 2)]


def random_diagram(rng: np.random.Generator, k: int, l: int, brauer: bool = False):
    """A random catnn Diagram k -> l (a Brauer diagram with ``brauer``; k + l must then be even)."""
    from catnn.diagram import Diagram
    blocks = random_pairing(rng, k + l) if brauer else random_blocks(rng, k + l)
    return Diagram.from_blocks(blocks, k=k, l=l)


def random_coefficient(rng: np.random.Generator):
    """A small random Laurent polynomial in n (possibly constant)."""
    from catnn.coeff import Poly
    terms = {int(e): Fraction(int(rng.integers(-5, 6)), int(rng.integers(1, 4)))
             for e in rng.integers(-1, 3, size=int(rng.integers(1, 3)))}
    poly = Poly(terms)
    return poly if not poly.is_zero() else Poly.const(1)


def random_morphism(rng: np.random.Generator, k: int, l: int, terms: int = 3, brauer: bool = False):
    """A random Morphism: ``terms`` random diagrams with random Laurent-polynomial coefficients."""
    from catnn.morphism import Morphism
    pairs = [(random_diagram(rng, k, l, brauer), random_coefficient(rng)) for _ in range(terms)]
    return Morphism(pairs, k, l)


def random_composable_chain(rng: np.random.Generator, arities: Sequence[int], brauer: bool = False):
    """Diagrams d_i : arities[i] -> arities[i+1], so that d_0 >> d_1 >> ... is defined."""
    return [random_diagram(rng, a, b, brauer) for a, b in zip(arities, arities[1:])]


def conjugate(W: np.ndarray, g: np.ndarray, k: int, l: int) -> np.ndarray:
    """g^{⊗l} W g^{-⊗k} for a dense (n^l, n^k) map W, one tensor factor at a time (no n^(2k) Kronecker
    matrices): W is equivariant exactly when this returns W."""
    n = g.shape[0]
    t = W.astype(float).reshape((n,) * (l + k))
    g_inv_t = np.linalg.inv(g).T
    for axis in range(l + k):
        t = np.moveaxis(np.tensordot(g if axis < l else g_inv_t, t, axes=([1], [axis])), 0, axis)
    return t.reshape(W.shape)
