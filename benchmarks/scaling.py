"""Scaling of pcheck's second-derivative and penalty routines (issue 7, item 4): times over
at least two decades of the width n (and of d_out), with the log-log slope fitted by
least squares (``t ~ n^slope``). Best of ``REPEATS`` runs each, in this process.
``python benchmarks/scaling.py`` prints the tables alone.

Routines: ``kinks`` (1D, sort + merge: ``n log n``), ``atoms`` (d_in = 3, sort + merge),
``smoothed_second_derivative`` at 1000 points (``n x points``), the sorted 1D evaluation
at B = n, the exact penalty ``penalty(stack, "7")`` (1D stacks, a conic program with a
certificate) and the certified function-space solver ``fit_function_space(X, Y, lam, "7")``
(HTW eq. 5, 1D, N data points, lam = 0.1). The earlier issues' bars for the last two
(exact P_7 at n = 1000 under 1 s; the 1D solver at N = 200, d_out = 8 under 2 s) are
timed in a table of their own.
"""

from __future__ import annotations

import time

import numpy as np

import pcheck
from pcheck.core.network import evaluate_1d

REPEATS = 3


#: a routine whose first (warm-up) call takes longer than this many seconds is timed
#: by that call alone, to keep the run short
SLOW_S = 2.0


def best_time(f, repeats: int = REPEATS) -> float:
    t0 = time.perf_counter()
    f()  # compile / warm caches
    best = time.perf_counter() - t0
    if best > SLOW_S:
        return best
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def loglog_slope(sizes, times) -> float:
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def routines(d_out: int):
    """name -> (make(n) -> callable, widths)"""
    x = np.linspace(-3, 3, 1000)

    def stack(n, d_in=1):
        return pcheck.Stack.random(n, d_in, d_out, rng=n)

    return {
        "kinks (1D)": (lambda n: (lambda s=stack(n): pcheck.kinks(s)), [100, 1_000, 10_000, 100_000]),
        "atoms (d_in = 3)": (lambda n: (lambda s=stack(n, 3): pcheck.atoms(s)), [100, 1_000, 10_000, 100_000]),
        "smoothed h'' (1000 pts)": (lambda n: (lambda s=stack(n): pcheck.smoothed_second_derivative(s, x, 0.1)),
                                    [100, 1_000, 10_000, 100_000]),
        "evaluate_1d (B = n)": (lambda n: (lambda s=stack(n), xx=np.linspace(-3, 3, n): evaluate_1d(s, xx)),
                                [1_000, 10_000, 100_000, 1_000_000]),
        "penalty P_7 (1D)": (lambda n: (lambda s=stack(n): pcheck.problems.penalty(s, "7")), [10, 100, 1_000]),
        "fit_function_space (N)": (lambda N: (lambda data=dataset(N, d_out): pcheck.fit_function_space(*data, 0.1, "7")),
                                   [5, 50, 500]),
    }


def dataset(N: int, d_out: int, seed: int = 0):
    """``N`` sorted points in [-3, 3] with smooth targets plus noise of size 0.1."""
    rng = np.random.default_rng(seed)
    X = np.sort(rng.uniform(-3, 3, N))[:, None]
    return X, np.sin(X * np.arange(1, d_out + 1) / 2) + 0.1 * rng.standard_normal((N, d_out))


def width_table(quick: bool) -> list[str]:
    rows = [f"Scaling in the width n, or the number of data points N (d_out = 2; best of {REPEATS}, or one run when that takes over {SLOW_S} s; "
            "slope = fitted exponent of t ~ n^slope)"]
    for name, (make, widths) in routines(d_out=2).items():
        widths = widths[:2] if quick else widths
        times = [best_time(make(n)) for n in widths]
        size = "N" if name.endswith("(N)") else "n"
        cells = "  ".join(f"{size}={n:<7d} {t:9.2e} s" for n, t in zip(widths, times))
        rows.append(f"{name:24} {cells}  slope {loglog_slope(widths, times):5.2f}")
    return rows


def d_out_table(quick: bool) -> list[str]:
    n = 1_000 if quick else 10_000
    dims = [1, 8, 64] if quick else [1, 8, 64, 512]
    rows = [f"Scaling in d_out (n = {n} for the 1D routines; penalty at n = 100 and the solver at N = 50, "
            f"d_out up to 64; best of {REPEATS}, or one run when that takes over {SLOW_S} s)"]
    conic = {"penalty P_7 (1D)": 100, "fit_function_space (N)": 50}
    for name in ["kinks (1D)", "smoothed h'' (1000 pts)", "evaluate_1d (B = n)"] + list(conic):
        width, sizes = (conic[name], [d for d in dims if d <= (8 if quick else 64)]) if name in conic else (n, dims)
        times = [best_time(routines(d)[name][0](width)) for d in sizes]
        cells = "  ".join(f"d_out={d:<4d} {t:9.2e} s" for d, t in zip(sizes, times))
        rows.append(f"{name:24} {cells}  slope {loglog_slope(sizes, times):5.2f}")
    return rows


def bars_table(quick: bool) -> list[str]:
    rows = [f"Bars of the earlier issues (best of {REPEATS}, or one run when that takes over {SLOW_S} s)"]
    if quick:
        return rows + ["(skipped under --quick)"]
    t_pen = best_time(routines(d_out=2)["penalty P_7 (1D)"][0](1_000))
    rows.append(f"penalty P_7, 1D, n = 1000, d_out = 2: {t_pen:7.3f} s (bar: under 1 s)")
    t_fit = best_time(routines(d_out=8)["fit_function_space (N)"][0](200))
    rows.append(f"fit_function_space, N = 200, d_out = 8: {t_fit:7.3f} s (bar: under 2 s)")
    return rows


def tables(quick: bool = False) -> list[str]:
    return width_table(quick) + [""] + d_out_table(quick) + [""] + bars_table(quick)


if __name__ == "__main__":
    print("\n".join(tables()))
