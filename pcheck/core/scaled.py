"""Norms that neither overflow nor underflow, and power-of-two scales.

``np.linalg.norm(a, axis=1)`` squares the entries: rows of size ``1e-160`` lose most of their
digits in the subnormal range (``(1e-160)^2 = 1e-320``), rows below ``1.5e-154`` become 0 and rows
above ``1.3e154`` become inf, although their norms are ordinary floats. The functions here scale
each row by its largest entry first (LAPACK's ``dnrm2`` does the same for single vectors).

Scales by powers of two (:func:`power_of_two`) change a float's exponent only, so multiplying
and dividing by them is exact unless the result leaves the normal range: pcheck's internal
normalizations use them so that the normalized problem is the given one, exactly.
"""

from __future__ import annotations

import numpy as np

#: Rows whose sum of squares lies in ``[1 / SAFE_SQUARE, SAFE_SQUARE]`` (or is exactly 0 for a zero
#: row) are normed by the plain ``sqrt(sum a^2)``. Reason: such a sum neither overflowed nor lost
#: digits in the subnormal range (1e-290 is far above 2.2e-308), so the plain formula is exact to
#: rounding and ~3 times faster; only the other rows are rescaled by their largest entry.
SAFE_SQUARE = 1e290


def plain_squares(s2: np.ndarray) -> bool:
    """Whether sums of squares ``s2`` are all inside ``[1 / SAFE_SQUARE, SAFE_SQUARE]``, so that their
    square roots are the norms to rounding (a 0 may be an underflow: not plain)."""
    return s2.size == 0 or bool(s2.min() >= 1.0 / SAFE_SQUARE and s2.max() <= SAFE_SQUARE)


def row_norms(A) -> np.ndarray:
    """Euclidean norms of the rows of a 2D array (of a 1D array: its entries' magnitudes),
    without overflow or underflow when the norm itself is a normal float."""
    A = np.asarray(A, dtype=float)
    if A.ndim == 1:
        return np.abs(A)
    s2 = np.einsum("ij,ij->i", A, A)  # einsum raises no floating-point warnings
    if plain_squares(s2):
        return np.sqrt(s2)
    bad = ~(s2 <= SAFE_SQUARE) | (s2 < 1.0 / SAFE_SQUARE)
    bad &= ~(s2 == 0) | np.any(A != 0, axis=1)  # a zero row is fine
    out = np.sqrt(s2)
    if bad.any():
        B = A[bad]
        big = np.max(np.abs(B), axis=1)
        with np.errstate(over="ignore"):
            out[bad] = big * np.sqrt(np.sum((B / big[:, None]) ** 2, axis=1))
    return out


def norm(a) -> float:
    """Euclidean norm of all entries of ``a`` (overflow- and underflow-safe, :func:`row_norms`)."""
    a = np.asarray(a, dtype=float).ravel()
    return float(row_norms(a[None, :])[0]) if a.size else 0.0


def power_of_two(value: float) -> float:
    """The power of two nearest to ``value > 0`` from below (``2^floor(log2 value)``), 1 for 0
    or a non-finite value; within the normal float range."""
    if not (np.isfinite(value) and value > 0):
        return 1.0
    exponent = int(np.clip(np.frexp(value)[1] - 1, -1022, 1023))
    return float(np.ldexp(1.0, exponent))
