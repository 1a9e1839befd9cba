"""Aut(G) and bilabelled graphs (math.md §a.9), checked against oracles that share no code with them.

Oracles: automorphism groups by brute force over all n! permutations (n <= 8) or, for the Petersen
graph, as S_5 acting on the 2-subsets of {0..4}; dimensions by Burnside over those groups and by the
null space of W g^{⊗k} = g^{⊗l} W (tests/oracles.py); hom counts by enumerating every map F -> G;
ranks by exact elimination modulo a prime written here; canonical forms by trying every order of the
internal vertices. Graphs: C_5, Petersen, P_4, K_{1,4}, an asymmetric graph found by a seeded search,
K_4 (whose results must equal S_4's) and K_3 with all loops (whose edgeless graphs are the D_π).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import pytest

import catnn
from catnn import messages
from catnn.bilabelled import BilabelledGraph
from catnn.diagram import Diagram, set_partitions
from catnn.errors import DiagramError, GroupError, LimitError
from catnn.groups import automorphism as aut_module
from oracles import brute_partition_matrix, burnside_orbits, commutant_dimension_dense, kron_power

P = 2_147_483_629  # the rank oracle's prime (catnn uses primes below 2^20)


# -- graphs ------------------------------------------------------------------------------------
def cycle(n: int) -> np.ndarray:
    a = np.zeros((n, n), dtype=int)
    for i in range(n):
        a[i, (i + 1) % n] = a[(i + 1) % n, i] = 1
    return a


def path(n: int) -> np.ndarray:
    a = np.zeros((n, n), dtype=int)
    for i in range(n - 1):
        a[i, i + 1] = a[i + 1, i] = 1
    return a


def star(leaves: int) -> np.ndarray:
    a = np.zeros((leaves + 1, leaves + 1), dtype=int)
    a[0, 1:] = a[1:, 0] = 1
    return a


def complete(n: int, loops: bool = False) -> np.ndarray:
    return np.ones((n, n), dtype=int) - (0 if loops else np.eye(n, dtype=int))


PETERSEN_VERTICES = list(itertools.combinations(range(5), 2))


def petersen() -> np.ndarray:
    """The Kneser graph K(5, 2): 2-subsets of {0..4}, adjacent when disjoint."""
    return np.array([[int(not set(a) & set(b)) for b in PETERSEN_VERTICES] for a in PETERSEN_VERTICES])


def brute_automorphisms(a: np.ndarray) -> set[tuple[int, ...]]:
    """Every permutation σ (σ[v] = image of v) with A[σ(x), σ(y)] = A[x, y]."""
    n = len(a)
    return {p for p in itertools.permutations(range(n)) if np.array_equal(a[np.ix_(p, p)], a)}


def petersen_automorphisms() -> set[tuple[int, ...]]:
    """S_5 acting on the 2-subsets (all 120 automorphisms of the Petersen graph)."""
    index = {frozenset(v): i for i, v in enumerate(PETERSEN_VERTICES)}
    return {tuple(index[frozenset((s[a], s[b]))] for a, b in PETERSEN_VERTICES)
            for s in itertools.permutations(range(5))}


@lru_cache(maxsize=None)
def asymmetric_graph() -> np.ndarray:
    """The first G(6, 1/2) from seed 2024 whose only automorphism is the identity (brute force)."""
    rng = np.random.default_rng(2024)
    while True:
        upper = np.triu(rng.integers(0, 2, (6, 6)), 1)
        a = upper + upper.T
        if len(brute_automorphisms(a)) == 1:
            return a


GRAPHS = {
    "C5": cycle(5),
    "Petersen": petersen(),
    "P4": path(4),
    "K1,4": star(4),
    "asymmetric": None,          # filled lazily (seeded search)
    "K4": complete(4),
}
#: the largest k + l checked for each graph in the default run
MAX_M = {"C5": 5, "Petersen": 4, "P4": 5, "K1,4": 4, "asymmetric": 4, "K4": 4}


def graph(name: str) -> np.ndarray:
    return asymmetric_graph() if name == "asymmetric" else GRAPHS[name]


@lru_cache(maxsize=None)
def oracle_automorphisms(name: str) -> frozenset[tuple[int, ...]]:
    return frozenset(petersen_automorphisms() if name == "Petersen" else brute_automorphisms(graph(name)))


@lru_cache(maxsize=None)
def group_of(name: str) -> catnn.Group:
    return catnn.group("Aut", graph=graph(name))


# -- oracles -----------------------------------------------------------------------------------
def rank_mod_p(rows: np.ndarray) -> int:
    """Exact rank of an integer matrix modulo P (Gaussian elimination, int64, P < 2^31)."""
    m = np.array(rows, dtype=np.int64) % P
    rank = 0
    for c in range(m.shape[1]):
        if rank == m.shape[0]:
            break
        nonzero = np.flatnonzero(m[rank:, c])
        if not len(nonzero):
            continue
        pivot = rank + int(nonzero[0])
        m[[rank, pivot]] = m[[pivot, rank]]
        m[rank, c:] = m[rank, c:] * pow(int(m[rank, c]), -1, P) % P
        below = rank + 1 + np.flatnonzero(m[rank + 1:, c])
        if len(below):
            m[below, c:] = (m[below, c:] - m[below, c:c + 1] * m[rank, c:]) % P
        rank += 1
    return rank


def brute_hom_tensor(h: BilabelledGraph, a: np.ndarray) -> np.ndarray:
    """Entry (I, J): the maps φ: V(F) -> [n] keeping every edge, with outputs -> I and inputs -> J."""
    n = len(a)
    out = np.zeros((n,) * (h.l + h.k), dtype=np.int64)
    for phi in itertools.product(range(n), repeat=h.vertices):
        if all(a[phi[x], phi[y]] for x, y in h.edges):
            out[tuple(phi[u] for u in h.outputs + h.inputs)] += 1
    return out


def brute_canonical(vertices: int, edges, outputs, inputs) -> tuple:
    """Least relabelling over every order of the internal vertices (labelled ones by first use)."""
    first: dict[int, int] = {}
    for u in list(outputs) + list(inputs):
        first.setdefault(u, len(first))
    internal = [u for u in range(vertices) if u not in first]
    best = None
    for order in itertools.permutations(range(len(first), vertices)):
        at = dict(first)
        at.update(zip(internal, order))
        key = (tuple(sorted({tuple(sorted((at[x], at[y]))) for x, y in edges})),
               tuple(at[u] for u in outputs), tuple(at[u] for u in inputs))
        best = key if best is None or key < best else best
    return (vertices, *best)


def random_graph(rng: np.random.Generator, k: int, l: int, max_vertices: int = 5,
                 loops: bool = True) -> BilabelledGraph:
    v = int(rng.integers(1, max_vertices + 1))
    pairs = [(x, y) for x in range(v) for y in range(x if loops else x + 1, v)]
    edges = [p for p in pairs if rng.random() < 0.35]
    return BilabelledGraph(v, edges, rng.integers(0, v, l).tolist(), rng.integers(0, v, k).tolist())


def tuple_permutation(sigma: np.ndarray, n: int, m: int) -> np.ndarray:
    """Flat index of (σ(x_1), .., σ(x_m)) for every flat tuple x of [n]^m."""
    if m == 0:
        return np.zeros(1, dtype=np.int64)
    digits = np.indices((n,) * m).reshape(m, -1)
    return (np.asarray(sigma)[digits] * (n ** np.arange(m - 1, -1, -1))[:, None]).sum(axis=0)


def splits(m: int) -> list[tuple[int, int]]:
    return [(k, m - k) for k in range(m + 1)]


CASES = [(name, m) for name in GRAPHS for m in range(MAX_M[name] + 1)]


# -- the group ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(GRAPHS))
def test_automorphisms_equal_the_oracle_group(name):
    G = group_of(name)
    expected = oracle_automorphisms(name)
    found = {tuple(int(x) for x in g) for g in G.automorphisms()}
    assert found == expected
    assert G.order == len(expected) == {"C5": 10, "Petersen": 120, "P4": 2, "K1,4": 24,
                                         "asymmetric": 1, "K4": 24}[name]
    for g in G.generators:
        assert tuple(int(x) for x in g) in expected
    for seed in range(5):
        p = G.sample(seed)
        sigma = p.argmax(axis=0)               # P e_v = e_{σ(v)}
        assert tuple(int(x) for x in sigma) in expected
        assert np.array_equal(p @ G.adjacency @ p.T, G.adjacency)


def test_the_asymmetric_graph_is_asymmetric():
    a = asymmetric_graph()
    assert len(brute_automorphisms(a)) == 1
    G = group_of("asymmetric")
    assert G.order == 1 and G.generators == () and G.vertex_orbits() == tuple((v,) for v in range(6))


def test_sample_is_uniform_enough():
    G = group_of("C5")
    rng = np.random.default_rng(0)
    counts: dict[tuple[int, ...], int] = {}
    for _ in range(1000):
        g = tuple(G.random_automorphism(rng).tolist())
        counts[g] = counts.get(g, 0) + 1
    assert set(counts) == set(oracle_automorphisms("C5"))
    assert min(counts.values()) > 60            # 100 expected each; a skewed sampler fails


def test_vertex_orbits():
    assert group_of("K1,4").vertex_orbits() == ((0,), (1, 2, 3, 4))
    assert group_of("P4").vertex_orbits() == ((0, 3), (1, 2))
    assert group_of("Petersen").vertex_orbits() == (tuple(range(10)),)


@pytest.mark.parametrize("name, m", CASES)
def test_dimension_equals_the_commutant(name, m):
    G = group_of(name)
    n = G.n
    perms = sorted(oracle_automorphisms(name))
    expected = burnside_orbits(perms, m, n)
    for k, l in splits(m):
        assert G.dimension(k, l) == expected
    if n**m <= 256:
        elements = [np.eye(n)[:, list(p)] for p in perms]          # P e_v = e_{p[v]}
        assert commutant_dimension_dense(m // 2, m - m // 2, n, elements) == expected


def test_dimension_by_orbit_enumeration_agrees_with_burnside(monkeypatch):
    expected = {name: [group_of(name).dimension(0, m) for m in range(4)] for name in GRAPHS}
    monkeypatch.setattr(aut_module, "BURNSIDE_LIMIT", 0)
    for name in GRAPHS:
        fresh = catnn.group("Aut", graph=graph(name))
        assert [fresh.dimension(0, m) for m in range(4)] == expected[name]


# -- the spanning set --------------------------------------------------------------------------
@pytest.mark.parametrize("name, m", CASES)
def test_spanning_set_is_a_basis_of_the_commutant(name, m):
    G = group_of(name)
    n = G.n
    dim = burnside_orbits(sorted(oracle_automorphisms(name)), m, n)
    k, l = m // 2, m - m // 2
    spanning = G.spanning_set(k, l)
    assert all(isinstance(h, BilabelledGraph) and (h.k, h.l) == (k, l) for h in spanning)
    assert len(set(spanning)) == len(spanning) == dim
    assert G.basis(k, l) == spanning
    matrices = np.array([G.matrix(h) for h in spanning]).reshape(len(spanning), -1)
    assert rank_mod_p(matrices) == dim
    # every matrix is equivariant under every automorphism: W[σI, σJ] = W[I, J]
    for sigma in oracle_automorphisms(name):
        assert np.array_equal(matrices[:, tuple_permutation(sigma, n, m)], matrices)
    # and literally W P^{⊗k} = P^{⊗l} W for the generators found by the search
    for g in G.generators:
        p = np.eye(n, dtype=np.int64)[:, g]
        for w in matrices.reshape(len(spanning), n**l, n**k)[:8]:
            assert np.array_equal(w @ kron_power(p, k), kron_power(p, l) @ w)
    # other splits of the same labels: the same tensors (all splits while that is cheap)
    for k2, l2 in splits(m) if len(spanning) <= 400 else [(0, m)]:
        other = G.spanning_set(k2, l2)
        assert [G.matrix(h).reshape(-1).tolist() for h in other] == matrices.tolist()


@pytest.mark.parametrize("m", range(5))
def test_complete_graph_matches_the_symmetric_group(m):
    G, S = group_of("K4"), catnn.group("S", n=4)
    for k, l in splits(m):
        assert G.dimension(k, l) == S.dimension(k, l)
    k, l = m // 2, m - m // 2
    ours = np.array([G.matrix(h).reshape(-1) for h in G.spanning_set(k, l)])
    theirs = np.array([S.matrix(d).reshape(-1) for d in S.spanning_set(k, l)])
    together = np.vstack([ours, theirs])
    assert rank_mod_p(ours) == rank_mod_p(theirs) == rank_mod_p(together) == S.dimension(k, l)
    # the basis is the edgeless graphs: the partition diagrams with at most 4 blocks
    assert {h.to_diagram() for h in G.spanning_set(k, l)} == set(S.basis(k, l))


@pytest.mark.parametrize("m", range(5))
def test_edgeless_graphs_into_the_looped_complete_graph_are_the_diagram_basis(m):
    n = 3
    looped = complete(n, loops=True)
    for blocks in set_partitions(m):
        for k, l in splits(m):
            d = Diagram(blocks, k, l)
            h = BilabelledGraph.from_diagram(d)
            expected = brute_partition_matrix([list(b) for b in d.blocks], k, l, n)
            assert np.array_equal(h.matrix(looped), expected)
            assert h.to_diagram() == d and str(h) == str(d)
    # with edges and internal vertices: every map is a homomorphism, so n^internal * D_π
    rng = np.random.default_rng(m)
    for _ in range(10):
        h = random_graph(rng, m // 2, m - m // 2)
        labels = list(h.outputs) + list(h.inputs)
        blocks = [[i + 1 for i, u in enumerate(labels) if u == w] for w in dict.fromkeys(labels)]
        expected = n**h.internal * brute_partition_matrix(blocks, h.k, h.l, n)
        assert np.array_equal(h.matrix(looped), expected)


def test_looped_graph_spanning_set():
    G = catnn.group("Aut", graph=complete(3, loops=True))
    S = catnn.group("S", n=3)
    for m in range(4):
        k, l = m // 2, m - m // 2
        ours = np.array([G.matrix(h).reshape(-1) for h in G.spanning_set(k, l)])
        assert len(ours) == G.dimension(k, l) == S.dimension(k, l) == rank_mod_p(ours)


def test_graph_with_some_loops():
    a = path(4)
    a[0, 0] = 1                       # one looped end: the reflection is gone
    G = catnn.group("Aut", graph=a)
    assert G.order == len(brute_automorphisms(a)) == 1
    for m in range(4):
        spanning = G.spanning_set(0, m)
        assert len(spanning) == 4**m == rank_mod_p(np.array([G.matrix(h).reshape(-1) for h in spanning]))
    assert any(u == x for h in G.level_generators(1) for u, x in h.edges)   # a loop piece was needed


# -- bilabelled graphs -------------------------------------------------------------------------
TARGETS = [cycle(4), path(3), star(3), np.array([[1, 1, 0], [1, 0, 1], [0, 1, 1]])]


def test_hom_counts_equal_brute_force_enumeration(rng):
    for a in TARGETS:
        for _ in range(12):
            k, l = int(rng.integers(0, 3)), int(rng.integers(0, 3))
            h = random_graph(rng, k, l)
            assert np.array_equal(h.dense(a), brute_hom_tensor(h, a)), h


def test_einsum_spec():
    # labels: output 1 and input 1' on vertex 0, output 2 on vertex 1; internal 2 (loop), 3 (isolated)
    h = BilabelledGraph(4, [(0, 2), (2, 2), (1, 2)], outputs=[0, 1], inputs=[0])
    spec = h.einsum_spec()
    looped = next(x for x, _ in h.edges if (x, x) in h.edges)           # the canonical internal order
    c, d = "cd" if looped == 2 else "dc"
    assert sorted(spec.operands) == sorted([f"a{c}", f"b{c}", f"{c}{c}"])
    assert spec.vectors == (d,)
    assert spec.output == "aba" and spec.free == "ab" and spec.summed == "cd"
    assert spec.equation == ",".join(spec.operands) + f",{d}->ab"
    a = TARGETS[3]
    core = np.einsum(spec.equation, a, a, a, np.ones(3, dtype=int))
    assert np.array_equal(spec.expand(core, 3), brute_hom_tensor(h, a))
    empty = BilabelledGraph(0)
    assert empty.einsum_spec().equation == "->" and empty.dense(a) == 1


@pytest.mark.parametrize("name", ["asymmetric", "Petersen"])
def test_composition_tensor_transpose_and_glue_laws(rng, name):
    # the asymmetric graph first: Petersen's invariant tensors are symmetric under swapping labels,
    # so on it alone a law that mixes up label positions could pass
    a = graph(name)
    G = catnn.group("Aut", graph=a)
    for _ in range(25):
        k, mid, l = (int(x) for x in rng.integers(0, 3, 3))
        f, g = random_graph(rng, k, mid, loops=False), random_graph(rng, mid, l, loops=False)
        xf, xg = f.matrix(a), g.matrix(a)
        assert np.array_equal(f.compose(g).matrix(a), xg @ xf)
        assert np.array_equal(G.matrix(f >> g), xg @ xf)
        assert np.array_equal(G.matrix(G.compose(f, g)), xg @ xf)
        h = random_graph(rng, int(rng.integers(0, 2)), int(rng.integers(0, 2)), loops=False)
        assert np.array_equal(G.matrix(f @ h), np.kron(xf, h.matrix(a)))
        assert np.array_equal(f.T.matrix(a), xf.T) and f.T.T == f
        twin = random_graph(rng, k, mid, loops=False)
        assert np.array_equal(f.glue(twin).matrix(a), xf * twin.matrix(a))
    # no n^c factor: the glued vertices of cup >> cap become one internal vertex, worth n
    cup, cap = BilabelledGraph(1, (), [0, 0]), BilabelledGraph(1, (), [], [0, 0])
    closed = cup.compose(cap)
    assert closed.size == (1, 0) and int(closed.dense(a)) == len(a)
    assert (cup >> cap).terms[0][1] == 1


def test_gluing_can_make_loops():
    vec_a = BilabelledGraph(2, [(0, 1)], outputs=[0, 1])               # 0 -> 2: vec(A)
    merge = BilabelledGraph.from_diagram(catnn.diagram.merge())
    looped = vec_a.compose(merge)
    assert looped.edges == ((0, 0),)
    a = TARGETS[3]
    assert np.array_equal(looped.dense(a), np.diag(a))


def test_canonical_form_is_relabelling_invariant_and_complete(rng):
    graphs = []
    for _ in range(150):
        v = int(rng.integers(1, 7))
        edges = [(int(x), int(y)) for x, y in rng.integers(0, v, (int(rng.integers(0, 8)), 2))]
        outs = rng.integers(0, v, int(rng.integers(0, 3))).tolist()
        ins = rng.integers(0, v, int(rng.integers(0, 2))).tolist()
        h = BilabelledGraph(v, edges, outs, ins)
        perm = rng.permutation(v)
        moved = BilabelledGraph(v, [(perm[x], perm[y]) for x, y in edges], perm[outs].tolist(),
                                perm[ins].tolist())
        assert moved == h and hash(moved) == hash(h)
        assert BilabelledGraph.parse(str(h)) == h
        graphs.append((h, brute_canonical(v, edges, outs, ins)))
    for (h1, c1), (h2, c2) in itertools.combinations(graphs, 2):
        assert (h1 == h2) == (c1 == c2)


def test_canonical_form_with_many_symmetric_parts():
    # a labelled vertex with six pendant paths and four triangles: 26 internal vertices
    edges, v = [], 1
    for _ in range(6):
        edges += [(0, v), (v, v + 1)]
        v += 2
    for _ in range(4):
        edges += [(0, v), (0, v + 1), (v, v + 1)]
        v += 2
    h = BilabelledGraph(v, edges, outputs=[0])
    perm = np.random.default_rng(0).permutation(np.arange(1, v))
    at = np.concatenate([[0], perm])
    assert BilabelledGraph(v, [(at[x], at[y]) for x, y in edges], outputs=[0]) == h


def test_text_form():
    h = BilabelledGraph.parse("{1, 1'} {2} ; 1-a, a-2, a-a, b")
    assert (h.k, h.l, h.vertices, h.internal) == (1, 2, 4, 2)
    assert str(h) == "graph[{1, 1'} {2} ; 1-b, 2-b, b-b, a]"  # canonical: the isolated vertex first
    assert str(BilabelledGraph(0)) == "id(0)" and BilabelledGraph.parse("id(0)") == BilabelledGraph(0)
    assert str(BilabelledGraph(3, [(0, 1), (1, 2), (0, 2)])) == "graph[; a-b, a-c, b-c]"
    assert BilabelledGraph.parse("graph[{1} {1'} ; 1-a-b-1']") == BilabelledGraph.parse("{1} {1'} ; 1-a, a-b, b-1'")
    for bad in ["{1} {1}", "{1} {3}", "{1} ; 1-?", "{x}", "{1} ; 1-2-3", "graph[{1}", "{1} ; 1--a"]:
        with pytest.raises(DiagramError):
            BilabelledGraph.parse(bad)


def test_graphs_are_immutable_and_pickle():
    import pickle
    h = BilabelledGraph.parse("{1, 1'} {2} ; 1-a, a-2")
    with pytest.raises(AttributeError):
        h.edges = ()
    with pytest.raises(AttributeError):
        del h.k
    again = pickle.loads(pickle.dumps(h))
    assert again == h and hash(again) == hash(h) and str(again) == str(h)


def test_bad_graphs_are_refused():
    with pytest.raises(DiagramError, match="out of range"):
        BilabelledGraph(2, [(0, 2)])
    with pytest.raises(DiagramError, match="out of range"):
        BilabelledGraph(2, (), outputs=[5])
    with pytest.raises(DiagramError, match="joins two vertices"):
        BilabelledGraph(2, [(0, 1, 1)])
    with pytest.raises(DiagramError):
        BilabelledGraph(-1)
    with pytest.raises(DiagramError, match="outputs"):
        BilabelledGraph.adjacency().compose(BilabelledGraph(2, [(0, 1)], outputs=[0, 1]))
    with pytest.raises(DiagramError):
        BilabelledGraph.adjacency().glue(BilabelledGraph(2, [(0, 1)], outputs=[0, 1]))


# -- interplay with partition diagrams and morphisms --------------------------------------------
def test_diagrams_and_graphs_mix():
    a = cycle(5)
    G = group_of("C5")
    S = catnn.group("S", n=5)
    adj = G.generator("adj")
    assert adj == BilabelledGraph.adjacency() and np.array_equal(G.matrix(adj), a)
    swap = catnn.diagram.swap()
    assert isinstance(G.generator("swap"), BilabelledGraph)
    assert np.array_equal(G.matrix(swap), S.matrix(swap))
    for first, then in [(swap, adj @ adj), (adj @ adj, swap)]:
        assert np.array_equal(G.matrix(first >> then), G.matrix(then) @ G.matrix(first))
    combo = 2 * adj - BilabelledGraph.identity(1) + catnn.diagram.identity(1)
    assert np.array_equal(G.matrix(combo), 2 * a)
    assert all(isinstance(d, BilabelledGraph) for d, _ in G.lift(swap + swap.T).terms)
    assert not G.accepts(object()) and "bilabelled graphs" in G.reject_message(object())


# -- inputs, identity, caching and limits -------------------------------------------------------
def test_inputs_and_errors():
    a = cycle(5)
    G = catnn.group("Aut", graph=a)
    assert G.n == 5 and G.name == "Aut" and G.is_permutation_group and G.edge_count == 5
    assert catnn.group("Aut", n=5, graph=a) == G and hash(catnn.group("Aut", graph=a.copy())) == hash(G)
    assert catnn.group("aut_g", graph=a.astype(bool)) == G
    assert catnn.group("Aut", graph=path(5)) != G
    assert not G.adjacency.flags.writeable
    with pytest.raises(GroupError, match="does not match"):
        catnn.group("Aut", n=4, graph=a)
    with pytest.raises(GroupError, match=r"Aut needs a graph"):
        catnn.group("Aut", n=5)
    with pytest.raises(GroupError, match="square"):
        catnn.group("Aut", graph=np.zeros((2, 3)))
    with pytest.raises(GroupError, match="0/1"):
        catnn.group("Aut", graph=2 * a)
    with pytest.raises(GroupError, match="symmetric"):
        catnn.group("Aut", graph=np.triu(a))
    assert messages.AUT_NEEDS_GRAPH.startswith("Aut needs a graph")


def test_torch_adjacency():
    torch = pytest.importorskip("torch")
    a = petersen()
    assert catnn.group("Aut", graph=torch.tensor(a)) == catnn.group("Aut", graph=a)


def test_networkx_graph():
    nx = pytest.importorskip("networkx")
    G = catnn.group("Aut", graph=nx.petersen_graph())
    assert G.order == 120 and G.dimension(2, 2) == 107 and G.nodes == tuple(range(10))
    with pytest.raises(GroupError, match="undirected"):
        catnn.group("Aut", graph=nx.DiGraph([(0, 1)]))


def test_spanning_sets_are_cached_per_graph():
    a = path(4)
    first = catnn.group("Aut", graph=a).spanning_set(1, 1)
    assert catnn.group("Aut", graph=a.copy()).spanning_set(1, 1) is first
    assert catnn.group("Aut", graph=cycle(4)).spanning_set(1, 1) is not first


def test_limits(monkeypatch):
    monkeypatch.setattr(aut_module, "MAX_SPAN_TUPLES", 100)
    with pytest.raises(LimitError):
        catnn.group("Aut", graph=cycle(6)).spanning_set(1, 2)
    monkeypatch.setattr(aut_module, "BURNSIDE_LIMIT", 0)
    monkeypatch.setattr(aut_module, "MAX_TUPLES", 100)
    with pytest.raises(LimitError):
        catnn.group("Aut", graph=cycle(6)).dimension(1, 2)


def test_unseparated_orbits_are_refused(monkeypatch):
    monkeypatch.setattr(aut_module, "MAX_PIECE_INTERNAL", {1: 0})
    monkeypatch.setattr(aut_module, "_long_pieces", lambda m, c, n: [])
    with pytest.raises(LimitError, match="could not span"):
        catnn.group("Aut", graph=path(4)).level_generators(1)     # a fresh instance: nothing cached


def test_canonical_search_limit(monkeypatch):
    import catnn.bilabelled as bilabelled
    monkeypatch.setattr(bilabelled, "CANON_LIMIT", 2)
    with pytest.raises(LimitError, match="search nodes"):
        BilabelledGraph(4, [(0, 1), (0, 2), (0, 3)], outputs=[0])
