"""``pcheck list`` and ``pcheck show ID``: the ledger's entries, with the verdicts of the last
``pcheck verify`` report (``report.json`` in the report directory, default ``pcheck-report/``).

``list`` prints one row per entry: id, origin, expected verdict, last verdict (``-`` when the
report has no row for it, ``<-- differs`` when it is not the expected one). ``show`` prints
one entry in full: statement, source, the source's words, the reading checked, origin, free
choices, derivation, variants, the proofs note's path, then the last verdict with its evidence
(examples, residual, time), the verdict per declared choice, the counterexample and the
command that reproduces it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from pcheck.harness.report import ORIGIN_MEANING, choice_text, fmt, previous_report
from pcheck.ledger import Claim, notes_dir


def last_report(directory) -> dict | None:
    """The ``pcheck verify`` report in ``directory``, if there is a readable one."""
    return previous_report(Path(directory), "verify")


def last_records(report: dict | None) -> dict:
    """The report's claim records by id."""
    return {c["id"]: c for c in (report or {}).get("claims", [])}


def list_text(claims: list[Claim], report: dict | None) -> str:
    """The ``pcheck list`` table."""
    records = last_records(report)
    rows = [("claim", "origin", "expected", "last verdict")]
    for c in claims:
        record = records.get(c.id)
        last = "-" if record is None else record["verdict"] + ("" if record["as_expected"] else "  <-- differs")
        rows.append((c.id, c.origin or "-", c.expected, last))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(text.ljust(w) for text, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report_origin(report: dict | None, directory) -> str:
    """Which report the verdicts come from, or how to get one."""
    if report is None:
        return f"no pcheck verify report in {directory}/ yet: run `pcheck verify` for the verdicts"
    return (f"verdicts of the report in {directory}/ (started {report.get('started_utc')}, profile "
            f"{report.get('profile')}, seed {report.get('seed')})")


def note_path(c: Claim) -> str:
    """The absolute path of the entry's proofs note."""
    return c.note_path or (str(notes_dir() / c.note) if c.note else "-")


def suggestions(claim_id: str, ids) -> list[str]:
    """Known ids that contain ``claim_id`` or are close to it."""
    ids = sorted(ids)
    return [i for i in ids if claim_id in i][:8] or difflib.get_close_matches(claim_id, ids, n=5, cutoff=0.5)


def indent(text: str, prefix: str = "    ") -> list[str]:
    return [prefix + line for line in str(text).splitlines()] or [prefix]


def show_text(c: Claim, record: dict | None, where: str) -> str:
    """``pcheck show``: one entry in full, and its verdict and evidence from ``record`` (a
    ``report.json`` claim record; None when there is none: ``where`` says how to get one)."""
    lines = [c.id, "=" * len(c.id), "", c.statement, "", f"Source: {c.source}"]
    if c.quote:
        lines += ["Quote:"] + indent(c.quote, "    > ")
    if c.reading:
        lines.append(f"Reading checked: {c.reading}")
    if c.origin:
        lines.append(f"Origin: {c.origin} ({ORIGIN_MEANING.get(c.origin, '')})")
    if c.free_choices:
        lines.append("Free choices (what the source leaves open, and the values tried):")
        lines += [f"    - {name}: {', '.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                  for name, v in c.free_choices.items()]
    if c.derived_from:
        lines.append(f"Derived from: {', '.join(c.derived_from)}")
    if c.variants:
        lines.append(f"Variants: {', '.join(c.variants)}")
    lines += [f"Expected verdict: {c.expected}", f"Proofs note: {note_path(c)}", "", where]
    if record is None:
        return "\n".join(lines)
    mark = "as expected" if record["as_expected"] else f"differs from the expected {c.expected}"
    lines += [f"Verdict: {record['verdict']} ({mark})"]
    if record.get("error"):
        lines += ["The check raised:"] + indent(record["error"])
    if record.get("examples") is not None:
        residual = "-" if record.get("residual") in (None, "nan") else fmt(record["residual"])
        lines.append(f"Evidence: {record['examples']} examples, residual {residual} ({record.get('measure')}), "
                     f"{record['seconds']:.2f} s")
    if record.get("choices"):
        lines.append("Verdict under each declared reading and free choice:")
        lines += [f"    {choice_text(row['choice'])}: {row['verdict']} (residual {fmt(row['residual'])})"
                  for row in record["choices"]]
    if record.get("counterexample"):
        lines += ["Counterexample:"] + indent(record["counterexample"])
    if record.get("reproduce"):
        lines.append(f"Reproduce: {record['reproduce']}")
    lines += [f"Figure: {f}" for f in record.get("figures") or []]
    return "\n".join(lines)
