"""Progress of a long run (``pcheck verify``, ``sweep``, ``plot``) on stderr.

On a terminal: a live bar (rich) with the claim or sweep now running, the elapsed time and an
ETA; each finished unit prints its line above the bar. Otherwise (piped, redirected, CI
logs): plain lines, one when a unit starts (``[i/n] ID ...``) and one when it finishes (with
the ETA), and a heartbeat line whenever nothing was printed for :data:`HEARTBEAT_SECONDS`,
so a log never falls silent for long.

The ETA weighs units by their expected seconds (the previous report's times where there is
one, see :func:`expected_seconds`): a unit still running counts with the fraction reported
through :meth:`Progress.advance` (sweeps: instances finished) or, failing that, with its
elapsed time up to 95% of its expected time. Until a unit finishes the ETA is the remaining
expected seconds; then they are scaled by how fast the run has gone so far (which also
accounts for parallel workers and a slower machine).
"""

from __future__ import annotations

import statistics
import sys
import threading
import time

from pcheck.sweep import instance_key, read_rows

#: Seconds without output after which a plain (non-terminal) run prints a heartbeat line.
HEARTBEAT_SECONDS = 15.0

#: Expected seconds of a unit with no previous time when no unit has one either.
DEFAULT_SECONDS = 1.0


