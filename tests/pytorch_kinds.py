"""Every kind of catnn torch object, each with inputs at any n: the rows of the PyTorch-tools matrix.

Used by test_pytorch_citizen.py (torch.compile, vmap, grad, jit.trace, export, ONNX against eager) and
test_gpu.py (CUDA and meta against CPU). A kind is a :class:`Kind`: ``build()`` makes the module
(float32, seeded), ``inputs(n, batch)`` a tuple of positional tensors for ``Positional(module)``,
which every tool sees: tensors in, a tensor or a tuple of tensors out (dict features are packed and
unpacked by order). ``dynamic_n``: whether the kind accepts any n (fixed-n groups do not).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import catnn
from catnn.networks import Bilinear, Gate, MixedLinear, Network, Pool
from catnn.nn import EquivariantLinear

ROOT = Path(__file__).resolve().parent.parent


class Positional(nn.Module):
    """``module`` with positional tensor inputs and outputs: ``orders`` (the input's orders, None: one
    tensor) packs the inputs into a dict {order: tensor}; dict outputs come back as a tuple by order;
    ``mask=True``: the last input is the node mask."""

    def __init__(self, module: nn.Module, orders: tuple[int, ...] | None = None, mask: bool = False) -> None:
        super().__init__()
        self.module, self.orders, self.mask = module, orders, mask

    def forward(self, *args: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        options = {"mask": args[-1]} if self.mask else {}
        args = args[:-1] if self.mask else args
        x = dict(zip(self.orders, args)) if self.orders is not None else args[0]
        y = self.module(x, **options) if len(args) == 1 or self.orders is not None else self.module(*args, **options)
        return tuple(y[k] for k in sorted(y)) if isinstance(y, dict) else y


@dataclass(frozen=True)
class Kind:
    """One kind of object: how to build it and its inputs at size n."""

    name: str
    build: Callable[[], nn.Module]
    inputs: Callable[[int, int], tuple[torch.Tensor, ...]]
    dynamic_n: bool = True
    n: int = 5          # the size examples use
    other_n: int = 7    # a second size (dynamic kinds)
    #: per input, its axes of size n; None: every axis after batch and channel (a bool mask: axis 1)
    n_axes: tuple[tuple[int, ...], ...] | None = None
    #: the tools whose program holds the first call's n (docs/pytorch.md): "trace" (a constant built from
    #: n, Sp's J, is a constant of the trace), "export" (static n only), "compile" (one graph per n)
    fixed_by: frozenset[str] = frozenset()

    def axes(self, inputs: tuple[torch.Tensor, ...]) -> tuple[tuple[int, ...], ...]:
        """Per input, its axes of size n."""
        if self.n_axes is not None:
            return self.n_axes
        return tuple((1,) if t.dtype == torch.bool else tuple(range(2, t.dim())) for t in inputs)

    def dynamic_shapes(self, inputs: tuple[torch.Tensor, ...], dim: object) -> tuple[dict[int, object], ...] | None:
        """``torch.export``'s dynamic_shapes for ``Positional(module)(*inputs)``: n is ``dim`` (None: a fixed n)."""
        if not self.dynamic_n:
            return None
        return (tuple({axis: dim for axis in axes} for axes in self.axes(inputs)),)


def _seeded(make: Callable[[], nn.Module], **positional: object) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        torch.manual_seed(0)
        return Positional(make(), **positional)
    return build


