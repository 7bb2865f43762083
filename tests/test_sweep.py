"""Sweeps: a grid on a dask LocalCluster of 2 workers gives the serial results; refuting
and raising instances become the sweep's verdict; ``pcheck sweep`` writes the report."""

import json
import sys

import pytest

from pcheck.harness.cli import main
from pcheck.ledger import Context
from pcheck.papers.htw.footnote7 import footnote7_grid
from pcheck.papers.htw.thm3_2 import THM3_2_MAX_NODES
from pcheck.problems.function_space import GAP_TOL
from pcheck.sweep import (
    SWEEPS,
    Sweep,
    Undecided,
    evaluate_instance,
    map_instances,
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

    broken = sweep_outcome(TOY, map_instances(below_one, [{"x": 0.5}, {"x": -1}], serial=True), 1.0)
    assert (broken.verdict, broken.error) == ("error", "instance 1: ValueError: x must be >= 0")


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


def test_without_dask_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match="pcheck\\[sweep\\]"):
        map_instances(below_one, [{"x": 0.25}])
    assert map_instances(below_one, [{"x": 0.25}], serial=True)[0]["verdict"] == "holds"
    assert main(["sweep", "--no-report"]) == 2


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
