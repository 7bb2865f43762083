"""The pcheck pytest plugin (registered through the ``pytest11`` entry point).

Pytest loads it in every session of every project where pcheck is installed, so it is
opt-in: it changes nothing for a test that does not use pcheck. A test uses pcheck when it
requests the ``pcheck_context`` or ``pcheck_profile`` fixture or carries the ``pcheck_claim``
marker (``@pcheck.claim("id")``); a session uses pcheck when ``--pcheck-profile`` is given
(or the ini option ``pcheck_profile``). Importing the plugin imports neither numba, scipy nor
cvxpy nor Hypothesis.

* A session that uses pcheck runs every Hypothesis test on pcheck's profile
  (``--pcheck-profile NAME``; ``auto``: ``nojit`` under ``NUMBA_DISABLE_JIT=1``, ``ci`` when
  the ``CI`` variable is set, ``dev`` otherwise).
* Otherwise only the tests that use pcheck run on it (the same automatic choice), and only
  when no one chose a Hypothesis profile: a test with its own ``@settings``, or a session
  where a profile other than Hypothesis's own ``default`` and ``ci`` is loaded, keeps it.
* ``--hypothesis-profile`` always wins: with it, pcheck loads no profile for any test (the
  ``pcheck_context`` still carries pcheck's profile, the example budget of its checks).
* The numba kernels are compiled once, before the first test that uses pcheck (before the
  first test at all in a session that uses pcheck), so that no test pays the compilation
  inside a Hypothesis deadline; a session without such a test never loads numba.

Profiles (registered as ``pcheck-dev``, ``pcheck-ci``, ``pcheck-nojit``,
``pcheck-thorough``, so that a project's own or Hypothesis's ``ci`` profile is never
replaced; all without deadlines: numba and conic solvers have heavy first calls, and
pcheck's budget is the example count):

* ``dev``: 20 examples, random seeds, for the edit-test loop;
* ``ci``: 50 examples, derandomized, so CI verdicts are reproducible;
* ``nojit``: 5 examples, derandomized, for the pure-Python ``NUMBA_DISABLE_JIT=1`` pass;
* ``thorough``: 300 examples, derandomized.

Claims checked inside a test suite: ``@pcheck.claim("id")`` (only an id) marks a test
with ``pytest.mark.pcheck_claim("id")``, linking it to the ledger entry ``id``. The test's
``pcheck_context`` carries that id and the reproduce command ``pytest '<node id>'``. A test
marked ``expected="refuted"`` (without an ``xfail`` marker of its own) expects its
counterexample to reproduce: failing on an ``AssertionError`` is then reported as
"xfailed" (the run passes), and passing without recording a refuted evidence fails it
(the counterexample no longer reproduces). With ``--pcheck-report DIR`` the run writes
``report.md`` and ``report.json`` (the schema of :mod:`pcheck.harness.report`,
``"command": "pytest"``) with one row per linked claim. A test's verdict is the evidence its
``pcheck_context`` recorded, else its outcome: passed -> "holds", failed on an
``AssertionError`` or an xfail -> "refuted", failed on any other exception -> "error";
several tests of one claim combine to the worst verdict. ``DIR`` is checked when pytest
starts: a file, or a directory that cannot be created or written, is a usage error (exit 4)
before any test runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

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

#: The numba kernels, imported when the first test that uses pcheck runs, never when pytest
#: loads the plugin (a module of ``pcheck.core``, below this layer; the name is checked by
#: ``tests/test_plugin_optin.py``).
KERNELS_MODULE = "pcheck.core.kernels"

#: Fixtures whose use makes a test one that uses pcheck.
FIXTURES = ("pcheck_context", "pcheck_profile")

#: Hypothesis's own profiles: loaded by nobody's choice (``ci`` loads itself on CI machines).
HYPOTHESIS_OWN_PROFILES = ("default", "ci")


def hypothesis_name(profile: str) -> str:
    """The name under which pcheck's ``profile`` is registered with Hypothesis."""
    return f"pcheck-{profile}"


