"""Validate one month of the six source tables; clean rows to silver, bad rows to
quarantine, counts per rule to data_quality. Fails (publishing nothing) when a table's
bad-row share passes quality.max_bad_share."""
from __future__ import annotations

import sys

from lib.cli import conf_from_args, job_parser
from lib.ingest import run_ingest
from lib.logs import get_logger, run_job
from lib.spark import spark_session

log = get_logger("ingest")


def main(argv=None) -> int:
    args = job_parser("ingest", __doc__).parse_args(argv)
    conf = conf_from_args(args)

    def body() -> None:
        with spark_session("ingest", conf) as spark:
            run_ingest(spark, conf, args.month, log)

    return run_job(log, body)


if __name__ == "__main__":
    sys.exit(main())
