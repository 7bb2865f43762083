"""Sweep of HTW Theorem 3.2 (width N + 1 suffices) in one input dimension.

For d_out in {1, 2, 3, 5, 8}, N in {2..6}, variants "7" and "8", lam in {1e-3, 0.1, 1},
seeds 0..2 (instance: ``rng = default_rng([seed, N, d_out])``, ``X = sort(U(-2, 2, N))``,
``Y = N(0, 1)``): the certified function-space optimum (gap <= 1e-9), its atom count, and
the verdict of ``width_sufficiency`` at width N + 1 (2 random restarts on top of the
pruned starts). Prints one line per instance that is not "reached" and a summary table.
Run: ``python benchmarks/sweep_width.py``; ``python benchmarks/sweep_width.py MAX_NODES`` also
runs the certified width bound (``width_lower_bound``, at most MAX_NODES restricted solves) on
each instance that is not reached, turning it "refuted" when it separates.
"""

import sys
import time
import warnings
from collections import defaultdict

import numpy as np

from pcheck import width_sufficiency


def main():
    warnings.filterwarnings("ignore")
    max_nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    start = time.perf_counter()
    table = defaultdict(lambda: [0, 0, 0, 0])  # (variant, d_out) -> [instances, not reached, > N+1 atoms, refuted]
    for variant in ("7", "8"):
        for d in (1, 2, 3, 5, 8):
            for N in range(2, 7):
                for lam in (1e-3, 0.1, 1.0):
                    for seed in range(3):
                        rng = np.random.default_rng([seed, N, d])
                        X = np.sort(rng.uniform(-2, 2, N))[:, None]
                        Y = rng.standard_normal((N, d))
                        v = width_sufficiency(X, Y, lam, variant=variant, seed=seed, restarts=2,
                                              max_nodes=max_nodes)
                        row = table[variant, d]
                        row[0] += 1
                        row[1] += v.verdict != "reached"
                        row[2] += v.atoms > N + 1
                        row[3] += v.verdict == "refuted"
                        if v.verdict != "reached":
                            wb = v.width_bound
                            cert = "" if wb is None else \
                                f", width bound {wb.lower_bound:.15g} ({wb.status}, {wb.nodes} nodes)"
                            print(f"variant {variant} d_out {d} N {N} lam {lam:g} seed {seed}: {v.verdict}, "
                                  f"margin {v.margin:.2e}, gap {v.function_space.gap:.1e}, atoms {v.atoms}, "
                                  f"(5) {v.upper_bound:.15g}{cert}", flush=True)
    print("\n| variant | d_out | instances | not reached at N+1 | optimum found with > N+1 atoms | certified refuted |")
    print("|---|---|---|---|---|---|")
    for (variant, d), (n, bad, many, refuted) in sorted(table.items()):
        print(f"| {variant} | {d} | {n} | {bad} | {many} | {refuted} |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
