"""HTW Appendix B: a deep stacked network learns a periodic representation shared by
periodic tasks.

Architecture (HTW Figure 6, Appendix B): ``f = h_3 o sigma o h_2 o sigma o h_1`` with
``d_in = 1``, bottlenecks ``d_1 = d_2 = 1``, ``sigma = id`` and ``ell_inv = id``, so the
shared representation is ``H = h_2 o h_1 : R -> R`` and task ``k`` is ``f_k = (h_3)_k o H``.

Tasks (our choice; the paper only says "periodic with the same periodicity"): with the
triangle wave ``tri(x) = 2 |x/P - floor(x/P) - 1/2|`` of period ``P``,
``f_k(x) = a_k cos(pi m_k tri(x) + phi_k)`` -- periodic, and exactly of the form
``g_k o H`` with a periodic ``H``, so a periodic representation serves all tasks at once.
Data-rich tasks are sampled on the whole interval ``[0, periods P]``; data-poor tasks only
on its first period, and are tested on the rest (where only a periodic ``H`` learned from
the other tasks can tell them what happens).

Training: HTW eq. (4) with a masked loss (task k sees only its observed points),

.. math:: \\min_\\theta \\sum_{i,k} M_{ik} (f_{\\theta,k}(x_i) - y_{ik})^2 + \\lambda \\|\\theta\\|_2^2,

by L-BFGS on the full parameter vector with analytic gradients (back-propagation through
the stacks), from several random starts; the best objective wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.network import Network, Stack
from pcheck.core.validate import as_array, as_count, as_scalar
from pcheck.problems.random_features import observation_mask

#: L-BFGS stopping: gradient sup-norm and relative objective decrease; 1e-9 / 1e-12
#: are well below the differences between local minima the checks compare (>= 1e-2).
LBFGS_GTOL = 1e-9
LBFGS_FTOL = 1e-12
#: L-BFGS memory (pairs kept) and the Armijo constant of the backtracking line search.
LBFGS_MEMORY = 10
ARMIJO = 1e-4


#: The Appendix B run drawn by ``pcheck plot appendix-b`` and checked by the ledger:
#: weight decay, hidden widths of the three stacks (``n >> N`` is out of reach for a
#: seconds-long L-BFGS run; 32 neurons per stack already over-parameterize 24 points),
#: random starts and L-BFGS iterations per start.
APPENDIX_B_DEFAULTS = dict(lam=1e-3, neurons=(32, 16, 32), restarts=4, maxiter=3000)


@dataclass(frozen=True)
class PeriodicTasks:
    """A periodic task family (module docstring): ``X (N, 1)``, ``Y (N, T)``, observation
    ``mask (N, T)``, held-out ``X_test``, ``Y_test``, the ``period`` and the indices of
    the data-poor tasks ``poor``."""

    X: np.ndarray
    Y: np.ndarray
    mask: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    period: float
    periods: int
    poor: tuple


def triangle_wave(x, period: float) -> np.ndarray:
    """``tri(x) = 2 |x/P - floor(x/P) - 1/2|``: 1 at multiples of ``P``, 0 half-way."""
    t = np.asarray(x, dtype=float) / period
    return 2.0 * np.abs(t - np.floor(t) - 0.5)


def periodic_tasks(*, tasks: int = 7, poor: int = 1, points: int = 24, poor_points: int = 6, periods: int = 3,
                   period: float = 1.0, noise: float = 0.0, rng=None) -> PeriodicTasks:
    """Sample the family of the module docstring: ``tasks`` outputs on ``[0, periods P]``,
    ``points`` evenly spread inputs (jittered), the last ``poor`` tasks observed only at
    ``poor_points`` of them in the first period; held-out points on the whole interval."""
    tasks, poor, points = as_count(tasks, "tasks"), as_count(poor, "poor", minimum=0), as_count(points, "points")
    poor_points, periods = as_count(poor_points, "poor_points"), as_count(periods, "periods")
    period = as_scalar(period, "period", minimum=0.0, strict=True)
    noise = as_scalar(noise, "noise", minimum=0.0)
    if poor >= tasks:
        raise ValueError(f"poor must be < tasks = {tasks}, got {poor}")
    rng = np.random.default_rng(rng)
    a = rng.uniform(0.5, 1.0, tasks)
    m = rng.uniform(0.5, 1.5, tasks)
    phi = rng.uniform(0, 2 * np.pi, tasks)

    def truth(x):
        return a * np.cos(np.pi * m * triangle_wave(x, period)[:, None] + phi)

    span = periods * period
    X = (np.arange(points) + rng.uniform(0.1, 0.9, points)) * span / points
    first = np.flatnonzero(X < period)
    if poor_points > first.size:
        raise ValueError(f"poor_points = {poor_points} exceeds the {first.size} inputs in the first period")
    mask = np.ones((points, tasks), dtype=bool)
    keep = rng.choice(first, poor_points, replace=False)
    mask[:, tasks - poor:] = False
    mask[keep, tasks - poor:] = True
    Y = truth(X) + noise * rng.standard_normal((points, tasks))
    X_test = np.linspace(0, span, 8 * points + 1)
    return PeriodicTasks(X[:, None], Y, mask, X_test[:, None], truth(X_test), period, periods,
                         tuple(range(tasks - poor, tasks)))


def _shapes(widths, neurons):
    return [((n, widths[j]), (n,), (widths[j + 1], n), (widths[j + 1],)) for j, n in enumerate(neurons)]


def _views(theta: np.ndarray, widths, neurons) -> list:
    """``[(V, b, W, c), ...]`` per stack: reshaped views into ``theta`` (row-major, in order)."""
    params, at = [], 0
    for shapes in _shapes(widths, neurons):
        arrays = []
        for shape in shapes:
            size = int(np.prod(shape))
            arrays.append(theta[at:at + size].reshape(shape))
            at += size
        params.append(arrays)
    return params


def unpack(theta: np.ndarray, widths, neurons) -> Network:
    """The identity-activation :class:`~pcheck.core.network.Network` with parameter vector
    ``theta`` (stacks in order, each ``V, b, W, c`` flattened row-major)."""
    return Network([Stack(*arrays) for arrays in _views(theta, widths, neurons)], activation="identity")


def pack(network: Network) -> np.ndarray:
    """Inverse of :func:`unpack`."""
    return np.concatenate([a.ravel() for s in network.stacks for a in (s.V, s.b, s.W, s.c)])


def objective_and_gradient(theta, X, Y, mask, lam, widths, neurons):
    """Masked weight-decay objective (module docstring) and its gradient by
    back-propagation through ``h_S o ... o h_1`` with identity between stacks."""
    params = _views(theta, widths, neurons)
    inputs, pre = [X], []
    for V, b, W, c in params:
        z = inputs[-1] @ V.T + b
        pre.append(z)
        inputs.append(np.maximum(z, 0.0) @ W.T + c)
    resid = np.where(mask, inputs[-1] - Y, 0.0)
    value = float(np.sum(resid**2) + lam * theta @ theta)
    grads = []
    delta = 2.0 * resid
    for j in range(len(params) - 1, -1, -1):
        V, b, W, c = params[j]
        a = np.maximum(pre[j], 0.0)
        gW, gc = delta.T @ a, delta.sum(axis=0)
        dz = (delta @ W) * (pre[j] > 0)
        gV, gb = dz.T @ inputs[j], dz.sum(axis=0)
        grads.append((gV, gb, gW, gc))
        delta = dz @ V
    grad = np.concatenate([g.ravel() for gs in reversed(grads) for g in gs]) + 2 * lam * theta
    return value, grad


@dataclass(frozen=True)
class TrainedNetwork:
    """The best network found: ``network``, its ``objective`` (masked eq. 4), the
    objectives of all ``restarts`` and the L-BFGS iterations spent."""

    network: Network
    objective: float
    objectives: tuple
    iterations: int


def train(X, Y, lam, *, neurons=(32, 16, 32), widths=None, mask=None, restarts: int = 4, maxiter: int = 3000,
          rng=None) -> TrainedNetwork:
    """Minimize the masked eq. (4) for the stacked identity-activation network with hidden
    widths ``neurons`` and bottlenecks ``widths = (d_in, d_1, ..., d_out)`` (default
    ``(d_in, 1, ..., 1, d_out)``) from ``restarts`` random starts (kinks of the first stack
    spread over the data, other weights standard normal / sqrt(fan-in))."""
    X = as_array(X, "X", ndim=2)
    Y = as_array(Y, "Y", ndim=2, shape=(X.shape[0], None))
    lam = as_scalar(lam, "lam", minimum=0.0)
    restarts, maxiter = as_count(restarts, "restarts"), as_count(maxiter, "maxiter")
    neurons = tuple(as_count(n, "neurons") for n in neurons)
    widths = (X.shape[1],) + (1,) * (len(neurons) - 1) + (Y.shape[1],) if widths is None else tuple(widths)
    if len(widths) != len(neurons) + 1 or widths[0] != X.shape[1] or widths[-1] != Y.shape[1]:
        raise ValueError(f"widths must be (d_in, d_1, ..., d_out) with {len(neurons) + 1} entries, got {widths}")
    mask = observation_mask(mask, Y.shape)
    rng = np.random.default_rng(rng)
    best, objectives, iterations = None, [], 0
    for _ in range(restarts):
        theta0 = pack(_initial_network(X, widths, neurons, rng))
        theta, value, nit = lbfgs(lambda th: objective_and_gradient(th, X, Y, mask, lam, widths, neurons), theta0,
                                  maxiter=maxiter)
        objectives.append(value)
        iterations += nit
        if best is None or value < best[1]:
            best = (theta, value)
    return TrainedNetwork(unpack(best[0], widths, neurons), best[1], tuple(objectives), iterations)


def lbfgs(fun, x0, *, maxiter: int, memory: int = LBFGS_MEMORY):
    """Minimize ``fun(x) -> (value, gradient)`` by L-BFGS (Nocedal & Wright, Algorithm 7.4:
    two-loop recursion, initial scaling ``s.y / y.y``) with a backtracking Armijo line
    search; pairs with ``s.y <= 0`` are skipped. Stops at ``maxiter`` iterations, at
    gradient sup-norm ``<= LBFGS_GTOL`` or relative decrease ``<= LBFGS_FTOL``. Returns
    ``(x, value, iterations)``. Written out (rather than scipy's L-BFGS-B) because on
    these 300-parameter problems scipy's threaded BLAS inside ``setulb`` cost 10x the
    arithmetic on a loaded machine."""
    x = np.array(x0, dtype=float)
    f, g = fun(x)
    S, Yd = [], []
    for it in range(1, maxiter + 1):
        q = g.copy()
        rho = [1.0 / (y @ s) for s, y in zip(S, Yd)]
        a = []
        for s, y, r in zip(reversed(S), reversed(Yd), reversed(rho)):
            a.append(r * (s @ q))
            q -= a[-1] * y
        q *= (S[-1] @ Yd[-1]) / (Yd[-1] @ Yd[-1]) if S else 1.0 / max(np.linalg.norm(g), 1.0)
        for (s, y, r), ai in zip(zip(S, Yd, rho), reversed(a)):
            q += s * (ai - r * (y @ q))
        d = -q
        slope = g @ d
        if not slope < 0:
            d, slope = -g, -(g @ g)
        t = 1.0
        while True:
            fn, gn = fun(x + t * d)
            if fn <= f + ARMIJO * t * slope or t < 1e-20:
                break
            t *= 0.5
        s, y = t * d, gn - g
        if s @ y > 0:
            S.append(s)
            Yd.append(y)
            if len(S) > memory:
                S.pop(0)
                Yd.pop(0)
        decrease = f - fn
        x, f, g = x + s, fn, gn
        if np.max(np.abs(g)) <= LBFGS_GTOL or decrease <= LBFGS_FTOL * max(abs(f), 1.0):
            return x, float(f), it
    return x, float(f), maxiter


def _initial_network(X, widths, neurons, rng) -> Network:
    lo, hi = X.min(axis=0), X.max(axis=0)
    stacks = []
    for j, n in enumerate(neurons):
        V = rng.standard_normal((n, widths[j])) / np.sqrt(widths[j])
        if j == 0:
            b = -np.sum(V * rng.uniform(lo, hi, (n, widths[0])), axis=1)
        else:
            b = rng.standard_normal(n) * 0.5
        W = rng.standard_normal((widths[j + 1], n)) / np.sqrt(n)
        stacks.append(Stack(V, b, W, np.zeros(widths[j + 1])))
    return Network(stacks, activation="identity")


def representation(network: Network, x) -> np.ndarray:
    """``H = h_{S-1} o ... o h_1`` (identity activation) at ``x (B, d_in)``: ``(B, d_{S-1})``."""
    return Network(network.stacks[:-1], activation="identity")(x)


def periodicity_defect(network: Network, period: float, lo: float, hi: float, *, points: int = 401) -> float:
    """``||H(x + P) - H(x)||_2 / ||H(x) - mean H||_2`` over ``points`` grid points of
    ``[lo, hi - P]``: 0 exactly when ``H`` has period ``P`` there (and is not constant)."""
    x = np.linspace(lo, hi - period, points)[:, None]
    H, Hs = representation(network, x), representation(network, x + period)
    spread = np.linalg.norm(H - H.mean(axis=0))
    return float(np.linalg.norm(Hs - H) / max(spread, np.finfo(float).tiny))


def held_out_error(network: Network, tasks: PeriodicTasks, task: int) -> float:
    """Root-mean-square error of output ``task`` on the held-out points."""
    return float(np.sqrt(np.mean((network(tasks.X_test)[:, task] - tasks.Y_test[:, task]) ** 2)))


@dataclass(frozen=True)
class JointVsSeparate:
    """Held-out RMS errors of the data-poor tasks trained jointly vs alone, and the
    periodicity defects of the learned representations."""

    joint: TrainedNetwork
    alone: tuple
    joint_error: np.ndarray
    alone_error: np.ndarray
    joint_periodicity: float
    alone_periodicity: np.ndarray


def joint_vs_separate(tasks: PeriodicTasks, lam: float, *, neurons=(32, 16, 32), restarts: int = 4,
                      maxiter: int = 3000, seed: int = 0, joint: TrainedNetwork | None = None) -> JointVsSeparate:
    """Train one network on all tasks (random starts from ``default_rng(seed)``, as
    ``train(..., rng=seed)``; or pass that result as ``joint``) and one network (same
    architecture, one output) on each data-poor task alone (starts from
    ``default_rng([seed, 1])``); compare the data-poor tasks' held-out errors."""
    seed = as_count(seed, "seed", minimum=0)
    if joint is None:
        joint = train(tasks.X, tasks.Y, lam, neurons=neurons, mask=tasks.mask, restarts=restarts, maxiter=maxiter,
                      rng=seed)
    alone_rng = np.random.default_rng([seed, 1])
    alone = tuple(train(tasks.X, tasks.Y[:, [k]], lam, neurons=neurons, mask=tasks.mask[:, [k]], restarts=restarts,
                        maxiter=maxiter, rng=alone_rng) for k in tasks.poor)
    span = tasks.periods * tasks.period
    return JointVsSeparate(
        joint, alone,
        np.array([held_out_error(joint.network, tasks, k) for k in tasks.poor]),
        np.array([held_out_error(a.network, _single(tasks, k), 0) for a, k in zip(alone, tasks.poor)]),
        periodicity_defect(joint.network, tasks.period, 0.0, span),
        np.array([periodicity_defect(a.network, tasks.period, 0.0, span) for a in alone]),
    )


def _single(tasks: PeriodicTasks, k: int) -> PeriodicTasks:
    return PeriodicTasks(tasks.X, tasks.Y[:, [k]], tasks.mask[:, [k]], tasks.X_test, tasks.Y_test[:, [k]],
                         tasks.period, tasks.periods, (0,))
