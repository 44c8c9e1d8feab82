"""--customers-sample: a slice of the province, the same customers every month, with their
own rows of every source table, in a database of its own."""
from __future__ import annotations

import zlib

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import ingest
from lib.config import load_conf
from lib.errors import ConfigError
from lib.ingest.sample import customers_slice
from lib.ingest.split import INGEST_ORDER
from lib.io import table_versions
from lib.tables import silver_spec
from tests.conftest import job_args as args
from tests.rows import raw_rows

# crc32 of the UTF-8 id modulo 10,000 (zlib, not Spark): 0000000002 -> 1914 and
# 0000000004 -> 1919 are in a half; 0000000001 -> 6368 and 0000000003 -> 6972 are not
IN, IN_TOO, OUT, OUT_TOO = "0000000002", "0000000004", "0000000001", "0000000003"


def test_the_sample_has_a_database_of_its_own_and_a_share_in_steps_of_one_in_10000():
    assert load_conf("local", overrides={"customers_sample": 0.01}).database == "wealth_sample_0_01"
    assert load_conf("local", overrides={"customers_sample": 0.0125, "database": "w"}).silver_database == \
        "w_sample_0_0125_silver"
    assert load_conf("local", overrides={"customers_sample": 1}).database == "wealth_sample_1"
    assert load_conf("local").database == "wealth"
    for bad in (0, -0.1, 1.5, 0.00005, True, "a tenth"):
        with pytest.raises(ConfigError, match=r"bad value for 'customers_sample': .* is not null or a share in "
                                              r"\(0, 1\] in steps of 1/10,000$"):
            load_conf("local", overrides={"customers_sample": bad})


def test_a_slice_keeps_its_customers_rows_and_rows_without_a_customer(spark):
    raw = {
        "ORG_DIM": raw_rows(spark, "ORG_DIM", [{}, {"ORG_ID": "O2"}]),
        "T01_INDPTY_ID": raw_rows(spark, "T01_INDPTY_ID", [{"CUST_ID": c} for c in (IN, IN_TOO, OUT, OUT_TOO, None)]),
        "T03_AGREEMENT": raw_rows(spark, "T03_AGREEMENT", [{"AGMT_ID": "A1", "CUST_ID": OUT},
                                                           {"AGMT_ID": "A2", "CUST_ID": IN},
                                                           {"AGMT_ID": "A4", "CUST_ID": IN_TOO}]),
        "TCS_INDPTY_AGMT_RELATION_H": raw_rows(spark, "TCS_INDPTY_AGMT_RELATION_H", [
            {"CUST_ID": IN, "AGMT_ID": "A2"},                             # kept
            {"CUST_ID": IN, "AGMT_ID": "A1", "REL_TYPE": "SIGNED"},       # an agreement of a customer outside
            {"CUST_ID": OUT, "AGMT_ID": "A1"},                            # a customer outside
            {"CUST_ID": IN_TOO, "AGMT_ID": "A9", "REL_TYPE": "SIGNED"},   # kept: unknown_account, as in a full run
            {"CUST_ID": None, "AGMT_ID": "A2"}]),                         # kept: quarantined, as in a full run
        # a source table from the metastore has lower-case column names
        "T98_INDPTY_PROD_STAT": raw_rows(spark, "T98_INDPTY_PROD_STAT", [{"CUST_ID": OUT}, {"CUST_ID": IN}])
        .toDF(*[c.lower() for c in raw_rows(spark, "T98_INDPTY_PROD_STAT", [{}]).columns]),
        "JNL_ACC_CHG": raw_rows(spark, "JNL_ACC_CHG", [{"TXN_ID": "T1", "CUST_ID": OUT, "AGMT_ID": "A1"},
                                                       {"TXN_ID": "T2", "CUST_ID": IN_TOO, "AGMT_ID": "A4"},
                                                       {"TXN_ID": "T3", "CUST_ID": None}]),
    }
    got = customers_slice(raw, 0.5)
    want = {
        "ORG_DIM": [("O1",), ("O2",)],
        "T01_INDPTY_ID": [(IN,), (IN_TOO,), (None,)],
        "T03_AGREEMENT": [("A2", IN), ("A4", IN_TOO)],
        "TCS_INDPTY_AGMT_RELATION_H": [(IN, "A2"), (IN_TOO, "A9"), (None, "A2")],
        "T98_INDPTY_PROD_STAT": [(IN,)],
        "JNL_ACC_CHG": [("T2", IN_TOO), ("T3", None)],
    }
    keys = {"ORG_DIM": ["ORG_ID"], "T01_INDPTY_ID": ["CUST_ID"], "T03_AGREEMENT": ["AGMT_ID", "CUST_ID"],
            "TCS_INDPTY_AGMT_RELATION_H": ["CUST_ID", "AGMT_ID"], "T98_INDPTY_PROD_STAT": ["cust_id"],
            "JNL_ACC_CHG": ["TXN_ID", "CUST_ID"]}
    for table, rows in want.items():
        assert got[table].columns == raw[table].columns, table
        assert_df_equality(got[table].select(*keys[table]),
                           spark.createDataFrame(rows, ", ".join(f"{k} string" for k in keys[table])),
                           ignore_row_order=True, ignore_nullable=True)


def test_a_sampled_ingest_equals_the_full_silver_of_its_customers(spark, conf, parquet_province):
    """The 2019-01 ingest of a quarter of the province, into e2e_sample_0_25, against the
    full ingest (database e2e) cut by an independent crc32 (Python's zlib)."""
    province = table_versions(spark, "e2e_silver") | table_versions(spark, "e2e")
    assert ingest.main(args(conf, parquet_province, "e2e", "--month", "2019-01", "--customers-sample", "0.25")) == 0
    assert table_versions(spark, "e2e_silver") | table_versions(spark, "e2e") == province   # not written
    ids = {r.cust_id for table in INGEST_ORDER if table != "ORG_DIM"
           for r in spark.table(f"e2e_silver.{silver_spec(table).name}").select("cust_id").distinct().collect()}
    kept = spark.createDataFrame([(c,) for c in ids if zlib.crc32(c.encode()) % 10000 < 2500], "cust_id string")
    owners = spark.read.parquet(f"{parquet_province}/T03_AGREEMENT").select(
        F.col("AGMT_ID").alias("agmt_id"), F.col("CUST_ID").alias("owner")).filter(F.col("owner").isNotNull())
    outside = owners.join(kept.withColumnRenamed("cust_id", "owner"), "owner", how="left_anti").select("agmt_id")
    assert 0 < kept.count() < len(ids)
    for table in INGEST_ORDER:
        name = silver_spec(table).name
        full = spark.table(f"e2e_silver.{name}").filter(F.col("stat_month") == "2019-01")
        if table != "ORG_DIM":
            full = full.join(kept, "cust_id", how="left_semi")
        if table == "TCS_INDPTY_AGMT_RELATION_H":
            full = full.join(outside, "agmt_id", how="left_anti")
        assert_df_equality(spark.table(f"e2e_sample_0_25_silver.{name}"), full.select(*spark.table(
            f"e2e_silver.{name}").columns), ignore_row_order=True, ignore_nullable=True)
