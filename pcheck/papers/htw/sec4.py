"""HTW section 4 and Appendix B: separable (random features, NNGP) vs coupled (trained
first layer) multi-task learning, and the periodic-representation example."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from pcheck import strategies as pst
from pcheck.core.measure import kinks
from pcheck.core.variant import as_variant
from pcheck.ledger import Evidence, claim, property_check
from pcheck.papers.htw.multitask import (
    MODELS,
    benefit_curve,
    kink_alignment,
    kink_tasks,
)
from pcheck.papers.htw.sources import SOURCES
from pcheck.problems.dual_1d import violations
from pcheck.problems.function_space import fit_function_space
from pcheck.problems.gp import fit_gp, monte_carlo_kernel, nngp_kernel
from pcheck.problems.random_features import (
    features,
    fit_random_features,
    observation_mask,
    ridge_lower_bound,
    ridge_objective,
)
from pcheck.testing import RTOL_CERTIFIED, RTOL_REORDER, assert_close_scaled

#: Number of standard errors a Monte-Carlo estimate may lie from its exact mean: the
#: estimates are means of >= 100 i.i.d. draws, so by the CLT |z| > 5 has probability
#: ~ 6e-7 per entry; with <= 100 entries per check a false alarm has probability < 1e-4.
MC_Z = 5.0


@st.composite
def random_feature_problems(draw, *, masked: bool = True):
    """``(X, Y, lam, V, b, mask)``: 1..8 points in 1..2 dimensions, 1..4 tasks, 0..10
    frozen neurons (edge cases from ``pcheck.strategies``), lam in {0} U [1e-6, 1e3],
    and a random observation mask (or None)."""
    X, Y = draw(pst.datasets(N=(1, 8), d_in=(1, 2), d_out=(1, 4)))
    first = draw(pst.stacks(n=(0, 10), d_in=X.shape[1], d_out=1))
    lam = draw(st.sampled_from([0.0, 1.0]) | st.floats(1e-6, 1e3))
    mask = None
    if masked and draw(st.booleans()):
        mask = np.array(draw(st.lists(st.booleans(), min_size=Y.size, max_size=Y.size))).reshape(Y.shape)
    return X, Y, lam, first.V, first.b, mask


def _readout(stack) -> np.ndarray:
    return np.column_stack([stack.W, stack.c])


def random_features_separable(problem) -> float:
    """The joint readout equals the per-task readouts; returns the error relative to the
    condition scale ``|Q| |diag(s/(s^2+lam))| |U^T| |y|`` of the SVD solve."""
    X, Y, lam, V, b, mask = problem
    joint = fit_random_features(X, Y, lam, V, b, mask=mask)
    worst = 0.0
    for k in range(Y.shape[1]):
        mk = None if mask is None else mask[:, [k]]
        alone = fit_random_features(X, Y[:, [k]], lam, V, b, mask=mk)
        scale = _svd_condition_scale(X, Y[:, k], lam, V, b, None if mask is None else mask[:, k])
        worst = max(worst, assert_close_scaled(_readout(joint)[k], _readout(alone)[0], scale,
                                               rtol=RTOL_REORDER, what=f"task {k}: joint vs alone readout"))
    return worst


def _svd_condition_scale(X, y, lam, V, b, rows) -> np.ndarray:
    """Condition scale of :func:`pcheck.problems.random_features.ridge_solve`: the SVD solve
    ``|Q| |s inv| |U^T| |y|`` plus its refinement step
    ``|Q| inv |Q^T| (|Phi^T| (|y| + |Phi| |B|) + lam |B|)``, ``inv = 1 / (s^2 + lam)``."""

    Phi = features(X, V, b)
    if rows is not None:
        Phi, y = Phi[rows], y[rows]
    if Phi.shape[0] == 0:
        return np.zeros(Phi.shape[1])
    U, s, Qt = np.linalg.svd(Phi, full_matrices=False)
    inv = 1 / (s**2 + lam) if lam > 0 else np.where(s > 0, 1 / np.where(s > 0, s, 1) ** 2, 0)
    Q = np.abs(Qt.T)
    first = Q @ (np.abs(s * inv) * (np.abs(U.T) @ np.abs(y)))
    resid = np.abs(Phi.T) @ (np.abs(y) + np.abs(Phi) @ first) + lam * first
    return first + Q @ (inv * (Q.T @ resid))


@claim("htw.sec4.random_features_separable", note="htw-sec4-separable.md", variants=("7",),
       statement="With the first layer (V, b) random and frozen, the weight-decay fit of all tasks jointly equals "
                 "the fits of each task alone (the penalty is ||.||_2^2, which separates over tasks).",
       **SOURCES["htw.sec4.random_features_separable"])
def check_random_features_separable(ctx):
    return property_check(ctx, random_feature_problems(), random_features_separable,
                          measure="error / condition scale")


def certificate_rounding(fit, X, Y, lam, mask) -> np.ndarray:
    """Per task, a first-order bound on the floating-point error of evaluating
    ``objective - lower_bound`` (:func:`ridge_objective`, :func:`ridge_lower_bound`): the
    residual ``alpha = y - Phi beta`` carries an absolute error up to
    ``e = n eps (|y| + |Phi| |beta|)`` (cancellation when features are nearly collinear),
    ``Phi^T alpha`` up to ``d = |Phi|^T e + n eps |Phi|^T |alpha|``, so the dual term
    ``||Phi^T alpha||^2 / lam`` errs by ``(2 ||Phi^T alpha|| ||d|| + ||d||^2) / lam`` and the
    loss terms by ``4 ||alpha|| ||e||``."""

    obs = observation_mask(mask, Y.shape)
    Phi = features(X, fit.V, fit.b)
    beta = np.column_stack([fit.W, fit.c]).T
    n_eps = (Phi.shape[1] + Phi.shape[0] + 2) * np.finfo(float).eps
    out = np.empty(Y.shape[1])
    for k in range(Y.shape[1]):
        P, y = Phi[obs[:, k]], Y[obs[:, k], k]
        alpha = y - P @ beta[:, k]
        e = n_eps * (np.abs(y) + np.abs(P) @ np.abs(beta[:, k]))
        d = np.abs(P.T) @ e + n_eps * (np.abs(P.T) @ np.abs(alpha))
        g = np.linalg.norm(P.T @ alpha)
        nd = np.linalg.norm(d)
        out[k] = (2 * g * nd + nd**2) / lam + 4 * np.linalg.norm(alpha) * np.linalg.norm(e)
    return out


def random_features_certified(problem) -> float:
    """The fitted readout is optimal: per-task dual lower bound within ``RTOL_CERTIFIED``
    (relative to ``||y||^2``, the objective of ``beta = 0``) plus the rounding bound of
    :func:`certificate_rounding` of the objective (lam > 0; lam = 0 draws use lam = 1e-6),
    and the joint objective is the sum of the task objectives."""
    X, Y, lam, V, b, mask = problem
    lam = max(lam, 1e-6)
    fit = fit_random_features(X, Y, lam, V, b, mask=mask)
    upper = ridge_objective(fit, X, Y, lam, mask=mask)
    lower = ridge_lower_bound(fit, X, Y, lam, mask=mask)
    scale = np.maximum(upper, np.sum(np.where(mask if mask is not None else True, Y, 0.0) ** 2, axis=0))
    allowed = RTOL_CERTIFIED * scale + certificate_rounding(fit, X, Y, lam, mask)
    if np.any(np.abs(upper - lower) > allowed):
        raise AssertionError(f"ridge certificate fails: objective {upper}, lower bound {lower}, allowed {allowed}")
    return float(np.max((upper - lower) / np.maximum(scale, np.finfo(float).tiny), initial=0.0))


@claim("htw.sec4.random_features_certified", note="htw-sec4-separable.md", variants=("7",),
       statement="fit_random_features returns the minimizer of (4) over (W, c): certified by the ridge dual "
                 "bound to a relative gap of 1e-9 plus the rounding error of evaluating the certificate.",
       **SOURCES["htw.sec4.random_features_certified"])
def check_random_features_certified(ctx):
    return property_check(ctx, random_feature_problems(), random_features_certified,
                          measure="duality gap / ||y||^2")


@st.composite
def gp_problems(draw):
    """``(X, Y, noise, depth, mask)``: 1..8 points in 1..2 dimensions, 1..4 tasks,
    noise in [1e-4, 10], depth 0..3, a random observation mask (or None)."""
    X, Y = draw(pst.datasets(N=(1, 8), d_in=(1, 2), d_out=(1, 4)))
    noise = draw(st.floats(1e-4, 10.0))
    depth = draw(st.integers(0, 3))
    mask = None
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.booleans(), min_size=Y.size, max_size=Y.size))).reshape(Y.shape)
    return X, Y, noise, depth, mask


def gp_separable(problem) -> float:
    """The joint posterior mean (task covariance I) equals the per-task posterior means.

    Tolerance: Cholesky is backward stable, so each solve has relative error at most
    ``~ n eps cond(G)``; the two solves differ by at most twice that, measured relative to
    the scale ``sum |K(x, x_i)| |alpha_i|`` of the posterior-mean sum."""
    X, Y, noise, depth, mask = problem
    Xt = np.linspace(-4, 4, 9 * X.shape[1]).reshape(9, X.shape[1])
    joint = fit_gp(X, Y, noise, depth, mask=mask)
    mean = joint.mean(Xt)
    worst = 0.0
    for k in range(Y.shape[1]):
        alone = fit_gp(X, Y[:, [k]], noise, depth, mask=None if mask is None else mask[:, [k]])
        K = np.abs(nngp_kernel(Xt, X[alone.points], depth))
        scale = K @ np.abs(alone.alpha) if alone.alpha.size else np.zeros(len(Xt))
        n = max(joint.alpha.size, 1)
        rtol = 4 * n * np.finfo(float).eps * max(joint.cond, alone.cond)
        worst = max(worst, assert_close_scaled(mean[:, k], alone.mean(Xt)[:, 0], scale, rtol=rtol,
                                               what=f"task {k}: joint vs alone GP mean") / rtol)
    return worst


@claim("htw.sec4.gp_separable", note="htw-sec4-separable.md",
       statement="The posterior mean of the multi-output NNGP (independent outputs) fitted to all tasks jointly "
                 "equals the posterior means fitted task by task, for any data and observation pattern.",
       **SOURCES["htw.sec4.gp_separable"])
def check_gp_separable(ctx):
    return property_check(ctx, gp_problems(), gp_separable, measure="error / allowed (4 n eps cond(G))")


def nngp_matches_random_networks(rng, *, depth: int, width: int, samples: int, points: int = 4) -> float:
    """The NNGP kernel vs the Monte-Carlo kernel of random networks; returns the worst
    ``|MC - K| / se`` (must be <= MC_Z) and asserts the two outputs are uncorrelated.

    Depth 1: the readout-averaged estimate is unbiased at any width (the hidden units are
    i.i.d.), so it is compared directly. Depth >= 2: the width-n kernel is
    ``K + a/n + O(1/n^2)`` (finite-width expansion, Yaida 2020, arXiv 1910.00019), so the
    Richardson combination ``(4 K_{4n} - K_n) / 3`` of two widths is compared, with its
    standard error ``sqrt(16 se_{4n}^2 + se_n^2) / 3``."""
    X = rng.uniform(-2, 2, size=(points, 2))
    K = nngp_kernel(X, X, depth)
    mc = monte_carlo_kernel(X, X, depth, width, samples, rng=rng)
    est, se = mc.kernel, mc.kernel_se
    if depth >= 2:
        wide = monte_carlo_kernel(X, X, depth, 4 * width, samples, rng=rng)
        est, se = (4 * wide.kernel - mc.kernel) / 3, np.sqrt(16 * wide.kernel_se**2 + mc.kernel_se**2) / 3
    z = np.abs(est - K) / se
    if np.max(z) > MC_Z:
        raise AssertionError(f"NNGP kernel off the Monte-Carlo kernel by {np.max(z):.1f} standard errors "
                             f"(depth {depth}, width {width}, {samples} networks)")
    zc = np.abs(mc.cross) / mc.cross_se
    if np.max(zc) > MC_Z:
        raise AssertionError(f"outputs correlated: cross covariance {np.max(zc):.1f} standard errors from 0")
    return float(np.max(z))


@claim("htw.sec4.nngp_kernel", note="htw-sec4-separable.md",
       statement="Wide random ReLU networks converge to a GP with the arc-cosine recursion kernel and independent "
                 "outputs (checked by Monte Carlo within 5 standard errors).",
       **SOURCES["htw.sec4.nngp_kernel"])
def check_nngp_kernel(ctx):
    rng = ctx.rng(41)
    samples = ctx.pick(dev=200, ci=400, thorough=2000, nojit=100)
    worst = max(nngp_matches_random_networks(rng, depth=d, width=32, samples=samples) for d in (1, 2, 3))
    return Evidence("holds", 3, worst, "max |MC - K| / standard error (limit 5)",
                    details={"samples": samples, "widths": [32, 128]})
























# ----------------------------------------------------------------------------- coupled side

#: The equality regime of the joint-vs-separate criterion: the stacked separate duals
#: satisfy the joint dual constraint (ratio <= 1), or violate it by no more than the separate
#: fits already violate their own (solver inexactness, relative gap <= 1e-9), plus rounding.
CRIT_SLACK = 1e-9
#: The strict regime: a joint violation exceeding the separate ones by this much. Below it
#: the objective decrease, second order in the violation, can hide inside the certified gap.
CRIT_MARGIN = 1e-3


@st.composite
def coupled_problems(draw):
    """``(X, Y, lam, variant)``: 3..6 distinct inputs on a 1/8 grid in [-2, 2], 2..3 tasks,
    labels in [-2, 2], lam in {0.05, 0.2, 1}, variant "7" or "8"."""
    X, Y = draw(pst.datasets(N=(3, 6), d_out=(2, 3), bound=2.0, distinct=True))
    return X, Y, draw(st.sampled_from([0.05, 0.2, 1.0])), draw(st.sampled_from(["7", "8"]))


def separate_and_joint(X, Y, lam, variant):
    """The certified joint fit, the per-task fits, and the criterion of
    :func:`joint_equals_separate_criterion`."""

    joint = fit_function_space(X, Y, lam, variant)
    alone = [fit_function_space(X, Y[:, [k]], lam, variant) for k in range(Y.shape[1])]
    return joint, alone


def joint_equals_separate_criterion(X, Y, lam, variant, alone) -> tuple[float, float]:
    """``(joint, own)``: the largest ratio of the joint dual constraint
    ``||sum_i alpha_i relu(s (x_i - p))||_2 <= 2 lam omega(p)`` (over all p, both s, exactly)
    at the stacked separate duals ``alpha_k = 2 (y_k - f_k(X))``, and the largest ratio of the
    separate constraints. Joint = separate iff ``joint <= 1`` (``max(1, own)`` allows for the
    solver's inexactness): the loss is strictly convex in the fitted values, so the optimal
    dual is unique, and the stacked separate solution is jointly optimal iff its dual is
    jointly feasible (KKT)."""

    x = X[:, 0]
    alpha = np.column_stack([2 * (Y[:, k] - a.stack(X)[:, 0]) for k, a in enumerate(alone)])
    if not as_variant(variant).biases_regularized:
        alpha = alpha - alpha.mean(axis=0)
    own = max(violations(x, alpha[:, [k]], lam, variant).worst for k in range(Y.shape[1]))
    return violations(x, alpha, lam, variant).worst, own


def joint_vs_separate_exact(problem) -> float:
    """Certified: joint optimum <= sum of separate optima; and joint = separate exactly when
    the criterion says so (equality within the certified gaps), strictly below otherwise.
    Returns the relative margin ``(sum of separate lower bounds - joint objective) / scale``."""
    X, Y, lam, variant = problem
    joint, alone = separate_and_joint(X, Y, lam, variant)
    sep_hi = sum(a.objective for a in alone)
    sep_lo = sum(a.lower_bound for a in alone)
    slack = RTOL_CERTIFIED * max(sep_hi, joint.objective, 1.0)
    if joint.lower_bound > sep_hi + slack:
        raise AssertionError(f"joint optimum above the sum of separate optima: {joint.lower_bound} > {sep_hi}")
    crit, own = joint_equals_separate_criterion(X, Y, lam, variant, alone)
    feasible = max(1.0, own)
    margin = (sep_lo - joint.objective) / max(sep_hi, 1.0)
    if crit <= feasible + CRIT_SLACK and joint.objective < sep_lo - slack:
        raise AssertionError(f"criterion says joint = separate (ratio {crit} <= {own}) but the joint objective "
                             f"{joint.objective} is below the separate lower bound {sep_lo}")
    if crit > feasible + CRIT_MARGIN and not joint.objective < sep_lo:
        raise AssertionError(f"criterion says joint < separate (ratio {crit} > {own}) but the joint objective "
                             f"{joint.objective} is not below the separate lower bound {sep_lo}")
    return margin


@claim("htw.sec4.joint_vs_separate", note="htw-sec4-coupled.md", variants=("7", "8"),
       statement="With all layers trained (function-space problem (5), one stack, d_in = 1) the joint optimum is at "
                 "most the sum of the per-task optima, and equals it exactly when the stacked per-task dual "
                 "certificates satisfy the joint constraint ||sum_i alpha_i relu(s(x_i - p))||_2 <= 2 lam omega(p) "
                 "for all p; otherwise the joint solution differs from the separate ones.",
       **SOURCES["htw.sec4.joint_vs_separate"])
def check_joint_vs_separate(ctx):
    return property_check(ctx, coupled_problems(), joint_vs_separate_exact,
                          measure="(separate lower bound - joint objective) / scale",
                          examples=ctx.pick(dev=5, ci=12, nojit=2))


#: Kink positions within this distance are one kink for the alignment measure (the
#: solver's split atoms sit ~1e-8 apart after its Newton polish).
ALIGN_TOL = 1e-6
#: The benefit experiment: 4 tasks, 16 shared inputs, task 0 data-poor through label noise
#: 0.3 (the others 0.05), lam = 0.3 for every model (GP: noise variance 0.3).
BENEFIT_FAMILY = dict(tasks=4, points=16, poor_points=16, noise=0.05, poor_noise=0.3)
BENEFIT_LAM = 0.3


def alignment(seed: int, lam: float = 0.1, variant: str = "7"):
    """Kink alignment (fraction of each task's curvature mass at kinks shared with another
    task) of the joint certified fit and of the separate fits, on a related family (rho = 1)."""

    fam = kink_tasks(tasks=3, relatedness=1.0, points=16, poor_points=16, noise=0.05, rng=seed)

    joint = kinks(fit_function_space(fam.X, fam.Y, lam, variant).stack)
    T = fam.Y.shape[1]
    alone = [kinks(fit_function_space(fam.X, fam.Y[:, [k]], lam, variant).stack) for k in range(T)]
    return (kink_alignment([joint.x] * T, [joint.jump[:, k] for k in range(T)], tol=ALIGN_TOL),
            kink_alignment([a.x for a in alone], [a.jump[:, 0] for a in alone], tol=ALIGN_TOL))


@claim("htw.sec4.kink_alignment", note="htw-sec4-coupled.md", variants=("7",),
       statement="Fitted jointly (function space, eq. 5), every task's curvature sits at kinks shared with the other "
                 "tasks (alignment 1); fitted separately, the tasks share far less of their curvature.",
       **SOURCES["htw.sec4.kink_alignment"])
def check_kink_alignment(ctx):
    rows = [alignment(s) for s in range(ctx.seed, ctx.seed + ctx.pick(dev=3, nojit=1))]
    joint = min(float(np.min(j)) for j, _ in rows)
    sep = max(float(np.mean(a)) for _, a in rows)
    verdict = "holds" if joint >= 1 - 1e-9 and sep < joint else "refuted"
    return Evidence(verdict, len(rows), joint, "smallest joint alignment (1 = all curvature at shared kinks)",
                    details={"joint": [j.tolist() for j, _ in rows], "separate": [a.tolist() for _, a in rows]})


def benefit_numbers(ctx, relatedness=(0.0, 1.0)):
    """``{model: (relatedness, alone, joint)}`` for the three models on :data:`BENEFIT_FAMILY`."""

    seeds = tuple(range(ctx.seed, ctx.seed + ctx.pick(dev=3, ci=5, nojit=1)))
    return {m: benefit_curve(m, BENEFIT_LAM, relatedness=relatedness, seeds=seeds, **BENEFIT_FAMILY) for m in MODELS}


@claim("htw.sec4.multitask_benefit", note="htw-sec4-coupled.md", variants=("7",),
       statement="A data-poor (noisy) task fitted jointly with related tasks has a lower test error under weight decay "
                 "with all layers trained (function space) than alone; for random features and the NNGP joint and "
                 "alone errors are identical.",
       **SOURCES["htw.sec4.multitask_benefit"])
def check_multitask_benefit(ctx):
    curves = benefit_numbers(ctx)
    ratio = {m: (j / a).tolist() for m, (_, a, j) in curves.items()}
    separable = max(abs(r - 1.0) for m in ("random_features", "gp") for r in ratio[m])
    coupled = ratio["function_space"][-1]  # relatedness 1
    verdict = "holds" if separable <= 1e-9 and coupled < 1.0 else "refuted"
    return Evidence(verdict, len(curves), coupled, "function-space test error joint / alone at relatedness 1",
                    counterexample=None if verdict == "holds" else f"ratios {ratio}",
                    details={"ratio joint/alone at relatedness (0, 1)": ratio,
                             "separable max |ratio - 1|": separable})
