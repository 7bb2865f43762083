"""The dual of the function-space problem (HTW eq. 5), any input dimension.

With residual multipliers ``alpha (N, d_out)`` (at an optimum ``alpha = 2 (Y - f(X))``),

.. math:: D(\\alpha) = \\langle \\alpha, Y\\rangle - \\tfrac14\\|\\alpha\\|_F^2
          - \\tfrac{1}{4\\lambda}\\Big\\|\\sum_i \\alpha_i\\Big\\|^2

(biases unregularized, eq. 8: without the last term, and ``sum_i alpha_i = 0``), subject to
``||sum_i alpha_i relu(<u, (x_i, 1)>)|| <= 2 lam cost(u)`` for every atom direction ``u``
(:mod:`pcheck.problems.dual_1d` checks it exactly in 1D, :mod:`pcheck.problems.bounds_nd` for
``d_in > 1``). Every feasible ``alpha`` gives a lower bound ``D(alpha)`` of (5).
"""

from __future__ import annotations

import numpy as np

from pcheck.core.variant import as_variant


def dual_value(alpha: np.ndarray, Y: np.ndarray, lam: float, variant: str) -> float:
    """``D(alpha)`` of the module docstring (without the feasibility constraints)."""
    variant = as_variant(variant)
    val = float(np.sum(alpha * Y)) - 0.25 * float(np.sum(alpha * alpha))
    if variant.biases_regularized:
        val -= float(np.sum(alpha.sum(axis=0) ** 2)) / (4.0 * lam)
    return val


def best_scaling(alpha, Y, lam, variant, worst) -> float:
    """``argmax_{0 <= t <= 1/worst} D(t alpha)`` (``D(t alpha) = t lin + t^2 quad``, concave);
    ``worst`` is the largest ratio of the dual constraint at ``alpha``, so ``t alpha`` is
    feasible. 0 when no finite scale exists."""
    lin = float(np.sum(alpha * Y))
    quad = dual_value(alpha, Y, lam, variant) - lin  # quad <= 0
    t_max = 1.0 / worst if worst > 0 else np.inf
    t = t_max if quad == 0 else min(t_max, max(0.0, lin / (-2.0 * quad)))
    return t if np.isfinite(t) else 0.0
