"""HTW eq. (10) beyond the ledger's d_out = 1: the width sweep of ``pcheck.problems.width.width_sweep``
for variants "7" and "8", ``d_out = 1, 2, 3``, ``N = 4``, ``lam = 0.1``, seeds 0..2, widths
N + 1, 4N, 16N, 64N (2 random-angle starts each, never from f*). Prints per instance the atom
count and certified gap of f*, and per width the relative (4) excess over the certified bound
and the relative W^{1,inf}(K) distance to f*. Results: proofs_notes/htw-eq10-cor3_3.md.

    python benchmarks/sweep_eq10.py
"""

import time
import warnings

import numpy as np

from pcheck import fit_function_space
from pcheck.core.network import Stack
from pcheck.problems.width import w1inf_distance, width_sweep

N, LAM = 4, 0.1


def main():
    warnings.filterwarnings("ignore")
    for variant in ("7", "8"):
        for d_out in (1, 2, 3):
            for seed in (0, 1, 2):
                start = time.perf_counter()
                rng = np.random.default_rng([seed, N, d_out])
                X, Y = np.sort(rng.uniform(-2, 2, N))[:, None], rng.standard_normal((N, d_out))
                fit = fit_function_space(X, Y, LAM, variant)
                zero = Stack(np.zeros((1, 1)), np.zeros(1), np.zeros((d_out, 1)), np.zeros(d_out))
                scale = w1inf_distance(fit.stack, zero, (X.min(), X.max()))
                rows = width_sweep(X, Y, LAM, (N + 1, 4 * N, 16 * N, 64 * N), variant, restarts=2, seed=seed,
                                   fit=fit)
                cells = " | ".join(f"n={r.width}: {r.excess:.1e}, {r.distance / scale:.1e}" for r in rows)
                print(f"variant {variant} d_out {d_out} seed {seed} atoms {fit.n_atoms} gap {fit.gap:.1e} | "
                      f"{cells} | {time.perf_counter() - start:.1f}s", flush=True)


if __name__ == "__main__":
    main()
