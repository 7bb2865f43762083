"""Multi-task benefit of a data-poor task and the kink-alignment measure."""

import numpy as np
import pytest

from pcheck import Stack
from pcheck.multitask import benefit, benefit_curve, kink_alignment, kink_tasks, stack_kink_sets


def test_task_family_structure():
    fam = kink_tasks(tasks=3, relatedness=1.0, points=20, poor_points=4, noise=0.0, rng=1)
    assert fam.Y.shape == (20, 3) and fam.mask[:, 0].sum() == 4 and fam.mask[:, 1:].all()
    # rho = 1: every task kinks at the same 3 places; the truth's second differences on the
    # test grid are nonzero only next to those places, for every task alike
    d2 = np.abs(np.diff(fam.Y_test, 2, axis=0)) > 1e-9
    np.testing.assert_array_equal(d2[:, 0], d2[:, 1])
    np.testing.assert_array_equal(d2[:, 0], d2[:, 2])
    unrelated = kink_tasks(tasks=3, relatedness=0.0, points=20, poor_points=4, noise=0.0, rng=1)
    d2u = np.abs(np.diff(unrelated.Y_test, 2, axis=0)) > 1e-9
    assert not np.array_equal(d2u[:, 0], d2u[:, 1])


@pytest.mark.parametrize("model", ["random_features", "gp"])
def test_separable_models_have_no_multitask_effect(model):
    # HTW section 4: for random features and the NNGP the data-poor task's fit, hence its
    # test error, is the same alone and jointly (to rounding: the fits agree to ~1e-12)
    for rho in (0.0, 1.0):
        b = benefit(kink_tasks(relatedness=rho, rng=3), model, 0.05, rng=3)
        np.testing.assert_allclose(b.joint, b.alone, rtol=1e-9)


def test_benefit_curve_is_flat_for_separable_models():
    x, alone, joint = benefit_curve("gp", 0.05, relatedness=(0.0, 1.0), seeds=(0, 1))
    np.testing.assert_array_equal(x, [0.0, 1.0])
    np.testing.assert_allclose(joint / alone, 1.0, rtol=1e-9)


def test_kink_alignment_by_hand():
    # task 0: kinks at 0 (mass 1) and 1 (mass 3); task 1: kink at 0 only (mass 2)
    share = kink_alignment([np.array([0.0, 1.0]), np.array([0.0])], [np.array([1.0, -3.0]), np.array([2.0])])
    np.testing.assert_allclose(share, [0.25, 1.0])
    # a joint stack: both outputs jump at both kinks, except output 1 has zero jump at x = 1
    s = Stack([[1.0], [1.0]], [0.0, -1.0], [[1.0, 2.0], [1.0, 0.0]], [0.0, 0.0])
    np.testing.assert_allclose(kink_alignment(*stack_kink_sets(s)), [1 / 3, 1.0])
    assert kink_alignment([np.zeros(0), np.zeros(0)], [np.zeros(0), np.zeros(0)]).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("bad", [dict(relatedness=1.5), dict(poor_points=30), dict(tasks=1)])
def test_bad_family_options_are_rejected(bad):
    with pytest.raises(ValueError):
        kink_tasks(**bad)


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError, match="model"):
        benefit(kink_tasks(rng=0), "svm", 0.1)
