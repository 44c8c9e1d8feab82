"""Validate one month of the six source tables (or, with --from-month, every month from
there to --month, in passes of as many months as conf's backfill_pass_rows allows, with the
same results as month-by-month runs); clean rows to
silver, bad rows to quarantine, counts per rule to data_quality. Fails (publishing nothing)
when a table's bad-row share passes quality.max_bad_share, or a month's extract is empty or
shrank below quality.min_volume_share of the month before."""
from __future__ import annotations

import sys

from lib.cli import month_arg, month_span, run_month_job
from lib.ingest.passes import backfill_passes
from lib.ingest.run import run_ingest


def run(spark, conf, args, log) -> None:
    for first, last in backfill_passes(spark, conf, *month_span(args), log):
        run_ingest(spark, conf, first, last, log)


def main(argv=None) -> int:
    return run_month_job("ingest", __doc__, run, argv,
                         lambda parser: parser.add_argument("--from-month", type=month_arg,
                                                            help="first month of a backfill (default: --month)"))


if __name__ == "__main__":
    sys.exit(main())
