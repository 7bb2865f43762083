"""Figures for the multi-task checks (matplotlib, extra ``[plot]``; imported lazily).

Every function writes PNG files and returns a list of :class:`Figure` records: the path,
the caption, the ledger claims the figure is evidence for, its title, the axis labels of
each panel and the legend entries, so tests can check content without pixels. Each PNG
names its claims in its title and has its caption beside it (``<name>.txt``, also in the
PNG's ``Description`` text chunk). ``plot_main(argv)`` is the ``pcheck plot`` command.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pcheck.core.measure import kinks, smoothed_second_derivative
from pcheck.core.network import Stack
from pcheck.papers.htw import appendix_b
from pcheck.papers.htw.multitask import MODELS, benefit, kink_tasks
from pcheck.papers.htw.periodic_tasks import (
    periodicity_defect,
    representation,
)
from pcheck.papers.htw.sec4 import BENEFIT_FAMILY, BENEFIT_LAM
from pcheck.papers.shenouda import multivariate

#: Bandwidth of the Gaussian-smoothed h'' drawn in the Appendix B panels, as a fraction
#: of the plotted input range (HTW do not state theirs; 2% resolves kinks 5% apart).
SMOOTHING_FRACTION = 0.02

#: The ledger entries each figure is evidence for (named in the figure's title).
APPENDIX_B_PERIODIC = ("htw.appendix_b.periodic",)
APPENDIX_B_PERIOD = ("htw.appendix_b.periodic", "htw.appendix_b.period_is_task_period")
APPENDIX_B_BENEFIT = ("htw.appendix_b.benefit",)
MULTITASK_BENEFIT = ("htw.sec4.multitask_benefit",)
FIXED_KERNEL = ("shenouda.multivariate_fixed_kernel",)

#: Legend names of the models of :mod:`pcheck.papers.htw.multitask`.
MODEL_NAMES = {"random_features": "random features", "gp": "GP (NNGP kernel)", "function_space": "function space"}


@dataclass(frozen=True)
class Figure:
    """A written figure: ``path``, ``caption``, ``(xlabel, ylabel)`` per panel, the ledger
    ``claims`` it is evidence for, its ``title`` (which names them), the ``legend``
    entries of all its legends and the ``caption_path`` of the caption file beside it."""

    path: Path
    caption: str
    labels: tuple
    claims: tuple = ()
    title: str = ""
    legend: tuple = ()
    caption_path: Path | None = None


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _legend_entries(fig) -> tuple:
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    return tuple(t.get_text() for lg in legends if lg is not None for t in lg.get_texts())


def _save(fig, path: Path, caption: str, claims: tuple, heading: str) -> Figure:
    """Title the figure ``heading`` plus its claim ids, write the PNG (caption in its
    ``Description`` chunk) and the caption file ``<name>.txt`` beside it."""
    title = f"{heading}\nclaim: {', '.join(claims)}" if claims else heading
    renderer = fig.canvas.get_renderer()  # just above the panels and their own titles
    top = max(ax.get_tightbbox(renderer).transformed(fig.transFigure.inverted()).y1
              for ax in fig.axes if ax.get_visible())
    fig.suptitle(title, fontsize=10, y=top + 0.02, va="bottom")
    labels = tuple((ax.get_xlabel(), ax.get_ylabel()) for ax in fig.axes if ax.get_visible() and ax.has_data())
    legend = _legend_entries(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, bbox_inches="tight", metadata={"Title": title, "Description": caption})
    caption_path = path.with_suffix(".txt")
    caption_path.write_text(f"{path.name}\nclaim: {', '.join(claims)}\n\n{caption}\n")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return Figure(path, caption, labels, tuple(claims), title, legend, caption_path)


def stack_panel(ax, stack: Stack, x: np.ndarray, *, output: int = 0, name: str = "h", xlabel: str = "x") -> None:
    """One Appendix-B panel: the 1D stack ``h`` on ``x`` (green), its distributional second
    derivative ``h'' = sum_k jump_k delta_{xi_k}`` as dots ``(xi_k, jump_k)`` at the kinks
    (yellow, :func:`pcheck.kinks`), ``h''`` smoothed by a Gaussian of width
    :data:`SMOOTHING_FRACTION` of the range and scaled so that an isolated kink peaks at its
    jump (yellow line, :func:`pcheck.smoothed_second_derivative`) and the outer weights
    ``w_k`` at the neurons' kinks ``xi_k`` (red, as in HTW's figure), all but ``h`` on a twin
    axis; one legend for both axes, below the panel."""
    lo, hi = float(x.min()), float(x.max())
    line = ax.plot(x, stack(x[:, None])[:, output], color="green", label=f"{name} (left axis)")
    kk = kinks(stack)
    inside = (kk.x >= lo) & (kk.x <= hi)
    twin = ax.twinx()
    bandwidth = SMOOTHING_FRACTION * max(hi - lo, np.finfo(float).tiny)
    twin.plot(x, smoothed_second_derivative(stack, x, bandwidth)[:, output] * bandwidth * np.sqrt(2 * np.pi),
              color="goldenrod", lw=1, label=f"{name}'' smoothed (a lone kink peaks at its jump)")
    twin.scatter(kk.x[inside], kk.jump[inside, output], color="gold", edgecolor="k", s=18, zorder=3,
                 label=f"{name}'' atoms: jump of {name}' at each kink")
    live = stack.V[:, 0] != 0
    xi = -stack.b[live] / stack.V[live, 0]
    show = (xi >= lo) & (xi <= hi)
    twin.scatter(xi[show], stack.W[output, live][show], color="red", s=8, zorder=2,
                 label="outer weight w_k at the neuron's kink xi_k")
    twin.axhline(0.0, color="0.8", lw=0.5)
    twin.set_ylabel(f"{name}'' (jump of {name}')")
    handles = line + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="upper center",
              bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    for a in (ax, twin):
        a.set_xlabel(xlabel)
    ax.set_ylabel(name)


def appendix_b_figures(result, tasks, out_dir) -> list:
    """The Appendix B panels for a :class:`pcheck.papers.htw.periodic_tasks.JointVsSeparate` ``result``
    on the :class:`pcheck.papers.htw.periodic_tasks.PeriodicTasks` ``tasks``: stack 1, stack 2 with
    ``H = h_2 o h_1``, and every task's output with its data; plus the data-poor tasks
    trained jointly vs alone."""

    plt = _pyplot()
    out_dir = Path(out_dir)
    net = result.joint.network
    h1, h2, _ = net.stacks
    span = tasks.periods * tasks.period
    x = np.linspace(-0.05 * span, 1.05 * span, 801)
    figures = []

    fig, ax = plt.subplots(figsize=(7, 3.8))
    stack_panel(ax, h1, x, name="h_1")
    figures.append(_save(fig, out_dir / "appendix_b_stack1.png",
                         "HTW Appendix B, first stack h_1 (green, left axis) of the jointly trained 3-stack network "
                         "(d_1 = d_2 = 1, identity between stacks); right axis: its second derivative as atoms at the "
                         "kinks (yellow dots, height = jump of h_1'), the same smoothed by a Gaussian of width "
                         f"{SMOOTHING_FRACTION:g} x the range and scaled so that a lone kink peaks at its jump (yellow "
                         f"line), and the outer weights w_k at the neurons' kinks (red); training objective "
                         f"{result.joint.objective:.4g}.", APPENDIX_B_PERIODIC, "HTW Appendix B: first stack h_1"))

    u = h1(x[:, None])[:, 0]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"wspace": 0.4})
    stack_panel(ax, h2, np.linspace(u.min(), u.max(), 801), name="h_2", xlabel="h_1(x)")
    ax.set_title("second stack h_2 on the range of h_1", fontsize=9)
    ax2.plot(x, representation(net, x[:, None])[:, 0], color="red", label="H = h_2 o h_1")
    for p in range(tasks.periods + 1):
        ax2.axvline(p * tasks.period, color="0.7", lw=0.5, label="multiples of the period P" if p == 0 else None)
    ax2.set_xlabel("x")
    ax2.set_ylabel("H(x) = h_2(h_1(x))")
    ax2.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    defect = periodicity_defect(net, tasks.period, 0.0, span)
    ax2.set_title(f"representation H, periodicity defect at P: {defect:.3f}", fontsize=9)
    figures.append(_save(fig, out_dir / "appendix_b_stack2.png",
                         "HTW Appendix B, second stack h_2 on the range of h_1 with its second derivative (left, as "
                         "in appendix_b_stack1) and the "
                         f"learned representation H = h_2 o h_1 (right, period {tasks.period:g} marked); periodicity "
                         f"defect ||H(x+P) - H(x)|| / ||H - mean H|| = {defect:.3f} on [0, {span - tasks.period:g}] "
                         "(periodic below 0.25).", APPENDIX_B_PERIOD,
                         "HTW Appendix B: second stack h_2 and the representation H"))

    T = tasks.Y.shape[1]
    cols = (T + 2) // 2  # one free slot for the legend
    fig, axes = plt.subplots(2, cols, figsize=(3.2 * cols, 6.2), squeeze=False)
    f = net(x[:, None])
    for k, ax in enumerate(axes.ravel()[:T]):
        ax.plot(tasks.X_test[:, 0], tasks.Y_test[:, k], color="0.6", ls="--", lw=1,
                label="periodic truth (noiseless)")
        ax.plot(x, f[:, k], color="green", label="f_k, the jointly trained network")
        obs = tasks.mask[:, k]
        ax.scatter(tasks.X[obs, 0], tasks.Y[obs, k], color="k", s=10, zorder=3, label="training data of task k")
        kind = "data-poor: first period only" if k in tasks.poor else "data-rich"
        ax.set_title(f"task {k} ({kind})", fontsize=9)
        ax.set_xlabel("x")
        ax.set_ylabel(f"f_{k}(x)")
    spare = axes.ravel()[T:]
    for ax in spare:
        ax.axis("off")
    spare[0].legend(*axes.ravel()[0].get_legend_handles_labels(), loc="center", fontsize=9, frameon=False)
    fig.tight_layout()
    figures.append(_save(fig, out_dir / "appendix_b_tasks.png",
                         f"HTW Appendix B, the {T} outputs f_k = (h_3)_k o H of the jointly trained network (green), "
                         "the training data (black dots) and the periodic truth (dashed grey); data-poor tasks "
                         f"({', '.join(str(k) for k in tasks.poor)}) see data in the first period only.",
                         APPENDIX_B_BENEFIT, "HTW Appendix B: every task's output, trained jointly"))

    fig, axes = plt.subplots(1, len(tasks.poor), figsize=(5 * len(tasks.poor), 3.5), squeeze=False)
    for ax, k, alone, ej, ea in zip(axes.ravel(), tasks.poor, result.alone, result.joint_error, result.alone_error):
        ax.plot(tasks.X_test[:, 0], tasks.Y_test[:, k], color="0.6", ls="--", lw=1, label="truth")
        ax.plot(x, f[:, k], color="green", label=f"joint (RMS {ej:.3f})")
        ax.plot(x, alone.network(x[:, None])[:, 0], color="purple", label=f"alone (RMS {ea:.3f})")
        obs = tasks.mask[:, k]
        ax.scatter(tasks.X[obs, 0], tasks.Y[obs, k], color="k", s=12, zorder=3, label="data")
        ax.set_title(f"task {k}", fontsize=9)
        ax.set_xlabel("x")
        ax.set_ylabel(f"f_{k}(x)")
        ax.legend(fontsize=7)
    figures.append(_save(fig, out_dir / "appendix_b_joint_vs_alone.png",
                         f"HTW Appendix B, data-poor task(s) trained jointly with the {T - len(tasks.poor)} other "
                         "tasks (green) vs alone with the same architecture (purple); held-out RMS errors on [0, "
                         f"{span:g}]: joint {np.round(result.joint_error, 3).tolist()}, alone "
                         f"{np.round(result.alone_error, 3).tolist()}.", APPENDIX_B_BENEFIT,
                         "HTW Appendix B: data-poor task, joint vs alone"))
    return figures


def _ratio_band(alone, joint) -> tuple:
    """Mean and standard deviation over seeds of ``joint / alone`` (columns are seeds; a 1D
    input is one seed, standard deviation 0)."""
    ratio = np.asarray(joint, float) / np.asarray(alone, float)
    ratio = ratio[:, None] if ratio.ndim == 1 else ratio
    sd = ratio.std(axis=1, ddof=1) if ratio.shape[1] > 1 else np.zeros(ratio.shape[0])
    return ratio.mean(axis=1), sd


def benefit_figure(curves, out_dir, *, xlabel: str, name: str, caption: str, task: str = "noisy task",
                   claims: tuple = MULTITASK_BENEFIT) -> Figure:
    """Multi-task benefit curves: ``curves`` maps a model name to ``(x, alone, joint)``, the
    held-out error of the ``task`` fitted alone and jointly, each of shape ``(len(x),)`` or
    ``(len(x), seeds)``; one line per model for the seed mean of joint / alone (below 1 =
    multi-task benefit), with error bars of one standard deviation over seeds. The models'
    points are dodged sideways (and differ in marker and line style) so that coinciding
    curves, e.g. random features and the GP both at 1, stay visible."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    styles = [("o", "-", "none"), ("s", "--", None), ("^", ":", None), ("D", "-.", None)]
    xs = [np.asarray(x, float) for x, _, _ in curves.values()]
    width = max((float(np.ptp(x)) for x in xs if x.size > 1), default=1.0) or 1.0
    n = len(curves)
    for i, (label, (x, alone, joint)) in enumerate(curves.items()):
        marker, ls, face = styles[i % len(styles)]
        mean, sd = _ratio_band(alone, joint)
        shift = (i - (n - 1) / 2) * 0.015 * width
        ax.errorbar(np.asarray(x, float) + shift, mean, yerr=sd, marker=marker, ls=ls, capsize=3, ms=7 - i,
                    mfc=face, mew=1.3, label=label, zorder=3 + i)
    ax.axhline(1.0, color="0.5", lw=0.8, ls="--", zorder=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"test error joint / alone ({task})")
    ax.legend(fontsize=8, title="mean and s.d. over seeds", title_fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncol=min(n, 3), frameon=False)
    return _save(fig, Path(out_dir) / f"{name}.png", caption, claims,
                 f"HTW section 4: the {task} fitted jointly with related tasks vs alone")


