"""Rescaling symmetry of ReLU stacks and the balanced-norm identity (HTW section 2).

For ``alpha_k > 0``, ``(v_k, b_k, w_k) -> (alpha_k v_k, alpha_k b_k, w_k / alpha_k)``
leaves ``h`` unchanged because relu is positively homogeneous. Over all such
rescalings

.. math:: \\min_\\alpha \\|\\theta_\\alpha\\|^2
          = 2\\sum_k \\|w_k\\|\\,\\|(v_k, b_k)\\| + \\|c\\|^2 \\; (+\\|A\\|_F^2),

by AM-GM, ``alpha^2 a + b / alpha^2 >= 2 sqrt(ab)``, reached at
``alpha_k^2 = ||w_k|| / ||(v_k, b_k)||`` ("balanced": ``||w_k|| = ||(v_k, b_k)||``).
"""

from __future__ import annotations

import numpy as np

from pcheck.core.costs import atom_part
from pcheck.core.network import Stack
from pcheck.core.scaled import row_norms
from pcheck.core.validate import as_array
from pcheck.core.variant import as_variant


def l2_norm_sq(stack: Stack, variant="7") -> float:
    """``||theta||^2``, HTW eq. (4)'s weight decay: the sum of the squared parameters the
    variant prices: all of ``V, b, W, c`` (and ``A``) when biases are regularized (eq. 7,
    11, 12), ``V, W`` (and ``A``) when not (eq. 8, 9)."""
    variant = as_variant(variant)
    priced = (stack.V, stack.W) + ((stack.b, stack.c) if variant.biases_regularized else ())
    total = sum(float(np.sum(a * a)) for a in priced)
    if stack.A is not None:
        total += float(np.sum(stack.A * stack.A))
    return total


def rescale(stack: Stack, alpha) -> Stack:
    """The stack with neuron k rescaled by ``alpha_k > 0`` (scalar or ``(n,)``); same function."""
    alpha = np.asarray(alpha)
    if alpha.ndim == 0:
        alpha = np.full(stack.n, as_array(alpha.reshape(1), "alpha", ndim=1)[0])
    else:
        alpha = as_array(alpha, "alpha", ndim=1, shape=(stack.n,))
    if np.any(alpha <= 0):
        raise ValueError("alpha must be > 0 (the rescaling symmetry needs positive factors)")
    with np.errstate(over="ignore", under="ignore"):
        V, b, W = stack.V * alpha[:, None], stack.b * alpha, stack.W / alpha[None, :]
    tiny, eps = np.finfo(float).tiny, np.finfo(float).eps
    vb = row_norms(np.column_stack([stack.V, stack.b]))
    rows = {"V * alpha": vb[:, None], "b * alpha": vb, "W / alpha": row_norms(stack.W.T)[None, :]}
    for name, new, old, axis in (("V * alpha", V, stack.V, 0), ("b * alpha", b, stack.b, 0),
                                 ("W / alpha", W, stack.W, 1)):
        # overflow, or an entry that matters (above eps of its neuron's norm, and normal) pushed into
        # the subnormal range: its digits would be lost and the function would change
        lost = ~np.isfinite(new) | ((np.abs(new) < tiny) & (np.abs(old) >= tiny) & (np.abs(old) > eps * rows[name]))
        if np.any(lost):
            k = int(np.nonzero(lost)[axis][0])
            raise ValueError(f"alpha = {float(alpha[k])!r} takes {name} of neuron {k} out of the normal float64 range "
                             "(overflow, or underflow that would change the function); choose a milder alpha")
    return stack.replace(V=V, b=b, W=W)


def balancing_factors(stack: Stack) -> np.ndarray:
    """``alpha_k = sqrt(||w_k|| / ||(v_k, b_k)||)``, or 1 for a neuron with a zero side
    (its cost ``||w_k|| ||(v_k,b_k)||`` is 0 already and no positive alpha reaches it) and for a
    neuron whose balanced size ``sqrt(||w_k|| ||(v_k, b_k)||)`` is below the normal float64 range
    (balanced, its parameters would lose their digits) or whose factor itself is not a float64
    number: such neurons are left as they are."""
    w = row_norms(stack.W.T)
    vb = row_norms(np.column_stack([stack.V, stack.b]))
    alpha = np.ones(stack.n)
    live = (w > 0) & (vb > 0) & (np.sqrt(w) * np.sqrt(vb) >= np.finfo(float).tiny)
    with np.errstate(over="ignore"):
        alpha[live] = np.sqrt(w[live]) / np.sqrt(vb[live])  # no under/overflow of the ratio itself
    alpha[~np.isfinite(alpha) | (alpha == 0)] = 1.0  # a factor beyond the float64 range: left as it is
    return alpha


def balance(stack: Stack) -> Stack:
    """The rescaling of ``stack`` with ``||w_k|| = ||(v_k, b_k)||`` for every neuron whose
    two sides are non-zero; it minimizes ``||theta||^2`` among rescalings (module docstring).

    A neuron with ``w_k = 0`` or ``(v_k, b_k) = 0`` computes zero; its cost can only be
    approached, so it is set to zero entirely (the function is unchanged).
    """
    scaled = rescale(stack, balancing_factors(stack))
    w = row_norms(stack.W.T)
    vb = row_norms(np.column_stack([stack.V, stack.b]))
    dead = (w == 0) | (vb == 0)
    if not np.any(dead):
        return scaled
    V, b, W = scaled.V.copy(), scaled.b.copy(), scaled.W.copy()
    V[dead], b[dead], W[:, dead] = 0.0, 0.0, 0.0
    return stack.replace(V=V, b=b, W=W)


def balanced_norm_sq(stack: Stack, variant="7", metric=None) -> float:
    """The infimum of :func:`l2_norm_sq` over rescalings (module docstring):
    ``2 atom_part + ||c||^2 (+ ||A||_F^2)`` with ``atom_part = sum_k ||w_k|| ||(v_k, b_k)||``
    when biases are regularized, ``2 sum_k ||w_k|| ||v_k|| (+ ||A||_F^2)`` when not (there a
    ``v_k = 0`` neuron's cost 0 is approached, not reached). ``metric``: ``(v_k, b_k)`` measured
    in the internal units of :mod:`pcheck.core.units` (:func:`pcheck.core.costs.atom_part`)."""
    variant = as_variant(variant)
    total = 2.0 * atom_part(stack, variant, metric)
    if variant.biases_regularized:
        total += float(np.sum(stack.c**2))
    if stack.A is not None:
        total += float(np.sum(stack.A**2))
    return total
