"""Tests of fit_function_space's d_in > 1 dispatch (pattern program for d_out = 1, the
certified interval of pcheck.problems.bounds_nd for d_out > 1), never a single unqualified number."""

import numpy as np
import pytest

from pcheck import fit_function_space, fit_patterns, function_space_bounds
from pcheck.core.objective import training_objective
from pcheck.problems.function_space import SPARSE_SLACK
from pcheck.testing import RTOL_CERTIFIED_ND

#: Two certified float64 values compared: ~1e-15 rounding each, 1e-12 leaves room.
RTOL_ROUNDING = 1e-12


def _data(seed, N, d_in, d_out):
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, (N, d_in)), rng.standard_normal((N, d_out))


def _check_interval(f, X, Y, lam, variant):
    """objective is eq. (4) of the returned network, lower_bound below it, gap their ratio."""
    assert f.objective == training_objective(f.stack, X, Y, lam, variant)
    assert 0.0 <= f.lower_bound <= f.objective
    assert f.gap == (f.objective - f.lower_bound) / f.objective
    assert f.n_atoms == f.stack.n and f.angles.shape == (0,)


@pytest.mark.parametrize("variant", ["7", "8"])
def test_scalar_output_uses_the_enumerated_pattern_program(variant):
    X, Y = _data(1, 6, 2, 1)
    f = fit_function_space(X, Y, 0.1, variant)
    _check_interval(f, X, Y, 0.1, variant)
    assert f.method == "patterns-exact"
    assert f.gap < RTOL_CERTIFIED_ND
    # the pattern program in the internal units of pcheck.core.units (eq. 8: lam / (a b), values b^2)
    u = f.units
    lam_n = 0.1 if variant == "7" else 0.1 / (u.a * u.b)
    assert f.lower_bound == u.value(fit_patterns(u.x(X), u.y(Y), lam_n, variant).lower)


@pytest.mark.parametrize("variant", ["7", "8"])
def test_scalar_output_beyond_enumeration_samples_patterns(variant, monkeypatch):
    """Over MAX_ENUMERATED the program samples patterns (an upper bound), while the cells of
    the certificate are still enumerated: the interval holds the enumerated optimum."""
    X, Y = _data(2, 6, 2, 1)
    exact = fit_function_space(X, Y, 0.1, variant)
    monkeypatch.setattr("pcheck.problems.patterns.MAX_ENUMERATED", 0)
    f = fit_function_space(X, Y, 0.1, variant)
    _check_interval(f, X, Y, 0.1, variant)
    assert f.method == "patterns-sampled"
    assert f.lower_bound <= exact.objective * (1 + RTOL_ROUNDING)
    assert f.objective >= exact.lower_bound * (1 - RTOL_ROUNDING)


@pytest.mark.parametrize("variant", ["7", "8"])
def test_vector_output_uses_the_certified_interval(variant):
    X, Y = _data(3, 5, 2, 3)
    f = fit_function_space(X, Y, 0.1, variant)
    _check_interval(f, X, Y, 0.1, variant)
    assert f.method == "bounds-nd"
    assert f.gap < RTOL_CERTIFIED_ND
    b = function_space_bounds(X, Y, 0.1, variant=variant, rounds=50, gap_tol=1e-9)
    assert f.lower_bound == b.lower
    # the sparse network replaces the master's only within SPARSE_SLACK gaps of its value
    assert b.upper <= f.objective * (1 + RTOL_ROUNDING)
    assert f.objective <= b.upper + SPARSE_SLACK * (b.upper - b.lower) + RTOL_ROUNDING * b.upper
    few = fit_function_space(X, Y, 0.1, variant, max_iter=1)  # max_iter caps the rounds
    assert few.gap >= f.gap


