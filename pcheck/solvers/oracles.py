"""Brute-force oracles the tests compare pcheck's solvers against: the same programs written
plainly in cvxpy and solved by Clarabel at its defaults (:func:`pcheck.solvers.conic.solve_cvxpy`).
They certify nothing; a test compares them with a certified interval."""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from pcheck.core.angles import ramps
from pcheck.core.costs import angle_atom_cost, atom_cost
from pcheck.core.variant import as_variant
from pcheck.solvers import conic


def grid_cvxpy(x, Y, lam, variant, phi) -> float:
    """The 1D function-space problem (:mod:`pcheck.problems.exchange_1d`) with atoms restricted to
    the angles ``phi`` (e.g. :func:`pcheck.problems.exchange_1d.kink_grid`), a group lasso written directly in cvxpy and solved by
    Clarabel. An upper bound of the optimum, equal to it when ``phi`` holds the optimal
    atoms."""
    variant = as_variant(variant)
    N, d = Y.shape
    M, c = cp.Variable((len(phi), d)), cp.Variable(d)
    F = ramps(x, phi) @ M + np.ones((N, 1)) @ cp.reshape(c, (1, d), order="C")
    reg = 2 * cp.sum(cp.multiply(angle_atom_cost(phi, variant), cp.norm(M, 2, axis=1)))
    if variant.biases_regularized:
        reg = reg + cp.sum_squares(c)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(F - Y) + lam * reg))
    conic.solve_cvxpy(prob)
    return prob.value


def penalty_cvxpy(prog, variant="7") -> float:
    """The exact-penalty program of :mod:`pcheck.problems.penalty` for ``prog`` (a
    :class:`~pcheck.problems.penalty.HyperplaneProgram`: ``s, r, J, L, C``) written plainly in
    cvxpy (the reference of the tests and the benchmark's baseline): canonical and mirrored masses ``alpha, beta``
    with ``alpha + beta = J``, the affine part ``G`` with its nuclear norm, ``c``, ``e``, ``a``."""
    variant = as_variant(variant, allowed=("7", "8", "11", "12"))
    K, d, d_in = prog.J.shape[0], prog.d_out, prog.d_in
    alpha, beta, G = cp.Variable((K, d)), cp.Variable((K, d)), cp.Variable((d, d_in + 1))
    c, e, a = cp.Variable(d), cp.Variable(d), cp.Variable((d, d_in))
    omega = atom_cost(prog.r, variant)
    atoms_cost = omega @ cp.norm(alpha, 2, axis=1) + omega @ cp.norm(beta, 2, axis=1) if K else 0
    slope = G[:, :d_in] == prog.L + (beta.T @ prog.s if K else 0) - a
    intercept = G[:, d_in] == prog.C - (prog.r @ beta if K else 0) - c - e
    cons = [slope] + ([alpha + beta == prog.J] if K else [])
    if not variant.biases_regularized:
        objective, cons = atoms_cost + 2 * cp.normNuc(G[:, :d_in]), cons + [a == 0]
    else:
        objective = atoms_cost + 2 * cp.normNuc(G) + cp.norm(e, 2) + cp.sum_squares(c)
        objective += {None: 0, "frobenius": cp.sum_squares(a), "schatten1": cp.normNuc(a)}[variant.skip]
        cons += [intercept] + ([a == 0] if variant.skip is None else [])
    problem = cp.Problem(cp.Minimize(objective), cons)
    conic.solve_cvxpy(problem)
    if problem.status != cp.OPTIMAL:
        raise RuntimeError(f"the cvxpy reference did not converge: status {problem.status}")
    return float(problem.value)