def fixed_kernel_figure(panels, out_dir, *, caption: str, name: str = "fixed_kernel",
                        claims: tuple = FIXED_KERNEL) -> Figure:
    """Fixed-kernel check (Nakhleh et al. section 4): ``panels`` maps a panel title to
    ``{label: (T, values)}``; one log-log panel each of the relative error ``r_T = ||P -
    F_0|| / ||y_0 - F_0||`` of the kernel-ridge prediction against the number of other tasks."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    styles = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-.")]
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for i, (label, (T, values)) in enumerate(curves.items()):
            marker, ls = styles[i % len(styles)]
            ax.loglog(T, values, marker=marker, ls=ls, label=label)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("number of other tasks T")
        ax.set_ylabel("||P - F_0|| / ||y_0 - F_0|| (task 0)")
        ax.legend(fontsize=8)
    return _save(fig, Path(out_dir) / f"{name}.png", caption, claims,
                 "Nakhleh, Shenouda & Nowak section 4: kernel ridge with the other tasks' fixed kernel")


def multivariate_fixed_kernel_figure(out_dir) -> Figure:
    """:func:`fixed_kernel_figure` on the registered protocol of proofs_notes/shenouda-multivariate.md
    (medians over 5 seeds; ~3 min): diverse tasks in both variants, the single-task fit, and
    the non-diverse contrast (other tasks rank one)."""

    runs = {"kernel of T diverse tasks, eq. 8": ("8", "diverse", "r"),
            "kernel of T diverse tasks, eq. 7": ("7", "diverse", "r"),
            "single-task fit of task 0, eq. 8": ("8", "diverse", "r_baseline"),
            "kernel of T rank-one tasks, eq. 8": ("8", "mixed", "r")}
    rows = {k: multivariate.transfer_rows(**multivariate.REGISTERED, variant=v, kind=kind) for k, (v, kind, _) in runs.items()}
    panels = {f"lam = {lam:g}": {k: multivariate.medians(rows[k], lam, runs[k][2]) for k in runs} for lam in multivariate.REGISTERED["lams"]}
    last = "; ".join(f"lam {lam:g}: " + ", ".join(f"{k.split(',')[0]} ({runs[k][0]}) {v[1][-1]:.3g}"
                                                  for k, v in curves.items())
                     for lam, curves in zip(multivariate.REGISTERED["lams"], panels.values()))
    caption = ("Fixed-kernel check of Nakhleh, Shenouda & Nowak (arXiv 2410.21696, section 4): task 0 (N = 6 "
               "inputs in [-1,1]^2, N(0,1) labels) fitted jointly with T other tasks (certified, outputs F_0) vs "
               "kernel ridge P with the neuron kernel of the T others alone; error relative to task 0's "
               "regularization residual, medians over 5 seeds. Diverse tasks: i.i.d. labels; rank-one: the others "
               f"are y u^T. At T = 32: {last}.")
    return fixed_kernel_figure(panels, out_dir, caption=caption)


FIGURES = ("appendix-b", "multitask-benefit", "fixed-kernel")


def add_plot_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``pcheck plot``."""
    parser.add_argument("figure", choices=FIGURES, help="which figures to draw")
    parser.add_argument("--out", default="pcheck-figures", metavar="DIR",
                        help="output directory (default pcheck-figures/)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the task data and the random starts")


