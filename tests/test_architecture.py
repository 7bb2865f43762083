"""The package's layers (README, "Architecture"): imports flow one way only, enforced by the
import-linter contract in setup.cfg; no import cycles; no pcheck import hidden inside a
function to dodge the contract; no module over 500 lines."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pcheck"
#: The size a module may reach (issue 12): one concept per module reads top to bottom.
MAX_LINES = 500


def lint_imports(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    command = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command as run; "
               "sys.exit(run())", "--config", "setup.cfg"]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def test_the_layers_contract_is_kept():
    run = lint_imports(ROOT, ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 1 kept, 0 broken." in run.stdout


def test_a_reversed_import_breaks_the_contract(tmp_path):
    """A copy of the package where the bottom layer imports the top one fails the check."""
    shutil.copytree(PACKAGE, tmp_path / "pcheck", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    network = tmp_path / "pcheck" / "core" / "network.py"
    network.write_text(network.read_text() + "\nfrom pcheck.harness import cli  # noqa: E402 (deliberate violation)\n")
    run = lint_imports(tmp_path, tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "pcheck.core is not allowed to import pcheck.harness" in run.stdout


def test_no_import_cycles_among_pcheck_modules():
    graph = grimp.build_graph("pcheck")
    cycles = strongly_connected(graph, sorted(graph.modules))
    assert not cycles, f"import cycles: {cycles}"


def strongly_connected(graph, nodes) -> list:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def test_cycle_finder_finds_a_cycle():
    class Graph:
        edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, m):
            return self.edges.get(m, set())

    assert strongly_connected(Graph(), ["a", "b", "c", "d"]) == [["a", "b", "c"]]


@pytest.mark.parametrize("path, module", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_no_pcheck_import_inside_a_function(path, module):
    """Every pcheck import sits at module level, where the contract sees the layering (optional
    third-party dependencies such as matplotlib or dask may still be imported lazily)."""
    tree = ast.parse(path.read_text())
    hidden = [f"line {sub.lineno}" for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
              for sub in ast.walk(node)
              if isinstance(sub, ast.ImportFrom) and (sub.level > 0 or (sub.module or "").split(".")[0] == "pcheck")
              or isinstance(sub, ast.Import) and any(a.name.split(".")[0] == "pcheck" for a in sub.names)]
    assert not hidden, f"{module}: pcheck imported inside a function at {hidden}"


@pytest.mark.parametrize("path, module", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_module_size(path, module):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"
