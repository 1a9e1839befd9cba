"""The groups catnn knows, looked up by name: ``catnn.group("O", n=3)`` or ``catnn.group("O(3)")``.

>>> group("S_n").name, group("O(3)").n, group("S", n=3).dimension(2, 2)
('S', 3, 14)
>>> group("O(1,3)").form.diagonal().tolist(), group("SO(2,1)").n    # η = diag(+1 ×p, -1 ×q)
([1, -1, -1, -1], 3)
>>> group("S x O(3)").factors, group("S(5) × S(7)", n=(None, 7)).ns
((catnn.group('S'), catnn.group('O', n=3)), (5, 7))
"""

from __future__ import annotations

import re

from .. import messages
from ..errors import GroupError
from .alternating import Alternating
from .automorphism import Automorphism
from .base import Group
from .easy import Bistochastic, Hyperoctahedral
from .lorentz import IndefiniteOrthogonal, IndefiniteSpecialOrthogonal
from .orthogonal import Orthogonal
from .product import ProductGroup
from .special_orthogonal import SpecialOrthogonal
from .symmetric import Symmetric
from .symplectic import Symplectic

__all__ = ["Group", "ProductGroup", "group", "register", "REGISTRY"]

#: canonical name -> group class; later groups register themselves here
REGISTRY: dict[str, type[Group]] = {}


def register(cls: type[Group]) -> type[Group]:
    """Add a group class under ``cls.name`` and its ``cls.aliases``."""
    for name in (cls.name, *cls.aliases):
        REGISTRY[name.lower()] = cls
    return cls


for _cls in (Symmetric, Orthogonal, SpecialOrthogonal, Symplectic, Alternating, Hyperoctahedral,
             Bistochastic, Automorphism):
    register(_cls)

#: stem -> the indefinite family written ``O(p,q)``, ``SO(p,q)``
SIGNATURES: dict[str, type[Group]] = {"o": IndefiniteOrthogonal, "so": IndefiniteSpecialOrthogonal}

_SIGNATURE = re.compile(r"^\s*([A-Za-z]+)\s*\(\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*\)\s*$")
_NAME = re.compile(r"^\s*([A-Za-z][A-Za-z_]*?)\s*(?:_n|\(\s*n\s*\)|_?(\d+)|\(\s*(\d+)\s*\))?\s*$")
#: the product sign between factors: ``×``, or an ``x`` standing alone (not inside a name)
_TIMES = re.compile(r"×|(?<![A-Za-z_])x(?![A-Za-z_])")


def group(name: str | Group | ProductGroup, n: int | tuple[int | None, ...] | None = None,
          **options: object) -> Group | ProductGroup:
    """The group called ``name`` acting on R^n (``n=None``: any size, for n-independent work).

    Names: S, A, O, SO, Sp and aliases such as ``S_n``, ``O(n)``, ``O(3)`` (size in the name),
    ``symmetric``, ``orthogonal``; ``O(p,q)`` and ``SO(p,q)`` are the indefinite orthogonal groups of
    η = diag(+1 ×p, -1 ×q) (``O(1,3)``: the Lorentz group, time first, mostly minus). Factors joined
    by ``x`` or ``×`` make a product (:class:`~catnn.groups.product.ProductGroup`): ``"S x O(3)"``;
    its ``n`` is a tuple of sizes, one per factor (None: free), and ``options`` go to every factor.
    """
    if isinstance(name, (Group, ProductGroup)):
        return name
    if isinstance(name, str) and _TIMES.search(name):
        return _product(name, n, options)
    signature = _SIGNATURE.match(name) if isinstance(name, str) else None
    if signature is not None and signature.group(1).lower() in SIGNATURES:
        family = SIGNATURES[signature.group(1).lower()]
        return family(int(signature.group(2)), int(signature.group(3)), n, **options)
    match = _NAME.match(name) if isinstance(name, str) else None
    cls = REGISTRY.get(match.group(1).lower()) if match else None
    if cls is None or match is None:
        known = ", ".join(sorted({c.name for c in REGISTRY.values()}))
        raise GroupError(messages.UNKNOWN_GROUP.format(name=name, known=known))
    size = match.group(2) or match.group(3)
    if size is not None:
        if n is not None and n != int(size):
            raise GroupError(messages.BAD_SIZE.format(group=cls.name, condition=f"n={size}", n=n))
        n = int(size)
    return cls(n, **options)


def _product(name: str, n: object, options: dict[str, object]) -> ProductGroup:
    """``"S x O(3)"`` as a product, each factor read by :func:`group`; ``options`` (``graph=``) go to
    the factors whose class takes options (Aut)."""
    pieces = [piece.strip() for piece in _TIMES.split(name)]
    if n is not None and not (isinstance(n, tuple) and len(n) == len(pieces)):
        bare = [m.group(1) if (m := _NAME.match(p)) else "S" for p in pieces]
        raise GroupError(messages.PRODUCT_N.format(group=name.strip(), example=", ".join(["5"] * len(pieces)),
                                                   named=" x ".join(f"{b}(5)" for b in bare), n=n))
    sizes = n if n is not None else (None,) * len(pieces)
    factors = []
    for piece, size in zip(pieces, sizes):
        match = _NAME.match(piece)
        cls = REGISTRY.get(match.group(1).lower()) if match else None
        own = options if cls is not None and cls.__init__ is not Group.__init__ else {}
        try:
            factors.append(group(piece, size, **own))
        except GroupError as err:
            raise GroupError(messages.PRODUCT_FACTOR_TEXT.format(factor=piece, name=name, why=err.message)) from None
    return ProductGroup(factors)
