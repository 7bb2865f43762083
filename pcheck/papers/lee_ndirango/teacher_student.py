"""Student-teacher softmax classifiers of Lee & Ndirango (NeurIPS 2019, "Generalization in
multitask deep neural classifiers: a statistical physics approach").

Conventions: inputs are rows, ``X`` is ``(N_data, N1)`` (the paper's ``X`` is its
transpose); a composite weight ``W = W32 W21`` is ``(N3, N1)`` and classifies ``x`` as
``argmax_c (W x)_c``.

* Teacher (their section 2.1): ``W = U diag(s) V^T`` of rank ``N2``, noise ``xi`` with
  i.i.d. ``N(0, sigma^2 / N1)`` entries, noisy teacher ``Sigma_hat = W + xi``; training
  labels ``y_hat = argmax Sigma_hat x``, test labels ``y = argmax W x``.
* Student (section 2.2): ``W = W32 W21`` with softmax outputs and the cross-entropy
  loss of their eq. (1), ``L = -(1/N) sum_mu ln softmax(W x_mu)_{y_hat_mu}``, trained by
  SGD; a multi-task student (section 4.2) shares ``W21`` and has one head ``W32^A``,
  ``W32^B`` per task, loss ``alpha_A L_A + alpha_B L_B``.
* Training-aligned (TA) dynamics (their eq. 2, 3): in time ``t / tau = steps x lr``,

  .. math::

      \\frac{d s}{d(t/\\tau)} = 2 s\\, \\hat u^\\top\\big(\\hat s\\, G(\\hat s \\hat u \\hat v^\\top)
          - s\\, G(s \\hat u \\hat v^\\top)\\big)\\hat u,
      \\qquad G(W) = \\frac1N \\sum_\\mu \\big(\\operatorname{diag} p_\\mu - p_\\mu p_\\mu^\\top\\big),
      \\; p_\\mu = \\operatorname{softmax}(W x_\\mu),

  with ``G`` the softmax Jacobian averaged over the training inputs (the paper's
  appendix A, not in the seed text, defines it; this is the reading under which
  ``G(W) W = E[softmax(W x) x^T]`` holds for Gaussian ``x`` by Stein's lemma). See
  proofs_notes/lee-ndirango-ta-ode.md for the derivation and :func:`ta_ray_force` for
  the exact gradient flow restricted to the TA ray.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.integrate import solve_ivp

from pcheck.core.validate import as_array, as_count, as_scalar

# --------------------------------------------------------------------------- teachers


@dataclass(frozen=True)
class Teacher:
    """Noise-free composite ``W (N3, N1)`` and noise ``xi (N3, N1)``; ``noisy = W + xi``."""

    W: np.ndarray
    xi: np.ndarray

    @property
    def noisy(self) -> np.ndarray:
        """``Sigma_hat = W + xi``, the teacher that labels the training data."""
        return self.W + self.xi

    def labels(self, X, *, noisy: bool) -> np.ndarray:
        """``argmax_c (Sigma_hat x)_c`` (noisy, training) or ``argmax_c (W x)_c`` (test), per row of ``X``."""
        X = as_array(X, "X", ndim=2, shape=(None, self.W.shape[1]))
        return np.argmax(X @ (self.noisy if noisy else self.W).T, axis=1)


def orthonormal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``n x k`` matrix with orthonormal columns, Haar-distributed (QR with sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


def related_directions(rng: np.random.Generator, V_A, r: float) -> np.ndarray:
    """``V_B = r V_A + sqrt(1 - r^2) V_perp`` with ``V_perp`` orthonormal and orthogonal to
    ``V_A``: orthonormal columns with ``V_B^T V_A = r I`` (their section 4.5, eq. 4)."""
    V_A = as_array(V_A, "V_A", ndim=2)
    r = as_scalar(r, "r", minimum=0.0)
    n, k = V_A.shape
    if r > 1:
        raise ValueError(f"r must be in [0, 1], got {r}")
    if n < 2 * k:
        raise ValueError(f"V_A must have at least twice as many rows as columns, got shape {V_A.shape}")
    Q = orthonormal(rng, n, 2 * k)
    basis = np.linalg.qr(np.hstack([V_A, Q]))[0][:, k:2 * k]  # orthonormal, orthogonal to V_A
    return r * V_A + np.sqrt(1.0 - r * r) * basis


def make_teacher(rng: np.random.Generator, *, n_in: int, singular_values, sigma: float,
                 U=None, V=None) -> Teacher:
    """Teacher ``W = U diag(s) V^T`` with noise ``xi_ij ~ N(0, sigma^2 / N1)`` (their section 2.1).

    ``singular_values`` has length ``N2`` (the rank); ``U (N3, N2)`` and ``V (N1, N2)``
    default to Haar-random orthonormal columns, ``N3 = N2`` when ``U`` is not given.
    """
    n_in = as_count(n_in, "n_in")
    s = as_array(singular_values, "singular_values", ndim=1)
    sigma = as_scalar(sigma, "sigma", minimum=0.0)
    rank = s.shape[0]
    U = orthonormal(rng, rank, rank) if U is None else as_array(U, "U", ndim=2, shape=(None, rank))
    V = orthonormal(rng, n_in, rank) if V is None else as_array(V, "V", ndim=2, shape=(n_in, rank))
    W = (U * s) @ V.T
    return Teacher(W, rng.standard_normal(W.shape) * (sigma / np.sqrt(n_in)))


# --------------------------------------------------------------------------- the student


def softmax(Z: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, shifted by the maximum (no overflow)."""
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def cross_entropy(W, X, y) -> float:
    """Their eq. (1): ``-(1/N) sum_mu ln softmax(W x_mu)_{y_mu}``."""
    W = as_array(W, "W", ndim=2)
    X = as_array(X, "X", ndim=2, shape=(None, W.shape[1]))
    y = as_labels(y, "y", n=X.shape[0], n_classes=W.shape[0])
    Z = X @ W.T
    Z = Z - Z.max(axis=1, keepdims=True)
    return float(np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y]))


