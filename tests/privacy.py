"""Scanning tables for clear personal data (tests and the fault suite, at test scale)."""
from __future__ import annotations

from pyspark.sql import functions as F


def personal_values(spark, db):
    """The clear ID numbers, names and account numbers of a province (test scale)."""
    t01 = spark.table(f"{db}_silver.t01_indpty_id").select("id_no", "cust_name").distinct().collect()
    ledger = spark.table(f"{db}_silver.jnl_acc_chg")
    accounts = ledger.select(F.col("cpty_acct_no").alias("a")).union(ledger.select(F.col("agmt_id").alias("a")))
    return ({r.id_no for r in t01}, {r.cust_name for r in t01},
            {r.a for r in accounts.distinct().collect() if r.a})


def string_values(df):
    """Every string of a table (also inside arrays, and string fields of structs inside
    arrays), as one column `v`."""
    types = {f.name: f.dataType.simpleString() for f in df.schema.fields}
    single = [df.select(F.col(c).alias("v")) for c, t in types.items() if t == "string"]
    single += [df.select(F.explode_outer(c).alias("v")) for c, t in types.items() if t == "array<string>"]
    for c, t in types.items():
        if t.startswith("array<struct<"):
            items = df.select(F.explode_outer(c).alias("e"))
            single += [items.select(F.col("e")[f.name].alias("v")) for f in df.schema[c].dataType.elementType.fields
                       if f.dataType.simpleString() == "string"]
    out = single[0]
    for s in single[1:]:
        out = out.unionByName(s)
    return out.filter(F.col("v").isNotNull())
