"""Sweeps: a claim checked on a systematic grid of instances, scaled out with dask.distributed.

A sweep is a function ``evaluate(instance) -> residual`` over a list of instance dicts (a
grid). ``evaluate`` raises ``AssertionError`` when an instance refutes the claim, as the
properties of :func:`pcheck.ledger.property_check` do, and :class:`Undecided` when the
instance decides nothing (the verdict "open"). :func:`map_instances` runs it on a
dask cluster (a ``LocalCluster`` by default, any scheduler address when given) or
serially; both give the same per-instance results, in grid order. :func:`sweep_outcome`
folds them into an :class:`pcheck.ledger.Outcome`, so a sweep lands in the same report
(``report.md``, ``report.json``, ``details.instances``) as ``pcheck verify``.

Sweeps register when their module is imported; pcheck's own (``htw.footnote7.grid`` in
:mod:`pcheck.papers.htw.footnote7`, ``htw.thm3_2.grid`` in :mod:`pcheck.papers.htw.thm3_2`)
load with the claims (:func:`pcheck.ledger.load_claims`).

Register a sweep with :func:`sweep`::

    @sweep("mypaper.lemma2.grid", statement="...", source="My paper, Lemma 2",
           note="mypaper-lemma2.md", measure="relative error",
           grid=lambda ctx: [{"n": n} for n in range(ctx.pick(dev=10, ci=100))])
    def lemma2_instance(instance):
        ...
        return residual
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

from pcheck.ledger import VERDICTS, Claim, Context, Evidence, Outcome, load_claims


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


def find(id: str) -> Sweep:
    """The registered sweep ``id``, after loading every claims module (where sweeps register)."""
    load_claims()
    if id not in SWEEPS:
        raise KeyError(f"no sweep {id!r}; known: {sorted(SWEEPS)}")
    return SWEEPS[id]


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
    reproduce = f"python -c \"from pcheck.sweep import find; find('{s.id}').evaluate({instance!r})\""
    return Outcome(claim, Evidence("refuted", len(rows), worst, s.measure, counterexample=f"{instance!r}\n{first['message']}",
                                   reproduce=reproduce, details=details), seconds)


def run_sweep(s: Sweep, ctx: Context, **options) -> Outcome:
    """Run sweep ``s`` on its grid for ``ctx``; ``options`` go to :func:`map_instances`."""
    start = time.perf_counter()
    rows = map_instances(s.evaluate, s.grid(ctx), **options)
    return sweep_outcome(s, rows, time.perf_counter() - start)












