"""Figures of the Lee & Ndirango entries: benefit heat maps (their Figure 2) and the TA
trajectories (their Figure 1). Matplotlib is imported inside each function (extra [plot]),
and no pyplot state is used."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pcheck.core.validate import as_array
from pcheck.papers.lee_ndirango.stats import mean_interval


def label(value) -> str:
    """Tick text: numbers with ``%g``, anything else as ``str``."""
    return f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)


def benefit_figure(benefit, rows, cols, *, row_label: str = "relatedness r_AB",
                   col_label: str = "auxiliary SNR s_B / sigma", title: str = "", unit: str = "M_A<-B"):
    """Heat map of the seed mean of ``benefit (S, len(rows), len(cols))``, each cell annotated
    with the mean and the half-width of its 95% interval; a :class:`matplotlib.figure.Figure`."""
    from matplotlib.figure import Figure

    benefit = as_array(benefit, "benefit", ndim=3, shape=(None, len(rows), len(cols)))
    cells = [[mean_interval(benefit[:, i, j]) for j in range(len(cols))] for i in range(len(rows))]
    mean = np.array([[c[0] for c in row] for row in cells])
    fig = Figure(figsize=(1.3 * len(cols) + 3.5, 0.6 * len(rows) + 1.8))
    ax = fig.add_subplot()
    lim = max(float(np.abs(mean).max()), 1e-3)
    image = ax.imshow(mean, cmap="RdBu", vmin=-lim, vmax=lim, origin="lower", aspect="auto")
    ax.set_xticks(range(len(cols)), [label(c) for c in cols])
    ax.set_yticks(range(len(rows)), [label(r) for r in rows])
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.set_title(title, fontsize=9)
    for i, row in enumerate(cells):
        for j, (m, lo, hi) in enumerate(row):
            ax.text(j, i, f"{m:+.3f}\n\u00b1{(hi - lo) / 2:.3f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, label=unit)
    fig.tight_layout()
    return fig


def write_benefit_figure(path, benefit, rows, cols, **labels):
    """Write :func:`benefit_figure` as a PNG at ``path`` (see :func:`save_figure`)."""
    return save_figure(benefit_figure(benefit, rows, cols, **labels), path)


def trajectory_figure(trajectories: dict, *, title: str = ""):
    """Their Figure 1: the student's top singular value against ``t / tau`` per label of
    ``trajectories`` (label -> object with ``times``, ``sgd (R, T)``, ``ode (R, T)``): SGD seed
    mean with a band of one standard deviation (solid), eq. (3) seed mean (dashed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    for i, (name, tr) in enumerate(trajectories.items()):
        color = f"C{i}"
        mean, sd = tr.sgd.mean(axis=0), tr.sgd.std(axis=0)
        ax.fill_between(tr.times, mean - sd, mean + sd, color=color, alpha=0.2, linewidth=0)
        ax.plot(tr.times, mean, color=color, label=f"{name}: SGD")
        ax.plot(tr.times, tr.ode.mean(axis=0), color=color, linestyle="--", label=f"{name}: eq. (3)")
    ax.set_xlabel("t / tau (steps x learning rate)")
    ax.set_ylabel("top singular value s")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def save_figure(fig, path):
    """Save ``fig`` as a PNG at ``path`` with its first axes' title and labels in the PNG text
    chunks (``Title``, ``Description``); returns the path."""
    path = Path(path)
    ax = fig.axes[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, metadata={"Title": ax.get_title(),
                                         "Description": f"x: {ax.get_xlabel()}; y: {ax.get_ylabel()}"})
    return path
