"""Network stages that are not linear layers: which nonlinearities and poolings keep equivariance.

>>> import catnn
>>> from catnn.features import space
>>> check_stage(catnn.group("S"), "relu", (2,))          # permutations commute with pointwise maps
>>> check_stage(catnn.group("O"), "relu", (0, 2))
Traceback (most recent call last):
...
catnn.errors.CompileError: 'relu' is not O(n)-equivariant on tensors of order 2: use gate or norm_relu
>>> stage_output("mean", space("4*V1 + 2*V2"))
space('6*V0')

The rules (each verified numerically in tests/test_networks.py):

- **pointwise** maps f (relu, gelu, ...), applied entry by entry, commute with g^{⊗k} for every
  tensor order k exactly when g permutes entries: permutation groups (S_n, A_n, Aut(G)). On order 0
  (invariant channels) every f is fine for every group. H_n acts by *signed* permutations, so it
  allows the odd maps (tanh, identity) only. O(n), SO(n), Sp(n) and B_n (≅ O(n-1) on 1^⊥) allow
  none on orders >= 1.
- **norm_f**: ``x · f(|x| + b) / |x|`` per channel, |x| the Euclidean norm over the tensor axes and
  b a learned bias per channel; equivariant for every subgroup of O(n), i.e. every group here but
  Sp(n): Sp(n) is not compact and does not preserve |x|. (Its invariant J-form is no substitute:
  ``<x, J^{⊗k} x>`` vanishes identically for odd k and is indefinite for even k.) Nor for O(p,q),
  SO(p,q) with p, q >= 1 (the Lorentz group): boosts change |x|, and the η-norm xᵀ η^{⊗k} x is
  indefinite, so it cannot be the radius of a norm nonlinearity. Order-0 channels get ``f(x)`` itself.
- **gate**: order-0 channels s gate every channel of order >= 1, ``y_c = x_c · sigmoid((W s + b)_c)``,
  with W, b learned; the order-0 channels themselves become ``relu(s)``. Invariant scalars times
  equivariant tensors are equivariant for *every* group, Sp(n) and O(p,q) included. It needs order-0 channels.
- **sum / mean** pooling: every entry of each order summed (mean: divided by n^k), giving order-0
  channels. That is the (k -> 0) diagram of singleton blocks, invariant exactly when the group's
  category contains it (S_n, A_n, B_n, Aut(G): the groups that fix the all-ones vector). Learned
  readouts are k -> 0 layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from catnn import messages
from catnn.diagram import Diagram
from catnn.errors import CatnnError, CheckError, CompileError
from catnn.features import FeatureSpace
from catnn.groups.lorentz import is_indefinite

from .check_graph import group_ref

__all__ = [
    "POINTWISE", "ODD", "NORMS", "GATES", "POOLS", "NONLINEARITIES", "STAGE_FUNCTIONS",
    "stage_kind", "check_stage", "stage_output", "norm_function", "check_layer_signature", "check_network",
    "spanning_count_or_none",
]

#: maps applied entry by entry
POINTWISE = ("relu", "gelu", "silu", "tanh", "sigmoid", "softplus", "elu", "leaky_relu", "identity")
#: the odd ones (f(-x) = -f(x)): those commute with sign flips too (H_n)
ODD = frozenset({"tanh", "identity"})
#: norm nonlinearities x · f(|x| + b) / |x|
NORMS = tuple(f"norm_{f}" for f in ("relu", "gelu", "silu", "tanh", "sigmoid", "softplus"))
GATES = ("gate",)
#: parameter-free invariant readouts
POOLS = ("sum", "mean")
#: every nonlinearity name a network may use
NONLINEARITIES = POINTWISE + GATES + NORMS
#: every stage name that is not a layer
STAGE_FUNCTIONS = NONLINEARITIES + POOLS

#: groups whose elements are not orthogonal matrices (the Euclidean norm is not invariant)
_NOT_ORTHOGONAL = frozenset({"Sp"})
#: groups of signed permutation matrices (odd pointwise maps commute with them)
_SIGNED_PERMUTATIONS = frozenset({"H"})


def stage_kind(name: str) -> str:
    """``"pointwise"``, ``"norm"``, ``"gate"`` or ``"pool"``; CompileError for an unknown name."""
    if name in POINTWISE:
        return "pointwise"
    if name in NORMS:
        return "norm"
    if name in GATES:
        return "gate"
    if name in POOLS:
        return "pool"
    raise CompileError(messages.UNKNOWN_NONLINEARITY.format(name=name, known=", ".join(STAGE_FUNCTIONS)))


def norm_function(name: str) -> str:
    """The pointwise map inside a norm nonlinearity: ``norm_relu`` -> ``relu``."""
    return name[len("norm_"):]


def check_stage(group: Any, name: str, orders: Iterable[int]) -> None:
    """Raise CompileError if stage ``name`` on features of these tensor orders breaks equivariance."""
    orders = tuple(orders)
    kind = stage_kind(name)
    if kind == "pointwise":
        for k in orders:
            if not _pointwise_ok(group, name, k):
                raise CompileError(messages.POINTWISE_NOT_EQUIVARIANT.format(
                    name=name, group=group, order=k, instead=_instead(group, name)))
    elif kind == "norm" and _no_norms(group) and any(orders):
        template = messages.NORM_INDEFINITE if is_indefinite(group) else messages.NORM_NOT_EQUIVARIANT
        raise CompileError(template.format(name=name, group=group))
    elif kind == "gate" and 0 not in orders:
        shown = " + ".join(f"V{k}" for k in orders)
        example = " + ".join(f"C*V{k}" for k in (0, *orders))
        instead = "a k -> 0 layer for invariants" if _no_norms(group) else "norm_relu"
        raise CompileError(messages.GATE_NEEDS_SCALARS.format(space=shown, example=example, instead=instead))
    elif kind == "pool":
        for k in orders:
            if k and not group.accepts(_singletons(k)):
                raise CompileError(messages.POOL_NOT_INVARIANT.format(name=name, group=group, order=k))


def stage_output(name: str, features: FeatureSpace) -> FeatureSpace:
    """The features after stage ``name``: pools give order-0 channels, the others keep the space."""
    if stage_kind(name) == "pool":
        return FeatureSpace({0: features.total}) if features.total else FeatureSpace({})
    return features


def _pointwise_ok(group: Any, name: str, order: int) -> bool:
    if order == 0 or name == "identity" or getattr(group, "is_permutation_group", False):
        return True
    return group.name in _SIGNED_PERMUTATIONS and name in ODD


def _instead(group: Any, name: str) -> str:
    """What to use instead of a pointwise map, in words."""
    if group.name in _NOT_ORTHOGONAL:
        return "gate (norm nonlinearities are no option: Sp(n) does not preserve the Euclidean norm)"
    if is_indefinite(group):
        return f"gate (norm nonlinearities are no option: {group} preserves no positive norm)"
    norm = f"norm_{name}" if f"norm_{name}" in NORMS else "norm_relu"
    if group.name in _SIGNED_PERMUTATIONS:
        return f"an odd function (tanh), gate or {norm}"
    return f"gate or {norm}"


def _no_norms(group: Any) -> bool:
    """True for the groups that preserve no positive norm: Sp(n), O(p,q) and SO(p,q) with p, q >= 1."""
    return group.name in _NOT_ORTHOGONAL or is_indefinite(group)


def _singletons(k: int) -> Diagram:
    """The k -> 0 diagram whose blocks are single vertices: the sum of all entries."""
    return Diagram([[v] for v in range(1, k + 1)], k, 0)


# -- the language: layer signatures and network declarations ------------------------------------------
def check_layer_signature(checker: Any, item: Any) -> Any:
    """A ``layer`` declared with spaces: bilinear ``a @ b -> l`` or mixed ``V0 + V2 -> V1``.

    ``checker`` is the program checker of :mod:`.check` (its ``layer`` handles plain k -> l).
    """

    from catnn.grammar import ast
    from dataclasses import fields

    from catnn.spec import BilinearLayerSpec, MixedLayerSpec
    sig, G = item.arity, checker.group
    if sig.output.kind == "product":
        raise CheckError(messages.PRODUCT_ONLY_INPUT, sig.output.span)
    for side in (sig.input, sig.output):
        for term in side.terms:
            if term.channels is not None:
                raise CheckError(messages.LAYER_SPACE_CHANNELS.format(name=item.name), term.span)
    outs = _orders(sig.output)
    if sig.input.kind == "product":
        if len(outs) != 1:
            raise CheckError(messages.BILINEAR_OUTPUT, sig.output.span)
        a, b = (t.order for t in sig.input.terms)
        plain = ast.LayerDef(item.name, ast.Arity(a + b, outs[0], sig.span), item.learn, item.name_span, item.span)
        spec = checker.layer(plain)
        _check_pairing(G, a, b, outs[0], spec.diagrams, sig.input)
        return BilinearLayerSpec(**{f.name: getattr(spec, f.name) for f in fields(spec)} | {"factors": (a, b),
                                                                                          "outer": sig.input.outer})
    ins = _orders(sig.input)
    if len(ins) == len(outs) == 1:
        plain = ast.LayerDef(item.name, ast.Arity(ins[0], outs[0], sig.span), item.learn, item.name_span, item.span)
        return checker.layer(plain)
    if item.learn is not None:
        raise CheckError(messages.MIXED_NO_LEARN.format(name=item.name), item.learn[0].span)
    _check_blocks(G, ins, outs, sig)
    return MixedLayerSpec(item.name, group_ref(G), G.n, ins, outs, item.span)


def _check_pairing(G: Any, a: int, b: int, l: int, diagrams: Any, product: Any) -> None:
    """A channelwise ``a @ a -> l`` layer that computes zero for every input is an error saying to write outer."""
    from .check_bilinear import pairing_vanishes
    if a == b and not product.outer and pairing_vanishes(G, a, l, diagrams):
        count = len(diagrams) if diagrams is not None else G.spanning_count(2 * a, l)
        raise CheckError(messages.BILINEAR_ZERO.format(group=G, count=count, s="" if count == 1 else "s", a=a, l=l),
                         product.span)


def _orders(side: Any) -> tuple[int, ...]:
    return tuple(sorted({t.order for t in side.terms}))


def _check_blocks(G: Any, ins: tuple[int, ...], outs: tuple[int, ...], sig: Any) -> None:
    from catnn.groups.base import MAX_SPANNING
    counts = []
    for k in ins:
        for l in (*outs,):
            count = spanning_count_or_none(G, k, l)
            if count is not None and count > MAX_SPANNING:
                raise CheckError(messages.LIMIT_EXCEEDED.format(
                    what=f"the {G.name} spanning set for {k} -> {l} ({count} diagrams)", limit=MAX_SPANNING), sig.span)
            counts.append(count)
    if all(c == 0 for c in counts):
        shown = [" + ".join(f"V{k}" for k in side) for side in (ins, outs)]
        raise CheckError(messages.MIXED_EMPTY.format(group=G, ins=shown[0], outs=shown[1]), sig.span)


def spanning_count_or_none(G: Any, k: int, l: int) -> int | None:
    """``G.spanning_count(k, l)``, or None where the group cannot count it (e.g. it needs n).

    >>> import catnn
    >>> spanning_count_or_none(catnn.group("S"), 1, 1), spanning_count_or_none(catnn.group("SO"), 1, 1)
    (2, None)
    """
    try:
        return G.spanning_count(k, l)
    except (NotImplementedError, CatnnError):
        return None


def check_network(checker: Any, item: Any) -> Any:
    """A ``network`` declaration: stages resolved, feature spaces followed and checked stage by stage.

    Errors point at the stage (or the pair of stages) at fault; a nonlinearity that would break the
    group's equivariance is refused at its name, saying what to use instead.
    """
    from dataclasses import replace

    from catnn.spec import NetworkSpec
    G = checker.group
    (k, ins, in_space), (l, outs, out_space) = (_network_side(side) for side in _sides(item.arity))
    resolved = [_resolve_stage(checker, st) for st in item.stages]
    first = first_layer(item, resolved)
    if first.in_space.orders != ins or (in_space is not None and first.in_space != in_space):
        raise CheckError(_input_message(item.name, k, ins, in_space, first), first.span)

    def stage(r: Any, flow: FeatureSpace) -> Any:
        try:
            check_stage(G, r.name, flow.orders)
        except CompileError as err:
            raise CheckError(err.message, r.span) from None
        return replace(r, in_space=flow, out_space=stage_output(r.name, flow))

    stages, flow, last = follow_stages(resolved, first, _chain, stage)
    if flow.orders != outs or (out_space is not None and flow != out_space):
        raise CheckError(_output_message(item.name, k, l, outs, out_space, last, flow), last.span)
    return NetworkSpec(item.name, group_ref(G), G.n, k, l, tuple(stages), item.span, first.in_space, flow)


def first_layer(item: Any, resolved: list[Any]) -> Any:
    """The network's first layer stage; a network without one, or pooling before it, is an error."""
    layers = [r for r in resolved if r.kind == "layer"]
    if not layers:
        raise CheckError(messages.NETWORK_NO_LAYER.format(name=item.name), item.span)
    early = next((r for r in resolved[:resolved.index(layers[0])] if r.kind == "pool"), None)
    if early is not None:
        raise CheckError(messages.POOL_BEFORE_LAYER.format(name=early.name), early.span)
    return layers[0]


