"""Lee & Ndirango (NeurIPS 2019): the training-aligned ODE (their eq. 3, Figure 1) and the
multi-task benefit map (their section 4.4-4.5, Table 1, Figure 2).

Each multi-task claim is a sign pattern of the benefit ``M_{A<-B}`` (best main-task test
accuracy with task B minus without) on fixed seeds, judged by a 95% Student-t confidence
interval across seeds: "holds" when the interval lies on the predicted side, "refuted"
when it lies on the other side, "open" otherwise. Setting and sizes: proofs_notes/
lee-ndirango-ta-ode.md and lee-ndirango-benefit.md.
"""

from __future__ import annotations

import numpy as np

from pcheck.ledger import Evidence, claim
from pcheck.papers.lee_ndirango import teacher_student as ln

LN = "Lee & Ndirango, NeurIPS 2019"

#: "ODE (3) tracks SGD": the seed mean of max_t |s_SGD(t) - s_ODE(t)| / s_ODE(t) over
#: t / tau in [0, 5] is at most 5%. Their Figure 1 plots s in [1.0, 1.6]; a 5% gap
#: (0.05 to 0.08) would be a visible separation of the curves they call "excellent agreement".
TRACK_RTOL = 0.05

#: "Little effect" of the auxiliary task (Table 1 row d): |M| <= 0.02 accuracy, a tenth of
#: the range (-0.04 to 0.18) of their Figure 2 colour scale.
LITTLE_EFFECT = 0.02

#: Confidence level of the intervals across seeds.
LEVEL = 0.95

#: The TA setting of their Figure 1 (100 training points, t / tau = steps x lr = 5 with
#: lr = 1e-3); N1, the teacher's singular value, the noise and s0 are not given in the
#: paper: SNR s_teacher / sigma = 1, N1 = 50, s0 = 1 (their curves start at 1.0).
TA_SETTING = dict(n_in=50, n_data=100, s_teacher=1.0, sigma=1.0, rest=0.01, lr=1e-3, steps=5000, batch=1,
                  every=100)

#: The multi-task setting of their section 4.5: N3 = N2 = 10 classes and teacher rank,
#: all singular values of a teacher equal; noise sigma = 1, so the SNR is s_A, s_B.
MT_SETTING = dict(n_in=50, n_classes=10, sigma=1.0, s_A=3.0, lr=0.05, batch=32, every=50, n_test=2000,
                  init_scale=0.5)
R_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)


def interval(samples) -> tuple[float, float, float]:
    """Mean and the 95% Student-t interval of the mean over seeds."""
    return ln.mean_interval(samples, LEVEL)


def sign_verdict(lo: float, hi: float, predicted: int) -> str:
    """holds / refuted / open for a predicted sign (+1 or -1) of an interval ``[lo, hi]``."""
    if (lo > 0 and predicted > 0) or (hi < 0 and predicted < 0):
        return "holds"
    if (lo > 0 and predicted < 0) or (hi < 0 and predicted > 0):
        return "refuted"
    return "open"


def reproduce(ctx, claim_id: str) -> str:
    return f"pcheck verify --claims '{claim_id}' --seed {ctx.seed} --profile {ctx.profile}"


# --------------------------------------------------------------------------- eq. (3)


def ta_deviation(traj: ln.TATrajectories, ode: np.ndarray) -> tuple[float, float, float]:
    """Interval over seeds of ``max_t |s_SGD - s_ODE| / s_ODE``."""
    return interval(np.max(np.abs(traj.sgd - ode) / ode, axis=1))


@claim("lee_ndirango.ta_ode", source=f"{LN}, eq. (3) and Figure 1", note="lee-ndirango-ta-ode.md",
       expected="refuted", variants=("2 classes", "20 classes"),
       statement="For a rank-one noisy teacher s_hat u_hat v_hat^T and the training-aligned initialisation, the "
                 "student's top singular value under SGD follows tau ds/dt = 2 s u_hat.(s_hat G(s_hat u_hat v_hat^T) "
                 "- s G(s u_hat v_hat^T)) u_hat, for 2 and 20 classes and 100 training points.")
