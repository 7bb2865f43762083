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

VARIANTS = ("7", "8", "9", "11", "12")


def g(r):
    """HTW's weighting function ``g(r) = 1 / sqrt(1 + r^2)`` (below eq. 7)."""
    return 1.0 / np.sqrt(1.0 + np.asarray(r, dtype=float) ** 2)


def check_variant(variant, *, allowed=VARIANTS, name: str = "variant") -> str:
    """Normalize ``variant`` ("7", 7, ...) to a string in ``allowed``, or raise ``ValueError``
    naming the argument ``name``."""
    v = str(variant)
    if v not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {variant!r}")
    return v


def parameter_cost(stack: Stack, variant="7") -> float:
    """The cost of ``stack``'s parameters under HTW's ``variant`` (module docstring).

    Variants "11" and "12" need a stack with a skip connection (``stack.A`` not None);
    variants "7", "8", "9" need one without.
    """
    if not isinstance(stack, Stack):
        raise TypeError(f"stack must be a Stack, got {type(stack).__name__}")
    variant = check_variant(variant)
    skip = variant in ("11", "12")
    if skip and stack.A is None:
        raise ValueError(f"variant {variant} prices a skip connection: stack.A must not be None")
    if not skip and stack.A is not None:
        raise ValueError(f"variant {variant} has no skip connection: use variant '11' or '12' for a stack with A")
    w = np.linalg.norm(stack.W, axis=0)
    if variant in ("8", "9"):
        return float(np.sum(w * np.linalg.norm(stack.V, axis=1)))
    cost = float(np.sum(w * np.sqrt(np.sum(stack.V**2, axis=1) + stack.b**2))) + float(np.sum(stack.c**2))
    if variant == "11":
        cost += float(np.sum(stack.A**2))
    elif variant == "12":
        cost += float(np.sum(np.linalg.svd(stack.A, compute_uv=False)))
    return cost


def network_cost(network: Network, variant="7", skip_variant="12") -> float:
    """``sum_j R_j(theta_j)`` at the network's own decomposition: an upper bound of HTW's
    deep ``P`` (eq. 6), the infimum over all decompositions. Stacks without a skip
    connection are priced with ``variant``, stacks with one with ``skip_variant``."""
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, got {type(network).__name__}")
    variant = check_variant(variant, allowed=("7", "8", "9"))
    skip_variant = check_variant(skip_variant, allowed=("11", "12"), name="skip_variant")
    return sum(parameter_cost(s, variant if s.A is None else skip_variant) for s in network.stacks)
