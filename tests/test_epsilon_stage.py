"""The ε-stage and jellyfish heads as chains of small constants (no dense (n,)^n symbol; issue 16).

Oracles: the Levi-Civita symbol straight from permutation signs, dense diagram matrices
(``G.matrix``) where they fit, a sparse definition-based sum over permutations for a pure ε-diagram at
n = 8, and equivariance under random rotations / even permutations built here (float64).
"""

from __future__ import annotations

from functools import partial
import itertools
import math

import numpy as np
import pytest
import torch

import catnn
from catnn.compiler.backends import emit as emit_plan
from catnn.compiler.kernels import constant_value
from catnn.compiler.kernels_classical import epsilon_kind, jellyfish_kind, levi_civita_head
from catnn.compiler.plan import build_plan
from catnn.diagram import Diagram, set_partitions
from catnn.groups.alternating import Jellyfish
from catnn.levi_civita import EpsilonDiagram
from catnn.nn import EquivariantLinear
from oracle_layers import dense_layer, kron_apply


def symbol(n: int) -> np.ndarray:
    """ε on (n,)*n from the parity of each permutation (inversion count)."""
    out = np.zeros((n,) * n)
    for perm in itertools.permutations(range(n)):
        inversions = sum(perm[i] > perm[j] for i in range(n) for j in range(i + 1, n))
        out[perm] = (-1) ** inversions
    return out


def contract_chain(kind, t: int, n: int) -> np.ndarray:
    """The head's chain of constants contracted back into one (n,)*t tensor."""
    labels = iter(range(t, 3 * t + 2))
    chain = levi_civita_head(kind, tuple(range(t)), lambda: next(labels))
    letters = "abcdefghijklmnopqrstuvwxyz"
    operands, subscripts = [], []
    for name, labs in chain:
        operands.append(np.asarray(constant_value(name, n), dtype=float))
        subscripts.append("".join(letters[lab] for lab in labs))
    return np.einsum(",".join(subscripts) + "->" + letters[:t], *operands, optimize=True)


@pytest.mark.parametrize("n", range(1, 8))
def test_epsilon_chain_is_the_symbol(n):
    """The SO(n) chain contracts to the Levi-Civita symbol."""
    np.testing.assert_array_equal(contract_chain(epsilon_kind, n, n), symbol(n))


@pytest.mark.parametrize("n", range(2, 8))
def test_jellyfish_chains_are_the_heads(n):
    """t = n: ε itself; t = n - 1: the missing value appended, Σ_y ε(v_1, .., v_(n-1), y)."""
    np.testing.assert_array_equal(contract_chain(jellyfish_kind, n, n), symbol(n))
    np.testing.assert_array_equal(contract_chain(jellyfish_kind, n - 1, n), symbol(n).sum(-1))


def test_chain_sizes_are_far_below_the_dense_symbol():
    """SO(10)'s chain holds a few million entries (about n · C(n, n/2)^2 at most per core), not 10^10."""
    n = 10
    sizes = [np.asarray(constant_value(epsilon_kind(n, j), n)).size for j in range(2, n + 1)]
    assert max(sizes) == math.comb(n, 4) * n * math.comb(n, 5)
    assert sum(sizes) < 3 * 10**6
    with pytest.raises(ValueError, match="needs n = 10"):
        constant_value(epsilon_kind(n, 3), 9)


