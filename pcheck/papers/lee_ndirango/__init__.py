"""Lee & Ndirango (NeurIPS 2019): the training-aligned ODE (their eq. 3, Figure 1) and the
multi-task benefit (section 4.4-4.5, Table 1, Figure 2), re-done against the authors' code
(github.com/tyler-nervana/mt-theory).

Every entry is judged under each declared free choice (:data:`.sources.SOURCES`) and the
per-choice verdicts are combined by :func:`pcheck.ledger.by_choice`: "refuted" only when every
choice refutes, "depends" when the choices disagree. Modules: :mod:`.teachers` (teachers and
the two noise models), :mod:`.student` (linear multi-head students), :mod:`.benefit` (the
benefit experiment), :mod:`.ta` (eq. 3), :mod:`.stats` (intervals and verdict rules),
:mod:`.authors_data` (their released numbers), :mod:`.figures`. Notes:
proofs_notes/lee-ndirango-ta-ode.md and lee-ndirango-benefit.md.
"""

from __future__ import annotations

import numpy as np

from pcheck.ledger import Evidence, by_choice, claim
from pcheck.papers.lee_ndirango import authors_data
from pcheck.papers.lee_ndirango.benefit import METRICS, BenefitRuns, Setting, benefit_runs
from pcheck.papers.lee_ndirango.figures import save_figure, trajectory_figure, write_benefit_figure
from pcheck.papers.lee_ndirango.sources import SOURCES
from pcheck.papers.lee_ndirango.stats import combine, mean_interval, sign_verdict, small_verdict, text
from pcheck.papers.lee_ndirango.ta import TA_ROWS, integrate_eq3, ta_experiment
from pcheck.papers.lee_ndirango.teachers import NOISE_MODELS

#: "Eq. (3) tracks SGD": the seed mean of ``max_t |s_SGD - s_eq3| / s_eq3`` over
#: ``t / tau in [0, 5]`` at most 5%; their Figure 1 spans s in 1.0-1.6, where 5% (0.05-0.08)
#: would be a visible gap between curves they call in "excellent agreement".
TRACK_RTOL = 0.05

#: "Little effect", "readily ignored": ``|M| <= 0.02`` (nats or accuracy), a tenth of the range
#: (-0.04 to 0.18) of their Figure 2 scale.
LITTLE_EFFECT = 0.02

#: The cells ``(r_AB, s_B)`` of the benefit map: unrelated / identical directions, their lowest
#: and highest auxiliary singular value.
CELLS = ((0.0, 0.01), (0.0, 10.0), (1.0, 0.01), (1.0, 10.0))

#: The other main-task singular value the thorough profile tries for abundant data (their grid
#: value 10^-0.2, SNR 2.8 at N1 = 20).
S_A_LOW = 0.6309573444801929


def sizes(ctx) -> dict:
    """What each profile runs (``dev`` = ``ci``; ``nojit`` tiny)."""
    return dict(seeds=ctx.pick(dev=10, thorough=20, nojit=3), seeds_big=ctx.pick(dev=5, thorough=10, nojit=3),
                widths=ctx.pick(dev=(10, 64), thorough=(10, 64, 256), nojit=(10, 64)),
                n_in=ctx.pick(dev=(20,), thorough=(20, 100), nojit=(20,)),
                n_map=ctx.pick(dev=800, nojit=100),
                n_big=ctx.pick(dev=1600, thorough=3200, nojit=200),
                s_A=ctx.pick(dev=(10.0,), thorough=(10.0, S_A_LOW), nojit=(10.0,)))


_RUNS: dict = {}


