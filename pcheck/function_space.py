"""The function-space problem (HTW eq. 5) in one input dimension, solved exactly with a
certificate.

**The exact link to eq. (4).** Write a 1D neuron with ``v != 0`` as an atom
``w relu(v x + b) = m relu(s (x - p))`` with direction ``s = sign(v)``, kink
``p = -b/v`` and vector mass ``m = |v| w``. Minimizing ``||theta||^2`` over the
rescalings of each neuron (MATH.md, "Rescaling") gives

.. math:: \\min_{\\theta \\text{ of any width}} L(\\theta) + \\lambda\\|\\theta\\|^2
          = \\min_f L(f) + \\lambda\\,\\Big(2\\sum_k \\|m_k\\|\\,\\omega(p_k) + 2\\|u\\|
            + \\|c\\|^2\\Big)

with ``omega(p) = sqrt(1 + p^2) = 1/g(p)`` for variant "7" (biases regularized, HTW
eq. 7) and ``omega = 1``, ``u`` and ``c`` free for variant "8" (eq. 8). ``u`` is the
output of the neurons with ``v = 0``: ``w relu(b)`` costs ``2 ||w|| |b|`` balanced,
and it is also the limit of a kink sent to ``-inf`` with ``m p`` fixed, so on the data
the constant atom is the closure of the far kinks. The atom part is therefore
``2 x`` the ``int ||phi''|| / g`` of eq. 7 (MATH.md item 1) and a constant ``t = u + c``
costs ``min ||c||^2 + 2||u|| = huber(||t||)`` (``||t||^2`` up to 1, ``2||t|| - 1`` beyond).

**Dual.** With residual multipliers ``alpha (N, d_out)``,

.. math:: D(\\alpha) = \\langle \\alpha, Y\\rangle - \\tfrac14\\|\\alpha\\|_F^2
          - \\tfrac{1}{4\\lambda}\\Big\\|\\sum_i \\alpha_i\\Big\\|^2

("8": without the last term and with ``sum_i alpha_i = 0``), subject to
``||sum_i alpha_i relu(s (x_i - p))|| <= 2 lam omega(p)`` for both ``s`` and every real
``p`` (and ``||sum_i alpha_i|| <= 2 lam`` for the constant atom, "7"). Between two
consecutive data points the left side is ``||a - p B||`` for fixed vectors ``a, B``, so
the largest violation in a cell is the top eigenvalue of a 2 x 2 matrix (variant "7")
or an endpoint value (variant "8"): the constraint is checked over all ``p`` exactly.
Any ``alpha`` scaled into the feasible set gives a certified lower bound.

**Method.** An exchange method: solve the problem on a finite set of atoms (the
restricted master, a group lasso), polish the positions and masses of its support
jointly (variant "7"; in variant "8" kinks at data points suffice because the dual
constraint is piecewise linear in ``p``), take ``alpha = 2 (Y - f(X))``, add the most
violated atom of every cell, repeat until the relative gap is below ``gap_tol``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ._validate import as_count, as_dataset, as_scalar
from .costs import check_variant
from .network import Stack

#: Relative duality gap the solver stops at (issue 4: certified 1e-9).
GAP_TOL = 1e-9
#: Atoms whose mass is below this fraction of the largest mass are dropped from the
#: master's support before polishing. Reason: interior-point masters return ~1e-9
#: relative masses on inactive atoms; they carry no function but break the
#: smoothness of ||m|| the polish relies on. Dropping one changes the objective by
#: at most ~lam * 1e-10 x scale, which the certificate then accounts for.
SUPPORT_RTOL = 1e-7
#: Clarabel's gap and feasibility tolerances for the restricted master. Reason: the
#: master only has to find the support; Newton's method on that support then reaches
#: machine precision, and the certificate, not this tolerance, decides the result.
MASTER_TOL = 1e-10
#: An atom is dropped from the support when a full Newton step would shrink its mass
#: below this fraction (or reverse it). Reason: masses the master leaves just above
#: SUPPORT_RTOL that are 0 at the optimum make ||m|| non-smooth for Newton; a wrongly
#: dropped atom violates the dual check and is added back by the exchange loop.
VANISH_RATIO = 1e-2
#: Only atoms below this fraction of the largest mass may be dropped that way. Reason:
#: the master's inactive masses sit at its tolerance level (<= 1e-6 relative), far below
#: it, while a first Newton step may legitimately shrink a large mass a lot.
SMALL_MASS = 1e-4


@dataclass(frozen=True)
class FunctionSpaceFit:
    """A certified solution of the function-space problem (HTW eq. 5 in the eq.-4
    convention of the module docstring).

    ``objective`` is ``L + lam ||theta||^2`` of ``stack`` (a balanced network that
    realizes the solution), ``lower_bound`` a dual value from a feasible dual point,
    ``gap = (objective - lower_bound) / objective``. ``kinks`` ``(K,)``, ``directions``
    ``(K,)`` and ``masses`` ``(K, d_out)`` describe the atoms, ``constant`` the output of
    the ``v = 0`` neuron (``u``) and ``c`` the output bias. ``exact`` is True when the
    dual constraint was checked over all kink positions (always, in 1D).
    """

    stack: Stack
    objective: float
    lower_bound: float
    gap: float
    variant: str
    lam: float
    kinks: np.ndarray
    directions: np.ndarray
    masses: np.ndarray
    constant: np.ndarray
    c: np.ndarray
    iterations: int
    exact: bool = True
    history: list = field(default_factory=list)

    @property
    def n_atoms(self) -> int:
        """Number of atoms with ``v != 0`` (kinks), not counting the constant neuron."""
        return int(self.kinks.shape[0])


# ----------------------------------------------------------------------------- atoms


def omega(p, variant: str):
    """Atom weight: ``sqrt(1 + p^2) = 1/g(p)`` for "7", 1 for "8"."""
    p = np.asarray(p, dtype=float)
    return np.sqrt(1.0 + p * p) if variant == "7" else np.ones_like(p)


def ramps(x: np.ndarray, s: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``Phi[i, k] = relu(s_k (x_i - p_k))``, shape ``(N, K)``."""
    return np.maximum(s[None, :] * (x[:, None] - p[None, :]), 0.0)


