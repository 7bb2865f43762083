"""The kernel of a network's neurons and its kernel ridge regression (Nakhleh, Shenouda &
Nowak, arXiv 2410.21696, section 4; HTW eq. 4 in variants "7" and "8").

Write a stack's neurons as unit-direction atoms ``mu_k relu(<u_k, z>)``: variant "7"
(all parameters penalized) ``z = (x, 1)``, ``u_k = (v_k, b_k)/r_k``, ``r_k = ||(v_k, b_k)||``;
variant "8" (``b``, ``c`` free) ``u_k`` the bias-free part, ``r_k = ||v_k||``; in both
``mu_k = r_k w_k`` and the balanced eq.-(4) cost of neuron ``k`` is ``2 ||mu_k||``. The
**neuron kernel** of the stack is

.. math:: k(x, x') = \\sum_k \\omega_k\\, \\mathrm{relu}(\\langle v_k, x\\rangle + b_k)\\,
          \\mathrm{relu}(\\langle v_k, x'\\rangle + b_k) \\;(+1 \\text{ in "7"}),
          \\qquad \\omega_k = \\|w_k\\| / r_k,

i.e. ``sum_k ||mu_k|| relu(<u_k, z>) relu(<u_k, z'>)``: rescaling-invariant. Its RKHS norm of
``f = sum_k beta_k relu(<v_k, x> + b_k) + c`` (one task) is ``sum_k beta_k^2 / omega_k (+ c^2)``.

**Why it is the optimal network's kernel** (proofs_notes/shenouda-multivariate.md). By AM-GM
``2 ||m|| <= ||m||^2 / s + s`` for ``s > 0``, with equality at ``||m|| = s``. Take ``s_k =
||mu_k||`` of a network ``theta``; then for every output matrix ``beta`` on the same neurons
eq. (4) satisfies ``G(beta) <= R(beta) + lam sum_k s_k`` with ``R`` the multi-task kernel
ridge objective ``sum_t ||f_t(X) - y_t||^2 + lam ||f_t||_H^2``, equal at ``beta = W``. ``R``
separates over tasks and its minimizer is kernel ridge regression, so
``G(kernel_ridge_stack(theta)) <= G(theta)``: the ridge fit is never worse than the network
(the eq.-4 value can only drop), and at an optimum ``theta*`` both are optimal, so each task's
optimal outputs are ``F*_t = K* (K* + lam I)^{-1} y_t`` (with a free intercept in "8").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.network import Stack
from pcheck.core.validate import as_array, as_dataset, as_scalar
from pcheck.core.variant import as_variant
from pcheck.problems.bounds_nd import function_space_bounds
from pcheck.problems.random_features import psd_ridge_solve

VARIANTS = ("7", "8")


def _variant(variant):
    return as_variant(variant, allowed=VARIANTS)


def _radii(stack: Stack, variant: str) -> np.ndarray:
    """``r_k``: ``||(v_k, b_k)||`` ("7") or ``||v_k||`` ("8")."""
    variant = as_variant(variant)
    r2 = np.sum(stack.V**2, axis=1)
    return np.sqrt(r2 + stack.b**2) if variant.biases_regularized else np.sqrt(r2)


def _live(stack: Stack, variant: str) -> np.ndarray:
    """Neurons that carry a kernel term: ``w_k != 0`` and ``r_k > 0``. In "8" a neuron with
    ``v_k = 0`` is a constant, absorbed by the free intercept at no cost."""
    return (np.linalg.norm(stack.W, axis=0) > 0) & (_radii(stack, variant) > 0)


def kernel_weights(stack: Stack, variant: str = "7") -> np.ndarray:
    """``omega_k = ||w_k|| / r_k`` (module docstring), 0 for neurons without a kernel term."""
    variant = _variant(variant)
    live = _live(stack, variant)
    omega = np.zeros(stack.n)
    omega[live] = np.linalg.norm(stack.W[:, live], axis=0) / _radii(stack, variant)[live]
    return omega


def _features(stack: Stack, X: np.ndarray) -> np.ndarray:
    """``relu(X V^T + b)``, shape ``(N, n)``."""
    return np.maximum(X @ stack.V.T + stack.b, 0.0)


def neuron_kernel(stack: Stack, X1, X2=None, variant: str = "7") -> np.ndarray:
    """``k(X1, X2)`` (module docstring), shape ``(N1, N2)``; ``X2`` defaults to ``X1``."""
    if not isinstance(stack, Stack):
        raise TypeError(f"stack must be a pcheck.Stack, got {type(stack).__name__}")
    variant = _variant(variant)
    X1 = as_array(X1, "X1", ndim=2, shape=(None, stack.d_in))
    X2 = X1 if X2 is None else as_array(X2, "X2", ndim=2, shape=(None, stack.d_in))
    omega = kernel_weights(stack, variant)
    K = (_features(stack, X1) * omega) @ _features(stack, X2).T
    return K + 1.0 if variant.biases_regularized else K


def ridge_coefficients(K, Y, lam, free_intercept: bool = False):
    """``(alpha, intercept)`` of kernel ridge regression on the data, one column per task:
    ``min_f sum_t ||f_t(X) - y_t||^2 + lam ||f_t||_H^2`` has ``f_t = k(., X) alpha_t (+ c_t)``.

    Without intercept: ``alpha = (K + lam I)^{-1} Y``. With a free (unpenalized) intercept
    ``c``: with ``P = I - 1 1^T / N``, ``alpha = P (P K P + lam I)^{-1} P Y`` and
    ``c = mean(Y - K alpha)`` (minimize over ``c`` first: the residual becomes ``P(Y - K alpha)``)."""
    K = as_array(K, "K", ndim=2)
    N = K.shape[0]
    K = as_array(K, "K", ndim=2, shape=(N, N))
    Y = as_array(Y, "Y", ndim=2, shape=(N, None))
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    K = 0.5 * (K + K.T)
    if not free_intercept:
        return psd_ridge_solve(K, Y, lam), np.zeros(Y.shape[1])
    P = np.eye(N) - 1.0 / N
    alpha = P @ psd_ridge_solve(P @ K @ P, P @ Y, lam)
    return alpha, (Y - K @ alpha).mean(axis=0)


def kernel_ridge(K, Y, lam, free_intercept: bool = False) -> np.ndarray:
    """On-data values ``K alpha + 1 c^T`` of :func:`ridge_coefficients`; without intercept
    this is ``K (K + lam I)^{-1} Y``."""
    alpha, c = ridge_coefficients(K, Y, lam, free_intercept)
    return np.asarray(K, dtype=float) @ alpha + c


def kernel_ridge_stack(stack: Stack, X, Y, lam, variant: str = "7") -> Stack:
    """Kernel ridge regression of ``Y`` with the stack's neuron kernel, as a network on the
    same hidden neurons: ``f_t = sum_k beta_tk relu(<v_k, x> + b_k) + c_t`` with
    ``beta_k = omega_k relu(X v_k + b_k)^T alpha`` and ``c = 1^T alpha`` ("7"); in "8"
    ``beta_k = omega_k (P relu(X v_k + b_k))^T (K_c + lam I)^{-1} P Y`` and ``c = mean(Y -
    Phi beta)`` (:func:`ridge_coefficients`). Its eq.-(4) value is at most the stack's
    (module docstring)."""
    variant = _variant(variant)
    X, Y = as_dataset(X, Y, d_in=stack.d_in)
    Phi, omega = _features(stack, X), kernel_weights(stack, variant)
    if variant.biases_regularized:
        alpha, _ = ridge_coefficients(neuron_kernel(stack, X, variant=variant), Y, lam)
        return Stack(stack.V, stack.b, ((Phi * omega).T @ alpha).T, alpha.sum(axis=0))
    # free intercept: ridge on the centered features P Phi (K_c = P K P formed without the
    # cancellation of centering K: a near-constant neuron with tiny ||v|| has a huge omega)
    centered = Phi - Phi.mean(axis=0)
    z, _ = ridge_coefficients((centered * omega) @ centered.T, Y - Y.mean(axis=0), lam)
    beta = (centered * omega).T @ z
    return Stack(stack.V, stack.b, beta.T, (Y - Phi @ beta).mean(axis=0))


def task_penalties(stack: Stack, variant: str = "7") -> np.ndarray:
    """Per task ``t`` the kernel-norm share ``p_t = sum_k mu_tk^2 / ||mu_k|| = sum_k r_k
    w_tk^2 / ||w_k||`` (the atoms' part of ``||f_t||_H^2``); ``sum_t p_t = sum_k ||mu_k||``,
    half the atoms' eq.-(4) cost."""
    variant = _variant(variant)
    live = _live(stack, variant)
    W = stack.W[:, live]
    return (W**2) @ (_radii(stack, variant)[live] / np.linalg.norm(W, axis=0))


def quadratic_form_spread(K, lam, free_intercept: bool = False, atoms_kernel=None) -> float:
    """``sqrt(2 tr M^2) / tr M``: the coefficient of variation of ``p(y) = alpha(y)^T K_a
    alpha(y)`` for ``y ~ N(0, I)``, ``alpha(y)`` the ridge coefficients of ``y`` under ``K``
    and ``K_a`` the atoms' part of ``K`` (``atoms_kernel``, default ``K``): the spread of the
    per-task kernel norms that a fixed kernel leaves to i.i.d. Gaussian tasks
    (``E p = tr M``, ``Var p = 2 tr M^2``, ``M = A^T K_a A``, ``alpha = A y``)."""
    K = as_array(K, "K", ndim=2)
    A, _ = ridge_coefficients(K, np.eye(K.shape[0]), lam, free_intercept)
    Ka = K if atoms_kernel is None else as_array(atoms_kernel, "atoms_kernel", ndim=2, shape=K.shape)
    M = A.T @ Ka @ A
    M = 0.5 * (M + M.T)
    return float(np.sqrt(2.0 * np.sum(M * M)) / np.trace(M))


#: Exchange rounds and gap target of :func:`certified_fit`. Reason: the certified radius
#: ``sqrt(upper - lower)`` is the error bar of every on-data comparison; the solver's default
#: 4 rounds leave relative gaps ~1e-4 (radius ~40 % of task 0's residual at lam = 0.01), 10
#: rounds with a 1e-9 target reach 1e-6..1e-10 in ~1 s on N = 6, d_out <= 33.
FIT_ROUNDS, FIT_GAP_TOL = 10, 1e-9
def certified_fit(X, Y, lam, variant: str = "7"):
    """:func:`pcheck.function_space_bounds` for ``variant`` with :data:`FIT_ROUNDS` rounds down
    to :data:`FIT_GAP_TOL` (a late conic failure keeps the best certified bounds so far)."""

    return function_space_bounds(X, Y, lam, rounds=FIT_ROUNDS, gap_tol=FIT_GAP_TOL, variant=_variant(variant),
                                 warn=False)


@dataclass(frozen=True)
class KernelTransfer:
    """The fixed-kernel check of one instance (proofs_notes/shenouda-multivariate.md (B), (C)):
    task 0 fitted jointly with ``T`` others (outputs ``F_0``, certified radius ``rho``) vs
    kernel ridge ``P`` of ``y_0`` with the kernel ``K_T`` of the ``T`` others alone.

    ``e = ||P - F_0|| / ||F_0||`` with error bar ``bar = rho / ||F_0||``; ``d = ||y_0 - F_0|| /
    ||F_0||`` (distance from interpolation); ``r = ||P - F_0|| / ||y_0 - F_0||`` with
    ``r_bar = rho / ||y_0 - F_0||``; ``baseline = ||S_0 - F_0|| / ||F_0||`` and ``r_baseline =
    ||S_0 - F_0|| / ||y_0 - F_0||`` for the single-task fit ``S_0``; ``drift = ||K_{T+1} -
    K_T||_F / ||K_{T+1}||_F``; ``cv`` the spread std/mean of :func:`task_penalties` over the
    ``T + 1`` joint tasks and ``floor`` its fixed-kernel value :func:`quadratic_form_spread`;
    ``gap`` the largest relative certified gap of the fits, ``neurons`` the joint width."""

    T: int
    e: float
    bar: float
    d: float
    r: float
    r_bar: float
    baseline: float
    r_baseline: float
    drift: float
    cv: float
    floor: float
    gap: float
    neurons: int


def kernel_transfer(X, Y, lam, variant: str = "7", single=None) -> KernelTransfer:
    """:class:`KernelTransfer` for task 0 = ``Y[:, 0]`` and the others ``Y[:, 1:]`` (``T >= 1``);
    ``single`` may pass the certified single-task fit of task 0 (it does not depend on ``T``)."""
    variant = _variant(variant)
    X, Y = as_dataset(X, Y)
    if Y.shape[1] < 2:
        raise ValueError(f"Y must hold task 0 and at least one other task (>= 2 columns), got {Y.shape[1]}")
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    free = not variant.biases_regularized
    joint, rest = certified_fit(X, Y, lam, variant), certified_fit(X, Y[:, 1:], lam, variant)
    single = certified_fit(X, Y[:, :1], lam, variant) if single is None else single
    y0, F0, S0 = Y[:, 0], joint.stack(X)[:, 0], single.stack(X)[:, 0]
    K_joint, K_rest = neuron_kernel(joint.stack, X, variant=variant), neuron_kernel(rest.stack, X, variant=variant)
    P = kernel_ridge(K_rest, y0[:, None], lam, free)[:, 0]
    rho = float(np.sqrt(max(joint.upper - joint.lower, 0.0)))
    nF, nres = float(np.linalg.norm(F0)), float(np.linalg.norm(y0 - F0))
    err, err_single = float(np.linalg.norm(P - F0)), float(np.linalg.norm(S0 - F0))
    p = task_penalties(joint.stack, variant)
    K_atoms = K_joint - 1.0 if variant.biases_regularized else K_joint  # drop the intercept's 1 1^T
    return KernelTransfer(
        T=Y.shape[1] - 1, e=err / nF, bar=rho / nF, d=nres / nF, r=err / nres, r_bar=rho / nres,
        baseline=err_single / nF, r_baseline=err_single / nres,
        drift=float(np.linalg.norm(K_joint - K_rest) / np.linalg.norm(K_joint)),
        cv=float(np.std(p) / np.mean(p)), floor=quadratic_form_spread(K_joint, lam, free, K_atoms),
        gap=max(joint.gap, rest.gap, single.gap), neurons=joint.stack.n)
