"""The aum stage: silver ledger + holdings of a month range -> customer_month_aum,
account_month_balance, tier_migration (+ summary). One pass over the range's ledger; the
range starts from the previous month's closing balances, so a monthly refresh reads only
its own month of the ledger."""
from __future__ import annotations

import uuid

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib import tiers
from lib.aum.month_aum import customer_month_aum
from lib.config import Config
from lib.errors import MissingInputError
from lib.io import commit_note, months_in, read_months, read_silver, replace_months
from lib.logs import stage
from lib.months import add_months, month_range
from lib.schemas import MONEY_SQL
from lib.tables import ACCOUNT_MONTH_BALANCE, CUSTOMER_MONTH_AUM, TIER_MIGRATION, TIER_MIGRATION_SUMMARY

HISTORY_MONTHS = 12          # year-over-year migration looks back this far


def prior_close(spark: SparkSession, conf: Config, first: str) -> DataFrame:
    """Account balances at the end of the month before `first`: none when `first` is the
    ledger's first month (ledger_start); else they must exist, written by the same aum run
    as that month's customer_month_aum (a month counted as zero would be silently wrong)."""
    before = add_months(first, -1)
    if first == conf.ledger_start:
        return spark.createDataFrame([], f"cust_id string, agmt_id string, bal_close {MONEY_SQL}")
    if conf.ledger_start and first < conf.ledger_start:
        raise MissingInputError(f"aum for {first}: the month is before ledger_start {conf.ledger_start}, "
                                f"the ledger's first month")
    table = conf.silver_table(ACCOUNT_MONTH_BALANCE.name)
    if before not in months_in(spark, table) and last_run(spark, table, before) is None:   # (all balances zero)
        raise MissingInputError(
            f"aum for {first} starts from the closing balances of {before}, which {table} does not have: run aum "
            f"for {before} first, or if {first} is the ledger's first month say so (--ledger-start {first})")
    check_written_together(spark, conf, before)
    return read_months(spark, table, [before])


def check_written_together(spark: SparkSession, conf: Config, month: str) -> None:
    """MissingInputError when `month`'s customer_month_aum and account_month_balance were
    last written by different aum runs: one stopped between its two commits. (Tables
    written before runs were tagged, or whose history was cleaned, cannot be checked.)"""
    runs = {name: last_run(spark, name, month) for name in
            (conf.table(CUSTOMER_MONTH_AUM.name), conf.silver_table(ACCOUNT_MONTH_BALANCE.name))}
    if None not in runs.values() and len(set(runs.values())) > 1:
        raise MissingInputError(f"{' and '.join(runs)} for {month} were last written by different aum runs (one "
                                f"stopped between its two commits): re-run aum for {month}")


def last_run(spark: SparkSession, table: str, month: str) -> str | None:
    """The id of the last aum run whose commit to `table` covered `month` (from the commits'
    userMetadata, "aum <run id> <first>..<last>")."""
    if not spark.catalog.tableExists(table):
        return None
    history = spark.sql(f"DESCRIBE HISTORY {table}").filter(F.col("userMetadata").startswith("aum "))
    for row in sorted(history.select("version", "userMetadata").collect(), reverse=True):  # bounded: commits kept
        _, run, span = row.userMetadata.split(" ")
        first, last = span.split("..")
        if first <= month <= last:
            return run
    return None


def run_aum(spark: SparkSession, conf: Config, first: str, last: str, log, cascade: bool = False) -> str | None:
    """AUM of first..last; the months after `last` computed before (now stale: they started
    from the old closing balances) are recomputed too with `cascade`, else named in the
    log and in what is returned (the monthly run's manifest note)."""
    gold = conf.table(CUSTOMER_MONTH_AUM.name)
    done = months_in(spark, gold)
    later = sorted(m for m in done if m > last)
    if cascade and later:
        log.info("aum %s..%s: --cascade recomputes the later months %s..%s too", first, last, later[0], later[-1])
        last, later = later[-1], []
    months = month_range(first, last)
    before = [m for m in month_range(add_months(first, -HISTORY_MONTHS), add_months(first, -1)) if m in done]
    history = (read_months(spark, gold, before) if before else
               spark.createDataFrame([], f"cust_id string, stat_month string, aum_month_avg {MONEY_SQL}, tier string"))
    first_data_month = min(done | set(months))
    with stage(log, f"aum {first}..{last}") as st, commit_note(spark, f"aum {uuid.uuid4()} {first}..{last}"):
        start = prior_close(spark, conf, first)
        silver = {name: read_silver(spark, conf, name, months) for name in
                  ("jnl_acc_chg", "t98_indpty_prod_stat", "t01_indpty_id")}
        result, close = customer_month_aum(silver["jnl_acc_chg"], start, silver["t98_indpty_prod_stat"],
                                           silver["t01_indpty_id"], history, first, last, first_data_month, conf.tiers,
                                           conf.volatility)
        st.rows_out = replace_months(spark, result, conf.database, CUSTOMER_MONTH_AUM, months)
        replace_months(spark, close, conf.silver_database, ACCOUNT_MONTH_BALANCE, months)
    with stage(log, f"tier migration {first}..{last}"):
        tiered = read_months(spark, gold, before + months).select("cust_id", "stat_month", "tier")
        pairs = tiers.migration_pairs(tiered, months, set(before) | set(months)).persist(StorageLevel.MEMORY_AND_DISK)
        replace_months(spark, tiers.migration_matrix(pairs), conf.database, TIER_MIGRATION, months)
        replace_months(spark, tiers.migration_summary(pairs), conf.database, TIER_MIGRATION_SUMMARY, months)
        pairs.unpersist()
    if not later:
        return None
    stale = (f"customer_month_aum of {later[0]}..{later[-1]} (and what was computed from it) is stale: it started from "
             f"the closing balances this run replaced; re-run those months, or aum with --cascade")
    log.warning("aum %s..%s: %s", first, last, stale)
    return stale
