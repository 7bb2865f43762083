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

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from pcheck.core.costs import parameter_cost
from pcheck.core.measure import atoms
from pcheck.core.network import Stack
from pcheck.core.variant import as_variant

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
#: the accepted result meets the issue's certified gap with room for the final rounding.
FAST_PATH_GAP = 1e-10


#: Polished candidates whose costs differ by less than this (relative) count as tied.
#: Reason: the costs are sums of a few hundred rounded terms (~1e-14 relative at most), far
#: below the certified gap 1e-9; a tie is resolved towards the snapped candidate.
POLISH_TIE = 1e-12

#: Shares within this relative distance of 0 or of the full mass are snapped to it before the
#: representation is built. Reason: at a degenerate optimum (a dual constraint active at the
#: same time, e.g. ``||mu|| = 1``) Clarabel's primal shares stay off the cone boundary by up to
#: about sqrt(SOLVER_TOL) = 1e-6, and their residual affine part would otherwise be carried by
#: noise pairs; the snapped candidate is kept only if it is as cheap (``_polish``).
SNAP_RTOL = 1e-6


#: Clarabel's sparse LDL factorization. Reason: measured (benchmarks/bench_penalty.py, 1D, n = 100,
#: d_out = 256) 0.46 s per solve with single-threaded QDLDL against 1.9 s with the default
#: multithreaded faer on this 2-core machine; equal within noise at n = 1000, d_out = 8 and 64.
KKT_SOLVER = "qdldl"

#: The nuclear norm of ``G (d_out x n1)`` is one PSD cone of size ``n1 + d_out`` up to this size,
#: Gram cones beyond (:func:`_nuclear_block`). Reason: the single cone's dense KKT block, of
#: ``((n1 + d_out)^2 / 2)^2`` entries, is the cliff at d_out = 64 (10 s at n = 100), but at small
#: sizes it costs nothing and the single cone is the more accurate: eq. 11, d_in = 3, d_out = 3
#: to 12 gave certified gaps up to 9.5e-10 with Gram cones (Clarabel stops "AlmostSolved" on a
#: failed step) against 8e-11 with the single cone. 24 keeps the block under 300^2 entries.
SINGLE_CONE_MAX = 24

#: Output directions whose singular value in ``[J; L^T; C^T]`` is below this fraction of the
#: largest are dropped by :func:`output_basis`. Reason: float64 rounding of the data is ~1e-16
#: relative; a dropped direction changes the program by at most this fraction of its scale,
#: far below ``RTOL_CERTIFIED = 1e-9``, and the certificate is evaluated on the original program.
BASIS_RTOL = 1e-13


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
class HyperplaneProgram:
    """``h(x) = sum_H J_H relu(<s_H, x> - r_H) + L x + C`` on all of ``R^{d_in}``: ``s (K, d_in)``
    unit normals in canonical orientation, ``r (K,)`` offsets, ``J (K, d_out)`` masses (in 1D the
    jumps of ``h'`` at the kinks ``r``, ``s = +1``), ``L (d_out, d_in)`` and ``C (d_out,)`` the
    affine part (the skip connection ``A`` is part of ``L``)."""

    s: np.ndarray
    r: np.ndarray
    J: np.ndarray
    L: np.ndarray
    C: np.ndarray

    @property
    def d_out(self) -> int:
        return self.L.shape[0]

    @property
    def d_in(self) -> int:
        return self.L.shape[1]

    def normalized(self) -> tuple["HyperplaneProgram", float]:
        """``(h / s, s)`` with ``s`` the largest of ``||L||, ||C||, omega(r) ||J_H||`` (1 for
        ``h = 0``), so that the solvers' absolute tolerances act on numbers of order one."""
        s = max(float(np.linalg.norm(self.L)), float(np.linalg.norm(self.C)),
                float(np.max(atom_cost(self.r) * np.linalg.norm(self.J, axis=1), initial=0.0)))
        s = s if s > 0 else 1.0
        return HyperplaneProgram(self.s, self.r, self.J / s, self.L / s, self.C / s), s


