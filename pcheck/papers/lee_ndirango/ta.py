"""The training-aligned (TA) dynamics of Lee & Ndirango (NeurIPS 2019), eq. (3) and Figure 1,
against gradient descent, for three label models.

Student (section 2.2): ``W = W32 W21`` (one hidden layer, linear, no bias), softmax outputs,
cross-entropy. TA initialisation (section 3): ``W0 = U_hat S0 V_hat^T`` with the noisy
teacher's singular vectors. Eq. (3), for a rank-one noisy teacher ``Sigma_hat = s_hat u v^T``:

.. math::

    \\tau \\frac{ds}{dt} = 2 s\\, u^\\top\\big(\\hat s\\, G(\\hat s u v^\\top) - s\\, G(s u v^\\top)\\big) u,
    \\qquad G(W) = \\frac1N \\sum_\\mu \\big(\\operatorname{diag} p_\\mu - p_\\mu p_\\mu^\\top\\big),
    \\; p_\\mu = \\operatorname{softmax}(W x_\\mu),

``G`` the softmax Jacobian averaged over the training inputs (their appendix A:13, not in the
seed text; the reading under which eq. 2's student term ``G(W) W`` is the exact population
gradient, Stein's lemma ``E[softmax(Wx) x^T] = E[J(Wx)] W`` for ``x ~ N(0, I)``). With
``g_mu = v . x_mu``: ``u^T G(s u v^T) u = (1/N) sum_mu Var_{softmax(s g_mu u)}(u) =: gamma(s)``
(:func:`softmax_gain`), so eq. (3) reads ``ds/dt = 2 s (s_hat gamma(s_hat) - s gamma(s))``.
Its teacher term ``G(Sigma_hat) Sigma_hat = E[softmax(Sigma_hat x) x^T]`` is the force of *soft*
labels; eq. (3) therefore holds where the labels' conditional law is ``softmax(Sigma_hat x)``.

Label models (:data:`LABEL_MODELS`), all with a rank-one ``Sigma_hat`` (eq. 3's hypothesis):

* ``"argmax"``: ``Sigma_hat`` the rank-one part ``s_hat u v^T`` of ``W + xi`` (``W = s u0 v0^T``,
  ``xi_ij ~ N(0, sigma^2/N1)``), labels ``argmax Sigma_hat x``: deterministic and invariant under
  ``Sigma_hat -> c Sigma_hat``, so gradient descent cannot know ``s_hat``.
* ``"soft"``: the same ``Sigma_hat``, soft targets ``softmax(Sigma_hat x)``.
* ``"per-sample"``: labels ``argmax (W x + sigma z)``, ``z`` fresh per sample (the authors'
  noise), ``W = s u v^T``; eq. (3) uses the effective ``s_hat`` of :func:`effective_s_hat` (the
  population maximum-likelihood scale of ``softmax(s_hat g u)`` for these labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq
from scipy.special import ndtr

from pcheck.core.validate import as_array, as_count, as_scalar
from pcheck.papers.lee_ndirango.student import softmax
from pcheck.papers.lee_ndirango.teachers import orthonormal

LABEL_MODELS = ("argmax", "soft", "per-sample")


def softmax_gain(s: float, u, g) -> float:
    """``u^T G(s u v^T) u = (1/N) sum_mu Var_{p_mu}(u)``, ``p_mu = softmax(s g_mu u)``,
    ``g_mu = v . x_mu``: the TA reduction of ``G`` in their eq. (3)."""
    P = softmax(s * np.multiply.outer(g, u))
    mean = P @ u
    return float(np.mean(P @ (u * u) - mean * mean))


def ta_paper_force(s: float, s_hat: float, u, g) -> float:
    """Right side of their eq. (3) divided by ``2 s``: ``s_hat gamma(s_hat) - s gamma(s)``."""
    return s_hat * softmax_gain(s_hat, u, g) - s * softmax_gain(s, u, g)


def integrate_ta(force, s0: float, times) -> np.ndarray:
    """Solve ``ds/dt = 2 s force(s)`` from ``s(0) = s0`` at ``times`` (scipy ``solve_ivp``,
    RK45, ``rtol = 1e-9``: far below the spread of the runs it is compared with)."""
    times = as_array(times, "times", ndim=1)
    s0 = as_scalar(s0, "s0", minimum=0.0, strict=True)
    sol = solve_ivp(lambda t, s: 2.0 * s * force(s[0]), (0.0, float(times[-1])), [s0], t_eval=times,
                    rtol=1e-9, atol=1e-12)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y[0]


def label_probabilities(g, u, *, s: float, sigma: float, nodes: int = 48) -> np.ndarray:
    """``P(y = c | g)`` for ``y = argmax(s u g + sigma z)``, ``z ~ N(0, I)``: conditioning on
    ``z_c = w``, ``P(y = c | g) = E_w[prod_{j != c} Phi(w + s (u_c - u_j) g / sigma)]``, a
    one-dimensional Gauss-Hermite quadrature (``nodes`` points) per ``g``; ``(len(g), C)``."""
    w, weight = np.polynomial.hermite_e.hermegauss(nodes)
    weight = weight / weight.sum()
    gap = s * (u[:, None] - u[None, :]) / sigma                       # (C, C): u_c - u_j
    arg = w[None, :, None, None] + np.multiply.outer(g, gap)[:, None]   # (G, W, C, C)
    cdf = ndtr(arg)
    idx = np.arange(u.size)
    cdf[:, :, idx, idx] = 1.0                                          # no factor j = c
    return np.einsum("w,gwc->gc", weight, cdf.prod(axis=3))


def effective_s_hat(u, *, s: float, sigma: float, nodes: int = 64) -> float:
    """For labels ``y = argmax(s u g + sigma z)`` (``g ~ N(0, 1)``, ``z ~ N(0, I)``): the root
    ``s_hat`` of ``E_g[g (E[u_y | g] - u . softmax(s_hat g u))] = 0``, the population
    maximum-likelihood scale of the rank-one softmax model ``softmax(s_hat g u)`` for these
    labels (Gauss-Hermite quadrature in ``g``, :func:`label_probabilities`; the left side
    decreases in ``s_hat``, so the root is unique)."""
    u = as_array(u, "u", ndim=1)
    g, weight = np.polynomial.hermite_e.hermegauss(nodes)
    weight = weight / weight.sum()
    target = weight @ (g * (label_probabilities(g, u, s=s, sigma=sigma) @ u))

    def excess(s_hat):
        return target - weight @ (g * (softmax(s_hat * np.multiply.outer(g, u)) @ u))

    return float(brentq(excess, 1e-6, 1e3, xtol=1e-12))


def fitted_s_hat(u, g, labels) -> float:
    """The training-set maximum-likelihood scale on the ray ``s u v^T``: the root of
    ``(1/N) sum_mu g_mu (u_{y_mu} - u . softmax(s g_mu u))`` (exists when the labels are not
    separable along ``v``; ``ValueError`` otherwise)."""
    def force(s_hat):
        return float(np.mean(g * (u[labels] - softmax(s_hat * np.multiply.outer(g, u)) @ u)))

    if force(1e3) >= 0:
        raise ValueError("the labels are separable along v: the likelihood on the ray has no maximum")
    return float(brentq(force, 1e-6, 1e3, xtol=1e-12))


def complete_basis(rng: np.random.Generator, first, k: int) -> np.ndarray:
    """An ``n x k`` matrix with orthonormal columns whose first column is the unit vector ``first``."""
    first = np.asarray(first, dtype=float) / np.linalg.norm(first)
    Q, R = np.linalg.qr(np.column_stack([first, rng.standard_normal((first.size, k - 1))]))
    Q = Q * np.sign(np.diag(R))
    return Q * np.sign(Q[:, 0] @ first)


def centered_direction(rng: np.random.Generator, n: int) -> np.ndarray:
    """A uniformly random unit vector orthogonal to ``(1, ..., 1)``: softmax and argmax ignore a
    common shift of the logits, so the teacher's output direction carries no such shift
    (for two classes ``u = +-(1, -1) / sqrt 2``)."""
    u = rng.standard_normal(n)
    u -= u.mean()
    return u / np.linalg.norm(u)


@dataclass
class TARuns:
    """One row of the TA comparison: per seed, the student's top and second singular values
    under gradient descent (``sgd``, ``second``, ``(R, T)`` at ``times`` = ``t / tau``), eq. (3)
    (``ode``, ``(R, T)``) and what it used: ``s_hat (R,)``, ``u (R, C)``, ``g = X v (R, N)``."""

    label_model: str
    s_hat_rule: str
    times: np.ndarray
    sgd: np.ndarray
    second: np.ndarray
    ode: np.ndarray
    s_hat: np.ndarray
    u: np.ndarray
    g: np.ndarray

    def max_deviation(self) -> np.ndarray:
        """``max_t |s_SGD(t) - s_eq3(t)| / s_eq3(t)`` per seed."""
        return np.max(np.abs(self.sgd - self.ode) / self.ode, axis=1)


#: The rows of :func:`ta_experiment`: (label model, how eq. 3's ``s_hat`` is obtained).
TA_ROWS = (("argmax", "Sigma_hat"), ("soft", "Sigma_hat"), ("per-sample", "population"),
           ("per-sample", "fitted"))


def ta_experiment(rng: np.random.Generator, *, n_classes: int, n_in: int, n_data: int, seeds: int,
                  s_teacher: float = 1.0, sigma: float = 1.0, s0: float = 1.0, rest: float = 0.01, lr: float = 1e-3,
                  steps: int = 5000, batch: int | None = None, every: int = 100) -> dict:
    """Their Figure 1 under the three label models, ``{(label model, s_hat rule): TARuns}`` for
    :data:`TA_ROWS`. Per seed: a teacher ``W = s_teacher u0 v0^T`` (``u0`` from
    :func:`centered_direction`), ``n_data`` Gaussian inputs, noise ``sigma``; a student with
    ``n_classes`` hidden units in balanced TA factors (top singular value ``s0``, the others
    ``rest``), trained by SGD with batches of ``batch`` (default the full batch: the authors'
    batch of 128 exceeds the 100 points) for ``steps`` steps of ``lr``.

    * "argmax" and "soft" share ``Sigma_hat = s_hat u v^T``, the rank-one part of ``W + xi``,
      the inputs and the TA init (singular vectors of ``W + xi``); eq. (3) uses its ``s_hat``.
    * "per-sample" labels ``argmax(W x + sigma z)``; TA init on ``u0, v0`` completed to
      orthonormal bases; eq. (3) with ``s_hat`` from :func:`effective_s_hat` ("population") or
      :func:`fitted_s_hat` on the seed's training set ("fitted"), both from the same runs.
    """
    C, N1, N = as_count(n_classes, "n_classes", minimum=2), as_count(n_in, "n_in"), as_count(n_data, "n_data")
    seeds, steps, every = as_count(seeds, "seeds"), as_count(steps, "steps"), as_count(every, "every")
    batch = N if batch is None else as_count(batch, "batch")
    if N1 < C:
        raise ValueError(f"n_in must be >= n_classes = {C} (the TA init uses {C} singular pairs), got {N1}")
    models = ("argmax", "soft", "per-sample")
    X = rng.standard_normal((seeds, N, N1))
    T = np.zeros((len(models), seeds, N, C))
    W21, W32 = np.zeros((len(models), seeds, C, N1)), np.zeros((len(models), seeds, C, C))
    root = np.sqrt(np.r_[s0, np.full(C - 1, rest)])
    ode_inputs = {rule: ([], [], []) for rule in ("Sigma_hat", "population", "fitted")}   # s_hat, u, g
    for r in range(seeds):
        u0, v0 = centered_direction(rng, C), orthonormal(rng, N1, 1)[:, 0]
        xi = rng.standard_normal((C, N1)) * (sigma / np.sqrt(N1))
        U, S, Vt = np.linalg.svd(s_teacher * np.outer(u0, v0) + xi, full_matrices=False)
        g = X[r] @ Vt[0]
        logits = S[0] * np.multiply.outer(g, U[:, 0])                          # rank-one Sigma_hat
        T[0, r] = np.eye(C)[np.argmax(logits, axis=1)]
        T[1, r] = softmax(logits)
        for m in (0, 1):
            W32[m, r], W21[m, r] = U[:, :C] * root, root[:, None] * Vt[:C]     # balanced TA factors
        for value, seq in zip((S[0], U[:, 0], g), ode_inputs["Sigma_hat"]):
            seq.append(value)
        g0 = X[r] @ v0
        y = np.argmax(s_teacher * np.multiply.outer(g0, u0) + sigma * rng.standard_normal((N, C)), axis=1)
        T[2, r, np.arange(N), y] = 1.0
        W32[2, r], W21[2, r] = complete_basis(rng, u0, C) * root, root[:, None] * complete_basis(rng, v0, C).T
        for rule, s_hat in (("population", effective_s_hat(u0, s=s_teacher, sigma=sigma)),
                            ("fitted", fitted_s_hat(u0, g0, y))):
            for value, seq in zip((s_hat, u0, g0), ode_inputs[rule]):
                seq.append(value)
    shape = (len(models) * seeds,)
    # classes on axis 1, samples last: the softmax reduces over a short, non-contiguous axis
    X_all = np.tile(X, (len(models), 1, 1))
    T_all = np.ascontiguousarray(T.reshape(shape + T.shape[2:]).transpose(0, 2, 1))      # (R, C, N)
    W21, W32 = W21.reshape(shape + W21.shape[2:]), W32.reshape(shape + W32.shape[2:])
    sv = []
    for step in range(steps + 1):
        if step % every == 0:
            sv.append(np.linalg.svd(W32 @ W21, compute_uv=False)[:, :2])
        if step == steps:
            break
        if batch < N:
            idx = rng.integers(0, N, size=(shape[0], batch))
            Xb = np.take_along_axis(X_all, idx[:, :, None], axis=1)
            Tb = np.take_along_axis(T_all, idx[:, None, :], axis=2)
        else:
            Xb, Tb = X_all, T_all
        D = softmax(W32 @ W21 @ Xb.transpose(0, 2, 1), axis=1) - Tb                     # (R, C, B)
        G = D @ Xb / Xb.shape[1]                                                        # dL/dW
        W32, W21 = W32 - lr * G @ W21.transpose(0, 2, 1), W21 - lr * W32.transpose(0, 2, 1) @ G
    sv = np.stack(sv, axis=-1).reshape(len(models), seeds, 2, -1)
    times = np.arange(sv.shape[3]) * every * lr
    odes = {rule: integrate_eq3(np.array(v[0]), np.array(v[1]), np.array(v[2]), s0, times)
            for rule, v in ode_inputs.items()}
    out = {}
    for model, rule in TA_ROWS:
        m = models.index(model)
        s_hat, u, g = (np.array(v) for v in ode_inputs[rule])
        out[(model, rule)] = TARuns(model, rule, times, sv[m, :, 0], sv[m, :, 1], odes[rule], s_hat, u, g)
    return out


def softmax_gains(s, U, Gm) -> np.ndarray:
    """:func:`softmax_gain` for ``R`` systems at once: ``s (R,)``, ``U (R, C)``, ``Gm (R, N)``."""
    P = softmax(s[:, None, None] * Gm[:, :, None] * U[:, None, :])          # (R, N, C)
    mean = np.einsum("rnc,rc->rn", P, U)
    return np.mean(np.einsum("rnc,rc->rn", P, U * U) - mean * mean, axis=1)


def integrate_eq3(s_hat, U, Gm, s0: float, times) -> np.ndarray:
    """Eq. (3) for ``R`` seeds at once: ``ds_r/dt = 2 s_r (s_hat_r gamma_r(s_hat_r) - s_r gamma_r(s_r))``
    (``gamma_r`` from the seed's ``u_r`` and ``g_r = X_r v_r``) from ``s_r(0) = s0``, at ``times``;
    scipy ``solve_ivp`` (RK45, ``rtol = 1e-9``). Returns ``(R, T)``."""
    times = as_array(times, "times", ndim=1)
    s0 = as_scalar(s0, "s0", minimum=0.0, strict=True)
    teacher = s_hat * softmax_gains(s_hat, U, Gm)
    sol = solve_ivp(lambda t, s: 2.0 * s * (teacher - s * softmax_gains(s, U, Gm)), (0.0, float(times[-1])),
                    np.full(len(s_hat), s0), t_eval=times, rtol=1e-9, atol=1e-12)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y
