"""Issue 16, item 1: the plugin is opt-in. Pytest loads it in every session of every project
where pcheck is installed; it must change nothing for a test that does not use pcheck (no
pcheck fixture, no ``pcheck_claim`` marker, no ``--pcheck-profile``), never override
``--hypothesis-profile``, load numba only when a pcheck test runs, and import neither numba,
scipy nor cvxpy itself. Each run is a fresh interpreter (``runpytest_subprocess``): Hypothesis's
profiles are process-wide, and an unrelated project starts from a fresh one."""

import subprocess
import sys

import pytest

from pcheck.harness import plugin
from pcheck.ledger import PROFILE_EXAMPLES

pytest_plugins = ["pytester"]

CONFTEST = """
from hypothesis import settings

settings.register_profile("mine", max_examples=7)
"""

#: An unrelated project's Hypothesis tests, around tests that use pcheck; the last test
#: checks how many examples each one ran and the session's profile afterwards.
SUITE = """
import datetime
import sys

import pytest
from hypothesis import given, settings, strategies as st

import pcheck

unrelated, linked, with_fixture = [], [], []

@given(st.integers())
def test_unrelated(i):
    unrelated.append(settings.default)

@pcheck.claim("user.lemma")
@given(st.integers())
def test_linked(i):
    linked.append(i)

@given(st.integers())
def test_with_fixture(pcheck_profile, i):
    with_fixture.append(i)

@given(st.integers())
def test_unrelated_again(i):
    unrelated.append(settings.default)

def test_what_ran():
    counts = {"unrelated": len(unrelated), "linked": len(linked), "with_fixture": len(with_fixture)}
    assert counts == EXPECTED, counts
    default = settings.default
    assert (default.max_examples, default.deadline) == (UNRELATED_EXAMPLES, UNRELATED_DEADLINE)
    assert settings.get_profile("ci").max_examples == 100  # Hypothesis's own ci profile is never replaced
    assert "numba" in sys.modules  # warmed up before the first test that uses pcheck
"""

HUNDRED = 100
DEADLINE = "datetime.timedelta(milliseconds=200)"


def run(pytester, monkeypatch, *args, expected: dict, unrelated_examples=HUNDRED, deadline=DEADLINE, env=None):
    for name in ("CI", "NUMBA_DISABLE_JIT", "GITHUB_ACTIONS", "TF_BUILD", "BUILDKITE", "CIRCLECI", "CIRRUS_CI",
                 "CODEBUILD_BUILD_ID", "GITLAB_CI", "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION", "bamboo.buildKey"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_project=SUITE.replace("EXPECTED", repr(expected))
                                        .replace("UNRELATED_EXAMPLES", str(unrelated_examples)).replace("UNRELATED_DEADLINE", deadline))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=5)
    return result


def test_an_unrelated_hypothesis_test_keeps_its_settings(pytester, monkeypatch):
    """No option: the unrelated tests run Hypothesis's default (100 examples, 200 ms deadline)
    before and after the tests that use pcheck, which run pcheck's dev profile (20 examples)."""
    result = run(pytester, monkeypatch, expected={"unrelated": 2 * HUNDRED, "linked": 20, "with_fixture": 20})
    assert "pcheck: hypothesis profile" not in result.stdout.str()  # no header line in such a session


def test_an_explicit_hypothesis_profile_always_wins(pytester, monkeypatch):
    """The issue's case: ``--hypothesis-profile default`` ran 20 examples without deadline."""
    run(pytester, monkeypatch, "--hypothesis-profile", "default",
        expected={"unrelated": 2 * HUNDRED, "linked": HUNDRED, "with_fixture": HUNDRED})
    run(pytester, monkeypatch, "--hypothesis-profile", "mine", "--pcheck-profile", "ci",
        expected={"unrelated": 14, "linked": 7, "with_fixture": 7}, unrelated_examples=7)


def test_pcheck_profile_opts_the_whole_session_in(pytester, monkeypatch):
    result = run(pytester, monkeypatch, "--pcheck-profile", "nojit",
                 expected={"unrelated": 2 * 5, "linked": 5, "with_fixture": 5}, unrelated_examples=5, deadline="None")
    result.stdout.fnmatch_lines(["pcheck: hypothesis profile pcheck-nojit for every test"])


def test_the_ini_option_opts_a_project_in(pytester, monkeypatch):
    pytester.makeini("[pytest]\npcheck_profile = auto\n")
    run(pytester, monkeypatch, env={"CI": "true"},
        expected={"unrelated": 2 * 50, "linked": 50, "with_fixture": 50}, unrelated_examples=50, deadline="None")


def test_on_ci_unrelated_tests_keep_hypothesis_own_ci_profile(pytester, monkeypatch):
    """Hypothesis loads its own ``ci`` profile on CI machines (100 examples, no deadline); pcheck
    registered its own ``ci`` over it, so every project's CI ran 50 examples."""
    run(pytester, monkeypatch, env={"CI": "true"}, deadline="None",
        expected={"unrelated": 2 * HUNDRED, "linked": 50, "with_fixture": 50})


def test_a_profile_chosen_in_conftest_is_kept(pytester, monkeypatch):
    pytester.makeconftest(CONFTEST + "settings.load_profile('mine')\n")
    monkeypatch.setattr(pytester, "makeconftest", lambda source: None)  # keep this conftest in run()
    run(pytester, monkeypatch, expected={"unrelated": 14, "linked": 7, "with_fixture": 7}, unrelated_examples=7)


def test_no_pcheck_test_no_numba(pytester, monkeypatch):
    """Without a test that uses pcheck the session never imports numba (no warm-up)."""
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_plain="""
        import sys
        from hypothesis import given, strategies as st

        @given(st.integers())
        def test_plain(i):
            pass

        def test_nothing_heavy_was_imported():
            assert not {"numba", "scipy", "cvxpy"} & set(sys.modules)
    """)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_importing_the_plugin_imports_nothing_heavy():
    code = ("import sys, pcheck.harness.plugin; "
            "print(sorted({'numba', 'scipy', 'cvxpy', 'hypothesis', 'numpy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_lazily_imported_kernels_sit_below_the_harness():
    """The plugin imports the kernels by name at the first pcheck test (``importlib``, so that
    pytest's start does not pay for numba); the name must be a module of a lower layer."""
    assert plugin.KERNELS_MODULE.startswith("pcheck.core.")
    assert callable(__import__(plugin.KERNELS_MODULE, fromlist=["warm_up"]).warm_up)


@pytest.mark.parametrize("name", sorted(PROFILE_EXAMPLES))
def test_pcheck_profiles_are_registered_under_their_own_names(name):
    from hypothesis import settings

    plugin.register_profiles()
    assert settings.get_profile(plugin.hypothesis_name(name)).max_examples == PROFILE_EXAMPLES[name]
