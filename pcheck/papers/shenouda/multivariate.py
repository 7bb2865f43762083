"""Multivariate multi-task transfer (Nakhleh, Shenouda & Nowak, section 4): task families, the
registered protocol of proofs_notes/shenouda-multivariate.md, its tables and verdict rules."""

from __future__ import annotations

import functools

import numpy as np

from pcheck.problems.neuron_kernel import (
    certified_fit,
    kernel_transfer,
)

KINDS = ("diverse", "rank_one", "mixed")


def task_family(seed: int, T: int, kind: str = "diverse", N: int = 6, d_in: int = 2):
    """``(X, Y (N, T + 1))``: ``N`` inputs uniform in ``[-1, 1]^d_in``; labels i.i.d. N(0, 1)
    ("diverse"), ``y u^T`` ("rank_one", ``y``, ``u`` i.i.d. N(0, 1)), or rank one with an
    independent task 0 ("mixed"). Tasks are nested: the first ``T + 1`` columns of the
    ``T = 32`` family."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    rng = np.random.default_rng([seed, 2410])
    X = rng.uniform(-1, 1, (N, d_in))
    if kind == "diverse":
        return X, rng.standard_normal((N, 33))[:, :T + 1]
    Y = np.outer(rng.standard_normal(N), rng.standard_normal(33))
    if kind == "mixed":
        Y[:, 0] = rng.standard_normal(N)
    return X, Y[:, :T + 1]


@functools.cache
def transfer_rows(seeds: tuple, Ts: tuple, lams: tuple, variant: str = "7", kind: str = "diverse") -> tuple:
    """``(lam, seed, KernelTransfer)`` for every combination (the single-task fit shared over T)."""
    rows = []
    for lam in lams:
        for seed in seeds:
            X, Y = task_family(seed, max(Ts), kind)
            single = certified_fit(X, Y[:, :1], lam, variant)
            rows += [(lam, seed, kernel_transfer(X, Y[:, :T + 1], lam, variant, single=single)) for T in Ts]
    return tuple(rows)


#: The protocol registered in the note before measuring: 5 seeds, T = 1..32, two lam.
REGISTERED = {"seeds": (0, 1, 2, 3, 4), "Ts": (1, 2, 4, 8, 16, 32), "lams": (0.1, 0.01)}


def transfer_protocol(ctx) -> dict:
    """Ledger sizes by profile (``ci`` = ``dev``: the tests run under both; ``thorough``: the
    registered seeds and both ``lam``, T up to 16). T = 32 (~5 s per fit pair) is left to
    :func:`print_transfer_table`, which runs :data:`REGISTERED`. ``dev`` takes medians over 3
    seeds at ``lam = 0.1`` only. Reason: one seed is not the registered median (on seeds 0..7
    alone, r_16 ranges 0.01..0.14 and the certified bars at lam = 0.01 0.002..0.18, so single
    seeds gave "holds" on 4 of 8 and "open" on the rest), and at lam = 0.01 three seeds still
    leave bars up to 0.11 at 10 exchange rounds."""
    return {"seeds": tuple(ctx.seed + i for i in range(ctx.pick(dev=3, thorough=5, nojit=1))),
            "Ts": ctx.pick(dev=(1, 4, 16), thorough=(1, 2, 4, 8, 16), nojit=(1, 16)),
            "lams": ctx.pick(dev=(0.1,), thorough=(0.1, 0.01), nojit=(0.1,))}


def medians(rows, lam, field: str, min_T: int = 1):
    """``(Ts, median over seeds of field)`` at ``lam``."""
    Ts = sorted({r.T for l, _, r in rows if l == lam and r.T >= min_T})
    return np.array(Ts, float), np.array([np.median([getattr(r, field) for l, _, r in rows if l == lam and r.T == T])
                                          for T in Ts])


def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x``."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def combine(verdicts) -> str:
    """Registered rule: refuted if any ``lam`` refutes, holds if every ``lam`` holds, else open."""
    return "refuted" if "refuted" in verdicts else "holds" if all(v == "holds" for v in verdicts) else "open"


def fixed_kernel_verdict(rows):
    """Per ``lam`` (note, (B)): slope of median ``r_T``; holds if slope <= -0.3 and ``r + bar``
    at the largest T <= 0.1; refuted if slope > -0.1 or ``r - bar`` >= 0.5; else open."""
    verdicts, table = [], {}
    for lam in sorted({l for l, _, _ in rows}, reverse=True):
        Ts, r = medians(rows, lam, "r")
        _, bar = medians(rows, lam, "r_bar")
        slope = loglog_slope(Ts, r)
        v = "holds" if slope <= -0.3 and r[-1] + bar[-1] <= 0.1 else \
            "refuted" if slope > -0.1 or r[-1] - bar[-1] >= 0.5 else "open"
        verdicts.append(v)
        table[str(lam)] = {"slope": slope, "r_last": float(r[-1]), "bar_last": float(bar[-1]), "verdict": v}
    return combine(verdicts), table


def common_scale_verdict(rows):
    """Per ``lam`` (note, (C)): slope of median ``CV_T`` over T >= 2; holds if slope <= -0.3
    and ``CV`` at the largest T <= 0.2; refuted if ``CV >= 0.5 x floor`` and slope > -0.1."""
    verdicts, table = [], {}
    for lam in sorted({l for l, _, _ in rows}, reverse=True):
        Ts, cv = medians(rows, lam, "cv", min_T=2)
        _, floor = medians(rows, lam, "floor", min_T=2)
        slope = loglog_slope(Ts, cv) if len(Ts) > 1 else 0.0
        v = "holds" if slope <= -0.3 and cv[-1] <= 0.2 else \
            "refuted" if cv[-1] >= 0.5 * floor[-1] and slope > -0.1 else "open"
        verdicts.append(v)
        table[str(lam)] = {"slope": slope, "cv_last": float(cv[-1]), "floor_last": float(floor[-1]), "verdict": v}
    return combine(verdicts), table


def transfer_table(rows) -> list:
    """JSON rows of medians over seeds: ``[lam, T, e, bar, d, r, r_bar, baseline, r_baseline,
    drift, cv, floor, largest gap]``."""
    fields = ("e", "bar", "d", "r", "r_bar", "baseline", "r_baseline", "drift", "cv", "floor")
    out = []
    for lam in sorted({l for l, _, _ in rows}, reverse=True):
        for T in sorted({r.T for l, _, r in rows if l == lam}):
            sel = [r for l, _, r in rows if l == lam and r.T == T]
            out.append([lam, T] + [float(np.median([getattr(r, f) for r in sel])) for f in fields]
                       + [max(r.gap for r in sel)])
    return out


def print_transfer_table(variant: str = "7", kind: str = "diverse") -> None:
    """Print the medians over seeds of :func:`transfer_table` on the :data:`REGISTERED`
    protocol and both verdicts (~30-60 s), e.g.
    ``python -c "from pcheck.papers.shenouda import print_transfer_table as p; p('8')"``."""
    rows = transfer_rows(**REGISTERED, variant=variant, kind=kind)
    print(f"variant {variant}, {kind} tasks; medians over seeds {REGISTERED['seeds']}")
    print("   lam   T      e_T    bar      d_T     r_T  r_bar  single  r_single  drift   CV  floor    gap")
    for lam, T, e, bar, d, r, rb, b, rbs, drift, cv, floor, gap in transfer_table(rows):
        print(f"{lam:6g} {T:3d} {e:8.2e} {bar:6.1e} {d:7.4f} {r:7.4f} {rb:6.3f} {b:7.4f} {rbs:8.3f} {drift:6.3f} "
              f"{cv:4.2f} {floor:5.2f} {gap:6.1e}")
    print("(B) fixed kernel:", fixed_kernel_verdict(rows))
    print("(C) common scale:", common_scale_verdict(rows))
