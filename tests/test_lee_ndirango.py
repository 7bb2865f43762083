"""Lee & Ndirango (NeurIPS 2019): teachers and the two noise models, the authors' linear student
(gradients, init, width), their validation metric and benefit M, the TA dynamics of eq. (3),
the by-choice combination of the verdicts, and the ledger entries lee_ndirango.*
(proofs_notes/lee-ndirango-*.md)."""

import dataclasses

import numpy as np
import pytest

from pcheck.ledger import Context, Evidence, by_choice, claim
from pcheck.papers import lee_ndirango as claims
from pcheck.papers.lee_ndirango import benefit as bf
from pcheck.papers.lee_ndirango import student as st
from pcheck.papers.lee_ndirango import ta
from pcheck.papers.lee_ndirango import teachers as tc
from pcheck.papers.lee_ndirango.stats import mean_interval, small_verdict
from pcheck.testing import RTOL_REORDER

#: Central differences with step h: truncation h^2 |f'''| / 6 ~ 1e-12 and rounding
#: eps |f| / h ~ 2e-10 for losses of order 1 (h = 1e-6); 1e-7 leaves a factor > 100.
FD_STEP, FD_ATOL = 1e-6, 1e-7


# --------------------------------------------------------------------------- teachers and noise


def test_teacher_singular_values_relatedness_and_authors_sigma():
    rng = np.random.default_rng(2)
    V_A = tc.orthonormal(rng, 30, 3)
    t = tc.make_teacher(rng, s=2.5, U=tc.orthonormal(rng, 3, 3), V=V_A, sigma=0.5)
    assert np.allclose(np.linalg.svd(t.W, compute_uv=False), 2.5, rtol=0, atol=1e-12)
    assert t.xi.std() == pytest.approx(0.5 / np.sqrt(30), rel=0.3)        # 90 entries: sd of sd ~ 8%
    for r in (0.0, 0.3, 1.0):                                              # QR: rounding ~ n eps << 1e-12
        V_B = tc.related_directions(rng, V_A, r)
        assert np.allclose(V_B.T @ V_A, r * np.eye(3), rtol=0, atol=1e-12)
        assert np.allclose(V_B.T @ V_B, np.eye(3), rtol=0, atol=1e-12)
    assert tc.authors_sigma(100) == 0.1                                     # sig_z=(1 / n_features)**.5
    with pytest.raises(ValueError, match="r must be in"):
        tc.related_directions(rng, V_A, 1.5)
    with pytest.raises(ValueError, match="V_A"):
        tc.related_directions(rng, tc.orthonormal(rng, 5, 3), 0.5)


def test_per_sample_noise_is_fresh_per_sample_and_fixed_noise_is_a_rule():
    """The same input repeated: the fixed noise matrix labels every copy alike (a deterministic,
    learnable rule), the authors' per-sample noise relabels copies independently."""
    rng = np.random.default_rng(3)
    t = tc.make_teacher(rng, s=0.05, U=tc.orthonormal(rng, 4, 4), V=tc.orthonormal(rng, 10, 4), sigma=1.0)
    X = np.repeat(rng.standard_normal((1, 10)), 400, axis=0)
    fixed = t.noisy_labels(X, "fixed")
    assert np.all(fixed == fixed[0]) and fixed[0] == np.argmax(t.noisy @ X[0])
    z = rng.standard_normal((400, 4))
    fresh = t.noisy_labels(X, "per-sample", z)
    assert np.unique(fresh).size == 4                                       # P(one class 400 times) ~ 0
    assert np.array_equal(fresh, np.argmax(X @ t.W.T + z, axis=1))          # sigma = 1
    with pytest.raises(ValueError, match="noise must be"):
        t.noisy_labels(X, "gaussian")
    with pytest.raises(ValueError, match="z"):
        t.noisy_labels(X, "per-sample", np.zeros((3, 4)))


