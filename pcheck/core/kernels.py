"""Numba kernels, nothing else.

Conventions: float64 C-contiguous inputs, ``cache=True``, no
``fastmath``; ``parallel=True`` only for per-sample maps. Every kernel stays plain
Python so that a ``NUMBA_DISABLE_JIT=1`` run computes the same numbers.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

#: samples per block of the forward pass. A block's pre-activations (``NT`` rows) and
#: outputs (``d_out`` rows) stay in L1/L2 while the neuron loop streams through V, b, W;
#: blocks of 128 to 1024 samples ran within 10% of each other (one thread, d_in = 8, 16).
BLOCK = 256

#: below this many multiply-adds ``n B (d_in + d_out)`` (~50 microseconds on one core)
#: the forward pass runs on one thread (``stack_forward_T_serial``)
PARALLEL_MIN_WORK = 200_000

#: neurons per register tile: 4 neurons x 4 input features (16 weights) plus 4 input and
#: 4 pre-activation vectors fit the 32 vector registers of AVX-512 (with AVX2's 16, some
#: weights are re-read from L1), so each loaded input vector
#: feeds 4 neurons and each stored pre-activation vector carries 4 products.
NT = 4


@njit(cache=True, parallel=True)
def stack_forward_T(V, b, W, XT, outT):
    """Accumulate ``outT[:, i] += sum_k W[:, k] relu(b_k + <V_k, XT[:, i]>)`` (HTW eq. 2).

    ``XT`` is ``(d_in, B)`` and ``outT`` is ``(d_out, B)``: samples run along the
    contiguous axis, so every inner loop is a branch-free vector loop over a block of
    ``BLOCK`` samples (``_forward_block``). Parallel over sample blocks. The hidden
    ``(B, n)`` matrix is never formed: each block holds ``NT`` pre-activation rows and
    its ``d_out`` output rows.
    """
    n_blocks = (XT.shape[1] + BLOCK - 1) // BLOCK
    for blk in prange(n_blocks):
        _forward_block(V, b, W, XT, outT, blk)


@njit(cache=True)
def stack_forward_T_serial(V, b, W, XT, outT):
    """:func:`stack_forward_T` on one thread: for small batches, where waking the thread
    pool costs more than the work (and far more on a loaded machine)."""
    for blk in range((XT.shape[1] + BLOCK - 1) // BLOCK):
        _forward_block(V, b, W, XT, outT, blk)


@njit(cache=True)
def _forward_block(V, b, W, XT, outT, blk):
    """Samples ``blk * BLOCK`` to the block's end: neurons in tiles of ``NT``
    (``_hidden_tile``, ``_output_tile``), the remainder one by one."""
    n = V.shape[0]
    d_out = W.shape[0]
    n_tiled = n - n % NT
    j0 = blk * BLOCK
    j1 = min(XT.shape[1], j0 + BLOCK)
    z = np.empty((NT, j1 - j0))
    acc = np.zeros((d_out, j1 - j0))
    for k0 in range(0, n_tiled, NT):
        _hidden_tile(V, b, XT, j0, j1, k0, z)
        _output_tile(W, k0, z, acc)
    for k in range(n_tiled, n):
        _hidden_one(V, b, XT, j0, j1, k, z[0])
        _output_one(W, k, z[0], acc)
    for o in range(d_out):
        outT[o, j0:j1] += acc[o]


@njit(cache=True)
def _hidden_tile(V, b, XT, j0, j1, k0, z):
    """``z[t] = relu(b[k0+t] + sum_d V[k0+t, d] XT[d, j0:j1])`` for the 4 neurons
    ``t < 4`` of a tile, input features 4 at a time (16 weights held in registers)."""
    d_in = V.shape[1]
    z0, z1, z2, z3 = z[0], z[1], z[2], z[3]
    z0[:] = b[k0]
    z1[:] = b[k0 + 1]
    z2[:] = b[k0 + 2]
    z3[:] = b[k0 + 3]
    d = 0
    while d + 4 <= d_in:
        x0, x1, x2, x3 = XT[d, j0:j1], XT[d + 1, j0:j1], XT[d + 2, j0:j1], XT[d + 3, j0:j1]
        a00, a01, a02, a03 = V[k0, d], V[k0, d + 1], V[k0, d + 2], V[k0, d + 3]
        a10, a11, a12, a13 = V[k0 + 1, d], V[k0 + 1, d + 1], V[k0 + 1, d + 2], V[k0 + 1, d + 3]
        a20, a21, a22, a23 = V[k0 + 2, d], V[k0 + 2, d + 1], V[k0 + 2, d + 2], V[k0 + 2, d + 3]
        a30, a31, a32, a33 = V[k0 + 3, d], V[k0 + 3, d + 1], V[k0 + 3, d + 2], V[k0 + 3, d + 3]
        for j in range(j1 - j0):
            y0, y1, y2, y3 = x0[j], x1[j], x2[j], x3[j]
            z0[j] += a00 * y0 + a01 * y1 + a02 * y2 + a03 * y3
            z1[j] += a10 * y0 + a11 * y1 + a12 * y2 + a13 * y3
            z2[j] += a20 * y0 + a21 * y1 + a22 * y2 + a23 * y3
            z3[j] += a30 * y0 + a31 * y1 + a32 * y2 + a33 * y3
        d += 4
    for e in range(d, d_in):
        x0 = XT[e, j0:j1]
        a0, a1, a2, a3 = V[k0, e], V[k0 + 1, e], V[k0 + 2, e], V[k0 + 3, e]
        for j in range(j1 - j0):
            y = x0[j]
            z0[j] += a0 * y
            z1[j] += a1 * y
            z2[j] += a2 * y
            z3[j] += a3 * y
    for j in range(j1 - j0):
        z0[j] = max(z0[j], 0.0)
        z1[j] = max(z1[j], 0.0)
        z2[j] = max(z2[j], 0.0)
        z3[j] = max(z3[j], 0.0)


@njit(cache=True)
def _output_tile(W, k0, z, acc):
    """``acc[o] += sum_{t<4} W[o, k0+t] z[t]``, two outputs at a time."""
    d_out = W.shape[0]
    z0, z1, z2, z3 = z[0], z[1], z[2], z[3]
    o = 0
    while o + 2 <= d_out:
        p, q = acc[o], acc[o + 1]
        w0, w1, w2, w3 = W[o, k0], W[o, k0 + 1], W[o, k0 + 2], W[o, k0 + 3]
        u0, u1, u2, u3 = W[o + 1, k0], W[o + 1, k0 + 1], W[o + 1, k0 + 2], W[o + 1, k0 + 3]
        for j in range(acc.shape[1]):
            y0, y1, y2, y3 = z0[j], z1[j], z2[j], z3[j]
            p[j] += w0 * y0 + w1 * y1 + w2 * y2 + w3 * y3
            q[j] += u0 * y0 + u1 * y1 + u2 * y2 + u3 * y3
        o += 2
    if o < d_out:
        p = acc[o]
        w0, w1, w2, w3 = W[o, k0], W[o, k0 + 1], W[o, k0 + 2], W[o, k0 + 3]
        for j in range(acc.shape[1]):
            p[j] += w0 * z0[j] + w1 * z1[j] + w2 * z2[j] + w3 * z3[j]


@njit(cache=True)
def _hidden_one(V, b, XT, j0, j1, k, zk):
    """``zk = relu(b_k + sum_d V[k, d] XT[d, j0:j1])`` for one neuron (tile remainder)."""
    zk[:] = b[k]
    for d in range(V.shape[1]):
        a = V[k, d]
        x = XT[d, j0:j1]
        for j in range(j1 - j0):
            zk[j] += a * x[j]
    for j in range(j1 - j0):
        zk[j] = max(zk[j], 0.0)


@njit(cache=True)
def _output_one(W, k, zk, acc):
    """``acc[o] += W[o, k] zk`` for one neuron (tile remainder)."""
    for o in range(W.shape[0]):
        w = W[o, k]
        p = acc[o]
        for j in range(acc.shape[1]):
            p[j] += w * zk[j]


@njit(cache=True)
def merge_sorted_positions(p, masses, rel_tol):
    """Group sorted positions ``p`` that lie within ``rel_tol * |p|`` of their predecessor
    (scale-free: ``p = 0`` merges only with an exact 0) and sum their ``masses`` rows. Returns
    ``(positions, summed, sizes)``, the position of a group being that of its first member."""
    K = p.shape[0]
    d = masses.shape[1]
    pos = np.empty(K)
    out = np.zeros((K, d))
    sizes = np.zeros(K, dtype=np.int64)
    g = -1
    for i in range(K):
        if g < 0 or p[i] - p[i - 1] > rel_tol * max(abs(p[i]), abs(p[i - 1])):
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


@njit(cache=True)
def compensated_cumsum(terms, out):
    """Prefix sums ``out[0] = 0``, ``out[i + 1] = sum_{l <= i} terms[l]`` per column, with
    Neumaier's compensation: the error of every prefix is at most ``2 eps |out[i]|``
    plus ``O(K eps^2) sum_l |terms[l]|``, so it does not grow with the length ``K``.
    Sequential over rows (the order matters), ``out`` is ``(K + 1, d)``."""
    d = terms.shape[1]
    s = np.zeros(d)
    comp = np.zeros(d)
    out[0, :] = 0.0
    for i in range(terms.shape[0]):
        for o in range(d):
            t = terms[i, o]
            u = s[o] + t
            if abs(s[o]) >= abs(t):
                comp[o] += (s[o] - u) + t
            else:
                comp[o] += (t - u) + s[o]
            s[o] = u
            out[i + 1, o] = u + comp[o]


def warm_up() -> None:
    """Compile (or load from the cache) every kernel above once, on tiny inputs.
    Called once per test session by the pytest plugin; a new kernel adds its call here."""
    V, b, W = np.ones((1, 1)), np.zeros(1), np.ones((1, 1))
    stack_forward_T(V, b, W, np.ones((1, 2)), np.zeros((1, 2)))
    stack_forward_T_serial(V, b, W, np.ones((1, 2)), np.zeros((1, 2)))
    merge_sorted_positions(np.zeros(2), np.ones((2, 1)), 1e-12)
    compensated_cumsum(np.ones((2, 1)), np.zeros((3, 1)))
    gaussian_smoothed_second_derivative(np.zeros(1), np.ones((1, 1)), np.zeros(2), 1.0, np.zeros((2, 1)))
