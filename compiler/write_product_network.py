"""Compiled modules over a product of groups: layers between typed feature spaces, and networks.

>>> import catnn
>>> from catnn.compiler.write import write_module
>>> "class net(torch.nn.Module):" in write_module(catnn.compile("group points: S x space: O(3)\\n"
...     "layer mix : V(1, 0) + V(1, 1) -> V(1, 0) + V(1, 1)\\n"
...     "network net : V(1, 0) + V(1, 1) -> V(1, 0) + V(1, 1) = mix[1 -> 4] >> gate >> mix[4 -> 1]"))
True

The generated code runs what :mod:`catnn.networks` runs in memory over products: the same emitted plan
functions, and the stage formulas of :mod:`catnn.typed` pasted from its source (:data:`TYPED_HELPERS`,
each name as ``_stages__NAME``, annotations and imports stripped), so equal weights give equal
outputs; ``state_dict`` keys are the in-memory ones (``stages.{i}.weight.1,0_1,1``, ...). Features are
dicts ``{typed order: tensor (B, C, n_0 × k_0 axes, n_1 × k_1 axes, …)}`` (a tensor where a space has
one order); a network takes ``mask=`` ({sort: (B, N_s) bools}, a bare tensor meaning sort 0) and
``n=(n_0, …)`` for sorts that no input axis shows.
"""

from __future__ import annotations

import ast
import importlib.util
from typing import Any

from catnn.features import FeatureSpace

from .pysource import check_name, docstring, tuple_source
from .plan import build_mixed_plan
from .write_network import NETWORK_HELPERS, PREFIX, _add_helpers, _function, _scales_source

__all__ = ["write_typed_mixed_layer", "write_typed_bilinear_layer", "write_product_network", "explain_product_item",
           "mask_sorts", "TYPED_HELPERS"]

#: the functions of :mod:`catnn.typed` a compiled network over a product pastes (as ``_stages__NAME``)
_TYPED_PASTED = ("order_key", "axes_of", "sort_masks", "typed_mask", "masked_typed", "sort_counts", "typed_norm",
                 "typed_gate", "pool_sort", "_pooled", "_count")


