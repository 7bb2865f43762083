"""The exact-penalty program of :mod:`pcheck.problems.penalty` in Clarabel's conic form: the
variable layout, second-order cones for the hyperplane masses and PSD cones for the nuclear
norms of the affine part and of the skip connection (eq. 12)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from pcheck.core.costs import atom_cost
from pcheck.core.variant import as_variant
from pcheck.problems.hyperplanes import HyperplaneProgram

#: The nuclear norm of ``G (d_out x n1)`` is one PSD cone of size ``n1 + d_out`` up to this size,
#: Gram cones beyond (:func:`_nuclear_block`). Reason: the single cone's dense KKT block, of
#: ``((n1 + d_out)^2 / 2)^2`` entries, is the cliff at d_out = 64 (10 s at n = 100), but at small
#: sizes it costs nothing and the single cone is the more accurate: eq. 11, d_in = 3, d_out = 3
#: to 12 gave certified gaps up to 9.5e-10 with Gram cones (Clarabel stops "AlmostSolved" on a
#: failed step) against 8e-11 with the single cone. 24 keeps the block under 300^2 entries.
SINGLE_CONE_MAX = 24


def _svec_index(i: int, j: int) -> int:
    """Position of entry ``(i, j)``, ``i <= j``, in Clarabel's PSD triangle (upper, by columns)."""
    return j * (j + 1) // 2 + i


def _svec_size(n: int) -> int:
    return n * (n + 1) // 2


def _svec_diagonal(n: int) -> np.ndarray:
    return np.array([_svec_index(i, i) for i in range(n)], dtype=np.int64)


class _Layout:
    """Column offsets of the variables ``[omega beta (K d), t_alpha (K), t_beta (K), c (d),
    e (d), t_e, W, t_G, a (d d_in), W2, t_a]`` of the conic form (sizes of the nuclear-norm
    variables ``W, t`` by :func:`_nuclear_sizes`); ``n1 = d_in + 1``
    (slope and intercept) under eq. 7, 11, 12 and ``d_in`` under eq. 8 (no ``c, e``), ``a`` only
    with a skip connection, ``W2, t_a`` only under eq. 12."""

    def __init__(self, K: int, d: int, d_in: int, variant: str):
        variant = as_variant(variant)
        self.variant = variant
        self.regularized = variant.biases_regularized
        self.n1 = d_in + 1 if self.regularized else d_in
        sizes = [("beta", K * d), ("ta", K), ("tb", K), ("c", d if self.regularized else 0),
                 ("e", d if self.regularized else 0), ("te", 1 if self.regularized else 0),
                 ("W", _nuclear_sizes(self.n1, d)[0]), ("tG", _nuclear_sizes(self.n1, d)[1]),
                 ("a", d * d_in if variant.skip is not None else 0),
                 ("W2", _nuclear_sizes(d_in, d)[0] if variant.skip == "schatten1" else 0),
                 ("tA", _nuclear_sizes(d_in, d)[1] if variant.skip == "schatten1" else 0)]
        offset = 0
        for name, size in sizes:
            setattr(self, name, offset)
            offset += size
        self.n = offset


