"""Quadrature for piecewise-smooth integrands (used by the checks that integrate h and h'')."""

from __future__ import annotations

import numpy as np


def piecewise_gauss_legendre(f, lo: float, hi: float, breaks=(), nodes: int = 64):
    """``int_lo^hi f(t) dt`` for ``f`` smooth between ``breaks``: Gauss-Legendre with ``nodes``
    nodes on each piece. ``f`` maps an array of points ``(m,)`` to an array ``(m, ...)``.

    On a piece where ``f`` is analytic the error decays geometrically in ``nodes``; 64 nodes
    integrate a low-degree polynomial times a Gaussian over <= 12 standard deviations to
    rounding level (checked against closed forms in tests/test_quadrature.py).
    """
    edges = np.unique(np.clip(np.concatenate([[lo, hi], np.asarray(breaks, dtype=float).ravel()]), lo, hi))
    z, w = np.polynomial.legendre.leggauss(nodes)
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        t = 0.5 * (b - a) * z + 0.5 * (a + b)
        total = total + 0.5 * (b - a) * np.tensordot(w, f(t), axes=(0, 0))
    return total
