"""Bad input raises a ValueError/TypeError naming the argument; nothing returns NaN in silence."""

import numpy as np
import pytest

import pcheck

GOOD = dict(V=np.ones((2, 1)), b=np.zeros(2), W=np.ones((1, 2)), c=np.zeros(1))


@pytest.mark.parametrize("name, value, error, pattern", [
    ("V", np.ones(2), ValueError, r"V must have shape"),
    ("V", np.ones((2, 0)), ValueError, r"V must have at least one input column"),
    ("b", np.zeros(3), ValueError, r"b must have shape \(2,\)"),
    ("W", np.ones((1, 3)), ValueError, r"W must have shape \(\*, 2\)"),
    ("W", np.ones((0, 2)), ValueError, r"W must have at least one output row"),
    ("c", np.zeros(2), ValueError, r"c must have shape \(1,\)"),
    ("A", np.ones((2, 2)), ValueError, r"A must have shape \(1, 1\)"),
    ("V", np.array([[np.nan], [1.0]]), ValueError, r"V contains NaN or inf"),
    ("b", np.array([np.inf, 0.0]), ValueError, r"b contains NaN or inf"),
    ("W", np.array([["a", "b"]]), TypeError, r"W must be a real numeric array"),
    ("c", np.array([1j]), TypeError, r"c must be a real numeric array"),
])
def test_stack_rejects_bad_parameters(name, value, error, pattern):
    with pytest.raises(error, match=pattern):
        pcheck.Stack(**{**GOOD, name: value})


def test_call_rejects_bad_inputs():
    s = pcheck.Stack(**GOOD)
    with pytest.raises(ValueError, match=r"X must have shape \(\*, 1\)"):
        s(np.ones((3, 2)))
    with pytest.raises(ValueError, match="X contains NaN"):
        s(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="X must have shape"):
        s(np.ones(3))


@pytest.mark.parametrize("alpha, error, pattern", [
    (0.0, ValueError, "alpha must be > 0"),
    (-1.0, ValueError, "alpha must be > 0"),
    (np.array([1.0, -2.0]), ValueError, "alpha must be > 0"),
    (np.ones(3), ValueError, r"alpha must have shape \(2,\)"),
    (np.nan, ValueError, "alpha contains NaN"),
    ("two", TypeError, "alpha must be a real numeric array"),
])
def test_rescale_rejects_bad_alpha(alpha, error, pattern):
    with pytest.raises(error, match=pattern):
        pcheck.rescale(pcheck.Stack(**GOOD), alpha)


def test_other_public_functions_name_their_arguments():
    s1 = pcheck.Stack(**GOOD)
    s2 = pcheck.Stack.random(2, 2, 1, rng=0)
    with pytest.raises(ValueError, match="bandwidth must be > 0"):
        pcheck.smoothed_second_derivative(s1, np.zeros(3), 0.0)
    with pytest.raises(ValueError, match="stack must have d_in = 1"):
        pcheck.kinks(s2)
    with pytest.raises(TypeError, match="stack must be a Stack"):
        pcheck.kinks("not a stack")
    with pytest.raises(ValueError, match="variant must be one of"):
        pcheck.parameter_cost(s1, "10")
    with pytest.raises(ValueError, match="stack.A must not be None"):
        pcheck.parameter_cost(s1, "11")
    with pytest.raises(ValueError, match="sigma must be > 0"):
        pcheck.hessian_pairing(s2, np.zeros(2), -1.0)
    with pytest.raises(ValueError, match=r"mu must have shape \(2,\)"):
        pcheck.hessian_pairing(s2, np.zeros(3), 1.0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        pcheck.Stack.random(-1, 1, 1)
    with pytest.raises(ValueError, match="d_in must be >= 1"):
        pcheck.Stack.random(2, 0, 1)
    with pytest.raises(TypeError, match="d_out must be an integer"):
        pcheck.Stack.random(2, 1, 1.5)
