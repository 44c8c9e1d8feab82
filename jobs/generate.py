"""Generate a synthetic province: the six source tables of SPEC §3 under --raw-root, and
the planted truth under <raw-root>/_truth. Deterministic by --seed."""
from __future__ import annotations

import sys

from lib.cli import conf_or_exit, job_parser, month_arg
from lib.config import absolute
from lib.logs import get_logger, run_job
from lib.spark import spark_session
from lib.synth import write_province
from lib.synth.province import GenParams

log = get_logger("generate")


def parser():
    p = job_parser("generate", __doc__, needs_month=False)
    p.add_argument("--customers", type=int, default=2000, help="1,000 to 1,000,000 (default 2,000)")
    p.add_argument("--months", type=int, default=12, help="months of data (default 12)")
    p.add_argument("--start-month", type=month_arg, default="2019-01", help="first month (default 2019-01)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--bad-rate", type=float, default=0.0, help="share of rows given damage (default 0)")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    return p


def main(argv=None) -> int:
    cli = parser()
    args = cli.parse_args(argv)
    if not 1 <= args.customers <= 10_000_000 or not 1 <= args.months <= 120 or not 0 <= args.bad_rate < 0.5:
        cli.error("need 1 <= --customers <= 10,000,000, 1 <= --months <= 120, 0 <= --bad-rate < 0.5")
    conf = conf_or_exit(cli, args)
    params = GenParams(args.customers, args.months, args.start_month, args.seed, args.bad_rate)
    root = absolute(conf.paths.raw_root)

    def body() -> None:
        with spark_session("generate", conf) as spark:
            write_province(spark, params, root, args.format, log)
            log.info("province of %s customers, %s months from %s, seed %s written to %s",
                     f"{params.customers:,}", params.months, params.start_month, params.seed, root)

    return run_job(log, body)


if __name__ == "__main__":
    sys.exit(main())
