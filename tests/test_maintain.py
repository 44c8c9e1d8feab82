"""Table upkeep (jobs/maintain.py): a table made by an earlier version gets its constraints
and properties, the month's files are compacted and Z-ordered with the rows unchanged,
and VACUUM removes only what no version within the retention needs."""
from __future__ import annotations

import dataclasses
import os
import time
from decimal import Decimal
from pathlib import Path

from chispa import assert_df_equality
from pyspark.sql import functions as F

from lib.config import TablesConf
from lib.io import replace_months, table_location, table_version
from lib.logs import get_logger
from lib.maintain import plan
from lib.maintain.run import run_maintain
from lib.tables import CUSTOMER_MONTH_AUM, TableSpec, probability

DAY = 24 * 3600


def test_upgrades_add_what_a_table_lacks_and_nothing_else():
    spec = TableSpec("t", "t", (("p", "double", "p"), ("stat_month", "string", "m")), checks=probability("p"),
                     change_feed=True)
    month_check = "stat_month RLIKE '^[0-9]{4}-(0[1-9]|1[0-2])$'"
    assert plan.upgrades("d.t", {}, spec, TablesConf()) == [
        f"ALTER TABLE d.t ADD CONSTRAINT stat_month_format CHECK ({month_check})",
        "ALTER TABLE d.t ADD CONSTRAINT p_in_0_1 CHECK (p IS NULL OR p BETWEEN 0 AND 1)",
        "ALTER TABLE d.t SET TBLPROPERTIES ('delta.logRetentionDuration' = 'interval 30 days', "
        "'delta.deletedFileRetentionDuration' = 'interval 30 days', 'delta.enableChangeDataFeed' = 'true')"]
    current = {**TablesConf().properties(), **spec.properties()}
    assert plan.upgrades("d.t", current, spec, TablesConf()) == []
    # a retention changed in conf is set again; a constraint present under its name is left alone
    longer = TablesConf(deleted_file_retention_days=60)
    assert plan.upgrades("d.t", {**current, "delta.constraints.p_in_0_1": "p >= 0"}, spec, longer) == [
        "ALTER TABLE d.t SET TBLPROPERTIES ('delta.deletedFileRetentionDuration' = 'interval 60 days')"]
    assert plan.vacuum("d.t", longer) == "VACUUM d.t RETAIN 1440 HOURS"
    assert plan.optimize("d.t", spec, "2019-03") == "OPTIMIZE d.t WHERE stat_month = '2019-03'"
    assert plan.optimize("d.other", None, "2019-03") == "OPTIMIZE d.other"


def aum_rows(spark, n: int, tier: str):
    rows = [(f"{i:010d}", *[Decimal(f"{1000 * i}.00")] * 6, tier, tier != "NONE", None, "2019-01") for i in range(n)]
    return spark.createDataFrame(rows, ", ".join(f"{name} {sqltype}" for name, sqltype, _ in CUSTOMER_MONTH_AUM.columns))


def test_maintain_upgrades_compacts_and_vacuums_within_the_retention(spark, conf):
    conf = dataclasses.replace(conf, database="mnt")
    table = "mnt.customer_month_aum"
    # made by an earlier version: no constraints, no change feed, no retentions
    spark.sql("CREATE DATABASE IF NOT EXISTS mnt")
    columns = ", ".join(f"{name} {sqltype}" for name, sqltype, _ in CUSTOMER_MONTH_AUM.columns)
    spark.sql(f"CREATE TABLE {table} ({columns}) USING DELTA PARTITIONED BY (stat_month)")
    replace_months(spark, aum_rows(spark, 40, "NONE"), "mnt", CUSTOMER_MONTH_AUM, ["2019-01"])
    first = table_version(spark, table)
    for _ in range(3):    # the month rewritten, then appended to: several files, old ones removed
        replace_months(spark, aum_rows(spark, 30, "PLATINUM").repartition(3), "mnt", CUSTOMER_MONTH_AUM, ["2019-01"])
    aum_rows(spark, 10, "DIAMOND").withColumn("cust_id", F.concat(F.lit("9"), "cust_id")).writeTo(table).append()
    before = spark.table(table)
    expected = before.collect()
    folder = Path(table_location(spark, table).removeprefix("file:")) / "stat_month=2019-01"
    old_orphan, new_orphan = folder / "orphan-old.parquet", folder / "orphan-new.parquet"
    for orphan in (old_orphan, new_orphan):
        orphan.write_bytes(b"not referenced by any version")
    os.utime(old_orphan, (time.time() - 40 * DAY, time.time() - 40 * DAY))
    assert len(list(folder.glob("part-*.parquet"))) >= 5

    run_maintain(spark, conf, "2019-01", get_logger("maintain"))

    props = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    assert props["delta.constraints.tier_known"].startswith("tier IS NULL OR tier IN")
    assert props["delta.enableChangeDataFeed"] == "true" and props["delta.logRetentionDuration"] == "interval 30 days"
    history = {r.operation: r.operationParameters for r in spark.sql(f"DESCRIBE HISTORY {table}").collect()}
    assert history["OPTIMIZE"]["zOrderBy"] == '["cust_id"]'
    assert_df_equality(spark.table(table), spark.createDataFrame(expected, before.schema), ignore_row_order=True)
    live = spark.read.format("delta").load(str(folder.parent)).inputFiles()
    assert len(live) == 1                                           # the month in one file
    # VACUUM: the version from before the rewrites is still there for time travel (its files
    # were removed less than 30 days ago); a file no version names goes once older than that
    assert spark.read.option("versionAsOf", first).table(table).count() == 40
    assert not old_orphan.exists() and new_orphan.exists()