def register_profiles() -> None:
    """Register pcheck's Hypothesis profiles as ``pcheck-<name>`` (idempotent)."""
    from hypothesis import HealthCheck, settings

    if hypothesis_name("dev") in getattr(settings, "_profiles", {}):
        return
    common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    for name, examples in PROFILE_EXAMPLES.items():
        settings.register_profile(hypothesis_name(name), max_examples=examples, derandomize=name != "dev", **common)


def default_profile() -> str:
    if os.environ.get("NUMBA_DISABLE_JIT", "0") not in ("", "0"):
        return "nojit"
    if os.environ.get("CI"):
        return "ci"
    return "dev"


def pytest_addoption(parser):
    group = parser.getgroup("pcheck")
    group.addoption("--pcheck-profile", choices=[*sorted(PROFILE_EXAMPLES), "auto"], default=None,
                    help="run every Hypothesis test of the session on this pcheck profile (auto: nojit under "
                         "NUMBA_DISABLE_JIT=1, ci when $CI is set, else dev); without it only tests that use "
                         "pcheck (its fixtures or marker) run on the automatic choice")
    group.addoption("--pcheck-report", default=None, metavar="DIR",
                    help="write report.md and report.json for the tests marked @pcheck.claim(id) into DIR")
    parser.addini("pcheck_profile", default="",
                  help="as --pcheck-profile, for a project whose whole test suite uses pcheck (e.g. auto)")


def hypothesis_option(config) -> str | None:
    """The ``--hypothesis-profile`` given, if any (None when Hypothesis's plugin is absent)."""
    return config.getoption("--hypothesis-profile", None) or None


@pytest.hookimpl(tryfirst=True)  # before Hypothesis's plugin loads --hypothesis-profile (it may name pcheck-ci)
def pytest_configure(config):
    report_dir = config.getoption("--pcheck-report")
    if report_dir is not None:
        try:
            prepare_report_dir(report_dir)
        except ReportTargetError as exc:
            raise pytest.UsageError(f"--pcheck-report: {exc}") from None
    chosen = config.getoption("--pcheck-profile") or config.getini("pcheck_profile").strip() or None
    if chosen is not None and chosen not in (*PROFILE_EXAMPLES, "auto"):
        raise pytest.UsageError(f"pcheck_profile = {chosen}: must be one of {[*sorted(PROFILE_EXAMPLES), 'auto']}")
    config._pcheck_profile = default_profile() if chosen in (None, "auto") else chosen
    config._pcheck_session = chosen is not None
    config._pcheck_warm = False
    if (hypothesis_option(config) or "").startswith("pcheck-"):
        register_profiles()
    config._pcheck_restore = None
    if config._pcheck_session and not hypothesis_option(config):
        from hypothesis import settings

        register_profiles()
        config._pcheck_restore = current_profile_name(settings)
        settings.load_profile(hypothesis_name(config._pcheck_profile))
    config.addinivalue_line("markers", "pcheck_claim(id, expected=None): the test checks the claims-ledger entry "
                                       "id (set by @pcheck.claim(id)); reported under --pcheck-report")
    config._pcheck_tests = []
    config._pcheck_report_error = None
    config._pcheck_started = (datetime.now(timezone.utc), time.perf_counter())


def pytest_unconfigure(config):
    """Give the process back its Hypothesis profile (a session run inside another, as pytester's)."""
    if getattr(config, "_pcheck_restore", None) is not None:
        from hypothesis import settings

        settings.load_profile(config._pcheck_restore)


def pytest_report_header(config):
    if not (config._pcheck_session or config.getoption("--pcheck-report")):
        return None  # a session that does not use pcheck shows no trace of it
    where = ("for every test" if config._pcheck_session else "for the tests that use pcheck")
    if hypothesis_option(config):
        where = f"for pcheck's checks; Hypothesis tests run on --hypothesis-profile {hypothesis_option(config)}"
    return f"pcheck: hypothesis profile {hypothesis_name(config._pcheck_profile)} {where}"


