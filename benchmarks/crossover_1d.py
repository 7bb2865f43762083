"""Dense kernel vs sorted evaluation of 1D stacks on a grid of (n, B), and the choice
``Stack.__call__`` makes (``pcheck.core.evaluate1d.prefers_sorted``). Best of several runs
in this process; ``python benchmarks/crossover_1d.py`` prints the table alone."""

from __future__ import annotations

import numpy as np
from scaling import (
    best_time,  # benchmarks/scaling.py: warm-up call, then best of `repeats`
)

import pcheck
from pcheck.core.evaluate1d import prefers_sorted
from pcheck.core.network import evaluate_1d

GRID = [(10, 10), (100, 100), (1_000, 1_000), (3_000, 3_000), (10_000, 10_000),
        (100, 100_000), (100_000, 100), (1_000, 100_000), (100_000, 1_000)]


def dense(s, x):
    return s._dense_forward(x[:, None])  # what Stack.__call__ runs when it does not sort


def table(quick: bool = False) -> list[str]:
    rows = ["1D dispatch cross-over (d_out = 2; best of 5; 'choice' is what Stack.__call__ uses)",
            f"{'n':>7} {'B':>7} {'dense s':>10} {'sorted s':>10} {'faster':>7} {'choice':>7}"]
    rng = np.random.default_rng(0)
    for n, B in GRID[:4] if quick else GRID:
        s, x = pcheck.Stack.random(n, 1, 2, rng=rng), rng.standard_normal(B)
        dense(s, x[:8]), evaluate_1d(s, x[:8])
        td, ts = best_time(lambda: dense(s, x), 5), best_time(lambda: evaluate_1d(s, x), 5)
        rows.append(f"{n:7d} {B:7d} {td:10.2e} {ts:10.2e} {'sorted' if ts < td else 'dense':>7} "
                    f"{'sorted' if prefers_sorted(n, B) else 'dense':>7}")
    return rows


if __name__ == "__main__":
    print("\n".join(table()))
