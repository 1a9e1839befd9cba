"""Compiled modules for networks: mixed-order and bilinear layer classes, stage helpers, network classes.

Called by the module writer of :mod:`.write` (``catnn compile``); the code it writes imports torch
only (and opt_einsum for ``backend="einsum"``) and runs exactly what :mod:`catnn.networks` runs in
memory: the same emitted plan functions (:mod:`.backends`) and the same stage formulas, so equal weights
give equal outputs, and a network's ``state_dict`` keys are the same in both (``stages.{i}....``).

A network class takes no arguments: ``net = module.NAME()``; ``net(x, mask=None)`` takes a tensor
(one tensor order) or a dict ``{order: tensor}`` and the optional node mask of a padded batch.
The stage formulas are written once, in :mod:`catnn.stages`: :mod:`catnn.networks` calls them and
compiled modules paste their source (:data:`NETWORK_HELPERS`, each name as ``_NAME``).

>>> "def _stages__node_mask(mask, k, like):" in NETWORK_HELPERS
True
"""

from __future__ import annotations

import ast
import importlib.util
import re
from typing import Any

from catnn.features import FeatureSpace

from .pysource import check_name, docstring, tuple_source
from .backends import emit
from .plan import Input, build_mixed_plan
from .check_network import check_stage, stage_kind, stage_output

__all__ = ["explain_layer", "write_layer", "write_mixed_layer", "write_bilinear_layer", "write_network",
           "NETWORK_HELPERS"]


#: the prefix of every helper name a compiled network defines: program names never start with ``_``
#: and never hold ``__``, and the plan helpers of a definition NAME are ``_NAME`` and ``_NAME__…``
PREFIX = "_stages__"


def _pasted_stages() -> str:
    """The functions of :mod:`catnn.stages` (read from its file, not imported: no torch here), each
    name renamed ``_stages__NAME`` where it is defined, called or indexed."""
    path = importlib.util.find_spec("catnn.stages").origin
    text = open(path, encoding="utf-8").read()
    tree = ast.parse(text)
    names = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                 and any(getattr(t, "id", None) == "PASTED" for t in node.targets))
    pieces = []
    for node in tree.body:
        defined = node.name if isinstance(node, ast.FunctionDef) else \
            next((t.id for t in getattr(node, "targets", ()) if isinstance(t, ast.Name)), None)
        if defined in names:
            pieces.append(ast.get_source_segment(text, node))
    source = "\n\n\n".join(pieces) + "\n"
    for name in names:
        source = re.sub(rf"(?m)(^def |^|[^\w.]){name}(?=\s*[(\[=])", rf"\g<1>{PREFIX}{name}", source)
    return source


#: helper functions and stage classes of compiled networks: the formulas of catnn.stages, pasted
NETWORK_HELPERS = _pasted_stages() + '''

def _stages__size(f, mask, n):
    """n: the size of the input's axes, else the mask's, else the one given (None: the layers' own)."""
    sizes = [t.shape[-1] for k, t in f.items() if k]
    return sizes[0] if sizes else (mask.shape[1] if mask is not None else n)


class _stages__Pointwise(torch.nn.Module):
    """A map applied entry by entry."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self, f):
        return _stages__pointwise(self.name, f)


class _stages__Norm(torch.nn.Module):
    """x * f(|x| + b) / |x| per channel of order >= 1 (|x| over the tensor axes); f(x) on order 0."""

    def __init__(self, name, channels):
        super().__init__()
        self.name = name
        self.bias = torch.nn.ParameterDict({str(k): torch.nn.Parameter(torch.zeros(c))
                                            for k, c in channels.items() if k})

    def forward(self, f):
        return _stages__norm_nonlinearity(self.name, f, self.bias, 1e-12)


class _stages__Gate(torch.nn.Module):
    """Order-0 channels s gate the others, x_c * sigmoid((W s + b)_c); s becomes relu(s)."""

    def __init__(self, channels):
        super().__init__()
        self.channels = dict(channels)
        scalars, gated = self.channels[0], sum(c for k, c in self.channels.items() if k)
        self.weight = torch.nn.Parameter(torch.randn(gated, scalars) / scalars ** 0.5)
        self.bias = torch.nn.Parameter(torch.zeros(gated))

    def forward(self, f):
        return _stages__gate(f, self.weight, self.bias, self.channels)


class _stages__Pool(torch.nn.Module):
    """sum or mean of every entry of each order, as order-0 channels (orders ascending)."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    def forward(self, f, mask=None):
        return _stages__pool(self.name, f, mask)
'''


