"""Search for the smallest certified counterexample to HTW Theorem 3.2 (width N + 1).

Instances with simple numbers: ``x = 0, 1, ..., N-1``, ``Y`` with integer entries in
``{-2, ..., 2}`` (``default_rng([seed, N, d_out])``), ``lam in {1, 0.1}``, variant "7" (or
the one given), for ``N = 2, 3, 4`` and ``d_out = 2..5`` in that order (smallest first).
Screening: the certified function-space optimum needs more than N + 1 atoms and the best
width-(N+1) network found (``fit_network``) stays above it; then ``width_lower_bound``
(branch and bound over neuron angle intervals) tries to certify that no width-(N+1)
network reaches it. Prints every screened instance and stops at the first certified one
per (N, d_out). Run: ``python benchmarks/minimal_counterexample.py [variant] [seeds]``.
"""

import sys
import time
import warnings

import numpy as np

from pcheck import fit_function_space, fit_network
from pcheck.width import width_lower_bound


def main():
    warnings.filterwarnings("ignore")
    variant = sys.argv[1] if len(sys.argv) > 1 else "7"
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    for N in (2, 3, 4):
        for d in (2, 3, 4, 5):
            found = False
            for lam in (1.0, 0.1):
                for seed in range(seeds):
                    rng = np.random.default_rng([seed, N, d])
                    X = np.arange(N, dtype=float)[:, None]
                    Y = rng.integers(-2, 3, (N, d)).astype(float)
                    fit = fit_function_space(X, Y, lam, variant)
                    if fit.n_atoms <= N + 1:
                        continue
                    net = fit_network(X, Y, lam, N + 1, variant=variant, seed=seed, restarts=4, fit=fit)
                    margin = (net.objective - fit.lower_bound) / fit.lower_bound
                    if margin <= 1e-9:
                        continue
                    t0 = time.perf_counter()
                    wb = width_lower_bound(X, Y, lam, N + 1, variant, target=fit.objective, max_nodes=1500)
                    print(f"N {N} d_out {d} lam {lam:g} seed {seed}: fs {fit.objective:.15g} "
                          f"(lb {fit.lower_bound:.15g}, {fit.n_atoms} atoms), net {net.objective:.15g} "
                          f"(margin {margin:.2e}); B&B {wb.status}, bound {wb.lower_bound:.15g}, {wb.nodes} nodes, "
                          f"{time.perf_counter() - t0:.1f} s; Y = {Y.tolist()}", flush=True)
                    if wb.status == "separated":
                        found = True
                        break
                if found:
                    break


if __name__ == "__main__":
    main()
