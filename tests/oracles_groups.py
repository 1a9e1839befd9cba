"""Oracle generators for SO(n), Sp(n), A_n, H_n and B_n, added to ``oracles.GENERATORS``.

Importing this module registers the builders (``oracles.group_generators("SO", 3)`` then works).
Each returns ``(elements, lie_elements)`` generating the group, built from the definitions alone:
signed permutation matrices inside the group (handled exactly by the commutant oracle) and a basis
of the Lie algebra (integer matrices). Nothing here touches catnn.
"""

from __future__ import annotations

import itertools

import numpy as np

from oracles import generators, permutation_matrix


def _unit(n: int, i: int, j: int) -> np.ndarray:
    e = np.zeros((n, n))
    e[i, j] = 1.0
    return e


def _parity(sigma) -> int:
    inversions = sum(1 for i in range(len(sigma)) for j in range(i + 1, len(sigma)) if sigma[i] > sigma[j])
    return inversions % 2


def _form(n: int) -> np.ndarray:
    """J = block-diag([[0, 1], [-1, 0]]) in the basis (e_1, e_1', e_2, e_2', ...)."""
    J = np.zeros((n, n))
    for t in range(0, n, 2):
        J[t, t + 1], J[t + 1, t] = 1.0, -1.0
    return J


@generators("SO")
def _special_orthogonal(n: int):
    """so(n) basis E_ij - E_ji plus signed permutations of determinant +1 (they speed the oracle up)."""
    lie = tuple(_unit(n, i, j) - _unit(n, j, i) for i in range(n) for j in range(i + 1, n))
    if n < 2:
        return (), lie
    swap = permutation_matrix([1, 0] + list(range(2, n)))
    swap[:, 0] *= -1.0                                   # det = (-1)(-1) = +1
    cycle = permutation_matrix([(i + 1) % n for i in range(n)])
    if n % 2 == 0:
        cycle[:, 0] *= -1.0                              # an n-cycle has sign (-1)^(n-1)
    flips = np.diag([-1.0, -1.0] + [1.0] * (n - 2))
    return (swap, cycle, flips), lie


@generators("Sp")
def _symplectic(n: int):
    """sp(n) basis J·(E_ij + E_ji) (i <= j) plus signed permutations preserving J."""
    J = _form(n)
    lie = tuple(J @ (_unit(n, i, j) + _unit(n, j, i)) for i in range(n) for j in range(i, n))
    for A in lie:
        assert np.array_equal(A.T @ J + J @ A, np.zeros((n, n)))
    block = np.eye(n)
    block[:2, :2] = [[0.0, 1.0], [-1.0, 0.0]]            # e_1 -> -e_1', e_1' -> e_1
    elements = [block]
    if n >= 4:
        pairs = np.eye(n)[:, [2, 3, 0, 1] + list(range(4, n))]   # swap the pairs (e1, e1') and (e2, e2')
        elements.append(pairs)
    for g in elements:
        assert np.array_equal(g.T @ J @ g, J)
    return tuple(elements), lie


def alternating_elements(n: int) -> list[tuple[int, ...]]:
    """Every even permutation of range(n)."""
    return [p for p in itertools.permutations(range(n)) if _parity(p) == 0]


@generators("A")
def _alternating(n: int):
    """3-cycles (0 1 i) generate A_n (nothing for n <= 2)."""
    gens = []
    for i in range(2, n):
        sigma = list(range(n))
        sigma[0], sigma[1], sigma[i] = 1, i, 0
        gens.append(permutation_matrix(sigma))
    return tuple(gens), ()


@generators("H")
def _hyperoctahedral(n: int):
    """A transposition, the n-cycle and one sign flip generate the signed permutation matrices."""
    flip = np.diag([-1.0] + [1.0] * (n - 1))
    if n == 1:
        return (flip,), ()
    transposition = permutation_matrix([1, 0] + list(range(2, n)))
    cycle = permutation_matrix([(i + 1) % n for i in range(n)])
    return (transposition, cycle, flip), ()


@generators("B")
def _bistochastic(n: int):
    """S_n (transpositions are reflections of 1^⊥) and the Lie algebra so(1^⊥): B_n ≅ O(n-1)."""
    if n == 1:
        return (), ()
    transposition = permutation_matrix([1, 0] + list(range(2, n)))
    cycle = permutation_matrix([(i + 1) % n for i in range(n)])
    roots = [np.eye(n)[i] - np.eye(n)[i + 1] for i in range(n - 1)]       # a basis of 1^⊥
    lie = tuple(np.outer(u, v) - np.outer(v, u) for u, v in itertools.combinations(roots, 2))
    for A in lie:
        assert np.allclose(A @ np.ones(n), 0.0)
    return (transposition, cycle), lie


def signed_orbit_dimension(elements: list[np.ndarray], m: int) -> int:
    """Burnside with characters for a finite group given by ALL its elements: (1/|G|) Σ tr(g)^m."""
    total = sum(round(float(np.trace(g))) ** m for g in elements)
    assert total % len(elements) == 0
    return total // len(elements)


def all_signed_permutations(n: int) -> list[np.ndarray]:
    """Every signed permutation matrix of size n (|H_n| = 2^n n!)."""
    out = []
    for sigma in itertools.permutations(range(n)):
        for signs in itertools.product((-1, 1), repeat=n):
            g = np.zeros((n, n))
            g[list(sigma), range(n)] = signs
            out.append(g)
    return out
