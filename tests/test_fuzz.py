"""Fuzz suite over the public API with adversarial arrays: magnitudes from 1e-300 to 1e300,
subnormals, zeros, near-coincident kinks, duplicated points and ``d_out = 0``.

The contract every call must keep: it returns finite numbers, a result whose ``certified``
flag is backed by an independent check (a certified value is never wrong), or it raises
``ValueError``/``TypeError`` whose message names the offending argument. Never NaN, never an
inf passed off as a value, never a solver traceback. The checks of "never wrong" use bounds
that need no solver: a lower bound of eq. (4) is at most the objective of the zero network
(``||Y||^2``, ``f = 0``) and at most eq. (4) of the returned network; a penalty's lower bound is
at most the parameter cost of the input stack (``P_j`` is the minimum over representations);
a representation computes the input function (values and slopes at probe points).

Budget: the active pcheck profile's example count (the plugin's ``dev`` profile: 20); the
exchange runs at most ``FUZZ_ITER`` rounds, so an instance it cannot certify within them must
come back flagged, which is part of what is tested.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pcheck
from pcheck import Stack
from pcheck.core.objective import training_objective
from pcheck.core.scaled import norm
from pcheck.problems.hyperplanes import REPRESENTATION_RTOL, representation_error
from pcheck.problems.random_features import ridge_objective
from pcheck.testing import RTOL_REORDER

#: Exchange rounds per fuzzed fit. Reason: keeps one example under ~0.1 s; a fit that would
#: need more rounds must come back flagged ("gap not reached"), which the contract covers.
FUZZ_ITER = 8

#: The magnitudes the suite draws from: subnormals, the float64 extremes it keeps away from
#: overflow in one product (1e300 * 1e300 would be a different test), round numbers.
MAGNITUDES = [0.0, 5e-324, 1e-310, 1e-300, 1e-200, 1e-160, 1e-12, 1.0, 1e12, 1e160, 1e200, 1e300]


@st.composite
def adversarial(draw, shape):
    """An array of ``shape``: entries from ``MAGNITUDES`` (random sign) or ordinary floats
    times a random power of ten, with repeated entries drawn on purpose."""
    size = int(np.prod(shape))
    pool = st.one_of(
        st.sampled_from(MAGNITUDES).flatmap(lambda m: st.sampled_from([m, -m])),
        st.tuples(st.floats(-4, 4), st.integers(-300, 300)).map(lambda p: p[0] * 10.0 ** p[1]),
        st.floats(-4, 4))
    values = draw(st.lists(pool, min_size=size, max_size=size))
    arr = np.array(values, dtype=float).reshape(shape)
    if size > 1 and draw(st.booleans()):
        flat = arr.reshape(-1)
        flat[draw(st.integers(0, size - 1))] = flat[0]  # a duplicate
    return arr


def names_an_argument(exc: Exception, names) -> bool:
    return any(name in str(exc) for name in names)


def finite(*values) -> bool:
    return all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in values)


@st.composite
def data_1d(draw):
    N, d = draw(st.integers(0, 4)), draw(st.integers(0, 2))
    X = draw(adversarial((N, 1)))
    if N > 1 and draw(st.booleans()):  # near-coincident points
        X[1, 0] = np.nextafter(X[0, 0], np.inf)
    return X, draw(adversarial((N, d)))


@given(data=data_1d(), lam=st.sampled_from([1e-300, 1e-12, 0.3, 1e12, 1e300]), variant=st.sampled_from(["7", "8"]))
def test_fit_function_space(pcheck_profile, data, lam, variant):
    X, Y = data
    try:
        fit = pcheck.fit_function_space(X, Y, lam, variant, max_iter=FUZZ_ITER, warn=False)
    except (ValueError, TypeError) as exc:
        assert names_an_argument(exc, ("X", "Y", "lam")), str(exc)
        return
    assert finite(fit.objective, fit.lower_bound, fit.gap)
    assert fit.certified == (fit.status == "optimal") and (not fit.certified or fit.gap <= fit.tolerance)
    # a lower bound may not exceed any network's eq. (4): the zero network and the returned one
    assert fit.lower_bound <= norm(Y) ** 2 * (1 + RTOL_REORDER) + np.finfo(float).tiny
    here = training_objective(fit.stack, X, Y, lam, variant)
    if np.isfinite(here) and here > 1e-250:  # eq. (4) itself representable
        assert fit.lower_bound <= here * (1 + 1e-9), (X.tolist(), Y.tolist(), lam, variant)
        if fit.certified:
            assert abs(here - fit.objective) <= 1e-9 * here, (X.tolist(), Y.tolist(), lam, variant)


@st.composite
def stacks(draw):
    n, d_in, d_out = draw(st.integers(0, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    V, b, W, c = (draw(adversarial(shape)) for shape in ((n, d_in), (n,), (d_out, n), (d_out,)))
    if n > 1 and draw(st.booleans()):  # a near-coincident kink: the next float of b_0
        V[1], b[1] = V[0], np.nextafter(b[0], np.inf)
    return Stack(V, b, W, c)


@given(stack=stacks(), variant=st.sampled_from(["7", "8"]))
def test_penalty(pcheck_profile, stack, variant):
    try:
        p = pcheck.penalty(stack, variant, warn=False)
    except (ValueError, TypeError) as exc:
        assert names_an_argument(exc, ("stack", "variant")), str(exc)
        return
    assert finite(p.value, p.lower, p.upper)
    assert p.lower <= p.upper * (1 + 1e-9) + np.finfo(float).tiny
    cost = pcheck.parameter_cost(stack, variant)
    if np.isfinite(cost):
        assert p.lower <= cost * (1 + 1e-9) + np.finfo(float).tiny  # P_j <= R_j of any representation
    if p.certified:
        assert representation_error(stack, p.representation) <= REPRESENTATION_RTOL


@given(stack=stacks(), X=st.integers(0, 4).flatmap(lambda N: adversarial((N, 2))))
def test_forward_pass_and_kinks(pcheck_profile, stack, X):
    X = X[:, :stack.d_in]
    try:
        out = stack(X)
    except ValueError as exc:
        assert names_an_argument(exc, ("X",)), str(exc)
    else:
        assert finite(out) and out.shape == (X.shape[0], stack.d_out)
    if stack.d_in == 1:
        try:
            k = pcheck.kinks(stack)
        except ValueError as exc:
            assert names_an_argument(exc, ("kinks", "stack")), str(exc)
        else:
            assert finite(k.x, k.jump) and np.all(np.any(k.jump != 0, axis=1))


@given(stack=stacks(), alpha=st.sampled_from([1e-320, 1e-300, 1e-12, 1.0, 1e12, 1e300]))
def test_rescale_keeps_the_function_or_names_alpha(pcheck_profile, stack, alpha):
    try:
        pcheck.rescale(stack, alpha)
    except ValueError as exc:
        assert "alpha" in str(exc)
    assert all(finite(a) for a in (pcheck.balance(stack).V, pcheck.balance(stack).W))


@given(N=st.integers(0, 5), d=st.integers(0, 2), data=st.data(),
       lam=st.sampled_from([0.0, 1e-300, 1e-100, 1e-12, 1.0, 1e300]))
def test_random_features(pcheck_profile, N, d, data, lam):
    X, Y = data.draw(adversarial((N, 1))), data.draw(adversarial((N, d)))
    V, b = data.draw(adversarial((3, 1))), data.draw(adversarial((3,)))
    try:
        s = pcheck.fit_random_features(X, Y, lam, V, b)
    except (ValueError, TypeError) as exc:
        assert names_an_argument(exc, ("X", "Y", "lam", "V", "b")), str(exc)
        return
    assert finite(s.W, s.c)
    fitted = ridge_objective(s, X, Y, lam).sum()
    zero = ridge_objective(s.replace(W=np.zeros_like(s.W), c=np.zeros_like(s.c)), X, Y, lam).sum()
    if np.isfinite(zero):
        assert fitted <= zero * (1 + 1e-9) + np.finfo(float).tiny


@given(data=st.data(), depth=st.integers(0, 2))
def test_nngp_kernel(pcheck_profile, data, depth):
    X1, X2 = data.draw(adversarial((2, 1))), data.draw(adversarial((3, 1)))
    try:
        K = pcheck.nngp_kernel(X1, X2, depth)
    except ValueError as exc:
        assert names_an_argument(exc, ("X1", "X2")), str(exc)
    else:
        assert finite(K) and (depth == 0 or np.all(K > 0))  # depth >= 1: K >= sigma_b2 > 0


@pytest.mark.parametrize("call", [
    lambda X, Y: pcheck.fit_function_space(X, Y, 0.3),
    lambda X, Y: pcheck.width_sufficiency(X, Y, 0.3),
    lambda X, Y: pcheck.fit_gp(X, Y, 0.1, 1),
    lambda X, Y: pcheck.fit_random_features(X, Y, 0.1, np.ones((1, 1)), np.zeros(1)),
])
@given(N=st.integers(0, 3), d_out=st.integers(0, 1))
def test_empty_data_is_a_named_error(pcheck_profile, call, N, d_out):
    if N >= 1 and d_out >= 1:
        return
    with pytest.raises(ValueError, match="Y must have at least one output|N = 0"):
        call(np.arange(float(N))[:, None], np.zeros((N, d_out)))