def follow_stages(resolved: list[Any], first: Any, chain: Any, stage: Any) -> tuple[list[Any], Any, Any]:
    """(the stages with their spaces, the space out, the last layer or pool): each layer ``chain``-checked
    against the space before it, every other stage checked and given its spaces by ``stage(r, flow)``."""
    flow, last, stages = first.in_space, None, []
    for r in resolved:
        if r.kind == "layer":
            if last is not None:
                chain(last, flow, r)
            flow, last = r.out_space, r
        else:
            r = stage(r, flow)
            flow = r.out_space
            last = r if r.kind == "pool" else last
        stages.append(r)
    return stages, flow, last


def _sides(arity: Any) -> tuple[Any, Any]:
    from catnn.grammar import ast
    if isinstance(arity, ast.Arity):
        return arity.k, arity.l
    return arity.input, arity.output


def _network_side(side: Any) -> tuple[Any, tuple[int, ...], FeatureSpace | None]:
    """(k as written: an int or the orders' text, the orders, the space when channels are given)."""
    if isinstance(side, int):
        return side, (side,), None
    if side.kind == "product":
        raise CheckError(messages.PRODUCT_ONLY_INPUT, side.span)
    if side.kind == "number":
        return side.terms[0].order, (side.terms[0].order,), None
    orders = _orders(side)
    text = " + ".join(f"V{k}" for k in orders)
    given = [t for t in side.terms if t.channels is not None]
    if not given:
        return text, orders, None
    missing = next((t for t in side.terms if t.channels is None), None)
    if missing is not None:
        raise CheckError(messages.WIDTH_NEEDS_CHANNELS.format(order=missing.order), missing.span)
    return text, orders, _space_of_terms(side)


