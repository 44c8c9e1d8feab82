"""End to end through the job entry points: generate a province with injected bad rows,
ingest every month, and find exactly what was injected in data_quality."""
from __future__ import annotations

import dataclasses
import logging

import pyarrow.parquet as pq
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import generate, ingest
from lib import monthly as monthly_lib
from lib.errors import QualityError
from lib.ingest.run import run_ingest
from lib.monthly import run_monthly
from lib.synth.badrows import DIMENSION_MONTH, IN_PLACE, KINDS
from tests.conftest import E2E_MONTHS as MONTHS
from tests.conftest import job_args as args
from tests.rows import hand_conf, hand_extract, ingest_tables

pytestmark = pytest.mark.integration     # end to end: see tests/conftest.py


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
    # every kind of damage of the tables large enough to carry them all at 1% (the few branch
    # and customer rows carry some; test_validation writes each kind by hand)
    every_kind = {(table, kind) for kinds in (KINDS, IN_PLACE) for table in kinds for kind in kinds[table]
                  if table not in ("ORG_DIM", "T01_INDPTY_ID")}
    found = {(r.table_name, r.rule) for r in want.select("table_name", "rule").distinct().collect()}
    assert every_kind <= found and len(found) >= len(every_kind) + 3
    assert_df_equality(quarantined(spark, "e2e"), want, ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)


def test_the_generated_ledger_comes_in_posting_order_so_a_month_skips_the_others(parquet_province):
    """Each ledger file holds a run of posting days in order (undated rows first), and no
    two files share a day: a month's read can skip the other months' files."""
    spans = []
    for part in sorted((parquet_province / "JNL_ACC_CHG").glob("*.parquet")):
        days = pq.read_table(part, columns=["TXN_DT"]).column("TXN_DT").to_pylist()
        dated = [d for d in days if d is not None]
        assert days == [None] * (len(days) - len(dated)) + sorted(dated), part.name
        spans.append((dated[0], dated[-1]))
    assert len(spans) > 1 and all(a[1] < b[0] for a, b in zip(spans, spans[1:])), spans


def test_rows_in_equal_silver_plus_quarantined_and_no_customer_is_erased(spark, parquet_province):
    dq = spark.table("e2e.data_quality").groupBy("stat_month", "table_name").agg(F.first("rows_in").alias("n"))
    for row in dq.collect():
        silver = spark.table(f"e2e_silver.{row.table_name.lower()}").filter(F.col("stat_month") == row.stat_month)
        bad = spark.table(f"e2e.quarantine_{row.table_name.lower()}").filter(F.col("stat_month") == row.stat_month)
        withheld = bad.filter(F.col("action") == "QUARANTINED")
        assert silver.count() + withheld.count() == row.n, (row.stat_month, row.table_name)
    # a bad gender, ID number or branch nulls that attribute: every generated customer is still there
    generated = spark.read.parquet(f"{parquet_province}/_truth/customers").select("cust_id")
    for month in MONTHS:
        silver = spark.table("e2e_silver.t01_indpty_id").filter(F.col("stat_month") == month)
        assert generated.subtract(silver.select("cust_id")).count() == 0, month
        nulled = silver.filter(F.col("gender").isNull() | F.col("id_no").isNull() | F.col("open_org_id").isNull())
        assert nulled.count() == spark.table("e2e.data_quality").filter(
            (F.col("stat_month") == month) & (F.col("table_name") == "T01_INDPTY_ID")
            & (F.col("action") == "NULLED")).agg(F.sum("rows_bad")).first()[0] > 0


def test_rerunning_a_month_gives_identical_tables(spark, conf, parquet_province):
    tables = ["e2e_silver.jnl_acc_chg", "e2e.quarantine_jnl_acc_chg", "e2e.data_quality",
              "e2e_silver.ledger_chain_state", "e2e_silver.t98_indpty_prod_stat"]
    before = {t: spark.table(t).localCheckpoint() for t in tables}
    assert ingest.main(args(conf, parquet_province, "e2e", "--month", "2019-02")) == 0
    for t in tables:
        assert_df_equality(spark.table(t), before[t], ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)


def test_a_monthly_backfill_ingests_and_computes_aum_in_passes_with_the_month_by_month_tables(
        spark, conf, tagged_province, monkeypatch):
    """Room for two months' ledger in a pass: 2019-01..02 in one pass, 2019-03 in another."""
    monkeypatch.setattr(monthly_lib, "STAGES", monthly_lib.STAGES[:2])      # the two stages done in passes
    ledger = spark.read.parquet(f"{tagged_province}/JNL_ACC_CHG").count()
    budget = 2 * ledger // 3 + 1                # two average months, not three
    once = dataclasses.replace(conf, database="e2e_once", ledger_start=MONTHS[0], backfill_pass_rows=budget,
                               paths=dataclasses.replace(conf.paths, raw_root=str(tagged_province)))
    run_monthly(spark, once, MONTHS[0], MONTHS[-1], logging.getLogger("test"))
    recorded = sorted((r.stat_month, [(s.stage, s.status, s.note) for s in r.stages])
                      for r in spark.table("e2e_once.run_manifest").collect())
    assert recorded == [("2019-01", [("ingest", "DONE", "2019-01..2019-02 in one pass"),
                                     ("aum", "DONE", "2019-01..2019-02 in one pass")]),
                        ("2019-02", [("ingest", "DONE", "done in one pass with 2019-01"),
                                     ("aum", "DONE", "done in one pass with 2019-01")]),
                        ("2019-03", [("ingest", "DONE", None), ("aum", "DONE", None)])]
    # the same tables as database e2e's month-by-month ingest and aum backfill
    tables = [(t, t.replace("e2e_once", "e2e")) for t in ingest_tables("e2e_once")] + [
        (f"e2e_once.{t}", f"e2e.{t}") for t in ("customer_month_aum", "tier_migration", "tier_migration_summary")] + [
        ("e2e_once_silver.account_month_balance", "e2e_silver.account_month_balance")]
    for once, by_month in tables:
        assert_df_equality(spark.table(once), spark.table(by_month), ignore_row_order=True,
                           ignore_nullable=True, ignore_metadata=True)


