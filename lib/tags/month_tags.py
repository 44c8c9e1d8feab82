"""A month's customer_tags rows from its inputs, and what the tag tables say about them: the
tag dictionary and each tag's coverage (how many customers have each value, how many
changed since last month)."""
from __future__ import annotations

from datetime import date

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.config import TagsConf
from lib.schemas import ALL_PRODUCTS
from lib.tags import profile, segments

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


def rule_tags(now: DataFrame, customers: DataFrame, day: date) -> DataFrame:
    """cust_id, aum_3m, tier, volatility_class, birth_dt, open_dt, age, tenure_months,
    lifecycle, age_band, asset_band of the month's customers (`now`: its customer_month_aum)."""
    base = (now.select("cust_id", "aum_3m", "tier", "volatility_class")
            .join(customers.select("cust_id", "birth_dt", "open_dt"), "cust_id", how="left"))
    return (base.select("*", profile.age_at(day, F.col("birth_dt")).alias("age"),
                        profile.tenure_months(day, F.col("open_dt")).alias("tenure_months"))
            .withColumns({"lifecycle": profile.lifecycle(F.col("age")), "age_band": profile.age_band(F.col("age")),
                          "asset_band": profile.asset_band(F.col("aum_3m"))}))


def customer_tags(history: DataFrame, customers: DataFrame, relations: DataFrame, agreements: DataFrame,
                  t98: DataFrame, month: str, settings: TagsConf) -> tuple[DataFrame, dict[str, PipelineModel]]:
    """(customer_tags rows of `month`, the fitted clustering models by name), from
    customer_month_aum of the 12 months ending at `month` (`history`) and the month's silver
    customers, relations, agreements and holdings (T98)."""
    day = profile.month_end(month)
    now = history.filter(F.col("stat_month") == month)
    # Each KMeans input is queried four times by its fit and again for the rows: computed
    # once (a customer's row each), the stage takes about 1 s less a month at 5,000 customers.
    shares = segments.asset_shares(now, t98).localCheckpoint(eager=True)
    risk, risk_model = segments.risk_preference(shares, settings.seed)
    growth = profile.growth_space(history, month).localCheckpoint(eager=True)
    peaks, peak_model = segments.peak_level(growth.select("cust_id", "peak_aum"), settings.peak_clusters, settings.seed)
    rows = (rule_tags(now, customers, day)
            .join(risk.select("cust_id", "deposit_share", "risk_preference"), "cust_id", how="left")
            .join(growth, "cust_id", how="left")
            .join(peaks.select("cust_id", "peak_level"), "cust_id", how="left")
            .join(profile.holdings_at(relations, agreements, day), "cust_id", how="left"))
    held = {**{f"has_{p.lower()}": False for p in ALL_PRODUCTS}, "product_count": 0}
    return rows.fillna(held).withColumn("stat_month", F.lit(month)), {"risk_preference": risk_model,
                                                                      "peak_level": peak_model}


def coverage(current: DataFrame, previous: DataFrame | None) -> DataFrame:
    """tag, value, cust_cnt, share, changed_cnt, changed_share for the COVERED_TAGS."""
    def long(df: DataFrame, value: str) -> DataFrame:
        as_text = df.select("cust_id", *[F.col(t).cast("string") for t in COVERED_TAGS])
        return as_text.unpivot("cust_id", list(COVERED_TAGS), "tag", value).fillna(NOT_SET, subset=[value])
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