def canonical_sign(s: np.ndarray) -> np.ndarray:
    """``+-1`` per unit row: the sign of its first coordinate with ``|s_i| >= 1/(2 sqrt(d))``
    (one exists since ``||s|| = 1``), so ``s`` and ``-s`` get opposite signs and nearly equal
    rows the same one (unless a coordinate sits at the threshold to within rounding)."""
    big = np.abs(s) >= 1 / (2 * np.sqrt(s.shape[1]))
    first = np.argmax(big, axis=1)
    return np.where(s[np.arange(s.shape[0]), first] >= 0, 1.0, -1.0)


def hyperplane_program(stack: Stack) -> HyperplaneProgram:
    """The :class:`HyperplaneProgram` of ``stack``. Atoms ``m relu(<s, x> - r)`` against the
    canonical orientation are rewritten with ``relu(-z) = relu(z) - z``:
    ``m relu(<s', x> - r') - m (<s', x> - r')`` with ``(s', r') = (-s, -r)``; atoms on equal
    ``(s, r)`` are then merged (``pcheck.core.measure.atoms``), neurons with ``v = 0`` go to ``C``."""
    big = np.max(np.abs(stack.V), axis=1, initial=0.0)
    live = big > 0
    norms = np.ones_like(big)
    norms[live] = big[live] * np.linalg.norm(stack.V[live] / big[live, None], axis=1)  # no underflow of v^2
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        r = -stack.b[live] / norms[live]
    if not np.all(np.isfinite(r)):
        raise ValueError("stack has kink hyperplanes with offsets -b_k/||v_k|| beyond the float64 range; "
                         "rescale the input so that they are representable")
    s = stack.V[live] / norms[live, None]
    m = (stack.W[:, live] * norms[live][None, :]).T
    sign = canonical_sign(s)
    s, r = s * sign[:, None], r * sign
    flipped = sign < 0
    L = (np.zeros((stack.d_out, stack.d_in)) if stack.A is None else stack.A.copy()) - m[flipped].T @ s[flipped]
    C = stack.c + stack.W[:, ~live] @ np.maximum(stack.b[~live], 0.0) + m[flipped].T @ r[flipped]
    merged = atoms(Stack(s, -r, m.T, np.zeros(stack.d_out)))
    keep = np.any(merged.m != 0, axis=1)
    return HyperplaneProgram(merged.s[keep], merged.r[keep], merged.m[keep], L, C)


def atom_cost(r, *, biases_regularized: bool = True) -> np.ndarray:
    """Cost per unit mass of a ramp ``relu(<s, x> - r)``, ``||s|| = 1``:
    ``omega(r) = 1/g(r) = sqrt(1 + r^2)`` under eq. 7 (footnote 7), ``1`` under eq. 8."""
    r = np.asarray(r, dtype=float)
    return np.hypot(1.0, r) if biases_regularized else np.ones_like(r)


