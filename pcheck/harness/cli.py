"""The ``pcheck`` command.

``pcheck verify`` re-checks the claims ledger, ``pcheck sweep`` runs instance grids on
dask.distributed, ``pcheck list`` and ``pcheck show ID`` print the ledger's entries with the
last report's verdicts (:mod:`pcheck.harness.catalog`), ``pcheck notes-index`` regenerates
``proofs_notes/README.md``, ``pcheck plot`` draws the figures of a check
(:mod:`pcheck.harness.plots`). Progress goes to stderr: a bar with an ETA on a terminal,
plain lines as claims start and finish otherwise (:mod:`pcheck.harness.progress`).
Exit codes: 0 when every verdict is the expected one (a check skipped for a missing
optional dependency counts as expected), 1 when a verdict differs (a check that raises, or
a sweep instance that failed or was lost, counts as differing), 2 on a usage error (found
before anything runs: bad options, a report target that cannot be written, an unreachable
scheduler, a missing extra), 130 when a sweep was interrupted (its report is still written).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import queue
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from datetime import datetime, timezone
from multiprocessing import Manager
from pathlib import Path

from threadpoolctl import threadpool_limits

from pcheck.harness import catalog
from pcheck.harness.plots import add_plot_arguments, plot_command
from pcheck.harness.progress import Progress, RowWatch, expected_seconds
from pcheck.harness.report import (
    ReportTargetError,
    claim_record,
    notes_index,
    prepare_report_dir,
    previous_report,
    print_table,
    verdict_text,
    write_atomically,
    write_report,
)
from pcheck.ledger import (
    EXTRAS,
    PROFILE_EXAMPLES,
    REGISTRY,
    Claim,
    Context,
    Outcome,
    load_claims,
    notes_dir,
    run_claim,
    select,
)
from pcheck.sweep import (
    SWEEPS,
    check_scheduler,
    check_scheduler_address,
    grid_takes_seed,
    require_dask,
    run_sweep,
)

DEFAULT_REPORT_DIR = "pcheck-report"

#: Exit code of a sweep stopped by Ctrl-C (128 + SIGINT, the shell's convention).
EXIT_INTERRUPTED = 130


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def seed_int(text: str) -> int:
    """A seed: an integer >= 0 (numpy's ``SeedSequence``, behind ``Context.rng``, rejects negative ones)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def scheduler_address(text: str) -> str:
    try:
        return check_scheduler_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_run_options(p: argparse.ArgumentParser, report_dir: str, seed_default=0, seed_help="seed of every "
                    "randomized instance (default 0)") -> None:
    p.add_argument("--profile", default="dev", choices=sorted(PROFILE_EXAMPLES),
                   help="example budget: dev (default), ci, thorough, nojit")
    p.add_argument("--seed", type=seed_int, default=seed_default, metavar="N", help=seed_help)
    p.add_argument("--report", default=report_dir, metavar="DIR",
                   help=f"write report.md, report.json and figures into DIR (default: {report_dir}/); "
                        "checked before the run starts")
    p.add_argument("--no-report", action="store_true", help="write no report files")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pcheck", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="re-check the claims ledger; exit 1 when a verdict differs from the expected one")
    verify.add_argument("--claims", default=None, metavar="PATTERN", help="glob over claim ids, e.g. 'htw.*'")
    add_run_options(verify, DEFAULT_REPORT_DIR)
    verify.add_argument("--workers", type=positive_int, default=1, metavar="N",
                        help="run in N processes, the claims of one module in the same one (default 1)")
    sw = sub.add_parser("sweep", help="run instance grids on dask.distributed; exit 1 when a verdict differs or an "
                                      "instance failed")
    sw.add_argument("sweeps", nargs="*", metavar="ID", help="sweep ids (default: all; see --list)")
    sw.add_argument("--list", action="store_true", help="list the sweeps and their grid sizes, run nothing")
    add_run_options(sw, f"{DEFAULT_REPORT_DIR}/sweep", seed_default=None,
                    seed_help="seed of the grids that draw their instances at random; a usage error for a grid "
                              "that does not depend on it (default: 0 for such grids)")
    sw.add_argument("--resume", action="store_true", help="take the instances already finished in DIR/<ID>.jsonl "
                    "(not those that failed) and run only the others")
    sw.add_argument("--scheduler", default=None, metavar="ADDRESS", type=scheduler_address,
                    help="a running dask scheduler, e.g. tcp://host:8786 (default: a LocalCluster on this machine)")
    sw.add_argument("--workers", type=positive_int, default=2, metavar="N", help="LocalCluster worker processes (default 2)")
    sw.add_argument("--threads", action="store_true", help="LocalCluster workers as threads instead of processes")
    sw.add_argument("--serial", action="store_true", help="no dask: evaluate the grid in this process")
    lst = sub.add_parser("list", help="the ledger's entries: id, origin, expected verdict, last verdict")
    lst.add_argument("--claims", default=None, metavar="PATTERN", help="glob over claim ids, e.g. 'htw.*'")
    lst.add_argument("--report", default=DEFAULT_REPORT_DIR, metavar="DIR",
                     help=f"the pcheck verify report to take the last verdicts from (default: {DEFAULT_REPORT_DIR}/)")
    show = sub.add_parser("show", help="one entry in full: statement, source, quote, reading, origin, free choices, "
                                       "note, and its last verdict, evidence and counterexample")
    show.add_argument("id", metavar="ID", help="a claim id (see pcheck list)")
    show.add_argument("--report", default=DEFAULT_REPORT_DIR, metavar="DIR",
                      help=f"the pcheck verify report to take the verdict from (default: {DEFAULT_REPORT_DIR}/)")
    show.add_argument("--run", action="store_true", help="run the check now (no report written) instead")
    show.add_argument("--profile", default="dev", choices=sorted(PROFILE_EXAMPLES), help="with --run (default dev)")
    show.add_argument("--seed", type=seed_int, default=0, metavar="N", help="with --run (default 0)")
    idx = sub.add_parser("notes-index", help="regenerate proofs_notes/README.md from the ledger")
    idx.add_argument("--check", action="store_true", help="write nothing; exit 1 when the index is out of date")
    plot = sub.add_parser("plot", help="draw the figures of a check (needs the [plot] extra)")
    add_plot_arguments(plot)
    parser.subcommands = {"verify": verify, "sweep": sw, "list": lst, "show": show, "notes-index": idx, "plot": plot}
    return parser


def run_module(claim_ids: list[str], ctx: Context, events=None) -> list[tuple]:
    """Worker side of ``--workers``: run claims looked up by id, in order, with BLAS on one
    thread (N workers on N cores); returns ``(evidence, seconds, error)`` per claim and puts
    ``("start", id)`` and ``("done", id, result)`` on the ``events`` queue as it goes."""
    results = []
    with threadpool_limits(1):
        for i in claim_ids:
            if events is not None:
                events.put(("start", i))
            o = run_claim(REGISTRY.get(i) or load_claims()[i], ctx)
            results.append((o.evidence, o.seconds, o.error))
            if events is not None:
                events.put(("done", i, results[-1]))
    return results


def result_line(i: int, n: int, o: Outcome) -> str:
    """The progress line of a finished claim or sweep."""
    mark = "" if o.as_expected else f"  (expected {o.claim.expected})"
    return f"[{i}/{n}] {o.claim.id}: {verdict_text(o)}{mark} in {o.seconds:.2f}s"


def run_claims(claims, ctx: Context, workers: int, previous: dict | None = None) -> list[Outcome]:
    """Every claim's outcome, in the order given, with a progress bar (or, not on a terminal,
    lines as claims start and finish) on stderr; ``previous`` is the last report (its times
    weigh the ETA)."""
    units = expected_seconds([c.id for c in claims], previous)
    if workers == 1:
        outcomes = []
        with Progress("verify", units) as bar:
            for c in claims:
                bar.start(c.id)
                outcomes.append(run_claim(c, ctx))
                bar.finish(c.id, result_line(len(outcomes), len(claims), outcomes[-1]))
        return outcomes
    modules = {}  # claims of one module share a worker, and the module's caches
    for c in claims:
        modules.setdefault(c.check.__module__, []).append(c)
    by_id, done = {c.id: c for c in claims}, {}
    with Manager() as manager, ProcessPoolExecutor(max_workers=workers) as pool:
        events = manager.Queue()
        futures = {pool.submit(run_module, [c.id for c in group], ctx, events): group
                   for group in sorted(modules.values(), key=len, reverse=True)}
        with Progress("verify", units) as bar:

            def drain(timeout: float) -> None:
                try:
                    while True:
                        event = events.get(timeout=timeout)
                        timeout = 0
                        if event[0] == "start":
                            bar.start(event[1])
                        else:
                            done[event[1]] = Outcome(by_id[event[1]], *event[2])
                            bar.finish(event[1], result_line(len(done), len(claims), done[event[1]]))
                except queue.Empty:
                    pass

            pending = set(futures)
            while pending:
                drain(0.2)
                finished, pending = wait(pending, timeout=0, return_when=FIRST_COMPLETED)
                for future in finished:
                    try:
                        future.result()
                    except Exception as exc:  # a worker that died is reported as its unfinished claims' error
                        for c in futures[future]:
                            if c.id not in done:
                                done[c.id] = Outcome(c, None, 0.0, f"{type(exc).__name__}: {exc}")
                                bar.finish(c.id, result_line(len(done), len(claims), done[c.id]))
            drain(0.2)
    return [done[c.id] for c in claims]


def usage_error(command: str, message: str) -> int:
    print(f"pcheck {command}: {message}", file=sys.stderr)
    return 2


def report_target(args) -> Path | None:
    """The report directory, created and probed for writing before the run (None under
    ``--no-report``); :class:`ReportTargetError` when it cannot hold a report."""
    return None if args.no_report else prepare_report_dir(args.report)


def finish(outcomes, args, command: str, started: datetime, seconds: float, seed=None) -> int:
    """Print the table, write the report (the target was checked before the run; a failure
    now is still reported, with the table already printed), and return the exit code."""
    print_table(outcomes)
    sys.stdout.flush()  # the table before the stderr lines that follow it
    code = 0 if all(o.as_expected for o in outcomes) else 1
    if not args.no_report:
        try:
            report = write_report(outcomes, args.report, command=command, profile=args.profile, seed=seed,
                                  seconds=seconds, started=started)
        except OSError as exc:
            print(f"pcheck {command}: could not write the report into {args.report}: {exc}", file=sys.stderr)
            code = 1
        else:
            for c in report["changes"]:
                print(f"changed since the previous report: {c['id']}: {c['before'] or 'new'} -> {c['after']}",
                      file=sys.stderr)
            print(f"report: {Path(args.report) / 'report.md'}, {Path(args.report) / 'report.json'}", file=sys.stderr)
    skipped = sum(o.verdict == "skipped" for o in outcomes)
    note = f" ({skipped} skipped: optional dependencies missing)" if skipped else ""
    print(f"{sum(o.as_expected for o in outcomes)} of {len(outcomes)} as expected{note} in {seconds:.1f}s",
          file=sys.stderr)
    return code


def load_failures(errors: dict) -> list[Outcome]:
    """An error outcome per claims module that failed to import (id ``load:<module>``; no
    ledger entry, so no origin)."""
    return [Outcome(Claim(f"load:{module}", f"the claims module {module} imports", module, "holds", "", (), None,
                          origin=None), None, 0.0, message) for module, message in sorted(errors.items())]


def verify(args) -> int:
    errors = {}
    claims = select(args.claims, errors)
    if not claims and not errors:
        return usage_error("verify", f"no claim matches {args.claims!r}")
    try:
        report_dir = report_target(args)
    except ReportTargetError as exc:
        return usage_error("verify", f"--report: {exc}")
    started, start = datetime.now(timezone.utc), time.perf_counter()
    ctx = Context(profile=args.profile, seed=args.seed, report_dir=report_dir)
    previous = previous_report(Path(args.report), "verify")
    outcomes = load_failures(errors) + run_claims(claims, ctx, args.workers, previous)
    return finish(outcomes, args, "verify", started, time.perf_counter() - start, seed=args.seed)


def sweep(args) -> int:
    """``pcheck sweep``: every check that can fail before the run (options, report target,
    seed, dask, scheduler) is a usage error; then each sweep streams its rows to
    ``DIR/<id>.jsonl`` and the run ends with the table and the report, also when instances
    failed or the run is interrupted."""
    if args.resume and args.no_report:
        return usage_error("sweep", "--resume reads the rows of DIR/<ID>.jsonl; it needs a report directory, "
                                    "not --no-report")
    if args.serial and args.scheduler:
        return usage_error("sweep", "--serial runs without dask; it excludes --scheduler")
    load_claims()
    unknown = [s for s in args.sweeps if s not in SWEEPS]
    if unknown:
        return usage_error("sweep", f"unknown sweep {unknown}; known: {sorted(SWEEPS)}")
    chosen = [SWEEPS[s] for s in (args.sweeps or sorted(SWEEPS))]
    seeded = [s.id for s in chosen if grid_takes_seed(s, args.profile)]
    if args.seed is not None:
        fixed = [s.id for s in chosen if s.id not in seeded]
        if fixed:
            return usage_error("sweep", f"--seed {args.seed}: the grid of {', '.join(fixed)} does not depend on the "
                                        "seed (its instances fix their own), so the seed would change nothing; "
                                        "run it without --seed")
    seed = (0 if args.seed is None else args.seed) if seeded else None  # the report records a seed only if one was used
    ctx = Context(profile=args.profile, seed=seed or 0)
    if args.list:
        for s in chosen:
            print(f"{s.id}  {len(s.grid(ctx))} instances ({args.profile})  {s.statement}")
        return 0
    try:
        report_dir = report_target(args)
    except ReportTargetError as exc:
        return usage_error("sweep", f"--report: {exc}")
    if not args.serial:
        try:
            require_dask()
            if args.scheduler:
                check_scheduler(args.scheduler)
        except ImportError as exc:
            return usage_error("sweep", str(exc))
        except OSError as exc:
            return usage_error("sweep", f"--scheduler: {exc}")
    ctx = dataclasses.replace(ctx, report_dir=report_dir)
    started, start = datetime.now(timezone.utc), time.perf_counter()
    where = "serially" if args.serial else "on " + (args.scheduler or f"a LocalCluster of {args.workers} "
                                                    f"{'threads' if args.threads else 'processes'}")
    outcomes, grids = [], {s.id: s.grid(ctx) for s in chosen}
    known = expected_seconds(grids, None if report_dir is None else previous_report(report_dir, "sweep"), default=-1)
    units = {i: seconds if seconds > 0 else float(len(grids[i])) for i, seconds in known.items()}
    with Progress("sweep", units) as bar:
        for i, s in enumerate(chosen, 1):
            jsonl = None if report_dir is None else report_dir / f"{s.id}.jsonl"
            bar.start(s.id, f"[{i}/{len(chosen)}] {s.id}: {len(grids[s.id])} instances {where}"
                      + (f", rows to {jsonl}" if jsonl else "") + " ...")
            with RowWatch(bar, s.id, jsonl, grids[s.id], resume=args.resume):
                outcome = run_sweep(s, ctx, jsonl=jsonl, resume=args.resume, scheduler=args.scheduler,
                                    workers=args.workers, processes=not args.threads, serial=args.serial)
            outcomes.append(outcome)
            bar.finish(s.id, result_line(i, len(chosen), outcome))
            if outcome.details.get("resumed"):
                bar.log(f"  {outcome.details['resumed']} instances taken from {jsonl}")
            if outcome.details.get("jsonl_error"):
                bar.log(f"  could not stream rows to {jsonl}: {outcome.details['jsonl_error']}")
            if outcome.interrupted:
                bar.log(f"pcheck sweep: interrupted; finished rows are in {jsonl or 'no file (--no-report)'}"
                        + ("; rerun with --resume" if jsonl else ""))
                break
    code = finish(outcomes, args, "sweep", started, time.perf_counter() - start, seed=seed)
    return EXIT_INTERRUPTED if outcomes and outcomes[-1].interrupted else code


def list_command(args) -> int:
    """``pcheck list``: exit 2 when no entry matches the pattern."""
    errors = {}
    claims = select(args.claims, errors)
    for module, message in sorted(errors.items()):
        print(f"pcheck list: the claims module {module} failed to import: {message}", file=sys.stderr)
    if not claims:
        return usage_error("list", f"no claim matches {args.claims!r}")
    report = catalog.last_report(args.report)
    print(catalog.list_text(claims, report))
    print(catalog.report_origin(report, args.report), file=sys.stderr)
    return 0


def show_command(args) -> int:
    """``pcheck show ID``: exit 2 for an unknown id (naming the close ones)."""
    claims = load_claims({})
    c = claims.get(args.id)
    if c is None:
        close = catalog.suggestions(args.id, claims)
        return usage_error("show", f"no claim {args.id!r}" + (f"; did you mean {', '.join(close)}?" if close else
                                                               "; see pcheck list"))
    if args.run:
        outcome = run_claim(c, Context(profile=args.profile, seed=args.seed))
        record, where = claim_record(outcome), f"Run now (profile {args.profile}, seed {args.seed}):"
    else:
        report = catalog.last_report(args.report)
        record, where = catalog.last_records(report).get(c.id), catalog.report_origin(report, args.report)
        if report is not None and record is None:
            where += f"; it has no row for {c.id}: run `pcheck verify --claims '{c.id}'`"
    print(catalog.show_text(c, record, where))
    return 0


def notes_index_command(args) -> int:
    path = notes_dir() / "README.md"
    text = notes_index(load_claims().values(), SWEEPS.values())
    if args.check:
        current = path.read_text() if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run `pcheck notes-index`", file=sys.stderr)
            return 1
        return 0
    write_atomically(path, text)
    print(f"wrote {path}", file=sys.stderr)
    return 0


#: Seconds each figure of ``pcheck plot`` took on a loaded 2-core machine: the ETA of a first
#: run; each run records its own time in ``<--out>/.pcheck-plot-seconds.json`` for the next.
PLOT_SECONDS = {"appendix-b": 12.0, "multitask-benefit": 8.0, "fixed-kernel": 180.0}
PLOT_TIMES = ".pcheck-plot-seconds.json"


def plot(args, parser: argparse.ArgumentParser) -> int:
    """``pcheck plot``: its seed and output directory are checked before drawing; a missing
    ``[plot]`` extra is a usage error naming it."""
    if args.seed < 0:  # pcheck.harness.plots declares --seed; numpy rejects negative seeds
        parser.error(f"argument --seed: must be an integer >= 0, got {args.seed}")
    try:
        prepare_report_dir(args.out)
    except ReportTargetError as exc:
        parser.error(f"argument --out: {exc}")
    times_path = Path(args.out) / PLOT_TIMES
    try:
        times = json.loads(times_path.read_text())
    except (OSError, ValueError):
        times = {}
    expected = times.get(args.figure) if isinstance(times, dict) else None
    expected = float(expected) if isinstance(expected, (int, float)) else PLOT_SECONDS.get(args.figure, 30.0)
    start = time.perf_counter()
    try:
        with Progress("plot", {args.figure: expected}) as bar:
            bar.start(args.figure)
            code = plot_command(args)
            bar.finish(args.figure, f"[1/1] {args.figure}: drawn in {time.perf_counter() - start:.2f}s")
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        return usage_error("plot", f"needs {exc.name}: pip install 'pcheck[{extra}]'")
    if code == 0:  # this run's time is the next run's ETA
        times = {**(times if isinstance(times, dict) else {}), args.figure: round(time.perf_counter() - start, 2)}
        try:
            write_atomically(times_path, json.dumps(times, indent=1, sort_keys=True) + "\n")
        except OSError:
            pass
    return code


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "plot":
        return plot(args, parser.subcommands["plot"])
    commands = {"verify": verify, "sweep": sweep, "list": list_command, "show": show_command,
                "notes-index": notes_index_command}
    return commands[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
