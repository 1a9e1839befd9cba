"""Diagram: canonical form, the category laws on seeded random diagrams, matrices against brute force.

Matrices on the right-hand sides come from ``oracles.brute_partition_matrix`` (an explicit loop over
multi-indices), never from catnn's dense builders; the left-hand sides go through ``Group.matrix``.
"""

from __future__ import annotations

import itertools
import math
import re
from functools import lru_cache

import numpy as np
import pytest

import catnn
from catnn import messages
from catnn.coeff import Poly
from catnn.diagram import (Diagram, canonical_partitions, cap, counit, cup, identity, merge, perfect_matchings,
                           permutation, set_partitions, split, swap, unit)
from catnn.errors import CatnnError, DiagramError
from catnn.morphism import Morphism
from oracles import bell_triangle, brute_partition_matrix, random_blocks, random_diagram

N = Poly.n()
S = {n: catnn.group("S", n) for n in (1, 2, 3)}
O = {n: catnn.group("O", n) for n in (1, 2, 3)}


@lru_cache(maxsize=None)
def brute(d: Diagram, n: int) -> np.ndarray:
    return brute_partition_matrix(d.blocks, d.k, d.l, n)


def single(m: Morphism) -> tuple[Poly, Diagram]:
    """The only term of a one-term morphism."""
    assert len(m.terms) == 1, m
    d, c = m.terms[0]
    return c, d


def arities(rng, count: int, top: int = 3) -> list[int]:
    return [int(x) for x in rng.integers(0, top + 1, size=count)]


def brauer_arities(rng, count: int) -> list[int]:
    """Arities with every consecutive sum even (all of one parity)."""
    parity = int(rng.integers(0, 2))
    return [parity + 2 * int(x) for x in rng.integers(0, 2, size=count)]


# -- construction and canonical form ----------------------------------------------------------
def test_public_example_is_the_swap():
    d = catnn.Diagram.from_blocks([[1, 4], [2, 3]], k=2, l=2)
    assert (d.k, d.l, d.blocks) == (2, 2, ((1, 4), (2, 3)))
    assert d == swap() == permutation([1, 0])
    assert str(d) == "{1, 2'} {2, 1'}"
    assert (d >> d) == identity(2)


@pytest.mark.parametrize("seed", range(10))
def test_canonical_form_ignores_input_order(seed):
    rng = np.random.default_rng(seed)
    k, l = arities(rng, 2, 4)
    blocks = random_blocks(rng, k + l)
    d = Diagram.from_blocks(blocks, k=k, l=l)
    shuffled = [list(rng.permutation(b)) for b in blocks]
    rng.shuffle(shuffled)
    e = Diagram.from_blocks([[int(v) for v in b] for b in shuffled], k=k, l=l)
    assert d == e and hash(d) == hash(e) and d.blocks == e.blocks
    assert all(list(b) == sorted(b) for b in d.blocks)
    assert list(d.blocks) == sorted(d.blocks)
    assert sorted(v for b in d.blocks for v in b) == list(range(1, k + l + 1))
    assert eval(repr(d), {"Diagram": Diagram}) == d
    assert len({d, e, Diagram.from_blocks(blocks, k=l, l=k) if k != l else d}) == (2 if k != l else 1)


def test_equality_distinguishes_arity():
    assert Diagram.from_blocks([[1, 2]], k=0, l=2) != Diagram.from_blocks([[1, 2]], k=1, l=1)
    assert Diagram.from_blocks([[1, 2]], k=2, l=0) != cup()
    assert identity(1) != "id"


def test_block_classification():
    d = Diagram.from_blocks([[1, 2], [3, 6], [4, 5, 7], [8], [9, 10]], k=5, l=5)
    assert d.top_blocks() == ((1, 2),)
    assert d.propagating_blocks() == ((3, 6), (4, 5, 7))
    assert d.bottom_blocks() == ((8,), (9, 10))
    assert d.num_blocks == 5 and [d.is_top(v) for v in (5, 6)] == [True, False]


@pytest.mark.parametrize("seed", range(10))
def test_block_classification_random(seed):
    rng = np.random.default_rng(seed)
    k, l = arities(rng, 2, 4)
    d = random_diagram(rng, k, l)
    top, prop, bottom = d.top_blocks(), d.propagating_blocks(), d.bottom_blocks()
    assert sorted(top + prop + bottom) == sorted(d.blocks)
    assert all(all(v <= l for v in b) for b in top)
    assert all(all(v > l for v in b) for b in bottom)
    assert all(any(v <= l for v in b) and any(v > l for v in b) for b in prop)


