"""Stack and Network: the numba forward pass against a plain numpy reference (HTW eq. 1, 2)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pcheck
from pcheck import strategies as pst
from pcheck.papers.htw.rescaling import output_scale
from pcheck.testing import assert_close_scaled


def numpy_reference(s, X):
    """The dense formula of eq. 2: ``relu(X V^T + b) W^T + c (+ X A^T)``."""
    out = np.maximum(X @ s.V.T + s.b, 0.0) @ s.W.T + s.c
    return out if s.A is None else out + X @ s.A.T


@st.composite
def stack_and_inputs(draw):
    s = draw(pst.stacks(n=(0, 12), d_in=(1, 4), d_out=(1, 3), skip=None))
    B = draw(st.integers(1, 300))  # crosses the kernel's 256-sample block boundary
    seed = draw(st.integers(0, 2**16))
    X = np.random.default_rng(seed).standard_normal((B, s.d_in)) * draw(pst.scales(min_exp=-3, max_exp=3))
    return s, X


@given(stack_and_inputs())
def test_forward_matches_numpy_reference(example):
    s, X = example
    assert_close_scaled(s(X), numpy_reference(s, X), output_scale(s, X), what="forward pass")


def test_forward_shape_and_dtype():
    s = pcheck.Stack.random(3, 2, 4, rng=1)
    out = s(np.zeros((5, 2), dtype=np.float32))
    assert out.shape == (5, 4) and out.dtype == np.float64
    X = np.zeros((5, 2))
    assert_close_scaled(out, numpy_reference(s, X), output_scale(s, X), what="forward pass at X = 0")


def test_zero_width_stack_is_affine():
    s = pcheck.Stack(np.zeros((0, 2)), np.zeros(0), np.zeros((3, 0)), [1.0, 2.0, 3.0], A=np.ones((3, 2)))
    X = np.array([[1.0, 2.0], [0.0, -1.0]])
    np.testing.assert_array_equal(s(X), np.array([[4.0, 5.0, 6.0], [0.0, 1.0, 2.0]]))


def test_parameters_are_read_only_copies():
    V = np.ones((2, 1))
    s = pcheck.Stack(V, np.zeros(2), np.ones((1, 2)), np.zeros(1))
    V[0, 0] = 5.0
    assert s.V[0, 0] == 1.0
    with pytest.raises(ValueError):
        s.V[0, 0] = 2.0


@given(pst.networks())
def test_network_composes_stacks(net):
    X = np.linspace(-2, 2, 5 * net.widths[0]).reshape(5, net.widths[0])
    sigma = {"relu": lambda z: np.maximum(z, 0.0), "identity": lambda z: z}[net.activation]
    z = numpy_reference(net.stacks[0], X)
    for s in net.stacks[1:]:
        z = numpy_reference(s, sigma(z))
    scale = np.maximum(np.abs(z), 1.0)
    assert_close_scaled(net(X), z, scale, rtol=1e-10, what="network output")


def test_softmax_output_rows_sum_to_one():
    net = pcheck.Network([pcheck.Stack.random(4, 2, 3, rng=0)], output="softmax")
    p = net(np.random.default_rng(0).standard_normal((6, 2)) * 50)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-15)


def test_network_checks_widths_and_names():
    a, b = pcheck.Stack.random(3, 2, 2, rng=0), pcheck.Stack.random(3, 3, 1, rng=1)
    with pytest.raises(ValueError, match=r"stacks\[0\]\.d_out = 2 does not match stacks\[1\]\.d_in = 3"):
        pcheck.Network([a, b])
    with pytest.raises(ValueError, match="activation"):
        pcheck.Network([a], activation="tanh")
    with pytest.raises(ValueError, match="output"):
        pcheck.Network([a], output="sigmoid")
    with pytest.raises(TypeError, match=r"stacks\[0\]"):
        pcheck.Network([np.ones(3)])
    assert pcheck.Network([a, pcheck.Stack.random(2, 2, 5, rng=2)]).widths == (2, 2, 5)


def test_concatenate_computes_weighted_sum():
    rng = np.random.default_rng(3)
    h1, h2 = pcheck.Stack.random(3, 2, 2, rng=rng), pcheck.Stack.random(4, 2, 2, rng=rng, skip=True)
    X = rng.standard_normal((10, 2))
    both = pcheck.Stack.concatenate([h1, h2], weights=[0.25, 0.75])
    assert both.n == 7
    np.testing.assert_allclose(both(X), 0.25 * h1(X) + 0.75 * h2(X), rtol=1e-13, atol=1e-13)


def same_stack(a, b) -> bool:
    """Equal parameters, bit for bit (``Stack`` compares by identity)."""
    return all((x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y))
               for x, y in ((a.V, b.V), (a.b, b.b), (a.W, b.W), (a.c, b.c), (a.A, b.A)))


REPR_NAMESPACE = {"Stack": pcheck.Stack, "Network": pcheck.Network, "array": np.array}


@given(pst.stacks(n=(0, 8), d_in=(1, 3), d_out=(1, 3), skip=None))
def test_stack_repr_pastes_back_as_an_equal_stack(s):
    """Issue 16, item 2: ``Stack(n=0, d_in=1, d_out=1)`` hid the parameters of a counterexample."""
    text = repr(s)
    assert text.startswith("Stack(V=array(")
    assert same_stack(eval(text, dict(REPR_NAMESPACE)), s)  # every float in full precision


@given(pst.networks(depth=(1, 3), width=(0, 3), dims=(1, 3)))
def test_network_repr_pastes_back_as_an_equal_network(net):
    copy = eval(repr(net), dict(REPR_NAMESPACE))
    assert (copy.activation, copy.output, copy.widths) == (net.activation, net.output, net.widths)
    assert all(same_stack(a, b) for a, b in zip(copy.stacks, net.stacks))


def test_repr_of_an_affine_stack_and_of_awkward_floats():
    s = pcheck.Stack(np.zeros((0, 2)), np.zeros(0), np.zeros((3, 0)), [0.1, -0.0, 1e-300], A=np.ones((3, 2)) / 3)
    assert repr(s).startswith("Stack(V=array([]).reshape(0, 2), b=array([]), W=array([[], [], []]), "
                              "c=array([0.1, -0.0, 1e-300]), A=array([[0.3333333333333333, ")
    assert same_stack(eval(repr(s), dict(REPR_NAMESPACE)), s)


def test_large_stacks_and_networks_are_summarized():
    s = pcheck.Stack.random(100, 3, 2, rng=0, skip=True)
    assert repr(s) == "<Stack n=100, d_in=3, d_out=2, skip connection: 608 numbers>"
    net = pcheck.Network([s, pcheck.Stack.random(1, 2, 1, rng=1)])
    assert repr(net) == "<Network widths=(3, 2, 1), activation='relu', output='identity'>"
    small = pcheck.Stack.random(2, 1, 1, rng=0)
    assert len(repr(small)) < 200 and "<" not in repr(small)
