"""The neuron kernel of a network, its kernel ridge regression, and the multivariate claims of
Nakhleh, Shenouda & Nowak (arXiv 2410.21696, section 4; proofs_notes/shenouda-multivariate.md)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pcheck import Stack
from pcheck import strategies as pst
from pcheck.core.objective import training_objective
from pcheck.core.rescaling import rescale
from pcheck.papers import shenouda
from pcheck.papers.shenouda import multivariate
from pcheck.problems.neuron_kernel import (
    certified_fit,
    kernel_ridge,
    kernel_ridge_stack,
    kernel_transfer,
    kernel_weights,
    neuron_kernel,
    quadratic_form_spread,
    ridge_coefficients,
    task_penalties,
)
from pcheck.testing import RTOL_CERTIFIED, RTOL_REORDER


def solve_rtol(K, lam):
    """Relative rounding of kernel ridge: a backward-stable solve with ``K + lam I`` errs by
    <= ~N eps cond(K + lam I) relative; x 100 covers the products before and after it."""
    return 100 * K.shape[0] * np.finfo(float).eps * np.linalg.cond(K + lam * np.eye(K.shape[0]))


def two_neuron_stack():
    # neuron 1: w = (3, 4), (v, b) = (1, 0, 0): omega = 5 / 1; neuron 2: w = (0, 2), (v, b) = (0, 2, 1):
    # omega = 2 / sqrt(5) ("7") or 2 / 2 ("8")
    return Stack([[1.0, 0.0], [0.0, 2.0]], [0.0, 1.0], [[3.0, 0.0], [4.0, 2.0]], [0.5, -1.0])


def test_neuron_kernel_by_hand():
    s = two_neuron_stack()
    X = np.array([[1.0, 0.0], [2.0, 1.0], [-1.0, -1.0]])
    phi1, phi2 = np.array([1.0, 2.0, 0.0]), np.array([1.0, 3.0, 0.0])  # relu(x_1), relu(2 x_2 + 1)
    np.testing.assert_allclose(kernel_weights(s, "7"), [5.0, 2 / np.sqrt(5)], rtol=RTOL_REORDER)
    np.testing.assert_allclose(kernel_weights(s, "8"), [5.0, 1.0], rtol=RTOL_REORDER)
    K7 = 5 * np.outer(phi1, phi1) + 2 / np.sqrt(5) * np.outer(phi2, phi2) + 1
    np.testing.assert_allclose(neuron_kernel(s, X, variant="7"), K7, rtol=RTOL_REORDER)
    K8 = 5 * np.outer(phi1, phi1) + np.outer(phi2, phi2)
    np.testing.assert_allclose(neuron_kernel(s, X, X[:2], variant="8"), K8[:, :2], rtol=RTOL_REORDER)
    # per-task shares: r_k w_tk^2 / ||w_k||: task 0: 1 * 9 / 5; task 1: 16 / 5 + sqrt(5) * 4 / 2
    np.testing.assert_allclose(task_penalties(s, "7"), [9 / 5, 16 / 5 + np.sqrt(5) * 2], rtol=RTOL_REORDER)


@settings(max_examples=20, deadline=None)
@given(pst.stacks(n=(1, 5), d_in=(1, 2), d_out=(1, 3), scale=False),
       st.lists(st.floats(0.01, 100.0), min_size=8, max_size=8))
def test_kernel_is_rescaling_invariant_and_shares_sum_to_the_masses(s, alpha):
    X = np.linspace(-1, 1, 4 * s.d_in).reshape(4, s.d_in)
    t = rescale(s, np.array(alpha[:s.n]))
    for variant in ("7", "8"):
        K, Kt = neuron_kernel(s, X, variant=variant), neuron_kernel(t, X, variant=variant)
        np.testing.assert_allclose(Kt, K, rtol=1e-10, atol=1e-10 * np.abs(K).max(initial=1.0))
        # sum_t p_t = sum_k ||w_k|| r_k (= sum ||mu_k||, half the balanced atom cost)
        r = np.sqrt(np.sum(s.V**2, axis=1) + (s.b**2 if variant == "7" else 0.0))
        total = float(np.sum(np.linalg.norm(s.W, axis=0) * r))
        assert abs(task_penalties(s, variant).sum() - total) <= 1e-12 * max(total, 1.0)


@pytest.mark.parametrize("free", [False, True])
def test_kernel_ridge_is_feature_ridge(free):
    # K = Phi Phi^T: kernel ridge equals ridge on the features Phi (plus an unpenalized column
    # of ones when free), solved here as a least-squares problem with the penalty rows appended
    rng = np.random.default_rng(3)
    Phi, Y, lam = rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), 0.3
    A = np.hstack([Phi, np.ones((5, 1))]) if free else Phi
    pen = np.sqrt(lam) * np.eye(A.shape[1])
    if free:
        pen = pen[:-1]
    coef = np.linalg.lstsq(np.vstack([A, pen]), np.vstack([Y, np.zeros((pen.shape[0], 2))]), rcond=None)[0]
    np.testing.assert_allclose(kernel_ridge(Phi @ Phi.T, Y, lam, free), A @ coef, rtol=1e-10, atol=1e-12)
    if free:  # the residual of a free intercept fit has zero mean
        alpha, _ = ridge_coefficients(Phi @ Phi.T, Y, lam, True)
        np.testing.assert_allclose(alpha.sum(axis=0), 0.0, atol=1e-12)


def test_quadratic_form_spread_of_a_multiple_of_the_identity():
    # K = 2 I, no intercept: M = 2 / (2 + lam)^2 I, so CV = sqrt(2 N) / N = sqrt(2 / N)
    for N in (1, 6):
        assert abs(quadratic_form_spread(2 * np.eye(N), 0.1) - np.sqrt(2 / N)) <= RTOL_REORDER


@settings(max_examples=25, deadline=None)
@given(pst.stacks(n=(1, 5), d_in=(1, 2), d_out=(1, 3), scale=False, edges={"zero_mass", "dead_neuron", "coincident"}),
       st.sampled_from(["7", "8"]), st.sampled_from([0.1, 1.0]))
def test_kernel_ridge_network_is_never_worse_in_eq4(s, variant, lam):
    # AM-GM (neuron_kernel docstring): for ANY network, kernel ridge with its neuron kernel, put
    # back on the same neurons, has eq.-(4) value <= the network's, and reproduces kernel_ridge
    X = np.array([[-1.0, 0.5], [0.0, -1.0], [0.5, 0.5], [1.0, 0.0], [0.25, 1.0]])[:, :s.d_in]
    Y = np.linspace(-1.5, 2.0, X.shape[0] * s.d_out).reshape(X.shape[0], s.d_out)
    K = neuron_kernel(s, X, variant=variant)
    rtol = solve_rtol(K, lam)
    assume(rtol < 1e-6)  # beyond, the uncentered kernel_ridge path below keeps no digits to compare
    krr = kernel_ridge_stack(s, X, Y, lam, variant)
    G_net, G_krr = training_objective(s, X, Y, lam, variant, rescaled=True), training_objective(krr, X, Y, lam, variant, rescaled=True)
    assert G_krr <= G_net * (1 + rtol) + rtol
    F = kernel_ridge(K, Y, lam, variant == "8")
    np.testing.assert_allclose(krr(X), F, rtol=rtol, atol=rtol * max(1.0, np.abs(Y).max()))


def test_kernel_identity_on_a_certified_optimum():
    # (A) on one instance: the optimal outputs are kernel ridge with the optimal neurons' kernel
    rng = np.random.default_rng(7)
    X, Y = rng.uniform(-1, 1, (5, 2)), rng.standard_normal((5, 3))
    for variant in shenouda.VARIANTS_ND:
        ratio = shenouda.kernel_identity((X, Y, 0.1, variant))
        assert 0.0 <= ratio <= 1.0


def test_kernel_identity_claim_holds(pcheck_context):
    ev = shenouda.check_multivariate_kernel_identity(pcheck_context)
    assert ev.verdict == "holds", ev.counterexample
    assert ev.residual <= 1.0


def test_rank_one_tasks_are_the_single_task_problem():
    # Y = y u^T: the group lasso of a rank-one Y has the rank-one solution F = f(||u|| y) u^T / ||u||
    # (f the single-task solution map): the fits agree within both certified radii
    rng = np.random.default_rng(11)
    X, y, u = rng.uniform(-1, 1, (5, 2)), rng.standard_normal(5), np.array([1.5, -0.5, 2.0])
    joint = certified_fit(X, np.outer(y, u), 0.1)
    single = certified_fit(X, (np.linalg.norm(u) * y)[:, None], 0.1)
    expected = single.stack(X) @ (u / np.linalg.norm(u))[None, :]
    radius = np.sqrt(joint.upper - joint.lower) + np.sqrt(single.upper - single.lower)
    assert np.linalg.norm(joint.stack(X) - expected) <= radius + np.sqrt(RTOL_CERTIFIED * joint.upper)


def test_kernel_transfer_by_its_definitions():
    X, Y = multivariate.task_family(0, 2)
    k = kernel_transfer(X, Y, 0.1)
    assert k.T == 2 and k.neurons >= 1 and k.gap < 1e-2
    assert k.e == pytest.approx(k.r * k.d, rel=1e-12)  # e = ||P-F0||/||F0||, r = ||P-F0||/||y0-F0||
    assert k.floor >= np.sqrt(2 / 6) * (1 - 1e-12)  # sqrt(2 tr M^2) / tr M >= sqrt(2 / N)


@pytest.mark.slow
def test_fixed_kernel_claim(pcheck_context):
    ev = shenouda.check_multivariate_fixed_kernel(pcheck_context)
    assert ev.verdict == "holds", ev.details["per_variant_lam"]
    for table in ev.details["tables [lam, T, e, bar, d, r, r_bar, baseline, r_baseline, drift, cv, floor, gap]"].values():
        table = np.array(table)
        for lam in np.unique(table[:, 0]):
            rows = table[table[:, 0] == lam]
            # r_T (error of the fixed-kernel prediction over task 0's regularization residual)
            # falls by more than 10x from T = 1 to the largest T, at every lam
            assert rows[-1, 5] < 0.1 * rows[0, 5]
            # and the single-task fit is a worse predictor of the joint fit than the kernel
            assert rows[-1, 7] > 3 * rows[-1, 2]


@pytest.mark.slow
def test_common_scale_claim(pcheck_context):
    ev = shenouda.check_multivariate_common_scale(pcheck_context)
    assert ev.verdict == "refuted", ev.details
    for table in ev.details["per_variant_lam"].values():
        for v in table.values():  # the spread sits at the fixed-kernel Gaussian floor
            assert 0.5 * v["floor_last"] <= v["cv_last"] <= 1.5 * v["floor_last"]


@pytest.mark.slow
def test_non_diverse_tasks_do_not_transfer():
    # contrast (note): other tasks rank one, task 0 independent: the kernel of the others does
    # not predict task 0's joint fit (seed 1: r_T ~ 4 at every T, it does not fall)
    rows = multivariate.transfer_rows((1,), (1, 16), (0.1,), "7", "mixed")
    assert all(r.r > 1.0 for _, _, r in rows)
    assert rows[-1][2].r > 0.5 * rows[0][2].r


def test_bad_inputs_are_rejected():
    s = two_neuron_stack()
    with pytest.raises(ValueError, match="variant"):
        neuron_kernel(s, np.zeros((2, 2)), variant="9")
    with pytest.raises(ValueError, match="X1"):
        neuron_kernel(s, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="K"):
        kernel_ridge(np.zeros((2, 3)), np.zeros((2, 1)), 0.1)
    with pytest.raises(ValueError, match="lam"):
        kernel_ridge(np.eye(2), np.zeros((2, 1)), 0.0)
    with pytest.raises(ValueError, match="Y"):
        kernel_transfer(np.zeros((3, 2)), np.zeros((3, 1)), 0.1)
    with pytest.raises(TypeError, match="stack"):
        neuron_kernel("stack", np.zeros((2, 2)))


def test_fixed_kernel_figure(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from pcheck.harness.plots import multivariate_fixed_kernel_figure

    # the registered protocol shrunk to one seed and T = 1, 2 (the figure code, not the numbers)
    monkeypatch.setattr(multivariate, "REGISTERED", {"seeds": (0,), "Ts": (1, 2), "lams": (0.1,)})
    fig = multivariate_fixed_kernel_figure(tmp_path)
    assert fig.path.is_file() and fig.path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fig.path.name == "fixed_kernel.png" and "arXiv 2410.21696" in fig.caption
    assert fig.labels == (("number of other tasks T", "||P - F_0|| / ||y_0 - F_0|| (task 0)"),)
    assert "lam 0.1: kernel of T diverse tasks (8)" in fig.caption
