"""The NNGP limit of wide random ReLU networks and multi-output GP regression.

Random network of ``depth`` hidden layers (Neal 1996; Lee et al. 2018, arXiv 1711.00165):
``z^1 = V x + b`` with ``V_ij ~ N(0, sigma_w2 / d_in)``, ``b_i ~ N(0, sigma_b2)``;
``z^{l+1} = W^l relu(z^l) + b^l`` with ``W^l_ij ~ N(0, sigma_w2 / n)``; the output is
``z^{depth+1}``. As the width ``n -> infinity`` every output is a centred Gaussian process
with the kernel of the arc-cosine recursion (Cho & Saul 2009, degree 1)

.. math:: K^0(x, x') = \\sigma_b^2 + \\sigma_w^2 \\langle x, x'\\rangle / d_{in},\\qquad
          K^{l}(x, x') = \\sigma_b^2 + \\sigma_w^2\\, F(K^{l-1})(x, x'),

.. math:: F(K)(x, x') = E[\\mathrm{relu}(u)\\mathrm{relu}(u')] =
          \\frac{\\sqrt{K_{xx} K_{x'x'}}}{2\\pi}\\,(\\sin\\vartheta + (\\pi - \\vartheta)\\cos\\vartheta),
          \\quad \\cos\\vartheta = \\frac{K_{xx'}}{\\sqrt{K_{xx} K_{x'x'}}},

and distinct outputs are independent (their readout rows are independent), so the
multi-output prior is ``Cov(f_k(x), f_j(x')) = delta_kj K(x, x')``: HTW section 4's
"GP regression with absolutely no multi-task learning benefits".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.scaled import row_norms
from pcheck.core.validate import as_array, as_count, as_dataset, as_scalar
from pcheck.problems.random_features import observation_mask, psd_ridge_solve

#: Default prior variances of weights (``sigma_w2``, He scaling) and biases (``sigma_b2``).
SIGMA_W2 = 2.0
SIGMA_B2 = 0.1


def arccos_expectation(kxx, kxy, kyy, *, roots=False) -> np.ndarray:
    """``E[relu(u) relu(u')]`` for ``(u, u')`` centred Gaussian with variances ``kxx, kyy``
    and covariance ``kxy`` (module docstring, ``F``); zero where a variance is zero.
    ``roots=True``: ``kxx, kyy`` are the standard deviations (``sqrt`` of the variances), so that
    variances beyond the float64 range (``|x| > 1e154``) need not be formed."""
    norm = kxx * kyy if roots else np.sqrt(kxx * kyy)
    safe = np.where(norm > 0, norm, 1.0)
    cos = np.clip(kxy / safe, -1.0, 1.0)
    theta = np.arccos(cos)
    return np.where(norm > 0, norm * (np.sin(theta) + (np.pi - theta) * cos) / (2 * np.pi), 0.0)


def nngp_kernel(X1, X2, depth, *, sigma_w2=SIGMA_W2, sigma_b2=SIGMA_B2) -> np.ndarray:
    """The NNGP kernel ``K^depth(X1, X2)`` of a ReLU network with ``depth`` hidden layers
    (module docstring), shape ``(len(X1), len(X2))``; ``depth = 0`` is the linear kernel."""
    X1 = as_array(X1, "X1", ndim=2)
    X2 = as_array(X2, "X2", ndim=2, shape=(None, X1.shape[1]))
    depth = as_count(depth, "depth", minimum=0)
    sigma_w2 = as_scalar(sigma_w2, "sigma_w2", minimum=0.0)
    sigma_b2 = as_scalar(sigma_b2, "sigma_b2", minimum=0.0)
    d_in = X1.shape[1]
    # the diagonal as standard deviations r = sqrt(K_xx) (hypot: no overflow for |x| up to 1e308),
    # the inner products through scaled rows: every intermediate is at most the kernel value itself
    sb, sw = np.sqrt(sigma_b2), np.sqrt(sigma_w2 / d_in)
    r1, r2 = np.hypot(sb, sw * row_norms(X1)), np.hypot(sb, sw * row_norms(X2))
    s1, s2 = (max(float(np.max(np.abs(A), initial=0.0)), 1.0) for A in (X1, X2))
    with np.errstate(over="ignore", invalid="ignore"):
        k12 = sigma_b2 + sigma_w2 * (((X1 / s1) @ (X2 / s2).T) * s1) * s2 / d_in
        for _ in range(depth):
            k12 = sigma_b2 + sigma_w2 * arccos_expectation(r1[:, None], k12, r2[None, :], roots=True)
            r1 = np.hypot(sb, np.sqrt(sigma_w2 / 2) * r1)  # F(K)(x, x) = K_xx / 2
            r2 = np.hypot(sb, np.sqrt(sigma_w2 / 2) * r2)
    if not np.all(np.isfinite(k12)):
        raise ValueError(f"X1, X2: kernel values exceed the float64 range (|x| up to {max(s1, s2):.3e}: K(x, x') grows "
                         "like |x| |x'|); rescale the inputs")
    return k12


@dataclass(frozen=True)
class MonteCarloKernel:
    """Monte-Carlo estimates over ``samples`` random networks of width ``width``:
    ``kernel`` (with standard error ``kernel_se``) estimates ``E[f_1(x) f_1(x')]``,
    ``cross`` (with ``cross_se``) estimates ``E[f_1(x) f_2(x')]`` of two outputs."""

    kernel: np.ndarray
    kernel_se: np.ndarray
    cross: np.ndarray
    cross_se: np.ndarray
    width: int
    samples: int


def monte_carlo_kernel(X1, X2, depth, width, samples, *, rng=None, sigma_w2=SIGMA_W2,
                       sigma_b2=SIGMA_B2) -> MonteCarloKernel:
    """Sample ``samples`` random networks (module docstring) of hidden width ``width`` and
    two outputs. The kernel estimate per network is the readout-averaged
    ``sigma_b2 + sigma_w2 <phi(x), phi(x')> / n`` (``phi`` the last hidden layer; exact
    conditional expectation over the readout, so unbiased for the width-``n`` kernel and
    of lower variance); the cross estimate is the raw product ``f_1(x) f_2(x')``."""
    X1 = as_array(X1, "X1", ndim=2)
    X2 = as_array(X2, "X2", ndim=2, shape=(None, X1.shape[1]))
    depth = as_count(depth, "depth", minimum=1)
    width = as_count(width, "width")
    samples = as_count(samples, "samples", minimum=2)
    rng = np.random.default_rng(rng)
    X = np.vstack([X1, X2])
    m = X1.shape[0]
    kern = np.empty((samples, m, X2.shape[0]))
    cross = np.empty_like(kern)
    for s in range(samples):
        phi = _random_hidden(X, depth, width, rng, sigma_w2, sigma_b2)
        kern[s] = sigma_b2 + sigma_w2 * (phi[:m] @ phi[m:].T) / width
        W = rng.standard_normal((2, width)) * np.sqrt(sigma_w2 / width)
        f = phi @ W.T + rng.standard_normal(2) * np.sqrt(sigma_b2)
        cross[s] = np.outer(f[:m, 0], f[m:, 1])
    se = lambda a: a.std(axis=0, ddof=1) / np.sqrt(samples)
    return MonteCarloKernel(kern.mean(axis=0), se(kern), cross.mean(axis=0), se(cross), width, samples)


def _random_hidden(X, depth, width, rng, sigma_w2, sigma_b2) -> np.ndarray:
    """Post-activations ``relu(z^depth)`` of one random network at the rows of ``X``."""
    fan_in = X.shape[1]
    z = X
    for _ in range(depth):
        W = rng.standard_normal((width, fan_in)) * np.sqrt(sigma_w2 / fan_in)
        z = np.maximum(z @ W.T + rng.standard_normal(width) * np.sqrt(sigma_b2), 0.0)
        fan_in = width
    return z


@dataclass(frozen=True)
class GPFit:
    """Posterior of the multi-output GP: ``mean(Xnew)`` has shape ``(len(Xnew), d_out)``.
    ``cond`` is the 2-norm condition number of the joint Gram matrix."""

    X: np.ndarray
    tasks: np.ndarray
    points: np.ndarray
    alpha: np.ndarray
    task_covariance: np.ndarray
    depth: int
    sigma_w2: float
    sigma_b2: float
    cond: float

    def mean(self, Xnew) -> np.ndarray:
        Xnew = as_array(Xnew, "Xnew", ndim=2, shape=(None, self.X.shape[1]))
        k = nngp_kernel(Xnew, self.X[self.points], self.depth, sigma_w2=self.sigma_w2, sigma_b2=self.sigma_b2)
        B = self.task_covariance[:, self.tasks]  # (d_out, n_obs)
        return (k * self.alpha[None, :]) @ B.T


def fit_gp(X, Y, noise, depth, *, mask=None, task_covariance=None, sigma_w2=SIGMA_W2,
           sigma_b2=SIGMA_B2) -> GPFit:
    """Posterior mean of GP regression with prior ``Cov(f_k(x), f_j(x')) = B_kj K(x, x')``
    (``K`` = :func:`nngp_kernel`, ``B`` = ``task_covariance``, the identity by default: the
    NNGP limit) and observation noise variance ``noise > 0``, on the observed entries
    ``mask`` of ``Y``, solved jointly over all observed ``(i, k)``:

    .. math:: \\bar f_k(x) = \\sum_{(i,j)\\,\\mathrm{obs}} B_{kj} K(x, x_i)\\,\\alpha_{ij},\\qquad
              (B_{jj'} K(x_i, x_{i'}) + \\mathrm{noise}\\,\\delta)\\,\\alpha = y_{\\mathrm{obs}}.

    With ``B = I`` the Gram matrix is block diagonal over tasks and the posterior mean of
    task k depends on task k's data only."""
    X, Y = as_dataset(X, Y)
    noise = as_scalar(noise, "noise", minimum=0.0, strict=True)
    depth = as_count(depth, "depth", minimum=0)
    d_out = Y.shape[1]
    B = np.eye(d_out) if task_covariance is None else as_array(task_covariance, "task_covariance", ndim=2,
                                                                   shape=(d_out, d_out))
    if not np.allclose(B, B.T, rtol=0, atol=0) or np.linalg.eigvalsh(B)[0] < 0:
        raise ValueError("task_covariance must be symmetric positive semidefinite")
    obs = observation_mask(mask, Y.shape)
    points, tasks = np.nonzero(obs)
    K = nngp_kernel(X, X, depth, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    G = B[np.ix_(tasks, tasks)] * K[np.ix_(points, points)] + noise * np.eye(points.size)
    # (B o K + noise I) alpha = y: rank-revealing when noise is tiny relative to the spectrum
    alpha = psd_ridge_solve(G - noise * np.eye(points.size), Y[points, tasks], noise) if points.size else np.zeros(0)
    cond = float(np.linalg.cond(G)) if points.size else 1.0
    return GPFit(X, tasks, points, alpha, B, depth, sigma_w2, sigma_b2, cond)