def test_csv_input_with_unparseable_values(spark, conf, tmp_path):
    raw = tmp_path / "raw_csv"
    assert generate.main(args(conf, raw, "e2e_csv", "--customers", "1000", "--months", "2", "--seed", "6",
                              "--bad-rate", "0.02", "--format", "csv")) == 0
    assert ingest.main(args(conf, raw, "e2e_csv", "--from-month", "2019-01", "--month", "2019-02",
                            "--source-format", "csv")) == 0
    want = injected(spark, raw, ("2019-01", "2019-02"))
    assert want.filter("rule = 'unparseable'").count() > 0
    assert_df_equality(quarantined(spark, "e2e_csv"), want, ignore_row_order=True, ignore_nullable=True,
                       ignore_metadata=True)


def test_bad_share_over_limit_fails_and_publishes_nothing(spark, conf, parquet_province):
    strict = dataclasses.replace(
        conf, database="e2e_strict", paths=dataclasses.replace(conf.paths, raw_root=str(parquet_province)),
        quality=dataclasses.replace(conf.quality, max_bad_share=0.001))
    with pytest.raises(QualityError, match=r"JNL_ACC_CHG \(2019-01\).*mostly rule"):
        run_ingest(spark, strict, "2019-01", "2019-01", logging.getLogger("test"))
    assert not spark.catalog.databaseExists("e2e_strict")


def test_missing_source_table_is_a_clear_failure(conf, tmp_path, caplog):
    assert ingest.main(args(conf, tmp_path / "nothing", "e2e_missing", "--month", "2019-01")) == 1
    assert "cannot read source table ORG_DIM (parquet)" in caplog.text


def test_an_empty_extract_fails_and_publishes_nothing(spark, conf, tmp_path):
    hand_extract(spark, tmp_path, ["2019-02-03"])         # no ledger record and no holding in 2019-01
    with pytest.raises(QualityError, match=r"nothing published: T98_INDPTY_PROD_STAT has no rows for 2019-01 "
                                           r"\(an empty extract\); JNL_ACC_CHG has no rows for 2019-01"):
        run_ingest(spark, hand_conf(conf, tmp_path, "e2e_empty"), "2019-01", "2019-01", logging.getLogger("test"))
    assert not spark.catalog.databaseExists("e2e_empty")


def test_a_volume_drop_below_the_share_of_last_month_fails_and_publishes_nothing(spark, conf, tmp_path):
    # the ledger: 4 records in 2019-01, 2 in 2019-02 (50% of 4: the default limit is not passed), 1 in 2019-03
    hand_extract(spark, tmp_path, ["2019-01-02", "2019-01-03", "2019-01-04", "2019-01-05", "2019-02-02",
                                   "2019-02-03", "2019-03-02"])
    run_ingest(spark, hand_conf(conf, tmp_path, "e2e_drop"), "2019-01", "2019-02", logging.getLogger("test"))
    version = spark.sql("DESCRIBE HISTORY e2e_drop.data_quality LIMIT 1").first().version
    with pytest.raises(QualityError, match=r"nothing published: JNL_ACC_CHG has 1 rows for 2019-03, 50\.0% of "
                                           r"2019-02's 2 \(quality.min_volume_share 60%\)$"):
        run_ingest(spark, hand_conf(conf, tmp_path, "e2e_drop", min_volume_share=0.6), "2019-03", "2019-03",
                   logging.getLogger("test"))
    assert spark.sql("DESCRIBE HISTORY e2e_drop.data_quality LIMIT 1").first().version == version
    assert spark.table("e2e_drop_silver.jnl_acc_chg").filter(F.col("stat_month") == "2019-03").count() == 0


def test_an_undated_row_is_counted_once_under_the_first_month_ingested(spark, conf, tmp_path):
    days = [f"2019-{m}-{d:02d}" for m in ("01", "02") for d in range(1, 26)]
    undated = {"TXN_ID": "U1", "TXN_DT": None, "TXN_TS": None, "TXN_SEQ": "99"}
    hand_extract(spark, tmp_path, days, [undated])
    hand = hand_conf(conf, tmp_path, "e2e_undated")          # the default limits: 1 of 26 rows bad passes
    for month in ("2019-01", "2019-02", "2019-01"):
        run_ingest(spark, hand, month, month, logging.getLogger("test"))
    counts = spark.table("e2e_undated.data_quality").filter("table_name = 'JNL_ACC_CHG' and rule = 'undated'")
    assert sorted((r.stat_month, r.rows_in, r.rows_bad) for r in counts.collect()) == [
        ("2019-01", 26, 1), ("2019-02", 25, 0)]
    filed = spark.table("e2e_undated.quarantine_jnl_acc_chg").filter("rule = 'undated'").collect()
    assert [(r.stat_month, r.txn_id, r.action, len(r.undated_fingerprint), r.undated_fingerprint.isalpha())
            for r in filed] == [("2019-01", "U1", "QUARANTINED", 64, True)]
