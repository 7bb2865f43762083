"""HTW Theorem 3.2 (width n > N suffices): holds for one output (``htw.thm3_2.scalar``), refuted
with a certificate for vector outputs (``htw.thm3_2.vector``), and the grid sweep
``htw.thm3_2.grid``."""

from __future__ import annotations

import itertools

import numpy as np

from pcheck import strategies as pst
from pcheck.ledger import Context, claim, property_check
from pcheck.papers.htw.sources import SOURCES
from pcheck.papers.htw.width_evidence import certified_width_refutation
from pcheck.problems.minimal_width import counting_bound, minimal_width
from pcheck.problems.width import width_sufficiency
from pcheck.sweep import Undecided, sweep


def scalar_reached(example) -> float:
    X, Y, lam, variant = example["X"], example["Y"][:, :1], example["lam"], example["variant"]
    v = width_sufficiency(X, Y, lam, variant=variant, seed=example["seed"], restarts=1)
    if v.verdict != "reached":
        raise AssertionError(f"width N + 1 not reached: margin {v.margin:.3e}, {v.atoms} atoms, effort {v.effort}")
    return max(v.margin, 0.0)


@claim("htw.thm3_2.scalar", note="htw-thm3_2.md", variants=("7", "8"),
       statement="d_out = 1: a width n = N + 1 network reaches the certified optimum of (5), so every minimizer "
                 "of (4) at width n > N minimizes (5).",
       **SOURCES["htw.thm3_2.scalar"])
def check_scalar(ctx):
    return property_check(ctx, pst.regression_1d(d_out=(1, 1)), scalar_reached, measure="relative margin over the bound",
                          examples=ctx.pick(dev=10, ci=20, thorough=100, nojit=3))


#: The minimal certified counterexample to Theorem 3.2 (proofs_notes/htw-thm3_2.md; found by
#: benchmarks/minimal_counterexample.py: no instance with N <= 3 on its grid, d_out = 1 never):
#: variant "7", lam = 0.3, x = 0, 1, 2, 3, integer outputs, d_out = 2 (Y from
#: ``default_rng([74, 4, 2]).integers(-2, 3, (4, 2))``). The (5) optimum is 7.65969441962388
#: (6 atoms, gap 6e-16); every width-5 network has (4) >= 7.65972692257756, and one reaches
#: 7.65972692257759.
MINIMAL_X = np.arange(4.0)[:, None]
MINIMAL_Y = np.array([[1.0, -1.0], [-1.0, -1.0], [2.0, 1.0], [-1.0, 2.0]])
MINIMAL_LAM = 0.3
MINIMAL_SEED = 74


@claim("htw.thm3_2.vector", note="htw-thm3_2.md", expected="refuted", variants=("7",),
       statement="d_out > 1: width n = N + 1 reaches the optimum of (5), so every minimizer of (4) at width n > N "
                 "minimizes (5) (HTW claim it for every d_out).",
       **SOURCES["htw.thm3_2.vector"])
def check_vector(ctx):
    return certified_width_refutation(ctx, MINIMAL_X, MINIMAL_Y, MINIMAL_LAM, MINIMAL_SEED)


#: Restricted solves the branch and bound of :func:`pcheck.problems.width.width_lower_bound` may spend
#: per instance: the ledger's minimal counterexample needs ~520, the dev grid's ~290.
THM3_2_MAX_NODES = 3000


def thm3_2_grid(ctx: Context) -> list[dict]:
    """Instances of the Theorem 3.2 sweep of ``proofs_notes/htw-thm3_2.md``: 1D data
    ``X = sort(U(-2, 2, N))``, ``Y = N(0, 1)^(N x d_out)`` from ``default_rng([seed, N, d_out])``;
    the ``thorough`` grid is that note's full sweep. ``max_nodes`` is the budget of the branch
    and bound that certifies "refuted" when the search stays above (0: no certification)."""
    variants = ctx.pick(dev=("7", "8"), nojit=("7",))
    d_outs = ctx.pick(dev=(1, 2, 5), ci=(1, 2, 3, 5, 8), nojit=(1, 5))
    Ns = ctx.pick(dev=(3, 5), ci=(2, 3, 4, 5, 6), nojit=(5,))
    lams = ctx.pick(dev=(0.1,), ci=(1e-3, 0.1, 1.0), nojit=(0.1,))
    seeds = ctx.pick(dev=(0,), thorough=(0, 1, 2))
    max_nodes = ctx.pick(dev=THM3_2_MAX_NODES, nojit=0)
    return [{"variant": v, "d_out": d, "N": N, "lam": lam, "seed": seed, "max_nodes": max_nodes}
            for v, d, N, lam, seed in itertools.product(variants, d_outs, Ns, lams, seeds)]


@sweep("htw.thm3_2.grid", source="Heiss, Teichmann & Wutte, arXiv 2112.15577, Theorem 3.2", note="htw-thm3_2.md",
       statement="In 1D, a width n = N + 1 network reaches the certified optimum of (5) (HTW claim it for every "
                 "d_out); refuted only by a certified width-(N+1) lower bound above that optimum, open when the "
                 "search stays above without one.",
       measure="relative margin of the best width-(N+1) network over the certified bound", grid=thm3_2_grid,
       expected="refuted", variants=("7", "8"))