def lens_support(J: np.ndarray, u: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """``sigma(u) = max{z . J : ||z|| <= omega, ||z - u|| <= omega}`` row-wise, for ``||u|| <= 2 omega``.

    It equals ``min_beta omega (||J - beta|| + ||beta||) + u . beta`` (a hyperplane's share of
    the dual function). Closed form: ``omega ||J||`` when ``omega J/||J||`` lies in the second
    ball (``||u||^2 ||J|| <= 2 omega u.J``), ``u.J + omega ||J||`` when ``u + omega J/||J||`` lies
    in the first, else the maximum on the rim: ``u.J/2 + sqrt(omega^2 - ||u||^2/4) ||J_perp||``.
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


def _op_norm(M: np.ndarray) -> float:
    return float(np.linalg.norm(M, 2)) if M.size else 0.0


def dual_value(prog: HyperplaneProgram, M: np.ndarray, variant: str) -> float:
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
    omega = atom_cost(prog.r, biases_regularized=regularized)
    value = np.sum(Lam * prog.L) + mu @ prog.C - mu @ mu / 4 + np.sum(lens_support(prog.J, u, omega))
    return float(value - (np.sum(Lam * Lam) / 4 if variant.skip == "frobenius" else 0.0))


def _svec_index(i: int, j: int) -> int:
    """Position of entry ``(i, j)``, ``i <= j``, in Clarabel's PSD triangle (upper, by columns)."""
    return j * (j + 1) // 2 + i


def _svec_size(n: int) -> int:
    return n * (n + 1) // 2


def _svec_diagonal(n: int) -> np.ndarray:
    return np.array([_svec_index(i, i) for i in range(n)], dtype=np.int64)


class _Layout:
    """Column offsets of the variables ``[omega beta (K d), t_alpha (K), t_beta (K), c (d),
    e (d), t_e, W, t_G, a (d d_in), W2, t_a]`` of the conic form (sizes of the nuclear-norm
    variables ``W, t`` by :func:`_nuclear_sizes`); ``n1 = d_in + 1``
    (slope and intercept) under eq. 7, 11, 12 and ``d_in`` under eq. 8 (no ``c, e``), ``a`` only
    with a skip connection, ``W2, t_a`` only under eq. 12."""

    def __init__(self, K: int, d: int, d_in: int, variant: str):
        variant = as_variant(variant)
        self.regularized = variant.biases_regularized
        self.n1 = d_in + 1 if self.regularized else d_in
        sizes = [("beta", K * d), ("ta", K), ("tb", K), ("c", d if self.regularized else 0),
                 ("e", d if self.regularized else 0), ("te", 1 if self.regularized else 0),
                 ("W", _nuclear_sizes(self.n1, d)[0]), ("tG", _nuclear_sizes(self.n1, d)[1]),
                 ("a", d * d_in if variant.skip is not None else 0),
                 ("W2", _nuclear_sizes(d_in, d)[0] if variant.skip == "schatten1" else 0),
                 ("tA", _nuclear_sizes(d_in, d)[1] if variant.skip == "schatten1" else 0)]
        offset = 0
        for name, size in sizes:
            setattr(self, name, offset)
            offset += size
        self.n = offset


class _Rows:
    """COO triplets and right-hand side of ``b - A x in cones``, filled block by block; a block
    is one cone ``(kind, size)`` or a list of consecutive cones."""

    def __init__(self):
        self.rows, self.cols, self.vals, self.b, self.cones, self.count = [], [], [], [], [], 0

    def block(self, rows, cols, vals, b, cone):
        self.rows.append(np.asarray(rows, dtype=np.int64) + self.count)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))
        self.b.append(np.asarray(b, dtype=float))
        self.cones.extend(cone if isinstance(cone, list) else [cone])
        start, self.count = self.count, self.count + len(b)
        return start

    def matrix(self, n):
        A = sp.csc_matrix((np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
                          shape=(self.count, n))
        return A, np.concatenate(self.b)


def _nuclear_sizes(n1: int, d: int):
    """``(len W, len t, diagonal of W, diagonal of t)`` in the variables of :func:`_nuclear_block`
    for ``G (d x n1)``: ``W = Y`` (svec n1) and ``t = Z`` (svec d) for one cone, ``W`` (svec
    ``min(n1, d)``) and one ``t`` per line of the long side for Gram cones."""
    if n1 + d <= SINGLE_CONE_MAX:
        return _svec_size(n1), _svec_size(d), _svec_diagonal(n1), _svec_diagonal(d)
    m = min(n1, d)
    return _svec_size(m), max(n1, d), _svec_diagonal(m), np.arange(max(n1, d))


def _single_cone(out: _Rows, Ycol: int, Zcol: int, n1: int, d: int, entry) -> np.ndarray:
    """The cone ``[[Y, G^T], [G, Z]] >= 0`` (size ``n1 + d``), whose minimal ``tr Y + tr Z`` is
    ``2 ||G||_*``; arguments and result as :func:`_nuclear_block`."""
    n = n1 + d
    rows, cols, vals = [], [], []
    for j in range(n1):
        for i in range(j + 1):
            rows.append(_svec_index(i, j)), cols.append(Ycol + _svec_index(i, j)), vals.append(-1.0)
    for j in range(d):
        for i in range(j + 1):
            rows.append(_svec_index(n1 + i, n1 + j)), cols.append(Zcol + _svec_index(i, j)), vals.append(-1.0)
    rows, cols, vals = [np.array(rows, dtype=np.int64)], [np.array(cols, dtype=np.int64)], [np.array(vals)]
    b = np.zeros(_svec_size(n))
    slot = np.empty((d, n1), dtype=np.int64)
    for o in range(d):
        for k in range(n1):
            slot[o, k] = _svec_index(k, n1 + o)
            c_, v_, b_ = entry(k, o)
            rows.append(np.full(len(c_), slot[o, k])), cols.append(np.asarray(c_)), vals.append(np.sqrt(2.0) * np.asarray(v_))
            b[slot[o, k]] = np.sqrt(2.0) * b_
    return out.block(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), b, ("psd", n)) + slot


