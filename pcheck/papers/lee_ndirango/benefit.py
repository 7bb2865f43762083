"""The multi-task benefit ``M_{A<-B}`` of Lee & Ndirango (NeurIPS 2019), section 4.4, measured
in the authors' experiment (section 4.5, Figure 2; ``multitask/train.py`` and the notebook
"Plot rank 10 model figures" of github.com/tyler-nervana/mt-theory).

Their definition (section 4.4): with ``L~_A(t)`` the main-task generalization loss of a student
trained on A alone and ``L_{A|B}(t)`` that of a student trained on ``L_A + L_B``,

.. math::  M_{A\\leftarrow B} = \\min_t \\tilde L_A(t) - \\min_t L_{A|B}(t).

The authors compute it from the validation cross-entropy of task A (``validation-1/loss``,
``benefit`` in ``multitask/jp_utils.py``: ``df1.min() - df2.min()``); with accuracy
(``use_max``) it is ``max_t acc_{A|B} - max_t acc~_A``. Both are returned
(:attr:`BenefitRuns.benefit`).

Setting per seed (common random numbers: the baseline and every ``(r, s_B)`` cell share the
teacher A, the directions ``V_perp`` and ``U_B`` of teacher B, the noise draws, the inputs and
the student's init): teachers as in :mod:`.teachers`, ``N3 = N2`` (classes = rank),
``n_train`` training points per task, ``n_train`` validation points with noise-free labels
(their ``ntest = nsamples // 2 = ntrain``).

Training protocols:

* ``"authors"``: their loop, epochs of shuffled minibatches of 128, after each task-A step one
  task-B step (``update_every``), plain SGD at ``lr = 1e-3``, validation after every epoch,
  ``epochs`` epochs (theirs: 2000).
* ``"flow"``: full-batch gradient descent on ``L_A + L_B`` (their section 4.2,
  ``alpha_A = alpha_B = 1``) with step ``lr_flow`` up to the same time
  ``t = epochs x ceil(n_train / 128) x 1e-3`` (eq. 2's ``t / tau``), validation every
  ``eval_every`` steps: the gradient flow both approximate, at a fraction of the cost
  (measured against ``"authors"`` in proofs_notes/lee-ndirango-benefit.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from pcheck.core.validate import as_count, as_scalar
from pcheck.papers.lee_ndirango import student as st
from pcheck.papers.lee_ndirango.teachers import (NOISE_MODELS, authors_sigma, make_teacher, orthonormal,
                                                 related_directions)

#: The authors' SGD: learning rate, batch size, epochs (``multitask/train.py`` defaults).
AUTHORS_LR, AUTHORS_BATCH, AUTHORS_EPOCHS = 1e-3, 128, 2000

#: The two benefit metrics: validation cross-entropy (the authors') and accuracy.
METRICS = ("cross-entropy", "accuracy")


@dataclass(frozen=True)
class Setting:
    """The fixed part of the experiment: input dimension ``N1``, classes = teacher rank
    ``N3 = N2``, main-task singular value ``s_A``, logit noise ``sigma`` (default the authors'
    ``N1^{-1/2}``), trunk depth, the flow step (default :attr:`step_size`) and validation
    stride in steps, and the epochs that set the time horizon."""

    n_in: int = 20
    n_classes: int = 10
    s_A: float = 10.0
    sigma: float | None = None
    n_layers: int = 2
    lr_flow: float | None = None
    eval_every: int = 1
    epochs: int = AUTHORS_EPOCHS

    @property
    def noise(self) -> float:
        return authors_sigma(self.n_in) if self.sigma is None else self.sigma

    @property
    def step_size(self) -> float:
        """The flow's step, default ``4 / N1`` (``|x|^2 ~ N1`` sets the curvature): the benefits
        agree within 0.003 with steps up to twice and down to a fifth of it (the note's table)."""
        return 4.0 / self.n_in if self.lr_flow is None else self.lr_flow

    def horizon(self, n_train: int) -> float:
        """``t / tau`` reached by the authors' loop: ``epochs x ceil(n / 128) x 1e-3``."""
        return self.epochs * math.ceil(n_train / AUTHORS_BATCH) * AUTHORS_LR


@dataclass
class BenefitRuns:
    """Validation curves of task A per seed: ``ce``, ``acc`` ``(S, 1 + n_cells, T)``, run 0 of
    each seed the single-task baseline, runs ``1..`` the cells ``(r, s_B)``."""

    cells: list
    n_train: int
    noise: str
    width: int
    times: np.ndarray
    ce: np.ndarray
    acc: np.ndarray
    meta: dict = field(default_factory=dict)

    def benefit(self, metric: str) -> np.ndarray:
        """``M_{A<-B}`` per seed and cell, ``(S, n_cells)``: ``min_t CE~ - min_t CE`` or
        ``max_t acc - max_t acc~``."""
        if metric == "cross-entropy":
            best = self.ce.min(axis=2)
            return best[:, :1] - best[:, 1:]
        if metric == "accuracy":
            best = self.acc.max(axis=2)
            return best[:, 1:] - best[:, :1]
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")

    def cell(self, r: float, s_B: float) -> int:
        """Column of ``(r, s_B)`` in :meth:`benefit`."""
        return self.cells.index((float(r), float(s_B)))

    def baseline(self, metric: str) -> np.ndarray:
        """The single-task optimum per seed (``min_t CE~`` or ``max_t acc~``)."""
        return self.ce[:, 0].min(axis=1) if metric == "cross-entropy" else self.acc[:, 0].max(axis=1)


def benefit_runs(rng: np.random.Generator, setting: Setting, *, cells, noise: str, width: int, seeds: int,
                 n_train: int, protocol: str = "flow") -> BenefitRuns:
    """Train the baseline and one multi-task student per cell ``(r, s_B)`` for ``seeds``
    independent teachers, data sets and inits (module docstring); ``width`` is the trunk's
    hidden units."""
    if noise not in NOISE_MODELS:
        raise ValueError(f"noise must be one of {NOISE_MODELS}, got {noise!r}")
    cells = [(float(as_scalar(r, "r", minimum=0.0)), float(as_scalar(s, "s_B", minimum=0.0))) for r, s in cells]
    seeds, n_train, width = as_count(seeds, "seeds"), as_count(n_train, "n_train"), as_count(width, "width")
    n_in, C, sigma = setting.n_in, setting.n_classes, setting.noise
    if n_in < 2 * C:
        raise ValueError(f"n_in must be at least 2 n_classes = {2 * C} (r = 0 needs room), got {n_in}")
    per = 1 + len(cells)
    R = seeds * per
    X = {k: rng.standard_normal((seeds, n_train, n_in)) for k in ("A", "B", "val")}
    y = {k: np.zeros((R, n_train), dtype=np.int64) for k in ("A", "B", "val")}
    for s in range(seeds):
        V_A = orthonormal(rng, n_in, C)
        A = make_teacher(rng, s=setting.s_A, U=orthonormal(rng, C, C), V=V_A, sigma=sigma)
        U_B, basis_seed = orthonormal(rng, C, C), rng.integers(2**63)
        xi_B = rng.standard_normal((C, n_in)) * (sigma / np.sqrt(n_in))
        z_A, z_B = rng.standard_normal((n_train, C)), rng.standard_normal((n_train, C))
        rows = slice(s * per, (s + 1) * per)
        y["A"][rows] = A.noisy_labels(X["A"][s], noise, z_A)
        y["val"][rows] = A.clean_labels(X["val"][s])
        for i, (r, s_B) in enumerate(cells):
            V_B = related_directions(np.random.default_rng(basis_seed), V_A, r)
            B = make_teacher(rng, s=s_B, U=U_B, V=V_B, sigma=sigma)
            B = type(B)(B.W, xi_B, sigma)                       # the same noise for every cell
            y["B"][s * per + 1 + i] = B.noisy_labels(X["B"][s], noise, z_B)
    seed_of = np.repeat(np.arange(seeds), per)
    students = st.init_students(rng, seeds, n_in=n_in, width=width, n_classes=C,
                                n_layers=setting.n_layers).take(seed_of)
    weight_B = np.ones((R, 1, 1))
    weight_B[::per] = 0.0                                      # baselines: L_A only
    Xa = {k: st.augment(v)[seed_of] for k, v in X.items()}
    Xt = {k: np.ascontiguousarray(v.transpose(0, 2, 1)) for k, v in Xa.items()}
    curves = []

    def evaluate():
        curves.append(st.validation_metrics(st.composite(students, 0), Xa["val"], y["val"], Xt=Xt["val"]))

    if protocol == "flow":
        steps_total = int(round(setting.horizon(n_train) / setting.step_size))
        if steps_total < setting.eval_every:
            raise ValueError(f"the horizon {setting.horizon(n_train)} is shorter than one validation stride "
                             f"({setting.eval_every} steps of {setting.step_size})")
        multi = np.flatnonzero(weight_B[:, 0, 0])                  # head B trains in these runs only
        XB, XBt, yB = Xa["B"][multi], Xt["B"][multi], y["B"][multi]
        for step in range(steps_total):
            maps = st.trunk_maps(students)
            grad_B = np.zeros_like(students.C[1], shape=students.C[1].shape[:2] + (n_in + 1,))
            grad_B[multi] = st.loss_gradient(st.composite(students, 1, maps)[multi], XB, yB, XBt)
            grads = {0: st.loss_gradient(st.composite(students, 0, maps), Xa["A"], y["A"], Xt["A"]), 1: grad_B}
            st.step(students, grads, setting.step_size, maps)
            if (step + 1) % setting.eval_every == 0:
                evaluate()
        times = setting.step_size * setting.eval_every * np.arange(1, len(curves) + 1)
    elif protocol == "authors":
        batches = math.ceil(n_train / AUTHORS_BATCH)
        for _ in range(setting.epochs):
            order = {k: np.argsort(rng.random((R, n_train)), axis=1) for k in ("A", "B")}
            for j in range(batches):
                for k, head, w in (("A", 0, 1.0), ("B", 1, weight_B)):
                    idx = order[k][:, j * AUTHORS_BATCH:(j + 1) * AUTHORS_BATCH]
                    Xb = np.take_along_axis(Xa[k], idx[:, :, None], axis=1)
                    G = st.loss_gradient(st.composite(students, head), Xb, np.take_along_axis(y[k], idx, axis=1))
                    st.step(students, {head: w * G}, AUTHORS_LR)
            evaluate()
        times = AUTHORS_LR * batches * np.arange(1, setting.epochs + 1)
    else:
        raise ValueError(f"protocol must be 'flow' or 'authors', got {protocol!r}")
    ce = np.array([c for c, _ in curves]).T.reshape(seeds, per, -1)
    acc = np.array([a for _, a in curves]).T.reshape(seeds, per, -1)
    return BenefitRuns(cells, n_train, noise, width, times, ce, acc,
                       meta={"protocol": protocol, "n_in": n_in, "sigma": sigma, "s_A": setting.s_A})