def test_benefit_runs_draw_fresh_noise_per_sample_and_share_it_across_cells(monkeypatch):
    """benefit_runs passes one standard-normal row per training point (n distinct rows, task A's
    draw not task B's) and the same draw to every cell of a seed; under the fixed model the labels
    are argmax((W + xi) x) with one xi_B for all cells."""
    seen = []
    original = tc.Teacher.noisy_labels

    def spy(self, X, noise, z=None):
        labels = original(self, X, noise, z)
        seen.append((noise, None if z is None else z.copy(), X.shape[0], self.xi.copy(),
                     np.array_equal(labels, np.argmax(X @ self.noisy.T, axis=1))))
        return labels

    monkeypatch.setattr(tc.Teacher, "noisy_labels", spy)
    cells = ((0.0, 10.0), (1.0, 10.0))
    bf.benefit_runs(np.random.default_rng(0), bf.Setting(n_in=8, n_classes=3), cells=cells,
                    noise="per-sample", width=5, seeds=1, n_train=30)
    (_, z_A, n, _, _), (_, z_B1, _, _, _), (_, z_B2, _, _, _) = seen
    assert n == 30 and z_A.shape == (30, 3) and np.unique(z_A[:, 0]).size == 30
    assert not np.array_equal(z_A, z_B1) and np.array_equal(z_B1, z_B2)
    seen.clear()
    bf.benefit_runs(np.random.default_rng(0), bf.Setting(n_in=8, n_classes=3), cells=cells,
                    noise="fixed", width=5, seeds=1, n_train=30)
    assert [s[0] for s in seen] == ["fixed"] * 3 and all(s[4] for s in seen)
    assert np.array_equal(seen[1][3], seen[2][3]) and not np.array_equal(seen[0][3], seen[1][3])


# --------------------------------------------------------------------------- the authors' student


def forward(students, k, X):
    """Layer-by-layer forward pass of run-by-run students (independent of trunk_maps)."""
    H = X
    for W, b in zip(students.W, students.b):
        H = H @ W.transpose(0, 2, 1) + b[:, None, :]
    return H @ students.C[k].transpose(0, 2, 1) + students.c[k][:, None, :]


def loss(students, X, y, weights):
    total = np.zeros(X.shape[0])
    for k, w in enumerate(weights):
        Z = forward(students, k, X)
        Z = Z - Z.max(axis=2, keepdims=True)
        nll = np.log(np.exp(Z).sum(axis=2)) - np.take_along_axis(Z, y[k][:, :, None], axis=2)[:, :, 0]
        total += w * nll.mean(axis=1)
    return total


@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_step_is_gradient_descent_on_the_layered_network(n_layers):
    rng = np.random.default_rng(1)
    R, N1, H, C, B = 2, 4, 5, 3, 7
    students = st.init_students(rng, R, n_in=N1, width=H, n_classes=C, n_layers=n_layers)
    X = rng.standard_normal((R, B, N1))
    y = [rng.integers(0, C, size=(R, B)) for _ in range(2)]
    weights = (1.0, 0.5)
    Xa = st.augment(X)
    maps = st.trunk_maps(students)
    for k in range(2):                                  # composite M_k == layer-by-layer network
        Z = Xa @ st.composite(students, k, maps).transpose(0, 2, 1)
        assert np.allclose(Z, forward(students, k, X), rtol=0, atol=1e-12)
    grads = {k: w * st.loss_gradient(st.composite(students, k, maps), Xa, y[k]) for k, w in enumerate(weights)}
    before = students.take(np.arange(R))
    lr = 0.37
    st.step(students, grads, lr, maps)
    params = [("W", l) for l in range(n_layers)] + [("b", l) for l in range(n_layers)] + \
             [("C", 0), ("C", 1), ("c", 0), ("c", 1)]
    for name, l in params:
        array, moved = getattr(before, name)[l], getattr(students, name)[l]
        for index in [(0,) + (0,) * (array.ndim - 1), (1,) + tuple(s - 1 for s in array.shape[1:])]:
            old = array[index]
            array[index] = old + FD_STEP
            up = loss(before, X, y, weights)[index[0]]
            array[index] = old - FD_STEP
            down = loss(before, X, y, weights)[index[0]]
            array[index] = old
            fd = (up - down) / (2 * FD_STEP)
            assert abs((old - moved[index]) / lr - fd) < FD_ATOL, (name, l, index)


