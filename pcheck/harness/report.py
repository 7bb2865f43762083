"""Reports of a ledger run: the terminal table, ``report.md``, ``report.json`` and the
index of ``proofs_notes/``.

``report.json`` schema (``schema_version`` 2; a change of meaning or a removed key bumps
the version, new keys do not)::

    {
      "schema_version": 2,
      "tool": "pcheck", "pcheck_version": "0.1.0",
      "command": "verify" | "sweep" | "pytest",
      "profile": "dev" | "ci" | "thorough" | "nojit",
      "seed": int | null,                     # null under pytest, and for sweeps whose grids take no seed
      "started_utc": "YYYY-MM-DDTHH:MM:SSZ",
      "seconds": float,                       # wall time of the whole run
      "environment": {"python": str, "platform": str, "numba_jit": bool},
      "summary": {"claims": int, "as_expected": int, "differing": [claim id, ...],
                  "verdicts": {"holds": int, "refuted": int, "open": int, "depends": int,
                               "skipped": int, "error": int}},
      "previous_started_utc": str | null,     # the report this run replaced in the same directory
      "changes": [{"id": str, "before": verdict | null, "after": verdict}, ...],
                                              # verdicts that differ from that report's (null: new claim)
      "claims": [{
        "id": str, "statement": str, "source": str, "variants": [str, ...],
        "quote": str | null,                  # the source's own words, verbatim, with their place in "source"
        "reading": str | null,                # the formal statement the check tests
        "origin": "paper" | "reading" | "extension" | "convention" | null,
                                              # null: no ledger entry (a claims module that failed to
                                              # import, a pytest test linked to an unknown id)
        "free_choices": {name: [value, ...] | str, ...},   # what the source leaves open, values tried
        "derived_from": [claim id, ...],      # entries this one follows from (derived evidence)
        "note": str | null,                   # file name in proofs_notes/ (pcheck's own claims), or the
                                              # absolute path of a third party's note (in its package)
        "expected": "holds" | "refuted" | "open" | "depends" | "skipped",
        "verdict": "holds" | "refuted" | "open" | "depends" | "skipped" | "error",
        "as_expected": bool,                  # "skipped" (an optional dependency is missing) always is
        "examples": int | null,               # examples or instances tried
        "residual": float | "inf" | "-inf" | "nan" | null,   # worst residual or certified gap
        "measure": str | null,                # what "residual" measures ("skipped": what is missing)
        "seconds": float,
        "counterexample": str | null,         # the shrunk failing instance
        "reproduce": str | null,              # one shell line that re-runs it
        "error": str | null,                  # "ExcType: message" when the check raised
        "details": object,                    # check-specific JSON numbers (sweeps: "instances", "jsonl")
        "choices": [{"choice": object, "verdict": str, "residual": float | str, "measure": str}, ...],
                                              # the verdict under each declared reading or free choice
        "figures": [str, ...]                 # paths relative to the report directory
      }, ...]
    }

Version 2 added "quote", "reading", "origin", "free_choices", "derived_from", "choices" and
the verdicts "depends" and "skipped" (a new verdict changes the meaning of "verdict", hence
the bump). The diff against the previous report (``changes``) reads only ``claims[].id`` and
``claims[].verdict``, which every version in :data:`DIFFABLE_SCHEMAS` has.

Both files are written atomically (a temporary file in the same directory, then
``os.replace``): a reader, or a second pcheck writing the same directory, sees a whole old
or a whole new file, never a part of one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path

from pcheck import __version__
from pcheck.ledger import ORIGINS, VERDICTS, json_safe, notes_dir

SCHEMA_VERSION = 2

#: Versions of ``report.json`` that the diff against the previous report reads (all of them
#: have ``claims[].id`` and ``claims[].verdict``, the only keys the diff uses).
DIFFABLE_SCHEMAS = (1, 2)

#: What each origin means, as report.md says it.
ORIGIN_MEANING = {
    "paper": "the source states it",
    "reading": "our formalization of an ambiguous statement of the source; the others are its free choices",
    "extension": "our generalization of a source's statement",
    "convention": "a choice of ours",
}
assert set(ORIGIN_MEANING) == set(ORIGINS)


class ReportTargetError(ValueError):
    """The report target cannot hold a report (an existing file, or a directory that cannot
    be created or written); raised before any work is done."""


def prepare_report_dir(directory) -> Path:
    """Create ``directory`` (with its parents) and make sure a report can be written into it,
    before a run starts, so that a bad target never costs the run's results.

    Raises :class:`ReportTargetError` naming the path when it is an existing file, cannot be
    created, or is not writable. Writability is probed by creating and removing a file
    (``os.access`` answers yes to root and can be wrong on network file systems).
    """
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise ReportTargetError(f"{path} is an existing file; the report needs a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".pcheck-probe-{os.getpid()}-{secrets.token_hex(4)}"
        probe.open("x").close()
        probe.unlink()
    except OSError as exc:
        raise ReportTargetError(f"cannot write a report into {path}: {exc.strerror or exc}") from exc
    return path


def write_atomically(path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and
    ``os.replace`` (atomic on POSIX and Windows): readers and concurrent writers see the old
    or the new content, never a mix. The temporary file honours the umask (unlike ``mkstemp``'s 0600)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("x") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def format_residual(outcome) -> str:
    ev = outcome.evidence
    return "-" if ev is None or math.isnan(ev.residual) else f"{ev.residual:.2e} ({ev.measure})"


def verdict_text(outcome) -> str:
    """The verdict as shown to people: a skipped check names what it needs (its measure)."""
    if outcome.verdict == "skipped":
        return f"skipped ({outcome.evidence.measure})"
    return outcome.verdict


def table_rows(outcomes) -> list[tuple]:
    """Header and one row per claim: id, verdict (marked when it differs from the expected
    one), expected, origin, examples tried, worst residual or certified gap, seconds."""
    rows = [("claim", "verdict", "expected", "origin", "examples", "worst residual / gap", "time")]
    for o in outcomes:
        mark = "" if o.as_expected else "  <-- differs"
        examples = "-" if o.evidence is None else str(o.evidence.examples)
        rows.append((o.claim.id, verdict_text(o) + mark, o.claim.expected, o.claim.origin or "-", examples,
                     format_residual(o), f"{o.seconds:.2f}s"))
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




def claim_record(o, directory: Path | None = None) -> dict:
    """The ``claims[]`` entry of ``report.json`` for one outcome. An outcome without evidence
    may still carry ``details`` (a sweep whose instances failed keeps its rows)."""
    ev, c = o.evidence, o.claim
    figures = [] if ev is None else [relative_path(f, directory) for f in ev.figures]
    details = (getattr(o, "details", None) or {}) if ev is None else ev.details
    return json_safe({
        "id": c.id, "statement": c.statement, "source": c.source, "variants": list(c.variants),
        "quote": c.quote or None, "reading": c.reading or None, "origin": c.origin,
        "free_choices": dict(c.free_choices), "derived_from": list(c.derived_from), "note": note_entry(c),
        "expected": c.expected, "verdict": o.verdict, "as_expected": o.as_expected,
        "examples": None if ev is None else int(ev.examples),
        "residual": None if ev is None else float(ev.residual),
        "measure": None if ev is None else ev.measure, "seconds": float(o.seconds),
        "counterexample": None if ev is None else ev.counterexample,
        "reproduce": None if ev is None else ev.reproduce, "error": o.error,
        "details": details, "choices": [] if ev is None else list(ev.choices), "figures": figures,
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
    from numba import config as numba_config  # not at module level: the pytest plugin imports this module

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
        "previous_started_utc": None if previous is None else previous.get("started_utc"),
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
    """The ``report.json`` of the same command already in ``directory``, if its schema
    version is one of :data:`DIFFABLE_SCHEMAS` and its claims carry ids and verdicts."""
    try:
        report = json.loads((Path(directory) / "report.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or report.get("schema_version") not in DIFFABLE_SCHEMAS \
            or report.get("command") != command or not isinstance(report.get("claims"), list):
        return None
    if not all(isinstance(c, dict) and "id" in c and "verdict" in c for c in report["claims"]):
        return None
    return report


PAPERS_HEADING = "What the checker found about the papers"
OURS_HEADING = "Our readings, extensions and conventions"


def markdown(report: dict) -> str:
    """``report.md``: the summary; "What the checker found about the papers" (entries of
    origin "paper", and "reading" marked as ours, with their verdicts and the source's
    words); "Our readings, extensions and conventions" (the other entries); the table of
    every claim; then one section per claim (statement, source, quote, reading, origin,
    free choices, the verdict per choice, note, counterexample and reproduce command,
    figures, sweep instances)."""
    s = report["summary"]
    skipped = s["verdicts"].get("skipped", 0)
    lines = [f"# pcheck {report['command']} report", "",
             f"profile `{report['profile']}`, seed `{report['seed']}`, started {report['started_utc']}, "
             f"{report['seconds']:.1f} s, pcheck {report['pcheck_version']}, Python {report['environment']['python']}, "
             f"numba JIT {'on' if report['environment']['numba_jit'] else 'off'}", "",
             f"**{s['as_expected']} of {s['claims']} claims as expected**"
             + (f"; differing: {', '.join(f'`{i}`' for i in s['differing'])}" if s["differing"] else ".")
             + (f" {skipped} skipped: an optional dependency is missing (no verdict about the theory)."
                if skipped else "")]
    papers = [c for c in report["claims"] if c["origin"] in ("paper", "reading")]
    ours = [c for c in report["claims"] if c["origin"] in ("extension", "convention")]
    lines += ["", f"## {PAPERS_HEADING}", "",
              "Entries whose statement the source makes (origin \"paper\"), and our formal reading of an "
              "ambiguous statement (origin \"reading\", marked), with the source's words. A paper's claim is "
              "\"refuted\" only when the counterexample stands under every declared reading and free choice; "
              "otherwise it \"depends\" (see its table of choices below).", ""]
    lines += [finding_line(c) for c in papers] or ["No entry of origin \"paper\" or \"reading\" in this run."]
    lines += ["", f"## {OURS_HEADING}", "",
              "Entries that test our generalization of a source's statement (\"extension\") or a choice of ours "
              "(\"convention\"): their verdicts are about our statements, not the papers'. Our readings of "
              "ambiguous statements are listed above, marked \"our reading\".", ""]
    lines += [finding_line(c) for c in ours] or ["No entry of origin \"extension\" or \"convention\" in this run."]
    others = [c for c in report["claims"] if c["origin"] not in ORIGINS]
    if others:
        lines += ["", "Not ledger entries (a claims module that failed to import, a test linked to an unknown id): "
                  + ", ".join(f"`{c['id']}` {verdict_cell(c)}" for c in others) + "."]
    lines += ["", "## All claims", "",
              "| claim | verdict | expected | origin | examples | worst residual / gap | time |",
              "|---|---|---|---|---|---|---|"]
    for c in report["claims"]:
        residual = "-" if c["residual"] in (None, "nan") else f"{fmt(c['residual'])} ({c['measure']})"
        examples = "-" if c["examples"] is None else c["examples"]
        lines.append(f"| `{c['id']}` | {cell(verdict_cell(c))} | {c['expected']} | {c['origin'] or '-'} | {examples} | "
                     f"{cell(residual)} | {c['seconds']:.2f} s |")
    if report["changes"]:
        lines += ["", f"Changed since the previous report (started {report['previous_started_utc']}):", ""]
        lines += [f"- `{c['id']}`: {c['before'] or 'new'} -> {c['after']}" for c in report["changes"]]
    for c in report["claims"]:
        lines += claim_section(c)
    return "\n".join(lines) + "\n"


def verdict_cell(c: dict) -> str:
    """A report entry's verdict: a skipped check names what it needs, a verdict that differs
    from the expected one is bold and marked."""
    verdict = f"skipped ({c['measure']})" if c["verdict"] == "skipped" else c["verdict"]
    return verdict if c["as_expected"] else f"**{verdict}** (differs)"


def finding_line(c: dict) -> str:
    """One entry of the two opening sections: id, verdict, origin, derivation, source and quote."""
    mark = {"reading": " (our reading)", "extension": " (extension)", "convention": " (convention)"}.get(c["origin"], "")
    verdict = verdict_cell(c)
    verdict = verdict if verdict.startswith("**") else f"**{verdict}**"
    derived = f", derived from {', '.join(f'`{i}`' for i in c['derived_from'])}" if c["derived_from"] else ""
    words = f": \"{one_line(c['quote'])}\"" if c["quote"] else ": no quote recorded"
    if c["origin"] in ("extension", "convention"):
        words = f". {one_line(c['statement'])}" if c["statement"] else ""
    return f"- `{c['id']}`{mark}: {verdict}{derived}. {c['source']}{words}"


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def cell(text) -> str:
    """``text`` safe inside a Markdown table cell (no column breaks, no line breaks)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def value_text(x) -> str:
    """An instance table entry: "-" for None, floats to 6 significant digits."""
    return "-" if x is None else (f"{x:.6g}" if isinstance(x, float) else str(x))