def as_labels(y, name: str, *, n: int, n_classes: int) -> np.ndarray:
    """``y`` as ``n`` integer class labels in ``0..n_classes-1``."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} must lie in 0..{n_classes - 1}, got values in {y.min()}..{y.max()}")
    return y


@dataclass
class Task:
    """Training data of one head for ``R`` runs: input pools ``X (P, N, N1)``, the pool of
    each run ``pool (R,)`` and labels ``y (R, N)``; runs may share inputs, not labels."""

    X: np.ndarray
    pool: np.ndarray
    y: np.ndarray


def gradients(W21, heads, batches, alpha):
    """Gradients of ``sum_k alpha_k L_k`` (their eq. 1 per head, mean over each batch) for
    ``R`` students: ``batches[k] = (X_b (R, B, N1), y_b (R, B))``; with ``H = X_b W21^T``,
    ``D = alpha_k (softmax(H W32^T) - onehot(y_b)) / B``: ``grad_{W32} = D^T H`` and
    ``grad_{W21} = sum_k (D W32)^T X_b``. Returns ``(grad_W21, [grad_W32 per head])``."""
    g21, g32 = np.zeros_like(W21), []
    for k, (W32, (Xb, yb)) in enumerate(zip(heads, batches)):
        R, B = yb.shape
        H = Xb @ W21.transpose(0, 2, 1)                                   # (R, B, N2)
        D = softmax(H @ W32.transpose(0, 2, 1))                           # (R, B, N3)
        D[np.arange(R)[:, None], np.arange(B)[None, :], yb] -= 1.0
        D *= (alpha[:, k] / B)[:, None, None]
        g21 += (D @ W32).transpose(0, 2, 1) @ Xb
        g32.append(D.transpose(0, 2, 1) @ H)
    return g21, g32


def sgd(W21, heads, tasks, *, lr: float, steps: int, batch: int, rng: np.random.Generator,
        alpha=None, monitor=None, every: int = 1):
    """Minibatch SGD, ``W <- W - lr grad`` (see :func:`gradients`), on ``sum_k alpha_k L_k``
    for ``R`` students at once.

    ``W21 (R, N2, N1)`` is the shared trunk, ``heads[k] (R, N3_k, N2)`` the heads, and
    ``tasks[k]`` a :class:`Task`; each step draws ``batch`` indices per run and task, with
    replacement. ``alpha (R, K)`` (default ones) weighs the losses per run; ``alpha = 0``
    for a head freezes it and removes its loss. ``monitor(W21, heads)`` is called at steps
    ``0, every, 2 every, ...`` and the results are returned stacked on a last axis (or
    None). Arrays are updated in place. Time ``t / tau`` of their eq. (2) is ``steps x lr``.
    """
    lr = as_scalar(lr, "lr", minimum=0.0, strict=True)
    steps, batch, every = as_count(steps, "steps", minimum=0), as_count(batch, "batch"), as_count(every, "every")
    if not (isinstance(W21, np.ndarray) and W21.dtype == np.float64 and W21.ndim == 3):
        raise TypeError("W21 must be a float64 array of shape (R, N2, N1), updated in place")
    R, n_hidden, n_in = W21.shape
    for k, (W32, task) in enumerate(zip(heads, tasks)):
        if not (isinstance(W32, np.ndarray) and W32.dtype == np.float64 and W32.shape[::2] == (R, n_hidden)):
            raise ValueError(f"heads[{k}] must be a float64 array of shape ({R}, N3, {n_hidden})")
        if task.X.shape[2] != n_in or task.y.shape[0] != R or task.pool.shape != (R,):
            raise ValueError(f"tasks[{k}] must hold X (P, N, {n_in}), pool ({R},) and y ({R}, N)")
    alpha = np.ones((R, len(heads))) if alpha is None else as_array(alpha, "alpha", ndim=2, shape=(R, len(heads)))
    records = []
    for step in range(steps + 1):
        if monitor is not None and step % every == 0:
            records.append(monitor(W21, heads))
        if step == steps:
            break
        batches = []
        for task in tasks:
            idx = rng.integers(0, task.y.shape[1], size=(R, batch))
            batches.append((task.X[task.pool[:, None], idx], np.take_along_axis(task.y, idx, axis=1)))
        g21, g32 = gradients(W21, heads, batches, alpha)
        for W32, g in zip(heads, g32):
            W32 -= lr * g
        W21 -= lr * g21
    return None if monitor is None else np.stack(records, axis=-1)


def composite(W21, W32) -> np.ndarray:
    """``W32 W21`` per run."""
    return W32 @ W21


def top_singular_value(W21, heads) -> np.ndarray:
    """Monitor: the largest singular value of the first head's composite ``W32 W21``, per run."""
    return np.linalg.svd(composite(W21, heads[0]), compute_uv=False)[:, 0]


