"""Scale invariance by construction (pcheck.core.units, proofs_notes/htw-link-4-5.md "Units"):
the function-space solvers work in internal units ``x = a x' + t``, ``y = b y'`` and map the
objective and the certificate back exactly. Metamorphic properties over ``a, b`` in
``[1e-6, 1e6]``:

* eq. (8): ``OPT_8(a X + t, b Y; lam |a| |b|) = b^2 OPT_8(X, Y; lam)`` exactly (derivation in the
  note), so the two certified intervals, the second divided by ``b^2``, must overlap;
* eq. (7) has no such formula (its cost is neither translation- nor scale-invariant); what is
  exact is the metric form: the same given problem solved in two different internal units gives
  overlapping certified intervals, and the certificate of a scaled problem is never above the
  eq.-(4) value of any network of it (the base solution mapped over: ``g(x) = b f((x - t) / a)``).
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pcheck import Stack, fit_function_space
from pcheck.core.objective import training_objective
from pcheck.core.units import Units, exact_shift
from pcheck.problems import exchange_1d
from pcheck.testing import RTOL_CERTIFIED, RTOL_REORDER

#: Two certified intervals of one optimum overlap up to this relative slack. Reason: each bound
#: is certified to RTOL_CERTIFIED = 1e-9 and rounded once more when mapped by b^2 (exact for
#: powers of two, one rounding otherwise): 2e-9 covers both.
OVERLAP_RTOL = 2 * RTOL_CERTIFIED

#: Exchange rounds of the internal-units test. Reason: it compares two valid intervals, which
#: must overlap at any gap; 12 rounds keep an example under ~0.5 s in the identity units, which
#: stall at far scales (the issue's case) and would otherwise run all 50.
UNITS_ITER = 12


def log_uniform(lo_exp: float, hi_exp: float, *, signed: bool = True):
    """``+-10^e`` with ``e`` uniform in ``[lo_exp, hi_exp]``."""
    mag = st.floats(lo_exp, hi_exp).map(lambda e: 10.0**e)
    return st.tuples(mag, st.sampled_from([1.0, -1.0]) if signed else st.just(1.0)).map(lambda p: p[0] * p[1])


def data(seed, N, d):
    rng = np.random.default_rng(seed)
    return np.sort(rng.uniform(-2, 2, N))[:, None], rng.standard_normal((N, d))


def mapped(stack: Stack, a, t, b) -> Stack:
    """``g(x) = b f((x - t) / a)`` of a 1D stack ``f``: a network of the scaled problem."""
    V = stack.V / a
    return Stack(V, stack.b - V[:, 0] * t, stack.W * b, stack.c * b)


def overlap(lo1, hi1, lo2, hi2) -> bool:
    slack = OVERLAP_RTOL * max(abs(hi1), abs(hi2))
    return lo1 <= hi2 + slack and lo2 <= hi1 + slack


@given(seed=st.integers(0, 2**31 - 1), N=st.integers(1, 5), d=st.integers(1, 3), lam=st.sampled_from([1e-3, 0.1, 1.0]),
       a=log_uniform(-6, 6), b=log_uniform(-6, 6), shift=st.floats(-2, 2))
def test_eq8_scales_by_the_formula_and_stays_certified(pcheck_profile, seed, N, d, lam, a, b, shift):
    """``t = shift |a|``: forming ``a X + t`` in float64 rounds the data to ``ulp(t)``, which for
    ``|t| >> |a|`` is a different data set (at ``a = 1e-4, t = 8192`` the points move by 1e-8 of
    their spread and the optimum by 5e-9); far data themselves are covered by the next test."""
    X, Y = data(seed, N, d)
    t = shift * abs(a)
    base = fit_function_space(X, Y, lam, "8")
    scaled = fit_function_space(a * X + t, b * Y, lam * abs(a) * abs(b), "8")
    assert base.certified and scaled.certified, (base.gap, scaled.gap)
    assert overlap(b * b * base.lower_bound, b * b * base.objective, scaled.lower_bound, scaled.objective)


@given(seed=st.integers(0, 2**31 - 1), N=st.integers(1, 5), d=st.integers(1, 3), lam=st.sampled_from([1e-3, 0.1, 1.0]),
       a=log_uniform(-6, 6), b=log_uniform(-6, 6), shift=st.floats(-2, 2))
def test_eq7_certificates_hold_at_every_scale(pcheck_profile, seed, N, d, lam, a, b, shift):
    """Eq. (7) at ``a X + t, b Y`` with ``lam |a| |b|`` (``t = shift * a``: the data stay as far from
    the origin, in their own spread, as before): each certificate lies below the eq.-(4) value of
    the other problem's solution mapped over, and ``certified`` says exactly whether the gap
    closed. (Eq. (7) has no scaling formula, so these are different problems; the exchange
    certifies ~92 % of them, measured on 150 draws, and flags the rest with gaps 1e-9..7e-4, most
    at an effective ``lam |a| |b|`` below 1e-7, where the same problem in unit scale fails worse.)"""
    X, Y = data(seed, N, d)
    t = shift * abs(a)
    lam2 = lam * abs(a) * abs(b)
    base = fit_function_space(X, Y, lam, "7", warn=False)
    scaled = fit_function_space(a * X + t, b * Y, lam2, "7", warn=False)
    for fit in (base, scaled):
        assert fit.certified == (fit.gap <= fit.tolerance) == (fit.status == "optimal")
    there = training_objective(mapped(base.stack, a, t, b), a * X + t, b * Y, lam2, "7")
    back = training_objective(mapped(scaled.stack, 1 / a, -t / a, 1 / b), X, Y, lam, "7")
    assert scaled.lower_bound <= there * (1 + RTOL_REORDER)
    assert base.lower_bound <= back * (1 + RTOL_REORDER)


@pytest.mark.parametrize("variant", ["7", "8"])
@given(seed=st.integers(0, 2**31 - 1), N=st.integers(1, 5), d=st.integers(1, 3),
       lam=st.sampled_from([1e-3, 0.1, 1.0]), scale=log_uniform(-6, 6, signed=False),
       offset=st.floats(-1e6, 1e6), yscale=log_uniform(-6, 6, signed=False))
def test_internal_units_do_not_change_the_problem(pcheck_profile, variant, seed, N, d, lam, scale, offset, yscale):
    """The metric form is exact: one given problem solved in the identity units and in the units
    pcheck picks gives two valid intervals of the same optimum, so they overlap, whatever gaps
    they reach (at these scales with a fixed ``lam`` the effective regularization ``lam / (a b)``
    ranges over 1e-15..1e12 and the float64 floor, proofs_notes/htw-link-4-5.md, may leave a gap:
    certification at scale is the business of the two tests above)."""
    X, Y = data(seed, N, d)
    X, Y = scale * X + offset, yscale * Y
    units = Units.of(X, Y, variant, lam=lam)
    first, second = (exchange_1d.exchange(X, Y, lam, variant, exchange_1d.GAP_TOL, UNITS_ITER, None, np.inf, u)
                     for u in (Units.identity(1, variant), units))
    assert overlap(first.lower, first.objective, second.lower, second.objective)
    # eq. (4) of the returned network, evaluated in the given units, is the reported objective
    here = training_objective(second.stack, X, Y, lam, variant)
    assert abs(here - second.objective) <= max(second.gap, RTOL_CERTIFIED) * second.objective


@pytest.mark.parametrize("variant", ["7", "8"])
def test_exact_invariances_of_both_variants(variant):
    """Reflections ``x -> -x``, ``y -> -y`` and output rotations ``Y -> Y Q`` leave both penalties
    unchanged (``||(v, b)||``, ``|v|`` and ``||w||`` are invariant): the optima agree."""
    X, Y = data(3, 5, 2)
    Q = np.array([[0.6, -0.8], [0.8, 0.6]])
    ref = fit_function_space(X, Y, 0.1, variant)
    for X2, Y2 in ((-X, Y), (X, -Y), (X, Y @ Q)):
        other = fit_function_space(X2, Y2, 0.1, variant)
        assert overlap(ref.lower_bound, ref.objective, other.lower_bound, other.objective)


def test_units_are_exact_powers_of_two_and_sterbenz_shifts():
    X = np.array([[1e6], [1e6 + 3.0], [1e6 + 1.5]])
    Y = np.array([[3e-7], [-1e-9], [2.5e-7]])
    u = Units.of(X, Y, "8")
    assert u.t[0] == 1e6 and np.log2(u.a) == int(np.log2(u.a)) and np.log2(u.b) == int(np.log2(u.b))
    assert np.array_equal(u.x(X) * u.a + u.t, X) and np.array_equal(u.y(Y) * u.b, Y)
    assert exact_shift(np.array([-1.0, 1.0])) == 0.0 and exact_shift(np.array([1.0, 3.0])) == 0.0
    # an output that would be subnormal in the internal units keeps the identity there
    assert Units.of(np.array([[0.0], [1.0]]), np.array([[1e300], [5e-324]]), "7").b == 1.0
