"""Monthly AUM of every customer from the clean ledger and holdings: customer_month_aum
(daily-average, month-end and max daily AUM, aum_3m, tier, volatility class),
account_month_balance and tier_migration. --from-month backfills a range in one pass; a
month needs the month before's closing balances unless it is --ledger-start."""
from __future__ import annotations

import sys

from lib.aum.run import run_aum
from lib.cli import backfill_flags, month_span, run_month_job


def run(spark, conf, args, log) -> None:
    run_aum(spark, conf, *month_span(args), log, cascade=args.cascade)


def flags(parser) -> None:
    backfill_flags(parser)
    parser.add_argument("--cascade", action="store_true",
                        help="also recompute the months after --month that were computed before (else they are "
                             "named as stale)")


def main(argv=None) -> int:
    return run_month_job("aum", __doc__, run, argv, flags)


if __name__ == "__main__":
    sys.exit(main())
