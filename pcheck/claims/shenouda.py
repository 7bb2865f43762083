"""Nakhleh, Shenouda & Nowak (arXiv 2410.21696, NeurIPS 2024): univariate multi-task
min-norm solutions of shallow ReLU networks with unregularized biases (HTW variant "8"),
and what changes when biases are penalized (variant "7", Boursier & Flammarion,
arXiv 2303.01353).

Checks use the certified 1D solver :func:`pcheck.function_space.fit_function_space` and a
second-minimizer construction: two same-direction atoms ``m_a relu(s(x - x_i))`` and
``m_b relu(s(x - x_j))`` at consecutive data points ``x_i < x_j`` with positively
parallel masses equal ``(m_a + m_b) relu(s(x - q))``, ``q = (||m_a|| x_i + ||m_b|| x_j) /
(||m_a|| + ||m_b||)``, outside ``(x_i, x_j)`` -- hence at every data point, so the loss is
unchanged -- and the atom cost ``2 lam ||m|| omega(p)`` changes by
``2 lam (||m_a + m_b|| omega(q) - ||m_a|| omega(x_i) - ||m_b|| omega(x_j))``: zero in
variant "8" exactly when the masses are positively parallel, negative in variant "7"
(``omega(p) = sqrt(1 + p^2)`` is strictly convex).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..function_space import fit_function_space
from ..ledger import Evidence, claim
from ..measure import atoms
from ..network import Stack
from ..rescaling import balanced_norm_sq
from ..testing import RTOL_CERTIFIED

SOURCE = "Nakhleh, Shenouda & Nowak, arXiv 2410.21696 (NeurIPS 2024)"
BF = "Boursier & Flammarion, arXiv 2303.01353 (NeurIPS 2023)"

#: Masses count as positively parallel when ``1 - cos(angle) <= PARALLEL_TOL``: the solver's
#: masses carry the relative error of a 1e-9 gap, ~1e-8 in direction after the polish.
PARALLEL_TOL = 1e-8


#: An atom sits at a data point when its kink is within this distance of it (the solver's
#: Newton polish places kinks to ~1e-8).
AT_DATA_TOL = 1e-6


@dataclass(frozen=True)
class Merge:
    """Merging two atoms (kinks ``p_a``, ``p_b``) at ``q``: the objective of the merged
    network, its sup distance from the fit on ``[p_a, p_b]`` and the cosine of the masses."""

    p_a: float
    p_b: float
    q: float
    objective: float
    distance: float
    cosine: float


def atom_network(s, p, M, constant, c) -> Stack:
    """The stack ``sum_k M_k relu(s_k (x - p_k)) + constant + c`` (neuron ``v = s_k``,
    ``b = -s_k p_k``, ``w = M_k``; the constant as one ``v = 0, b = 1`` neuron)."""
    V = np.append(s, 0.0)[:, None]
    return Stack(V, np.append(-s * p, 1.0), np.column_stack([M.T, constant]), c)


def balanced_objective(stack: Stack, X, Y, lam: float, variant: str) -> float:
    """HTW eq. (4) at the best rescaling of ``stack``: ``L + lam (2 sum_k ||w_k|| ||(v_k, b_k)||
    + ||c||^2)`` for "7"; ``L + 2 lam sum_k ||w_k|| |v_k|`` for "8" (biases free)."""
    loss = float(np.sum((stack(X) - Y) ** 2))
    if variant == "7":
        return loss + lam * balanced_norm_sq(stack)
    return loss + 2 * lam * float(np.sum(np.linalg.norm(stack.W, axis=0) * np.abs(stack.V[:, 0])))


def fit_atoms(fit):
    """``(s, p, M, constant, c)`` of the fit's stack (1D atoms, kink form ``p = s r``)."""
    a = atoms(fit.stack)
    s = a.s[:, 0]
    return s, s * a.r, a.m, a.constant, a.c


def consecutive_merges(fit, X, Y, variant):
    """Every merge of two same-direction atoms of ``fit`` sitting at consecutive distinct
    data points (module docstring), with the eq.-(4) objective of the merged network."""
    xs = np.unique(X[:, 0])
    s, p, M, constant, c = fit_atoms(fit)
    out = []
    for direction in (1.0, -1.0):
        at = {}
        for k in np.flatnonzero((s == direction) & (np.linalg.norm(M, axis=1) > 0)):
            hit = np.flatnonzero(np.abs(xs - p[k]) <= AT_DATA_TOL)
            if hit.size:
                at.setdefault(int(hit[0]), []).append(k)
        for i in range(len(xs) - 1):
            if i not in at or i + 1 not in at or len(at[i]) != 1 or len(at[i + 1]) != 1:
                continue
            a, b = at[i][0], at[i + 1][0]
            na, nb = np.linalg.norm(M[a]), np.linalg.norm(M[b])
            q = (na * p[a] + nb * p[b]) / (na + nb)
            keep = np.ones(len(p), bool)
            keep[[a, b]] = False
            merged = atom_network(np.append(s[keep], direction), np.append(p[keep], q),
                                  np.vstack([M[keep], M[a] + M[b]]), constant, c)
            grid = np.linspace(p[a], p[b], 201)[:, None]
            out.append(Merge(float(p[a]), float(p[b]), float(q), balanced_objective(merged, X, Y, fit.lam, variant),
                             float(np.max(np.abs(merged(grid) - fit.stack(grid)))), float(M[a] @ M[b] / (na * nb))))
    return out


