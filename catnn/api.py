"""The language's front door: ``parse``, ``compile``, ``load`` and ``diagram``.

>>> import catnn
>>> print(catnn.diagram("1/2 * (id(2) + swap)"))
1/2 * {1, 1'} {2, 2'} + 1/2 * {1, 2'} {2, 1'}
>>> prog = catnn.compile("group O\\nmorphism loop = cup >> cap")
>>> print(prog.loop)
n * id(0)

Files and strings take the same path: ``load`` only reads the file and passes its name on, so
errors read ``model.diag:3:12: error: ...`` for files and ``<string>:3:12: ...`` for strings.
"""

from __future__ import annotations

import os
import types
from typing import TYPE_CHECKING, Any

from . import messages
from .errors import CatnnError
from .files import file_kind
from .kinds import HOOKS

if TYPE_CHECKING:
    from .compiler.program import Program
    from .diagram import Diagram
    from .grammar.ast import Module
    from .groups import Group
    from .morphism import Morphism

__all__ = ["parse", "compile_program", "compile", "load", "read_source", "diagram", "CallableModule",
           "InMemoryModule"]


def parse(text: str, filename: str = "<string>") -> Module:
    """The syntax tree of a program (no names resolved); raises :class:`~catnn.errors.ParseError`.

    >>> [item.name for item in parse("diagram u : 0 -> 1 = {1}").items]
    ['u']
    """
    from .grammar import parse as _parse
    return _parse(text, filename)


def compile_program(text: str, filename: str = "<string>") -> Program:
    """Parse and check a program: every definition normalised, every error with its place.

    >>> compile_program("morphism p = 1/2 * (id(2) + swap)").p.k
    2
    """
    from .compiler.check_product import check_program
    if isinstance(text, (str, os.PathLike)) and _looks_like_path(text):
        raise CatnnError(messages.COMPILE_PATH.format(path=os.fspath(text)))
    if isinstance(text, str) and text.startswith("\ufeff"):   # a BOM, as load() accepts it
        text = text[1:]
    return check_program(parse(text, filename))


def compile(text: str, filename: str = "<string>") -> Program:  # noqa: A001 - the public name
    """A program's definitions as attributes: ``catnn.compile(src).NAME``.

    Diagrams and morphisms are exact algebraic values; layers and networks are their checked
    declarations (:class:`~catnn.spec.LayerSpec`, :class:`~catnn.spec.NetworkSpec`).
    ``catnn.compile(src).nn`` holds the torch objects a compiled module would define, built in
    memory: ``.nn.f(x)`` applies a morphism, ``.nn.layer(in_channels, out_channels)`` and
    ``.nn.network()`` build modules (:class:`InMemoryModule`).
    """
    program = compile_program(text, filename)
    program.nn = InMemoryModule(program)
    return program


#: the largest program file ``load`` reads (a guard against /dev/zero and runaway files)
MAX_SOURCE_BYTES = 1 << 24


def load(path: str | os.PathLike[str]) -> Program:
    """Read a ``.diag`` file and compile it; errors name the file."""
    name = os.fspath(path)
    return compile(read_source(name), filename=name)


