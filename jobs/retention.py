"""Churn warning for one month: label the last reference month whose horizon has passed,
screen the features, train and test the logistic regression (hold-out and out of time),
score this month's wealth customers with reasons -> churn_features, churn_screening,
churn_model_metrics, churn_coefficients, churn_model_curves, churn_scores; the model is
saved under <warehouse>/_models/<db>/retention/<month>/. --preset article_monthly: the article's
variant (monthly AUM above 200,000, one month ahead)."""
from __future__ import annotations

import sys

from lib.cli import run_month_job
from lib.retention.run import run_retention


def main(argv=None) -> int:
    return run_month_job("retention", __doc__,
                         lambda spark, conf, args, log: run_retention(spark, conf, args.month, log), argv)


if __name__ == "__main__":
    sys.exit(main())
