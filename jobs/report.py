"""The monthly report of one month: a self-contained HTML file with PNG charts (tiers and
AUM shares, tier migration, churn by volatility class, ROC and KS, the churn model's
metrics, samples of the recommendation and warning lists with masked names, data quality)
under <warehouse>/_reports/<database>/<month>/."""
from __future__ import annotations

import sys

from lib.cli import run_month_job
from lib.report.run import run_report


def main(argv=None) -> int:
    return run_month_job("report", __doc__, lambda spark, conf, args, log: run_report(spark, conf, args.month, log),
                         argv)


if __name__ == "__main__":
    sys.exit(main())