def _space_of_terms(side: Any) -> FeatureSpace:
    for t in side.terms:
        if t.channels is not None and t.channels < 1:
            raise CheckError(messages.WIDTH_POSITIVE, t.span)
    return FeatureSpace([(t.order, t.channels) for t in side.terms])


def _resolve_stage(checker: Any, st: Any) -> Any:
    """A checked :class:`~catnn.spec.Stage`: a layer with its spaces, or a nonlinearity or pool."""
    from dataclasses import replace
    entry = checker.env.get(st.name)
    if entry is None or entry.kind != "layer":
        stage = checker.nonlinearity(st, entry)
        return replace(stage, kind="pool") if st.name in POOLS else stage
    return layer_stage(checker.group, st, entry.value, _widths)


def layer_stage(group: Any, st: Any, spec: Any, widths: Any) -> Any:
    """A layer stage with its spaces: ``widths(st, written, orders)`` reads each side's widths over the
    layer's orders (plain or typed); a weight tensor past MAX_WEIGHTS is refused here, not as a failed
    allocation when the network is built."""
    from catnn.spec import MixedLayerSpec, Stage
    if st.channels is None:
        raise CheckError(messages.STAGE_NEEDS_WIDTHS.format(name=st.name), st.span)
    if isinstance(spec, MixedLayerSpec):
        ins, outs = spec.in_orders, spec.out_orders
    elif spec.factors:
        if not isinstance(st.channels[0], int):
            raise CheckError(messages.BILINEAR_WIDTHS.format(name=st.name), st.span)
        ins, outs = tuple(sorted(set(spec.factors))), (spec.l,)
    else:
        ins, outs = (spec.k,), (spec.l,)
    in_space, out_space = (widths(st, w, orders) for w, orders in zip(st.channels, (ins, outs)))
    single = not isinstance(spec, MixedLayerSpec)
    cin = in_space[ins[0]] if single else None
    cout = out_space[outs[0]] if single else None
    stage = Stage("layer", st.name, cin, cout, st.span, spec, in_space, out_space)
    from .budget import MAX_WEIGHTS, stage_weights
    weights = stage_weights(group, stage)
    if weights > MAX_WEIGHTS:
        raise CheckError(messages.LIMIT_EXCEEDED.format(what=f"this stage's weight tensor ({weights} weights)",
                                                       limit=f"{MAX_WEIGHTS} weights"), st.span)
    return stage


