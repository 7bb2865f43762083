"""report.json's schema (version 2), report.md, atomic report writes, and the
proofs_notes/ index: generated from the ledger, committed up to date, one note per entry
and one entry per note."""

import json
import math
import re
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone

import numpy as np
import pytest

from pcheck.harness.report import (
    NOTES_WITHOUT_ENTRY,
    OURS_HEADING,
    PAPERS_HEADING,
    SCHEMA_VERSION,
    ReportTargetError,
    json_safe,
    linked_test_files,
    markdown,
    notes_index,
    prepare_report_dir,
    write_atomically,
    write_report,
)
from pcheck.ledger import Claim, Evidence, Outcome, by_choice, load_claims, notes_dir
from pcheck.sweep import SWEEPS

#: The documented schema (pcheck/harness/report.py docstring): key -> allowed JSON types.
TOP = {"schema_version": int, "tool": str, "pcheck_version": str, "command": str, "profile": str,
       "seed": (int, type(None)), "started_utc": str, "seconds": float, "environment": dict, "summary": dict,
       "previous_started_utc": (str, type(None)), "changes": list, "claims": list}
ENVIRONMENT = {"python": str, "platform": str, "numba_jit": bool}
SUMMARY = {"claims": int, "as_expected": int, "differing": list, "verdicts": dict}
CLAIM = {"id": str, "statement": str, "source": str, "variants": list, "quote": (str, type(None)),
         "reading": (str, type(None)), "origin": (str, type(None)), "free_choices": dict, "derived_from": list,
         "note": (str, type(None)), "expected": str, "verdict": str, "as_expected": bool,
         "examples": (int, type(None)), "residual": (float, str, type(None)), "measure": (str, type(None)),
         "seconds": float, "counterexample": (str, type(None)), "reproduce": (str, type(None)),
         "error": (str, type(None)), "details": dict, "choices": list, "figures": list}
CHOICE = {"choice": dict, "verdict": str, "residual": (float, str), "measure": str}
VERDICT_COUNTS = ("holds", "refuted", "open", "depends", "skipped", "error")


def claim(claim_id, expected="holds", **fields):
    return Claim(claim_id, f"statement {claim_id}", "source", expected, f"{claim_id}.md", ("7",), None, **fields)


def outcomes(tmp_path):
    figure = tmp_path / "fig.png"
    noise = by_choice([({"noise": "fixed xi", "width": 10}, Evidence("refuted", 5, 0.158, "|M|")),
                       ({"noise": "per sample", "width": 64}, Evidence("holds", 5, 0.002, "|M|"))], "|M|")
    return [
        Outcome(claim("a.holds", quote="We show that A holds.", reading="for all x, A(x)",
                      free_choices={"domain": ["[0, 1]", "R"]}),
                Evidence("holds", 20, 1.5e-12, "relative error", figures=[figure],
                         details={"n": np.int64(3), "gap": np.float64(np.inf), "x": np.array([0.5, np.nan])}), 0.25),
        Outcome(claim("b.refuted", "refuted", quote="B holds for every n.", derived_from=("a.holds",)),
                Evidence("refuted", 3, 0.0, "certified gap", counterexample="X = [1]",
                         reproduce="pcheck verify --claims 'b.refuted'"), 1.0),
        Outcome(claim("c.error", origin="convention"), None, 0.5, "ZeroDivisionError: division by zero"),
        Outcome(claim("d.open", "holds", origin="extension"), Evidence("open", 4, math.inf, "certified gap |P - D|"),
                2.0),
        Outcome(claim("e.depends", "depends", origin="reading", quote="Noise is\nignored.",
                      free_choices={"noise": ["fixed xi", "per sample"], "width": [10, 64]}), noise, 3.0),
        Outcome(claim("f.skipped", quote="F."), Evidence("skipped", 0, math.nan,
                                                         "needs matplotlib: pip install 'pcheck[plot]'"), 0.01),
    ]


def check_types(obj, schema, where):
    assert set(obj) == set(schema), f"{where}: keys {sorted(obj)} != {sorted(schema)}"
    for key, kinds in schema.items():
        assert isinstance(obj[key], kinds), f"{where}.{key}: {obj[key]!r}"


