"""HTW's penalty variants: which parameters weight decay prices and how a function is priced.

===== =========================================== ==================== =============== ==============
name  HTW equation                                biases regularized   skip connection boundary term
===== =========================================== ==================== =============== ==============
"7"   eq. (7): ``||m|| / g(r)`` per atom, ``||c||^2`` yes                  none            no
"8"   eq. (8): ``||m||`` per atom                  no                   none            no
"9"   eq. (9) (Ongie et al.'s form of eq. 8)      no                   none            yes
"11"  eq. (11): eq. (7) plus ``||A||_F^2``        yes                  Frobenius       no
"12"  eq. (12): eq. (7) plus ``||A||_{S_1}``      yes                  Schatten-1      no
===== =========================================== ==================== =============== ==============

A :class:`Variant` is a ``str`` (``Variant("7") == "7"``, so reports and dictionaries keep
the plain name) that carries what the code branches on; :func:`as_variant` turns a user's
``"7"`` or ``7`` into one at the public boundary.
"""

from __future__ import annotations

NAMES = ("7", "8", "9", "11", "12")
_SKIP = {"11": "frobenius", "12": "schatten1"}


class Variant(str):
    """One of HTW's penalty variants (module docstring)."""

    __slots__ = ()

    def __new__(cls, name):
        name = str(name)
        if name not in NAMES:
            raise ValueError(f"variant must be one of {list(NAMES)}, got {name!r}")
        return super().__new__(cls, name)

    @property
    def biases_regularized(self) -> bool:
        """Whether weight decay prices the biases ``b`` and ``c`` (eq. 7, 11, 12) or not (eq. 8, 9)."""
        return self in ("7", "11", "12")

    @property
    def skip(self) -> str | None:
        """The skip connection's cost: "frobenius" (eq. 11), "schatten1" (eq. 12) or None."""
        return _SKIP.get(str(self))

    @property
    def boundary_term(self) -> bool:
        """Whether the penalty carries eq. (9)'s boundary term ``||phi'(-inf) + phi'(+inf)||``."""
        return self == "9"


def as_variant(variant, *, allowed=NAMES, name: str = "variant") -> Variant:
    """``variant`` ("7", 7, a :class:`Variant`) as a :class:`Variant` in ``allowed``, or a
    ``ValueError`` naming the argument ``name``."""
    text = str(variant)
    if text not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {variant!r}")
    return Variant(text)