def runs(ctx, *, n_in: int, noise: str, width: int, n_train: int, s_A: float = 10.0, cells=CELLS,
         seeds: int | None = None) -> BenefitRuns:
    """:func:`.benefit.benefit_runs` (``seeds`` default the profile's), cached per profile and
    seed. The generator depends on ``(N1, n, s_A)`` only, so both noise models and every width
    see the same teachers, data and noise draws (a paired comparison across choices)."""
    size = sizes(ctx)
    seeds = size["seeds"] if seeds is None else seeds
    key = (ctx.profile, ctx.seed, n_in, noise, width, n_train, s_A, tuple(cells), seeds)
    if key not in _RUNS:
        stream = 10**7 * (1 + (s_A != 10.0)) + 10**4 * n_in + n_train
        _RUNS[key] = benefit_runs(ctx.rng(stream), Setting(n_in=n_in, s_A=s_A), cells=cells,
                                  noise=noise, width=width, seeds=seeds, n_train=n_train)
    return _RUNS[key]


def choices(ctx):
    """``(choice dict, BenefitRuns at n_map)`` for every N1 x noise x width of the profile."""
    size = sizes(ctx)
    for n_in in size["n_in"]:
        for noise in NOISE_MODELS:
            for width in size["widths"]:
                yield ({"N1": n_in, "noise": noise, "width": width},
                       runs(ctx, n_in=n_in, noise=noise, width=width, n_train=size["n_map"]))


def row(verdict: str, seeds: int, residual: float, measure: str) -> Evidence:
    return Evidence(verdict, seeds, residual, measure)


def csv_reference(n_train: int) -> dict:
    """The authors' released ``M`` (cross-entropy, ``s_A = 10``) at ``n_train`` for :data:`CELLS`."""
    out = {}
    for r, s_B in CELLS:
        mean, se = authors_data.cell(n_train, r, s_B)
        out[f"M(r={r:g}, s_B={s_B:g})"] = f"{mean:+.3f} +- {se:.3f} (5 seeds, mean +- s.e.)"
    return out


def map_figure(ctx, name: str, metric: str = "cross-entropy") -> list:
    """Heat map of ``M`` per choice (rows) and cell (columns) at the first N1, in ``ctx.report_dir``."""
    if ctx.report_dir is None:
        return []
    size = sizes(ctx)
    picked = [(c, br) for c, br in choices(ctx) if c["N1"] == size["n_in"][0]]
    benefit = np.stack([br.benefit(metric) for _, br in picked], axis=1)
    rows = [f"{c['noise']}, width {c['width']}" for c, _ in picked]
    cols = [f"r={r:g}, s_B={s:g}" for r, s in CELLS]
    return [str(write_benefit_figure(
        ctx.report_dir / name, benefit, rows, cols, row_label="noise model, student width", col_label="cell",
        unit=f"M_A<-B ({metric})",
        title=f"Lee & Ndirango Fig. 2 setting: N1 = {size['n_in'][0]}, s_A = 10, n = {size['n_map']}, "
              f"{size['seeds']} seeds"))]


# --------------------------------------------------------------------------- eq. (3)


@claim("lee_ndirango.ta_ode", note="lee-ndirango-ta-ode.md", expected="depends", variants=("2 classes", "20 classes"),
       statement="For a rank-one noisy teacher s_hat u v^T and the training-aligned initialisation, the student's "
                 "top singular value under SGD follows tau ds/dt = 2 s u.(s_hat G(s_hat u v^T) - s G(s u v^T)) u "
                 "(eq. 3) for 2 and 20 classes and 100 training points.",
       **SOURCES["lee_ndirango.ta_ode"])