def _add_helpers(writer: Any, sources: tuple[str, ...]) -> None:
    for source in sources:
        if source not in writer.helpers:
            writer.helpers.append(source)


def _function(writer: Any, plan: Any, name: str, doc: str) -> None:
    """Emit a mixed-plan function into the module (its helpers once)."""
    emitted = emit(plan, name, writer.backend, doc)
    _add_helpers(writer, emitted.helpers)
    writer.blocks.append(emitted.source)


def _fixed(writer: Any) -> str:
    return "None" if writer.group.n is None else str(int(writer.group.n))


# -- layer classes ------------------------------------------------------------------------------------
def explain_layer(group: Any, spec: Any) -> str:
    """The shared-work summary (:meth:`.ir.Plan.explain`) of a mixed-order or bilinear layer."""
    from catnn.spec import MixedLayerSpec
    if isinstance(spec, MixedLayerSpec):
        return build_mixed_plan(group, spec.in_orders, spec.out_orders).explain()
    from .layer import layer_structure
    a, b = spec.factors
    diagrams = layer_structure(group, a + b, spec.l, spec.diagrams).plan.diagrams
    return build_mixed_plan(group, (Input(a + b, (a, b), spec.outer),), (spec.l,),
                            diagrams={(0, 0): diagrams}).explain()


def write_layer(writer: Any, name: str, spec: Any) -> None:
    """A mixed-order (:class:`~catnn.spec.MixedLayerSpec`) or bilinear layer's class."""
    from catnn.spec import MixedLayerSpec
    if isinstance(spec, MixedLayerSpec):
        write_mixed_layer(writer, name, spec)
    else:
        write_bilinear_layer(writer, name, spec)


