"""Aut(G) layers against a hand-written opt_einsum of the same contractions and the dense matrix (issue 16).

    python benchmarks/bench_aut.py                        # every case, CPU, one thread
    python benchmarks/bench_aut.py --case C8 --quick      # one graph, fewer rounds (a smoke run)
    python benchmarks/bench_aut.py --scale                # Aut(G) and spanning sets of large graphs

Each case is one layer k -> l (k + l <= 4) over the whole spanning set of Aut(G), for G the cycle C_8,
the Petersen graph and the 3-cube, with batch B and C channels in and out, run three ways with the same
weights:

- **catnn**: the layer as catnn plans and emits it (torch backend, the generated backward);
- **hand-written**: per bilabelled graph H one ``opt_einsum.contract_expression`` (path found once,
  torch backend) of x, one adjacency matrix per edge of H, a ones vector per vertex of H on no edge
  and no input, and Λ_H, summed into the output (written into its diagonal when H repeats an output
  vertex); autograd for the backward. This is what one would write by hand from the hom-count
  tensor networks, without sharing anything between graphs;
- **dense**: the (O n^l, C n^k) matrix Σ_H Λ_H ⊗ X_H built from the exact X_H (where the D n^(k+l)
  basis fits in ``DENSE_LIMIT`` entries) and one matmul; the matrix is rebuilt on every call, since the
  weights change at every training step.

Times are the best of ``--repeat`` interleaved rounds (median in brackets), forward and
forward+backward, with ratios to the hand-written contraction. The machine these were measured on was
shared (timings are noisy); compare ratios in one run, not absolute times across runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
import opt_einsum
import torch

import catnn
from catnn.compiler.backends import emit
from catnn.compiler.emit_torch import diagonal_view
from catnn.compiler.plan import build_plan
from timing import Timer, backward, no_grad

#: the most entries of the stacked dense basis (D, n^l, n^k) the dense method builds
DENSE_LIMIT = 2**22


def cycle(n: int) -> np.ndarray:
    a = np.roll(np.eye(n, dtype=np.int64), 1, axis=1)
    return a + a.T


def grid(r: int, c: int) -> np.ndarray:
    """The r x c grid: vertex i * c + j is row i, column j."""
    path_r, path_c = (np.eye(k, k=1, dtype=np.int64) + np.eye(k, k=-1, dtype=np.int64) for k in (r, c))
    return np.kron(path_r, np.eye(c, dtype=np.int64)) + np.kron(np.eye(r, dtype=np.int64), path_c)


def petersen() -> np.ndarray:
    a = np.zeros((10, 10), dtype=np.int64)
    for u, v in [(i, (i + 1) % 5) for i in range(5)] + [(i, i + 5) for i in range(5)] + \
                [(5 + i, 5 + (i + 2) % 5) for i in range(5)]:
        a[u, v] = a[v, u] = 1
    return a


def cube(d: int) -> np.ndarray:
    a = np.zeros((2**d, 2**d), dtype=np.int64)
    for v in range(2**d):
        for b in range(d):
            a[v, v ^ (1 << b)] = 1
    return a


GRAPHS = {"C8": cycle(8), "Petersen": petersen(), "Q3": cube(3)}
LAYERS = [(1, 1), (1, 2), (2, 1), (2, 2), (1, 3), (3, 1)]


def hand_written(graphs: list, adjacency: torch.Tensor, k: int, l: int, B: int, C: int, O: int
                 ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """out = Σ_H contract(H's tensor network, x, Λ_H), one cached opt_einsum expression per graph."""
    n = adjacency.shape[0]
    ones = adjacency.new_ones(n)
    terms = []
    for h in graphs:
        symbol = {u: opt_einsum.get_symbol(u + 3) for u in range(h.vertices)}
        touched = {u for e in h.edges for u in e} | set(h.inputs)
        outs = list(dict.fromkeys(h.outputs))
        lonely = [u for u in range(h.vertices) if u not in touched]
        x_term = "ab" + "".join(symbol[u] for u in h.inputs)
        operands = [x_term] + ["".join(symbol[u] for u in e) for e in h.edges] + [symbol[u] for u in lonely]
        equation = ",".join(operands + ["cb"]) + "->ac" + "".join(symbol[u] for u in outs)
        shapes = [(B, C) + (n,) * k] + [(n, n)] * len(h.edges) + [(n,)] * len(lonely) + [(O, C)]
        expression = opt_einsum.contract_expression(equation, *shapes, optimize="auto")
        blocks = tuple(tuple(i for i, u in enumerate(h.outputs) if u == v) for v in outs)
        terms.append((expression, len(h.edges), len(lonely), blocks))

    def layer(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        out = x.new_zeros((x.shape[0], O) + (n,) * l)
        for d, (expression, edges, lonely, blocks) in enumerate(terms):
            value = expression(x, *([adjacency] * edges), *([ones] * lonely), w[d], backend="torch")
            if all(len(b) == 1 for b in blocks):
                out = out + value
            else:
                out = out.clone()
                diagonal_view(out, blocks).add_(value)
        return out
    return layer


def dense(graphs: list, a: np.ndarray, k: int, l: int, like: torch.Tensor
          ) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None:
    """The layer as one matmul with the dense matrix built from the weights, or None if too large."""
    n = a.shape[0]
    if len(graphs) * n ** (k + l) > DENSE_LIMIT:
        return None
    basis = torch.tensor(np.stack([h.matrix(a) for h in graphs]), dtype=like.dtype)

    def layer(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        B, C, O = x.shape[0], x.shape[1], w.shape[1]
        matrix = torch.einsum("doc,dij->oicj", w, basis).reshape(O * n**l, C * n**k)
        return (x.reshape(B, C * n**k) @ matrix.T).reshape((B, O) + (n,) * l)
    return layer


def run_case(name: str, k: int, l: int, B: int, C: int, repeat: int) -> list[str]:
    a = GRAPHS[name]
    G = catnn.group("Aut", graph=a)
    n = G.n
    graphs = [catnn.bilabelled.BilabelledGraph.from_diagram(h) if not hasattr(h, "edges") else h
              for h in G.spanning_set(k, l)]
    layer = emit(build_plan(G, k, l, graphs), backend="torch").function
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((B, C) + (n,) * k, generator=gen).requires_grad_()
    w = (torch.randn(len(graphs), C, C, generator=gen) / 10).requires_grad_()
    grad = torch.randn((B, C) + (n,) * l, generator=gen)
    adjacency = torch.tensor(a, dtype=x.dtype)
    methods = {"catnn": lambda: layer(x, w)}
    hand = hand_written(graphs, adjacency, k, l, B, C, C)
    methods["hand-written opt_einsum"] = lambda: hand(x, w)
    full = dense(graphs, a, k, l, x)
    if full is not None:
        methods["dense matrix"] = lambda: full(x, w)
    reference = no_grad(methods["hand-written opt_einsum"])
    diff = max(float((no_grad(f) - reference).abs().max()) for f in methods.values())
    timer = Timer("cpu", repeat)
    forward = timer.compare({m: (lambda f=f: no_grad(f)) for m, f in methods.items()})
    both = timer.compare({m: backward(f, grad, [x, w]) for m, f in methods.items()})
    base_f, base_b = forward["hand-written opt_einsum"][0], both["hand-written opt_einsum"][0]
    lines = [f"## Aut({name}) {k} -> {l}: {len(graphs)} graphs, n={n}, B={B}, C={C} (max diff {diff:.1e})", "",
             "| method | forward ms (median) | / hand-written | fwd+bwd ms (median) | / hand-written |",
             "|---|---|---|---|---|"]
    for m in methods:
        (fb, fm), (bb, bm) = forward[m], both[m]
        lines.append(f"| {m} | {fb * 1e3:.2f} ({fm * 1e3:.2f}) | {fb / base_f:.2f} | {bb * 1e3:.2f} "
                     f"({bm * 1e3:.2f}) | {bb / base_b:.2f} |")
    return lines


def scale_families(n: int) -> dict[str, np.ndarray]:
    """Graphs on about n vertices whose automorphism groups are huge (twins) or large and sparse."""
    empty = np.zeros((n, n), dtype=np.int64)
    star = empty.copy()
    star[0, 1:] = star[1:, 0] = 1
    path_isolated = empty.copy()
    path_isolated[0, 1] = path_isolated[1, 0] = path_isolated[1, 2] = path_isolated[2, 1] = 1
    half = n // 2
    bipartite = empty.copy()
    bipartite[:half, half:] = bipartite[half:, :half] = 1
    cycles = np.kron(np.eye(n // 6, dtype=np.int64), cycle(6))
    return {"empty": empty, "star": star, "path 0-1-2 + isolated": path_isolated, "K_{n/2,n/2}": bipartite,
            "disjoint C_6's": cycles}


def run_scale(search_n: int, big_n: int) -> list[str]:
    """|Aut(G)| from the structure (twin quotients, isomorphic components) against the search alone
    (the chain as it was before),
    then Aut(G) and the 1 -> 1 spanning set of large sparse graphs."""
    from catnn.groups.automorphism import _search_chain, _stabiliser_chain
    lines = [f"## Aut(G) orders: structure (twins, components) vs search alone (n = {search_n})", "",
             ("| graph | digits of abs(Aut) | structure s | search s | search / structure | structure s at n = "
              f"{big_n} |"), "|---|---|---|---|---|---|"]
    for name, a in scale_families(search_n).items():
        timer = Timer("cpu", repeat=1)
        quotient = timer.once(lambda a=a: _stabiliser_chain(a))
        search = timer.once(lambda a=a: _search_chain(a, a.diagonal().copy()))
        digits = len(str(catnn.group("Aut", graph=a).order))
        large = scale_families(big_n)[name]
        big = timer.once(lambda large=large: _stabiliser_chain(large))
        lines.append(f"| {name} | {digits} | {quotient:.3f} | {search:.2f} | {search / quotient:.0f} | {big:.3f} |")
    lines += ["", "## Aut(G) and spanning_set(1, 1) of large graphs (fresh group each)", "",
              "| graph | n | abs(Aut) | group s | spanning set | largest graph (vertices) | spanning s |",
              "|---|---|---|---|---|---|---|"]
    for name, a in {"C_200": cycle(200), "C_1000": cycle(1000), "Q_10": cube(10), "grid 5x6": grid(5, 6),
                    "grid 10x10": grid(10, 10), "grid 8x12": grid(8, 12), "grid 12x12": grid(12, 12)}.items():
        timer = Timer("cpu", repeat=1)
        G = catnn.group("Aut", graph=a)
        group_s = timer.once(lambda G=G: G.order)
        span_s = timer.once(lambda G=G: G.spanning_set(1, 1))
        basis = G.spanning_set(1, 1)
        lines.append(f"| {name} | {len(a)} | {G.order} | {group_s:.2f} | {len(basis)} | "
                     f"{max(h.vertices for h in basis)} | {span_s:.2f} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=[*GRAPHS, "all"], default="all")
    parser.add_argument("--layers", default=",".join(f"{k}{l}" for k, l in LAYERS),
                        help="k l pairs as digits, e.g. 11,12,21")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=10, help="timed rounds per method")
    parser.add_argument("--quick", action="store_true", help="3 rounds (a smoke run)")
    parser.add_argument("--scale", action="store_true",
                        help="only the scale section: orders of twin-rich graphs, spanning sets of C_1000, Q_10, grids up to 12x12")
    parser.add_argument("--search-n", type=int, default=120, help="--scale: vertices for the search-alone comparison")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.scale:
        print("\n".join(run_scale(args.search_n, 1000)), flush=True)
        return
    layers = [(int(p[0]), int(p[1])) for p in args.layers.split(",")]
    for name in GRAPHS if args.case == "all" else [args.case]:
        for k, l in layers:
            lines = run_case(name, k, l, args.batch, args.channels, 3 if args.quick else args.repeat)
            print("\n".join(lines) + "\n", flush=True)


if __name__ == "__main__":
    main()
