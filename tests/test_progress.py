"""Issue 16, item 5: progress of ``pcheck verify``, ``sweep`` and ``plot``. On a terminal a bar
with an ETA; piped, a line as each claim starts and finishes (with the ETA) and a heartbeat
when nothing was printed for a while, never a long silence."""

import io
import json
import re
import time

import pytest

import pcheck
from pcheck import sweep as sweep_module
from pcheck.harness import progress as progress_module
from pcheck.harness.cli import main
from pcheck.harness.progress import Progress, duration, expected_seconds
from pcheck.ledger import REGISTRY, Evidence


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self):
        return True


def test_plain_lines_when_a_unit_starts_and_finishes():
    out = io.StringIO()
    with Progress("verify", {"a": 1.0, "b": 3.0}, file=out) as bar:
        bar.start("a")
        bar.finish("a", "[1/2] a: holds in 1.00s")
        bar.start("b")
        bar.finish("b", "[2/2] b: holds in 3.00s")
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/2] a ..."
    assert re.fullmatch(r"\[1/2\] a: holds in 1\.00s  \(eta \d+s\)", lines[1])
    assert lines[2:] == ["[2/2] b ...", "[2/2] b: holds in 3.00s"]  # the last line needs no ETA


def test_a_heartbeat_breaks_a_long_silence():
    out = io.StringIO()
    with Progress("verify", {"slow": 60.0}, file=out, heartbeat=0.5) as bar:
        bar.start("slow")
        time.sleep(2.3)
        bar.finish("slow", "[1/1] slow: holds")
    beats = [line for line in out.getvalue().splitlines() if line.startswith("  ... running slow")]
    assert beats and "0/1 done" in beats[0] and "eta" in beats[0]


def test_a_bar_with_eta_on_a_terminal():
    out = Terminal()
    with Progress("verify", {"a": 0.5, "b": 0.5}, file=out) as bar:
        bar.start("a")
        time.sleep(0.5)
        bar.finish("a", "[1/2] a: holds in 0.50s")
        bar.start("b")
        time.sleep(0.5)
        bar.finish("b", "[2/2] b: holds in 0.50s")
    text = out.getvalue()
    assert "[1/2] a: holds in 0.50s" in text and "[2/2] b: holds in 0.50s" in text
    assert "verify [1/2] b" in text and "eta " in text and "%" in text  # the live bar: running claim, percent, ETA
    assert "a ..." not in text  # no start lines on a terminal: the bar names the running claim


def test_the_eta_weighs_units_by_their_expected_seconds():
    bar = Progress("verify", {"short": 1.0, "long": 9.0}, file=io.StringIO())
    t0 = bar.t0
    assert bar.eta(t0) == 10.0  # nothing done yet: the expected seconds
    bar.running["long"] = [t0, None]
    assert bar.completed(t0 + 3.0) == pytest.approx(3.0)  # a running unit counts with its elapsed time
    assert bar.completed(t0 + 100.0) == pytest.approx(9.0 * 0.95)  # ... up to 95% of its expected time
    bar.advance("long", 0.5)
    assert bar.completed(t0 + 100.0) == pytest.approx(4.5)  # a reported fraction wins
    bar.running.pop("long")
    bar.done, bar.finished = 9.0, 1
    assert bar.eta(t0 + 18.0) == pytest.approx(2.0)  # took twice as long as expected: 1 s left becomes 2 s


def test_expected_seconds_from_the_previous_report():
    previous = {"claims": [{"id": "a", "seconds": 4.0}, {"id": "b", "seconds": 2.0}, {"id": "gone", "seconds": 9.0}]}
    assert expected_seconds(["a", "b", "new"], previous) == {"a": 4.0, "b": 2.0, "new": 4.0}  # new: the median
    assert expected_seconds(["x"], None) == {"x": progress_module.DEFAULT_SECONDS}
    assert (duration(None), duration(5.4), duration(75), duration(7300)) == ("?", "5s", "1m15s", "2h01m")


@pytest.fixture
def slow_claims(tmp_path):
    note = tmp_path / "zz.md"
    note.write_text("# zz\n")
    ids = ["zz.progress.a", "zz.progress.b", "zz.progress.c"]
    for i in ids:
        pcheck.claim(i, statement="s", source="test_progress", note=str(note))(
            lambda ctx: time.sleep(0.1) or Evidence("holds", 1, 0.0, "none"))
    yield ids
    for i in ids:
        REGISTRY.pop(i, None)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_piped_verify_shows_each_claim_starting_and_finishing(tmp_path, capsys, slow_claims, workers):
    """Piped (capsys is no terminal), nothing waited until a claim ended: now every claim
    prints a line when it starts and one when it finishes, also from worker processes."""
    assert main(["verify", "--claims", "zz.progress.*", "--report", str(tmp_path / "r"), "--workers", workers]) == 0
    err = capsys.readouterr().err.splitlines()
    for claim_id in slow_claims:
        started = next(i for i, line in enumerate(err) if re.fullmatch(rf"\[\d/3\] {re.escape(claim_id)} \.\.\.", line))
        finished = next(i for i, line in enumerate(err) if re.match(rf"\[\d/3\] {re.escape(claim_id)}: holds in ", line))
        assert started < finished
    assert any("(eta " in line for line in err)


def test_the_second_run_weighs_the_eta_with_the_first_runs_times(tmp_path, capsys, slow_claims, monkeypatch):
    seen = {}
    real = progress_module.Progress.__init__

    def spy(self, title, units, **kwargs):
        seen.update(units)
        real(self, title, units, **kwargs)

    monkeypatch.setattr(progress_module.Progress, "__init__", spy)
    report = str(tmp_path / "r")
    main(["verify", "--claims", "zz.progress.*", "--report", report])
    assert set(seen.values()) == {progress_module.DEFAULT_SECONDS}  # no report yet
    main(["verify", "--claims", "zz.progress.*", "--report", report])
    times = {c["id"]: c["seconds"] for c in json.loads((tmp_path / "r" / "report.json").read_text())["claims"]}
    assert all(0.09 <= seen[i] < 5 for i in slow_claims) and set(seen) == set(times)


def test_a_piped_sweep_shows_its_progress(tmp_path, capsys, monkeypatch):
    def evaluate(instance):
        time.sleep(0.3)
        return 0.0

    monkeypatch.setitem(sweep_module.SWEEPS, "zz.progress.grid", None)
    sweep_module.sweep("zz.progress.grid", statement="s", source="test_progress", note="zz.md", measure="none",
                       grid=lambda ctx: [{"k": k} for k in range(4)])(evaluate)
    seen = []
    monkeypatch.setattr(progress_module.Progress, "advance", lambda self, key, fraction: seen.append(fraction))
    assert main(["sweep", "zz.progress.grid", "--serial", "--report", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("[1/1] zz.progress.grid: 4 instances serially, rows to ") and err[0].endswith(" ...")
    assert err[1].startswith("[1/1] zz.progress.grid: holds in ")
    assert seen and max(seen) > 0  # the instances finished, read from the rows streamed to DIR/<ID>.jsonl


def test_plot_shows_progress_and_remembers_its_time(tmp_path, capsys, monkeypatch):
    def draw(args):
        time.sleep(0.2)
        return 0

    monkeypatch.setattr("pcheck.harness.cli.plot_command", draw)
    assert main(["plot", "multitask-benefit", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "[1/1] multitask-benefit ..." and err[1].startswith("[1/1] multitask-benefit: drawn in ")
    times = json.loads((tmp_path / ".pcheck-plot-seconds.json").read_text())
    assert 0.2 <= times["multitask-benefit"] < 5  # the next run's ETA