def test_report_json_follows_the_documented_schema(tmp_path):
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    write_report(outcomes(tmp_path), tmp_path, command="verify", profile="dev", seed=0, seconds=3.75, started=started)
    text = (tmp_path / "report.json").read_text()
    report = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    check_types(report, TOP, "report")
    check_types(report["environment"], ENVIRONMENT, "environment")
    check_types(report["summary"], SUMMARY, "summary")
    for entry in report["claims"]:
        check_types(entry, CLAIM, entry["id"])
        for row in entry["choices"]:
            check_types(row, CHOICE, f"{entry['id']}.choices")
    assert report["schema_version"] == SCHEMA_VERSION == 2
    assert (report["started_utc"], report["seconds"], report["command"]) == ("2026-01-02T03:04:05Z", 3.75, "verify")
    assert report["summary"] == {"claims": 6, "as_expected": 4, "differing": ["c.error", "d.open"],
                                 "verdicts": dict.fromkeys(VERDICT_COUNTS, 1)}
    assert tuple(report["summary"]["verdicts"]) == VERDICT_COUNTS
    a, b, c, d, e, f = report["claims"]
    assert (a["residual"], a["figures"], a["details"]) == (1.5e-12, ["fig.png"], {"n": 3, "gap": "inf", "x": [0.5, "nan"]})
    assert (a["quote"], a["reading"], a["origin"], a["free_choices"], a["derived_from"], a["choices"]) == (
        "We show that A holds.", "for all x, A(x)", "paper", {"domain": ["[0, 1]", "R"]}, [], [])
    assert (b["verdict"], b["as_expected"], b["counterexample"], b["derived_from"]) == ("refuted", True, "X = [1]",
                                                                                         ["a.holds"])
    assert (c["verdict"], c["examples"], c["residual"], c["error"]) == ("error", None, None,
                                                                         "ZeroDivisionError: division by zero")
    assert (c["origin"], c["quote"], c["reading"], c["choices"]) == ("convention", None, None, [])
    assert (d["residual"], d["as_expected"]) == ("inf", False)
    assert (e["verdict"], e["origin"], e["free_choices"]) == ("depends", "reading",
                                                              {"noise": ["fixed xi", "per sample"], "width": [10, 64]})
    assert e["choices"] == [
        {"choice": {"noise": "fixed xi", "width": 10}, "verdict": "refuted", "residual": 0.158, "measure": "|M|"},
        {"choice": {"noise": "per sample", "width": 64}, "verdict": "holds", "residual": 0.002, "measure": "|M|"}]
    assert (f["verdict"], f["as_expected"], f["residual"], f["measure"]) == (
        "skipped", True, "nan", "needs matplotlib: pip install 'pcheck[plot]'")
    assert (report["previous_started_utc"], report["changes"]) == (None, [])


def test_a_second_report_lists_the_changed_verdicts(tmp_path):
    first = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    write_report(outcomes(tmp_path)[:4], tmp_path, command="verify", profile="dev", seed=0, seconds=1.0,
                 started=first)
    now = outcomes(tmp_path)[:2] + [Outcome(claim("c.error"), Evidence("holds", 1, 0.0, "none"), 0.1),
                                     Outcome(claim("e.new"), Evidence("open", 1, 0.0, "none"), 0.1)]
    report = write_report(now, tmp_path, command="verify", profile="dev", seed=0, seconds=1.0)
    assert report["previous_started_utc"] == "2026-01-02T03:04:05Z"
    assert report["changes"] == [{"id": "c.error", "before": "error", "after": "holds"},
                                 {"id": "e.new", "before": None, "after": "open"}]
    assert json.loads((tmp_path / "report.json").read_text())["changes"] == report["changes"]
    md = (tmp_path / "report.md").read_text()
    assert "Changed since the previous report (started 2026-01-02T03:04:05Z):\n\n- `c.error`: error -> holds\n" \
           "- `e.new`: new -> open\n" in md
    other = write_report(now, tmp_path, command="sweep", profile="dev", seed=0, seconds=1.0)
    assert (other["previous_started_utc"], other["changes"]) == (None, [])  # another command: no comparison


