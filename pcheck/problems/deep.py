"""HTW eq. (4) for stacked networks (eq. 1, 2), trained by L-BFGS with analytic gradients:

.. math:: \\min_\\theta \\sum_{i, k} M_{ik} \\big(f_{\\theta}(x_i) - y_i\\big)_k^2 + \\lambda \\|\\theta\\|_2^2,
          \\qquad f_\\theta = h_S \\circ \\sigma \\circ h_{S-1} \\circ \\dots \\circ \\sigma \\circ h_1,

``theta`` = all parameters ``(V_j, b_j, W_j, c_j)`` of the stacks in order, each flattened
row-major; ``M`` an optional observation mask (Appendix B's data-poor tasks), ``sigma`` ReLU
or the identity; under variant "8" the biases ``b_j, c_j`` are left out of ``||theta||^2``.
One stack is the width-n problem of :mod:`pcheck.problems.width`; two give the Corollary 3.3
evidence, three the Appendix B runs. The value equals
:func:`pcheck.core.objective.training_objective` of the unpacked network (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.network import Network, Stack
from pcheck.core.validate import as_array, as_count, as_scalar
from pcheck.core.variant import as_variant
from pcheck.problems.random_features import observation_mask
from pcheck.solvers import lbfgs

#: L-BFGS stopping: projected-gradient sup-norm and relative objective decrease. Reason: far
#: below the differences the checks compare (Corollary 3.3: 1e-4 relative between widths;
#: Appendix B: >= 1e-2 between local minima), and cheap to reach on these small problems.
LBFGS_GTOL = 1e-10
LBFGS_FTOL = 1e-14

ACTIVATIONS = {"relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
               "identity": (lambda z: z, np.ones_like)}


def shapes(widths, neurons) -> list:
    """``[(V, b, W, c) shapes]`` per stack for bottlenecks ``widths = (d_0, ..., d_S)`` and
    hidden widths ``neurons = (n_1, ..., n_S)``."""
    return [((n, widths[j]), (n,), (widths[j + 1], n), (widths[j + 1],)) for j, n in enumerate(neurons)]


def views(theta: np.ndarray, widths, neurons) -> list:
    """``[(V, b, W, c), ...]`` per stack: reshaped views into ``theta`` (row-major, in order)."""
    params, at = [], 0
    for stack_shapes in shapes(widths, neurons):
        arrays = []
        for shape in stack_shapes:
            size = int(np.prod(shape))
            arrays.append(theta[at:at + size].reshape(shape))
            at += size
        params.append(arrays)
    return params


def pack(network: Network) -> np.ndarray:
    """The parameter vector of ``network`` (inverse of :func:`unpack`)."""
    return np.concatenate([a.ravel() for s in network.stacks for a in (s.V, s.b, s.W, s.c)])


def unpack(theta, widths, neurons, activation: str = "relu") -> Network:
    """The :class:`~pcheck.core.network.Network` with parameter vector ``theta``."""
    return Network([Stack(*(a.copy() for a in arrays)) for arrays in views(theta, widths, neurons)],
                   activation=activation)


def decay_weights(widths, neurons, variant="7") -> np.ndarray:
    """1 for the entries of ``theta`` that ``||theta||^2`` prices, 0 for the biases under variant "8"."""
    variant = as_variant(variant, allowed=("7", "8"))
    weights = [np.full(int(np.prod(shape)), 1.0 if k in (0, 2) or variant.biases_regularized else 0.0)
               for stack_shapes in shapes(widths, neurons) for k, shape in enumerate(stack_shapes)]
    return np.concatenate(weights)


def objective_and_gradient(theta, X, Y, lam, widths, neurons, *, activation="relu", mask=None, weights=None):
    """Eq. (4) (module docstring) and its gradient by back-propagation; ``weights`` from
    :func:`decay_weights` (all ones when None). ReLU's derivative is taken as 0 at 0."""
    sigma, dsigma = ACTIVATIONS[activation]
    params = views(theta, widths, neurons)
    inputs, pre, outs = [X], [], []
    for j, (V, b, W, c) in enumerate(params):
        z = inputs[-1] @ V.T + b
        pre.append(z)
        outs.append(np.maximum(z, 0.0) @ W.T + c)
        inputs.append(sigma(outs[-1]) if j < len(params) - 1 else outs[-1])
    resid = inputs[-1] - Y
    if mask is not None:
        resid = np.where(mask, resid, 0.0)
    priced = theta if weights is None else weights * theta
    value = float(np.sum(resid**2) + lam * (priced @ theta))
    grads, delta = [], 2.0 * resid
    for j in range(len(params) - 1, -1, -1):
        V, b, W, c = params[j]
        gW, gc = delta.T @ np.maximum(pre[j], 0.0), delta.sum(axis=0)
        dz = (delta @ W) * (pre[j] > 0)
        grads.append((dz.T @ inputs[j], dz.sum(axis=0), gW, gc))
        if j > 0:
            delta = (dz @ V) * dsigma(outs[j - 1])
    grad = np.concatenate([g.ravel() for gs in reversed(grads) for g in gs]) + 2 * lam * priced
    return value, grad


