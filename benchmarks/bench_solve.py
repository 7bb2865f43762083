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

import cvxpy as cp
import numpy as np

from pcheck import fit_function_space
from pcheck.function_space import kink_angle, omega, ramps
from pcheck.kernels import warm_up


def grid_cvxpy(x, Y, lam, variant):
    grid = np.unique(np.concatenate([x, (x[1:] + x[:-1]) / 2]))
    phi = kink_angle(np.repeat([1.0, -1.0], len(grid)), np.concatenate([grid, grid]))
    if variant == "7":
        phi = np.append(phi, np.pi / 2)
    N, d = Y.shape
    M, c = cp.Variable((len(phi), d)), cp.Variable(d)
    F = ramps(x, phi) @ M + np.ones((N, 1)) @ cp.reshape(c, (1, d), order="C")
    reg = 2 * cp.sum(cp.multiply(omega(phi, variant), cp.norm(M, 2, axis=1)))
    if variant == "7":
        reg = reg + cp.sum_squares(c)
    prob = cp.Problem(cp.Minimize(cp.sum_squares(F - Y) + lam * reg))
    prob.solve(solver=cp.CLARABEL)
    return prob.value


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
        value = grid_cvxpy(X[:, 0], Y, lam, variant)
        t_grid = time.perf_counter() - t0
        print(f"variant {variant}: fit_function_space {t_fit:.2f} s, objective {fit.objective:.12g}, "
              f"certified lower bound {fit.lower_bound:.12g}, gap {fit.gap:.1e}, {fit.n_atoms} atoms, "
              f"{fit.iterations} exchange steps")
        print(f"           fixed-grid cvxpy {t_grid:.2f} s (ratio grid/fit {t_grid / t_fit:.2f}), value {value:.12g}, "
              f"relative excess over the certified optimum {(value - fit.lower_bound) / fit.lower_bound:.1e}")


if __name__ == "__main__":
    main()