def _nuclear_block(out: _Rows, Wcol: int, tcol: int, n1: int, d: int, entry) -> np.ndarray:
    """Cones ``[[W, g_l], [g_l^T, t_l]] >= 0`` for ``G (d x n1)``, one per row ``g_l = G[l, :]`` when
    ``n1 <= d`` (``W`` is ``n1 x n1``), else one per column (``W`` is ``d x d``): their minimal
    ``tr W + sum_l t_l`` is ``2 ||G||_*`` (proofs_notes/htw-penalty-exact.md, "Size of the
    conic form"). With ``m = min(n1, d)`` this is ``max(n1, d)`` cones of size ``m + 1`` sharing
    ``W`` (svec ``Wcol``), instead of one cone of size ``n1 + d``. ``entry(k, o)`` returns
    ``(cols, vals, b)`` of ``G[o, k] = b - vals . x[cols]``; svec stores it times ``sqrt(2)``.
    Returns ``slot (d, n1)``, the row of each entry ``G[o, k]`` in ``b - A x``. Small matrices
    (``n1 + d <= SINGLE_CONE_MAX``) get the single cone of :func:`_single_cone` instead."""
    if n1 + d <= SINGLE_CONE_MAX:
        return _single_cone(out, Wcol, tcol, n1, d, entry)
    m, by_rows = min(n1, d), n1 <= d
    size = m + 1
    W_rows = np.array([_svec_index(i, j) for j in range(m) for i in range(j + 1)], dtype=np.int64)
    slot = np.empty((d, n1), dtype=np.int64)
    r2 = np.sqrt(2.0)
    for line in range(max(n1, d)):
        rows, cols, vals = [W_rows, [_svec_index(m, m)]], [Wcol + W_rows, [tcol + line]], [-np.ones(len(W_rows)), [-1.0]]
        b = np.zeros(size * (size + 1) // 2)
        at = []
        for i in range(m):
            o, k = (line, i) if by_rows else (i, line)
            c_, v_, b_ = entry(k, o)
            rows.append(np.full(len(c_), _svec_index(i, m))), cols.append(np.asarray(c_)), vals.append(r2 * np.asarray(v_))
            b[_svec_index(i, m)] = r2 * b_
            at.append((o, k, _svec_index(i, m)))
        start = out.block(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), b, ("psd", size))
        for o, k, row in at:
            slot[o, k] = start + row
    return slot