# -- matrices -----------------------------------------------------------------------------------
GENERATORS = {
    "swap": (swap, 2, 2), "merge": (merge, 2, 1), "split": (split, 1, 2), "unit": (unit, 0, 1),
    "counit": (counit, 1, 0), "cup": (cup, 0, 2), "cap": (cap, 2, 0), "id": (identity, 1, 1),
}


def _expected_generator(name: str, n: int) -> np.ndarray:
    eye = np.eye(n, dtype=np.int64)
    vec_i = eye.reshape(n * n, 1)
    if name == "swap":
        return np.array([[1 if (i1 == j2 and i2 == j1) else 0 for j1 in range(n) for j2 in range(n)]
                         for i1 in range(n) for i2 in range(n)])
    if name == "merge":
        return np.array([[1 if i == j1 == j2 else 0 for j1 in range(n) for j2 in range(n)] for i in range(n)])
    if name == "split":
        return _expected_generator("merge", n).T
    return {"unit": np.ones((n, 1), dtype=np.int64), "counit": np.ones((1, n), dtype=np.int64),
            "cup": vec_i, "cap": vec_i.T, "id": eye}[name]


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("n", [1, 2, 3])
def test_generators(name, n):
    make, k, l = GENERATORS[name]
    d = make()
    assert (d.k, d.l) == (k, l)
    expected = _expected_generator(name, n)
    assert np.array_equal(S[n].matrix(d), expected)
    assert np.array_equal(brute(d, n), expected)


@pytest.mark.parametrize("perm", [(0,), (1, 0), (2, 0, 1), (1, 2, 0), (3, 1, 0, 2)])
def test_permutation_matrix_is_numpy_transpose(perm):
    n = 3
    d = permutation(perm)
    assert d.is_permutation() and d == Diagram.permutation(list(perm))
    x = np.random.default_rng(0).integers(-9, 10, size=(n,) * len(perm))
    assert np.array_equal(S[n].matrix(d) @ x.reshape(-1), np.transpose(x, perm).reshape(-1))


@pytest.mark.parametrize("seed", range(12))
def test_matrix_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    k, l = arities(rng, 2)
    d = random_diagram(rng, k, l)
    for n in (1, 2, 3):
        assert np.array_equal(S[n].matrix(d), brute(d, n))
        assert S[n].matrix(d).shape == (n**l, n**k)


@pytest.mark.parametrize("seed", range(25))
def test_composition_matrix_with_loops(seed):
    rng = np.random.default_rng(seed)
    k, l, m = arities(rng, 3)
    f, g = random_diagram(rng, k, l), random_diagram(rng, l, m)
    c, d = single(f >> g)
    closed, e = f.compose(g)
    assert e == d and c == N**closed and (d.k, d.l) == (k, m)
    for n in (1, 2, 3):
        G = S[n]
        assert np.array_equal(G.matrix(f >> g), G.matrix(g) @ G.matrix(f))
        assert np.array_equal(n**closed * brute(d, n), brute(g, n) @ brute(f, n))


@pytest.mark.parametrize("seed", range(15))
def test_composition_matrix_brauer(seed):
    rng = np.random.default_rng(seed)
    k, l, m = brauer_arities(rng, 3)
    f, g = random_diagram(rng, k, l, brauer=True), random_diagram(rng, l, m, brauer=True)
    c, d = single(f >> g)
    assert d.is_brauer()
    for n in (1, 2, 3):
        G = O[n]
        assert np.array_equal(G.matrix(f >> g), G.matrix(g) @ G.matrix(f))
        assert np.array_equal(c.evaluate(n) * brute(d, n), brute(g, n) @ brute(f, n))


def test_closed_loops_are_counted():
    assert (cup() >> cap()) == Morphism.of(identity(0), N)
    assert cup().compose(cap()) == (1, identity(0))
    # three closed components: (cup @ cup @ unit) >> (cap @ cap @ counit)
    top = cup() @ cup() @ unit()
    bottom = cap() @ cap() @ counit()
    assert single(top >> bottom) == (N**3, identity(0))
    # a snake straightens with no loop
    snake = (identity(1) @ cup()) >> (cap() @ identity(1))
    assert snake == identity(1)
    # merge then split is the 2 -> 2 one-block diagram, split then merge the identity
    assert single(split() >> merge()) == (1, identity(1))
    assert single(merge() >> split()) == (1, Diagram.from_blocks([[1, 2, 3, 4]], k=2, l=2))


