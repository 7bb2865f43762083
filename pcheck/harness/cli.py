"""The ``pcheck`` command.

``pcheck verify`` re-checks the claims ledger, ``pcheck sweep`` runs instance grids on
dask.distributed, ``pcheck notes-index`` regenerates ``proofs_notes/README.md``,
``pcheck plot`` draws the figures of a check (:mod:`pcheck.harness.plots`).
Exit codes: 0 when every verdict is the expected one, 1 when a verdict differs (a check
that raises counts as differing), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timezone
from pathlib import Path

from pcheck.harness.plots import add_plot_arguments, plot_command
from pcheck.harness.report import notes_index, print_table, write_report
from pcheck.ledger import (
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
from pcheck.sweep import SWEEPS, run_sweep

DEFAULT_REPORT_DIR = "pcheck-report"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_run_options(p: argparse.ArgumentParser, report_dir: str) -> None:
    p.add_argument("--profile", default="dev", choices=sorted(PROFILE_EXAMPLES),
                   help="example budget: dev (default), ci, thorough, nojit")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report", default=report_dir, metavar="DIR",
                   help=f"write report.md, report.json and figures into DIR (default: {report_dir}/)")
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
    sw = sub.add_parser("sweep", help="run instance grids on dask.distributed; exit 1 when a verdict differs")
    sw.add_argument("sweeps", nargs="*", metavar="ID", help="sweep ids (default: all; see --list)")
    sw.add_argument("--list", action="store_true", help="list the sweeps and their grid sizes, run nothing")
    add_run_options(sw, f"{DEFAULT_REPORT_DIR}/sweep")
    sw.add_argument("--scheduler", default=None, metavar="ADDRESS", help="a running dask scheduler, e.g. tcp://host:8786 "
                    "(default: a LocalCluster on this machine)")
    sw.add_argument("--workers", type=positive_int, default=2, metavar="N", help="LocalCluster worker processes (default 2)")
    sw.add_argument("--threads", action="store_true", help="LocalCluster workers as threads instead of processes")
    sw.add_argument("--serial", action="store_true", help="no dask: evaluate the grid in this process")
    idx = sub.add_parser("notes-index", help="regenerate proofs_notes/README.md from the ledger")
    idx.add_argument("--check", action="store_true", help="write nothing; exit 1 when the index is out of date")
    add_plot_arguments(sub.add_parser("plot", help="draw the figures of a check (needs the [plot] extra)"))
    return parser


def run_module(claim_ids: list[str], ctx: Context) -> list[tuple]:
    """Worker side of ``--workers``: run claims looked up by id, in order, with BLAS on one
    thread (N workers on N cores); returns ``(evidence, seconds, error)`` per claim."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        outcomes = [run_claim(REGISTRY.get(i) or load_claims()[i], ctx) for i in claim_ids]
    return [(o.evidence, o.seconds, o.error) for o in outcomes]


def progress(i: int, n: int, o: Outcome) -> None:
    """The progress line of a finished claim (on a terminal it completes the "running" line)."""
    mark = "" if o.as_expected else f"  (expected {o.claim.expected})"
    line = f"[{i}/{n}] {o.claim.id}: {o.verdict}{mark} in {o.seconds:.2f}s"
    print(f"\r{line}\033[K" if sys.stderr.isatty() else line, file=sys.stderr, flush=True)


def running(i: int, n: int, claim_id: str) -> None:
    """On a terminal, the line of the claim now running (replaced by :func:`progress`)."""
    if sys.stderr.isatty():
        print(f"[{i}/{n}] {claim_id} ...", end="", file=sys.stderr, flush=True)


def run_claims(claims, ctx: Context, workers: int) -> list[Outcome]:
    """Every claim's outcome, in the order given; progress lines go to stderr as claims finish."""
    if workers == 1:
        outcomes = []
        for i, c in enumerate(claims, 1):
            running(i, len(claims), c.id)
            outcomes.append(run_claim(c, ctx))
            progress(i, len(claims), outcomes[-1])
        return outcomes
    modules = {}  # claims of one module share a worker, and the module's caches
    for c in claims:
        modules.setdefault(c.check.__module__, []).append(c)
    done = {}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_module, [c.id for c in group], ctx): group
                   for group in sorted(modules.values(), key=len, reverse=True)}
        for future in as_completed(futures):
            group = futures[future]
            try:
                results = future.result()
            except Exception as exc:  # a worker that died is reported as its claims' error
                results = [(None, 0.0, f"{type(exc).__name__}: {exc}")] * len(group)
            for c, result in zip(group, results):
                done[c.id] = Outcome(c, *result)
                progress(len(done), len(claims), done[c.id])
    return [done[c.id] for c in claims]


