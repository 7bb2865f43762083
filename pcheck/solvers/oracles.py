"""TODO docstring."""

from __future__ import annotations

import numpy as np

from pcheck.core.angles import ramps
from pcheck.core.costs import angle_atom_cost
from pcheck.core.variant import as_variant


def grid_cvxpy(x, Y, lam, variant, phi) -> float:
    """The test oracle: the problem of this module with atoms restricted to the angles
    ``phi`` (e.g. :func:`kink_grid`), a group lasso written directly in cvxpy and solved by
    Clarabel. An upper bound of the optimum, equal to it when ``phi`` holds the optimal
    atoms. cvxpy is imported here only."""
    variant = as_variant(variant)
    import cvxpy as cp

    N, d = Y.shape
    M, c = cp.Variable((len(phi), d)), cp.Variable(d)
    F = ramps(x, phi) @ M + np.ones((N, 1)) @ cp.reshape(c, (1, d), order="C")
    reg = 2 * cp.sum(cp.multiply(angle_atom_cost(phi, variant), cp.norm(M, 2, axis=1)))
    if variant.biases_regularized:
        reg = reg + cp.sum_squares(c)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(F - Y) + lam * reg))
    prob.solve(solver=cp.CLARABEL)
    return prob.value
