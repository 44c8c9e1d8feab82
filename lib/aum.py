"""Ledger -> monthly AUM per customer (SPEC §4), from balance segments.

An account's balance on day d is the BAL_AFTER of its last record (by TXN_SEQ) on or
before d. Within a month range the balance is piecewise constant, so the daily average
is Σ balance × days held / days(month) over the segments between consecutive record
days: never an account × day grid. A boundary row at each month start carries the last
balance forward, so no segment crosses a month and quiet months still count.

The ledger is repartitioned by cust_id once; every window and aggregate after that
(per account, per customer) is clustered on it and needs no further shuffle.
"""
from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.months import add_months, month_range

MONEY = "decimal(18,2)"
SUM = "decimal(38,2)"


def day_end_balances(ledger: DataFrame) -> DataFrame:
    """cust_id, agmt_id, day, bal: the balance after each day's last record."""
    return (ledger.repartition("cust_id")
            .groupBy("cust_id", "agmt_id", F.col("txn_dt").alias("day"))
            .agg(F.max_by("bal_after", "txn_seq").alias("bal")))


def segments(day_end: DataFrame, prior_close: DataFrame, first: str, last: str) -> DataFrame:
    """cust_id, agmt_id, stat_month, start, days, bal, delta: each balance held from `start`
    for `days` days (0 for a month-start row overwritten the same day); delta is the change
    from the account's previous segment in the same month (the whole balance for the
    month's first), so a customer's running Σ delta is its daily deposit total."""
    spark = day_end.sparkSession
    months = spark.createDataFrame([(m, f"{m}-01") for m in month_range(first, last)], "stat_month string, d string")
    starts = months.select("stat_month", F.to_date("d").alias("start"))
    accounts = (day_end.select("cust_id", "agmt_id")
                .unionByName(prior_close.select("cust_id", "agmt_id")).distinct())
    # Month-start rows: bal null (taken from the last balance before), order 0 = before records.
    boundaries = accounts.crossJoin(F.broadcast(starts)).select(
        "cust_id", "agmt_id", F.col("start").alias("day"), F.lit(None).cast(MONEY).alias("bal"),
        F.lit(0).alias("order"))
    opening = prior_close.select("cust_id", "agmt_id", F.date_sub(F.to_date(F.lit(f"{first}-01")), 1).alias("day"),
                                 F.col("bal_close").alias("bal"), F.lit(0).alias("order"))
    rows = (day_end.withColumn("order", F.lit(1)).unionByName(boundaries).unionByName(opening)
            .repartition("cust_id"))
    by_time = Window.partitionBy("cust_id", "agmt_id").orderBy("day", "order")
    carried = rows.withColumn("bal", F.coalesce(F.last("bal", ignorenulls=True).over(
        by_time.rowsBetween(Window.unboundedPreceding, Window.currentRow)), F.lit(0).cast(MONEY)))
    end = F.to_date(F.lit(f"{add_months(last, 1)}-01"))
    held = (carried.filter(F.col("day") >= F.to_date(F.lit(f"{first}-01")))
            .withColumn("next", F.lead("day").over(by_time))
            .withColumn("stat_month", F.date_format("day", "yyyy-MM"))
            .withColumn("days", F.datediff(F.coalesce(F.col("next"), end), F.col("day")))
            .withColumn("prev", F.lag("bal").over(by_time)))
    first_of_month = F.col("order") == 0
    return held.select("cust_id", "agmt_id", "stat_month", F.col("day").alias("start"), "days", "bal",
                       F.when(first_of_month, F.col("bal")).otherwise(F.col("bal") - F.col("prev")).alias("delta"))


def deposit_month(seg: DataFrame) -> DataFrame:
    """cust_id, stat_month, dep_bal_days (Σ balance × days), dep_end (balances on the
    month's last day), dep_max_daily (largest daily Σ of the customer's balances)."""
    per_day = seg.groupBy("cust_id", "stat_month", "start").agg(F.sum("delta").alias("delta"))
    running = Window.partitionBy("cust_id", "stat_month").orderBy("start").rowsBetween(
        Window.unboundedPreceding, Window.currentRow)
    totals = per_day.withColumn("total", F.sum("delta").over(running))
    daily = totals.groupBy("cust_id", "stat_month").agg(F.max("total").alias("dep_max_daily"),
                                                        F.max_by("total", "start").alias("dep_end"))
    weighted = seg.groupBy("cust_id", "stat_month").agg(
        F.sum(F.col("bal") * F.col("days")).cast(SUM).alias("dep_bal_days"))
    return weighted.join(daily, ["cust_id", "stat_month"], how="inner")


def account_close(seg: DataFrame) -> DataFrame:
    """cust_id, agmt_id, stat_month, bal_close: each account's balance at each month's end
    (zero balances left out: a missing account counts 0)."""
    last = seg.groupBy("cust_id", "agmt_id", "stat_month").agg(F.max_by("bal", "start").alias("bal_close"))
    return last.filter(F.col("bal_close") != 0)


def holding_month(t98: DataFrame) -> DataFrame:
    """cust_id, stat_month, hold_avg (Σ MONTH_AVG_BAL), hold_end (Σ MONTH_END_BAL)."""
    return t98.groupBy("cust_id", "stat_month").agg(
        F.sum("month_avg_bal").cast(MONEY).alias("hold_avg"), F.sum("month_end_bal").cast(MONEY).alias("hold_end"))


def customer_month(customers: DataFrame, deposits: DataFrame, holdings: DataFrame) -> DataFrame:
    """Every customer of each month (customers: cust_id, stat_month), with
    aum_month_avg = round(Σ balance × days / days(month), 2) + Σ MONTH_AVG_BAL,
    aum_month_end and aum_max_daily; a customer with no activity has its carried balances
    (and zeros when it has none)."""
    keys = ["cust_id", "stat_month"]
    joined = (customers.select(*keys).join(deposits, keys, how="left").join(holdings, keys, how="left")
              .fillna(0, subset=["dep_bal_days", "dep_end", "dep_max_daily", "hold_avg", "hold_end"]))
    days = F.dayofmonth(F.last_day(F.to_date(F.concat(F.col("stat_month"), F.lit("-01")))))
    deposit_avg = F.round(F.col("dep_bal_days") / days, 2).cast(MONEY)
    return joined.select(
        *keys,
        (deposit_avg + F.col("hold_avg")).cast(MONEY).alias("aum_month_avg"),
        (F.col("dep_end") + F.col("hold_end")).cast(MONEY).alias("aum_month_end"),
        (F.col("dep_max_daily") + F.col("hold_avg")).cast(MONEY).alias("aum_max_daily"),
        deposit_avg.alias("deposit_month_avg"), F.col("hold_avg").cast(MONEY).alias("holding_month_avg"))
