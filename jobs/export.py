"""The month's marketing lists for the branches: the churn warning list, the product
recommendations, the prospects at other banks and at the postal bank, and the critical
customers, one workbook per branch (a sheet per list, a UTF-8 CSV per list beside it)
under <warehouse>/_exports/<db>/<month>/<city>/, capped at export.capacity customers per
branch and list, with a summary per city of what was sent and cut. Names and ID numbers
masked; headers in Chinese and English."""
from __future__ import annotations

import sys

from lib.cli import run_month_job
from lib.export.run import run_export


def main(argv=None) -> int:
    return run_month_job("export", __doc__, lambda spark, conf, args, log: run_export(spark, conf, args.month, log),
                         argv)


if __name__ == "__main__":
    sys.exit(main())