class _Paste(ast.NodeTransformer):
    """Strip annotations and imports, keep the docstring's first paragraph, rename the pasted names."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.name = self.names.get(node.name, node.name)
        node.returns = None
        for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
            arg.annotation = None
        doc = ast.get_docstring(node, clean=True)
        if doc is not None:
            node.body[0] = ast.Expr(ast.Constant(" ".join(doc.split("\n\n")[0].split())))
        node.body = [s for s in node.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
        self.generic_visit(node)
        return node

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self.names.get(node.id, node.id)
        return node


def _pasted_typed() -> str:
    """The source of :data:`_TYPED_PASTED` from catnn/typed.py (read, not imported: no torch here)."""
    path = importlib.util.find_spec("catnn.typed").origin
    tree = ast.parse(open(path, encoding="utf-8").read())
    names = {name: PREFIX + name.lstrip("_") for name in _TYPED_PASTED} | {"FUNCTIONS": PREFIX + "FUNCTIONS"}
    found = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in _TYPED_PASTED]
    if len(found) != len(_TYPED_PASTED):      # catnn.typed renamed one: compiled networks would not run
        missing = sorted(set(_TYPED_PASTED) - {node.name for node in found})
        raise ImportError(f"catnn.typed no longer defines {missing}, which compiled networks paste")
    pieces = [ast.unparse(ast.fix_missing_locations(_Paste(names).visit(node))) for node in found]
    return "\n\n\n".join(pieces) + "\n"


#: typed stage formulas (pasted from catnn.typed), feature checks and sizes, and the stage classes
TYPED_HELPERS = _pasted_typed() + '''

def _stages__typed_sizes(what, pairs, masks, n, fixed):
    """Check (order, tensor, channels) pairs and find each sort's size: from the tensors' axes of that
    sort, else its mask, else n[s], else the fixed size (a ValueError naming what when they disagree)."""
    for k, t, c in pairs:
        if t is None or t.ndim != 2 + sum(k) or t.shape[1] != c:
            expected = {k: c for k, _, c in pairs}
            got = {k: None if t is None else tuple(t.shape) for k, t, _ in pairs}
            raise ValueError(f"{what} expects features {expected} (order: channels), got shapes {got}")
    n = (None,) * len(fixed) if n is None else tuple(n)
    sizes = []
    for s, size in enumerate(fixed):
        seen = {int(d) for k, t, _ in pairs for d in t.shape[2 + sum(k[:s]):2 + sum(k[:s + 1])]}
        if masks and s in masks:
            seen.add(int(masks[s].shape[-1]))
        if len(seen) > 1 or (size is not None and seen and seen != {size}):
            raise ValueError(f"{what}: the axes of sort {s} have sizes {sorted(seen)} (fixed: {size})")
        if not seen and size is None and n[s] is None:
            raise ValueError(f"{what} has no input axis of sort {s}: pass n=(...) with one size per sort")
        sizes.append(seen.pop() if seen else size if size is not None else int(n[s]))
    return tuple(sizes)


def _stages__check_masks(what, masks, allowed, batch):
    """Masks only on the sorts that can be padded (free size, a permutation-like group, diagrams that do not
    depend on n), each (batch, N_s)."""
    for s, m in (masks or {}).items():
        if s not in allowed:
            raise ValueError(f"{what}: a mask on sort {s}, but only sorts {allowed} can be padded (a free size, "
                             f"S, A, Aut, H, O or B, and diagrams that do not depend on n)")
        if m.ndim != 2 or m.shape[0] != batch:
            raise ValueError(f"{what}: the mask of sort {s} must be (batch, N) = ({batch}, N) booleans, "
                             f"got shape {tuple(m.shape)}")


class _stages__TypedNorm(torch.nn.Module):
    """x * f(|x| + b) / |x|, |x| over the axes of the non-permutation sorts (f(x) where there are none)."""

    def __init__(self, name, channels, perm):
        super().__init__()
        self.name, self.perm = name, perm
        self.bias = torch.nn.ParameterDict({_stages__order_key(k): torch.nn.Parameter(torch.zeros(c))
                                            for k, c in channels.items()
                                            if any(e and not p for e, p in zip(k, perm))})

    def forward(self, f):
        return _stages__typed_norm(self.name, f, self.bias, self.perm, 1e-12)


class _stages__TypedGate(torch.nn.Module):
    """Order k times sigmoid(W_k s + b_k), s the channels of order p(k) (its permutation sorts only);
    the gating orders through relu."""

    def __init__(self, channels, perm):
        super().__init__()
        self.perm = perm
        gated = {k: tuple(e if p else 0 for e, p in zip(k, perm)) for k in channels}
        gated = {k: p for k, p in gated.items() if p != k}
        self.weight = torch.nn.ParameterDict({_stages__order_key(k): torch.nn.Parameter(
            torch.randn(channels[k], channels[p]) / channels[p] ** 0.5) for k, p in gated.items()})
        self.bias = torch.nn.ParameterDict({_stages__order_key(k): torch.nn.Parameter(torch.zeros(channels[k]))
                                            for k in gated})

    def forward(self, f):
        return _stages__typed_gate(f, self.weight, self.bias, self.perm)


class _stages__TypedPool(torch.nn.Module):
    """sum or mean over the axes of one sort (None: every axis); orders that meet concatenate channels."""

    def __init__(self, name, sort):
        super().__init__()
        self.name, self.sort = name, sort

    def forward(self, f, masks=None):
        return _stages__pool_sort(self.name, f, self.sort, masks)
'''


def _key(order: tuple[int, ...]) -> str:
    return ",".join(map(str, order))


# -- layers between typed feature spaces -------------------------------------------------------------------
def write_typed_mixed_layer(writer: Any, name: str, spec: Any) -> None:
    """``class NAME(in_channels, out_channels, bias=True)``: channels are dicts {typed order: channels}."""
    from .layer import layer_structure
    G = writer.group
    plan = build_mixed_plan(G, spec.in_orders, spec.out_orders)
    helper = f"_{name}"
    _function(writer, plan, helper, f"The plan of layer {name}; see class {name}.")
    _add_helpers(writer, (NETWORK_HELPERS, TYPED_HELPERS))
    pairs = [(spec.in_orders[b.input], spec.out_orders[b.output]) for b in plan.blocks]
    keys = [f"{_key(k)}_{_key(l)}" for k, l in pairs]
    fan = {j: sum(1 for b in plan.blocks if b.output == j) for j in range(len(spec.out_orders))}
    scales = {key: tuple(s / fan[b.output] ** 0.5 for s in layer_structure(G, k, l, b.diagrams, bias=False)
                         .init_scale()) for key, b, (k, l) in zip(keys, plan.blocks, pairs)}
    blocks = tuple((key, k, l, len(b.diagrams)) for key, b, (k, l) in zip(keys, plan.blocks, pairs))
    bias_sizes = {l: len(s.bias_diagrams) for l, s in zip(spec.out_orders, plan.sections) if s.bias_diagrams}
    listing = "\n".join(f"  weight[{key!r}]: " + ", ".join(str(d) for d in b.diagrams)
                        for key, b in zip(keys, plan.blocks))
    what = f"layer {name}"
    doc = "\n\n".join(filter(None, [
        f"layer {name} : {spec.k} -> {spec.l} over {G}: one block of weights per pair of typed orders.",
        writer.where(name),
        "in_channels, out_channels: dicts {typed order: channels}. Input and output: dicts {order: tensor "
        "(B, channels, n_0 x k_0 axes, n_1 x k_1 axes, ...)}; forward(x, n=(...)) gives the sizes of sorts no "
        "input axis shows. weight['k_l'] (diagrams, out, in) is the block from order k to order l; bias['l'] "
        "the 0 -> l diagrams of output l.\n" + listing]))
    lines = [
        f"class {name}(torch.nn.Module):", "    " + docstring(doc, "    "), "",
        f"    in_orders, out_orders, sizes = {tuple(spec.in_orders)!r}, {tuple(spec.out_orders)!r}, {tuple(G.ns)!r}",
        "    #: (weight key, input order, output order, diagrams) per block",
        f"    blocks = {blocks!r}",
        f"    bias_sizes = {bias_sizes!r}",
        "    #: the sorts a mask may pad",
        f"    mask_sorts = {mask_sorts(G, (plan,))!r}",
        "    #: weight[key][i] ~ N(0, init_scale[key][i]**2 / in_channels)",
        f"    init_scale = {_scales_source(scales)}", "",
        "    def __init__(self, in_channels, out_channels, bias=True):",
        "        super().__init__()",
        "        self.in_channels, self.out_channels = dict(in_channels), dict(out_channels)",
        "        self.weight = torch.nn.ParameterDict({key: torch.nn.Parameter(torch.empty(",
        "            size, self.out_channels[l], self.in_channels[k])) for key, k, l, size in self.blocks})",
        "        self.bias = torch.nn.ParameterDict({_stages__order_key(l): torch.nn.Parameter(",
        "            torch.zeros(size, self.out_channels[l])) for l, size in self.bias_sizes.items()} if bias else {})",
        "        self.reset_parameters()", "",
        "    def reset_parameters(self):",
        "        with torch.no_grad():",
        "            for key, k, l, size in self.blocks:",
        "                for i, scale in enumerate(self.init_scale[key]):",
        "                    self.weight[key][i].normal_(0.0, scale / self.in_channels[k] ** 0.5)",
        "            for p in self.bias.values():",
        "                p.zero_()", "",
        "    def forward(self, x, n=None, mask=None):",
        "        masks = _stages__sort_masks(mask)",
        "        f = {self.in_orders[0]: x} if len(self.in_orders) == 1 and not isinstance(x, dict) else dict(x)",
        "        pairs = [(k, f.get(k), c) for k, c in self.in_channels.items()]",
        f"        sizes = _stages__typed_sizes({what!r}, pairs, masks, n, self.sizes)",
        f"        _stages__check_masks({what!r}, masks, self.mask_sorts, pairs[0][1].shape[0])",
        "        out = self.features(f, sizes, masks)",
        "        return out[self.out_orders[0]] if len(out) == 1 else out", "",
        "    def features(self, f, sizes, masks=None):",
        "        \"\"\"The layer on features {order: tensor} at these sizes (one per sort): a dict.\"\"\"",
        "        f = _stages__masked_typed(f, masks)",
        "        xs = tuple(f[k] for k in self.in_orders)",
        "        for t in xs:",
        "    " + writer.check_input(what, "t", "next(iter(self.weight.values()))"),
        "        weights = tuple(self.weight[key] for key, _, _, _ in self.blocks)",
        "        biases = tuple((self.bias[_stages__order_key(l)] if _stages__order_key(l) in self.bias else",
        "                        xs[0].new_zeros(self.bias_sizes[l], self.out_channels[l])) if l in self.bias_sizes",
        "                       else None for l in self.out_orders)",
        "        channels = tuple(self.out_channels[l] for l in self.out_orders)",
        f"        ys = {helper}__plan(xs, weights, biases, channels, n=sizes, "
        "sizes=_stages__sort_counts(masks, len(sizes), xs[0]))",
        "        return _stages__masked_typed(dict(zip(self.out_orders, ys)), masks)",
    ]
    writer.blocks.append("\n".join(lines) + "\n")


def write_typed_bilinear_layer(writer: Any, name: str, spec: Any) -> None:
    """``class NAME(in_channels, out_channels, bias=True)``: ``forward(x, y=None, n=None, mask=None)``, y
    defaults to x; x ⊗ y (typed orders a, b; never formed where a diagram contracts it), then (a+b) -> l."""
    from catnn.typed import typed_bilinear_plan

    from .layer import layer_structure
    from .write_product import TYPED_COEFFICIENTS_HELPER, _source, typed_table
    G = writer.group
    a, b = spec.factors
    structure = layer_structure(G, spec.k, spec.l, spec.diagrams)
    plan = typed_bilinear_plan(G, a, b, spec.l, spec.outer, structure.plan.diagrams,
                               bool(structure.plan.bias_diagrams), False)
    helper = f"_{name}"
    _function(writer, plan, helper, f"The plan of bilinear layer {name}; see class {name}.")
    _add_helpers(writer, (NETWORK_HELPERS, TYPED_HELPERS))
    entries = [str(e) for e in structure.entries]
    nbias = len(plan.sections[0].bias_diagrams)
    what = f"layer {name}"
    doc = "\n\n".join(filter(None, [
        f"layer {name} : {spec.product} -> {spec.l} over {G}: x (x) y, "
        f"{'every channel c of x times every channel d of y' if spec.outer else 'channel c times channel c'}, "
        f"then {len(entries)} learned weights.", writer.where(name),
        f"x: (B, in_channels, typed axes of {a}), y: (B, in_channels, typed axes of {b}) (y defaults to x), "
        f"output (B, out_channels, typed axes of {spec.l}); mask={{sort: (B, N_s)}} pads permutation sorts. "
        "weight[i] (out_channels x products) multiplies entry i:\n"
        + "\n".join(f"  weight[{i}]: {e}" for i, e in enumerate(entries))]))
    init = tuple_source([repr(float(x)) for x in structure.init_scale()]).replace("'", "")
    products = "in_channels * in_channels" if spec.outer else "in_channels"
    lines = [
        f"class {name}(torch.nn.Module):", "    " + docstring(doc, "    "), "",
        f"    a, b, l, sizes = {a!r}, {b!r}, {spec.l!r}, {tuple(G.ns)!r}",
        f"    mask_sorts = {mask_sorts(G, (plan,))!r}  # the sorts a mask may pad",
        f"    diagrams = {tuple_source(entries)}",
        f"    init_scale = {init}", "",
        "    def __init__(self, in_channels, out_channels, bias=True):",
        "        super().__init__()",
        "        self.in_channels, self.out_channels = in_channels, out_channels",
        f"        products = {products}",
        f"        self.weight = torch.nn.Parameter(torch.empty({len(entries)}, out_channels, products))",
        (f"        self.bias = torch.nn.Parameter(torch.zeros({nbias}, out_channels)) if bias else None"
         if nbias else "        self.bias = None"),
        "        with torch.no_grad():",
        "            for i, scale in enumerate(self.init_scale):",
        "                self.weight[i].normal_(0.0, scale / products ** 0.5)", "",
        "    def forward(self, x, y=None, n=None, mask=None):",
        "        y = x if y is None else y",
        writer.check_input(what, "x", "self.weight"),
        writer.check_input(what, "y", "self.weight"),
        "        masks = _stages__sort_masks(mask)",
        "        pairs = [(self.a, x, self.in_channels), (self.b, y, self.in_channels)]",
        f"        sizes = _stages__typed_sizes({what!r}, pairs, masks, n, self.sizes)",
        f"        _stages__check_masks({what!r}, masks, self.mask_sorts, x.shape[0])",
        "        x, y = (_stages__masked_typed({k: t}, masks)[k] for k, t, _ in pairs)",
        "        weight = self.weight"]
    if structure.mixing is not None:      # learn(f, ...) with linear combinations: their coefficients at these sizes
        _add_helpers(writer, (TYPED_COEFFICIENTS_HELPER,))
        table = _source(typed_table([c for row in structure.mixing for c in row], len(G.factors)))
        lines += [f"        mixing = self.weight.new_tensor(_rt__typed_coefficients({what!r}, {table}, sizes, "
                  f"torch.finfo(self.weight.dtype).max)).reshape({len(structure.mixing)}, {len(entries)})",
                  "        weight = torch.einsum('dj,joi->doi', mixing, self.weight)  # diagrams x entries"]
    bias = "(None,)"
    if nbias:
        lines.append(f"        bias = (self.bias if self.bias is not None else self.weight.new_zeros({nbias}, "
                     "self.out_channels),)")
        bias = "bias"
    lines += [f"        out = {helper}__plan(((x, y),), (weight,), {bias}, (self.out_channels,), n=sizes, "
              "sizes=_stages__sort_counts(masks, len(sizes), x))[0]",
              "        return _stages__masked_typed({self.l: out}, masks)[self.l]"]
    writer.blocks.append("\n".join(lines) + "\n")


# -- networks --------------------------------------------------------------------------------------------
def write_product_network(writer: Any, name: str, spec: Any) -> None:
    """``class NAME()``: the stages in ``self.stages``; ``forward(x, mask=None, n=None)`` on typed features."""
    from catnn.typed import permutation_sorts
    _add_helpers(writer, (NETWORK_HELPERS, TYPED_HELPERS))
    G = writer.group
    perm = permutation_sorts(G)
    names = tuple(getattr(writer.program, "sorts", ()) or ())
    text = " >> ".join(_stage_text(st, names) for st in spec.stages)
    doc = "\n\n".join(filter(None, [
        f"network {name} : {spec.k} -> {spec.l} over {G}: {text}", writer.where(name),
        f"forward(x, mask=None, n=None): x a dict {{typed order: tensor (B, C, n_0 x k_0 axes, ...)}} of "
        f"{spec.in_space} (a tensor when it has one order); mask {{sort: (B, N_s) bools}} of a padded batch "
        "(a tensor: sort 0); n=(n_0, ...) the sizes of sorts that no input axis shows."]))
    init = [f"class {name}(torch.nn.Module):", "    " + docstring(doc, "    "), "",
            f"    in_channels, sizes = {dict(spec.in_space.items())!r}, {tuple(G.ns)!r}",
            f"    mask_sorts = {mask_sorts(G, [_plan(G, st.layer) for st in spec.stages if st.kind == 'layer'])!r}"
            "  # the sorts a mask may pad", "",
            "    def __init__(self):", "        super().__init__()", "        self.stages = torch.nn.ModuleList(["]
    first = spec.in_space
    body = ["    def forward(self, x, mask=None, n=None):",
            "        masks = _stages__sort_masks(mask)",
            f"        f = {'{' + repr(first.orders[0]) + ': x}' if first.is_single else 'dict(x)'}",
            "        pairs = [(k, f.get(k), c) for k, c in self.in_channels.items()]",
            f"        sizes = _stages__typed_sizes({f'network {name}'!r}, pairs, masks, n, self.sizes)",
            f"        _stages__check_masks({f'network {name}'!r}, masks, self.mask_sorts, pairs[0][1].shape[0])",
            "        f = _stages__masked_typed(f, masks)"]
    flow = first
    for i, st in enumerate(spec.stages):
        module, call = _stage_code(writer, st, flow, perm, i)
        init.append(f"            {module},")
        body.append(f"        f = {call}")
        flow = st.out_space
    init.append("        ])")
    last = spec.out_space
    body.append(f"        return f[{last.orders[0]!r}]" if last.is_single else "        return f")
    writer.blocks.append("\n".join(init + [""] + body) + "\n")


def mask_sorts(G: Any, plans: Any) -> tuple[int, ...]:
    """The sorts a mask may pad: a free size, a permutation-like factor (or H, O, B), no constant of the plans.

    >>> import catnn
    >>> from catnn.compiler.plan import build_mixed_plan
    >>> G = catnn.group("S x O(3)")
    >>> mask_sorts(G, [build_mixed_plan(G, ((1, 1),), ((1, 1),))])
    (0,)
    """
    used = {s for plan in plans for s in plan.constant_sorts}
    return tuple(s for s, f in enumerate(G.factors) if G.ns[s] is None and s not in used
                 and (getattr(f, "is_permutation_group", False) or f.name in ("H", "O", "B")))


def _plan(G: Any, spec: Any) -> Any:
    """The plan a layer stage runs (as the in-memory layer builds it)."""
    from catnn.spec import MixedLayerSpec
    from catnn.typed import typed_bilinear_plan

    from .layer import layer_structure
    if isinstance(spec, MixedLayerSpec):
        return build_mixed_plan(G, spec.in_orders, spec.out_orders)
    structure = layer_structure(G, spec.k, spec.l, spec.diagrams)
    if getattr(spec, "factors", None):
        return typed_bilinear_plan(G, *spec.factors, spec.l, spec.outer, structure.plan.diagrams,
                                   bool(structure.plan.bias_diagrams), False)
    return structure.plan


def _stage_text(st: Any, names: tuple[str | None, ...]) -> str:
    """A stage as written: ``mix[... -> ...]``, ``gate``, ``mean(points)`` (the sort's name where it has one)."""
    if st.kind == "layer":
        return f"{st.name}[{st.in_space} -> {st.out_space}]"
    if st.sort is None:
        return st.name
    name = names[st.sort] if st.sort < len(names) else None
    return f"{st.name}({name if name is not None else st.sort})"


def _stage_code(writer: Any, st: Any, before: FeatureSpace, perm: tuple[bool, ...], i: int) -> tuple[str, str]:
    """(the module's constructor call, the forward line) of stage i."""
    from catnn.compiler.check_network import stage_kind
    from catnn.spec import MixedLayerSpec
    s = f"self.stages[{i}]"
    if st.kind == "layer":
        layer = check_name(st.name, "layer name")
        if isinstance(st.layer, MixedLayerSpec):
            return (f"{layer}({dict(before.items())!r}, {dict(st.out_space.items())!r})",
                    f"{s}.features(f, sizes, masks)")
        if getattr(st.layer, "factors", None):
            a, b = st.layer.factors
            return (f"{layer}({int(st.in_channels)}, {int(st.out_channels)})",
                    f"{{{st.layer.l!r}: {s}(f[{a!r}], f[{b!r}], n=sizes, mask=masks)}}")
        k, l = st.layer.k, st.layer.l
        return (f"{layer}({int(st.in_channels)}, {int(st.out_channels)})",
                f"_stages__masked_typed({{{l!r}: {s}(f[{k!r}], n=sizes)}}, masks)")
    kind = stage_kind(st.name)
    if kind == "pool":
        return f"_stages__TypedPool({st.name!r}, {st.sort!r})", f"{s}(f, masks)"
    if kind == "gate":
        return f"_stages__TypedGate({dict(before.items())!r}, {perm!r})", f"_stages__masked_typed({s}(f), masks)"
    if kind == "norm":
        return (f"_stages__TypedNorm({st.name[len('norm_'):]!r}, {dict(before.items())!r}, {perm!r})",
                f"_stages__masked_typed({s}(f), masks)")
    return f"_stages__Pointwise({st.name!r})", f"_stages__masked_typed({s}(f), masks)"


# -- explain ----------------------------------------------------------------------------------------------
def explain_product_item(group: Any, name: str, value: Any, n: int | None, batch: int,
                         channels: int) -> list[tuple[str, str]]:
    """(title, plan) sections of one definition of a program over a product, every free size at ``n`` (16)."""
    from catnn.spec import LayerSpec, MixedLayerSpec, NetworkSpec

    from .write_product import explain_product
    ns = tuple((n or 16) if fixed is None else fixed for fixed in group.ns)
    if isinstance(value, MixedLayerSpec):
        return [(f"layer {name}", _explain_mixed(group, value, ns, batch, channels))]
    if isinstance(value, NetworkSpec):
        out = []
        for i, st in enumerate(value.stages):
            if st.kind == "layer" and isinstance(st.layer, MixedLayerSpec):
                out.append((f"network {name}, stage {i}: {st.name}[{st.in_space} -> {st.out_space}]",
                            _explain_mixed(group, st.layer, ns, batch, 1)))
            elif st.kind == "layer":
                out += [(f"network {name}, stage {i}: {st.name}[{st.in_channels} -> {st.out_channels}]", text)
                        for _, text in explain_product_item(group, st.name, st.layer, n, batch, st.in_channels)]
        return out
    if getattr(value, "factors", None):
        return [(f"layer {name}", _explain_bilinear(group, value, ns, batch, channels))]
    kind = "layer" if isinstance(value, LayerSpec) else "morphism"
    return [(f"{kind} {name}", explain_product(group, value, n, batch, channels))]


def _explain_bilinear(group: Any, spec: Any, ns: tuple[int, ...], batch: int, channels: int) -> str:
    """A bilinear layer's plan over the product (x ⊗ y never formed where a diagram contracts it)."""
    from catnn.typed import typed_bilinear_plan

    from .layer import layer_structure
    structure = layer_structure(group, spec.k, spec.l, spec.diagrams)
    plan = typed_bilinear_plan(group, *spec.factors, spec.l, spec.outer, structure.plan.diagrams,
                               bool(structure.plan.bias_diagrams), False)
    _, _, rest = plan.explain(ns, batch, channels, channels).partition("\n")
    return f"Plan: {group} {spec.product} -> {spec.l}, {len(structure.plan.diagrams)} diagrams\n{rest}"


def _explain_mixed(group: Any, spec: Any, ns: tuple[int, ...], batch: int, channels: int) -> str:
    """A mixed plan's explanation, its heading in typed orders (``V(1,0) -> V(1,1): 2 diagrams``)."""
    plan = build_mixed_plan(group, spec.in_orders, spec.out_orders)
    _, _, rest = plan.explain(ns, batch, channels, channels).partition("\n")
    ins, outs = spec.in_orders, spec.out_orders
    blocks = ", ".join(f"V({_key(ins[b.input])}) -> V({_key(outs[b.output])}): {len(b.diagrams)} diagrams"
                       for b in plan.blocks)
    return f"Plan: {group} {spec.k} -> {spec.l}, {len(plan.blocks)} blocks ({blocks})\n{rest}"
