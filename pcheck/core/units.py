"""Internal units of the function-space solvers: ``x = a x' + t``, ``y = b y'`` with ``a, b`` powers
of two, and the exact problem those units turn HTW eq. (4) into (proofs_notes/htw-link-4-5.md,
"Units").

**The change of variables.** A neuron ``w relu(<v, x> + beta)`` is, in the new units,
``(w / b) relu(<v', x'> + beta')`` with ``(v', beta') = T (v, beta)``,
``T = [[a I, 0], [t^T, 1]]``, and the output bias is ``c / b``. Its balanced cost
``||w|| ||(v, beta)||`` is ``b ||w / b|| ||M (v', beta')||`` with the *metric*
``M = T^{-1} / b = [[I / (a b), 0], [-t^T / (a b), 1 / b]]``, so for every network ``f`` and its
image ``g``

.. math:: L(f; X, Y) + \\lambda\\big(2\\sum_k \\|w_k\\|\\,\\|(v_k, \\beta_k)\\| + \\|c\\|^2\\big)
          = b^2\\Big[L(g; X', Y') + \\lambda\\big(2\\sum_k \\|w'_k\\|\\,\\|M(v'_k, \\beta'_k)\\|
          + \\|c'\\|^2\\big)\\Big]

(eq. 8: ``||v||`` instead of ``||(v, beta)||``, i.e. ``||v'|| / (a b)``, and ``c`` free). The map
``f -> g`` is a bijection of networks, so the optima satisfy ``OPT = b^2 OPT'`` and a dual point
``alpha'`` of the normalized problem gives ``b^2 D'(alpha')`` for the given one. Its dual
constraint ``||sum_i alpha'_i relu(<u, x~'_i>)|| <= 2 lam ||M u||`` is, with ``(v, beta) = T^{-1} u``,
the given problem's constraint with ``lam / b``: certificates are checked on the given data.

**Exactness.** ``a, b`` are powers of two and ``t`` is 0 or a data value within a factor two
of every data value (Sterbenz: ``x - t`` is then exact), so ``X' = (X - t) / a`` and ``Y' = Y / b``
are exact; :meth:`Units.of` verifies it and falls back to the identity where it fails (results
that would be subnormal), so the normalized problem is always the given one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pcheck.core.angles import kink_angle, unit
from pcheck.core.network import Stack
from pcheck.core.scaled import power_of_two, row_norms
from pcheck.core.variant import Variant, as_variant

#: Metric entries and derived constants must stay inside ``[2^-LIMIT_EXP, 2^LIMIT_EXP]``.
#: Reason: far from the float64 limits (2^-1022, 2^1024), so products of a few of them with
#: data of order one neither overflow nor become subnormal; a scale that would leave this
#: range is given up (identity), which keeps the problem exact.
LIMIT_EXP = 900

#: Without a shift, scales ``a, b`` within this factor of 1 are not applied (identity units).
#: Reason: the solvers' tolerances are relative or angle-based on data of order one, and a factor
#: up to 16 does not change their behaviour (measured: certified gaps 1e-12..1e-15 either way on the
#: ledger's data), while the metric-weighted path costs ~20 % more time per solve.
IDENTITY_WITHIN = 16.0

#: ``lam / (|x| |y|)``, the weight of the penalty relative to the data's scales (eq. 8's internal
#: ``lam``), must lie within ``[2^-RHO_LIMIT_EXP, 2^RHO_LIMIT_EXP]``. Reason: the normal float64
#: range (2^-1022 .. 2^1023); outside it eq. (4) is 0 or ``||Y||^2`` to every float digit and
#: its solution is not representable: a named error, not a silent answer.
RHO_LIMIT_EXP = 1020


def exact_shift(x: np.ndarray) -> float:
    """A shift ``t`` with ``x - t`` exact for every entry (Sterbenz lemma: ``t/2 <= x <= 2t``):
    the smallest-magnitude value when all entries share a sign and lie within a factor two of
    it, else 0 (the data then straddle 0 or spread at least as far as they sit from it)."""
    lo, hi = float(np.min(x)), float(np.max(x))
    if lo > 0 and hi <= 2 * lo:
        return lo
    if hi < 0 and lo >= 2 * hi:
        return hi
    return 0.0


def _in_range(*values) -> bool:
    lim = 2.0**LIMIT_EXP
    return all(v == 0 or (np.isfinite(v) and 1.0 / lim <= abs(v) <= lim) for v in values)


@dataclass(frozen=True)
class Units:
    """``x = a x' + t``, ``y = b y'`` (module docstring); :meth:`Units.of` chooses them."""

    a: float
    t: np.ndarray
    b: float
    variant: Variant

    @classmethod
    def identity(cls, d_in: int, variant) -> Units:
        return cls(1.0, np.zeros(d_in), 1.0, as_variant(variant))

    @classmethod
    def of(cls, X: np.ndarray, Y: np.ndarray, variant, *, lam: float = 1.0, translate: bool = True) -> Units:
        """Units for validated data: ``t`` from :func:`exact_shift` per input coordinate (when
        ``translate``), ``a`` the power of two at or below the largest ``|x - t|``, ``b`` the one at
        or below the largest ``|y|``; each part falls back to the identity when the division is
        not exact or the metric (eq. 8: ``lam / (a b)``, the internal ``lam``) leaves
        ``[2^-LIMIT_EXP, 2^LIMIT_EXP]``."""
        variant = as_variant(variant)
        d = X.shape[1]
        t = np.array([exact_shift(X[:, j]) for j in range(d)]) if translate else np.zeros(d)
        D = X - t
        sx, sy = float(np.max(np.abs(D), initial=0.0)), float(np.max(np.abs(Y), initial=0.0))
        if sx > 0 and sy > 0 and abs(np.log2(lam) - np.log2(sx) - np.log2(sy)) > RHO_LIMIT_EXP:
            raise ValueError(f"lam = {lam!r} is out of range for this data: relative to the scales of X ({sx:.3e}) and "
                             f"Y ({sy:.3e}), lam / (|x| |y|) = 2^{np.log2(lam) - np.log2(sx) - np.log2(sy):.0f} is not a "
                             "normal float64 number, so eq. (4) cannot be resolved; rescale X, Y or lam")
        a = power_of_two(sx)
        if not (np.array_equal((D / a) * a, D) and np.array_equal(D + t, X)):
            a, t = 1.0, np.zeros(d)
        b = power_of_two(sy)
        if not np.array_equal((Y / b) * b, Y):
            b = 1.0
        if not np.any(t):  # scales within a factor IDENTITY_WITHIN of 1 are left alone
            a = a if not 1.0 / IDENTITY_WITHIN <= a <= IDENTITY_WITHIN else 1.0
            b = b if not 1.0 / IDENTITY_WITHIN <= b <= IDENTITY_WITHIN else 1.0
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            ab = np.float64(a) * np.float64(b)
            fits = _in_range(a, b, ab, 1.0 / ab, *(t / ab)) and (variant.biases_regularized or _in_range(lam / ab))
        if not fits:
            a, t = 1.0, np.zeros(d)
            if not (_in_range(b, 1.0 / np.float64(b)) and (variant.biases_regularized or _in_range(lam / b))):
                b = 1.0
        return cls(a, t, b, variant)

    @property
    def is_identity(self) -> bool:
        return self.a == 1.0 and self.b == 1.0 and not np.any(self.t)

    def x(self, X: np.ndarray) -> np.ndarray:
        """``X' = (X - t) / a`` (exact for the data the units were chosen for)."""
        return np.ascontiguousarray((X - self.t) / self.a)

    def y(self, Y: np.ndarray) -> np.ndarray:
        """``Y' = Y / b`` (exact)."""
        return np.ascontiguousarray(Y / self.b)

    @cached_property
    def metric(self) -> np.ndarray:
        """``M = T^{-1} / b`` (module docstring), ``(d_in + 1, d_in + 1)``, acting on ``(v', beta')``."""
        d = self.t.shape[0]
        M = np.zeros((d + 1, d + 1))
        M[:d, :d] = np.eye(d) / (self.a * self.b)
        M[d, :d] = -self.t / (self.a * self.b)
        M[d, d] = 1.0 / self.b
        return M

    @property
    def dual_lam_factor(self) -> float:
        """The normalized dual constraint is the given one with ``lam`` times this (``1 / b``)."""
        return 1.0 / self.b

    def value(self, normalized: float) -> float:
        """An objective or dual value of the normalized problem in the given units (``b^2`` times)."""
        return float(normalized) * self.b * self.b

    def stack(self, g: Stack) -> Stack:
        """The network ``f(x) = b g((x - t) / a)`` of a normalized-units stack ``g``, balanced
        (``||w_k|| = ||(v_k, beta_k)||``; eq. 8: ``||w_k|| = ||v_k||``), computed without overflow
        or underflow; neurons computing 0 are dropped."""
        V = g.V / self.a
        beta = g.b - (g.V @ self.t) / self.a
        W = g.W * self.b
        vb = row_norms(np.column_stack([V, beta]) if self.variant.biases_regularized else V)
        wn = row_norms(W.T)
        zero = (wn == 0) | (row_norms(np.column_stack([V, beta])) == 0)
        live = (vb > 0) & ~zero
        scale = np.ones_like(vb)
        scale[live] = np.sqrt(wn[live]) / np.sqrt(vb[live])
        keep = ~zero
        return Stack(V[keep] * scale[keep, None], beta[keep] * scale[keep], W[:, keep] / scale[None, keep],
                     g.c * self.b)

    # ---- one input dimension: angle-form atoms ``mu relu(cos(phi) x + sin(phi))`` ----

    def kappa(self, phi) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cost per unit mass of the normalized atom at angle ``phi`` (``||M u||``, eq. 8:
        ``|(M u)_v|``) and its first two derivatives in ``phi``; the identity units give
        :func:`pcheck.core.costs.angle_atom_cost`."""
        cos, sin = unit(phi)
        m00, m10, m11 = self._entries
        if not self.variant.biases_regularized:
            k = np.abs(m00 * cos)
            return k, -abs(m00) * np.sign(cos) * sin, -k
        if m00 == m11 and m10 == 0.0:  # a multiple of the identity: kappa constant
            return np.full_like(cos, abs(m00)), np.zeros_like(cos), np.zeros_like(cos)
        p0, p1 = m00 * cos, m10 * cos + m11 * sin      # M u
        d0, d1 = -m00 * sin, -m10 * sin + m11 * cos    # M u'
        k = np.hypot(p0, p1)
        k1 = (p0 * d0 + p1 * d1) / k
        k2 = (d0 * d0 + d1 * d1 - k * k - k1 * k1) / k
        return k, k1, k2

    @cached_property
    def _entries(self) -> tuple[float, float, float]:
        M = self.metric
        return float(M[0, 0]), float(M[1, 0]), float(M[1, 1])

    def given_atoms(self, phi, mu, c):
        """Angles, masses and output bias of the same function in the given units: the atom
        ``mu' relu(<u', (x', 1)>)`` is ``mu relu(cos(phi) x + sin(phi))`` with
        ``(cos phi, sin phi) = T^{-1} u' / ||T^{-1} u'||`` and ``mu = b ||T^{-1} u'|| mu'``."""
        cos, sin = unit(phi)
        v, beta = cos / self.a, sin - self.t[0] * cos / self.a
        n = np.hypot(v, beta)
        ang = np.where(v == 0, np.where(beta > 0, np.pi / 2, 1.5 * np.pi), np.arctan2(beta, v))
        ang = np.where(ang < -np.pi / 2, ang + 2 * np.pi, ang)
        return ang, mu * (self.b * n)[:, None], c * self.b

    def kink_to_angle(self, s, p) -> np.ndarray:
        """Normalized angle of the given-units kink ``(s, p)`` (``p' = (p - t) / a``)."""
        return kink_angle(s, (np.asarray(p, dtype=float) - self.t[0]) / self.a)

    def angle_to_normalized(self, phi, xs: np.ndarray, xs_n: np.ndarray) -> np.ndarray:
        """Normalized angles of given-units angles ``phi`` (closed angle-interval ends): ends on
        the kink of a data point (``kink_angle(+-1, xs[j])``, compared bitwise) become that data
        point's normalized kink angle exactly, ``-pi/2, pi/2, 3pi/2`` stay, others go through their kink."""
        phi = np.asarray(phi, dtype=float)
        out = np.empty_like(phi)
        for i, f in np.ndenumerate(phi):
            if f in (-np.pi / 2, np.pi / 2, 1.5 * np.pi):
                out[i] = f
                continue
            s = 1.0 if f < np.pi / 2 else -1.0
            hit = np.flatnonzero(kink_angle(s, xs) == f)
            out[i] = kink_angle(s, xs_n[hit[0]]) if hit.size else self.kink_to_angle(s, -np.tan(f))
        return out