def expected_seconds(keys, previous: dict | None, default: float | None = None) -> dict:
    """``{key: expected seconds}``: the time in ``previous`` (a report, see
    :func:`pcheck.harness.report.previous_report`) where it has one, else ``default`` or the
    median of the known times (:data:`DEFAULT_SECONDS` when none is known)."""
    known = {}
    for c in (previous or {}).get("claims", []):
        seconds = c.get("seconds") if isinstance(c, dict) else None
        if isinstance(seconds, (int, float)) and seconds >= 0:
            known[c["id"]] = max(float(seconds), 0.01)
    fallback = default if default is not None else (statistics.median(known.values()) if known else DEFAULT_SECONDS)
    return {k: known.get(k, fallback) for k in keys}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """A run of ``units`` (``{key: expected seconds}``) shown on ``file`` (default stderr).

    Use as a context manager; call :meth:`start` when a unit starts, :meth:`advance` with the
    fraction of it done when known, :meth:`finish` with its result line when it ends and
    :meth:`log` for any other line. ``interactive`` defaults to ``file.isatty()``.
    """

    def __init__(self, title: str, units: dict, *, file=None, interactive: bool | None = None,
                 heartbeat: float = HEARTBEAT_SECONDS):
        self.title, self.units = title, dict(units)
        self.file = sys.stderr if file is None else file
        isatty = getattr(self.file, "isatty", None)
        self.interactive = bool(isatty and isatty()) if interactive is None else interactive
        self.heartbeat = heartbeat
        self.total = sum(self.units.values()) or 1.0
        self.done = 0.0
        self.running: dict = {}  # key -> [start time, fraction done or None]
        self.started = self.finished = 0
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self.t0 = self.last_output = time.perf_counter()
        self.bar = self.task = None

    def __enter__(self) -> "Progress":
        if self.interactive:
            from rich import progress as rp
            from rich.console import Console

            self.bar = rp.Progress(rp.SpinnerColumn(), rp.TextColumn("{task.description}"), rp.BarColumn(),
                                   rp.TaskProgressColumn(), rp.TimeElapsedColumn(), rp.TextColumn("{task.fields[eta]}"),
                                   console=Console(file=self.file), transient=True, redirect_stderr=False)
            self.bar.start()
            self.task = self.bar.add_task(self.title, total=self.total, eta="eta ?")
        self.ticker = threading.Thread(target=self._tick, name="pcheck-progress", daemon=True)
        self.ticker.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.ticker.join()
        if self.bar is not None:
            self.bar.stop()

    def start(self, key: str, line: str | None = None) -> None:
        """``key`` starts; not on a terminal, ``line`` (default ``[i/n] key ...``) says so."""
        with self.lock:
            self.started += 1
            self.running[key] = [time.perf_counter(), None]
            if not self.interactive:
                self._print(line or f"[{self.started}/{len(self.units)}] {key} ...")
            self._refresh()

    def advance(self, key: str, fraction: float) -> None:
        """``key`` is this far done (0 to 1), e.g. the instances of a sweep finished."""
        with self.lock:
            if key in self.running:
                self.running[key][1] = min(max(float(fraction), 0.0), 1.0)

    def finish(self, key: str, line: str) -> None:
        with self.lock:
            self.running.pop(key, None)
            self.done += self.units.get(key, 0.0)
            self.finished += 1
            remaining = self.eta()
            more = self.finished < len(self.units)
            self._print(line if self.interactive or not more else f"{line}  (eta {duration(remaining)})")
            self._refresh()

    def log(self, line: str) -> None:
        with self.lock:
            self._print(line)

    def completed(self, now: float | None = None) -> float:
        """Expected seconds of work done: finished units, and the running ones in part."""
        now = time.perf_counter() if now is None else now
        part = 0.0
        for key, (start, fraction) in self.running.items():
            weight = self.units.get(key, 0.0)
            by_time = min((now - start) / weight, 0.95) if weight > 0 else 0.0
            part += weight * (fraction if fraction is not None else by_time)
        return min(self.done + part, self.total)

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left: the remaining expected seconds, at the pace so far once a unit finished."""
        now = time.perf_counter() if now is None else now
        completed = self.completed(now)
        if self.finished == 0 or completed <= 0:
            return self.total - completed
        return (self.total - completed) * (now - self.t0) / completed

    def _print(self, text: str) -> None:
        if self.bar is not None:
            self.bar.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=self.file, flush=True)
        self.last_output = time.perf_counter()

    def _refresh(self) -> None:
        now = time.perf_counter()
        if self.bar is not None:
            names = ", ".join(self.running) or "-"
            self.bar.update(self.task, completed=self.completed(now), eta=f"eta {duration(self.eta(now))}",
                            description=f"{self.title} [{self.finished}/{len(self.units)}] {names}")
        elif self.running and now - self.last_output >= self.heartbeat:
            names = ", ".join(f"{k} ({duration(now - s)})" for k, (s, _) in self.running.items())
            self._print(f"  ... running {names}; {self.finished}/{len(self.units)} done, "
                        f"{duration(now - self.t0)} elapsed, eta {duration(self.eta(now))}")

    def _tick(self) -> None:
        while not self.stop.wait(0.2 if self.interactive else 1.0):
            with self.lock:
                self._refresh()


class RowWatch:
    """While a sweep runs, the fraction of its instances finished, read from the rows it streams
    to ``jsonl`` (appended as each instance completes; with ``resume`` after the rows already
    there, which are counted off), reported to ``bar`` twice a second."""

    def __init__(self, bar: Progress, key: str, jsonl, grid: list, *, resume: bool):
        self.bar, self.key, self.jsonl, self.stop = bar, key, jsonl, threading.Event()
        done = read_rows(jsonl) if (resume and jsonl is not None) else {}
        taken = {k for k, row in done.items() if row.get("verdict") != "error"}
        self.pending = max(sum(instance_key(inst) not in taken for inst in grid), 1)
        self.initial = self.lines() if resume else 0

    def lines(self) -> int:
        try:
            with open(self.jsonl, "rb") as f:
                return sum(1 for _ in f)
        except (OSError, TypeError):
            return 0

    def watch(self) -> None:
        while not self.stop.wait(0.5):
            self.bar.advance(self.key, (self.lines() - self.initial) / self.pending)

    def __enter__(self):
        if self.jsonl is not None:
            self.thread = threading.Thread(target=self.watch, name="pcheck-rows", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.jsonl is not None:
            self.thread.join()
