"""The pcheck pytest plugin (registered through the ``pytest11`` entry point).

It registers the Hypothesis profiles, selects one (``--pcheck-profile``; default
``nojit`` under ``NUMBA_DISABLE_JIT=1``, ``ci`` when the ``CI`` variable is set,
``dev`` otherwise), and compiles the numba kernels once per session before the first
test, so that no test pays the compilation inside a Hypothesis deadline.

Profiles (all without deadlines: numba and conic solvers have heavy first calls, and
pcheck's budget is the example count):

* ``dev``: 20 examples, random seeds, for the edit-test loop;
* ``ci``: 50 examples, derandomized, so CI verdicts are reproducible;
* ``nojit``: 5 examples, derandomized, for the pure-Python ``NUMBA_DISABLE_JIT=1`` pass;
* ``thorough``: 300 examples, derandomized.

Claims checked inside a test suite: ``@pcheck.claim("id")`` (only an id) marks a test
with ``pytest.mark.pcheck_claim("id")``, linking it to the ledger entry ``id``; with
``--pcheck-report DIR`` the run writes ``report.md`` and ``report.json`` (the schema of
:mod:`pcheck.harness.report`, ``"command": "pytest"``) with one row per linked claim. A test's
verdict is the evidence its ``pcheck_context`` recorded, else its outcome: passed ->
"holds", failed on an ``AssertionError`` or a strict xfail -> "refuted", failed on any
other exception -> "error"; several tests of one claim combine to the worst verdict.
``DIR`` is checked when pytest starts: a file, or a directory that cannot be created or
written, is a usage error (exit 4) before any test runs.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from pcheck.core.kernels import warm_up
from pcheck.harness.report import ReportTargetError, prepare_report_dir, write_report
from pcheck.ledger import (
    PROFILE_EXAMPLES,
    REGISTRY,
    Claim,
    Context,
    Evidence,
    Outcome,
    load_claims,
)


def register_profiles() -> None:
    """Register pcheck's Hypothesis profiles (idempotent)."""
    common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    for name, examples in PROFILE_EXAMPLES.items():
        settings.register_profile(name, max_examples=examples, derandomize=name != "dev", **common)


def default_profile() -> str:
    if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"):
        return "nojit"
    if os.environ.get("CI"):
        return "ci"
    return "dev"


def pytest_addoption(parser):
    group = parser.getgroup("pcheck")
    group.addoption("--pcheck-profile", choices=sorted(PROFILE_EXAMPLES), default=None,
                    help="Hypothesis profile for pcheck properties (default: nojit under NUMBA_DISABLE_JIT=1, "
                         "ci when $CI is set, else dev)")
    group.addoption("--pcheck-report", default=None, metavar="DIR",
                    help="write report.md and report.json for the tests marked @pcheck.claim(id) into DIR")


def pytest_configure(config):
    report_dir = config.getoption("--pcheck-report")
    if report_dir is not None:
        try:
            prepare_report_dir(report_dir)
        except ReportTargetError as exc:
            raise pytest.UsageError(f"--pcheck-report: {exc}") from None
    register_profiles()
    profile = config.getoption("--pcheck-profile") or default_profile()
    settings.load_profile(profile)
    config._pcheck_profile = profile
    config.addinivalue_line("markers", "pcheck_claim(id, expected=None): the test checks the claims-ledger entry "
                                       "id (set by @pcheck.claim(id)); reported under --pcheck-report")
    config._pcheck_tests = []
    config._pcheck_report_error = None
    config._pcheck_started = (datetime.now(timezone.utc), time.perf_counter())


def pytest_report_header(config):
    return f"pcheck: hypothesis profile {getattr(config, '_pcheck_profile', '?')}"


def pytest_sessionstart(session):
    warm_up()


@pytest.fixture
def pcheck_profile(request) -> str:
    """The name of the active pcheck Hypothesis profile."""
    return request.config._pcheck_profile


@pytest.fixture
def pcheck_context(request):
    """A :class:`pcheck.ledger.Context` on the active profile, for running ledger checks in tests."""

    report_dir = request.config.getoption("--pcheck-report")
    if report_dir is not None:  # figures of checks go next to the report
        report_dir = Path(report_dir).resolve()
        report_dir.mkdir(parents=True, exist_ok=True)
    return Context(profile=request.config._pcheck_profile, seed=0, report_dir=report_dir)


SEVERITY = ("holds", "open", "refuted", "error")


