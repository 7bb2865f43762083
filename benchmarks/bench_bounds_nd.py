"""Time and certified gap of ``pcheck.function_space_bounds`` (HTW eq. 4 over all widths,
``d_in > 1``) for N in {5, 6, 8}, d_in in {2, 3}, d_out in {1, 3}, variants "7" and "8".

Instance: ``rng = default_rng(1000 N + 100 d_in + 10 d_out)``, ``X ~ N(0, 1)^(N x d_in)``,
``Y ~ N(0, 1)^(N x d_out)``, ``lam = 0.1``, ``n_candidates = 200, seed = 0``; two settings:
the defaults (``rounds = 4``) and the one ``fit_function_space`` uses for ``d_in > 1``
(``rounds = 50, gap_tol = 1e-9``: at most 50 exchange rounds, stopping when nothing is
violated). One timed run each, after a warm-up run on a tiny instance (imports, cvxpy
set-up). Columns: cells enumerated, neurons of the returned network, upper, lower,
relative gap, seconds, then gap, rounds' network size and seconds of the second setting.
Run: ``python benchmarks/bench_bounds_nd.py``.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from pcheck import function_space_bounds

NS, D_INS, D_OUTS, VARIANTS, LAM = (5, 6, 8), (2, 3), (1, 3), ("7", "8"), 0.1


def instance(N, d_in, d_out):
    rng = np.random.default_rng(1000 * N + 100 * d_in + 10 * d_out)
    return rng.standard_normal((N, d_in)), rng.standard_normal((N, d_out))


def main():
    function_space_bounds(*instance(3, 2, 1), LAM)  # warm-up: imports, cvxpy set-up
    print("| variant | N | d_in | d_out | cells | neurons | upper | lower | gap | s "
          "| gap (50) | neurons (50) | s (50) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for variant, N, d_in, d_out in itertools.product(VARIANTS, NS, D_INS, D_OUTS):
        X, Y = instance(N, d_in, d_out)
        t0 = time.perf_counter()
        b = function_space_bounds(X, Y, LAM, variant=variant)
        dt = time.perf_counter() - t0
        t0 = time.perf_counter()
        long = function_space_bounds(X, Y, LAM, variant=variant, rounds=50, gap_tol=1e-9)
        dt_long = time.perf_counter() - t0
        print(f"| {variant} | {N} | {d_in} | {d_out} | {b.patterns} | {b.stack.n} | {b.upper:.10g} | "
              f"{b.lower:.10g} | {b.gap:.1e} | {dt:.2f} | {long.gap:.1e} | {long.stack.n} | {dt_long:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
