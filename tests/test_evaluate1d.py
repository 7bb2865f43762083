"""The sorted O((n + B) log(n + B)) evaluation of 1D stacks against the dense kernel (pcheck/evaluate1d.py)."""

import math
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pcheck
from pcheck import strategies as pst
from pcheck.core import evaluate1d, kernels
from pcheck.core.network import evaluate_1d, piecewise_affine
from pcheck.papers.htw.rescaling import output_scale
from pcheck.testing import assert_close_scaled

JIT = os.environ.get("NUMBA_DISABLE_JIT", "0") in ("", "0")


def dense(s, x):
    """``h(x)`` through the dense numba kernel (never the sorted path), ``(B, d_out)``."""
    outT = np.repeat(s.c[:, None], len(x), axis=1)
    kernels.stack_forward_T(s.V, s.b, s.W, np.ascontiguousarray(x[None, :]), outT)
    out = outT.T
    return out if s.A is None else out + x[:, None] @ s.A.T


@st.composite
def stacks_and_points(draw):
    """1D stacks with every edge case of ``pst.stacks`` (v_k = 0, w_k = 0, coincident and
    mirrored kinks, scales 1e-6..1e6) and points that include every kink exactly
    (the float ``-b_k / v_k``), repeated points and points between and beyond the kinks."""
    s = draw(pst.stacks(n=(0, 12), d_in=1, d_out=(1, 3), skip=None))
    v = s.V[:, 0]
    with np.errstate(over="ignore"):  # a subnormal v_k puts its kink at +-inf, beyond every float x
        kinks = -s.b[v != 0] / v[v != 0]
    kinks = kinks[np.abs(kinks) <= 1e100]  # farther out, v_k x overflows in the dense reference too
    span = max(1.0, float(np.max(np.abs(kinks), initial=0.0)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = np.concatenate([kinks, kinks[:2], span * rng.uniform(-2, 2, draw(st.integers(0, 20))), [0.0]])
    return s, rng.permutation(x)


@given(stacks_and_points())
def test_sorted_evaluation_matches_dense_kernel(example):
    s, x = example
    assert_close_scaled(evaluate_1d(s, x), dense(s, x), output_scale(s, x[:, None]), what="evaluate_1d")


@pytest.mark.parametrize("n", [3_000 if JIT else 60])
def test_many_clustered_kinks_stay_exact(n):
    """Many neurons, kinks in a few tight clusters (near-coincident, with cancelling masses):
    the compensated prefix sums keep the error at 1e-12 of the condition scale."""
    rng = np.random.default_rng(7)
    centres = rng.choice([-1.0, 0.25, 3.0], n) + rng.integers(-3, 4, n) * 1e-13
    v = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-3, 3, n)
    W = rng.standard_normal((2, n)) * 10.0 ** rng.uniform(-3, 3, n)
    s = pcheck.Stack(v[:, None], -v * centres, W, rng.standard_normal(2))
    x = np.concatenate([np.unique(centres), rng.uniform(-4, 4, 200)])
    assert_close_scaled(evaluate_1d(s, x), dense(s, x), output_scale(s, x[:, None]), what="clustered kinks")


def test_prefix_sums_do_not_drift_with_n():
    """One unit ramp with kink at -1, then n ramps with kinks at -0.5 and mass w = 3 * 2^-54
    (0.75 ulp of 1): a plain running sum of the slopes rounds every step up by 0.25 ulp,
    drifting by ~n/4 ulp. Every term ``w_k relu(b_k + v_k x)`` is exact in binary at the
    points chosen, so ``math.fsum`` gives the correctly rounded exact value."""
    n = 100_000
    w = 3 * 2.0**-54
    s = pcheck.Stack(np.ones((n + 1, 1)), np.r_[1.0, np.full(n, 0.5)], np.r_[1.0, np.full(n, w)][None, :], [0.0])
    x = np.array([1.0, 0.75, -0.75])
    terms = s.W[0] * np.maximum(s.b + s.V[:, 0] * x[:, None], 0.0)
    exact = np.array([math.fsum(t) for t in terms])
    scale = output_scale(s, x[:, None])[:, 0]
    slope_running = np.cumsum(s.W[0] * s.V[:, 0])[-1]
    assert abs(slope_running - math.fsum(s.W[0] * s.V[:, 0])) > 1e-12 * scale[0]  # the instance bites
    assert_close_scaled(evaluate_1d(s, x)[:, 0], exact, scale, what="evaluate_1d, many tiny masses")


def test_known_piecewise_linear_function():
    # h(x) = 2 relu(x - 1) - relu(1 - x) + 5 relu(3) + 1 + 0.5 x  (the v = 0 neuron is the constant 15)
    s = pcheck.Stack([[1.0], [-1.0], [0.0]], [-1.0, 1.0, 3.0], [[2.0, -1.0, 5.0]], [1.0], A=[[0.5]])
    x = np.array([-1.0, 0.0, 1.0, 2.0, 3.0])
    # x = -1: -2 + 16 - 0.5 = 13.5; x = 0: -1 + 16 = 15; x = 1: 16 + 0.5; x = 2: 2 + 16 + 1; x = 3: 4 + 16 + 1.5
    np.testing.assert_array_equal(evaluate_1d(s, x)[:, 0], [13.5, 15.0, 16.5, 19.0, 21.5])


def test_piecewise_affine_is_reusable_and_accepts_column_input():
    s = pcheck.Stack.random(9, 1, 2, rng=3, skip=True)
    form = piecewise_affine(s)
    x = np.linspace(-3, 3, 11)
    np.testing.assert_array_equal(form(x), evaluate_1d(s, x))
    np.testing.assert_array_equal(form(x[::-1]), evaluate_1d(s, x[:, None])[::-1])
    assert form.slope_up.shape == (int(np.sum(s.V > 0)) + 1, 2)


def test_stack_call_dispatches_on_the_cost_model():
    big_n, big_B = 3_000, 2_500
    assert evaluate1d.prefers_sorted(big_n, big_B)
    assert not evaluate1d.prefers_sorted(10, 10**6) and not evaluate1d.prefers_sorted(10**6, 10)
    s = pcheck.Stack.random(big_n if JIT else 2, 1, 2, rng=4)
    X = np.linspace(-3, 3, big_B if JIT else 3)[:, None]
    out = s(X)
    if evaluate1d.prefers_sorted(s.n, X.shape[0]):
        np.testing.assert_array_equal(out, evaluate_1d(s, X))
    assert_close_scaled(out, dense(s, X[:, 0]), output_scale(s, X), what="Stack.__call__ in 1D")


def test_bad_input_names_the_argument():
    s = pcheck.Stack.random(3, 1, 1, rng=0)
    with pytest.raises(ValueError, match="d_in = 1"):
        evaluate_1d(pcheck.Stack.random(3, 2, 1, rng=0), [0.0])
    with pytest.raises(TypeError, match="stack"):
        piecewise_affine(np.ones(3))
    with pytest.raises(ValueError, match="x"):
        evaluate_1d(s, [0.0, np.nan])
    with pytest.raises(ValueError, match="x"):
        evaluate_1d(s, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="x"):
        piecewise_affine(s)(np.zeros((4, 1)))
