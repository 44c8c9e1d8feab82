"""End to end through the job entry points: generate a province with injected bad rows,
ingest every month, and find exactly what was injected in data_quality."""
from __future__ import annotations

import dataclasses
import logging

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import generate, ingest
from tests.conftest import E2E_MONTHS as MONTHS, job_args as args
from lib.ingest import QualityError, run_ingest
from lib.synth.badrows import DIMENSION_MONTH


def injected(spark, raw, months):
    """The generator's count of injected rows, dimension rows repeated for each month."""
    truth = spark.read.parquet(f"{raw}/_truth/bad_rows")
    dims = truth.filter(F.col("stat_month") == DIMENSION_MONTH).drop("stat_month")
    per_month = spark.createDataFrame([(m,) for m in months], "stat_month string")
    return (truth.filter(F.col("stat_month") != DIMENSION_MONTH)
            .unionByName(dims.crossJoin(per_month))
            .select("stat_month", "table_name", "rule", F.col("rows").alias("rows_bad")))


def quarantined(spark, database):
    return (spark.table(f"{database}.data_quality").filter("rows_bad > 0")
            .select("stat_month", "table_name", "rule", "rows_bad"))


def test_each_rule_counts_exactly_what_was_injected(spark, parquet_province):
    want = injected(spark, parquet_province, MONTHS)
    assert want.count() > 20                     # every kind of damage, in every month
    assert_df_equality(quarantined(spark, "e2e"), want, ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)


def test_rows_in_equal_clean_plus_quarantined(spark, parquet_province):
    dq = spark.table("e2e.data_quality").groupBy("stat_month", "table_name").agg(F.first("rows_in").alias("n"))
    for row in dq.collect():
        silver = spark.table(f"e2e_silver.{row.table_name.lower()}").filter(F.col("stat_month") == row.stat_month)
        bad = spark.table(f"e2e.quarantine_{row.table_name.lower()}").filter(F.col("stat_month") == row.stat_month)
        assert silver.count() + bad.count() == row.n, (row.stat_month, row.table_name)


def test_rerunning_a_month_gives_identical_tables(spark, conf, parquet_province):
    tables = ["e2e_silver.jnl_acc_chg", "e2e.quarantine_jnl_acc_chg", "e2e.data_quality",
              "e2e_silver.ledger_chain_state", "e2e_silver.t98_indpty_prod_stat"]
    before = {t: spark.table(t).localCheckpoint() for t in tables}
    assert ingest.main(args(conf, parquet_province, "e2e", "--month", "2019-02")) == 0
    for t in tables:
        assert_df_equality(spark.table(t), before[t], ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)


def test_csv_input_with_unparseable_values(spark, conf, tmp_path):
    raw = tmp_path / "raw_csv"
    assert generate.main(args(conf, raw, "e2e_csv", "--customers", "1000", "--months", "2", "--seed", "6",
                              "--bad-rate", "0.02", "--format", "csv")) == 0
    for month in ("2019-01", "2019-02"):
        assert ingest.main(args(conf, raw, "e2e_csv", "--month", month, "--source-format", "csv")) == 0
    want = injected(spark, raw, ("2019-01", "2019-02"))
    assert want.filter("rule = 'unparseable'").count() > 0
    assert_df_equality(quarantined(spark, "e2e_csv"), want, ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)


def test_bad_share_over_limit_fails_and_publishes_nothing(spark, conf, parquet_province):
    strict = dataclasses.replace(
        conf, database="e2e_strict", paths=dataclasses.replace(conf.paths, raw_root=str(parquet_province)),
        quality=dataclasses.replace(conf.quality, max_bad_share=0.001))
    with pytest.raises(QualityError, match=r"JNL_ACC_CHG \(2019-01\).*mostly rule"):
        run_ingest(spark, strict, "2019-01", logging.getLogger("test"))
    assert not spark.catalog.databaseExists("e2e_strict")


def test_missing_source_table_is_a_clear_failure(conf, tmp_path, caplog):
    assert ingest.main(args(conf, tmp_path / "nothing", "e2e_missing", "--month", "2019-01")) == 1
    assert "cannot read source table ORG_DIM (parquet)" in caplog.text
