"""Assertion helpers with their tolerances, each stated once with its reason.

Exact identities between float computations that differ only in summation order are
compared relative to the *condition scale* of the sum (the sum of absolute values of
its terms), not to the result, so that cancellation cannot make a correct result look
wrong. Optimization results are compared through certificates: a value is accepted
when it lies inside the certified interval ``[lower, upper]`` widened by the solver's
stated relative gap.
"""

from __future__ import annotations

import numpy as np

from pcheck.core.tolerances import RTOL_CERTIFIED, RTOL_CERTIFIED_ND, RTOL_REORDER

__all__ = ["RTOL_REORDER", "RTOL_CERTIFIED", "RTOL_CERTIFIED_ND", "assert_close_scaled", "relative_error",
           "assert_rel_close", "assert_certified", "assert_certificates_agree"]


def assert_close_scaled(actual, expected, scale, *, rtol: float = RTOL_REORDER, what: str = "value"):
    """``|actual - expected| <= rtol * max(scale, tiny)`` elementwise, where ``scale`` is the
    condition scale (sum of the absolute values of the summed terms)."""
    actual, expected, scale = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (actual, expected, scale)))
    if not (np.all(np.isfinite(actual)) and np.all(np.isfinite(expected))):
        raise AssertionError(f"{what}: non-finite entries")
    err = np.abs(actual - expected)
    bound = rtol * np.maximum(scale, np.finfo(float).tiny)
    if np.any(err > bound):
        i = np.unravel_index(np.argmax(err / bound), err.shape)
        raise AssertionError(
            f"{what}: |{actual[i]!r} - {expected[i]!r}| = {err[i]:.3e} exceeds {rtol:.1e} x scale {scale[i]:.3e}"
        )
    return float(np.max(err / np.maximum(scale, np.finfo(float).tiny), initial=0.0))


def relative_error(actual: float, expected: float) -> float:
    """``|a - e| / max(|a|, |e|, tiny)``."""
    denom = max(abs(actual), abs(expected), np.finfo(float).tiny)
    return abs(actual - expected) / denom


def assert_rel_close(actual: float, expected: float, *, rtol: float, what: str = "value") -> float:
    """Scalar relative comparison; returns the relative error."""
    err = relative_error(float(actual), float(expected))
    if not err <= rtol:
        raise AssertionError(f"{what}: {actual!r} vs {expected!r}, relative error {err:.3e} > {rtol:.1e}")
    return err


def assert_certified(value: float, lower: float, upper: float, *, rtol: float = RTOL_CERTIFIED, what: str = "value"):
    """``value`` lies in the certified interval ``[lower, upper]`` up to ``rtol`` relative."""
    slack = rtol * max(abs(lower), abs(upper), 1.0)
    if not (lower - slack <= value <= upper + slack):
        raise AssertionError(f"{what}: {value!r} outside certified [{lower!r}, {upper!r}] (slack {slack:.1e})")


def assert_certificates_agree(a, b, *, what: str = "optimal values"):
    """Two certified results ``(lower, upper)`` of the same optimum must overlap: neither
    lower bound may exceed the other's upper bound beyond the certified tolerance."""
    (la, ua), (lb, ub) = a, b
    slack = RTOL_CERTIFIED * max(abs(ua), abs(ub), 1.0)
    if la > ub + slack or lb > ua + slack:
        raise AssertionError(f"{what}: certified intervals [{la!r}, {ua!r}] and [{lb!r}, {ub!r}] do not overlap")
