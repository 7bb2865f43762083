"""Parameter costs R_7, R_8, R_11, R_12 and HTW footnote 7."""

import numpy as np
import pytest
from hypothesis import given

import pcheck
from pcheck.papers.htw import footnote7


def test_costs_by_hand():
    # neurons (v, b, w): ((3, 4), 0, (1, 0)) and ((0, 0), 2, (0, 2)); c = (1, 1); A = diag(3, -4)
    s = pcheck.Stack([[3.0, 4.0], [0.0, 0.0]], [0.0, 2.0], [[1.0, 0.0], [0.0, 2.0]], [1.0, 1.0])
    # R_7 = 1 * 5 + 2 * 2 + 2 = 11 (the v = 0 neuron pays ||w|| |b| = 4); R_8 = 1 * 5 + 2 * 0 = 5
    assert pcheck.parameter_cost(s, "7") == 11.0
    assert pcheck.parameter_cost(s, "8") == pcheck.parameter_cost(s, 9) == 5.0
    skip = s.replace(A=np.diag([3.0, -4.0]))
    assert pcheck.parameter_cost(skip, "11") == 11.0 + 9 + 16      # ||A||_F^2 = 25
    assert pcheck.parameter_cost(skip, "12") == pytest.approx(11.0 + 7, rel=1e-15)  # singular values 4, 3
    with pytest.raises(ValueError, match="use variant '11' or '12'"):
        pcheck.parameter_cost(skip, "7")


def test_network_cost_sums_stacks():
    a = pcheck.Stack.random(3, 2, 2, rng=0)
    b = pcheck.Stack.random(2, 2, 1, rng=1, skip=True)
    net = pcheck.Network([a, b])
    assert pcheck.network_cost(net) == pcheck.parameter_cost(a, "7") + pcheck.parameter_cost(b, "12")
    assert pcheck.network_cost(net, "8", "11") == pcheck.parameter_cost(a, "8") + pcheck.parameter_cost(b, "11")
    with pytest.raises(ValueError, match="skip_variant"):
        pcheck.network_cost(net, "7", "8")


@given(footnote7.single_neurons())
def test_footnote7_single_atom_cost(neuron):
    footnote7.footnote7_identity(neuron)


def test_footnote7_catches_a_wrong_weight():
    # with g(r) = 1/(1 + r^2) instead of 1/sqrt(1 + r^2) the identity must fail: r0 = -b/||v|| = 1
    neuron = pcheck.Stack([[1.0]], [-1.0], [[1.0]], [0.0])
    right = footnote7.smoothed_atom_cost_extrapolated(neuron)
    assert abs(right - np.sqrt(2.0)) < footnote7.FOOTNOTE7_RTOL * np.sqrt(2.0)
    assert abs(right - 2.0) > 0.5


def test_g_is_htw_weight():
    np.testing.assert_array_equal(pcheck.g([0.0, 1.0]), [1.0, 1 / np.sqrt(2.0)])