def top_two_singular_values(W21, heads) -> np.ndarray:
    """Monitor: the two largest singular values of the first head's composite, ``(R, 2)``."""
    return np.linalg.svd(composite(W21, heads[0]), compute_uv=False)[:, :2]


def accuracy_monitor(X_test, y_test):
    """Monitor factory: test accuracy of head 0, ``mean_x [argmax (W32 W21 x) = y]`` per run,
    on shared inputs ``X_test (M, N1)`` and per-run labels ``y_test (R, M)``."""
    def monitor(W21, heads):
        W = composite(W21, heads[0])                                      # (R, N3, N1)
        Z = (X_test @ W.reshape(-1, W.shape[2]).T).reshape(len(X_test), *W.shape[:2])  # one GEMM
        return np.mean(np.argmax(Z, axis=2).T == y_test, axis=1)
    return monitor


# --------------------------------------------------------------------------- TA dynamics


def ta_init(U_hat, V_hat, s0: float, rest: float, n_hidden: int):
    """Balanced factors of the TA initialisation ``W0 = U_hat S0 V_hat^T`` (their section 3),
    ``S0 = diag(s0, rest, ..., rest)`` on the first ``k = min(N2, rank)`` singular pairs
    (columns of ``U_hat (N3, rank)``, ``V_hat (N1, rank)``): ``W32 = U_hat sqrt(S0) E^T``,
    ``W21 = E sqrt(S0) V_hat^T`` with ``E`` the first ``k`` unit vectors of the hidden layer,
    so that ``W32^T W32 = W21 W21^T`` (balanced)."""
    k = min(n_hidden, U_hat.shape[1])
    root = np.sqrt(np.r_[s0, np.full(k - 1, rest)])
    W32 = np.zeros((U_hat.shape[0], n_hidden))
    W21 = np.zeros((n_hidden, V_hat.shape[0]))
    W32[:, :k] = U_hat[:, :k] * root
    W21[:k] = root[:, None] * V_hat[:, :k].T
    return W32, W21


@dataclass
class TATrajectories:
    """SGD and the two TA ODEs per seed, at ``times = steps x lr`` (``t / tau``)."""

    times: np.ndarray
    sgd: np.ndarray        # (R, T) top singular value of the student
    second: np.ndarray     # (R, T) its second singular value (eq. 3 assumes it is suppressed)
    paper: np.ndarray      # (R, T) their eq. (3)
    ray: np.ndarray        # (R, T) gradient flow on the TA ray, ds/dt = -2 s dL/ds
    s_hat: np.ndarray      # (R,) top singular value of the noisy teacher


