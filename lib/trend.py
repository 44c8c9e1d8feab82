"""Measures over each customer's recent monthly AUM: the three-month average and the
asset volatility class (SPEC §4).

Every target month is done in one pass: each history row is joined to the target months
whose window it falls in (a small broadcast table of month offsets) and gathered into a
map offset -> AUM, from which the measures are column arithmetic over at most
`window_months` terms. A month with no row counts 0; a month before the data's first
month is not in the history at all, so it is left out of the measure rather than counted 0.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lib.config import Volatility
from lib.months import add_months, first_day, month_index
from lib.schemas import MONEY


def window_values(history: DataFrame, targets: list[str], span: int) -> DataFrame:
    """cust_id, stat_month (target), vals: map months-back (0 = target) -> aum_month_avg."""
    spark = history.sparkSession
    pairs = spark.createDataFrame([(t, add_months(t, -k), k) for t in targets for k in range(span)],
                                  "target string, source string, k int")
    joined = history.join(F.broadcast(pairs), history["stat_month"] == pairs["source"], how="inner")
    return joined.groupBy("cust_id", F.col("target").alias("stat_month")).agg(
        F.map_from_entries(F.collect_list(F.struct("k", "aum_month_avg"))).alias("vals"))


def _value(k: int) -> Column:
    return F.coalesce(F.col("vals")[k], F.lit(0).cast(MONEY))


def months_known(first_data_month: str) -> Column:
    """How many months the history holds up to stat_month: 1 in the data's first month."""
    return month_index(first_day(F.col("stat_month"))) - month_index(first_day(F.lit(first_data_month))) + 1


def aum_3m(first_data_month: str) -> Column:
    """Mean of this and the two previous months' aum_month_avg (a missing month counts 0),
    over the months since the data's first month: in its first two months a customer's
    mean is over one or two months, not diluted by months the ledger does not cover."""
    n = F.least(F.lit(3), months_known(first_data_month))
    total = F.when(n >= 3, _value(2)).otherwise(0) + F.when(n >= 2, _value(1)).otherwise(0) + _value(0)
    return F.round(total / n, 2).cast(MONEY)


def with_volatility_class(df: DataFrame, first_data_month: str, volatility: Volatility) -> DataFrame:
    """volatility_class: STABLE / GROWTH / DECLINING / VOLATILE over the last
    `window_months` months of the data window (null with fewer than `min_months`):
    cv = population std / mean, slope = OLS slope on t = 0..n-1 divided by the mean, R² of
    that fit. The sums are built as columns first, so each term is computed once."""
    known = months_known(first_data_month)
    with_n = df.withColumn("_n", F.least(F.lit(volatility.window_months), known).cast("double"))
    n = F.col("_n")
    ys = [F.when(F.lit(k) < n, _value(k).cast("double")).otherwise(0.0) for k in range(volatility.window_months)]
    ts = [F.when(F.lit(k) < n, n - 1 - k).otherwise(0.0) for k in range(volatility.window_months)]
    sums = with_n.select("*", _total(ys).alias("_sy"), _total([y * y for y in ys]).alias("_syy"),
                         _total(ts).alias("_st"), _total([t * t for t in ts]).alias("_stt"),
                         _total([t * y for t, y in zip(ts, ys)]).alias("_sty"))
    sy, syy, st, stt, sty = (F.col(c) for c in ("_sy", "_syy", "_st", "_stt", "_sty"))
    moments = sums.select("*", (sy / n).alias("_mean"), (n * stt - st * st).alias("_sxx"),
                          (n * sty - st * sy).alias("_sxy"), (n * syy - sy * sy).alias("_sdy"))
    mean, sxx, sxy, sdy = F.col("_mean"), F.col("_sxx"), F.col("_sxy"), F.col("_sdy")
    cv = F.sqrt(F.greatest(syy / n - mean * mean, F.lit(0.0))) / mean
    slope = F.when(sxx > 0, sxy / sxx) / mean
    trend = F.when((sxx > 0) & (sdy > 0), sxy * sxy / (sxx * sdy)).otherwise(0.0) >= volatility.trend_r2
    cls = (F.when(n < volatility.min_months, F.lit(None).cast("string"))
           .when((mean == 0) | (cv <= volatility.stable_cv), "STABLE")
           .when(trend & (slope >= volatility.trend_slope), "GROWTH")
           .when(trend & (slope <= -volatility.trend_slope), "DECLINING")
           .otherwise("VOLATILE"))
    return moments.withColumn("volatility_class", cls).drop("_n", "_sy", "_syy", "_st", "_stt", "_sty",
                                                            "_mean", "_sxx", "_sxy", "_sdy")


def _total(terms: list[Column]) -> Column:
    out = F.lit(0.0)
    for term in terms:
        out = out + term
    return out
