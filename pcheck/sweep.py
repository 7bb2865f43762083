"""Sweeps: a claim checked on a systematic grid of instances, scaled out with dask.distributed.

A sweep is a function ``evaluate(instance) -> residual`` over a list of instance dicts (a
grid). ``evaluate`` raises ``AssertionError`` when an instance refutes the claim, as the
properties of :func:`pcheck.ledger.property_check` do, and :class:`Undecided` when the
instance decides nothing (the verdict "open"). :func:`map_instances` runs it on a
dask cluster (a ``LocalCluster`` by default, any scheduler address when given) or
serially; both give the same per-instance results, in grid order. :func:`sweep_outcome`
folds them into an :class:`pcheck.ledger.Outcome`, so a sweep lands in the same report
(``report.md``, ``report.json``, ``details.instances``) as ``pcheck verify``.

No finished instance is lost: :func:`run_sweep` appends each row to a JSON-lines file as
soon as it completes (flushed and fsynced, in completion order), and an instance that raises,
or whose worker dies (dask's ``KilledWorker`` after its retries), or that never ran because
the cluster failed or the run was interrupted, becomes an "error" row with its reason while
the other instances go on. ``resume=True`` takes the rows already in that file (matched by
instance content, so a changed grid re-runs only what is new) and runs the rest; "error"
rows are run again.

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

A grid that draws its instances at random takes the seed from ``ctx`` (``ctx.rng(stream)``);
``pcheck sweep --seed N`` is accepted only for such grids (:func:`grid_takes_seed`).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pcheck.ledger import (
    VERDICTS,
    Claim,
    Context,
    Evidence,
    Outcome,
    json_safe,
    load_claims,
)

#: The keys a row adds to its instance's (an instance may not use them).
ROW_KEYS = ("index", "verdict", "residual", "message")

#: Seconds to wait for a scheduler given by address before calling it unreachable (dask's own
#: default connect timeout is 30 s; a running scheduler answers in well under a second).
SCHEDULER_TIMEOUT = 10.0

#: Addresses ``--scheduler`` accepts: ``[protocol://]host:port`` with a protocol dask.distributed
#: serves over the network (tcp, the default; tls; ws, wss; ucx).
SCHEDULER_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$")


class Undecided(Exception):
    """Raised by a sweep's ``evaluate`` when its instance neither confirms nor refutes the claim."""


@dataclass(frozen=True)
class Sweep:
    """A claim (``id``, ``statement``, ``source``, ``note``, ``expected``, ``variants`` and the
    issue-13 fields ``quote``, ``reading``, ``origin``, ``free_choices``, ``derived_from`` of
    :class:`pcheck.ledger.Claim`) with ``grid(ctx) -> list[dict]`` (sized by ``ctx.pick``) and
    ``evaluate(instance) -> residual``."""

    id: str
    statement: str
    source: str
    note: str
    measure: str
    grid: Callable
    evaluate: Callable
    expected: str = "holds"
    variants: tuple = ()
    quote: str = ""
    reading: str = ""
    origin: str = "paper"
    free_choices: dict = field(default_factory=dict)
    derived_from: tuple = ()

    def as_claim(self) -> Claim:
        return Claim(self.id, self.statement, self.source, self.expected, self.note, self.variants, self.evaluate,
                     self.quote, self.reading, self.origin, dict(self.free_choices), tuple(self.derived_from))


SWEEPS: dict[str, Sweep] = {}


def sweep(id: str, *, statement: str, source: str, note: str, measure: str, grid: Callable, expected: str = "holds",
          variants=(), quote: str = "", reading: str = "", origin: str = "paper", free_choices: dict | None = None,
          derived_from=()):
    """Decorator: register ``evaluate(instance) -> residual`` as the sweep ``id`` over ``grid(ctx)``."""
    if expected not in VERDICTS:
        raise ValueError(f"expected must be one of {VERDICTS}, got {expected!r}")

    def register(evaluate: Callable) -> Callable:
        SWEEPS[id] = Sweep(id, statement, source, note, measure, grid, evaluate, expected, tuple(variants), quote,
                           reading, origin, dict(free_choices or {}), tuple(derived_from))
        return evaluate

    return register


