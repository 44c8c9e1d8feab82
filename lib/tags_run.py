"""The tags stage: customer_month_aum + silver customers, agreements, relations and
holdings of month M -> customer_tags, tag_dictionary, tag_coverage; the KMeans models are
saved under <warehouse>/_models/<db>/tags/<M>/ so the month's tags can be reproduced."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lib import segments, tags
from lib.config import Config
from lib.io import months_in, read_silver, replace_months, require_months
from lib.logs import stage
from lib.months import add_months
from lib.schemas import ALL_PRODUCTS
from lib.tables import CUSTOMER_MONTH_AUM, CUSTOMER_TAGS, TAG_COVERAGE, TAG_DICTIONARY

COVERED_TAGS = ("lifecycle", "age_band", "asset_band", "tier", "risk_preference", "growth_space", "peak_level",
                "volatility_class")
NOT_SET = "(none)"
DICTIONARY = (
    ("lifecycle", "CHILD / JUVENILE / YOUTH / MIDDLE / SENIOR", "age at the month's end 0-6 / 7-17 / 18-40 / 41-60 / 61+",
     "T01_INDPTY_ID.BIRTH_DT"),
    ("age_band", "1..6", "paper §5.3.2.1: [0,20) [20,30) [30,40) [40,50) [50,60) 60+", "T01_INDPTY_ID.BIRTH_DT"),
    ("asset_band", "1..6", "paper §5.3.2.1 on aum_3m: [0.5M,1M) [1M,2M) [2M,3M) [3M,4M) [4M,6M) 6M+",
     "customer_month_aum.aum_3m"),
    ("tier", "NONE / PLATINUM / DIAMOND / PRIVATE", "aum_3m < 0.5M / >= 0.5M / >= 2M / >= 6M",
     "customer_month_aum.aum_3m"),
    ("risk_preference", "DEPOSIT", "the KMeans cluster whose centroid holds the most deposits + treasury bonds",
     "customer_month_aum.deposit_month_avg, T98_INDPTY_PROD_STAT.MONTH_AVG_BAL"),
    ("risk_preference", "BALANCED", "the KMeans cluster between the other two",
     "customer_month_aum.deposit_month_avg, T98_INDPTY_PROD_STAT.MONTH_AVG_BAL"),
    ("risk_preference", "WEALTH", "the KMeans cluster whose centroid holds the most wealth products, funds, insurance",
     "customer_month_aum.deposit_month_avg, T98_INDPTY_PROD_STAT.MONTH_AVG_BAL"),
    ("growth_space", "HIGH / MEDIUM / LOW", "(12-month peak AUM - AUM now) / peak >= 0.5 / >= 0.2 / below",
     "customer_month_aum.aum_month_avg"),
    ("peak_level", "PEAK_1..PEAK_n", "KMeans cluster of log(1 + 12-month peak AUM), PEAK_1 the lowest",
     "customer_month_aum.aum_month_avg"),
    ("volatility_class", "STABLE / GROWTH / DECLINING / VOLATILE", "SPEC §4 over the last 6 monthly AUMs",
     "customer_month_aum.aum_month_avg"),
    ("has_<product>", "true / false", "a relation to an agreement of that product type is in force on the month's "
                                      "last day", "TCS_INDPTY_AGMT_RELATION_H, T03_AGREEMENT.PROD_TYPE"),
    ("tenure_months", "0..", "whole months since T01_INDPTY_ID.OPEN_DT", "T01_INDPTY_ID.OPEN_DT"),
)


def compute_tags(spark: SparkSession, conf: Config, month: str) -> tuple[DataFrame, dict]:
    """(customer_tags rows of `month`, fitted models by name)."""
    gold = conf.table(CUSTOMER_MONTH_AUM.name)
    require_months(spark, gold, [month], "aum")
    day = tags.month_end(month)
    history = spark.table(gold).filter(F.col("stat_month").between(add_months(month, -11), month))
    now = history.filter(F.col("stat_month") == month)
    customers = read_silver(spark, conf, "t01_indpty_id", [month]).select("cust_id", "birth_dt", "open_dt")
    holdings = tags.holdings_at(read_silver(spark, conf, "tcs_indpty_agmt_relation_h", [month]),
                                read_silver(spark, conf, "t03_agreement", [month]), day)
    t98 = read_silver(spark, conf, "t98_indpty_prod_stat", [month])
    risk, risk_model = segments.risk_preference(segments.asset_shares(now, t98), conf.tags.seed)
    growth = tags.growth_space(history, month)
    peaks, peak_model = segments.peak_level(growth.select("cust_id", "peak_aum"), conf.tags.peak_clusters,
                                            conf.tags.seed)
    age = tags.age_at(day, F.col("birth_dt"))
    base = now.select("cust_id", "aum_3m", "tier", "volatility_class").join(customers, "cust_id", how="left")
    rows = (base.select("*", age.alias("age"), tags.tenure_months(day, F.col("open_dt")).alias("tenure_months"))
            .withColumn("lifecycle", tags.lifecycle(F.col("age")))
            .withColumn("age_band", tags.age_band(F.col("age")))
            .withColumn("asset_band", tags.asset_band(F.col("aum_3m")))
            .join(risk.select("cust_id", "deposit_share", "risk_preference"), "cust_id", how="left")
            .join(growth, "cust_id", how="left")
            .join(peaks.select("cust_id", "peak_level"), "cust_id", how="left")
            .join(holdings, "cust_id", how="left")
            .fillna(False, subset=[f"has_{p.lower()}" for p in ALL_PRODUCTS])
            .fillna(0, subset=["product_count"])
            .withColumn("stat_month", F.lit(month)))
    return rows, {"risk_preference": risk_model, "peak_level": peak_model}


def coverage(current: DataFrame, previous: DataFrame | None) -> DataFrame:
    """tag, value, cust_cnt, share, changed_cnt, changed_share for the COVERED_TAGS."""
    def long(df: DataFrame, value: str) -> DataFrame:
        pairs = ", ".join(f"'{t}', cast({t} as string)" for t in COVERED_TAGS)
        return df.select("cust_id", F.expr(f"stack({len(COVERED_TAGS)}, {pairs}) as (tag, {value})")).fillna(
            NOT_SET, subset=[value])
    now = long(current, "value")
    if previous is not None:
        now = now.join(long(previous, "before"), ["cust_id", "tag"], how="left")
        changed = F.count(F.when(F.col("before").isNotNull() & (F.col("before") != F.col("value")), 1))
    else:
        changed = F.lit(None).cast("bigint")
    counts = now.groupBy("tag", "value").agg(F.count(F.lit(1)).alias("cust_cnt"), changed.alias("changed_cnt"))
    # every customer has exactly one value of each tag, so a tag's counts add up to all customers
    total = F.sum("cust_cnt").over(Window.partitionBy("tag"))
    return counts.select("tag", "value", "cust_cnt", (F.col("cust_cnt") / total).alias("share"),
                         "changed_cnt", (F.col("changed_cnt") / F.col("cust_cnt")).alias("changed_share"))


def run_tags(spark: SparkSession, conf: Config, month: str, log) -> None:
    with stage(log, f"tags {month}") as st:
        rows, models = compute_tags(spark, conf, month)
        st.rows_out = replace_months(spark, rows, conf.database, CUSTOMER_TAGS, [month])
        for name, model in models.items():
            model.write().overwrite().save(f"{conf.model_dir('tags', month)}/{name}")
    with stage(log, f"tag dictionary and coverage {month}"):
        dictionary = spark.createDataFrame([(*row, month) for row in DICTIONARY],
                                           "tag string, value string, definition string, source_columns string, "
                                           "stat_month string")
        replace_months(spark, dictionary, conf.database, TAG_DICTIONARY, [month])
        table, previous = conf.table(CUSTOMER_TAGS.name), add_months(month, -1)
        written = spark.table(table).filter(F.col("stat_month") == month)
        prior = (spark.table(table).filter(F.col("stat_month") == previous)
                 if previous in months_in(spark, table) else None)
        replace_months(spark, coverage(written, prior).withColumn("stat_month", F.lit(month)), conf.database,
                       TAG_COVERAGE, [month])
