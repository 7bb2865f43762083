"""A certified interval for the weight-decay problem (HTW eq. 4, variant "7", over all
widths) with ``d_in >= 1`` and any ``d_out``.

**Primal.** With ``x~ = (x, 1)`` and neurons ``mu_k relu(<u_k, x~>)``, ``u_k`` on the unit
sphere of ``R^{d_in+1}``, balancing every neuron (``w = mu / tau``, ``(v, b) = tau u``,
``tau^2 = ||mu||``) turns eq. (4) into the group lasso

.. math:: P = \\min_{u, \\mu, c} \\|\\Psi \\mu + 1 c^T - Y\\|_F^2
          + \\lambda\\Big(2\\sum_k \\|\\mu_k\\| + \\|c\\|^2\\Big),
          \\qquad \\Psi_{ik} = \\mathrm{relu}(\\langle u_k, \\tilde x_i\\rangle).

On a finite set of directions this is the restricted master (Clarabel); its network's
eq.-(4) value is ``upper``.

**Dual** (as in :mod:`pcheck.function_space`, variant "7"):

.. math:: D(\\alpha) = \\langle \\alpha, Y\\rangle - \\tfrac14\\|\\alpha\\|_F^2
          - \\tfrac{1}{4\\lambda}\\Big\\|\\sum_i \\alpha_i\\Big\\|^2
          \\quad\\text{s.t.}\\quad \\|\\alpha^T \\mathrm{relu}(\\tilde X u)\\| \\le 2\\lambda
          \\ \\ \\forall \\|u\\| = 1.

``relu(X~ u) = D X~ u`` with ``D`` the pattern of an open cell of the arrangement
``{u : <x~_i, u> = 0}`` whose closure holds ``u``. :func:`cell_patterns` enumerates every
open cell exactly; on each closed cell :func:`worst_ratio` computes the sup of
``||alpha^T D X~ u||`` exactly (face-by-face eigenvectors; the spectral norm
``||alpha^T D X~||_2`` is a valid but much looser bound: relative gaps ~0.7 instead of
~1e-4 on N = 5 random data). Scaling ``alpha = 2 (Y - F)`` by ``t <= 1 / worst`` gives a
feasible dual point and ``lower = D(t alpha)`` is certified.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cvxpy as cp
import numpy as np
from scipy import linalg, optimize

from ._validate import as_count, as_dataset, as_scalar
from .function_space import dual_value, network_objective
from .network import Stack

#: A data hyperplane whose value at an enumeration ray is within this fraction of
#: ``||x~_i||`` counts as passing through it (both sides are then tried). Reason: rays come
#: from an SVD, exact to ~1e-15 relative; a generous tie only adds candidate patterns,
#: which the LP test then filters, so it cannot lose a cell.
TIE_RTOL = 1e-9
#: Clarabel's tolerances for the master. Reason: the master only picks the network;
#: ``upper`` is eq. (4) evaluated on it and ``lower`` comes from the dual certificate.
MASTER_TOL = 1e-10
#: Master masses below this fraction of the largest are dropped from the returned
#: network. Reason: interior-point solvers leave ~1e-9 relative masses on inactive
#: directions; dropping them changes eq. (4) of the network, which is evaluated after.
SUPPORT_RTOL = 1e-7

#: Relative margin added to the computed constraint maximum. Reason: the maximizer is an
#: eigenvector computed to ~1e-15 relative; 1e-12 covers that rounding, so the scaled dual
#: point is feasible for the exact constraint.
ROUND_MARGIN = 1e-12


@dataclass(frozen=True)
class BoundsND:
    """``lower <= inf over widths of eq. (4) <= upper``; ``upper`` is eq. (4) of ``stack``,
    ``lower`` the dual value ``D(t alpha)``, ``gap = (upper - lower) / upper``;
    ``worst`` is ``max_D ||alpha^T D X~||_2 / (2 lam)`` before scaling, ``patterns`` the
    number of open cells of the arrangement."""

    stack: Stack
    upper: float
    lower: float
    gap: float
    lam: float
    worst: float
    patterns: int


def lifted(X: np.ndarray) -> np.ndarray:
    """``X~ = [X, 1]``, shape ``(N, d_in + 1)``."""
    return np.hstack([X, np.ones((X.shape[0], 1))])


def cell_patterns(X: np.ndarray) -> np.ndarray:
    """The patterns ``1[<x~_i, u> > 0]`` of all open cells of the central arrangement of
    the hyperplanes ``<x~_i, u> = 0``, as rows of a boolean ``(P, N)`` array.

    Work in the row space of ``X~`` (rank ``r``; the arrangement is that of ``R^r`` times its
    lineality space). Every open cell is then a pointed cone, so its closure has an
    extreme ray, which is where ``r - 1`` independent hyperplanes meet; at that ray the
    cell's pattern agrees with the ray's signs on the hyperplanes not through it. So the
    candidates are all sign choices on the hyperplanes through each such ray, and a
    candidate is a cell iff the LP ``(2D - I) X~ u >= 1`` is feasible (the cone is open
    and homogeneous, so margin 1 loses no cell)."""
    Xt = lifted(X)
    _, s, Vt = np.linalg.svd(Xt, full_matrices=False)
    r = int(np.sum(s > s[0] * 1e-12))
    Xr = Xt @ Vt[:r].T
    norms = np.linalg.norm(Xr, axis=1)
    cells = set()
    for S in itertools.combinations(range(Xr.shape[0]), r - 1):
        sub = Xr[list(S)]
        if r > 1 and np.linalg.matrix_rank(sub) < r - 1:
            continue
        ray = linalg.null_space(sub)[:, 0] if r > 1 else np.ones(1)
        vals = Xr @ ray
        tied = np.flatnonzero(np.abs(vals) <= TIE_RTOL * norms)
        for sign in (1.0, -1.0):
            base = sign * vals > 0
            for choice in itertools.product((False, True), repeat=len(tied)):
                pattern = base.copy()
                pattern[tied] = choice
                key = tuple(pattern)
                if key not in cells and _is_cell(Xr, pattern):
                    cells.add(key)
    return np.array(sorted(cells), dtype=bool)


def _is_cell(Xr: np.ndarray, pattern: np.ndarray) -> bool:
    """Feasibility of ``(2D - I) Xr u >= 1`` (the open cell of ``pattern`` is non-empty)."""
    A = -np.where(pattern, 1.0, -1.0)[:, None] * Xr
    res = optimize.linprog(np.zeros(Xr.shape[1]), A_ub=A, b_ub=-np.ones(Xr.shape[0]),
                           bounds=[(None, None)] * Xr.shape[1], method="highs")
    return res.status == 0


def worst_ratio(Xt: np.ndarray, alpha: np.ndarray, lam: float, patterns: np.ndarray):
    """``sup_u ||alpha^T relu(X~ u)|| / (2 lam)`` over the unit sphere, exactly: per cell
    ``D`` the sup of ``||alpha^T D X~ u||`` over the closed cone ``(2D - I) X~ u >= 0`` is
    attained in the relative interior of some face ``{<x~_i, u> = 0, i in T}`` (``|T| <=
    d_in``), where it is stationary, i.e. an eigenvector of the Gram matrix restricted to
    that face's span. All such eigenvectors lying in the closed cone (up to ``TIE_RTOL``,
    which only adds candidates) are evaluated. Returns the ratio times ``1 + ROUND_MARGIN``
    and per cell a maximizer (an exchange direction)."""
    norms = np.linalg.norm(Xt, axis=1)
    spans = [linalg.null_space(Xt[list(T)]) if T else np.eye(Xt.shape[1])
             for k in range(Xt.shape[1]) for T in itertools.combinations(range(Xt.shape[0]), k)]
    best, dirs = 0.0, []
    for D in patterns:
        M = alpha[D].T @ Xt[D]
        sign = np.where(D, 1.0, -1.0)
        top, arg = 0.0, np.ones(Xt.shape[1]) / np.sqrt(Xt.shape[1])
        for L in spans:
            if L.shape[1] == 0:
                continue
            _, vecs = np.linalg.eigh(L.T @ (M.T @ M) @ L)
            for u in np.vstack([(L @ vecs).T, -(L @ vecs).T]):
                if np.all(sign * (Xt @ u) >= -TIE_RTOL * norms):
                    val = float(np.linalg.norm(M @ u))
                    if val > top:
                        top, arg = val, u
        best = max(best, top)
        dirs.append(arg)
    return best * (1.0 + ROUND_MARGIN) / (2.0 * lam), np.array(dirs)


def master(Xt, Y, lam, U):
    """The restricted master (module docstring) over the unit directions ``U (K, d_in+1)``;
    returns masses ``mu (K, d_out)`` and ``c (d_out,)``."""
    Psi = np.maximum(Xt @ U.T, 0.0)
    mu = cp.Variable((U.shape[0], Y.shape[1]))
    c = cp.Variable(Y.shape[1])
    F = Psi @ mu + np.ones((Xt.shape[0], 1)) @ cp.reshape(c, (1, Y.shape[1]), order="C")
    cost = cp.sum_squares(F - Y) + lam * (2 * cp.sum(cp.norm(mu, 2, axis=1)) + cp.sum_squares(c))
    cp.Problem(cp.Minimize(cost)).solve(solver=cp.CLARABEL, tol_gap_abs=MASTER_TOL,
                                        tol_gap_rel=MASTER_TOL, tol_feas=MASTER_TOL)
    return np.asarray(mu.value), np.asarray(c.value)


def balanced_stack(U, mu, c) -> Stack:
    """``sum_k mu_k relu(<u_k, x~>) + c`` with ``(v, b) = tau u``, ``w = mu / tau``,
    ``tau^2 = ||mu||`` (cost ``2 ||mu_k||``, HTW eq. 4 balanced)."""
    nm = np.linalg.norm(mu, axis=1)
    keep = nm > SUPPORT_RTOL * max(float(nm.max(initial=0.0)), np.finfo(float).tiny)
    U, mu, tau = U[keep], mu[keep], np.sqrt(nm[keep])
    return Stack(U[:, :-1] * tau[:, None], U[:, -1] * tau, (mu / tau[:, None]).T, c)


def certified_lower(Y, lam, alpha, worst) -> float:
    """``max_{0 <= t <= 1/worst} D(t alpha)``: ``D(t alpha) = t lin + t^2 quad``, concave."""
    lin = float(np.sum(alpha * Y))
    quad = dual_value(alpha, Y, lam, "7") - lin
    t_max = 1.0 / worst if worst > 0 else np.inf
    t = t_max if quad == 0 else min(t_max, max(0.0, lin / (-2.0 * quad)))
    return 0.0 if not np.isfinite(t) else t * lin + t * t * quad


def function_space_bounds(X, Y, lam, *, n_candidates=200, seed=0, rounds=4) -> BoundsND:
    """Certified ``lower <= min over widths of eq. (4) ("7") <= upper`` (module docstring).

    The master starts from ``n_candidates`` random unit directions plus the data-driven
    ones (the top singular vectors of every cell, ``±x~_i``); each of ``rounds`` exchange
    steps adds the top singular vectors of ``alpha^T D X~`` for ``alpha = 2 (Y - F)``."""
    X, Y = as_dataset(X, Y)
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    n_candidates = as_count(n_candidates, "n_candidates")
    rounds = as_count(rounds, "rounds", minimum=0)
    seed = as_count(seed, "seed", minimum=0)
    Xt = lifted(X)
    patterns = cell_patterns(X)
    rng = np.random.default_rng(seed)
    U = np.vstack([rng.standard_normal((n_candidates, Xt.shape[1])), Xt, -Xt,
                   worst_ratio(Xt, Y, lam, patterns)[1]])
    U = np.vstack([U, -U[-patterns.shape[0]:]])
    for step in range(rounds + 1):
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        mu, c = master(Xt, Y, lam, U)
        stack = balanced_stack(U, mu, c)
        alpha = 2.0 * (Y - stack(X))
        worst, dirs = worst_ratio(Xt, alpha, lam, patterns)
        if step < rounds:
            U = np.vstack([U, dirs, -dirs])
    upper = network_objective(stack, X, Y, lam, "7")
    lower = certified_lower(Y, lam, alpha, worst)
    return BoundsND(stack, upper, lower, (upper - lower) / upper, lam, worst, int(patterns.shape[0]))
