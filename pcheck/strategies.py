"""Hypothesis strategies for stacks, networks and data sets (public API).

Every strategy takes keyword-only options and covers edge cases on purpose: zero
masses (``w_k = 0``), neurons with ``v_k = 0``, coincident kinks (parallel neurons),
duplicate inputs and parameter scales from ``1e-6`` to ``1e6``. Hypothesis is imported
here only, so ``import pcheck`` does not need it.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from pcheck.core.network import Network, Stack

__all__ = ["floats", "scales", "stacks", "networks", "datasets", "ALL_EDGES"]

#: the edge cases ``stacks`` can inject; pass a subset as ``edges=`` to restrict them
ALL_EDGES = frozenset({"zero_mass", "dead_neuron", "coincident", "mirror"})


#: Magnitudes below this are drawn as 0. Reason: near the subnormal range (< 2.2e-308) float64
#: loses relative precision, so no relative tolerance can hold for products of such
#: parameters; ``1e-50`` keeps products of a few parameters and the ``scales`` far above it,
#: and the kinks ``-b/v`` far below the float64 range (``|b/v| <= 4e50``).
TINY = 1e-50


def floats(*, bound: float = 4.0) -> st.SearchStrategy:
    """Finite floats in ``[-bound, bound]`` (0 or at least ``TINY`` in magnitude), with round
    numbers (0, +-1, +-0.5) drawn often."""
    return st.one_of(st.sampled_from([0.0, 1.0, -1.0, 0.5, -0.5]),
                     st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
                     .map(lambda x: 0.0 if abs(x) < TINY else x))


def scales(*, min_exp: int = -6, max_exp: int = 6) -> st.SearchStrategy:
    """Powers of ten ``10**e`` with ``e`` in ``[min_exp, max_exp]`` (1 drawn first)."""
    return st.integers(min_exp, max_exp).map(lambda e: 10.0**e) if min_exp < max_exp else st.just(10.0**min_exp)


@st.composite
def stacks(draw, *, n=(0, 6), d_in=(1, 3), d_out=(1, 3), skip: bool | None = False,
           edges=ALL_EDGES, scale: bool = True) -> Stack:
    """Stacks with width in ``n``, input and output dimensions in ``d_in``, ``d_out``
    (each an int or an inclusive ``(lo, hi)`` range).

    ``skip``: ``False`` no skip connection, ``True`` always one, ``None`` either.
    ``edges``: which edge cases may be injected (``ALL_EDGES``): ``zero_mass`` sets some
    ``w_k = 0``, ``dead_neuron`` some ``v_k = 0``, ``coincident`` copies a neuron rescaled
    (same kink), ``mirror`` adds the mirrored neuron ``(-v_k, -b_k)`` (same hyperplane).
    ``scale``: multiply inputs-side and output-side parameters by independent powers of ten.
    """
    n, d_in, d_out = (draw(_int(x)) for x in (n, d_in, d_out))
    el = floats()
    V = np.array(draw(st.lists(st.lists(el, min_size=d_in, max_size=d_in), min_size=n, max_size=n)),
                 dtype=float).reshape(n, d_in)
    b = np.array(draw(st.lists(el, min_size=n, max_size=n)), dtype=float)
    W = np.array(draw(st.lists(st.lists(el, min_size=n, max_size=n), min_size=d_out, max_size=d_out)),
                 dtype=float).reshape(d_out, n)
    c = np.array(draw(st.lists(el, min_size=d_out, max_size=d_out)), dtype=float)
    if n and "zero_mass" in edges and draw(st.booleans()):
        W[:, draw(st.integers(0, n - 1))] = 0.0
    if n and "dead_neuron" in edges and draw(st.booleans()):
        V[draw(st.integers(0, n - 1))] = 0.0
    if n and "coincident" in edges and draw(st.booleans()):
        k = draw(st.integers(0, n - 1))
        alpha = draw(st.sampled_from([0.5, 2.0, 3.0]))
        V, b = np.vstack([V, alpha * V[k]]), np.append(b, alpha * b[k])
        W = np.hstack([W, np.array(draw(st.lists(el, min_size=d_out, max_size=d_out)))[:, None]])
    if V.shape[0] and "mirror" in edges and draw(st.booleans()):
        k = draw(st.integers(0, V.shape[0] - 1))
        V, b = np.vstack([V, -V[k]]), np.append(b, -b[k])
        W = np.hstack([W, np.array(draw(st.lists(el, min_size=d_out, max_size=d_out)))[:, None]])
    if scale:
        sin, sout = draw(scales()), draw(scales())
        V, b, W, c = V * sin, b * sin, W * sout, c * sout
    use_skip = draw(st.booleans()) if skip is None else skip
    A = np.array(draw(st.lists(el, min_size=d_in * d_out, max_size=d_in * d_out))).reshape(d_out, d_in) \
        if use_skip else None
    return Stack(V, b, W, c, A)


@st.composite
def networks(draw, *, depth=(1, 3), width=(0, 4), dims=(1, 3), activation=None, output="identity") -> Network:
    """Networks of ``depth`` stacks with hidden widths in ``width`` and bottleneck
    dimensions in ``dims``; ``activation`` None draws "relu" or "identity"."""
    S = draw(_int(depth))
    d = [draw(_int(dims)) for _ in range(S + 1)]
    stacks_ = [draw(stacks(n=width, d_in=d[j], d_out=d[j + 1], scale=False)) for j in range(S)]
    act = draw(st.sampled_from(["relu", "identity"])) if activation is None else activation
    return Network(stacks_, activation=act, output=output)


@st.composite
def datasets(draw, *, N=(1, 6), d_in=(1, 1), d_out=(1, 3), bound: float = 3.0, duplicates: bool = True,
             distinct: bool = False):
    """Training data ``(X (N, d_in), Y (N, d_out))``.

    ``duplicates``: may repeat an input with a different target. ``distinct``: forbid
    repeated inputs (overrides ``duplicates``); inputs are rounded to multiples of 1/8
    so shrinking gives simple numbers.
    """
    N, d_in, d_out = (draw(_int(x)) for x in (N, d_in, d_out))
    grid = st.integers(int(-8 * bound), int(8 * bound)).map(lambda i: i / 8.0)
    row = st.lists(grid, min_size=d_in, max_size=d_in).map(tuple)
    rows = draw(st.lists(row, min_size=N, max_size=N, unique=distinct))
    if duplicates and not distinct and N >= 2 and draw(st.booleans()):
        rows[-1] = rows[0]
    X = np.array(rows, dtype=float).reshape(N, d_in)
    Y = np.array(draw(st.lists(floats(bound=bound), min_size=N * d_out, max_size=N * d_out)),
                 dtype=float).reshape(N, d_out)
    return X, Y


def _int(spec) -> st.SearchStrategy:
    if isinstance(spec, (int, np.integer)):
        return st.just(int(spec))
    lo, hi = spec
    return st.integers(int(lo), int(hi))


@st.composite
def regression_1d(draw, *, d_out=(1, 3), N=(1, 5)):
    """1D data ``X (N, 1)`` sorted in ``[-2, 2]``, ``Y (N, d_out)`` standard normal (from a
    drawn seed, so every instance is reproducible), ``lam``, ``variant``, optional offset."""
    seed = draw(st.integers(0, 2**31 - 1))
    n, d = draw(st.integers(*N)), draw(st.integers(*d_out))
    rng = np.random.default_rng(seed)
    X = np.sort(rng.uniform(-2, 2, n))[:, None]
    Y = rng.standard_normal((n, d)) + draw(st.sampled_from([0.0, 0.0, 100.0]))
    return dict(seed=seed, X=X, Y=Y, lam=draw(st.sampled_from([1e-3, 0.1, 1.0])),
                variant=draw(st.sampled_from(["7", "8"])))
