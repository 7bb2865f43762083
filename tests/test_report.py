"""report.json's schema (version 1), report.md, and the proofs_notes/ index: generated
from the ledger, committed up to date, one note per entry and one entry per note."""

import json
import math
import re
from datetime import datetime, timezone

import numpy as np
import pytest

from pcheck.harness.report import (
    NOTES_WITHOUT_ENTRY,
    SCHEMA_VERSION,
    json_safe,
    linked_test_files,
    markdown,
    notes_index,
    write_report,
)
from pcheck.ledger import Claim, Evidence, Outcome, load_claims, notes_dir
from pcheck.sweep import SWEEPS

#: The documented schema (pcheck/report.py docstring): key -> allowed JSON types.
TOP = {"schema_version": int, "tool": str, "pcheck_version": str, "command": str, "profile": str,
       "seed": (int, type(None)), "started_utc": str, "seconds": float, "environment": dict, "summary": dict,
       "previous_started_utc": (str, type(None)), "changes": list, "claims": list}
ENVIRONMENT = {"python": str, "platform": str, "numba_jit": bool}
SUMMARY = {"claims": int, "as_expected": int, "differing": list, "verdicts": dict}
CLAIM = {"id": str, "statement": str, "source": str, "variants": list, "note": (str, type(None)), "expected": str,
         "verdict": str, "as_expected": bool, "examples": (int, type(None)), "residual": (float, str, type(None)),
         "measure": (str, type(None)), "seconds": float, "counterexample": (str, type(None)),
         "reproduce": (str, type(None)), "error": (str, type(None)), "details": dict, "figures": list}


def claim(claim_id, expected="holds"):
    return Claim(claim_id, f"statement {claim_id}", "source", expected, f"{claim_id}.md", ("7",), None)


def outcomes(tmp_path):
    figure = tmp_path / "fig.png"
    return [
        Outcome(claim("a.holds"), Evidence("holds", 20, 1.5e-12, "relative error", figures=[figure],
                                           details={"n": np.int64(3), "gap": np.float64(np.inf),
                                                    "x": np.array([0.5, np.nan])}), 0.25),
        Outcome(claim("b.refuted", "refuted"), Evidence("refuted", 3, 0.0, "certified gap", counterexample="X = [1]",
                                                        reproduce="pcheck verify --claims 'b.refuted'"), 1.0),
        Outcome(claim("c.error"), None, 0.5, "ZeroDivisionError: division by zero"),
        Outcome(claim("d.open", "holds"), Evidence("open", 4, math.inf, "certified gap |P - D|"), 2.0),
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
    assert report["schema_version"] == SCHEMA_VERSION == 1
    assert (report["started_utc"], report["seconds"], report["command"]) == ("2026-01-02T03:04:05Z", 3.75, "verify")
    assert report["summary"] == {"claims": 4, "as_expected": 2, "differing": ["c.error", "d.open"],
                                 "verdicts": {"holds": 1, "refuted": 1, "open": 1, "error": 1}}
    a, b, c, d = report["claims"]
    assert (a["residual"], a["figures"], a["details"]) == (1.5e-12, ["fig.png"], {"n": 3, "gap": "inf", "x": [0.5, "nan"]})
    assert (b["verdict"], b["as_expected"], b["counterexample"]) == ("refuted", True, "X = [1]")
    assert (c["verdict"], c["examples"], c["residual"], c["error"]) == ("error", None, None,
                                                                         "ZeroDivisionError: division by zero")
    assert (d["residual"], d["as_expected"]) == ("inf", False)
    assert (report["previous_started_utc"], report["changes"]) == (None, [])


def test_a_second_report_lists_the_changed_verdicts(tmp_path):
    first = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    write_report(outcomes(tmp_path), tmp_path, command="verify", profile="dev", seed=0, seconds=1.0, started=first)
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


def test_report_md_has_the_table_and_the_findings(tmp_path):
    report = write_report(outcomes(tmp_path), tmp_path, command="verify", profile="ci", seed=5, seconds=1.0)
    md = (tmp_path / "report.md").read_text()
    assert md == markdown(report)
    assert "**2 of 4 claims as expected**; differing: `c.error`, `d.open`" in md
    assert "| `a.holds` | holds | holds | 20 | 1.50e-12 (relative error) | 0.25 s |" in md
    assert "| `c.error` | **error** (differs) | holds | - | - | 0.50 s |" in md
    assert "| `d.open` | **open** (differs) | holds | 4 | inf (certified gap \\|P - D\\|) | 2.00 s |" in md
    assert "```\nX = [1]\n```\n\nReproduce: `pcheck verify --claims 'b.refuted'`" in md
    assert "![fig.png](fig.png)" in md


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