def plot_command(args) -> int:
    """``pcheck plot appendix-b``: train the Appendix B network (joint and alone, the same runs
    and wider search as the ``htw.appendix_b.*`` claims) and draw its panels; ``pcheck plot multitask-benefit``: the benefit curves of the three models;
    ``pcheck plot fixed-kernel``: the fixed-kernel check of Nakhleh et al. The
    figures go into ``--out``, each with its caption in ``<name>.txt`` beside it; each file
    is printed with its claims and caption."""
    if args.figure == "appendix-b":
        tasks, result = appendix_b.appendix_b_run(args.seed)  # the network the Appendix B claims judge
        figures = appendix_b_figures(result, tasks, args.out)
    elif args.figure == "fixed-kernel":
        figures = [multivariate_fixed_kernel_figure(args.out)]
    else:
        figures = [multitask_benefit_figure(args.out, seed=args.seed)]
    for fig in figures:
        print(f"{fig.path} (claim {', '.join(fig.claims)}; caption in {fig.caption_path})\n  {fig.caption}")
    return 0


def benefit_runs(model: str, lam: float, *, relatedness, seeds, **family_options) -> tuple:
    """``(relatedness, alone, joint)`` with ``alone`` and ``joint`` of shape ``(len(relatedness),
    len(seeds))``: the per-seed values that :func:`pcheck.papers.htw.multitask.benefit_curve`
    averages (same task families, same random features)."""
    runs = [[benefit(kink_tasks(relatedness=rho, rng=s, **family_options), model, lam, rng=s) for s in seeds]
            for rho in relatedness]
    return (np.asarray(relatedness, float), np.array([[r.alone for r in row] for row in runs]),
            np.array([[r.joint for r in row] for row in runs]))


