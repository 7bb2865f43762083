"""L-BFGS through scipy (``L-BFGS-B`` without bounds) for the non-convex eq. (4) trainings.

BLAS runs single-threaded inside: these problems have a few hundred to a few thousand
parameters, too small to gain from threads, and on a shared 2-core machine threaded BLAS
inside scipy's ``setulb`` ran 10-30x slower (0.6 s vs 17 s on the Corollary 3.3 runs).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from scipy import optimize
from threadpoolctl import threadpool_limits


class Minimum(NamedTuple):
    """The point L-BFGS stopped at, its value, iterations and function evaluations."""

    x: np.ndarray
    value: float
    iterations: int
    evaluations: int


def minimize(fun: Callable, x0, *, maxiter: int, gtol: float, ftol: float) -> Minimum:
    """Minimize ``fun(x) -> (value, gradient)`` from ``x0``; stops after ``maxiter``
    iterations, at projected-gradient sup-norm ``<= gtol`` or relative decrease ``<= ftol``."""
    with threadpool_limits(1, user_api="blas"):
        res = optimize.minimize(fun, np.asarray(x0, dtype=float), jac=True, method="L-BFGS-B",
                                options=dict(maxiter=maxiter, gtol=gtol, ftol=ftol))
    return Minimum(res.x, float(res.fun), int(res.nit), int(res.nfev))
