"""The dual of the function-space problem (HTW eq. 5) in one input dimension, checked exactly.

**Dual.** With residual multipliers ``alpha (N, d_out)``,

.. math:: D(\\alpha) = \\langle \\alpha, Y\\rangle - \\tfrac14\\|\\alpha\\|_F^2
          - \\tfrac{1}{4\\lambda}\\Big\\|\\sum_i \\alpha_i\\Big\\|^2

("8": without the last term and with ``sum_i alpha_i = 0``), subject to
``||sum_i alpha_i relu(cos(phi) x_i + sin(phi))|| <= 2 lam angle_atom_cost(phi)`` for every ``phi``. In
kink form this reads ``||sum_i alpha_i relu(s (x_i - p))|| <= 2 lam sqrt(1 + p^2)`` ("7") or
``<= 2 lam`` ("8"). Between two consecutive data points the left side is ``||a - p B||``
for fixed vectors ``a, B``, so the largest violation in a cell is the top eigenvalue of a
2 x 2 matrix ("7") or an endpoint value ("8", piecewise linear in ``p``): the constraint is
checked over all ``phi`` exactly. Any ``alpha`` scaled into the feasible set gives a
certified lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.angles import kink_angle
from pcheck.core.variant import as_variant
from pcheck.problems.dual import best_scaling, dual_value


@dataclass(frozen=True)
class Violation:
    """The most violated dual constraint per cell: kink ``p``, direction ``s`` and the
    ratio ``||sum alpha_i relu(s(x_i - p))|| / (2 lam angle_atom_cost(p))``; ``worst`` is the
    maximum ratio over all cells, directions and the constant atom."""

    p: np.ndarray
    s: np.ndarray
    ratio: np.ndarray
    worst: float


def _cell_sup(a, B, lo, hi, variant):
    """``sup_{p in [lo, hi]} ||a - p B||^2 / (1 + p^2)`` ("7"; "8": ``||a - p B||^2``) per cell (rows of ``a``, ``B``)
    and a maximizer; ``lo = -inf`` or ``hi = +inf`` allowed (limit ``||B||^2`` for "7";
    for "8" the caller ensures ``B = 0`` on infinite cells)."""
    variant = as_variant(variant)
    def value(p):
        fin = np.isfinite(p)
        pf = np.where(fin, p, 0.0)
        num = np.sum((a - pf[:, None] * B) ** 2, axis=1)
        out = num / (1.0 + pf * pf) if variant.biases_regularized else num
        limit = np.sum(B * B, axis=1) if variant.biases_regularized else np.sum(a * a, axis=1)
        return np.where(fin, out, limit)

    best_p, best = lo.copy(), value(lo)
    vh = value(hi)
    better = vh > best
    best_p, best = np.where(better, hi, best_p), np.where(better, vh, best)
    if variant.biases_regularized:
        # R(p) = (1, p) G (1, p)^T / (1 + p^2), G = [[a.a, -a.B], [-a.B, B.B]]: its sup over
        # the real line is the top eigenvalue, reached at p = z2 / z1 of the top eigenvector.
        G = np.empty((a.shape[0], 2, 2))
        G[:, 0, 0] = np.sum(a * a, axis=1)
        G[:, 0, 1] = G[:, 1, 0] = -np.sum(a * B, axis=1)
        G[:, 1, 1] = np.sum(B * B, axis=1)
        evals, evecs = np.linalg.eigh(G)
        z1, z2 = evecs[:, 0, 1], evecs[:, 1, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            pstar = np.where(z1 != 0, z2 / z1, np.inf)
        inside = np.isfinite(pstar) & (pstar >= lo) & (pstar <= hi)
        top = np.maximum(evals[:, 1], value(np.where(inside, pstar, lo)))
        better = inside & (top > best)
        best_p, best = np.where(better, pstar, best_p), np.where(better, top, best)
    return best_p, best


def violations(x: np.ndarray, alpha: np.ndarray, lam: float, variant: str, allowed=None) -> Violation:
    """Largest dual-constraint ratio in every cell between consecutive distinct data
    points, for both directions (module docstring). ``x`` sorted. With ``allowed`` (closed
    angle intervals, :func:`allowed_pieces`) only the atoms whose angle lies in them count:
    the dual of the problem restricted to those atoms."""
    variant = as_variant(variant)
    xs, inv = np.unique(x, return_inverse=True)
    A = np.zeros((xs.shape[0], alpha.shape[1]))
    np.add.at(A, inv, alpha)
    Ax = A * xs[:, None]
    # s = +1, cell j = [xs[j-1], xs[j]] (xs[-1] = -inf): active i >= j, sum alpha_i (x_i - p)
    a_r, B_r = np.cumsum(Ax[::-1], axis=0)[::-1], np.cumsum(A[::-1], axis=0)[::-1]
    lo_r = np.concatenate([[-np.inf], xs[:-1]])
    # s = -1, cell j = [xs[j], xs[j+1]] (xs[n] = +inf): active i <= j, sum alpha_i (p - x_i)
    a_l, B_l = np.cumsum(Ax, axis=0), np.cumsum(A, axis=0)
    hi_l = np.concatenate([xs[1:], [np.inf]])
    a = np.vstack([a_r, a_l])
    B = np.vstack([B_r, B_l])
    lo = np.concatenate([lo_r, xs])
    hi = np.concatenate([xs, hi_l])
    s = np.concatenate([np.ones(xs.shape[0]), -np.ones(xs.shape[0])])
    constant = True
    if allowed is not None:
        cell, lo, hi, constant = allowed_pieces(xs, allowed)
        a, B, s = a[cell], B[cell], s[cell]
    if not variant.biases_regularized:
        # with sum alpha = 0 the infinite cells are constant in p: use their finite end
        lo = np.where(np.isfinite(lo), lo, hi)
        hi = np.where(np.isfinite(hi), hi, lo)
    p, sup2 = _cell_sup(a, B, lo, hi, variant)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # lam underflowing to 0: ratio inf
        ratio = np.sqrt(np.maximum(sup2, 0.0)) / np.float64(2.0 * lam)
        worst = float(np.max(ratio, initial=0.0))
        if variant.biases_regularized and constant:
            worst = max(worst, float(np.linalg.norm(A.sum(axis=0)) / np.float64(2.0 * lam)))
        # rounded up (ROUND_MARGIN): the sums a = sum_i alpha_i x_i of a cell cancel when the data sit far
        # from 0 (|x| >> spread), with an error up to n eps sum_i ||alpha_i|| |x_i| (Higham, sec. 3.1);
        # divided by the constraint's 2 lam sqrt(1 + p^2) >= 2 lam (eq. 8: 2 lam) this bounds the ratio's error
        scale = float(np.sum(np.linalg.norm(A, axis=1))) * (1.0 + float(np.max(np.abs(xs), initial=0.0)))
        worst = worst * (1.0 + ROUND_MARGIN) + 4.0 * xs.shape[0] * np.finfo(float).eps * scale / np.float64(2.0 * lam)
    worst = np.inf if np.isnan(worst) else worst
    return Violation(p, s, ratio, worst)


#: Relative margin added to the largest constraint ratio of :func:`violations`, with the summation
#: bound it adds next to it. Reason: the cell maxima come from 2 x 2 eigenvectors and sums exact to
#: ~1e-15 relative (as ``bounds_nd.ROUND_MARGIN``); the scaled dual point is then feasible for the
#: exact constraint, at a cost of 1e-12 relative in the bound, far below the certified 1e-9.
ROUND_MARGIN = 1e-12


#: Interval ends within this angle (radians) of a data point's kink angle are that data point:
#: in kink terms ``|p - x_j| <= ARC_SNAP_RTOL (1 + x_j^2)`` (``dp/dphi = -(1 + p^2)``), and an end
#: equal to ``kink_angle(s, x_j)`` bit for bit is ``x_j`` exactly. Reason: an angle is stored to
#: ~1e-16 rad, so the round trip ``-tan(-atan x)`` is exact to ~1e-16 (1 + x^2), which is far
#: from a few ulps of ``x`` once ``|x| >> 1`` (at ``x = 1e6``: 1e-10 relative); snapping widens a
#: restricted atom set by at most that much, which can only lower a dual bound, so the bound
#: stays valid.
ARC_SNAP_RTOL = 1e-13


def allowed_pieces(xs, allowed):
    """Cells and kink ranges of the closed angle intervals ``allowed (m, 2)``
    (``-pi/2 <= a <= b <= 3pi/2``, each inside one closed activation arc, :func:`_arcs`).
    An interval becomes a ``[p_lo, p_hi]`` range of kinks with ``s = +1`` (the part in
    ``[-pi/2, pi/2]``) and one with ``s = -1`` (the part in ``[pi/2, 3pi/2]``), ``p = -tan phi``;
    parts in the all-inactive cells are dropped (their atoms are 0 on the data). Returns
    ``(cell, p_lo, p_hi, constant)``: indices into the ``2 n`` cells of :func:`violations`,
    the ranges, and whether the ``v = 0`` neuron (``phi = pi/2``) is allowed."""
    n = xs.shape[0]
    cells, los, his = [], [], []
    constant = False
    for a, b in np.asarray(allowed, dtype=float):
        constant |= a <= np.pi / 2 <= b
        for sign, (pa, pb) in ((1, (max(a, -np.pi / 2), min(b, np.pi / 2))),
                               (-1, (max(a, np.pi / 2), min(b, 1.5 * np.pi)))):
            if pa > pb or pa == pb == np.pi / 2:
                continue
            # p = -tan(phi) decreases in phi; the ends of each half are p = +-inf
            p_hi = np.inf if pa == (-np.pi / 2 if sign > 0 else np.pi / 2) else -np.tan(pa)
            p_lo = -np.inf if pb == (np.pi / 2 if sign > 0 else 1.5 * np.pi) else -np.tan(pb)
            mid = (p_lo + p_hi) / 2 if np.isfinite(p_lo + p_hi) else (p_hi - 1 if np.isfinite(p_hi) else p_lo + 1)
            if sign > 0:  # cell j = [xs[j-1], xs[j]]; j = n is the all-inactive cell
                j = int(np.searchsorted(xs, mid, side="left"))
                if j == n:
                    continue
                c_lo, c_hi = (xs[j - 1] if j > 0 else -np.inf), xs[j]
            else:  # cell j = [xs[j], xs[j+1]]; j = -1 is the all-inactive cell
                j = int(np.searchsorted(xs, mid, side="right")) - 1
                if j < 0:
                    continue
                c_lo, c_hi = xs[j], (xs[j + 1] if j + 1 < n else np.inf)
            if np.isfinite(c_lo) and pb == kink_angle(sign, c_lo):
                p_lo = c_lo  # an end on a data point's kink angle is that point, bit for bit
            if np.isfinite(c_hi) and pa == kink_angle(sign, c_hi):
                p_hi = c_hi
            tol_lo = ARC_SNAP_RTOL * (1.0 + c_lo * c_lo) if np.isfinite(c_lo) else 0.0
            tol_hi = ARC_SNAP_RTOL * (1.0 + c_hi * c_hi) if np.isfinite(c_hi) else 0.0
            if p_lo < c_lo - tol_lo or p_hi > c_hi + tol_hi:
                raise ValueError(f"allowed: interval [{a!r}, {b!r}] crosses an activation arc boundary")
            p_lo = c_lo if p_lo <= c_lo + tol_lo else p_lo
            p_hi = c_hi if p_hi >= c_hi - tol_hi else p_hi
            cells.append(j if sign > 0 else n + j)
            los.append(p_lo)
            his.append(p_hi)
    return np.array(cells, dtype=int), np.array(los), np.array(his), bool(constant)


def within_allowed(phi, lo, hi, allowed):
    """Narrow the arcs ``[lo, hi]`` of the angles ``phi`` to the allowed interval holding
    each (an angle in none, or on an end shared by two, stays fixed: ``lo = hi = phi``)."""
    allowed = np.asarray(allowed, dtype=float)
    if allowed.shape[0] == 0:
        return phi.copy(), phi.copy()
    inside = (allowed[None, :, 0] <= phi[:, None]) & (phi[:, None] <= allowed[None, :, 1])
    k = np.argmax(inside, axis=1)
    one = inside.sum(axis=1) == 1
    lo = np.where(one, np.maximum(lo, allowed[k, 0]), phi)
    hi = np.where(one, np.minimum(hi, allowed[k, 1]), phi)
    return lo, hi


def certified_lower_bound(x, Y, lam, variant, alpha, allowed=None, constraint_lam=None) -> tuple[float, float]:
    """The value of :func:`feasible_dual_point`: ``(lower_bound, worst_ratio)``."""
    point, worst = feasible_dual_point(x, Y, lam, variant, alpha, allowed, constraint_lam)
    return dual_value(point, Y, lam, variant), worst


def feasible_dual_point(x, Y, lam, variant, alpha, allowed=None, constraint_lam=None) -> tuple[np.ndarray, float]:
    """A feasible dual point from ``alpha``: for "8" project onto ``sum alpha = 0``; then
    scale by ``t in [0, 1/worst]`` maximizing the concave quadratic ``D(t alpha)``. Returns
    ``(t alpha, worst_ratio)`` (``t = 0`` when no finite scale exists). ``constraint_lam``
    (default ``lam``): the ``lam`` of the dual constraint when it differs from the one of ``D``
    (the internal units of :mod:`pcheck.core.units`: ``lam / b``)."""
    variant = as_variant(variant)
    if not variant.biases_regularized:
        alpha = alpha - alpha.mean(axis=0)
    worst = violations(x, alpha, lam if constraint_lam is None else constraint_lam, variant, allowed).worst
    return best_scaling(alpha, Y, lam, variant, worst) * alpha, worst
