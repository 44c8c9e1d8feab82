"""Customer tags of the 360° profile (SPEC §4): lifecycle, CF bands, month-end holdings,
tenure and growth space. Pure column and DataFrame functions; the clustered tags (risk
preference, peak level) are in lib/tags/segments.py."""
from __future__ import annotations

from datetime import date, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lib.months import add_months
from lib.schemas import ALL_PRODUCTS

LIFECYCLE = ((6, "CHILD"), (17, "JUVENILE"), (40, "YOUTH"), (60, "MIDDLE"))   # up to this age; then SENIOR
AGE_BANDS = ((60, 6), (50, 5), (40, 4), (30, 3), (20, 2))          # from this age; below 20: band 1
ASSET_BANDS = ((6_000_000, 6), (4_000_000, 5), (3_000_000, 4), (2_000_000, 3), (1_000_000, 2),
               (500_000, 1))                                         # from this aum_3m; below: none
HIGH_GROWTH, MEDIUM_GROWTH = 0.5, 0.2                                # growth ratio at least this
PEAK_MONTHS = 12


def month_end(month: str) -> date:
    return date.fromisoformat(f"{add_months(month, 1)}-01") - timedelta(days=1)


def age_at(day: date, birth: Column) -> Column:
    """Whole years from birth to `day`."""
    before_birthday = (F.lit(day.month) < F.month(birth)) | (
        (F.lit(day.month) == F.month(birth)) & (F.lit(day.day) < F.dayofmonth(birth)))
    return F.lit(day.year) - F.year(birth) - F.when(before_birthday, 1).otherwise(0)


def lifecycle(age: Column) -> Column:
    out = F.when(age.isNull(), F.lit(None).cast("string"))
    for upto, name in LIFECYCLE:
        out = out.when(age <= upto, name)
    return out.otherwise("SENIOR")


def _band(value: Column, bands: tuple, below: int | None) -> Column:
    out = F.when(value.isNull(), F.lit(None).cast("int"))
    for start, band in bands:
        out = out.when(value >= start, band)
    return out.otherwise(F.lit(below).cast("int"))


def age_band(age: Column) -> Column:
    """CF age band: 1 = [0,20), 2 = [20,30), ..., 6 = 60+."""
    return _band(age, AGE_BANDS, 1)


def asset_band(aum_3m: Column) -> Column:
    """CF asset band: 1 = [0.5M,1M), ..., 6 = 6M+; null below 0.5M (not a wealth customer)."""
    return _band(aum_3m, ASSET_BANDS, None)


def holdings_at(relations: DataFrame, agreements: DataFrame, day: date) -> DataFrame:
    """cust_id, has_<product> for every product, product_count: what each customer holds on
    `day`, i.e. has a relation in force (start_dt <= day < end_dt, or no end_dt) to an
    agreement of that product type."""
    in_force = (F.col("start_dt") <= F.lit(day)) & (F.col("end_dt").isNull() | (F.lit(day) < F.col("end_dt")))
    held = (relations.filter(in_force).select("cust_id", "agmt_id")
            .join(agreements.select("agmt_id", "prod_type"), on="agmt_id", how="inner")
            .select("cust_id", "prod_type").distinct())
    flags = [F.max(F.col("prod_type") == p).alias(f"has_{p.lower()}") for p in ALL_PRODUCTS]
    return held.groupBy("cust_id").agg(*flags, F.count(F.lit(1)).alias("product_count"))


def tenure_months(day: date, opened: Column) -> Column:
    """Whole months since the customer relationship began."""
    return F.floor(F.months_between(F.lit(day), opened)).cast("int")


def growth_space(aum: DataFrame, month: str) -> DataFrame:
    """cust_id, peak_aum (largest aum_month_avg of the 12 months ending at `month`),
    growth_ratio = (peak - current) / peak (0 when the peak is 0), growth_space."""
    window = [add_months(month, -k) for k in range(PEAK_MONTHS)]
    peaks = aum.filter(F.col("stat_month").isin(window)).groupBy("cust_id").agg(
        F.max("aum_month_avg").alias("peak_aum"),
        F.max(F.when(F.col("stat_month") == month, F.col("aum_month_avg"))).alias("current"))
    ratio = F.when(F.col("peak_aum") > 0,
                   (F.col("peak_aum") - F.coalesce("current", F.lit(0))) / F.col("peak_aum")).otherwise(0.0)
    with_ratio = peaks.select("cust_id", "peak_aum", F.round(ratio.cast("double"), 6).alias("growth_ratio"))
    growth = F.col("growth_ratio")
    return with_ratio.withColumn("growth_space", F.when(growth >= HIGH_GROWTH, "HIGH")
                                 .when(growth >= MEDIUM_GROWTH, "MEDIUM").otherwise("LOW"))
