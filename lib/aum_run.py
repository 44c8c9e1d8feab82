"""The aum stage: silver ledger + holdings of a month range -> customer_month_aum,
account_month_balance, tier_migration (+ summary). One pass over the range's ledger; the
range starts from the previous month's closing balances, so a monthly refresh reads only
its own month of the ledger."""
from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib import aum, tiers, trend
from lib.config import Config
from lib.io import months_in, read_silver, replace_months
from lib.logs import stage
from lib.months import add_months, month_range
from lib.tables import ACCOUNT_MONTH_BALANCE, CUSTOMER_MONTH_AUM, TIER_MIGRATION, TIER_MIGRATION_SUMMARY

HISTORY_MONTHS = 12          # year-over-year migration looks back this far


def population(customers: DataFrame) -> DataFrame:
    """cust_id, stat_month: the customers of each month's snapshot whose relationship had
    begun by the month's end (the current snapshot also lists customers who open later)."""
    month_end = F.last_day(F.to_date(F.concat(F.col("stat_month"), F.lit("-01"))))
    return (customers.filter(F.col("open_dt").isNull() | (F.col("open_dt") <= month_end))
            .select("cust_id", "stat_month"))


def prior_close(spark: SparkSession, conf: Config, first: str) -> DataFrame:
    """Account balances at the end of the month before `first` (none before the data)."""
    table = conf.silver_table(ACCOUNT_MONTH_BALANCE.name)
    if add_months(first, -1) not in months_in(spark, table):
        return spark.createDataFrame([], "cust_id string, agmt_id string, bal_close decimal(18,2)")
    return spark.table(table).filter(F.col("stat_month") == add_months(first, -1))


def compute(spark: SparkSession, conf: Config, first: str, last: str, history: DataFrame,
            first_data_month: str) -> tuple[DataFrame, DataFrame]:
    """(customer_month_aum rows, account_month_balance rows) for first..last."""
    months = month_range(first, last)
    ledger = read_silver(spark, conf, "jnl_acc_chg", months).select("cust_id", "agmt_id", "txn_dt", "txn_seq", "bal_after")
    day_end = aum.day_end_balances(ledger, prior_close(spark, conf, first), first)
    changes = aum.account_changes(day_end, last).persist(StorageLevel.MEMORY_AND_DISK)
    holdings = aum.holding_month(read_silver(spark, conf, "t98_indpty_prod_stat", months))
    customers = population(read_silver(spark, conf, "t01_indpty_id", months))
    deposits = aum.deposit_month(aum.customer_segments(changes, last), first)
    month_rows = aum.customer_month(customers, deposits, holdings)
    span = max(3, conf.volatility.window_months)
    values = trend.window_values(
        history.select("cust_id", "stat_month", "aum_month_avg").unionByName(
            month_rows.select("cust_id", "stat_month", "aum_month_avg")), months, span)
    result = (month_rows.join(values, ["cust_id", "stat_month"], how="left")
              .withColumn("aum_3m", trend.aum_3m())
              .withColumn("tier", tiers.tier(conf.tiers))
              .withColumn("is_wealth", F.col("tier") != "NONE")
              .transform(trend.with_volatility_class, first_data_month, conf.volatility)
              .drop("vals"))
    return result, aum.account_close(changes, first)


def run_aum(spark: SparkSession, conf: Config, first: str, last: str, log) -> None:
    gold = conf.table(CUSTOMER_MONTH_AUM.name)
    done = months_in(spark, gold)
    months = month_range(first, last)
    before = [m for m in month_range(add_months(first, -HISTORY_MONTHS), add_months(first, -1)) if m in done]
    history = (spark.table(gold).filter(F.col("stat_month").isin(before)) if before else
               spark.createDataFrame([], "cust_id string, stat_month string, aum_month_avg decimal(18,2), tier string"))
    first_data_month = min(done | set(months))
    with stage(log, f"aum {first}..{last}") as st:
        result, close = compute(spark, conf, first, last, history, first_data_month)
        st.rows_out = replace_months(spark, result, conf.database, CUSTOMER_MONTH_AUM, months)
        replace_months(spark, close, conf.silver_database, ACCOUNT_MONTH_BALANCE, months)
    with stage(log, f"tier migration {first}..{last}"):
        tiered = spark.table(gold).filter(F.col("stat_month").isin(before + months)).select("cust_id", "stat_month", "tier")
        pairs = tiers.migration_pairs(tiered, months, set(before) | set(months)).persist(StorageLevel.MEMORY_AND_DISK)
        replace_months(spark, tiers.migration_matrix(pairs), conf.database, TIER_MIGRATION, months)
        replace_months(spark, tiers.migration_summary(pairs), conf.database, TIER_MIGRATION_SUMMARY, months)
        pairs.unpersist()
