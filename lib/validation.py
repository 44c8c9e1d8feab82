"""Row validation: every row gets the first rule it breaks in `_rule` (null = clean).

Rules are applied in a fixed priority order, so each bad row is counted under exactly one
rule and rows in = clean + quarantined always holds. The raw value of every column is
kept as a string beside the parsed one, so a quarantined row shows what was delivered.
"""
from __future__ import annotations

from typing import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StructType

from lib.io import SourceError

RULE = "_rule"
RAW = "_raw_"


def parse_to_contract(raw: DataFrame, schema: StructType, table: str) -> DataFrame:
    """Contract columns parsed to their types (try_cast: a bad value becomes null, never an
    error), each raw value kept as `_raw_<COL>`, and `_rule` = 'unparseable' where a
    delivered value did not parse. A missing column fails the run: that is not a bad row
    but a broken extract."""
    missing = [f.name for f in schema if f.name not in raw.columns]
    if missing:
        raise SourceError(f"source table {table} lacks contract column(s) {', '.join(missing)}; "
                          f"it has {', '.join(raw.columns)}")
    parsed, kept, broken = [], [], []
    for f in schema:
        src = F.col(f.name)
        value = src if raw.schema[f.name].dataType == f.dataType else src.try_cast(f.dataType)
        parsed.append(value.alias(f.name))
        kept.append(src.cast("string").alias(RAW + f.name))
        broken.append(src.isNotNull() & value.isNull())
    unparseable = F.when(any_of(broken), F.lit("unparseable")).cast("string")
    return raw.select(*parsed, *kept, unparseable.alias(RULE))


def flag(df: DataFrame, rule: str, bad: Column) -> DataFrame:
    """Give `rule` to rows that are still clean and for which `bad` is true."""
    return df.withColumn(RULE, F.coalesce(F.col(RULE), F.when(bad, F.lit(rule))))


def flag_first(df: DataFrame, rule: str, bad: Column) -> DataFrame:
    """Like flag, but the rule takes precedence over every rule already set (used for
    null keys and bad formats, which are checked before parsing errors matter)."""
    return df.withColumn(RULE, F.when(bad, F.lit(rule)).otherwise(F.col(RULE)))


def flag_unknown(df: DataFrame, column: str, known: DataFrame, rule: str) -> DataFrame:
    """Rows whose `column` (when given) is not among the single column of `known`."""
    keys = known.select(F.col(known.columns[0]).alias("_ref")).distinct().withColumn("_hit", F.lit(True))
    joined = df.join(keys, F.col(column) == F.col("_ref"), how="left")
    return flag(joined, rule, F.col(column).isNotNull() & F.col("_hit").isNull()).drop("_ref", "_hit")


def flag_duplicates(df: DataFrame, keys: Sequence[str], rule: str = "duplicate_key") -> DataFrame:
    """Among clean rows sharing `keys`, keep one and flag the rest. The kept one is the
    first by every delivered value, so the choice does not depend on partitioning."""
    clean = F.col(RULE).isNull()
    order = [F.col(c).asc_nulls_first() for c in df.columns if c.startswith(RAW)]
    nth = F.row_number().over(Window.partitionBy(clean, *keys).orderBy(*order))
    return flag(df, rule, clean & (nth > 1))


def flag_balance_breaks(ledger: DataFrame, prior: DataFrame | None) -> DataFrame:
    """BAL_AFTER must equal the previous record's BAL_AFTER plus (C) or minus (D) TXN_AMT.

    The previous record is the account's preceding clean record by TXN_SEQ, or for the
    month's first record the last record of earlier months (`prior`: agmt_id,
    last_bal_after). An OPEN record starts from 0; OPENING_BALANCE sets the balance and is
    not checked; a record with no known predecessor cannot be checked. Comparing with
    the predecessor as delivered keeps one corrupt record from failing its successors."""
    clean = F.col(RULE).isNull()
    by_seq = Window.partitionBy(clean, "AGMT_ID").orderBy("TXN_SEQ", "TXN_ID")
    with_prev = ledger.withColumn("_prev", F.lag("BAL_AFTER").over(by_seq))
    if prior is not None:
        with_prev = with_prev.join(
            prior.select(F.col("agmt_id").alias("_p_agmt"), F.col("last_bal_after").alias("_prior")),
            F.col("AGMT_ID") == F.col("_p_agmt"), how="left").drop("_p_agmt")
    else:
        with_prev = with_prev.withColumn("_prior", F.lit(None).cast("decimal(18,2)"))
    start = F.coalesce(F.col("_prev"), F.col("_prior"),
                       F.when(F.col("TXN_CODE") == "OPEN", F.lit(0).cast("decimal(18,2)")))
    signed = F.when(F.col("DR_CR_FLAG") == "C", F.col("TXN_AMT")).otherwise(-F.col("TXN_AMT"))
    bad = ((F.col("TXN_CODE") != "OPENING_BALANCE") & start.isNotNull()
           & (F.col("BAL_AFTER") != start + signed))
    return flag(with_prev, "balance_break", clean & bad).drop("_prev", "_prior")


def rule_counts(flagged: DataFrame, rules: Sequence[str]) -> DataFrame:
    """stat_month, rule, rows_in, rows_bad for every rule checked (zeros included)."""
    per_rule = flagged.groupBy("stat_month").agg(
        F.count(F.lit(1)).alias("rows_in"),
        *[F.count(F.when(F.col(RULE) == r, 1)).alias(r) for r in rules])
    stack = ", ".join(f"'{r}', `{r}`" for r in rules)
    return per_rule.select("stat_month", "rows_in",
                           F.expr(f"stack({len(rules)}, {stack}) as (rule, rows_bad)"))


def any_of(conditions: list[Column]) -> Column:
    out = F.lit(False)
    for cond in conditions:
        out = out | cond
    return out
