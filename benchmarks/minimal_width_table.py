"""The table of the minimal width n* (proofs_notes/htw-minimal-width.md): the ci grid of the sweep
``htw.thm3_2.minimal_width`` (N = 2..6, d_out = 1..4, variants 7 and 8, lam in {1e-3, 0.1, 1}, seed 0),
one process, each instance's certified interval [lower, upper] for n*.

    python benchmarks/minimal_width_table.py [max_nodes] [rows.jsonl]
    python benchmarks/minimal_width_table.py --table rows.jsonl      (the table of rows written before)

Per cell (variant, d_out, N over the lam values): the intervals, the number exact, the fraction whose
n* > N + 1 is certified (lower > N + 1) and whose upper end exceeds N + 1.
"""

import collections
import json
import sys
import time

from pcheck.ledger import Context
from pcheck.papers.htw.thm3_2 import minimal_width_grid, minimal_width_of
from pcheck.problems.minimal_width import counting_bound

cells = collections.defaultdict(list)
start = time.perf_counter()
if len(sys.argv) > 2 and sys.argv[1] == "--table":
    with open(sys.argv[2]) as rows_file:
        for line in rows_file:
            row = json.loads(line)
            cells[(row["variant"], row["d_out"])].append(row)
    max_nodes = "as recorded"
else:
    max_nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with open(sys.argv[2] if len(sys.argv) > 2 else "/tmp/minimal_width_rows.jsonl", "w") as out:
        for inst in minimal_width_grid(Context(profile="ci")):
            inst = dict(inst, max_nodes=max_nodes)
            t = time.perf_counter()
            r = minimal_width_of(inst)
            row = dict(inst, lower=r.lower, upper=r.upper, atoms=r.function_space.n_atoms, tight=r.tight,
                       rank=r.rank, nodes=r.effort["nodes"], seconds=round(time.perf_counter() - t, 2))
            out.write(json.dumps(row) + "\n")
            out.flush()
            cells[(inst["variant"], inst["d_out"])].append(row)
print("| variant | d_out | N = 2 | N = 3 | N = 4 | N = 5 | N = 6 | exact | n* > N+1 certified | upper > N+1 |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (v, d), rows in sorted(cells.items()):
    per_N = []
    for N in range(2, 7):
        ivs = [(r["lower"], r["upper"]) for r in rows if r["N"] == N]
        if not ivs:
            per_N.append("-")
            continue
        per_N.append(" ".join(str(lo) if lo == up else f"[{lo},{up}]" for lo, up in ivs)
                     + f" (<= {counting_bound(N, d, v)})")
    exact = sum(r["lower"] == r["upper"] for r in rows)
    cert = sum(r["lower"] > r["N"] + 1 for r in rows)
    up = sum(r["upper"] > r["N"] + 1 for r in rows)
    print(f"| {v} | {d} | " + " | ".join(per_N) + f" | {exact}/{len(rows)} | {cert}/{len(rows)} | {up}/{len(rows)} |")
print(f"wall time {time.perf_counter() - start:.0f} s, max_nodes {max_nodes}")
