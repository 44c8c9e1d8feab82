"""Monthly AUM of every customer from the clean ledger and holdings: customer_month_aum
(daily-average, month-end and max daily AUM, aum_3m, tier, volatility class),
account_month_balance and tier_migration. --from-month backfills a range in one pass."""
from __future__ import annotations

import sys

from lib.aum_run import run_aum
from lib.cli import month_arg, run_month_job


def flags(parser) -> None:
    parser.add_argument("--from-month", type=month_arg, help="first month of a backfill (default: --month)")


def run(spark, conf, args, log) -> None:
    first = args.from_month or args.month
    if first > args.month:
        raise ValueError(f"--from-month {first} is after --month {args.month}")
    run_aum(spark, conf, first, args.month, log)


def main(argv=None) -> int:
    return run_month_job("aum", __doc__, run, argv, flags)


if __name__ == "__main__":
    sys.exit(main())
