"""Lee & Ndirango (NeurIPS 2019): teachers, SGD gradients, the TA dynamics, the benefit map,
the heat map, and the ledger claims lee_ndirango.* (proofs_notes/lee-ndirango-*.md)."""

import numpy as np
import pytest

from pcheck.ledger import Context, claim
from pcheck.papers import lee_ndirango as claims
from pcheck.papers.lee_ndirango import teacher_student as ln
from pcheck.testing import RTOL_REORDER

#: Central differences with step h: truncation h^2 |f'''| / 6 ~ 1e-12 and rounding
#: eps |f| / h ~ 2e-10 for losses of order 1 (h = 1e-6); 1e-7 leaves a factor > 100.
FD_STEP, FD_ATOL = 1e-6, 1e-7


def small_student(rng, R=2, n_in=4, n_hidden=3, classes=(3, 2)):
    W21 = rng.standard_normal((R, n_hidden, n_in))
    heads = [rng.standard_normal((R, c, n_hidden)) for c in classes]
    batches = [(rng.standard_normal((R, 5, n_in)), rng.integers(0, c, size=(R, 5))) for c in classes]
    return W21, heads, batches


def total_loss(W21, heads, batches, alpha, r):
    return sum(alpha[r, k] * ln.cross_entropy(W32[r] @ W21[r], Xb[r], yb[r])
               for k, (W32, (Xb, yb)) in enumerate(zip(heads, batches)))


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    W21, heads, batches = small_student(rng)
    alpha = np.array([[1.0, 1.0], [1.0, 0.0]])
    g21, g32 = ln.gradients(W21, heads, batches, alpha)
    for array, grad in [(W21, g21), (heads[0], g32[0]), (heads[1], g32[1])]:
        for index in [(0, 0, 0), (1, 1, 2), (0, 1, 1), (1, 0, 1)]:
            old = array[index]
            array[index] = old + FD_STEP
            up = total_loss(W21, heads, batches, alpha, index[0])
            array[index] = old - FD_STEP
            down = total_loss(W21, heads, batches, alpha, index[0])
            array[index] = old
            assert abs((up - down) / (2 * FD_STEP) - grad[index]) < FD_ATOL
    assert np.all(g32[1][1] == 0.0)  # alpha = 0 freezes head B of run 1


def test_cross_entropy_is_stable_for_huge_logits():
    W = np.array([[1e4, 0.0], [-1e4, 0.0]])
    X = np.array([[1.0, 0.0], [1.0, 0.0]])
    # logits (1e4, -1e4): -ln softmax = 0 for label 0 and 2e4 for label 1
    assert ln.cross_entropy(W, X, [0, 1]) == pytest.approx(1e4, rel=RTOL_REORDER)


def test_teacher_structure_and_labels():
    rng = np.random.default_rng(2)
    t = ln.make_teacher(rng, n_in=30, singular_values=[3.0, 2.0, 1.0], sigma=0.5)
    assert np.allclose(np.linalg.svd(t.W, compute_uv=False), [3.0, 2.0, 1.0], rtol=0, atol=1e-12)
    X = rng.standard_normal((50, 30))
    assert np.array_equal(t.labels(X, noisy=True), np.argmax(X @ (t.W + t.xi).T, axis=1))
    assert np.array_equal(t.labels(X, noisy=False), np.argmax(X @ t.W.T, axis=1))
    # the premise of the eq. (3) refutation: labels are invariant under Sigma_hat -> 4 Sigma_hat
    # (multiplication by a power of two is exact in floating point)
    scaled = ln.Teacher(4 * t.W, 4 * t.xi)
    assert np.array_equal(scaled.labels(X, noisy=True), t.labels(X, noisy=True))
    with pytest.raises(ValueError, match="X"):
        t.labels(np.zeros((4, 29)), noisy=True)
    with pytest.raises(ValueError, match="sigma"):
        ln.make_teacher(rng, n_in=3, singular_values=[1.0], sigma=-1.0)


@pytest.mark.parametrize("r", [0.0, 0.3, 1.0])
def test_related_directions(r):
    rng = np.random.default_rng(3)
    V_A = ln.orthonormal(rng, 12, 4)
    V_B = ln.related_directions(rng, V_A, r)
    # QR orthonormalisation: rounding of order n eps, far below 1e-12
    assert np.allclose(V_B.T @ V_A, r * np.eye(4), rtol=0, atol=1e-12)
    assert np.allclose(V_B.T @ V_B, np.eye(4), rtol=0, atol=1e-12)


def test_related_directions_rejects_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="r must be in"):
        ln.related_directions(rng, ln.orthonormal(rng, 8, 2), 1.5)
    with pytest.raises(ValueError, match="V_A"):
        ln.related_directions(rng, ln.orthonormal(rng, 5, 3), 0.5)