def _conic_form(prog: HyperplaneProgram, variant: str, gamma: float = 1.0):
    """``min x'Px/2 + q'x`` s.t. ``b - Ax`` in cones, for the program of the module docstring
    with the quadratic terms ``||c||^2`` (and ``||a||_F^2`` of eq. 11) weighted by ``gamma``:
    ``P(s h) = s P_gamma=s(h)``, which lets the solver run on normalized data.

    Nuclear norms are ``2 ||G||_* = min tr W + sum_l t_l`` over ``[[W, g_l], [g_l^T, t_l]] >= 0``
    for the lines ``g_l`` of ``G``'s long side (:func:`_nuclear_block`), with ``G`` written
    through the matching constraints as an affine function of ``beta, c, e, a``.
    The hyperplane variables are ``omega(r) beta_H`` (cost units): the matching constraints then
    have coefficients ``s_H/omega`` and ``r_H/omega``, at most 1 in magnitude, however far the
    hyperplanes lie. Returns ``(P, q, A, b, cones, layout, rows of G's entries (d, n1))``.
    """
    variant = as_variant(variant)
    K, d, d_in = prog.J.shape[0], prog.d_out, prog.d_in
    lay = _Layout(K, d, d_in, variant)
    omega = atom_cost(prog.r, biases_regularized=lay.regularized)
    q = np.zeros(lay.n)
    q[lay.ta:lay.ta + 2 * K] = 1.0
    W_diag, t_diag = _nuclear_sizes(lay.n1, d)[2:]
    q[lay.W + W_diag] = 1.0
    q[lay.tG + t_diag] = 1.0
    Pdiag = np.zeros(lay.n)
    if lay.regularized:
        q[lay.te] = 1.0
        Pdiag[lay.c:lay.c + d] = 2.0 * gamma
    if variant.skip == "frobenius":
        Pdiag[lay.a:lay.a + d * d_in] = 2.0 * gamma
    if variant.skip == "schatten1":
        W_diag, t_diag = _nuclear_sizes(d_in, d)[2:]
        q[lay.W2 + W_diag] = 0.5
        q[lay.tA + t_diag] = 0.5
    out = _Rows()
    beta = lay.beta + np.arange(K * d).reshape(K, d)
    J_cost = omega[:, None] * prog.J
    # ||omega J_k - omega beta_k|| <= t_alpha_k and ||omega beta_k|| <= t_beta_k, K cones of each kind
    rows = np.arange(K * (d + 1))
    out.block(rows, np.column_stack([lay.ta + np.arange(K), beta]).ravel(), np.tile(np.r_[-1.0, np.ones(d)], K),
              np.column_stack([np.zeros(K), J_cost]).ravel(), [("soc", d + 1)] * K)
    out.block(rows, np.column_stack([lay.tb + np.arange(K), beta]).ravel(), -np.ones(K * (d + 1)),
              np.zeros(K * (d + 1)), [("soc", d + 1)] * K)
    if lay.regularized:
        out.block(np.arange(d + 1), np.r_[lay.te, lay.e + np.arange(d)], -np.ones(d + 1), np.zeros(d + 1),
                  ("soc", d + 1))
    a_col = lambda o, k: lay.a + o * d_in + k  # noqa: E731

    def G_entry(k, o):
        if k < d_in:  # G[o, k] = L[o, k] + sum_H beta_Ho s_Hk - a[o, k]
            skip = [a_col(o, k)] if variant.skip is not None else []
            return np.r_[beta[:, o], skip], np.r_[-prog.s[:, k] / omega, np.ones(len(skip))], prog.L[o, k]
        # G[o, d_in] = C_o - sum_H r_H beta_Ho - c_o - e_o
        return np.r_[beta[:, o], lay.c + o, lay.e + o], np.r_[prog.r / omega, 1.0, 1.0], prog.C[o]

    g_slot = _nuclear_block(out, lay.W, lay.tG, lay.n1, d, G_entry)
    if variant.skip == "schatten1":  # ||a||_* = min (tr W2 + sum t_a) / 2
        _nuclear_block(out, lay.W2, lay.tA, d_in, d, lambda k, o: ([a_col(o, k)], [-1.0], 0.0))
    A, b = out.matrix(lay.n)
    return sp.diags(Pdiag, format="csc"), q, A, b, out.cones, lay, g_slot


def _clarabel_settings():
    import clarabel

    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = SOLVER_TOL
    settings.tol_ktratio = 1e-10
    settings.max_iter = 200
    settings.direct_solve_method = KKT_SOLVER
    return settings


