"""Univariate multi-task minimizers (Nakhleh, Shenouda & Nowak): merges of consecutive atoms
(the second-minimizer construction of the package docstring), connect-the-dots defects and
the certified connect-the-dots bound for penalized biases."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.angles import kink_angle
from pcheck.core.measure import atoms
from pcheck.core.network import Stack
from pcheck.core.objective import training_objective
from pcheck.problems.dual import dual_value
from pcheck.problems.dual_1d import feasible_dual_point
from pcheck.problems.function_space import fit_function_space
from pcheck.testing import RTOL_CERTIFIED

#: Masses count as positively parallel when ``1 - cos(angle) <= PARALLEL_TOL``: the solver's
#: masses carry the relative error of a 1e-9 gap, ~1e-8 in direction after the polish.
PARALLEL_TOL = 1e-8


#: An atom sits at a data point when its kink is within this distance of it (the solver's
#: Newton polish places kinks to ~1e-8).
AT_DATA_TOL = 1e-6


@dataclass(frozen=True)
class Merge:
    """Merging two atoms (kinks ``p_a``, ``p_b``) at ``q``: the objective of the merged
    network, its sup distance from the fit on ``[p_a, p_b]`` and the cosine of the masses."""

    p_a: float
    p_b: float
    q: float
    objective: float
    distance: float
    cosine: float


def atom_network(s, p, M, constant, c) -> Stack:
    """The stack ``sum_k M_k relu(s_k (x - p_k)) + constant + c`` (neuron ``v = s_k``,
    ``b = -s_k p_k``, ``w = M_k``; the constant as one ``v = 0, b = 1`` neuron)."""
    V = np.append(s, 0.0)[:, None]
    return Stack(V, np.append(-s * p, 1.0), np.column_stack([M.T, constant]), c)


def fit_atoms(fit):
    """``(s, p, M, constant, c)`` of the fit's stack (1D atoms, kink form ``p = s r``)."""
    a = atoms(fit.stack)
    s = a.s[:, 0]
    return s, s * a.r, a.m, a.constant, a.c


def consecutive_merges(fit, X, Y, variant):
    """Every merge of two same-direction atoms of ``fit`` sitting at consecutive distinct
    data points (module docstring), with the eq.-(4) objective of the merged network."""
    xs = np.unique(X[:, 0])
    s, p, M, constant, c = fit_atoms(fit)
    out = []
    for direction in (1.0, -1.0):
        at = {}
        for k in np.flatnonzero((s == direction) & (np.linalg.norm(M, axis=1) > 0)):
            hit = np.flatnonzero(np.abs(xs - p[k]) <= AT_DATA_TOL)
            if hit.size:
                at.setdefault(int(hit[0]), []).append(k)
        for i in range(len(xs) - 1):
            if i not in at or i + 1 not in at or len(at[i]) != 1 or len(at[i + 1]) != 1:
                continue
            a, b = at[i][0], at[i + 1][0]
            na, nb = np.linalg.norm(M[a]), np.linalg.norm(M[b])
            q = (na * p[a] + nb * p[b]) / (na + nb)
            keep = np.ones(len(p), bool)
            keep[[a, b]] = False
            merged = atom_network(np.append(s[keep], direction), np.append(p[keep], q),
                                  np.vstack([M[keep], M[a] + M[b]]), constant, c)
            grid = np.linspace(p[a], p[b], 201)[:, None]
            out.append(Merge(float(p[a]), float(p[b]), float(q), training_objective(merged, X, Y, fit.lam, variant, rescaled=True),
                             float(np.max(np.abs(merged(grid) - fit.stack(grid)))), float(M[a] @ M[b] / (na * nb))))
    return out


def second_minimizer(X, Y, lam, variant="8"):
    """``(fit, merge)``: a certified fit and a merge of it that is a different network function
    with objective within the certified gap of the optimum (a second minimizer), or
    ``(fit, None)`` when no consecutive merge qualifies."""
    fit = fit_function_space(X, Y, lam, variant)
    slack = RTOL_CERTIFIED * max(fit.objective, 1.0) + (fit.objective - fit.lower_bound)
    for m in consecutive_merges(fit, X, Y, variant):
        if m.objective <= fit.lower_bound + slack and m.distance > 1e-6 * max(1.0, np.max(np.abs(Y))):
            return fit, m
    return fit, None


def convex_single_task():
    """``x_i`` in [-1, 1] (5 points), ``y = x^2``: every consecutive slope change is +;
    ``lam = 0.01`` keeps the fit near interpolation."""
    X = np.array([[-1.0], [-0.5], [0.1], [0.4], [1.0]])
    return X, X**2, 0.01


def random_tasks(T: int, rng, N: int = 6):
    """``T`` Gaussian tasks on ``N`` sorted uniform inputs in [-1, 1]."""
    X = np.sort(rng.uniform(-1, 1, N))[:, None]
    return X, rng.standard_normal((N, T))


