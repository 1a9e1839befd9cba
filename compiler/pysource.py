"""Safe Python source: names, docstrings, exact coefficient tables and the helpers generated code pastes.

>>> from catnn.coeff import Poly
>>> check_name("edge")
'edge'
>>> table_source([Poly.n() ** 2 / 3])
'((3, 0, ((2, 1),)),)'

Nothing from a user's program is ever pasted into code: names must pass :func:`check_name` (ASCII
identifiers, no keywords, no leading underscore, no ``__``, nothing the module uses itself), numbers
are rendered from exact integers (:func:`table_source`: coefficients stay exact until the run's n,
then :data:`COEFFICIENTS_HELPER` evaluates them with Python integers and rounds once), and text
appears only inside docstrings made by :func:`docstring`, which escapes it (checked by parsing it
back). Used by the emitters (:mod:`.emit_common`), the module writer (:mod:`.write`, :mod:`.write_network`), the
checker (which applies the same name rule) and the runtime (the same helpers, run in memory).
"""

from __future__ import annotations

import ast
import builtins
import keyword
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from catnn import messages
from catnn.errors import CompileError, DiagramError, RangeError

__all__ = ["check_name", "docstring", "coefficient_table", "coefficient_values", "table_source", "tuple_source",
           "RESERVED", "COEFFICIENTS_HELPER", "INPUT_HELPER"]


#: names a generated module defines or imports itself (builtins are refused too)
RESERVED = frozenset({"torch", "opt_einsum", "sys", "math", "numpy", "np", "nn", "F", "self", "x",
                      "weight", "bias", "n", "B", "I", "O", "w", "out", "super", "object", "print",
                      "len", "range", "tuple", "list", "dict", "type", "isinstance", "float", "int"})


def check_name(name: Any, what: str = "name") -> str:
    """``name`` if it is safe as a Python identifier in generated code, else CompileError.

    Safe: ASCII, an identifier, not a keyword or builtin, not a name the module uses, no leading
    underscore and no ``__`` (generated helpers are ``_NAME`` and ``_NAME__suffix``, so they never
    collide with a program name or with each other).

    >>> check_name("edge")
    'edge'
    >>> check_name("x; import os")
    Traceback (most recent call last):
    ...
    catnn.errors.CompileError: cannot use 'x; import os' as a Python name in generated code
    """
    ok = (isinstance(name, str) and name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
          and not name.startswith("_") and "__" not in name and name not in RESERVED
          and not hasattr(builtins, name))
    if not ok:
        raise CompileError(messages.BAD_NAME.format(name=str(name), what=what))
    return name


#: pasted into generated modules that have coefficients, and run by the in-memory layers (one piece of code)
COEFFICIENTS_HELPER = '''def _rt__coefficients(what, table, n, limit):
    """The polynomials of table at this n, evaluated exactly (Python integers) and rounded once to floats.

    Each polynomial is (denominator, shift, ((power, numerator), ...)): the sum of numerator * n ** power
    over denominator * n ** shift. A value beyond limit (the largest float of the dtype) is an OverflowError.
    """
    values = []
    for i, (denominator, shift, terms) in enumerate(table):
        top = sum(a * n ** p for p, a in terms)
        bottom = denominator * n ** shift
        if bottom == 0:
            raise ZeroDivisionError(f"{what}: coefficient {i} has a negative power of n: no value at n={n}")
        value = top / bottom if abs(top) // abs(bottom) <= limit else None
        if value is None or abs(value) > limit:
            digits = int((abs(top).bit_length() - abs(bottom).bit_length()) * 0.30103)
            raise OverflowError(f"{what}: coefficient {i} is about 10^{digits} at n={n}, beyond the largest "
                                f"value of the dtype ({limit:.4g})")
        values.append(value)
    return values
'''


#: pasted into generated modules with layers, and run by the in-memory layers: the input's type, dtype, device
INPUT_HELPER = '''def _rt__check_input(what, x, like):
    """A TypeError naming the layer unless x is a torch.Tensor of like's dtype on like's device."""
    if isinstance(x, torch.Tensor) and x.dtype == like.dtype and x.device == like.device:
        return
    got = f"dtype {x.dtype} on {x.device}" if isinstance(x, torch.Tensor) else f"a {type(x).__module__}.{type(x).__name__}"
    raise TypeError(f"{what} expects a torch.Tensor of dtype {like.dtype} on {like.device} (its parameters'), got "
                    f"{got}: convert the input (x.to(...), torch.as_tensor(...)) or the layer (layer.to(...))")
'''


