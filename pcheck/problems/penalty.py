"""Exact ``P_j`` of the function a stack computes, with certificates (HTW eq. 7, 8, 9, 11, 12).

``P_j(h)`` is a minimum over all representations of ``h``; ``parameter_cost`` prices one.
Every representation of ``h`` by ramps is (proofs_notes/htw-penalty-exact.md)

.. math:: h(x) = \\sum_H \\big[\\alpha_H\\,\\mathrm{relu}(\\langle s_H, x\\rangle - r_H)
          + \\beta_H\\,\\mathrm{relu}(r_H - \\langle s_H, x\\rangle)\\big] + G\\,(x, 1)^T + e + c \\;(+ a x),

over the kink hyperplanes ``H = {<s_H, x> = r_H}`` of ``h`` (unit ``s_H`` in a canonical
orientation), with ``alpha_H + beta_H = J_H`` fixed by the Hessian measure of ``h`` (a ramp and
its mirror have the same Hessian), ``G (d_out, d_in + 1)`` an affine part made of mirrored
ramp pairs off the kink hyperplanes, ``e`` a constant made of ramps whose hyperplane escapes to
infinity (equivalently, neurons with ``v = 0``) and ``a`` the skip connection of eq. 11, 12.
With the atom cost ``omega(r) = sqrt(1 + r^2) = 1/g(r)`` (HTW footnote 7) the
biases-regularized program is

.. math:: P_7(h) = \\min_{\\beta, c, e, a} \\sum_H \\omega(r_H)\\big(\\|J_H - \\beta_H\\| + \\|\\beta_H\\|\\big)
          + 2\\|G\\|_{S_1} + \\|e\\| + \\|c\\|^2 \\;(+ \\|a\\|_F^2 \\text{ or } \\|a\\|_{S_1}),

where matching ``h`` on all of ``R^{d_in}`` fixes
``G = [L + sum_H beta_H s_H^T - a, C - sum_H r_H beta_H - c - e]`` (``h = sum_H J_H
relu(<s_H, x> - r_H) + L x + C``). Eq. 8 (biases free) uses ``omega = 1``, leaves ``c`` free,
and the affine part costs ``2 ||G_slope||_{S_1}``. The dual is

.. math:: \\max_{\\Lambda, \\mu} \\; \\langle\\Lambda, L\\rangle + \\mu\\cdot C - \\|\\mu\\|^2/4
          + \\sum_H \\sigma_H(\\Lambda s_H - r_H\\mu), \\quad \\|[\\Lambda\\ \\mu]\\|_{op} \\le 2,\\ \\|\\mu\\| \\le 1,

``sigma_H(u) = max{z . J_H : ||z|| <= omega, ||z - u|| <= omega}`` (support function of a
lens, :func:`lens_support`); any feasible ``(Lambda, mu)`` is a certified lower bound.
Eq. 9 (Ongie et al.'s reformulation) is evaluated in closed form for ``d_in = 1``:
``max(sum_p ||J_p||, ||2 L + sum_p J_p||)`` (Savarese et al. for scalar outputs).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from pcheck.core import status
from pcheck.core.costs import atom_cost, parameter_cost
from pcheck.core.network import Stack
from pcheck.core.tolerances import RTOL_CERTIFIED
from pcheck.core.variant import as_variant
from pcheck.problems.hyperplanes import (
    REPRESENTATION_RTOL,
    SPLIT_SNAP_RTOL,
    HyperplaneProgram,
    affine_part,
    hyperplane_program,
    lens_support,
    output_basis,
    projected,
    representation,
    representation_error,
    savarese_value,
    snap_split,
)
from pcheck.problems.penalty_conic import conic_form
from pcheck.solvers import conic

#: Interior-point tolerances passed to Clarabel. Reason: the certified gap must reach
#: ``RTOL_CERTIFIED = 1e-9``; asking the solver for 1e-12 leaves room for the rounding of
#: the primal recomputation and of the dual evaluation.
SOLVER_TOL = 1e-12

#: Before the dual value is evaluated, ``(Lambda, mu)`` is shrunk by this relative margin
#: into the interior of the feasible set. Reason: at an active hyperplane constraint
#: ``||u_H|| = 2 omega`` the lens radius ``sqrt(omega^2 - ||u||^2/4)`` amplifies a rounding
#: error of ``eps`` in ``||u||`` to ``sqrt(eps)``; with the margin the amplification is at most
#: ``eps / sqrt(margin) ~ 2e-11`` and the shrink costs ``margin`` relative in the bound.
DUAL_MARGIN = 1e-10

#: The absorbed-split fast path is accepted when its certified relative gap is below this;
#: else the conic solver runs. Reason: ten times below ``RTOL_CERTIFIED = 1e-9`` (pcheck.testing), so
#: the accepted result meets the certified gap RTOL_CERTIFIED with room for the final rounding.
FAST_PATH_GAP = 1e-10


#: Polished candidates whose costs differ by less than this (relative) count as tied.
#: Reason: the costs are sums of a few hundred rounded terms (~1e-14 relative at most), far
#: below the certified gap 1e-9; a tie is resolved towards the snapped candidate.
POLISH_TIE = 1e-12



#: Clarabel's sparse LDL factorization. Reason: measured (benchmarks/bench_penalty.py, 1D, n = 100,
#: d_out = 256) 0.46 s per solve with single-threaded QDLDL against 1.9 s with the default
#: multithreaded faer on this 2-core machine; equal within noise at n = 1000, d_out = 8 and 64.
KKT_SOLVER = "qdldl"

#: Clarabel's KKT-ratio tolerance for these programs (its default is 1e-6). Reason: tightened
#: together with SOLVER_TOL so that this stopping rule cannot end a solve before the gap does.
KTRATIO = 1e-10




@dataclass(frozen=True)
class Penalty:
    """Exact ``P_j`` of a stack's function with its certificate.

    ``lower`` is the value of an explicit dual-feasible point, ``upper`` the parameter cost
    of ``representation`` (a Stack computing the same function), ``value = upper``;
    ``float(result) == result.value``. Variant "9" is a closed form: ``lower = upper = value``,
    and ``representation`` is the canonical stack of the function (eq. 9 prices it at ``value``).

    ``certified``: the gap is at most ``RTOL_CERTIFIED`` and ``representation`` computes the input
    function (values and slopes agree to ``REPRESENTATION_RTOL`` of their float error scale at
    the probe points of :func:`pcheck.problems.hyperplanes.representation_error`, recorded in
    ``representation_error``). ``status``: "optimal", "gap not reached" or "ill-conditioned"
    (the representation differs from the input: kinks too close to tell apart in float64).
    """

    value: float
    lower: float
    upper: float
    representation: Stack
    variant: str
    certified: bool = False
    status: str = status.GAP_NOT_REACHED
    representation_error: float = 0.0

    @property
    def gap(self) -> float:
        """Relative certified gap ``(upper - lower) / max(|upper|, tiny)``."""
        return (self.upper - self.lower) / max(abs(self.upper), np.finfo(float).tiny)

    def __float__(self) -> float:
        return float(self.value)










def _op_norm(M: np.ndarray) -> float:
    return float(np.linalg.norm(M, 2)) if M.size else 0.0


def penalty_dual_value(prog: HyperplaneProgram, M: np.ndarray, variant: str) -> float:
    """The dual function at ``M`` after shrinking it into the feasible set (module docstring).

    Eq. 7, 11, 12: ``M = [Lambda mu]`` (``d_out x (d_in + 1)``), ``||M||_op <= 2``, ``||mu|| <= 1``;
    eq. 11 adds ``-||Lambda||_F^2/4``, eq. 12 requires ``||Lambda||_op <= 1``. Eq. 8:
    ``M = Lambda`` (the intercept is free, ``mu = 0``), ``||Lambda||_op <= 2``, ``omega = 1``.
    Every returned value is a lower bound of ``P_j``."""
    variant = as_variant(variant)
    regularized = variant.biases_regularized
    d_in = prog.d_in
    Lam = M[:, :d_in]
    mu = M[:, d_in] if regularized else np.zeros(prog.d_out)
    limits = [2.0 / max(_op_norm(M), 1e-300), 1.0 / max(float(np.linalg.norm(mu)), 1e-300)]
    if variant.skip == "schatten1":
        limits.append(1.0 / max(_op_norm(Lam), 1e-300))
    scale = min(1.0, *limits) * (1 - DUAL_MARGIN)
    Lam, mu = Lam * scale, mu * scale
    u = prog.s @ Lam.T - prog.r[:, None] * mu[None, :]
    omega = atom_cost(prog.r, variant)
    value = np.sum(Lam * prog.L) + mu @ prog.C - mu @ mu / 4 + np.sum(lens_support(prog.J, u, omega))
    return float(value - (np.sum(Lam * Lam) / 4 if variant.skip == "frobenius" else 0.0))






























def _polish(prog: HyperplaneProgram, beta, c, e, a, variant: str):
    """The cheapest of the solver's point and its snapped variants: shares snapped to the cone
    boundary (:func:`snap_split`), the intercept residual
    ``G[:, -1]`` (and ``e``) moved into ``c`` or into ``e``, the slope residual moved into the
    skip connection ``a``. Interior-point iterates carry residuals of the size of the solver
    tolerance in every block; a block whose optimum is 0 (``e`` when ``||mu|| < 1``, ``G`` when
    the affine part is absorbed) then costs its tolerance at linear rate, which is not small
    relative to a tiny ``||c||^2``, and SVD noise in ``G`` blurs the representation."""
    variant = as_variant(variant)
    candidates = []
    for b in (snap_split(prog, beta), beta):
        G = affine_part(prog, b, c, e, a)
        zero = np.zeros_like(c)
        intercepts = [(c + e + G[:, -1], zero), (c, e + G[:, -1]), (c, e)] if variant.biases_regularized else [(c, e)]
        slopes = ([a + G[:, :-1]] if variant.skip is not None else []) + [a]
        candidates += [(b, ci, ei, ai) for ci, ei in intercepts for ai in slopes]
    costs = np.array([parameter_cost(representation(prog, *cand, variant=variant), variant) for cand in candidates])
    # ties within rounding go to the first (most snapped) candidate: it has no noise pairs
    tie = costs <= costs.min() + POLISH_TIE * max(abs(costs.min()), np.finfo(float).tiny)
    return candidates[int(np.argmax(tie))]






def _conic_point(prog: HyperplaneProgram, variant: str):
    """Clarabel on the normalized program (:meth:`HyperplaneProgram.normalized`); the dual point
    is the same for ``h`` and ``h / s`` (both Lagrangians scale by ``s``). Returns the raw
    interior-point ``(beta, c, e, a, M)``."""
    variant = as_variant(variant)
    unit, scale = prog.normalized(variant.biases_regularized)
    P, q, A, b, cones, lay, g_slot = conic_form(unit, variant, gamma=scale)
    x, z, _ = conic.solve(P, q, A, b, cones, tol=SOLVER_TOL, ktratio=KTRATIO, kkt=KKT_SOLVER)
    K, d, d_in = prog.J.shape[0], prog.d_out, prog.d_in
    x = scale * x
    beta = x[:K * d].reshape(K, d) / atom_cost(prog.r, lay.variant)[:, None]
    c = x[lay.c:lay.c + d] if lay.regularized else prog.C.copy()
    e = x[lay.e:lay.e + d] if lay.regularized else np.zeros(d)
    a = x[lay.a:lay.a + d * d_in].reshape(d, d_in) if variant.skip is not None else np.zeros((d, d_in))
    # the PSD duals' entries paired with G are M / 2, stored times sqrt(2) in the svec
    return beta, c, e, a, np.sqrt(2.0) * z[g_slot]


def _certified_point(prog: HyperplaneProgram, variant: str, Q):
    """The conic program solved in the output coordinates ``Q`` (all of them for ``Q = None``),
    its point mapped back, polished (:func:`_polish`) and certified by dual points evaluated on
    the original program. Returns ``(beta, c, e, a, lower, upper)``."""
    variant = as_variant(variant)
    if Q is None:
        beta, c, e, a, M = _conic_point(prog, variant)
    else:
        beta, c, e, a, M = _conic_point(projected(prog, Q), variant)
        beta, c, e, a, M = beta @ Q.T, Q @ c, Q @ e, Q @ a, Q @ M
        c = c if variant.biases_regularized else prog.C.copy()
    beta, c, e, a = _polish(prog, beta, c, e, a, variant)
    lower = max(penalty_dual_value(prog, cand, variant) for cand in _dual_candidates(prog, M, beta, c, e, a, variant))
    upper = parameter_cost(representation(prog, beta, c, e, a, variant=variant), variant)
    return beta, c, e, a, lower, upper


def _solve_conic(prog: HyperplaneProgram, variant: str):
    """The conic program in the output span (:func:`output_basis`) when it is smaller than
    ``d_out``; if that point does not certify within ``FAST_PATH_GAP`` (Clarabel can stop early,
    "AlmostSolved", on one form of a degenerate program and not on the other: eq. 11, ``K = 0``,
    ``d_in = 3``, ``d_out = 5`` gave 7e-9 in the span and 6e-11 in full), the full program too,
    keeping the better certificate. Returns ``(beta, c, e, a, lower)``."""
    Q = output_basis(prog)
    best = None
    for basis in ([Q] if Q.shape[1] < prog.d_out else []) + [None]:
        point = _certified_point(prog, variant, basis)
        if best is None or point[5] - point[4] < best[5] - best[4]:
            best = point
        if best[5] - best[4] <= FAST_PATH_GAP * max(abs(best[5]), np.finfo(float).tiny):
            break
    return best[:5]


def _with_subgradient(M: np.ndarray, X: np.ndarray, weight: float) -> np.ndarray:
    """``M`` moved onto the subdifferential of ``weight ||X||_*``: ``weight U V^T`` on the range
    of ``X`` plus ``M``'s part on the complement (``(I - UU^T) M (I - VV^T)``). Singular values
    below ``SPLIT_SNAP_RTOL`` times the largest count as zero."""
    if not np.any(X):
        return M
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    keep = S > SPLIT_SNAP_RTOL * S[0]
    U, Vt = U[:, keep], Vt[keep]
    rest = (M - U @ (U.T @ M)) - (M - U @ (U.T @ M)) @ Vt.T @ Vt
    return weight * U @ Vt + rest


def _dual_candidates(prog: HyperplaneProgram, M: np.ndarray, beta, c, e, a, variant: str):
    """The solver's dual point (both signs: the sign convention of its PSD dual is not needed),
    and the same moved to satisfy the stationarity conditions at the polished primal point:
    ``mu = 2c`` (from ``||c||^2``), ``Lambda = 2a`` (eq. 11) or a subgradient of ``||a||_*``
    (eq. 12), ``M`` a subgradient of ``2 ||G||_*``. Each is shrunk into the feasible set by
    :func:`penalty_dual_value`, so all are valid lower bounds and the best is kept. At a degenerate
    optimum (e.g. ``||mu|| = 1``) the interior-point dual is its least accurate output."""
    variant = as_variant(variant)
    G = affine_part(prog, beta, c, e, a)
    if not variant.biases_regularized:
        G = G[:, :-1]
    out = []
    for sg in (1.0, -1.0):
        for base in (sg * M, _with_subgradient(sg * M, G, 2.0)):
            out.append(base)
            if not variant.biases_regularized:
                continue
            fixed = base.copy()
            fixed[:, -1] = 2 * c
            if variant.skip == "frobenius":
                fixed[:, :-1] = 2 * a
            elif variant.skip == "schatten1":
                fixed[:, :-1] = _with_subgradient(fixed[:, :-1], a, 1.0)
            out.append(fixed)
    return out


def _solve(prog: HyperplaneProgram, variant: str):
    """The absorbed split (:func:`absorbed_split`) when it exists and certifies within
    ``FAST_PATH_GAP``, else the conic program by Clarabel. Returns ``(beta, c, e, a, lower)``."""
    variant = as_variant(variant)
    d, d_in = prog.d_out, prog.d_in
    regularized = variant.biases_regularized
    t = absorbed_split(prog, biases_regularized=regularized)
    if t is not None:
        beta, zero, a = t[:, None] * prog.J, np.zeros(d), np.zeros((d, d_in))
        c = zero if regularized else prog.C.copy()
        lower = penalty_dual_value(prog, np.zeros((d, d_in + regularized)), variant)
        upper = parameter_cost(representation(prog, beta, c, zero, a, variant=variant), variant)
        if upper - lower <= FAST_PATH_GAP * max(abs(upper), np.finfo(float).tiny):
            return beta, c, zero, a, lower
    return _solve_conic(prog, variant)




def penalty(stack: Stack, variant="7", *, warn: bool = True) -> Penalty:
    """Exact ``P_j`` (HTW eq. ``variant``) of the function ``stack`` computes, read on all of
    ``R^{d_in}``, as a certified :class:`Penalty` (module docstring for the program).

    Variants "7", "8", "9" need a stack without skip connection, "11" and "12" one with
    (``stack.A``). Variant "9" (a closed form) is implemented for ``d_in = 1`` only and raises
    ``NotImplementedError`` otherwise. An uncertified result (``Penalty.status``) emits one
    :class:`pcheck.core.status.UncertifiedWarning` when ``warn``. Norms are computed without
    overflow or underflow; a function whose masses exceed the float64 range raises ``ValueError``.
    """
    if not isinstance(stack, Stack):
        raise TypeError(f"stack must be a Stack, got {type(stack).__name__}")
    variant = as_variant(variant)
    skip = variant.skip is not None
    if skip != (stack.A is not None):
        need = "a stack with a skip connection (stack.A)" if skip else "a stack without skip connection"
        raise ValueError(f"variant {variant} needs {need}")
    if variant.boundary_term and stack.d_in != 1:
        raise NotImplementedError(f"variant 9 (Ongie et al.'s reformulation) is implemented for d_in = 1 only "
                                  f"(got d_in = {stack.d_in}); variant 8 gives the eq. 8 value")
    prog = hyperplane_program(stack)
    d = prog.d_out
    if variant.boundary_term:
        value = savarese_value(prog)
        rep = representation(prog, np.zeros_like(prog.J), prog.C, np.zeros(d), np.zeros((d, 1)), variant="8")
        return _checked(stack, Penalty(value, value, value, rep, variant), warn)
    beta, c, e, a, lower = _solve(prog, variant)
    rep = representation(prog, beta, c, e, a, variant=variant)
    upper = parameter_cost(rep, variant)
    return _checked(stack, Penalty(upper, lower, upper, rep, variant), warn)


def _checked(stack: Stack, result: Penalty, warn: bool) -> Penalty:
    """``result`` with its status: the representation checked against ``stack``, the gap against
    ``RTOL_CERTIFIED``; a NaN anywhere is an error, never a value."""
    if not all(np.isfinite(v) for v in (result.value, result.lower, result.upper)):
        raise FloatingPointError(f"penalty: non-finite result (value {result.value}, lower {result.lower}); "
                                 "please report this stack")
    error = representation_error(stack, result.representation)
    if error > REPRESENTATION_RTOL:
        state = status.ILL_CONDITIONED
    else:
        state = status.OPTIMAL if result.gap <= RTOL_CERTIFIED else status.GAP_NOT_REACHED
    if warn and state != status.OPTIMAL:
        status.warn_uncertified(f"penalty (P_{result.variant})" + (
            f": the representation differs from the input function by {error:.1e} of its rounding scale"
            if state == status.ILL_CONDITIONED else ""), state, result.gap, RTOL_CERTIFIED, stacklevel=4)
    return dataclasses.replace(result, certified=state == status.OPTIMAL, status=state, representation_error=error)


def absorbed_split(prog: HyperplaneProgram, *, biases_regularized: bool = True):
    """Shares ``t in [0, 1]^K`` (``beta = t J``) that absorb the whole affine part, if they
    exist: ``sum_H t_H J_H s_H^T = -L`` and (eq. 7) ``sum_H t_H r_H J_H = C``, found by an
    interior-point feasibility LP (Clarabel; HiGHS took 20 s to prove infeasibility at K = 1000,
    2 d_out = 512 rows, Clarabel 3.4 s, and it is also faster when feasible).

    Such a split keeps every hyperplane at its lower cost ``omega ||J_H||`` and leaves no affine
    part, ``c`` or ``e``, so its cost ``sum_H omega ||J_H||`` equals the dual value at ``M = 0``:
    it is optimal, certified by that dual point. Returns ``t`` (clipped to ``[0, 1]``: the
    interior point may leave the box by rounding; the caller certifies the split it builds), or
    None if the LP is infeasible (the optimum then pays for an affine part).
    """
    K = len(prog.r)
    if K == 0:
        return None
    prog, _ = prog.normalized(biases_regularized)
    rows = [(prog.J[:, :, None] * prog.s[:, None, :]).reshape(K, -1).T]
    rhs = [-prog.L.ravel()]
    if biases_regularized:
        rows.append((prog.r[:, None] * prog.J).T)
        rhs.append(prog.C)
    A_eq, b_eq = np.vstack(rows), np.concatenate(rhs)
    row_scale = np.max(np.abs(A_eq), axis=1)
    row_scale[row_scale == 0] = 1.0
    A = sp.vstack([sp.csc_matrix(A_eq / row_scale[:, None]), -sp.eye(K), sp.eye(K)], format="csc")
    b = np.concatenate([b_eq / row_scale, np.zeros(K), np.ones(K)])  # A_eq t = b_eq, t >= 0, 1 - t >= 0
    sol = conic.solve(sp.csc_matrix((K, K)), np.zeros(K), A, b, [("zero", len(b_eq)), ("nonneg", 2 * K)],
                      tol=SOLVER_TOL, ktratio=KTRATIO, kkt=KKT_SOLVER)
    return np.clip(sol.x, 0.0, 1.0) if sol.solved else None
