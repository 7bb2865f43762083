"""Tests of pcheck.problems.minimal_width: the certified interval for the minimal width n*."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcheck import minimal_width
from pcheck.core.objective import training_objective
from pcheck.papers.htw.thm3_2 import MINIMAL_LAM, MINIMAL_X, MINIMAL_Y
from pcheck.problems.minimal_width import (
    caratheodory,
    constant_objective,
    counting_bound,
)
from pcheck.testing import RTOL_REORDER, assert_rel_close


def instance(seed, N, d):
    rng = np.random.default_rng([seed, N, d])
    return np.sort(rng.uniform(-2, 2, N))[:, None], rng.standard_normal((N, d))


def assert_consistent(r, X, Y, lam, variant):
    """The interval is ordered, the network has width ``upper`` and attains the certified optimum."""
    assert 0 <= r.lower <= r.upper
    assert r.network.n == r.upper
    assert_rel_close(r.network_objective, training_objective(r.network, X, Y, lam, variant), rtol=RTOL_REORDER,
                     what="eq. (4) at the returned network")
    fs = r.function_space
    assert r.network_objective - fs.lower_bound <= max(fs.gap, 1e-9) * max(fs.lower_bound, 1e-300)
    assert r.status == ("exact" if r.lower == r.upper else "interval")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), N=st.integers(1, 5), lam=st.sampled_from([1e-3, 0.1, 1.0]),
       variant=st.sampled_from(["7", "8"]))
def test_scalar_output_upper_is_at_most_N_plus_1(seed, N, lam, variant):
    """d_out = 1: n* <= N + 1 (HTW Theorem 3.2); the Caratheodory reduction gives <= N."""
    X, Y = instance(seed, N, 1)
    r = minimal_width(X, Y, lam, variant, max_nodes=0)
    assert r.upper <= N + 1
    assert r.upper <= counting_bound(N, 1, variant) <= N  # the rank of N-dimensional data vectors
    assert_consistent(r, X, Y, lam, variant)


def test_refuted_instance_needs_width_6():
    """The minimal counterexample of htw-thm3_2.md: width 5 is certified insufficient (255 nodes),
    the reduced optimum is a width-6 network, so n* = 6 exactly."""
    r = minimal_width(MINIMAL_X, MINIMAL_Y, MINIMAL_LAM, "7")
    assert r.lower >= 6
    assert r.upper == 6 and r.status == "exact" and r.certified
    assert r.bounds[5].status == "separated"
    assert_consistent(r, MINIMAL_X, MINIMAL_Y, MINIMAL_LAM, "7")


@pytest.mark.parametrize("variant", ["7", "8"])
def test_vector_output_interval_on_small_instances(variant):
    for seed, N, d in [(0, 3, 2), (1, 4, 3), (2, 3, 5)]:
        X, Y = instance(seed, N, d)
        r = minimal_width(X, Y, 0.1, variant, max_nodes=300)
        assert_consistent(r, X, Y, 0.1, variant)
        assert r.upper <= counting_bound(N, d, variant)  # the counting bounds of the note


def test_max_nodes_zero_leaves_the_lower_end_at_the_closed_form():
    r = minimal_width(MINIMAL_X, MINIMAL_Y, MINIMAL_LAM, "7", max_nodes=0)
    assert r.lower == 1 and r.upper == 6 and r.status == "interval" and not r.bounds


def test_constant_network_in_closed_form():
    Y = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    c7 = Y.sum(axis=0) / (3 + 0.2)
    assert constant_objective(Y, 0.2, "7") == pytest.approx(np.sum((Y - c7) ** 2) + 0.2 * c7 @ c7, rel=1e-14)
    assert constant_objective(Y, 0.2, "8") == pytest.approx(np.sum((Y - Y.mean(axis=0)) ** 2), rel=1e-14)


def test_caratheodory_keeps_the_combination_with_independent_columns():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 9))
    t = rng.uniform(0.5, 1.0, 9)
    idx, s = caratheodory(A, t)
    assert len(idx) <= 4 and np.all(s >= 0)
    np.testing.assert_allclose(A[:, idx] @ s, A @ t, rtol=1e-10, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError):
        minimal_width(np.zeros((3, 2)), np.zeros((3, 1)), 0.1)
    with pytest.raises(ValueError):
        minimal_width(MINIMAL_X, MINIMAL_Y, -1.0)