def _randn(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


def compiled_module(path: Path = ROOT / "examples" / "network.diag") -> object:
    """The standalone module ``catnn compile`` writes for ``path``, imported (written once per process)."""
    name = f"catnn_citizen_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    out = Path(__import__("tempfile").mkdtemp()) / f"{name}.py"
    subprocess.run([sys.executable, "-m", "catnn", "compile", str(path), "-o", str(out)], check=True,
                   capture_output=True)
    spec = importlib.util.spec_from_file_location(name, out)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _network() -> nn.Module:
    return catnn.load(ROOT / "examples" / "network.diag").nn.gnn()


def _cycle(n: int) -> torch.Tensor:
    """The adjacency matrix of the cycle C_n."""
    return torch.roll(torch.eye(n), 1, 0) + torch.roll(torch.eye(n), -1, 0)


def _product_network() -> nn.Module:
    """Per-point scalars and vectors under S x O(3): mixed layers, a gate, a mean over the points."""
    G = catnn.group("S x O(3)")
    hidden = "2*V(1,0) + 2*V(1,1)"
    return Network(G, [MixedLinear(G, "V(1,0) + V(1,1)", hidden), Gate(G, hidden), MixedLinear(G, hidden, hidden),
                       Pool("mean", sort=0), MixedLinear(G, "2*V(0,0) + 2*V(0,1)", "V(0,0) + V(0,1)")])


def _masked_input(n: int, batch: int) -> tuple[torch.Tensor, ...]:
    mask = torch.ones(batch, n, dtype=torch.bool)
    mask[0, n - 2:] = False
    return torch.randn(batch, 2, n, n), mask


KINDS = [
    Kind("S 2->2", _seeded(lambda: EquivariantLinear("S", 2, 2, 2, 3)), lambda n, b: (_randn(b, 2, n, n),)),
    Kind("O 2->2", _seeded(lambda: EquivariantLinear("O", 2, 2, 2, 3)), lambda n, b: (_randn(b, 2, n, n),)),
    Kind("SO(3) 2->1 (eps)", _seeded(lambda: EquivariantLinear("SO", 2, 1, 2, 3, n=3)),
         lambda n, b: (_randn(b, 2, 3, 3),), dynamic_n=False, n=3, other_n=3),
    Kind("S x O(3) (1,1)->(1,1)", _seeded(lambda: EquivariantLinear("S x O(3)", (1, 1), (1, 1), 2, 3)),
         lambda n, b: (_randn(b, 2, n, 3),), n_axes=((2,),)),
    Kind("MixedLinear S V0+V1->V1+V2", _seeded(lambda: MixedLinear("S", "2*V0 + 2*V1", "3*V1 + 2*V2"), orders=(0, 1)),
         lambda n, b: (_randn(b, 2), _randn(b, 2, n))),
    Kind("Bilinear O 1@1->2", _seeded(lambda: Bilinear("O", 1, 1, 2, 2, 3)), lambda n, b: (_randn(b, 2, n),)),
    Kind("Network gnn", _seeded(_network), lambda n, b: (_randn(b, 1, n, n),)),
    Kind("compiled module gnn", _seeded(lambda: compiled_module().gnn()), lambda n, b: (_randn(b, 1, n, n),)),
    Kind("compiled layer edge", _seeded(lambda: compiled_module().edge(2, 3)), lambda n, b: (_randn(b, 2, n, n),)),
    Kind("masked S 2->2", _seeded(lambda: EquivariantLinear("S", 2, 2, 2, 3), mask=True), _masked_input),
    Kind("Sp 2->2", _seeded(lambda: EquivariantLinear("Sp", 2, 2, 2, 3)), lambda n, b: (_randn(b, 2, n, n),),
         n=4, other_n=6, fixed_by=frozenset({"trace", "export", "compile"})),
    Kind("A(4) 2->2 (jellyfish)", _seeded(lambda: EquivariantLinear("A", 2, 2, 2, 3, n=4)),
         lambda n, b: (_randn(b, 2, 4, 4),), dynamic_n=False, n=4, other_n=4),
    Kind("Aut(C6) 2->1", _seeded(lambda: EquivariantLinear("Aut", 2, 1, 2, 3, graph=_cycle(6))),   # walks as A^p
         lambda n, b: (_randn(b, 2, 6, 6),), dynamic_n=False, n=6, other_n=6),
    Kind("SO(1,3) 2->2 (eps, Lorentz)", _seeded(lambda: EquivariantLinear("SO(1,3)", 2, 2, 2, 3)),
         lambda n, b: (_randn(b, 2, 4, 4),), dynamic_n=False, n=4, other_n=4),
    Kind("Network S x O(3)", _seeded(_product_network, orders=((1, 0), (1, 1))),
         lambda n, b: (_randn(b, 1, n), _randn(b, 1, n, 3)), n_axes=((2,), (2,))),
]

BY_NAME = {kind.name: kind for kind in KINDS}


def outputs(y: torch.Tensor | tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """A module's output as a tuple of tensors."""
    return y if isinstance(y, tuple) else (y,)
