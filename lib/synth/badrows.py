"""Injects the bad rows real extracts carry (SPEC §3) and counts them by the rule the
ingest must quarantine them under.

A row is picked with probability `bad_rate` and given one kind of damage. A row kind
(KINDS) adds a damaged copy (with a fresh key where the key is not the damage), so the
clean rows, and every account's BAL_AFTER chain, stay as generated. An in-place kind
(IN_PLACE) damages the picked row itself: a bad attribute the ingest nulls (the customer
or account stays), a balance break (the amount off by 1.00, so exactly that record breaks
the chain) or a sequence disorder (the record dated the month's first day, after a
record posted later in the month). Text-only damage (an unparseable value) goes into CSV
output only. Undated rows are filed under the first month ingested: the truth says so.
"""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lib.schemas import MONEY
from lib.seeded import uniform
from lib.synth.random import pick

DIMENSION_MONTH = "*"      # truth rows of snapshot tables hold for every ingested month
MARK = "_injected"

Damage = dict[str, Callable[[], Column]]     # column -> damaged value
C = F.col


def _fresh(col: str, prefix: str) -> Callable[[], Column]:
    return lambda: F.concat(F.lit(prefix), F.substring(C(col), len(prefix) + 1, 100))


def _other_customer() -> Column:
    """Another generated customer's CUST_ID ("41" + the customer's number, numbered from 0)."""
    n = F.substring(C("CUST_ID"), 3, 8).cast("int")
    return F.concat(F.lit("41"), F.lpad(F.when(n >= 1, n - 1).otherwise(n + 1).cast("string"), 8, "0"))


KINDS: dict[str, dict[str, Damage]] = {
    "ORG_DIM": {"duplicate_key": {}},
    "T01_INDPTY_ID": {
        "duplicate_key": {},
        "null_key": {"CUST_ID": lambda: F.lit(None).cast("string")},
    },
    "T03_AGREEMENT": {
        "duplicate_key": {},
        "unknown_customer": {"AGMT_ID": _fresh("AGMT_ID", "Z"), "CUST_ID": _fresh("CUST_ID", "99")},
        "bad_code": {"AGMT_ID": _fresh("AGMT_ID", "Y"), "PROD_TYPE": lambda: F.lit("GOLD")},
    },
    "TCS_INDPTY_AGMT_RELATION_H": {
        "duplicate_key": {},
        "unknown_account": {"AGMT_ID": _fresh("AGMT_ID", "Z")},
    },
    "T98_INDPTY_PROD_STAT": {
        "duplicate_key": {},
        "unknown_customer": {"CUST_ID": _fresh("CUST_ID", "99")},
        "bad_amount": {"MONTH_END_BAL": lambda: F.lit(-1).cast(MONEY)},
        "undated": {"STAT_MONTH": lambda: F.concat(F.substring(C("STAT_MONTH"), 1, 5), F.lit("13"))},
    },
    "JNL_ACC_CHG": {
        "duplicate_key": {},
        "null_key": {"TXN_ID": lambda: F.lit(None).cast("string")},
        "bad_code": {"TXN_ID": _fresh("TXN_ID", "XC"), "DR_CR_FLAG": lambda: F.lit("X")},
        "bad_amount": {"TXN_ID": _fresh("TXN_ID", "XA"), "TXN_AMT": lambda: (-(C("TXN_AMT") + 1)).cast(MONEY)},
        "unknown_account": {"TXN_ID": _fresh("TXN_ID", "XU"), "AGMT_ID": _fresh("AGMT_ID", "Z")},
        "unknown_customer": {"TXN_ID": _fresh("TXN_ID", "XK"), "CUST_ID": _fresh("CUST_ID", "99")},
        "account_not_owned": {"TXN_ID": _fresh("TXN_ID", "XO"), "CUST_ID": _other_customer},
        "undated": {"TXN_ID": _fresh("TXN_ID", "XD"), "TXN_DT": lambda: F.lit(None).cast("date"),
                    "TXN_TS": lambda: F.lit(None).cast("timestamp")},
    },
}
IN_PLACE: dict[str, dict[str, Damage]] = {
    "T01_INDPTY_ID": {
        "bad_gender": {"GENDER": lambda: F.lit("U")},
        "bad_id_no": {"ID_NO": lambda: F.substring(C("ID_NO"), 1, 17)},
        "unknown_org": {"OPEN_ORG_ID": _fresh("OPEN_ORG_ID", "ZZ")},
    },
    "T03_AGREEMENT": {"bad_status": {"STATUS": lambda: F.lit("FROZEN")}},
    "JNL_ACC_CHG": {
        "balance_break": {"TXN_AMT": lambda: (C("TXN_AMT") + 1).cast(MONEY)},
        "seq_disorder": {"TXN_DT": lambda: F.trunc(C("TXN_DT"), "month").cast("date"),
                         "TXN_TS": lambda: F.date_trunc("month", C("TXN_TS"))},
    },
}
# Columns that tell a generated row from every other (what the pick is a hash of).
ROW_KEYS = {"ORG_DIM": ("ORG_ID",), "T01_INDPTY_ID": ("CUST_ID",), "T03_AGREEMENT": ("AGMT_ID",),
            "TCS_INDPTY_AGMT_RELATION_H": ("AGMT_ID", "REL_TYPE"),
            "T98_INDPTY_PROD_STAT": ("STAT_MONTH", "CUST_ID", "PROD_TYPE"), "JNL_ACC_CHG": ("TXN_ID",)}
