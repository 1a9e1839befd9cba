"""catnn.grammar: the Lark grammar of the diagram language and the parser to a spanned AST.

>>> from catnn.grammar import parse
>>> [type(item).__name__ for item in parse("group O\\ndiagram t : 2 -> 0 = {1', 2'}").items]
['GroupDecl', 'Definition']

Syntax only: names are resolved and arities checked by :mod:`catnn.compiler.check`.
"""

from . import ast
from .parser import parse, parse_expression

__all__ = ["ast", "parse", "parse_expression"]
