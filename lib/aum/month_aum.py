"""customer_month_aum and the month-end account balances of a month range, from the range's
silver ledger, holdings and customers, the closing balances of the month before and the
AUM history before the range (SPEC §4)."""
from __future__ import annotations

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib import tiers, trend
from lib.aum import balances
from lib.config import Tiers, Volatility
from lib.months import first_day, month_range


def population(customers: DataFrame) -> DataFrame:
    """cust_id, stat_month: the customers of each month's snapshot whose relationship had
    begun by the month's end (the current snapshot also lists customers who open later)."""
    month_end = F.last_day(first_day(F.col("stat_month")))
    return (customers.filter(F.col("open_dt").isNull() | (F.col("open_dt") <= month_end))
            .select("cust_id", "stat_month"))


def customer_month_aum(ledger: DataFrame, prior_close: DataFrame, t98: DataFrame, customers: DataFrame,
                       history: DataFrame, first: str, last: str, first_data_month: str, bounds: Tiers,
                       volatility: Volatility) -> tuple[DataFrame, DataFrame]:
    """(customer_month_aum rows, account_month_balance rows) for first..last: `history` is
    customer_month_aum (cust_id, stat_month, aum_month_avg) of the months before `first`
    that the three-month average and the volatility class look back on."""
    months = month_range(first, last)
    day_end = balances.day_end_balances(ledger.select("cust_id", "agmt_id", "txn_dt", "txn_seq", "bal_after"),
                                        prior_close, first)
    changes = balances.account_changes(day_end, last).persist(StorageLevel.MEMORY_AND_DISK)
    deposits = balances.deposit_month(balances.customer_segments(changes, last), first)
    month_rows = balances.customer_month(population(customers), deposits, balances.holding_month(t98))
    values = trend.window_values(
        history.select("cust_id", "stat_month", "aum_month_avg").unionByName(
            month_rows.select("cust_id", "stat_month", "aum_month_avg")), months, max(3, volatility.window_months))
    with_tier = (month_rows.join(values, ["cust_id", "stat_month"], how="left")
                 .withColumn("aum_3m", trend.aum_3m(first_data_month))
                 .withColumn("tier", tiers.tier(bounds)))
    result = (with_tier.withColumn("is_wealth", F.col("tier") != "NONE")
              .transform(trend.with_volatility_class, first_data_month, volatility)
              .drop("vals"))
    return result, balances.account_close(changes, first)
