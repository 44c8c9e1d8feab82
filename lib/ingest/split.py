"""Validate a month range of the six source tables and split them into silver and
quarantined rows, with the counts per rule.

Dimension tables are validated whole (they are current snapshots); T98 by STAT_MONTH and
the ledger by posting date. References are checked against the clean rows of the table
referred to, so tables are validated in dependency order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DateType, StringType, StructField

from lib.config import Quality
from lib.errors import QualityError
from lib.ingest import validation as V
from lib.ingest.rules import CUST_ID_PATTERN, REFERENCES, TABLE_RULES, TableRules, month_of
from lib.months import first_day
from lib.privacy import MASKS, scrub_column
from lib.schemas import DEPOSIT_PRODUCTS, PERSONAL_COLUMNS, SOURCE_TABLES
from lib.tables import FINGERPRINT, NULLED, QUARANTINED, quarantine_column

CUSTOMER_NUMBERS = ("CUST_ID", "CPTY_CUST_ID")      # shown in clear in the gold tables too
INGEST_ORDER = ("ORG_DIM", "T01_INDPTY_ID", "T03_AGREEMENT", "TCS_INDPTY_AGMT_RELATION_H",
                "T98_INDPTY_PROD_STAT", "JNL_ACC_CHG")


@dataclass
class Validated:
    table: str
    flagged: DataFrame          # contract columns, _raw_* columns, _rule, _nulled, stat_month
    rules: TableRules

    @property
    def clean(self) -> DataFrame:
        """The rows kept: silver (a bad attribute already null)."""
        return self.flagged.filter(F.col(V.RULE).isNull())

    @property
    def bad(self) -> DataFrame:
        """The rows the quarantine shows: withheld ones, and kept ones whose attribute was nulled."""
        return self.flagged.filter(V.counted_rule().isNotNull())


def month_slice(raw: DataFrame, table: str, months: Sequence[str]) -> DataFrame:
    """Rows that can belong to `months` (or to no month), read cheaply: a typed ledger is
    pruned by TXN_DT before anything is parsed."""
    if table == "JNL_ACC_CHG" and isinstance(raw.schema["TXN_DT"].dataType, DateType):
        first, last = first_day(F.lit(months[0])), F.last_day(first_day(F.lit(months[-1])))
        return raw.filter(F.col("TXN_DT").between(first, last) | F.col("TXN_DT").isNull())
    return raw


def validate_table(raw: DataFrame, rules: TableRules, months: Sequence[str], quality: Quality,
                   known: dict[str, DataFrame], prior_chain: DataFrame | None = None,
                   filed: DataFrame | None = None) -> DataFrame:
    """The rows of one table for `months` (a dimension snapshot: for the first of them),
    each with the first rule it broke (or null). Rows with no readable month are the first
    month's, unless `filed` (fingerprints of rows already quarantined as undated under a
    month outside the run) holds them: counted once. Rules that compare rows (duplicates,
    the balance chain) compare within a month, as month-by-month runs would."""
    df = V.parse_to_contract(month_slice(raw, rules.table, months), SOURCE_TABLES[rules.table],
                             rules.table, [a.column for a in rules.attributes])
    df = df.withColumn("_dated", month_of(rules.table, months[0]))
    dated = F.col("_dated")
    # (T98's own STAT_MONTH gives way to the month the row is filed under; its delivered value stays in _raw_)
    df = df.filter(dated.isNull() | dated.isin(*months)).withColumn("stat_month",
                                                                    F.coalesce(dated, F.lit(months[0])))
    if rules.datable:
        df = df.withColumn(FINGERPRINT, F.when(dated.isNull(), V.fingerprint(df)))
        if filed is not None:
            df = df.join(filed.select(F.col(FINGERPRINT).alias("_filed")).distinct(),
                         F.col(FINGERPRINT) == F.col("_filed"), how="left_anti")
    missing_key = V.any_of([F.trim(F.col(V.RAW + k)).eqNullSafe("") | F.col(V.RAW + k).isNull()
                          for k in rules.keys])
    df = V.flag_first(df, "null_key", missing_key)
    if rules.datable:
        df = V.flag_first(df, "undated", dated.isNull())
    if rules.codes:
        df = V.flag(df, "bad_code", V.any_of([~F.col(c).isin(*allowed) for c, allowed in rules.codes.items()]))
    for rule, check in rules.checks:
        df = V.flag(df, rule, check(quality))
    for column, ref in rules.refs:
        df = V.flag_unknown(df, column, known[ref], f"unknown_{ref}")
    if rules.ledger:
        df = V.flag_not_owned(df, known["deposit"])
    if rules.unique:
        df = V.flag_duplicates(df, (*rules.unique, "stat_month"))
    if rules.ledger:
        df = V.flag_chain(df, prior_chain)
    return V.null_bad_attributes(df, rules.attributes, quality, known).drop("_dated")


def validate_months(raw: Mapping[str, DataFrame], months: Sequence[str], quality: Quality,
                    prior_chain: DataFrame | None, filed: Mapping[str, DataFrame | None] | None = None
                    ) -> dict[str, Validated]:
    """Validate every source table for `months` (consecutive): `raw` holds each table as
    delivered, `filed` the undated rows of a table already quarantined under months outside
    the run (none when missing). A dimension snapshot is validated once and stands for each month.
    Each result is persisted: it is counted, then written twice (clean and quarantine)."""
    out: dict[str, Validated] = {}
    known: dict[str, DataFrame] = {}
    for table in INGEST_ORDER:
        rules = TABLE_RULES[table]
        flagged = validate_table(raw[table], rules, months, quality, known, prior_chain if rules.ledger else None,
                                 (filed or {}).get(table) if rules.datable else None)
        if not rules.datable and len(months) > 1:
            flagged = flagged.withColumn("stat_month", F.explode(F.array(*[F.lit(m) for m in months])))
        out[table] = Validated(table, flagged.persist(StorageLevel.MEMORY_AND_DISK), rules)
        snapshot = out[table].clean.filter(F.col("stat_month") == months[0])
        for ref, (ref_table, key) in REFERENCES.items():
            if ref_table == table:
                known[ref] = snapshot.select(key)
        if table == "T03_AGREEMENT":
            known["deposit"] = snapshot.filter(F.col("PROD_TYPE").isin(*DEPOSIT_PRODUCTS)).select("AGMT_ID", "CUST_ID")
    return out


def quality_counts(validated: dict[str, Validated]) -> DataFrame:
    """data_quality rows: stat_month, table_name, rule, action, rows_in, rows_bad."""
    frames = [V.rule_counts(v.flagged, v.rules.rules).withColumn("table_name", F.lit(t))
              .withColumn("action", action(v.rules)) for t, v in validated.items()]
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out.select("stat_month", "table_name", "rule", "action", "rows_in", "rows_bad")


def action(rules: TableRules) -> Column:
    """NULLED for an attribute rule (row kept, attribute set to null), else QUARANTINED."""
    nulled = F.col("rule").isin(*rules.attribute_rules) if rules.attribute_rules else F.lit(False)
    return F.when(nulled, F.lit(NULLED)).otherwise(F.lit(QUARANTINED))


def check_limits(counts: list[dict], max_bad_share: float) -> None:
    """Raise QualityError naming every table (and its worst rule) over the limit."""
    totals: dict[tuple[str, str], dict] = {}
    for row in counts:
        entry = totals.setdefault((row["table_name"], row["stat_month"]),
                                  {"rows_in": row["rows_in"], "bad": 0, "worst": ("", -1)})
        entry["bad"] += row["rows_bad"]
        if row["rows_bad"] > entry["worst"][1]:
            entry["worst"] = (row["rule"], row["rows_bad"])
    over = [f"{table} ({month}): {e['bad']:,} of {e['rows_in']:,} rows bad "
            f"({e['bad'] / e['rows_in']:.2%} > {max_bad_share:.2%}), mostly rule "
            f"'{e['worst'][0]}' ({e['worst'][1]:,} rows)"
            for (table, month), e in sorted(totals.items())
            if e["rows_in"] and e["bad"] / e["rows_in"] > max_bad_share]
    if over:
        raise QualityError("bad-row share over the limit, nothing published: " + "; ".join(over))


def month_volumes(rows: list[dict], month: str) -> dict[str, int]:
    """rows_in of each source table for `month` (0 when a table gave none), from data_quality rows."""
    found = {r["table_name"]: r["rows_in"] for r in rows if r["stat_month"] == month}
    return {table: found.get(table, 0) for table in INGEST_ORDER}


def check_volumes(volumes: dict[str, int], month: str, previous: dict[str, int] | None, previous_month: str,
                  min_share: float) -> None:
    """Raise QualityError naming every table whose extract for `month` is empty, or smaller
    than `min_share` of the previous month's (when that month was ingested): a truncated
    delivery would otherwise publish as a quiet month."""
    problems = [f"{table} has no rows for {month} (an empty extract)" for table, n in volumes.items() if n == 0]
    problems += [f"{table} has {n:,} rows for {month}, {n / previous[table]:.1%} of {previous_month}'s "
                 f"{previous[table]:,} (quality.min_volume_share {min_share:.0%})"
                 for table, n in volumes.items() if n and previous and previous.get(table)
                 and n < min_share * previous[table]]
    if problems:
        raise QualityError("source volume check failed, nothing published: " + "; ".join(problems))


def silver_rows(v: Validated) -> DataFrame:
    return v.clean.select(*[F.col(f.name).alias(f.name.lower()) for f in SOURCE_TABLES[v.table]
                            if f.name != "STAT_MONTH"], "stat_month")


def quarantine_rows(v: Validated) -> DataFrame:
    """Bad rows as delivered, with the rule and what it did. Personal columns are masked;
    any other value is shown as delivered only when it has its column's form (parses to
    the contract's type, is one of the column's codes, or is a customer number), and is
    scrubbed otherwise: a row whose columns shifted can put a name into any column."""
    codes = {**v.rules.codes, **{a.column: a.codes for a in v.rules.attributes if a.codes}}

    def delivered(field: StructField):
        raw = F.col(V.RAW + field.name)
        kind = PERSONAL_COLUMNS.get(field.name)
        if kind:
            return MASKS[kind](raw).alias(quarantine_column(field.name))
        if field.name in codes:
            fits = raw.isin(*codes[field.name])
        elif field.name in CUSTOMER_NUMBERS:
            fits = raw.rlike(CUST_ID_PATTERN)
        elif isinstance(field.dataType, StringType):
            fits = F.lit(False)
        else:
            fits = raw.try_cast(field.dataType).isNotNull()
        return F.when(fits, raw).otherwise(scrub_column(raw)).alias(quarantine_column(field.name))
    bad = v.bad.select("*", V.counted_rule().alias("rule"))
    fingerprint = F.col(FINGERPRINT) if v.rules.datable else F.lit(None).cast("string")
    return bad.select("stat_month", "rule", action(v.rules).alias("action"), fingerprint.alias(FINGERPRINT),
                      *[delivered(f) for f in SOURCE_TABLES[v.table]])
