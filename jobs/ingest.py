"""Validate one month of the six source tables; clean rows to silver, bad rows to
quarantine, counts per rule to data_quality. Fails (publishing nothing) when a table's
bad-row share passes quality.max_bad_share."""
from __future__ import annotations

import sys

from lib.cli import run_month_job
from lib.ingest import run_ingest


def main(argv=None) -> int:
    return run_month_job("ingest", __doc__, lambda spark, conf, args, log: run_ingest(spark, conf, args.month, log),
                         argv)


if __name__ == "__main__":
    sys.exit(main())
