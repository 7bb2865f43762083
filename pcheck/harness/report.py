"""Reports of a ledger run: the terminal table, ``report.md``, ``report.json`` and the
index of ``proofs_notes/``.

``report.json`` schema (``schema_version`` 1; a change of meaning or a removed key bumps
the version, new keys do not)::

    {
      "schema_version": 1,
      "tool": "pcheck", "pcheck_version": "0.1.0",
      "command": "verify" | "sweep" | "pytest",
      "profile": "dev" | "ci" | "thorough" | "nojit",
      "seed": int | null,
      "started_utc": "YYYY-MM-DDTHH:MM:SSZ",
      "seconds": float,                       # wall time of the whole run
      "environment": {"python": str, "platform": str, "numba_jit": bool},
      "summary": {"claims": int, "as_expected": int, "differing": [claim id, ...],
                  "verdicts": {"holds": int, "refuted": int, "open": int, "error": int}},
      "previous_started_utc": str | null,     # the report this run replaced in the same directory
      "changes": [{"id": str, "before": verdict | null, "after": verdict}, ...],
                                              # verdicts that differ from that report's (null: new claim)
      "claims": [{
        "id": str, "statement": str, "source": str, "variants": [str, ...],
        "note": str | null,                   # file name in proofs_notes/
        "expected": "holds" | "refuted" | "open",
        "verdict": "holds" | "refuted" | "open" | "error",
        "as_expected": bool,
        "examples": int | null,               # examples or instances tried
        "residual": float | "inf" | "-inf" | "nan" | null,   # worst residual or certified gap
        "measure": str | null,                # what "residual" measures
        "seconds": float,
        "counterexample": str | null,         # the shrunk failing instance
        "reproduce": str | null,              # one shell line that re-runs it
        "error": str | null,                  # "ExcType: message" when the check raised
        "details": object,                    # check-specific JSON numbers (sweeps: "instances")
        "figures": [str, ...]                 # paths relative to the report directory
      }, ...]
    }
"""

from __future__ import annotations

import json
import math
import platform
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from pcheck import __version__
from pcheck.ledger import VERDICTS, notes_dir

SCHEMA_VERSION = 1


def format_residual(outcome) -> str:
    ev = outcome.evidence
    return "-" if ev is None or math.isnan(ev.residual) else f"{ev.residual:.2e} ({ev.measure})"


def table_rows(outcomes) -> list[tuple]:
    """Header and one row per claim: id, verdict (marked when it differs from the expected
    one), expected, examples tried, worst residual or certified gap, seconds."""
    rows = [("claim", "verdict", "expected", "examples", "worst residual / gap", "time")]
    for o in outcomes:
        mark = "" if o.as_expected else "  <-- differs"
        examples = "-" if o.evidence is None else str(o.evidence.examples)
        rows.append((o.claim.id, o.verdict + mark, o.claim.expected, examples, format_residual(o), f"{o.seconds:.2f}s"))
    return rows


def print_table(outcomes, file=None) -> None:
    """The terminal table, then the error or counterexample (with its reproduce command)
    of every claim whose verdict is "refuted" or differs from the expected one."""
    rows = table_rows(outcomes)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(text.ljust(w) for text, w in zip(row, widths)).rstrip(), file=file)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=file)
    for o in outcomes:
        if o.error:
            print(f"\n{o.claim.id}: check raised {o.error}", file=file)
        elif o.evidence.counterexample and (o.verdict == "refuted" or not o.as_expected):
            print(f"\n{o.claim.id}: counterexample\n{o.evidence.counterexample}\nreproduce: {o.evidence.reproduce}",
                  file=file)


