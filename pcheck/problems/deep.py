"""HTW eq. (4) for a two-stack network ``f = h_2 o sigma o h_1`` (eq. 1, 2) with
``sigma`` ReLU or identity, trained by scipy's L-BFGS-B with analytic gradients:

.. math:: \\min_\\theta \\sum_{i=1}^N \\|f_\\theta(x_i) - y_i\\|_2^2 + \\lambda \\|\\theta\\|_2^2,

``theta`` = all parameters ``(V_1, b_1, W_1, c_1, V_2, b_2, W_2, c_2)`` of both stacks.
Used for the Corollary 3.3 evidence (bottleneck ``d_1 = N + 1`` vs a wider one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from pcheck.core.network import Network, Stack
from pcheck.core.validate import as_array, as_count, as_scalar
from pcheck.papers.htw.periodic_tasks import _views, pack

#: L-BFGS-B stopping: projected-gradient sup-norm and relative objective decrease; both far
#: below the 1e-4 relative comparison tolerance of the Corollary 3.3 evidence.
LBFGS_GTOL = 1e-10
LBFGS_FTOL = 1e-14

_SIGMA = {"relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
          "identity": (lambda z: z, lambda z: np.ones_like(z))}


def objective_and_gradient(theta, X, Y, lam, widths, neurons, activation):
    """Eq. (4) (module docstring) and its gradient by back-propagation; ``widths =
    (d_in, d_1, d_out)``, ``neurons = (n_1, n_2)``, ``activation`` the ``sigma`` between stacks."""
    sigma, dsigma = _SIGMA[activation]
    params = _views(theta, widths, neurons)
    inputs, pre, outs = [X], [], []
    for j, (V, b, W, c) in enumerate(params):
        z = inputs[-1] @ V.T + b
        pre.append(z)
        outs.append(np.maximum(z, 0.0) @ W.T + c)
        inputs.append(sigma(outs[-1]) if j < len(params) - 1 else outs[-1])
    resid = inputs[-1] - Y
    value = float(np.sum(resid**2) + lam * theta @ theta)
    grads, delta = [], 2.0 * resid
    for j in range(len(params) - 1, -1, -1):
        V, b, W, c = params[j]
        gW, gc = delta.T @ np.maximum(pre[j], 0.0), delta.sum(axis=0)
        dz = (delta @ W) * (pre[j] > 0)
        grads.append((dz.T @ inputs[j], dz.sum(axis=0), gW, gc))
        if j > 0:
            delta = (dz @ V) * dsigma(outs[j - 1])
    grad = np.concatenate([g.ravel() for gs in reversed(grads) for g in gs]) + 2 * lam * theta
    return value, grad


def unpack(theta, widths, neurons, activation) -> Network:
    """The :class:`~pcheck.core.network.Network` with parameter vector ``theta`` (order of
    :func:`pcheck.papers.htw.periodic_tasks.pack`)."""
    return Network([Stack(*(a.copy() for a in arrays)) for arrays in _views(theta, widths, neurons)],
                   activation=activation)


@dataclass(frozen=True)
class DeepFit:
    """The best network of all restarts, its eq. (4) ``objective`` and every restart's objective."""

    network: Network
    objective: float
    objectives: tuple


def train(X, Y, lam, *, bottleneck: int, neurons=(8, 8), activation: str = "relu", restarts: int = 4,
          maxiter: int = 3000, rng=None) -> DeepFit:
    """Minimize eq. (4) for ``h_2 o sigma o h_1`` with ``d_1 = bottleneck`` and hidden widths
    ``neurons = (n_1, n_2)`` from ``restarts`` random starts (first-stack kinks spread over the
    data, other weights standard normal / sqrt(fan-in)); the best objective wins."""
    X = as_array(X, "X", ndim=2)
    Y = as_array(Y, "Y", ndim=2, shape=(X.shape[0], None))
    lam = as_scalar(lam, "lam", minimum=0.0)
    bottleneck, restarts = as_count(bottleneck, "bottleneck"), as_count(restarts, "restarts")
    maxiter = as_count(maxiter, "maxiter")
    neurons = tuple(as_count(n, "neurons") for n in neurons)
    if len(neurons) != 2:
        raise ValueError(f"neurons must be (n_1, n_2), got {neurons}")
    if activation not in _SIGMA:
        raise ValueError(f"activation must be one of {sorted(_SIGMA)}, got {activation!r}")
    widths = (X.shape[1], bottleneck, Y.shape[1])
    rng = np.random.default_rng(rng)
    # BLAS on one thread: these ~300-parameter problems gain nothing from threads, and on a
    # shared 2-core machine threaded BLAS inside L-BFGS-B ran ~30x slower (0.6 s vs 17 s)
    with threadpool_limits(1):
        best, objectives = _restarts(X, Y, lam, widths, neurons, activation, restarts, maxiter, rng)
    return DeepFit(unpack(best.x, widths, neurons, activation), float(best.fun), tuple(objectives))


def _restarts(X, Y, lam, widths, neurons, activation, restarts, maxiter, rng):
    best, objectives = None, []
    for _ in range(restarts):
        theta0 = pack(initial_network(X, widths, neurons, activation, rng))
        res = minimize(objective_and_gradient, theta0, args=(X, Y, lam, widths, neurons, activation), jac=True,
                       method="L-BFGS-B", options=dict(maxiter=maxiter, gtol=LBFGS_GTOL, ftol=LBFGS_FTOL))
        objectives.append(float(res.fun))
        if best is None or res.fun < best.fun:
            best = res
    return best, objectives


def initial_network(X, widths, neurons, activation, rng) -> Network:
    """A random start: as :func:`pcheck.papers.htw.periodic_tasks.train`'s, with ``sigma = activation``."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    stacks = []
    for j, n in enumerate(neurons):
        V = rng.standard_normal((n, widths[j])) / np.sqrt(widths[j])
        b = -np.sum(V * rng.uniform(lo, hi, (n, widths[0])), axis=1) if j == 0 else 0.5 * rng.standard_normal(n)
        W = rng.standard_normal((widths[j + 1], n)) / np.sqrt(n)
        stacks.append(Stack(V, b, W, np.zeros(widths[j + 1])))
    return Network(stacks, activation=activation)


def bottleneck_representation(network: Network, X) -> np.ndarray:
    """``sigma(h_1(X))``: what the second stack sees on ``X``, ``(N, d_1)``."""
    X = as_array(X, "X", ndim=2)
    return _SIGMA[network.activation][0](network.stacks[0](X))


def numerical_rank(M, rtol: float) -> int:
    """Number of singular values of ``M`` above ``rtol`` times the largest (0 for ``M = 0``)."""
    s = np.linalg.svd(as_array(M, "M", ndim=2), compute_uv=False)
    return int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