@pytest.mark.parametrize("d_out", [1, 2])
@pytest.mark.parametrize("variant", ["7", "8"])
def test_too_many_cells_give_an_upper_bound_only(d_out, variant, monkeypatch):
    """With the enumeration limit at 0 no certificate is computed: lower_bound = 0 (eq. 4 is
    never negative), the method says "upper only", and the objective is still a network's
    value, hence above the certified lower bound of the unrestricted run."""
    X, Y = _data(4, 5, 2, d_out)
    certified = fit_function_space(X, Y, 0.1, variant)
    monkeypatch.setattr("pcheck.problems.bounds_nd.MAX_DUAL_WORK", 0)
    monkeypatch.setattr("pcheck.problems.patterns.MAX_DUAL_WORK", 0)
    f = fit_function_space(X, Y, 0.1, variant)
    _check_interval(f, X, Y, 0.1, variant)
    assert f.method.endswith("(upper only)") and f.lower_bound == 0.0 and f.gap == 1.0
    assert f.objective >= certified.lower_bound * (1 - RTOL_ROUNDING)


@pytest.mark.parametrize("d_out", [1, 2])
@pytest.mark.parametrize("variant", ["7", "8"])
def test_embedded_1d_data_meet_the_exact_1d_solution(d_out, variant):
    """(x, 0) in R^2 is the 1D problem: both certified intervals must intersect."""
    rng = np.random.default_rng(5 + d_out)
    x = rng.uniform(-2, 2, (5, 1))
    Y = rng.standard_normal((5, d_out))
    one = fit_function_space(x, Y, 0.1, variant)
    two = fit_function_space(np.hstack([x, 0 * x]), Y, 0.1, variant)
    assert one.method == "exchange-1d"
    assert two.lower_bound <= one.objective * (1 + RTOL_ROUNDING)
    assert two.objective >= one.lower_bound * (1 - RTOL_ROUNDING)


@pytest.mark.parametrize("kwargs, match", [
    (dict(allowed=[[0.0, 0.1]]), "allowed"), (dict(stop_above=1.0), "stop_above"),
    (dict(variant="9"), "variant"), (dict(lam=-1.0), "lam"),
])
def test_bad_input_in_several_dimensions(kwargs, match):
    X, Y = _data(6, 4, 2, 1)
    args = dict(lam=0.1, variant="7")
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fit_function_space(X, Y, args.pop("lam"), args.pop("variant"), **args)


@pytest.mark.parametrize("variant", ["7", "8"])
def test_sparse_stack_has_at_most_N_d_out_neurons_and_the_same_value(variant):
    """The LP reduction of pcheck.problems.bounds_nd.sparse_stack: a basic solution of N d_out
    equalities has at most N d_out nonzeros; re-solved on them, eq. (4) stays within the
    certified interval's scale (the master on a subset of atoms can only be >= the optimum)."""
    from pcheck.problems.bounds_nd import sparse_stack

    X, Y = _data(7, 7, 2, 3)
    b = function_space_bounds(X, Y, 0.1, variant=variant, rounds=50, gap_tol=1e-9)
    s = sparse_stack(X, Y, 0.1, b.stack, variant)
    assert s.n <= X.shape[0] * Y.shape[1] < b.stack.n
    value = training_objective(s, X, Y, 0.1, variant)
    assert value >= b.lower
    # near-optimal: measured 1e-11..3e-9 relative above the master, i.e. within a few of its
    # certified gaps (1e-10..1e-8); ten gaps flags a broken reduction, not solver noise
    assert value - b.upper <= 10 * (b.upper - b.lower) + RTOL_ROUNDING * b.upper


@pytest.mark.parametrize("variant", ["7", "8"])
def test_zero_targets_give_the_zero_network(variant):
    """Y = 0: the optimum 0 is attained by the network without neurons (the sparse
    reduction must pass it through)."""
    X, _ = _data(8, 5, 2, 2)
    f = fit_function_space(X, np.zeros((5, 2)), 0.1, variant)
    assert f.objective == 0.0 and f.stack.n == 0 and f.gap == 0.0