def _widths(st: Any, width: Any, orders: tuple[int, ...]) -> FeatureSpace:
    """One side of a stage's widths as a feature space over the layer's orders."""
    if isinstance(width, int) or width.kind == "number":
        count = width if isinstance(width, int) else width.terms[0].order
        if count < 1:
            raise CheckError(messages.WIDTH_POSITIVE, st.span)
        return FeatureSpace({k: count for k in orders})
    if width.kind == "product":
        raise CheckError(messages.PRODUCT_ONLY_INPUT, width.span)
    for t in width.terms:
        if t.channels is None:
            raise CheckError(messages.WIDTH_NEEDS_CHANNELS.format(order=t.order), t.span)
    features = _space_of_terms(width)
    if features.orders != orders:
        raise CheckError(messages.STAGE_WIDTH_ORDERS.format(
            name=st.name, orders=" + ".join(f"V{k}" for k in orders), given=features), width.span)
    return features


def _chain(last: Any, flow: FeatureSpace, r: Any) -> None:
    """Refuse a layer whose input does not match the features flowing into it."""
    span = _join(last.span, r.span)
    single = flow.is_single and r.in_space.is_single
    if flow.orders != r.in_space.orders:
        if single:
            raise CheckError(messages.ARITY_COMPOSE.format(left=last.name, lout=flow.orders[0], right=r.name,
                                                           rin=r.in_space.orders[0]), span)
        raise CheckError(messages.STAGE_ORDERS.format(right=r.name, rin=_orders_text(r.in_space), left=last.name,
                                                      lout=_orders_text(flow)), span)
    if flow != r.in_space:
        if single:
            raise CheckError(messages.CHANNEL_MISMATCH.format(left=last.name, out=flow.total, right=r.name,
                                                              inp=r.in_space.total), span)
        raise CheckError(messages.SPACE_MISMATCH.format(what=f"'{r.name}'", expected=r.in_space, got=flow), span)


def _input_message(name: str, k: Any, ins: tuple[int, ...], given: FeatureSpace | None, first: Any) -> str:
    if given is None and isinstance(k, int) and first.in_space.is_single:
        return messages.NETWORK_INPUT.format(name=name, k=k, layer=first.name, lk=first.in_space.orders[0])
    return messages.NETWORK_SPACE_INPUT.format(name=name, k=given or k, layer=first.name, lk=first.in_space)


def _output_message(name: str, k: Any, l: Any, outs: tuple[int, ...], given: FeatureSpace | None, last: Any,
                    flow: FeatureSpace) -> str:
    if given is None and isinstance(l, int) and flow.is_single and last.kind == "layer":
        return messages.NETWORK_OUTPUT.format(name=name, k=k, l=l, layer=last.name, m=flow.orders[0])
    return messages.NETWORK_SPACE_OUTPUT.format(name=name, l=given or l, m=flow)


def _orders_text(features: FeatureSpace) -> str:
    return " + ".join(f"V{k}" for k in features.orders)


def _join(a: Any, b: Any) -> Any:
    from catnn.errors import Span
    return Span(a.file, a.line, a.column, b.end_line, b.end_column, a.text)
