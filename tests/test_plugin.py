"""The pcheck pytest plugin, tested with pytester: profiles, the option, the fixtures."""

import pytest

# numpy and numba load once per process: import them before pytester's in-process runs, which
# drop the modules a run imported (the plugin itself no longer imports them)
import pcheck.core.kernels  # noqa: E402, F401

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("option, env, expected", [
    ([], {}, "dev"),
    ([], {"CI": "true"}, "ci"),
    ([], {"NUMBA_DISABLE_JIT": "1"}, "nojit"),
    (["--pcheck-profile", "thorough"], {"CI": "true"}, "thorough"),
    (["--pcheck-profile", "auto"], {"CI": "true"}, "ci"),
])
def test_profile_selection(pytester, monkeypatch, option, env, expected):
    """The profile the fixtures carry; what Hypothesis tests run on is tests/test_plugin_optin.py's."""
    for name in ("CI", "NUMBA_DISABLE_JIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(f"""
        from pcheck.ledger import PROFILE_EXAMPLES

        def test_profile(pcheck_profile, pcheck_context):
            assert pcheck_profile == {expected!r}
            assert pcheck_context.profile == {expected!r}
            assert pcheck_context.examples == PROFILE_EXAMPLES[{expected!r}]
    """)
    result = pytester.runpytest_inprocess(*option)
    result.assert_outcomes(passed=1)
    if option:
        result.stdout.fnmatch_lines([f"pcheck: hypothesis profile pcheck-{expected} for every test"])


def test_the_context_knows_its_claim_and_test(pytester):
    pytester.makepyfile(test_ctx="""
        import pcheck

        @pcheck.claim("user.lemma")
        def test_linked(pcheck_context):
            assert pcheck_context.claim_id == "user.lemma"
            assert pcheck_context.reproduce == "pytest 'test_ctx.py::test_linked'"

        def test_unlinked(pcheck_context):
            assert pcheck_context.claim_id is None
    """)
    pytester.runpytest_inprocess().assert_outcomes(passed=2)


def test_rejects_unknown_profile(pytester):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_inprocess("--pcheck-profile", "fast")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--pcheck-profile*invalid choice*"])


def test_kernels_are_compiled_before_the_first_test(pytester):
    pytester.makepyfile("""
        from numba import config
        from pcheck.core import kernels

        def test_compiled(pcheck_profile):
            # numba dispatchers list their compiled signatures once warm_up ran before the first pcheck test
            if not config.DISABLE_JIT:
                assert len(kernels.stack_forward_T.signatures) >= 1
                assert len(kernels.merge_sorted_positions.signatures) >= 1
    """)
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
