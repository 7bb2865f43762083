"""Linear multi-head students of Lee & Ndirango (NeurIPS 2019), sections 2.2 and 4.2, for ``R``
independent runs at once.

A student has a shared linear trunk of ``L`` layers ``h_l = W_l h_{l-1} + b_l`` (``h_0 = x``)
and one linear head per task, ``z_k = C_k h_L + c_k``, softmax outputs and the cross-entropy
loss of their eq. (1). The authors' student (``multitask/train.py``): ``L = 2`` trunk layers of
``--nunits 64`` units with bias, orthogonal weight init (``nn.init.orthogonal_``), PyTorch's
default bias init ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, plain SGD; the paper's 3-layer student
(section 2.2) is ``L = 1`` without bias.

Since the network is linear, head ``k`` computes ``z = M_k x~`` with ``x~ = (x, 1)`` and the
composite ``M_k = C_k P_L + c_k e^T`` (``P_0 = [I, 0]``, ``P_l = W_l P_{l-1} + b_l e^T``,
``e`` the last unit vector): the loss depends on the data only through

.. math::  \\frac{\\partial L}{\\partial M_k} = \\frac1B \\sum_\\mu (\\mathrm{softmax}(M_k \\tilde x_\\mu) - t_\\mu)\\, \\tilde x_\\mu^\\top,

(``t_mu`` the one-hot label or a soft target), and backpropagation through the layers is
exact matrix algebra on ``P_l`` (see :func:`step`): ``delta_L = sum_k C_k^T dL/dM_k``,
``dW_l = delta_l P_{l-1}^T`` (the first ``N1`` columns of ``delta_1`` for ``l = 1``),
``db_l = delta_l e``, ``delta_{l-1} = W_l^T delta_l``, ``dC_k = dL/dM_k P_L^T``,
``dc_k = dL/dM_k e``. The cost per step is independent of the batch except for the products
with the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.validate import as_count
from pcheck.papers.lee_ndirango.teachers import torch_orthogonal


@dataclass
class Students:
    """``R`` linear students: trunk ``W[l] (R, H, fan_in)``, ``b[l] (R, H)``; heads
    ``C[k] (R, N3, H)``, ``c[k] (R, N3)``; ``bias=False`` keeps every bias at zero."""

    W: list
    b: list
    C: list
    c: list
    bias: bool = True

    @property
    def runs(self) -> int:
        return self.W[0].shape[0]

    @property
    def width(self) -> int:
        return self.W[0].shape[1]

    def take(self, index) -> "Students":
        """Copies of the students ``index`` (an integer array), e.g. one init per seed repeated."""
        return Students([w[index].copy() for w in self.W], [v[index].copy() for v in self.b],
                        [w[index].copy() for w in self.C], [v[index].copy() for v in self.c], self.bias)


def init_students(rng: np.random.Generator, runs: int, *, n_in: int, width: int, n_classes: int,
                  n_heads: int = 2, n_layers: int = 2, bias: bool = True) -> Students:
    """The authors' init: every weight ``torch_orthogonal`` (gain 1), biases
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (zero when ``bias`` is False)."""
    runs, n_in, width = as_count(runs, "runs"), as_count(n_in, "n_in"), as_count(width, "width")
    n_classes, n_layers = as_count(n_classes, "n_classes", minimum=2), as_count(n_layers, "n_layers")

    def bias_init(fan, size):
        return rng.uniform(-1, 1, (runs, size)) / np.sqrt(fan) if bias else np.zeros((runs, size))

    W, b, fan = [], [], n_in
    for _ in range(n_layers):
        W.append(np.stack([torch_orthogonal(rng, width, fan) for _ in range(runs)]))
        b.append(bias_init(fan, width))
        fan = width
    C = [np.stack([torch_orthogonal(rng, n_classes, width) for _ in range(runs)]) for _ in range(n_heads)]
    c = [bias_init(width, n_classes) for _ in range(n_heads)]
    return Students(W, b, C, c, bias)


def augment(X) -> np.ndarray:
    """``x~ = (x, 1)`` along the last axis."""
    X = np.asarray(X, dtype=float)
    return np.concatenate([X, np.ones(X.shape[:-1] + (1,))], axis=-1)


def trunk_maps(st: Students) -> list:
    """``[P_1, ..., P_L]``, ``P_l (R, H, N1 + 1)``: ``h_l = P_l x~``."""
    P = np.concatenate([st.W[0], st.b[0][:, :, None]], axis=2)
    maps = [P]
    for W, b in zip(st.W[1:], st.b[1:]):
        P = W @ P
        P[:, :, -1] += b
        maps.append(P)
    return maps


def composite(st: Students, k: int, maps=None) -> np.ndarray:
    """``M_k = C_k P_L + c_k e^T`` per run, ``(R, N3, N1 + 1)``: head ``k`` computes ``M_k x~``."""
    P = (maps or trunk_maps(st))[-1]
    M = st.C[k] @ P
    M[:, :, -1] += st.c[k]
    return M


def loss_gradient(M, Xa, targets, Xt=None) -> np.ndarray:
    """``dL/dM = (softmax(Z) - T)^T X~ / B`` with ``Z = X~ M^T`` for ``R`` runs: ``M (R, N3, d)``,
    ``Xa (R, B, d)`` (and optionally its transpose ``Xt (R, d, B)``, to save the copy);
    ``targets`` integer labels ``(R, B)`` (their eq. 1) or soft targets ``(R, B, N3)``
    (cross-entropy against a distribution). The logits are laid out ``(R, N3, B)``: the
    softmax then reduces over a short axis with contiguous inner loops."""
    Xt = Xa.transpose(0, 2, 1) if Xt is None else Xt
    D = softmax(M @ Xt, axis=1)                                          # (R, N3, B)
    targets = np.asarray(targets)
    R, B = Xa.shape[:2]
    if targets.ndim == 2:
        D[np.arange(R)[:, None], targets, np.arange(B)[None, :]] -= 1.0
    else:
        D -= targets.transpose(0, 2, 1)
    return D @ Xa / B


def step(st: Students, grads: dict, lr: float, maps=None) -> None:
    """One gradient step ``theta <- theta - lr dL/dtheta`` in place, ``grads = {k: dL/dM_k}``
    for the heads that take part (weights per run already applied); see the module docstring."""
    maps = maps or trunk_maps(st)
    delta = 0.0
    for k, G in grads.items():
        delta = delta + st.C[k].transpose(0, 2, 1) @ G
        st.C[k] -= lr * (G @ maps[-1].transpose(0, 2, 1))
        if st.bias:
            st.c[k] -= lr * G[:, :, -1]
    for l in range(len(st.W) - 1, -1, -1):
        gW = delta @ maps[l - 1].transpose(0, 2, 1) if l > 0 else delta[:, :, :-1]
        gb = delta[:, :, -1]
        if l > 0:
            delta = st.W[l].transpose(0, 2, 1) @ delta
        st.W[l] -= lr * gW
        if st.bias:
            st.b[l] -= lr * gb


#: Shifted logits are clipped below at this value before ``exp``: ``exp(-600) ~ 1e-261`` is
#: negligible against the maximum's ``exp(0) = 1``, and the clip keeps ``exp`` and the products
#: after it out of the subnormal range (``< 2.2e-308``), which is up to 100x slower on x86.
EXP_FLOOR = -600.0


def softmax(Z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax over ``axis``, shifted by the maximum (no overflow) and floored at
    :data:`EXP_FLOOR` (no subnormals)."""
    E = np.exp(np.maximum(Z - Z.max(axis=axis, keepdims=True), EXP_FLOOR))
    return E / E.sum(axis=axis, keepdims=True)


