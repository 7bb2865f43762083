"""HTW eq. (3) and (4): the data loss and the weight-decay objective.

.. math:: L(f) = \\sum_{i=1}^N \\|f(x_i) - y_i\\|_2^2, \\qquad
          \\min_\\theta L(NN_\\theta) + \\lambda \\|\\theta\\|_2^2

with ``||theta||^2`` over the parameters the variant prices (:func:`pcheck.core.rescaling.l2_norm_sq`).
``rescaled=True`` gives the objective at the best rescaling of each neuron (the infimum over
the rescaling symmetry, :func:`pcheck.core.rescaling.balanced_norm_sq`): the value every
solver of pcheck compares, since by HTW's rescaling argument
``min over all widths of (4) = min_f L(f) + lam (2 atom part + ||c||^2)``.
"""

from __future__ import annotations

import numpy as np

from pcheck.core.network import Network, Stack
from pcheck.core.rescaling import balanced_norm_sq, l2_norm_sq
from pcheck.core.variant import as_variant


def data_loss(F: np.ndarray, Y: np.ndarray, mask: np.ndarray | None = None) -> float:
    """HTW eq. (3): ``sum_i ||F_i - Y_i||^2``; entries where ``mask`` is False are unobserved and left out."""
    R = F - Y
    if mask is not None:
        R = np.where(mask, R, 0.0)
    return float(np.sum(R * R))


def training_objective(model, X, Y, lam: float, variant="7", *, rescaled: bool = False, mask=None,
                       metric=None) -> float:
    """HTW eq. (4) of ``model`` (a :class:`Stack` or a :class:`Network`, whose ``||theta||^2``
    sums over its stacks) on the data ``(X, Y)``; ``rescaled=True`` (stacks only) prices each
    neuron at its best rescaling (module docstring). ``metric`` (with ``rescaled=True``): eq. (4)
    written in the internal units of :mod:`pcheck.core.units`, where ``(v_k, b_k)`` is measured by
    ``||M (v_k, b_k)||``; it equals the given problem's eq. (4) divided by ``b^2``."""
    variant = as_variant(variant)
    if metric is not None and not rescaled:
        raise ValueError("metric applies to the rescaled (balanced) objective: pass rescaled=True")
    if isinstance(model, Network):
        if rescaled:
            raise ValueError("rescaled=True prices one stack's neurons; pass a Stack, not a Network")
        decay = sum(l2_norm_sq(s, variant) for s in model.stacks)
    elif isinstance(model, Stack):
        decay = balanced_norm_sq(model, variant, metric) if rescaled else l2_norm_sq(model, variant)
    else:
        raise TypeError(f"model must be a Stack or a Network, got {type(model).__name__}")
    return data_loss(model(X), Y, mask) + lam * decay