def check_ta_ode(ctx):
    seeds = ctx.pick(dev=6, thorough=10, nojit=3)
    steps = ctx.pick(dev=5000, nojit=500)
    s0_grid = ctx.pick(dev=(1.0,), thorough=(0.5, 1.0, 2.0))
    batches = ctx.pick(dev=(None,), thorough=(None, 1))
    setting = dict(n_in=20, n_data=100, s_teacher=1.0, sigma=1.0, rest=0.01, lr=1e-3, steps=steps, every=steps // 50)
    rows, details, shown = [], {"tolerance": TRACK_RTOL, "seeds": seeds, **setting}, {}
    for n_classes in (2, 20):
        for s0 in s0_grid:
            for batch in batches:
                result = ta_experiment(ctx.rng(n_classes), n_classes=n_classes, seeds=seeds, s0=s0, batch=batch,
                                       **setting)
                for (model, rule), tr in result.items():
                    dev = mean_interval(tr.max_deviation())
                    verdict = "holds" if dev[2] <= TRACK_RTOL else "refuted" if dev[1] > TRACK_RTOL else "open"
                    choice = {"label model": model, "s_hat": rule, "classes": n_classes, "s0": s0,
                              "batch": "full" if batch is None else batch}
                    rows.append((choice, row(verdict, seeds, dev[0], "max_t |s_SGD - s_eq3| / s_eq3")))
                    details[" ".join(f"{k}={v}" for k, v in choice.items())] = {
                        "verdict": verdict, "max rel. deviation": text(dev),
                        "s(5) SGD / eq. 3": f"{tr.sgd[:, -1].mean():.3f} / {tr.ode[:, -1].mean():.3f}",
                        "s_hat": f"{tr.s_hat.mean():.3f}",
                        "2nd singular value t=0 -> 5": f"{tr.second[:, 0].mean():.3f} -> {tr.second[:, -1].mean():.3f}"}
                    if s0 == 1.0 and batch is None and rule != "fitted":
                        shown[f"{n_classes} cl., {model}"] = tr
                if n_classes == 2 and s0 == 1.0 and batch is None:
                    details["scale_invariance"] = scale_invariance(result[("argmax", "Sigma_hat")], s0)
    figures = [] if ctx.report_dir is None else [str(save_figure(
        trajectory_figure(shown, title=f"Lee & Ndirango Fig. 1 setting: rank-one Sigma_hat, {seeds} seeds, 100 points"),
        ctx.report_dir / "lee_ndirango_ta_ode.png"))]
    evidence = by_choice(rows, "max_t |s_SGD - s_eq3| / s_eq3 (seed mean)", details=details)
    evidence.figures = figures
    if evidence.verdict != "holds":
        evidence.counterexample = "\n".join(
            f"{c['label model']} labels (s_hat: {c['s_hat']}), {c['classes']} classes, s0 = {c['s0']}, batch "
            f"{c['batch']}: eq. (3) misses SGD by {ev.residual:.3f} ({ev.verdict})" for c, ev in rows
            if ev.verdict != "holds")
        evidence.reproduce = reproduce(ctx, "lee_ndirango.ta_ode")
    return evidence


def scale_invariance(tr, s0: float) -> dict:
    """Argmax labels of ``Sigma_hat`` and of ``4 Sigma_hat`` are the same (exactly: a power of
    two), hence so is SGD from the TA init (it uses only the singular vectors); eq. (3)'s fixed
    point ``s_hat`` scales by 4. Eq. (3)'s ``s(5)`` at ``s_hat`` and at ``4 s_hat`` on the same
    inputs, against SGD (the argmax row ``tr``)."""
    at4 = integrate_eq3(4.0 * tr.s_hat, tr.u, tr.g, s0, tr.times)
    return {"sgd_s_final": float(tr.sgd[:, -1].mean()), "eq3_s_final_at_s_hat": float(tr.ode[:, -1].mean()),
            "eq3_s_final_at_4_s_hat": float(at4[:, -1].mean())}


def reproduce(ctx, claim_id: str) -> str:
    return f"pcheck verify --claims '{claim_id}' --seed {ctx.seed} --profile {ctx.profile}"


# --------------------------------------------------------------------------- the benefit map


def map_rows(ctx, judge, measure: str):
    """``by_choice`` rows: ``judge(br, metric) -> (verdict, residual, detail)`` for every choice and metric."""
    rows, details = [], {}
    for choice, br in choices(ctx):
        for metric in METRICS:
            verdict, residual, detail = judge(br, metric)
            full = {**choice, "metric": metric}
            rows.append((full, row(verdict, br.ce.shape[0], residual, measure)))
            details[" ".join(f"{k}={v}" for k, v in full.items())] = {
                "verdict": verdict, **detail, "baseline": text(mean_interval(br.baseline(metric)))}
    return rows, details


def cell_interval(br: BenefitRuns, metric: str, r: float, s_B: float):
    return mean_interval(br.benefit(metric)[:, br.cell(r, s_B)])


def finish(ctx, claim_id: str, rows, details, measure: str, figures=()) -> Evidence:
    size = sizes(ctx)
    details = {"n_train": size["n_map"], "seeds": size["seeds"], "little_effect": LITTLE_EFFECT,
               f"authors_csv_at_n={size['n_map']}": csv_reference(size["n_map"]), **details}
    evidence = by_choice(rows, measure, details=details)
    evidence.figures = list(figures)
    if evidence.verdict != "holds":
        evidence.counterexample = "\n".join(f"{c}: {ev.verdict}" for c, ev in rows if ev.verdict != "holds")
        evidence.reproduce = reproduce(ctx, claim_id)
    return evidence


@claim("lee_ndirango.benefit_grows", note="lee-ndirango-benefit.md", expected="open",
       statement="The multi-task benefit M_{A<-B} grows with the relatedness r_AB and with the auxiliary task's "
                 "SNR: M(r=1, high s_B) > M(r=0, high s_B) and M(r=1, high s_B) > M(r=1, low s_B).",
       **SOURCES["lee_ndirango.benefit_grows"])
def check_benefit_grows(ctx):
    def judge(br, metric):
        M = br.benefit(metric)
        by_r = mean_interval(M[:, br.cell(1, 10)] - M[:, br.cell(0, 10)])
        by_snr = mean_interval(M[:, br.cell(1, 10)] - M[:, br.cell(1, 0.01)])
        verdict = combine([sign_verdict(by_r, +1), sign_verdict(by_snr, +1)])
        return verdict, min(by_r[1], by_snr[1]), {"M(r=1)-M(r=0), s_B=10": text(by_r),
                                                  "M(s_B=10)-M(s_B=0.01), r=1": text(by_snr)}

    rows, details = map_rows(ctx, judge, "lower 95% bound of the smaller contrast")
    return finish(ctx, "lee_ndirango.benefit_grows", rows, details, "lower 95% bound of the smaller contrast",
                  map_figure(ctx, "lee_ndirango_benefit_map.png"))


@claim("lee_ndirango.unrelated_hurts", note="lee-ndirango-benefit.md", expected="holds",
       statement="An unrelated (r_AB = 0), high-SNR auxiliary task is destructive: M_{A<-B} < 0.",
       **SOURCES["lee_ndirango.unrelated_hurts"])
def check_unrelated_hurts(ctx):
    def judge(br, metric):
        hurt = cell_interval(br, metric, 0, 10)
        return sign_verdict(hurt, -1), hurt[2], {"M(r=0, s_B=10)": text(hurt)}

    rows, details = map_rows(ctx, judge, "upper 95% bound of M(r=0, s_B=10)")
    return finish(ctx, "lee_ndirango.unrelated_hurts", rows, details, "upper 95% bound of M(r=0, s_B=10)")


@claim("lee_ndirango.unrelated_noisy_ignored", note="lee-ndirango-benefit.md", expected="depends",
       statement="An unrelated (r_AB = 0), low-SNR auxiliary task is readily ignored: |M_{A<-B}| <= 0.02.",
       **SOURCES["lee_ndirango.unrelated_noisy_ignored"])
def check_unrelated_noisy_ignored(ctx):
    def judge(br, metric):
        low = cell_interval(br, metric, 0, 0.01)
        return small_verdict(low, LITTLE_EFFECT), abs(low[0]), {"M(r=0, s_B=0.01)": text(low)}

    rows, details = map_rows(ctx, judge, "|M(r=0, s_B=0.01)| (seed mean)")
    return finish(ctx, "lee_ndirango.unrelated_noisy_ignored", rows, details, "|M(r=0, s_B=0.01)| (seed mean)")


# --------------------------------------------------------------------------- abundant data


def vanishing_verdict(small_n, big_n) -> str:
    """``M -> 0`` from the intervals of one cell at a smaller and the largest n: holds when the
    largest-n interval is inside ``+-LITTLE_EFFECT``; refuted when it is entirely outside and the
    seed-mean ``|M|`` did not decrease from the smaller n; open otherwise (outside, but shrinking)."""
    small = small_verdict(big_n, LITTLE_EFFECT)
    if small == "refuted" and abs(big_n[0]) >= abs(small_n[0]):
        return "refuted"
    return "holds" if small == "holds" else "open"


@claim("lee_ndirango.abundant_data", note="lee-ndirango-benefit.md", expected="depends",
       statement="With abundant main-task data the auxiliary task has little effect, whatever r_AB: M_{A<-B} -> 0.",
       **SOURCES["lee_ndirango.abundant_data"])
def check_abundant_data(ctx):
    size = sizes(ctx)
    n_grid = (size["n_map"], size["n_big"])
    rows, details, shown, labels = [], {"n_train": list(n_grid), "little_effect": LITTLE_EFFECT,
                                        "seeds": [size["seeds"], size["seeds_big"]]}, [], []
    for s_A in size["s_A"]:
        for noise in NOISE_MODELS:
            for width in size["widths"]:
                by_n = [runs(ctx, n_in=20, noise=noise, width=width, n_train=n_grid[0], s_A=s_A),
                        runs(ctx, n_in=20, noise=noise, width=width, n_train=n_grid[1], s_A=s_A,
                             cells=((0.0, 10.0), (1.0, 10.0)), seeds=size["seeds_big"])]
                for metric in METRICS:
                    verdicts, detail = [], {}
                    for r in (0.0, 1.0):
                        small_n, big_n = (mean_interval(br.benefit(metric)[:, br.cell(r, 10)]) for br in by_n)
                        verdicts.append(vanishing_verdict(small_n, big_n))
                        detail[f"M(r={r:g}, s_B=10)"] = {f"n={n}": text(i) for n, i in zip(n_grid, (small_n, big_n))}
                    detail["baseline"] = {f"n={n}": text(mean_interval(br.baseline(metric))) for n, br in
                                          zip(n_grid, by_n)}
                    verdict = combine(verdicts)
                    choice = {"N1": 20, "s_A": round(s_A, 3), "noise": noise, "width": width, "metric": metric}
                    worst = max(abs(mean_interval(by_n[1].benefit(metric)[:, by_n[1].cell(r, 10)])[0]) for r in (0, 1))
                    rows.append((choice, row(verdict, size["seeds"], worst, "largest |M| at the largest n")))
                    details[" ".join(f"{k}={v}" for k, v in choice.items())] = {"verdict": verdict, **detail}
                if s_A == 10.0:
                    for r in (0.0, 1.0):
                        k = size["seeds_big"]                           # seeds run at both sizes
                        shown.append(np.stack([br.benefit("cross-entropy")[:k, br.cell(r, 10)] for br in by_n], axis=1))
                        labels.append(f"{noise}, w {width}, r={r:g}")
    details["authors_csv_M(r=1, s_B=10)"] = {f"n={n}": "%+.3f +- %.3f" % authors_data.cell(n, 1.0, 10.0)
                                             for n in (400, 800, 1600, 3200)}
    details["authors_csv_M(r=0, s_B=10)"] = {f"n={n}": "%+.3f +- %.3f" % authors_data.cell(n, 0.0, 10.0)
                                             for n in (400, 800, 1600, 3200)}
    figures = [] if ctx.report_dir is None else [str(write_benefit_figure(
        ctx.report_dir / "lee_ndirango_benefit_vs_data.png", np.stack(shown, axis=1), labels, list(n_grid),
        row_label="noise model, width, r_AB", col_label="main-task training points n", unit="M_A<-B (cross-entropy)",
        title=f"Lee & Ndirango: M_A<-B at s_A = 10, s_B = 10, N1 = 20, {size['seeds']} seeds"))]
    evidence = by_choice(rows, "largest |M| at the largest n", details=details)
    evidence.figures = figures
    if evidence.verdict != "holds":
        evidence.counterexample = "\n".join(f"{c}: {ev.verdict}" for c, ev in rows if ev.verdict != "holds")
        evidence.reproduce = reproduce(ctx, "lee_ndirango.abundant_data")
    return evidence