def per_sample_loss(M, Xa, y, Xt=None):
    """``(-ln softmax(M x~)_y, [argmax = y])`` per run and sample, ``(R, n)`` each (``Xt`` as in
    :func:`loss_gradient`)."""
    Xt = Xa.transpose(0, 2, 1) if Xt is None else Xt
    Z = M @ Xt                                                           # (R, N3, n)
    Z = Z - Z.max(axis=1, keepdims=True)
    R, n = y.shape
    picked = Z[np.arange(R)[:, None], y, np.arange(n)[None, :]]
    nll = np.log(np.exp(np.maximum(Z, EXP_FLOOR)).sum(axis=1)) - picked
    return nll, (np.argmax(Z, axis=1) == y).astype(float)


def validation_metrics(M, Xa, y, batch: int = 128, Xt=None):
    """The authors' validation loss and accuracy (``train_models`` in ``multitask/train.py``):
    the validation set in its order, cut in batches of ``batch`` (the last one shorter), the
    mean over batches of each batch's mean cross-entropy and accuracy. Returns ``(ce, acc)``,
    ``(R,)`` each."""
    nll, correct = per_sample_loss(M, Xa, y, Xt)
    starts = range(0, y.shape[1], as_count(batch, "batch"))
    ce = np.mean([nll[:, s:s + batch].mean(axis=1) for s in starts], axis=0)
    acc = np.mean([correct[:, s:s + batch].mean(axis=1) for s in starts], axis=0)
    return ce, acc
