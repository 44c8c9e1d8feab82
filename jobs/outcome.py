"""What became of the lists of the months before: for each prospect listed in M-3..M-1,
whether it converted by M (opened an account, became a wealth customer, brought its money
back), and for the warning list of M - horizon, which scored customers churned, flagged or
not -> prospect_outcome of M."""
from __future__ import annotations

import sys

from lib.cli import run_month_job
from lib.outcome.run import run_outcome


def main(argv=None) -> int:
    return run_month_job("outcome", __doc__, lambda spark, conf, args, log: run_outcome(spark, conf, args.month, log),
                         argv)


if __name__ == "__main__":
    sys.exit(main())
