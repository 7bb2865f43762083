"""How sure a solver result is: its ``status`` and the warning an uncertified result emits.

Every solver result of pcheck (``FunctionSpaceFit``, ``BoundsND``, ``PatternFit``,
``Penalty``, ``NetworkFit``, ``WidthVerdict``) carries ``certified`` (bool) and ``status`` (one
of the strings below). A public function that returns an uncertified result emits exactly one
:class:`UncertifiedWarning` naming the status and the gap reached; solvers called inside another
solver do not warn (the outer result states what its own certificate reached).
"""

from __future__ import annotations

import warnings

import numpy as np

#: The certificate closed: the gap is at most the tolerance the result states.
OPTIMAL = "optimal"
#: A certified lower bound and an upper bound exist, but their gap stayed above the tolerance.
GAP_NOT_REACHED = "gap not reached"
#: Only an upper bound (a feasible point) is known; the lower bound is the trivial one.
UPPER_ONLY = "upper bound only"
#: The exchange stopped on purpose once its certified lower bound exceeded ``stop_above``.
STOPPED_ABOVE = "stopped above stop_above"
#: The input sits so close to a tolerance that the exact answer cannot be told from rounding.
ILL_CONDITIONED = "ill-conditioned"
#: A width verdict whose certificate did not close (neither reached nor refuted).
UNDECIDED = "undecided"


class UncertifiedWarning(UserWarning):
    """A pcheck solver returned a result whose certificate did not close (``.certified`` is
    False); the message names the result, its ``status`` and the gap reached."""


def relative_gap(upper: float, lower: float) -> float:
    """``(upper - lower) / max(|upper|, tiny)``, at least 0 (a lower bound above the upper one
    by rounding is a closed gap)."""
    return max((upper - lower) / max(abs(upper), np.finfo(float).tiny), 0.0)


def warn_uncertified(what: str, status: str, gap: float, tolerance: float | None = None, *,
                     stacklevel: int = 3) -> None:
    """Emit the :class:`UncertifiedWarning` of an uncertified ``what`` (e.g. "fit_function_space")."""
    bar = "" if tolerance is None else f" (tolerance {tolerance:.1e})"
    warnings.warn(f"{what}: result not certified, status {status!r}, relative gap reached {gap:.3e}{bar}; "
                  "read .lower_bound/.objective as an interval, not as the optimum",
                  UncertifiedWarning, stacklevel=stacklevel)