def _clarabel_solve(P, q, A, b, cones):
    import clarabel

    kinds = {"soc": clarabel.SecondOrderConeT, "psd": clarabel.PSDTriangleConeT}
    solver = clarabel.DefaultSolver(sp.triu(P, format="csc"), q, A, b, [kinds[k](n) for k, n in cones],
                                    _clarabel_settings())
    sol = solver.solve()
    return np.asarray(sol.x), np.asarray(sol.z)


def affine_part(prog: HyperplaneProgram, beta, c, e, a) -> np.ndarray:
    """``G = [L + sum_H beta_H s_H^T - a, C - sum_H r_H beta_H - c - e]`` (``d_out x (d_in + 1)``),
    the affine part left to the mirrored pairs once ``beta, c, e, a`` are chosen."""
    return np.column_stack([prog.L + beta.T @ prog.s - a, prog.C - prog.r @ beta - c - e])


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
    import clarabel

    K = len(prog.r)
    if K == 0:
        return None
    prog, _ = prog.normalized()
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
    solver = clarabel.DefaultSolver(sp.csc_matrix((K, K)), np.zeros(K), A, b,
                                    [clarabel.ZeroConeT(len(b_eq)), clarabel.NonnegativeConeT(2 * K)],
                                    _clarabel_settings())
    sol = solver.solve()
    solved = str(sol.status) in ("Solved", "AlmostSolved")
    return np.clip(np.asarray(sol.x), 0.0, 1.0) if solved else None


def _pairs(G: np.ndarray, biases_regularized: bool):
    """Mirrored ramp pairs ``a relu(<s,x> - q) - a relu(q - <s,x>) = a (<s, x> - q)`` computing
    ``G (x, 1)^T`` (eq. 7) or ``G x`` (eq. 8).

    One pair per singular triple ``sigma u v^T`` of ``G``: ``v = (v_s, v_0)``, ``s = v_s/||v_s||``,
    ``q = -v_0/||v_s||``, ``a = sigma ||v_s|| u``, costing ``2 sigma omega(q) ||v_s|| = 2 sigma``
    (eq. 7) or ``2 sigma`` (eq. 8, ``q = 0``): ``2 ||G||_*`` in all. A triple with ``v_s = 0`` (a
    pure constant) is returned as a constant instead. Returns ``(s, q, a, constant)``.
    """
    d, n1 = G.shape
    d_in = n1 - 1 if biases_regularized else n1
    U, S, Vt = np.linalg.svd(G, full_matrices=False) if G.size else (np.zeros((d, 0)), np.zeros(0), np.zeros((0, n1)))
    s, q, a, constant = [], [], [], np.zeros(d)
    for sigma, u, v in zip(S, U.T, Vt):
        vs = np.linalg.norm(v[:d_in])
        if sigma == 0:
            continue
        if vs == 0:
            constant += sigma * v[d_in] * u
            continue
        s.append(v[:d_in] / vs)
        q.append(-v[d_in] / vs if biases_regularized else 0.0)
        a.append(sigma * vs * u)
    k = len(q)
    return np.array(s).reshape(k, d_in), np.array(q), np.array(a).reshape(k, d), constant


def representation(prog: HyperplaneProgram, beta, c, e, a, *, variant: str = "7") -> Stack:
    """The Stack computing ``h`` with masses split as ``alpha = J - beta`` (canonical side) and
    ``beta`` (mirrored side), the remaining affine part as mirrored pairs (:func:`_pairs`), the
    constant ``e`` as a balanced neuron with ``v = 0`` (``b = sqrt||e||``, ``w = e/sqrt||e||``:
    R_7 cost ``||e||``), intercept ``c`` and skip connection ``a`` (eq. 11, 12). Under eq. 8 the
    intercept is free: ``c`` absorbs whatever constant is left."""
    variant = as_variant(variant)
    regularized = variant.biases_regularized
    G = affine_part(prog, beta, c, e, a)
    if not regularized:
        c, G = c + G[:, -1], G[:, :-1]
    s_p, q, a_p, constant = _pairs(G, regularized)
    e = e + constant
    root = np.sqrt(np.linalg.norm(e))
    dead = root > 0
    V = np.vstack([prog.s, -prog.s, s_p, -s_p, np.zeros((int(dead), prog.d_in))])
    b = np.concatenate([-prog.r, prog.r, -q, q, [root] if dead else []])
    W = np.vstack([prog.J - beta, beta, a_p, -a_p] + ([(e / root)[None, :]] if dead else [])).T
    skip = variant.skip is not None
    return Stack(V, b, W.reshape(prog.d_out, -1), c, a if skip else None)