def ta_experiment(rng: np.random.Generator, *, n_classes: int, n_in: int, n_data: int, n_hidden: int,
                  s_teacher: float, sigma: float, s0: float, rest: float, lr: float, steps: int,
                  batch: int, seeds: int, every: int) -> TATrajectories:
    """Their Figure 1: rank-one teacher ``s_teacher u v^T`` plus noise, ``n_data`` Gaussian
    inputs, a student in the TA initialisation with top singular value ``s0`` (others
    ``rest``) trained by SGD; ``seeds`` independent teachers, data sets and SGD runs."""
    n_classes, n_in, n_data = as_count(n_classes, "n_classes", minimum=2), as_count(n_in, "n_in"), \
        as_count(n_data, "n_data")
    seeds, n_hidden = as_count(seeds, "seeds"), as_count(n_hidden, "n_hidden")
    W21 = np.zeros((seeds, n_hidden, n_in))
    W32 = np.zeros((seeds, n_classes, n_hidden))
    X = rng.standard_normal((seeds, n_data, n_in))
    y = np.zeros((seeds, n_data), dtype=np.int64)
    fixed = []
    for r in range(seeds):
        t = make_teacher(rng, n_in=n_in, singular_values=[s_teacher], sigma=sigma,
                         U=orthonormal(rng, n_classes, 1))
        y[r] = t.labels(X[r], noisy=True)
        U, S, Vt = np.linalg.svd(t.noisy, full_matrices=False)
        W32[r], W21[r] = ta_init(U, Vt.T, s0, rest, n_hidden)
        fixed.append((S[0], U[:, 0], X[r] @ Vt[0], y[r]))
    traj = sgd(W21, [W32], [Task(X, np.arange(seeds), y)], lr=lr, steps=steps, batch=batch, rng=rng,
               monitor=top_two_singular_values, every=every)
    times = np.arange(traj.shape[2]) * every * lr
    paper = np.array([integrate_ta(lambda s, f=f: ta_paper_force(s, f[0], f[1], f[2]), s0, times) for f in fixed])
    ray = np.array([integrate_ta(lambda s, f=f: ta_ray_force(s, f[1], f[2], f[3]), s0, times) for f in fixed])
    return TATrajectories(times, traj[:, 0], traj[:, 1], paper, ray, np.array([f[0] for f in fixed]))


def softmax_gain(s: float, u, g) -> float:
    """``u^T G(s u v^T) u = (1/N) sum_mu Var_{p_mu}(u)``, ``p_mu = softmax(s g_mu u)``,
    ``g_mu = v . x_mu``: the TA reduction of ``G`` in their eq. (3)."""
    P = softmax(s * np.multiply.outer(g, u))
    mean = P @ u
    return float(np.mean(P @ (u * u) - mean * mean))


def ta_paper_force(s: float, s_hat: float, u, g) -> float:
    """Right side of their eq. (3) divided by ``2 s``: ``s_hat gain(s_hat) - s gain(s)``."""
    return s_hat * softmax_gain(s_hat, u, g) - s * softmax_gain(s, u, g)


def ta_ray_force(s: float, u, g, labels) -> float:
    """``-dL/ds`` of the loss on the TA ray ``W = s u v^T``:
    ``(1/N) sum_mu g_mu (u_{y_mu} - u . softmax(s g_mu u))``; its ``2 s``-multiple is the
    exact gradient flow of balanced factors that stay on the ray."""
    P = softmax(s * np.multiply.outer(g, u))
    return float(np.mean(g * (u[labels] - P @ u)))


def integrate_ta(force, s0: float, times) -> np.ndarray:
    """Solve ``ds/dt = 2 s force(s)`` from ``s(0) = s0`` at ``times`` (scipy ``solve_ivp``,
    RK45, ``rtol = 1e-9``: far below the SGD spread the solution is compared with)."""
    times = as_array(times, "times", ndim=1)
    s0 = as_scalar(s0, "s0", minimum=0.0, strict=True)
    sol = solve_ivp(lambda t, s: 2.0 * s * force(s[0]), (0.0, float(times[-1])), [s0], t_eval=times,
                    rtol=1e-9, atol=1e-12)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y[0]


# --------------------------------------------------------------------------- multi-task benefit


