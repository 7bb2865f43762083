"""Random-feature stacks: first layer frozen, only the readout trained with weight decay.

With ``(V, b)`` fixed, HTW's training problem (eq. 4) for one stack reduces to ridge
regression in the readout ``beta_k = (w_{k,1..n}, c_k)`` of each task ``k``:

.. math:: \\min_{W, c} \\sum_{i,k} M_{ik}\\,(\\langle w_{k\\cdot}, \\phi(x_i)\\rangle + c_k - y_{ik})^2
          + \\lambda (\\|W\\|_F^2 + \\|c\\|^2),\\qquad \\phi(x) = \\mathrm{relu}(Vx + b),

where ``M`` is the mask of observed labels (all ones by default) and the frozen part
``lam (||V||^2 + ||b||^2)`` of the penalty is a constant left out. Both the loss and the
penalty are sums over tasks, so the problem splits into one ridge problem per task
(HTW section 4: the penalty becomes ``||.||_2^2``, whose square cancels the square root
that couples the tasks in eq. 7). The unique minimizer for ``lam > 0`` is

.. math:: \\beta_k = (\\Phi_k^T \\Phi_k + \\lambda I)^{-1} \\Phi_k^T y_k,\\qquad \\Phi = [\\phi(X), 1],

with ``Phi_k`` the rows observed for task k; for ``lam = 0`` the minimum-norm least-squares
solution (the limit ``lam -> 0+``). It is computed through the SVD of ``Phi_k``, one
factorization per distinct mask column, solving all tasks that share it at once.
"""

from __future__ import annotations

import numpy as np

from pcheck.core.network import Stack
from pcheck.core.scaled import power_of_two
from pcheck.core.validate import as_array, as_dataset, as_scalar

#: Singular values below ``PINV_RCOND * s_max`` are treated as zero when ``lam < (PINV_RCOND s_max)^2``
#: (``lam = 0``: minimum-norm least squares; ``lam`` tiny relative to the spectrum: the same
#: numerical rank, then ``s / (s^2 + lam)`` on the kept directions). Reason: 1e-13 is ~ 500 eps, the
#: usual numerical-rank threshold for matrices with a few hundred rows; below it a singular
#: direction is rounding of the features, and ``1 / s`` along it (what ``s / (s^2 + lam)`` gives for
#: ``lam << s^2``) fits that rounding with weights of 1e16 and more (lam = 1e-100: ||W||^2 = 8e33,
#: loss 1043 instead of 7.37); with ``lam >= (PINV_RCOND s_max)^2`` such a direction's weight is at
#: most ``1 / (PINV_RCOND s_max)`` and the exact ridge solution is kept.
PINV_RCOND = 1e-13


def features(X, V, b) -> np.ndarray:
    """The augmented feature matrix ``[relu(X V^T + b), 1]`` of shape ``(N, n + 1)``."""
    X = as_array(X, "X", ndim=2)
    V = as_array(V, "V", ndim=2, shape=(None, X.shape[1]))
    b = as_array(b, "b", ndim=1, shape=(V.shape[0],))
    return np.column_stack([np.maximum(X @ V.T + b, 0.0), np.ones(X.shape[0])])


