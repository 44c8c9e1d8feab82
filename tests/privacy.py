"""Scanning tables for clear personal data (tests and the fault suite, at test scale)."""
from __future__ import annotations

from functools import reduce

from pyspark.sql import DataFrame
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
    return reduce(DataFrame.unionByName, single).filter(F.col("v").isNotNull())


ID_NUMBER = r"\d{17}[\dX]"


def table_names(spark, db) -> list[str]:
    """The tables of `db` (SHOW TABLES: the Catalog API's objects cannot be decoded with
    the tests' interpreted plans)."""
    return sorted(r.tableName for r in spark.sql(f"SHOW TABLES IN {db}").collect() if not r.isTemporary)


def tables_with_personal_data(spark, db, clear: set[str]) -> dict[str, int]:
    """Per table of `db` with any, how many of its strings are one of the `clear` values or
    hold an 18-character ID number: every table's strings in one Spark job."""
    marked = spark.createDataFrame([(v, True) for v in clear], "v string, clear boolean")
    values = reduce(DataFrame.unionByName, [string_values(spark.table(f"{db}.{name}")).withColumn("table", F.lit(name))
                                            for name in table_names(spark, db)])
    hits = (values.join(F.broadcast(marked), "v", how="left")
            .filter(F.col("clear") | F.col("v").rlike(ID_NUMBER))
            .groupBy("table").count().collect())              # bounded: one row per table with a hit
    return {r.table: r["count"] for r in hits}
