"""Input validation at the public boundary.

Every public function normalizes its array arguments here once, with
``np.ascontiguousarray(x, float)``, so that the numba kernels compile a single
float64 signature each, and so that bad input fails with a message naming the
argument instead of a numba typing traceback or a silent NaN.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_array(value, name: str, *, ndim: int, shape: tuple | None = None) -> np.ndarray:
    """Return ``value`` as a finite, C-contiguous float64 array of ``ndim`` dimensions.

    ``shape`` may fix some axes (``None`` entries are free). Raises ``TypeError``
    for non-numeric input and ``ValueError`` for a wrong shape or NaN/inf entries,
    each naming ``name``.
    """
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating)
        or np.issubdtype(arr.dtype, np.integer)
        or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim != ndim:
        expected = _shape_text(shape) if shape is not None else f"{ndim} dimensions"
        raise ValueError(f"{name} must have shape {expected}, got shape {arr.shape}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(arr.shape, shape)):
            if want is not None and got != want:
                raise ValueError(
                    f"{name} must have shape {_shape_text(shape)}, got shape {arr.shape} "
                    f"(axis {axis} is {got}, expected {want})"
                )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf entries")
    return arr


def as_scalar(value, name: str, *, minimum: float | None = None, strict: bool = False) -> float:
    """Return ``value`` as a finite float, optionally bounded below (``> minimum`` if strict)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out}")
    if minimum is not None:
        if strict and not out > minimum:
            raise ValueError(f"{name} must be > {minimum}, got {out}")
        if not strict and not out >= minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {out}")
    return out


def as_count(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int ``>= minimum`` (widths, sample counts, seeds)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    out = int(value)
    if out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    return out


def as_dataset(X, Y, *, d_in: int | None = None, d_out: int | None = None):
    """Validate training data ``X (N, d_in)``, ``Y (N, d_out)``; N = 0 is an error."""
    X = as_array(X, "X", ndim=2, shape=(None, d_in))
    Y = as_array(Y, "Y", ndim=2, shape=(X.shape[0], d_out))
    if X.shape[0] == 0:
        raise ValueError("X must hold at least one data point (N >= 1), got N = 0")
    if X.shape[1] == 0:
        raise ValueError(f"X must have at least one input column (d_in >= 1), got shape {X.shape}")
    if Y.shape[1] == 0:
        raise ValueError(f"Y must have at least one output column (d_out >= 1), got shape {Y.shape}")
    return X, Y


def as_seed(value, name: str = "seed"):
    """A seed for ``np.random.default_rng``: None, an integer >= 0 or a ``np.random.Generator``;
    anything else is a ``TypeError``/``ValueError`` naming ``name`` (numpy's own message does not)."""
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence)):
        return value
    return as_count(value, name, minimum=0)


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