class _Rows:
    """COO triplets and right-hand side of ``b - A x in cones``, filled block by block; a block
    is one cone ``(kind, size)`` or a list of consecutive cones."""

    def __init__(self):
        self.rows, self.cols, self.vals, self.b, self.cones, self.count = [], [], [], [], [], 0

    def block(self, rows, cols, vals, b, cone):
        self.rows.append(np.asarray(rows, dtype=np.int64) + self.count)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))
        self.b.append(np.asarray(b, dtype=float))
        self.cones.extend(cone if isinstance(cone, list) else [cone])
        start, self.count = self.count, self.count + len(b)
        return start

    def matrix(self, n):
        A = sp.csc_matrix((np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
                          shape=(self.count, n))
        return A, np.concatenate(self.b)


def _nuclear_sizes(n1: int, d: int):
    """``(len W, len t, diagonal of W, diagonal of t)`` in the variables of :func:`_nuclear_block`
    for ``G (d x n1)``: ``W = Y`` (svec n1) and ``t = Z`` (svec d) for one cone, ``W`` (svec
    ``min(n1, d)``) and one ``t`` per line of the long side for Gram cones."""
    if n1 + d <= SINGLE_CONE_MAX:
        return _svec_size(n1), _svec_size(d), _svec_diagonal(n1), _svec_diagonal(d)
    m = min(n1, d)
    return _svec_size(m), max(n1, d), _svec_diagonal(m), np.arange(max(n1, d))


def _single_cone(out: _Rows, Ycol: int, Zcol: int, n1: int, d: int, entry) -> np.ndarray:
    """The cone ``[[Y, G^T], [G, Z]] >= 0`` (size ``n1 + d``), whose minimal ``tr Y + tr Z`` is
    ``2 ||G||_*``; arguments and result as :func:`_nuclear_block`."""
    n = n1 + d
    rows, cols, vals = [], [], []
    for j in range(n1):
        for i in range(j + 1):
            rows.append(_svec_index(i, j)), cols.append(Ycol + _svec_index(i, j)), vals.append(-1.0)
    for j in range(d):
        for i in range(j + 1):
            rows.append(_svec_index(n1 + i, n1 + j)), cols.append(Zcol + _svec_index(i, j)), vals.append(-1.0)
    rows, cols, vals = [np.array(rows, dtype=np.int64)], [np.array(cols, dtype=np.int64)], [np.array(vals)]
    b = np.zeros(_svec_size(n))
    slot = np.empty((d, n1), dtype=np.int64)
    for o in range(d):
        for k in range(n1):
            slot[o, k] = _svec_index(k, n1 + o)
            c_, v_, b_ = entry(k, o)
            rows.append(np.full(len(c_), slot[o, k])), cols.append(np.asarray(c_)), vals.append(np.sqrt(2.0) * np.asarray(v_))
            b[slot[o, k]] = np.sqrt(2.0) * b_
    return out.block(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), b, ("psd", n)) + slot


def _nuclear_block(out: _Rows, Wcol: int, tcol: int, n1: int, d: int, entry) -> np.ndarray:
    """Cones ``[[W, g_l], [g_l^T, t_l]] >= 0`` for ``G (d x n1)``, one per row ``g_l = G[l, :]`` when
    ``n1 <= d`` (``W`` is ``n1 x n1``), else one per column (``W`` is ``d x d``): their minimal
    ``tr W + sum_l t_l`` is ``2 ||G||_*`` (proofs_notes/htw-penalty-exact.md, "Size of the
    conic form"). With ``m = min(n1, d)`` this is ``max(n1, d)`` cones of size ``m + 1`` sharing
    ``W`` (svec ``Wcol``), instead of one cone of size ``n1 + d``. ``entry(k, o)`` returns
    ``(cols, vals, b)`` of ``G[o, k] = b - vals . x[cols]``; svec stores it times ``sqrt(2)``.
    Returns ``slot (d, n1)``, the row of each entry ``G[o, k]`` in ``b - A x``. Small matrices
    (``n1 + d <= SINGLE_CONE_MAX``) get the single cone of :func:`_single_cone` instead."""
    if n1 + d <= SINGLE_CONE_MAX:
        return _single_cone(out, Wcol, tcol, n1, d, entry)
    m, by_rows = min(n1, d), n1 <= d
    size = m + 1
    W_rows = np.array([_svec_index(i, j) for j in range(m) for i in range(j + 1)], dtype=np.int64)
    slot = np.empty((d, n1), dtype=np.int64)
    r2 = np.sqrt(2.0)
    for line in range(max(n1, d)):
        rows, cols, vals = [W_rows, [_svec_index(m, m)]], [Wcol + W_rows, [tcol + line]], [-np.ones(len(W_rows)), [-1.0]]
        b = np.zeros(size * (size + 1) // 2)
        at = []
        for i in range(m):
            o, k = (line, i) if by_rows else (i, line)
            c_, v_, b_ = entry(k, o)
            rows.append(np.full(len(c_), _svec_index(i, m))), cols.append(np.asarray(c_)), vals.append(r2 * np.asarray(v_))
            b[_svec_index(i, m)] = r2 * b_
            at.append((o, k, _svec_index(i, m)))
        start = out.block(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), b, ("psd", size))
        for o, k, row in at:
            slot[o, k] = start + row
    return slot


