"""Figures: files exist, are PNG, every panel has its axis labels, every figure names its
ledger claims in its title and has its caption in a file beside it (no pixel checks)."""

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from pcheck.harness import cli
from pcheck.harness.plots import (
    appendix_b_figures,
    benefit_figure,
    multitask_benefit_figure,
)
from pcheck.ledger import load_claims
from pcheck.papers.htw.periodic_tasks import (
    APPENDIX_B_DEFAULTS,
    joint_vs_separate,
    periodic_tasks,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
APPENDIX_B_FILES = ["appendix_b_stack1.png", "appendix_b_stack2.png", "appendix_b_tasks.png",
                    "appendix_b_joint_vs_alone.png"]


def assert_figure(fig, *, panels: int):
    assert fig.path.is_file() and fig.path.read_bytes()[:8] == PNG_MAGIC
    assert len(fig.caption) > 40
    assert len(fig.labels) >= panels
    for xlabel, ylabel in fig.labels:
        assert xlabel and ylabel
    # names its claims, which are ledger entries, in the image's title
    ledger = load_claims()
    assert fig.claims and all(c in ledger for c in fig.claims), fig.claims
    assert all(c in fig.title for c in fig.claims)
    # the caption beside the image
    assert fig.caption_path == fig.path.with_suffix(".txt")
    text = fig.caption_path.read_text()
    assert fig.caption in text and all(c in text for c in fig.claims)


@pytest.fixture(scope="module")
def quick_run():
    # a short, poor training run: the figures only need a trained network, not a good one
    tasks = periodic_tasks(rng=0)
    return tasks, joint_vs_separate(tasks, 1e-3, neurons=(6, 4, 6), restarts=1, maxiter=30, seed=0)


def test_appendix_b_panels(tmp_path, quick_run):
    tasks, result = quick_run
    figs = appendix_b_figures(result, tasks, tmp_path)
    assert [f.path.name for f in figs] == APPENDIX_B_FILES
    stack1, stack2, outputs, poor = figs
    assert_figure(stack1, panels=2)  # h_1 and its twin h_1'' axis
    assert {"h_1", "h_1'' (jump of h_1')"} <= {y for _, y in stack1.labels}
    assert stack1.claims == ("htw.appendix_b.periodic",)
    # h has a legend entry, in the one legend of both axes; the smoothed h'' has a plain label
    assert stack1.legend == ("h_1 (left axis)", "h_1'' smoothed (a lone kink peaks at its jump)",
                             "h_1'' atoms: jump of h_1' at each kink", "outer weight w_k at the neuron's kink xi_k")
    assert not any("sqrt" in entry or "bandwidth" in entry for f in figs for entry in f.legend)
    assert_figure(stack2, panels=3)
    assert "H(x) = h_2(h_1(x))" in {y for _, y in stack2.labels}
    assert "h_2 (left axis)" in stack2.legend and "H = h_2 o h_1" in stack2.legend
    assert "htw.appendix_b.period_is_task_period" in stack2.claims
    assert_figure(outputs, panels=7)
    assert [y for _, y in outputs.labels] == [f"f_{k}(x)" for k in range(7)]
    assert outputs.legend == ("periodic truth (noiseless)", "f_k, the jointly trained network",
                              "training data of task k")
    assert_figure(poor, panels=1)
    assert f"{result.joint_error[0]:.3f}"[:4] in poor.caption
    assert {"truth", "data"} <= set(poor.legend)


def test_benefit_figure(tmp_path):
    curves = {"random features": ([0, 0.5, 1], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]),
              "function space": ([0, 0.5, 1], [1.0, 1.0, 1.0], [1.1, 0.8, 0.4])}
    fig = benefit_figure(curves, tmp_path, xlabel="relatedness rho", name="benefit", caption="x" * 50)
    assert_figure(fig, panels=1)
    assert fig.labels[0] == ("relatedness rho", "test error joint / alone (noisy task)")
    assert "data-poor" not in fig.title and "noisy task" in fig.title
    assert fig.legend == ("random features", "function space")


def test_benefit_figure_error_bars_and_coinciding_curves(tmp_path):
    """Per-seed values (columns) give error bars; two curves at 1.0 are drawn side by side."""
    import matplotlib.pyplot as plt

    seeds = np.array([[1.0, 2.0, 4.0], [1.0, 2.0, 4.0]])
    curves = {"random features": ([0, 1], seeds, seeds), "gp": ([0, 1], seeds, seeds),
              "function space": ([0, 1], seeds, seeds * [[0.5, 1.0, 1.5], [0.5, 1.0, 1.5]])}
    drawn = {}
    original = plt.Axes.errorbar

    def spy(ax, x, y, *args, **kwargs):
        drawn[kwargs["label"]] = (np.asarray(x), np.asarray(y), np.asarray(kwargs["yerr"]), kwargs)
        return original(ax, x, y, *args, **kwargs)

    plt.Axes.errorbar = spy
    try:
        benefit_figure(curves, tmp_path, xlabel="rho", name="b", caption="y" * 50)
    finally:
        plt.Axes.errorbar = original
    np.testing.assert_allclose(drawn["function space"][1], [1.0, 1.0])
    np.testing.assert_allclose(drawn["function space"][2], [0.5, 0.5])     # s.d. over the 3 seeds
    np.testing.assert_allclose(drawn["gp"][2], [0.0, 0.0])
    # the random-features and GP points coincide in y, so they must differ in x and in style
    assert np.all(drawn["random features"][0] != drawn["gp"][0])
    assert drawn["random features"][3]["marker"] != drawn["gp"][3]["marker"]
    assert drawn["random features"][3]["ls"] != drawn["gp"][3]["ls"]


def test_cli_plot_appendix_b(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(APPENDIX_B_DEFAULTS, "neurons", (5, 3, 5))
    monkeypatch.setitem(APPENDIX_B_DEFAULTS, "restarts", 1)
    monkeypatch.setitem(APPENDIX_B_DEFAULTS, "maxiter", 20)
    assert cli.main(["plot", "appendix-b", "--out", str(tmp_path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count(".png") == 4 and "periodicity defect" in out and "claim htw.appendix_b.benefit" in out
    names = sorted(APPENDIX_B_FILES + [n.replace(".png", ".txt") for n in APPENDIX_B_FILES])
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".png", ".txt")) == names
    caption = (tmp_path / "appendix_b_tasks.txt").read_text()
    assert "claim: htw.appendix_b.benefit" in caption and "data-poor" in caption


def test_multitask_benefit_figure(tmp_path):
    fig = multitask_benefit_figure(tmp_path, relatedness=(0.0, 1.0), seeds=2)
    assert_figure(fig, panels=1)
    assert fig.labels[0] == ("task relatedness rho (shared kink positions)", "test error joint / alone (noisy task)")
    assert fig.claims == ("htw.sec4.multitask_benefit",)
    assert "random features: [1.0, 1.0]" in fig.caption and "function space" in fig.caption
    assert "16 points" in fig.caption and "noisy" in fig.caption and "2 seeds" in fig.caption
