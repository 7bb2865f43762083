"""HTW footnote 7: one atom of eq. (7) costs ``||m|| / g(r) = ||w|| sqrt(||v||^2 + b^2)``,
checked against the parameter cost and against the integral of the smoothed ``||h''||``
weighted by ``1/g``, on random single neurons (``htw.footnote7``) and on a grid
(the sweep ``htw.footnote7.grid``)."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from pcheck import strategies as pst
from pcheck.core.costs import g, parameter_cost
from pcheck.core.measure import smoothed_second_derivative
from pcheck.core.network import Stack
from pcheck.core.quadrature import piecewise_gauss_legendre
from pcheck.ledger import Context, claim, property_check
from pcheck.papers.htw.sources import SOURCES
from pcheck.sweep import sweep
from pcheck.testing import RTOL_REORDER, assert_rel_close


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


@claim("htw.footnote7", note="htw-footnote7.md", variants=("7",),
       statement="int ||(w relu(<v, s r> + b))''||_2 / g(r) dr = ||v|| ||w|| / g(-b/||v||) "
                 "= ||w|| sqrt(||v||^2 + b^2), g(r) = 1/sqrt(1+r^2).",
       **SOURCES["htw.footnote7"])
def check_footnote7(ctx):
    return property_check(ctx, single_neurons(), footnote7_identity, measure="relative error")


def unit(d: int, sign: float = 1.0) -> np.ndarray:
    """A fixed unit vector of length ``d`` with entries of mixed sign (no special direction)."""
    u = sign * np.array([(-1.0) ** k * (k + 1) for k in range(d)])
    return u / np.linalg.norm(u)


def footnote7_grid(ctx: Context) -> list[dict]:
    """Single neurons ``(v, b, w)`` on a grid of ``||v||``, ``b``, ``||w||``, ``d_in``, ``d_out``,
    including offsets ``-b/||v||`` far in the tails of ``g``."""
    v_norms = ctx.pick(dev=(0.1, 4.0), ci=(0.1, 1.0, 4.0), thorough=(0.1, 0.5, 1.0, 4.0), nojit=(1.0,))
    biases = ctx.pick(dev=(-4.0, 0.0, 1.0), ci=(-4.0, -1.0, 0.0, 1.0, 4.0), thorough=(-4.0, -1.0, -0.1, 0.0, 0.1, 1.0, 4.0),
                      nojit=(-1.0, 2.0))
    w_norms = ctx.pick(dev=(2.0,), ci=(0.5, 2.0), nojit=(2.0,))
    dims = ctx.pick(dev=((1, 1), (3, 2)), ci=((1, 1), (1, 3), (3, 1), (3, 2)), nojit=((1, 1),))
    return [{"d_in": d_in, "d_out": d_out, "v_norm": vn, "b": b, "w_norm": wn}
            for (d_in, d_out), vn, b, wn in itertools.product(dims, v_norms, biases, w_norms)]


@sweep("htw.footnote7.grid", source="Heiss, Teichmann & Wutte, arXiv 2112.15577, footnote 7", note="htw-footnote7.md",
       statement="Footnote 7 on a grid of single neurons: R_7 and the integral of the smoothed ||h''|| against 1/g "
                 "both equal ||v|| ||w|| / g(-b/||v||).",
       measure="relative error", grid=footnote7_grid, variants=("7",))
def footnote7_instance(instance: dict) -> float:
    """The footnote-7 identity (see :func:`pcheck.papers.htw.rescaling.footnote7_identity`) at one grid point."""

    v = instance["v_norm"] * unit(instance["d_in"])
    w = instance["w_norm"] * unit(instance["d_out"], -1.0)
    return footnote7_identity(Stack(v[None, :], [instance["b"]], w[:, None], np.zeros(instance["d_out"])))


#: Bandwidth of the smoothed h'' in the footnote-7 check. For R ~ N(r0, eps^2) and
#: f(r) = sqrt(1 + r^2), E f(R) = f(r0) + (eps^2/2) f''(r0) + (eps^4/8) f''''(r0) + O(eps^6).
#: Richardson's (4 I(eps) - I(2 eps)) / 3 cancels the eps^2 term and leaves
#: (eps^4/2) |f''''| <= 1.5 eps^4 = 1.5e-12 (|f''''| <= 3).
FOOTNOTE7_EPS = 1e-3


#: the Richardson remainder (1.5e-12) plus rounding, amplified by (4 + 1) / 3: 1e-11 leaves
#: a factor > 5 over the remainder.
FOOTNOTE7_RTOL = 1e-11
