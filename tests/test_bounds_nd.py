"""Tests of pcheck.problems.bounds_nd: the certified interval for eq. (4) ("7" and "8") with d_in > 1, d_out > 1."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pcheck import fit_function_space, function_space_bounds
from pcheck import strategies as pst
from pcheck.core.objective import training_objective
from pcheck.problems.bounds_nd import cell_patterns, constraint_sup, dual_pieces, lifted

#: Relative slack for comparing two certified values computed in float64 (eq.-4 sums of
#: ~20 terms and the dual's quadratic form): ~1e-15 rounding each, 1e-12 leaves room.
RTOL_ROUNDING = 1e-12
#: The exchange rounds bring the interval to ~1e-4 relative on these sizes (measured
#: 1e-4 and 1e-5 at seeds 1, N = 5, 6); 1e-2 flags a broken exchange or certificate only.
GAP_EXPECTED = 1e-2
#: The maximizers' value against the rounded-up sup: it adds 1e-12 relative plus
#: N eps sum ||alpha_j|| ||z_j|| (< 1e-13 on data in [-1, 1]^3 with N <= 6, |y| <= 1);
#: 1e-9 relative and 1e-12 absolute (for alpha = 0) leave room.
ATTAIN_RTOL, ATTAIN_ATOL = 1e-9, 1e-12
#: eq. (4) of the returned network when the optimum is 0, relative to ||Y||^2: Clarabel at
#: MASTER_TOL = 1e-10 leaves ~1e-25 (measured); 1e-12 flags a network that does not fit.
ZERO_FIT = 1e-12


def _data(seed, N, d_out):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, 2)), rng.standard_normal((N, d_out))


def _sampled_patterns(X, n, seed):
    U = np.random.default_rng(seed).standard_normal((X.shape[1] + 1, n))
    return {tuple(p) for p in (lifted(X) @ U > 0).T}


@pytest.mark.parametrize("N", [3, 5, 6])
def test_cell_enumeration_is_complete(N):
    """General position in R^3: N(N-1) + 2 cells (Cover 1965: 2 sum_{k<=2} C(N-1, k));
    every pattern dense sampling finds is enumerated."""
    X, _ = _data(N, N, 1)
    cells = {tuple(p) for p in cell_patterns(lifted(X))}
    assert len(cells) == 2 * sum(math.comb(N - 1, k) for k in range(3))
    assert _sampled_patterns(X, 20000, 0) <= cells


def test_cell_enumeration_of_degenerate_data():
    """d_in = 1 data embedded as (x, 0): all planes share the line (0, 1, 0), so the cells
    are those of N lines through 0 in R^2 (2N of them), none missed by sampling."""
    x = np.array([-1.0, -0.3, 0.2, 0.9, 1.7])[:, None]
    X = np.hstack([x, 0 * x])
    cells = {tuple(p) for p in cell_patterns(lifted(X))}
    assert len(cells) == 2 * len(x)
    assert _sampled_patterns(X, 20000, 1) == cells


def test_anchored_arrangements_of_variant_8():
    """"8" runs the cell problem once per data point on z_j = x_j - x_i (no lifting): N - 1
    lines through 0 in R^2 in general position cut it into 2 (N - 1) cells."""
    X, _ = _data(7, 6, 1)
    pieces = dual_pieces(X, "8")
    assert [p.anchor for p in pieces] == list(range(6))
    assert all(p.patterns.shape == (10, 5) for p in pieces)


@pytest.mark.parametrize("variant", ["7", "8"])
@pytest.mark.parametrize("seed, N, d_out", [(1, 5, 2), (2, 6, 3), (3, 4, 2)])
def test_interval_is_ordered_and_upper_is_the_network_value(seed, N, d_out, variant):
    X, Y = _data(seed, N, d_out)
    b = function_space_bounds(X, Y, 0.1, seed=seed, variant=variant)
    assert b.variant == variant
    assert b.lower <= b.upper
    assert b.upper == training_objective(b.stack, X, Y, 0.1, variant)
    assert b.gap == (b.upper - b.lower) / b.upper
    assert b.gap < GAP_EXPECTED


def _sampled_sup(X, alpha, lam, variant, n, seed):
    """max over n random atoms of ||alpha^T relu(.)|| / (2 lam): "7" unit u in R^(d_in+1);
    "8" unit w and b uniform over [-R, R], R = max ||x_i|| + 1 (beyond it every b gives
    relu = 0 or all data active, whose value b in [-R, R] already reaches)."""
    rng = np.random.default_rng(seed)
    if variant == "7":
        U = rng.standard_normal((X.shape[1] + 1, n))
        Psi = np.maximum(lifted(X) @ (U / np.linalg.norm(U, axis=0)), 0.0)
    else:
        W = rng.standard_normal((X.shape[1], n))
        R = np.linalg.norm(X, axis=1).max() + 1.0
        Psi = np.maximum(X @ (W / np.linalg.norm(W, axis=0)) + rng.uniform(-R, R, n), 0.0)
    return np.linalg.norm(alpha.T @ Psi, axis=0).max() / (2 * lam)


@pytest.mark.parametrize("variant", ["7", "8"])
def test_constraint_sup_dominates_dense_sampling(variant):
    """The sup is exact, so no sampled atom may exceed it; and sampling comes close to it
    (within 5 %: 20000 samples in 3 dimensions land near the maximizer)."""
    X, Y = _data(4, 6, 3)
    b = function_space_bounds(X, Y, 0.1, rounds=0, variant=variant)  # one round: worst is that of stack
    alpha = 2.0 * (Y - b.stack(X))
    if variant == "8":
        alpha -= alpha.mean(axis=0)
    worst, dirs = constraint_sup(X, alpha, 0.1, variant, dual_pieces(X, variant))
    sampled = _sampled_sup(X, alpha, 0.1, variant, 20000, 0)
    assert sampled <= worst
    assert sampled >= 0.95 * worst
    assert worst == b.worst
    Psi = np.maximum(lifted(X) @ dirs.T, 0.0)  # the maximizers attain the sup
    assert np.linalg.norm(alpha.T @ Psi, axis=0).max() / 0.2 == pytest.approx(worst, rel=ATTAIN_RTOL)


@given(data=pst.datasets(N=(1, 6), d_in=(1, 3), d_out=(1, 3), bound=1.0), variant=st.sampled_from(["7", "8"]))
def test_property_constraint_sup_is_exact(data, variant):
    """On grid data with duplicates and collinear points (degenerate arrangements), for
    ``alpha = Y`` ("8": centered): no sampled atom exceeds the sup, its maximizers attain it."""
    X, alpha = data
    if variant == "8":
        alpha = alpha - alpha.mean(axis=0)
    worst, dirs = constraint_sup(X, alpha, 0.5, variant, dual_pieces(X, variant))
    assert _sampled_sup(X, alpha, 0.5, variant, 2000, 0) <= worst
    attained = np.linalg.norm(alpha.T @ np.maximum(lifted(X) @ dirs.T, 0.0), axis=0).max()
    assert attained == pytest.approx(worst, rel=ATTAIN_RTOL, abs=ATTAIN_ATOL)


@pytest.mark.parametrize("variant", ["7", "8"])
@pytest.mark.parametrize("seed, d_out", [(5, 2), (6, 3)])
def test_interval_contains_the_certified_1d_optimum(seed, d_out, variant):
    """d_in = 1 data, as they are and embedded as (x, 0): same problem, so
    fit_function_space's certified value [lower_bound, objective] (gap 1e-9) must meet
    the interval."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (5, 1))
    Y = rng.standard_normal((5, d_out))
    f = fit_function_space(x, Y, 0.1, variant)
    for X in (x, np.hstack([x, 0 * x])):
        b = function_space_bounds(X, Y, 0.1, seed=seed, variant=variant)
        assert b.lower <= f.objective * (1 + RTOL_ROUNDING)
        assert b.upper >= f.lower_bound * (1 - RTOL_ROUNDING)
        assert b.gap < GAP_EXPECTED