def check_ta_ode(ctx):
    seeds = ctx.pick(dev=10, nojit=3)
    s0_grid = ctx.pick(dev=(1.0,), thorough=(0.5, 1.0, 2.0))
    details, worst, bad = {"tolerance": TRACK_RTOL, "seeds": seeds, **TA_SETTING}, 0.0, []
    runs = 2 * len(s0_grid) * seeds
    shown = {}
    for n_classes in (2, 20):
        for s0 in s0_grid:
            traj = ln.ta_experiment(ctx.rng(n_classes), n_classes=n_classes, n_hidden=n_classes, s0=s0,
                                    seeds=seeds, **TA_SETTING)
            paper, ray = ta_deviation(traj, traj.paper), ta_deviation(traj, traj.ray)
            key = f"C={n_classes}, s0={s0}"
            if s0 == 1.0:
                shown[f"{n_classes} classes"] = traj
            details[key] = {"paper_ode_max_rel_dev": paper, "ta_ray_max_rel_dev": ray,
                            "s_final": {"sgd": float(traj.sgd[:, -1].mean()), "paper": float(traj.paper[:, -1].mean()),
                                        "ray": float(traj.ray[:, -1].mean())},
                            "s_hat_mean": float(traj.s_hat.mean()),
                            "second_singular_value_start_end": [float(traj.second[:, 0].mean()),
                                                                float(traj.second[:, -1].mean())]}
            worst = max(worst, paper[0])
            if paper[1] > TRACK_RTOL:
                bad.append(f"{key}: max relative deviation {paper[0]:.3f} (95% CI {paper[1]:.3f}..{paper[2]:.3f}) "
                           f"> {TRACK_RTOL}; s(5) SGD {traj.sgd[:, -1].mean():.3f} vs eq. (3) "
                           f"{traj.paper[:, -1].mean():.3f}")
    details["scale_invariance"] = scale_invariance(ctx, seeds)
    figures = [] if ctx.report_dir is None else [str(ln.save_figure(
        ln.trajectory_figure(shown, title=f"Lee & Ndirango Fig. 1 setting: {seeds} seeds, 100 points, SNR 1"),
        ctx.report_dir / "lee_ndirango_ta_ode.png"))]
    if details["scale_invariance"]["ode_gap"] / 2 > TRACK_RTOL:
        bad.append("scale invariance: (s_teacher, sigma) -> (4 s_teacher, 4 sigma) leaves the labels and SGD unchanged "
                   f"(max rel. diff {details['scale_invariance']['sgd_diff']:.1e}) but moves eq. (3)'s s(5) by a "
                   f"relative {details['scale_invariance']['ode_gap']:.3f}: it misses SGD by > "
                   f"{details['scale_invariance']['ode_gap'] / 2:.3f} at one of the two scales")
    if bad:
        return Evidence("refuted", runs, worst, "max_t |s_SGD - s_eq3| / s_eq3",
                        counterexample="\n".join(bad), reproduce=reproduce(ctx, "lee_ndirango.ta_ode"), details=details,
                        figures=figures)
    return Evidence("holds", runs, worst, "max_t |s_SGD - s_eq3| / s_eq3", details=details, figures=figures)


def scale_invariance(ctx, seeds: int) -> dict:
    """Labels ``argmax Sigma_hat x`` do not change under ``Sigma_hat -> 4 Sigma_hat`` (exact in
    floating point: a power of two), hence neither does SGD from the TA initialisation (which
    uses only the singular vectors), while the fixed point ``s = s_hat`` of eq. (3) scales by 4."""
    setting = dict(TA_SETTING, n_classes=2, n_hidden=2, s0=1.0, seeds=seeds)
    a = ln.ta_experiment(ctx.rng(2), **setting)
    b = ln.ta_experiment(ctx.rng(2), **dict(setting, s_teacher=4 * setting["s_teacher"], sigma=4 * setting["sigma"]))
    return {"sgd_diff": float(np.max(np.abs(a.sgd - b.sgd) / a.sgd)),
            "ode_final": [float(a.paper[:, -1].mean()), float(b.paper[:, -1].mean())],
            "ode_gap": float(np.mean(np.abs(a.paper[:, -1] - b.paper[:, -1]) / np.maximum(a.paper[:, -1],
                                                                                        b.paper[:, -1])))}


# --------------------------------------------------------------------------- benefit map

_MAPS: dict = {}


def mt_sizes(ctx) -> dict:
    return dict(seeds=ctx.pick(dev=5, thorough=10, nojit=3), steps=ctx.pick(dev=1000, thorough=2000, nojit=200))


