"""HTW section 2 and footnote 7: rescaling symmetry, the balanced-norm identity and the
single-atom cost of eq. (7)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from pcheck import strategies as pst
from pcheck.core.costs import parameter_cost
from pcheck.core.measure import atoms
from pcheck.core.network import Stack
from pcheck.core.rescaling import balance, balanced_norm_sq, l2_norm_sq, rescale
from pcheck.ledger import claim, property_check
from pcheck.papers.htw.sources import SOURCES
from pcheck.testing import RTOL_REORDER, assert_close_scaled, assert_rel_close


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


@claim("htw.rescaling.outputs", note="htw-rescaling.md",
       statement="For alpha_k > 0, (v_k, b_k, w_k) -> (alpha_k v_k, alpha_k b_k, w_k/alpha_k) leaves h unchanged.",
       **SOURCES["htw.rescaling.outputs"])
def check_outputs(ctx):
    return property_check(ctx, stack_and_alpha(skip=None), outputs_invariant, measure="error / condition scale")


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


@claim("htw.rescaling.atoms", note="htw-rescaling.md",
       statement="Rescaling leaves the Radon-domain atoms (s_k, r_k, m_k) and the parameter costs R_7, R_8 unchanged.",
       variants=("7", "8"),
       **SOURCES["htw.rescaling.atoms"])
def check_atoms(ctx):
    options = dict(edges={"zero_mass", "dead_neuron"}, skip=False)
    return property_check(ctx, stack_and_alpha(**options), atoms_and_costs_invariant,
                          measure="relative error")


def balanced_identity(example) -> float:
    s, alpha = example
    best = balanced_norm_sq(s)
    err = assert_rel_close(l2_norm_sq(balance(s)), best, rtol=4 * RTOL_REORDER, what="||balance(theta)||^2")
    other = l2_norm_sq(rescale(s, alpha))
    if other < best * (1 - 4 * RTOL_REORDER):
        raise AssertionError(f"a rescaling beats the balanced norm: {other!r} < {best!r}")
    return err


@claim("htw.rescaling.balanced", note="htw-rescaling.md",
       statement="min over rescalings of ||theta||^2 = 2 sum_k ||w_k|| ||(v_k,b_k)|| + ||c||^2, reached when "
                 "||w_k|| = ||(v_k,b_k)||.",
       **SOURCES["htw.rescaling.balanced"])
def check_balanced(ctx):
    return property_check(ctx, stack_and_alpha(skip=None), balanced_identity, measure="relative error")