def linked_verdict(item, call, rep) -> tuple[str, str | None]:
    """The verdict of one linked test and its failure message (see the module docstring)."""
    xfail = hasattr(rep, "wasxfail")
    if rep.skipped and xfail:
        return "refuted", call.excinfo.exconly() if call.excinfo else rep.wasxfail
    if rep.failed and call.excinfo is not None:
        verdict = "refuted" if call.when == "call" and call.excinfo.errisinstance(AssertionError) else "error"
        return verdict, call.excinfo.exconly()
    if rep.failed:  # a strict xfail that passed: the refutation no longer reproduces
        return "holds", str(rep.longrepr)
    ctx = item.funcargs.get("pcheck_context") if hasattr(item, "funcargs") else None
    recorded = [] if ctx is None else ctx.recorded
    worst = max((e.verdict for e in recorded), key=SEVERITY.index, default="holds")
    return worst, next((e.counterexample for e in recorded if e.verdict == "refuted"), None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    rep = report.get_result()
    marker = item.get_closest_marker("pcheck_claim")
    if marker is None or item.config.getoption("--pcheck-report") is None:
        return
    if rep.when == "call" or (rep.failed and rep.when == "setup"):
        verdict, message = linked_verdict(item, call, rep)
        ctx = item.funcargs.get("pcheck_context") if hasattr(item, "funcargs") else None
        item.config._pcheck_tests.append({
            "id": marker.args[0], "expected": marker.kwargs.get("expected"), "nodeid": item.nodeid,
            "doc": (item.obj.__doc__ or "").strip().split("\n")[0] if hasattr(item, "obj") else "",
            "verdict": verdict, "message": message, "seconds": rep.duration,
            "evidence": [] if ctx is None else list(ctx.recorded)})


def linked_claim(claim_id: str, tests: list[dict]):
    """The ledger entry ``claim_id`` (a test's ``expected=`` overrides its expected verdict),
    or, for an id not in the ledger, an entry made of the first test's docstring and node id
    (no ledger entry, so no origin)."""
    expected = next((t["expected"] for t in tests if t["expected"]), None)
    known = REGISTRY.get(claim_id)
    if known is not None:
        return dataclasses.replace(known, expected=expected or known.expected)
    return Claim(claim_id, tests[0]["doc"], tests[0]["nodeid"], expected or "holds", "", (), None, origin=None)


def claim_outcomes(tests: list[dict]) -> list:
    """One :class:`pcheck.ledger.Outcome` per linked claim id, from its tests' records."""

    outcomes = []
    for claim_id in sorted({t["id"] for t in tests}):
        mine = [t for t in tests if t["id"] == claim_id]
        claim = linked_claim(claim_id, mine)
        seconds = sum(t["seconds"] for t in mine)
        verdict = max((t["verdict"] for t in mine), key=SEVERITY.index)
        first = next(t for t in mine if t["verdict"] == verdict)
        if verdict == "error":
            outcomes.append(Outcome(claim, None, seconds, f"{first['nodeid']}: {first['message']}"))
            continue
        evidence = [e for t in mine for e in t["evidence"]]
        examples = sum(e.examples for e in evidence) + sum(not t["evidence"] for t in mine)
        residual = max((e.residual for e in evidence), default=math.nan)
        measure = "; ".join(sorted({e.measure for e in evidence})) or "test outcome"
        tests_detail = [{"nodeid": t["nodeid"], "verdict": t["verdict"]} for t in mine]
        outcomes.append(Outcome(claim, Evidence(
            verdict, examples, residual, measure, counterexample=first["message"] if verdict == "refuted" else None,
            reproduce=f"pytest '{first['nodeid']}'" if verdict == "refuted" else None, details={"tests": tests_detail},
            figures=[f for e in evidence for f in e.figures]), seconds))
    return outcomes


def pytest_sessionfinish(session):
    directory = session.config.getoption("--pcheck-report")
    if directory is None:
        return

    load_claims()
    started, start = session.config._pcheck_started
    outcomes = claim_outcomes(session.config._pcheck_tests)
    try:  # the target was checked at start; a failure now (a full disk) is reported, not an internal error
        write_report(outcomes, directory, command="pytest", profile=session.config._pcheck_profile, seed=None,
                     seconds=time.perf_counter() - start, started=started)
    except OSError as exc:
        session.config._pcheck_report_error = f"{type(exc).__name__}: {exc}"


def pytest_terminal_summary(terminalreporter, config):
    directory = config.getoption("--pcheck-report")
    error = getattr(config, "_pcheck_report_error", None)
    if error is not None:
        terminalreporter.write_line(f"pcheck: could not write the report into {directory}: {error}", red=True)
    elif directory is not None:
        terminalreporter.write_line(f"pcheck: report of {len({t['id'] for t in config._pcheck_tests})} linked claims "
                                    f"in {os.path.join(directory, 'report.md')} and report.json")
