"""What became of the listed entities (pure DataFrame functions; the prospect_outcome table).

Each prospect list of month L is followed in months L+1..L+3, each month's run writing
the entities' outcome by its own end (so a list's conversion by L+k is in partition L+k):

* INTERNAL and CRITICAL: the customer has a wealth tier in some month after L;
* MULTILATERAL (a person at another bank): the prospect opened an account, seen as a
  postal customer who opened after L and transferred with that account under its own
  name (the way a new customer moves its money in);
* SOLO (the wealth customer's own account elsewhere): the money came back, more flowing
  in from the account than out to it since L.

The warning list of L is followed at its horizon: every customer scored in L, flagged or
not, with whether they churned (the churn label of L), so the two rates can be compared.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lib.acquisition.prospects import TRANSFER_CODES, external_key
from lib.months import first_day, month_text
from lib.schemas import POSTAL_BANK_CODE
from lib.tables import FLAGGED, NOT_FLAGGED, SOLO

FOLLOW_MONTHS = 3
KEYS = ("list_month", "list_name", "mode", "prospect_key", "wealth_cust_id")


def months_after(later: Column, earlier: Column) -> Column:
    return F.months_between(first_day(later), first_day(earlier)).cast("int")


def listed(external: DataFrame | None, internal: DataFrame | None, critical: DataFrame | None) -> DataFrame:
    """KEYS of every entity on the prospect lists given (their rows of the months to follow),
    once per list month: an external account once per mode (a SOLO one with its customer),
    a postal customer once however many wealth customers it is linked to."""
    none = F.lit(None).cast("string")
    parts = []
    if external is not None:
        parts.append(external.select(F.col("stat_month").alias("list_month"), F.lit("EXTERNAL").alias("list_name"),
                                     "mode", F.col("cpty_key").alias("prospect_key"),
                                     F.when(F.col("mode") == SOLO, F.col("wealth_cust_id")).alias("wealth_cust_id")))
    for rows, name, key in ((internal, "INTERNAL", "cpty_cust_id"), (critical, "CRITICAL", "cust_id")):
        if rows is not None:
            parts.append(rows.select(F.col("stat_month").alias("list_month"), F.lit(name).alias("list_name"),
                                     none.alias("mode"), F.col(key).alias("prospect_key"),
                                     none.alias("wealth_cust_id")))
    out = parts[0]
    for part in parts[1:]:
        out = out.unionByName(part)
    return out.distinct()


def external_transfers(ledger: DataFrame) -> DataFrame:
    """cust_id, stat_month, cpty_key, cpty_name, net_in (credits - debits): the ledger's
    transfer records with an account at another bank (silver rows)."""
    bank, account = F.col("cpty_bank_code"), F.col("cpty_acct_no")
    amount = F.when(F.col("dr_cr_flag") == "C", F.col("txn_amt")).otherwise(-F.col("txn_amt"))
    return (ledger.filter(F.col("txn_code").isin(*TRANSFER_CODES) & bank.isNotNull() & (bank != POSTAL_BANK_CODE)
                          & account.isNotNull())
            .select("cust_id", "stat_month", external_key(bank, account).alias("cpty_key"), "cpty_name",
                    amount.alias("net_in")))


def wealth_months(aum: DataFrame) -> DataFrame:
    """prospect_key, since, event_month: a customer with a wealth tier in event_month
    (customer_month_aum rows); it counts for the lists of months before `since`."""
    return aum.filter(F.col("tier") != "NONE").select(F.col("cust_id").alias("prospect_key"),
                                                      F.col("stat_month").alias("since"),
                                                      F.col("stat_month").alias("event_month"))


def opened_accounts(transfers: DataFrame, customers: DataFrame) -> DataFrame:
    """prospect_key, since, event_month: a postal customer who opened in month `since`
    transferred in event_month with the account prospect_key under its own name.
    customers: silver t01_indpty_id rows (cust_id, cust_name, open_dt)."""
    opened = customers.select("cust_id", "cust_name", month_text(F.col("open_dt")).alias("since"))
    return (transfers.join(opened, "cust_id", how="inner")
            .filter(F.trim(F.col("cpty_name")) == F.trim(F.col("cust_name")))
            .select(F.col("cpty_key").alias("prospect_key"), "since", F.col("stat_month").alias("event_month")))


def first_events(entities: DataFrame, events: DataFrame) -> DataFrame:
    """KEYS, outcome_month: the first event month of each entity among the events that
    count for its list month (since > list_month); null when there is none."""
    counts = F.col("since") > F.col("list_month")
    return (entities.join(events, "prospect_key", how="left")
            .groupBy(*KEYS).agg(F.min(F.when(counts, F.col("event_month"))).alias("outcome_month")))


def money_back(solo: DataFrame, transfers: DataFrame) -> DataFrame:
    """KEYS, outcome_month: for each SOLO entity, the first month by whose end more has come
    back from the account than gone to it since its list month; null when none has."""
    pairs = solo.select(F.col("wealth_cust_id").alias("cust_id"), F.col("prospect_key").alias("cpty_key")).distinct()
    flows = (transfers.join(pairs, ["cust_id", "cpty_key"], how="left_semi")     # only the listed accounts' records
             .groupBy(F.col("cust_id").alias("wealth_cust_id"), F.col("cpty_key").alias("prospect_key"),
                      F.col("stat_month").alias("event_month")).agg(F.sum("net_in").alias("net_in")))
    after = F.col("event_month") > F.col("list_month")
    running = F.sum(F.when(after, F.col("net_in"))).over(Window.partitionBy(*KEYS).orderBy("event_month"))
    return (solo.join(flows, ["wealth_cust_id", "prospect_key"], how="left")
            .withColumn("running", running)
            .groupBy(*KEYS).agg(F.min(F.when(after & (F.col("running") > 0), F.col("event_month")))
                                .alias("outcome_month")))


def prospect_outcomes(entities: DataFrame, month: str, aum: DataFrame, transfers: DataFrame,
                      customers: DataFrame) -> DataFrame:
    """prospect_outcome rows of `month` for the listed entities (listed()); aum, transfers
    (external_transfers()): the months after the earliest list month up to `month`."""
    solo = entities.filter(F.col("mode") == SOLO)
    multilateral = entities.filter((F.col("list_name") == "EXTERNAL") & (F.col("mode") != SOLO))
    postal = entities.filter(F.col("list_name") != "EXTERNAL")
    found = (first_events(postal, wealth_months(aum))
             .unionByName(first_events(multilateral, opened_accounts(transfers, customers)))
             .unionByName(money_back(solo, transfers)))
    return _rows(found.withColumn("outcome", F.col("outcome_month").isNotNull()), month)


def warning_outcomes(scores: DataFrame, labels: DataFrame, month: str) -> DataFrame:
    """prospect_outcome rows of `month` for the churn_scores rows of its reference month
    (flagged or not) with their churn label (labels: cust_id, label; dataset.labels)."""
    joined = scores.join(labels.select("cust_id", "label"), "cust_id", how="left")
    churned = F.col("label") == 1
    return _rows(joined.select(
        F.col("stat_month").alias("list_month"), F.lit("WARNING").alias("list_name"),
        F.when(F.col("flagged"), FLAGGED).otherwise(NOT_FLAGGED).alias("mode"), F.col("cust_id").alias("prospect_key"),
        F.lit(None).cast("string").alias("wealth_cust_id"),
        churned.alias("outcome"), F.when(churned, F.lit(month)).alias("outcome_month"),
    ), month)


def _rows(found: DataFrame, month: str) -> DataFrame:
    return found.select("list_month", months_after(F.lit(month), F.col("list_month")).alias("months_after"),
                        "list_name", "mode", "prospect_key", "wealth_cust_id", "outcome", "outcome_month",
                        F.lit(month).alias("stat_month"))
