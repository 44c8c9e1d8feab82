"""Row validation: every row gets the first row rule it breaks in `_rule` (null = kept)
and, if kept, the first attribute rule it breaks in `_nulled`.

Rules are applied in a fixed priority order, so each bad row is counted under exactly one
rule and rows in = silver + quarantined always holds. The raw value of every column is
kept as a string beside the parsed one, so a quarantined row shows what was delivered.
"""
from __future__ import annotations

from typing import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import ByteType, DataType, DecimalType, IntegerType, LongType, ShortType, StringType, StructType

from lib.config import Quality
from lib.errors import SourceError
from lib.ingest.rules import Attribute
from lib.months import first_day, month_index
from lib.schemas import MONEY

RULE = "_rule"          # the first row rule broken: the row is quarantined
NULLED = "_nulled"      # the first attribute rule broken: the row is kept, its bad attributes null
RAW = "_raw_"


def parse_to_contract(raw: DataFrame, schema: StructType, table: str, attributes: Sequence[str] = ()) -> DataFrame:
    """Contract columns parsed to their types (try_cast: a bad value becomes null, never an
    error), each raw value kept as `_raw_<COL>`, and `_rule` = 'unparseable' where a
    delivered value of a column other than `attributes` did not parse (a bad attribute is
    nulled later, by its own rule). A missing or extra column, or a column typed other than
    the contract (or text, which is parsed), is not a bad row but a broken extract: it fails
    the run naming the column."""
    check_columns(raw.schema, schema, table)
    parsed, kept, broken = [], [], []
    for f in schema:
        src = F.col(f.name)
        value = src if raw.schema[f.name].dataType == f.dataType else src.try_cast(f.dataType)
        parsed.append(value.alias(f.name))
        kept.append(src.cast("string").alias(RAW + f.name))
        if f.name not in attributes:
            broken.append(src.isNotNull() & value.isNull())
    unparseable = F.when(any_of(broken), F.lit("unparseable")).cast("string")
    return raw.select(*parsed, *kept, unparseable.alias(RULE))


def check_columns(delivered: StructType, contract: StructType, table: str) -> None:
    """SourceError naming every missing, extra or wrongly typed column of a delivered table."""
    have = {f.name: f.dataType for f in delivered}
    missing = [f.name for f in contract if f.name not in have]
    extra = [name for name in have if name not in contract.fieldNames()]
    retyped = [f"{f.name} is {have[f.name].simpleString()}, not {f.dataType.simpleString()}" for f in contract
               if f.name in have and not _readable(have[f.name], f.dataType)]
    problems = ([f"lacks contract column(s) {', '.join(missing)}"] if missing else []) + (
        [f"has column(s) not in the contract: {', '.join(extra)}"] if extra else []) + retyped
    if problems:
        raise SourceError(f"source table {table} does not follow the contract (SPEC §3): {'; '.join(problems)}")


def _readable(delivered: DataType, contract: DataType) -> bool:
    """The contract's type, text (parsed row by row), a narrower integer, or a decimal of the
    same scale (a value too large for the contract is a row that does not parse)."""
    integers = (ByteType, ShortType, IntegerType, LongType)
    widened = (isinstance(delivered, integers) and isinstance(contract, integers)
               and integers.index(type(delivered)) <= integers.index(type(contract)))
    same_scale = (isinstance(delivered, DecimalType) and isinstance(contract, DecimalType)
                  and delivered.scale == contract.scale)
    return delivered == contract or isinstance(delivered, StringType) or widened or same_scale


def fingerprint(df: DataFrame) -> Column:
    """SHA-256 of a row's delivered values, how a row with no month is known again later:
    hex with its digits moved to g-p, so no run of digits in it can pass for an ID number."""
    sha = F.sha2(F.to_json(F.struct(*[F.col(c) for c in df.columns if c.startswith(RAW)])), 256)
    return F.translate(sha, "0123456789", "ghijklmnop")


def flag(df: DataFrame, rule: str, bad: Column) -> DataFrame:
    """Give `rule` to rows that are still clean and for which `bad` is true."""
    return df.withColumn(RULE, F.coalesce(F.col(RULE), F.when(bad, F.lit(rule))))


def flag_first(df: DataFrame, rule: str, bad: Column) -> DataFrame:
    """Like flag, but the rule takes precedence over every rule already set (used for
    null keys and bad formats, which are checked before parsing errors matter)."""
    return df.withColumn(RULE, F.when(bad, F.lit(rule)).otherwise(F.col(RULE)))


def flag_unknown(df: DataFrame, column: str, known: DataFrame, rule: str) -> DataFrame:
    """Rows whose `column` (when given) is not among the single column of `known`."""
    joined, unknown = with_unknown(df, column, known)
    return flag(joined, rule, unknown).drop(f"_ref_{column}", f"_hit_{column}")