def find(id: str) -> Sweep:
    """The registered sweep ``id``, after loading every claims module (where sweeps register)."""
    load_claims()
    if id not in SWEEPS:
        raise KeyError(f"no sweep {id!r}; known: {sorted(SWEEPS)}")
    return SWEEPS[id]


def grid_takes_seed(s: Sweep, profile: str = "dev") -> bool:
    """Whether ``s``'s grid depends on ``ctx.seed`` (its grids under seeds 0 and 1 differ).
    ``evaluate`` sees only its instance, so the grid is the only place a seed can enter."""
    return s.grid(Context(profile=profile, seed=0)) != s.grid(Context(profile=profile, seed=1))


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


def failed_row(index: int, instance: dict, reason: str) -> dict:
    """The "error" row of an instance that did not finish (its worker died, the cluster failed,
    the run was interrupted)."""
    return {"index": index, **instance, "verdict": "error", "residual": None, "message": reason}


def exception_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def require_dask():
    """dask.distributed's ``Client``, ``LocalCluster`` and ``as_completed``, or an ImportError naming the extra."""
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise ImportError("sweeps on a cluster need dask.distributed: pip install 'pcheck[sweep]' "
                          "(or run serially)") from exc
    return Client, LocalCluster, as_completed


def check_scheduler_address(address: str) -> str:
    """``address`` if it has the form of :data:`SCHEDULER_ADDRESS` with a port in 1..65535, else ValueError."""
    match = SCHEDULER_ADDRESS.match(address)
    if match is None or not 1 <= int(match.group(1)) <= 65535:
        raise ValueError(f"scheduler must be an address [tcp|tls|ws|wss|ucx://]host:port (port 1-65535), "
                         f"got {address!r}")
    return address


def check_scheduler(address: str, timeout: float | None = None) -> None:
    """Connect to the scheduler at ``address`` and disconnect; ``OSError`` naming it when none
    answers within ``timeout`` seconds (default :data:`SCHEDULER_TIMEOUT`)."""
    Client, _, _ = require_dask()
    timeout = SCHEDULER_TIMEOUT if timeout is None else timeout
    try:
        Client(check_scheduler_address(address), timeout=timeout).close()
    except (OSError, TimeoutError) as exc:
        raise OSError(f"no dask scheduler answers at {address} within {timeout:g} s ({exception_text(exc)})") from exc


def map_instances(evaluate: Callable, instances: list[dict], *, scheduler: str | None = None, workers: int = 2,
                  processes: bool = True, serial: bool = False, indices=None,
                  on_row: Callable | None = None) -> list[dict]:
    """:func:`evaluate_instance` on every instance; the rows come back in the order given.

    ``serial=True`` runs in this process. Otherwise on dask.distributed: the scheduler at
    ``scheduler`` (e.g. ``"tcp://10.0.0.1:8786"``) when given, else a ``LocalCluster`` of
    ``workers`` single-threaded workers (processes, or threads when ``processes=False``).
    ``evaluate`` must be importable by the workers (a module-level function).

    ``indices`` are the rows' ``"index"`` values (default ``0, 1, ...``); ``on_row(row)`` is
    called for each row as it finishes, in completion order (:func:`run_sweep` streams them to
    disk). An instance whose task is lost (its worker died on every try: ``KilledWorker``) or
    never runs (the cluster failed) becomes an "error" row with the reason; the others go on.
    """
    instances = list(instances)
    indices = list(range(len(instances)) if indices is None else indices)
    if len(indices) != len(instances):
        raise ValueError(f"indices has {len(indices)} entries for {len(instances)} instances")
    on_row = on_row or (lambda row: None)
    if not instances:  # nothing left to run (a resumed sweep): no cluster to start
        return []
    if serial:
        rows = []
        for i, x in zip(indices, instances):
            rows.append(evaluate_instance(evaluate, i, x))
            on_row(rows[-1])
        return rows
    Client, LocalCluster, as_completed = require_dask()
    if scheduler is not None:
        check_scheduler_address(scheduler)
    elif not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    rows = [None] * len(instances)
    try:
        if scheduler is not None:
            with Client(scheduler, timeout=SCHEDULER_TIMEOUT) as client:
                gather(client, as_completed, evaluate, instances, indices, rows, on_row)
        else:
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=processes,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                gather(client, as_completed, evaluate, instances, indices, rows, on_row)
    except Exception as exc:  # the cluster itself failed: what did not finish is an error row, never lost
        for k, row in enumerate(rows):
            if row is None:
                rows[k] = failed_row(indices[k], instances[k], f"not run: the cluster failed: {exception_text(exc)}")
                on_row(rows[k])
    return rows


