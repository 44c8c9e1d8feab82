"""Product uplift for one month: Pearson user-based CF and MLlib ALS recommendations for
the wealth customers (with why, and masked contacts) -> product_recommendation, and a
hide-one-product evaluation of both against popularity -> recommender_eval."""
from __future__ import annotations

import sys

from lib.cli import run_month_job
from lib.uplift.run import run_uplift


def main(argv=None) -> int:
    return run_month_job("uplift", __doc__, lambda spark, conf, args, log: run_uplift(spark, conf, args.month, log),
                         argv)


if __name__ == "__main__":
    sys.exit(main())
