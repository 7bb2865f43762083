"""Sweeps: a grid on a dask LocalCluster of 2 workers gives the serial results; refuting
and raising instances become the sweep's verdict; ``pcheck sweep`` writes the report, streams
every finished row to DIR/<id>.jsonl, survives raising instances, dying workers and Ctrl-C,
resumes, and checks its options before running."""

import json
import sys

import dask
import pytest
import sweep_faults

from pcheck import sweep as sweep_module
from pcheck.harness.cli import main
from pcheck.ledger import Context
from pcheck.papers.htw.footnote7 import footnote7_grid
from pcheck.papers.htw.thm3_2 import THM3_2_MAX_NODES
from pcheck.problems.exchange_1d import GAP_TOL
from pcheck.sweep import (
    SWEEPS,
    Sweep,
    Undecided,
    evaluate_instance,
    grid_takes_seed,
    map_instances,
    read_rows,
    run_sweep,
    sweep_outcome,
)


def below_one(instance):
    """A toy claim: x < 1, residual x."""
    if instance["x"] >= 1:
        raise AssertionError(f"x = {instance['x']} >= 1")
    if instance["x"] < 0:
        raise ValueError("x must be >= 0")
    if instance["x"] == 0.5:
        raise Undecided("x = 0.5 decides nothing")
    return instance["x"]


TOY = Sweep("zz.toy", "x < 1", "test_sweep", "zz.md", "x", lambda ctx: [], below_one)


def test_local_cluster_matches_the_serial_run():
    """Two single-threaded workers in threads (``processes=False``): starting two worker
    processes that import numba costs more than this test's budget on a shared machine."""
    instances = footnote7_grid(Context(profile="nojit")) + [{"d_in": 2, "d_out": 3, "v_norm": 0.5, "b": -3.0,
                                                             "w_norm": 1.5}]
    serial = map_instances(SWEEPS["htw.footnote7.grid"].evaluate, instances, serial=True)
    distributed = map_instances(SWEEPS["htw.footnote7.grid"].evaluate, instances, workers=2, processes=False)
    assert distributed == serial
    assert [r["index"] for r in serial] == list(range(len(instances)))
    assert all(r["verdict"] == "holds" for r in serial)


@pytest.mark.slow
def test_local_cluster_of_processes_matches_the_serial_run():
    """The default cluster: 2 worker processes (about 12 s here, mostly starting them)."""
    instances = footnote7_grid(Context(profile="nojit"))
    serial = map_instances(SWEEPS["htw.footnote7.grid"].evaluate, instances, serial=True)
    assert map_instances(SWEEPS["htw.footnote7.grid"].evaluate, instances, workers=2) == serial


def test_rows_carry_instance_verdict_and_residual():
    assert evaluate_instance(below_one, 4, {"x": 0.25}) == {"index": 4, "x": 0.25, "verdict": "holds", "residual": 0.25,
                                                           "message": None}
    assert evaluate_instance(below_one, 0, {"x": 2})["verdict"] == "refuted"
    assert evaluate_instance(below_one, 0, {"x": -1})["message"] == "ValueError: x must be >= 0"
    assert evaluate_instance(below_one, 0, {"x": float("nan")})["verdict"] == "refuted"


def test_outcome_holds_refuted_or_error():
    rows = map_instances(below_one, [{"x": 0.25}, {"x": 0.75}], serial=True)
    held = sweep_outcome(TOY, rows, 1.0)
    assert (held.verdict, held.evidence.examples, held.evidence.residual) == ("holds", 2, 0.75)
    assert held.evidence.details["instances"] == rows

    undecided = sweep_outcome(TOY, map_instances(below_one, [{"x": 0.25}, {"x": 0.5}], serial=True), 1.0)
    assert (undecided.verdict, undecided.evidence.residual) == ("open", 0.25)
    assert undecided.evidence.details["instances"][1]["message"] == "x = 0.5 decides nothing"

    refuted = sweep_outcome(TOY, map_instances(below_one, [{"x": 0.5}, {"x": 3}, {"x": 4}], serial=True), 1.0)
    assert (refuted.verdict, refuted.as_expected) == ("refuted", False)
    assert refuted.evidence.counterexample == "{'x': 3}\nx = 3 >= 1"
    assert refuted.evidence.reproduce == "python -c \"from pcheck.sweep import find; find('zz.toy').evaluate({'x': 3})\""

    broken = sweep_outcome(TOY, map_instances(below_one, [{"x": 0.5}, {"x": -1}, {"x": 0.25}], serial=True), 1.0)
    assert (broken.verdict, broken.error) == ("error", "1 of 3 instances failed, first instance 1: ValueError: x must "
                                                       "be >= 0; the other 2: open")
    assert [r["verdict"] for r in broken.details["instances"]] == ["open", "error", "holds"]  # rows kept


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="workers"):
        map_instances(below_one, [{"x": 0.5}], workers=0)


