"""Search for the smallest certified counterexample to HTW Theorem 3.2 (width N + 1).

Instances with simple numbers: ``x = 0, 1, ..., N-1``, ``Y`` with integer entries in
``{-2, ..., 2}`` (``default_rng([seed, N, d_out]).integers(-2, 3, (N, d_out))``), for the
given ``N``, ``d_out``, ``lam`` and seeds. Screening: the certified function-space optimum
has more than N + 1 atoms and the best width-(N+1) network found (``fit_network``, seed =
the instance seed) stays above it; then ``width_lower_bound`` (branch and bound over neuron
angle intervals) tries to certify that no width-(N+1) network reaches it. Prints every
screened instance. Runs recorded in proofs_notes/htw-thm3_2.md:

    python benchmarks/minimal_counterexample.py --N 2 3 4 --d 2 3 4 5 --lam 1 0.1 --seeds 40
    python benchmarks/minimal_counterexample.py --N 3 --d 2 3 4 5 --lam 0.3 0.03 0.01 --seeds 150
    python benchmarks/minimal_counterexample.py --N 4 --d 2 3 --lam 0.3 0.03 0.01 --seeds 100
"""

import argparse
import time
import warnings

import numpy as np

from pcheck import fit_function_space, fit_network
from pcheck.problems.width import width_lower_bound


def main():
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", default="7")
    ap.add_argument("--N", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--d", type=int, nargs="+", default=[2, 3, 4, 5])
    ap.add_argument("--lam", type=float, nargs="+", default=[1.0, 0.1])
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--max-nodes", type=int, default=1500)
    args = ap.parse_args()
    screened = 0
    for N in args.N:
        for d in args.d:
            for lam in args.lam:
                for seed in range(args.seeds):
                    rng = np.random.default_rng([seed, N, d])
                    X = np.arange(N, dtype=float)[:, None]
                    Y = rng.integers(-2, 3, (N, d)).astype(float)
                    fit = fit_function_space(X, Y, lam, args.variant)
                    if fit.n_atoms <= N + 1:
                        continue
                    screened += 1
                    net = fit_network(X, Y, lam, N + 1, variant=args.variant, seed=seed, restarts=4, fit=fit)
                    margin = (net.objective - fit.lower_bound) / fit.lower_bound
                    if margin <= 1e-9:
                        continue
                    t0 = time.perf_counter()
                    wb = width_lower_bound(X, Y, lam, N + 1, args.variant, target=fit.objective * (1 + 1e-9),
                                           max_nodes=args.max_nodes)
                    print(f"N {N} d_out {d} lam {lam:g} seed {seed}: fs {fit.objective:.15g} "
                          f"(lb {fit.lower_bound:.15g}, {fit.n_atoms} atoms), net {net.objective:.15g} "
                          f"(margin {margin:.2e}); B&B {wb.status}, bound {wb.lower_bound:.15g}, {wb.nodes} nodes, "
                          f"{time.perf_counter() - t0:.1f} s; Y = {Y.tolist()}", flush=True)
    print(f"{screened} instances with more than N + 1 atoms screened")


if __name__ == "__main__":
    main()
