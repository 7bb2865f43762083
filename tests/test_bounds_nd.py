"""Tests of pcheck.bounds_nd: the certified interval for eq. (4) ("7") with d_in > 1, d_out > 1."""

import math

import numpy as np
import pytest

from pcheck import fit_function_space, function_space_bounds
from pcheck.bounds_nd import cell_patterns, lifted, worst_ratio
from pcheck.function_space import network_objective

#: Relative slack for comparing two certified values computed in float64 (eq.-4 sums of
#: ~20 terms and the dual's quadratic form): ~1e-15 rounding each, 1e-12 leaves room.
RTOL_ROUNDING = 1e-12
#: The exchange rounds bring the interval to ~1e-4 relative on these sizes (measured
#: 1e-4 and 1e-5 at seeds 1, N = 5, 6); 1e-2 flags a broken exchange or certificate only.
GAP_EXPECTED = 1e-2


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
    cells = {tuple(p) for p in cell_patterns(X)}
    assert len(cells) == 2 * sum(math.comb(N - 1, k) for k in range(3))
    assert _sampled_patterns(X, 20000, 0) <= cells


def test_cell_enumeration_of_degenerate_data():
    """d_in = 1 data embedded as (x, 0): all planes share the line (0, 1, 0), so the cells
    are those of N lines through 0 in R^2 (2N of them), none missed by sampling."""
    x = np.array([-1.0, -0.3, 0.2, 0.9, 1.7])[:, None]
    X = np.hstack([x, 0 * x])
    cells = {tuple(p) for p in cell_patterns(X)}
    assert len(cells) == 2 * len(x)
    assert _sampled_patterns(X, 20000, 1) == cells


@pytest.mark.parametrize("seed, N, d_out", [(1, 5, 2), (2, 6, 3), (3, 4, 2)])
def test_interval_is_ordered_and_upper_is_the_network_value(seed, N, d_out):
    X, Y = _data(seed, N, d_out)
    b = function_space_bounds(X, Y, 0.1, seed=seed)
    assert b.lower <= b.upper
    assert b.upper == network_objective(b.stack, X, Y, 0.1, "7")
    assert b.gap == (b.upper - b.lower) / b.upper
    assert b.gap < GAP_EXPECTED


def test_constraint_sup_dominates_dense_sampling():
    """``worst`` is an upper bound of sup_u ||alpha^T relu(X~ u)|| / (2 lam) on the sphere."""
    X, Y = _data(4, 6, 3)
    b = function_space_bounds(X, Y, 0.1, rounds=1)
    alpha = 2.0 * (Y - b.stack(X))
    worst, _ = worst_ratio(lifted(X), alpha, 0.1, cell_patterns(X))
    U = np.random.default_rng(0).standard_normal((3, 20000))
    U /= np.linalg.norm(U, axis=0)
    sampled = np.linalg.norm(alpha.T @ np.maximum(lifted(X) @ U, 0.0), axis=0).max() / 0.2
    assert sampled <= worst
    assert worst == b.worst


@pytest.mark.parametrize("seed, d_out", [(5, 2), (6, 3)])
def test_interval_contains_the_certified_1d_optimum(seed, d_out):
    """d_in = 1 embedded as (x, 0): same problem, so fit_function_space's certified value
    [lower_bound, objective] (gap 1e-9) must meet the interval."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (5, 1))
    Y = rng.standard_normal((5, d_out))
    f = fit_function_space(x, Y, 0.1, "7")
    b = function_space_bounds(np.hstack([x, 0 * x]), Y, 0.1, seed=seed)
    assert b.lower <= f.objective * (1 + RTOL_ROUNDING)
    assert b.upper >= f.lower_bound * (1 - RTOL_ROUNDING)
    assert b.gap < GAP_EXPECTED


@pytest.mark.parametrize("args, kwargs, error", [
    ((np.ones((3, 2)), np.ones((3, 2)), 0.0), {}, ValueError),
    ((np.ones((3, 2)), np.ones((3, 2)), -1.0), {}, ValueError),
    ((np.ones((3, 2)), np.ones((4, 2)), 0.1), {}, ValueError),
    ((np.array([[np.nan, 0.0]]), np.ones((1, 2)), 0.1), {}, ValueError),
    ((np.ones((3, 2)), np.ones((3, 2)), 0.1), {"n_candidates": 0}, ValueError),
    ((np.ones((3, 2)), np.ones((3, 2)), "a"), {}, TypeError),
])
def test_bad_input_raises(args, kwargs, error):
    with pytest.raises(error):
        function_space_bounds(*args, **kwargs)
