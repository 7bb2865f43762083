"""Tolerances shared by the solvers and the checks, each stated once with its reason
(:mod:`pcheck.testing` re-exports them for users' tests)."""

#: Same sum, different order: float64 rounding is at most ``~ n * eps`` relative to the
#: condition scale; 1e-12 leaves a factor > 100 over eps = 2.2e-16 for the term counts
#: the tests use (at most a few thousand).
RTOL_REORDER = 1e-12

#: Certified comparisons: the relative duality gap pcheck's 1D solvers reach (certified
#: to 1e-9 by the exchange method of :mod:`pcheck.problems.exchange_1d`).
RTOL_CERTIFIED = 1e-9

#: Certified gap bar in ``d_in > 1`` (``fit_function_space`` on the pattern program or the
#: interval of :mod:`pcheck.problems.bounds_nd`): the conic solves run at 1e-9..1e-10 and the
#: measured gaps are 1e-10 to 2e-7 (benchmarks/bench_bounds_nd.py, tests/test_patterns.py);
#: 1e-6 flags a broken certificate or exchange, not solver noise.
RTOL_CERTIFIED_ND = 1e-6
