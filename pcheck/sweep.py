"""Sweeps: a claim checked on a systematic grid of instances, scaled out with dask.distributed.

A sweep is a function ``evaluate(instance) -> residual`` over a list of instance dicts (a
grid). ``evaluate`` raises ``AssertionError`` when an instance refutes the claim, as the
properties of :func:`pcheck.ledger.property_check` do, and :class:`Undecided` when the
instance decides nothing (the verdict "open"). :func:`map_instances` runs it on a
dask cluster (a ``LocalCluster`` by default, any scheduler address when given) or
serially; both give the same per-instance results, in grid order. :func:`sweep_outcome`
folds them into an :class:`pcheck.ledger.Outcome`, so a sweep lands in the same report
(``report.md``, ``report.json``, ``details.instances``) as ``pcheck verify``.

Built-in sweeps: ``htw.footnote7.grid`` (footnote 7 on a grid of single neurons) and
``htw.thm3_2.grid`` (Theorem 3.2 at width N + 1, the grid of ``proofs_notes/htw-thm3_2.md``).

Register a sweep with :func:`sweep`::

    @sweep("mypaper.lemma2.grid", statement="...", source="My paper, Lemma 2",
           note="mypaper-lemma2.md", measure="relative error",
           grid=lambda ctx: [{"n": n} for n in range(ctx.pick(dev=10, ci=100))])
    def lemma2_instance(instance):
        ...
        return residual
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from pcheck.ledger import VERDICTS, Claim, Context, Evidence, Outcome


class Undecided(Exception):
    """Raised by a sweep's ``evaluate`` when its instance neither confirms nor refutes the claim."""


@dataclass(frozen=True)
class Sweep:
    """A claim (``id``, ``statement``, ``source``, ``note``, ``expected``, ``variants``) with
    ``grid(ctx) -> list[dict]`` (sized by ``ctx.pick``) and ``evaluate(instance) -> residual``."""

    id: str
    statement: str
    source: str
    note: str
    measure: str
    grid: Callable
    evaluate: Callable
    expected: str = "holds"
    variants: tuple = ()

    def as_claim(self) -> Claim:
        return Claim(self.id, self.statement, self.source, self.expected, self.note, self.variants, self.evaluate)


SWEEPS: dict[str, Sweep] = {}


def sweep(id: str, *, statement: str, source: str, note: str, measure: str, grid: Callable, expected: str = "holds",
          variants=()):
    """Decorator: register ``evaluate(instance) -> residual`` as the sweep ``id`` over ``grid(ctx)``."""
    if expected not in VERDICTS:
        raise ValueError(f"expected must be one of {VERDICTS}, got {expected!r}")

    def register(evaluate: Callable) -> Callable:
        SWEEPS[id] = Sweep(id, statement, source, note, measure, grid, evaluate, expected, tuple(variants))
        return evaluate

    return register


def evaluate_instance(evaluate: Callable, index: int, instance: dict) -> dict:
    """One grid point: ``{"index", **instance, "verdict", "residual", "message"}``, where the
    verdict is "holds", "refuted" (``evaluate`` raised ``AssertionError``), "open"
    (:class:`Undecided`) or "error" (any other exception)."""
    row = {"index": index, **instance}
    try:
        residual = float(evaluate(instance))
        if math.isnan(residual):
            raise AssertionError("the instance returned a NaN residual")
    except AssertionError as exc:
        return {**row, "verdict": "refuted", "residual": None, "message": str(exc)}
    except Undecided as exc:
        return {**row, "verdict": "open", "residual": None, "message": str(exc)}
    except Exception as exc:  # reported per instance, never hidden
        return {**row, "verdict": "error", "residual": None, "message": f"{type(exc).__name__}: {exc}"}
    return {**row, "verdict": "holds", "residual": residual, "message": None}