def multitask_benefit_figure(out_dir, *, seed: int = 0, relatedness=(0.0, 0.25, 0.5, 0.75, 1.0), seeds: int = 5):
    """Test error of the noisy task, joint / alone, against task relatedness, for the
    function-space solution, random features and the NNGP (``pcheck.papers.htw.sec4``'s
    benefit family and lam), seed means with error bars over ``seeds`` task families."""

    curves = {MODEL_NAMES[m]: benefit_runs(m, BENEFIT_LAM, relatedness=relatedness,
                                                seeds=tuple(range(seed, seed + seeds)), **BENEFIT_FAMILY)
              for m in MODELS}
    numbers = "; ".join(f"{m}: {np.round(_ratio_band(a, j)[0], 3).tolist()}" for m, (_, a, j) in curves.items())
    caption = (f"Multi-task benefit (HTW section 4): held-out RMS error of task 0, a noisy task (label noise "
               f"{BENEFIT_FAMILY['poor_noise']}, the others {BENEFIT_FAMILY['noise']}; every task has all "
               f"{BENEFIT_FAMILY['points']} points), fitted jointly with {BENEFIT_FAMILY['tasks'] - 1} tasks sharing "
               f"its kinks to a degree rho, over fitted alone; mean and standard deviation (error bars) over "
               f"{seeds} seeds, lam = {BENEFIT_LAM}. Random features and the GP are separable across tasks, so their "
               f"ratio is 1 to rounding (the curves coincide; points are dodged sideways to show both). Mean ratios "
               f"at rho = {list(relatedness)}: {numbers}.")
    return benefit_figure(curves, out_dir, xlabel="task relatedness rho (shared kink positions)",
                          name="multitask_benefit", caption=caption)


def plot_main(argv=None) -> int:
    """Stand-alone entry point of ``pcheck plot`` (same arguments)."""
    parser = argparse.ArgumentParser(prog="pcheck plot", description="draw the figures of a check")
    add_plot_arguments(parser)
    return plot_command(parser.parse_args(argv))