def initial_network(X, widths, neurons, activation, rng) -> Network:
    """A random start: the first stack's kinks spread over the data's box, other weights
    standard normal / sqrt(fan-in), second and later biases ``N(0, 1/4)``, ``c = 0``."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    stacks = []
    for j, n in enumerate(neurons):
        V = rng.standard_normal((n, widths[j])) / np.sqrt(widths[j])
        b = -np.sum(V * rng.uniform(lo, hi, (n, widths[0])), axis=1) if j == 0 else 0.5 * rng.standard_normal(n)
        W = rng.standard_normal((widths[j + 1], n)) / np.sqrt(n)
        stacks.append(Stack(V, b, W, np.zeros(widths[j + 1])))
    return Network(stacks, activation=activation)


@dataclass(frozen=True)
class DeepFit:
    """The best network of all restarts, its eq. (4) ``objective``, every restart's objective
    and the L-BFGS iterations spent in all."""

    network: Network
    objective: float
    objectives: tuple
    iterations: int


def train(X, Y, lam, *, neurons, widths=None, activation: str = "relu", mask=None, restarts: int = 4,
          maxiter: int = 3000, rng=None) -> DeepFit:
    """Minimize eq. (4) (module docstring) over networks with hidden widths ``neurons`` and
    bottlenecks ``widths = (d_in, d_1, ..., d_out)`` (default ``(d_in, 1, ..., 1, d_out)``)
    from ``restarts`` random starts (:func:`initial_network`); the best objective wins."""
    X = as_array(X, "X", ndim=2)
    Y = as_array(Y, "Y", ndim=2, shape=(X.shape[0], None))
    lam = as_scalar(lam, "lam", minimum=0.0)
    restarts, maxiter = as_count(restarts, "restarts"), as_count(maxiter, "maxiter")
    neurons = tuple(as_count(n, "neurons") for n in neurons)
    widths = (X.shape[1],) + (1,) * (len(neurons) - 1) + (Y.shape[1],) if widths is None else tuple(widths)
    if len(widths) != len(neurons) + 1 or widths[0] != X.shape[1] or widths[-1] != Y.shape[1]:
        raise ValueError(f"widths must be (d_in, d_1, ..., d_out) with {len(neurons) + 1} entries, got {widths}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    mask = None if mask is None else observation_mask(mask, Y.shape)
    rng = np.random.default_rng(rng)
    best, objectives, iterations = None, [], 0
    for _ in range(restarts):
        theta0 = pack(initial_network(X, widths, neurons, activation, rng))
        found = lbfgs.minimize(lambda th: objective_and_gradient(th, X, Y, lam, widths, neurons, activation=activation,
                                                                 mask=mask),
                               theta0, maxiter=maxiter, gtol=LBFGS_GTOL, ftol=LBFGS_FTOL)
        objectives.append(found.value)
        iterations += found.iterations
        if best is None or found.value < best.value:
            best = found
    return DeepFit(unpack(best.x, widths, neurons, activation), best.value, tuple(objectives), iterations)


def bottleneck_representation(network: Network, X) -> np.ndarray:
    """``sigma(h_1(X))``: what the second stack sees on ``X``, ``(N, d_1)``."""
    X = as_array(X, "X", ndim=2)
    return ACTIVATIONS[network.activation][0](network.stacks[0](X))


def numerical_rank(M, rtol: float) -> int:
    """Number of singular values of ``M`` above ``rtol`` times the largest (0 for ``M = 0``)."""
    s = np.linalg.svd(as_array(M, "M", ndim=2), compute_uv=False)
    return int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