def map_instances(evaluate: Callable, instances: list[dict], *, scheduler: str | None = None, workers: int = 2,
                  processes: bool = True, serial: bool = False) -> list[dict]:
    """:func:`evaluate_instance` on every instance, in order.

    ``serial=True`` runs in this process. Otherwise on dask.distributed: the scheduler at
    ``scheduler`` (e.g. ``"tcp://10.0.0.1:8786"``) when given, else a ``LocalCluster`` of
    ``workers`` single-threaded workers (processes, or threads when ``processes=False``).
    ``evaluate`` must be importable by the workers (a module-level function).
    """
    instances = list(instances)
    if serial:
        return [evaluate_instance(evaluate, i, x) for i, x in enumerate(instances)]
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError("sweeps on a cluster need dask.distributed: pip install 'pcheck[sweep]' "
                          "(or run serially)") from exc

    if scheduler is not None:
        with Client(scheduler) as client:
            return gather(client, evaluate, instances)
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        return gather(client, evaluate, instances)


def gather(client, evaluate: Callable, instances: list[dict]) -> list[dict]:
    futures = client.map(evaluate_instance, [evaluate] * len(instances), range(len(instances)), instances, pure=False)
    return client.gather(futures)


def sweep_outcome(s: Sweep, rows: list[dict], seconds: float) -> Outcome:
    """Fold per-instance rows into one outcome: an error outcome when an instance raised,
    "refuted" at the first refuting instance (its reproduce command re-evaluates it), else
    "open" when an instance is undecided, else "holds"; the residual is the worst one, the
    rows go to ``details["instances"]``."""
    claim = s.as_claim()
    errors = [r for r in rows if r["verdict"] == "error"]
    if errors:
        return Outcome(claim, None, seconds, f"instance {errors[0]['index']}: {errors[0]['message']}")
    residuals = [r["residual"] for r in rows if r["residual"] is not None]
    worst = max(residuals, default=0.0)
    refuted = [r for r in rows if r["verdict"] == "refuted"]
    details = {"instances": rows}
    if not refuted:
        verdict = "open" if any(r["verdict"] == "open" for r in rows) else "holds"
        return Outcome(claim, Evidence(verdict, len(rows), worst, s.measure, details=details), seconds)
    first = refuted[0]
    instance = {k: v for k, v in first.items() if k not in ("index", "verdict", "residual", "message")}
    reproduce = f"python -c \"from pcheck.sweep import SWEEPS; SWEEPS['{s.id}'].evaluate({instance!r})\""
    return Outcome(claim, Evidence("refuted", len(rows), worst, s.measure, counterexample=f"{instance!r}\n{first['message']}",
                                   reproduce=reproduce, details=details), seconds)


def run_sweep(s: Sweep, ctx: Context, **options) -> Outcome:
    """Run sweep ``s`` on its grid for ``ctx``; ``options`` go to :func:`map_instances`."""
    start = time.perf_counter()
    rows = map_instances(s.evaluate, s.grid(ctx), **options)
    return sweep_outcome(s, rows, time.perf_counter() - start)


def unit(d: int, sign: float = 1.0) -> np.ndarray:
    """A fixed unit vector of length ``d`` with entries of mixed sign (no special direction)."""
    u = sign * np.array([(-1.0) ** k * (k + 1) for k in range(d)])
    return u / np.linalg.norm(u)


def footnote7_grid(ctx: Context) -> list[dict]:
    """Single neurons ``(v, b, w)`` on a grid of ``||v||``, ``b``, ``||w||``, ``d_in``, ``d_out``,
    including offsets ``-b/||v||`` far in the tails of ``g``."""
    v_norms = ctx.pick(dev=(0.1, 4.0), ci=(0.1, 1.0, 4.0), thorough=(0.1, 0.5, 1.0, 4.0), nojit=(1.0,))
    biases = ctx.pick(dev=(-4.0, 0.0, 1.0), ci=(-4.0, -1.0, 0.0, 1.0, 4.0), thorough=(-4.0, -1.0, -0.1, 0.0, 0.1, 1.0, 4.0),
                      nojit=(-1.0, 2.0))
    w_norms = ctx.pick(dev=(2.0,), ci=(0.5, 2.0), nojit=(2.0,))
    dims = ctx.pick(dev=((1, 1), (3, 2)), ci=((1, 1), (1, 3), (3, 1), (3, 2)), nojit=((1, 1),))
    return [{"d_in": d_in, "d_out": d_out, "v_norm": vn, "b": b, "w_norm": wn}
            for (d_in, d_out), vn, b, wn in itertools.product(dims, v_norms, biases, w_norms)]