def uses_pcheck(item) -> bool:
    """The test requests a pcheck fixture or carries the ``pcheck_claim`` marker."""
    return (item.get_closest_marker("pcheck_claim") is not None
            or any(name in getattr(item, "fixturenames", ()) for name in FIXTURES))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    config = item.config
    if not config._pcheck_warm and (config._pcheck_session or uses_pcheck(item)):
        config._pcheck_warm = True
        importlib.import_module(KERNELS_MODULE).warm_up()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    config = item.config
    if config._pcheck_session or hypothesis_option(config) or not uses_pcheck(item):
        yield
        return
    with pcheck_settings(item, config._pcheck_profile):
        yield


def current_profile_name(settings) -> str | None:
    getter = getattr(settings, "get_current_profile_name", None)
    return getter() if getter is not None else getattr(settings, "_current_profile", None)


@contextlib.contextmanager
def pcheck_settings(item, profile: str):
    """Run one test that uses pcheck on pcheck's ``profile``, then restore the session's
    profile: loaded as the default (for ``settings()`` in the test) and, for a Hypothesis test
    without its own ``@settings``, as the settings its ``@given`` captured at import. Nothing
    changes when the session runs on a profile someone chose."""
    from hypothesis import settings

    previous = current_profile_name(settings)
    if previous not in HYPOTHESIS_OWN_PROFILES:
        yield
        return
    register_profiles()
    chosen = settings.get_profile(hypothesis_name(profile))
    test = getattr(item, "obj", None)
    test = getattr(test, "__func__", test)
    swap = getattr(test, "is_hypothesis_test", False) and not hasattr(test, "_hypothesis_internal_settings_applied")
    captured = getattr(test, "_hypothesis_internal_use_settings", None) if swap else None
    settings.load_profile(hypothesis_name(profile))
    if swap:
        test._hypothesis_internal_use_settings = chosen
    try:
        yield
    finally:
        settings.load_profile(previous)
        if swap:
            test._hypothesis_internal_use_settings = captured


@pytest.fixture(scope="session")  # one value per session; usable in @given tests (no function-scoped fixture)
def pcheck_profile(request) -> str:
    """The name of the pcheck profile of this session (``dev``, ``ci``, ``nojit``, ``thorough``)."""
    return request.config._pcheck_profile


@pytest.fixture
def pcheck_context(request):
    """A :class:`pcheck.ledger.Context` on the session's pcheck profile, for running ledger
    checks in tests: its ``claim_id`` is the test's ``pcheck_claim`` marker id (if any), its
    reproduce command ``pytest '<node id>'``."""

    report_dir = request.config.getoption("--pcheck-report")
    if report_dir is not None:  # figures of checks go next to the report
        report_dir = Path(report_dir).resolve()
        report_dir.mkdir(parents=True, exist_ok=True)
    marker = request.node.get_closest_marker("pcheck_claim")
    return Context(profile=request.config._pcheck_profile, seed=0, report_dir=report_dir,
                   claim_id=marker.args[0] if marker is not None and marker.args else None,
                   reproduce=f"pytest '{request.node.nodeid}'")


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


def expect_refutation(item, call, rep, claim_id: str) -> None:
    """A test marked ``expected="refuted"`` without an xfail marker of its own: its
    ``AssertionError`` is the counterexample reproducing (the report becomes "xfailed"); a
    pass without a refuted evidence in its ``pcheck_context`` means the counterexample no
    longer reproduces (the report becomes "failed")."""
    if rep.failed and call.excinfo is not None and call.excinfo.errisinstance(AssertionError):
        rep.outcome = "skipped"
        rep.wasxfail = f"pcheck: {claim_id} refuted as expected: {call.excinfo.exconly().splitlines()[0]}"
    elif rep.passed:
        ctx = item.funcargs.get("pcheck_context") if hasattr(item, "funcargs") else None
        if not any(e.verdict == "refuted" for e in (ctx.recorded if ctx is not None else ())):
            rep.outcome = "failed"
            rep.longrepr = (f"[pcheck] {claim_id} is expected to be refuted, but the test passed: the "
                            "counterexample no longer reproduces")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    rep = report.get_result()
    marker = item.get_closest_marker("pcheck_claim")
    if marker is None:
        return
    if rep.when == "call" and marker.kwargs.get("expected") == "refuted" and item.get_closest_marker("xfail") is None:
        expect_refutation(item, call, rep, marker.args[0] if marker.args else "?")
    if item.config.getoption("--pcheck-report") is None:
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
