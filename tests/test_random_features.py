"""Random-feature stacks (first layer frozen): separable across tasks, certified optimal."""

import numpy as np
import pytest
from hypothesis import given

from pcheck.papers.htw import sec4
from pcheck.problems.random_features import (
    fit_random_features,
    ridge_lower_bound,
    ridge_objective,
)


@given(sec4.random_feature_problems())
def test_joint_fit_equals_per_task_fits(problem):
    sec4.random_features_separable(problem)


@given(sec4.random_feature_problems())
def test_fit_is_certified_optimal(problem):
    sec4.random_features_certified(problem)


def test_ridge_by_hand():
    # one frozen neuron relu(x) at x = (1, 2): Phi = [[1, 1], [2, 1]], y = (1, 2), lam = 1:
    # (Phi^T Phi + I) beta = Phi^T y  ->  [[6, 3], [3, 3]] beta = (5, 3)  ->  beta = (2/3, 1/3).
    s = fit_random_features([[1.0], [2.0]], [[1.0], [2.0]], 1.0, [[1.0]], [0.0])
    np.testing.assert_allclose(s.W, [[2 / 3]], rtol=1e-14)
    np.testing.assert_allclose(s.c, [1 / 3], rtol=1e-14)
    # objective: residuals (1 - 1, 2 - 5/3) -> 1/9; penalty 4/9 + 1/9: total 6/9
    np.testing.assert_allclose(ridge_objective(s, [[1.0], [2.0]], [[1.0], [2.0]], 1.0), [2 / 3], rtol=1e-14)
    np.testing.assert_allclose(ridge_lower_bound(s, [[1.0], [2.0]], [[1.0], [2.0]], 1.0), [2 / 3], rtol=1e-13)


def test_lam_zero_is_minimum_norm_interpolation():
    # two neurons relu(x), relu(-x) plus the constant interpolate 3 points; min-norm solution
    X = np.array([[-1.0], [0.0], [2.0]])
    y = np.array([[1.0], [0.0], [3.0]])
    s = fit_random_features(X, y, 0.0, [[1.0], [-1.0]], [0.0, 0.0])
    np.testing.assert_allclose(s(X), y, atol=1e-13)
    beta = np.append(s.W[0], s.c)
    Phi = np.array([[0, 1, 1], [0, 0, 1], [2, 0, 1]], dtype=float)
    np.testing.assert_allclose(beta, np.linalg.pinv(Phi) @ y[:, 0], atol=1e-13)


def test_other_tasks_do_not_change_a_task():
    rng = np.random.default_rng(3)
    X, V, b = rng.normal(size=(12, 1)), rng.normal(size=(20, 1)), rng.normal(size=20)
    Y = rng.normal(size=(12, 3))
    Y2 = Y.copy()
    Y2[:, 1:] = 100 * rng.normal(size=(12, 2))
    a, c = fit_random_features(X, Y, 0.1, V, b), fit_random_features(X, Y2, 0.1, V, b)
    np.testing.assert_allclose(a.W[0], c.W[0], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bad, exc", [
    (dict(lam=-1.0), ValueError), (dict(lam="x"), TypeError), (dict(V=np.ones((3, 2))), ValueError),
    (dict(mask=np.ones((4, 2))), TypeError), (dict(mask=np.ones((3, 2), bool)), ValueError),
    (dict(Y=np.full((4, 2), np.nan)), ValueError),
])
def test_bad_input_is_rejected(bad, exc):
    args = dict(X=np.zeros((4, 1)), Y=np.zeros((4, 2)), lam=1.0, V=np.ones((3, 1)), b=np.zeros(3))
    args.update(bad)
    mask = args.pop("mask", None)
    with pytest.raises(exc, match="lam|V|mask|Y"):
        fit_random_features(**args, mask=mask)


def test_ledger_checks_hold(pcheck_context):
    for check in (sec4.check_random_features_separable, sec4.check_random_features_certified):
        ev = check(pcheck_context)
        assert ev.verdict == "holds", ev.counterexample
