"""The monthly refresh of one month (or --from-month A --month M, each month in order):
ingest -> aum -> tags -> acquisition, uplift, retention and outcome -> report and export
(the stages of a step side by side), each stage logged, the run recorded in run_manifest. A
failed stage stops the run with its reason; every table keeps its last committed version,
and re-running the month completes it."""
from __future__ import annotations

import sys

from lib.cli import backfill_flags, month_span, run_month_job
from lib.monthly import run_monthly


def run(spark, conf, args, log) -> None:
    run_monthly(spark, conf, *month_span(args), log)


def main(argv=None) -> int:
    return run_month_job("monthly", __doc__, run, argv, backfill_flags)


if __name__ == "__main__":
    sys.exit(main())