@sweep("htw.footnote7.grid", source="Heiss, Teichmann & Wutte, arXiv 2112.15577, footnote 7", note="htw-footnote7.md",
       statement="Footnote 7 on a grid of single neurons: R_7 and the integral of the smoothed ||h''|| against 1/g "
                 "both equal ||v|| ||w|| / g(-b/||v||).",
       measure="relative error", grid=footnote7_grid, variants=("7",))
def footnote7_instance(instance: dict) -> float:
    """The footnote-7 identity (see :func:`pcheck.papers.htw.rescaling.footnote7_identity`) at one grid point."""
    from pcheck.papers.htw.rescaling import footnote7_identity
    from pcheck.core.network import Stack

    v = instance["v_norm"] * unit(instance["d_in"])
    w = instance["w_norm"] * unit(instance["d_out"], -1.0)
    return footnote7_identity(Stack(v[None, :], [instance["b"]], w[:, None], np.zeros(instance["d_out"])))


#: Restricted solves the branch and bound of :func:`pcheck.problems.width.width_lower_bound` may spend
#: per instance: the ledger's minimal counterexample needs ~520, the dev grid's ~290.
THM3_2_MAX_NODES = 3000


def thm3_2_grid(ctx: Context) -> list[dict]:
    """Instances of the Theorem 3.2 sweep of ``proofs_notes/htw-thm3_2.md``: 1D data
    ``X = sort(U(-2, 2, N))``, ``Y = N(0, 1)^(N x d_out)`` from ``default_rng([seed, N, d_out])``;
    the ``thorough`` grid is that note's full sweep. ``max_nodes`` is the budget of the branch
    and bound that certifies "refuted" when the search stays above (0: no certification)."""
    variants = ctx.pick(dev=("7", "8"), nojit=("7",))
    d_outs = ctx.pick(dev=(1, 2, 5), ci=(1, 2, 3, 5, 8), nojit=(1, 5))
    Ns = ctx.pick(dev=(3, 5), ci=(2, 3, 4, 5, 6), nojit=(5,))
    lams = ctx.pick(dev=(0.1,), ci=(1e-3, 0.1, 1.0), nojit=(0.1,))
    seeds = ctx.pick(dev=(0,), thorough=(0, 1, 2))
    max_nodes = ctx.pick(dev=THM3_2_MAX_NODES, nojit=0)
    return [{"variant": v, "d_out": d, "N": N, "lam": lam, "seed": seed, "max_nodes": max_nodes}
            for v, d, N, lam, seed in itertools.product(variants, d_outs, Ns, lams, seeds)]


@sweep("htw.thm3_2.grid", source="Heiss, Teichmann & Wutte, arXiv 2112.15577, Theorem 3.2", note="htw-thm3_2.md",
       statement="In 1D, a width n = N + 1 network reaches the certified optimum of (5) (HTW claim it for every "
                 "d_out); refuted only by a certified width-(N+1) lower bound above that optimum, open when the "
                 "search stays above without one.",
       measure="relative margin of the best width-(N+1) network over the certified bound", grid=thm3_2_grid,
       expected="refuted", variants=("7", "8"))
def thm3_2_instance(instance: dict) -> float:
    """:func:`pcheck.problems.width.width_sufficiency` at width ``N + 1`` (2 restarts on top of the pruned
    function-space starts): "reached" gives the margin, "refuted" (certified) raises
    ``AssertionError``, "not reached" is :class:`Undecided`."""
    from pcheck.problems.width import width_sufficiency

    rng = np.random.default_rng([instance["seed"], instance["N"], instance["d_out"]])
    X = np.sort(rng.uniform(-2, 2, instance["N"]))[:, None]
    Y = rng.standard_normal((instance["N"], instance["d_out"]))
    v = width_sufficiency(X, Y, instance["lam"], variant=instance["variant"], seed=instance["seed"], restarts=2,
                          max_nodes=instance["max_nodes"])
    if v.verdict == "refuted":
        raise AssertionError(f"certified: every width-{v.width} network has (4) >= {v.width_bound.lower_bound!r} > "
                             f"min (5) = {v.upper_bound!r} ({v.width_bound.nodes} restricted solves)")
    if v.verdict != "reached":
        raise Undecided(f"margin {v.margin:.3e} over the bound, optimum with {v.atoms} atoms, effort {v.effort}")
    return max(v.margin, 0.0)