def test_the_diff_reads_a_schema_1_report(tmp_path):
    """A report written before schema 2 (no quote/origin/choices keys, no "depends") is still
    the previous report; a report of an unknown future version is not compared with."""
    old = {"schema_version": 1, "command": "verify", "started_utc": "2025-12-01T00:00:00Z",
           "claims": [{"id": "a.holds", "verdict": "refuted"}, {"id": "e.depends", "verdict": "refuted"}]}
    (tmp_path / "report.json").write_text(json.dumps(old))
    report = write_report(outcomes(tmp_path), tmp_path, command="verify", profile="dev", seed=0, seconds=1.0)
    assert report["previous_started_utc"] == "2025-12-01T00:00:00Z"
    assert {c["id"]: (c["before"], c["after"]) for c in report["changes"]} == {
        "a.holds": ("refuted", "holds"), "b.refuted": (None, "refuted"), "c.error": (None, "error"),
        "d.open": (None, "open"), "e.depends": ("refuted", "depends"), "f.skipped": (None, "skipped")}
    (tmp_path / "report.json").write_text(json.dumps({**old, "schema_version": 99}))
    report = write_report(outcomes(tmp_path), tmp_path, command="verify", profile="dev", seed=0, seconds=1.0)
    assert (report["previous_started_utc"], report["changes"]) == (None, [])


def test_report_md_opens_with_what_the_papers_say(tmp_path):
    report = write_report(outcomes(tmp_path), tmp_path, command="verify", profile="ci", seed=5, seconds=1.0)
    md = (tmp_path / "report.md").read_text()
    assert md == markdown(report)
    papers = md.index(f"## {PAPERS_HEADING}")
    ours = md.index(f"## {OURS_HEADING}")
    table = md.index("## All claims")
    assert papers < ours < table < md.index("## `a.holds`")
    found = md[papers:ours]
    assert "- `a.holds`: **holds**. source: \"We show that A holds.\"" in found
    assert "- `b.refuted`: **refuted**, derived from `a.holds`. source: \"B holds for every n.\"" in found
    assert "- `e.depends` (our reading): **depends**. source: \"Noise is ignored.\"" in found
    assert "- `f.skipped`: **skipped (needs matplotlib: pip install 'pcheck[plot]')**. source: \"F.\"" in found
    assert "c.error" not in found and "d.open" not in found  # a convention and an extension are ours
    mine = md[ours:table]
    assert "- `c.error` (convention): **error** (differs). source. statement c.error" in mine
    assert "- `d.open` (extension): **open** (differs). source. statement d.open" in mine
    assert "a.holds" not in mine and "e.depends" not in mine


def test_report_md_has_the_table_and_the_findings(tmp_path):
    report = write_report(outcomes(tmp_path), tmp_path, command="verify", profile="ci", seed=5, seconds=1.0)
    md = (tmp_path / "report.md").read_text()
    assert md == markdown(report)
    assert "**4 of 6 claims as expected**; differing: `c.error`, `d.open` 1 skipped" in md
    assert "| `a.holds` | holds | holds | paper | 20 | 1.50e-12 (relative error) | 0.25 s |" in md
    assert "| `c.error` | **error** (differs) | holds | convention | - | - | 0.50 s |" in md
    assert "| `d.open` | **open** (differs) | holds | extension | 4 | inf (certified gap \\|P - D\\|) | 2.00 s |" in md
    assert "| `f.skipped` | skipped (needs matplotlib: pip install 'pcheck[plot]') | holds | paper | 0 | - |" in md
    assert "```\nX = [1]\n```\n\nReproduce: `pcheck verify --claims 'b.refuted'`" in md
    assert "![fig.png](fig.png)" in md
    section = md[md.index("## `a.holds`"):md.index("## `b.refuted`")]
    assert "> We show that A holds.\n" in section
    assert "Reading checked: for all x, A(x)\nOrigin: paper (the source states it).\n" in section
    assert "- domain: [0, 1], R\n" in section
    depends = md[md.index("## `e.depends`"):md.index("## `f.skipped`")]
    assert "| choice | verdict | residual |\n|---|---|---|\n" \
           "| noise = fixed xi, width = 10 | refuted | 1.58e-01 (\\|M\\|) |\n" \
           "| noise = per sample, width = 64 | holds | 2.00e-03 (\\|M\\|) |" in depends
    assert "Derived from `a.holds`: evidence for those entries, not a finding of its own." in md


def test_a_report_target_is_checked_before_the_run(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReportTargetError, match="is an existing file"):
        prepare_report_dir(tmp_path / "file")
    with pytest.raises(ReportTargetError, match="cannot write a report into"):
        prepare_report_dir(tmp_path / "file" / "sub")  # a parent that is a file: cannot be created
    assert prepare_report_dir(tmp_path / "new" / "dir").is_dir()
    assert list((tmp_path / "new" / "dir").iterdir()) == []  # the probe file is gone