@pytest.mark.parametrize("width", [10, 64, 256])
def test_widths_are_honoured_and_init_is_the_authors(width):
    rng = np.random.default_rng(4)
    s = st.init_students(rng, 2, n_in=20, width=width, n_classes=10)
    assert [w.shape for w in s.W] == [(2, width, 20), (2, width, width)] and s.C[0].shape == (2, 10, width)
    W1, C = s.W[0][0], s.C[1][1]
    gram = W1.T @ W1 if width >= 20 else W1 @ W1.T                         # orthonormal columns or rows
    assert np.allclose(gram, np.eye(min(width, 20)), rtol=0, atol=1e-12)
    assert np.allclose(C @ C.T, np.eye(10), rtol=0, atol=1e-12)
    assert np.all(np.abs(s.b[0]) <= 20 ** -0.5) and np.all(np.abs(s.b[1]) <= width ** -0.5)
    assert np.ptp(s.b[0]) > 0                                               # drawn, not zero


def test_benefit_runs_train_students_of_the_requested_width(monkeypatch):
    widths = []
    original = st.init_students

    def spy(rng, runs, **kw):
        out = original(rng, runs, **kw)
        widths.append(out.width)
        return out

    monkeypatch.setattr(st, "init_students", spy)
    br = bf.benefit_runs(np.random.default_rng(0), bf.Setting(n_in=8, n_classes=3),
                         cells=((0.0, 1.0),), noise="fixed", width=7, seeds=2, n_train=20)
    assert widths == [7] and br.width == 7 and br.ce.shape[:2] == (2, 2)


def test_validation_metric_is_the_authors_mean_of_batch_means():
    """multitask/train.py averages the batch means of the validation loader (batch 128, the last
    batch shorter), which differs from the per-sample mean when the batches are unequal."""
    rng = np.random.default_rng(5)
    M = rng.standard_normal((1, 3, 5))
    Xa = st.augment(rng.standard_normal((1, 300, 4)))
    y = rng.integers(0, 3, size=(1, 300))
    ce, acc = st.validation_metrics(M, Xa, y)
    Z = Xa[0] @ M[0].T
    nll = np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(300), y[0]]
    hit = np.argmax(Z, axis=1) == y[0]
    batches = [slice(0, 128), slice(128, 256), slice(256, 300)]
    assert ce[0] == pytest.approx(np.mean([nll[b].mean() for b in batches]), rel=RTOL_REORDER)
    assert acc[0] == pytest.approx(np.mean([hit[b].mean() for b in batches]), rel=RTOL_REORDER)
    assert abs(ce[0] - nll.mean()) > 1e-6


def test_benefit_is_min_over_time_of_baseline_minus_multitask():
    """jp_utils.benefit: df1.min() - df2.min() for the loss, df2.max() - df1.max() for accuracy."""
    ce = np.array([[[2.0, 1.0, 1.5], [2.0, 1.2, 0.7]]])              # seed 0: baseline, one cell
    acc = np.array([[[0.1, 0.6, 0.4], [0.2, 0.5, 0.3]]])
    br = bf.BenefitRuns([(0.0, 10.0)], 10, "fixed", 5, np.arange(3.0), ce, acc)
    assert br.benefit("cross-entropy")[0, 0] == pytest.approx(1.0 - 0.7)
    assert br.benefit("accuracy")[0, 0] == pytest.approx(0.5 - 0.6)
    assert br.cell(0, 10) == 0 and br.baseline("cross-entropy")[0] == 1.0
    with pytest.raises(ValueError, match="metric"):
        br.benefit("loss")


def test_flow_matches_the_authors_sgd_loop_on_a_small_case():
    """Gradient flow with the default step against the authors' loop (alternating minibatch SGD at
    lr 1e-3, 2000 epochs, here 200) reaching the same time: the benefits agree to 0.01 nats
    (measured 1e-3 to 3e-3 at the sizes of the note)."""
    kw = dict(cells=((0.0, 10.0), (1.0, 10.0)), noise="per-sample", width=16, seeds=2, n_train=60)
    setting = bf.Setting(n_in=20, n_classes=4, epochs=200)
    flow = bf.benefit_runs(np.random.default_rng(7), setting, **kw)
    sgd = bf.benefit_runs(np.random.default_rng(7), setting, protocol="authors", **kw)
    assert sgd.ce.shape[2] == 200 and flow.times[-1] == pytest.approx(sgd.times[-1])
    assert np.abs(flow.benefit("cross-entropy") - sgd.benefit("cross-entropy")).max() < 0.01


