"""The ingest stage for a month range: read the six source tables, validate and split them
(lib/ingest/split.py), check each month's volumes and bad-row limits, then publish silver,
quarantine, data_quality and the ledger chain state, or nothing."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.config import Config
from lib.ingest import validation as V
from lib.ingest.rules import TABLE_RULES
from lib.ingest.sample import customers_slice
from lib.ingest.split import (
    INGEST_ORDER, Validated, check_limits, check_volumes, month_volumes, quality_counts, quarantine_rows,
    silver_rows, validate_months,
)
from lib.io import month_or_none, read_months, read_other_months, read_raw, replace_months, rows_frame
from lib.logs import stage
from lib.months import add_months, month_range
from lib.tables import DATA_QUALITY, FINGERPRINT, LEDGER_CHAIN_STATE, quarantine_spec, silver_spec


def publish(spark: SparkSession, conf: Config, months: list[str], validated: dict[str, Validated],
            counts: list[dict], prior_chain: DataFrame | None) -> None:
    """Write silver, quarantine, data_quality and the ledger chain state for `months`.
    Each write replaces only the run's months, so a re-run is identical."""
    for table, v in validated.items():
        replace_months(spark, silver_rows(v), conf.silver_database, silver_spec(table), months)
        replace_months(spark, quarantine_rows(v), conf.database, quarantine_spec(table), months)
    replace_months(spark, rows_frame(spark, DATA_QUALITY, counts), conf.database, DATA_QUALITY, months)
    states = V.chain_states(validated["JNL_ACC_CHG"].flagged, prior_chain, months)
    replace_months(spark, states, conf.silver_database, LEDGER_CHAIN_STATE, months)


def table_counts(counts: list[dict], table: str) -> str:
    """'<table>: rows_in=… rows_bad=…' over the months of `counts` (data_quality rows). The
    counts carry thousands separators: the log's scrubber takes a bare run of eight digits or
    more (a 1,000,000-customer ledger's 16 million rows) for an account number and masks it."""
    mine = [r for r in counts if r["table_name"] == table]
    rows_in = sum({r["stat_month"]: r["rows_in"] for r in mine}.values())
    return f"{table}: rows_in={rows_in:,} rows_bad={sum(r['rows_bad'] for r in mine):,}"


def run_ingest(spark: SparkSession, conf: Config, first: str, last: str, log) -> list[dict]:
    """Validate first..last in one pass, check each month's volumes and limits, publish; the
    data_quality rows of the months. The same tables as month-by-month runs."""
    months = month_range(first, last)
    span = first if first == last else f"{first}..{last}"
    prior = read_prior_chain(spark, conf, first)
    with stage(log, f"validate {span}") as st:
        raw = {table: read_raw(spark, conf, table) for table in INGEST_ORDER}
        if conf.customers_sample is not None:
            log.info("ingest %s: a slice of %s of the customers, into %s", span, conf.customers_sample, conf.database)
            raw = customers_slice(raw, conf.customers_sample)
        filed = {table: filed_undated(spark, conf, table, months) for table in INGEST_ORDER
                 if TABLE_RULES[table].datable}
        validated = validate_months(raw, months, conf.quality, prior, filed)
        rows = [r.asDict() for r in quality_counts(validated).collect()]  # bounded: tables x rules x months
        st.rows_in = sum({(r["table_name"], r["stat_month"]): r["rows_in"] for r in rows}.values())
    for table in validated:
        log.info("%s", table_counts(rows, table))
    try:
        for month in months:
            before = add_months(month, -1)
            previous = month_volumes(rows, before) if before in months else previous_volumes(spark, conf, month)
            check_volumes(month_volumes(rows, month), month, previous, before, conf.quality.min_volume_share)
        check_limits(rows, conf.quality.max_bad_share)
        with stage(log, f"publish {span}"):
            publish(spark, conf, months, validated, rows, prior)
    finally:
        for v in validated.values():
            v.flagged.unpersist()
    return rows


def previous_volumes(spark: SparkSession, conf: Config, month: str) -> dict[str, int] | None:
    """The previous month's rows_in per source table, if that month was ingested."""
    name, previous = conf.table(DATA_QUALITY.name), add_months(month, -1)
    if not spark.catalog.tableExists(name):
        return None
    rows = read_months(spark, name, [previous]).collect()   # bounded: tables x rules
    return month_volumes([r.asDict() for r in rows], previous) if rows else None


def filed_undated(spark: SparkSession, conf: Config, table: str, months: list[str]) -> DataFrame | None:
    """Fingerprints of `table`'s rows quarantined as undated under a month outside `months`,
    read now: the run's validated rows must not depend on the table this run rewrites (a
    cached DataFrame over a table is recomputed each time the table is written)."""
    name = conf.table(quarantine_spec(table).name)
    if not spark.catalog.tableExists(name):
        return None
    return (read_other_months(spark, name, months).filter(F.col("rule") == "undated")
            .select(FINGERPRINT).localCheckpoint())


def read_prior_chain(spark: SparkSession, conf: Config, month: str) -> DataFrame | None:
    """The chain state of the month before `month`, if that month was ingested, read now
    (as filed_undated): writing this run's state must not read the table it writes, which
    Delta would take for a conflict with a run of the month before at the same time."""
    name, previous = conf.silver_table(LEDGER_CHAIN_STATE.name), add_months(month, -1)
    rows = month_or_none(spark, name, previous)
    return None if rows is None else rows.localCheckpoint()
