"""Intervals over seeds and the verdict rules of the Lee & Ndirango entries.

Every number a verdict rests on is a mean over independent seeds with its Student-t
confidence interval (:func:`mean_interval`); a rule says "holds" when the interval lies on the
claimed side, "refuted" when it lies on the other side, "open" otherwise.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from pcheck.core.validate import as_array

#: Confidence level of the intervals across seeds.
LEVEL = 0.95


def mean_interval(samples, level: float = LEVEL) -> tuple[float, float, float]:
    """``(mean, lo, hi)``: the Student-t ``level`` confidence interval of the mean of
    independent ``samples`` (one per seed), ``mean -+ t_{(1+level)/2, S-1} sd / sqrt(S)``."""
    samples = as_array(samples, "samples", ndim=1)
    if samples.size < 2:
        raise ValueError(f"samples must hold at least two values, got {samples.size}")
    mean = float(samples.mean())
    half = float(stats.t.ppf((1 + level) / 2, samples.size - 1) * samples.std(ddof=1) / np.sqrt(samples.size))
    return mean, mean - half, mean + half


def sign_verdict(interval, predicted: int) -> str:
    """A predicted sign (+1 or -1) against ``(mean, lo, hi)``: holds when the interval is on
    that side of 0, refuted when it is on the other side, open when it contains 0."""
    _, lo, hi = interval
    if (lo > 0 and predicted > 0) or (hi < 0 and predicted < 0):
        return "holds"
    if (lo > 0 and predicted < 0) or (hi < 0 and predicted > 0):
        return "refuted"
    return "open"


def small_verdict(interval, bound: float) -> str:
    """"Small": holds when ``[lo, hi]`` lies inside ``[-bound, bound]``, refuted when it lies
    entirely outside, open otherwise."""
    _, lo, hi = interval
    if -bound <= lo and hi <= bound:
        return "holds"
    if lo > bound or hi < -bound:
        return "refuted"
    return "open"


def combine(verdicts) -> str:
    """Several conditions that must all hold: refuted if one is refuted, else open if one is
    open, else holds."""
    verdicts = list(verdicts)
    return "refuted" if "refuted" in verdicts else "open" if "open" in verdicts else "holds"


def text(interval, digits: int = 3) -> str:
    """``"+0.012 [-0.003, +0.027]"``."""
    mean, lo, hi = interval
    return f"{mean:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"
