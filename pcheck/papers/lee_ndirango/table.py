"""Print the per-choice verdicts and numbers of the Lee & Ndirango entries (the tables of
proofs_notes/lee-ndirango-*.md)::

    python -m pcheck.papers.lee_ndirango.table [--profile dev] [--seed 0] [--claims ta_ode,benefit_grows]
"""

from __future__ import annotations

import argparse
import time

from pcheck.ledger import Context
from pcheck.papers import lee_ndirango

NAMES = ("ta_ode", "benefit_grows", "unrelated_hurts", "unrelated_noisy_ignored", "abundant_data")


def show(name: str, ctx: Context) -> None:
    start = time.process_time()
    evidence = getattr(lee_ndirango, f"check_{name}")(ctx)
    print(f"## lee_ndirango.{name}: {evidence.verdict}  ({time.process_time() - start:.1f} s CPU, "
          f"profile {ctx.profile}, seed {ctx.seed})")
    for key, value in evidence.details.items():
        if isinstance(value, dict) and "verdict" in value:
            numbers = "; ".join(f"{k} {v}" for k, v in value.items() if k != "verdict")
            print(f"| {key} | {value['verdict']} | {numbers} |")
        else:
            print(f"  {key}: {value}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="dev")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--claims", default=",".join(NAMES))
    args = parser.parse_args(argv)
    ctx = Context(profile=args.profile, seed=args.seed)
    for name in args.claims.split(","):
        show(name.strip(), ctx)


if __name__ == "__main__":
    main()