def json_safe(value):
    """``value`` with numpy scalars and arrays turned into Python numbers and lists, and
    non-finite floats into the strings "inf", "-inf", "nan" (JSON has no such numbers)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def claim_record(o, directory: Path | None = None) -> dict:
    """The ``claims[]`` entry of ``report.json`` for one outcome."""
    ev, c = o.evidence, o.claim
    figures = [] if ev is None else [relative_path(f, directory) for f in ev.figures]
    return json_safe({
        "id": c.id, "statement": c.statement, "source": c.source, "variants": list(c.variants), "note": c.note or None,
        "expected": c.expected, "verdict": o.verdict, "as_expected": o.as_expected,
        "examples": None if ev is None else int(ev.examples),
        "residual": None if ev is None else float(ev.residual),
        "measure": None if ev is None else ev.measure, "seconds": float(o.seconds),
        "counterexample": None if ev is None else ev.counterexample,
        "reproduce": None if ev is None else ev.reproduce, "error": o.error,
        "details": {} if ev is None else ev.details, "figures": figures,
    })


def relative_path(path, directory: Path | None) -> str:
    path = Path(path)
    if directory is not None:
        try:
            return path.resolve().relative_to(Path(directory).resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def build_report(outcomes, *, command: str, profile: str, seed, seconds: float, started: datetime | None = None,
                 directory: Path | None = None, previous: dict | None = None) -> dict:
    """The ``report.json`` document (see the module docstring for the schema); ``previous``
    is the report this one replaces (its verdicts give ``changes``)."""
    from numba import config as numba_config


    started = started or datetime.now(timezone.utc)
    verdicts = {v: 0 for v in (*VERDICTS, "error")}
    for o in outcomes:
        verdicts[o.verdict] += 1
    return {
        "schema_version": SCHEMA_VERSION, "tool": "pcheck", "pcheck_version": __version__,
        "command": command, "profile": profile, "seed": seed,
        "started_utc": started.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "seconds": float(seconds),
        "environment": {"python": platform.python_version(), "platform": sys.platform,
                        "numba_jit": not numba_config.DISABLE_JIT},
        "summary": {"claims": len(outcomes), "as_expected": sum(o.as_expected for o in outcomes),
                    "differing": [o.claim.id for o in outcomes if not o.as_expected], "verdicts": verdicts},
        "previous_started_utc": None if previous is None else previous["started_utc"],
        "changes": verdict_changes(previous, outcomes),
        "claims": [claim_record(o, directory) for o in outcomes],
    }


def verdict_changes(previous: dict | None, outcomes) -> list[dict]:
    """The claims of this run whose verdict differs from ``previous``'s (``before`` is None
    for a claim that report did not have); none without a previous report."""
    if previous is None:
        return []
    before = {c["id"]: c["verdict"] for c in previous["claims"]}
    return [{"id": o.claim.id, "before": before.get(o.claim.id), "after": o.verdict}
            for o in outcomes if before.get(o.claim.id) != o.verdict]


def previous_report(directory: Path, command: str) -> dict | None:
    """The ``report.json`` of the same command already in ``directory``, if it has this schema version."""
    try:
        report = json.loads((Path(directory) / "report.json").read_text())
    except (OSError, ValueError):
        return None
    same = isinstance(report, dict) and report.get("schema_version") == SCHEMA_VERSION and report.get("command") == command
    return report if same else None


def markdown(report: dict) -> str:
    """``report.md``: the summary, the table, then one section per claim (statement,
    source, note, counterexample and reproduce command, figures, sweep instances)."""
    s = report["summary"]
    lines = [f"# pcheck {report['command']} report", "",
             f"profile `{report['profile']}`, seed `{report['seed']}`, started {report['started_utc']}, "
             f"{report['seconds']:.1f} s, pcheck {report['pcheck_version']}, Python {report['environment']['python']}, "
             f"numba JIT {'on' if report['environment']['numba_jit'] else 'off'}", "",
             f"**{s['as_expected']} of {s['claims']} claims as expected**"
             + (f"; differing: {', '.join(f'`{i}`' for i in s['differing'])}" if s["differing"] else "."), "",
             "| claim | verdict | expected | examples | worst residual / gap | time |",
             "|---|---|---|---|---|---|"]
    for c in report["claims"]:
        verdict = c["verdict"] if c["as_expected"] else f"**{c['verdict']}** (differs)"
        residual = "-" if c["residual"] in (None, "nan") else f"{fmt(c['residual'])} ({c['measure']})"
        examples = "-" if c["examples"] is None else c["examples"]
        lines.append(f"| `{c['id']}` | {verdict} | {c['expected']} | {examples} | {cell(residual)} | {c['seconds']:.2f} s |")
    if report["changes"]:
        lines += ["", f"Changed since the previous report (started {report['previous_started_utc']}):", ""]
        lines += [f"- `{c['id']}`: {c['before'] or 'new'} -> {c['after']}" for c in report["changes"]]
    for c in report["claims"]:
        lines += claim_section(c)
    return "\n".join(lines) + "\n"


def cell(text) -> str:
    """``text`` safe inside a Markdown table cell (no column breaks, no line breaks)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def value_text(x) -> str:
    """An instance table entry: "-" for None, floats to 6 significant digits."""
    return "-" if x is None else (f"{x:.6g}" if isinstance(x, float) else str(x))


