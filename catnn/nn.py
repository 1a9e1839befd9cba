"""Torch layers built on diagram plans: ``EquivariantLinear``.

>>> import torch
>>> from catnn.nn import EquivariantLinear
>>> layer = EquivariantLinear("S", k=2, l=2, in_channels=4, out_channels=8)   # n=None: any n
>>> layer(torch.randn(3, 4, 10, 10)).shape, layer(torch.randn(3, 4, 7, 7)).shape
(torch.Size([3, 8, 10, 10]), torch.Size([3, 8, 7, 7]))
>>> layer.weight.shape, layer.bias.shape        # one coefficient per (diagram, c_out, c_in)
(torch.Size([15, 8, 4]), torch.Size([2, 8]))

The layer is ``y = Σ_π Λ_π ⊗ D_π x + Σ_β b_β ⊗ E_β``: π runs over the group's spanning set of
(k, l)-diagrams (or the ``diagrams`` given), Λ_π = ``weight[π]`` ∈ R^{C_out×C_in}, and the bias runs
over the group's 0 → l diagrams E_β with one weight per output channel. Input
``(B, C_in, n, …, n)`` (k trailing axes), output ``(B, C_out, n, …, n)`` (l trailing axes). It runs a
:class:`~catnn.compiler.plan.Plan` through the torch (or opt_einsum) emitter: no dense weight and no
n^(k+l) tensor ever exists, and ``layer.source`` shows the code.

Initialisation (``reset_parameters``). Take inputs with i.i.d. zero-mean entries of variance σ².
At an output position whose indices are all distinct (almost every position when n is large), only
the diagrams T whose top row has one vertex per block contribute, and (D_π x)[I] is a sum of
n^{b_π} distinct input entries, b_π = number of bottom-only blocks (divided by n^{b_π} with
``normalize=True``), so it has variance v_π σ² with v_π = n^{b_π} (n^{-b_π} normalised). With
independent zero-mean Λ_π entries of variance s_π², Var(y) = σ² · C_in · Σ_{π∈T} s_π² v_π. The rule

    s_π² = 1 / (C_in · |T| · v_π)          (bias: zero)

makes Var(y) = Var(x) exactly in expectation, each diagram contributing equally. v_π needs n:
the layer's n, else ``init_n`` (default 16). A learnable morphism Σ_d c_d d counts as
v = Σ_d c_d² v_d. Positions on output diagonals also receive the other diagrams, so their variance
is larger (bounded by |all diagrams| / |T| times).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import messages
from .compiler.backends import BACKENDS, emit, emitter
from .errors import CatnnError, GroupError, ShapeError
from .groups import Group
from .groups import group as _group
from .groups.product import ProductGroup
from .masks import masked_linear

__all__ = ["EquivariantLinear", "MorphismFunction", "ProductMorphismFunction", "LayerConfig", "ShapeError",
           "InputError", "BACKENDS", "check_input", "exact_values"]


class InputError(CatnnError, TypeError):
    """An input that is not a torch.Tensor of the layer's dtype on the layer's device."""


@dataclass(frozen=True)
class LayerConfig:
    """Everything that defines a layer's structure; what pickling stores (besides the weights)."""

    group: Group
    k: int
    l: int
    in_channels: int
    out_channels: int
    entries: tuple[Any, ...]        # learnable entries: diagrams or morphisms, weight[i] <-> entries[i]
    bias: bool
    normalize: bool
    backend: str
    init_n: int

    @property
    def n(self) -> int | None:
        return self.group.n


class _PlanModule(nn.Module):
    """A module whose plan and emitted code (the ``_transient`` attributes) are left out of its
    pickle and rebuilt by ``_build()`` on load; shared by EquivariantLinear, MixedLinear and Bilinear."""

    _transient: tuple[str, ...] = ("_function",)

    def _build(self) -> None:
        raise NotImplementedError

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in self._transient:
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._build()

    def __prepare_scriptable__(self) -> nn.Module:
        """torch.jit.script calls this first: a CatnnError naming the tools that do work."""
        raise CatnnError(messages.NO_SCRIPT.format(what=type(self).__name__))


