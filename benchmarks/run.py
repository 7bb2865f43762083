"""Run every benchmark and print the tables of ratios: ``python benchmarks/run.py``.

Each (workload, implementation) is measured in its own process (benchmarks/measure.py)
and reported as the best of ``--repeats`` wall-clock runs: the machine may be shared,
and the minimum is the run least disturbed by other load. Peers run in the same
invocation: the BLAS peak (numpy matmul), dense numpy, PyTorch on the CPU. Then the 1D
dispatch cross-over and the scaling tables (benchmarks/scaling.py).

``--quick`` shrinks every size (a smoke test of the harness, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

FORWARD = [  # (label, n, d_in, d_out, B)
    ("issue 7 bar", 4096, 16, 8, 100_000),
    ("issue 2 config", 4096, 8, 8, 100_000),
]
EVAL1D = ("issue 7 bar", 100_000, 100_000, 1)  # (label, n, B, d_out)
#: points on which the dense 1D peers are timed (their cost is linear in B; see measure.py)
EVAL1D_SUBSET = 2_000


def run_one(spec: dict) -> dict:
    out = subprocess.run([sys.executable, os.path.join(HERE, "measure.py"), json.dumps(spec)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def blas_peak(quick: bool, repeats: int) -> float:
    """FLOP/s of the best numpy (BLAS) float64 matrix product of two square matrices."""
    r = run_one(dict(kind="peak", m=1024 if quick else 2048, repeats=repeats))
    return r["flops"] / r["best"]


def has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def fmt_bytes(b: float) -> str:
    return f"{b / 2**20:9.1f} MiB"


def forward_table(peak: float, quick: bool, repeats: int, impls) -> list[str]:
    rows = ["Forward pass h(X) (best of %d runs; FLOPs = 2 n B (d_in + d_out))" % repeats,
            f"{'config':16} {'impl':8} {'n':>6} {'d_in':>4} {'d_out':>5} {'B':>7} {'time s':>9} "
            f"{'GFLOP/s':>8} {'%peak':>6} {'peak mem':>13} {'t/t_pcheck':>10} {'mem/mem_numpy':>13}"]
    for label, n, d_in, d_out, B in FORWARD:
        B = B // 20 if quick else B
        res = {impl: run_one(dict(kind="forward", impl=impl, n=n, d_in=d_in, d_out=d_out, B=B, repeats=repeats))
               for impl in impls}
        for impl, r in res.items():
            rows.append(f"{label:16} {impl:8} {n:6d} {d_in:4d} {d_out:5d} {B:7d} {r['best']:9.3f} "
                        f"{r['flops'] / r['best'] / 1e9:8.1f} {100 * r['flops'] / r['best'] / peak:6.1f} "
                        f"{fmt_bytes(r['peak_bytes'])} {r['best'] / res['pcheck']['best']:10.2f} "
                        f"{r['peak_bytes'] / res['numpy']['peak_bytes']:13.4f}")
        rows.append(f"{'':16} numpy tracemalloc peak: {fmt_bytes(res['numpy']['tracemalloc_peak_bytes'])}")
    return rows


def eval1d_table(quick: bool, repeats: int, impls) -> list[str]:
    label, n, B, d_out = EVAL1D
    n, B = (n // 20, B // 20) if quick else (n, B)
    rows = [f"1D evaluation at n = {n}, B = {B}, d_out = {d_out} (best of {repeats}; dense peers timed on "
            f"{min(EVAL1D_SUBSET, B)} points and scaled by B / that, their cost being linear in B)",
            f"{'impl':13} {'time s':>10} {'t/t_sorted':>11} {'peak mem':>13}"]
    res = {impl: run_one(dict(kind="eval1d", impl=impl, n=n, B=B, d_out=d_out, subset=EVAL1D_SUBSET,
                              repeats=repeats)) for impl in ["pcheck"] + ["pcheck-dense"] + impls[1:]}
    for impl, r in res.items():
        name = "pcheck-sorted" if impl == "pcheck" else impl
        rows.append(f"{name:13} {r['best']:10.4f} {r['best'] / res['pcheck']['best']:11.1f} {fmt_bytes(r['peak_bytes'])}")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check the harness only")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling tables")
    args = parser.parse_args(argv)
    impls = ["pcheck", "numpy"] + (["torch"] if has_torch() else [])
    if "torch" not in impls:
        print("PyTorch not installed (pip install -e '.[bench]'): its columns are missing")
    peak = blas_peak(args.quick, args.repeats)
    print(f"Machine peak (BLAS dgemm, best of {args.repeats} runs before and {args.repeats} after the forward "
          f"table): {peak / 1e9:.1f} GFLOP/s\n")
    print("\n".join(forward_table(peak, args.quick, args.repeats, impls)) + "\n")
    peak_after = blas_peak(args.quick, args.repeats)
    if peak_after > peak:
        print(f"(the BLAS peak measured after the forward table was higher, {peak_after / 1e9:.1f} GFLOP/s: "
              f"the % of peak above is relative to the lower value; scale it by {peak / peak_after:.2f})\n")
    print("\n".join(eval1d_table(args.quick, args.repeats, impls)) + "\n")
    import crossover_1d
    print("\n".join(crossover_1d.table(quick=args.quick)) + "\n")
    if not args.no_scaling:
        import scaling
        print("\n".join(scaling.tables(quick=args.quick)))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    sys.exit(main())
