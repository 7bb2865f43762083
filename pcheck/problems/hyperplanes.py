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
from pcheck.core.measure import atoms
from pcheck.core.network import Stack
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

    def normalized(self) -> tuple["HyperplaneProgram", float]:
        """``(h / s, s)`` with ``s`` the largest of ``||L||, ||C||, omega(r) ||J_H||`` (1 for
        ``h = 0``), so that the solvers' absolute tolerances act on numbers of order one."""
        s = max(float(np.linalg.norm(self.L)), float(np.linalg.norm(self.C)),
                float(np.max(atom_cost(self.r, Variant("7")) * np.linalg.norm(self.J, axis=1), initial=0.0)))
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
    root = np.sqrt(np.linalg.norm(e))
    dead = root > 0
    V = np.vstack([prog.s, -prog.s, s_p, -s_p, np.zeros((int(dead), prog.d_in))])
    b = np.concatenate([-prog.r, prog.r, -q, q, [root] if dead else []])
    W = np.vstack([prog.J - beta, beta, a_p, -a_p] + ([(e / root)[None, :]] if dead else [])).T
    skip = variant.skip is not None
    return Stack(V, b, W.reshape(prog.d_out, -1), c, a if skip else None)


def snap_split(prog: HyperplaneProgram, beta: np.ndarray) -> np.ndarray:
    """``beta`` with each share within ``SPLIT_SNAP_RTOL ||J_H||`` of ``0`` or of ``J_H`` set to it exactly
    (an interior-point iterate never reaches the boundary of a cone)."""
    Jn = np.linalg.norm(prog.J, axis=1)[:, None]
    beta = np.where(np.linalg.norm(beta, axis=1)[:, None] <= SPLIT_SNAP_RTOL * Jn, 0.0, beta)
    return np.where(np.linalg.norm(prog.J - beta, axis=1)[:, None] <= SPLIT_SNAP_RTOL * Jn, prog.J, beta)


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
    total = float(np.sum(np.linalg.norm(prog.J, axis=1)))
    return max(total, float(np.linalg.norm(2 * prog.L[:, 0] + prog.J.sum(axis=0))))


#: Shares within this relative distance of 0 or of the full mass are snapped to it before the
#: representation is built. Reason: at a degenerate optimum (a dual constraint active at the
#: same time, e.g. ``||mu|| = 1``) Clarabel's primal shares stay off the cone boundary by up to
#: about sqrt(SOLVER_TOL) = 1e-6, and their residual affine part would otherwise be carried by
#: noise pairs; the snapped candidate is kept only if it is as cheap (``_polish``).
SPLIT_SNAP_RTOL = 1e-6
