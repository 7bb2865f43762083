"""HTW eq. (4) for two stacks h_2 o sigma o h_1 (pcheck.problems.deep) and the Corollary 3.3 evidence."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from pcheck.core.objective import training_objective
from pcheck.ledger import load_claims
from pcheck.papers.htw import cor3_3 as htw_cor3_3
from pcheck.problems.deep import (
    bottleneck_representation,
    decay_weights,
    initial_network,
    numerical_rank,
    objective_and_gradient,
    pack,
    train,
    unpack,
)

WIDTHS, NEURONS = (1, 3, 2), (4, 5)


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_gradient_matches_finite_differences(activation):
    X, Y = htw_cor3_3.instance(4, 2, 0)
    theta = pack(initial_network(X, WIDTHS, NEURONS, activation, np.random.default_rng(3)))
    value, grad = objective_and_gradient(theta, X, Y, 0.1, WIDTHS, NEURONS, activation=activation)
    fd = approx_fprime(theta, lambda th: objective_and_gradient(th, X, Y, 0.1, WIDTHS, NEURONS, activation=activation)[0], 1e-7)
    # forward differences: error ~ sqrt(eps) * curvature scale; ReLU kinks are a.s. not hit
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-4 * max(1.0, value))


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_objective_is_the_network_loss_plus_weight_decay(activation):
    X, Y = htw_cor3_3.instance(3, 2, 1)
    theta = pack(initial_network(X, WIDTHS, NEURONS, activation, np.random.default_rng(4)))
    net = unpack(theta, WIDTHS, NEURONS, activation=activation)
    expected = np.sum((net(X) - Y) ** 2) + 0.3 * theta @ theta
    np.testing.assert_allclose(objective_and_gradient(theta, X, Y, 0.3, WIDTHS, NEURONS, activation=activation)[0], expected,
                               rtol=1e-12)


def test_training_decreases_the_objective_and_returns_its_network():
    X, Y = htw_cor3_3.instance(3, 1, 0)
    rng = np.random.default_rng([7, 0])
    start = objective_and_gradient(pack(initial_network(X, (1, 4, 1), (8, 8), "relu", rng)), X, Y, 0.1, (1, 4, 1),
                                   (8, 8))[0]
    fit = train(X, Y, 0.1, widths=(1, 4, 1), neurons=(8, 8), restarts=1, maxiter=300, rng=7)
    assert fit.network.widths == (1, 4, 1) and fit.network.activation == "relu"
    assert fit.objective < start
    theta = pack(fit.network)
    np.testing.assert_allclose(np.sum((fit.network(X) - Y) ** 2) + 0.1 * theta @ theta, fit.objective, rtol=1e-10)


@pytest.mark.parametrize("variant", ["7", "8"])
@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_objective_is_the_one_eq4_function(activation, variant):
    """The back-propagated value is :func:`training_objective` of the unpacked network (one eq. 4),
    with the biases unpriced under variant "8"; a mask leaves unobserved entries out."""
    X, Y = htw_cor3_3.instance(3, 2, 1)
    theta = pack(initial_network(X, WIDTHS, NEURONS, activation, np.random.default_rng(5)))
    net = unpack(theta, WIDTHS, NEURONS, activation)
    mask = np.array([[True, False], [True, True], [False, True]])
    weights = decay_weights(WIDTHS, NEURONS, variant)
    value = objective_and_gradient(theta, X, Y, 0.3, WIDTHS, NEURONS, activation=activation, mask=mask,
                                   weights=weights)[0]
    np.testing.assert_allclose(value, training_objective(net, X, Y, 0.3, variant, mask=mask), rtol=1e-12)
    assert variant == "7" or value < objective_and_gradient(theta, X, Y, 0.3, WIDTHS, NEURONS, activation=activation,
                                                             mask=mask)[0]


def test_train_rejects_bad_input():
    X, Y = htw_cor3_3.instance(3, 1, 0)
    with pytest.raises(ValueError, match="activation"):
        train(X, Y, 0.1, widths=(1, 4, 1), neurons=(4, 4), activation="tanh")
    with pytest.raises(ValueError, match="widths"):
        train(X, Y, 0.1, widths=(1, 4, 1), neurons=(4, 4, 4))
    with pytest.raises(ValueError, match="Y"):
        train(X, Y[:2], 0.1, widths=(1, 4, 1), neurons=(4, 4))


def test_numerical_rank_of_a_representation():
    assert numerical_rank(np.outer([1.0, 2.0, 3.0], [1.0, -1.0]), 1e-8) == 1
    assert numerical_rank(np.eye(3)[:, :2], 1e-8) == 2
    assert numerical_rank(np.zeros((3, 2)), 1e-8) == 0
    X, _ = htw_cor3_3.instance(3, 1, 0)
    net = initial_network(X, (1, 5, 1), (4, 4), "relu", np.random.default_rng(0))
    H = bottleneck_representation(net, X)
    assert H.shape == (3, 5) and np.all(H >= 0) and numerical_rank(H, 1e-8) <= 3


def test_cor3_3_claim_returns_its_expected_verdict(pcheck_context):
    entry = load_claims()["htw.cor3_3"]
    evidence = entry.check(pcheck_context)
    assert entry.expected == "open" and evidence.verdict == "open"
    rows = evidence.details["rows"]
    assert rows and evidence.residual == max(r["gap"] for r in rows)
    for r in rows:
        assert r["verdict"] == ("reached" if r["gap"] <= htw_cor3_3.REACHED_RTOL else "not reached")
        # N points: sigma(h_1(X)) has N rows, so its rank is at most N
        assert r["rank_wide"] <= r["N"] and r["rank_narrow"] <= r["N"]
    # the N = 3, d_out = 1 ReLU instance: d_1 = N + 1 matches d_1 = 2N + 2 to search noise
    first = rows[0]
    assert (first["N"], first["d_out"], first["activation"]) == (3, 1, "relu") and first["verdict"] == "reached"