# --------------------------------------------------------------------------- eq. (3)


def test_softmax_gain_is_the_averaged_jacobian_and_eq3_systems_match_the_scalar_solver():
    rng = np.random.default_rng(4)
    u, v = ta.centered_direction(rng, 5), tc.orthonormal(rng, 7, 1)[:, 0]
    X = rng.standard_normal((40, 7))
    G = np.zeros((5, 5))
    for x in X:  # G(W) = mean_mu diag(p_mu) - p_mu p_mu^T, p_mu = softmax(W x_mu)
        p = st.softmax(1.7 * np.outer(u, v) @ x)
        G += (np.diag(p) - np.outer(p, p)) / len(X)
    assert ta.softmax_gain(1.7, u, X @ v) == pytest.approx(u @ G @ u, rel=1e-12)
    times = np.linspace(0, 5, 6)
    one = ta.integrate_ta(lambda s: ta.ta_paper_force(s, 1.4, u, X @ v), 1.0, times)
    many = ta.integrate_eq3(np.array([1.4, 2.0]), np.array([u, u]), np.array([X @ v, X @ v]), 1.0, times)
    assert np.allclose(many[0], one, rtol=1e-6, atol=0)                    # both at rtol 1e-9
    assert abs(u.sum()) < 1e-12 and np.linalg.norm(u) == pytest.approx(1.0)


def test_label_probabilities_and_effective_s_hat():
    u = np.array([1.0, -1.0]) / np.sqrt(2)
    g = np.array([-1.0, 0.3, 2.0])
    from scipy.special import ndtr
    # two classes: P(y = 0 | g) = Phi(s (u0 - u1) g / (sigma sqrt 2)) = Phi(g) for s = sigma = 1
    assert np.allclose(ta.label_probabilities(g, u, s=1.0, sigma=1.0)[:, 0], ndtr(g), rtol=0, atol=1e-12)
    rng = np.random.default_rng(0)
    u20 = ta.centered_direction(rng, 20)
    P = ta.label_probabilities(rng.standard_normal(50), u20, s=1.0, sigma=1.0)
    assert np.allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-5)             # 48-node quadrature
    s_hat = ta.effective_s_hat(u, s=1.0, sigma=1.0)
    # the softmax model is sigmoid(s_hat (u0 - u1) g) = sigmoid(sqrt 2 s_hat g) against the probit
    # Phi(g): the logistic fit of a probit has slope ~ 1.7 (the classical probit-logit factor)
    assert 1.6 < np.sqrt(2) * s_hat < 1.8
    y = np.array([0, 1, 0, 1, 1, 0])
    gg = np.array([1.0, -1.0, 0.5, 0.2, -2.0, -0.3])
    fitted = ta.fitted_s_hat(u, gg, y)
    force = np.mean(gg * (u[y] - st.softmax(fitted * np.multiply.outer(gg, u)) @ u))
    assert abs(force) < 1e-10
    with pytest.raises(ValueError, match="separable"):
        ta.fitted_s_hat(u, np.array([1.0, -1.0]), np.array([0, 1]))


