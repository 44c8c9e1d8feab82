"""Validate one month of the six source tables; clean rows to silver, bad rows to
quarantine, counts per rule to data_quality. Fails (publishing nothing) when a table's
bad-row share passes quality.max_bad_share."""
from __future__ import annotations

import sys

from lib.cli import conf_from_args, job_parser
from lib.ingest import (check_limits, publish, quality_counts, read_prior_chain,
                        validate_month)
from lib.io import read_raw
from lib.logs import get_logger, run_job, stage
from lib.spark import spark_session

log = get_logger("ingest")


def main(argv=None) -> int:
    args = job_parser("ingest", __doc__).parse_args(argv)
    conf = conf_from_args(args)

    def body() -> None:
        with spark_session("ingest", conf) as spark:
            with stage(log, f"validate {args.month}"):
                prior = read_prior_chain(spark, conf, args.month)
                validated = validate_month(lambda t: read_raw(spark, conf, t), args.month,
                                           conf.quality, prior)
                counts = quality_counts(validated).cache()
                rows = [r.asDict() for r in counts.collect()]  # bounded: tables x rules x 2
            for table in validated:
                mine = [r for r in rows if r["table_name"] == table]
                log.info("%s: rows_in=%s rows_bad=%s", table,
                         sum({r["stat_month"]: r["rows_in"] for r in mine}.values()),
                         sum(r["rows_bad"] for r in mine))
            check_limits(rows, conf.quality.max_bad_share)
            with stage(log, f"publish {args.month}") as st:
                publish(spark, conf, args.month, validated, counts, prior)
                st.rows_out = sum({(r["table_name"], r["stat_month"]): r["rows_in"] for r in rows}.values())

    return run_job(log, body)


if __name__ == "__main__":
    sys.exit(main())
