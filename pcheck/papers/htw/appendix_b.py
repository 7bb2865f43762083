"""HTW Appendix B: seven periodic tasks learned jointly by three stacks with ``d_1 = d_2 = 1``;
the learned representation is periodic and the data-poor task gains from the others."""

from __future__ import annotations

import functools

import numpy as np

from pcheck.ledger import Evidence, claim
from pcheck.papers.htw.periodic_tasks import (
    APPENDIX_B_DEFAULTS,
    joint_vs_separate,
    periodic_tasks,
    periodicity_defect,
    train_identity,
)
from pcheck.papers.htw.sources import SOURCES

#: A representation counts as periodic when its periodicity defect is below this. Reason:
#: a monotone H, e.g. H(x) = x on [0, 3] with P = 1, has defect P / std(x) = 1 / 0.58 = 1.7
#: (a constant-slope H); 0.25 leaves room for the training error of an L-BFGS run while
#: staying far below any non-periodic H the runs produce (alone: 1.2 - 2.1).
PERIODIC_DEFECT_MAX = 0.25


#: "Joint beats alone" means the held-out RMS error of every data-poor task is at most
#: this fraction of the error trained alone (a qualitative margin, not a tolerance).
BENEFIT_RATIO_MAX = 0.5


@functools.lru_cache(maxsize=8)
def appendix_b_run(seed: int, restarts: int | None = None, maxiter: int | None = None, *, alone: bool = True):
    """The Appendix B experiment with :data:`pcheck.papers.htw.periodic_tasks.APPENDIX_B_DEFAULTS` (optionally
    fewer ``restarts`` / ``maxiter``) on the task family of ``seed``; ``alone=False`` trains
    the joint network only (then ``result`` is a :class:`pcheck.problems.deep.DeepFit`).
    Cached: the Appendix B claims share runs."""

    options = dict(APPENDIX_B_DEFAULTS)
    options.update({k: v for k, v in (("restarts", restarts), ("maxiter", maxiter)) if v is not None})
    tasks = periodic_tasks(rng=seed)
    if alone:
        joint = appendix_b_run(seed, restarts, maxiter, alone=False)[1] if restarts or maxiter else best_joint(seed)
        return tasks, joint_vs_separate(tasks, seed=seed, joint=joint, **options)
    lam = options.pop("lam")
    return tasks, train_identity(tasks.X, tasks.Y, lam, mask=tasks.mask, rng=seed, **options)


def _seeds(ctx):
    return range(ctx.seed, ctx.seed + ctx.pick(dev=3, ci=4, nojit=1))


#: Starts of the wider searches run, in turn, while a seed's best H is not P-periodic. Reason:
#: a local search that misses cannot refute, so a failure counts only if the widest search's
#: best still fails. Measured with scipy's L-BFGS-B (proofs_notes/htw-appendix-b.md): seed 2's
#: 4 starts end at objective 0.0641 with an H of period 2P, 12 starts reach 0.0590 with period
#: P; seed 8's 4 and 12 starts end at 0.0641 with a non-periodic H (defect 1.41 at P), 24
#: starts reach 0.0431 with period P (defect 0.087).
ESCALATED_RESTARTS = (12, 24)


@functools.lru_cache(maxsize=8)
def best_joint(seed: int):
    """The joint network with the lowest objective found: the default search, then the wider
    ones (:data:`ESCALATED_RESTARTS`) while the best H is not P-periodic."""
    tasks, fit = appendix_b_run(seed, alone=False)
    span = tasks.periods * tasks.period
    for restarts in ESCALATED_RESTARTS:
        if periodicity_defect(fit.network, tasks.period, 0.0, span) <= PERIODIC_DEFECT_MAX:
            break
        fit = min(fit, appendix_b_run(seed, restarts, alone=False)[1], key=lambda f: f.objective)
    return fit


