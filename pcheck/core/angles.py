"""One-dimensional atoms in angle form (the parametrization of the 1D solvers).

A neuron is ``w relu(v x + b)``; write ``(v, b) = tau (cos phi, sin phi)`` and ``mu = tau w``:
the neuron is ``mu relu(cos(phi) x + sin(phi))``, a kink at ``p = -tan phi`` with direction
``s = sign(cos phi)`` and mass ``m = |cos phi| mu``; ``phi = pi/2`` is the constant neuron
(``v = 0``). Its cost at the best rescaling is ``2 ||mu||`` times
:func:`pcheck.core.costs.angle_atom_cost`.
"""

from __future__ import annotations

import numpy as np

from pcheck.core.costs import angle_atom_cost
from pcheck.core.network import Stack


def kink_angle(s, p):
    """``phi`` of the kink ``(s, p)``: ``-atan p`` for ``s = +1``, ``pi - atan p`` for ``s = -1``
    (``p = -inf`` resp. ``+inf`` give the constant neuron ``phi = pi/2``); in ``[-pi/2, 3pi/2)``."""
    return np.where(np.asarray(s) > 0, -np.arctan(p), np.pi - np.arctan(p))


def unit(phi):
    """``(cos phi, sin phi)``, with ``cos`` exactly 0 at ``phi = pi/2`` (the ``v = 0`` neuron,
    where float ``cos(pi/2)`` would leave a 6e-17 input weight)."""
    phi = np.asarray(phi, dtype=float)
    return np.where(phi == np.pi / 2, 0.0, np.cos(phi)), np.sin(phi)


def ramps(x: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """``Psi[i, k] = relu(cos(phi_k) x_i + sin(phi_k))``, shape ``(N, K)``."""
    cos, sin = unit(phi)
    return np.maximum(cos[None, :] * x[:, None] + sin[None, :], 0.0)


def atoms_stack(phi, mu, c, variant: str, kappa=None) -> Stack:
    """A balanced stack realizing ``sum_k mu_k relu(cos(phi_k) x + sin(phi_k)) + c``:
    ``(v, b) = tau (cos phi, sin phi)``, ``w = mu / tau`` with ``tau^2 = ||mu||`` ("7":
    ``||w|| = ||(v, b)||``) or ``tau^2 = ||mu|| / |cos phi|`` ("8": ``||w|| = |v|``); with the
    per-angle costs ``kappa`` of :meth:`pcheck.core.units.Units.kappa`, ``tau^2 = ||mu|| / kappa``."""
    nm = np.linalg.norm(mu, axis=1)
    keep = nm > 0
    phi, mu, nm = phi[keep], mu[keep], nm[keep]
    tau = np.sqrt(nm / (angle_atom_cost(phi, variant) if kappa is None else kappa(phi)[0]))
    cos, sin = unit(phi)
    return Stack((tau * cos)[:, None], tau * sin, (mu / tau[:, None]).T.reshape(c.shape[0], -1), c)
