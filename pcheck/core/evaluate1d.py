"""Evaluation of one-dimensional stacks in ``O((n + B) log(n + B))`` instead of ``O(n B)``.

For ``d_in = 1`` the stack of HTW eq. 2 is piecewise affine with kinks at
``xi_k = -b_k / v_k``. A neuron with ``v_k > 0`` is active (``b_k + v_k x > 0``) exactly
for ``x > xi_k``, one with ``v_k < 0`` exactly for ``x < xi_k``, and one with ``v_k = 0``
is the constant ``w_k relu(b_k)``. Hence

.. math:: h(x) = \\Big(A + \\sum_{k \\in K(x)} w_k v_k\\Big)\\, x
          + c + \\sum_{v_k = 0} w_k\\,\\mathrm{relu}(b_k) + \\sum_{k \\in K(x)} w_k b_k,
          \\qquad K(x) = \\{k : v_k > 0,\\ \\xi_k < x\\} \\cup \\{k : v_k < 0,\\ \\xi_k > x\\}.

Sorting the kinks of each sign of ``v_k`` once and forming compensated prefix sums
(ascending for ``v_k > 0``, descending for ``v_k < 0``) of ``w_k v_k`` and ``w_k b_k``
turns the evaluation at B points into a sort of the points, two binary searches and
four table look-ups per point.

Accuracy: every prefix is exact to ``2 eps`` of its value plus ``O(n eps^2)`` of its
terms (:func:`pcheck.core.kernels.compensated_cumsum`), and a kink that rounding puts on the
wrong side of ``x`` contributes ``|w_k (b_k + v_k x)| <= eps |w_k| (|b_k| + |v_k x|)``,
so the error is a few ``eps`` times the condition scale
``sum_k |w_k| (|b_k| + |v_k x|) + |c| + |A x|``, whatever ``n`` (tests/test_evaluate1d.py
checks ``1e-12`` of it against the dense kernel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core import kernels
from pcheck.core.validate import as_array

#: ``Stack.__call__`` uses the sorted evaluation for ``d_in = 1`` when
#: ``n B / (n + B) > SORTED_MIN_RATIO``: on the development machine the dense kernel
#: cost ~1.5 ns per neuron-sample pair (``n B``), the sorted one ~400 ns per kink or
#: point (``n + B``: sorting, binary search, table look-ups); benchmarks/crossover_1d.py
#: prints both sides on a grid of ``(n, B)``.
SORTED_MIN_RATIO = 300.0


def prefers_sorted(n: int, B: int) -> bool:
    """Whether the sorted evaluation beats the dense kernel for ``n`` neurons, ``B`` points."""
    return n * B > SORTED_MIN_RATIO * (n + B)


@dataclass(frozen=True)
class PiecewiseAffine:
    """A ``d_in = 1`` stack in sorted prefix-sum form (module docstring).

    ``xi_up (K_up,)`` sorted kinks of the neurons with ``v_k > 0``; ``slope_up``,
    ``intercept_up (K_up + 1, d_out)`` row ``i`` = sums of ``w_k v_k``, ``w_k b_k`` over
    the ``i`` smallest of them. ``xi_down (K_down,)`` sorted kinks of the neurons with
    ``v_k < 0``; ``slope_down``, ``intercept_down`` row ``i`` = sums over those from
    position ``i`` on. ``slope (d_out,)`` and ``intercept (d_out,)``: the affine part
    ``A`` and ``c + sum_{v_k = 0} w_k relu(b_k)``.
    """

    xi_up: np.ndarray
    slope_up: np.ndarray
    intercept_up: np.ndarray
    xi_down: np.ndarray
    slope_down: np.ndarray
    intercept_down: np.ndarray
    slope: np.ndarray
    intercept: np.ndarray

    def __call__(self, x) -> np.ndarray:
        """``h(x)`` for ``x (B,)`` as ``(B, d_out)``."""
        return self._evaluate(as_array(x, "x", ndim=1))

    def _evaluate(self, x: np.ndarray) -> np.ndarray:
        # binary searches with sorted needles walk the kinks in order (cache-friendly)
        order = np.argsort(x)
        up, down = np.empty(len(x), dtype=np.intp), np.empty(len(x), dtype=np.intp)
        up[order] = np.searchsorted(self.xi_up, x[order], side="left")        # kinks xi < x
        down[order] = np.searchsorted(self.xi_down, x[order], side="right")   # first xi > x
        slope = self.slope_up[up] + self.slope_down[down] + self.slope
        intercept = self.intercept_up[up] + self.intercept_down[down] + self.intercept
        return slope * x[:, None] + intercept


def sorted_form(v, b, W, c, A) -> PiecewiseAffine:
    """The :class:`PiecewiseAffine` form of the 1D stack ``(v (n,), b, W, c, A)``, in ``O(n log n)``."""
    up, down, flat = v > 0, v < 0, v == 0
    xi_up, slope_up, intercept_up = _prefix_sums(v[up], b[up], W[:, up], from_right=False)
    xi_down, slope_down, intercept_down = _prefix_sums(v[down], b[down], W[:, down], from_right=True)
    slope = np.zeros(W.shape[0]) if A is None else A[:, 0].copy()
    intercept = c + W[:, flat] @ np.maximum(b[flat], 0.0)
    return PiecewiseAffine(xi_up, slope_up, intercept_up, xi_down, slope_down, intercept_down, slope, intercept)


def _prefix_sums(v, b, W, *, from_right: bool):
    """Sorted kinks ``xi = -b/v`` and compensated sums of ``w_k v_k`` and ``w_k b_k``: row
    ``i`` sums the kinks before position ``i`` (or, ``from_right``, from position ``i`` on)."""
    with np.errstate(over="ignore"):  # |b / v| > max float: the kink is at +-inf, correctly ordered
        xi = -b / v
    order = np.argsort(xi, kind="stable")
    summed = order[::-1] if from_right else order
    terms = np.concatenate([W[:, summed] * v[summed], W[:, summed] * b[summed]]).T
    sums = np.empty((terms.shape[0] + 1, terms.shape[1]))
    kernels.compensated_cumsum(np.ascontiguousarray(terms), sums)
    if from_right:
        sums = sums[::-1]
    d_out = W.shape[0]
    return xi[order], np.ascontiguousarray(sums[:, :d_out]), np.ascontiguousarray(sums[:, d_out:])