def huber(t_norm):
    """Cost of a constant output ``t = u + c``: ``min_c ||c||^2 + 2||t - c||``."""
    t_norm = np.asarray(t_norm, dtype=float)
    return np.where(t_norm <= 1.0, t_norm**2, 2.0 * t_norm - 1.0)


def split_constant(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The minimizing split ``t = u + c`` of :func:`huber`: ``c = t`` if ``||t|| <= 1``,
    else ``c = t / ||t||`` and ``u = t - c``."""
    nt = float(np.linalg.norm(t))
    c = t.copy() if nt <= 1.0 else t / nt
    return t - c, c


def atoms_stack(s, p, M, u, c, variant: str) -> Stack:
    """A balanced stack realizing ``sum_k M_k relu(s_k (x - p_k)) + u + c``.

    Atom k becomes ``v = s tau, b = -s p tau, w = M / tau`` with
    ``tau^2 = ||M|| / omega(p)`` ("7": ``||w|| = ||(v, b)||``; "8": ``||w|| = |v|``). The
    constant ``u`` (variant "7") becomes one ``v = 0`` neuron with ``b = sqrt(||u||)``,
    ``w = u / b``; in variant "8" constants are free and go into ``c``.
    """
    d = M.shape[1] if M.ndim == 2 else c.shape[0]
    nm = np.linalg.norm(M, axis=1)
    keep = nm > 0
    s, p, M, nm = s[keep], p[keep], M[keep], nm[keep]
    tau = np.sqrt(nm / omega(p, variant))
    V = (s * tau)[:, None]
    b = -s * p * tau
    W = (M / tau[:, None]).T
    nu = float(np.linalg.norm(u))
    if variant == "7" and nu > 0:
        V = np.vstack([V, [[0.0]]])
        b = np.append(b, np.sqrt(nu))
        W = np.hstack([W, (u / np.sqrt(nu))[:, None]])
    elif variant == "8":
        c = c + u
    return Stack(V.reshape(-1, 1), b, W.reshape(d, -1), c)


def network_objective(stack: Stack, X: np.ndarray, Y: np.ndarray, lam: float, variant: str) -> float:
    """HTW eq. (4): ``sum_i ||h(x_i) - y_i||^2 + lam ||theta||^2``; for variant "8" the
    biases ``b`` and ``c`` are left out of ``||theta||^2`` (eq. 8)."""
    R = stack(X) - Y
    reg = float(np.sum(stack.V**2) + np.sum(stack.W**2))
    if variant == "7":
        reg += float(np.sum(stack.b**2) + np.sum(stack.c**2))
    return float(np.sum(R * R)) + lam * reg


# ----------------------------------------------------------------------------- dual


@dataclass(frozen=True)
class Violation:
    """The most violated dual constraint per cell: kink ``p``, direction ``s`` and the
    ratio ``||sum alpha_i relu(s(x_i - p))|| / (2 lam omega(p))``; ``worst`` is the
    maximum ratio over all cells, directions and the constant atom."""

    p: np.ndarray
    s: np.ndarray
    ratio: np.ndarray
    worst: float


def _cell_sup(a, B, lo, hi, variant):
    """``sup_{p in [lo, hi]} ||a - p B||^2 / omega(p)^2`` per cell (rows of ``a``, ``B``)
    and a maximizer; ``lo = -inf`` or ``hi = +inf`` allowed (limit ``||B||^2`` for "7";
    for "8" the caller ensures ``B = 0`` on infinite cells)."""
    def value(p):
        fin = np.isfinite(p)
        pf = np.where(fin, p, 0.0)
        num = np.sum((a - pf[:, None] * B) ** 2, axis=1)
        out = num / omega(pf, variant) ** 2
        limit = np.sum(B * B, axis=1) if variant == "7" else np.sum(a * a, axis=1)
        return np.where(fin, out, limit)

    best_p, best = lo.copy(), value(lo)
    vh = value(hi)
    better = vh > best
    best_p, best = np.where(better, hi, best_p), np.where(better, vh, best)
    if variant == "7":
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


def violations(x: np.ndarray, alpha: np.ndarray, lam: float, variant: str) -> Violation:
    """Largest dual-constraint ratio in every cell between consecutive distinct data
    points, for both directions (module docstring). ``x`` sorted."""
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
    if variant == "8":
        # with sum alpha = 0 the infinite cells are constant in p: use their finite end
        lo = np.where(np.isfinite(lo), lo, hi)
        hi = np.where(np.isfinite(hi), hi, lo)
    p, sup2 = _cell_sup(a, B, lo, hi, variant)
    ratio = np.sqrt(np.maximum(sup2, 0.0)) / (2.0 * lam)
    s = np.concatenate([np.ones(xs.shape[0]), -np.ones(xs.shape[0])])
    worst = float(np.max(ratio))
    if variant == "7":
        worst = max(worst, float(np.linalg.norm(A.sum(axis=0))) / (2.0 * lam))
    return Violation(p, s, ratio, worst)


def dual_value(alpha: np.ndarray, Y: np.ndarray, lam: float, variant: str) -> float:
    """``D(alpha)`` of the module docstring (without the feasibility constraints)."""
    val = float(np.sum(alpha * Y)) - 0.25 * float(np.sum(alpha * alpha))
    if variant == "7":
        val -= float(np.sum(alpha.sum(axis=0) ** 2)) / (4.0 * lam)
    return val


def certified_lower_bound(x, Y, lam, variant, alpha) -> tuple[float, float]:
    """A feasible dual point from ``alpha`` and its value: for "8" project onto
    ``sum alpha = 0``; then scale by ``t in [0, 1/worst]`` maximizing the concave
    quadratic ``D(t alpha)``. Returns ``(lower_bound, worst_ratio)``."""
    if variant == "8":
        alpha = alpha - alpha.mean(axis=0)
    worst = violations(x, alpha, lam, variant).worst
    lin = float(np.sum(alpha * Y))
    quad = dual_value(alpha, Y, lam, variant) - lin  # D(t alpha) = t lin + t^2 quad, quad <= 0
    t_max = 1.0 / worst if worst > 0 else np.inf
    t = t_max if quad == 0 else min(t_max, max(0.0, lin / (-2.0 * quad)))
    if not np.isfinite(t):
        return 0.0, worst
    return t * lin + t * t * quad, worst


# ----------------------------------------------------------------------------- primal


def master(x, Y, lam, variant, s, p):
    """The restricted master: the group lasso over the atoms ``(s_k, p_k)``,

    .. math:: \min_{M, u, c} \|G [M; u + c] - Y\|_F^2
              + \lambda\Big(2\sum_k \omega(p_k)\|M_k\| + 2\|u\| + \|c\|^2\Big),

    ``G = [Phi, 1]`` ("8": ``u, c`` free), solved as an SOCP with Clarabel. The loss is
    reduced by a thin QR of ``G`` (``||G Mt - Y||^2 = ||R Mt - Q^T Y||^2 + const``), so
    the problem size does not grow with N. Returns ``M (K, d)`` and ``t = u + c``.
    """
    import clarabel
    from scipy import sparse

    N, d = Y.shape
    K = len(p)
    G = np.hstack([ramps(x, s, p), np.ones((N, 1))])
    if K + 1 < N:
        Q, RG = np.linalg.qr(G)
        target = Q.T @ Y
    else:
        RG, target = G, Y
    m = RG.shape[0]
    n_mt, n_r = (K + 1) * d, m * d
    seven = variant == "7"
    # x = [vec(Mt) row-major, vec(r), rho_1..rho_K, (c, rho_u) for "7"]
    i_r, i_rho = n_mt, n_mt + n_r
    i_c, i_rhou = i_rho + K, i_rho + K + d
    n = i_rho + K + (d + 1 if seven else 0)
    P = sparse.lil_matrix((n, n))
    q = np.zeros(n)
    P[range(i_r, i_r + n_r), range(i_r, i_r + n_r)] = 2.0
    q[i_rho:i_rho + K] = 2.0 * lam * omega(p, variant)
    if seven:
        P[range(i_c, i_c + d), range(i_c, i_c + d)] = 2.0 * lam
        q[i_rhou] = 2.0 * lam
    # r - (RG (x) I) vec(Mt) = -vec(target)   (zero cone)
    A_eq = sparse.hstack([-sparse.kron(sparse.csr_matrix(RG), sparse.eye(d)), sparse.eye(n_r),
                          sparse.csr_matrix((n_r, n - n_mt - n_r))])
    blocks, rhs, cones = [A_eq], [-target.ravel()], [clarabel.ZeroConeT(n_r)]
    for k in range(K):  # (rho_k, M_k) in the second-order cone
        rows = sparse.csr_matrix((-np.ones(d + 1), ([0] + list(range(1, d + 1)),
                                  [i_rho + k] + list(range(k * d, (k + 1) * d)))), shape=(d + 1, n))
        blocks.append(rows)
        rhs.append(np.zeros(d + 1))
        cones.append(clarabel.SecondOrderConeT(d + 1))
    if seven:  # (rho_u, t - c) in the second-order cone
        ri = [0] + list(range(1, d + 1)) * 2
        ci = [i_rhou] + list(range(K * d, (K + 1) * d)) + list(range(i_c, i_c + d))
        vals = [-1.0] + [-1.0] * d + [1.0] * d
        blocks.append(sparse.csr_matrix((vals, (ri, ci)), shape=(d + 1, n)))
        rhs.append(np.zeros(d + 1))
        cones.append(clarabel.SecondOrderConeT(d + 1))
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = MASTER_TOL
    settings.max_iter = 200
    solver = clarabel.DefaultSolver(sparse.csc_matrix(P), q, sparse.vstack(blocks).tocsc(), np.concatenate(rhs),
                                    cones, settings)
    sol = solver.solve()
    z = np.asarray(sol.x)
    if not np.all(np.isfinite(z)):
        raise RuntimeError(f"the restricted master failed: Clarabel status {sol.status}")
    Mt = z[:n_mt].reshape(K + 1, d)
    return Mt[:K], Mt[K]


def primal_value(x, Y, lam, variant, s, p, M, t) -> float:
    """The objective at atoms ``(s, p, M)`` and constant ``t``."""
    F = ramps(x, s, p) @ M + t[None, :]
    reg = 2.0 * float(np.sum(omega(p, variant) * np.linalg.norm(M, axis=1)))
    if variant == "7":
        reg += float(huber(np.linalg.norm(t)))
    return float(np.sum((F - Y) ** 2)) + lam * reg


def support_gradient_hessian(x, Y, lam, variant, s, p, M, t, free):
    """Value, gradient and Hessian of the objective over ``z = (p[free], M, t)`` at a
    support whose masses are all non-zero (module docstring: the objective is smooth
    there; ``Phi`` is linear in ``p`` inside a cell).

    With ``G = [Phi, 1]`` and ``Mt = [M; t]`` the loss is ``||G Mt - Y||^2``, so its Hessian
    in ``Mt`` is ``2 G^T G (x) I``; ``d R / d p_k = -s_k chi_k M_k^T`` (``chi_k`` the active
    indicator of atom k) adds the ``p`` rows, and ``d^2 R / dp_k dM_k = -s_k chi_k e^T``
    the only second-order term of the residual.
    """
    K, d = M.shape
    N = x.shape[0]
    Phi = ramps(x, s, p)
    G = np.hstack([Phi, np.ones((N, 1))])
    R = Phi @ M + t[None, :] - Y
    nm = np.linalg.norm(M, axis=1)
    om = omega(p, variant)
    nt = float(np.linalg.norm(t))
    val = float(np.sum(R * R)) + 2.0 * lam * float(np.sum(om * nm))
    n_dir = M / nm[:, None]
    gMt = 2.0 * G.T @ R
    gMt[:K] += 2.0 * lam * om[:, None] * n_dir
    HMt = np.kron(2.0 * G.T @ G, np.eye(d))
    for k in range(K):
        sl = slice(k * d, (k + 1) * d)
        HMt[sl, sl] += 2.0 * lam * om[k] / nm[k] * (np.eye(d) - np.outer(n_dir[k], n_dir[k]))
    tl = slice(K * d, (K + 1) * d)
    if variant == "7":
        val += lam * float(huber(nt))
        if nt <= 1.0:
            gMt[K] += 2.0 * lam * t
            HMt[tl, tl] += 2.0 * lam * np.eye(d)
        else:
            nt_dir = t / nt
            gMt[K] += 2.0 * lam * nt_dir
            HMt[tl, tl] += 2.0 * lam / nt * (np.eye(d) - np.outer(nt_dir, nt_dir))
    grad, H = gMt.ravel(), HMt
    idx = np.flatnonzero(free)
    if variant == "7" and idx.size:
        chi = (s[None, :] * (x[:, None] - p[None, :]) > 0).astype(float)[:, idx]
        sf, Mf = s[idx], M[idx]
        chiR = chi.T @ R  # (F, d)
        gp = -2.0 * sf * np.sum(chiR * Mf, axis=1) + 2.0 * lam * p[idx] / om[idx] * nm[idx]
        Hpp = 2.0 * np.outer(sf, sf) * (chi.T @ chi) * (Mf @ Mf.T)
        Hpp[np.diag_indices_from(Hpp)] += 2.0 * lam * (nm[idx] / om[idx] ** 3)
        # cross terms p_k with Mt_l[e]: -2 s_k (chi_k . G_l) M_k[e], plus the residual's
        # second-order term -2 s_k (chi_k^T R)[e] and the weight's 2 lam omega'(p_k) n_k[e] for l = k
        HpM = (-2.0 * sf[:, None, None] * (chi.T @ G)[:, :, None] * Mf[:, None, :])
        rows = np.arange(idx.size)
        HpM[rows, idx, :] += -2.0 * sf[:, None] * chiR + 2.0 * lam * (p[idx] / om[idx])[:, None] * n_dir[idx]
        HpM = HpM.reshape(idx.size, -1)
        grad = np.concatenate([gp, grad])
        H = np.block([[Hpp, HpM], [HpM.T, HMt]])
    return val, grad, H


def polish(x, Y, lam, variant, s, p, M, t, lo, hi, *, steps: int = 30):
    """Newton's method on the smooth support problem (:func:`support_gradient_hessian`):
    kinks ``p`` strictly inside their cells ``[lo, hi]`` move (variant "7"), masses and
    the constant always; a backtracking line search keeps the objective decreasing and
    the kinks in their cells (a kink reaching a data point stops there)."""
    K, d = M.shape
    p, M, t = p.copy(), M.copy(), t.copy()
    s, lo, hi = s.copy(), lo.copy(), hi.copy()
    for _ in range(steps):
        free = (lo < p) & (p < hi) if variant == "7" else np.zeros(K, bool)
        val, grad, H = support_gradient_hessian(x, Y, lam, variant, s, p, M, t, free)
        try:
            step = -np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(H, grad, rcond=None)[0]
        if not float(grad @ step) < 0:
            break
        nf = int(free.sum())
        step_p, step_M = step[:nf], step[nf:nf + K * d].reshape(K, d)
        step_t = step[nf + K * d:]
        vanishing = _vanishing(M, step_M)
        if np.any(vanishing) and K > 1:
            # the full step sends these masses through zero: on the true support they are 0
            keep = ~vanishing
            s, p, M, lo, hi, K = s[keep], p[keep], M[keep], lo[keep], hi[keep], int(keep.sum())
            continue
        eta, improved = 1.0, False
        while eta > 1e-10:
            pn = p.copy()
            pn[free] = np.clip(p[free] + eta * step_p, lo[free], hi[free])
            Mn, tn = M + eta * step_M, t + eta * step_t
            if np.all(np.linalg.norm(Mn, axis=1) > 0):
                vn = primal_value(x, Y, lam, variant, s, pn, Mn, tn)
                if vn <= val:
                    improved = True
                    break
            eta *= 0.5
        if not improved:
            break
        p, M, t = pn, Mn, tn
        if val - vn <= 1e-16 * max(abs(val), 1.0):
            break
    return s, p, M, t


def _vanishing(M, step_M):
    """Small atoms (below ``SMALL_MASS`` of the largest) whose mass the full Newton step
    reverses or shrinks below ``VANISH_RATIO`` of its value."""
    after = M + step_M
    nm = np.linalg.norm(M, axis=1)
    small = nm < SMALL_MASS * nm.max(initial=0.0)
    return small & ((np.sum(after * M, axis=1) <= 0) | (np.linalg.norm(after, axis=1) < VANISH_RATIO * nm))


def _cells(xs, p):
    """The closed cell ``[lo, hi]`` between consecutive distinct data points that holds
    each kink (the outer cells are unbounded); a kink on a data point stays there
    (``lo = hi = p``), since the objective is not differentiable in ``p`` at a data point."""
    n = len(xs)
    j = np.searchsorted(xs, p, side="left")
    jc = np.minimum(j, n - 1)
    on = (j < n) & (xs[jc] == p)
    lo = np.where(on, p, np.where(j > 0, xs[np.maximum(j - 1, 0)], -np.inf))
    hi = np.where(on, p, np.where(j < n, xs[jc], np.inf))
    return lo, hi


def fit_function_space(X, Y, lam, variant="7", *, gap_tol: float = GAP_TOL, max_iter: int = 50) -> FunctionSpaceFit:
    """Certified minimum over all widths of HTW eq. (4), i.e. ``min_f L(f) + lam P(f)`` in
    the exact convention of the module docstring (eq. 5; "7": eq. 7, "8": eq. 8).

    ``X (N, 1)``, ``Y (N, d_out)``, ``lam > 0``. Returns a :class:`FunctionSpaceFit` whose
    ``objective`` is eq. (4) evaluated at the returned (balanced) ``stack`` and whose
    ``lower_bound`` is a certified dual value; iterates until ``gap <= gap_tol``.
    """
    X, Y = as_dataset(X, Y)
    if X.shape[1] != 1:
        raise ValueError(f"X must have shape (N, 1): fit_function_space is exact in one input dimension, "
                         f"got d_in = {X.shape[1]}")
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    variant = check_variant(variant, allowed=("7", "8"))
    gap_tol = as_scalar(gap_tol, "gap_tol", minimum=0.0)
    max_iter = as_count(max_iter, "max_iter")
    x = X[:, 0]
    xs = np.unique(x)
    s, p = np.zeros(0), np.zeros(0)
    history = []
    best = None
    for it in range(1, max_iter + 1):
        M, t = master(x, Y, lam, variant, s, p)
        nm = np.linalg.norm(M, axis=1)
        keep = nm > SUPPORT_RTOL * max(float(nm.max(initial=0.0)), np.finfo(float).tiny)
        ss, ps, Ms = s[keep], p[keep], M[keep]
        lo, hi = _cells(xs, ps)
        ss, ps, Ms, t = polish(x, Y, lam, variant, ss, ps, Ms, t, lo, hi)
        u, c = split_constant(t) if variant == "7" else (np.zeros_like(t), t)
        stack = atoms_stack(ss, ps, Ms, u, c, variant)
        objective = network_objective(stack, X, Y, lam, variant)
        alpha = 2.0 * (Y - stack(X))
        lower, worst = certified_lower_bound(x, Y, lam, variant, alpha)
        gap = (objective - lower) / max(objective, np.finfo(float).tiny)
        history.append(dict(iteration=it, atoms=int(keep.sum()), objective=objective, lower_bound=lower,
                            worst_ratio=worst, gap=gap))
        if best is None or gap < best[3]:
            best = (stack, objective, lower, gap, ss, ps, Ms, u, c)
        if gap <= gap_tol:
            break
        viol = violations(x, alpha, lam, variant)
        new = (viol.ratio > 1.0) & np.isfinite(viol.p)
        if not np.any(new) or len(_unique_atoms(np.concatenate([ss, viol.s[new]]),
                                                np.concatenate([ps, viol.p[new]]))[0]) == len(ss):
            break  # no atom outside the support violates the dual constraint: stalled
        s = np.concatenate([ss, viol.s[new]])
        p = np.concatenate([ps, viol.p[new]])
        s, p = _unique_atoms(s, p)
    stack, objective, lower, gap, ss, ps, Ms, u, c = best
    order = np.argsort(ps, kind="stable")
    return FunctionSpaceFit(stack, objective, max(lower, 0.0), max(gap, 0.0), variant, lam, ps[order], ss[order],
                            Ms[order], u, c, it, True, history)


def _unique_atoms(s, p):
    key = np.round(np.column_stack([s, p]), 15)
    _, idx = np.unique(key, axis=0, return_index=True)
    idx = np.sort(idx)
    return s[idx], p[idx]
