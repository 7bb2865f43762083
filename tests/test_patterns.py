"""Tests of pcheck.problems.patterns: the Pilanci-Ergen pattern program for d_in >= 1, d_out = 1."""

import math

import numpy as np
import pytest

from pcheck import fit_function_space
from pcheck.core.status import UncertifiedWarning
from pcheck.problems.patterns import activation_patterns, fit_patterns

#: cvxpy + Clarabel at default settings: ~1e-8 relative; 1e-6 leaves a factor 100.
RTOL_CVXPY = 1e-6
#: Two certified float64 values compared: ~1e-15 rounding each, 1e-12 leaves room.
RTOL_ROUNDING = 1e-12


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


#: Bar for the certified gap of fit_patterns on enumerated data. Reason: Clarabel solves the
#: program to PATTERN_TOL = 1e-9, and the gap of its network's dual point measured 1e-9 to
#: 2e-8 (N <= 12, d_in = 2, 3); 1e-6 flags a wrong certificate or a wrong program, not noise.
GAP_PATTERNS = 1e-6


@pytest.mark.parametrize("variant", ["7", "8"])
@pytest.mark.parametrize("seed, N, d", [(1, 5, 2), (2, 8, 2), (3, 6, 3)])
def test_certificate_brackets_the_program(seed, N, d, variant):
    rng = np.random.default_rng(seed)
    X, Y = rng.uniform(-2, 2, (N, d)), rng.standard_normal((N, 1))
    p = fit_patterns(X, Y, 0.1, variant)
    assert p.exact and p.certified
    assert p.lower <= p.convex_value * (1 + RTOL_CVXPY)
    assert p.convex_value <= p.objective * (1 + RTOL_CVXPY)
    assert p.gap == (p.objective - p.lower) / p.objective
    assert 0 <= p.gap < GAP_PATTERNS


@pytest.mark.parametrize("variant", ["7", "8"])
def test_sampled_program_is_certified_by_the_exact_cells(variant):
    """The certificate enumerates every cell itself, so a program over 10 sampled patterns
    still gets a valid lower bound: below the enumerated program's network value."""
    rng = np.random.default_rng(5)
    X, Y = rng.uniform(-2, 2, (7, 2)), rng.standard_normal((7, 1))
    exact = fit_patterns(X, Y, 0.1, variant)
    sampled = fit_patterns(X, Y, 0.1, variant, samples=10, seed=1, warn=False)
    assert sampled.status != "upper bound only"  # a valid lower bound; its gap may stay open
    assert sampled.lower <= exact.objective
    assert exact.lower <= sampled.objective
    assert sampled.gap >= 0


@pytest.mark.parametrize("variant", ["7", "8"])
def test_certificate_meets_the_1d_certified_solver(variant):
    rng = np.random.default_rng(4)
    X = rng.uniform(-2, 2, (6, 1))
    Y = rng.standard_normal((6, 1))
    p, f = fit_patterns(X, Y, 0.1, variant), fit_function_space(X, Y, 0.1, variant)
    assert p.lower <= f.objective * (1 + RTOL_ROUNDING)
    assert p.gap < GAP_PATTERNS


def test_too_many_cells_leave_the_trivial_bound(monkeypatch):
    """Over the enumeration limit the lower bound is 0 (eq. 4 is never negative), said so."""
    monkeypatch.setattr("pcheck.problems.patterns.MAX_DUAL_WORK", 0)
    rng = np.random.default_rng(6)
    with pytest.warns(UncertifiedWarning, match="upper bound only"):
        p = fit_patterns(rng.uniform(-2, 2, (5, 2)), rng.standard_normal((5, 1)), 0.1)
    assert not p.certified and p.status == "upper bound only" and p.lower == 0.0 and p.gap == 1.0
