"""A backfill's passes: its months cut into spans of consecutive months, each ingested (and
its AUM computed) in one pass. A pass has one stage's fixed cost for all its months, but its
shuffles, spills and persisted rows grow with its ledger rows and need local disk
(spark.local.dir) in proportion: 12 months of a 1,000,000-customer province (84M ledger rows)
in one pass filled 68 GB. So a pass takes as many months as keep its source ledger under
conf's backfill_pass_rows, and at least one."""
from __future__ import annotations

from pyspark.sql import SparkSession

from lib.config import Config
from lib.ingest.split import month_slice
from lib.io import read_raw
from lib.months import month_range

LEDGER = "JNL_ACC_CHG"


def pass_spans(months: list[str], ledger_rows: int, max_rows: int) -> list[tuple[str, str]]:
    """(first, last) of each pass over `months`, in order: as many months in each as the
    average month's rows (ledger_rows / len(months)) allow under max_rows, at least one."""
    per_month = ledger_rows / len(months)
    size = max(1, int(max_rows // per_month)) if per_month else len(months)
    return [(months[i], months[min(i + size, len(months)) - 1]) for i in range(0, len(months), size)]


def backfill_passes(spark: SparkSession, conf: Config, first: str, last: str, log) -> list[tuple[str, str]]:
    """The passes of first..last, from the source ledger's rows in the range (a source the
    range cannot prune, CSV or a metastore table of strings, counts all its rows: smaller
    passes, never larger)."""
    months = month_range(first, last)
    if len(months) == 1:
        return [(first, last)]
    rows = month_slice(read_raw(spark, conf, LEDGER), LEDGER, months).count()
    spans = pass_spans(months, rows, conf.backfill_pass_rows)
    log.info("backfill %s..%s: %s source ledger rows, %d pass%s of up to %d months (backfill_pass_rows %s)",
             first, last, f"{rows:,}", len(spans), "" if len(spans) == 1 else "es",
             len(month_range(*spans[0])), f"{conf.backfill_pass_rows:,}")
    return spans
