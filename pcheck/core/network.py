"""Stacks and deep stacked networks (HTW eq. 1, 2).

A stack is the shallow map

.. math:: h(x) = \\sum_{k=1}^n w_k\\,\\mathrm{relu}(b_k + \\langle v_k, x\\rangle) + A x + c,

with ``V (n, d_in)``, ``b (n,)``, ``W (d_out, n)`` (column k is ``w_k``), ``c (d_out,)``
and an optional skip-connection ``A (d_out, d_in)`` (HTW eq. 11, 12; ``None`` means no
skip connection, which is not the same architecture as ``A = 0``). A network is
``f = ell_inv o h_S o sigma o ... o sigma o h_1`` (eq. 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core import evaluate1d, kernels
from pcheck.core.scaled import row_norms
from pcheck.core.validate import as_array, as_count


def _frozen(arr: np.ndarray) -> np.ndarray:
    """A read-only copy (the copy keeps the caller's array writable and unshared)."""
    arr = arr.copy()
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Stack:
    """Parameters ``theta = (V, b, W, c[, A])`` of one stack (HTW eq. 2); immutable.

    ``n = 0`` neurons is allowed (the stack is then affine). Arrays are validated
    and stored as read-only float64.
    """

    V: np.ndarray
    b: np.ndarray
    W: np.ndarray
    c: np.ndarray
    A: np.ndarray | None = None

    def __post_init__(self):
        V = as_array(self.V, "V", ndim=2)
        n, d_in = V.shape
        if d_in < 1:
            raise ValueError(f"V must have at least one input column (d_in >= 1), got shape {V.shape}")
        b = as_array(self.b, "b", ndim=1, shape=(n,))
        W = as_array(self.W, "W", ndim=2, shape=(None, n))
        d_out = W.shape[0]
        if d_out < 1:
            raise ValueError(f"W must have at least one output row (d_out >= 1), got shape {W.shape}")
        c = as_array(self.c, "c", ndim=1, shape=(d_out,))
        A = None if self.A is None else _frozen(as_array(self.A, "A", ndim=2, shape=(d_out, d_in)))
        for name, arr in (("V", V), ("b", b), ("W", W), ("c", c)):
            object.__setattr__(self, name, _frozen(arr))
        object.__setattr__(self, "A", A)

    @property
    def n(self) -> int:
        """Width: number of hidden neurons."""
        return self.V.shape[0]

    @property
    def d_in(self) -> int:
        return self.V.shape[1]

    @property
    def d_out(self) -> int:
        return self.W.shape[0]

    def replace(self, **arrays) -> "Stack":
        """A new stack with some of ``V, b, W, c, A`` replaced."""
        fields = dict(V=self.V, b=self.b, W=self.W, c=self.c, A=self.A)
        fields.update(arrays)
        return Stack(**fields)

    def __call__(self, X) -> np.ndarray:
        """``h(X)`` for ``X (B, d_in)``, returned as ``(B, d_out)``; see module docstring.
        Dense numba kernel, or for ``d_in = 1`` the sorted evaluation of
        :mod:`pcheck.core.evaluate1d` when that is faster."""
        X = as_array(X, "X", ndim=2, shape=(None, self.d_in))
        return self._forward(X)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        if self.d_in == 1 and evaluate1d.prefers_sorted(self.n, X.shape[0]):
            out = piecewise_affine(self)._evaluate(np.ascontiguousarray(X[:, 0]))
        else:
            out = self._dense_forward(X)
        return out if np.all(np.isfinite(out)) else self._rescued_forward(X)

    def _rescued_forward(self, X: np.ndarray) -> np.ndarray:
        """An overflowing forward pass retried on the balanced neurons (``||w_k|| = ||(v_k, b_k)||``,
        the same function): ``V = 1e300, W = 1e-300`` overflows in ``V x`` although ``h(x)`` is an
        ordinary float. If that overflows too, ``h(X)`` itself exceeds the float64 range: ValueError."""
        w, vb = row_norms(self.W.T), row_norms(np.column_stack([self.V, self.b]))
        live = (w > 0) & (vb > 0)
        alpha = np.ones(self.n)
        with np.errstate(over="ignore", under="ignore"):
            alpha[live] = np.sqrt(w[live]) / np.sqrt(vb[live])
            alpha[~np.isfinite(alpha) | (alpha == 0)] = 1.0
            V, b, W = self.V * alpha[:, None], self.b * alpha, self.W / alpha[None, :]
            finite = all(np.all(np.isfinite(a)) for a in (V, b, W))
            out = Stack(V, b, W, self.c, self.A)._dense_forward(X) if finite else np.full((X.shape[0], 1), np.inf)
        bad = ~np.all(np.isfinite(out), axis=1)
        if np.any(bad):
            raise ValueError(f"X: the stack's outputs overflow float64 at {int(bad.sum())} of {X.shape[0]} points "
                             f"(first at row {int(np.argmax(bad))}); its values there exceed 1.8e308")
        return out

    def _dense_forward(self, X: np.ndarray) -> np.ndarray:
        outT = np.repeat(self.c[:, None], X.shape[0], axis=1)
        XT = np.ascontiguousarray(X.T)
        B = X.shape[0]  # one block, or too little work, is faster on one thread
        parallel = B > kernels.BLOCK and self.n * B * (self.d_in + self.d_out) >= kernels.PARALLEL_MIN_WORK
        (kernels.stack_forward_T if parallel else kernels.stack_forward_T_serial)(self.V, self.b, self.W, XT, outT)
        out = outT.T
        if self.A is not None:
            out = out + X @ self.A.T
        return np.ascontiguousarray(out)

    @classmethod
    def random(cls, n: int, d_in: int, d_out: int, *, rng=None, skip: bool = False) -> "Stack":
        """A stack with standard normal parameters (``A`` too when ``skip``), for examples."""
        n = as_count(n, "n", minimum=0)
        d_in = as_count(d_in, "d_in")
        d_out = as_count(d_out, "d_out")
        rng = np.random.default_rng(rng)
        A = rng.standard_normal((d_out, d_in)) if skip else None
        return cls(
            rng.standard_normal((n, d_in)),
            rng.standard_normal(n),
            rng.standard_normal((d_out, n)),
            rng.standard_normal(d_out),
            A,
        )

    @classmethod
    def concatenate(cls, stacks, weights=None) -> "Stack":
        """The stack computing ``sum_i t_i h_i`` by concatenating neurons
        (``w`` scaled by ``t_i``); ``c`` and ``A`` are combined linearly."""
        stacks = list(stacks)
        if not stacks:
            raise ValueError("stacks must hold at least one Stack")
        t = np.ones(len(stacks)) if weights is None else as_array(weights, "weights", ndim=1, shape=(len(stacks),))
        first = stacks[0]
        for s in stacks[1:]:
            if (s.d_in, s.d_out) != (first.d_in, first.d_out):
                raise ValueError("stacks must share d_in and d_out")
        A = None
        if any(s.A is not None for s in stacks):
            A = sum(ti * (s.A if s.A is not None else 0.0) for ti, s in zip(t, stacks))
            A = np.broadcast_to(A, (first.d_out, first.d_in))
        return cls(
            np.concatenate([s.V for s in stacks]),
            np.concatenate([s.b for s in stacks]),
            np.concatenate([ti * s.W for ti, s in zip(t, stacks)], axis=1),
            sum(ti * s.c for ti, s in zip(t, stacks)),
            A,
        )

    def __repr__(self) -> str:
        """Code that re-creates the stack (``eval`` with ``from numpy import array`` and
        ``from pcheck import Stack``; every float in full precision) when it holds at most
        :data:`REPR_MAX_NUMBERS` numbers, else a summary in angle brackets."""
        if _parameter_count(self) > REPR_MAX_NUMBERS:
            skip = "" if self.A is None else ", skip connection"
            return f"<Stack n={self.n}, d_in={self.d_in}, d_out={self.d_out}{skip}: {_parameter_count(self)} numbers>"
        return _stack_code(self)


#: Above this many parameters a stack's or network's repr is a summary, not code.
REPR_MAX_NUMBERS = 200


def _parameter_count(stack: Stack) -> int:
    return sum(a.size for a in (stack.V, stack.b, stack.W, stack.c, stack.A) if a is not None)


def _array_code(arr: np.ndarray) -> str:
    """``array([...])`` that re-creates ``arr`` exactly (``repr`` of each float is the shortest
    string that round-trips); an empty 2D array keeps its shape through ``reshape``."""
    if arr.size == 0 and arr.ndim == 2 and arr.shape[0] == 0:
        return f"array([]).reshape(0, {arr.shape[1]})"
    return f"array({_nested_code(arr.tolist())})"


def _nested_code(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_nested_code(v) for v in value) + "]"
    return repr(float(value))


def _stack_code(stack: Stack) -> str:
    fields = [f"{name}={_array_code(getattr(stack, name))}" for name in ("V", "b", "W", "c")]
    if stack.A is not None:
        fields.append(f"A={_array_code(stack.A)}")
    return f"Stack({', '.join(fields)})"


_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_OUTPUTS = {"identity": lambda z: z, "softmax": _softmax}


class Network:
    """``f = ell_inv o h_S o sigma o ... o sigma o h_1`` (HTW eq. 1).

    ``activation`` is the elementwise ``sigma`` between stacks ("relu" or
    "identity"), ``output`` is ``ell_inv`` ("identity" or "softmax"). The
    bottleneck widths ``d_j`` must chain: ``stacks[j].d_out == stacks[j+1].d_in``.
    """

    def __init__(self, stacks, activation: str = "relu", output: str = "identity"):
        stacks = tuple(stacks)
        if not stacks:
            raise ValueError("stacks must hold at least one Stack")
        for j, s in enumerate(stacks):
            if not isinstance(s, Stack):
                raise TypeError(f"stacks[{j}] must be a Stack, got {type(s).__name__}")
        for j in range(len(stacks) - 1):
            if stacks[j].d_out != stacks[j + 1].d_in:
                raise ValueError(
                    f"stacks[{j}].d_out = {stacks[j].d_out} does not match "
                    f"stacks[{j + 1}].d_in = {stacks[j + 1].d_in}"
                )
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {sorted(_OUTPUTS)}, got {output!r}")
        self.stacks = stacks
        self.activation = activation
        self.output = output

    @property
    def widths(self) -> tuple:
        """Bottleneck widths ``(d_0, d_1, ..., d_S)``."""
        return (self.stacks[0].d_in,) + tuple(s.d_out for s in self.stacks)

    def __call__(self, X) -> np.ndarray:
        X = as_array(X, "X", ndim=2, shape=(None, self.stacks[0].d_in))
        sigma = _ACTIVATIONS[self.activation]
        z = self.stacks[0]._forward(X)
        for s in self.stacks[1:]:
            z = s._forward(np.ascontiguousarray(sigma(z)))
        return _OUTPUTS[self.output](z)

    def __repr__(self) -> str:
        """Code that re-creates the network (as :meth:`Stack.__repr__`, with ``from pcheck import
        Network``) when its stacks hold at most :data:`REPR_MAX_NUMBERS` numbers together, else a summary."""
        options = f"activation={self.activation!r}, output={self.output!r}"
        if sum(_parameter_count(s) for s in self.stacks) > REPR_MAX_NUMBERS:
            return f"<Network widths={self.widths}, {options}>"
        return f"Network([{', '.join(_stack_code(s) for s in self.stacks)}], {options})"


def piecewise_affine(stack) -> evaluate1d.PiecewiseAffine:
    """The sorted prefix-sum form of a ``d_in = 1`` stack, built in ``O(n log n)``;
    reuse it to evaluate the same stack at many batches of points."""
    _require_1d_stack(stack)
    return evaluate1d.sorted_form(stack.V[:, 0], stack.b, stack.W, stack.c, stack.A)


def evaluate_1d(stack, x) -> np.ndarray:
    """``h(x)`` of a ``d_in = 1`` stack at ``x`` (shape ``(B,)`` or ``(B, 1)``), returned as
    ``(B, d_out)``, in ``O((n + B) log(n + B))``; equals ``stack(x)`` up to rounding."""
    _require_1d_stack(stack)
    x = np.asarray(x)
    x = as_array(x, "x", ndim=2, shape=(None, 1))[:, 0] if x.ndim == 2 else as_array(x, "x", ndim=1)
    return evaluate1d.sorted_form(stack.V[:, 0], stack.b, stack.W, stack.c, stack.A)._evaluate(x)


def _require_1d_stack(stack) -> None:
    if not isinstance(stack, Stack):
        raise TypeError(f"stack must be a Stack, got {type(stack).__name__}")
    if stack.d_in != 1:
        raise ValueError(f"stack must have d_in = 1 for the sorted evaluation, got d_in = {stack.d_in}")