@pytest.mark.parametrize("seed", range(20))
def test_tensor_is_kron(seed):
    rng = np.random.default_rng(seed)
    k1, l1, k2, l2 = arities(rng, 4, 2)
    f, g = random_diagram(rng, k1, l1), random_diagram(rng, k2, l2)
    t = f.tensor(g)
    assert (t.k, t.l) == (k1 + k2, l1 + l2) and (f @ g) == t
    for n in (1, 2, 3):
        assert np.array_equal(S[n].matrix(f @ g), np.kron(S[n].matrix(f), S[n].matrix(g)))
        assert np.array_equal(brute(t, n), np.kron(brute(f, n), brute(g, n)))


@pytest.mark.parametrize("seed", range(20))
def test_flip_is_transpose(seed):
    rng = np.random.default_rng(seed)
    k, l, m = arities(rng, 3)
    f, g = random_diagram(rng, k, l), random_diagram(rng, l, m)
    assert (f.T.k, f.T.l) == (l, k) and f.T.T == f
    assert (f >> g).T == g.T >> f.T
    assert (f @ g).T == f.T @ g.T
    for n in (1, 2, 3):
        assert np.array_equal(brute(f.T, n), brute(f, n).T)
        assert np.array_equal(S[n].matrix(f.T), S[n].matrix(f).T)
    assert split().T == merge() and cup().T == cap() and unit().T == counit() and swap().T == swap()


# -- category laws (exact, no matrices) ---------------------------------------------------------
@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("brauer", [False, True])
def test_associativity_and_identities(seed, brauer):
    rng = np.random.default_rng(seed)
    a = brauer_arities(rng, 4) if brauer else arities(rng, 4)
    f, g, h = (random_diagram(rng, x, y, brauer) for x, y in zip(a, a[1:]))
    assert (f >> g) >> h == f >> (g >> h)
    assert (f @ g) @ h == f @ (g @ h)
    assert identity(f.k) >> f == f == f >> identity(f.l)
    assert identity(0) @ f == f == f @ identity(0)
    assert identity(f.k) @ identity(g.k) == identity(f.k + g.k)


@pytest.mark.parametrize("seed", range(25))
def test_interchange_law(seed):
    rng = np.random.default_rng(seed)
    a, b, c, x, y, z = arities(rng, 6, 2)
    f, h = random_diagram(rng, a, b), random_diagram(rng, b, c)
    g, k = random_diagram(rng, x, y), random_diagram(rng, y, z)
    assert (f @ g) >> (h @ k) == (f >> h) @ (g >> k)


@pytest.mark.parametrize("seed", range(10))
def test_permutations_compose_like_permutations(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 6))
    p, q = rng.permutation(k).tolist(), rng.permutation(k).tolist()
    # matrix(perm p) x = transpose(x, p), so "p then q" is transpose(transpose(x, p), q)
    composed = [p[q[i]] for i in range(k)]
    assert permutation(p) >> permutation(q) == permutation(composed)
    inverse = [p.index(i) for i in range(k)]
    assert permutation(p) >> permutation(inverse) == identity(k)
    assert permutation(p).T == permutation(inverse)


# -- predicates and enumeration -----------------------------------------------------------------
def test_predicates():
    assert swap().is_permutation() and swap().is_brauer() and not swap().is_planar()
    assert identity(3).is_planar() and identity(0).is_planar() and identity(0).is_permutation()
    assert cup().is_brauer() and not cup().is_permutation() and cup().is_planar()
    assert not merge().is_brauer() and merge().is_planar()
    assert not Diagram.from_blocks([[1, 2], [3, 4]], k=2, l=2).is_permutation()