def write_mixed_layer(writer: Any, name: str, spec: Any) -> None:
    """``class NAME(in_channels, out_channels, bias=True)``; channels are dicts {order: channels}."""
    from .layer import layer_structure
    plan = build_mixed_plan(writer.group, spec.in_orders, spec.out_orders)
    helper = f"_{name}"
    _function(writer, plan, helper, f"The plan of layer {name}; see class {name}.")
    keys = [f"{spec.in_orders[b.input]}_{spec.out_orders[b.output]}" for b in plan.blocks]
    fan = {j: sum(1 for b in plan.blocks if b.output == j) for j in range(len(spec.out_orders))}
    scales = {key: tuple(s / fan[b.output] ** 0.5 for s in layer_structure(
        writer.group, spec.in_orders[b.input], spec.out_orders[b.output], b.diagrams, bias=False).init_scale())
        for key, b in zip(keys, plan.blocks)}
    sizes = {key: len(b.diagrams) for key, b in zip(keys, plan.blocks)}
    bias_sizes = {s.order: len(s.bias_diagrams) for s in plan.sections if s.bias_diagrams}
    listing = "\n".join(f"  weight[{key!r}]: " + ", ".join(str(d) for d in b.diagrams)
                        for key, b in zip(keys, plan.blocks))
    doc = "\n\n".join(filter(None, [
        f"layer {name} : {spec.k} -> {spec.l} over {writer.group}: one block of weights per pair of orders.",
        writer.where(name),
        "in_channels, out_channels: dicts {order: channels}. Input and output: dicts {order: tensor "
        "(B, channels, n, ..., n)}. weight['k_l'] (diagrams, out, in) is the block from order k to "
        "order l; bias['l'] the 0 -> l diagrams of output l.\n" + listing]))
    lines = [
        f"class {name}(torch.nn.Module):",
        "    " + docstring(doc, "    "),
        "",
        f"    in_orders, out_orders, n = {tuple(spec.in_orders)!r}, {tuple(spec.out_orders)!r}, {_fixed(writer)}",
        f"    blocks = {tuple_source(keys)}",
        f"    block_sizes = {sizes!r}",
        f"    bias_sizes = {bias_sizes!r}",
        "    #: weight[key][i] ~ N(0, init_scale[key][i]**2 / in_channels)",
        f"    init_scale = {_scales_source(scales)}",
        "",
        "    def __init__(self, in_channels, out_channels, bias=True):",
        "        super().__init__()",
        "        self.in_channels, self.out_channels = dict(in_channels), dict(out_channels)",
        "        self.weight = torch.nn.ParameterDict({key: torch.nn.Parameter(torch.empty(",
        "            self.block_sizes[key], self.out_channels[int(key.split('_')[1])],",
        "            self.in_channels[int(key.split('_')[0])])) for key in self.blocks})",
        "        self.bias = torch.nn.ParameterDict({str(l): torch.nn.Parameter(torch.zeros(size, self.out_channels[l]))",
        "                                            for l, size in self.bias_sizes.items()} if bias else {})",
        "        self.reset_parameters()",
        "",
        "    def reset_parameters(self):",
        "        with torch.no_grad():",
        "            for key in self.blocks:",
        "                cin = self.in_channels[int(key.split('_')[0])]",
        "                for i, scale in enumerate(self.init_scale[key]):",
        "                    self.weight[key][i].normal_(0.0, scale / cin ** 0.5)",
        "            for p in self.bias.values():",
        "                p.zero_()",
        "",
        "    def forward(self, x, n=None, sizes=None):",
        "        xs = tuple(x[k] for k in self.in_orders)",
        "        for t in xs:",
        "    " + writer.check_input(f"layer {name}", "t", "next(iter(self.weight.values()))"),
        "        weights = tuple(self.weight[key] for key in self.blocks)",
        "        biases = tuple((self.bias[str(l)] if str(l) in self.bias else xs[0].new_zeros(",
        "            self.bias_sizes[l], self.out_channels[l])) if l in self.bias_sizes else None",
        "            for l in self.out_orders)",
        "        channels = tuple(self.out_channels[l] for l in self.out_orders)",
        f"        ys = {helper}__plan(xs, weights, biases, channels, n=self.n if n is None else n, sizes=sizes)",
        "        return dict(zip(self.out_orders, ys))",
    ]
    writer.blocks.append("\n".join(lines) + "\n")


def _scales_source(scales: dict[str, tuple[float, ...]]) -> str:
    items = ", ".join(f"{key!r}: ({', '.join(repr(float(s)) for s in vals)}{',' if len(vals) == 1 else ''})"
                      for key, vals in scales.items())
    return "{" + items + "}"