def gather(client, as_completed, evaluate: Callable, instances: list[dict], indices: list, rows: list,
           on_row: Callable) -> None:
    """Fill ``rows`` (in the order of ``instances``) as the tasks finish, calling ``on_row`` on each."""
    futures = client.map(evaluate_instance, [evaluate] * len(instances), indices, instances, pure=False)
    slot = {future.key: k for k, future in enumerate(futures)}
    for future in as_completed(futures):
        k = slot[future.key]
        try:
            row = future.result()
        except Exception as exc:  # KilledWorker (the worker died on every try), a cancelled task
            row = failed_row(indices[k], instances[k], f"lost: {exception_text(exc)}")
        rows[k] = row
        on_row(row)


def fold(rows: list[dict]) -> str:
    """The verdict of rows without errors: "refuted" if one refutes, else "open" if one is undecided, else "holds"."""
    verdicts = {r["verdict"] for r in rows}
    return "refuted" if "refuted" in verdicts else ("open" if "open" in verdicts else "holds")


@dataclass
class SweepOutcome(Outcome):
    """A sweep's :class:`pcheck.ledger.Outcome`; ``details`` keeps the rows (``"instances"``)
    also when instances failed and there is no evidence; ``interrupted`` when the run was stopped."""

    details: dict = field(default_factory=dict)
    interrupted: bool = False


def sweep_outcome(s: Sweep, rows: list[dict], seconds: float, details: dict | None = None) -> SweepOutcome:
    """Fold per-instance rows into one outcome: an "error" outcome when an instance failed
    (raised, was lost, or did not run; the message counts them and says what the others
    found), else "refuted" at the first refuting instance (its reproduce command re-evaluates
    it), else "open" when an instance is undecided, else "holds"; the residual is the worst
    one, the rows go to ``details["instances"]`` next to ``details``."""
    claim = s.as_claim()
    details = {"instances": rows, **(details or {})}
    errors = [r for r in rows if r["verdict"] == "error"]
    if errors:
        rest = [r for r in rows if r["verdict"] != "error"]
        refuted = [r for r in rest if r["verdict"] == "refuted"]
        others = f"the other {len(rest)}: {fold(rest)}" if rest else "no other instance"
        if refuted:
            others += f" (first refuting: instance {refuted[0]['index']})"
        message = (f"{len(errors)} of {len(rows)} instances failed, first instance {errors[0]['index']}: "
                   f"{errors[0]['message']}; {others}")
        return SweepOutcome(claim, None, seconds, message, details=details)
    residuals = [r["residual"] for r in rows if r["residual"] is not None]
    worst = max(residuals, default=0.0)
    refuted = [r for r in rows if r["verdict"] == "refuted"]
    if not refuted:
        return SweepOutcome(claim, Evidence(fold(rows), len(rows), worst, s.measure, details=details), seconds,
                            details=details)
    first = refuted[0]
    instance = instance_of(first)
    reproduce = f"python -c \"from pcheck.sweep import find; find('{s.id}').evaluate({instance!r})\""
    return SweepOutcome(claim, Evidence("refuted", len(rows), worst, s.measure,
                                        counterexample=f"{instance!r}\n{first['message']}", reproduce=reproduce,
                                        details=details), seconds, details=details)