class EquivariantLinear(_PlanModule):
    """A G-equivariant linear layer (R^n)^{⊗k} → (R^n)^{⊗l} with channels; see the module docstring.

    Args:
        group: a group name (``"S"``, ``"O"``, ``"O(3)"``, ...) or a :class:`~catnn.groups.Group`.
        k, l: input and output tensor orders.
        in_channels, out_channels: channel widths.
        n: fix the size n (checked on every input); None accepts any n at run time. None works
            where the spanning set does not depend on n: S, O, H, B, and Sp (any even n); SO and A
            need n (their ε-diagrams and jellyfish exist only for some n).
        bias: learn the group's 0 → l diagrams per output channel.
        normalize: divide each summed-out block by n (means instead of sums).
        backend: ``"torch"`` (native ops) or ``"einsum"`` (opt_einsum expressions).
        diagrams: the learnable diagrams (or morphisms); default the group's spanning set.
        init_n: the n the initialisation assumes when ``n`` is None.
        graph: for ``"Aut"``, the graph G (adjacency matrix or networkx graph); n is its size.
            ``EquivariantLinear("Aut", 1, 1, 4, 8, graph=A)`` equals passing ``catnn.group("Aut", graph=A)``.
    """

    config: LayerConfig
    #: pickled: the config and the parameters; the plan and code are rebuilt on load
    _transient = ("plan", "structure", "_function", "_mixing_cache")

    @classmethod
    def from_spec(cls, spec: Any, in_channels: int, out_channels: int, **options: Any) -> EquivariantLinear:
        """The layer a program's ``layer`` declaration (:class:`~catnn.spec.LayerSpec`) describes."""
        layer = cls(_group(spec.group, n=spec.n), spec.k, spec.l, in_channels, out_channels,
                    diagrams=spec.diagrams, **options)
        layer.definition = spec.name
        return layer

    def __init__(self, group: str | Group, k: int, l: int, in_channels: int, out_channels: int, *,
                 n: int | None = None, bias: bool = True, normalize: bool = False, backend: str = "torch",
                 diagrams: Any = None, init_n: int = 16, graph: Any = None) -> None:
        super().__init__()
        G = _resolve_group(group, n) if graph is None else _group(group, n=n, graph=graph)
        for what, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CatnnError(messages.BAD_CHANNELS.format(what=what, value=value))
        emitter(backend)  # unknown backends are a CompileError naming the known ones
        from .compiler.layer import gc_paused, layer_structure
        with gc_paused():  # a big layer's set-up makes millions of small objects, none of them garbage
            entries = layer_structure(G, k, l, diagrams, bias=bias, normalize=normalize).entries
            self.config = LayerConfig(G, k, l, in_channels, out_channels, entries, bool(bias), bool(normalize),
                                      backend, int(init_n))
            self._build()
            self.weight = nn.Parameter(torch.empty(len(entries), out_channels, in_channels))
            nbias = len(self.plan.bias_diagrams)
            self.bias = nn.Parameter(torch.zeros(nbias, out_channels)) if nbias else None
            self.reset_parameters()

    # -- structure ----------------------------------------------------------------------------
    def _build(self) -> None:
        """Plan and emitted function from ``self.config`` (also after unpickling)."""
        from .compiler.layer import gc_paused, layer_structure
        c = self.config
        with gc_paused():
            self.structure = layer_structure(c.group, c.k, c.l, c.entries, bias=c.bias, normalize=c.normalize,
                                             lifted=True)
            self.plan = self.structure.plan
            self._function = emit(self.plan, "layer", c.backend)
        self._mixing_cache: dict[tuple, torch.Tensor] = {}

    @property
    def group(self) -> Group:
        return self.config.group

    @property
    def k(self) -> int:
        return self.config.k

    @property
    def l(self) -> int:
        return self.config.l

    @property
    def n(self) -> int | None:
        return self.config.n

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def out_channels(self) -> int:
        return self.config.out_channels

    @property
    def diagrams(self) -> tuple[Any, ...]:
        """The learnable entries: ``weight[i]`` multiplies ``diagrams[i]``."""
        return self.config.entries

    @property
    def bias_diagrams(self) -> tuple[Any, ...]:
        """The 0 → l diagrams: ``bias[j]`` multiplies ``bias_diagrams[j]``."""
        return self.plan.bias_diagrams

    @property
    def source(self) -> str:
        """The emitted Python source this layer runs."""
        return self._function.source

    def explain(self, n: int | None = None, batch: int = 1) -> str:
        """The plan's steps and costs at this layer's channel widths."""
        return self.plan.explain(n=n if n is not None else self.n, batch=batch,
                                 in_channels=self.in_channels, out_channels=self.out_channels)

    # -- parameters ---------------------------------------------------------------------------
    def reset_parameters(self) -> None:
        """Weights N(0, s_π²) with s_π² = 1 / (C_in · |T| · v_π) (module docstring); bias zero."""
        scales = self.structure.init_scale(self.config.init_n)
        with torch.no_grad():
            for row, scale in zip(self.weight.unbind(0), scales):
                row.normal_(0.0, scale / math.sqrt(self.in_channels))
            if self.bias is not None:
                self.bias.zero_()

    def effective_weight(self, n: int) -> torch.Tensor:
        """The per-diagram weights (learnable morphisms expanded at size n)."""
        return diagram_weights(self.weight, self.structure.mixing, n, self._mixing_cache, self.label)

    # -- running ------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` (B, C_in, n, ..., n) -> (B, C_out, n, ..., n); ``mask`` (B, n): a padded batch of
        graphs of different sizes, each computed as if alone (:func:`catnn.masks.masked_linear`)."""
        if mask is not None and isinstance(self.group, ProductGroup):   # {sort: (B, N_s)} masks
            from .typed import typed_single
            return typed_single(self, x, mask, check_input)
        if mask is not None:
            return masked_linear(self, x, mask)
        n = self._check(x)
        weight = self.effective_weight(n)
        return self._function.plan_function((x,), (weight,), (self.bias,), (self.out_channels,), n)[0]

    @property
    def label(self) -> str:
        """How errors name this layer: its program definition (``from_spec``), else its kind and orders."""
        definition = getattr(self, "definition", None)
        return f"layer {definition}" if definition else f"EquivariantLinear({self.group} {self.k} -> {self.l})"

    def _check(self, x: torch.Tensor) -> int | tuple[int, ...]:
        name = self.label
        check_input(x, self.weight, name)
        if isinstance(self.group, ProductGroup):
            return self._check_typed(x)
        k, shape = self.k, tuple(x.shape)
        if x.dim() != k + 2:
            raise ShapeError(messages.BAD_INPUT_RANK.format(layer=name, channels=self.in_channels,
                                                            axes=", n" * k, k=k, shape=shape))
        if shape[1] != self.in_channels:
            raise ShapeError(messages.BAD_INPUT_CHANNELS.format(layer=name, channels=self.in_channels,
                                                                got=shape[1], shape=shape))
        if k == 0:
            if self.n is None:
                raise ShapeError(messages.NEEDS_N.format(what=f"{name} (no input axes to read n from)",
                                                         group=self.group.name))
            return self.n
        n = shape[-1]
        if any(s != n for s in shape[2:]):
            raise ShapeError(messages.BAD_INPUT_SIZES.format(layer=name, shape=shape))
        if self.n is not None and n != self.n:
            raise ShapeError(messages.BAD_INPUT_N.format(layer=name, n=self.n, got=n))
        if not self.group.valid_size(n):          # n left free: e.g. Sp needs an even n
            raise ShapeError(f"{name}: " + messages.BAD_SIZE.format(group=self.group.name,
                                                                    condition=self.group.size_condition(), n=n))
        if self.n is None and self.plan.constants:  # e.g. ε-diagrams of a fixed order, n left free
            from .compiler.kernels_classical import size_misfit
            misfit = size_misfit(self.plan.constants, n)
            if misfit:
                raise ShapeError(f"{name}: {misfit}")
        return n

    def _check_typed(self, x: torch.Tensor) -> tuple[int, ...]:
        """The size of every sort, from the typed input ``(B, C, n_0 × k_0 axes, n_1 × k_1 axes, …)``."""
        shape, sorts = tuple(x.shape), self.plan.inputs[0].axis_sorts
        name = "EquivariantLinear({} {} -> {})"     # formatted on an error only: a forward pays no str(group)

        def bad() -> ShapeError:
            axes = ", ".join(f"n_{s}" for s in sorts)
            return ShapeError(messages.BAD_TYPED_INPUT.format(layer=name.format(self.group, self.k, self.l),
                                                              channels=self.in_channels, axes=axes, shape=shape))

        if x.dim() != len(sorts) + 2 or shape[1] != self.in_channels:
            raise bad()
        sizes = []
        for s, fixed in enumerate(self.group.ns):
            seen = [shape[2 + a] for a, t in enumerate(sorts) if t == s]   # a list: traced sizes hash by identity
            if any(size != seen[0] for size in seen) or (fixed is not None and seen and seen[0] != fixed):
                raise bad()
            size = seen[0] if seen else fixed
            if size is None:
                example = tuple(None if t != s else 5 for t in range(len(self.group.ns)))
                raise ShapeError(messages.NEEDS_SORT_SIZE.format(layer=name.format(self.group, self.k, self.l), sort=s,
                                                                 example=example))
            sizes.append(size)
        return tuple(sizes)

    def extra_repr(self) -> str:
        c = self.config
        return (f"{c.group} {c.k} -> {c.l}, in_channels={c.in_channels}, out_channels={c.out_channels}, "
                f"diagrams={len(c.entries)}, bias={len(self.plan.bias_diagrams) if c.bias else False}, "
                f"normalize={c.normalize}, backend={c.backend!r}")


# -- helpers ----------------------------------------------------------------------------------------
def diagram_weights(weight: torch.Tensor, mixing: Any, n: int,
                    cache: dict[tuple, torch.Tensor] | None = None, what: str = "layer") -> torch.Tensor:
    """Per-diagram weights (d, out, in) from per-entry ``weight`` (j, out, in) and the exact mixing
    matrix (diagrams x entries, None: the identity) evaluated exactly at n and rounded once (a value
    beyond the dtype is a :class:`~catnn.errors.RangeError` naming ``what``); ``cache`` keeps it per
    n, dtype and device.

    >>> from catnn.coeff import Poly
    >>> diagram_weights(torch.ones(1, 1, 1), [[Poly.n()], [Poly.const(2)]], 5).flatten().tolist()
    [5.0, 2.0]
    """
    if mixing is None:
        return weight
    # exact coefficients need a concrete n: under torch.compile int() guards on it (one graph per n),
    # torch.export needs a static n for such layers (docs/pytorch.md)
    n = tuple(int(s) for s in n) if isinstance(n, tuple) else int(n)
    key = (n, weight.dtype, weight.device)
    matrix = None if cache is None else cache.get(key)
    if matrix is None:
        values = exact_values([c for row in mixing for c in row], n, weight.dtype, what)
        matrix = torch.tensor(values, dtype=weight.dtype, device=weight.device).reshape(len(mixing), -1)
        if cache is not None:
            cache[key] = matrix
    return torch.einsum("dj,joi->doi", matrix, weight)


def exact_values(polys: Any, n: int, dtype: torch.dtype, what: str) -> list[float]:
    """Exact polynomials in n evaluated at ``n`` and rounded once to floats that fit ``dtype``, as the
    generated modules do it (:func:`catnn.compiler.pysource.coefficient_values`).

    >>> from catnn.coeff import Poly
    >>> exact_values([(Poly.n() - 1000) ** 5 / 7], 1001, torch.float32, "m")
    [0.14285714285714285]
    """
    if isinstance(n, tuple):      # a product of groups: polynomials in n_0, n_1, ... at one size per sort
        from .compiler.write_product import typed_values
        return typed_values(polys, n, torch.finfo(dtype).max, what)
    from .compiler.pysource import coefficient_values
    return coefficient_values(polys, n, torch.finfo(dtype).max, what)


def check_input(x: Any, like: torch.Tensor, what: str) -> None:
    """An :class:`InputError` naming the layer ``what`` unless ``x`` is a tensor of ``like``'s dtype and
    device (a float64 input into a float32 layer is an error, as in ``torch.nn.Linear``), as the
    generated modules check it (:data:`catnn.compiler.pysource.INPUT_HELPER`).

    >>> check_input(torch.zeros(2, dtype=torch.float64), torch.zeros(1), "layer edge")
    Traceback (most recent call last):
    ...
    catnn.nn.InputError: layer edge expects a torch.Tensor of dtype torch.float32 on cpu (its parameters'), \
got dtype torch.float64 on cpu: convert the input (x.to(...), torch.as_tensor(...)) or the layer (layer.to(...))
    """
    try:
        _CHECK_INPUT(what, x, like)
    except TypeError as err:
        raise InputError(str(err)) from None


def _input_checker() -> Any:
    from .compiler.pysource import INPUT_HELPER
    namespace: dict[str, Any] = {"torch": torch}
    exec(INPUT_HELPER, namespace)  # noqa: S102 - our own helper
    return namespace["_rt__check_input"]


_CHECK_INPUT = _input_checker()


def _resolve_group(group: str | Group | ProductGroup, n: Any) -> Group | ProductGroup:
    if isinstance(group, ProductGroup):
        return group if n is None else group.at(n)
    if isinstance(group, Group):
        if n is not None and group.n is not None and group.n != n:
            raise GroupError(messages.BAD_SIZE.format(group=group.name, condition=f"n={group.n}", n=n))
        return group if n is None or group.n == n else type(group)(n)
    return _group(group, n=n)


class MorphismFunction:
    """A fixed morphism applied to the last k axes of a tensor (leading axes are batch axes).

    The in-memory twin of a compiled module's morphism function: ``f(x)`` for k > 0, ``f(x, n=...)``
    when k = 0 (x then holds one scalar per batch entry). Coefficients (exact polynomials in n) are
    evaluated at the input's n.

    >>> import torch, catnn
    >>> from catnn.diagram import identity, swap
    >>> sym = MorphismFunction(catnn.group("S"), (identity(2) + swap()) / 2)
    >>> x = torch.arange(4.0).reshape(2, 2)
    >>> sym(x)
    tensor([[0.0000, 1.5000],
            [1.5000, 3.0000]])
    """

    def __init__(self, group: str | Group, morphism: Any, backend: str = "torch", name: str | None = None) -> None:
        from .compiler.plan import build_plan
        from .morphism import as_morphism
        self.group = _resolve_group(group, None)
        self.morphism = as_morphism(morphism, self.group.loop)
        m = self.morphism
        #: how errors name this function: the program's definition, else the morphism's arity
        self.name = f"morphism {name}" if name else f"MorphismFunction({self.group} {m.k} -> {m.l})"
        self.k, self.l = m.k, m.l
        self.plan = build_plan(self.group, m.k, m.l, m.diagrams)
        self._function = emit(self.plan, "morphism", backend)

    def __call__(self, x: torch.Tensor, n: int | None = None) -> torch.Tensor:
        k, l = self.k, self.l
        n = x.shape[-1] if k else (n if n is not None else self.group.require_n("a 0 -> l morphism"))
        lead = tuple(x.shape[:x.dim() - k])
        values = exact_values([c for _, c in self.morphism.terms], n, x.dtype, self.name)
        weight = x.new_tensor(values).reshape(-1, 1, 1)
        flat = x.reshape((-1, 1) + (n,) * k)
        y = self._function.function(flat, weight) if k else self._function.function(flat, weight, n=n)
        return y.reshape(lead + (n,) * l)

    def __repr__(self) -> str:
        return f"MorphismFunction({self.group}, {self.morphism})"


class ProductMorphismFunction:
    """A fixed morphism of a product of groups on the trailing typed axes of a tensor (sort 0's first).

    The in-memory twin of a compiled module's product morphism function: each sort's size comes from
    its axes, else from ``n=(n_0, n_1, …)``, else from the group; coefficients (exact polynomials in
    n_0, n_1, …) are evaluated at the sizes by the same helpers (:mod:`catnn.compiler.write_product`).

    >>> import torch, catnn
    >>> prog = catnn.compile("group S x S\\nmorphism total = ({1'} | {1'})")
    >>> prog.nn.total(torch.ones(3, 4, 5)).tolist()          # the sum over both sorts
    [20.0, 20.0, 20.0]
    """

    def __init__(self, group: ProductGroup, morphism: Any, backend: str = "torch", name: str | None = None) -> None:
        from .compiler.plan import build_plan
        self.group = group
        self.morphism = group.lift(morphism)
        m = self.morphism
        self.k, self.l = m.k, m.l
        self.name = f"morphism {name}" if name else f"ProductMorphismFunction({group} {m.k} -> {m.l})"
        self.plan = build_plan(group, m.k, m.l, m.diagrams)
        self._function = emit(self.plan, "morphism", backend)

    def __call__(self, x: torch.Tensor, n: Any = None) -> torch.Tensor:
        from .compiler.write_product import typed_sizes, typed_values
        sizes = typed_sizes(self.name, x, self.k, 0, n, self.group.ns)
        values = typed_values([c for _, c in self.morphism.terms], sizes, torch.finfo(x.dtype).max, self.name)
        axes = sum(self.k)
        lead = tuple(x.shape[:x.dim() - axes])
        weight = x.new_tensor(values).reshape(-1, 1, 1)
        flat = x.reshape((-1, 1) + tuple(x.shape[x.dim() - axes:]))
        y = self._function.plan_function((flat,), (weight,), (None,), (1,), sizes)[0]
        return y.reshape(lead + tuple(sizes[s] for s, k in enumerate(self.l) for _ in range(k)))

    def __repr__(self) -> str:
        return f"ProductMorphismFunction({self.group}, {self.morphism})"
