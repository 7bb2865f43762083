"""Radon-domain atoms and the distributional second derivative of a stack.

A neuron with ``v_k != 0`` is an atom at direction ``s_k = v_k/||v_k||``, offset
``r_k = -b_k/||v_k||`` and vector mass ``m_k = ||v_k|| w_k``:

.. math:: w_k\\,\\mathrm{relu}(b_k + \\langle v_k, x\\rangle) = m_k\\,\\mathrm{relu}(\\langle s_k, x\\rangle - r_k).

A neuron with ``v_k = 0`` is the constant ``w_k relu(b_k)``. In one input dimension
``h'' = sum_k |v_k| w_k delta_{xi_k}`` with ``xi_k = -b_k / v_k``; for ``d_in > 1``
``D^2 h = sum_k w_k (v_k v_k^T / ||v_k||) dS_{H_k}`` on the kink hyperplanes
``H_k = {<v_k, x> + b_k = 0}`` (the Hessian of one neuron ``w relu(<v, x> + b)`` is ``w v v^T delta(<v, x> + b)``,
whose mass on the hyperplane is ``w v v^T / ||v||`` per unit surface).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core import kernels
from pcheck.core.network import Stack
from pcheck.core.scaled import row_norms
from pcheck.core.validate import as_array, as_scalar

#: Two atoms merge when their offsets differ by at most ``MERGE_RTOL * |offset|`` and their unit
#: directions coordinate-wise by at most ``MERGE_RTOL`` (64 ulps, scale-free); a merged atom
#: whose mass cancels to at most ``MERGE_RTOL`` times the sum of its parts' norms is dropped.
#: Reason: merging then moves the function by at most ``MERGE_RTOL sum ||m_k|| (|x| + |r|)``
#: near the kinks, which is 64 times the float error of evaluating the neurons there
#: (``eps ||w|| (|v x| + |b|)``): the function is unchanged to rounding. Rescaled copies of a
#: neuron (``(v, b, w) -> (a v, a b, w / a)`` in float64) give offsets and directions within
#: 4 ulps (measured, tests/test_measure.py). Kinks further apart are distinct even when
#: very close: two opposite unit kinks 1e-13 apart are a function with P_8 = 2, not 0.
MERGE_RTOL = 64 * float(np.finfo(float).eps)


@dataclass(frozen=True)
class Atoms:
    """``h(x) = sum_k m_k relu(<s_k, x> - r_k) + constant + c + A x``.

    ``s (K, d_in)`` unit directions, ``r (K,)`` offsets, ``m (K, d_out)`` vector masses
    (atoms on the same ``(s, r)`` merged), ``constant (d_out,)`` the sum of
    ``w_k relu(b_k)`` over neurons with ``v_k = 0``, ``c`` and ``A`` (zeros when the
    stack has no skip connection) the affine part.
    """

    s: np.ndarray
    r: np.ndarray
    m: np.ndarray
    constant: np.ndarray
    c: np.ndarray
    A: np.ndarray

    def __call__(self, X) -> np.ndarray:
        X = as_array(X, "X", ndim=2, shape=(None, self.s.shape[1]))
        z = np.maximum(X @ self.s.T - self.r[None, :], 0.0)
        return z @ self.m + self.constant + self.c + X @ self.A.T


def atoms(stack: Stack) -> Atoms:
    """The Radon-domain atoms of ``stack`` (module docstring), merged on equal ``(s, r)``."""
    norms = row_norms(stack.V)
    live = norms > 0
    constant = stack.W[:, ~live] @ np.maximum(stack.b[~live], 0.0)
    s = stack.V[live] / norms[live, None]
    r = -stack.b[live] / norms[live]
    m = (stack.W[:, live] * norms[live][None, :]).T
    s, r, m = _merge_atoms(s, r, m)
    A = stack.A if stack.A is not None else np.zeros((stack.d_out, stack.d_in))
    return Atoms(s, r, m, constant, stack.c.copy(), A.copy())


def _merge_atoms(s, r, m):
    """Merge atoms whose ``(s, r)`` agree within ``MERGE_RTOL`` (directions coordinate-wise, offsets
    relative): sweep the atoms in order of ``r`` and join each to the first earlier atom within
    tolerance; a merged atom whose mass cancels to ``MERGE_RTOL`` of its parts is dropped."""
    if r.size == 0:
        return s, r, m
    order = np.argsort(r, kind="stable")
    keys, m = np.column_stack([s, r])[order], m[order]
    tol = MERGE_RTOL * np.column_stack([np.ones_like(s), np.abs(keys[:, -1])])
    group = np.empty(len(keys), dtype=np.int64)
    n_groups = 0
    for i in range(len(keys)):
        j0 = np.searchsorted(keys[:, -1], keys[i, -1] - 2 * tol[i, -1], side="left")
        close = np.all(np.abs(keys[j0:i] - keys[i]) <= np.maximum(tol[j0:i], tol[i]), axis=1)
        if np.any(close):
            group[i] = group[j0 + np.argmax(close)]
        else:
            group[i] = n_groups
            n_groups += 1
    merged = np.zeros((n_groups, m.shape[1]))
    np.add.at(merged, group, m)
    parts = np.zeros(n_groups)
    np.add.at(parts, group, row_norms(m))
    first = keys[np.unique(group, return_index=True)[1]]
    # a group whose masses cancel to rounding of their sum is no atom of the function (as in kinks())
    keep = (row_norms(merged) > MERGE_RTOL * parts) | (parts == 0)
    return np.ascontiguousarray(first[keep, :-1]), np.ascontiguousarray(first[keep, -1]), merged[keep]


@dataclass(frozen=True)
class Kinks:
    """The distributional ``h''`` of a 1D stack: ``h'' = sum_k jump_k delta_{x_k}``.

    ``x (K,)`` sorted kink positions, ``jump (K, d_out)`` the jumps of ``h'`` there.
    """

    x: np.ndarray
    jump: np.ndarray


def kinks(stack: Stack) -> Kinks:
    """Kinks of a ``d_in = 1`` stack: ``xi_k = -b_k / v_k`` with jump ``|v_k| w_k`` (both
    ramp directions add ``+|v_k| w_k`` to the slope), merged within ``MERGE_RTOL``.
    A merged kink whose jump cancels to at most ``MERGE_RTOL`` times the sum of its parts'
    norms is dropped: it is not a kink of the function. Norms are computed without underflow
    (a jump of 1e-200 is a kink). A kink beyond the float64 range
    (``|b_k / v_k| > 1.8e308``) raises ValueError."""
    _require_1d(stack)
    v = stack.V[:, 0]
    live = v != 0
    with np.errstate(over="ignore"):
        xi = -stack.b[live] / v[live]
    if not np.all(np.isfinite(xi)):
        raise ValueError("stack has kinks -b_k/v_k beyond the float64 range; rescale the input so that they are "
                         "representable")
    mass = (stack.W[:, live] * np.abs(v[live])[None, :]).T
    order = np.argsort(xi, kind="stable")
    xi, mass = np.ascontiguousarray(xi[order]), np.ascontiguousarray(mass[order])
    pos, jump, _ = kernels.merge_sorted_positions(xi, mass, MERGE_RTOL)
    parts = np.zeros(len(pos))
    if len(xi):
        group = np.searchsorted(pos, xi, side="right") - 1
        np.add.at(parts, group, row_norms(mass))
    keep = row_norms(jump) > MERGE_RTOL * parts
    return Kinks(pos[keep], jump[keep])


def smoothed_second_derivative(stack: Stack, x, bandwidth) -> np.ndarray:
    """Gaussian-smoothed ``h''`` of a 1D stack (HTW Appendix B):
    ``(h'' * N(0, bandwidth^2))(x) = sum_k jump_k N(x; x_k, bandwidth^2)``, shape ``(len(x), d_out)``."""
    x = as_array(x, "x", ndim=1)
    bandwidth = as_scalar(bandwidth, "bandwidth", minimum=0.0, strict=True)
    kk = kinks(stack)
    out = np.zeros((x.shape[0], stack.d_out))
    kernels.gaussian_smoothed_second_derivative(kk.x, np.ascontiguousarray(kk.jump), x, bandwidth, out)
    return out


def hessian_pairing(stack: Stack, mu, sigma) -> np.ndarray:
    """``int phi d(D^2 h)`` for the Gaussian bump ``phi(x) = exp(-||x - mu||^2 / (2 sigma^2))``.

    With ``D^2 h = sum_k w_k (v_k v_k^T/||v_k||) dS_{H_k}`` and the hyperplane integral
    ``int_{H_k} phi dS = (2 pi sigma^2)^{(d-1)/2} exp(-dist(mu, H_k)^2 / (2 sigma^2))``,
    ``dist = (<v_k, mu> + b_k)/||v_k||``. Returns ``(d_out, d_in, d_in)``. The same number
    is ``int h D^2 phi dx`` (integration by parts), which is how the tests check it.
    """
    mu = as_array(mu, "mu", ndim=1, shape=(stack.d_in,))
    sigma = as_scalar(sigma, "sigma", minimum=0.0, strict=True)
    norms = np.linalg.norm(stack.V, axis=1)
    live = norms > 0
    V, b, W, nv = stack.V[live], stack.b[live], stack.W[:, live], norms[live]
    dist = (V @ mu + b) / nv
    surface = (2 * np.pi * sigma**2) ** ((stack.d_in - 1) / 2) * np.exp(-(dist**2) / (2 * sigma**2))
    outer = V[:, :, None] * V[:, None, :] / nv[:, None, None]
    return np.einsum("ok,k,kij->oij", W, surface, outer)


def _require_1d(stack: Stack) -> None:
    if not isinstance(stack, Stack):
        raise TypeError(f"stack must be a Stack, got {type(stack).__name__}")
    if stack.d_in != 1:
        raise ValueError(f"stack must have d_in = 1 for kinks in one dimension, got d_in = {stack.d_in}")
