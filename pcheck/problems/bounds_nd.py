"""A certified interval for the weight-decay problem (HTW eq. 4, over all widths) with
``d_in >= 1`` and any ``d_out``, variants "7" (all parameters penalized) and "8" (eq. 8:
biases ``b`` and ``c`` free).

**Primal "7".** With ``x~ = (x, 1)`` and neurons ``mu_k relu(<u_k, x~>)``, ``u_k`` on the unit
sphere of ``R^{d_in+1}``, balancing every neuron (``w = mu / tau``, ``(v, b) = tau u``,
``tau^2 = ||mu||``) turns eq. (4) into the group lasso

.. math:: P_7 = \\min_{u, \\mu, c} \\|\\Psi \\mu + 1 c^T - Y\\|_F^2
          + \\lambda\\Big(2\\sum_k \\|\\mu_k\\| + \\|c\\|^2\\Big),
          \\qquad \\Psi_{ik} = \\mathrm{relu}(\\langle u_k, \\tilde x_i\\rangle).

**Primal "8".** Neurons ``mu_k relu(<w_k, x> + b_k)`` with ``||w_k|| = 1``, ``b_k`` free; balanced
(``v = tau w``, bias ``tau b_k``, output ``mu / tau``, ``tau^2 = ||mu||``) each costs
``||v||^2 + ||mu/tau||^2 = 2 ||mu_k||``, and ``c`` is free:

.. math:: P_8 = \\min \\|\\Psi \\mu + 1 c^T - Y\\|_F^2 + 2\\lambda\\sum_k \\|\\mu_k\\|,
          \\qquad \\Psi_{ik} = \\mathrm{relu}(\\langle w_k, x_i\\rangle + b_k).

A neuron active on all data is ``X w + b 1`` there; ``b`` goes into ``c``, so the linear
columns ``X w`` are the atoms with ``b >= -min_i <x_i, w>``. In both variants an atom is a
row ``(w, b)`` of ``U``, normalized to ``||(w, b)|| = 1`` ("7") or ``||w|| = 1`` ("8").
On a finite set of atoms this is the restricted master (Clarabel); its network's eq.-(4)
value is ``upper``.

**Dual** (as :func:`pcheck.problems.dual.dual_value`):

.. math:: D_7(\\alpha) = \\langle \\alpha, Y\\rangle - \\tfrac14\\|\\alpha\\|_F^2
          - \\tfrac{1}{4\\lambda}\\Big\\|\\sum_i \\alpha_i\\Big\\|^2
          \\ \\text{ s.t. } \\|\\alpha^T \\mathrm{relu}(\\tilde X u)\\| \\le 2\\lambda
          \\ \\forall \\|u\\| = 1;
          \\qquad D_8(\\alpha) = \\langle \\alpha, Y\\rangle - \\tfrac14\\|\\alpha\\|_F^2
          \\ \\text{ s.t. } \\sum_i \\alpha_i = 0,\\
          \\sup_{\\|w\\| = 1, b} \\|\\alpha^T \\mathrm{relu}(X w + b 1)\\| \\le 2\\lambda.

**The exact constraint sup.** "7": ``relu(X~ u) = D X~ u`` with ``D`` the pattern of an open
cell of the central arrangement ``{u : <x~_i, u> = 0}`` whose closure holds ``u``;
:func:`cell_patterns` enumerates every open cell exactly and on each closed cell
:func:`worst_ratio` computes the sup of ``||alpha^T D X~ u||`` exactly (face-by-face
eigenvectors; the spectral norm ``||alpha^T D X~||_2`` is a valid but much looser bound:
relative gaps ~0.7 instead of ~1e-4 on N = 5 random data). "8": with ``sum alpha = 0``,
``b -> alpha^T relu(X w + b 1)`` is piecewise linear with breakpoints ``b = -<x_i, w>``, 0
below all of them and ``alpha^T X w`` above all; the norm of an affine map is convex, so
on each piece it peaks at an end, and

.. math:: \\sup_b \\|\\alpha^T \\mathrm{relu}(Xw + b)\\| = \\max\\Big(\\max_i
          \\Big\\|\\sum_j \\alpha_j \\mathrm{relu}(\\langle x_j - x_i, w\\rangle)\\Big\\|,
          \\ \\|\\alpha^T X w\\|\\Big).

For each ``i`` the sup over ``||w|| = 1`` is the same homogeneous cell problem as "7" with
the points ``z_j = x_j - x_i`` (no lifting; ``z_j = 0`` rows contribute nothing and are
dropped); the last term's sup is ``||alpha^T X||_2``. Scaling ``alpha = 2 (Y - F)`` ("8":
with its column means removed) by ``t <= 1 / worst`` gives a feasible dual point and
``lower = max_t D(t alpha)`` is certified.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from operator import itemgetter

import cvxpy as cp
import numpy as np
from scipy import linalg, optimize

from pcheck.core import status
from pcheck.core.network import Stack
from pcheck.core.objective import training_objective
from pcheck.core.tolerances import RTOL_CERTIFIED_ND
from pcheck.core.validate import as_count, as_dataset, as_scalar
from pcheck.core.variant import as_variant
from pcheck.problems.dual import best_scaling, dual_value
from pcheck.solvers import conic

#: A data hyperplane whose value at an enumeration ray is within this fraction of
#: ``||z_i||`` counts as passing through it (both sides are then tried). Reason: rays come
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
#: Entries (cells x data x rays) of one batch of ray candidates in :func:`worst_ratio`.
#: Reason: the batch holds a float64 array of that size; 4e6 entries are 32 MB.
RAY_BATCH = 4_000_000
#: Exchange directions added per round at most (the most violated first). Reason: the
#: master's cost grows with its atoms and every cell offers one maximizer (3120 cells for
#: N = 40, d_in = 2, "8"); the rest stop being violated once the first are in.
MAX_NEW_ATOMS = 200
#: Largest :func:`dual_work` (closed cells times faces) for which pcheck computes the exact
#: constraint sup. Reason: one sup costs ~0.2 s per 1e5 of work on this machine (N = 40,
#: d_in = 2, "7": 1.3e6, 2.2 s; N = 12, d_in = 3: 1.4e5, 0.34 s), so one certificate stays
#: under ~2 s; an exchange runs ``rounds + 2`` of them plus the masters (fit_function_space,
#: 50 rounds: N = 12, d_in = 3 in 3-13 s, N = 35, d_in = 2, "7" in 50-100 s, measured).
MAX_DUAL_WORK = 1_000_000


@dataclass(frozen=True)
class BoundsND:
    """``lower <= inf over widths of eq. (4) <= upper``; ``upper`` is eq. (4) of ``stack``,
    ``lower`` the dual value ``D(t alpha)``, ``gap = (upper - lower) / upper``;
    ``worst`` is the constraint sup of ``alpha`` over ``2 lam`` before scaling, ``patterns``
    the number of open cells enumerated (for "8" summed over the ``N`` arrangements).
    ``status`` "optimal" (``gap <= tolerance = max(gap_tol, RTOL_CERTIFIED_ND)``, ``certified``),
    "gap not reached" (a valid interval, wider) or "upper bound only" (:func:`sampled_upper`)."""

    stack: Stack
    upper: float
    lower: float
    gap: float
    lam: float
    worst: float
    patterns: int
    variant: str = "7"
    certified: bool = False
    status: str = status.GAP_NOT_REACHED
    tolerance: float = RTOL_CERTIFIED_ND


def lifted(X: np.ndarray) -> np.ndarray:
    """``X~ = [X, 1]``, shape ``(N, d_in + 1)``."""
    return np.hstack([X, np.ones((X.shape[0], 1))])


def cell_patterns(Z: np.ndarray) -> np.ndarray:
    """The patterns ``1[<z_i, u> > 0]`` of all open cells of the central arrangement of
    the hyperplanes ``<z_i, u> = 0`` (rows ``z_i`` nonzero), as rows of a boolean ``(P, N)``
    array.

    Work in the row space of ``Z`` (rank ``r``; the arrangement is that of ``R^r`` times its
    lineality space). Every open cell is then a pointed cone, so its closure has an
    extreme ray, which is where ``r - 1`` independent hyperplanes meet; at that ray the
    cell's pattern agrees with the ray's signs on the hyperplanes not through it. So the
    candidates are all sign choices on the hyperplanes through each such ray. When only the
    ``r - 1`` independent ones pass through it, near the ray they take every sign combination
    while the others keep theirs, so all ``2^(r-1)`` candidates are cells; otherwise a
    candidate is a cell iff the LP ``(2D - I) Z u >= 1`` is feasible (the cone is open and
    homogeneous, so margin 1 loses no cell)."""
    _, s, Vt = np.linalg.svd(Z, full_matrices=False)
    r = int(np.sum(s > s[0] * 1e-12))
    Zr = Z @ Vt[:r].T
    norms = np.linalg.norm(Zr, axis=1)
    cells, tried = set(), set()
    for S in itertools.combinations(range(Zr.shape[0]), r - 1):
        sub = Zr[list(S)]
        if r > 1 and np.linalg.matrix_rank(sub) < r - 1:
            continue
        ray = linalg.null_space(sub)[:, 0] if r > 1 else np.ones(1)
        vals = Zr @ ray
        tied = np.flatnonzero(np.abs(vals) <= TIE_RTOL * norms)
        for sign in (1.0, -1.0):
            base = sign * vals > 0
            for choice in itertools.product((False, True), repeat=len(tied)):
                pattern = base.copy()
                pattern[tied] = choice
                key = tuple(pattern)
                if key not in tried:
                    tried.add(key)
                    if len(tied) == r - 1 or _is_cell(Zr, pattern):
                        cells.add(key)
    return np.array(sorted(cells), dtype=bool).reshape(-1, Z.shape[0])


def _is_cell(Zr: np.ndarray, pattern: np.ndarray) -> bool:
    """Feasibility of ``(2D - I) Zr u >= 1`` (the open cell of ``pattern`` is non-empty)."""
    A = -np.where(pattern, 1.0, -1.0)[:, None] * Zr
    res = optimize.linprog(np.zeros(Zr.shape[1]), A_ub=A, b_ub=-np.ones(Zr.shape[0]),
                           bounds=[(None, None)] * Zr.shape[1], method="highs")
    return res.status == 0


def face_spans(Z: np.ndarray) -> list:
    """Orthonormal bases of ``{u : <z_i, u> = 0, i in T}`` for every ``|T| < dim`` (the faces
    :func:`worst_ratio` searches), empty spans left out."""
    d = Z.shape[1]
    spans = [linalg.null_space(Z[list(T)]) if T else np.eye(d)
             for k in range(d) for T in itertools.combinations(range(Z.shape[0]), k)]
    return [L for L in spans if L.shape[1] > 0]


def worst_ratio(Z: np.ndarray, alpha: np.ndarray, lam: float, patterns: np.ndarray):
    """``sup_u ||alpha^T relu(Z u)|| / (2 lam)`` over the unit sphere, exactly: per cell
    ``D`` the sup of ``||alpha^T D Z u||`` over the closed cone ``(2D - I) Z u >= 0`` is
    attained in the relative interior of some face ``{<z_i, u> = 0, i in T}`` (``|T| <
    dim``), where it is stationary, i.e. an eigenvector of the Gram matrix restricted to
    that face's span. All such eigenvectors lying in the closed cone (up to ``TIE_RTOL``,
    which only adds candidates; any ``u`` in the closed cone has ``relu(Z u) = D Z u``, so
    none overstates the sup) are evaluated, all cells of one face in one batch; on a
    one-dimensional face (a ray) the candidates are the ray's two unit vectors for every
    cell, so all rays go in one batch. Returns the ratio rounded up (:func:`_rounded_up`) and per
    cell a unit maximizer (an exchange direction)."""
    d = Z.shape[1]
    tol = -TIE_RTOL * np.linalg.norm(Z, axis=1)[None, :, None]
    M = np.einsum("pn,no,nd->pod", patterns.astype(float), alpha, Z)  # alpha^T D Z per cell
    G = np.einsum("pod,poe->pde", M, M)
    sign = np.where(patterns, 1.0, -1.0)[:, :, None]
    top = np.full(patterns.shape[0], -1.0)
    arg = np.tile(np.ones(d) / np.sqrt(d), (patterns.shape[0], 1))

    def offer(U, vals):
        """Candidates ``U (P, d, m)`` with values ``vals (P, m)``: keep those in each cell."""
        if U.shape[2] == 0:
            return
        inside = np.all(sign * np.einsum("nd,pdl->pnl", Z, U) >= tol, axis=1)
        vals = np.where(inside, vals, -1.0)
        j = np.argmax(vals, axis=1)
        best = vals[np.arange(len(j)), j]
        better = best > top
        top[better] = best[better]
        arg[better] = U[better, :, j[better]]

    spans = face_spans(Z)
    rays = np.array([L[:, 0] for L in spans if L.shape[1] == 1]).reshape(-1, d)
    rays = np.vstack([rays, -rays])
    values = np.linalg.norm(alpha.T @ np.maximum(Z @ rays.T, 0.0), axis=0)
    for chunk in np.array_split(np.arange(len(rays)), max(1, len(rays) * patterns.size // RAY_BATCH)):
        offer(np.broadcast_to(rays[chunk].T, (patterns.shape[0], d, len(chunk))),
              np.broadcast_to(values[chunk], (patterns.shape[0], len(chunk))))
    for L in spans:
        if L.shape[1] > 1:
            _, vecs = np.linalg.eigh(np.einsum("dk,pde,el->pkl", L, G, L))
            U = np.einsum("dk,pkl->pdl", L, vecs)
            U = np.concatenate([U, -U], axis=2)
            offer(U, np.linalg.norm(np.einsum("pod,pdl->pol", M, U), axis=1))
    return _rounded_up(float(top.max(initial=0.0)), alpha, Z) / (2.0 * lam), arg


def _rounded_up(value, alpha, Z):
    """``value (1 + ROUND_MARGIN)`` plus the float error of a sum ``sum_j alpha_j <z_j, u>``
    with ``||u|| = 1``: ``N eps sum_j ||alpha_j|| ||z_j||`` (Higham, Accuracy and Stability,
    sec. 3.1), which a relative margin misses when the terms cancel."""
    scale = float(np.linalg.norm(alpha, axis=1) @ np.linalg.norm(Z, axis=1))
    return value * (1.0 + ROUND_MARGIN) + Z.shape[0] * np.finfo(float).eps * scale


@dataclass(frozen=True)
class Piece:
    """One arrangement the constraint sup runs over: the points ``Z`` (``"7"``: ``X~``; ``"8"``:
    ``x_j - x_i`` for the data rows ``rows`` with ``x_j != x_i``), its open cells, and the
    anchor ``i`` (``None`` for "7")."""

    Z: np.ndarray
    rows: np.ndarray
    patterns: np.ndarray
    anchor: int | None


def dual_pieces(X: np.ndarray, variant: str) -> list:
    """The arrangements of the exact constraint sup (module docstring): one for "7", one per
    data point for "8"."""
    variant = as_variant(variant)
    if variant.biases_regularized:
        Z = lifted(X)
        return [Piece(Z, np.arange(X.shape[0]), cell_patterns(Z), None)]
    pieces = []
    for i in range(X.shape[0]):
        Z = X - X[i]
        rows = np.flatnonzero(np.any(Z != 0.0, axis=1))
        if rows.size:
            pieces.append(Piece(Z[rows], rows, cell_patterns(Z[rows]), i))
    return pieces


def dual_work(N: int, d_in: int, variant: str) -> int:
    """Cells times faces the exact sup visits for ``N`` points in general position (Cover
    1965: ``2 sum_{k<r} C(n-1, k)`` cells of ``n`` central hyperplanes in ``R^r``); degenerate
    data have fewer. Compared with ``MAX_DUAL_WORK``."""
    variant = as_variant(variant)
    def cells(n, r):
        return 2 * sum(math.comb(n - 1, k) for k in range(r))

    def faces(n, r):
        return sum(math.comb(n, k) for k in range(r))

    if variant.biases_regularized:
        return cells(N, d_in + 1) * faces(N, d_in + 1)
    return N * cells(N - 1, d_in) * faces(N - 1, d_in) if N > 1 else 0


def constraint_sup(X: np.ndarray, alpha: np.ndarray, lam: float, variant: str, pieces: list):
    """``sup over atoms of ||alpha^T psi|| / (2 lam)`` (rounded up) exactly, and
    maximizing atoms as rows ``(w, b)`` of the master's ``U``. For "8" ``alpha`` must sum to 0
    over the data (else the sup over ``b`` is infinite)."""
    variant = as_variant(variant)
    if variant.biases_regularized:
        return worst_ratio(pieces[0].Z, alpha, lam, pieces[0].patterns)
    _, s, Vt = np.linalg.svd(alpha.T @ X, full_matrices=False)
    worst = _rounded_up(float(s[0]), alpha, X) / (2.0 * lam)
    lin = np.vstack([Vt[0], -Vt[0]])
    dirs = [np.hstack([lin, -(X @ lin.T).min(axis=0)[:, None]])]  # all data active
    for p in pieces:
        ratio, W = worst_ratio(p.Z, alpha[p.rows], lam, p.patterns)
        worst = max(worst, ratio)
        dirs.append(np.hstack([W, -(W @ X[p.anchor])[:, None]]))  # kink through x_i
    return worst, np.vstack(dirs)


def normalized(U: np.ndarray, variant: str) -> np.ndarray:
    """Atoms ``(w, b)`` scaled to ``||(w, b)|| = 1`` ("7") or ``||w|| = 1`` ("8")."""
    variant = as_variant(variant)
    part = U if variant.biases_regularized else U[:, :-1]
    return U / np.linalg.norm(part, axis=1, keepdims=True)


def master(Xt, Y, lam, U, variant="7"):
    """The restricted master (module docstring) over the atoms ``U (K, d_in+1)`` (normalized
    per :func:`normalized`); returns masses ``mu (K, d_out)`` and ``c (d_out,)``."""
    variant = as_variant(variant)
    Psi = np.maximum(Xt @ U.T, 0.0)
    mu = cp.Variable((U.shape[0], Y.shape[1]))
    c = cp.Variable(Y.shape[1])
    F = Psi @ mu + np.ones((Xt.shape[0], 1)) @ cp.reshape(c, (1, Y.shape[1]), order="C")
    reg = 2 * cp.sum(cp.norm(mu, 2, axis=1))
    if variant.biases_regularized:
        reg = reg + cp.sum_squares(c)
    problem = cp.Problem(cp.Minimize(cp.sum_squares(F - Y) + lam * reg))
    conic.solve_cvxpy(problem, tol=MASTER_TOL)  # falls back to Clarabel's defaults on a stall
    return np.asarray(mu.value), np.asarray(c.value)


def _support(mu):
    """Atoms whose mass is above ``SUPPORT_RTOL`` of the largest."""
    nm = np.linalg.norm(mu, axis=1)
    return nm > SUPPORT_RTOL * max(float(nm.max(initial=0.0)), np.finfo(float).tiny)


def balanced_stack(U, mu, c) -> Stack:
    """``sum_k mu_k relu(<u_k, x~>) + c`` with ``(v, b) = tau u``, ``w = mu / tau``,
    ``tau^2 = ||mu||``: cost ``2 ||mu_k||`` when ``||u_k|| = 1`` ("7") or ``||u_k[:d_in]|| = 1``
    ("8"), HTW eq. 4 balanced."""
    keep = _support(mu)
    U, mu = U[keep], mu[keep]
    tau = np.sqrt(np.linalg.norm(mu, axis=1))
    return Stack(U[:, :-1] * tau[:, None], U[:, -1] * tau, (mu / tau[:, None]).T, c)


#: A master mass counts in the LP reduction's support above this fraction of the largest.
#: Reason: HiGHS returns basic solutions whose zero entries are exact or ~1e-12 relative.
LP_SUPPORT_RTOL = 1e-12


def sparse_stack(X, Y, lam, stack: Stack, variant: str = "7") -> Stack:
    """A network with at most ``N d_out`` neurons (plus ``c``) for (nearly) the same eq. (4)
    value as the balanced ``stack`` of the master (:func:`balanced_stack`). With each mass
    written ``mu_k = s_k g_k`` (``||g_k|| = 1``), the data values ``F - 1 c^T = sum_k s_k psi_k
    g_k^T`` and the penalty ``2 sum_k s_k`` are linear in ``s >= 0``; a basic optimal solution
    of ``min sum s`` under those ``N d_out`` equalities (HiGHS) keeps ``F`` and does not raise
    the penalty, and has at most ``N d_out`` nonzeros. The master is re-solved on that support
    (masses and ``c`` free again); the caller compares eq. (4) of the result. A network
    without neurons is returned as it is."""
    variant = as_variant(variant)
    if stack.n == 0:
        return stack
    Xt = lifted(X)
    U = np.column_stack([stack.V, stack.b])
    tau = np.linalg.norm(U if variant.biases_regularized else stack.V, axis=1)
    U = U / tau[:, None]
    mu = (stack.W * tau[None, :]).T
    s = np.linalg.norm(mu, axis=1)
    psi = np.maximum(Xt @ U.T, 0.0)
    A = np.einsum("ik,kd->idk", psi, mu / s[:, None]).reshape(-1, s.shape[0])
    res = optimize.linprog(np.ones_like(s), A_eq=A, b_eq=(stack(X) - stack.c[None, :]).ravel(),
                           bounds=[(0.0, None)] * s.shape[0], method="highs")
    if res.status != 0:
        return stack
    support = res.x > LP_SUPPORT_RTOL * res.x.max()
    mu_support, c = master(Xt, Y, lam, U[support], variant)
    return balanced_stack(U[support], mu_support, c)


def certified_lower(Y, lam, alpha, worst, variant="7") -> float:
    """``max_{0 <= t <= 1/worst} D(t alpha)`` (:func:`pcheck.problems.dual.best_scaling`)."""
    return dual_value(best_scaling(alpha, Y, lam, variant, worst) * alpha, Y, lam, variant)


def certify(X, Y, lam, variant, F, pieces=None):
    """The certified lower bound from the network outputs ``F (N, d_out)``: ``alpha = 2 (Y - F)``
    ("8": column means removed), scaled into the feasible set by the exact constraint sup.
    Returns ``(lower, worst, alpha, maximizing atoms)``; ``pieces`` from :func:`dual_pieces`."""
    variant = as_variant(variant)
    pieces = dual_pieces(X, variant) if pieces is None else pieces
    alpha = 2.0 * (Y - F)
    if not variant.biases_regularized:
        alpha = alpha - alpha.mean(axis=0)
    worst, dirs = constraint_sup(X, alpha, lam, variant, pieces)
    return certified_lower(Y, lam, alpha, worst, variant), worst, alpha, dirs


def _start(X, Y, lam, variant, pieces, n_candidates, rng):
    """The master's first atoms: ``n_candidates`` random ones ("8": biases on the data's scale),
    the constraint maximizers for ``alpha = Y`` (centered for "8") and their mirrors
    ``-(w, b)``, and for "7" also ``+-x~_i``."""
    variant = as_variant(variant)
    R = rng.standard_normal((n_candidates, X.shape[1] + 1))
    if not variant.biases_regularized:
        R[:, -1] *= max(float(np.abs(X).max()), 1.0)
    alpha = Y - Y.mean(axis=0) if not variant.biases_regularized else Y
    _, dirs = constraint_sup(X, alpha, lam, variant, pieces)
    extra = [lifted(X), -lifted(X)] if variant.biases_regularized else []
    return np.vstack([R, dirs, -dirs, *extra])


def _most_violated(Xt, residual, lam, dirs):
    """The maximizers that violate the dual constraint for ``alpha = 2 residual`` (ratio > 1),
    at most ``MAX_NEW_ATOMS`` of them, most violated first, and their mirrors ``-(w, b)``."""
    ratio = np.linalg.norm(2.0 * residual.T @ np.maximum(Xt @ dirs.T, 0.0), axis=0) / (2.0 * lam)
    order = np.argsort(-ratio)[:MAX_NEW_ATOMS]
    new = dirs[order[ratio[order] > 1.0]]
    return new, -new


def function_space_bounds(X, Y, lam, *, n_candidates=200, seed=0, rounds=4, variant="7",
                          gap_tol: float = 0.0, warn: bool = True) -> BoundsND:
    """Certified ``lower <= min over widths of eq. (4) <= upper`` for ``variant`` "7" or "8"
    (module docstring).

    The master starts from ``n_candidates`` random atoms plus data-driven ones (the
    constraint maximizers of every cell for ``alpha = Y``, "7": also ``+-x~_i``); each of at
    most ``rounds`` exchange steps keeps the master's support and adds the violated
    maximizers (both signs) for ``alpha = 2 (Y - F)``, and the loop stops early once the gap
    is at most ``gap_tol`` or nothing is violated. Every round's network is an upper bound
    and every round's scaled dual point a lower bound, so the best of each is returned
    (``stack`` is the network of ``upper``, ``worst`` belongs to the dual point of
    ``lower``). Measured gaps: benchmarks/bench_bounds_nd.py. A gap above
    ``max(gap_tol, RTOL_CERTIFIED_ND)`` is "gap not reached" and warns when ``warn``."""
    X, Y = as_dataset(X, Y)
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    n_candidates = as_count(n_candidates, "n_candidates")
    rounds = as_count(rounds, "rounds", minimum=0)
    seed = as_count(seed, "seed", minimum=0)
    variant = as_variant(variant, allowed=("7", "8"))
    gap_tol = as_scalar(gap_tol, "gap_tol", minimum=0.0)
    Xt = lifted(X)
    pieces = dual_pieces(X, variant)
    U = _start(X, Y, lam, variant, pieces, n_candidates, np.random.default_rng(seed))
    best_upper, best_lower = (np.inf, None), (-np.inf, np.nan)
    for step in range(rounds + 1):
        U = normalized(U, variant)
        try:
            mu, c = master(Xt, Y, lam, U, variant)
        except cp.error.SolverError:
            if step == 0:
                raise
            break  # a later round's master failed at both accuracies: keep the best bounds so far
        stack = balanced_stack(U, mu, c)
        U = U[_support(mu)]
        upper = training_objective(stack, X, Y, lam, variant)
        lower, worst, _, dirs = certify(X, Y, lam, variant, stack(X), pieces)
        best_upper = min(best_upper, (upper, stack), key=itemgetter(0))
        best_lower = max(best_lower, (lower, worst), key=itemgetter(0))
        new, mirrored = _most_violated(Xt, Y - stack(X), lam, dirs)
        if best_upper[0] - best_lower[0] <= gap_tol * best_upper[0] or not len(new):
            break
        U = np.vstack([U, new, mirrored])
    (upper, stack), (lower, worst) = best_upper, best_lower
    gap, tolerance = _relative_gap(upper, lower), max(gap_tol, RTOL_CERTIFIED_ND)
    state = status.OPTIMAL if gap <= tolerance else status.GAP_NOT_REACHED
    if warn and state != status.OPTIMAL:
        status.warn_uncertified("function_space_bounds", state, gap, tolerance)
    return BoundsND(stack, upper, lower, gap, lam, worst, int(sum(p.patterns.shape[0] for p in pieces)), variant,
                    state == status.OPTIMAL, state, tolerance)


def _relative_gap(upper, lower):
    """``(upper - lower) / upper`` (``upper = 0`` only when ``Y`` is fitted at no cost: gap 0)."""
    return (upper - lower) / max(upper, np.finfo(float).tiny)


def sampled_upper(X, Y, lam, *, n_candidates=200, seed=0, variant="7") -> BoundsND:
    """An upper bound only, for data whose cell enumeration exceeds ``MAX_DUAL_WORK``: eq. (4)
    of the master's network over ``n_candidates`` random atoms and ``+-x~_i``; ``lower = 0``
    (eq. 4 is a sum of squares, never negative), ``worst`` unknown (nan), no cells."""
    X, Y = as_dataset(X, Y)
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    variant = as_variant(variant, allowed=("7", "8"))
    rng = np.random.default_rng(as_count(seed, "seed", minimum=0))
    R = rng.standard_normal((as_count(n_candidates, "n_candidates"), X.shape[1] + 1))
    R[:, -1] *= max(float(np.abs(X).max()), 1.0)
    Xt = lifted(X)
    U = np.vstack([R, Xt, -Xt])
    U = normalized(U[np.any(U[:, :-1] != 0.0, axis=1)] if not variant.biases_regularized else U, variant)
    stack = balanced_stack(U, *master(Xt, Y, lam, U, variant))
    upper = training_objective(stack, X, Y, lam, variant)
    return BoundsND(stack, upper, 0.0, _relative_gap(upper, 0.0), lam, float("nan"), 0, variant, False,
                    status.UPPER_ONLY)