def test_softmax_gain_is_the_averaged_jacobian():
    rng = np.random.default_rng(4)
    u, v = ln.orthonormal(rng, 5, 1)[:, 0], ln.orthonormal(rng, 7, 1)[:, 0]
    X = rng.standard_normal((40, 7))
    s = 1.7
    G = np.zeros((5, 5))
    for x in X:  # G(W) = mean_mu diag(p_mu) - p_mu p_mu^T, p_mu = softmax(W x_mu)
        p = ln.softmax(s * np.outer(u, v) @ x)
        G += (np.diag(p) - np.outer(p, p)) / len(X)
    assert ln.softmax_gain(s, u, X @ v) == pytest.approx(u @ G @ u, rel=1e-12)


def test_integrate_ta_solves_exponential_growth():
    # ds/dt = 2 s F with constant F: s(t) = s0 exp(2 F t); solve_ivp at rtol 1e-9
    t = np.linspace(0, 5, 11)
    assert np.allclose(ln.integrate_ta(lambda s: -0.3, 1.5, t), 1.5 * np.exp(-0.6 * t), rtol=1e-7, atol=0)


def test_ta_ray_force_is_the_initial_slope_of_gradient_flow():
    """From the TA initialisation on the top singular pair (others zero), one full-batch
    gradient step of size lr moves s by 2 s lr F_ray(s) + O(lr^2)."""
    rng = np.random.default_rng(5)
    t = ln.make_teacher(rng, n_in=10, singular_values=[1.0], sigma=0.5, U=ln.orthonormal(rng, 4, 1))
    X = rng.standard_normal((30, 10))
    y = t.labels(X, noisy=True)
    U, S, Vt = np.linalg.svd(t.noisy, full_matrices=False)
    W32, W21 = ln.ta_init(U, Vt.T, 1.3, 0.0, 4)
    lr = 1e-7
    g21, (g32,) = ln.gradients(W21[None], [W32[None]], [(X[None], y[None])], np.ones((1, 1)))
    s1 = np.linalg.svd((W32 - lr * g32[0]) @ (W21 - lr * g21[0]), compute_uv=False)[0]
    slope = 2 * 1.3 * ln.ta_ray_force(1.3, U[:, 0], X @ Vt[0], y)
    # Euler truncation lr |s''| / 2 ~ 1e-7 and rounding eps s / lr ~ 3e-9, relative to |s'| ~ 0.1-1
    assert (s1 - 1.3) / lr == pytest.approx(slope, rel=1e-4)


def test_sgd_monitor_and_frozen_head():
    rng = np.random.default_rng(6)
    R, n_in = 3, 6
    X = rng.standard_normal((1, 20, n_in))
    tasks = [ln.Task(X, np.zeros(R, dtype=int), rng.integers(0, 3, size=(R, 20))) for _ in range(2)]
    W21 = rng.standard_normal((R, 4, n_in))
    heads = [rng.standard_normal((R, 3, 4)) for _ in range(2)]
    before = heads[1].copy()
    alpha = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0]])
    out = ln.sgd(W21, heads, tasks, lr=0.01, steps=10, batch=4, rng=rng, alpha=alpha,
                 monitor=ln.top_singular_value, every=5)
    assert out.shape == (R, 3)
    assert np.array_equal(heads[1][[0, 2]], before[[0, 2]]) and not np.array_equal(heads[1][1], before[1])
    with pytest.raises(ValueError, match="lr"):
        ln.sgd(W21, heads, tasks, lr=0.0, steps=1, batch=1, rng=rng)


def test_mean_interval():
    # samples 1, 2, 3: mean 2, sd 1; Student t with 2 degrees of freedom has the CDF
    # 1/2 + t / (2 sqrt(2 + t^2)), so t_{0.975} = 0.95 sqrt(2 / (1 - 0.95^2))
    mean, lo, hi = ln.mean_interval([1.0, 2.0, 3.0])
    t975 = 0.95 * np.sqrt(2 / (1 - 0.95**2))
    assert mean == 2.0 and hi - mean == pytest.approx(t975 / np.sqrt(3), rel=1e-12)
    assert lo == pytest.approx(2 * mean - hi, rel=1e-12)
    with pytest.raises(ValueError, match="two"):
        ln.mean_interval([1.0])


def test_benefit_figure_axes_and_file(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    benefit = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4) / 100
    fig = ln.benefit_figure(benefit, [0.0, 0.5, 1.0], [0.1, 1, 10, 100], title="T")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "auxiliary SNR s_B / sigma" and ax.get_ylabel() == "relatedness r_AB"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "1", "10", "100"]
    assert np.allclose(ax.images[0].get_array(), benefit.mean(axis=0))
    assert len(ax.texts) == 12 and ax.texts[0].get_text().startswith("+0.060")
    path = ln.write_benefit_figure(tmp_path / "sub" / "map.png", benefit, [0.0, 0.5, 1.0], [0.1, 1, 10, 100],
                                   title="T", col_label="N_data")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100
        assert image.text["Title"] == "T"
        assert image.text["Description"] == "x: N_data; y: relatedness r_AB"


