"""catnn.compiler: checking, planning, emitting and module writing (docs/compiler.md has the map).

>>> import catnn.compiler as c
>>> sorted(c.ENTRY_POINTS)
['build_mixed_plan', 'build_plan', 'check_program', 'emit', 'explain_program', 'write_module']

Each stage's entry point is reachable here (imported on first use, so importing one stage does not
import the others): ``check_program`` (text's AST → a checked Program, over one group or a product),
``build_plan`` and ``build_mixed_plan`` (diagrams → the Plan IR), ``emit`` (a plan → torch or opt_einsum
functions), ``write_module`` and ``explain_program`` (a program → a standalone module, or its plans' costs).
"""

from __future__ import annotations

import importlib

#: entry point -> the module (stage) that defines it
ENTRY_POINTS = {"check_program": "check_product", "build_plan": "plan", "build_mixed_plan": "plan", "emit": "backends",
                "write_module": "write", "explain_program": "write"}

__all__ = sorted(ENTRY_POINTS)


def __getattr__(name: str) -> object:
    if name in ENTRY_POINTS:
        return getattr(importlib.import_module(f"{__name__}.{ENTRY_POINTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