@dataclass
class BenefitMap:
    """Best test accuracy of task A over training, alone and with task B, per seed.

    ``baseline (S,)``, ``multitask (S, n_r, n_snr)``; ``benefit = multitask - baseline``
    is their ``M_{A<-B}`` measured in accuracy (section 4.4)."""

    r: np.ndarray
    s_B: np.ndarray
    n_data: int
    baseline: np.ndarray
    multitask: np.ndarray
    ceiling: np.ndarray     # (S,) test accuracy of the noisy teacher Sigma_hat_A itself

    @property
    def benefit(self) -> np.ndarray:
        return self.multitask - self.baseline[:, None, None]


def benefit_map(rng: np.random.Generator, *, r, s_B, s_A: float, n_data: int, n_in: int, n_classes: int,
                sigma: float, seeds: int, lr: float, steps: int, batch: int, every: int, n_test: int,
                init_scale: float, n_hidden: int | None = None) -> BenefitMap:
    """Their Figure 2 at one training-set size: main task A with teacher singular values all
    ``s_A`` (rank ``N2 = N3 = n_classes``, as in their section 4.5), auxiliary task B with
    singular values ``s_B`` and ``V_B^T V_A = r I``, both with noise ``sigma``, ``n_data``
    training points each; students with ``n_hidden`` (default ``n_classes``) hidden units from a random
    init (entries ``N(0, init_scale^2 / fan_in)``), trained by SGD on ``L_A`` (baseline) and
    on ``L_A + L_B`` (multi-task) from the same init; accuracy on ``n_test`` fresh inputs
    with noise-free labels, best over the checkpoints every ``every`` steps."""
    r, s_B = as_array(r, "r", ndim=1), as_array(s_B, "s_B", ndim=1)
    n_in, n_classes, seeds = as_count(n_in, "n_in"), as_count(n_classes, "n_classes", minimum=2), \
        as_count(seeds, "seeds")
    n_data, n_test = as_count(n_data, "n_data"), as_count(n_test, "n_test")
    n_hidden = n_classes if n_hidden is None else as_count(n_hidden, "n_hidden")
    n_mt = r.size * s_B.size
    per_seed = 1 + n_mt                                     # run 0 of each seed is the baseline
    R = seeds * per_seed
    seed_of_run = np.repeat(np.arange(seeds), per_seed)
    X_A = rng.standard_normal((seeds, n_data, n_in))
    X_B = rng.standard_normal((seeds, n_data, n_in))
    X_test = rng.standard_normal((n_test, n_in))
    y_A = np.zeros((R, n_data), dtype=np.int64)
    y_B = np.zeros((R, n_data), dtype=np.int64)
    y_test = np.zeros((R, n_test), dtype=np.int64)
    ceiling = np.zeros(seeds)
    for k in range(seeds):
        V_A = orthonormal(rng, n_in, n_classes)
        A = make_teacher(rng, n_in=n_in, singular_values=np.full(n_classes, s_A), sigma=sigma, V=V_A)
        U_B = orthonormal(rng, n_classes, n_classes)
        xi_B = rng.standard_normal(A.W.shape) * (sigma / np.sqrt(n_in))
        basis_seed = rng.integers(2**63)                      # the same V_perp for every r
        rows = slice(k * per_seed, (k + 1) * per_seed)
        y_A[rows], y_test[rows] = A.labels(X_A[k], noisy=True), A.labels(X_test, noisy=False)
        ceiling[k] = np.mean(A.labels(X_test, noisy=True) == y_test[k * per_seed])
        cells = ((r_i, s_j) for r_i in r for s_j in s_B)      # row-major over (r, s_B)
        for i, (r_i, s_j) in enumerate(cells):
            V_B = related_directions(np.random.default_rng(basis_seed), V_A, r_i)
            y_B[k * per_seed + 1 + i] = Teacher((U_B * s_j) @ V_B.T, xi_B).labels(X_B[k], noisy=True)
    init = [rng.standard_normal((seeds, n_hidden, n_in)) * (init_scale / np.sqrt(n_in)),
            rng.standard_normal((seeds, n_classes, n_hidden)) * (init_scale / np.sqrt(n_hidden)),
            rng.standard_normal((seeds, n_classes, n_hidden)) * (init_scale / np.sqrt(n_hidden))]
    W21, W32A, W32B = (w[seed_of_run] for w in init)
    alpha = np.ones((R, 2))
    alpha[::per_seed, 1] = 0.0                               # baselines: L_A only
    tasks = [Task(X_A, seed_of_run, y_A), Task(X_B, seed_of_run, y_B)]
    acc = sgd(W21, [W32A, W32B], tasks, lr=lr, steps=steps, batch=batch, rng=rng, alpha=alpha,
              monitor=accuracy_monitor(X_test, y_test), every=every)
    best = acc.max(axis=1).reshape(seeds, per_seed)
    return BenefitMap(r, s_B, n_data, best[:, 0], best[:, 1:].reshape(seeds, r.size, s_B.size), ceiling)