def fmt(x) -> str:
    return x if isinstance(x, str) else f"{x:.2e}"


def choice_text(choice) -> str:
    """A reading/free-choice dict as ``name = value, ...``."""
    if isinstance(choice, dict):
        return ", ".join(f"{k} = {v}" for k, v in choice.items()) or "-"
    return str(choice)


def note_entry(claim) -> str | None:
    """``report.json``'s "note": the file name in ``proofs_notes/`` of pcheck's own claims, the
    absolute path of a third party's (``Claim.note_path``, resolved when the claim registered)."""
    path = getattr(claim, "note_path", "")
    if path and Path(path).parent != notes_dir():
        return path
    return claim.note or None


def note_text(c: dict) -> str:
    """Where a claim's note is, as report.md says it."""
    return c["note"] if Path(c["note"]).is_absolute() else f"proofs_notes/{c['note']}"


def claim_section(c: dict) -> list[str]:
    lines = ["", f"## `{c['id']}`: {verdict_cell(c)}", ""] + ([c["statement"], ""] if c["statement"] else [])
    lines.append(f"Source: {c['source']}.")
    if c["quote"]:
        lines += ["", "> " + one_line(c["quote"]), ""]
    if c["reading"]:
        lines.append(f"Reading checked: {c['reading']}")
    if c["origin"] in ORIGIN_MEANING:
        lines.append(f"Origin: {c['origin']} ({ORIGIN_MEANING[c['origin']]}).")
    if c["derived_from"]:
        lines.append(f"Derived from {', '.join(f'`{i}`' for i in c['derived_from'])}: evidence for those entries, "
                     "not a finding of its own.")
    if c["free_choices"]:
        lines += ["", "Free choices (what the source leaves open, and the values tried):", ""]
        lines += [f"- {name}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                  for name, v in c["free_choices"].items()]
        lines.append("")
    if c["variants"]:
        lines.append(f"Variants: {', '.join(c['variants'])}.")
    if c["note"]:
        lines.append(f"Proofs note: `{note_text(c)}`.")
    if c["choices"]:
        lines += ["", "Verdict under each declared reading and free choice:", "",
                  "| choice | verdict | residual |", "|---|---|---|"]
        for row in c["choices"]:
            residual = "-" if row["residual"] in (None, "nan") else f"{fmt(row['residual'])} ({row['measure']})"
            lines.append(f"| {cell(choice_text(row['choice']))} | {row['verdict']} | {cell(residual)} |")
    if c["error"]:
        lines += ["", "The check raised:", "", "```", c["error"], "```"]
    if c["counterexample"]:
        fence = "```python" if re.search(r"^example = ", c["counterexample"], re.M) else "```"  # a runnable snippet
        lines += ["", "Counterexample:", "", fence, c["counterexample"], "```"]
    if c["reproduce"]:
        lines += ["", f"Reproduce: `{c['reproduce']}`"]
    lines += [f"\n![{Path(f).name}]({f})" for f in c["figures"]]
    instances = c["details"].get("instances") if isinstance(c["details"], dict) else None
    if instances:
        keys = list(dict.fromkeys(k for r in instances for k in r))
        lines += ["", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        lines += ["| " + " | ".join(cell(value_text(r.get(k))) for k in keys) + " |" for r in instances]
    return lines


def write_report(outcomes, directory, **meta) -> dict:
    """Write ``report.json`` and ``report.md`` into ``directory`` (created if needed), each
    atomically (:func:`write_atomically`), comparing with the report of the same command
    found there, and return the report; ``meta`` are the keywords of :func:`build_report`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    report = build_report(outcomes, directory=directory, previous=previous_report(directory, meta["command"]), **meta)
    write_atomically(directory / "report.json", json.dumps(report, indent=2, allow_nan=False) + "\n")
    write_atomically(directory / "report.md", markdown(report))
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
