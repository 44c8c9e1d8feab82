"""Wealth tiers on aum_3m and tier migration between months (SPEC §4, the paper's Fig. 1)."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lib.config import Tiers
from lib.months import add_months
from lib.tables import TIER_ORDER


def tier(bounds: Tiers) -> Column:
    """Wealth tier from the three-month average AUM (lower bounds inclusive)."""
    aum = F.col("aum_3m")
    return (F.when(aum >= bounds.private, "PRIVATE").when(aum >= bounds.diamond, "DIAMOND")
            .when(aum >= bounds.platinum, "PLATINUM").otherwise("NONE"))


def tier_rank(col: Column) -> Column:
    """0 for NONE up to 3 for PRIVATE."""
    out = F.lit(None).cast("int")
    for i, name in enumerate(TIER_ORDER):
        out = F.when(col == name, i).otherwise(out)
    return out


def migration_pairs(tiers: DataFrame, targets: list[str], available: set[str]) -> DataFrame:
    """stat_month, from_month, cust_id, from_tier, to_tier for month-over-month and
    year-over-year comparisons whose from_month has data; a customer missing on one side
    counts as NONE there."""
    spark = tiers.sparkSession
    pairs = [(m, f) for m in targets for f in (add_months(m, -1), add_months(m, -12)) if f in available]
    if not pairs:
        return spark.createDataFrame([], "stat_month string, from_month string, cust_id string, "
                                         "from_tier string, to_tier string")
    pair_df = F.broadcast(spark.createDataFrame(pairs, "stat_month string, from_month string"))
    to = (tiers.select("cust_id", F.col("stat_month"), F.col("tier").alias("to_tier"))
          .join(pair_df, "stat_month", how="inner"))
    frm = tiers.select("cust_id", F.col("stat_month").alias("from_month"), F.col("tier").alias("from_tier")
                       ).join(pair_df, "from_month", how="inner")
    joined = to.join(frm, ["cust_id", "stat_month", "from_month"], how="full")
    return joined.select("stat_month", "from_month", "cust_id", F.coalesce("from_tier", F.lit("NONE")).alias("from_tier"),
                         F.coalesce("to_tier", F.lit("NONE")).alias("to_tier"))


def migration_matrix(pairs: DataFrame) -> DataFrame:
    """stat_month, from_month, from_tier, to_tier, cust_cnt."""
    return pairs.groupBy("stat_month", "from_month", "from_tier", "to_tier").agg(
        F.count(F.lit(1)).alias("cust_cnt"))


def migration_summary(pairs: DataFrame) -> DataFrame:
    """For the stock wealth customers of from_month: how many rose and fell in tier."""
    stock = pairs.filter(F.col("from_tier") != "NONE")
    up = tier_rank(F.col("to_tier")) > tier_rank(F.col("from_tier"))
    down = tier_rank(F.col("to_tier")) < tier_rank(F.col("from_tier"))
    counts = stock.groupBy("stat_month", "from_month").agg(
        F.count(F.lit(1)).alias("stock_wealth_cnt"), F.count(F.when(up, 1)).alias("upgrade_cnt"),
        F.count(F.when(down, 1)).alias("downgrade_cnt"))
    return counts.select("*", F.round(F.col("upgrade_cnt") / F.col("stock_wealth_cnt"), 6).alias("upgrade_ratio"),
                         F.round(F.col("downgrade_cnt") / F.col("stock_wealth_cnt"), 6).alias("downgrade_ratio"))