def coefficient_table(polys: Sequence[Any]) -> tuple[tuple[int, int, tuple[tuple[int, int], ...]], ...]:
    """Exact Laurent polynomials as integer rows for ``_rt__coefficients``: (denominator, shift, terms).

    >>> from catnn.coeff import Poly
    >>> coefficient_table([Poly.n() - Fraction(1, 2) * Poly.n(-1), Poly()])
    ((2, 1, ((2, 2), (0, -1))), (1, 0, ()))
    """
    rows = []
    for poly in polys:
        terms = {int(e): Fraction(c) for e, c in poly.terms.items()}
        shift = max([0] + [-e for e in terms])
        denominator = math.lcm(*(c.denominator for c in terms.values())) if terms else 1
        rows.append((denominator, shift, tuple((e + shift, int(c * denominator)) for e, c in terms.items())))
    return tuple(rows)


def table_source(polys: Sequence[Any]) -> str:
    """:func:`coefficient_table` as Python source; integers past 2**64 are written in hex (Python parses
    hex of any length, but refuses decimal literals over 4300 digits).

    >>> from catnn.coeff import Poly
    >>> table_source([Poly.n(2) / 3, Poly.const(2 ** 70)])
    '((3, 0, ((2, 1),)), (1, 0, ((0, 0x400000000000000000),)))'
    """
    def text(value: Any) -> str:
        if isinstance(value, tuple):
            return f"({', '.join(text(v) for v in value)}{',' if len(value) == 1 else ''})"
        return str(value) if abs(value) < 2 ** 64 else ("-" if value < 0 else "") + hex(abs(value))
    return text(coefficient_table(polys))


def coefficient_values(polys: Sequence[Any], n: int, limit: float, what: str) -> list[float]:
    """The exact values of ``polys`` at ``n``, each rounded once to a float (``_rt__coefficients``, as the
    generated modules run it); a value beyond ``limit`` is a :class:`~catnn.errors.RangeError`.

    >>> from catnn.coeff import Poly
    >>> coefficient_values([(Poly.n() - 1000) ** 5 / 7], 1001, 1.7976931348623157e308, "m")
    [0.14285714285714285]
    """
    try:
        return _COEFFICIENTS(what, coefficient_table(polys), n, limit)
    except OverflowError as err:
        raise RangeError(str(err)) from None
    except ZeroDivisionError as err:
        raise DiagramError(str(err)) from None


def _run_helper(source: str, name: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - our own helper
    return namespace[name]


_COEFFICIENTS = _run_helper(COEFFICIENTS_HELPER, "_rt__coefficients")


def tuple_source(texts: Sequence[str]) -> str:
    """A tuple of plain string literals (``repr`` escapes everything)."""
    items = [repr(str(t)) for t in texts]
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def docstring(text: str, indent: str) -> str:
    """A triple-quoted literal whose value is ``text`` (continuation lines indented), escaped.

    Quotes, backslashes and non-printable characters are escaped, so no text can end the literal;
    the result is parsed back and compared before it is used.
    """
    plain = "\\" not in text and '"' not in text and text.replace("\n", "").isprintable()
    escaped = text if plain else "".join(_escape(ch) for ch in text)
    body = "\n".join((indent + line if i and line else line) for i, line in enumerate(escaped.split("\n")))
    tail = "\n" + indent if "\n" in text else ""
    literal = f'"""{body}{tail}"""'
    expected = "\n".join((indent + line if i and line else line) for i, line in enumerate(text.split("\n")))
    if ast.literal_eval(literal) != expected + tail:
        raise CompileError("internal error: docstring escaping failed")
    return literal


def _escape(ch: str) -> str:
    if ch in "\\\"":
        return "\\" + ch
    if ch == "\n" or ch.isprintable():
        return ch
    return ch.encode("unicode_escape").decode("ascii")
