"""The pytest plugin's ``--pcheck-report DIR`` and the ``@pcheck.claim(id)`` marker, run on
a user's own test suite through pytester."""

import json

import pytest

from pcheck.ledger import load_claims

# C extensions (numpy, scipy, numba) load once per process: import every claims module before
# pytester's in-process runs, which drop the modules imported after their snapshot (the plugin
# itself no longer imports them)
load_claims()

pytest_plugins = ["pytester"]

USER_SUITE = '''
import pytest
from hypothesis import strategies as st

import pcheck
from pcheck.ledger import Evidence, instance_check, property_check

@pcheck.claim(LEDGER_ID)
def test_linked_to_the_ledger():
    """A test of a built-in ledger entry."""
    assert 1 + 1 == 2

@pcheck.claim("user.sum", expected="refuted")
def test_assertion_refutes():
    """0.1 + 0.2 == 0.3 in floating point."""
    assert 0.1 + 0.2 == 0.3, "float addition is not exact"

@pcheck.claim("user.evidence")
def test_with_evidence(pcheck_context):
    property_check(pcheck_context, st.integers(0, 10), lambda n: n / 10, measure="n/10")
    instance_check(pcheck_context, [0.5, 2.0], lambda x: x, measure="n/10")

@pcheck.claim("user.evidence")
def test_second_test_of_the_same_claim(pcheck_context):
    figure = pcheck_context.report_dir / "user-figure.svg"
    figure.write_text("<svg/>")
    pcheck_context.record(Evidence("holds", 1, 0.0, "n/10", figures=[figure]))

@pcheck.claim("user.error")
def test_raises():
    raise RuntimeError("broken check")

@pcheck.claim("user.finding", expected="refuted")
@pytest.mark.xfail(strict=True, reason="the counterexample reproduces")
def test_strict_xfail():
    assert False, "counterexample reproduces"

@pcheck.claim("user.recorded_refutation", expected="refuted")
def test_recorded_refutation(pcheck_context):
    ev = instance_check(pcheck_context, [1, 2], lambda x: 1 / (x - 2) if x != 2 else pcheck_fail(), measure="m")
    assert ev.verdict == "refuted"

def pcheck_fail():
    raise AssertionError("x = 2 is the counterexample")

def test_not_linked():
    pass

@pcheck.claim("user.skipped")
@pytest.mark.skip(reason="not run")
def test_skipped():
    pass
'''


@pytest.fixture
def suite(pytester):
    ledger_id = sorted(load_claims())[0]
    pytester.makepyfile(test_user=USER_SUITE.replace("LEDGER_ID", repr(ledger_id)))
    return pytester, ledger_id


def test_report_of_a_user_suite(suite):
    pytester, ledger_id = suite
    result = pytester.runpytest("--pcheck-report", "out", "-p", "no:cacheprovider")
    # test_assertion_refutes (expected="refuted", no xfail marker): its counterexample reproduces, so it xfails
    result.assert_outcomes(passed=5, failed=1, xfailed=2, skipped=1)
    result.stdout.fnmatch_lines(["pcheck: report of 6 linked claims in out*report.md and report.json"])
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    assert (report["schema_version"], report["command"], report["seed"]) == (2, "pytest", None)
    claims = {c["id"]: c for c in report["claims"]}
    assert sorted(claims) == sorted([ledger_id, "user.error", "user.evidence", "user.finding",
                                     "user.recorded_refutation", "user.sum"])  # no unlinked or skipped tests
    linked = claims[ledger_id]
    ledger_entry = load_claims()[ledger_id]
    assert (linked["verdict"], linked["statement"], linked["note"]) == ("holds", ledger_entry.statement,
                                                                       ledger_entry.note)
    assert (linked["origin"], linked["quote"] or "") == (ledger_entry.origin, ledger_entry.quote)
    assert claims["user.sum"]["origin"] is None  # a test linked to an id the ledger does not have
    assert (claims["user.sum"]["verdict"], claims["user.sum"]["as_expected"]) == ("refuted", True)
    assert claims["user.sum"]["counterexample"].startswith("AssertionError: float addition is not exact")
    assert claims["user.sum"]["reproduce"] == "pytest 'test_user.py::test_assertion_refutes'"
    assert claims["user.sum"]["statement"] == "0.1 + 0.2 == 0.3 in floating point."
    evidence = claims["user.evidence"]
    # property_check saw at most the 11 integers 0..10 (worst n/10 = 1.0), instance_check 2 instances
    # (worst 2.0), the second test recorded one example with a figure
    assert evidence["verdict"] == "holds" and 1 + 2 + 1 <= evidence["examples"] <= 11 + 2 + 1
    assert (evidence["residual"], evidence["measure"], evidence["figures"]) == (2.0, "n/10", ["user-figure.svg"])
    assert (pytester.path / "out" / "user-figure.svg").read_text() == "<svg/>"
    assert [t["nodeid"] for t in evidence["details"]["tests"]] == [
        "test_user.py::test_with_evidence", "test_user.py::test_second_test_of_the_same_claim"]
    assert (claims["user.error"]["verdict"], claims["user.error"]["as_expected"]) == ("error", False)
    assert claims["user.error"]["error"] == "test_user.py::test_raises: RuntimeError: broken check"
    assert (claims["user.finding"]["verdict"], claims["user.finding"]["as_expected"]) == ("refuted", True)
    recorded = claims["user.recorded_refutation"]
    assert (recorded["verdict"], recorded["as_expected"]) == ("refuted", True)
    assert recorded["counterexample"] == "example = 2\n# AssertionError: x = 2 is the counterexample"
    assert recorded["reproduce"] == "pytest 'test_user.py::test_recorded_refutation'"
    assert report["summary"]["differing"] == ["user.error"]
    assert "| `user.error` | **error** (differs) | holds | - | - | - |" in (pytester.path / "out" / "report.md").read_text()


