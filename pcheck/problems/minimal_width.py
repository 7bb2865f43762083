"""The minimal width ``n*(X, Y, lam)`` at which HTW eq. (4) reaches the function-space optimum (5)
in one input dimension, as a certified interval ``[lower, upper]``.

``n*`` is the smallest ``n`` with ``min_width-n (4) = min (5)``; by the lemma of
proofs_notes/htw-thm3_2.md this is the smallest width whose minimizers of (4) minimize (5).
Widths are monotone (a width-m network is a width-n network for ``m <= n``, unused neurons zero).

**Upper end** (an explicit network). Every optimal function of (5) is a nonnegative combination
of *tight* atoms: with the dual point ``alpha* = 2 (Y - F*)`` (unique, htw-thm3_2.md), a neuron at
angle ``phi`` may carry mass only if ``||alpha*^T psi(phi)|| = 2 lam kappa(phi)``, and then its
mass points along ``u(phi) = alpha*^T psi(phi) / ||.||``, so its data vector is ``a(phi) =
psi(phi) u(phi)^T``. Any ``t >= 0`` with ``sum_k t_k a(phi_k) = F* - 1 c*^T`` ("8": up to a free
``c``) is an optimum (its cost is ``<alpha*, .> / (2 lam)``, the same for all). So (the sparse
reduction) Caratheodory's theorem gives an optimum with at most ``rank{a(phi_k)}`` atoms
(``<= N d_out``, "8": ``<= (N - 1) d_out``), and ``n*`` is the smallest number of tight atoms
representing ``F*``. :func:`minimal_width` reduces the certified solution's support that way,
then tries every smaller subset of the (numerically) tight atoms by nonnegative least squares,
rebuilds the network and keeps it when its eq. (4) lies within the certified gap of the (5)
optimum: ``upper`` is the smallest width so reached, and the network is returned.

**Lower end** (a certificate). ``width_lower_bound`` at width ``upper - 1`` (then smaller widths
while its node budget lasts): "separated" at width ``w`` certifies every width-``w`` network above
the (5) optimum, so ``n* >= w + 1``. Width 0 (the network ``c``) is decided in closed form.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import nnls

from pcheck.core.angles import atoms_stack, kink_angle, ramps
from pcheck.core.costs import angle_atom_cost
from pcheck.core.network import Stack
from pcheck.core.objective import training_objective
from pcheck.core.tolerances import RTOL_CERTIFIED
from pcheck.core.validate import as_count, as_scalar
from pcheck.core.variant import as_variant
from pcheck.problems import exchange_1d
from pcheck.problems.dual_1d import violations
from pcheck.problems.function_space import FunctionSpaceFit, fit_function_space
from pcheck.problems.width import fit_network, one_dimensional, width_lower_bound

#: A dual ratio ``||alpha*^T psi|| / (2 lam kappa)`` at least ``1 - TIGHT_RTOL`` makes an atom a
#: candidate of the upper search. Reason: the certified duals are exact to ~1e-12 relative; a
#: looser threshold only adds candidates, and every network found is checked by its eq. (4).
TIGHT_RTOL = 1e-6
#: Relative residual of the nonnegative least squares below which a subset of tight atoms
#: represents ``F*``. Reason: exact representations leave ~1e-14; the network built from it is
#: checked against the certified gap anyway, so this is only a filter.
REPRESENT_RTOL = 1e-7
#: Subsets of tight atoms tried per width at most (all of them when fewer). Reason: one NNLS
#: on an (N d_out) x n matrix takes ~20 us; 20000 keep a width under a second.
MAX_SUBSETS = 20000
#: Default budget of restricted solves for the branch and bound of the lower end. Reason: the
#: N = 4, 5 certificates of htw-thm3_2.md need 255-661; N = 6 may need thousands.
MAX_NODES = 3000


@dataclass(frozen=True)
class MinimalWidth:
    """The certified interval ``[lower, upper]`` for ``n*`` (module docstring).

    ``network`` is a width-``upper`` network whose eq. (4) ``network_objective`` lies within the
    certified gap of the (5) optimum (``function_space``). ``status``: "exact" (``lower == upper``),
    "interval" (the branch and bound did not separate within its budget or ``max_width``).
    ``certified``: the (5) optimum was certified to ``RTOL_CERTIFIED`` (both ends are then proven;
    ``lower`` only by branch-and-bound separations, closed forms and monotonicity). ``tight``:
    the number of numerically tight atoms, ``rank`` the dimension of their data vectors (the
    Caratheodory bound); ``bounds`` maps each width tried to its :class:`WidthBound`."""

    lower: int
    upper: int
    status: str
    certified: bool
    network: Stack
    network_objective: float
    function_space: FunctionSpaceFit
    tight: int
    rank: int
    bounds: dict = field(default_factory=dict)
    effort: dict = field(default_factory=dict)


def constant_objective(Y, lam, variant) -> float:
    """Eq. (4) of the best width-0 network (the output bias ``c`` alone), in closed form:
    ``c = sum Y / (N + lam)`` ("7") or the mean ("8")."""
    N = Y.shape[0]
    c = Y.sum(axis=0) / (N + lam) if as_variant(variant).biases_regularized else Y.mean(axis=0)
    value = float(np.sum((Y - c) ** 2))
    return value + lam * float(c @ c) if as_variant(variant).biases_regularized else value


def tight_atoms(x, Y, lam, variant, fit: FunctionSpaceFit) -> np.ndarray:
    """Angles of the atoms that are tight (ratio >= 1 - TIGHT_RTOL) for ``alpha* = 2 (Y - F*)``:
    the certified support, the per-cell maximizers of :func:`pcheck.problems.dual_1d.violations`
    and the kinks at data points (the arc ends), deduplicated."""
    alpha = 2.0 * (Y - fit.stack(x[:, None]))
    if not as_variant(variant).biases_regularized:
        alpha = alpha - alpha.mean(axis=0)
    viol = violations(x, alpha, lam, variant)
    keep = viol.ratio >= 1.0 - TIGHT_RTOL
    xs = np.unique(x)
    ends = kink_angle(np.repeat([1.0, -1.0], len(xs)), np.concatenate([xs, xs]))
    candidates = [fit.angles, kink_angle(viol.s[keep], viol.p[keep]), ends, [np.pi / 2]]
    phi = np.concatenate([np.asarray(c, dtype=float) for c in candidates])
    ratio = _ratios(x, alpha, lam, variant, phi)
    phi = phi[(ratio >= 1.0 - TIGHT_RTOL) | np.isin(phi, fit.angles)]
    phi = np.sort(phi)
    return phi[np.concatenate([[True], np.diff(phi) > 1e-12])] if len(phi) else phi


def _ratios(x, alpha, lam, variant, phi):
    """Dual ratios ``||alpha^T psi(phi)|| / (2 lam kappa(phi))`` (0 where ``kappa = 0``)."""
    g = np.linalg.norm(ramps(x, phi).T @ alpha, axis=1)
    kappa = angle_atom_cost(phi, variant)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(kappa > 0, g / (2.0 * lam * np.where(kappa > 0, kappa, 1.0)), 0.0)


def atom_vectors(x, alpha, phi, variant):
    """Data vectors ``vec(psi(phi_k) u_k^T)`` (columns) of tight atoms, ``u_k`` the unit direction of
    ``alpha^T psi(phi_k)``; "8" (free ``c``): ``psi`` centred over the data. Returns ``(A, U)``."""
    psi = ramps(x, phi)
    g = psi.T @ alpha
    U = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), np.finfo(float).tiny)
    if not as_variant(variant).biases_regularized:
        psi = psi - psi.mean(axis=0)
    A = np.einsum("ik,kl->ilk", psi, U).reshape(psi.shape[0] * alpha.shape[1], len(phi))
    return A, U


def caratheodory(A, t, rtol=1e-10):
    """Drop columns of ``A`` with ``A t`` and ``t >= 0`` fixed until the kept columns are linearly
    independent (conic Caratheodory): returns the kept indices and their coefficients."""
    idx, t = np.arange(A.shape[1]), np.array(t, dtype=float)
    while len(idx) > 1:
        _, sv, Vt = np.linalg.svd(A[:, idx])
        if len(sv) == len(idx) and sv[-1] > rtol * sv[0]:
            break
        z = Vt[-1] if np.any(Vt[-1] > 0) else -Vt[-1]
        pos = np.flatnonzero(z > 1e-15 * np.max(np.abs(z)))
        j = pos[np.argmin(t[pos] / z[pos])]
        t = t - t[j] / z[j] * z
        idx, t = np.delete(idx, j), np.delete(t, j)
    return idx, np.maximum(t, 0.0)


def _network(x, X, Y, lam, variant, phi, t, U, c, F):
    """The width-``len(phi)`` network with masses ``t_k u_k`` (and ``c``; "8": refitted to the data
    values ``F``), and a second one with exact masses (convex master, Newton polish); returns the
    better ``(stack, objective)``."""
    mu = t[:, None] * U
    if not as_variant(variant).biases_regularized:
        c = (F - ramps(x, phi) @ mu).mean(axis=0)
    stack = atoms_stack(phi, mu, c, variant)
    best = (stack, training_objective(stack, X, Y, lam, variant))
    mu2, c2 = exchange_1d.master(x, Y, lam, variant, phi)
    lo, hi = exchange_1d.arcs(np.unique(x), phi)
    live = np.linalg.norm(mu2, axis=1) > 0
    if live.any():
        phi2, mu2, c2 = exchange_1d.polish(x, Y, lam, variant, phi[live], mu2[live], c2, lo[live], hi[live])
        stack2 = atoms_stack(phi2, mu2, c2, variant)
        value2 = training_objective(stack2, X, Y, lam, variant)
        if value2 < best[1]:
            best = (stack2, value2)
    return best


def minimal_width(X, Y, lam, variant="7", *, max_width=None, max_nodes: int = MAX_NODES, seed=0) -> MinimalWidth:
    """Certified interval ``[lower, upper]`` for the minimal width ``n*`` (module docstring).

    ``max_width``: the branch and bound runs at widths ``<= max_width`` only (its roots grow like
    ``C(2N - 1, n)``); ``max_nodes``: its total budget of restricted solves (0: no branch and
    bound, ``lower`` from width 0 only); ``seed``: random subsets when a width has more than
    ``MAX_SUBSETS`` and the fallback search of :func:`pcheck.problems.width.fit_network`.
    For ``d_out = 1`` the Caratheodory reduction gives ``upper <= N`` (distinct points).
    """
    X, Y = one_dimensional(X, Y, "minimal_width")
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    variant = as_variant(variant, allowed=("7", "8"))
    max_nodes = as_count(max_nodes, "max_nodes", minimum=0)
    max_width = None if max_width is None else as_count(max_width, "max_width", minimum=0)
    rng = np.random.default_rng(seed)
    x, N, d = X[:, 0], X.shape[0], Y.shape[1]
    fit = fit_function_space(X, Y, lam, variant)
    tol = max(fit.gap, exchange_1d.GAP_TOL)

    def reaches(value):
        return (value - fit.lower_bound) / max(fit.lower_bound, np.finfo(float).tiny) <= tol

    F = fit.stack(X)
    alpha = 2.0 * (Y - F)
    b = (F - fit.c[None, :] if variant.biases_regularized else F - F.mean(axis=0)).ravel()
    effort = {"subsets": 0, "networks": 0}
    # the certified solution's support, reduced by Caratheodory
    best = (fit.stack, fit.objective)
    if fit.n_atoms > 0:
        A, U = atom_vectors(x, alpha, fit.angles, variant)
        idx, t = caratheodory(A, np.linalg.norm(fit.masses, axis=1))
        effort["networks"] += 1
        cand = _network(x, X, Y, lam, variant, fit.angles[idx], t, U[idx], fit.c, F)
        if reaches(cand[1]) and cand[0].n < best[0].n:
            best = cand
    tight = tight_atoms(x, Y, lam, variant, fit)
    A, U = atom_vectors(x, alpha, tight, variant)
    rank = int(np.linalg.matrix_rank(A, tol=1e-10 * max(np.linalg.norm(A, 2), 1e-300))) if len(tight) else 0
    norm_b = max(float(np.linalg.norm(b)), np.finfo(float).tiny)
    # every smaller width: a subset of tight atoms representing F*, checked by its eq. (4)
    n = best[0].n - 1
    while n >= 1:
        found = None
        for subset in _subsets(len(tight), n, rng):
            effort["subsets"] += 1
            t, res = nnls(A[:, subset], b)
            if res > REPRESENT_RTOL * norm_b:
                continue
            effort["networks"] += 1
            cand = _network(x, X, Y, lam, variant, tight[list(subset)], t, U[list(subset)], fit.c, F)
            if reaches(cand[1]) and cand[0].n <= n:
                found = cand
                break
        if found is None:
            break
        best, n = found, found[0].n - 1
    if d == 1 and best[0].n > N + 1:  # numerical safety net of the d_out = 1 guarantee
        net = fit_network(X, Y, lam, N + 1, variant=variant, seed=seed, restarts=2, fit=fit)
        if reaches(net.objective):
            best = (net.stack, net.objective)
    upper = best[0].n
    lower = 0 if constant_objective(Y, lam, variant) <= fit.objective * (1 + RTOL_CERTIFIED) else 1
    lower = min(lower, upper)
    bounds, budget, w = {}, max_nodes, upper - 1
    while w >= max(lower, 1) and budget > 0 and (max_width is None or w <= max_width):
        bound = width_lower_bound(X, Y, lam, w, variant, target=fit.objective * (1 + RTOL_CERTIFIED),
                                  max_nodes=budget)
        bounds[w], budget = bound, budget - bound.nodes
        if bound.status == "separated":
            lower = w + 1
            break
        if bound.status == "attained" and bound.network is not None and reaches(bound.best_network):
            # the branch and bound met a narrower network at the optimum
            best, upper = (bound.network, bound.best_network), bound.network.n
            w = upper - 1
            continue
        w -= 1
    effort["nodes"] = max_nodes - budget
    status = "exact" if lower == upper else "interval"
    return MinimalWidth(lower, upper, status, bool(fit.gap <= RTOL_CERTIFIED), best[0], float(best[1]), fit,
                        len(tight), rank, bounds, effort)


def _subsets(m, n, rng):
    """Index subsets of size ``n`` of ``range(m)``: all when at most ``MAX_SUBSETS``, else random."""
    if n > m:
        return
    if math.comb(m, n) <= MAX_SUBSETS:
        yield from (list(s) for s in itertools.combinations(range(m), n))
        return
    for _ in range(MAX_SUBSETS):
        yield sorted(rng.choice(m, n, replace=False).tolist())


def counting_bound(N: int, d_out: int, variant="7") -> int:
    """The counting bound on ``n*`` (proofs_notes/htw-minimal-width.md) for ``N`` distinct points:
    ``min(N d_out, 2N - 1)`` ("7"), ``min((N - 1) d_out, max(2N - 3, 0))`` ("8"). The rank part holds
    always; the ``2N - 1`` / ``2N - 3`` part (at most one tight atom per activation arc, or the
    kinks at data points) needs the tight set to be finite, as it is on generic data."""
    N, d_out = as_count(N, "N"), as_count(d_out, "d_out")
    if as_variant(variant).biases_regularized:
        return min(N * d_out, 2 * N - 1)
    return min((N - 1) * d_out, max(2 * N - 3, 0))
