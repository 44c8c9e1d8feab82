"""What SQL consumers see: a metastore of their own, beside the jobs' one, that holds only
the gold database's tables (and, when asked, the silver one's), registered by location, so
every commit the jobs make is seen at once. The Thrift Server serves it
(scripts/thriftserver.sh start), so the silver zone, which holds personal data in clear,
is not reachable through JDBC by default; and the server does not lock the jobs' Derby
metastore, so a refresh can run while it serves.

    python -m lib.deploy.serving [--with-silver] [job conf flags]   (run by thriftserver.sh)
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from lib.cli import conf_or_exit, job_parser
from lib.config import Config, absolute
from lib.io import delta_tables_under, quote
from lib.spark import SERVING_DIR, build_session


def register(spark: SparkSession, conf: Config, with_silver: bool = False) -> dict[str, list[str]]:
    """Register every Delta table of the served databases in the session's (serving)
    metastore, with its comment; the tables registered, by database."""
    databases = [conf.database] + ([conf.silver_database] if with_silver else [])
    warehouse = absolute(conf.paths.warehouse)
    out: dict[str, list[str]] = {}
    for database in databases:
        # the database's own folder is the serving one's, so nothing done to it reaches the data
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {database} LOCATION '{warehouse}/{SERVING_DIR}/{database}.db'")
        out[database] = []
        for name, path in delta_tables_under(spark, f"{warehouse}/{database}.db"):
            comment = DeltaTable.forPath(spark, path).detail().first().description or ""
            spark.sql(f"CREATE TABLE IF NOT EXISTS {database}.{name} USING DELTA LOCATION '{path}' "
                      f"COMMENT '{quote(comment)}'")
            out[database].append(name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = job_parser("serving", "register the served tables", needs_month=False)
    parser.add_argument("--with-silver", action="store_true", help="serve the silver database too")
    args = parser.parse_args(argv)
    conf = conf_or_exit(parser, args)
    if conf.spark.embedded_metastore:     # built anew at each start: it serves what is asked now
        shutil.rmtree(Path(absolute(conf.paths.warehouse)) / SERVING_DIR, ignore_errors=True)
    spark = build_session("serving", conf, serving=True)
    try:
        for database, names in register(spark, conf, args.with_silver).items():
            print(f"serving {database}: {len(names)} tables")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