def instance_of(row: dict) -> dict:
    """The instance a row was evaluated on (the row without :data:`ROW_KEYS`)."""
    return {k: v for k, v in row.items() if k not in ROW_KEYS}


def instance_key(instance: dict) -> str:
    """An instance as canonical JSON text: the key that matches it to its row in a JSON-lines file."""
    return json.dumps(json_safe(instance), sort_keys=True)


def read_rows(path) -> dict[str, dict]:
    """The rows of a sweep's JSON-lines file by :func:`instance_key` (a later row of the same
    instance wins); lines that do not parse, such as a write cut short by a crash, are skipped."""
    rows = {}
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and all(k in row for k in ROW_KEYS):
            rows[instance_key(instance_of(row))] = row
    return rows


class RowLog:
    """A sweep's JSON-lines file, one finished row a line, flushed and fsynced as each row
    arrives (a crash or a kill loses at most the line being written). ``append=False`` starts
    the file afresh; ``append=True`` continues it (after completing a line a crash cut short).
    A failed write (a full disk) never stops the sweep: it is kept in ``error`` and the
    remaining rows are kept in memory only."""

    def __init__(self, path, *, append: bool):
        self.path = Path(path)
        self.error = None
        cut = append and self.path.exists() and self.path.stat().st_size > 0 and \
            not self.path.read_bytes().endswith(b"\n")
        self.file = self.path.open("a" if append else "w")
        if cut:
            self.file.write("\n")

    def __call__(self, row: dict) -> None:
        if self.error is not None:
            return
        try:
            self.file.write(json.dumps(json_safe(row), allow_nan=False) + "\n")
            self.file.flush()
            os.fsync(self.file.fileno())
        except OSError as exc:
            self.error = exception_text(exc)

    def close(self) -> None:
        try:
            self.file.close()
        except OSError as exc:
            self.error = self.error or exception_text(exc)


def run_sweep(s: Sweep, ctx: Context, *, jsonl=None, resume: bool = False, **options) -> SweepOutcome:
    """Run sweep ``s`` on its grid for ``ctx``; ``options`` go to :func:`map_instances`.

    With ``jsonl`` (a path), every finished row is appended to that file as it completes;
    ``resume=True`` first takes the rows already there whose verdict is not "error" (matched to
    the grid by instance content) and evaluates only the others. A ``KeyboardInterrupt``
    ends the sweep early: the rows not finished become "error" rows ("not run: interrupted")
    and the outcome is marked ``interrupted``.
    """
    start = time.perf_counter()
    instances = s.grid(ctx)
    done = read_rows(jsonl) if (resume and jsonl is not None) else {}
    rows: list = [None] * len(instances)
    for i, instance in enumerate(instances):
        previous = done.get(instance_key(instance))
        if previous is not None and previous["verdict"] != "error":
            rows[i] = {"index": i, **instance, **{k: previous[k] for k in ROW_KEYS if k != "index"}}
    resumed = sum(r is not None for r in rows)
    pending = [i for i, r in enumerate(rows) if r is None]
    log = RowLog(jsonl, append=resume) if jsonl is not None else None
    interrupted = False

    def finished(row):
        rows[row["index"]] = row
        if log is not None:
            log(row)

    try:
        map_instances(s.evaluate, [instances[i] for i in pending], indices=pending, on_row=finished, **options)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if log is not None:
            log.close()
    rows = [failed_row(i, instances[i], "not run: interrupted") if r is None else r for i, r in enumerate(rows)]
    details = {"resumed": resumed} if resume else {}
    if jsonl is not None:
        details["jsonl"] = Path(jsonl).name
        if log.error is not None:
            details["jsonl_error"] = log.error
    outcome = sweep_outcome(s, rows, time.perf_counter() - start, details)
    outcome.interrupted = interrupted
    return outcome