@pytest.mark.parametrize("variant", ["7", "8"])
@pytest.mark.parametrize("N, copies", [(1, 1), (3, 2)])
def test_degenerate_data_single_point_and_duplicates(N, copies, variant):
    """One point (its arrangement has no ray) and every point twice (coincident hyperplanes;
    for "8" zero rows z_j = x_j - x_i): the interval is still ordered and certified."""
    X, Y = _data(9, N, 2)
    X, Y = np.vstack([X] * copies), np.vstack([Y] * copies)
    b = function_space_bounds(X, Y, 0.1, variant=variant, rounds=20)
    assert 0.0 <= b.lower <= b.upper == training_objective(b.stack, X, Y, 0.1, variant)
    if variant == "8" and N == 1:  # c = y_1 is free: the optimum is 0
        assert b.upper <= ZERO_FIT * float(np.sum(Y**2))
    else:
        assert b.gap < GAP_EXPECTED


@pytest.mark.parametrize("variant", ["7", "8"])
def test_more_rounds_never_widen_the_interval(variant):
    """The best upper and lower bounds are kept over the rounds, so allowing more rounds can
    only narrow the interval; gap_tol stops the loop once reached."""
    X, Y = _data(8, 6, 1)
    X = np.hstack([X, X[:, :1] ** 2])  # d_in = 3
    few = function_space_bounds(X, Y, 0.1, rounds=2, variant=variant)
    many = function_space_bounds(X, Y, 0.1, rounds=12, variant=variant)
    assert many.upper <= few.upper and many.lower >= few.lower
    loose = function_space_bounds(X, Y, 0.1, rounds=12, variant=variant, gap_tol=0.5)
    assert loose.gap <= 0.5 and loose.upper >= many.upper