def test_ta_experiment_honours_the_rank_one_hypothesis():
    """Argmax labels of a rank-one Sigma_hat use at most two classes (argmax and argmin of u);
    the TA init puts s0 on the top singular pair; scaling Sigma_hat by 4 leaves argmax labels
    unchanged (exact: a power of two) while eq. (3)'s fixed point moves."""
    rows = ta.ta_experiment(np.random.default_rng(1), n_classes=5, n_in=8, n_data=30, seeds=2, steps=200,
                            every=100, s0=1.3)
    assert set(rows) == set(ta.TA_ROWS)
    for tr in rows.values():
        assert np.allclose(tr.sgd[:, 0], 1.3, rtol=1e-12) and np.allclose(tr.ode[:, 0], 1.3, rtol=1e-12)
    arg = rows[("argmax", "Sigma_hat")]
    for u, g in zip(arg.u, arg.g):
        logits = np.multiply.outer(g, u)
        labels = np.argmax(logits, axis=1)
        assert set(labels) <= {np.argmax(u), np.argmin(u)}
        assert np.array_equal(np.argmax(4 * logits, axis=1), labels)
    assert np.array_equal(rows[("argmax", "Sigma_hat")].ode, rows[("soft", "Sigma_hat")].ode)
    with pytest.raises(ValueError, match="n_in"):
        ta.ta_experiment(np.random.default_rng(1), n_classes=5, n_in=4, n_data=10, seeds=2)


# --------------------------------------------------------------------------- verdicts


def test_mean_interval_and_small_verdict():
    # samples 1, 2, 3: mean 2, sd 1; Student t with 2 degrees of freedom has t_{0.975} = 0.95 sqrt(2 / (1 - 0.95^2))
    mean, lo, hi = mean_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and hi - mean == pytest.approx(0.95 * np.sqrt(2 / (1 - 0.95**2)) / np.sqrt(3), rel=1e-12)
    assert small_verdict((0, -0.01, 0.01), 0.02) == "holds"
    assert small_verdict((0, 0.03, 0.05), 0.02) == "refuted"
    assert small_verdict((0, -0.01, 0.03), 0.02) == "open"
    assert claims.vanishing_verdict((0.3, 0.2, 0.4), (0.4, 0.35, 0.45)) == "refuted"   # grows
    assert claims.vanishing_verdict((0.3, 0.2, 0.4), (0.1, 0.08, 0.12)) == "open"      # shrinks
    assert claims.vanishing_verdict((0.3, 0.2, 0.4), (0.0, -0.01, 0.01)) == "holds"


def fake_runs(M_fixed, M_per_sample):
    """A stand-in for claims.runs: every cell has benefit M under the given noise model."""
    def runs(ctx, *, n_in, noise, width, n_train, s_A=10.0, cells=claims.CELLS, seeds=None):
        rng = np.random.default_rng(width)
        S, T = 6, 3
        M = (M_fixed if noise == "fixed" else M_per_sample) + 0.001 * rng.standard_normal((S, len(cells)))
        ce = np.full((S, 1 + len(cells), T), 1.0)
        ce[:, 1:] = (1.0 - M)[:, :, None]
        acc = np.full((S, 1 + len(cells), T), 0.5)
        acc[:, 1:] = (0.5 + M)[:, :, None]
        return bf.BenefitRuns(list(cells), n_train, noise, width, np.arange(T), ce, acc)
    return runs


def test_by_choice_gives_depends_when_the_noise_models_disagree(monkeypatch):
    monkeypatch.setattr(claims, "runs", fake_runs(-0.3, 0.0))
    ev = claims.check_unrelated_noisy_ignored(Context(profile="dev", seed=0))
    assert ev.verdict == "depends"
    verdicts = {(r["choice"]["noise"], r["choice"]["metric"]): r["verdict"] for r in ev.choices}
    assert set(verdicts.values()) == {"refuted", "holds"} and verdicts[("fixed", "accuracy")] == "refuted"
    monkeypatch.setattr(claims, "runs", fake_runs(-0.3, -0.3))
    assert claims.check_unrelated_noisy_ignored(Context(profile="dev", seed=0)).verdict == "refuted"
    rows = [({"noise": "fixed"}, Evidence("refuted", 5, 0.3, "m")), ({"noise": "per-sample"}, Evidence("open", 5, 0, "m"))]
    assert by_choice(rows, "m").verdict == "depends"


