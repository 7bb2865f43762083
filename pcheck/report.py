"""Reports of a ledger run: the terminal table."""

from __future__ import annotations


def format_residual(outcome) -> str:
    ev = outcome.evidence
    return "-" if ev is None else f"{ev.residual:.2e} ({ev.measure})"


def print_table(outcomes, file=None) -> None:
    """One row per claim: id, verdict (with a mark when it differs from the expected one),
    examples tried, worst residual or certified gap, seconds."""
    rows = [("claim", "verdict", "expected", "examples", "worst residual / gap", "time")]
    for o in outcomes:
        mark = "" if o.as_expected else "  <-- differs"
        examples = "-" if o.evidence is None else str(o.evidence.examples)
        rows.append((o.claim.id, o.verdict + mark, o.claim.expected, examples, format_residual(o), f"{o.seconds:.2f}s"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip(), file=file)
        if i == 0:
            print("  ".join("-" * w for w in widths), file=file)
    for o in outcomes:
        if o.error:
            print(f"\n{o.claim.id}: check raised {o.error}", file=file)
        elif o.evidence.counterexample and not o.as_expected:
            print(f"\n{o.claim.id}: counterexample\n{o.evidence.counterexample}\nreproduce: {o.evidence.reproduce}",
                  file=file)
