"""Figures: files exist, are PNG, and every panel has its axis labels (no pixel checks)."""

import pytest

pytest.importorskip("matplotlib")

from pcheck.harness import cli  # noqa: E402
from pcheck.harness.plots import appendix_b_figures, benefit_figure  # noqa: E402
from pcheck.papers.htw.periodic_tasks import (  # noqa: E402
    APPENDIX_B_DEFAULTS,
    joint_vs_separate,
    periodic_tasks,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_figure(fig, *, panels: int):
    assert fig.path.is_file() and fig.path.read_bytes()[:8] == PNG_MAGIC
    assert len(fig.caption) > 40
    assert len(fig.labels) >= panels
    for xlabel, ylabel in fig.labels:
        assert xlabel and ylabel


@pytest.fixture(scope="module")
def quick_run():
    # a short, poor training run: the figures only need a trained network, not a good one
    tasks = periodic_tasks(rng=0)
    return tasks, joint_vs_separate(tasks, 1e-3, neurons=(6, 4, 6), restarts=1, maxiter=30, seed=0)


def test_appendix_b_panels(tmp_path, quick_run):
    tasks, result = quick_run
    figs = appendix_b_figures(result, tasks, tmp_path)
    assert [f.path.name for f in figs] == ["appendix_b_stack1.png", "appendix_b_stack2.png", "appendix_b_tasks.png",
                                           "appendix_b_joint_vs_alone.png"]
    assert_figure(figs[0], panels=2)  # h_1 and its twin h_1'' axis
    assert {"h_1", "h_1'' (jump of h_1')"} <= {y for _, y in figs[0].labels}
    assert_figure(figs[1], panels=3)
    assert "H(x) = h_2(h_1(x))" in {y for _, y in figs[1].labels}
    assert_figure(figs[2], panels=7)
    assert [y for _, y in figs[2].labels] == [f"f_{k}(x)" for k in range(7)]
    assert_figure(figs[3], panels=1)
    assert f"{result.joint_error[0]:.3f}"[:4] in figs[3].caption


def test_benefit_figure(tmp_path):
    curves = {"random features": ([0, 0.5, 1], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]),
              "function space": ([0, 0.5, 1], [1.0, 1.0, 1.0], [1.1, 0.8, 0.4])}
    fig = benefit_figure(curves, tmp_path, xlabel="relatedness rho", name="benefit", caption="x" * 50)
    assert_figure(fig, panels=1)
    assert fig.labels[0] == ("relatedness rho", "test error joint / alone (data-poor task)")


def test_cli_plot_appendix_b(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(APPENDIX_B_DEFAULTS, "neurons", (5, 3, 5))
    monkeypatch.setitem(APPENDIX_B_DEFAULTS, "restarts", 1)
    monkeypatch.setitem(APPENDIX_B_DEFAULTS, "maxiter", 20)
    assert cli.main(["plot", "appendix-b", "--out", str(tmp_path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count(".png") == 4 and "periodicity defect" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["appendix_b_stack1.png", "appendix_b_stack2.png", "appendix_b_tasks.png", "appendix_b_joint_vs_alone.png"])


def test_multitask_benefit_figure(tmp_path):
    from pcheck.harness.plots import multitask_benefit_figure

    fig = multitask_benefit_figure(tmp_path, relatedness=(0.0, 1.0), seeds=1)
    assert_figure(fig, panels=1)
    assert fig.labels[0][0] == "task relatedness rho (shared kink positions)"
    assert "random features: [1.0, 1.0]" in fig.caption and "function space" in fig.caption