def rotation(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def even_permutation(n: int, rng: np.random.Generator) -> np.ndarray:
    sigma = list(rng.permutation(n))
    inversions = sum(sigma[i] > sigma[j] for i in range(n) for j in range(i + 1, n))
    if inversions % 2:
        sigma[0], sigma[1] = sigma[1], sigma[0]
    return np.eye(n)[sigma]


DENSE = [("SO", 5, 3, 4), ("SO", 6, 4, 2), ("SO", 7, 4, 3), ("SO", 7, 3, 4), ("A", 6, 3, 3), ("A", 7, 3, 4),
         ("A", 5, 4, 2)]


@pytest.mark.parametrize("name,n,k,l", DENSE)
def test_levi_civita_diagrams_equal_dense_oracle(name, n, k, l, rng):
    """Up to six ε-diagrams / jellyfish of the spanning set in one plan, both emitters, against their
    dense matrices (n = 7 has 7^7 entries per matrix, the old dense-constant limit)."""
    G = catnn.group(name, n=n)
    heads = [d for d in G.spanning_set(k, l) if isinstance(d, (EpsilonDiagram, Jellyfish))]
    picked = [heads[i] for i in sorted(rng.choice(len(heads), min(6, len(heads)), replace=False))]
    plan = build_plan(G, k, l, picked)
    x, w = rng.standard_normal((2, 2) + (n,) * k), rng.standard_normal((len(picked), 3, 2))
    expected = dense_layer(G, k, l, picked, w, x)
    assert np.abs(expected).max() > 1e-3
    for emit in (partial(emit_plan, backend="torch"), partial(emit_plan, backend="einsum")):
        got = emit(plan)(torch.from_numpy(x), torch.from_numpy(w)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-9)


def test_pure_epsilon_at_eight_equals_the_sum_over_permutations(rng):
    """SO(8) 4 -> 4, ε on all eight legs: y[P] = Σ_Q ε(P, Q) x[Q] over the orderings Q of the values
    P leaves out (the definition, summed sparsely)."""
    n = 8
    d = EpsilonDiagram(range(1, 9), [], k=4, l=4)
    layer = EquivariantLinear("SO", 4, 4, 1, 1, n=n, diagrams=[d], bias=False).double()
    with torch.no_grad():
        layer.weight.fill_(1.0)
    x = rng.standard_normal((1, 1) + (n,) * 4)
    got = layer(torch.from_numpy(x)).detach().numpy()[0, 0]
    expected = np.zeros((n,) * 4)
    for P in itertools.permutations(range(n), 4):
        rest = [v for v in range(n) if v not in P]
        for Q in itertools.permutations(rest):
            full = P + Q
            sign = (-1) ** sum(full[i] > full[j] for i in range(n) for j in range(i + 1, n))
            expected[P] += sign * x[(0, 0) + Q]
    np.testing.assert_allclose(got, expected, atol=1e-9)


LARGE = [("SO", 8, 4, 4, "torch", None), ("SO", 8, 4, 4, "einsum", None), ("A", 8, 4, 4, "torch", "heads"),
         ("SO", 10, 5, 5, "torch", "heads"), ("SO", 9, 5, 4, "torch", "heads")]


@pytest.mark.parametrize("name,n,k,l,backend,which", LARGE)
def test_large_layers_build_and_are_equivariant(name, n, k, l, backend, which, rng):
    """Layers the dense constant could not build (n^n > 7^7): equivariant in float64 under random
    rotations / even permutations, and not identically zero."""
    G = catnn.group(name, n=n)
    diagrams = None
    if which == "heads" and name == "A":        # the jellyfish only, without the 4,140 partition diagrams
        diagrams = [Jellyfish(Diagram(b, k, l), n) for b in set_partitions(k + l) if len(b) >= n - 1]
    elif which == "heads":
        diagrams = [d for d in G.spanning_set(k, l) if isinstance(d, EpsilonDiagram)]
    layer = EquivariantLinear(G, k, l, 2, 2, n=n, backend=backend, diagrams=diagrams, bias=False).double()
    x = torch.from_numpy(rng.standard_normal((1, 2) + (n,) * k))
    y = layer(x)
    assert y.abs().max() > 1e-3
    g = rotation(n, rng) if name == "SO" else even_permutation(n, rng)
    gx = torch.from_numpy(kron_apply(g, x.numpy()))
    torch.testing.assert_close(layer(gx), torch.from_numpy(kron_apply(g, y.detach().numpy())), atol=1e-9,
                               rtol=1e-9)