def test_grid_grows_with_the_profile():
    sizes = [len(footnote7_grid(Context(profile=p))) for p in ("nojit", "dev", "ci", "thorough")]
    assert sizes == sorted(sizes) and sizes[0] >= 2


def test_pcheck_sweep_writes_the_verify_report(tmp_path, capsys):
    code = main(["sweep", "htw.footnote7.grid", "--serial", "--profile", "nojit", "--report", str(tmp_path)])
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["command"], report["summary"]["as_expected"]) == ("sweep", 1)
    (entry,) = report["claims"]
    assert entry["examples"] == len(entry["details"]["instances"]) == len(footnote7_grid(Context(profile="nojit")))
    md = (tmp_path / "report.md").read_text()
    assert "| index | d_in | d_out | v_norm | b | w_norm | verdict | residual | message |" in md
    first = entry["details"]["instances"][0]
    assert f"| 0 | 1 | 1 | 1 | -1 | 2 | holds | {first['residual']:.6g} | - |" in md
    assert main(["sweep", "no.such.sweep", "--report", str(tmp_path)]) == 2


def test_without_dask_the_error_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match="pcheck\\[sweep\\]"):
        map_instances(below_one, [{"x": 0.25}])
    assert map_instances(below_one, [{"x": 0.25}], serial=True)[0]["verdict"] == "holds"
    assert main(["sweep", "--report", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []  # found before anything ran


def test_theorem_3_2_sweep_leaves_an_unreached_instance_open_without_certificate():
    """(variant 7, d_out 5, N 5, lam 0.1, seed 0): the search of proofs_notes/htw-thm3_2.md finds
    no width-(N+1) network at the certified optimum; without a branch and bound it stays open."""
    s = SWEEPS["htw.thm3_2.grid"]
    instances = [{"variant": "7", "d_out": 1, "N": 3, "lam": 0.1, "seed": 0, "max_nodes": 0},
                 {"variant": "7", "d_out": 5, "N": 5, "lam": 0.1, "seed": 0, "max_nodes": 0}]
    rows = map_instances(s.evaluate, instances, serial=True)
    assert [r["verdict"] for r in rows] == ["holds", "open"]
    assert rows[1]["message"].startswith("margin ")
    assert float(rows[1]["message"].split()[1]) > GAP_TOL  # above the solver's certified relative gap
    outcome = sweep_outcome(s, rows, 0.0)
    assert (outcome.verdict, outcome.as_expected) == ("open", False)
    dev = s.grid(Context(profile="dev"))
    assert {**instances[1], "max_nodes": THM3_2_MAX_NODES} in dev


@pytest.mark.slow
def test_theorem_3_2_sweep_certifies_the_refutation():
    """The same instance with the branch and bound (about 290 restricted solves, ~8 s)."""
    s = SWEEPS["htw.thm3_2.grid"]
    instance = {"variant": "7", "d_out": 5, "N": 5, "lam": 0.1, "seed": 0, "max_nodes": THM3_2_MAX_NODES}
    rows = map_instances(s.evaluate, [instance], serial=True)
    assert rows[0]["verdict"] == "refuted" and rows[0]["message"].startswith("certified: every width-6 network")
    outcome = sweep_outcome(s, rows, 0.0)
    assert (outcome.verdict, outcome.as_expected) == ("refuted", True)
    assert outcome.evidence.reproduce == (
        "python -c \"from pcheck.sweep import find; find('htw.thm3_2.grid').evaluate(" + repr(instance) + ")\"")


# --- issue 14, item 6: no finished instance is lost; failures are rows; options checked first


def toy_grid(ctx):
    """x = 0.1, 0.2, 0.3, -1 (raises ValueError), 0.4."""
    return [{"x": 0.1}, {"x": 0.2}, {"x": 0.3}, {"x": -1}, {"x": 0.4}]


def seeded_grid(ctx):
    """Three x drawn from ctx.rng: a grid that takes the seed."""
    return [{"x": round(float(x), 6)} for x in ctx.rng(0).uniform(0, 0.9, 3)]


@pytest.fixture
def registered():
    """Register sweeps for the duration of a test: ``registered(id, evaluate, grid)``."""
    added = []

    def register(sweep_id, evaluate, grid, expected="holds"):
        SWEEPS[sweep_id] = Sweep(sweep_id, "x < 1", "test_sweep", "zz.md", "x", grid, evaluate, expected)
        added.append(sweep_id)

    yield register
    for sweep_id in added:
        del SWEEPS[sweep_id]


def exit_code(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def jsonl_rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_raising_instance_is_an_error_row_and_the_sweep_goes_on(tmp_path, registered, capsys):
    """Issue 14, item 6: one raising instance ended the sweep in a traceback without a table or
    a report. Now it is an "error" row, the other rows are evaluated and on disk, the table and
    report are written, and the exit is 1."""
    registered("zz.toy", below_one, toy_grid)
    assert main(["sweep", "zz.toy", "--serial", "--report", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "zz.toy" in out.splitlines()[2] and "error  <-- differs" in out
    assert "zz.toy: check raised 1 of 5 instances failed, first instance 3: ValueError: x must be >= 0; the other 4: " \
           "holds" in out
    rows = jsonl_rows(tmp_path / "zz.toy.jsonl")
    assert [(r["index"], r["verdict"]) for r in rows] == [(0, "holds"), (1, "holds"), (2, "holds"), (3, "error"),
                                                          (4, "holds")]
    (entry,) = json.loads((tmp_path / "report.json").read_text())["claims"]
    assert entry["verdict"] == "error" and entry["details"]["instances"] == rows
    assert entry["details"]["jsonl"] == "zz.toy.jsonl"
    assert "| 3 | -1 | error | - | ValueError: x must be >= 0 |" in (tmp_path / "report.md").read_text()


def test_rows_stream_to_disk_as_they_finish(tmp_path):
    """Each row is on disk before the next instance starts (read back inside ``evaluate``)."""
    path = tmp_path / "rows.jsonl"
    seen = []

    def evaluate(instance):
        seen.append(len(path.read_text().splitlines()) if path.exists() else 0)
        return instance["x"]

    s = Sweep("zz.stream", "x < 1", "test_sweep", "zz.md", "x", toy_grid, evaluate)
    run_sweep(s, Context(), jsonl=path, serial=True)
    assert seen == [0, 1, 2, 3, 4]


def test_resume_runs_only_what_is_not_done(tmp_path, registered, capsys):
    """``--resume`` takes the finished rows of DIR/<id>.jsonl (matched by instance) and runs
    the others: here the one that failed, after the cause was fixed, and one new instance;
    a line cut short by a crash is skipped."""
    calls = []
    broken = {"on": True}

    def flaky(instance):
        calls.append(instance["x"])
        if broken["on"] and instance["x"] < 0:
            raise RuntimeError("transient")
        return abs(instance["x"])

    grid = {"xs": [0.1, 0.2, -0.3]}
    registered("zz.flaky", flaky, lambda ctx: [{"x": x} for x in grid["xs"]])
    assert main(["sweep", "zz.flaky", "--serial", "--report", str(tmp_path)]) == 1
    assert calls == [0.1, 0.2, -0.3]
    with (tmp_path / "zz.flaky.jsonl").open("a") as f:
        f.write('{"index": 9, "x": 0.4, "verd')  # a write cut short
    broken["on"], grid["xs"], calls[:] = False, [0.1, 0.2, -0.3, 0.4], []
    assert main(["sweep", "zz.flaky", "--serial", "--resume", "--report", str(tmp_path)]) == 0
    assert calls == [-0.3, 0.4]
    assert "2 instances taken from" in capsys.readouterr().err
    (entry,) = json.loads((tmp_path / "report.json").read_text())["claims"]
    assert [(r["index"], r["x"], r["verdict"]) for r in entry["details"]["instances"]] == [
        (0, 0.1, "holds"), (1, 0.2, "holds"), (2, -0.3, "holds"), (3, 0.4, "holds")]
    assert entry["details"]["resumed"] == 2
    assert len(read_rows(tmp_path / "zz.flaky.jsonl")) == 4  # the last row of each instance
    calls[:] = []
    assert main(["sweep", "zz.flaky", "--serial", "--report", str(tmp_path)]) == 0  # without --resume: afresh
    assert calls == [0.1, 0.2, -0.3, 0.4] and len(jsonl_rows(tmp_path / "zz.flaky.jsonl")) == 4


def test_ctrl_c_keeps_the_finished_rows_and_writes_the_report(tmp_path, registered, capsys):
    def interrupted_at_third(instance):
        if instance["x"] == 0.3:
            raise KeyboardInterrupt
        return instance["x"]

    registered("zz.ctrl_c", interrupted_at_third, toy_grid)
    assert main(["sweep", "zz.ctrl_c", "--serial", "--report", str(tmp_path)]) == 130
    assert "rerun with --resume" in capsys.readouterr().err
    assert [r["index"] for r in jsonl_rows(tmp_path / "zz.ctrl_c.jsonl")] == [0, 1]
    (entry,) = json.loads((tmp_path / "report.json").read_text())["claims"]
    assert [r["message"] for r in entry["details"]["instances"]][1:] == [None] + ["not run: interrupted"] * 3


def test_seed_is_honoured_by_a_grid_that_takes_it_and_rejected_otherwise(tmp_path, registered, capsys):
    """Issue 14, item 6: ``--seed N`` was ignored (the grids fix their seeds) but recorded."""
    registered("zz.seeded", below_one, seeded_grid)
    registered("zz.fixed", below_one, lambda ctx: [{"x": 0.25}])
    assert grid_takes_seed(SWEEPS["zz.seeded"]) and not grid_takes_seed(SWEEPS["zz.fixed"])
    assert not grid_takes_seed(SWEEPS["htw.footnote7.grid"]) and not grid_takes_seed(SWEEPS["htw.thm3_2.grid"])
    reports = {}
    for seed in ("3", "4"):
        assert main(["sweep", "zz.seeded", "--serial", "--seed", seed, "--report", str(tmp_path / seed)]) == 0
        reports[seed] = json.loads((tmp_path / seed / "report.json").read_text())
        assert reports[seed]["seed"] == int(seed)
    xs = {seed: [r["x"] for r in r_["claims"][0]["details"]["instances"]] for seed, r_ in reports.items()}
    assert xs["3"] != xs["4"] and xs["3"] == [r["x"] for r in seeded_grid(Context(seed=3))]
    capsys.readouterr()
    assert main(["sweep", "zz.fixed", "--serial", "--seed", "3", "--report", str(tmp_path / "f")]) == 2
    assert "--seed 3: the grid of zz.fixed does not depend on the seed" in capsys.readouterr().err
    assert not (tmp_path / "f").exists()
    assert main(["sweep", "zz.fixed", "--serial", "--report", str(tmp_path / "f")]) == 0
    assert json.loads((tmp_path / "f" / "report.json").read_text())["seed"] is None  # no seed was used


@pytest.mark.parametrize("args, message", [
    (["--scheduler", "nonsense"], "argument --scheduler: scheduler must be an address"),
    (["--scheduler", "tcp://host:99999"], "argument --scheduler: scheduler must be an address"),
    (["--seed", "-1"], "argument --seed: must be an integer >= 0, got -1"),
    (["--resume", "--no-report"], "--resume reads the rows"),
    (["--serial", "--scheduler", "tcp://127.0.0.1:8786"], "--serial runs without dask"),
    (["--report", "FILE"], "--report: "),
])
def test_sweep_usage_errors_before_anything_runs(tmp_path, capsys, args, message):
    """Issue 14, item 11: ``sweep --scheduler nonsense`` ended in a traceback."""
    (tmp_path / "FILE").write_text("")
    args = [str(tmp_path / "FILE") if a == "FILE" else a for a in args]
    assert exit_code(["sweep", "htw.footnote7.grid", *args]) == 2
    assert message in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["FILE"]


def test_an_unreachable_scheduler_is_a_usage_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sweep_module, "SCHEDULER_TIMEOUT", 0.5)  # nothing listens on port 9 of this machine
    assert exit_code(["sweep", "htw.footnote7.grid", "--scheduler", "tcp://127.0.0.1:9",
                      "--report", str(tmp_path)]) == 2
    assert "--scheduler: no dask scheduler answers at tcp://127.0.0.1:9" in capsys.readouterr().err


#: The fault-injection cluster: a worker may die once per task (dask's default retries a task
#: 3 times; 0 makes each os._exit a KilledWorker at once and keeps the test to ~15 s), and each
#: single-threaded worker holds only the task it runs (saturation 1.0), so a dying worker
#: takes no queued task with it.
FAULTY_CLUSTER = {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}


def test_workers_killed_mid_sweep_lose_no_finished_row(tmp_path, registered, capsys):
    """Issue 14, item 6 (fault injection): on a LocalCluster of 2 worker processes, 3 of 12
    instances kill their worker (``os._exit``), each time a fresh one after the nanny's restart.
    The sweep ends with the table, the report and exit 1; every finished row is on disk, the
    killed instances are "error" rows naming KilledWorker; ``--resume`` after the fault is gone
    runs only the failed rows and the sweep holds."""
    armed = tmp_path / "armed"
    armed.touch()
    grid = [{"x": x, "armed": str(armed)} for x in range(12)]
    registered("zz.faults", sweep_faults.dies_when_armed, lambda ctx: grid)
    report = tmp_path / "report"
    with dask.config.set(FAULTY_CLUSTER):
        assert main(["sweep", "zz.faults", "--workers", "2", "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert "zz.faults" in out and "error  <-- differs" in out
    (entry,) = json.loads((report / "report.json").read_text())["claims"]
    rows = entry["details"]["instances"]
    on_disk = {r["index"]: r for r in jsonl_rows(report / "zz.faults.jsonl")}
    assert sorted(on_disk) == list(range(12)) and [on_disk[i] for i in range(12)] == rows
    killed = [r["index"] for r in rows if r["verdict"] == "error"]
    assert {1, 5, 9} <= set(killed)
    assert all(r["message"].startswith("lost: KilledWorker") for r in rows if r["verdict"] == "error")
    assert all(r["residual"] == r["x"] / 100 for r in rows if r["verdict"] == "holds")
    assert len(killed) < 12

    armed.unlink()  # the fault is gone; resumed serially to spare a second cluster's start-up
    assert main(["sweep", "zz.faults", "--serial", "--resume", "--report", str(report)]) == 0
    (entry,) = json.loads((report / "report.json").read_text())["claims"]
    assert entry["verdict"] == "holds" and entry["details"]["resumed"] == 12 - len(killed)
    assert [r["residual"] for r in entry["details"]["instances"]] == [x / 100 for x in range(12)]


def test_a_cluster_that_fails_leaves_error_rows_not_a_traceback(monkeypatch):
    """A cluster that cannot start (or a scheduler lost mid-run): the instances not finished are
    "error" rows naming the failure, passed to ``on_row`` like any other."""
    class BrokenCluster:
        def __init__(self, **options):
            raise OSError("no free port")

    monkeypatch.setattr(sweep_module, "require_dask", lambda: (None, BrokenCluster, None))
    seen = []
    rows = map_instances(below_one, [{"x": 0.1}, {"x": 0.2}], indices=[4, 7], on_row=seen.append)
    assert [(r["index"], r["verdict"], r["message"]) for r in rows] == [
        (4, "error", "not run: the cluster failed: OSError: no free port"),
        (7, "error", "not run: the cluster failed: OSError: no free port")]
    assert seen == rows
    assert map_instances(below_one, [], on_row=seen.append) == []  # nothing to run: no cluster started
