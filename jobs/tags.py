"""Customer tags for one month: lifecycle, CF age and asset bands, risk preference and
peak level (KMeans, models saved with the month), growth space, volatility class,
month-end product holdings, tenure -> customer_tags, tag_dictionary, tag_coverage."""
from __future__ import annotations

import sys

from lib.cli import run_month_job
from lib.tags.run import run_tags


def main(argv=None) -> int:
    return run_month_job("tags", __doc__, lambda spark, conf, args, log: run_tags(spark, conf, args.month, log),
                         argv)


if __name__ == "__main__":
    sys.exit(main())
