"""The benchmark harness (benchmarks/measure.py) on tiny sizes: each workload runs, its
peers agree with pcheck, and the memory measures see what they must see."""

import os
import sys

import numpy as np
import pytest

import pcheck
from pcheck.papers.htw.rescaling import output_scale
from pcheck.testing import assert_close_scaled

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import measure  # noqa: E402  (benchmarks/measure.py)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak memory is read from /proc")
def test_numpy_peer_materializes_the_hidden_matrix_and_the_measures_see_it():
    # the (B, n) float64 matrix: 40 MB, above glibc's largest mmap threshold (32 MB), so its
    # pages are fresh and all written: the resident high-water mark must grow by all of it
    n, B = 500, 10_000
    r = measure.measure(dict(kind="forward", impl="numpy", n=n, d_in=3, d_out=2, B=B, repeats=1))
    assert r["tracemalloc_peak_bytes"] >= 8 * n * B
    assert r["peak_bytes"] >= 8 * n * B
    assert r["best"] > 0 and r["flops"] == 2 * n * B * (3 + 2)


@pytest.mark.parametrize("impl", ["pcheck", "numpy"])
def test_forward_peers_agree(impl):
    s = measure.stack_arrays(7, 3, 2)
    X = np.random.default_rng(0).standard_normal((50, 3))
    assert_close_scaled(measure.forward_impl(impl, s)(X), s(X), output_scale(s, X), what=impl)


@pytest.mark.parametrize("impl", ["pcheck-dense", "numpy"])
def test_dense_1d_peers_agree(impl):
    s = measure.stack_arrays(9, 1, 2)
    x = np.linspace(-3, 3, 2 * measure.CHUNK + 5)  # several chunks and a remainder
    expected = pcheck.evaluate_1d(s, x)
    assert_close_scaled(measure.dense_1d_impl(impl, s)(x), expected, output_scale(s, x[:, None]), what=impl)