def read_source(name: str) -> str:
    """The text of a program file: a regular file of at most :data:`MAX_SOURCE_BYTES` bytes, UTF-8
    (a BOM is dropped); a byte that is not UTF-8 is a ParseError at its line and column."""
    import stat
    try:
        with open(name, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise CatnnError(messages.FILE_NOT_REGULAR.format(path=name, kind=file_kind(mode)))
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError as err:
        raise CatnnError(messages.FILE_UNREADABLE.format(path=name, reason=err.strerror or err)) from None
    if len(data) > MAX_SOURCE_BYTES:
        raise CatnnError(messages.FILE_TOO_LARGE.format(path=name, limit=MAX_SOURCE_BYTES))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise _not_utf8(data, err, name) from None


def _not_utf8(data: bytes, err: UnicodeDecodeError, name: str) -> CatnnError:
    """A ParseError at the line and column (in characters) of the first byte that is not UTF-8."""
    from .errors import ParseError, Span
    text = data.decode("utf-8-sig", errors="replace")
    before = data[:err.start].decode("utf-8-sig", errors="replace")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return ParseError(messages.NOT_UTF8.format(byte=data[err.start]), Span.at(text, line, column, file=name))


def diagram(text: str, group: Group | str = "S") -> Diagram | Morphism:
    """One expression as a Diagram (when it is exactly ``1 * d``) or a Morphism.

    Names are the group's generators (``id(k)``, ``swap``, ``cup``, ...); ``n`` stays symbolic.
    ``str()`` of any diagram or morphism parses back to an equal value.

    >>> diagram("swap >> swap") == diagram("id(2)")
    True
    >>> print(diagram("(cup >> cap) * {1, 1'}"))
    n * {1, 1'}
    """
    from .compiler.check_product import check_expression
    from .grammar import parse_expression
    return check_expression(parse_expression(text), group)


def _looks_like_path(text: Any) -> bool:
    """A lone ``something.diag`` passed where program text was expected."""
    if isinstance(text, os.PathLike):
        return True
    stripped = text.strip()
    return stripped.endswith(".diag") and not any(c in stripped for c in " \n=")


class CallableModule(types.ModuleType):
    """``catnn.diagram`` is both the module of the Diagram class and the parser of one expression.

    ``catnn.diagram("swap")`` parses; ``catnn.diagram.Diagram``, ``catnn.diagram.set_partitions``
    and ``from catnn.diagram import ...`` keep working.
    """

    def __call__(self, text: str, group: Group | str = "S") -> Diagram | Morphism:
        return diagram(text, group)


class InMemoryModule:
    """``catnn.compile(text).nn``: what ``catnn compile`` would write, built in memory.

    ``prog.nn.f(x)`` applies morphism (or diagram) ``f`` (:class:`catnn.nn.MorphismFunction`);
    ``prog.nn.edge(in_channels, out_channels, **options)`` builds layer ``edge`` as a
    :class:`catnn.nn.EquivariantLinear`; ``prog.nn.net(**options)`` builds network ``net``
    (:class:`catnn.networks.EquivariantNetwork`). torch is imported on first use only.
    """

    def __init__(self, program: Any, backend: str = "torch") -> None:
        self._program = program
        self._backend = backend
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        definitions = self._program.definitions
        if name not in definitions:
            known = ", ".join(definitions) or "none"
            raise AttributeError(f"the program has no definition {name!r} (definitions: {known})")
        if name not in self._cache:
            self._cache[name] = self._build(name, definitions[name])
        return self._cache[name]

    def _build(self, name: str, value: Any) -> Any:
        from functools import partial
        from catnn.spec import BilinearLayerSpec, LayerSpec, MixedLayerSpec, NetworkSpec
        if isinstance(value, (MixedLayerSpec, BilinearLayerSpec)):
            from catnn.networks import layer_factory
            return layer_factory(self._program.group, value, self._backend)
        if isinstance(value, LayerSpec):
            from catnn.nn import EquivariantLinear
            return partial(EquivariantLinear.from_spec, value, backend=self._backend)
        if isinstance(value, NetworkSpec):
            from catnn.networks import EquivariantNetwork
            layers = {k: v for k, v in self._program.definitions.items() if isinstance(v, LayerSpec)}
            return partial(EquivariantNetwork, value, layers, backend=self._backend)
        from catnn.groups.product import ProductGroup
        if isinstance(self._program.group, ProductGroup):
            from catnn.nn import ProductMorphismFunction
            return ProductMorphismFunction(self._program.group, value, backend=self._backend, name=name)
        from catnn.nn import MorphismFunction
        return MorphismFunction(self._program.group, value, backend=self._backend, name=name)

    def __dir__(self) -> list[str]:
        return sorted(self._program.definitions)

    def __repr__(self) -> str:
        return f"<catnn in-memory module: {', '.join(self._program.definitions)}>"


HOOKS["parse"] = diagram
