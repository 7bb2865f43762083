"""The kink hyperplanes of a stack's function and its representations by ramps (the data of
the exact-penalty program of :mod:`pcheck.problems.penalty`, proofs_notes/htw-penalty-exact.md).

``h(x) = sum_H J_H relu(<s_H, x> - r_H) + L x + C`` over the distinct kink hyperplanes
``H = {<s_H, x> = r_H}`` (unit ``s_H`` in a canonical orientation); a representation splits
each mass as ``alpha_H + beta_H = J_H`` between the ramp and its mirror and builds the
remaining affine part from mirrored ramp pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.costs import atom_cost
from pcheck.core.measure import MERGE_RTOL, atoms
from pcheck.core.network import Stack
from pcheck.core.scaled import norm, row_norms
from pcheck.core.variant import Variant, as_variant

#: Output directions whose singular value in ``[J; L^T; C^T]`` is below this fraction of the
#: largest are dropped by :func:`output_basis`. Reason: float64 rounding of the data is ~1e-16
#: relative; a dropped direction changes the program by at most this fraction of its scale,
#: far below ``RTOL_CERTIFIED = 1e-9``, and the certificate is evaluated on the original program.
BASIS_RTOL = 1e-13


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

    def normalized(self, priced_intercept: bool = True) -> tuple[HyperplaneProgram, float]:
        """``(h / s, s)`` with ``s`` the largest of ``||L||, ||C||, omega(r) ||J_H||`` (1 for
        ``h = 0``), so that the solvers' absolute tolerances act on numbers of order one.
        ``priced_intercept=False`` (eq. 8: ``c`` is free, ``C`` plays no role) leaves ``||C||`` out:
        a large free offset must not shrink the program's numbers below the solver's tolerance."""
        s = max(norm(self.L), norm(self.C) if priced_intercept else 0.0,
                float(np.max(atom_cost(self.r, Variant("7")) * row_norms(self.J), initial=0.0)))
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
    norms = row_norms(stack.V)  # no underflow or overflow of v^2
    live = norms > 0
    norms[~live] = 1.0
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        r = -stack.b[live] / norms[live]
        m = (stack.W[:, live] * norms[live][None, :]).T
    if not np.all(np.isfinite(r)):
        raise ValueError("stack has kink hyperplanes with offsets -b_k/||v_k|| beyond the float64 range; "
                         "rescale the input so that they are representable")
    if not np.all(np.isfinite(m)):
        k = int(np.flatnonzero(~np.all(np.isfinite(m), axis=1))[0])
        raise ValueError(f"stack: the mass ||v_k|| w_k of neuron {int(np.flatnonzero(live)[k])} (||v_k|| = "
                         f"{norms[live][k]:.3e}, ||w_k|| = {norm(stack.W[:, live][:, k]):.3e}) exceeds the float64 "
                         "range, so the function's penalty is not representable; rescale W or V")
    s = stack.V[live] / norms[live, None]
    sign = canonical_sign(s)
    s, r = s * sign[:, None], r * sign
    flipped = sign < 0
    with np.errstate(over="ignore", invalid="ignore"):
        L = (np.zeros((stack.d_out, stack.d_in)) if stack.A is None else stack.A.copy()) - m[flipped].T @ s[flipped]
        C = stack.c + stack.W[:, ~live] @ np.maximum(stack.b[~live], 0.0) + m[flipped].T @ r[flipped]
    with np.errstate(over="ignore", invalid="ignore"):
        scale = [norm(L), norm(C), float(np.max(atom_cost(r, Variant("7")) * row_norms(m), initial=0.0))]
    if not all(np.isfinite(scale)):
        raise ValueError("stack: its function's penalty scale (slopes ||L|| = {:.1e}, offsets ||C|| = {:.1e}, atom "
                         "costs up to {:.1e}) exceeds the float64 range; rescale W, V or b".format(*scale))
    merged = atoms(Stack(s, -r, m.T, np.zeros(stack.d_out)))
    keep = np.any(merged.m != 0, axis=1)
    return HyperplaneProgram(merged.s[keep], merged.r[keep], merged.m[keep], L, C)


def lens_support(J: np.ndarray, u: np.ndarray, omega: np.ndarray) -> np.ndarray:
    """``sigma(u) = max{z . J : ||z|| <= omega, ||z - u|| <= omega}`` row-wise, for ``||u|| <= 2 omega``.

    It equals ``min_beta omega (||J - beta|| + ||beta||) + u . beta`` (a hyperplane's share of
    the dual function). Closed form: ``omega ||J||`` when ``omega J/||J||`` lies in the second
    ball (``||u||^2 ||J|| <= 2 omega u.J``), ``u.J + omega ||J||`` when ``u + omega J/||J||`` lies
    in the first, else the maximum on the rim: ``u.J/2 + sqrt(omega^2 - ||u||^2/4) ||J_perp||``.
    Computed as ``omega sigma_1(u / omega)`` (``sigma`` is positively homogeneous in ``(u, omega)``),
    so hyperplanes far out (``omega ~ |r|`` up to 1e300) with tiny masses neither overflow nor underflow.
    """
    omega = np.asarray(omega, dtype=float)
    u = u / omega[:, None]
    a2 = np.sum(u * u, axis=1)
    Jn = row_norms(J)
    uJ = np.sum(u * J, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        J_perp = J - np.where(a2 > 0, uJ / a2, 0.0)[:, None] * u
    half = np.sqrt(a2) / 2
    radius = np.sqrt(np.maximum((1.0 - half) * (1.0 + half), 0.0))
    rim = uJ / 2 + radius * row_norms(J_perp)
    out = np.where(a2 * Jn <= 2 * uJ, Jn, rim)
    return omega * np.where(a2 * Jn <= -2 * uJ, uJ + Jn, out)


def affine_part(prog: HyperplaneProgram, beta, c, e, a) -> np.ndarray:
    """``G = [L + sum_H beta_H s_H^T - a, C - sum_H r_H beta_H - c - e]`` (``d_out x (d_in + 1)``),
    the affine part left to the mirrored pairs once ``beta, c, e, a`` are chosen."""
    return np.column_stack([prog.L + beta.T @ prog.s - a, prog.C - prog.r @ beta - c - e])




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
    root = np.sqrt(norm(e))
    dead = root > 0
    V = np.vstack([prog.s, -prog.s, s_p, -s_p, np.zeros((int(dead), prog.d_in))])
    b = np.concatenate([-prog.r, prog.r, -q, q, [root] if dead else []])
    W = np.vstack([prog.J - beta, beta, a_p, -a_p] + ([(e / root)[None, :]] if dead else [])).T
    skip = variant.skip is not None
    return Stack(V, b, W.reshape(prog.d_out, -1), c, a if skip else None)


def snap_split(prog: HyperplaneProgram, beta: np.ndarray) -> np.ndarray:
    """``beta`` with each share within ``SPLIT_SNAP_RTOL ||J_H||`` of ``0`` or of ``J_H`` set to it exactly
    (an interior-point iterate never reaches the boundary of a cone)."""
    Jn = row_norms(prog.J)[:, None]
    beta = np.where(row_norms(beta)[:, None] <= SPLIT_SNAP_RTOL * Jn, 0.0, beta)
    return np.where(row_norms(prog.J - beta)[:, None] <= SPLIT_SNAP_RTOL * Jn, prog.J, beta)


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


def savarese_value(prog: HyperplaneProgram) -> float:
    """Eq. 9 for ``d_in = 1``: ``max(sum_p ||J_p||, ||h'(-inf) + h'(+inf)||)``, ``h'(-inf) = L``,
    ``h'(+inf) = L + sum_p J_p`` (the half-sphere form; splitting over ``s = +-1`` cannot lower it
    because the functional is a seminorm)."""
    total = float(np.sum(row_norms(prog.J)))
    return max(total, norm(2 * prog.L[:, 0] + prog.J.sum(axis=0)))


#: Shares within this relative distance of 0 or of the full mass are snapped to it before the
#: representation is built. Reason: at a degenerate optimum (a dual constraint active at the
#: same time, e.g. ``||mu|| = 1``) Clarabel's primal shares stay off the cone boundary by up to
#: about sqrt(SOLVER_TOL) = 1e-6, and their residual affine part would otherwise be carried by
#: noise pairs; the snapped candidate is kept only if it is as cheap (``_polish``).
SPLIT_SNAP_RTOL = 1e-6


#: A representation computes the input function when, at every probe point of
#: :func:`representation_error`, values and slopes agree to this fraction of the float error
#: scale of evaluating both (``sum_k ||w_k|| (|<v_k, x>| + |b_k|) + ||c|| + ||A x||`` for values,
#: ``sum_k ||w_k|| ||v_k|| + ||A||`` for slopes). Reason: a representation is built from the
#: function's hyperplanes with exact bookkeeping (shares ``J - beta, beta`` and the affine part
#: recomputed from them), so it differs from the input by rounding only, ``n eps`` of that
#: scale (the reason of ``RTOL_REORDER``); a wrong merge changes a slope by the merged masses.
REPRESENTATION_RTOL = 1e-12


def _slopes(stack: Stack, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients ``(B, d_out, d_in)`` of ``stack`` at points off its kinks and their float error scale."""
    active = (X @ stack.V.T + stack.b[None, :]) > 0
    grad = np.einsum("bk,ok,ki->boi", active.astype(float), stack.W, stack.V)
    scale = float(row_norms(stack.W.T) @ row_norms(stack.V))
    if stack.A is not None:
        grad = grad + stack.A[None, :, :]
        scale += norm(stack.A)
    return grad, scale