def relatedness_snr_map(ctx) -> ln.BenefitMap:
    """The benefit over ``r_AB`` and ``s_B`` at one training-set size (cached per profile and seed)."""
    key = (ctx.profile, ctx.seed)
    if key not in _MAPS:
        s_B = ctx.pick(dev=(0.1, 1.0, 10.0), thorough=(0.01, 0.1, 1.0, 10.0, 100.0))
        n_data = ctx.pick(dev=400, thorough=800, nojit=200)
        _MAPS[key] = ln.benefit_map(ctx.rng(100), r=R_GRID, s_B=s_B, n_data=n_data, **mt_sizes(ctx), **MT_SETTING)
    return _MAPS[key]


def map_details(bm: ln.BenefitMap) -> dict:
    cells = [[interval(bm.benefit[:, i, j]) for j in range(bm.s_B.size)] for i in range(bm.r.size)]
    return {"r": bm.r.tolist(), "s_B": bm.s_B.tolist(), "benefit_mean_ci": cells,
            "baseline_accuracy": interval(bm.baseline), "noisy_teacher_accuracy": interval(bm.ceiling)}


def write_figure(ctx, name: str, benefit, rows, cols, **labels) -> list:
    """The heat map in ``ctx.report_dir`` (nothing when it is None)."""
    if ctx.report_dir is None:
        return []
    return [str(ln.write_benefit_figure(ctx.report_dir / name, benefit, rows, cols, **labels))]


@claim("lee_ndirango.benefit_grows", source=f"{LN}, section 4.5 item 1, Table 1 row (b), Figure 2",
       note="lee-ndirango-benefit.md",
       statement="The multi-task benefit M_{A<-B} grows with the relatedness r_AB = V_B^T V_A and with the SNR of the "
                 "auxiliary task: M(r=1, high s_B) > M(r=0, high s_B) and M(r=1, high s_B) > M(r=1, low s_B).")
def check_benefit_grows(ctx):
    bm = relatedness_snr_map(ctx)
    M = bm.benefit
    by_r = interval(M[:, -1, -1] - M[:, 0, -1])
    by_snr = interval(M[:, -1, -1] - M[:, -1, 0])
    verdicts = [sign_verdict(by_r[1], by_r[2], +1), sign_verdict(by_snr[1], by_snr[2], +1)]
    verdict = "refuted" if "refuted" in verdicts else "open" if "open" in verdicts else "holds"
    details = {"M(r=1)-M(r=0) at high s_B": by_r, "M(high s_B)-M(low s_B) at r=1": by_snr, **map_details(bm)}
    figures = write_figure(ctx, "lee_ndirango_benefit_map.png", M, bm.r, bm.s_B,
                           title=f"Lee & Ndirango: M_A<-B, s_A = {MT_SETTING['s_A']}, N_data = {bm.n_data}")
    return Evidence(verdict, M.shape[0], min(by_r[1], by_snr[1]), "lower 95% bound of the two contrasts (accuracy)",
                    counterexample=None if verdict == "holds" else f"contrasts by r {by_r}, by SNR {by_snr}",
                    reproduce=None if verdict == "holds" else reproduce(ctx, "lee_ndirango.benefit_grows"),
                    details=details, figures=figures)


@claim("lee_ndirango.unrelated_hurts", source=f"{LN}, section 4.5 item 2, appendix C.1 eq. (35)",
       note="lee-ndirango-benefit.md",
       statement="An unrelated (r_AB = 0), high-SNR auxiliary task is destructive: M_{A<-B} < 0.")
def check_unrelated_hurts(ctx):
    bm = relatedness_snr_map(ctx)
    hurt = interval(bm.benefit[:, 0, -1])
    verdict = sign_verdict(hurt[1], hurt[2], -1)
    details = {"M(r=0, high s_B)": hurt, "M(r=0, low s_B)": interval(bm.benefit[:, 0, 0]), **map_details(bm)}
    return Evidence(verdict, bm.benefit.shape[0], hurt[2], "upper 95% bound of M(r=0, high s_B) (accuracy)",
                    counterexample=None if verdict == "holds" else f"M(r=0, s_B={bm.s_B[-1]}) = {hurt}",
                    reproduce=None if verdict == "holds" else reproduce(ctx, "lee_ndirango.unrelated_hurts"),
                    details=details)