def snap_split(prog: HyperplaneProgram, beta: np.ndarray) -> np.ndarray:
    """``beta`` with each share within ``SNAP_RTOL ||J_H||`` of ``0`` or of ``J_H`` set to it exactly
    (an interior-point iterate never reaches the boundary of a cone)."""
    Jn = np.linalg.norm(prog.J, axis=1)[:, None]
    beta = np.where(np.linalg.norm(beta, axis=1)[:, None] <= SNAP_RTOL * Jn, 0.0, beta)
    return np.where(np.linalg.norm(prog.J - beta, axis=1)[:, None] <= SNAP_RTOL * Jn, prog.J, beta)


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


def output_basis(prog: HyperplaneProgram) -> np.ndarray:
    """Orthonormal ``Q (d_out, k)`` whose columns span the masses ``J_H``, the columns of ``L``
    and ``C`` (``k <= K + d_in + 1``): singular directions of ``[J; L^T; C^T]`` above
    ``BASIS_RTOL`` times the largest. The program's optimum lies in this span (every norm in it
    is orthogonally invariant and the projection ``Q Q^T`` keeps the matching constraints;
    proofs_notes/htw-penalty-exact.md, "Size of the conic form")."""
    data = np.vstack([prog.J, prog.L.T, prog.C[None, :]])
    _, S, Vt = np.linalg.svd(data, full_matrices=False)
    keep = S > BASIS_RTOL * S[0] if S.size and S[0] > 0 else np.zeros(S.size, dtype=bool)
    return Vt[keep].T


def projected(prog: HyperplaneProgram, Q: np.ndarray) -> HyperplaneProgram:
    """The program in the output coordinates ``Q^T y`` (``Q`` orthonormal columns)."""
    return HyperplaneProgram(prog.s, prog.r, prog.J @ Q, Q.T @ prog.L, Q.T @ prog.C)


def _conic_point(prog: HyperplaneProgram, variant: str):
    """Clarabel on the normalized program (:meth:`HyperplaneProgram.normalized`); the dual point
    is the same for ``h`` and ``h / s`` (both Lagrangians scale by ``s``). Returns the raw
    interior-point ``(beta, c, e, a, M)``."""
    variant = as_variant(variant)
    unit, scale = prog.normalized()
    P, q, A, b, cones, lay, g_slot = _conic_form(unit, variant, gamma=scale)
    x, z = _clarabel_solve(P, q, A, b, cones)
    K, d, d_in = prog.J.shape[0], prog.d_out, prog.d_in
    x = scale * x
    beta = x[:K * d].reshape(K, d) / atom_cost(prog.r, biases_regularized=lay.regularized)[:, None]
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
    lower = max(dual_value(prog, cand, variant) for cand in _dual_candidates(prog, M, beta, c, e, a, variant))
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
    below ``SNAP_RTOL`` times the largest count as zero."""
    if not np.any(X):
        return M
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    keep = S > SNAP_RTOL * S[0]
    U, Vt = U[:, keep], Vt[keep]
    rest = (M - U @ (U.T @ M)) - (M - U @ (U.T @ M)) @ Vt.T @ Vt
    return weight * U @ Vt + rest


def _dual_candidates(prog: HyperplaneProgram, M: np.ndarray, beta, c, e, a, variant: str):
    """The solver's dual point (both signs: the sign convention of its PSD dual is not needed),
    and the same moved to satisfy the stationarity conditions at the polished primal point:
    ``mu = 2c`` (from ``||c||^2``), ``Lambda = 2a`` (eq. 11) or a subgradient of ``||a||_*``
    (eq. 12), ``M`` a subgradient of ``2 ||G||_*``. Each is shrunk into the feasible set by
    :func:`dual_value`, so all are valid lower bounds and the best is kept. At a degenerate
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
        lower = dual_value(prog, np.zeros((d, d_in + regularized)), variant)
        upper = parameter_cost(representation(prog, beta, c, zero, a, variant=variant), variant)
        if upper - lower <= FAST_PATH_GAP * max(abs(upper), np.finfo(float).tiny):
            return beta, c, zero, a, lower
    return _solve_conic(prog, variant)