def _value_scale(stack: Stack, X: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        scale = (np.abs(X @ stack.V.T) + np.abs(stack.b)[None, :]) @ row_norms(stack.W.T) + norm(stack.c)
        if stack.A is not None:
            scale = scale + row_norms(X @ stack.A.T)
    return scale


def probe_points(stack: Stack, rng=None) -> np.ndarray:
    """Points where two piecewise-linear functions with the kinks of ``stack`` must agree. ``d_in = 1``:
    every kink ``-b_k / v_k``, the midpoint of every piece between consecutive distinct kinks and
    a point beyond each end (slopes there determine the function, values at the kinks its
    offset). ``d_in > 1``: for every hyperplane the foot point ``r s`` shifted by ``+-delta s``
    (``delta`` a 1e-3 of its scale) and along random in-plane directions, and Gaussian points at
    scales 1 to 1e6 times the largest offset."""
    norms = row_norms(stack.V)
    live = norms > 0
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        r = -stack.b[live] / norms[live]
    if stack.d_in == 1:
        with np.errstate(over="ignore"):
            k = np.unique(-stack.b[live] / stack.V[live, 0])
        k = k[np.isfinite(k)]
        if k.size == 0:
            return np.array([[-1.0], [0.0], [1.0]])
        ends = [k[0] - (1.0 + abs(k[0])), k[-1] + (1.0 + abs(k[-1]))]
        return np.concatenate([k, 0.5 * k[:-1] + 0.5 * k[1:], ends])[:, None]
    rng = np.random.default_rng(0 if rng is None else rng)
    s = stack.V[live] / norms[live, None]
    big = max(1.0, float(np.max(np.abs(r[np.isfinite(r)]), initial=0.0)))
    pts = [rng.standard_normal((16, stack.d_in)) * big * scale for scale in (1.0, 1e3, 1e6) if big * scale <= 1e300]
    for sk, rk in zip(s, -stack.b[live] / norms[live]):
        delta = 1e-3 * max(1.0, abs(rk))
        side = rng.standard_normal((4, stack.d_in))
        side -= (side @ sk)[:, None] * sk[None, :]
        foot = rk * sk + side * max(1.0, abs(rk))
        pts += [foot + delta * sk, foot - delta * sk]
    return np.vstack(pts)


def representation_error(stack: Stack, rep: Stack) -> float:
    """Largest disagreement of ``rep`` with ``stack`` at :func:`probe_points` of both (values and,
    off the kinks, slopes), relative to the float error scale of evaluating them; at most
    ``REPRESENTATION_RTOL`` when ``rep`` computes the function of ``stack``."""
    X = np.vstack([probe_points(stack), probe_points(rep)])
    with np.errstate(over="ignore", invalid="ignore"):
        err_v = row_norms(stack(X) - rep(X)) / np.maximum(_value_scale(stack, X) + _value_scale(rep, X),
                                                          np.finfo(float).tiny)
    if stack.d_in == 1:
        # slopes on the pieces between consecutive probe points, except slivers that the kink
        # merging of pcheck.core.measure treats as one kink (their slope is rounding, their
        # values are checked above)
        k = np.unique(X[:, 0])
        wide = np.diff(k) > MERGE_RTOL * np.maximum(np.abs(k[:-1]), np.abs(k[1:]))
        X = (0.5 * k[:-1] + 0.5 * k[1:])[wide][:, None] if np.any(wide) else X[:1] + 1.0
    (gs, ss), (gr, sr) = _slopes(stack, X), _slopes(rep, X)
    err_g = np.max(np.abs(gs - gr), initial=0.0) / max(ss + sr, np.finfo(float).tiny)
    worst = max(float(np.max(err_v, initial=0.0)), float(err_g))
    return worst if np.isfinite(worst) else np.inf