# Text-only damage, applied after the table is turned into strings (CSV): a copy of the
# ledger record, the customer's own birth date in place.
TEXT_KINDS = {"T01_INDPTY_ID": "bad_birth_dt", "JNL_ACC_CHG": "unparseable"}
UNPARSEABLE: dict[str, dict[str, Callable[[], Column]]] = {
    "T01_INDPTY_ID": {"BIRTH_DT": lambda: F.concat(F.substring(C("BIRTH_DT"), 1, 8), F.lit("32"))},
    "JNL_ACC_CHG": {"TXN_ID": _fresh("TXN_ID", "XP"),
                    "TXN_DT": lambda: F.concat(F.substring(C("TXN_DT"), 1, 8), F.lit("32"))},
}


def inject(df: DataFrame, table: str, rate: float, seed: int, as_text: bool) -> DataFrame:
    """The table with bad rows added or damaged in place; `MARK` names the damage of each
    injected or damaged row (null for generated rows). Text output is all strings."""
    in_place = IN_PLACE.get(table, {})
    text_kind = TEXT_KINDS.get(table) if as_text else None
    kinds = list(KINDS[table]) + list(in_place) + ([text_kind] if text_kind else [])
    marked = df.withColumn(MARK, _pick(table, kinds, seed, rate))
    if table == "JNL_ACC_CHG":
        marked = _only_where_a_disorder_shows(marked)
    copied = F.col(MARK).isin(*KINDS[table]) | (F.col(MARK) == "unparseable")
    base = marked.withColumn(MARK, F.when(~copied, F.col(MARK)))
    base = _damage(base, in_place)
    copies = _damage(marked.filter(copied), KINDS[table])
    out = base.unionByName(copies)
    if not as_text:
        return out
    out = out.select(*[C(c).cast("string").alias(c) for c in out.columns])
    for col, damage in UNPARSEABLE.get(table, {}).items():
        out = out.withColumn(col, F.when(F.col(MARK) == text_kind, damage()).otherwise(C(col)))
    return out


def _pick(table: str, kinds: list[str], seed: int, rate: float) -> Column:
    key = [C(c) for c in ROW_KEYS[table]]
    picked = (uniform(seed, "bad." + table, *key) < rate) & _eligible(table)
    return F.when(picked, pick(kinds, uniform(seed, "badkind." + table, *key)))


def _only_where_a_disorder_shows(ledger: DataFrame) -> DataFrame:
    """seq_disorder only on a record whose predecessor, itself not moved, was posted in the
    same month after its first day (so moving the record to the first day shows)."""
    by_seq = Window.partitionBy("AGMT_ID").orderBy("TXN_SEQ")
    prev_dt, prev_mark = F.lag("TXN_DT").over(by_seq), F.lag(MARK).over(by_seq)
    shows = ((F.trunc(prev_dt, "month") == F.trunc(C("TXN_DT"), "month")) & (F.dayofmonth(prev_dt) > 1)
             & ~prev_mark.eqNullSafe(F.lit("seq_disorder")))
    return ledger.withColumn(MARK, F.when((F.col(MARK) != "seq_disorder") | shows, F.col(MARK)))


def _damage(df: DataFrame, kinds: dict[str, Damage]) -> DataFrame:
    for col in df.columns:
        damaged = C(col)
        for name, damage in kinds.items():
            if col in damage:
                damaged = F.when(F.col(MARK) == name, damage[col]()).otherwise(damaged)
        df = df.withColumn(col, damaged)
    return df


def truth(injected: DataFrame, table: str, first_month: str) -> DataFrame:
    """table_name, stat_month, rule, rows: what the ingest must catch (undated rows under
    `first_month`, the first month ingested)."""
    month = {"JNL_ACC_CHG": F.substring(C("TXN_TS").cast("string"), 1, 7),
             "T98_INDPTY_PROD_STAT": C("STAT_MONTH")}.get(table, F.lit(DIMENSION_MONTH))
    month = F.when(F.col(MARK) == "undated", F.lit(first_month)).otherwise(month)
    return (injected.filter(F.col(MARK).isNotNull())
            .groupBy(F.lit(table).alias("table_name"), month.alias("stat_month"), F.col(MARK).alias("rule"))
            .agg(F.count(F.lit(1)).alias("rows")))


def _eligible(table: str) -> Column:
    # An OPENING_BALANCE record is not chain-checked, so it cannot carry a balance break.
    return C("TXN_CODE") != "OPENING_BALANCE" if table == "JNL_ACC_CHG" else F.lit(True)
