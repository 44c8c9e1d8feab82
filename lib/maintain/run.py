"""The maintain job: for every Delta table of the database and its silver database,
bring its properties and constraints up to date, OPTIMIZE the month, VACUUM. Each table is
a logged stage with the files compacted."""
from __future__ import annotations

from pyspark.sql import SparkSession

from lib.config import Config
from lib.io import table_versions
from lib.logs import stage
from lib.maintain import plan
from lib.tables import all_specs


def run_maintain(spark: SparkSession, conf: Config, month: str, log) -> None:
    specs = all_specs()
    for database in (conf.database, conf.silver_database):
        for name in sorted(table_versions(spark, database)):
            table, spec = f"{database}.{name}", specs.get(name)
            with stage(log, f"maintain {table} {month}"):
                have = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}   # bounded
                for statement in plan.upgrades(table, have, spec, conf.tables):
                    log.info("%s", statement)
                    spark.sql(statement)
                done = spark.sql(plan.optimize(table, spec, month)).first().metrics
                log.info("%s: %d files compacted into %d", table, done.numFilesRemoved, done.numFilesAdded)
                spark.sql(plan.vacuum(table, conf.tables))
