"""The ``pcheck`` command: ``pcheck verify`` re-checks the claims ledger."""

from __future__ import annotations

import argparse
import sys

from .ledger import PROFILE_EXAMPLES, Context, run_claim, select
from .report import print_table


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pcheck", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    verify = sub.add_parser("verify", help="re-check the claims ledger; exit 1 when a verdict differs from the expected one")
    verify.add_argument("--claims", default=None, metavar="PATTERN", help="glob over claim ids, e.g. 'htw.*'")
    verify.add_argument("--profile", default="dev", choices=sorted(PROFILE_EXAMPLES))
    verify.add_argument("--seed", type=int, default=0)
    return parser


def verify(args) -> int:
    claims = select(args.claims)
    if not claims:
        print(f"no claim matches {args.claims!r}", file=sys.stderr)
        return 2
    ctx = Context(profile=args.profile, seed=args.seed)
    outcomes = [run_claim(c, ctx) for c in claims]
    print_table(outcomes)
    return 0 if all(o.as_expected for o in outcomes) else 1


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return {"verify": verify}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
