"""The numba kernels against plain numpy / exact references (pcheck/kernels.py)."""

import math
import os
import platform
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from pcheck import strategies as pst
from pcheck.core import kernels
from pcheck.papers.htw.rescaling import output_scale
from pcheck.testing import assert_close_scaled

JIT = os.environ.get("NUMBA_DISABLE_JIT", "0") in ("", "0")
EPS = np.finfo(float).eps


def dense_forward(s, X, kernel=kernels.stack_forward_T):
    """The kernel's result for ``X (B, d_in)`` as ``(B, d_out)``, without ``c`` and ``A``."""
    outT = np.zeros((s.d_out, X.shape[0]))
    kernel(s.V, s.b, s.W, np.ascontiguousarray(X.T), outT)
    return outT.T


@st.composite
def tiled_stacks_and_inputs(draw):
    """Widths and input dimensions around the 4 x 4 register tile (remainders 0..3) and
    batch sizes around the 256-sample block (remainders, several blocks)."""
    s = draw(pst.stacks(n=(0, 13), d_in=(1, 9), d_out=(1, 5)))
    B = draw(st.sampled_from([1, 3, 255, 256, 257, 600]))
    X = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal((B, s.d_in))
    return s, X * draw(pst.scales(min_exp=-3, max_exp=3))


@pytest.mark.parametrize("kernel", [kernels.stack_forward_T, kernels.stack_forward_T_serial])
@given(example=tiled_stacks_and_inputs())
def test_forward_kernel_matches_numpy(kernel, example):
    s, X = example
    expected = np.maximum(X @ s.V.T + s.b, 0.0) @ s.W.T
    assert_close_scaled(dense_forward(s, X, kernel), expected, output_scale(s, X), what=kernel.__name__)


def test_forward_kernel_accumulates_into_outT():
    V, b, W = np.array([[1.0], [-1.0]]), np.array([0.0, 1.0]), np.array([[2.0, 3.0]])
    outT = np.full((1, 3), 10.0)
    kernels.stack_forward_T(V, b, W, np.array([[-1.0, 0.0, 2.0]]), outT)
    # 10 + 2 relu(x) + 3 relu(1 - x) at x = -1, 0, 2: 10 + 0 + 6, 10 + 0 + 3, 10 + 4 + 0
    np.testing.assert_array_equal(outT, [[16.0, 13.0, 14.0]])


def exact_prefix_sums(column):
    """Correctly rounded prefix sums (math.fsum is exact up to one final rounding)."""
    return np.array([math.fsum(column[:i]) for i in range(len(column) + 1)])


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=0, max_size=40), st.integers(1, 3))
def test_compensated_cumsum_is_nearly_exact(values, d):
    terms = np.tile(np.array(values)[:, None], (1, d)) * np.arange(1, d + 1)
    out = np.empty((len(values) + 1, d))
    kernels.compensated_cumsum(terms, out)
    for o in range(d):
        exact = exact_prefix_sums(terms[:, o])
        # Neumaier's bound: 2 eps |sum| + K eps^2 sum |t| (kernels.compensated_cumsum)
        bound = 2 * EPS * np.abs(exact) + len(values) * EPS**2 * np.sum(np.abs(terms[:, o])) + 1e-300
        assert np.all(np.abs(out[:, o] - exact) <= bound)


def test_compensated_cumsum_recovers_what_plain_cumsum_loses():
    terms = np.array([[1e16], [1.0], [-1e16], [1.0]])
    out = np.empty((5, 1))
    kernels.compensated_cumsum(terms, out)
    assert np.cumsum(terms[:, 0])[-1] != 2.0  # the plain running sum drops the first 1.0
    assert out[-1, 0] == float(sum(Fraction(t) for t in terms[:, 0])) == 2.0


def test_warm_up_compiles_every_kernel():
    kernels.warm_up()
    if not JIT:
        return
    dispatchers = [f for f in vars(kernels).values() if hasattr(f, "signatures") and hasattr(f, "py_func")]
    public = [f for f in dispatchers if not f.__name__.startswith("_")]
    assert public and all(f.signatures for f in public), [f.__name__ for f in public if not f.signatures]


@pytest.mark.skipif(not JIT or platform.machine() not in ("x86_64", "AMD64"), reason="needs the JIT on x86-64")
@pytest.mark.parametrize("name", ["_hidden_tile", "_output_tile"])
def test_tile_loops_vectorize(name):
    """The tile loops compile to packed-double (SIMD) multiplies: a fresh, uncached
    compilation of the kernel, so its assembly can be inspected."""
    fresh = njit(getattr(kernels, name).py_func)
    z, acc = np.zeros((4, 64)), np.zeros((3, 64))
    if name == "_hidden_tile":
        fresh(np.ones((4, 5)), np.zeros(4), np.ones((5, 64)), 0, 64, 0, z)
    else:
        fresh(np.ones((3, 4)), 0, z, acc)
    asm = fresh.inspect_asm(fresh.signatures[0])
    assert re.search(r"\bv?(mul|fmadd\d*)pd\s", asm), "no packed-double multiply in the tile loop"
