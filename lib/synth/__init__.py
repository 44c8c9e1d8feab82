"""The synthetic province generator (SPEC §6): the six source tables and planted truth."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.io import delete_path
from lib.logs import stage
from lib.schemas import SOURCE_TABLES
from lib.synth import badrows
from lib.synth.ledger import external_hubs, holdings, ledger, own_accounts
from lib.synth.province import GenParams, agreements, branches, customers, relations, with_products


LEDGER_ORDER = ("TXN_DT", "AGMT_ID", "TXN_SEQ")      # the order the ledger's files are written in


def province(spark: SparkSession, p: GenParams) -> tuple[dict[str, DataFrame], dict[str, DataFrame]]:
    """(source tables by name, planted truth by name); nothing is computed yet."""
    # Cut the lineage twice: four tables derive from agreements, and the expressions of
    # one long plan grow past what Spark's code generator compiles.
    cust = with_products(customers(spark, p), p).localCheckpoint(eager=True)
    agmts = agreements(cust, p).localCheckpoint(eager=True)
    tables = {
        "ORG_DIM": branches(spark, p),
        "T01_INDPTY_ID": cust,
        "T03_AGREEMENT": agmts,
        "TCS_INDPTY_AGMT_RELATION_H": relations(agmts),
        "T98_INDPTY_PROD_STAT": holdings(agmts, p),
        "JNL_ACC_CHG": ledger(agmts.filter(F.col("class") == "deposit"), p),
    }
    tables = {name: df.select(*[F.col(f.name).cast(f.dataType) for f in SOURCE_TABLES[name]])
              for name, df in tables.items()}
    truth = {
        "customers": cust.select(F.col("CUST_ID").alias("cust_id"), "segment", "profile", "base",
                                 F.when(F.col("churn_k").isNotNull(),
                                        F.date_format(F.add_months(F.lit(p.first_day), F.col("churn_k")), "yyyy-MM"))
                                 .alias("churn_month"),
                                 "own_outflow", *[c for c in cust.columns if c.startswith("has_")]),
        "external_hubs": external_hubs(spark, p),
        "own_accounts": own_accounts(cust, p),
    }
    return tables, truth


def with_bad_rows(tables: dict[str, DataFrame], p: GenParams, as_text: bool
                  ) -> tuple[dict[str, DataFrame], DataFrame | None]:
    """Tables with injected bad rows (still carrying the MARK column) and the count of
    what was injected per table x month x rule; unchanged when bad_rate is 0."""
    if p.bad_rate <= 0:
        if as_text:
            tables = {n: df.select(*[F.col(c).cast("string") for c in df.columns]) for n, df in tables.items()}
        return {n: df.withColumn(badrows.MARK, F.lit(None).cast("string")) for n, df in tables.items()}, None
    injected = {n: badrows.inject(df, n, p.bad_rate, p.seed, as_text) for n, df in tables.items()}
    counts = [badrows.truth(df, n, p.start_month) for n, df in injected.items()]
    total = counts[0]
    for c in counts[1:]:
        total = total.unionByName(c)
    return injected, total


def write_province(spark: SparkSession, p: GenParams, root: str, fmt: str, log) -> None:
    """Write the six source tables under `root` (parquet, or CSV with a header) and the
    planted truth under `root`/_truth."""
    tables, truth = province(spark, p)
    as_text = fmt == "csv"
    staging = f"{root}/_staging"
    if p.bad_rate > 0 or as_text:
        # Damage is injected into a staged clean copy, so the province is generated once.
        for name, df in tables.items():
            with stage(log, f"generate {name}"):
                df.write.mode("overwrite").parquet(f"{staging}/{name}")
        tables = {name: spark.read.parquet(f"{staging}/{name}") for name in tables}
    tables, injected = with_bad_rows(tables, p, as_text)
    for name, df in tables.items():
        with stage(log, f"write {name}"):
            rows = df.drop(badrows.MARK)
            if name == "JNL_ACC_CHG":
                # A journal extract comes in posting order: two files a month, each a run of
                # days, so a month's read skips the others' (Parquet's min and max of TXN_DT).
                rows = rows.repartitionByRange(2 * p.months, "TXN_DT").sortWithinPartitions(*LEDGER_ORDER)
            writer = rows.write.mode("overwrite")
            if as_text:
                writer.option("header", True).csv(f"{root}/{name}")
            else:
                writer.parquet(f"{root}/{name}")
    for name, df in truth.items():
        df.write.mode("overwrite").parquet(f"{root}/_truth/{name}")
    if injected is not None:
        injected.coalesce(1).write.mode("overwrite").parquet(f"{root}/_truth/bad_rows")
    delete_path(spark, staging)
