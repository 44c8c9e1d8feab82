"""Ledger -> monthly AUM per customer (SPEC §4), from balance segments.

An account's balance on day d is the BAL_AFTER of its last record (by TXN_SEQ) on or
before d, so balances are piecewise constant between record days, and so is a customer's
daily deposit total (Σ of its accounts' balances), which moves only on days one of its
accounts moves. Each constant piece [day, until) of that total is a segment; a month's
Σ balance × days, its last day's total and its largest daily total come from the
segments that overlap it. Never an account × day grid, nor an account × month one.

The previous month's closing balances enter as records on the eve of the range, so a
monthly run reads only its own month of the ledger. The rows are repartitioned by
cust_id once; every window and aggregate after that is clustered on it.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lib.months import add_months, first_day, month_text
from lib.schemas import MONEY

SUM = "decimal(38,2)"


def _month_index(day: Column) -> Column:
    return F.year(day) * 12 + F.month(day) - 1


def _month_start(index: Column) -> Column:
    return F.make_date((index / 12).cast("int"), (index % 12 + 1).cast("int"), F.lit(1))


def _months(lo: Column, hi: Column) -> Column:
    """Month indexes lo..hi, empty when hi < lo (sequence alone would count down)."""
    return F.when(hi >= lo, F.sequence(lo, hi)).otherwise(F.array().cast("array<int>"))


def _from_first(start: Column, first: str) -> Column:
    return F.greatest(_month_index(start), _month_index(first_day(F.lit(first))))


def _months_overlapped(start: Column, end: Column, first: str) -> Column:
    """Month indexes that [start, end) overlaps, from month `first` on."""
    return _months(_from_first(start, first), _month_index(F.date_sub(end, 1)))


def day_end_balances(ledger: DataFrame, prior_close: DataFrame, first: str) -> DataFrame:
    """cust_id, agmt_id, day, bal: each account's balance after each day's last record
    (by TXN_SEQ), with the previous month's closing balances as records on the eve of
    `first`. This is the only shuffle: everything after is clustered by cust_id."""
    eve = F.date_sub(first_day(F.lit(first)), 1)
    opening = prior_close.select("cust_id", "agmt_id", eve.alias("txn_dt"), F.lit(-1).cast("long").alias("txn_seq"),
                                 F.col("bal_close").alias("bal_after"))
    rows = ledger.select("cust_id", "agmt_id", "txn_dt", "txn_seq", "bal_after").unionByName(opening)
    return (rows.repartition("cust_id")
            .groupBy("cust_id", "agmt_id", F.col("txn_dt").alias("day"))
            .agg(F.max_by("bal_after", "txn_seq").alias("bal")))


def account_changes(day_end: DataFrame, last: str) -> DataFrame:
    """Adds delta (change from the account's previous balance, 0 before its first record)
    and until (the next change day, or the day after `last`)."""
    by_day = Window.partitionBy("cust_id", "agmt_id").orderBy("day")
    end = first_day(F.lit(add_months(last, 1)))
    return day_end.select("*", (F.col("bal") - F.coalesce(F.lag("bal").over(by_day), F.lit(0))).alias("delta"),
                          F.coalesce(F.lead("day").over(by_day), end).alias("until"))


def customer_segments(changes: DataFrame, last: str) -> DataFrame:
    """cust_id, day, until, total: the customer's Σ of deposit balances, constant on
    [day, until). A customer's total only moves on days one of its accounts moves."""
    per_day = changes.groupBy("cust_id", "day").agg(F.sum("delta").alias("delta"))
    by_day = Window.partitionBy("cust_id").orderBy("day")
    running = by_day.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    end = first_day(F.lit(add_months(last, 1)))
    return per_day.select("cust_id", "day", F.coalesce(F.lead("day").over(by_day), end).alias("until"),
                          F.sum("delta").over(running).cast(MONEY).alias("total"))


def deposit_month(segments: DataFrame, first: str) -> DataFrame:
    """cust_id, stat_month, dep_bal_days (Σ balance × days), dep_end (deposits on the
    month's last day), dep_max_daily (largest daily deposit total of the month)."""
    per_month = segments.select("*", F.explode(_months_overlapped(F.col("day"), F.col("until"), first)).alias("m"))
    start, next_start = _month_start(F.col("m")), _month_start(F.col("m") + 1)
    days = F.datediff(F.least(F.col("until"), next_start), F.greatest(F.col("day"), start))
    return per_month.groupBy("cust_id", month_text(start).alias("stat_month")).agg(
        F.sum(F.col("total") * days).cast(SUM).alias("dep_bal_days"),
        F.max_by("total", "day").alias("dep_end"),
        F.max("total").alias("dep_max_daily"))


def account_close(changes: DataFrame, first: str) -> DataFrame:
    """cust_id, agmt_id, stat_month, bal_close: each account's balance at the end of every
    month from `first` (zero balances left out: a missing account counts 0). A balance
    held on [day, until) is the closing balance of each month whose last day is in it:
    the month of `day` up to the month before `until`'s."""
    ends = _months(_from_first(F.col("day"), first), _month_index(F.col("until")) - 1)
    held = changes.filter(F.col("bal") != 0).select("cust_id", "agmt_id", "bal", F.explode(ends).alias("m"))
    return held.select("cust_id", "agmt_id", month_text(_month_start(F.col("m"))).alias("stat_month"),
                       F.col("bal").alias("bal_close"))


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
    days = F.dayofmonth(F.last_day(first_day(F.col("stat_month"))))
    deposit_avg = F.round(F.col("dep_bal_days") / days, 2).cast(MONEY)
    return joined.select(
        *keys,
        (deposit_avg + F.col("hold_avg")).cast(MONEY).alias("aum_month_avg"),
        (F.col("dep_end") + F.col("hold_end")).cast(MONEY).alias("aum_month_end"),
        (F.col("dep_max_daily") + F.col("hold_avg")).cast(MONEY).alias("aum_max_daily"),
        deposit_avg.alias("deposit_month_avg"), F.col("hold_avg").cast(MONEY).alias("holding_month_avg"))
