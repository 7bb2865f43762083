"""Rescaling symmetry and the balanced-norm identity (HTW section 2)."""

import numpy as np
from hypothesis import given

import pcheck
from pcheck.papers.htw import rescaling
from pcheck.testing import RTOL_REORDER


@given(rescaling.stack_and_alpha(skip=None))
def test_outputs_invariant_under_rescaling(example):
    rescaling.outputs_invariant(example)


@given(rescaling.stack_and_alpha(skip=None))
def test_balance_reaches_the_minimum_and_beats_any_rescaling(example):
    rescaling.balanced_identity(example)


@given(rescaling.stack_and_alpha(skip=False, edges={"zero_mass", "dead_neuron"}))
def test_atoms_and_costs_invariant_under_rescaling(example):
    rescaling.atoms_and_costs_invariant(example)


def test_balanced_norm_by_hand():
    # one neuron v = (3, 0), b = 4, w = (1,): ||(v, b)|| = 5, ||w|| = 1, c = (2,):
    # min_alpha 25 alpha^2 + 1/alpha^2 + 4 = 2 * 5 * 1 + 4 = 14 at alpha^2 = 1/5.
    s = pcheck.Stack([[3.0, 0.0]], [4.0], [[1.0]], [2.0])
    assert pcheck.balanced_norm_sq(s) == 14.0
    bal = pcheck.balance(s)
    np.testing.assert_allclose(np.linalg.norm(bal.W[:, 0]), np.sqrt(np.sum(bal.V[0] ** 2) + bal.b[0] ** 2),
                               rtol=RTOL_REORDER)
    np.testing.assert_allclose(pcheck.l2_norm_sq(bal), 14.0, rtol=RTOL_REORDER)
    assert pcheck.l2_norm_sq(s) == 9 + 16 + 1 + 4


def test_balance_zeroes_neurons_that_compute_zero():
    s = pcheck.Stack([[1.0], [0.0]], [2.0, 0.0], [[0.0, 3.0]], [0.0])
    bal = pcheck.balance(s)
    assert pcheck.l2_norm_sq(bal) == 0.0 == pcheck.balanced_norm_sq(s)
    X = np.linspace(-3, 3, 7)[:, None]
    np.testing.assert_array_equal(bal(X), s(X))


def test_rescale_accepts_scalar_and_vector():
    s = pcheck.Stack.random(3, 2, 2, rng=0)
    a = pcheck.rescale(s, 2.0)
    np.testing.assert_array_equal(a.V, 2.0 * s.V)
    v = pcheck.rescale(s, [1.0, 2.0, 4.0])
    np.testing.assert_array_equal(v.W[:, 2], s.W[:, 2] / 4.0)