def savarese_value(prog: HyperplaneProgram) -> float:
    """Eq. 9 for ``d_in = 1``: ``max(sum_p ||J_p||, ||h'(-inf) + h'(+inf)||)``, ``h'(-inf) = L``,
    ``h'(+inf) = L + sum_p J_p`` (the half-sphere form; splitting over ``s = +-1`` cannot lower it
    because the functional is a seminorm)."""
    total = float(np.sum(np.linalg.norm(prog.J, axis=1)))
    return max(total, float(np.linalg.norm(2 * prog.L[:, 0] + prog.J.sum(axis=0))))


def penalty_cvxpy(prog: HyperplaneProgram, variant="7") -> float:
    """The same program written plainly in cvxpy and solved by Clarabel (the reference oracle
    of the tests and the benchmark's baseline): canonical and mirrored masses ``alpha, beta``
    with ``alpha + beta = J``, the affine part ``G`` with its nuclear norm, ``c``, ``e``, ``a``."""
    import cvxpy as cp

    variant = as_variant(variant, allowed=("7", "8", "11", "12"))
    K, d, d_in = prog.J.shape[0], prog.d_out, prog.d_in
    alpha, beta, G = cp.Variable((K, d)), cp.Variable((K, d)), cp.Variable((d, d_in + 1))
    c, e, a = cp.Variable(d), cp.Variable(d), cp.Variable((d, d_in))
    omega = atom_cost(prog.r, biases_regularized=variant.biases_regularized)
    atoms_cost = omega @ cp.norm(alpha, 2, axis=1) + omega @ cp.norm(beta, 2, axis=1) if K else 0
    slope = G[:, :d_in] == prog.L + (beta.T @ prog.s if K else 0) - a
    intercept = G[:, d_in] == prog.C - (prog.r @ beta if K else 0) - c - e
    cons = [slope] + ([alpha + beta == prog.J] if K else [])
    if not variant.biases_regularized:
        objective, cons = atoms_cost + 2 * cp.normNuc(G[:, :d_in]), cons + [a == 0]
    else:
        objective = atoms_cost + 2 * cp.normNuc(G) + cp.norm(e, 2) + cp.sum_squares(c)
        objective += {"7": 0, "11": cp.sum_squares(a), "12": cp.normNuc(a)}[variant]
        cons += [intercept] + ([a == 0] if variant.skip is None else [])
    problem = cp.Problem(cp.Minimize(objective), cons)
    problem.solve(solver="CLARABEL")
    if problem.status != cp.OPTIMAL:
        raise RuntimeError(f"the cvxpy reference did not converge: status {problem.status}")
    return float(problem.value)


def penalty(stack: Stack, variant="7") -> Penalty:
    """Exact ``P_j`` (HTW eq. ``variant``) of the function ``stack`` computes, read on all of
    ``R^{d_in}``, as a certified :class:`Penalty` (module docstring for the program).

    Variants "7", "8", "9" need a stack without skip connection, "11" and "12" one with
    (``stack.A``). Variant "9" (a closed form) is implemented for ``d_in = 1`` only and raises
    ``NotImplementedError`` otherwise.
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
        return Penalty(value, value, value, rep, variant)
    beta, c, e, a, lower = _solve(prog, variant)
    rep = representation(prog, beta, c, e, a, variant=variant)
    upper = parameter_cost(rep, variant)
    return Penalty(upper, lower, upper, rep, variant)