def finish(outcomes, args, command: str, started: datetime, seconds: float) -> int:
    print_table(outcomes)
    sys.stdout.flush()  # the table before the stderr lines that follow it
    if not args.no_report:
        report = write_report(outcomes, args.report, command=command, profile=args.profile, seed=args.seed,
                              seconds=seconds, started=started)
        for c in report["changes"]:
            print(f"changed since the previous report: {c['id']}: {c['before'] or 'new'} -> {c['after']}",
                  file=sys.stderr)
        print(f"report: {Path(args.report) / 'report.md'}, {Path(args.report) / 'report.json'}", file=sys.stderr)
    print(f"{sum(o.as_expected for o in outcomes)} of {len(outcomes)} as expected in {seconds:.1f}s", file=sys.stderr)
    return 0 if all(o.as_expected for o in outcomes) else 1


def load_failures(errors: dict) -> list[Outcome]:
    """An error outcome per claims module that failed to import (id ``load:<module>``)."""
    return [Outcome(Claim(f"load:{module}", f"the claims module {module} imports", module, "holds", "", (), None),
                    None, 0.0, message) for module, message in sorted(errors.items())]


def verify(args) -> int:
    errors = {}
    claims = select(args.claims, errors)
    if not claims and not errors:
        print(f"pcheck verify: no claim matches {args.claims!r}", file=sys.stderr)
        return 2
    started, start = datetime.now(timezone.utc), time.perf_counter()
    report_dir = None if args.no_report else Path(args.report)
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(profile=args.profile, seed=args.seed, report_dir=report_dir)
    outcomes = load_failures(errors) + run_claims(claims, ctx, args.workers)
    return finish(outcomes, args, "verify", started, time.perf_counter() - start)


def sweep(args) -> int:
    load_claims()

    ctx = Context(profile=args.profile, seed=args.seed)
    unknown = [s for s in args.sweeps if s not in SWEEPS]
    if unknown:
        print(f"pcheck sweep: unknown sweep {unknown}; known: {sorted(SWEEPS)}", file=sys.stderr)
        return 2
    chosen = [SWEEPS[s] for s in (args.sweeps or sorted(SWEEPS))]
    if args.list:
        for s in chosen:
            print(f"{s.id}  {len(s.grid(ctx))} instances ({args.profile})  {s.statement}")
        return 0
    started, start = datetime.now(timezone.utc), time.perf_counter()
    where = "serially" if args.serial else "on " + (args.scheduler or f"a LocalCluster of {args.workers} "
                                                    f"{'threads' if args.threads else 'processes'}")
    outcomes = []
    for i, s in enumerate(chosen, 1):
        print(f"[{i}/{len(chosen)}] {s.id}: {len(s.grid(ctx))} instances {where} ...", file=sys.stderr, flush=True)
        try:
            outcomes.append(run_sweep(s, ctx, scheduler=args.scheduler, workers=args.workers,
                                      processes=not args.threads, serial=args.serial))
        except ImportError as exc:
            print(f"pcheck sweep: {exc}", file=sys.stderr)
            return 2
        progress(i, len(chosen), outcomes[-1])
    return finish(outcomes, args, "sweep", started, time.perf_counter() - start)


def notes_index_command(args) -> int:
    path = notes_dir() / "README.md"

    text = notes_index(load_claims().values(), SWEEPS.values())
    if args.check:
        current = path.read_text() if path.exists() else ""
        if current != text:
            print(f"{path} is out of date: run `pcheck notes-index`", file=sys.stderr)
            return 1
        return 0
    path.write_text(text)
    print(f"wrote {path}", file=sys.stderr)
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return {"verify": verify, "sweep": sweep, "notes-index": notes_index_command,
            "plot": plot_command}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
