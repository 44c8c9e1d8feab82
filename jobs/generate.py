"""Generate a synthetic province: the six source tables of SPEC §3 under --raw-root, and
the planted truth under <raw-root>/_truth. Deterministic by --seed."""
from __future__ import annotations

import sys

from lib.cli import conf_from_args, job_parser, month_arg
from lib.config import absolute
from lib.io import delete_path
from lib.logs import get_logger, run_job, stage
from lib.spark import spark_session
from lib.synth import badrows, province, with_bad_rows
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
    args = parser().parse_args(argv)
    if not 1 <= args.customers <= 10_000_000 or not 1 <= args.months <= 120 or not 0 <= args.bad_rate < 0.5:
        parser().error("need 1 <= --customers <= 10,000,000, 1 <= --months <= 120, 0 <= --bad-rate < 0.5")
    conf = conf_from_args(args)
    params = GenParams(args.customers, args.months, args.start_month, args.seed, args.bad_rate)
    root = absolute(conf.paths.raw_root)

    def body() -> None:
        with spark_session("generate", conf) as spark:
            tables, truth = province(spark, params)
            as_text = args.format == "csv"
            staging = f"{root}/_staging"
            if params.bad_rate > 0 or as_text:
                # Damage is injected into a staged clean copy, so the province is generated once.
                for name, df in tables.items():
                    with stage(log, f"generate {name}"):
                        df.write.mode("overwrite").parquet(f"{staging}/{name}")
                tables = {name: spark.read.parquet(f"{staging}/{name}") for name in tables}
            tables, injected = with_bad_rows(tables, params, as_text)
            for name, df in tables.items():
                with stage(log, f"write {name}"):
                    writer = df.drop(badrows.MARK).write.mode("overwrite")
                    if as_text:
                        writer.option("header", True).csv(f"{root}/{name}")
                    else:
                        writer.parquet(f"{root}/{name}")
            for name, df in truth.items():
                df.write.mode("overwrite").parquet(f"{root}/_truth/{name}")
            if injected is not None:
                injected.coalesce(1).write.mode("overwrite").parquet(f"{root}/_truth/bad_rows")
            delete_path(spark, staging)
            log.info("province of %s customers, %s months from %s, seed %s written to %s",
                     f"{params.customers:,}", params.months, params.start_month, params.seed, root)

    return run_job(log, body)


if __name__ == "__main__":
    sys.exit(main())