@claim("lee_ndirango.unrelated_noisy_ignored", source=f"{LN}, section 4.5 item 2, Table 1 rows (a), (c)",
       note="lee-ndirango-benefit.md", expected="refuted",
       statement="An unrelated (r_AB = 0), low-SNR auxiliary task is readily ignored: |M_{A<-B}| is small.")
def check_unrelated_noisy_ignored(ctx):
    bm = relatedness_snr_map(ctx)
    mean, lo, hi = interval(bm.benefit[:, 0, 0])
    verdict = ("holds" if -LITTLE_EFFECT <= lo and hi <= LITTLE_EFFECT
               else "refuted" if lo > LITTLE_EFFECT or hi < -LITTLE_EFFECT else "open")
    details = {"little_effect": LITTLE_EFFECT, f"M(r=0, s_B={bm.s_B[0]})": (mean, lo, hi), **map_details(bm)}
    return Evidence(verdict, bm.benefit.shape[0], abs(mean), "|M(r=0, low s_B)| (accuracy)",
                    counterexample=None if verdict == "holds" else
                    f"M(r=0, s_B={bm.s_B[0]}) = {mean:+.3f} [{lo:+.3f}, {hi:+.3f}], N_data = {bm.n_data}",
                    reproduce=None if verdict == "holds" else reproduce(ctx, "lee_ndirango.unrelated_noisy_ignored"),
                    details=details)


@claim("lee_ndirango.abundant_data", source=f"{LN}, section 4.4 (eq. 5 and C.1:37), Table 1 row (d), Figure 2 right",
       note="lee-ndirango-benefit.md", expected="refuted",
       statement="With abundant main-task data the auxiliary task has little effect, whatever r_AB: M_{A<-B} -> 0.")
def check_abundant_data(ctx):
    n_grid = ctx.pick(dev=(400, 3200), thorough=(100, 400, 1600, 6400), nojit=(100, 400))
    maps = {n: ln.benefit_map(ctx.rng(200 + i), r=(0.0, 1.0), s_B=(10.0,), n_data=n,
                              **dict(mt_sizes(ctx), steps=mt_sizes(ctx)["steps"] * max(1, n // 1600)), **MT_SETTING)
            for i, n in enumerate(n_grid)}
    big = maps[n_grid[-1]]
    details = {"little_effect": LITTLE_EFFECT, "n_data": list(n_grid)}
    for n, bm in maps.items():
        details[f"N={n}"] = {"M(r=0)": interval(bm.benefit[:, 0, 0]), "M(r=1)": interval(bm.benefit[:, 1, 0]),
                             "baseline_accuracy": interval(bm.baseline), "noisy_teacher_accuracy": interval(bm.ceiling),
                             "multitask_accuracy(r=1)": interval(bm.multitask[:, 1, 0])}
    saturated = interval(big.baseline - big.ceiling)[2] > -LITTLE_EFFECT
    cells = [interval(big.benefit[:, i, 0]) for i in range(2)]
    far = [c for c in cells if c[1] > LITTLE_EFFECT or c[2] < -LITTLE_EFFECT]
    near = all(-LITTLE_EFFECT <= c[1] and c[2] <= LITTLE_EFFECT for c in cells)
    verdict = "refuted" if far and saturated else "holds" if near else "open"
    details["baseline_reached_noisy_teacher"] = bool(saturated)
    benefit = np.stack([maps[n].benefit[:, :, 0] for n in n_grid], axis=2)      # (S, 2, n_N)
    figures = write_figure(ctx, "lee_ndirango_benefit_vs_data.png", benefit, (0.0, 1.0), n_grid,
                           col_label="main-task training points N_data",
                           title=f"Lee & Ndirango: M_A<-B, s_A = {MT_SETTING['s_A']}, s_B = 10")
    text = "; ".join(f"r={r}: M = {c[0]:+.3f} [{c[1]:+.3f}, {c[2]:+.3f}]" for r, c in zip((0, 1), cells))
    return Evidence(verdict, big.benefit.shape[0], max(abs(c[0]) for c in cells), "|M| at the largest N_data",
                    counterexample=None if verdict == "holds" else f"N_data = {n_grid[-1]}, s_B = 10: {text}",
                    reproduce=None if verdict == "holds" else reproduce(ctx, "lee_ndirango.abundant_data"),
                    details=details, figures=figures)
