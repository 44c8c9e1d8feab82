"""Monthly AUM of every customer from the clean ledger and holdings: customer_month_aum
(daily-average, month-end and max daily AUM, aum_3m, tier, volatility class),
account_month_balance and tier_migration. --from-month backfills a range in one pass."""
from __future__ import annotations

import sys

from lib.cli import conf_from_args, job_parser, month_arg
from lib.aum_run import run_aum
from lib.logs import get_logger, run_job
from lib.spark import spark_session

log = get_logger("aum")


def main(argv=None) -> int:
    parser = job_parser("aum", __doc__)
    parser.add_argument("--from-month", type=month_arg, help="first month of a backfill (default: --month)")
    args = parser.parse_args(argv)
    first = args.from_month or args.month
    if first > args.month:
        parser.error(f"--from-month {first} is after --month {args.month}")
    conf = conf_from_args(args)

    def body() -> None:
        with spark_session("aum", conf) as spark:
            run_aum(spark, conf, first, args.month, log)

    return run_job(log, body)


if __name__ == "__main__":
    sys.exit(main())
