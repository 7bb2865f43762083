"""The documentation site (issue 16): ``mkdocs build --strict`` succeeds, its generated
verdict tables are the ledger's, and every Python example of ``docs/**/*.md`` and
``README.md`` runs.

Examples run per Markdown file, in order, in one fresh namespace per file, in a fresh
interpreter whose working directory is a temporary directory. The blocks titled with a file
path (``title="mylemmas/claims.py"``) are first written there, as a reader creates the
example project's files; a Python one is then, in its turn, imported as that module (so a
claim's note resolves relative to its package, as in a real project).
A block preceded by ``<!-- no-exec: REASON -->`` is not run; only a long run justifies it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docs_blocks import ROOT, blocks

from pcheck.ledger import load_claims
from pcheck.sweep import SWEEPS

DOCS = ROOT / "docs"
MARKDOWN = [*sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.parts), ROOT / "README.md"]
WITH_PYTHON = [p for p in MARKDOWN if any(b.lang == "python" for b in blocks(p))]
FIGURE = re.compile(r"<!-- figure: (\S+) -->")
PAPERS = {"htw.": "htw", "shenouda.": "shenouda", "lee_ndirango.": "lee_ndirango"}

#: Runs one file's blocks: argv = [blocks.json, markdown path]; the traceback names the
#: Markdown file and the line of the failing statement.
RUNNER = """
import importlib, json, sys
from pathlib import Path
sys.path.insert(0, str(Path.cwd()))
md = sys.argv[2]
namespace = {"__name__": "__main__", "__file__": md}
blocks = json.loads(Path(sys.argv[1]).read_text())
for b in blocks:  # the example project's files first, as a reader creates them
    if b["title"]:
        Path(b["title"]).parent.mkdir(parents=True, exist_ok=True)
        Path(b["title"]).write_text(b["code"])
for b in blocks:
    if b["lang"] != "python" or b["no_exec"] is not None:
        continue
    if b["title"]:  # a module of the example project: imported as such, its names made visible
        name = b["title"][:-3].replace("/", ".").removesuffix(".__init__")
        module = importlib.import_module(name)
        namespace.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
    else:
        exec(compile("\\n" * (b["line"] - 1) + b["code"], md, "exec"), namespace)
"""


def environment(**extra) -> dict:
    env = dict(os.environ, MPLBACKEND="Agg", NO_MKDOCS_2_WARNING="1", **extra)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def test_mkdocs_build_strict(tmp_path):
    """Strict build (any warning fails: a broken link, a missing page, a docstring
    mkdocstrings cannot render); each paper page lists exactly its ledger entries."""
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason="pip install -e '.[test]' installs the docs tools")
    site = tmp_path / "site"
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
                            cwd=ROOT, capture_output=True, text=True, env=environment(), timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    ids = [*load_claims(), *SWEEPS]
    for prefix, page in PAPERS.items():
        html = (site / "papers" / page / "index.html").read_text()
        mine = [i for i in ids if i.startswith(prefix)]
        assert mine and all(f"<code>{i}</code>" in html for i in mine), page
        others = [i for i in ids if not i.startswith(prefix)]
        assert not any(f"<code>{i}</code>" in html for i in others), page
    api = (site / "api" / "core" / "index.html").read_text()
    assert "pcheck.core.network.Stack" in api  # the reference is generated from the docstrings


@pytest.mark.parametrize("markdown", WITH_PYTHON, ids=[str(p.relative_to(ROOT)) for p in WITH_PYTHON])
def test_code_blocks_run(markdown, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    payload = tmp_path / "blocks.json"
    payload.write_text(json.dumps([b.__dict__ for b in blocks(markdown)]))
    result = subprocess.run([sys.executable, "-c", RUNNER, str(payload), str(markdown)], cwd=work,
                            capture_output=True, text=True, env=environment(), timeout=300, check=False)
    assert result.returncode == 0, f"an example of {markdown.name} fails:\n{result.stderr[-6000:]}"


def test_gallery_figures_are_small_captioned_and_name_ledger_claims():
    """Every PNG in docs/figures is shown on a page, is under 200 kB, and has its caption
    file naming claims that are in the ledger; every figure a page shows exists."""
    ids = {*load_claims(), *SWEEPS}
    shown = {m for p in MARKDOWN for m in FIGURE.findall(p.read_text())}
    pngs = sorted((DOCS / "figures").glob("*.png"))
    assert pngs and {p.stem for p in pngs} == shown
    for png in pngs:
        assert png.stat().st_size < 200_000, png.name
        claims = next(line for line in png.with_suffix(".txt").read_text().splitlines() if line.startswith("claim:"))
        named = [c.strip() for c in claims.split(":", 1)[1].split(",")]
        assert named and all(c in ids for c in named), (png.name, named)


def test_no_exec_marks_are_rare_and_justified():
    """``<!-- no-exec -->`` only on Python blocks and always with its reason (a long run)."""
    marked = [(p.name, b.line, b.no_exec) for p in MARKDOWN for b in blocks(p) if b.no_exec is not None]
    for name, line, reason in marked:
        assert len(reason) > 20, f"{name}:{line}: a no-exec block must say why (it needs a long run)"
    assert all(b.lang == "python" for p in MARKDOWN for b in blocks(p) if b.no_exec is not None)
    assert len(marked) <= 3, marked
