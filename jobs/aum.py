"""Monthly AUM of every customer from the clean ledger and holdings: customer_month_aum
(daily-average, month-end and max daily AUM, aum_3m, tier, volatility class),
account_month_balance and tier_migration. --from-month backfills a range in one pass."""
from __future__ import annotations

import sys

from lib.aum_run import run_aum
from lib.cli import from_month_flag, month_span, run_month_job


def run(spark, conf, args, log) -> None:
    run_aum(spark, conf, *month_span(args), log)


def main(argv=None) -> int:
    return run_month_job("aum", __doc__, run, argv, from_month_flag)


if __name__ == "__main__":
    sys.exit(main())
