"""Radon-domain atoms, 1D kinks and the distributional second derivative (MATH.md)."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import pcheck
from pcheck import strategies as pst
from pcheck.core.quadrature import piecewise_gauss_legendre
from pcheck.papers.htw.rescaling import output_scale
from pcheck.testing import RTOL_REORDER, assert_close_scaled

EPS = np.finfo(float).eps


@given(pst.stacks(n=(0, 8), d_in=(1, 3), d_out=(1, 3), skip=None))
def test_atoms_reproduce_the_function(s):
    X = np.random.default_rng(0).standard_normal((20, s.d_in)) * 3
    # each atom value m_k relu(<s_k,x> - r_k) is ||v_k|| w_k relu((b_k + <v_k,x>)/||v_k||): a few roundings
    assert_close_scaled(pcheck.atoms(s)(X), s(X), output_scale(s, X), rtol=8 * RTOL_REORDER, what="atoms(h)(X)")


@given(pst.stacks(n=(1, 6), d_in=(1, 3), edges={"coincident"}))
def test_atoms_are_merged_on_equal_hyperplanes(s):
    a = pcheck.atoms(s)
    keys = np.column_stack([a.s, a.r])
    for i in range(len(keys)):
        for j in range(i):
            assert np.max(np.abs(keys[i] - keys[j])) > 1e-12, "two atoms on the same (s, r) were not merged"
    live = np.linalg.norm(s.V, axis=1) > 0
    assert len(a.r) <= live.sum()


def test_atoms_by_hand():
    # neurons: 2 relu(3x - 6) = 6 relu(x - 2); relu(x - 2) again (merged: mass 7);
    # v = 0, b = 1.5: constant 4 * 1.5; mirrored -relu(2 - x) stays a separate atom (s = -1, r = -2).
    s = pcheck.Stack([[3.0], [1.0], [0.0], [-1.0]], [-6.0, -2.0, 1.5, 2.0], [[2.0, 1.0, 4.0, -1.0]], [0.5])
    a = pcheck.atoms(s)
    np.testing.assert_array_equal(a.s, [[-1.0], [1.0]])
    np.testing.assert_array_equal(a.r, [-2.0, 2.0])
    np.testing.assert_array_equal(a.m, [[-1.0], [7.0]])
    np.testing.assert_array_equal(a.constant, [6.0])
    np.testing.assert_array_equal(a.c, [0.5])


def finite_difference_jumps(s, x, gap):
    """Jump of h' at each kink from one-sided difference quotients with step t = gap / 4 (h is
    linear between kinks, so the quotients are exact up to rounding)."""
    t = gap / 4
    X = np.concatenate([x - 2 * t, x - t, x + t, x + 2 * t])[:, None]
    h = s(X).reshape(4, len(x), s.d_out)
    jumps = ((h[3] - h[2]) - (h[1] - h[0])) / t[:, None]
    # rounding: each of the four values is off by <= 4 eps (condition scale); divided by t
    scale = output_scale(s, X).reshape(4, len(x), s.d_out).max(axis=0)
    return jumps, 16 * 4 * EPS * scale / t[:, None]


@given(pst.stacks(n=(1, 8), d_in=1, d_out=(1, 3), scale=False))
def test_kinks_match_finite_differences_of_the_slope(s):
    k = pcheck.kinks(s)
    assert np.all(np.diff(k.x) > 0)
    # a difference quotient cannot resolve a kink at |x| ~ 1e128 (x + t == x): test where it can
    assume(len(k.x) > 0 and np.all(np.abs(k.x) < 1e6))
    gaps = np.diff(np.concatenate([[k.x[0] - 1.0], k.x, [k.x[-1] + 1.0]]))
    gap = np.minimum(gaps[:-1], gaps[1:])
    jumps, err = finite_difference_jumps(s, k.x, gap)
    assert np.all(np.abs(jumps - k.jump) <= err + 1e-12 * np.abs(k.jump)), (jumps, k.jump)


@given(pst.stacks(n=(0, 8), d_in=1, d_out=(1, 3)))
def test_kinks_rebuild_the_function(s):
    # h(x) = h(x0) + h'(x0) (x - x0) + sum_k jump_k relu(x - x_k) for x0 left of every kink
    k = pcheck.kinks(s)
    x0 = (k.x[0] if len(k.x) else 0.0) - 1.0
    slope0 = s(np.array([[x0]]))[0] - s(np.array([[x0 - 1.0]]))[0]
    X = np.linspace(x0, x0 + 10, 41)[:, None]
    rebuilt = s(np.array([[x0]]))[0] + slope0 * (X - x0) + np.maximum(X - k.x[None, :], 0.0) @ k.jump
    scale = output_scale(s, X) + output_scale(s, np.array([[x0 - 1.0]])) * (1 + np.abs(X - x0))
    assert_close_scaled(rebuilt, s(X), scale, rtol=1e-10, what="h rebuilt from its kinks")


def test_kinks_beyond_the_float_range_are_an_error():
    # -b/v = -1e10 / 1e-320 overflows: the kink is not representable, so it is not dropped silently
    with pytest.raises(ValueError, match="float64 range"):
        pcheck.kinks(pcheck.Stack([[1e-320], [1.0]], [1e10, 0.0], [[1.0, 1.0]], [0.0]))


def test_coincident_and_cancelling_kinks():
    # relu(x - 1) + 2 relu(2x - 2) = 5 relu(x - 1); relu(1 - x) - relu(x - 1) ... has jump 0 at 1 plus slope
    s = pcheck.Stack([[1.0], [2.0]], [-1.0, -2.0], [[1.0, 2.0]], [0.0])
    k = pcheck.kinks(s)
    np.testing.assert_array_equal(k.x, [1.0])
    np.testing.assert_array_equal(k.jump, [[5.0]])
    cancel = pcheck.Stack([[1.0], [2.0]], [-1.0, -2.0], [[1.0, -0.5]], [0.0])
    assert len(pcheck.kinks(cancel).x) == 0


@given(pst.stacks(n=(1, 5), d_in=1, d_out=(1, 2), scale=False), st.sampled_from([0.3, 1.0]))
def test_smoothed_second_derivative_is_the_convolution(s, bandwidth):
    # (h * N_sigma)''(x) = int h(x - y) N_sigma''(y) dy, integrated piecewise between the kinks
    x = np.array([-1.0, 0.25, 2.0])
    got = pcheck.smoothed_second_derivative(s, x, bandwidth)
    k = pcheck.kinks(s)

    def n2(y):
        return (y**2 / bandwidth**4 - 1 / bandwidth**2) * np.exp(-0.5 * (y / bandwidth) ** 2) / (
            bandwidth * np.sqrt(2 * np.pi))

    for i, xi in enumerate(x):
        val = piecewise_gauss_legendre(lambda y: s((xi - y)[:, None]) * n2(y)[:, None], -12 * bandwidth,
                                       12 * bandwidth, xi - k.x)
        # rounding of the quadrature sum relative to the scale of h, plus the tail beyond 12 sigma (< 1e-30)
        scale = 1e-10 * (np.abs(s.c) + np.abs(s.W) @ (np.abs(s.V[:, 0]) * (abs(xi) + 12 * bandwidth)
                                                       + np.abs(s.b))) / bandwidth**2
        assert np.all(np.abs(val - got[i]) <= scale + 1e-12 * np.abs(got[i])), (val, got[i])


def pairing_by_quadrature(s, mu, sigma):
    """int h D^2 phi dx, neuron by neuron: in coordinates (t, y) with t along u = v/||v|| the neuron
    depends on t only, the Gaussian integrals over y are exact (E y_j = 0, E(y_j^2 - 1) = 0), and
    the t-integral of h(mu + sigma t u) (t^2 - 1) e^{-t^2/2} is done piecewise with a break at the kink."""
    d = s.d_in
    total = np.zeros((s.d_out, d, d))
    for k in range(s.n):
        nv = np.linalg.norm(s.V[k])
        if nv == 0:
            continue
        u = s.V[k] / nv
        neuron = s.replace(V=s.V[k:k + 1], b=s.b[k:k + 1], W=s.W[:, k:k + 1], c=np.zeros(s.d_out))
        kink = -(s.b[k] + s.V[k] @ mu) / (nv * sigma)
        val = piecewise_gauss_legendre(
            lambda t: neuron(mu[None, :] + sigma * t[:, None] * u[None, :]) * ((t * t - 1) * np.exp(-t * t / 2))[:, None],
            -15.0, 15.0, [kink])
        total += sigma ** (d - 2) * np.sqrt(2 * np.pi) ** (d - 1) * val[:, None, None] * np.outer(u, u)[None]
    return total


@given(pst.stacks(n=(1, 4), d_in=(2, 3), d_out=(1, 2), scale=False, edges={"dead_neuron", "zero_mass"}),
       st.sampled_from([0.5, 1.5]))
def test_hessian_measure_against_test_functions(s, sigma):
    mu = np.linspace(-0.5, 0.5, s.d_in)
    got = pcheck.hessian_pairing(s, mu, sigma)
    ref = pairing_by_quadrature(s, mu, sigma)
    # both sides sum n terms of size <= ||w_k|| ||v_k|| (2 pi)^((d-1)/2) sigma^(d-2) (1 + |dist|);
    # the quadrature is at rounding level on each smooth piece: 1e-10 of that scale
    dist = np.abs(s.V @ mu + s.b) / np.maximum(np.linalg.norm(s.V, axis=1), 1e-300)
    terms = np.abs(s.W) * (np.linalg.norm(s.V, axis=1) * (1 + dist))[None, :]
    scale = terms.sum(axis=1)[:, None, None] * (2 * np.pi) ** ((s.d_in - 1) / 2) * sigma ** (s.d_in - 2)
    assert np.all(np.abs(got - ref) <= 1e-10 * scale + 1e-300), (got, ref)


def test_hessian_pairing_matches_1d_smoothed_second_derivative():
    # in 1D, int phi dh'' with phi = exp(-(x-mu)^2/(2 sigma^2)) is sqrt(2 pi) sigma (h'' * N_sigma)(mu)
    s = pcheck.Stack.random(6, 1, 2, rng=4)
    mu, sigma = 0.3, 0.8
    np.testing.assert_allclose(pcheck.hessian_pairing(s, [mu], sigma)[:, 0, 0],
                               np.sqrt(2 * np.pi) * sigma * pcheck.smoothed_second_derivative(s, [mu], sigma)[0],
                               rtol=1e-12)
