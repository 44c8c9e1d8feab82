"""Delta upkeep of the database and its silver one, run after a month's refresh or alone:
each table's properties (retentions from conf, change data feed) and CHECK constraints
brought up to date, the month's files compacted (OPTIMIZE, Z-ordered on cust_id for the
customer-keyed gold tables), files older than the retention removed (VACUUM)."""
from __future__ import annotations

import sys

from lib.cli import run_month_job
from lib.maintain.run import run_maintain


def main(argv=None) -> int:
    return run_month_job("maintain", __doc__,
                         lambda spark, conf, args, log: run_maintain(spark, conf, args.month, log), argv)


if __name__ == "__main__":
    sys.exit(main())