def test_a_strict_xfail_that_passes_reports_holds(pytester):
    pytester.makepyfile(test_fixed='''
        import pytest, pcheck

        @pcheck.claim("user.fixed", expected="refuted")
        @pytest.mark.xfail(strict=True)
        def test_no_longer_fails():
            pass
    ''')
    pytester.runpytest("--pcheck-report", "out", "-p", "no:cacheprovider").assert_outcomes(failed=1)
    (entry,) = json.loads((pytester.path / "out" / "report.json").read_text())["claims"]
    assert (entry["verdict"], entry["as_expected"]) == ("holds", False)


def test_no_report_without_the_option(suite):
    pytester, _ = suite
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "linked or evidence")
    result.assert_outcomes(passed=3, deselected=6)
    assert not (pytester.path / "out").exists()
    assert not list(pytester.path.glob("**/report.json"))


def test_the_marker_is_registered(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.pcheck_claim(id, expected=None):*"])


@pytest.mark.parametrize("target", ["a_file", "a_file/sub"])
def test_a_report_target_that_cannot_hold_a_report_is_a_usage_error(pytester, target):
    """Issue 14, item 9: ``--pcheck-report`` naming a file ended in an internal error (after
    the whole run). Now pytest stops before running any test with a usage error (exit 4)."""
    pytester.makepyfile(test_user="def test_x():\n    raise AssertionError('must not run')\n")
    (pytester.path / "a_file").write_text("keep me")
    result = pytester.runpytest("--pcheck-report", target, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --pcheck-report: *a_file*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "must not run" not in result.stdout.str()
    assert (pytester.path / "a_file").read_text() == "keep me"


def test_an_expected_refutation_passes_when_it_reproduces(pytester):
    """Issue 16, item 4: a test marked expected="refuted" failed pytest while the report said
    "as expected", unless a strict xfail was added by hand."""
    pytester.makepyfile(test_lemma='''
        import pcheck
        from hypothesis import strategies as st

        def bounded(n):
            assert n < 3, f"n = {n} breaks the lemma"
            return 0.0

        @pcheck.claim("user.lemma", expected="refuted")
        def test_counterexample_reproduces():
            bounded(7)

        @pcheck.claim("user.lemma_recorded", expected="refuted")
        def test_recorded(pcheck_context):
            pcheck.property_check(pcheck_context, st.integers(0, 10), bounded, measure="none")

        @pcheck.claim("user.fixed", expected="refuted")
        def test_no_longer_reproduces():
            bounded(1)

        @pcheck.claim("user.broken", expected="refuted")
        def test_raises_something_else():
            raise RuntimeError("not a counterexample")
    ''')
    result = pytester.runpytest("--pcheck-report", "out", "-p", "no:cacheprovider", "-rxf")
    result.assert_outcomes(passed=1, xfailed=1, failed=2)
    result.stdout.fnmatch_lines(["*XFAIL*test_counterexample_reproduces*user.lemma refuted as expected: "
                                 "AssertionError: n = 7 breaks the lemma*",
                                 "*FAILED*test_no_longer_reproduces*"])
    assert "user.fixed is expected to be refuted, but the test passed" in result.stdout.str()
    claims = {c["id"]: c for c in json.loads((pytester.path / "out" / "report.json").read_text())["claims"]}
    verdicts = {i: (c["verdict"], c["as_expected"]) for i, c in claims.items()}
    assert verdicts == {"user.lemma": ("refuted", True), "user.lemma_recorded": ("refuted", True),
                        "user.fixed": ("holds", False), "user.broken": ("error", False)}
    recorded = claims["user.lemma_recorded"]
    assert recorded["reproduce"] == "pytest 'test_lemma.py::test_recorded'"  # under pytest: the test, not verify
    assert recorded["counterexample"].startswith("from test_lemma import bounded\nexample = 3\nbounded(example)\n"
                                                 "# AssertionError: n = 3 breaks the lemma")