def write_bilinear_layer(writer: Any, name: str, spec: Any) -> None:
    """``class NAME(in_channels, out_channels, bias=True)``: ``forward(x, y=None, n=None)``, y defaults to x."""
    from .layer import layer_structure
    a, b = spec.factors
    structure = layer_structure(writer.group, a + b, spec.l, spec.diagrams)
    plan = build_mixed_plan(writer.group, (Input(a + b, (a, b), spec.outer),), (spec.l,),
                            diagrams={(0, 0): structure.plan.diagrams}, bias=bool(structure.plan.bias_diagrams))
    helper = f"_{name}"
    _function(writer, plan, helper, f"The plan of bilinear layer {name}; see class {name}.")
    entries = [str(e) for e in structure.entries]
    products = "in_channels^2 (pairs c * in_channels + d)" if spec.outer else "in_channels"
    nbias = len(plan.sections[0].bias_diagrams)
    doc = "\n\n".join(filter(None, [
        f"layer {name} : {spec.product} -> {spec.l} over {writer.group}: x (x) y, "
        f"{'every channel c of x times every channel d of y' if spec.outer else 'channel c times channel c'}, "
        f"then {len(entries)} learned weights.", writer.where(name),
        f"x: (B, in_channels{', n' * a}), y: (B, in_channels{', n' * b}), output (B, out_channels"
        f"{', n' * spec.l}). weight[i] (out_channels x {products}) multiplies entry i:\n"
        + "\n".join(f"  weight[{i}]: {e}" for i, e in enumerate(entries))]))
    init = tuple_source([repr(float(s)) for s in structure.init_scale()]).replace("'", "")
    lines = [
        f"class {name}(torch.nn.Module):",
        "    " + docstring(doc, "    "),
        "",
        f"    a, b, l, n = {a}, {b}, {spec.l}, {_fixed(writer)}",
        f"    diagrams = {tuple_source(entries)}",
        f"    init_scale = {init}",
        "",
        "    def __init__(self, in_channels, out_channels, bias=True):",
        "        super().__init__()",
        "        self.in_channels, self.out_channels = in_channels, out_channels",
        *(["        products = in_channels * in_channels if isinstance(in_channels, int) else "
           "in_channels[0] * in_channels[1]"] if spec.outer else ["        products = in_channels"]),
        f"        self.weight = torch.nn.Parameter(torch.empty({len(entries)}, out_channels, products))",
        (f"        self.bias = torch.nn.Parameter(torch.zeros({nbias}, out_channels)) if bias else None"
         if nbias else "        self.bias = None"),
        "        with torch.no_grad():",
        "            for i, scale in enumerate(self.init_scale):",
        "                self.weight[i].normal_(0.0, scale / products ** 0.5)",
        "",
        "    def forward(self, x, y=None, n=None):",
        "        y = x if y is None else y",
        writer.check_input(f"layer {name}", "x", "self.weight"),
        writer.check_input(f"layer {name}", "y", "self.weight"),
        "        n = self.n if n is None else n  # used only when neither factor has axes",
        "        weight = self.weight",
    ]
    if structure.mixing is not None:
        if a or b:   # the mixing is evaluated at the inputs' n
            lines += [f"        n = {'x' if a else 'y'}.shape[-1]"]
        lines += writer.mixing_lines(f"layer {name}", structure.mixing)
    bias = "(None,)"
    if nbias:
        lines += [f"        bias = (self.bias if self.bias is not None else self.weight.new_zeros({nbias}, "
                  "self.out_channels),)"]
        bias = "bias"
    lines += [f"        return {helper}__plan(((x, y),), (weight,), {bias}, (self.out_channels,), n=n)[0]"]
    writer.blocks.append("\n".join(lines) + "\n")