def fit_random_features(X, Y, lam, V, b, *, mask=None) -> Stack:
    """Fit the readout ``(W, c)`` of the stack with frozen first layer ``(V, b)`` to
    ``(X, Y)`` with weight decay ``lam`` (module docstring); returns the fitted
    :class:`~pcheck.core.network.Stack`.

    ``mask (N, d_out)``: boolean, ``mask[i, k]`` says whether ``Y[i, k]`` is observed
    (task k then sees only its own rows; unobserved entries of ``Y`` are ignored).
    """
    X, Y = as_dataset(X, Y)
    lam = as_scalar(lam, "lam", minimum=0.0)
    V = as_array(V, "V", ndim=2, shape=(None, X.shape[1]))
    b = as_array(b, "b", ndim=1, shape=(V.shape[0],))
    mask = observation_mask(mask, Y.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        Phi = features(X, V, b)
    if not np.all(np.isfinite(Phi)):
        raise ValueError("X, V, b: the features relu(X V^T + b) exceed the float64 range (up to "
                         f"{float(np.max(np.abs(X), initial=0.0)):.1e} x {float(np.max(np.abs(V), initial=0.0)):.1e}); "
                         "rescale X or V")
    beta = np.zeros((Phi.shape[1], Y.shape[1]))
    columns, groups = np.unique(mask, axis=1, return_inverse=True)
    for g in range(columns.shape[1]):
        tasks = np.flatnonzero(groups.ravel() == g)
        rows = columns[:, g]
        beta[:, tasks] = ridge_solve(Phi[rows], Y[np.ix_(rows, tasks)], lam)
    return Stack(V, b, beta[:-1].T, beta[-1])


def ridge_solve(Phi: np.ndarray, Y: np.ndarray, lam: float) -> np.ndarray:
    """``argmin_B ||Phi B - Y||_F^2 + lam ||B||_F^2`` through the SVD ``Phi = U S Q^T``:
    ``B = Q diag(s / (s^2 + lam)) U^T Y`` (minimum-norm least squares when ``lam = 0``),
    followed by one step of iterative refinement on the normal equations,
    ``B += Q diag(1 / (s^2 + lam)) Q^T (Phi^T (Y - Phi B) - lam B)``, which restores full
    accuracy when ``Phi`` is badly conditioned (measured: relative duality gap 4e-8 -> 1e-16
    for features scaled by 1e4 with lam = 1e-6)."""
    if Phi.shape[0] == 0:
        return np.zeros((Phi.shape[1], Y.shape[1]))
    # Phi = sigma Phi~ (sigma a power of two: exact) solves the same problem with lam / sigma^2 and
    # B = B~ / sigma, so that s^2 neither overflows nor underflows
    sigma = power_of_two(float(np.max(np.abs(Phi))))
    if sigma != 1.0:
        with np.errstate(over="ignore", under="ignore"):
            return ridge_solve(Phi / sigma, Y, lam / sigma / sigma) / sigma
    U, s, Qt = np.linalg.svd(Phi, full_matrices=False)
    floor = PINV_RCOND * s[0]
    if lam >= floor * floor and lam > 0:
        inv = 1.0 / (s**2 + lam)
    else:  # rank-revealing: directions below the numerical rank are rounding, left out
        keep = s > floor
        inv = np.where(keep, 1.0 / (np.where(keep, s, 1.0) ** 2 + lam), 0.0)
    B = Qt.T @ ((s * inv)[:, None] * (U.T @ Y))
    return B + Qt.T @ (inv[:, None] * (Qt @ (Phi.T @ (Y - Phi @ B) - lam * B)))


def psd_ridge_solve(K: np.ndarray, Y: np.ndarray, lam: float) -> np.ndarray:
    """``(K + lam I)^{-1} Y`` for a symmetric positive semidefinite ``K``: a Cholesky-free
    ``np.linalg.solve`` when ``lam >= PINV_RCOND ||K||`` (condition below 1e13), else rank-revealing
    through the eigendecomposition ``K = Q diag(e) Q^T``: eigenvalues at most ``PINV_RCOND e_max`` are
    rounding of ``K`` (its eigenvalues are exact only to ``~N eps ||K||``), their components are
    left out (``K`` applied to them gives rounding times ``1 / lam``), the others get
    ``1 / (e + lam)``. So a kernel (or GP noise) ``lam`` far below the spectrum gives the fitted
    values of the limit ``lam -> 0+``, not the rounding of ``K`` amplified by ``1 / lam``."""
    K = 0.5 * (K + K.T)
    if K.shape[0] == 0:
        return np.zeros_like(Y)
    e, Q = np.linalg.eigh(K)
    floor = PINV_RCOND * max(float(e[-1]), 0.0)
    if lam >= floor and lam > 0:
        return np.linalg.solve(K + lam * np.eye(K.shape[0]), Y)
    keep = e > floor
    inv = np.where(keep, 1.0 / (np.where(keep, e, 1.0) + lam), 0.0)
    return Q @ (inv[:, None] * (Q.T @ Y)) if Y.ndim == 2 else Q @ (inv * (Q.T @ Y))


def ridge_objective(stack: Stack, X, Y, lam, *, mask=None) -> np.ndarray:
    """Per-task values of the objective in the module docstring at ``stack``'s readout:
    ``sum_i M_ik (h_k(x_i) - y_ik)^2 + lam (||w_k||^2 + c_k^2)``, shape ``(d_out,)``.
    The joint objective is their sum."""
    X, Y = as_dataset(X, Y, d_in=stack.d_in, d_out=stack.d_out)
    lam = as_scalar(lam, "lam", minimum=0.0)
    mask = observation_mask(mask, Y.shape)
    resid = np.where(mask, stack(X) - Y, 0.0)
    return np.sum(resid**2, axis=0) + lam * (np.sum(stack.W**2, axis=1) + stack.c**2)


def ridge_lower_bound(stack: Stack, X, Y, lam, *, mask=None) -> np.ndarray:
    """Per-task dual lower bounds of the objective (``lam > 0``), at the dual point
    ``alpha = y - Phi beta`` of ``stack``'s readout: for every ``alpha``, since
    ``||r||^2 >= 2 <alpha, r> - ||alpha||^2`` and ``min_beta lam ||beta||^2 - 2 <Phi^T alpha, beta>
    = -||Phi^T alpha||^2 / lam``,

    .. math:: \\min_\\beta \\|y - \\Phi\\beta\\|^2 + \\lambda\\|\\beta\\|^2 \\ge
              2\\langle\\alpha, y\\rangle - \\|\\alpha\\|^2 - \\|\\Phi^T\\alpha\\|^2/\\lambda,

    with equality at the optimum. With :func:`ridge_objective` it certifies the fit."""
    X, Y = as_dataset(X, Y, d_in=stack.d_in, d_out=stack.d_out)
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    mask = observation_mask(mask, Y.shape)
    Phi = features(X, stack.V, stack.b)
    alpha = np.where(mask, Y - stack(X), 0.0)
    return 2 * np.sum(alpha * np.where(mask, Y, 0.0), axis=0) - np.sum(alpha**2, axis=0) \
        - np.sum((Phi.T @ alpha) ** 2, axis=0) / lam


def observation_mask(mask, shape) -> np.ndarray:
    """``mask`` as a boolean array of ``shape`` (all True when None): which labels are observed."""
    if mask is None:
        return np.ones(shape, dtype=bool)
    arr = np.asarray(mask)
    if arr.dtype != bool:
        raise TypeError(f"mask must be a boolean array, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"mask must have the shape of Y {shape}, got {arr.shape}")
    return np.ascontiguousarray(arr)