def test_claims_write_their_figures(tmp_path):
    """The claims' heat maps land in ctx.report_dir (tiny nojit sizes: only the files are checked)."""
    pytest.importorskip("matplotlib")
    ctx = Context(profile="nojit", seed=0, report_dir=tmp_path)
    from PIL import Image

    for check, name, xlabel in [(claims.check_benefit_grows, "lee_ndirango_benefit_map.png", "auxiliary SNR"),
                                (claims.check_abundant_data, "lee_ndirango_benefit_vs_data.png", "main-task training"),
                                (claims.check_ta_ode, "lee_ndirango_ta_ode.png", "t / tau")]:
        evidence = check(ctx)
        assert evidence.figures == [str(tmp_path / name)]
        with Image.open(tmp_path / name) as image:
            assert image.text["Description"].startswith(f"x: {xlabel}")
    assert claims.check_benefit_grows(Context(profile="nojit", seed=0)).figures == []


def test_trajectory_figure_draws_three_curves_per_class_count():
    pytest.importorskip("matplotlib")
    times = np.linspace(0, 5, 6)
    tr = ln.TATrajectories(times, np.ones((3, 6)), np.zeros((3, 6)), np.full((3, 6), 2.0), np.full((3, 6), 3.0),
                           np.ones(3))
    ax = ln.trajectory_figure({"2 classes": tr, "20 classes": tr}).axes[0]
    assert ax.get_ylabel() == "top singular value s" and len(ax.lines) == 6
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == [
        "2 classes: SGD", "2 classes: eq. (3)", "2 classes: TA-ray flow"]
    assert np.array_equal(ax.lines[1].get_ydata(), np.full(6, 2.0))


# --------------------------------------------------------------------------- the ledger claims


@pytest.mark.slow
@claim("lee_ndirango.ta_ode")
def test_ta_ode_refutation_reproduces(pcheck_context):
    ev = claims.check_ta_ode(pcheck_context)
    assert ev.verdict == "refuted"
    for key in ("C=2, s0=1.0", "C=20, s0=1.0"):
        assert ev.details[key]["paper_ode_max_rel_dev"][1] > claims.TRACK_RTOL
        start, end = ev.details[key]["second_singular_value_start_end"]
        assert end > 2 * start  # the other singular values grow instead of being suppressed
    inv = ev.details["scale_invariance"]
    assert inv["sgd_diff"] <= RTOL_REORDER and inv["ode_gap"] / 2 > claims.TRACK_RTOL


@pytest.mark.slow
@claim("lee_ndirango.benefit_grows")
def test_benefit_grows(pcheck_context):
    ev = claims.check_benefit_grows(pcheck_context)
    assert ev.verdict == "holds", ev.details


@pytest.mark.slow
@claim("lee_ndirango.unrelated_hurts")
def test_unrelated_hurts(pcheck_context):
    ev = claims.check_unrelated_hurts(pcheck_context)
    assert ev.verdict == "holds", ev.details


@pytest.mark.slow
@claim("lee_ndirango.abundant_data")
def test_abundant_data_refutation_reproduces(pcheck_context):
    ev = claims.check_abundant_data(pcheck_context)
    assert ev.verdict == "refuted", ev.details
    big = ev.details[f"N={ev.details['n_data'][-1]}"]
    # related task: the multi-task student beats the noisy teacher's own accuracy, which
    # bounds what more main-task data alone converges to
    assert big["M(r=1)"][1] > claims.LITTLE_EFFECT
    assert big["multitask_accuracy(r=1)"][1] > big["noisy_teacher_accuracy"][2]


@pytest.mark.slow
@claim("lee_ndirango.unrelated_noisy_ignored")
def test_unrelated_noisy_refutation_reproduces(pcheck_context):
    ev = claims.check_unrelated_noisy_ignored(pcheck_context)
    assert ev.verdict == "refuted", ev.details
    low = next(v for k, v in ev.details.items() if k.startswith("M(r=0, s_B="))
    assert low[2] < -claims.LITTLE_EFFECT


def test_bad_input_is_named():
    W = np.zeros((3, 2))
    with pytest.raises(ValueError, match="y must lie in 0..2"):
        ln.cross_entropy(W, np.zeros((2, 2)), [0, 3])
    with pytest.raises(TypeError, match="y must hold integer"):
        ln.cross_entropy(W, np.zeros((2, 2)), [0.0, 1.0])
    with pytest.raises(ValueError, match="W contains NaN"):
        ln.cross_entropy(np.full((3, 2), np.nan), np.zeros((2, 2)), [0, 1])
    rng = np.random.default_rng(0)
    task = ln.Task(np.zeros((1, 4, 5)), np.zeros(2, dtype=int), np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match=r"heads\[0\]"):
        ln.sgd(np.zeros((2, 3, 5)), [np.zeros((2, 3, 4))], [task], lr=0.1, steps=1, batch=1, rng=rng)
    with pytest.raises(ValueError, match=r"tasks\[0\]"):
        ln.sgd(np.zeros((2, 3, 6)), [np.zeros((2, 3, 3))], [task], lr=0.1, steps=1, batch=1, rng=rng)
    with pytest.raises(TypeError, match="W21"):
        ln.sgd(np.zeros((3, 5)), [], [], lr=0.1, steps=1, batch=1, rng=rng)