def thm3_2_instance(instance: dict) -> float:
    """:func:`pcheck.problems.width.width_sufficiency` at width ``N + 1`` (2 restarts on top of the pruned
    function-space starts): "reached" gives the margin, "refuted" (certified) raises
    ``AssertionError``, "not reached" is :class:`Undecided`."""

    rng = np.random.default_rng([instance["seed"], instance["N"], instance["d_out"]])
    X = np.sort(rng.uniform(-2, 2, instance["N"]))[:, None]
    Y = rng.standard_normal((instance["N"], instance["d_out"]))
    v = width_sufficiency(X, Y, instance["lam"], variant=instance["variant"], seed=instance["seed"], restarts=2,
                          max_nodes=instance["max_nodes"])
    if v.verdict == "refuted":
        raise AssertionError(f"certified: every width-{v.width} network has (4) >= {v.width_bound.lower_bound!r} > "
                             f"min (5) = {v.upper_bound!r} ({v.width_bound.nodes} restricted solves)")
    if v.verdict != "reached":
        raise Undecided(f"margin {v.margin:.3e} over the bound, optimum with {v.atoms} atoms, effort {v.effort}")
    return max(v.margin, 0.0)


def minimal_width_grid(ctx: Context) -> list[dict]:
    """Instances of the minimal-width sweep (proofs_notes/htw-minimal-width.md), drawn like
    :func:`thm3_2_grid`; ``max_nodes`` is the branch-and-bound budget of the lower end."""
    variants = ctx.pick(dev=("7",), ci=("7", "8"))
    d_outs = ctx.pick(dev=(1, 2), ci=(1, 2, 3, 4))
    Ns = ctx.pick(dev=(3, 4), ci=(2, 3, 4, 5, 6))
    lams = ctx.pick(dev=(0.1,), ci=(1e-3, 0.1, 1.0))
    seeds = ctx.pick(dev=(0,), thorough=(0, 1, 2))
    max_nodes = ctx.pick(dev=300, thorough=1000)
    return [{"variant": v, "d_out": d, "N": N, "lam": lam, "seed": seed, "max_nodes": max_nodes}
            for v, d, N, lam, seed in itertools.product(variants, d_outs, Ns, lams, seeds)]


def minimal_width_of(instance: dict):
    """:func:`pcheck.problems.minimal_width.minimal_width` on one instance of :func:`minimal_width_grid`."""
    rng = np.random.default_rng([instance["seed"], instance["N"], instance["d_out"]])
    X = np.sort(rng.uniform(-2, 2, instance["N"]))[:, None]
    Y = rng.standard_normal((instance["N"], instance["d_out"]))
    return minimal_width(X, Y, instance["lam"], instance["variant"], max_nodes=instance["max_nodes"],
                         seed=instance["seed"])


@sweep("htw.thm3_2.minimal_width", note="htw-minimal-width.md", variants=("7", "8"),
       statement="In 1D the minimal width n* at which (4) reaches the optimum of (5) is at most the counting bound "
                 "min(N d_out, 2N - 1) (variant 7) or min((N - 1) d_out, 2N - 3) (variant 8); the table of n* "
                 "against N + 1 is the corrected Theorem 3.2.",
       measure="upper end of the certified interval for n* minus (N + 1)", grid=minimal_width_grid,
       **SOURCES["htw.thm3_2.minimal_width"])
def minimal_width_instance(instance: dict) -> float:
    """Refuted when the certified lower end exceeds the counting bound, open when only the upper end
    does (never seen), else the upper end's excess over N + 1."""
    r = minimal_width_of(instance)
    bound = counting_bound(instance["N"], instance["d_out"], instance["variant"])
    if r.lower > bound:
        raise AssertionError(f"certified n* >= {r.lower} > counting bound {bound}")
    if r.upper > bound:
        raise Undecided(f"n* in [{r.lower}, {r.upper}], counting bound {bound}")
    return float(r.upper - (instance["N"] + 1))


def law_holds(example) -> float:
    X, Y, lam, variant = example["X"], example["Y"], example["lam"], example["variant"]
    r = minimal_width(X, Y, lam, variant, max_nodes=0)
    bound = counting_bound(len(np.unique(X[:, 0])), Y.shape[1], variant)
    if not r.upper <= bound:
        raise AssertionError(f"the explicit optimal network has width {r.upper} > counting bound {bound}")
    return float(r.upper) / max(bound, 1)


@claim("htw.thm3_2.width_law", note="htw-minimal-width.md", variants=("7", "8"),
       statement="In 1D an optimum of (5) is realized by a network of width at most min(N d_out, 2N - 1) (variant 7) "
                 "or min((N - 1) d_out, 2N - 3) (variant 8): the width that replaces Theorem 3.2's N + 1.",
       **SOURCES["htw.thm3_2.width_law"])
def check_width_law(ctx):
    return property_check(ctx, pst.regression_1d(d_out=(1, 6), N=(1, 6)), law_holds,
                          measure="width of the explicit optimal network / counting bound",
                          examples=ctx.pick(dev=8, ci=30, thorough=200, nojit=3))
