"""The NNGP kernel and multi-output GP regression: separable across tasks, kernel vs Monte Carlo."""

import numpy as np
import pytest
from hypothesis import given

from pcheck.papers.htw import sec4
from pcheck.problems.gp import arccos_expectation, fit_gp, nngp_kernel


@given(sec4.gp_problems())
def test_gp_posterior_mean_is_separable(problem):
    sec4.gp_separable(problem)


def test_arccos_expectation_known_values():
    # u = u': E[relu(u)^2] = K/2; u' = -u: relu(u) relu(-u) = 0; independent: E[relu]^2 = K/(2 pi)
    np.testing.assert_allclose(arccos_expectation(2.0, 2.0, 2.0), 1.0, rtol=1e-15)
    np.testing.assert_allclose(arccos_expectation(2.0, -2.0, 2.0), 0.0, atol=1e-16)
    np.testing.assert_allclose(arccos_expectation(2.0, 0.0, 3.0), np.sqrt(6) / (2 * np.pi), rtol=1e-15)
    assert arccos_expectation(0.0, 0.0, 1.0) == 0.0


def test_arccos_expectation_against_gaussian_samples():
    rng = np.random.default_rng(7)
    C = np.array([[1.5, -0.4], [-0.4, 0.7]])
    u = rng.multivariate_normal([0, 0], C, size=200_000)
    prod = np.maximum(u[:, 0], 0) * np.maximum(u[:, 1], 0)
    se = prod.std() / np.sqrt(len(prod))
    assert abs(prod.mean() - arccos_expectation(1.5, -0.4, 0.7)) <= sec4.MC_Z * se


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_nngp_kernel_matches_random_networks(depth, pcheck_profile):
    samples = 60 if pcheck_profile == "nojit" else 200
    z = sec4.nngp_matches_random_networks(np.random.default_rng(depth), depth=depth, width=32, samples=samples)
    assert z <= sec4.MC_Z


def test_nngp_kernel_is_a_kernel():
    X = np.linspace(-3, 3, 11)[:, None]
    for depth in range(4):
        K = nngp_kernel(X, X, depth)
        np.testing.assert_allclose(K, K.T, rtol=1e-14)
        assert np.linalg.eigvalsh(K)[0] > -1e-12 * np.trace(K)


def test_coupled_task_covariance_couples_tasks():
    # the contrast: a non-diagonal task covariance (not the NNGP limit) lets task 1 learn from task 0
    X = np.linspace(-1, 1, 6)[:, None]
    Y = np.column_stack([np.sin(3 * X[:, 0]), np.zeros(6)])
    mask = np.column_stack([np.ones(6, bool), np.zeros(6, bool)])
    Xt = np.array([[0.3]])
    indep = fit_gp(X, Y, 0.01, 1, mask=mask).mean(Xt)
    coupled = fit_gp(X, Y, 0.01, 1, mask=mask, task_covariance=[[1.0, 0.9], [0.9, 1.0]]).mean(Xt)
    assert indep[0, 1] == 0.0  # no data, independent prior: the prior mean
    np.testing.assert_allclose(coupled[0, 1], 0.9 * coupled[0, 0], rtol=1e-12)  # B_10 / B_00 times task 0


@pytest.mark.parametrize("bad, exc", [
    (dict(noise=0.0), ValueError), (dict(depth=-1), ValueError), (dict(depth=1.5), TypeError),
    (dict(task_covariance=[[1.0, 2.0], [2.0, 1.0]]), ValueError),
])
def test_bad_input_is_rejected(bad, exc):
    args = dict(X=np.zeros((3, 1)), Y=np.zeros((3, 2)), noise=0.1, depth=1)
    args.update(bad)
    with pytest.raises(exc):
        fit_gp(**args)


def test_ledger_checks_hold(pcheck_context):
    for check in (sec4.check_gp_separable, sec4.check_nngp_kernel):
        ev = check(pcheck_context)
        assert ev.verdict == "holds", ev.counterexample
