"""Injects the bad rows real extracts carry (SPEC §3) and counts them by the rule the
ingest must quarantine them under.

A row is picked with probability `bad_rate` and given one kind of damage. All kinds but
balance_break add a damaged copy (with a fresh key where the key is not the damage), so
the clean rows, and every account's BAL_AFTER chain, stay as generated; balance_break
changes the picked record's amount by 1.00 so exactly that record breaks the chain.
`unparseable` needs text, so it is only injected into CSV output.
"""
from __future__ import annotations

from typing import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lib.synth.random import pick, uniform

DIMENSION_MONTH = "*"      # truth rows of snapshot tables hold for every ingested month
MARK = "_injected"

Damage = dict[str, Callable[[], Column]]     # column -> damaged value
C = F.col


def _fresh(col: str, prefix: str) -> Callable[[], Column]:
    return lambda: F.concat(F.lit(prefix), F.substring(C(col), len(prefix) + 1, 100))


KINDS: dict[str, dict[str, Damage]] = {
    "ORG_DIM": {"duplicate_key": {}},
    "T01_INDPTY_ID": {
        "duplicate_key": {},
        "null_key": {"CUST_ID": lambda: F.lit(None).cast("string")},
        "bad_code": {"CUST_ID": _fresh("CUST_ID", "42"), "GENDER": lambda: F.lit("U")},
        "unknown_org": {"CUST_ID": _fresh("CUST_ID", "43"), "OPEN_ORG_ID": _fresh("OPEN_ORG_ID", "ZZ")},
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
        "bad_amount": {"MONTH_END_BAL": lambda: F.lit(-1).cast("decimal(18,2)")},
    },
    "JNL_ACC_CHG": {
        "duplicate_key": {},
        "null_key": {"TXN_ID": lambda: F.lit(None).cast("string")},
        "bad_code": {"TXN_ID": _fresh("TXN_ID", "XC"), "DR_CR_FLAG": lambda: F.lit("X")},
        "bad_amount": {"TXN_ID": _fresh("TXN_ID", "XA"), "TXN_AMT": lambda: -(C("TXN_AMT") + 1)},
        "unknown_account": {"TXN_ID": _fresh("TXN_ID", "XU"), "AGMT_ID": _fresh("AGMT_ID", "Z")},
        "unknown_customer": {"TXN_ID": _fresh("TXN_ID", "XK"), "CUST_ID": _fresh("CUST_ID", "99")},
        "balance_break": {},
    },
}
# Columns that tell a generated row from every other (what the pick is a hash of).
ROW_KEYS = {"ORG_DIM": ("ORG_ID",), "T01_INDPTY_ID": ("CUST_ID",), "T03_AGREEMENT": ("AGMT_ID",),
            "TCS_INDPTY_AGMT_RELATION_H": ("AGMT_ID", "REL_TYPE"),
            "T98_INDPTY_PROD_STAT": ("STAT_MONTH", "CUST_ID", "PROD_TYPE"), "JNL_ACC_CHG": ("TXN_ID",)}
# Text-only damage, applied after the table is turned into strings (CSV).
UNPARSEABLE: dict[str, dict[str, Callable[[], Column]]] = {
    "T01_INDPTY_ID": {"CUST_ID": _fresh("CUST_ID", "44"),
                      "BIRTH_DT": lambda: F.concat(F.substring(C("BIRTH_DT"), 1, 8), F.lit("32"))},
    "JNL_ACC_CHG": {"TXN_ID": _fresh("TXN_ID", "XP"),
                    "TXN_DT": lambda: F.concat(F.substring(C("TXN_DT"), 1, 8), F.lit("32"))},
}


def inject(df: DataFrame, table: str, rate: float, seed: int, as_text: bool) -> DataFrame:
    """The table with bad rows added (and balance breaks made); `MARK` names the damage
    of each injected row (null for generated rows). Text output is all strings."""
    kinds = list(KINDS[table]) + (["unparseable"] if as_text and table in UNPARSEABLE else [])
    key = [C(c) for c in ROW_KEYS[table]]
    picked = (uniform(seed, "bad." + table, *key) < rate) & _eligible(table)
    kind = pick(kinds, uniform(seed, "badkind." + table, *key))
    marked = df.withColumn(MARK, F.when(picked, kind))
    broken = F.col(MARK) == "balance_break"
    base = marked.withColumn(MARK, F.when(broken, F.col(MARK)))
    if table == "JNL_ACC_CHG":
        base = base.withColumn("TXN_AMT", F.when(broken, C("TXN_AMT") + 1).otherwise(C("TXN_AMT")))
    copies = marked.filter(F.col(MARK).isNotNull() & ~broken)
    for col in df.columns:
        damaged = C(col)
        for name, damage in KINDS[table].items():
            if col in damage:
                damaged = F.when(F.col(MARK) == name, damage[col]()).otherwise(damaged)
        copies = copies.withColumn(col, damaged)
    out = base.unionByName(copies)
    if not as_text:
        return out
    out = out.select(*[C(c).cast("string").alias(c) for c in out.columns])
    for col, damage in UNPARSEABLE.get(table, {}).items():
        out = out.withColumn(col, F.when(F.col(MARK) == "unparseable", damage()).otherwise(C(col)))
    return out


def truth(injected: DataFrame, table: str) -> DataFrame:
    """table_name, stat_month, rule, rows: what the ingest must quarantine."""
    month = {"JNL_ACC_CHG": F.substring(C("TXN_TS").cast("string"), 1, 7),
             "T98_INDPTY_PROD_STAT": C("STAT_MONTH")}.get(table, F.lit(DIMENSION_MONTH))
    return (injected.filter(F.col(MARK).isNotNull())
            .groupBy(F.lit(table).alias("table_name"), month.alias("stat_month"), F.col(MARK).alias("rule"))
            .agg(F.count(F.lit(1)).alias("rows")))


def _eligible(table: str) -> Column:
    # An OPENING_BALANCE record is not chain-checked, so it cannot carry a balance break.
    return C("TXN_CODE") != "OPENING_BALANCE" if table == "JNL_ACC_CHG" else F.lit(True)
