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
the stacks, :func:`pcheck.problems.deep.train`), from several random starts; the best objective wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.network import Network
from pcheck.core.validate import as_count, as_scalar
from pcheck.problems.deep import DeepFit, train

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




















def train_identity(X, Y, lam, **options) -> DeepFit:
    """Appendix B's training (module docstring): :func:`pcheck.problems.deep.train` with
    ``sigma = id`` between the stacks and bottlenecks ``d_1 = ... = 1``."""
    return train(X, Y, lam, activation="identity", **options)


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

    joint: DeepFit
    alone: tuple
    joint_error: np.ndarray
    alone_error: np.ndarray
    joint_periodicity: float
    alone_periodicity: np.ndarray


def joint_vs_separate(tasks: PeriodicTasks, lam: float, *, neurons=(32, 16, 32), restarts: int = 4,
                      maxiter: int = 3000, seed: int = 0, joint: DeepFit | None = None) -> JointVsSeparate:
    """Train one network on all tasks (random starts from ``default_rng(seed)``, as
    ``train(..., rng=seed)``; or pass that result as ``joint``) and one network (same
    architecture, one output) on each data-poor task alone (starts from
    ``default_rng([seed, 1])``); compare the data-poor tasks' held-out errors."""
    seed = as_count(seed, "seed", minimum=0)
    if joint is None:
        joint = train_identity(tasks.X, tasks.Y, lam, neurons=neurons, mask=tasks.mask, restarts=restarts,
                               maxiter=maxiter, rng=seed)
    alone_rng = np.random.default_rng([seed, 1])
    alone = tuple(train_identity(tasks.X, tasks.Y[:, [k]], lam, neurons=neurons, mask=tasks.mask[:, [k]],
                                 restarts=restarts, maxiter=maxiter, rng=alone_rng) for k in tasks.poor)
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
