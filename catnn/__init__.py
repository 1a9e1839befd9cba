"""catnn: string diagrams compiled to fast, exactly equivariant tensor code.

>>> import catnn
>>> d = catnn.Diagram.from_blocks([[1, 4], [2, 3]], k=2, l=2)
>>> (d >> d) == catnn.Diagram.identity(2)
True
>>> catnn.group("S", n=5).dimension(2, 2)
15
"""

import sys as _sys

from . import draw as _draw  # noqa: F401 - registers the SVG drawing of diagrams and morphisms
from .api import CallableModule as _CallableModule
from .api import compile, load, parse
from .coeff import MPoly, Poly
from .diagram import Diagram
from .errors import CatnnError
from .groups import Group, ProductGroup, group
from .groups.product import ProductDiagram, ProductMorphism
from .morphism import Morphism

# catnn.diagram("...") parses one expression, while catnn.diagram stays the module of Diagram
_sys.modules[__name__ + ".diagram"].__class__ = _CallableModule
diagram = _sys.modules[__name__ + ".diagram"]

__version__ = "0.1.0"

__all__ = ["CatnnError", "Diagram", "Group", "MPoly", "Morphism", "Poly", "ProductDiagram", "ProductGroup",
           "ProductMorphism", "compile", "diagram", "group", "load", "parse", "__version__"]
