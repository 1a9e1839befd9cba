"""How the torch emitter spells a contraction: matmul or a broadcast product for the common
two-operand steps, ``torch.einsum`` for other pairs, a cached pairwise path for three or more.

>>> spell("bcij,jk->bcik", ["x0", "A"])                # a matrix on the last axis: one matmul
'torch.matmul(x0, A)'
>>> spell("bcij,ik->bcjk", ["x0", "A"])                # on another axis: moved last first
'torch.matmul(x0.movedim(2, -1), A)'
>>> spell("bcij,ij->bci", ["x0", "A"])                 # an edge between two axes: product and sum
'(x0 * A).sum(3)'
>>> spell("bci,ij->bcij", ["g", "A"])                  # a broadcast product with a constant
'(g[:, :, :, None] * A)'
>>> spell("bo,ij->boij", ["g", "A"])                    # an outer product: no einsum either
'(g[:, :, None, None] * A)'
>>> spell("bcijk,jkl,lm->bcim", ["x", "e1", "e2"])     # three operands: a path cached per shapes
"_rt__contract('bcijk,jkl,lm->bcim', x, e1, e2)"

Why: every step of an Aut(G) chain and of the Levi-Civita heads contracts a small constant, and at
the sizes of a layer the time is dispatch, not arithmetic. ``torch.einsum`` parses its equation and
permutes on every call (a two-operand einsum costs about three matmuls of the same size on CPU), and
with three or more operands it searches a contraction order on every call (milliseconds for the
ε-chain's n + 1 operands). Here the order of a many-operand contraction is found once per operand
shapes by ``opt_einsum.contract_path`` (:data:`CONTRACT_HELPER`, in the generated module) and run as
two-operand ``torch.einsum`` calls, which torch does not re-plan. When operands are constants (the
tensors ``_rt__constant`` built and caches: the links of a Levi-Civita chain), the path is catnn's own
(``_rt__path``): constants are joined first, each join at most 2^17 entries and never a whole chain
(two constants stay apart: a chain joined whole is the dense n^t head it factors), choosing among all
such sets of joins the one whose data steps cost the fewest multiplications; joins are computed once
per constants and kept (``_rt__JOINED``), so a call runs only the data steps (two for a chain, against
four to six before). Under torch.jit.trace every operand counts as data (opt_einsum's path, nothing
kept); while torch.compile or torch.export traces, the path is found from the equation alone (every
letter of size 8, every operand data) and taken as a constant: a path from symbolic sizes would guard
on them, or fail. Two-operand steps whose second
operand is a matrix on distinct axes of the first are spelled as a matmul (the matrix's other index
new) or as a broadcast product summed (both indices present), the patterns of graph edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["spell", "reduced", "permuted", "CONTRACT_HELPER"]

#: the helper the generated torch module carries for contractions of three or more operands
CONTRACT_HELPER = '''_rt__PATHS, _rt__JOINED, _rt__JOIN_LIMIT = {}, {}, 1 << 17


def _rt__path(equation, shapes, fixed):
    """einsum(equation) pair by pair: opt_einsum's path without constants (``fixed``); else the constant
    joins (each <= _rt__JOIN_LIMIT entries, never a chain whole) whose data steps cost the least."""
    terms, out = equation.split("->")
    size = {ch: d for term, shape in zip(terms.split(","), shapes) for ch, d in zip(term, shape)}
    if not any(fixed):
        import opt_einsum
        info = opt_einsum.contract_path(equation, *shapes, shapes=True, optimize="auto")[1]
        return [(inds, eq) for inds, _, eq, _, _ in info.contraction_list]

    def entries(letters):
        return torch.Size([size[ch] for ch in letters]).numel()

    def join(terms, fixed, a, b):
        rest = out + "".join(t for i, t in enumerate(terms) if i not in (a, b))
        kept = out if len(terms) == 2 else "".join(ch for ch in dict.fromkeys(terms[a] + terms[b]) if ch in rest)
        left = [i for i in range(len(terms)) if i not in (a, b)]
        return ([terms[i] for i in left] + [kept], [fixed[i] for i in left] + [fixed[a] and fixed[b]],
                ((b, a), f"{terms[b]},{terms[a]}->{kept}"))

    def data_steps(terms, fixed, cost=0, steps=()):
        while len(terms) > 1:
            pairs = [(a, b) for b in range(len(terms)) for a in range(b)]
            pairs = [p for p in pairs if not (fixed[p[0]] and fixed[p[1]])] or pairs
            pairs = [p for p in pairs if set(terms[p[0]]) & set(terms[p[1]])] or pairs
            a, b = min(pairs, key=lambda p: entries(join(terms, fixed, *p)[0][-1]))
            cost += entries(set(terms[a] + terms[b]))
            terms, fixed, step = join(terms, fixed, a, b)
            steps += (step,)
        return cost, list(steps)

    best, todo, seen = None, [(terms.split(","), list(fixed), [])], set()
    while todo:
        terms, fixed, steps = todo.pop()
        if frozenset(terms) not in seen:
            seen.add(frozenset(terms))
            cost, rest = data_steps(terms, fixed)
            best = min(best or (cost, len(rest), steps + rest), (cost, len(rest), steps + rest))
            todo += [(t, f, steps + [s]) for b in range(len(terms)) for a in range(b) if sum(fixed) > 2
                     and fixed[a] and fixed[b] and set(terms[a]) & set(terms[b])
                     for t, f, s in [join(terms, fixed, a, b)] if entries(t[-1]) <= _rt__JOIN_LIMIT]
    return best[2]


@torch.compiler.assume_constant_result
def _rt__traced_path(equation):
    """The steps for every letter of size 8: a path from the equation alone, which torch.compile and
    torch.export take as a constant (a path from the symbolic sizes would guard on, and fix, them)."""
    terms = equation.split("->")[0].split(",")
    steps = _rt__path(equation, [(8,) * len(term) for term in terms], [False] * len(terms))
    return tuple((tuple(inds), eq) for inds, eq in steps)


def _rt__contract(equation, *operands):
    """torch.einsum along _rt__path; joins of constants (_rt__constant's) done once, unless tracing."""
    if torch.compiler.is_compiling():
        steps, fixed, joined = _rt__traced_path(equation), [False] * len(operands), None
    else:
        known = set() if torch.jit.is_tracing() else {id(t) for t in globals().get("_rt__CONSTANTS", {}).values()}
        fixed = [id(t) in known for t in operands]
        key = (equation, tuple(t.shape for t in operands), tuple(fixed))
        if key not in _rt__PATHS:
            _rt__PATHS[key] = _rt__path(equation, [t.shape for t in operands], fixed)
        steps = _rt__PATHS[key]
        held = tuple(t for t, f in zip(operands, fixed) if f)     # kept alive: their ids are keys
        joined = _rt__JOINED.setdefault((key, tuple(map(id, held))), ({}, held))[0] if held else None
    operands = list(operands)
    for at, (inds, eq) in enumerate(steps):
        taken = [operands.pop(i) for i in inds]
        constant = all([fixed.pop(i) for i in inds])
        if constant and at not in joined:
            joined[at] = torch.einsum(eq, *taken)
        operands.append(joined[at] if constant else torch.einsum(eq, *taken))
        fixed.append(constant)
    return operands[0]
'''


def spell(equation: str, operands: list[str]) -> str:
    """The torch expression for ``einsum(equation, *operands)`` (operands are expressions)."""
    terms, out = equation.split("->")
    inputs = terms.split(",")
    if len(inputs) > 2:
        return f"_rt__contract({equation!r}, {', '.join(operands)})"
    if len(inputs) == 2:
        spelled = _pair(inputs[0], inputs[1], out, _wrap(operands[0]), _wrap(operands[1]))
        if spelled is not None:
            return spelled
    return f"torch.einsum({equation!r}, {', '.join(operands)})"


def _wrap(expr: str) -> str:
    return expr if expr.replace("_", "").isalnum() else f"({expr})"


def _pair(left: str, matrix: str, out: str, a: str, m: str) -> str | None:
    """``a`` (axes ``left``: two lead letters, then distinct axes) times a matrix on two distinct
    letters (an outer product when neither is an axis of ``a`` and both are kept); None otherwise."""
    lead, axes, rest = left[:2], list(left[2:]), out[2:]
    if (len(matrix) != 2 or matrix[0] == matrix[1] or lead != out[:2] or len(set(axes)) != len(axes)
            or any(ch in lead for ch in matrix) or len(set(rest)) != len(rest)
            or not set(matrix) & set(axes) and not set(matrix) <= set(rest)):
        return None
    present = [ch for ch in matrix if ch in axes]
    if len(present) == 1 and present[0] not in rest:     # contract one axis: a matmul
        x = present[0]
        y = matrix[1] if matrix[0] == x else matrix[0]
        pos = axes.index(x)
        moved = a if pos == len(axes) - 1 else f"{a}.movedim({2 + pos}, -1)"
        mat = m if matrix[0] == x else f"{m}.mT"
        return _finish(f"torch.matmul({moved}, {mat})", [c for c in axes if c != x] + [y], rest)
    new = [ch for ch in matrix if ch not in axes]
    full = axes + new
    expr = f"{a}[{', '.join([':'] * (2 + len(axes)) + ['None'] * len(new))}]" if new else a
    first, second = sorted(matrix, key=full.index)
    mat = m if matrix == first + second else f"{m}.mT"
    gap = full.index(second) - full.index(first) - 1
    after = len(full) - full.index(second) - 1
    index = [":"] + ["None"] * gap + [":"] + ["None"] * after
    placed = mat if gap == 0 and after == 0 else f"{mat}[{', '.join(index)}]"
    return _finish(f"({expr} * {placed})", full, rest)


def _finish(expr: str, axes: list[str], rest: str) -> str | None:
    """``expr`` (trailing axes ``axes``) summed over the axes not in ``rest`` and put in its order."""
    if not set(rest) <= set(axes):
        return None
    return reduced(expr, axes, list(rest))


def reduced(expr: str, labels: Sequence[Any], keep: Sequence[Any]) -> str:
    """``expr`` (axes ``labels`` after batch and channel) summed to the axes ``keep``, in that order.

    >>> reduced("x", "ijk", "ki")
    'x.sum(3).transpose(2, 3)'
    """
    summed = [i for i, lab in enumerate(labels) if lab not in keep]
    if summed:
        dims = ", ".join(str(2 + i) for i in summed)
        expr = f"{expr}.sum({dims if len(summed) == 1 else '(' + dims + ')'})"
    rest = [lab for lab in labels if lab in keep]
    if rest != list(keep):
        expr = permuted(expr, [rest.index(lab) for lab in keep])
    return expr


def permuted(expr: str, perm: Sequence[int], lead: int = 2) -> str:
    """``expr`` with the axes after the first ``lead`` put in the order ``perm`` (a transpose if it swaps two).

    >>> permuted("x", [1, 0]), permuted("x", [1, 2, 0])
    ('x.transpose(2, 3)', 'x.permute(0, 1, 3, 4, 2)')
    """
    perm = list(perm)
    moved = [i for i, p in enumerate(perm) if p != i]
    if len(moved) == 2:
        a, b = moved
        return f"{expr}.transpose({lead + a}, {lead + b})"
    return f"{expr}.permute({', '.join(str(i) for i in range(lead))}, {', '.join(str(lead + p) for p in perm)})"
