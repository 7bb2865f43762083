"""The one wrapper around the conic solver: Clarabel settings, cones and the fallback policy.

Every conic program of pcheck goes through here: the exact penalty (:mod:`pcheck.problems.penalty`,
its absorbed-split LP), the 1D exchange method's restricted master
(:mod:`pcheck.problems.exchange_1d`), and through cvxpy the ``d_in > 1`` masters
(:mod:`pcheck.problems.bounds_nd`, :mod:`pcheck.problems.patterns`) and the test oracles
(:mod:`pcheck.solvers.oracles`). Callers pass the tolerance their certificate needs, with its
reason stated where it is defined; a solver's answer is never trusted as such: the caller
evaluates a primal value and a dual bound on the original problem.

Fallback policy: a cvxpy solve that fails at the requested tolerance (Clarabel can stall on
many near-parallel atoms) is repeated at Clarabel's default tolerances; "inaccurate" is not an
error, because the certificate judges the point. A direct solve reports its status and leaves
the decision to the caller.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import clarabel
import cvxpy as cp
import numpy as np
import scipy.sparse as sp

#: Interior-point iterations at most. Reason: Clarabel converges in 20-60 iterations on every
#: program of pcheck that is well posed; 200 ends a stalled solve without cutting a slow one.
MAX_ITER = 200

_CONES = {"zero": clarabel.ZeroConeT, "nonneg": clarabel.NonnegativeConeT, "soc": clarabel.SecondOrderConeT,
          "psd": clarabel.PSDTriangleConeT}


class Solution(NamedTuple):
    """A direct Clarabel solve: primal ``x``, dual ``z`` (one entry per constraint row) and
    Clarabel's ``status`` ("Solved", "AlmostSolved", ...)."""

    x: np.ndarray
    z: np.ndarray
    status: str

    @property
    def solved(self) -> bool:
        return self.status in ("Solved", "AlmostSolved")


def settings(tol: float, *, ktratio: float | None = None, kkt: str | None = None) -> clarabel.DefaultSettings:
    """Clarabel's settings at gap and feasibility tolerance ``tol`` (``ktratio``: the KKT ratio
    tolerance, ``kkt``: the direct solve method), quiet, at most :data:`MAX_ITER` iterations."""
    s = clarabel.DefaultSettings()
    s.verbose = False
    s.tol_gap_abs = s.tol_gap_rel = s.tol_feas = tol
    if ktratio is not None:
        s.tol_ktratio = ktratio
    if kkt is not None:
        s.direct_solve_method = kkt
    s.max_iter = MAX_ITER
    return s


def solve(P, q, A, b, cones, *, tol: float, ktratio: float | None = None, kkt: str | None = None) -> Solution:
    """``min x^T P x / 2 + q^T x`` s.t. ``A x + s = b``, ``s`` in the product of ``cones``
    (``[(kind, dim), ...]``, kind one of "zero", "nonneg", "soc", "psd"); ``P`` symmetric (only
    its upper triangle is passed on)."""
    solver = clarabel.DefaultSolver(sp.triu(sp.csc_matrix(P), format="csc"), np.asarray(q, float), sp.csc_matrix(A),
                                    np.asarray(b, float), [_CONES[kind](dim) for kind, dim in cones],
                                    settings(tol, ktratio=ktratio, kkt=kkt))
    sol = solver.solve()
    return Solution(np.asarray(sol.x), np.asarray(sol.z), str(sol.status))


def solve_cvxpy(problem: cp.Problem, *, tol: float | None = None) -> None:
    """Solve a cvxpy ``problem`` with Clarabel at ``tol`` (Clarabel's defaults when None), falling
    back to the defaults when the tight solve fails (module docstring)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Solution may be inaccurate")
        if tol is None:
            problem.solve(solver=cp.CLARABEL)
            return
        try:
            problem.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol)
        except cp.error.SolverError:
            problem.solve(solver=cp.CLARABEL)
