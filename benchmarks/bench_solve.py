"""Scale benchmark of the certified 1D function-space solver (HTW eq. 5).

N = 200 points, d_out = 8, lam = 0.1, variants "7" and "8" (instance: ``default_rng(0)``,
``X = sort(U(-2, 2))``, ``Y = N(0, 1)``): time of ``fit_function_space`` to a certified
relative gap of 1e-9 (target: under 2 s), against a fixed-grid cvxpy + Clarabel
formulation (the group lasso over kinks at the data points and at the midpoints between
them, both directions, plus the v = 0 neuron for "7"): its time and its value relative to the
certified optimum. Run: ``python benchmarks/bench_solve.py``.

The script leaves the BLAS thread settings alone: ``fit_function_space`` itself runs BLAS
single-threaded (threadpoolctl), because on a shared 2-core machine a multi-threaded BLAS
made each ~900 x 900 Cholesky of the Newton polish 30x slower.
"""

import time
import warnings

import numpy as np

from pcheck import fit_function_space
from pcheck.core.kernels import warm_up
from pcheck.problems.exchange_1d import kink_grid
from pcheck.solvers.oracles import grid_cvxpy


def main():
    warnings.filterwarnings("ignore")
    warm_up()
    rng = np.random.default_rng(0)
    N, d, lam = 200, 8, 0.1
    X = np.sort(rng.uniform(-2, 2, N))[:, None]
    Y = rng.standard_normal((N, d))
    for variant in ("7", "8"):
        t0 = time.perf_counter()
        fit = fit_function_space(X, Y, lam, variant)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        grid = np.unique(np.concatenate([X[:, 0], (X[1:, 0] + X[:-1, 0]) / 2]))
        value = grid_cvxpy(X[:, 0], Y, lam, variant, kink_grid(grid, variant))
        t_grid = time.perf_counter() - t0
        print(f"variant {variant}: fit_function_space {t_fit:.2f} s, objective {fit.objective:.12g}, "
              f"certified lower bound {fit.lower_bound:.12g}, gap {fit.gap:.1e}, {fit.n_atoms} atoms, "
              f"{fit.iterations} exchange steps")
        print(f"           fixed-grid cvxpy {t_grid:.2f} s (ratio grid/fit {t_grid / t_fit:.2f}), value {value:.12g}, "
              f"relative excess over the certified optimum {(value - fit.lower_bound) / fit.lower_bound:.1e}")


if __name__ == "__main__":
    main()
