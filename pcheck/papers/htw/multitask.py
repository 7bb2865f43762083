"""Multi-task benefit: a data-poor task fitted alone vs jointly with related tasks.

Task family (our choice, HTW section 4 in one input dimension: tasks related through
shared kink positions). On ``[-1, 1]`` task ``k`` is

.. math:: f_k(x) = \\sum_{j=1}^J a_{kj}\\,|x - p_{kj}|,\\qquad p_{kj} = \\rho\\,p_j + (1-\\rho)\\,q_{kj},

with ``a_kj`` random of magnitude in ``[0.5, 1.5]``, shared positions ``p_j`` and own
positions ``q_kj`` uniform on ``[-0.8, 0.8]``: ``rho = 1`` all tasks kink at the same
places, ``rho = 0`` they are unrelated. Task 0 is data-poor (``poor_points`` of the
inputs), the others see all ``points`` inputs; labels carry Gaussian noise.

Models compared (same data, same regularization strength):

* ``"random_features"``: :func:`pcheck.fit_random_features` on a fixed random first layer;
* ``"gp"``: :func:`pcheck.fit_gp` with the NNGP kernel (independent outputs);
* ``"function_space"``: the certified solution of HTW's problem (5) (the limit of (4) as
  the width grows), :func:`pcheck.problems.function_space.fit_function_space`.

Random features and the GP are separable across tasks, so joint and alone agree to
rounding; the function-space solution couples the tasks through ``||.||_2`` in eq. (7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pcheck.core.measure import kinks
from pcheck.core.validate import as_array, as_count, as_scalar
from pcheck.problems.function_space import fit_function_space
from pcheck.problems.gp import fit_gp
from pcheck.problems.random_features import fit_random_features

MODELS = ("random_features", "gp", "function_space")


@dataclass(frozen=True)
class TaskFamily:
    """Training data ``X (N, 1)``, ``Y (N, T)`` with observation ``mask``, held-out
    ``X_test``, noiseless ``Y_test``; task 0 is the data-poor one."""

    X: np.ndarray
    Y: np.ndarray
    mask: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    relatedness: float


def kink_tasks(*, tasks: int = 4, kinks: int = 3, relatedness: float = 1.0, points: int = 24, poor_points: int = 5,
               noise: float = 0.05, poor_noise: float | None = None, rng=None) -> TaskFamily:
    """Sample the task family of the module docstring; task 0 has label noise ``poor_noise``
    (default ``noise``): data-poor through few points, or through a low signal-to-noise ratio
    (``poor_points = points``, the form the function-space solver takes, as it has no mask)."""
    tasks, kinks, points = as_count(tasks, "tasks", minimum=2), as_count(kinks, "kinks"), as_count(points, "points")
    poor_points = as_count(poor_points, "poor_points")
    rho = as_scalar(relatedness, "relatedness", minimum=0.0)
    if rho > 1:
        raise ValueError(f"relatedness must be in [0, 1], got {rho}")
    if poor_points > points:
        raise ValueError(f"poor_points must be <= points = {points}, got {poor_points}")
    noise = as_scalar(noise, "noise", minimum=0.0)
    poor_noise = noise if poor_noise is None else as_scalar(poor_noise, "poor_noise", minimum=0.0)
    rng = np.random.default_rng(rng)
    p = rho * rng.uniform(-0.8, 0.8, kinks)[None, :] + (1 - rho) * rng.uniform(-0.8, 0.8, (tasks, kinks))
    a = rng.uniform(0.5, 1.5, (tasks, kinks)) * rng.choice([-1.0, 1.0], (tasks, kinks))

    def truth(x):
        return np.sum(a[None] * np.abs(x[:, None, None] - p[None]), axis=2)

    X = np.sort(rng.uniform(-1, 1, points))
    mask = np.ones((points, tasks), dtype=bool)
    mask[:, 0] = False
    mask[rng.choice(points, poor_points, replace=False), 0] = True
    X_test = np.linspace(-1, 1, 201)
    sd = np.full(tasks, noise)
    sd[0] = poor_noise
    Y = truth(X) + sd * rng.standard_normal((points, tasks))
    return TaskFamily(X[:, None], Y, mask, X_test[:, None], truth(X_test), rho)


def _rms(pred, truth) -> float:
    return float(np.sqrt(np.mean((pred - truth) ** 2)))


@dataclass(frozen=True)
class Benefit:
    """Held-out RMS error of the data-poor task 0 fitted ``alone`` and ``joint``ly."""

    model: str
    alone: float
    joint: float


def benefit(family: TaskFamily, model: str, lam: float, *, features: int = 200, variant="7", rng=None) -> Benefit:
    """Fit task 0 on its own observed points, and all tasks jointly on theirs, with
    ``model`` (module docstring); ``lam`` is the weight decay (random features, function
    space) or the noise variance (GP, where the posterior mean is kernel ridge regression
    with ridge ``lam``). ``features`` and ``rng`` fix the random first layer; ``variant``
    ("7" or "8") is the function-space penalty."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, got {model!r}")
    lam = as_scalar(lam, "lam", minimum=0.0, strict=True)
    rows = family.mask[:, 0]
    X0, Y0 = family.X[rows], family.Y[rows][:, [0]]
    truth = family.Y_test[:, 0]
    if model == "random_features":
        rng = np.random.default_rng(rng)
        V, b = rng.standard_normal((features, 1)), rng.uniform(-1.5, 1.5, features)
        alone = fit_random_features(X0, Y0, lam, V, b)(family.X_test)[:, 0]
        joint = fit_random_features(family.X, family.Y, lam, V, b, mask=family.mask)(family.X_test)[:, 0]
    elif model == "gp":
        alone = fit_gp(X0, Y0, lam, 1).mean(family.X_test)[:, 0]
        joint = fit_gp(family.X, family.Y, lam, 1, mask=family.mask).mean(family.X_test)[:, 0]
    else:
        if not family.mask.all():
            raise ValueError("model 'function_space' needs every label observed (the solver has no mask): "
                             "use poor_points = points and make task 0 data-poor through poor_noise")
        alone = fit_function_space(X0, Y0, lam, variant).stack(family.X_test)[:, 0]
        joint = fit_function_space(family.X, family.Y, lam, variant).stack(family.X_test)[:, 0]
    return Benefit(model, _rms(alone, truth), _rms(joint, truth))