def representation_defects(ctx, seeds=None) -> list:
    """Per seed (default :func:`_seeds`): ``(seed, defect at period P, defect at period 2P)``
    of the H of :func:`best_joint`."""

    out = []
    for seed in _seeds(ctx) if seeds is None else seeds:
        tasks, fit = periodic_tasks(rng=seed), best_joint(seed)
        span = tasks.periods * tasks.period
        out.append((seed, periodicity_defect(fit.network, tasks.period, 0.0, span),
                    periodicity_defect(fit.network, 2 * tasks.period, 0.0, span)))
    return out


@claim("htw.appendix_b.periodic", note="htw-appendix-b.md",
       statement="Trained with weight decay on 7 tasks of a common period P (d_in = 1, three stacks, d_1 = d_2 = 1, "
                 "identity sigma), the learned representation H = h_2 o h_1 is periodic (period P or 2P).",
       **SOURCES["htw.appendix_b.periodic"])
def check_appendix_b_periodic(ctx):
    return periodicity_evidence(representation_defects(ctx), lambda d: min(d[1], d[2]),
                                "min over P, 2P of ||H(x+p) - H(x)|| / ||H - mean H||")


def periodicity_evidence(defects, defect, measure: str) -> Evidence:
    """"holds" when ``defect(row)`` of every ``(seed, defect P, defect 2P)`` row is at most
    :data:`PERIODIC_DEFECT_MAX`, else "refuted" with the failing rows."""
    bad = [d for d in defects if defect(d) > PERIODIC_DEFECT_MAX]
    return Evidence("holds" if not bad else "refuted", len(defects), max(defect(d) for d in defects),
                    f"{measure} (periodic below {PERIODIC_DEFECT_MAX})",
                    counterexample=None if not bad else f"(seed, defect P, defect 2P): {bad}",
                    reproduce=f"pcheck plot appendix-b --seed {bad[0][0]}" if bad else None,
                    details={"defects (seed, P, 2P)": defects})


@claim("htw.appendix_b.period_is_task_period", note="htw-appendix-b.md",
       statement="Our sharpening (the paper hopes for 'a periodic representation H' without naming its period): in the "
                 "Appendix B setting the learned representation H = h_2 o h_1 has the tasks' period P itself "
                 "(rather than a multiple, with h_3 doing the last fold).",
       **SOURCES["htw.appendix_b.period_is_task_period"])
def check_appendix_b_period_is_task_period(ctx):
    return periodicity_evidence(representation_defects(ctx, sorted({LOCAL_2P_SEED, *_seeds(ctx)})),
                                lambda d: d[1], "||H(x+P) - H(x)|| / ||H - mean H||")


@claim("htw.appendix_b.benefit", note="htw-appendix-b.md",
       statement="In the Appendix B setting a data-poor task (data in the first period only) trained jointly with "
                 "the other tasks has a lower held-out error than trained alone with the same architecture.",
       **SOURCES["htw.appendix_b.benefit"])
def check_appendix_b_benefit(ctx):
    tasks, result = appendix_b_run(ctx.seed)
    ratio = float(np.max(result.joint_error / result.alone_error))
    verdict = "holds" if ratio <= BENEFIT_RATIO_MAX else "refuted"
    details = {"joint_objective": result.joint.objective, "restart_objectives": list(result.joint.objectives),
               "poor_tasks": list(tasks.poor), "joint_rms": result.joint_error.tolist(),
               "alone_rms": result.alone_error.tolist(), "joint_periodicity_defect": result.joint_periodicity}
    return Evidence(verdict, len(tasks.poor), ratio, f"held-out RMS joint / alone (benefit below {BENEFIT_RATIO_MAX})",
                    counterexample=None if verdict == "holds" else f"seed {ctx.seed}: ratio {ratio:.3f}",
                    reproduce=f"pcheck plot appendix-b --seed {ctx.seed}", details=details)


#: The task family with a local minimum whose H has period 2P (objective 0.0641 under scipy's
#: L-BFGS-B; the earlier hand-written L-BFGS's best, 0.0601, had it too), below which the wider
#: search finds a P-periodic H (0.0590; proofs_notes/htw-appendix-b.md): the "period P" entry
#: always includes it, whatever ``--seed``, so the escalation that decides it stays checked.
LOCAL_2P_SEED = 2
