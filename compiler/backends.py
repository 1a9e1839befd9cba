"""The backends: which emitter writes a plan, by name.

>>> import catnn
>>> from catnn.compiler.plan import build_plan
>>> sorted(BACKENDS)
['einsum', 'torch']
>>> G = catnn.group("S")
>>> emit(build_plan(G, 1, 1, G.spanning_set(1, 1)), "f", "einsum").name
'f'
"""

from __future__ import annotations

from functools import lru_cache

from catnn import messages
from catnn.errors import CompileError

from .emit_common import Emitted, SourceEmitter
from .emit_einsum import EinsumEmitter
from .emit_torch import TorchEmitter
from .ir import Plan

__all__ = ["BACKENDS", "emitter", "emit"]

#: backend name -> the emitter class that spells a plan for it
BACKENDS: dict[str, type[SourceEmitter]] = {"torch": TorchEmitter, "einsum": EinsumEmitter}


def emitter(backend: str) -> type[SourceEmitter]:
    """The emitter class of ``backend``, or a CompileError naming the known ones."""
    if backend not in BACKENDS:
        raise CompileError(messages.BAD_BACKEND.format(name=backend, known=", ".join(BACKENDS)))
    return BACKENDS[backend]


def emit(plan: Plan, name: str = "layer", backend: str = "torch", doc: str | None = None) -> Emitted:
    """The functions running ``plan`` (source and callable), cached per (plan, name, backend, doc)."""
    emitter(backend)
    return _emit(plan, name, backend, doc)


@lru_cache(maxsize=256)
def _emit(plan: Plan, name: str, backend: str, doc: str | None) -> Emitted:
    return BACKENDS[backend](plan, name, doc).emit()