# -- network classes ----------------------------------------------------------------------------------
def write_network(writer: Any, name: str, spec: Any) -> None:
    """``class NAME()``: the network's stages in ``self.stages``, ``forward(x, mask=None)``."""
    _add_helpers(writer, (NETWORK_HELPERS,))
    stages = _flows(writer, spec)
    text = " >> ".join(_stage_text(st) for st, _, _ in stages)
    doc = "\n\n".join(filter(None, [
        f"network {name} : {spec.k} -> {spec.l} over {writer.group}: {text}", writer.where(name),
        "forward(x, mask=None, n=None): x a tensor (B, C, n, ..., n) for one tensor order, else a dict "
        "{order: tensor}; mask an optional (B, n) node mask of a padded batch; n the size when no input "
        "has axes and there is no mask."]))
    first, last = stages[0][1], stages[-1][2]
    init = [f"class {name}(torch.nn.Module):", "    " + docstring(doc, "    "), "", "    def __init__(self):",
            "        super().__init__()", "        self.stages = torch.nn.ModuleList(["]
    body = ["    def forward(self, x, mask=None, n=None):",
            f"        f = _stages__masked({'{' + str(first.orders[0]) + ': x}' if first.is_single else 'dict(x)'}, mask)",
            "        n = _stages__size(f, mask, n)"]
    for i, (st, before, after) in enumerate(stages):
        module, call = _stage_code(writer, st, before, after, i)
        init.append(f"            {module},")
        body.append(f"        f = {call}")
    init.append("        ])")
    body.append(f"        return f[{last.orders[0]}]" if last.is_single else "        return f")
    writer.blocks.append("\n".join(init + [""] + body) + "\n")


def _flows(writer: Any, spec: Any) -> list[tuple[Any, FeatureSpace, FeatureSpace]]:
    """(stage, features before, features after) for each stage, checked against the group."""
    defs = writer.program.definitions
    layers = [st for st in spec.stages if st.kind == "layer"]
    flow = layers[0].in_space or _layer_spaces(layers[0], defs)[0] if layers else None
    out = []
    for st in spec.stages:
        if st.kind == "layer":
            before, after = (st.in_space, st.out_space) if st.in_space is not None else _layer_spaces(st, defs)
        else:
            check_stage(writer.group, st.name, flow.orders)
            before, after = flow, stage_output(st.name, flow)
        out.append((st, before, after))
        flow = after
    return out


def _layer_spaces(st: Any, defs: dict[str, Any]) -> tuple[FeatureSpace, FeatureSpace]:
    layer = st.layer or defs[st.name]
    return FeatureSpace({layer.k: st.in_channels}), FeatureSpace({layer.l: st.out_channels})


def _stage_text(st: Any) -> str:
    if st.kind != "layer":
        return st.name
    if st.in_channels is not None:
        return f"{st.name}[{st.in_channels} -> {st.out_channels}]"
    return f"{st.name}[{st.in_space} -> {st.out_space}]"


def _stage_code(writer: Any, st: Any, before: FeatureSpace, after: FeatureSpace, i: int) -> tuple[str, str]:
    """(the module's constructor call, the forward line) of stage i."""
    from catnn.spec import BilinearLayerSpec, MixedLayerSpec
    s = f"self.stages[{i}]"
    if st.kind == "layer":
        layer = check_name(st.name, "layer name")
        spec = st.layer or writer.program.definitions[st.name]
        if isinstance(spec, MixedLayerSpec):
            return (f"{layer}({dict(before.items())!r}, {dict(after.items())!r})",
                    f"_stages__masked({s}(f, n=n), mask)")
        if isinstance(spec, BilinearLayerSpec):
            a, b = spec.factors
            return (f"{layer}({int(st.in_channels)}, {int(st.out_channels)})",
                    f"_stages__masked({{{spec.l}: {s}(f[{a}], f[{b}], n=n)}}, mask)")
        call = f"{s}(f[{spec.k}])" if spec.k else f"{s}(f[0], n=n)"
        return f"{layer}({int(st.in_channels)}, {int(st.out_channels)})", f"_stages__masked({{{spec.l}: {call}}}, mask)"
    kind = stage_kind(st.name)
    if kind == "pool":
        return f"_stages__Pool({st.name!r})", f"{{0: {s}(f, mask)}}"
    if kind == "gate":
        return f"_stages__Gate({dict(before.items())!r})", f"_stages__masked({s}(f), mask)"
    if kind == "norm":
        return f"_stages__Norm({st.name[len('norm_'):]!r}, {dict(before.items())!r})", f"_stages__masked({s}(f), mask)"
    return f"_stages__Pointwise({st.name!r})", f"_stages__masked({s}(f), mask)"
