"""The function-space problem (HTW eq. 5) in one input dimension, solved exactly with a
certificate.

**Atoms.** A neuron is ``w relu(v x + b)``; write ``(v, b) = tau (cos phi, sin phi)`` and
``mu = tau w``, so the neuron is ``mu relu(cos(phi) x + sin(phi))``. For ``cos phi != 0`` this is
a kink at ``p = -tan phi`` with direction ``s = sign(cos phi)`` and mass ``m = |cos phi| mu``;
``phi = pi/2`` is the constant neuron (``v = 0``), the limit of kinks sent to infinity.

**The exact link to eq. (4).** Minimizing ``||theta||^2`` over the rescalings of each neuron
(MATH.md, "Rescaling") gives

.. math:: \\min_{\\theta \\text{ of any width}} L(\\theta) + \\lambda\\|\\theta\\|^2
          = \\min_{\\phi, \\mu, c} L + \\lambda\\Big(2\\sum_k \\omega(\\phi_k)\\|\\mu_k\\| + \\|c\\|^2\\Big)

with ``omega = 1`` for variant "7" (biases regularized: ``2 ||w|| ||(v, b)||``; in kink terms
``2 ||m|| sqrt(1 + p^2) = 2 ||m|| / g(p)``, twice the atom part of HTW eq. 7, MATH.md item 1)
and ``omega = |cos phi|`` with ``c`` free for variant "8" (eq. 8: ``2 ||w|| |v| = 2 ||m||``).
Constants: in "7" a constant output is paid either as ``||c||^2`` or by the ``v = 0`` neuron at
``2 ||mu||`` (the cheaper for large offsets: ``2||u||`` beats ``||u||^2`` beyond 1); eq. 7 read on
all of R would price constants through ``||c||^2`` only, which is not the infimum of (4). In "8"
constants are free.

**Dual.** With residual multipliers ``alpha (N, d_out)``,

.. math:: D(\\alpha) = \\langle \\alpha, Y\\rangle - \\tfrac14\\|\\alpha\\|_F^2
          - \\tfrac{1}{4\\lambda}\\Big\\|\\sum_i \\alpha_i\\Big\\|^2

("8": without the last term and with ``sum_i alpha_i = 0``), subject to
``||sum_i alpha_i relu(cos(phi) x_i + sin(phi))|| <= 2 lam omega(phi)`` for every ``phi``. In
kink form this reads ``||sum_i alpha_i relu(s (x_i - p))|| <= 2 lam sqrt(1 + p^2)`` ("7") or
``<= 2 lam`` ("8"). Between two consecutive data points the left side is ``||a - p B||``
for fixed vectors ``a, B``, so the largest violation in a cell is the top eigenvalue of a
2 x 2 matrix ("7") or an endpoint value ("8", piecewise linear in ``p``): the constraint is
checked over all ``phi`` exactly. Any ``alpha`` scaled into the feasible set gives a
certified lower bound.

**Method.** An exchange method: solve the problem on a finite set of atoms (the
restricted master, a group lasso, with Clarabel), polish the angles ("7"; in "8" kinks at
data points suffice) and masses of its support jointly by Newton's method, take
``alpha = 2 (Y - f(X))``, add the most violated atoms, repeat until the relative gap is
below ``gap_tol``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

from pcheck.core.network import Stack
from pcheck.core.objective import training_objective
from pcheck.core.validate import as_array, as_count, as_dataset, as_scalar
from pcheck.core.variant import as_variant

#: Relative duality gap the solver stops at (issue 4: certified 1e-9).
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


@dataclass(frozen=True)
class FunctionSpaceFit:
    """A certified solution of the function-space problem (HTW eq. 5 in the eq.-4
    convention of the module docstring).

    ``objective`` is ``L + lam ||theta||^2`` of ``stack`` (a balanced network realizing the
    solution, eq. 4), ``lower_bound`` a dual value from a feasible dual point,
    ``gap = (objective - lower_bound) / objective``. The atoms are ``angles (K,)`` and
    ``masses (K, d_out)`` (``mu_k relu(cos(phi_k) x + sin(phi_k))``) plus the output bias
    ``c``; ``kinks``, ``directions`` and ``kink_masses`` give the kink form.

    ``method`` says how ``lower_bound`` was obtained: "exchange-1d" (``d_in = 1``, this
    module), "patterns-exact" / "patterns-sampled" (``d_in > 1``, ``d_out = 1``, the pattern
    program of :mod:`pcheck.problems.patterns`), "bounds-nd" (``d_in > 1``, ``d_out > 1``,
    :mod:`pcheck.problems.bounds_nd`), with " (upper only)" appended when the cells were too many to
    certify and ``lower_bound = 0``. For ``d_in > 1`` the atom fields are empty: the
    network is ``stack``.
    """

    stack: Stack
    objective: float
    lower_bound: float
    gap: float
    variant: str
    lam: float
    angles: np.ndarray
    masses: np.ndarray
    c: np.ndarray
    iterations: int
    history: list = field(default_factory=list)
    method: str = "exchange-1d"

    @property
    def n_atoms(self) -> int:
        """Number of neurons of the solution (kinks and the constant neuron; ``d_in > 1``:
        the width of ``stack``)."""
        return int(self.angles.shape[0]) if self.method == "exchange-1d" else self.stack.n

    @property
    def directions(self) -> np.ndarray:
        return np.sign(unit(self.angles)[0])

    @property
    def kinks(self) -> np.ndarray:
        """``p = -tan phi`` of the atoms with ``cos phi != 0``."""
        live = self.directions != 0
        return -np.tan(self.angles[live])

    @property
    def constant(self) -> np.ndarray:
        """Output of the ``v = 0`` neurons (``phi = pi/2``)."""
        return self.masses[self.directions == 0].sum(axis=0)


# ----------------------------------------------------------------------------- atoms


def omega(phi, variant: str):
    """Atom weight: 1 for "7", ``|cos phi|`` for "8"."""
    variant = as_variant(variant)
    phi = np.asarray(phi, dtype=float)
    return np.ones_like(phi) if variant.biases_regularized else np.abs(unit(phi)[0])


def kink_angle(s, p):
    """``phi`` of the kink ``(s, p)``: ``-atan p`` for ``s = +1``, ``pi - atan p`` for ``s = -1``
    (``p = -inf`` resp. ``+inf`` give the constant neuron ``phi = pi/2``); in ``[-pi/2, 3pi/2)``."""
    return np.where(np.asarray(s) > 0, -np.arctan(p), np.pi - np.arctan(p))


def unit(phi):
    """``(cos phi, sin phi)``, with ``cos`` exactly 0 at ``phi = pi/2`` (the ``v = 0`` neuron,
    where float ``cos(pi/2)`` would leave a 6e-17 input weight)."""
    phi = np.asarray(phi, dtype=float)
    return np.where(phi == np.pi / 2, 0.0, np.cos(phi)), np.sin(phi)


def ramps(x: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """``Psi[i, k] = relu(cos(phi_k) x_i + sin(phi_k))``, shape ``(N, K)``."""
    cos, sin = unit(phi)
    return np.maximum(cos[None, :] * x[:, None] + sin[None, :], 0.0)


def atoms_stack(phi, mu, c, variant: str) -> Stack:
    """A balanced stack realizing ``sum_k mu_k relu(cos(phi_k) x + sin(phi_k)) + c``:
    ``(v, b) = tau (cos phi, sin phi)``, ``w = mu / tau`` with ``tau^2 = ||mu||`` ("7":
    ``||w|| = ||(v, b)||``) or ``tau^2 = ||mu|| / |cos phi|`` ("8": ``||w|| = |v|``)."""
    nm = np.linalg.norm(mu, axis=1)
    keep = nm > 0
    phi, mu, nm = phi[keep], mu[keep], nm[keep]
    tau = np.sqrt(nm / omega(phi, variant))
    cos, sin = unit(phi)
    return Stack((tau * cos)[:, None], tau * sin, (mu / tau[:, None]).T.reshape(c.shape[0], -1), c)




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
    ratio = np.sqrt(np.maximum(sup2, 0.0)) / (2.0 * lam)
    worst = float(np.max(ratio, initial=0.0))
    if variant.biases_regularized and constant:
        worst = max(worst, float(np.linalg.norm(A.sum(axis=0))) / (2.0 * lam))
    return Violation(p, s, ratio, worst)


#: Kink positions computed from angles (``-tan(-atan x)``) within this relative distance of
#: a data point are that data point. Reason: the round trip is exact to a few ulps
#: (~1e-16 relative); snapping widens a restricted atom set by at most that much, which can
#: only lower a dual bound, so the bound stays valid.
SNAP_RTOL = 1e-13


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
            tol_lo = SNAP_RTOL * max(1.0, abs(c_lo)) if np.isfinite(c_lo) else 0.0
            tol_hi = SNAP_RTOL * max(1.0, abs(c_hi)) if np.isfinite(c_hi) else 0.0
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


def dual_value(alpha: np.ndarray, Y: np.ndarray, lam: float, variant: str) -> float:
    """``D(alpha)`` of the module docstring (without the feasibility constraints)."""
    variant = as_variant(variant)
    val = float(np.sum(alpha * Y)) - 0.25 * float(np.sum(alpha * alpha))
    if variant.biases_regularized:
        val -= float(np.sum(alpha.sum(axis=0) ** 2)) / (4.0 * lam)
    return val


def certified_lower_bound(x, Y, lam, variant, alpha, allowed=None) -> tuple[float, float]:
    """The value of :func:`feasible_dual_point`: ``(lower_bound, worst_ratio)``."""
    point, worst = feasible_dual_point(x, Y, lam, variant, alpha, allowed)
    return dual_value(point, Y, lam, variant), worst


def feasible_dual_point(x, Y, lam, variant, alpha, allowed=None) -> tuple[np.ndarray, float]:
    """A feasible dual point from ``alpha``: for "8" project onto ``sum alpha = 0``; then
    scale by ``t in [0, 1/worst]`` maximizing the concave quadratic ``D(t alpha)``. Returns
    ``(t alpha, worst_ratio)`` (``t = 0`` when no finite scale exists)."""
    variant = as_variant(variant)
    if not variant.biases_regularized:
        alpha = alpha - alpha.mean(axis=0)
    worst = violations(x, alpha, lam, variant, allowed).worst
    return best_scaling(alpha, Y, lam, variant, worst) * alpha, worst


def best_scaling(alpha, Y, lam, variant, worst) -> float:
    """``argmax_{0 <= t <= 1/worst} D(t alpha)`` (``D(t alpha) = t lin + t^2 quad``, concave);
    ``worst`` is the largest ratio of the dual constraint at ``alpha``, so ``t alpha`` is
    feasible. 0 when no finite scale exists."""
    lin = float(np.sum(alpha * Y))
    quad = dual_value(alpha, Y, lam, variant) - lin  # quad <= 0
    t_max = 1.0 / worst if worst > 0 else np.inf
    t = t_max if quad == 0 else min(t_max, max(0.0, lin / (-2.0 * quad)))
    return t if np.isfinite(t) else 0.0


# ----------------------------------------------------------------------------- primal


def second_differences(xs: np.ndarray):
    """The banded, invertible ``T (n, n)`` on sorted distinct points: row 0 the value at
    ``xs[0]``, row 1 the first divided difference, row ``j >= 2`` the change of slope at
    ``xs[j-1]``. ``T`` maps a piecewise-linear function's values to its kinks, so ``T``
    times a ramp column has at most four non-zeros (rows 0, 1 and the kink's cell)."""
    from scipy import sparse

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


def master(x, Y, lam, variant, phi):
    r"""The restricted master: the group lasso over the atoms ``phi_k``,

    .. math:: \min_{\mu, c} \|\Psi \mu + 1 c^T - Y\|_F^2
              + \lambda\Big(2\sum_k \omega(\phi_k)\|\mu_k\| + \|c\|^2\Big)

    ("8": ``c`` free), solved as an SOCP with Clarabel. The fitted values ``S`` at the
    distinct points enter through ``T S = T G Mt`` (``G = [Psi, 1]``, ``Mt = [mu; c]``,
    :func:`second_differences`), which is sparse, and ``r = E S - Y`` (``E`` repeats
    duplicate points), so the conic system stays sparse however many atoms there are.
    Entries of ``T G`` below ``SPARSE_RTOL`` of their column are rounding of exact zeros
    and are dropped. Returns ``mu (K, d)`` and ``c``.
    """
    variant = as_variant(variant)
    import clarabel
    from scipy import sparse

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
    q[i_rho:] = 2.0 * lam / s * omega(phi, variant)
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
    cones = [clarabel.ZeroConeT(n_s + n_r)] + [clarabel.SecondOrderConeT(d + 1)] * K
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = MASTER_TOL
    settings.max_iter = 200
    b = np.concatenate([np.zeros(n_s), -Y.ravel(), np.zeros(K * (d + 1))])
    solver = clarabel.DefaultSolver(sparse.diags(diag).tocsc(), q, A, b, cones, settings)
    sol = solver.solve()
    z = np.asarray(sol.x)
    if not np.all(np.isfinite(z)):
        raise RuntimeError(f"the restricted master failed: Clarabel status {sol.status}")
    Mt = s * z[:n_mt].reshape(K + 1, d)
    return Mt[:K], Mt[K]


def _kron_eye(r, c, v, d, row0, col0):
    """Triplets of ``M kron I_d`` for ``M``'s triplets ``(r, c, v)``, shifted by ``(row0, col0)``."""
    lane = np.arange(d)
    return ((row0 + np.asarray(r)[:, None] * d + lane).ravel(), (col0 + np.asarray(c)[:, None] * d + lane).ravel(),
            np.repeat(np.asarray(v, dtype=float), d))


def primal_value(x, Y, lam, variant, phi, mu, c) -> float:
    """The objective at atoms ``(phi, mu)`` and output bias ``c`` (module docstring)."""
    variant = as_variant(variant)
    R = ramps(x, phi) @ mu + c[None, :] - Y
    reg = 2.0 * float(np.sum(omega(phi, variant) * np.linalg.norm(mu, axis=1)))
    if variant.biases_regularized:
        reg += float(c @ c)
    return float(np.sum(R * R)) + lam * reg


def support_gradient_hessian(x, Y, lam, variant, phi, mu, c, free):
    """Value, gradient and Hessian of the objective over ``z = (phi[free], mu, c)`` at a
    support whose masses are all non-zero; the objective is smooth there as long as each
    ``phi_k`` stays inside its arc (fixed activation pattern).

    With ``G = [Psi, 1]`` and ``Mt = [mu; c]`` the loss is ``||G Mt - Y||^2`` (Hessian
    ``2 G^T G (x) I`` in ``Mt``). On an arc ``dPsi_ik/dphi_k = chi_ik (cos phi_k - sin phi_k x_i)``
    and ``d^2 Psi_ik / dphi_k^2 = -Psi_ik``, which give the ``phi`` rows (Gauss-Newton part plus
    the residual's second-order terms). Only variant "7" moves angles (``omega = 1`` there).
    """
    variant = as_variant(variant)
    K, d = mu.shape
    N = x.shape[0]
    Psi = ramps(x, phi)
    G = np.hstack([Psi, np.ones((N, 1))])
    R = Psi @ mu + c[None, :] - Y
    nm = np.linalg.norm(mu, axis=1)
    om = omega(phi, variant)
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
        gp = 2.0 * np.sum(RM * D, axis=0)
        Hpp = 2.0 * (D.T @ D) * (mf @ mf.T)
        Hpp[np.diag_indices_from(Hpp)] -= 2.0 * np.sum(RM * Psi[:, idx], axis=0)
        HpM = 2.0 * (D.T @ G)[:, :, None] * mf[:, None, :]
        HpM[np.arange(idx.size), idx, :] += 2.0 * D.T @ R
        HpM = HpM.reshape(idx.size, -1)
        grad = np.concatenate([gp, grad])
        H = np.block([[Hpp, HpM], [HpM.T, H]])
    return val, grad, H


def polish(x, Y, lam, variant, phi, mu, c, lo, hi, *, steps: int = 60):
    """Newton's method on the smooth support problem (:func:`support_gradient_hessian`):
    angles strictly inside their arcs ``[lo, hi]`` move (variant "7"), masses and ``c``
    always; a backtracking line search keeps the objective decreasing (up to
    ``ROUNDING``) and the angles in their arcs (an angle reaching an arc end, a kink on
    a data point, stops there); it stops when the gradient norm stops decreasing."""
    variant = as_variant(variant)
    if variant.biases_regularized and len(phi):
        phi, mu, lo, hi = merge_close(phi.copy(), mu.copy(), lo, hi)
    K, d = mu.shape
    phi, mu, c, lo, hi = phi.copy(), mu.copy(), c.copy(), lo.copy(), hi.copy()
    best_gnorm, stalls, prev_val = np.inf, 0, np.inf
    for _ in range(steps):
        free = (lo < phi) & (phi < hi) if variant.biases_regularized else np.zeros(K, bool)
        val, grad, H = support_gradient_hessian(x, Y, lam, variant, phi, mu, c, free)
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
                vn = primal_value(x, Y, lam, variant, pn, mn, cn)
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


def _arcs(xs, phi):
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


def fit_function_space(X, Y, lam, variant="7", *, gap_tol: float = GAP_TOL, max_iter: int = 50,
                       allowed=None, stop_above=None) -> FunctionSpaceFit:
    """Certified minimum over all widths of HTW eq. (4), i.e. ``min_f L(f) + lam P(f)`` in
    the exact convention of the module docstring (eq. 5; "7": eq. 7, "8": eq. 8).

    ``X (N, 1)``, ``Y (N, d_out)``, ``lam > 0``. Returns a :class:`FunctionSpaceFit` whose
    ``objective`` is eq. (4) evaluated at the returned (balanced) ``stack`` and whose
    ``lower_bound`` is a certified dual value; iterates until ``gap <= gap_tol``.
    ``allowed (m, 2)``: closed angle intervals, each inside one activation arc; the problem
    is then restricted to atoms with angles in them (any number per interval), and the
    dual check, hence ``lower_bound``, covers exactly those atoms (:func:`allowed_pieces`).
    ``stop_above``: stop as soon as ``lower_bound`` exceeds it (branch and bound pruning).

    ``d_in > 1`` (see ``FunctionSpaceFit.method``): ``allowed`` and ``stop_above`` do not
    apply (they raise) and ``gap_tol`` is in general not reached. ``d_out = 1``: the pattern
    program (Pilanci & Ergen), patterns enumerated while ``patterns.MAX_ENUMERATED`` allows,
    sampled beyond; ``gap_tol`` and ``max_iter`` play no role; measured gaps 1e-9 to 2e-7
    when enumerated (N <= 32, d_in = 2, 3; Clarabel's accuracy), 1e-3 and more when
    sampled. ``d_out > 1``: :func:`pcheck.problems.bounds_nd.function_space_bounds` with at most
    ``max_iter`` exchange rounds, stopping at ``gap_tol``; measured gaps 1e-10 to 1.4e-8
    (N = 5, 6, 8, d_in = 2, 3, d_out = 3; benchmarks/bench_bounds_nd.py) in 0.1 to 4 s;
    near the limit below it takes minutes (N = 35, d_in = 2, "7": 50 to 100 s). When the exact
    cell sup would exceed ``bounds_nd.MAX_DUAL_WORK``, ``lower_bound = 0`` (eq. 4 is never
    negative) and ``method`` ends in "(upper only)".
    """
    X, Y = as_dataset(X, Y)
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    variant = as_variant(variant, allowed=("7", "8"))
    if X.shape[1] > 1:
        for name, value in (("allowed", allowed), ("stop_above", stop_above)):
            if value is not None:
                raise ValueError(f"{name} applies to d_in = 1 only (angle intervals), got d_in = {X.shape[1]}")
        return _fit_nd(X, Y, lam, variant, as_scalar(gap_tol, "gap_tol", minimum=0.0), as_count(max_iter, "max_iter"))
    gap_tol = as_scalar(gap_tol, "gap_tol", minimum=0.0)
    max_iter = as_count(max_iter, "max_iter")
    if allowed is not None:
        allowed = as_array(allowed, "allowed", ndim=2, shape=(None, 2))
        if not np.all((-np.pi / 2 <= allowed[:, 0]) & (allowed[:, 0] <= allowed[:, 1])
                      & (allowed[:, 1] <= 1.5 * np.pi)):
            raise ValueError("allowed must hold angle intervals [a, b] with -pi/2 <= a <= b <= 3 pi/2")
    if allowed is not None:
        allowed_pieces(np.unique(X[:, 0]), allowed)  # raises on an interval across an arc boundary
    with _blas_controller().limit(limits=1, user_api="blas"):
        return _exchange(X, Y, lam, variant, gap_tol, max_iter, allowed,
                         np.inf if stop_above is None else as_scalar(stop_above, "stop_above"))


#: ``d_in > 1``: the sparse network of :func:`pcheck.problems.bounds_nd.sparse_stack` (at most
#: ``N d_out`` neurons instead of hundreds) replaces the master's when its eq. (4) exceeds
#: the master's by at most this fraction of the certified gap. Reason: the re-solved master
#: on the LP support lands 1e-11..3e-9 relative above the dense one (measured on N = 6, 8,
#: d_in = 2, 3, d_out = 1..5, both variants), below the gap on every instance but one; a
#: slack of one gap at most doubles the reported interval (still far inside
#: ``testing.RTOL_CERTIFIED_ND``), and a compact network is what a researcher can read.
SPARSE_SLACK = 1.0


def _fit_nd(X, Y, lam, variant, gap_tol, max_iter) -> FunctionSpaceFit:
    """The ``d_in > 1`` dispatch of :func:`fit_function_space` on validated input."""
    from pcheck.problems import bounds_nd
    from pcheck.problems.patterns import fit_patterns

    certified = bounds_nd.dual_work(X.shape[0], X.shape[1], variant) <= bounds_nd.MAX_DUAL_WORK
    if Y.shape[1] == 1:
        p = fit_patterns(X, Y, lam, variant)
        stack, objective, lower = p.stack, p.objective, p.lower
        method = "patterns-exact" if p.exact else "patterns-sampled"
        certified = p.certified
    elif certified:
        b = bounds_nd.function_space_bounds(X, Y, lam, variant=variant, rounds=max_iter, gap_tol=gap_tol)
        stack, objective, lower, method = b.stack, b.upper, b.lower, "bounds-nd"
    else:
        b = bounds_nd.sampled_upper(X, Y, lam, variant=variant)
        stack, objective, lower, method = b.stack, b.upper, 0.0, "bounds-nd"
    method += "" if certified else " (upper only)"
    sparse = bounds_nd.sparse_stack(X, Y, lam, stack, variant)
    sparse_objective = training_objective(sparse, X, Y, lam, variant)
    if sparse_objective - objective <= SPARSE_SLACK * max(objective - lower, 0.0):
        stack, objective = sparse, sparse_objective
    gap = (objective - lower) / max(objective, np.finfo(float).tiny)
    history = [dict(iteration=1, atoms=stack.n, objective=objective, lower_bound=lower, gap=gap)]
    return FunctionSpaceFit(stack, objective, lower, gap, variant, lam, np.zeros(0), np.zeros((0, Y.shape[1])),
                            np.array(stack.c), 1, history, method)


def _blas_controller():
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


def _exchange(X, Y, lam, variant, gap_tol, max_iter, allowed, stop_above) -> FunctionSpaceFit:
    """The exchange loop of :func:`fit_function_space` on validated input."""
    x = X[:, 0]
    xs = np.unique(x)
    phi = np.zeros(0)
    history, best = [], None
    for it in range(1, max_iter + 1):
        mu, c = master(x, Y, lam, variant, phi)
        nm = np.linalg.norm(mu, axis=1)
        keep = nm > SUPPORT_RTOL * max(float(nm.max(initial=0.0)), np.finfo(float).tiny)
        lo, hi = _arcs(xs, phi[keep])
        if allowed is not None:
            lo, hi = within_allowed(phi[keep], lo, hi, allowed)
        phi, mu, c = polish(x, Y, lam, variant, phi[keep], mu[keep], c, lo, hi)
        stack = atoms_stack(phi, mu, c, variant)
        objective = training_objective(stack, X, Y, lam, variant)
        alpha = 2.0 * (Y - stack(X))
        lower, worst = certified_lower_bound(x, Y, lam, variant, alpha, allowed)
        gap = (objective - lower) / max(objective, np.finfo(float).tiny)
        history.append(dict(iteration=it, atoms=len(phi), objective=objective, lower_bound=lower,
                            worst_ratio=worst, gap=gap))
        if best is None or gap < best[3]:
            best = (stack, objective, lower, gap, phi, mu, c)
        if gap <= gap_tol or lower > stop_above:
            break
        viol = violations(x, alpha, lam, variant, allowed)
        new = viol.ratio > 1.0
        if new.sum() > MAX_NEW_ATOMS:  # the most violated ones: keeps the master small
            new &= viol.ratio >= np.sort(viol.ratio[new])[-MAX_NEW_ATOMS]
        candidates = _unique_angles(np.concatenate([phi, kink_angle(viol.s[new], viol.p[new])]))
        improving = len(history) < 2 or history[-2]["objective"] - objective > ROUNDING * objective
        if len(candidates) == len(phi) and not improving:
            break  # no new violated atom and the support no longer improves: stalled
        phi = candidates
    stack, objective, lower, gap, phi, mu, c = best
    order = np.argsort(phi, kind="stable")
    return FunctionSpaceFit(stack, objective, max(lower, 0.0), max(gap, 0.0), variant, lam, phi[order], mu[order],
                            c, it, history)


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


def grid_cvxpy(x, Y, lam, variant, phi) -> float:
    """The test oracle: the problem of this module with atoms restricted to the angles
    ``phi`` (e.g. :func:`kink_grid`), a group lasso written directly in cvxpy and solved by
    Clarabel. An upper bound of the optimum, equal to it when ``phi`` holds the optimal
    atoms. cvxpy is imported here only."""
    variant = as_variant(variant)
    import cvxpy as cp

    N, d = Y.shape
    M, c = cp.Variable((len(phi), d)), cp.Variable(d)
    F = ramps(x, phi) @ M + np.ones((N, 1)) @ cp.reshape(c, (1, d), order="C")
    reg = 2 * cp.sum(cp.multiply(omega(phi, variant), cp.norm(M, 2, axis=1)))
    if variant.biases_regularized:
        reg = reg + cp.sum_squares(c)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(F - Y) + lam * reg))
    prob.solve(solver=cp.CLARABEL)
    return prob.value
