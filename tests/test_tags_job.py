"""The tags job on the generated province: every customer tagged, the planted risk profiles
found, models saved and reloadable, coverage complete, re-run identical."""
from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.ml import PipelineModel
from pyspark.sql import functions as F

from jobs import tags as tags_job
from lib.tags import segments
from tests.conftest import E2E_MONTHS, job_args

pytestmark = pytest.mark.integration     # end to end: see tests/conftest.py


@pytest.fixture(scope="module")
def tagged(spark, tagged_province):
    return spark.table("e2e.customer_tags").filter(F.col("stat_month") == E2E_MONTHS[-1]).localCheckpoint()


def test_every_customer_of_the_month_is_tagged(spark, tagged):
    aum = spark.table("e2e.customer_month_aum").filter(F.col("stat_month") == E2E_MONTHS[-1])
    assert tagged.count() == aum.count() > 900
    assert tagged.filter(F.col("lifecycle").isNull() | F.col("tenure_months").isNull()
                         | (F.col("tenure_months") < 0)).count() == 0
    with_aum = aum.filter("aum_month_avg > 0").select("cust_id")
    assert tagged.join(with_aum, "cust_id").filter(F.col("risk_preference").isNull()).count() == 0


def test_risk_preference_finds_the_planted_profiles(spark, tagged, parquet_province):
    truth = spark.read.parquet(f"{parquet_province}/_truth/customers").select(
        F.col("cust_id"), "profile")
    joined = tagged.join(truth, "cust_id").filter(F.col("risk_preference").isNotNull())
    agreement = joined.filter(F.col("profile") == F.col("risk_preference")).count() / joined.count()
    # planted holding shares: DEPOSIT 0-10%, BALANCED 30-50%, WEALTH 60-85% of assets; treasury
    # bonds count on the deposit side, so the groups overlap a little: 87% agreed on a 2,000
    # customer province
    assert agreement > 0.8


def test_saved_model_reproduces_the_month(spark, conf, tagged):
    model = PipelineModel.load(f"{conf.paths.warehouse}/_models/e2e/tags/{E2E_MONTHS[-1]}/risk_preference")
    shares = segments.asset_shares(
        spark.table("e2e.customer_month_aum").filter(F.col("stat_month") == E2E_MONTHS[-1]),
        spark.table("e2e_silver.t98_indpty_prod_stat").filter(F.col("stat_month") == E2E_MONTHS[-1]))
    clusters = model.transform(shares).select("cust_id", "_cluster")
    # one cluster index per tag value, the same mapping the job wrote
    pairs = clusters.join(tagged.select("cust_id", "risk_preference"), "cust_id").distinct()
    per_value = pairs.groupBy("risk_preference").agg(F.countDistinct("_cluster").alias("n")).collect()
    assert len(per_value) == 3 and all(r.n == 1 for r in per_value)


def test_coverage_and_dictionary(spark, tagged):
    cov = spark.table("e2e.tag_coverage").filter(F.col("stat_month") == E2E_MONTHS[-1])
    # each tag's values count every tagged customer once, and a share is of all of them
    customers = tagged.count()
    counts = {r.tag: r.n for r in cov.groupBy("tag").agg(F.sum("cust_cnt").alias("n")).collect()}
    assert customers > 900 and counts == {t: customers for t in (
        "lifecycle", "age_band", "asset_band", "tier", "risk_preference", "growth_space", "peak_level",
        "volatility_class")}
    assert all(r.share == pytest.approx(r.cust_cnt / customers) for r in cov.collect())
    assert cov.filter(F.col("changed_cnt").isNull()).count() == 0       # February exists to compare with
    dictionary = spark.table("e2e.tag_dictionary").filter(F.col("stat_month") == E2E_MONTHS[-1])
    assert dictionary.filter(F.col("tag") == "risk_preference").count() == 3


def test_rerun_gives_identical_tags(spark, conf, parquet_province, tagged):
    assert tags_job.main(job_args(conf, parquet_province, "e2e", "--month", E2E_MONTHS[-1])) == 0
    again = spark.table("e2e.customer_tags").filter(F.col("stat_month") == E2E_MONTHS[-1])
    assert_df_equality(again, tagged, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
