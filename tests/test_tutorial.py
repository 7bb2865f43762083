"""The tutorial followed verbatim in a fresh directory (issue 16): its files are written
from ``docs/tutorial.md``, its commands run in order, and the report has one claim that
holds and one that is refuted, both as expected.

The one change: ``pip install -e .`` becomes a non-editable install into a directory of
this test (on ``PYTHONPATH`` for the later commands), so the test leaves the environment
as it found it; the entry point it declares is seen the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from docs_blocks import ROOT, blocks, commands

TUTORIAL = ROOT / "docs" / "tutorial.md"


def run(command: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"$ {command}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def test_tutorial_gives_a_holding_and_a_refuted_claim(tmp_path):
    project, site = tmp_path / "project", tmp_path / "site-packages"
    project.mkdir()
    files = [b for b in blocks(TUTORIAL) if b.title]
    assert {"mylemmas/claims.py", "tests/test_lemma1.py", "pyproject.toml"} <= {b.title for b in files}
    for b in files:
        (project / b.title).parent.mkdir(parents=True, exist_ok=True)
        (project / b.title).write_text(b.code)
    env = dict(os.environ, PYTHONPATH=str(site), MPLBACKEND="Agg")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    steps = commands(TUTORIAL)
    assert steps[0] == "pip install -e ." and any(s.startswith("pytest --pcheck-report") for s in steps)
    outputs = {}
    for step in steps:
        command = step
        if step == "pip install -e .":
            command = (f"{sys.executable} -m pip install --quiet --no-deps --no-build-isolation --no-index "
                       f"--target {site} .")
        outputs[step] = run(command, project, env)

    report = json.loads((project / "pcheck-report" / "report.json").read_text())
    assert report["command"] == "pytest"
    verdicts = {c["id"]: (c["verdict"], c["as_expected"]) for c in report["claims"]}
    assert verdicts == {"mylemmas.lemma1": ("holds", True), "mylemmas.lemma1_equality": ("refuted", True)}
    refuted = next(c for c in report["claims"] if c["verdict"] == "refuted")
    assert refuted["counterexample"] and refuted["origin"] == "paper"
    assert sorted(c["verdict"] for c in report["claims"]) == ["holds", "refuted"]

    # pcheck verify found the package through its pcheck.claims entry point
    verify = json.loads((project / "pcheck-verify" / "report.json").read_text())
    assert {c["id"]: c["verdict"] for c in verify["claims"]} == {"mylemmas.lemma1": "holds",
                                                                 "mylemmas.lemma1_equality": "refuted"}
    assert verify["summary"]["differing"] == []