def kink_alignment(positions, jumps, *, tol: float = 1e-6, mass_rtol: float = 1e-6) -> np.ndarray:
    """Per task, the fraction of its curvature mass ``sum_j |jump_jk|`` that sits at kinks
    shared with another task: kink ``j`` of task ``k`` counts as shared when some task
    ``l != k`` has a kink within ``tol`` of it with ``|jump| > mass_rtol * max |jump_l|``.

    ``positions`` and ``jumps``: per task, the 1D arrays of its kink positions and jumps
    (from :func:`pcheck.kinks` of a joint stack, column by column, or of separate fits)."""
    positions = [as_array(p, f"positions[{k}]", ndim=1) for k, p in enumerate(positions)]
    jumps = [as_array(j, f"jumps[{k}]", ndim=1, shape=(len(positions[k]),)) for k, j in enumerate(jumps)]
    if len(positions) != len(jumps):
        raise ValueError("positions and jumps must list the same number of tasks")
    live = [p[np.abs(j) > mass_rtol * np.max(np.abs(j), initial=0.0)] for p, j in zip(positions, jumps)]
    out = np.zeros(len(positions))
    for k, (p, j) in enumerate(zip(positions, jumps)):
        total = np.sum(np.abs(j))
        if total == 0:
            continue
        others = np.concatenate([live[m] for m in range(len(live)) if m != k] or [np.zeros(0)])
        shared = np.array([np.any(np.abs(others - x) <= tol) for x in p], dtype=bool)
        out[k] = np.sum(np.abs(j[shared])) / total
    return out


def stack_kink_sets(stack):
    """``(positions, jumps)`` per output of a 1D stack, for :func:`kink_alignment`."""

    kk = kinks(stack)
    return [kk.x] * stack.d_out, [kk.jump[:, k] for k in range(stack.d_out)]


def benefit_curve(model: str, lam: float, *, relatedness=(0.0, 0.25, 0.5, 0.75, 1.0), seeds=(0, 1, 2),
                  **family_options):
    """``(relatedness, alone, joint)``: the data-poor task's held-out RMS error fitted alone
    and jointly, averaged over the task families of ``seeds`` at each relatedness
    (:func:`kink_tasks` with ``family_options``)."""
    alone, joint = [], []
    for rho in relatedness:
        runs = [benefit(kink_tasks(relatedness=rho, rng=s, **family_options), model, lam, rng=s) for s in seeds]
        alone.append(np.mean([r.alone for r in runs]))
        joint.append(np.mean([r.joint for r in runs]))
    return np.asarray(relatedness, float), np.array(alone), np.array(joint)
