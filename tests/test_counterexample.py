"""Issue 16, item 2: a shrunk counterexample prints as a runnable snippet that re-creates the
failing input (``Stack``/``Network`` reprs are code), and the evidence is the failing
example's: its own residual, the number of examples generated."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

import pcheck
from pcheck import strategies as pst
from pcheck.ledger import Context, Refuted, instance_check, property_check

FAILING = []


def no_large_output_weight(pair):
    """Refuted by any pair of stacks whose second has an output weight above 1 in size."""
    first, second = pair
    FAILING.append(pair)
    largest = float(np.max(np.abs(second.W), initial=0.0))
    if largest > 1.0:
        raise Refuted(f"|W| = {largest!r} > 1", residual=largest - 1.0)
    return largest - 1.0


def same_stack(a, b) -> bool:
    return all((x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y))
               for x, y in ((a.V, b.V), (a.b, b.b), (a.W, b.W), (a.c, b.c), (a.A, b.A)))


def test_a_shrunk_counterexample_snippet_recreates_the_failing_input():
    FAILING.clear()
    strategy = st.tuples(pst.stacks(n=(0, 3), d_in=(1, 2), d_out=(1, 2)), pst.stacks(n=(1, 3), d_in=(1, 2)))
    ev = property_check(Context(seed=2, claim_id="zz.counterexample"), strategy, no_large_output_weight,
                        measure="|W| - 1", examples=50)
    assert ev.verdict == "refuted"
    snippet = ev.counterexample
    assert "Stack(V=array(" in snippet and "n=" not in snippet  # the parameters, not a summary
    assert snippet.splitlines()[:3] == ["from numpy import array", "from pcheck import Stack",
                                        "from test_counterexample import no_large_output_weight"]
    failing_input = FAILING[-1]  # Hypothesis replays the shrunk example last
    namespace = {}
    with pytest.raises(Refuted, match=r"\|W\| = .* > 1"):  # running the snippet raises the refutation again
        exec(snippet, namespace)
    recreated = namespace["example"]
    assert same_stack(recreated[0], failing_input[0]) and same_stack(recreated[1], failing_input[1])
    # the evidence is the failing example's: its own residual, and the generated examples only
    assert ev.residual == float(np.max(np.abs(failing_input[1].W))) - 1.0 > 0
    assert 1 <= ev.examples <= 50 and ev.examples < len(FAILING)  # the rest were shrink steps and replays


def test_the_snippet_runs_in_a_fresh_interpreter(tmp_path):
    """Pasted into a new Python (the tests directory on the path), the snippet re-creates the
    example and raises the same error."""
    s = pcheck.Stack(np.array([[1.0 / 3.0]]), [0.1], np.array([[2.0], [-1e-17]]), [0.0, 0.5])
    ev = instance_check(Context(), [(s, s)], no_large_output_weight, measure="|W| - 1")
    script = tmp_path / "snippet.py"
    script.write_text(ev.counterexample + "\n")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(Path(__file__).parent), "PATH": ""})
    assert "Refuted: |W| = 2.0 > 1" in run.stderr and run.returncode == 1
    assert ev.counterexample.splitlines()[-1] == "# Refuted: |W| = 2.0 > 1"


def test_a_network_counterexample_is_code():
    net = pcheck.Network([pcheck.Stack.random(1, 1, 2, rng=0), pcheck.Stack.random(1, 2, 1, rng=1)])

    def prop(n):
        raise AssertionError("always")

    ev = instance_check(Context(), [net], prop, measure="none")
    lines = ev.counterexample.splitlines()
    assert lines[:2] == ["from numpy import array", "from pcheck import Network, Stack"]
    namespace = {}
    exec("\n".join(lines), namespace)  # the local property is not importable: no call line
    assert namespace["example"].widths == (1, 2, 1)