def test_claims_write_their_figures(tmp_path):
    """The checks' figures land in ctx.report_dir (tiny nojit sizes: only the files are checked)."""
    pytest.importorskip("matplotlib")
    from PIL import Image

    ctx = Context(profile="nojit", seed=0, report_dir=tmp_path)
    for check, name, xlabel in [(claims.check_benefit_grows, "lee_ndirango_benefit_map.png", "cell"),
                                (claims.check_abundant_data, "lee_ndirango_benefit_vs_data.png", "main-task"),
                                (claims.check_ta_ode, "lee_ndirango_ta_ode.png", "t / tau")]:
        assert check(ctx).figures == [str(tmp_path / name)]
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.text["Description"].startswith(f"x: {xlabel}")
    assert claims.check_benefit_grows(Context(profile="nojit", seed=0)).figures == []


def test_bad_input_is_named():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="noise must be"):
        bf.benefit_runs(rng, bf.Setting(), cells=((0, 1),), noise="xi", width=4, seeds=2, n_train=10)
    with pytest.raises(ValueError, match="n_in must be at least"):
        bf.benefit_runs(rng, bf.Setting(n_in=15), cells=((0, 1),), noise="fixed", width=4, seeds=2, n_train=10)
    with pytest.raises(ValueError, match="horizon"):
        bf.benefit_runs(rng, bf.Setting(epochs=1), cells=((0, 1),), noise="fixed", width=4, seeds=2, n_train=10)
    with pytest.raises(ValueError, match="protocol"):
        bf.benefit_runs(rng, bf.Setting(), cells=((0, 1),), noise="fixed", width=4, seeds=2, n_train=10,
                        protocol="adam")
    with pytest.raises(TypeError, match="width"):
        st.init_students(rng, 2, n_in=3, width=2.5, n_classes=2)


# --------------------------------------------------------------------------- the ledger entries


@pytest.fixture
def ledger_ctx(pcheck_context):
    """The session's context, raised to the dev sizes under nojit: the nojit profile's sizes
    (3 seeds, 100 points, a few flow steps) only exercise the code and reach no verdict, and no
    numba kernel runs in these checks, so the dev sizes cost the same with and without the JIT."""
    if pcheck_context.profile == "nojit":
        return dataclasses.replace(pcheck_context, profile="dev")
    return pcheck_context


@pytest.mark.slow
@claim("lee_ndirango.ta_ode")
def test_ta_ode_depends_on_the_label_model(ledger_ctx):
    ev = claims.check_ta_ode(ledger_ctx)
    assert ev.verdict == "depends"
    by_model = {}
    for r in ev.choices:
        by_model.setdefault(r["choice"]["label model"], set()).add(r["verdict"])
    assert by_model["argmax"] == {"refuted"} and "refuted" not in by_model["soft"]
    inv = ev.details["scale_invariance"]
    assert inv["eq3_s_final_at_4_s_hat"] > 1.5 * inv["eq3_s_final_at_s_hat"]


@pytest.mark.slow
@claim("lee_ndirango.benefit_grows")
def test_benefit_grows(ledger_ctx):
    ev = claims.check_benefit_grows(ledger_ctx)
    assert ev.verdict in ("holds", "open"), ev.details
    assert all(r["verdict"] == "holds" for r in ev.choices if r["choice"]["width"] == 64)


@pytest.mark.slow
@claim("lee_ndirango.unrelated_hurts")
def test_unrelated_hurts(ledger_ctx):
    assert claims.check_unrelated_hurts(ledger_ctx).verdict == "holds"


@pytest.mark.slow
@claim("lee_ndirango.unrelated_noisy_ignored")
def test_unrelated_noisy_ignored_depends_on_the_width(ledger_ctx):
    ev = claims.check_unrelated_noisy_ignored(ledger_ctx)
    assert ev.verdict == "depends"
    assert {r["verdict"] for r in ev.choices if r["choice"]["width"] == 64} == {"holds"}
    assert {r["verdict"] for r in ev.choices if r["choice"]["width"] == 10} >= {"refuted"}


@pytest.mark.slow
@claim("lee_ndirango.abundant_data")
def test_abundant_data_depends_on_the_width(ledger_ctx):
    ev = claims.check_abundant_data(ledger_ctx)
    assert ev.verdict == "depends"
    assert {r["verdict"] for r in ev.choices if r["choice"]["width"] == 10} == {"refuted"}
    assert "refuted" not in {r["verdict"] for r in ev.choices if r["choice"]["width"] == 64}
