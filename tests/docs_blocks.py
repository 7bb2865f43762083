"""Fenced code blocks of the Markdown docs, for tests/test_docs.py and tests/test_tutorial.py.

A block is a fence at the start of a line, three backticks and a language, with optional
attributes (``title="path"`` names the file the block is, as rendered by mkdocs-material).
``<!-- no-exec: REASON -->`` as the last non-blank line before a fence marks a Python
block that is not executed (only for a long run; the reason is required).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```([\w+-]*)\s*(.*)$")
TITLE = re.compile(r'title="([^"]+)"')
NO_EXEC = re.compile(r"^<!--\s*no-exec(?::\s*(.*?))?\s*-->$")


@dataclass(frozen=True)
class Block:
    """One fenced block: language, ``title`` (a file path or None), code, the 1-based line
    of its first code line, and ``no_exec`` (the reason, or None)."""

    lang: str
    title: str | None
    code: str
    line: int
    no_exec: str | None


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of the Markdown file ``path``, in order."""
    lines = Path(path).read_text().splitlines()
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, attrs = m.group(1), m.group(2)
        title = TITLE.search(attrs)
        prev = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        skip = NO_EXEC.match(prev)
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
        if end is None:
            raise ValueError(f"{path}:{i + 1}: unclosed code fence")
        out.append(Block(lang, title.group(1) if title else None, "\n".join(lines[i + 1:end]) + "\n", i + 2,
                         (skip.group(1) or "") if skip else None))
        i = end + 1
    return out


def commands(path: Path) -> list[str]:
    """The ``$ `` command lines of the ``console`` blocks of ``path``, in order."""
    return [line[2:].strip() for b in blocks(path) if b.lang == "console"
            for line in b.code.splitlines() if line.startswith("$ ")]