def conic_form(prog: HyperplaneProgram, variant: str, gamma: float = 1.0):
    """``min x'Px/2 + q'x`` s.t. ``b - Ax`` in cones, for the program of the module docstring
    with the quadratic terms ``||c||^2`` (and ``||a||_F^2`` of eq. 11) weighted by ``gamma``:
    ``P(s h) = s P_gamma=s(h)``, which lets the solver run on normalized data.

    Nuclear norms are ``2 ||G||_* = min tr W + sum_l t_l`` over ``[[W, g_l], [g_l^T, t_l]] >= 0``
    for the lines ``g_l`` of ``G``'s long side (:func:`_nuclear_block`), with ``G`` written
    through the matching constraints as an affine function of ``beta, c, e, a``.
    The hyperplane variables are ``omega(r) beta_H`` (cost units): the matching constraints then
    have coefficients ``s_H/omega`` and ``r_H/omega``, at most 1 in magnitude, however far the
    hyperplanes lie. Returns ``(P, q, A, b, cones, layout, rows of G's entries (d, n1))``.
    """
    variant = as_variant(variant)
    K, d, d_in = prog.J.shape[0], prog.d_out, prog.d_in
    lay = _Layout(K, d, d_in, variant)
    omega = atom_cost(prog.r, lay.variant)
    q = np.zeros(lay.n)
    q[lay.ta:lay.ta + 2 * K] = 1.0
    W_diag, t_diag = _nuclear_sizes(lay.n1, d)[2:]
    q[lay.W + W_diag] = 1.0
    q[lay.tG + t_diag] = 1.0
    Pdiag = np.zeros(lay.n)
    if lay.regularized:
        q[lay.te] = 1.0
        Pdiag[lay.c:lay.c + d] = 2.0 * gamma
    if variant.skip == "frobenius":
        Pdiag[lay.a:lay.a + d * d_in] = 2.0 * gamma
    if variant.skip == "schatten1":
        W_diag, t_diag = _nuclear_sizes(d_in, d)[2:]
        q[lay.W2 + W_diag] = 0.5
        q[lay.tA + t_diag] = 0.5
    out = _Rows()
    beta = lay.beta + np.arange(K * d).reshape(K, d)
    J_cost = omega[:, None] * prog.J
    # ||omega J_k - omega beta_k|| <= t_alpha_k and ||omega beta_k|| <= t_beta_k, K cones of each kind
    rows = np.arange(K * (d + 1))
    out.block(rows, np.column_stack([lay.ta + np.arange(K), beta]).ravel(), np.tile(np.r_[-1.0, np.ones(d)], K),
              np.column_stack([np.zeros(K), J_cost]).ravel(), [("soc", d + 1)] * K)
    out.block(rows, np.column_stack([lay.tb + np.arange(K), beta]).ravel(), -np.ones(K * (d + 1)),
              np.zeros(K * (d + 1)), [("soc", d + 1)] * K)
    if lay.regularized:
        out.block(np.arange(d + 1), np.r_[lay.te, lay.e + np.arange(d)], -np.ones(d + 1), np.zeros(d + 1),
                  ("soc", d + 1))
    a_col = lambda o, k: lay.a + o * d_in + k  # noqa: E731

    def G_entry(k, o):
        if k < d_in:  # G[o, k] = L[o, k] + sum_H beta_Ho s_Hk - a[o, k]
            skip = [a_col(o, k)] if variant.skip is not None else []
            return np.r_[beta[:, o], skip], np.r_[-prog.s[:, k] / omega, np.ones(len(skip))], prog.L[o, k]
        # G[o, d_in] = C_o - sum_H r_H beta_Ho - c_o - e_o
        return np.r_[beta[:, o], lay.c + o, lay.e + o], np.r_[prog.r / omega, 1.0, 1.0], prog.C[o]

    g_slot = _nuclear_block(out, lay.W, lay.tG, lay.n1, d, G_entry)
    if variant.skip == "schatten1":  # ||a||_* = min (tr W2 + sum t_a) / 2
        _nuclear_block(out, lay.W2, lay.tA, d_in, d, lambda k, o: ([a_col(o, k)], [-1.0], 0.0))
    A, b = out.matrix(lay.n)
    return sp.diags(Pdiag, format="csc"), q, A, b, out.cones, lay, g_slot