def test_atomic_writes_leave_no_temporary_file(tmp_path):
    write_atomically(tmp_path / "a.json", "{}\n")
    write_atomically(tmp_path / "a.json", "[]\n")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert (tmp_path / "a.json").read_text() == "[]\n"


#: One writer process: the report of 40 claims (a ~30 kB report.json, so an in-place write
#: takes several write calls), written WRITES times into the same directory.
WRITER = textwrap.dedent("""
    import sys
    from pcheck.harness.report import write_report
    from pcheck.ledger import Claim, Evidence, Outcome

    tag, directory, writes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    outcomes = [Outcome(Claim(f"{tag}.{i}", "s" * 300, "source", "holds", "n.md", (), None, quote="q" * 300),
                        Evidence("holds", i, 0.5, "m", details={"x": list(range(50))}), 0.1) for i in range(40)]
    print("ready", flush=True)
    for _ in range(writes):
        write_report(outcomes, directory, command="verify", profile="dev", seed=0, seconds=1.0)
""")
WRITES = 60


def test_two_processes_writing_one_report_directory_leave_valid_json(tmp_path):
    """Issue 14, item 10: two runs into one directory left invalid JSON in 1 of 200 trials.
    Two processes write the same directory WRITES times each while this one reads: every
    read of report.json parses, and the last one is one writer's whole report."""
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, tag, str(tmp_path), str(WRITES)], stdout=subprocess.PIPE,
                              text=True) for tag in ("one", "two")]
    for proc in procs:
        assert proc.stdout.readline() == "ready\n"
    reads = 0
    while any(proc.poll() is None for proc in procs):
        try:
            text = (tmp_path / "report.json").read_text()
        except FileNotFoundError:
            continue
        report = json.loads(text)  # raises on a torn or interleaved file
        assert len({c["id"].split(".")[0] for c in report["claims"]}) == 1
        reads += 1
        time.sleep(0.001)
    assert [proc.wait() for proc in procs] == [0, 0]
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["claims"]) == 40 and len({c["id"].split(".")[0] for c in report["claims"]}) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "report.md"]  # no temporary file left
    assert reads > 0


def test_json_safe_converts_numpy_and_non_finite():
    assert json_safe({"a": (np.float64(-np.inf), np.bool_(True)), 1: None}) == {"a": ["-inf", True], "1": None}


def test_linked_test_files_need_the_exact_quoted_id_or_the_note(tmp_path):
    (tmp_path / "test_a.py").write_text('MARK = "zz.paper.lemma"\n')
    (tmp_path / "test_b.py").write_text('MARK = "zz.paper.lemma.grid"\n')
    (tmp_path / "helper.py").write_text('MARK = "zz.paper.lemma"\n')
    assert linked_test_files(claim("zz.paper.lemma"), tmp_path) == ["test_a.py"]
    note = next(c for c in load_claims().values() if (notes_dir() / c.note).is_file())
    named = set(re.findall(r"tests/(test_\w+\.py)", (notes_dir() / note.note).read_text()))
    for name in named:
        (tmp_path / name).write_text("")
    assert set(linked_test_files(note, tmp_path)) == named


def test_notes_index_is_up_to_date():
    """Regenerate with ``pcheck notes-index``."""
    committed = (notes_dir() / "README.md").read_text()
    assert committed == notes_index(load_claims().values(), SWEEPS.values())


def test_every_ledger_entry_has_a_note_and_every_note_an_entry():
    entries = list(load_claims().values()) + list(SWEEPS.values())
    notes = {p.name for p in notes_dir().glob("*.md")} - {"README.md"}
    missing = sorted(f"{c.id} -> {c.note}" for c in entries if c.note not in notes)
    assert missing == [], "ledger entries and sweeps without a note in proofs_notes/"
    named = {c.note for c in entries}
    orphans = sorted(notes - named - set(NOTES_WITHOUT_ENTRY))
    assert orphans == [], "notes in proofs_notes/ that no ledger entry or sweep names (or NOTES_WITHOUT_ENTRY)"
    stale = sorted(n for n in NOTES_WITHOUT_ENTRY if n not in notes or n in named)
    assert stale == [], "NOTES_WITHOUT_ENTRY names a missing note or one that an entry now names"