@pytest.mark.parametrize("args, kwargs, error, match", [
    ((np.ones((3, 2)), np.ones((3, 2)), 0.0), {}, ValueError, "lam"),
    ((np.ones((3, 2)), np.ones((3, 2)), -1.0), {"variant": "8"}, ValueError, "lam"),
    ((np.ones((3, 2)), np.ones((4, 2)), 0.1), {}, ValueError, "Y"),
    ((np.array([[np.nan, 0.0]]), np.ones((1, 2)), 0.1), {}, ValueError, "X"),
    ((np.ones((3, 2)), np.array([[np.nan, 0.0]] * 3), 0.1), {"variant": "8"}, ValueError, "Y"),
    ((np.ones((3, 2)), np.ones((3, 2)), 0.1), {"n_candidates": 0}, ValueError, "n_candidates"),
    ((np.ones((3, 2)), np.ones((3, 2)), "a"), {}, TypeError, "lam"),
    ((np.ones((3, 2)), np.ones((3, 2)), 0.1), {"variant": "9"}, ValueError, "variant"),
])
def test_bad_input_raises(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        function_space_bounds(*args, **kwargs)


def test_a_failing_later_master_keeps_the_best_bounds_so_far(monkeypatch):
    """A conic failure after the first round stops the exchange with the certified bounds of
    the rounds before it (they stay valid); a failure of the first master is raised."""
    import cvxpy as cp

    from pcheck.problems import bounds_nd

    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    one_round = function_space_bounds(X, Y, 0.1, rounds=0)
    real, calls = bounds_nd.master, []

    def failing_after(first):
        def master(*args, **kwargs):
            calls.append(1)
            if len(calls) > first:
                raise cp.error.SolverError("injected")
            return real(*args, **kwargs)
        return master

    monkeypatch.setattr(bounds_nd, "master", failing_after(1))
    kept = function_space_bounds(X, Y, 0.1, rounds=5)
    assert (kept.upper, kept.lower) == (one_round.upper, one_round.lower)
    calls.clear()
    monkeypatch.setattr(bounds_nd, "master", failing_after(0))
    with pytest.raises(cp.error.SolverError):
        function_space_bounds(X, Y, 0.1, rounds=5)
