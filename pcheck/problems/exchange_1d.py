"""The exchange method for the function-space problem (HTW eq. 5) in one input dimension.

**Method.** An exchange method: solve the problem on a finite set of atoms (the
restricted master, a group lasso, with Clarabel), polish the angles ("7"; in "8" kinks at
data points suffice) and masses of its support jointly by Newton's method, take
``alpha = 2 (Y - f(X))``, add the most violated atoms, repeat until the relative gap is
below ``gap_tol``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import linalg, sparse

from pcheck.core.angles import atoms_stack, kink_angle, ramps
from pcheck.core.costs import angle_atom_cost
from pcheck.core.network import Stack
from pcheck.core.objective import training_objective
from pcheck.core.units import Units
from pcheck.core.variant import as_variant
from pcheck.problems.dual_1d import certified_lower_bound, violations, within_allowed
from pcheck.solvers import conic

#: Relative duality gap the solver stops at: the certified tolerance RTOL_CERTIFIED (1e-9).
GAP_TOL = 1e-9


#: Atoms whose mass is below this fraction of the largest mass are dropped from the
#: master's support before polishing. Reason: interior-point masters return ~1e-9
#: relative masses on inactive atoms; they carry no function but break the
#: smoothness of ||mu|| the polish relies on; the certificate accounts for the rest.
SUPPORT_RTOL = 1e-7


#: Clarabel's gap and feasibility tolerances for the restricted master. Reason: the
#: master only has to find the support; Newton's method on that support then reaches
#: machine precision, and the certificate, not this tolerance, decides the result.
MASTER_TOL = 1e-10


#: An atom is dropped from the support when a full Newton step would shrink its mass
#: below this fraction (or reverse it). Reason: masses the master leaves just above
#: SUPPORT_RTOL that are 0 at the optimum make ||mu|| non-smooth for Newton; a wrongly
#: dropped atom violates the dual check and is added back by the exchange loop.
VANISH_RATIO = 1e-2


#: Only atoms below this fraction of the largest mass may be dropped that way. Reason:
#: the master's inactive masses sit near its tolerance level (~1e-8 relative), below
#: it, while a first Newton step may legitimately shrink a large mass a lot.
SMALL_MASS = 1e-6


#: Atoms added per exchange step at most (the most violated cells first). Reason: the
#: master's cost grows like its number of atoms squared, and cells far from the
#: optimum's support stop being violated once the first atoms are in.
MAX_NEW_ATOMS = 100


#: Newton steps on the support are accepted when they raise the objective by at most
#: this relative amount. Reason: near the optimum the objective changes by the square
#: of the step, below float64 resolution (~1e-16 relative), while the dual certificate
#: needs the variables themselves exact; the step is then judged by the gradient norm.
ROUNDING = 1e-14


#: Entries of ``T G`` (second differences of ramp columns) below this fraction of their
#: column's largest entry are set to 0 in the master. Reason: on cells where a ramp is
#: linear its second difference is exactly 0 and float leaves ~1e-16 relative; the master
#: only finds the support (Newton and the certificate fix the digits).
SPARSE_RTOL = 1e-12


#: Atoms inside one arc closer than this angle are merged before Newton (merge_close).
#: Reason: the exchange step adds the dual's maximizer next to a support atom that is
#: still moving; 1e-3 rad is far above Newton's final accuracy and far below the
#: spacing of genuinely distinct atoms on random data.
MERGE_ANGLE = 1e-3


#: Angles closer than this are the same neuron and merge without moving. Reason: angles
#: recomputed from kinks or clipped to an arc end agree to a few ulps (~1e-15 rad).
DUPLICATE_ANGLE = 1e-13


def second_differences(xs: np.ndarray):
    """The banded, invertible ``T (n, n)`` on sorted distinct points: row 0 the value at
    ``xs[0]``, row 1 the first divided difference, row ``j >= 2`` the change of slope at
    ``xs[j-1]``. ``T`` maps a piecewise-linear function's values to its kinks, so ``T``
    times a ramp column has at most four non-zeros (rows 0, 1 and the kink's cell)."""
    n = len(xs)
    T = sparse.lil_matrix((n, n))
    T[0, 0] = 1.0
    h = np.diff(xs)
    if n > 1:
        T[1, 0], T[1, 1] = -1.0 / h[0], 1.0 / h[0]
    for j in range(2, n):
        T[j, j - 2] = 1.0 / h[j - 2]
        T[j, j - 1] = -1.0 / h[j - 2] - 1.0 / h[j - 1]
        T[j, j] = 1.0 / h[j - 1]
    return T.tocsr()


def master(x, Y, lam, variant, phi, units=None):
    r"""The restricted master: the group lasso over the atoms ``phi_k``,

    .. math:: \min_{\mu, c} \|\Psi \mu + 1 c^T - Y\|_F^2
              + \lambda\Big(2\sum_k \kappa(\phi_k)\|\mu_k\| + \|c\|^2\Big)

    ("8": ``c`` free), solved as an SOCP with Clarabel. The fitted values ``S`` at the
    distinct points enter through ``T S = T G Mt`` (``G = [Psi, 1]``, ``Mt = [mu; c]``,
    :func:`second_differences`), which is sparse, and ``r = E S - Y`` (``E`` repeats
    duplicate points), so the conic system stays sparse however many atoms there are.
    Entries of ``T G`` below ``SPARSE_RTOL`` of their column are rounding of exact zeros
    and are dropped. ``units`` (:class:`pcheck.core.units.Units`): ``kappa`` of those internal
    units. Returns ``mu (K, d)`` and ``c``.
    """
    variant = as_variant(variant)
    N, d = Y.shape
    K = len(phi)
    # solve for Y / s, mu / s, c / s (s = max |Y|): Clarabel's tolerances are absolute, and
    # the scaled problem has the atom weight lam / s and the same ||c||^2 weight lam
    s = max(float(np.max(np.abs(Y))), np.finfo(float).tiny) if Y.size else 1.0
    Y = Y / s
    xs, inv = np.unique(x, return_inverse=True)
    n_u = len(xs)
    T = second_differences(xs)
    TG = T @ np.hstack([ramps(xs, phi), np.ones((n_u, 1))])
    TG[np.abs(TG) <= SPARSE_RTOL * np.max(np.abs(TG), axis=0, keepdims=True)] = 0.0
    n_mt, n_s, n_r = (K + 1) * d, n_u * d, N * d
    # x = [vec(Mt) row-major, vec(S), vec(r), rho_1..rho_K]
    i_s, i_r, i_rho = n_mt, n_mt + n_s, n_mt + n_s + n_r
    n = i_rho + K
    diag = np.zeros(n)
    diag[i_r:i_rho] = 2.0
    if variant.biases_regularized:
        diag[K * d:n_mt] = 2.0 * lam
    q = np.zeros(n)
    q[i_rho:] = 2.0 * lam / s * (angle_atom_cost(phi, variant) if units is None else units.kappa(phi)[0])
    # rows [fit: T S - T G Mt = 0 | residual: r - E S = -Y | cones], assembled as one list of
    # (row, col, value) triplets; (M kron I_d) puts M[a, b] at (a d + l, b d + l), l < d
    T = T.tocoo()
    tg_r, tg_c = np.nonzero(TG)
    blocks = [_kron_eye(tg_r, tg_c, -TG[tg_r, tg_c], d, 0, 0),
              _kron_eye(T.row, T.col, T.data, d, 0, i_s),
              _kron_eye(np.arange(N), inv, -np.ones(N), d, n_s, i_s),
              (n_s + np.arange(n_r), i_r + np.arange(n_r), np.ones(n_r))]
    # (rho_k, mu_k) in the second-order cone, written as s = -(rho_k, mu_k) rows
    soc_cols = np.column_stack([i_rho + np.arange(K), np.arange(K * d).reshape(K, d)]).ravel()
    blocks.append((n_s + n_r + np.arange(K * (d + 1)), soc_cols, -np.ones(K * (d + 1))))
    rows, cols, vals = (np.concatenate(parts) for parts in zip(*blocks))
    A = sparse.csc_matrix((vals, (rows, cols)), shape=(n_s + n_r + K * (d + 1), n))
    b = np.concatenate([np.zeros(n_s), -Y.ravel(), np.zeros(K * (d + 1))])
    sol = conic.solve(sparse.diags(diag), q, A, b, [("zero", n_s + n_r)] + [("soc", d + 1)] * K, tol=MASTER_TOL)
    z = sol.x
    if not np.all(np.isfinite(z)):
        raise RuntimeError(f"the restricted master failed: Clarabel status {sol.status}")
    Mt = s * z[:n_mt].reshape(K + 1, d)
    return Mt[:K], Mt[K]


def _kron_eye(r, c, v, d, row0, col0):
    """Triplets of ``M kron I_d`` for ``M``'s triplets ``(r, c, v)``, shifted by ``(row0, col0)``."""
    lane = np.arange(d)
    return ((row0 + np.asarray(r)[:, None] * d + lane).ravel(), (col0 + np.asarray(c)[:, None] * d + lane).ravel(),
            np.repeat(np.asarray(v, dtype=float), d))


def support_gradient_hessian(x, Y, lam, variant, phi, mu, c, free, units=None):
    """Value, gradient and Hessian of the objective over ``z = (phi[free], mu, c)`` at a
    support whose masses are all non-zero; the objective is smooth there as long as each
    ``phi_k`` stays inside its arc (fixed activation pattern).

    With ``G = [Psi, 1]`` and ``Mt = [mu; c]`` the loss is ``||G Mt - Y||^2`` (Hessian
    ``2 G^T G (x) I`` in ``Mt``). On an arc ``dPsi_ik/dphi_k = chi_ik (cos phi_k - sin phi_k x_i)``
    and ``d^2 Psi_ik / dphi_k^2 = -Psi_ik``, which give the ``phi`` rows (Gauss-Newton part plus
    the residual's second-order terms). Only variant "7" moves angles (``kappa = 1`` there, :func:`pcheck.core.costs.angle_atom_cost`;
    in the internal units of :class:`pcheck.core.units.Units` ``kappa(phi)`` varies and its first and
    second derivatives enter the ``phi`` gradient, the ``phi-phi`` diagonal and the ``phi-mu`` block).
    """
    variant = as_variant(variant)
    K, d = mu.shape
    N = x.shape[0]
    Psi = ramps(x, phi)
    G = np.hstack([Psi, np.ones((N, 1))])
    R = Psi @ mu + c[None, :] - Y
    nm = np.linalg.norm(mu, axis=1)
    om, om1, om2 = (angle_atom_cost(phi, variant), 0.0 * phi, 0.0 * phi) if units is None else units.kappa(phi)
    val = float(np.sum(R * R)) + 2.0 * lam * float(np.sum(om * nm))
    n_dir = mu / nm[:, None]
    gMt = 2.0 * G.T @ R
    gMt[:K] += 2.0 * lam * om[:, None] * n_dir
    H = np.kron(2.0 * G.T @ G, np.eye(d))
    for k in range(K):
        sl = slice(k * d, (k + 1) * d)
        H[sl, sl] += 2.0 * lam * om[k] / nm[k] * (np.eye(d) - np.outer(n_dir[k], n_dir[k]))
    if variant.biases_regularized:
        val += lam * float(c @ c)
        gMt[K] += 2.0 * lam * c
        H[K * d:, K * d:] += 2.0 * lam * np.eye(d)
    grad = gMt.ravel()
    idx = np.flatnonzero(free)
    if idx.size:
        ph, mf = phi[idx], mu[idx]
        D = (Psi[:, idx] > 0) * (np.cos(ph)[None, :] - np.sin(ph)[None, :] * x[:, None])  # dPsi/dphi
        RM = R @ mf.T  # (N, F): R_i . mu_k
        gp = 2.0 * np.sum(RM * D, axis=0) + 2.0 * lam * nm[idx] * om1[idx]
        Hpp = 2.0 * (D.T @ D) * (mf @ mf.T)
        Hpp[np.diag_indices_from(Hpp)] += 2.0 * lam * nm[idx] * om2[idx] - 2.0 * np.sum(RM * Psi[:, idx], axis=0)
        HpM = 2.0 * (D.T @ G)[:, :, None] * mf[:, None, :]
        HpM[np.arange(idx.size), idx, :] += 2.0 * D.T @ R + 2.0 * lam * om1[idx, None] * n_dir[idx]
        HpM = HpM.reshape(idx.size, -1)
        grad = np.concatenate([gp, grad])
        H = np.block([[Hpp, HpM], [HpM.T, H]])
    return val, grad, H


def polish(x, Y, lam, variant, phi, mu, c, lo, hi, *, steps: int = 60, units=None):
    """Newton's method on the smooth support problem (:func:`support_gradient_hessian`):
    angles strictly inside their arcs ``[lo, hi]`` move (variant "7"), masses and ``c``
    always; a backtracking line search keeps the objective decreasing (up to
    ``ROUNDING``) and the angles in their arcs (an angle reaching an arc end, a kink on
    a data point, stops there); it stops when the gradient norm stops decreasing. ``units``: the
    problem in those internal units (:mod:`pcheck.core.units`; metric-weighted eq. 4)."""
    variant = as_variant(variant)
    kappa, metric = (None, None) if units is None else (units.kappa, units.metric)
    if variant.biases_regularized and len(phi):
        phi, mu, lo, hi = merge_close(phi.copy(), mu.copy(), lo, hi)
    K, d = mu.shape
    phi, mu, c, lo, hi = phi.copy(), mu.copy(), c.copy(), lo.copy(), hi.copy()
    best_gnorm, stalls, prev_val = np.inf, 0, np.inf
    for _ in range(steps):
        free = (lo < phi) & (phi < hi) if variant.biases_regularized else np.zeros(K, bool)
        val, grad, H = support_gradient_hessian(x, Y, lam, variant, phi, mu, c, free, units)
        gnorm = float(np.linalg.norm(grad))
        flat = prev_val - val <= ROUNDING * abs(val)  # the objective no longer tells steps apart
        stalls = stalls + 1 if (flat and gnorm >= best_gnorm) else 0
        best_gnorm, prev_val = min(best_gnorm, gnorm), val
        if stalls >= 2 and _drop_smallest(mu):
            # stuck next to a small atom (e.g. two atoms sharing an arc): drop it, retry
            k = int(np.argmin(np.linalg.norm(mu, axis=1)))
            phi, mu, lo, hi = (np.delete(a, k, axis=0) for a in (phi, mu, lo, hi))
            K -= 1
            best_gnorm, stalls = np.inf, 0
            continue
        if stalls >= 2 or gnorm == 0.0:
            break
        step = newton_step(H, grad)
        if not float(grad @ step) < 0:
            break
        nf = int(free.sum())
        step_p, step_mu, step_c = step[:nf], step[nf:nf + K * d].reshape(K, d), step[nf + K * d:]
        vanishing = _vanishing(mu, step_mu)
        if np.any(vanishing) and K > 1:
            # the full step sends these masses through zero: on the true support they are 0
            keep = ~vanishing
            phi, mu, lo, hi, K = phi[keep], mu[keep], lo[keep], hi[keep], int(keep.sum())
            best_gnorm, stalls = np.inf, 0
            continue
        eta, improved = 1.0, False
        while eta > 1e-10:
            pn = phi.copy()
            pn[free] = np.clip(phi[free] + eta * step_p, lo[free], hi[free])
            mn, cn = mu + eta * step_mu, c + eta * step_c
            if np.all(np.linalg.norm(mn, axis=1) > 0):
                vn = training_objective(atoms_stack(pn, mn, cn, variant, kappa), x[:, None], Y, lam, variant,
                                        rescaled=True, metric=metric)
                if vn <= val + ROUNDING * abs(val):
                    improved = True
                    break
            eta *= 0.5
        if not improved:
            break
        phi, mu, c = pn, mn, cn
    return phi, mu, c


def merge_close(phi, mu, lo, hi):
    """Merge atoms strictly inside the same arc whose angles differ by less than
    ``MERGE_ANGLE``: one atom at the mass-weighted angle carrying the summed mass. Two such
    atoms are nearly collinear columns, which makes Newton's system near-singular; atoms
    far apart in one arc (a tight dual on the whole arc, possible for d_out > 1) stay."""
    order = np.argsort(phi, kind="stable")
    phi, mu, lo, hi = phi[order], mu[order], lo[order], hi[order]
    out = [0]
    for k in range(1, len(phi)):
        j = out[-1]
        same = lo[k] < phi[k] < hi[k] and lo[j] < phi[j] < hi[j] and lo[k] == lo[j]
        if phi[k] - phi[j] <= DUPLICATE_ANGLE:  # the same neuron twice (e.g. on an arc end)
            mu[j] = mu[j] + mu[k]
        elif same and phi[k] - phi[j] < MERGE_ANGLE:
            wj, wk = np.linalg.norm(mu[j]), np.linalg.norm(mu[k])
            phi[j] = (wj * phi[j] + wk * phi[k]) / (wj + wk)
            mu[j] = mu[j] + mu[k]
        else:
            out.append(k)
    return phi[out], mu[out], lo[out], hi[out]


def newton_step(H, grad):
    """``-(H + tau I)^{-1} grad`` on the Jacobi-scaled system (masses and angles live on
    very different scales), with the smallest shift ``tau >= 0`` (from 1e-14 up, times 10)
    that makes the scaled matrix positive definite: the angles make the objective
    non-convex, and a descent direction is needed."""
    scale = 1.0 / np.sqrt(np.maximum(np.abs(np.diag(H)), np.finfo(float).tiny))
    Hs = H * scale[:, None] * scale[None, :]
    gs = grad * scale
    tau = 0.0
    while True:
        try:
            factor = linalg.cho_factor(Hs + tau * np.eye(len(gs)), check_finite=False)
            break
        except linalg.LinAlgError:
            tau = 1e-14 if tau == 0.0 else 10.0 * tau
    return linalg.cho_solve(factor, -gs, check_finite=False) * scale


def _drop_smallest(mu) -> bool:
    """Whether the smallest atom is below ``SMALL_MASS`` of the largest (and not alone)."""
    nm = np.linalg.norm(mu, axis=1)
    return len(nm) > 1 and nm.min() < SMALL_MASS * nm.max()


def _vanishing(mu, step_mu):
    """Small atoms (below ``SMALL_MASS`` of the largest) whose mass the full Newton step
    reverses or shrinks below ``VANISH_RATIO`` of its value."""
    after = mu + step_mu
    nm = np.linalg.norm(mu, axis=1)
    small = nm < SMALL_MASS * nm.max(initial=0.0)
    return small & ((np.sum(after * mu, axis=1) <= 0) | (np.linalg.norm(after, axis=1) < VANISH_RATIO * nm))


def arcs(xs, phi):
    """The closed arc ``[lo, hi]`` of angles with the same activation pattern as each
    ``phi`` (its ends are the angles of kinks on data points, ``kink_angle(+-1, x_i)``); an
    angle on an arc end stays there (``lo = hi``): the objective is not smooth across it."""
    ends = np.sort(np.concatenate([kink_angle(1, xs), kink_angle(-1, xs), [-np.pi / 2, 1.5 * np.pi]]))
    j = np.searchsorted(ends, phi, side="left")
    jc = np.minimum(j, len(ends) - 1)
    on = ends[jc] == phi
    lo = np.where(on, phi, ends[np.maximum(j - 1, 0)])
    hi = np.where(on, phi, ends[jc])
    return lo, hi


def blas_controller():
    """A cached ``threadpoolctl.ThreadpoolController``: the exchange method runs BLAS
    single-threaded. Reason: its dense Newton systems (~1000 x 1000 for N = 200, d_out = 8)
    are too small to gain from threads, and on a shared 2-core machine a multi-threaded
    Cholesky oversubscribes the cores and runs 10-40x slower (benchmarks/bench_solve.py)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


_CONTROLLER = None


class Exchange(NamedTuple):
    """What :func:`exchange` found: the best iterate's balanced ``stack``, its eq. (4)
    ``objective``, the certified ``lower`` bound and relative ``gap``, its atoms (``angles``
    sorted, ``masses``, output bias ``c``), the ``iterations`` run and their ``history``."""

    stack: Stack
    objective: float
    lower: float
    gap: float
    angles: np.ndarray
    masses: np.ndarray
    c: np.ndarray
    iterations: int
    history: list


def exchange(X, Y, lam, variant, gap_tol, max_iter, allowed, stop_above, units=None) -> Exchange:
    """The exchange loop (module docstring) on validated input: stops at ``gap <= gap_tol``,
    after ``max_iter`` rounds, when the lower bound exceeds ``stop_above`` or when stalled.

    ``units`` (:class:`pcheck.core.units.Units`, identity by default): the master and Newton run on
    ``X' = (X - t) / a``, ``Y' = Y / b`` with the metric-weighted costs of those units, the dual
    check on the given data with ``lam / b`` (the same constraint, :mod:`pcheck.core.units`);
    ``X, Y, allowed, stop_above`` and everything returned are in the given units (values times
    ``b^2``, exact for powers of two), the relative ``gap`` is the same in both."""
    variant = as_variant(variant)
    units = Units.identity(1, variant) if units is None else units
    x, xn, Yn = X[:, 0], units.x(X)[:, 0], units.y(Y)
    xs, xs_n = np.unique(x), np.unique(xn)
    allowed_n = None if allowed is None else units.angle_to_normalized(allowed, xs, xs_n)
    # the dual check: eq. (8) in the internal units (eq. 8 again with lam / (a b), well conditioned
    # for data far from 0), unless angle intervals restrict it (they are exact in the given units
    # only); eq. (7) in the given units with lam / b (its internal form has the metric's cost)
    internal = not variant.biases_regularized and allowed is None
    x_dual, dual_lam = (xn, lam / (units.a * units.b)) if internal else (x, lam * units.dual_lam_factor)
    to_angle = kink_angle if internal else units.kink_to_angle
    # the primal: eq. (7) with the metric's per-angle costs; eq. (8)'s metric only scales |v| by
    # 1 / (a b), i.e. it is eq. (8) with lam / (a b) and the standard costs
    lam_p, own, metric = (lam, units, units.metric) if variant.biases_regularized else \
        (lam / (units.a * units.b), None, None)
    if units.is_identity:  # the given problem itself: the standard costs
        own = metric = None
    kappa = None if own is None else own.kappa
    phi = np.zeros(0)
    history, best = [], None
    for it in range(1, max_iter + 1):
        mu, c = master(xn, Yn, lam_p, variant, phi, own)
        nm = np.linalg.norm(mu, axis=1)
        keep = nm > SUPPORT_RTOL * max(float(nm.max(initial=0.0)), np.finfo(float).tiny)
        lo, hi = arcs(xs_n, phi[keep])
        if allowed is not None:
            lo, hi = within_allowed(phi[keep], lo, hi, allowed_n)
        phi, mu, c = polish(xn, Yn, lam_p, variant, phi[keep], mu[keep], c, lo, hi, units=own)
        stack = atoms_stack(phi, mu, c, variant, kappa)
        objective = training_objective(stack, xn[:, None], Yn, lam_p, variant, rescaled=True, metric=metric)
        alpha = 2.0 * (Yn - stack(xn[:, None]))
        lower, worst = certified_lower_bound(x_dual, Yn, lam, variant, alpha, allowed, constraint_lam=dual_lam)
        gap = (objective - lower) / max(objective, np.finfo(float).tiny)
        history.append({"iteration": it, "atoms": len(phi), "objective": units.value(objective),
                        "lower_bound": units.value(lower), "worst_ratio": worst, "gap": gap})
        if best is None or gap < best[3]:
            best = (stack, objective, lower, gap, phi, mu, c)
        if gap <= gap_tol or units.value(lower) > stop_above:
            break
        viol = violations(x_dual, alpha, dual_lam, variant, allowed)
        new = viol.ratio > 1.0
        if new.sum() > MAX_NEW_ATOMS:  # the most violated ones: keeps the master small
            new &= viol.ratio >= np.sort(viol.ratio[new])[-MAX_NEW_ATOMS]
        candidates = _unique_angles(np.concatenate([phi, to_angle(viol.s[new], viol.p[new])]))
        improving = len(history) < 2 or history[-2]["objective"] - history[-1]["objective"] > \
            ROUNDING * history[-1]["objective"]
        if len(candidates) == len(phi) and not improving:
            break  # no new violated atom and the support no longer improves: stalled
        phi = candidates
    stack, objective, lower, gap, phi, mu, c = best
    phi, mu, c = units.given_atoms(phi, mu, c)
    order = np.argsort(phi, kind="stable")
    # in the given units: eq. (4) of the returned network itself (for data far from 0 its float
    # parameters realize the internal network only to ~eps |t| / spread, and the gap says so)
    stack, lower = units.stack(stack), max(units.value(lower), 0.0)
    given = training_objective(stack, X, Y, lam, variant, rescaled=True)
    if np.isfinite(given) and given > 0 and not units.is_identity:
        objective, gap = given, (given - lower) / given
    else:
        objective = units.value(objective)
    return Exchange(stack, objective, lower, max(gap, 0.0), phi[order], mu[order], c, it, history)


def _unique_angles(phi):
    _, idx = np.unique(np.round(phi, 15), return_index=True)
    return phi[np.sort(idx)]


def kink_grid(grid, variant: str) -> np.ndarray:
    """Angles of the atoms with kinks at ``grid`` in both directions, plus the constant
    neuron (``phi = pi/2``) for "7": the candidate set of a fixed-grid formulation."""
    variant = as_variant(variant)
    grid = np.asarray(grid, dtype=float)
    phi = kink_angle(np.repeat([1.0, -1.0], len(grid)), np.concatenate([grid, grid]))
    return np.append(phi, np.pi / 2) if variant.biases_regularized else phi
