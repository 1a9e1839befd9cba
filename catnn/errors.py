"""The catnn error tree and the caret formatter every diagnostic goes through.

>>> from catnn.errors import CheckError, Span
>>> src = "diagram f : 2 -> 2 = swap >> tr"
>>> err = CheckError("arity mismatch", Span.at(src, 1, 22, 1, 33, "m.diag"))
>>> print(err)
m.diag:1:22: error: arity mismatch
  diagram f : 2 -> 2 = swap >> tr
                       ^~~~~~~~~~

Deep code raises short messages (templates live in :mod:`catnn.messages`); code that knows the
source attaches a :class:`Span`, and ``str(err)`` then prints ``FILE:LINE:COL: error: ...``, the
source line and a caret under the place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CatnnError",
    "CheckError",
    "CompileError",
    "DiagramError",
    "GroupError",
    "LimitError",
    "ShapeError",
    "ParseError",
    "Span",
    "format_snippet",
]


@dataclass(frozen=True)
class Span:
    """A region of a source text: 1-based line and column, end exclusive.

    >>> Span.at("a >> b", 1, 6, 1, 7).snippet()
    '  a >> b\\n       ^'
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int
    text: str = field(default="", repr=False, compare=False)

    @classmethod
    def at(cls, text: str, line: int, column: int, end_line: int | None = None,
           end_column: int | None = None, file: str = "<string>") -> Span:
        """A span over ``text`` (the whole source, kept for printing the line)."""
        end_line = line if end_line is None else end_line
        end_column = column + 1 if end_column is None else end_column
        return cls(file, line, column, end_line, end_column, text)

    def snippet(self) -> str:
        """The source line and a caret line under this span."""
        return format_snippet(self.text, self.line, self.column, self.end_line, self.end_column)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


def format_snippet(text: str, line: int, column: int, end_line: int, end_column: int) -> str:
    """Two lines: the source line (tabs expanded to one space) and ``^~~`` under the columns.

    >>> print(format_snippet("f >> g", 1, 3, 1, 5))
      f >> g
        ^~
    """
    lines = text.splitlines() or [""]
    row = lines[min(max(line, 1), len(lines)) - 1].replace("\t", " ")
    start = max(column - 1, 0)
    stop = end_column - 1 if end_line == line else len(row)
    width = max(1, min(stop, max(len(row), start + 1)) - start)
    return f"  {row}\n  {' ' * start}^{'~' * (width - 1)}"


class CatnnError(Exception):
    """Base of every error catnn raises on purpose; carries an optional source :class:`Span`."""

    def __init__(self, message: str, span: Span | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span

    def __str__(self) -> str:
        if self.span is None:
            return self.message
        head = f"{self.span}: error: {self.message}"
        return f"{head}\n{self.span.snippet()}" if self.span.text else head

    def with_span(self, span: Span) -> CatnnError:
        """This error placed at ``span`` (kept if it already has one)."""
        if self.span is None:
            self.span = span
        return self


class DiagramError(CatnnError, ValueError):
    """An ill-formed diagram or morphism, or operands whose arities do not fit."""


class GroupError(CatnnError, ValueError):
    """An unknown group, a size the group does not allow, or an operation it lacks."""


class LimitError(CatnnError):
    """A request too large to do in reasonable time or memory; the message gives the limit."""


class ParseError(CatnnError, ValueError):
    """Program text that the grammar does not accept."""


class CheckError(CatnnError, ValueError):
    """A program that parses but means nothing: unknown names, arity and group mismatches."""


class CompileError(CatnnError):
    """A well-formed program that cannot be compiled to code as asked."""


class ShapeError(CatnnError, ValueError):
    """An input whose shape does not fit the layer."""
