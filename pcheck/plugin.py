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
"""

from __future__ import annotations

import os

import pytest

from .ledger import PROFILE_EXAMPLES


def register_profiles() -> None:
    """Register pcheck's Hypothesis profiles (idempotent)."""
    from hypothesis import HealthCheck, settings

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


def pytest_configure(config):
    from hypothesis import settings

    register_profiles()
    profile = config.getoption("--pcheck-profile") or default_profile()
    settings.load_profile(profile)
    config._pcheck_profile = profile


def pytest_report_header(config):
    return f"pcheck: hypothesis profile {getattr(config, '_pcheck_profile', '?')}"


def pytest_sessionstart(session):
    from .kernels import warm_up

    warm_up()


@pytest.fixture
def pcheck_profile(request) -> str:
    """The name of the active pcheck Hypothesis profile."""
    return request.config._pcheck_profile


@pytest.fixture
def pcheck_context(request):
    """A :class:`pcheck.ledger.Context` on the active profile, for running ledger checks in tests."""
    from .ledger import Context

    return Context(profile=request.config._pcheck_profile, seed=0)