# --------------------------------------------------------------------------- statistics and figure


def mean_interval(samples, level: float = 0.95) -> tuple[float, float, float]:
    """``(mean, lo, hi)``: the Student-t ``level`` confidence interval of the mean of
    independent ``samples`` (one per seed), ``mean -+ t_{(1+level)/2, S-1} sd / sqrt(S)``."""
    samples = as_array(samples, "samples", ndim=1)
    if samples.size < 2:
        raise ValueError(f"samples must hold at least two values, got {samples.size}")
    mean = float(samples.mean())
    half = float(stats.t.ppf((1 + level) / 2, samples.size - 1) * samples.std(ddof=1) / np.sqrt(samples.size))
    return mean, mean - half, mean + half


def benefit_figure(benefit, rows, cols, *, row_label: str = "relatedness r_AB",
                   col_label: str = "auxiliary SNR s_B / sigma", title: str = ""):
    """Heat map of the seed mean of ``benefit (S, len(rows), len(cols))``, each cell
    annotated with the mean and the half-width of its 95% interval; a
    :class:`matplotlib.figure.Figure` (matplotlib imported here, no pyplot state)."""
    from matplotlib.figure import Figure

    benefit = as_array(benefit, "benefit", ndim=3, shape=(None, len(rows), len(cols)))
    cells = [[mean_interval(benefit[:, i, j]) for j in range(len(cols))] for i in range(len(rows))]
    mean = np.array([[c[0] for c in row] for row in cells])
    fig = Figure(figsize=(1.3 * len(cols) + 2.5, 0.6 * len(rows) + 1.8))
    ax = fig.add_subplot()
    lim = max(float(np.abs(mean).max()), 1e-3)
    image = ax.imshow(mean, cmap="RdBu", vmin=-lim, vmax=lim, origin="lower", aspect="auto")
    ax.set_xticks(range(len(cols)), [f"{c:g}" for c in cols])
    ax.set_yticks(range(len(rows)), [f"{r:g}" for r in rows])
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.set_title(title, fontsize=9)
    for i, row in enumerate(cells):
        for j, (m, lo, hi) in enumerate(row):
            ax.text(j, i, f"{m:+.3f}\n\u00b1{(hi - lo) / 2:.3f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label="M_A<-B (test accuracy)")
    fig.tight_layout()
    return fig


def write_benefit_figure(path, benefit, rows, cols, **labels):
    """Write :func:`benefit_figure` as a PNG at ``path`` (see :func:`save_figure`)."""
    return save_figure(benefit_figure(benefit, rows, cols, **labels), path)


def trajectory_figure(trajectories: dict, *, title: str = ""):
    """Their Figure 1: the student's top singular value against ``t / tau`` per label of
    ``trajectories`` (label -> :class:`TATrajectories`): SGD seed mean with a band of one
    standard deviation, eq. (3) and the TA-ray flow (seed means)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4))
    ax = fig.add_subplot()
    for i, (label, tr) in enumerate(trajectories.items()):
        color = f"C{i}"
        mean, sd = tr.sgd.mean(axis=0), tr.sgd.std(axis=0)
        ax.fill_between(tr.times, mean - sd, mean + sd, color=color, alpha=0.2, linewidth=0)
        ax.plot(tr.times, mean, color=color, label=f"{label}: SGD")
        ax.plot(tr.times, tr.paper.mean(axis=0), color=color, linestyle="--", label=f"{label}: eq. (3)")
        ax.plot(tr.times, tr.ray.mean(axis=0), color=color, linestyle=":", label=f"{label}: TA-ray flow")
    ax.set_xlabel("t / tau (steps x learning rate)")
    ax.set_ylabel("top singular value s")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def save_figure(fig, path):
    """Save ``fig`` as a PNG at ``path`` with its first axes' title and labels in the PNG text
    chunks (``Title``, ``Description``); returns the path."""
    from pathlib import Path

    path = Path(path)
    ax = fig.axes[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Title": ax.get_title(),
                                         "Description": f"x: {ax.get_xlabel()}; y: {ax.get_ylabel()}"})
    return path
