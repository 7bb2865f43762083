"""Exact P_7 of a 1D stack with n = 1000 neurons and d_out = 8 (issue 3: under 1 s).

Prints the time of ``pcheck.penalty`` (absorbed-split LP fast path, else Clarabel on the
scaled conic form), of the conic form forced, and of the same program written plainly in
cvxpy (``penalty_cvxpy``, Clarabel backend), with the ratios and the certificates.
Run: ``python benchmarks/bench_penalty.py``.
"""

from __future__ import annotations

import time

import numpy as np

from pcheck import Stack, penalty
from pcheck.penalty import _solve_conic, hyperplane_program, penalty_cvxpy

N, D_OUT, REPEATS = 1000, 8, 3


def best_time(fn, repeats=REPEATS):
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main():
    stack = Stack.random(N, 1, D_OUT, rng=0)
    prog = hyperplane_program(stack)
    penalty(Stack.random(5, 1, D_OUT, rng=1))  # imports and first calls outside the timing
    t_fast, result = best_time(lambda: penalty(stack))
    t_conic, conic = best_time(lambda: _solve_conic(prog, "7"), repeats=1)
    t_cvxpy, reference = best_time(lambda: penalty_cvxpy(prog, "7"), repeats=1)
    print(f"n = {N}, d_out = {D_OUT}, kinks = {len(prog.r)}")
    print(f"pcheck.penalty      : {t_fast:8.3f} s  P_7 in [{result.lower!r}, {result.upper!r}], gap {result.gap:.1e}")
    print(f"conic form forced   : {t_conic:8.3f} s  dual bound {conic[-1]!r}")
    print(f"cvxpy, naive        : {t_cvxpy:8.3f} s  value {reference!r}")
    print(f"ratio cvxpy / penalty    : {t_cvxpy / t_fast:8.1f}")
    print(f"ratio cvxpy / conic form : {t_cvxpy / t_conic:8.1f}")
    print("under 1 s:", t_fast < 1.0)


if __name__ == "__main__":
    main()
