"""The import graph: imports flow one way (grammar → compiler → runtime → API), with no cycle.

Every ``import`` of a catnn module — at module level or inside a function — is an edge, read from
the source with :mod:`ast` (nothing is imported to build the graph). The layering rules are checked
on the same graph: the compiler never imports the runtime (``catnn.nn``, ``catnn.networks``), and the
core algebra never imports drawing or the compiler.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"catnn": ROOT / "catnn", "catnn.grammar": ROOT / "grammar", "catnn.compiler": ROOT / "compiler"}
RUNTIME = {"catnn.nn", "catnn.networks", "catnn.demo", "catnn.cli", "catnn.api"}
CORE = {"catnn.diagram", "catnn.morphism", "catnn.coeff", "catnn.bilabelled", "catnn.levi_civita", "catnn.kinds",
        "catnn.unionfind", "catnn.dense"}


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join((package, *parts))
            if name.startswith("catnn.grammar") and package == "catnn" or name.startswith("catnn.compiler") \
                    and package == "catnn":
                continue
            found[name] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The catnn modules that module ``name`` imports (``from . import x`` counts x if it is a module;
    imports under ``if TYPE_CHECKING:`` are for type checkers only and do not count)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
                   for stmt in block.body for n in ast.walk(stmt)}
    out = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component with more than one module."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read():
    edges = graph()
    assert "catnn.compiler.plan" in edges["catnn.nn"] or "catnn.compiler.backends" in edges["catnn.nn"]
    assert "catnn.compiler.ir" in edges["catnn.compiler.plan"]


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_compiler_never_imports_the_runtime():
    edges = graph()
    bad = {(m, t) for m, ts in edges.items() if m.startswith("catnn.compiler") for t in ts if t in RUNTIME}
    assert bad == set()


def test_the_core_algebra_never_imports_drawing_or_the_compiler():
    edges = graph()
    bad = {(m, t) for m in CORE for t in edges.get(m, ()) if t == "catnn.draw" or t.startswith("catnn.compiler")}
    assert bad == set()


def test_compiled_networks_paste_the_runtime_stage_formulas():
    """NETWORK_HELPERS holds catnn.stages' own functions (names prefixed), not a copy."""
    import inspect
    import re

    from catnn import stages
    from catnn.compiler.write_network import NETWORK_HELPERS
    for name in stages.PASTED:
        if name == "FUNCTIONS":
            continue
        own = inspect.getsource(getattr(stages, name))
        for other in stages.PASTED:
            own = re.sub(rf"(?m)(^def |^|[^\w.]){other}(?=\s*[(\[=])", rf"\g<1>_stages__{other}", own)
        assert own in NETWORK_HELPERS, name
    assert "_stages__FUNCTIONS = {" in NETWORK_HELPERS