def with_unknown(df: DataFrame, column: str, known: DataFrame) -> tuple[DataFrame, Column]:
    """`df` joined to the keys of `known` (its single column), and the condition "`column`
    is given but not among them"; the join adds _ref_<column> and _hit_<column>."""
    ref, hit = f"_ref_{column}", f"_hit_{column}"
    keys = known.select(F.col(known.columns[0]).alias(ref)).distinct().withColumn(hit, F.lit(True))
    joined = df.join(keys, F.col(column) == F.col(ref), how="left")
    return joined, F.col(column).isNotNull() & F.col(hit).isNull()


def flag_duplicates(df: DataFrame, keys: Sequence[str], rule: str = "duplicate_key") -> DataFrame:
    """Among clean rows sharing `keys`, keep one and flag the rest. The kept one is the
    first by every delivered value, so the choice does not depend on partitioning."""
    clean = F.col(RULE).isNull()
    order = [F.col(c).asc_nulls_first() for c in df.columns if c.startswith(RAW)]
    nth = F.row_number().over(Window.partitionBy(clean, *keys).orderBy(*order))
    return flag(df, rule, clean & (nth > 1))


def flag_not_owned(ledger: DataFrame, deposits: DataFrame) -> DataFrame:
    """Rows whose account is not a deposit agreement of the row's own customer (`deposits`:
    AGMT_ID, CUST_ID of the clean deposit agreements)."""
    owners = deposits.select(F.col("AGMT_ID").alias("_d_agmt"), F.col("CUST_ID").alias("_owner"))
    joined = ledger.join(owners, F.col("AGMT_ID") == F.col("_d_agmt"), how="left")
    bad = F.col("AGMT_ID").isNotNull() & ~F.col("_owner").eqNullSafe(F.col("CUST_ID"))
    return flag(joined, "account_not_owned", bad).drop("_d_agmt", "_owner")


CHAINED = ("seq_disorder", "balance_break")     # rules about a record's place in its account's chain


def _chain_order(df: DataFrame) -> Column:
    """Which delivered record of an account counts as its latest: the highest TXN_SEQ, and
    among records sharing it one that broke no structural rule, then the highest TXN_ID.
    Null for a record with no place in the chain (no TXN_SEQ, BAL_AFTER or date)."""
    placed = F.col("TXN_SEQ").isNotNull() & F.col("BAL_AFTER").isNotNull() & _posted().isNotNull()
    sound = F.col(RULE).isNull() | F.col(RULE).isin(*CHAINED)
    return F.when(placed, F.struct("TXN_SEQ", sound.alias("sound"), "TXN_ID"))


def _posted() -> Column:
    return F.coalesce(F.col("TXN_DT"), F.to_date(F.col("TXN_TS")))


def flag_chain(ledger: DataFrame, prior: DataFrame | None) -> DataFrame:
    """seq_disorder and balance_break, each against the account's previous *delivered*
    record (the latest one of the same month with a lower TXN_SEQ, quarantined or not, so one
    bad record does not condemn the correct one after it), or for a month's first record the
    last record of earlier months: of the run's, else `prior` (agmt_id, last_txn_seq,
    last_bal_after: the state before the run's first month). Months are checked one by one,
    so a run over several months flags what runs month by month would.

    seq_disorder: posted before the previous record, or numbered at or below earlier months'
    last TXN_SEQ (the AUM method orders an account's records by TXN_SEQ).
    balance_break: BAL_AFTER is not the previous BAL_AFTER plus (C) or minus (D) TXN_AMT. An
    OPEN record starts from 0; OPENING_BALANCE sets the balance and is not checked; a record
    with no known predecessor cannot be checked."""
    # Both look-backs are windows over the account's rows, so the ledger is read once.
    earlier = (Window.partitionBy("AGMT_ID", "stat_month").orderBy("TXN_SEQ")
               .rangeBetween(Window.unboundedPreceding, -1))
    order = _chain_order(ledger)
    previous = F.max_by(F.struct(F.col("BAL_AFTER").alias("bal"), _posted().alias("dt")), order)
    month_no = month_index(first_day(F.col("stat_month")))
    earlier_months = Window.partitionBy("AGMT_ID").orderBy(month_no).rangeBetween(Window.unboundedPreceding, -1)
    # an earlier month's last record: the latest month with a record placed in the chain, its latest
    last_before = F.max_by(F.struct(F.col("TXN_SEQ").alias("seq"), F.col("BAL_AFTER").alias("bal")),
                           F.when(order.isNotNull(), F.struct(month_no, order)))
    before = F.when(F.col("AGMT_ID").isNotNull(), last_before.over(earlier_months))
    if prior is not None:     # joined first: the windows then re-use its partitioning by account
        ledger = ledger.join(_prior_struct(prior).withColumnRenamed("agmt_id", "_p_agmt"),
                             F.col("AGMT_ID") == F.col("_p_agmt"), how="left").drop("_p_agmt")
        before = F.coalesce(before, F.col("start"))
    with_prev = ledger.withColumn("_before", before).withColumn("_prev", previous.over(earlier))
    clean = F.col(RULE).isNull()
    disorder = (_posted() < F.col("_prev.dt")) | (F.col("TXN_SEQ") <= F.col("_before.seq"))
    flagged = flag(with_prev, "seq_disorder", clean & disorder)
    start = F.coalesce(F.col("_prev.bal"), F.col("_before.bal"),
                       F.when(F.col("TXN_CODE") == "OPEN", F.lit(0).cast(MONEY)))
    signed = F.when(F.col("DR_CR_FLAG") == "C", F.col("TXN_AMT")).otherwise(-F.col("TXN_AMT"))
    bad = ((F.col("TXN_CODE") != "OPENING_BALANCE") & start.isNotNull()
           & (F.col("BAL_AFTER") != start + signed))
    return flag(flagged, "balance_break", F.col(RULE).isNull() & bad).drop("_prev", "_before", "start")


