"""Exact ``P_j`` of the function a stack computes, with certificates (HTW eq. 7, 8, 9, 11, 12).

``P_j(h)`` is a minimum over all representations of ``h``; ``parameter_cost`` prices one.
For ``d_in = 1`` every representation of ``h`` by ramps is (proofs_notes/htw-penalty-exact.md)

.. math:: h(x) = \\sum_p \\big[\\alpha_p (x - p)_+ + \\beta_p (p - x)_+\\big] + G\\,(x, 1)^T + e + c \\;(+ a x),

with ``alpha_p + beta_p = J_p`` the jump of ``h'`` at the kink ``p`` (both ramp directions add
their mass to ``h''``), ``G (d_out, 2)`` an affine part made of mirrored ramp pairs off the
kinks, ``e`` a constant made of ramps whose kink escapes to infinity (equivalently, neurons
with ``v = 0``) and ``a`` the skip connection of eq. 11, 12. With the 1D atom cost
``omega(p) = sqrt(1 + p^2) = 1/g(p)`` (HTW footnote 7) the biases-regularized program is

.. math:: P_7(h) = \\min_{\\beta, c, e, a} \\sum_p \\omega(p)\\big(\\|J_p - \\beta_p\\| + \\|\\beta_p\\|\\big)
          + 2\\|G\\|_{S_1} + \\|e\\| + \\|c\\|^2 \\;(+ \\|a\\|^2 \\text{ or } \\|a\\|),

where matching ``h`` on all of ``R`` fixes ``G = [L + sum beta_p - a, C - sum p beta_p - c - e]``
(``L`` the slope and ``C`` the intercept of ``h`` left of all kinks). Eq. 8 (biases free)
uses ``omega = 1``, no ``c, e`` cost, and the affine part costs ``2 ||slope||``. The dual is

.. math:: \\max_{\\lambda, \\mu} \\; \\lambda\\cdot L + \\mu\\cdot C - \\|\\mu\\|^2/4
          + \\sum_p \\sigma_p(\\lambda - p\\mu), \\quad \\|[\\lambda\\ \\mu]\\|_{op} \\le 2,\\ \\|\\mu\\| \\le 1,

``sigma_p(u) = max{z . J_p : ||z|| <= omega(p), ||z - u|| <= omega(p)}`` (support function of a
lens, :func:`lens_support`); any feasible ``(lambda, mu)`` is a certified lower bound.
Eq. 9 (Ongie et al.'s reformulation) is evaluated in closed form:
``max(sum_p ||J_p||, ||2 L + sum_p J_p||)`` (Savarese et al. for scalar outputs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .costs import check_variant, parameter_cost
from .measure import kinks
from .network import Stack

#: Interior-point tolerances passed to Clarabel. Reason: the certified gap must reach
#: ``RTOL_CERTIFIED = 1e-9``; asking the solver for 1e-12 leaves room for the rounding of
#: the primal recomputation and of the dual evaluation.
SOLVER_TOL = 1e-12

#: Before the dual value is evaluated, ``(lambda, mu)`` is shrunk by this relative margin
#: into the interior of the feasible set. Reason: at an active kink constraint
#: ``||u_p|| = 2 omega(p)`` the lens radius ``sqrt(omega^2 - ||u||^2/4)`` amplifies a rounding
#: error of ``eps`` in ``||u||`` to ``sqrt(eps)``; with the margin the amplification is at most
#: ``eps / sqrt(margin) ~ 2e-11`` and the shrink costs ``margin`` relative in the bound.
DUAL_MARGIN = 1e-10

#: The absorbed-split fast path is accepted when its certified relative gap is below this;
#: else the conic solver runs. Reason: ten times below ``RTOL_CERTIFIED = 1e-9`` (pcheck.testing), so
#: the accepted result meets the issue's certified gap with room for the final rounding.
FAST_PATH_GAP = 1e-10


@dataclass(frozen=True)
class Penalty:
    """Exact ``P_j`` of a stack's function with its certificate.

    ``lower`` is the value of an explicit dual-feasible point, ``upper`` the parameter cost
    of ``representation`` (a Stack computing the same function), ``value = upper``;
    ``float(result) == result.value``. Variant "9" is a closed form: ``lower = upper = value``,
    and ``representation`` is the canonical stack of the function (eq. 9 prices it at ``value``).
    """

    value: float
    lower: float
    upper: float
    representation: Stack
    variant: str

    @property
    def gap(self) -> float:
        """Relative certified gap ``(upper - lower) / max(|upper|, tiny)``."""
        return (self.upper - self.lower) / max(abs(self.upper), np.finfo(float).tiny)

    def __float__(self) -> float:
        return float(self.value)


@dataclass(frozen=True)
class KinkProgram:
    """``h(x) = sum_p J_p (x - p)_+ + L x + C`` on all of ``R`` (a 1D stack's function):
    ``p (K,)`` sorted kinks, ``J (K, d_out)`` jumps of ``h'``, ``L`` the slope and ``C`` the
    intercept left of all kinks (the skip connection ``A`` is part of ``L``)."""

    p: np.ndarray
    J: np.ndarray
    L: np.ndarray
    C: np.ndarray

    @property
    def d_out(self) -> int:
        return self.L.shape[0]

    def normalized(self) -> tuple["KinkProgram", float]:
        """``(h / s, s)`` with ``s`` the largest of ``||L||, ||C||, omega(p) ||J_p||`` (1 for ``h = 0``), so
        that the solvers' absolute tolerances act on numbers of order one."""
        s = max(float(np.linalg.norm(self.L)), float(np.linalg.norm(self.C)),
                float(np.max(atom_cost(self.p) * np.linalg.norm(self.J, axis=1), initial=0.0)))
        s = s if s > 0 else 1.0
        return KinkProgram(self.p, self.J / s, self.L / s, self.C / s), s


def kink_program(stack: Stack) -> KinkProgram:
    """The :class:`KinkProgram` of a ``d_in = 1`` stack. Left of all kinks only neurons with
    ``v_k < 0`` are active, so ``L = sum_{v<0} w_k v_k (+ A)`` and
    ``C = sum_{v<0} w_k b_k + sum_{v=0} w_k relu(b_k) + c``."""
    v = stack.V[:, 0]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        overflow = (v != 0) & ~np.isfinite(stack.b / np.where(v != 0, v, 1.0))
    if np.any(overflow):
        raise ValueError(f"stack has kinks -b_k/v_k beyond the float64 range (neurons {np.flatnonzero(overflow)[:5]}); "
                         "rescale the input so that the kinks are representable")
    kk = kinks(stack)
    left, dead = v < 0, v == 0
    L = stack.W[:, left] @ v[left]
    if stack.A is not None:
        L = L + stack.A[:, 0]
    C = stack.W[:, left] @ stack.b[left] + stack.W[:, dead] @ np.maximum(stack.b[dead], 0.0) + stack.c
    return KinkProgram(kk.x, kk.jump, L, C)


def atom_cost(p, *, biases_regularized: bool = True) -> np.ndarray:
    """Cost per unit mass of a 1D ramp with kink at ``p``: ``omega(p) = 1/g(p) = sqrt(1 + p^2)``
    under eq. 7 (footnote 7 with ``||s|| = 1``, ``r = +-p``), ``1`` under eq. 8."""
    p = np.asarray(p, dtype=float)
    return np.hypot(1.0, p) if biases_regularized else np.ones_like(p)


def lens_support(J: np.ndarray, u: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """``sigma(u) = max{z . J : ||z|| <= omega, ||z - u|| <= omega}`` row-wise, for ``||u|| <= 2 omega``.

    It equals ``min_beta omega (||J - beta|| + ||beta||) + u . beta`` (the kink's share of the
    dual function). Closed form: ``omega ||J||`` when ``omega J/||J||`` lies in the second ball
    (``||u||^2 ||J|| <= 2 omega u.J``), ``u.J + omega ||J||`` when ``u + omega J/||J||`` lies in
    the first, else the maximum on the rim: ``u.J/2 + sqrt(omega^2 - ||u||^2/4) ||J_perp||``.
    """
    a2 = np.sum(u * u, axis=1)
    Jn = np.linalg.norm(J, axis=1)
    uJ = np.sum(u * J, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        J_perp = J - np.where(a2 > 0, uJ / a2, 0.0)[:, None] * u
    half = np.sqrt(a2) / 2
    radius = np.sqrt(np.maximum((omega - half) * (omega + half), 0.0))
    rim = uJ / 2 + radius * np.linalg.norm(J_perp, axis=1)
    out = np.where(a2 * Jn <= 2 * omega * uJ, omega * Jn, rim)
    return np.where(a2 * Jn <= -2 * omega * uJ, uJ + omega * Jn, out)


# ----------------------------------------------------------------------------- variant 7, 11, 12


def dual_value_7(prog: KinkProgram, lam: np.ndarray, mu: np.ndarray, skip: str | None = None) -> float:
    """Dual function of the biases-regularized program at ``(lambda, mu)`` after shrinking them
    into the feasible set (module docstring; ``skip`` "11" adds ``-||lambda||^2/4``, "12"
    requires ``||lambda|| <= 1``). Every returned value is a lower bound of ``P_7``."""
    M = np.column_stack([lam, mu])
    limits = [2.0 / max(np.linalg.norm(M, 2), 1e-300), 1.0 / max(np.linalg.norm(mu), 1e-300)]
    if skip == "12":
        limits.append(1.0 / max(np.linalg.norm(lam), 1e-300))
    scale = min(1.0, *limits) * (1 - DUAL_MARGIN)
    lam, mu = lam * scale, mu * scale
    u = lam[None, :] - prog.p[:, None] * mu[None, :]
    value = lam @ prog.L + mu @ prog.C - mu @ mu / 4 + np.sum(lens_support(prog.J, u, atom_cost(prog.p)))
    return float(value - (lam @ lam / 4 if skip == "11" else 0.0))


def _svec_index(i: int, j: int) -> int:
    """Position of entry ``(i, j)``, ``i <= j``, in Clarabel's PSD triangle (upper, by columns)."""
    return j * (j + 1) // 2 + i


@dataclass
class _Layout:
    """Column offsets of the variables ``[beta (K d), t_alpha (K), t_beta (K), c (d), e (d),
    t_e, Y (svec 2x2), Z (svec d x d), a (d), t_a]`` of the conic form of eq. 7."""

    K: int
    d: int
    skip: str | None

    def __post_init__(self):
        K, d = self.K, self.d
        self.beta = 0
        self.ta = K * d
        self.tb = self.ta + K
        self.c = self.tb + K
        self.e = self.c + d
        self.te = self.e + d
        self.Y = self.te + 1
        self.Z = self.Y + 3
        self.a = self.Z + d * (d + 1) // 2
        self.t_skip = self.a + (d if self.skip else 0)
        self.n = self.t_skip + (1 if self.skip == "12" else 0)


def _conic_form_7(prog: KinkProgram, skip: str | None, gamma: float = 1.0):
    """``min x'Px/2 + q'x`` s.t. ``b - Ax`` in cones, for the program of the module docstring
    with the quadratic terms ``||c||^2`` (and ``||a||^2`` of eq. 11) weighted by ``gamma``:
    ``P(s h) = s P_gamma=s(h)``, which lets the solver run on normalized data.

    The nuclear norm is ``2 ||G||_* = min tr Y + tr Z`` over ``[[Y, G^T], [G, Z]] >= 0``, with
    ``G`` written through the matching constraints as an affine function of ``beta, c, e, a``.
    The kink variables are ``omega(p) beta_p`` (cost units): the matching constraints then
    have coefficients ``1/omega(p)`` and ``p/omega(p)``, both at most 1 in magnitude, however
    far the kinks lie.
    """
    K, d = prog.J.shape[0], prog.d_out
    lay = _Layout(K, d, skip)
    omega = atom_cost(prog.p)
    J_cost = omega[:, None] * prog.J
    q = np.zeros(lay.n)
    q[lay.ta:lay.ta + 2 * K] = 1.0
    q[lay.te] = 1.0
    q[lay.Y + 0] = q[lay.Y + 2] = 1.0
    q[[lay.Z + _svec_index(i, i) for i in range(d)]] = 1.0
    Pdiag = np.zeros(lay.n)
    Pdiag[lay.c:lay.c + d] = 2.0 * gamma
    if skip == "11":
        Pdiag[lay.a:lay.a + d] = 2.0 * gamma
    elif skip == "12":
        q[lay.t_skip] = 1.0
    rows, cols, vals, b, cones = [], [], [], [], []
    row = 0

    def soc(t_col, cols_v, signs, offsets):
        nonlocal row
        rows.append(row)
        cols.append(t_col)
        vals.append(-1.0)
        b.append(0.0)
        for k, (cv, sg, off) in enumerate(zip(cols_v, signs, offsets)):
            rows.append(row + 1 + k)
            cols.append(cv)
            vals.append(sg)
            b.append(off)
        cones.append(("soc", 1 + len(cols_v)))
        row += 1 + len(cols_v)

    beta_col = lambda k, o: lay.beta + k * d + o  # noqa: E731
    for k in range(K):  # ||J_k - beta_k|| <= t_alpha_k and ||beta_k|| <= t_beta_k
        soc(lay.ta + k, [beta_col(k, o) for o in range(d)], [1.0] * d, J_cost[k])
        soc(lay.tb + k, [beta_col(k, o) for o in range(d)], [-1.0] * d, [0.0] * d)
    soc(lay.te, list(range(lay.e, lay.e + d)), [-1.0] * d, [0.0] * d)
    if skip == "12":
        soc(lay.t_skip, list(range(lay.a, lay.a + d)), [-1.0] * d, [0.0] * d)
    n_psd = d + 2
    base = row
    r2 = np.sqrt(2.0)
    for (i, j), off in (((0, 0), 0), ((0, 1), 1), ((1, 1), 2)):
        rows.append(base + _svec_index(i, j))
        cols.append(lay.Y + off)
        vals.append(-1.0)
    for j in range(d):
        for i in range(j + 1):
            rows.append(base + _svec_index(2 + i, 2 + j))
            cols.append(lay.Z + _svec_index(i, j))
            vals.append(-1.0)
    b_psd = np.zeros(n_psd * (n_psd + 1) // 2)
    for o in range(d):
        r_slope, r_icpt = base + _svec_index(0, 2 + o), base + _svec_index(1, 2 + o)
        # slot = sqrt(2) G[o, 0] = sqrt(2) (L_o + sum_k beta_ko - a_o)
        b_psd[r_slope - base] = r2 * prog.L[o]
        rows.extend([r_slope] * K)
        cols.extend(beta_col(k, o) for k in range(K))
        vals.extend(-r2 / omega)
        if skip:
            rows.append(r_slope)
            cols.append(lay.a + o)
            vals.append(r2)
        # slot = sqrt(2) G[o, 1] = sqrt(2) (C_o - sum_k p_k beta_ko - c_o - e_o)
        b_psd[r_icpt - base] = r2 * prog.C[o]
        rows.extend([r_icpt] * K)
        cols.extend(beta_col(k, o) for k in range(K))
        vals.extend(r2 * prog.p / omega)
        rows.extend([r_icpt, r_icpt])
        cols.extend([lay.c + o, lay.e + o])
        vals.extend([r2, r2])
    b.extend(b_psd)
    cones.append(("psd", n_psd))
    A = sp.csc_matrix((vals, (rows, cols)), shape=(row + len(b_psd), lay.n))
    P = sp.diags(Pdiag, format="csc")
    return P, q, A, np.asarray(b, dtype=float), cones, lay


def _clarabel_solve(P, q, A, b, cones):
    import clarabel

    kinds = {"soc": clarabel.SecondOrderConeT, "psd": clarabel.PSDTriangleConeT}
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = SOLVER_TOL
    settings.tol_ktratio = 1e-10
    settings.max_iter = 200
    solver = clarabel.DefaultSolver(sp.triu(P, format="csc"), q, A, b, [kinds[k](n) for k, n in cones], settings)
    sol = solver.solve()
    return np.asarray(sol.x), np.asarray(sol.z)


def _affine_part(prog: KinkProgram, beta, c, e, a) -> np.ndarray:
    """``G = [L + sum beta - a, C - sum p beta - c - e]`` (``d_out x 2``), the affine part left
    to the mirrored pairs once ``beta, c, e, a`` are chosen."""
    return np.column_stack([prog.L + beta.sum(axis=0) - a, prog.C - prog.p @ beta - c - e])


def absorbed_split(prog: KinkProgram, *, biases_regularized: bool = True):
    """Shares ``t in [0, 1]^K`` (``beta = t J``) that absorb the whole affine part, if one exists:
    ``sum_p t_p J_p = -L`` and (eq. 7) ``sum_p t_p p J_p = C``, found by HiGHS' LP solver.

    Such a split keeps every kink at its lower cost ``omega(p) ||J_p||`` and leaves no affine
    part, ``c`` or ``e``, so its cost ``sum_p omega(p) ||J_p||`` equals the dual value at
    ``lambda = mu = 0``: it is optimal, certified by that dual point. Returns None if the LP is
    infeasible (the optimum then pays for an affine part).
    """
    from scipy.optimize import linprog

    K = len(prog.p)
    if K == 0:
        return None
    prog, _ = prog.normalized()
    rows = [prog.J.T] + ([(prog.p[:, None] * prog.J).T] if biases_regularized else [])
    rhs = [-prog.L] + ([prog.C] if biases_regularized else [])
    A_eq, b_eq = np.vstack(rows), np.concatenate(rhs)
    row_scale = np.max(np.abs(A_eq), axis=1)
    row_scale[row_scale == 0] = 1.0
    res = linprog(np.zeros(K), A_eq=A_eq / row_scale[:, None], b_eq=b_eq / row_scale, bounds=(0.0, 1.0),
                  method="highs")
    return res.x if res.status == 0 else None


def _solve_7(prog: KinkProgram, skip: str | None):
    """The absorbed split (:func:`absorbed_split`) when it exists and certifies within
    ``FAST_PATH_GAP``, else the conic program by Clarabel. Returns ``(beta, c, e, a, lower)``."""
    d = prog.d_out
    t = absorbed_split(prog)
    if t is not None:
        beta = t[:, None] * prog.J
        zero = np.zeros(d)
        lower = dual_value_7(prog, zero, zero, skip)
        upper = parameter_cost(representation(prog, beta, zero, zero, zero, skip=skip is not None), skip or "7")
        if upper - lower <= FAST_PATH_GAP * max(abs(upper), np.finfo(float).tiny):
            return beta, zero, zero, zero, lower
    return _solve_7_conic(prog, skip)


def _polish(prog: KinkProgram, beta, c, e, a, skip: str | None):
    """The cheapest of the solver's point and its snapped variants: the intercept residual
    ``G[:, 1]`` (and ``e``) moved into ``c`` or into ``e``, the slope residual ``G[:, 0]`` moved
    into the skip connection ``a``. Interior-point iterates carry residuals of the size of the
    solver tolerance in every block; a block whose optimum is 0 (``e`` when ``||mu|| < 1``,
    ``G`` when the affine part is absorbed) then costs its tolerance at linear rate, which is
    not small relative to a tiny ``||c||^2``, and SVD noise in ``G`` blurs the representation."""
    G = _affine_part(prog, beta, c, e, a)
    zero = np.zeros_like(c)
    intercepts = [(c, e), (c + e + G[:, 1], zero), (c, e + G[:, 1])]
    slopes = [a] + ([a + G[:, 0]] if skip else [])
    candidates = [(beta, ci, ei, ai) for ci, ei in intercepts for ai in slopes]
    costs = [parameter_cost(representation(prog, *cand, skip=skip is not None), skip or "7") for cand in candidates]
    return candidates[int(np.argmin(costs))]


def _solve_7_conic(prog: KinkProgram, skip: str | None):
    """Clarabel on the normalized program (:meth:`KinkProgram.normalized`); the dual point is
    the same for ``h`` and ``h / s`` (both Lagrangians scale by ``s``), so it is evaluated on
    the original program."""
    unit, scale = prog.normalized()
    P, q, A, b, cones, lay = _conic_form_7(unit, skip, gamma=scale)
    x, z = _clarabel_solve(P, q, A, b, cones)
    K, d = prog.J.shape[0], prog.d_out
    x = scale * x
    beta = x[:K * d].reshape(K, d) / atom_cost(prog.p)[:, None]
    c, e = x[lay.c:lay.c + d], x[lay.e:lay.e + d]
    a = x[lay.a:lay.a + d] if skip else np.zeros(d)
    base = A.shape[0] - (d + 2) * (d + 3) // 2
    # the PSD dual's off-diagonal block is [lambda mu] / 2, stored times sqrt(2) in the svec
    slots = np.array([[z[base + _svec_index(k, 2 + o)] for k in range(2)] for o in range(d)]) * np.sqrt(2.0)
    lower = max(dual_value_7(prog, sg * slots[:, 0], sg * slots[:, 1], skip) for sg in (1.0, -1.0))
    return (*_polish(prog, beta, c, e, a, skip), lower)


def _ramps(p, alpha, beta):
    """Neurons (V, b, W) of right ramps ``alpha_k (x - p_k)_+`` and left ramps ``beta_k (p_k - x)_+``."""
    V = np.concatenate([np.ones(len(p)), -np.ones(len(p))])[:, None]
    return V, np.concatenate([-p, p]), np.concatenate([alpha, beta]).T


def _pairs(G: np.ndarray, biases_regularized: bool):
    """Mirrored ramp pairs ``a(x - q)_+ - a(q - x)_+ = a (x - q)`` computing ``G (x, 1)^T``.

    Eq. 7: one pair per singular triple ``sigma u r^T`` of ``G`` (``r = (r_1, r_0)``,
    ``q = -r_0/r_1``, ``a = sigma r_1 u``), costing ``2 sigma``, so ``2 ||G||_*`` in all; a
    triple with ``r_1 = 0`` (a pure constant) is returned as a constant instead. Eq. 8: one
    pair at ``q = 0`` for the slope (the intercept is free). Returns ``(p, a, constant)``.
    """
    d = G.shape[0]
    if not biases_regularized:
        return np.zeros(1), G[:, :1].T, G[:, 1]
    U, S, Rt = np.linalg.svd(G, full_matrices=False)
    q, a, constant = [], [], np.zeros(d)
    for sigma, u, (r1, r0) in zip(S, U.T, Rt):
        if sigma == 0:
            continue
        if r1 == 0:
            constant += sigma * r0 * u
            continue
        q.append(-r0 / r1)
        a.append(sigma * r1 * u)
    return np.array(q), np.array(a).reshape(len(q), d), constant


def _dead_neuron(e: np.ndarray):
    """A balanced neuron with ``v = 0`` computing the constant ``e``: ``w relu(b)``,
    ``b = sqrt||e||``, ``w = e / sqrt||e||`` (R_7 cost ``||e||``)."""
    s = np.sqrt(np.linalg.norm(e))
    if s == 0:
        return np.zeros((0, 1)), np.zeros(0), np.zeros((e.shape[0], 0))
    return np.zeros((1, 1)), np.array([s]), (e / s)[:, None]


def representation(prog: KinkProgram, beta, c, e, a, *, biases_regularized=True, skip=False) -> Stack:
    """The Stack computing ``h`` with kink masses split as ``alpha = J - beta`` (right) and
    ``beta`` (left), the remaining affine part as mirrored pairs (:func:`_pairs`), the constant
    ``e`` as a neuron with ``v = 0``, intercept ``c`` and skip connection ``a``."""
    G = _affine_part(prog, beta, c, e, a)
    q, a_pairs, constant = _pairs(G, biases_regularized)
    if not biases_regularized:
        c = c + constant
        constant = np.zeros_like(c)
    parts = [_ramps(prog.p, prog.J - beta, beta), _ramps(q, a_pairs, -a_pairs), _dead_neuron(e + constant)]
    V = np.concatenate([pt[0] for pt in parts])
    b = np.concatenate([pt[1] for pt in parts])
    W = np.concatenate([pt[2].reshape(prog.d_out, -1) for pt in parts], axis=1)
    return Stack(V, b, W, c, a[:, None] if skip else None)


# ----------------------------------------------------------------------------- variant 8 and 9


def dual_value_8(prog: KinkProgram, lam: np.ndarray) -> float:
    """Dual function of eq. 8 at ``lambda`` shrunk into ``||lambda|| <= 2`` (``mu = 0``: the
    intercept is free): ``lambda . L + sum_p sigma_p(lambda)`` with ``omega = 1``."""
    lam = lam * min(1.0, 2.0 / max(np.linalg.norm(lam), 1e-300)) * (1 - DUAL_MARGIN)
    u = np.broadcast_to(lam, prog.J.shape)
    return float(lam @ prog.L + np.sum(lens_support(prog.J, u, np.ones(len(prog.p)))))


def _solve_8(prog: KinkProgram):
    """``min sum_p ||J_p - beta_p|| + ||beta_p|| + 2 ||L + sum beta||``: the absorbed split when
    it certifies (:func:`absorbed_split`), else Clarabel. Returns ``(beta, lower)``."""
    t = absorbed_split(prog, biases_regularized=False)
    if t is not None:
        beta = t[:, None] * prog.J
        lower = dual_value_8(prog, np.zeros(prog.d_out))
        rep = representation(prog, beta, prog.C, np.zeros(prog.d_out), np.zeros(prog.d_out), biases_regularized=False)
        if parameter_cost(rep, "8") - lower <= FAST_PATH_GAP * max(lower, np.finfo(float).tiny):
            return beta, lower
    return _solve_8_conic(prog)


def _solve_8_conic(prog: KinkProgram):
    """Clarabel on the normalized program (eq. 8 is positively homogeneous in ``h``)."""
    original, (prog, scale) = prog, prog.normalized()
    K, d = prog.J.shape[0], prog.d_out
    n = K * d + 2 * K + 1
    q = np.concatenate([np.zeros(K * d), np.ones(2 * K), [2.0]])
    rows, cols, vals, b = [], [], [], []
    row = 0
    blocks = [(K * d + k, k, 1.0, prog.J[k]) for k in range(K)] + \
             [(K * d + K + k, k, -1.0, np.zeros(d)) for k in range(K)]
    for t_col, k, sign, off in blocks:
        rows.append(row), cols.append(t_col), vals.append(-1.0), b.append(0.0)
        rows.extend(range(row + 1, row + 1 + d)), cols.extend(range(k * d, k * d + d)), vals.extend([sign] * d)
        b.extend(off)
        row += 1 + d
    rows.append(row), cols.append(n - 1), vals.append(-1.0), b.append(0.0)
    for o in range(d):  # slot = L_o + sum_k beta_ko
        rows.extend([row + 1 + o] * K), cols.extend(k * d + o for k in range(K)), vals.extend([-1.0] * K)
        b.append(prog.L[o])
    A = sp.csc_matrix((vals, (rows, cols)), shape=(row + 1 + d, n))
    cones = [("soc", d + 1)] * (2 * K + 1)
    x, z = _clarabel_solve(sp.csc_matrix((n, n)), q, A, np.asarray(b, dtype=float), cones)
    beta = scale * x[:K * d].reshape(K, d)
    lam_raw = z[row + 1:row + 1 + d]
    lower = max(dual_value_8(original, sg * lam_raw) for sg in (1.0, -1.0))
    return beta, lower


def savarese_value(prog: KinkProgram) -> float:
    """Eq. 9 in 1D: ``max(sum_p ||J_p||, ||h'(-inf) + h'(+inf)||)``, ``h'(-inf) = L``,
    ``h'(+inf) = L + sum_p J_p`` (the half-sphere form; splitting over ``s = +-1`` cannot
    lower it because the functional is a seminorm)."""
    total = float(np.sum(np.linalg.norm(prog.J, axis=1)))
    return max(total, float(np.linalg.norm(2 * prog.L + prog.J.sum(axis=0))))


def penalty_cvxpy(prog: KinkProgram, variant="7") -> float:
    """The same program written plainly in cvxpy and solved by Clarabel (the reference oracle
    of the tests and the benchmark's baseline): right and left masses ``alpha, beta`` with
    ``alpha + beta = J``, the affine part ``G`` with its nuclear norm, ``c``, ``e``, ``a``."""
    import cvxpy as cp

    variant = check_variant(variant, allowed=("7", "8", "11", "12"))
    K, d = prog.J.shape[0], prog.d_out
    alpha, beta, G = cp.Variable((K, d)), cp.Variable((K, d)), cp.Variable((d, 2))
    c, e, a = cp.Variable(d), cp.Variable(d), cp.Variable(d)
    omega = atom_cost(prog.p, biases_regularized=variant != "8")
    atoms = omega @ cp.norm(alpha, 2, axis=1) + omega @ cp.norm(beta, 2, axis=1) if K else 0
    slope = G[:, 0] == prog.L + (cp.sum(beta, axis=0) if K else 0) - a
    intercept = G[:, 1] == prog.C - (prog.p @ beta if K else 0) - c - e
    cons = [slope, intercept] + ([alpha + beta == prog.J] if K else [])
    if variant == "8":
        objective, cons = atoms + 2 * cp.norm(G[:, 0], 2), [slope] + cons[2:] + [a == 0]
    else:
        objective = atoms + 2 * cp.normNuc(G) + cp.norm(e, 2) + cp.sum_squares(c)
        objective += {"7": 0, "11": cp.sum_squares(a), "12": cp.norm(a, 2)}[variant]
        cons += [a == 0] if variant == "7" else []
    problem = cp.Problem(cp.Minimize(objective), cons)
    problem.solve(solver="CLARABEL")
    return float(problem.value)


# ----------------------------------------------------------------------------- public entry


def penalty(stack: Stack, variant="7") -> Penalty:
    """Exact ``P_j`` (HTW eq. ``variant``) of the function ``stack`` computes, read on all of
    ``R^{d_in}``, as a certified :class:`Penalty` (module docstring for the program).

    Variants "7", "8", "9" need a stack without skip connection, "11" and "12" one with
    (``stack.A``). Only ``d_in = 1`` is implemented: for ``d_in > 1`` the affine part's
    nuclear norm and the hyperplane splitting are not yet certified, and a
    ``NotImplementedError`` is raised rather than an uncertified number.
    """
    if not isinstance(stack, Stack):
        raise TypeError(f"stack must be a Stack, got {type(stack).__name__}")
    variant = check_variant(variant)
    skip = variant in ("11", "12")
    if skip != (stack.A is not None):
        need = "a stack with a skip connection (stack.A)" if skip else "a stack without skip connection"
        raise ValueError(f"variant {variant} needs {need}")
    if stack.d_in != 1:
        raise NotImplementedError(
            f"penalty is implemented and certified for d_in = 1 only (got d_in = {stack.d_in}); "
            "use parameter_cost for an upper bound")
    prog = kink_program(stack)
    d = prog.d_out
    if variant == "9":
        value = savarese_value(prog)
        rep = representation(prog, np.zeros_like(prog.J), prog.C, np.zeros(d), np.zeros(d), biases_regularized=False)
        return Penalty(value, value, value, rep, variant)
    if variant == "8":
        beta, lower = _solve_8(prog)
        rep = representation(prog, beta, prog.C, np.zeros(d), np.zeros(d), biases_regularized=False)
    else:
        beta, c, e, a, lower = _solve_7(prog, variant if skip else None)
        rep = representation(prog, beta, c, e, a, skip=skip)
    upper = parameter_cost(rep, variant)
    return Penalty(upper, lower, upper, rep, variant)