@pytest.mark.parametrize("k, l", [(0, 4), (1, 3), (2, 2), (3, 2), (3, 3), (2, 4)])
def test_planar_counts_are_catalan(k, l):
    """Non-crossing partitions of m boundary points: Catalan(m); non-crossing matchings: Catalan(m/2)."""
    m = k + l
    diagrams = [Diagram(b, k, l) for b in set_partitions(m)]
    assert sum(d.is_planar() for d in diagrams) == math.comb(2 * m, m) // (m + 1)
    if m % 2 == 0:
        pairings = [Diagram(b, k, l) for b in perfect_matchings(m)]
        assert sum(d.is_planar() for d in pairings) == math.comb(m, m // 2) // (m // 2 + 1)


@pytest.mark.parametrize("m", range(0, 9))
def test_set_partitions(m):
    parts = list(set_partitions(m))
    assert len(parts) == bell_triangle(m)
    canon = {tuple(sorted(tuple(sorted(b)) for b in p)) for p in parts}
    assert len(canon) == len(parts)
    for p in parts:
        assert sorted(v for b in p for v in b) == list(range(1, m + 1))
        assert all(b for b in p)
    for t in range(0, m + 1):
        limited = list(set_partitions(m, max_blocks=t))
        assert all(len(p) <= t for p in limited)
        assert len(limited) == sum(1 for p in parts if len(p) <= t)


@pytest.mark.parametrize("m", range(0, 8))
def test_canonical_partitions_in_restricted_growth_order(m):
    """Against restricted growth strings from itertools (a[0] = 0, a[i] <= 1 + max(a[:i])), in
    lexicographic order; the blocks are canonical: the checked constructor keeps them as they are."""
    strings = [a for a in itertools.product(range(m), repeat=m)
               if all(a[i] <= 1 + max(a[:i], default=-1) for i in range(m))]
    expected = [tuple(tuple(v + 1 for v in range(m) if a[v] == b) for b in range(max(a, default=-1) + 1))
                for a in strings]
    assert list(canonical_partitions(m)) == expected
    assert [[list(b) for b in p] for p in expected] == list(set_partitions(m))
    for t in range(m + 1):
        assert list(canonical_partitions(m, max_blocks=t)) == [p for p in expected if len(p) <= t]
    for k in range(m + 1):
        for blocks in expected:
            fast, checked = Diagram.from_canonical(blocks, k, m - k), Diagram(blocks, k, m - k)
            assert fast == checked and hash(fast) == hash(checked) and fast.blocks == checked.blocks


@pytest.mark.parametrize("m", range(0, 11))
def test_perfect_matchings(m):
    matchings = list(perfect_matchings(m))
    expected = 0 if m % 2 else math.prod(range(m - 1, 0, -2))
    assert len(matchings) == expected
    assert len({tuple(sorted(tuple(sorted(p)) for p in mt)) for mt in matchings}) == expected
    assert all(all(len(p) == 2 for p in mt) for mt in matchings)


def test_enumeration_is_lazy():
    it = set_partitions(40)
    assert len(next(it)) == 1
    it = perfect_matchings(40)
    assert len(next(it)) == 20


# -- printing -----------------------------------------------------------------------------------
def _format(blocks, l: int) -> str:
    """Independent rendering: blocks in order of their sorted labels, outputs 'i', inputs "j'"."""
    name = lambda v: str(v) if v <= l else f"{v - l}'"  # noqa: E731
    ordered = sorted(tuple(sorted(b)) for b in blocks)
    return " ".join("{" + ", ".join(name(v) for v in b) + "}" for b in ordered) or "id(0)"


def _parse(text: str, k: int, l: int) -> Diagram:
    """A tiny reader for the block-literal format (the real parser comes with the grammar)."""
    if text == "id(0)":
        return Diagram.from_blocks([], k=0, l=0)
    blocks = []
    for body in re.findall(r"\{([^}]*)\}", text):
        labels = []
        for tok in body.split(","):
            tok = tok.strip()
            labels.append(int(tok[:-1]) + l if tok.endswith("'") else int(tok))
        blocks.append(labels)
    return Diagram.from_blocks(blocks, k=k, l=l)


@pytest.mark.parametrize("seed", range(15))
def test_str_format_and_round_trip(seed):
    rng = np.random.default_rng(seed)
    k, l = arities(rng, 2, 4)
    d = random_diagram(rng, k, l)
    text = str(d)
    assert text == _format(d.blocks, l)
    assert _parse(text, k, l) == d
    assert str(_parse(text, k, l)) == text


@pytest.mark.parametrize("d, text", [
    (swap(), "{1, 2'} {2, 1'}"),
    (identity(2), "{1, 1'} {2, 2'}"),
    (merge(), "{1, 1', 2'}"),
    (split(), "{1, 2, 1'}"),
    (cup(), "{1, 2}"),
    (cap(), "{1', 2'}"),
    (unit(), "{1}"),
    (counit(), "{1'}"),
    (identity(0), "id(0)"),
])
def test_str_examples(d, text):
    assert str(d) == text


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("blocks, k, l, message", [
    ([[1, 2], [3, 5]], 2, 2, messages.LABEL_RANGE.format(label=5, k=2, l=2)),
    ([[0, 1], [2, 3], [4]], 2, 2, messages.LABEL_RANGE.format(label=0, k=2, l=2)),
    ([[1, 2], [2, 3], [4]], 2, 2, messages.LABEL_TWICE.format(label=2)),
    ([[1, 1], [2, 3, 4]], 2, 2, messages.LABEL_TWICE.format(label=1)),
    ([[1, 2], [4]], 2, 2, messages.LABEL_MISSING.format(label=3)),
    ([[1, 2, 3, 4], []], 2, 2, messages.EMPTY_BLOCK),
    ([[1.0, 2]], 1, 1, messages.LABEL_RANGE.format(label=1.0, k=1, l=1)),
    ([[True, 2]], 1, 1, messages.LABEL_RANGE.format(label=True, k=1, l=1)),
    ([[1]], -1, 2, messages.NEGATIVE_ARITY.format(value=-1)),
    ([[1]], 1, 1.5, messages.NEGATIVE_ARITY.format(value=1.5)),
    ([[1]], True, 0, messages.NEGATIVE_ARITY.format(value=True)),
])
def test_construction_errors(blocks, k, l, message):
    with pytest.raises(DiagramError) as err:
        Diagram.from_blocks(blocks, k=k, l=l)
    assert isinstance(err.value, CatnnError)
    assert str(err.value) == message


def test_composition_arity_error():
    with pytest.raises(DiagramError) as err:
        merge().compose(merge())
    assert str(err.value) == messages.ARITY_COMPOSE.format(left=merge(), lout=1, right=merge(), rin=2)
    with pytest.raises(DiagramError) as err:
        merge() >> cup()
    assert str(err.value) == messages.ARITY_COMPOSE.format(left=str(merge()), lout=1, right=str(cup()), rin=0)


@pytest.mark.parametrize("perm", [[0, 0], [1, 2], [-1, 0]])
def test_permutation_errors(perm):
    with pytest.raises(DiagramError) as err:
        permutation(perm)
    assert str(err.value) == messages.NOT_PERMUTATION.format(perm=perm, last=len(perm) - 1)


@pytest.mark.parametrize("other", [3, "swap", None, 1.5])
def test_not_a_diagram(other):
    with pytest.raises(CatnnError) as err:
        swap() >> other
    assert str(err.value) == messages.NOT_DIAGRAM.format(kind=type(other).__name__)
    with pytest.raises(CatnnError):
        swap().compose(other)
    with pytest.raises(CatnnError):
        swap().tensor(other)
    with pytest.raises(CatnnError):
        swap() @ other


def test_diagrams_are_immutable_values():
    d = swap()
    with pytest.raises(AttributeError):
        d.k = 3
    with pytest.raises(AttributeError):
        d.extra = 1
    assert d.blocks == ((1, 4), (2, 3)) and isinstance(d.blocks, tuple)
    assert all(isinstance(b, tuple) for b in d.blocks)
    assert len(list(itertools.islice(set_partitions(3), 10))) == 5


def test_pickle_and_copy_keep_equality():
    import copy
    import pickle
    for d in (swap(), merge(), identity(0), Diagram.from_blocks([[1, 5], [2], [3, 4, 6]], k=3, l=3)):
        for e in (pickle.loads(pickle.dumps(d)), copy.copy(d), copy.deepcopy(d)):
            assert e == d and hash(e) == hash(d)


def test_numpy_integers_are_accepted():
    d = Diagram.from_blocks(np.array([[1, 4], [2, 3]]), k=np.int64(2), l=np.int64(2))
    assert d == swap() and hash(d) == hash(swap())
    assert type(d.k) is int and all(type(v) is int for b in d.blocks for v in b)
    assert permutation(np.array([1, 0])) == swap()


@pytest.mark.parametrize("seed", range(40))
def test_str_round_trips_through_the_parser(seed):
    """parse(str(d)) == d with the real DSL parser (``catnn.diagram``)."""
    if not callable(catnn.diagram):
        pytest.skip("the DSL parser (catnn.diagram) is not available")
    rng = np.random.default_rng(seed)
    k, l = arities(rng, 2, 4)
    for d in (random_diagram(rng, k, l), random_diagram(rng, k, k + 2 * (seed % 2), brauer=True)):
        assert catnn.diagram(str(d)) == d
    assert catnn.diagram(str(identity(0))) == identity(0)