def _month_last(ledger: DataFrame) -> DataFrame:
    """agmt_id, stat_month, last (struct seq, bal): each account's latest delivered record of
    each month, null when none of its records has a place in the chain."""
    return ledger.groupBy(F.col("AGMT_ID").alias("agmt_id"), "stat_month").agg(
        F.max_by(F.struct(F.col("TXN_SEQ").alias("seq"), F.col("BAL_AFTER").alias("bal")),
                 _chain_order(ledger)).alias("last"))


def _prior_struct(prior: DataFrame) -> DataFrame:
    return prior.select("agmt_id", F.struct(F.col("last_txn_seq").alias("seq"),
                                            F.col("last_bal_after").alias("bal")).alias("start"))


def chain_states(ledger: DataFrame, prior: DataFrame | None, months: Sequence[str]) -> DataFrame:
    """agmt_id, last_txn_seq, last_bal_after, stat_month: for each month of the run, each
    account's latest record delivered up to the end of that month (the one the next month's
    first record is checked against); accounts quiet in a month carry forward."""
    last = _month_last(ledger)
    accounts = last.select("agmt_id")
    if prior is not None:
        accounts = accounts.unionByName(prior.select("agmt_id"))
    grid = accounts.distinct().select("agmt_id", F.explode(F.array(*[F.lit(m) for m in months])).alias("stat_month"))
    so_far = Window.partitionBy("agmt_id").orderBy("stat_month").rowsBetween(Window.unboundedPreceding, 0)
    state = grid.join(last, ["agmt_id", "stat_month"], how="left").select(
        "agmt_id", "stat_month", F.last("last", ignorenulls=True).over(so_far).alias("state"))
    if prior is not None:
        state = state.join(_prior_struct(prior), "agmt_id", how="left").select(
            "agmt_id", "stat_month", F.coalesce("state", "start").alias("state"))
    return state.filter(F.col("state").isNotNull()).select(
        "agmt_id", F.col("state.seq").alias("last_txn_seq"), F.col("state.bal").alias("last_bal_after"), "stat_month")


def null_bad_attributes(df: DataFrame, attributes: Sequence[Attribute], quality: Quality,
                        known: dict[str, DataFrame]) -> DataFrame:
    """Each bad attribute of a row that broke no row rule set to null, and `_nulled` = the
    first attribute rule it broke (rows with a row rule keep their values: they are
    quarantined whole)."""
    bad: list[tuple[Attribute, Column]] = []
    for a in attributes:
        wrong = F.col(RAW + a.column).isNotNull() & F.col(a.column).isNull()      # did not parse
        if a.codes:
            wrong = wrong | ~F.col(a.column).isin(*a.codes)
        if a.check is not None:
            wrong = wrong | a.check(quality)
        if a.ref is not None:
            df, unknown = with_unknown(df, a.column, known[a.ref])
            wrong = wrong | unknown
        bad.append((a, F.col(RULE).isNull() & F.coalesce(wrong, F.lit(False))))
    nulled = {a.column: F.when(~wrong, F.col(a.column)).alias(a.column) for a, wrong in bad}
    first = F.coalesce(*[F.when(wrong, F.lit(a.rule)) for a, wrong in bad]) if bad else F.lit(None)
    keep = [c for c in df.columns if not c.startswith(("_hit_", "_ref_"))]
    return df.select(*[nulled.get(c, F.col(c)) for c in keep], first.cast("string").alias(NULLED))


def counted_rule() -> Column:
    """The rule a row is counted under: its row rule, else its first attribute rule."""
    return F.coalesce(F.col(RULE), F.col(NULLED))


def rule_counts(flagged: DataFrame, rules: Sequence[str]) -> DataFrame:
    """stat_month, rule, rows_in, rows_bad for every rule checked (zeros included)."""
    per_rule = flagged.groupBy("stat_month").agg(
        F.count(F.lit(1)).alias("rows_in"),
        *[F.count(F.when(counted_rule() == r, 1)).alias(r) for r in rules])
    return per_rule.unpivot(["stat_month", "rows_in"], list(rules), "rule", "rows_bad")


def any_of(conditions: list[Column]) -> Column:
    out = F.lit(False)
    for cond in conditions:
        out = out | cond
    return out
