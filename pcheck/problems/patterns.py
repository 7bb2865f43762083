"""The weight-decay problem (HTW eq. 4, over all widths) for ``d_in >= 1`` through the
convex reformulation over activation patterns (Pilanci & Ergen, ICML 2020).

With ``x~_i = (x_i, 1)`` and a pattern ``D = diag(1[<x~_i, u> >= 0])``, every neuron is
``w relu(<(v, b), x~>)``; balanced it costs ``2 ||w|| ||(v, b)||`` ("7"; "8": ``2 ||w|| ||v||``,
``b`` and ``c`` free). For ``d_out = 1`` the problem over all widths equals

.. math:: \\min_{u_D, u'_D, c} \\Big\\|\\sum_D D \\tilde X (u_D - u'_D) + c - y\\Big\\|^2
          + \\lambda\\Big(2\\sum_D (\\|u_D\\| + \\|u'_D\\|) + c^2\\Big)
          \\quad\\text{s.t. } (2D - I)\\tilde X u_D \\ge 0,\\ (2D - I)\\tilde X u'_D \\ge 0

when the sum runs over **all** patterns (norms of the ``v`` part only for "8", ``c`` free).
:func:`activation_patterns` enumerates them exactly for data in general position (every
cell of the central hyperplane arrangement touches a ray where ``d_in`` of the hyperplanes
meet; the cells around it are its ``2^d_in`` sign choices) or samples them (then the
value is an upper bound only). The returned network's eq.-(4) value is always an upper
bound. For ``d_out > 1`` pcheck does not offer this reformulation (ValueError).

**Certificate.** ``lower`` is the dual bound of :mod:`pcheck.problems.bounds_nd` at the returned
network: ``alpha = 2 (y - F)`` ("8": centered), scaled by the exact sup of the dual
constraint over every open cell of the arrangement (enumerated exactly, independently of
the patterns the program used, so sampled programs are certified too). Clarabel solves the
program to ``PATTERN_TOL``; the measured gaps are 1e-9 to 2e-8 (N <= 12, d_in = 2, 3) and
1.4e-7 at N = 20, d_in = 2.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cvxpy as cp
import numpy as np

from pcheck.core import status
from pcheck.core.network import Stack
from pcheck.core.objective import training_objective
from pcheck.core.tolerances import RTOL_CERTIFIED_ND
from pcheck.core.validate import as_count, as_dataset, as_scalar, as_seed
from pcheck.core.variant import as_variant
from pcheck.problems.bounds_nd import MAX_DUAL_WORK, certify, dual_work
from pcheck.solvers import conic

#: Exact enumeration is used while ``C(N, d_in) * 2^(d_in+1)`` candidate patterns stay below
#: this; beyond, patterns are sampled. Reason: one conic variable block per pattern.
MAX_ENUMERATED = 4000
#: A data hyperplane within this relative distance of an enumeration ray counts as passing
#: through it (data not in general position: the enumeration is then labelled inexact).
#: Reason: rays come from an SVD, accurate to ~1e-15 relative.
GENERAL_POSITION_TOL = 1e-12
#: Clarabel's gap and feasibility tolerances for the pattern program. Reason: at the
#: defaults (1e-8) the certified gap of the network was up to 1.4e-7; 1e-9 brings it to
#: <= 2e-8 on the same instances, and 1e-10 makes Clarabel report "inaccurate".
PATTERN_TOL = 1e-9


@dataclass(frozen=True)
class PatternFit:
    """``objective``: eq. (4) at ``stack`` (an upper bound of the optimum over all widths);
    ``convex_value``: the convex program's value, equal to that optimum up to the conic
    solver's tolerance when ``exact`` (all patterns enumerated, ``d_out = 1``); ``bound``
    says which: "exact" or "upper (sampled patterns)". ``lower``: a certified lower bound of
    that optimum (module docstring), ``gap = (objective - lower) / objective``. ``status``:
    "upper bound only" when the cell enumeration exceeds ``bounds_nd.MAX_DUAL_WORK`` (then
    ``lower = 0``: eq. 4 is a sum of squares, never negative), else "optimal" when
    ``gap <= RTOL_CERTIFIED_ND`` (the bar the conic solve reaches) and "gap not reached"
    otherwise (``lower`` is still a valid bound); ``certified`` is True for "optimal" only."""

    stack: Stack
    objective: float
    convex_value: float
    exact: bool
    bound: str
    patterns: int
    lower: float
    gap: float
    certified: bool
    status: str = status.GAP_NOT_REACHED


def activation_patterns(X, *, samples: int | None = None, seed=0) -> tuple[np.ndarray, bool]:
    """Distinct patterns ``1[<x~_i, u> >= 0]`` as rows of a boolean ``(P, N)`` array and
    whether the enumeration is exact (module docstring)."""
    N, d = X.shape
    Xt = np.hstack([X, np.ones((N, 1))])
    found = []
    exact = samples is None and math.comb(N, d) * 2 ** (d + 1) <= MAX_ENUMERATED
    if exact:
        for S in itertools.combinations(range(N), d):
            ray = np.linalg.svd(Xt[list(S)])[2][-1]  # the direction where these d hyperplanes meet
            others = np.delete(Xt @ ray, list(S))
            if np.any(np.abs(others) <= GENERAL_POSITION_TOL * np.linalg.norm(np.delete(Xt, list(S), 0), axis=1)):
                exact = False  # more than d hyperplanes meet here: the sign choices below miss cells
            for sign in (1.0, -1.0):
                base = sign * (Xt @ ray) >= 0
                for choice in itertools.product((False, True), repeat=d):
                    pattern = base.copy()
                    pattern[list(S)] = choice
                    found.append(pattern)
    rng = np.random.default_rng(as_seed(seed))
    U = rng.standard_normal((d + 1, samples if samples is not None else 200))
    found.extend((Xt @ U >= 0).T)
    found.append(np.ones(N, bool))
    return np.unique(np.array(found), axis=0), exact


def fit_patterns(X, Y, lam, variant="7", *, samples: int | None = None, seed=0, warn: bool = True) -> PatternFit:
    """HTW eq. (4) over all widths for ``d_out = 1`` via the pattern program (module docstring);
    an uncertified result emits one :class:`pcheck.core.status.UncertifiedWarning` when ``warn``."""
    X, Y = as_dataset(X, Y)
    if Y.shape[1] != 1:
        raise ValueError(f"Y must have shape (N, 1): the pattern program is exact for d_out = 1, got d_out = {Y.shape[1]}")
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    variant = as_variant(variant, allowed=("7", "8"))
    if samples is not None:
        samples = as_count(samples, "samples")
    N, d = X.shape
    Xt = np.hstack([X, np.ones((N, 1))])
    D, exact = activation_patterns(X, samples=samples, seed=seed)
    P = D.shape[0]
    U, Up = cp.Variable((P, d + 1)), cp.Variable((P, d + 1))
    c = cp.Variable()
    fit = sum(cp.multiply(D[j].astype(float), Xt @ (U[j] - Up[j])) for j in range(P))
    sign = 2.0 * D - 1.0
    cons = [cp.multiply(sign, (Xt @ U.T).T) >= 0, cp.multiply(sign, (Xt @ Up.T).T) >= 0]
    part = slice(0, d) if not variant.biases_regularized else slice(0, d + 1)
    reg = 2 * (cp.sum(cp.norm(U[:, part], 2, axis=1)) + cp.sum(cp.norm(Up[:, part], 2, axis=1)))
    if variant.biases_regularized:
        reg = reg + cp.square(c)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(fit + c - Y[:, 0]) + lam * reg), cons)
    conic.solve_cvxpy(prob, tol=PATTERN_TOL)
    stack = _stack(U.value, Up.value, D, float(c.value), variant)
    objective = training_objective(stack, X, Y, lam, variant)
    bounded = dual_work(N, d, variant) <= MAX_DUAL_WORK
    lower = max(certify(X, Y, lam, variant, stack(X))[0], 0.0) if bounded else 0.0
    gap = (objective - lower) / max(objective, np.finfo(float).tiny)
    state = status.UPPER_ONLY if not bounded else status.OPTIMAL if gap <= RTOL_CERTIFIED_ND else status.GAP_NOT_REACHED
    if warn and state != status.OPTIMAL:
        status.warn_uncertified("fit_patterns", state, gap, RTOL_CERTIFIED_ND)
    return PatternFit(stack, objective, float(prob.value), exact, "exact" if exact else "upper (sampled patterns)",
                      P, lower, gap, state == status.OPTIMAL, state)


def _stack(U, Up, D, c, variant):
    """Balanced neurons ``+-sqrt(n) relu(<u/sqrt(n), x~>)`` with ``n`` the penalized norm of
    ``u``; in "8" a block with ``v = 0`` is a free constant ``+-b`` (all-active pattern) and
    goes into ``c``."""
    variant = as_variant(variant)
    part = slice(0, U.shape[1] - 1) if not variant.biases_regularized else slice(0, U.shape[1])
    rows, w = [], []
    for M, s in ((U, 1.0), (Up, -1.0)):
        for u, pattern in zip(M, D):
            n = float(np.linalg.norm(u[part]))
            if n > 0:
                rows.append(u / np.sqrt(n))
                w.append(s * np.sqrt(n))
            elif pattern.all():
                c += s * max(float(u[-1]), 0.0)
    rows = np.array(rows).reshape(-1, U.shape[1])
    return Stack(rows[:, :-1], rows[:, -1], np.array(w).reshape(1, -1), [c])
