"""Every module's doctests, run by installed name (reference/style.md §4 item 2).

``pytest --doctest-modules compiler/`` cannot import mapped folders, so the modules are found by
walking the installed packages' ``__path__``s, separately for ``catnn``, ``catnn.grammar`` and
``catnn.compiler`` (``walk_packages(catnn.__path__)`` misses the mapped subpackages in an editable
install). A new module is picked up automatically. Every module must import.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("catnn", "catnn.grammar", "catnn.compiler")
#: modules that run a program when imported
SKIP = {"catnn.__main__"}


def _module_names() -> list[str]:
    names: set[str] = set()
    for package in PACKAGES:
        names.add(package)
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}.", onerror=lambda name: None):
            names.add(info.name)
    return sorted(names - SKIP)


MODULES = _module_names()


def test_the_walk_finds_the_packages():
    assert {"catnn.diagram", "catnn.coeff", "catnn.groups.symmetric", "catnn.grammar",
            "catnn.compiler"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest examples failed in {name}"
