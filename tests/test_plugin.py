"""The pcheck pytest plugin, tested with pytester: profiles, the option, the fixtures."""

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("option, env, expected", [
    ([], {}, "dev"),
    ([], {"CI": "true"}, "ci"),
    ([], {"NUMBA_DISABLE_JIT": "1"}, "nojit"),
    (["--pcheck-profile", "thorough"], {"CI": "true"}, "thorough"),
])
def test_profile_selection(pytester, monkeypatch, option, env, expected):
    for name in ("CI", "NUMBA_DISABLE_JIT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(f"""
        from hypothesis import given, settings, strategies as st
        from pcheck.ledger import PROFILE_EXAMPLES

        def test_profile(pcheck_profile, pcheck_context):
            assert pcheck_profile == {expected!r}
            assert settings().max_examples == PROFILE_EXAMPLES[{expected!r}]
            assert settings().deadline is None
            assert pcheck_context.profile == {expected!r}

        calls = []

        @given(st.integers())
        def test_counts(i):
            calls.append(i)

        def test_count_matches():
            assert len(calls) <= PROFILE_EXAMPLES[{expected!r}]
    """)
    result = pytester.runpytest_inprocess(*option)
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"pcheck: hypothesis profile {expected}"])


def test_rejects_unknown_profile(pytester):
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_inprocess("--pcheck-profile", "fast")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--pcheck-profile*invalid choice*"])


def test_kernels_are_compiled_before_the_first_test(pytester):
    pytester.makepyfile("""
        from numba import config
        from pcheck.core import kernels

        def test_compiled():
            # numba dispatchers list their compiled signatures once warm_up ran at session start
            if not config.DISABLE_JIT:
                assert len(kernels.stack_forward_T.signatures) >= 1
                assert len(kernels.merge_sorted_positions.signatures) >= 1
    """)
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
