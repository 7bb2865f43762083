"""Tests of pcheck.patterns: the Pilanci-Ergen pattern program for d_in >= 1, d_out = 1."""

import math

import numpy as np
import pytest

from pcheck import fit_function_space
from pcheck.patterns import activation_patterns, fit_patterns

#: cvxpy + Clarabel at default settings: ~1e-8 relative; 1e-6 leaves a factor 100.
RTOL_CVXPY = 1e-6


@pytest.mark.parametrize("variant", ["7", "8"])
def test_one_input_dimension_matches_the_certified_solver(variant):
    rng = np.random.default_rng(3)
    X = np.sort(rng.uniform(-2, 2, 6))[:, None]
    Y = rng.standard_normal((6, 1))
    p = fit_patterns(X, Y, 0.1, variant)
    f = fit_function_space(X, Y, 0.1, variant)
    assert p.exact and p.bound == "exact"
    assert abs(p.convex_value - f.objective) <= RTOL_CVXPY * f.objective
    assert p.objective >= f.lower_bound * (1 - 1e-12)  # a network never beats the certified bound


@pytest.mark.parametrize("N, d", [(5, 2), (8, 2), (6, 3)])
def test_exact_enumeration_counts_the_cells(N, d):
    """A central arrangement of N hyperplanes in general position in R^(d+1) has
    2 sum_{k <= d} C(N-1, k) cells (Cover 1965): the enumeration finds all of them."""
    X = np.random.default_rng(N + d).uniform(-2, 2, (N, d))
    D, exact = activation_patterns(X)
    assert exact
    assert D.shape[0] == 2 * sum(math.comb(N - 1, k) for k in range(d + 1))


@pytest.mark.parametrize("variant", ["7", "8"])
def test_sampled_patterns_give_an_upper_bound(variant):
    rng = np.random.default_rng(5)
    X, Y = rng.uniform(-2, 2, (7, 2)), rng.standard_normal((7, 1))
    exact = fit_patterns(X, Y, 0.1, variant)
    sampled = fit_patterns(X, Y, 0.1, variant, samples=10, seed=1)
    assert not sampled.exact and sampled.bound.startswith("upper")
    assert sampled.convex_value >= exact.convex_value * (1 - RTOL_CVXPY)
    assert exact.objective >= exact.convex_value * (1 - RTOL_CVXPY)  # the network realizes the program


def test_vector_outputs_are_refused():
    with pytest.raises(ValueError, match="Y"):
        fit_patterns(np.zeros((3, 2)), np.zeros((3, 2)), 1.0)


def test_degenerate_data_are_not_labelled_exact():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.0, 1.0]])  # three collinear points
    _, exact = activation_patterns(X)
    assert not exact