#: Kinks closer than this are one kink when counting positions: the solver's polish leaves
#: split atoms ~1e-8 apart (positions move by Newton steps to ~sqrt(gap) accuracy).
KINK_TOL = 1e-6


def distinct_kinks(fit) -> np.ndarray:
    """Sorted kink positions of ``fit`` with nonzero mass, merged within :data:`KINK_TOL`."""
    _, p, M, _, _ = fit_atoms(fit)
    p = np.sort(p[np.linalg.norm(M, axis=1) > 0])
    return p[np.concatenate([[True], np.diff(p) > KINK_TOL])] if p.size else p


#: The connect-the-dots defect below which a fit counts as the linear interpolant of its
#: own fitted values: the solver's kinks sit at data points to ~1e-8 after the polish, so a
#: piecewise-linear fit deviates from its interpolant by ~1e-8 x slope; 1e-6 leaves room.
CTD_TOL = 1e-6


def ctd_defect(fit, X) -> float:
    """``sup_{[x_1, x_N]} ||f - I f|| / max |f(x_i)|``, ``I f`` the connect-the-dots (piecewise
    linear) interpolant of ``f``'s values at the data: 0 iff ``f`` is linear between
    consecutive data points, i.e. is the min-norm H^1([x_1, x_N]) interpolant of its values."""
    x = X[:, 0]
    grid = np.linspace(x.min(), x.max(), 2001)
    f, fx = fit.stack(grid[:, None]), fit.stack(X)
    lin = np.column_stack([np.interp(grid, x, fx[:, k]) for k in range(fx.shape[1])])
    return float(np.max(np.abs(f - lin)) / max(np.max(np.abs(fx)), np.finfo(float).tiny))


def connect_the_dots_atoms(xs) -> np.ndarray:
    """Closed angle intervals (``fit_function_space(allowed=...)``) of the atoms a function
    that is connect-the-dots on ``[x_1, x_N]`` may use: kinks at the data points (both
    orientations, degenerate intervals) and whole arcs whose kinks lie outside ``[x_1, x_N]``
    (affine on the data hull; the arc through ``pi/2`` holds the ``v = 0`` neuron)."""
    ends = np.sort(np.concatenate([kink_angle(1, xs), kink_angle(-1, xs), [-np.pi / 2, 1.5 * np.pi]]))
    out = [[e, e] for e in ends[1:-1]]
    for a, b in zip(ends[:-1], ends[1:]):
        mid = 0.5 * (a + b)
        if np.cos(mid) == 0.0 or not xs[0] <= -np.tan(mid) <= xs[-1]:
            out.append([a, b])
    return np.array(out)


def affine_pair_ratio(alpha, x) -> float:
    """``max_{p in [x_1, x_N]} ||sum_i alpha_i (x_i - p)|| / sqrt(1 + p^2)``: the dual constraint
    (variant "7") of a cancelling pair ``m relu(x - p) - m relu(p - x) = m (x - p)`` at an interior
    ``p``, which costs ``4 ||m|| sqrt(1 + p^2)`` and keeps a function connect-the-dots; its bound is
    ``4 lam``. Exact: the ratio's square is a quotient of quadratics in ``p``, maximal at an end
    or at a root of ``B p^2 + (A - C) p - B``."""
    a, b = alpha.T @ x, alpha.sum(axis=0)
    A, B, C = float(b @ b), float(a @ b), float(a @ a)
    roots = np.roots([B, A - C, -B]) if B != 0.0 else np.zeros(0)
    ps = [x.min(), x.max()] + [r.real for r in roots if r.imag == 0.0 and x.min() <= r.real <= x.max()]
    return max(np.sqrt(max(C - 2 * p * B + p * p * A, 0.0) / (1 + p * p)) for p in ps)


def connect_the_dots_bound(X, Y, lam):
    """``(optimum fit, certified lower bound of eq. (4) over connect-the-dots functions)``,
    variant "7": the restricted solve over :func:`connect_the_dots_atoms`; its dual point also
    satisfies the cancelling-pair constraint (checked, :func:`affine_pair_ratio`), so the bound
    covers every representation of such a function."""
    allowed = connect_the_dots_atoms(np.unique(X[:, 0]))
    full = fit_function_space(X, Y, lam, "7")
    ctd = fit_function_space(X, Y, lam, "7", allowed=allowed)
    point, _ = feasible_dual_point(X[:, 0], Y, lam, "7", 2.0 * (Y - ctd.stack(X)), allowed=allowed)
    if affine_pair_ratio(point, X[:, 0]) > 4.0 * lam:
        raise AssertionError("the connect-the-dots dual point violates the cancelling-pair constraint")
    return full, dual_value(point, Y, lam, "7")
