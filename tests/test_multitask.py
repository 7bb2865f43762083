"""Multi-task benefit of a data-poor task and the kink-alignment measure."""

import numpy as np
import pytest

from pcheck import Stack
from pcheck.papers.htw.multitask import (
    benefit,
    benefit_curve,
    kink_alignment,
    kink_tasks,
    stack_kink_sets,
)


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


# ----------------------------------------------------------------------------- coupled side

from hypothesis import given, settings  # noqa: E402

from pcheck.papers import shenouda  # noqa: E402
from pcheck.papers.htw import sec4  # noqa: E402
from pcheck.papers.shenouda import univariate  # noqa: E402
from pcheck.testing import RTOL_CERTIFIED  # noqa: E402


@settings(max_examples=5)
@given(sec4.coupled_problems())
def test_joint_vs_separate_certified_and_exact_criterion(problem):
    sec4.joint_vs_separate_exact(problem)


def test_joint_equals_separate_when_a_task_is_zero():
    # the zero task's separate dual is 0, so the stacked duals are jointly feasible: equality
    X = np.array([[-1.0], [-0.25], [0.5], [1.0]])
    Y = np.column_stack([[1.0, -1.0, 0.5, 2.0], np.zeros(4)])
    joint, alone = sec4.separate_and_joint(X, Y, 0.2, "7")
    crit, own = sec4.joint_equals_separate_criterion(X, Y, 0.2, "7", alone)
    assert crit <= max(1.0, own) + sec4.CRIT_SLACK
    sep_hi, sep_lo = sum(a.objective for a in alone), sum(a.lower_bound for a in alone)
    assert sep_lo - 1e-9 * sep_hi <= joint.objective and joint.lower_bound <= sep_hi * (1 + 1e-9)


def test_joint_equals_separate_below_the_kink_threshold():
    # found by Hypothesis: with large lam both tasks' duals stay strictly feasible (ratio 0.30
    # each; the fits bend nowhere at full strength) and the stacked dual has ratio 0.42 < 1:
    # jointly feasible, so joint = separate although the tasks share their data
    X = np.array([[0.0], [0.125], [-0.125], [0.25], [-0.25]])
    Y = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    joint, alone = sec4.separate_and_joint(X, Y, 1.0, "7")
    crit, own = sec4.joint_equals_separate_criterion(X, Y, 1.0, "7", alone)
    assert own < crit < 1.0
    np.testing.assert_allclose(joint.objective, sum(a.objective for a in alone), rtol=1e-9)


def test_generic_tasks_couple_strictly():
    X = np.array([[-1.0], [-0.25], [0.5], [1.0]])
    Y = np.array([[1.0, 0.0], [-1.0, 1.0], [0.5, -1.0], [2.0, 0.5]])
    for variant in ("7", "8"):
        joint, alone = sec4.separate_and_joint(X, Y, 0.2, variant)
        crit, own = sec4.joint_equals_separate_criterion(X, Y, 0.2, variant, alone)
        assert crit > max(1.0, own) + sec4.CRIT_MARGIN
        assert joint.objective < sum(a.lower_bound for a in alone)


def test_ledger_coupled_claims_hold(pcheck_context):
    for check in (sec4.check_kink_alignment, sec4.check_multitask_benefit):
        ev = check(pcheck_context)
        assert ev.verdict == "holds", (ev.counterexample, ev.details)


def test_single_task_has_two_certified_minimizers():
    X, Y, lam = shenouda.convex_single_task()
    fit, merge = shenouda.second_minimizer(X, Y, lam, "8")
    assert merge is not None and merge.distance > 0.01
    assert merge.objective <= fit.lower_bound + 1e-9 * fit.objective + (fit.objective - fit.lower_bound)


def test_exceptional_set_both_sides(pcheck_context):
    ev = shenouda.check_multitask_unique(pcheck_context)
    assert ev.verdict == "holds", ev.counterexample
    assert ev.residual > 0  # every merge of generic tasks strictly raises the objective
    assert ev.details["exceptional_distance"] > 0.01  # Y_2 = 2 Y_1: a second minimizer


def test_multitask_fits_are_connect_the_dots(pcheck_context):
    ev = shenouda.check_multitask_ctd(pcheck_context)
    assert ev.verdict == "holds", ev.counterexample


def test_penalized_bias_multitask_optimum_is_not_connect_the_dots(pcheck_context):
    """proofs_notes/shenouda-univariate.md: variant "7", T = 2, lam = 1e-4. The certified optimum
    has kinks inside the data gap (0.218, 0.547); the certified lower bound over every
    connect-the-dots function (the restricted solve, its dual point also feasible for
    cancelling pairs) lies above the optimum by 1.5e-5 relative, 1e5 times the gaps."""
    ev = shenouda.check_multitask_ctd_penalized(pcheck_context)
    assert ev.verdict == "refuted", ev.details
    d = ev.details
    assert d["optimum"] - d["optimum_lower_bound"] <= RTOL_CERTIFIED * d["optimum"]
    assert d["ctd_lower_bound"] > d["optimum"] * (1 + 1e-6)
    x = shenouda.CTD7_X[:, 0]
    inside = [k for k in d["kinks"] if x.min() < k < x.max() and np.min(np.abs(x - k)) > 1e-3]
    assert inside, d["kinks"]  # the optimum bends between data points


def test_connect_the_dots_atoms_keep_functions_linear_between_data():
    """Every allowed atom has its kink at a data point or outside [x_1, x_N] (or is the v = 0 neuron)."""
    from pcheck.problems.function_space import unit

    xs = np.array([-1.0, -0.25, 0.5, 2.0])
    for a, b in univariate.connect_the_dots_atoms(xs):
        for phi in np.linspace(a, b, 7):
            v, bias = unit(phi)
            if abs(v) > 1e-12:
                p = -bias / v
                assert np.min(np.abs(xs - p)) < 1e-9 or p <= xs[0] + 1e-9 or p >= xs[-1] - 1e-9


def test_penalized_bias_moves_kinks_off_the_data():
    ev = shenouda.check_penalized_bias(None)
    assert ev.verdict == "holds" and ev.residual > shenouda.KINK_TOL
