"""Parameter costs: the value of a P_j functional at one given representation.

For a stack whose neurons all have ``v_k != 0`` these are upper bounds of the exact
``P_j`` of the function (``pcheck.problems.penalty`` computes the minimum over representations):

* ``"7"`` (HTW eq. 7, biases regularized; footnote 7 prices one atom at
  ``||m_k|| / g(r_k) = ||w_k|| sqrt(||v_k||^2 + b_k^2)``, ``g(r) = 1/sqrt(1 + r^2)``):

  .. math:: R_7(\\theta) = \\sum_k \\|w_k\\|\\,\\|(v_k, b_k)\\| + \\|c\\|^2

* ``"8"`` and ``"9"`` (HTW eq. 8, 9, biases not regularized): ``R_8 = sum_k ||w_k|| ||v_k||``
* ``"11"`` (eq. 11, skip connection with Frobenius cost): ``R_7 + ||A||_F^2``
* ``"12"`` (eq. 12, skip connection with Schatten-1 cost): ``R_7 + ||A||_{S_1}``

A neuron with ``v_k = 0`` costs ``||w_k|| |b_k|`` in ``R_7`` (its constant output
``w_k relu(b_k)`` is paid through the bias) and nothing in ``R_8``.
"""

from __future__ import annotations

import numpy as np

from pcheck.core.network import Network, Stack
from pcheck.core.scaled import row_norms
from pcheck.core.variant import Variant, as_variant


def g(r):
    """HTW's weighting function ``g(r) = 1 / sqrt(1 + r^2)`` (below eq. 7)."""
    return 1.0 / np.sqrt(1.0 + np.asarray(r, dtype=float) ** 2)


def atom_cost(r, variant: Variant) -> np.ndarray:
    """Cost per unit mass of the ramp ``relu(<s, x> - r)``, ``||s|| = 1`` (kink form):
    ``1/g(r) = sqrt(1 + r^2)`` when biases are regularized (HTW footnote 7, eq. 7), ``1``
    when not (eq. 8)."""
    variant = as_variant(variant)
    r = np.asarray(r, dtype=float)
    return np.hypot(1.0, r) if variant.biases_regularized else np.ones_like(r)


def angle_atom_cost(phi, variant: Variant) -> np.ndarray:
    """The same cost in angle form: the neuron ``mu relu(cos(phi) x + sin(phi))`` (``d_in = 1``)
    costs ``||mu||`` times this, ``1`` when biases are regularized (``||(v, b)|| = tau``) and
    ``|cos phi|`` when not (``|v| = tau |cos phi|``). With ``m = |cos phi| mu`` and
    ``r = -tan phi`` it equals ``|cos phi| atom_cost(r)``; unlike that product it is finite at
    the constant neuron ``phi = pi/2``."""
    variant = as_variant(variant)
    phi = np.asarray(phi, dtype=float)
    if variant.biases_regularized:
        return np.ones_like(phi)
    return np.abs(np.where(phi == np.pi / 2, 0.0, np.cos(phi)))


def atom_part(stack: Stack, variant: Variant, metric=None) -> float:
    """``sum_k ||w_k|| ||(v_k, b_k)||`` when biases are regularized, ``sum_k ||w_k|| ||v_k||``
    when not: the neurons' share of :func:`parameter_cost` (HTW footnote 7: one atom of eq. 7
    costs ``||m_k|| / g(r_k) = ||w_k|| ||(v_k, b_k)||``). Norms are computed without overflow or
    underflow (:func:`pcheck.core.scaled.row_norms`). ``metric (d_in + 1, d_in + 1)``: the same in
    the internal units of :mod:`pcheck.core.units`, ``||M (v_k, b_k)||`` (eq. 8: its ``v`` part)."""
    variant = as_variant(variant)
    U = np.column_stack([stack.V, stack.b])
    if metric is not None:
        U = U @ np.asarray(metric, dtype=float).T
    return float(np.sum(row_norms(stack.W.T) * row_norms(U if variant.biases_regularized else U[:, :stack.d_in])))


def parameter_cost(stack: Stack, variant="7") -> float:
    """The cost of ``stack``'s parameters under HTW's ``variant`` (module docstring).

    Variants "11" and "12" need a stack with a skip connection (``stack.A`` not None);
    variants "7", "8", "9" need one without.
    """
    if not isinstance(stack, Stack):
        raise TypeError(f"stack must be a Stack, got {type(stack).__name__}")
    variant = as_variant(variant)
    skip = variant.skip is not None
    if skip and stack.A is None:
        raise ValueError(f"variant {variant} prices a skip connection: stack.A must not be None")
    if not skip and stack.A is not None:
        raise ValueError(f"variant {variant} has no skip connection: use variant '11' or '12' for a stack with A")
    if not variant.biases_regularized:
        return atom_part(stack, variant)
    cost = atom_part(stack, variant) + float(np.sum(stack.c**2))
    if variant.skip == "frobenius":
        cost += float(np.sum(stack.A**2))
    elif variant.skip == "schatten1":
        cost += float(np.sum(np.linalg.svd(stack.A, compute_uv=False)))
    return cost


def network_cost(network: Network, variant="7", skip_variant="12") -> float:
    """``sum_j R_j(theta_j)`` at the network's own decomposition: an upper bound of HTW's
    deep ``P`` (eq. 6), the infimum over all decompositions. Stacks without a skip
    connection are priced with ``variant``, stacks with one with ``skip_variant``."""
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, got {type(network).__name__}")
    variant = as_variant(variant, allowed=("7", "8", "9"))
    skip_variant = as_variant(skip_variant, allowed=("11", "12"), name="skip_variant")
    return sum(parameter_cost(s, variant if s.A is None else skip_variant) for s in network.stacks)