def second_minimizer(X, Y, lam, variant="8"):
    """``(fit, merge)``: a certified fit and a merge of it that is a different network function
    with objective within the certified gap of the optimum (a second minimizer), or
    ``(fit, None)`` when no consecutive merge qualifies."""
    fit = fit_function_space(X, Y, lam, variant)
    slack = RTOL_CERTIFIED * max(fit.objective, 1.0) + (fit.objective - fit.lower_bound)
    for m in consecutive_merges(fit, X, Y, variant):
        if m.objective <= fit.lower_bound + slack and m.distance > 1e-6 * max(1.0, np.max(np.abs(Y))):
            return fit, m
    return fit, None


def convex_single_task():
    """``x_i`` in [-1, 1] (5 points), ``y = x^2``: every consecutive slope change is +;
    ``lam = 0.01`` keeps the fit near interpolation."""
    X = np.array([[-1.0], [-0.5], [0.1], [0.4], [1.0]])
    return X, X**2, 0.01


def random_tasks(T: int, rng, N: int = 6):
    """``T`` Gaussian tasks on ``N`` sorted uniform inputs in [-1, 1]."""
    X = np.sort(rng.uniform(-1, 1, N))[:, None]
    return X, rng.standard_normal((N, T))


@claim("shenouda.single_task_nonunique", source=f"{SOURCE}, section 1 and 3 (single-task solutions non-unique)",
       note="shenouda-univariate.md", variants=("8",),
       statement="Single-task univariate min-norm fitting with unregularized biases has several minimizers when "
                 "consecutive slope changes have the same sign: two different certified minimizers exist.")
def check_single_task_nonunique(ctx):
    X, Y, lam = convex_single_task()
    fit, m = second_minimizer(X, Y, lam, "8")
    if m is None:
        return Evidence("refuted", 1, 0.0, "sup distance of the two minimizers",
                        counterexample="no consecutive merge keeps the objective: the single-task fit looks unique")
    return Evidence("holds", 1, m.distance, "sup distance between two certified minimizers on [x_i, x_j]",
                    details={"objective": fit.objective, "lower_bound": fit.lower_bound,
                             "merged_objective": m.objective, "q": m.q})


@claim("shenouda.multitask_unique", source=f"{SOURCE}, section 3 (univariate multi-task solutions almost always "
       "unique, equal to the connect-the-dots interpolant)", note="shenouda-univariate.md", variants=("8",),
       statement="For T >= 2 generic tasks (unregularized biases) no merge of consecutive kinks keeps the objective "
                 "(each strictly increases it beyond the certified gap), while for tasks with positively parallel "
                 "slope changes (Y_2 = 2 Y_1: the exceptional set) a second certified minimizer exists.")
def check_multitask_unique(ctx):
    rng = ctx.rng(51)
    worst, rows = np.inf, []
    for T in ctx.pick(dev=(2, 3), ci=(2, 3, 5)):
        X, Y = random_tasks(T, rng)
        fit = fit_function_space(X, Y, 0.01, "8")
        merges = consecutive_merges(fit, X, Y, "8")
        slack = RTOL_CERTIFIED * max(fit.objective, 1.0) + (fit.objective - fit.lower_bound)
        for m in merges:
            excess = (m.objective - fit.lower_bound - slack) / fit.objective
            worst = min(worst, excess)
            if excess <= 0:
                return Evidence("refuted", len(rows) + 1, excess, "relative objective increase of the best merge",
                                counterexample=f"T = {T}: merge at q = {m.q} keeps the objective (cos {m.cosine})")
        rows.append({"T": T, "merges": len(merges), "gap": fit.gap})
    X, Y1, lam = convex_single_task()
    fit, m = second_minimizer(X, np.column_stack([Y1[:, 0], 2 * Y1[:, 0]]), lam, "8")
    if m is None:
        return Evidence("refuted", len(rows) + 1, 0.0, "second minimizer on the exceptional set",
                        counterexample="Y_2 = 2 Y_1 (parallel slope changes) gave no second minimizer")
    return Evidence("holds", len(rows) + 1, float(worst), "smallest relative objective increase of a merge "
                    "(generic tasks; > 0 means no merge-type second minimizer)",
                    details={"generic": rows, "exceptional_distance": m.distance})


#: Kinks closer than this are one kink when counting positions: the solver's polish leaves
#: split atoms ~1e-8 apart (positions move by Newton steps to ~sqrt(gap) accuracy).
KINK_TOL = 1e-6


def distinct_kinks(fit) -> np.ndarray:
    """Sorted kink positions of ``fit`` with nonzero mass, merged within :data:`KINK_TOL`."""
    _, p, M, _, _ = fit_atoms(fit)
    p = np.sort(p[np.linalg.norm(M, axis=1) > 0])
    return p[np.concatenate([[True], np.diff(p) > KINK_TOL])] if p.size else p