def fmt(x) -> str:
    return x if isinstance(x, str) else f"{x:.2e}"


def claim_section(c: dict) -> list[str]:
    lines = ["", f"## `{c['id']}`: {c['verdict']}", ""] + ([c["statement"], ""] if c["statement"] else [])
    lines.append(f"Source: {c['source']}.")
    if c["variants"]:
        lines.append(f"Variants: {', '.join(c['variants'])}.")
    if c["note"]:
        lines.append(f"Proofs note: `proofs_notes/{c['note']}`.")
    if c["error"]:
        lines += ["", "The check raised:", "", "```", c["error"], "```"]
    if c["counterexample"]:
        lines += ["", "Counterexample:", "", "```", c["counterexample"], "```"]
    if c["reproduce"]:
        lines += ["", f"Reproduce: `{c['reproduce']}`"]
    lines += [f"\n![{Path(f).name}]({f})" for f in c["figures"]]
    instances = c["details"].get("instances") if isinstance(c["details"], dict) else None
    if instances:
        keys = list(instances[0])
        lines += ["", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(cell(value_text(r.get(k))) for k in keys) + " |" for r in instances]
    return lines


def write_report(outcomes, directory, **meta) -> dict:
    """Write ``report.json`` and ``report.md`` into ``directory`` (created if needed),
    comparing with the report of the same command found there, and return the report;
    ``meta`` are the keywords of :func:`build_report`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    report = build_report(outcomes, directory=directory, previous=previous_report(directory, meta["command"]), **meta)
    (directory / "report.json").write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    (directory / "report.md").write_text(markdown(report))
    return report


def linked_test_files(claim, tests_dir: Path) -> list[str]:
    """Test files under ``tests_dir`` that name ``claim.id`` as a quoted string literal or
    that ``claim``'s proofs note names (``tests/test_x.py``)."""
    pattern = re.compile(r"""["']""" + re.escape(claim.id) + r"""["']""")
    note = notes_dir() / claim.note
    named = set(re.findall(r"tests/(test_\w+\.py)", note.read_text())) if note.is_file() else set()
    return sorted(p.name for p in Path(tests_dir).glob("test_*.py") if p.name in named or pattern.search(p.read_text()))


#: Notes in ``proofs_notes/`` that are no ledger entry's or sweep's note, each with the reason;
#: the index lists them, and ``tests/test_report.py`` fails on any other note without an entry.
NOTES_WITHOUT_ENTRY = {
    "htw-penalty-exact.md": "how pcheck computes the exact P_j that the `htw.penalty.*` claims rely on",
    "htw-width-summary.md": "summary of the solver work: tools, figures and the Theorem 3.2 verdicts",
}


def notes_index(claims, sweeps=(), tests_dir: Path | None = None) -> str:
    """``proofs_notes/README.md``: one row per ledger entry (id, expected verdict, source,
    note, linked tests: see :func:`linked_test_files`), one per sweep, then the notes of
    :data:`NOTES_WITHOUT_ENTRY`; generated from the ledger so it cannot drift."""
    tests_dir = notes_dir().parent / "tests" if tests_dir is None else Path(tests_dir)
    lines = ["# Proofs notes", "",
             "One note per claim (or per tightly related group of claims): the statement with its source",
             "equation, the derivation, the convention used, the test and ledger id that check it, and the",
             "verdict with its evidence. This index is generated from the claims ledger by",
             "`pcheck notes-index`; do not edit it by hand. Run `pcheck verify` for the current verdicts.", "",
             "| claim | expected verdict | source | note | tests |", "|---|---|---|---|---|"]
    for c in sorted(claims, key=lambda c: c.id):
        tests = ", ".join(f"[{t}](../tests/{t})" for t in linked_test_files(c, tests_dir)) or "-"
        lines.append(f"| `{c.id}` | {c.expected} | {cell(c.source)} | [{c.note}]({c.note}) | {tests} |")
    if sweeps:
        lines += ["", "Sweeps (`pcheck sweep ID`: the claim on a systematic instance grid):", "",
                  "| sweep | expected verdict | source | note |", "|---|---|---|---|"]
        lines += [f"| `{s.id}` | {s.expected} | {cell(s.source)} | [{s.note}]({s.note}) |"
                  for s in sorted(sweeps, key=lambda s: s.id)]
    lines += ["", "Other notes:", ""] + [f"- [{name}]({name}): {why}" for name, why in sorted(NOTES_WITHOUT_ENTRY.items())]
    return "\n".join(lines) + "\n"
