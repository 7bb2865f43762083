"""Numba kernels, nothing else.

Conventions (see DESIGN.md): float64 C-contiguous inputs, ``cache=True``, no
``fastmath``; ``parallel=True`` only for per-sample maps. Every kernel stays plain
Python so that a ``NUMBA_DISABLE_JIT=1`` run computes the same numbers.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: samples per block of the forward pass: a block of ``z`` and of the outputs
#: stays in L1 while the neuron loop streams through V, b, W.
BLOCK = 256


@njit(cache=True, parallel=True)
def stack_forward_T(V, b, W, XT, outT):
    """Accumulate ``outT[:, i] += sum_k W[:, k] relu(b_k + <V_k, XT[:, i]>)`` (HTW eq. 2).

    ``XT`` is ``(d_in, B)`` and ``outT`` is ``(d_out, B)``: samples run along the
    contiguous axis so the inner loops vectorize. Parallel over sample blocks;
    the hidden ``(B, n)`` matrix is never formed, only one ``BLOCK``-long
    pre-activation buffer per block.
    """
    n, d_in = V.shape
    d_out = W.shape[0]
    B = XT.shape[1]
    n_blocks = (B + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        j0 = blk * BLOCK
        j1 = min(B, j0 + BLOCK)
        m = j1 - j0
        z = np.empty(m)
        for k in range(n):
            bk = b[k]
            for j in range(m):
                z[j] = bk
            for d in range(d_in):
                vkd = V[k, d]
                for j in range(m):
                    z[j] += vkd * XT[d, j0 + j]
            for j in range(m):
                if z[j] < 0.0:
                    z[j] = 0.0
            for o in range(d_out):
                wok = W[o, k]
                if wok != 0.0:
                    for j in range(m):
                        outT[o, j0 + j] += wok * z[j]


@njit(cache=True)
def merge_sorted_positions(p, masses, rel_tol):
    """Group sorted positions ``p`` that lie within ``rel_tol * max(1, |p|)`` of their
    predecessor and sum their ``masses`` rows. Returns ``(positions, summed, sizes)``,
    the position of a group being that of its first member."""
    K = p.shape[0]
    d = masses.shape[1]
    pos = np.empty(K)
    out = np.zeros((K, d))
    sizes = np.zeros(K, dtype=np.int64)
    g = -1
    for i in range(K):
        if g < 0 or p[i] - p[i - 1] > rel_tol * max(1.0, abs(p[i])):
            g += 1
            pos[g] = p[i]
        for o in range(d):
            out[g, o] += masses[i, o]
        sizes[g] += 1
    return pos[: g + 1], out[: g + 1], sizes[: g + 1]


@njit(cache=True, parallel=True)
def gaussian_smoothed_second_derivative(xk, jumps, x, bandwidth, out):
    """``out[i] = sum_k jumps[k] N(x_i; xk_k, bandwidth^2)``: h'' convolved with a Gaussian
    (HTW Appendix B). Parallel over evaluation points."""
    norm = 1.0 / (bandwidth * np.sqrt(2.0 * np.pi))
    for i in prange(x.shape[0]):
        for k in range(xk.shape[0]):
            t = (x[i] - xk[k]) / bandwidth
            wt = norm * np.exp(-0.5 * t * t)
            for o in range(jumps.shape[1]):
                out[i, o] += wt * jumps[k, o]


def warm_up() -> None:
    """Compile (or load from the cache) every kernel above once, on tiny inputs.
    Called once per test session by the pytest plugin; a new kernel adds its call here."""
    V, b, W = np.ones((1, 1)), np.zeros(1), np.ones((1, 1))
    stack_forward_T(V, b, W, np.ones((1, 2)), np.zeros((1, 2)))
    merge_sorted_positions(np.zeros(2), np.ones((2, 1)), 1e-12)
    gaussian_smoothed_second_derivative(np.zeros(1), np.ones((1, 1)), np.zeros(2), 1.0, np.zeros((2, 1)))