@claim("shenouda.penalized_bias_off_data", source=f"{BF}; contrast with {SOURCE}", note="shenouda-univariate.md",
       variants=("7",),
       statement="With penalized biases (eq. 7) the single-task fit of the convex example has no kink at a data point "
                 "(it is not the connect-the-dots interpolant of its fitted values), so the merge construction of the "
                 "unregularized case yields no second minimizer.")
def check_penalized_bias(ctx):
    X, Y, lam = convex_single_task()
    fit7, fit8 = fit_function_space(X, Y, lam, "7"), fit_function_space(X, Y, lam, "8")
    k7, k8 = distinct_kinks(fit7), distinct_kinks(fit8)
    off = float(np.min(np.abs(k7[:, None] - X[None, :, 0]))) if k7.size else np.inf
    verdict = "holds" if off > KINK_TOL else "refuted"
    return Evidence(verdict, 1, off, "distance of the nearest variant-7 kink to a data point",
                    counterexample=None if verdict == "holds" else f"variant-7 kinks {k7.tolist()} hit a data point",
                    details={"kinks_7": k7.tolist(), "kinks_8": k8.tolist(), "objective_7": fit7.objective,
                             "gap_7": fit7.gap, "gap_8": fit8.gap})


#: The connect-the-dots defect below which a fit counts as the linear interpolant of its
#: own fitted values: the solver's kinks sit at data points to ~1e-8 after the polish, so a
#: piecewise-linear fit deviates from its interpolant by ~1e-8 x slope; 1e-6 leaves room.
CTD_TOL = 1e-6


def ctd_defect(fit, X) -> float:
    """``sup_{[x_1, x_N]} ||f - I f|| / max |f(x_i)|``, ``I f`` the connect-the-dots (piecewise
    linear) interpolant of ``f``'s values at the data: 0 iff ``f`` is linear between
    consecutive data points, i.e. is the min-norm H^1([x_1, x_N]) interpolant of its values."""
    x = X[:, 0]
    grid = np.linspace(x.min(), x.max(), 2001)
    f, fx = fit.stack(grid[:, None]), fit.stack(X)
    lin = np.column_stack([np.interp(grid, x, fx[:, k]) for k in range(fx.shape[1])])
    return float(np.max(np.abs(f - lin)) / max(np.max(np.abs(fx)), np.finfo(float).tiny))


def ctd_table(ctx, variant: str, lam: float = 1e-4):
    """Per task count T: the connect-the-dots defects of the certified fits of random tasks
    and their relative distance ``max |f(x_i) - y_i| / max |y|`` from interpolation."""
    rng = ctx.rng(52)
    rows = []
    for T in ctx.pick(dev=(1, 2, 5, 10), ci=(1, 2, 5, 10, 20), nojit=(1, 2)):
        for _ in range(ctx.pick(dev=2, ci=4, nojit=1)):
            X, Y = random_tasks(T, rng, N=8)
            fit = fit_function_space(X, Y, lam, variant)
            rows.append((T, ctd_defect(fit, X), float(np.max(np.abs(fit.stack(X) - Y)) / np.max(np.abs(Y))),
                         fit.gap))
    return rows


def _ctd_evidence(rows):
    """Verdict on the T >= 2 rows (T = 1 rows are reported: single-task data with
    same-sign consecutive slope changes have non-CTD minimizers, see the other claims)."""
    worst = max(r[1] for r in rows if r[0] >= 2)
    ok = worst <= CTD_TOL
    return Evidence("holds" if ok else "refuted", len(rows), worst,
                    "largest connect-the-dots defect for T >= 2 (0 = the H^1 min-norm interpolant of its values)",
                    counterexample=None if ok else f"(T, defect, distance to interpolation, gap): {rows}",
                    details={"rows (T, ctd defect, interpolation distance, gap)": rows})


@claim("shenouda.multitask_ctd", source=f"{SOURCE}, section 3 (univariate multi-task solution = connect-the-dots "
       "interpolant, the min-norm interpolant in the Sobolev RKHS H^1([x_1, x_N]))", note="shenouda-univariate.md",
       variants=("8",),
       statement="For T >= 2 random tasks on the same inputs (unregularized biases) the certified solution is the "
                 "connect-the-dots interpolant of its fitted values, and approaches the connect-the-dots "
                 "interpolant of the data as lam -> 0.")
def check_multitask_ctd(ctx):
    return _ctd_evidence(ctd_table(ctx, "8"))


@claim("shenouda.multitask_ctd_penalized_bias", source=f"{BF}; extension of {SOURCE}", note="shenouda-univariate.md",
       variants=("7",),
       statement="With penalized biases (eq. 7) the same holds for T >= 2 random tasks: the certified solution is the "
                 "connect-the-dots interpolant of its values.")
def check_multitask_ctd_penalized(ctx):
    return _ctd_evidence(ctd_table(ctx, "7"))
