"""HTW section 2 and footnote 7: rescaling symmetry, the balanced-norm identity and the
single-atom cost of eq. (7)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from pcheck import strategies as pst
from pcheck.core.costs import g, parameter_cost
from pcheck.ledger import claim, property_check
from pcheck.core.measure import atoms, smoothed_second_derivative
from pcheck.core.network import Stack
from pcheck.core.quadrature import piecewise_gauss_legendre
from pcheck.core.rescaling import balance, balanced_norm_sq, l2_norm_sq, rescale
from pcheck.testing import RTOL_REORDER, assert_close_scaled, assert_rel_close

HTW = "Heiss, Teichmann & Wutte, arXiv 2112.15577"


@st.composite
def stack_and_alpha(draw, **stack_options):
    """A stack and positive per-neuron factors in ``[1e-3, 1e3]``."""
    s = draw(pst.stacks(**stack_options))
    alpha = np.array(draw(st.lists(st.floats(1e-3, 1e3), min_size=s.n, max_size=s.n)), dtype=float)
    return s, alpha


def output_scale(s: Stack, X: np.ndarray) -> np.ndarray:
    """Condition scale of ``h(X)``: ``sum_k |w_k| (|b_k| + |v_k|.|x|) + |c| (+ |A|.|x|)``, per entry."""
    scale = (np.abs(X) @ np.abs(s.V.T) + np.abs(s.b)) @ np.abs(s.W.T) + np.abs(s.c)
    if s.A is not None:
        scale = scale + np.abs(X) @ np.abs(s.A.T)
    return scale


def outputs_invariant(example) -> float:
    s, alpha = example
    X = np.linspace(-3, 3, 7 * s.d_in).reshape(7, s.d_in)
    # rescaling changes each product w_k relu(.) by two roundings: twice the reorder bound
    return assert_close_scaled(rescale(s, alpha)(X), s(X), output_scale(s, X), rtol=2 * RTOL_REORDER,
                               what="h after rescaling")


@claim("htw.rescaling.outputs", source=f"{HTW}, section 2", note="htw-rescaling.md",
       statement="For alpha_k > 0, (v_k, b_k, w_k) -> (alpha_k v_k, alpha_k b_k, w_k/alpha_k) leaves h unchanged.")
def check_outputs(ctx):
    return property_check(ctx, stack_and_alpha(skip=None), outputs_invariant, measure="error / condition scale",
                          claim_id="htw.rescaling.outputs")


def atoms_and_costs_invariant(example) -> float:
    s, alpha = example
    a, b = atoms(s), atoms(rescale(s, alpha))
    if a.r.shape != b.r.shape:
        raise AssertionError(f"rescaling changed the number of atoms: {a.r.shape[0]} vs {b.r.shape[0]}")
    worst = assert_close_scaled(b.m, a.m, np.abs(a.m) + np.abs(b.m), rtol=4 * RTOL_REORDER, what="atom masses")
    assert_close_scaled(b.r, a.r, np.maximum(1.0, np.abs(a.r)), rtol=4 * RTOL_REORDER, what="atom offsets")
    for variant in ("7", "8"):
        if s.A is None:
            worst = max(worst, assert_rel_close(parameter_cost(rescale(s, alpha), variant), parameter_cost(s, variant),
                                                rtol=4 * RTOL_REORDER, what=f"parameter cost {variant}"))
    return worst


@claim("htw.rescaling.atoms", source=f"{HTW}, section 2 and eq. (7), (8)", note="htw-rescaling.md",
       statement="Rescaling leaves the Radon-domain atoms (s_k, r_k, m_k) and the parameter costs R_7, R_8 unchanged.",
       variants=("7", "8"))
def check_atoms(ctx):
    options = dict(edges={"zero_mass", "dead_neuron"}, skip=False)
    return property_check(ctx, stack_and_alpha(**options), atoms_and_costs_invariant,
                          measure="relative error", claim_id="htw.rescaling.atoms")


def balanced_identity(example) -> float:
    s, alpha = example
    best = balanced_norm_sq(s)
    err = assert_rel_close(l2_norm_sq(balance(s)), best, rtol=4 * RTOL_REORDER, what="||balance(theta)||^2")
    other = l2_norm_sq(rescale(s, alpha))
    if other < best * (1 - 4 * RTOL_REORDER):
        raise AssertionError(f"a rescaling beats the balanced norm: {other!r} < {best!r}")
    return err


@claim("htw.rescaling.balanced", source=f"{HTW}, section 2 (rescaling argument behind eq. 7)",
       note="htw-rescaling.md",
       statement="min over rescalings of ||theta||^2 = 2 sum_k ||w_k|| ||(v_k,b_k)|| + ||c||^2, reached when "
                 "||w_k|| = ||(v_k,b_k)||.")
def check_balanced(ctx):
    return property_check(ctx, stack_and_alpha(skip=None), balanced_identity, measure="relative error",
                          claim_id="htw.rescaling.balanced")


#: Bandwidth of the smoothed h'' in the footnote-7 check. For R ~ N(r0, eps^2) and
#: f(r) = sqrt(1 + r^2), E f(R) = f(r0) + (eps^2/2) f''(r0) + (eps^4/8) f''''(r0) + O(eps^6).
#: Richardson's (4 I(eps) - I(2 eps)) / 3 cancels the eps^2 term and leaves
#: (eps^4/2) |f''''| <= 1.5 eps^4 = 1.5e-12 (|f''''| <= 3).
FOOTNOTE7_EPS = 1e-3
#: the Richardson remainder (1.5e-12) plus rounding, amplified by (4 + 1) / 3: 1e-11 leaves
#: a factor > 5 over the remainder.
FOOTNOTE7_RTOL = 1e-11


def smoothed_atom_cost(s: Stack, eps: float) -> float:
    """``int ||phi''_eps(r)|| / g(r) dr`` for the neuron's profile along its own direction,
    ``phi(r) = w relu(||v|| r + b)``, with ``phi''`` smoothed by a Gaussian of width eps."""
    nv = float(np.linalg.norm(s.V[0]))
    profile = Stack([[nv]], s.b, s.W, np.zeros(s.d_out))
    r0 = -s.b[0] / nv

    def integrand(r):
        return np.linalg.norm(smoothed_second_derivative(profile, r, eps), axis=1) / g(r)

    # the Gaussian beyond 12 eps carries < 1e-32 of the mass; the integrand is analytic
    return piecewise_gauss_legendre(integrand, r0 - 12 * eps, r0 + 12 * eps, [r0])


def smoothed_atom_cost_extrapolated(s: Stack) -> float:
    """Richardson extrapolation ``(4 I(eps) - I(2 eps)) / 3`` of :func:`smoothed_atom_cost`."""
    return (4 * smoothed_atom_cost(s, FOOTNOTE7_EPS) - smoothed_atom_cost(s, 2 * FOOTNOTE7_EPS)) / 3


def footnote7_identity(example) -> float:
    s = example
    expected = np.linalg.norm(s.V[0]) * np.linalg.norm(s.W[:, 0]) / g(-s.b[0] / np.linalg.norm(s.V[0]))
    err = assert_rel_close(parameter_cost(s.replace(c=np.zeros(s.d_out)), "7"), expected, rtol=4 * RTOL_REORDER,
                           what="R_7 of one neuron vs ||v|| ||w|| / g(-b/||v||)")
    return max(err, assert_rel_close(smoothed_atom_cost_extrapolated(s), expected, rtol=FOOTNOTE7_RTOL,
                                     what="integral of the smoothed h'' against 1/g"))


@st.composite
def single_neurons(draw):
    """One neuron with ``v != 0`` and ``w != 0``, ``d_in, d_out`` in 1..3."""
    d_in, d_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    nonzero = st.floats(0.1, 4.0) | st.floats(-4.0, -0.1)
    V = np.array([draw(st.lists(nonzero, min_size=d_in, max_size=d_in))])
    W = np.array(draw(st.lists(nonzero, min_size=d_out, max_size=d_out)))[:, None]
    return Stack(V, [draw(pst.floats())], W, np.zeros(d_out))


@claim("htw.footnote7", source=f"{HTW}, footnote 7", note="htw-footnote7.md", variants=("7",),
       statement="int ||(w relu(<v, s r> + b))''||_2 / g(r) dr = ||v|| ||w|| / g(-b/||v||) "
                 "= ||w|| sqrt(||v||^2 + b^2), g(r) = 1/sqrt(1+r^2).")
def check_footnote7(ctx):
    return property_check(ctx, single_neurons(), footnote7_identity, measure="relative error",
                          claim_id="htw.footnote7")
