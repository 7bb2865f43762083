"""Tests of pcheck.problems.function_space: the certified 1D solver of HTW eq. (5) in the exact
eq.-(4) convention (module docstring of pcheck.problems.function_space)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pcheck import fit_function_space
from pcheck.core.network import Stack
from pcheck.core.objective import training_objective
from pcheck.core.rescaling import l2_norm_sq
from pcheck.problems.exchange_1d import kink_grid
from pcheck.solvers.oracles import grid_cvxpy
from pcheck.testing import RTOL_CERTIFIED, RTOL_REORDER, assert_rel_close

#: cvxpy + Clarabel at its default settings solves to ~1e-8 relative; the oracle
#: comparisons below allow 1e-6 (a factor 100 over it).
RTOL_CVXPY = 1e-6


def check_certificate(fit, X, Y, lam, variant):
    assert fit.gap <= RTOL_CERTIFIED
    assert fit.lower_bound <= fit.objective * (1 + RTOL_REORDER)
    # the objective is eq. (4) at the returned network, recomputed independently
    R = fit.stack(X) - Y
    reg = l2_norm_sq(fit.stack) if variant == "7" else float(np.sum(fit.stack.V**2) + np.sum(fit.stack.W**2))
    assert_rel_close(fit.objective, float(np.sum(R * R)) + lam * reg, rtol=RTOL_REORDER, what="eq. (4) at the stack")


def instance(seed, N, d, scale=1.0):
    rng = np.random.default_rng(seed)
    X = np.sort(rng.uniform(-2, 2, N))[:, None]
    return X, scale * rng.standard_normal((N, d))


@pytest.mark.parametrize("variant", ["7", "8"])
@pytest.mark.parametrize("d", [1, 3])
def test_certified_and_consistent_with_grid_cvxpy(variant, d):
    X, Y = instance(1, 6, d)
    lam = 0.05
    fit = fit_function_space(X, Y, lam, variant)
    check_certificate(fit, X, Y, lam, variant)
    # any fixed grid is a restriction: its optimum may not beat the certified lower bound,
    # and a grid holding the solver's own kinks reaches the solver's objective
    x = X[:, 0]
    coarse = grid_cvxpy(x, Y, lam, variant, kink_grid(np.linspace(-3, 3, 13), variant))
    assert coarse >= fit.lower_bound * (1 - RTOL_CVXPY)
    own = grid_cvxpy(x, Y, lam, variant, kink_grid(np.unique(np.concatenate([fit.kinks, x])), variant))
    assert_rel_close(own, fit.objective, rtol=RTOL_CVXPY, what="cvxpy on the solver's kinks")


@given(seed=st.integers(0, 2**31 - 1), N=st.integers(1, 5), d=st.integers(1, 3),
       lam=st.sampled_from([1e-3, 0.1, 1.0, 10.0]), variant=st.sampled_from(["7", "8"]),
       duplicate=st.booleans())
def test_property_certified(seed, N, d, lam, variant, duplicate):
    X, Y = instance(seed, N, d)
    if duplicate and N > 1:
        X[1] = X[0]
    fit = fit_function_space(X, Y, lam, variant)
    check_certificate(fit, X, Y, lam, variant)
    # kinks only where eq. (5) allows them to pay off: variant "8" at data points
    if variant == "8":
        # kink p = -tan(phi) is recomputed from the angle: a few ulps from the data point
        assert np.all(np.min(np.abs(fit.kinks[:, None] - X[None, :, 0]), axis=1)
                      <= 4 * RTOL_REORDER * np.maximum(1.0, np.abs(fit.kinks)))


def test_link_4_5_with_a_large_constant_offset():
    """Data near 100 need a large constant: eq. (4) pays it through one v = 0 neuron
    (cost 2||u||) and ||c||^2 = 1, i.e. huber(||t||) = 2||t|| - 1, not ||t||^2."""
    N, lam = 5, 0.3
    y = np.array([100.0, -50.0])
    Y = np.tile(y, (N, 1))
    X = np.linspace(-1, 1, N)[:, None]
    fit = fit_function_space(X, Y, lam, "7")
    check_certificate(fit, X, Y, lam, "7")
    # closed form: t = tau y/|y|, min_tau N (tau - |y|)^2 + lam (2 tau - 1) at tau = |y| - lam/N
    ny = np.linalg.norm(y)
    expected = 2 * lam * ny - lam - lam**2 / N
    assert fit.lower_bound <= expected <= fit.objective
    assert_rel_close(fit.objective, expected, rtol=RTOL_CERTIFIED, what="closed-form optimum")
    assert fit.n_atoms == 1 and np.count_nonzero(fit.stack.V == 0) == 1  # only the v = 0 neuron
    # eq. 7 read literally on R (constants only through ||c||^2) would charge much more
    naive = min(N * np.sum((y * a - y) ** 2) + lam * a**2 * ny**2 for a in np.linspace(0, 1, 10001))
    assert naive > 1.5 * fit.objective
    # a far kink instead of the v = 0 neuron approaches the optimum from above: the
    # balanced neuron of the kink at -R with mass u/R is u + (u/R) x on the data
    u = fit.constant
    excess = []
    for R in (1e1, 1e2, 1e3):
        tau = np.sqrt(np.linalg.norm(u) / (R * np.sqrt(1 + R * R)))  # balanced: ||w|| = ||(v, b)||
        far = Stack([[tau]], [R * tau], (u / R / tau)[:, None], fit.c)
        value = training_objective(far, X, Y, lam, "7")
        assert value >= fit.lower_bound
        excess.append(value - fit.objective)
    assert excess[0] > excess[1] > excess[2] > 0


def test_noisy_offset_uses_the_constant_neuron():
    X, Y = instance(7, 6, 2)
    Y = Y + 100.0
    fit = fit_function_space(X, Y, 0.1, "7")
    check_certificate(fit, X, Y, 0.1, "7")
    # KKT: 2 lam c = sum_i alpha_i, and the constant neuron's dual constraint
    # ||sum alpha_i|| <= 2 lam caps ||c|| at 1: the offset of ~100 is paid by neurons
    assert np.linalg.norm(fit.c) <= 1 + RTOL_CERTIFIED
    assert np.linalg.norm(fit.stack(X).mean(axis=0)) > 99


@pytest.mark.parametrize("bad, match", [
    (dict(lam=0.0), "lam"), (dict(lam=-1.0), "lam"), (dict(variant="9"), "variant"),
    (dict(X=np.zeros((3, 1, 1))), "X"), (dict(Y=np.full((3, 1), np.nan)), "Y"), (dict(X=np.zeros((0, 1)), Y=np.zeros((0, 1))), "X"),
])
def test_bad_input(bad, match):
    args = dict(X=np.arange(3.0)[:, None], Y=np.ones((3, 1)), lam=1.0, variant="7")
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        fit_function_space(args["X"], args["Y"], args["lam"], args["variant"])


@pytest.mark.parametrize("variant", ["7", "8"])
def test_restricted_to_allowed_angles_matches_a_grid_inside_them(variant):
    """``allowed`` restricts the atoms to closed angle intervals (the relaxation behind
    pcheck.problems.width.width_lower_bound): the certified bound stays below a cvxpy group lasso on a
    fine angle grid inside the same intervals, the solution's atoms lie in them, and the
    restricted optimum is not below the unrestricted one."""
    from pcheck.problems.width import activation_arcs

    rng = np.random.default_rng(3)
    X = np.sort(rng.uniform(-2, 2, 4))[:, None]
    Y = rng.standard_normal((4, 2))
    arcs = activation_arcs(np.unique(X[:, 0]))
    # the all-active arc (holds pi/2) and two finite arcs, the last one only in part
    a = arcs[[0, 3, 5]].copy()
    a[2, 1] = 0.5 * (a[2, 0] + a[2, 1])
    fit = fit_function_space(X, Y, 0.1, variant, allowed=a)
    full = fit_function_space(X, Y, 0.1, variant)
    assert fit.gap <= RTOL_CERTIFIED
    assert fit.lower_bound >= full.lower_bound * (1 - RTOL_CERTIFIED)
    inside = (a[None, :, 0] <= fit.angles[:, None]) & (fit.angles[:, None] <= a[None, :, 1])
    assert inside.any(axis=1).all()
    oracle = grid_cvxpy(X[:, 0], Y, 0.1, variant, np.concatenate([np.linspace(lo, hi, 400) for lo, hi in a]))
    assert fit.lower_bound <= oracle * (1 + RTOL_CVXPY)
    # a 400-point grid per interval is within ~1e-5 of the exact restricted optimum
    assert oracle <= fit.objective * (1 + 1e-4)


def test_allowed_across_an_arc_boundary_is_rejected():
    X = np.array([[0.0], [1.0], [2.0]])
    Y = np.ones((3, 1))
    with pytest.raises(ValueError, match="allowed"):
        fit_function_space(X, Y, 0.1, "7", allowed=[[-1.2, 0.1]])  # -atan(1) = -0.785 is an arc end
    with pytest.raises(ValueError, match="allowed"):
        fit_function_space(X, Y, 0.1, "7", allowed=[[0.3, 0.1]])
