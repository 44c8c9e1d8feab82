"""The monthly refresh: the stages of one month in waves (WAVES), each logged, and the run
recorded in run_manifest (code version, conf hash, seeds, the silver versions it read and
the gold versions it left, each stage's status and seconds).

Each stage replaces only its own month of each table, one atomic Delta commit per table,
so a failed run leaves every table readable at its last committed version, and a re-run
of the month completes it with the same results.
"""
from __future__ import annotations

import time
from datetime import datetime

from pyspark import InheritableThread
from pyspark.sql import SparkSession

from lib.acquisition.run import run_acquisition
from lib.aum.run import run_aum
from lib.config import Config
from lib.errors import NothingToFollow, NotTrainable
from lib.export.run import run_export
from lib.ingest.passes import backfill_passes
from lib.ingest.run import run_ingest
from lib.io import append_rows, months_in, rows_frame, table_versions
from lib.logs import new_run_id, one_line
from lib.months import add_months, month_range
from lib.outcome.run import run_outcome
from lib.privacy import scrub
from lib.provenance import code_version, conf_hash
from lib.report.run import run_report
from lib.retention.run import run_retention
from lib.tables import CUSTOMER_MONTH_AUM, CUSTOMER_TAGS, RUN_MANIFEST
from lib.tags.run import run_tags
from lib.uplift.run import run_uplift


class Skipped(Exception):
    """A stage that cannot run this month, and why (recorded, not a failure)."""


class StageFailed(RuntimeError):
    """A stage failed; the run stopped there."""


def _ingest(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    run_ingest(spark, conf, month, month, log)
    return None


def _aum(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    return run_aum(spark, conf, month, month, log)


def _retention_months(conf: Config, month: str) -> tuple[str, str]:
    """(r − 1, r): the reference months the retention stage labels."""
    return add_months(month, -conf.retention.horizon - 1), add_months(month, -conf.retention.horizon)


def _tags(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    """Tags of the month, and of the retention's reference months when they have AUM but
    no tags yet (the first months of a refresh that starts mid-history)."""
    have_aum, have_tags = months_in(spark, conf.table(CUSTOMER_MONTH_AUM.name)), months_in(
        spark, conf.table(CUSTOMER_TAGS.name))
    extra = [m for m in _retention_months(conf, month) if m in have_aum and m not in have_tags]
    for m in extra + [month]:
        run_tags(spark, conf, m, log)
    return f"also tagged {', '.join(extra)} for the retention stage" if extra else None


def _acquisition(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    return run_acquisition(spark, conf, month, log)


def _uplift(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    run_uplift(spark, conf, month, log)
    return None


def _retention(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    first = _retention_months(conf, month)[0]
    missing = [m for m in month_range(first, month) if m not in months_in(spark, conf.table(CUSTOMER_MONTH_AUM.name))]
    if missing:
        raise Skipped(f"labels need customer_month_aum for {first}..{month} "
                      f"({conf.retention.horizon} months after each reference month); missing {', '.join(missing)}")
    try:
        return run_retention(spark, conf, month, log)
    except NotTrainable as why:     # early months: nobody has churned yet
        raise Skipped(f"no churn model this month: {why}") from why


def _outcome(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    try:
        return run_outcome(spark, conf, month, log)
    except NothingToFollow as why:     # the first months: no list of the months before
        raise Skipped(str(why)) from why


def _report(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    return run_report(spark, conf, month, log)


def _export(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    return run_export(spark, conf, month, log)


STAGES = (("ingest", _ingest), ("aum", _aum), ("tags", _tags), ("acquisition", _acquisition),
          ("uplift", _uplift), ("retention", _retention), ("outcome", _outcome),
          ("report", _report), ("export", _export))

# The stages in waves: a wave starts when the one before has ended, and the stages of a wave,
# which read none of each other's tables (outcome follows the lists of earlier months), run
# side by side in threads of the one driver. A small month's stage leaves the cores idle
# between its Spark jobs (planning, commits, the driver's Python); the others' jobs fill them.
WAVES = (("ingest",), ("aum",), ("tags",), ("acquisition", "uplift", "retention", "outcome"), ("report", "export"))


def _versions(spark: SparkSession, database: str, leave_out: tuple[str, ...] = ()) -> dict[str, int]:
    return {name: v for name, v in table_versions(spark, database).items() if name not in leave_out}


def _stages(first: str, last: str, month: str) -> tuple:
    """The stages of `month` in a run of first..last. Over more than one month, the first
    month's ingest and aum run for all of them, one pass each (the same tables as month by
    month, with one stage's fixed cost instead of one a month); the later months record
    them as done with the first."""
    if first == last:
        return STAGES
    def ingest_all(spark: SparkSession, conf: Config, _: str, log) -> str:
        run_ingest(spark, conf, first, last, log)
        return f"{first}..{last} in one pass"

    def aum_all(spark: SparkSession, conf: Config, _: str, log) -> str:
        note = run_aum(spark, conf, first, last, log)
        return f"{first}..{last} in one pass" + (f"; {note}" if note else "")

    def done_with_first(*_) -> str:
        return f"done in one pass with {first}"

    ahead = ({"ingest": ingest_all, "aum": aum_all} if month == first else
             {"ingest": done_with_first, "aum": done_with_first})
    return tuple((name, ahead.get(name, step)) for name, step in STAGES)


def _run_stage(spark: SparkSession, conf: Config, month: str, log, name: str, step) -> tuple:
    """(name, status, seconds, note, failure reason) of one stage run."""
    start = time.monotonic()
    try:
        note = step(spark, conf, month, log)
        return name, "DONE", time.monotonic() - start, note, None
    except Skipped as why:
        log.warning("monthly %s: stage %s skipped: %s", month, name, why)
        return name, "SKIPPED", time.monotonic() - start, str(why), None
    except Exception as err:  # noqa: BLE001 - recorded, then re-raised as StageFailed
        return name, "FAILED", time.monotonic() - start, None, scrub(one_line(err)[:300])


def _run_wave(spark: SparkSession, conf: Config, month: str, log, steps: list[tuple]) -> list[tuple]:
    """The stages of a wave, side by side when more than one (each in a thread that takes
    the caller's Spark job properties and closes its JVM thread when done); their runs in
    the wave's order."""
    if len(steps) == 1:
        return [_run_stage(spark, conf, month, log, *steps[0])]
    runs: list[tuple] = [()] * len(steps)

    def run(i: int, name: str, step) -> None:
        runs[i] = _run_stage(spark, conf, month, log, name, step)
    threads = [InheritableThread(target=run, args=(i, *s), name=f"stage {s[0]} {month}") for i, s in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


def run_month(spark: SparkSession, conf: Config, month: str, log, span: tuple[str, str] | None = None) -> None:
    """Every stage for `month`, wave by wave (WAVES); a wave with a failed stage is the
    last (its other stages end first). The run is recorded whatever happens."""
    run_id, started, version = new_run_id(), datetime.now(), code_version()
    inputs = _versions(spark, conf.silver_database)
    log.info("monthly %s: run %s, code %s, conf %s", month, run_id, version, conf_hash(conf))
    steps = dict(_stages(*(span or (month, month)), month))
    done: list[tuple] = []
    failure: tuple[str, str] | None = None
    for names in WAVES:
        runs = _run_wave(spark, conf, month, log, [(name, steps[name]) for name in names if name in steps])
        done += [run[:4] for run in runs]
        failure = next(((name, reason) for name, status, _, _, reason in runs if status == "FAILED"), None)
        if failure:
            break
    record = {
        "run_id": run_id, "code_version": version, "conf_hash": conf_hash(conf),
        "seeds": {"tags": conf.tags.seed, "uplift": conf.uplift.seed, "retention": conf.retention.seed},
        "status": "FAILED" if failure else "SUCCEEDED", "failed_stage": failure[0] if failure else None,
        "error": failure[1] if failure else None,
        "stages": [(s, st, round(sec, 1), n) for s, st, sec, n in done],
        "input_versions": inputs, "output_versions": _versions(spark, conf.database, (RUN_MANIFEST.name,)),
        "started_at": started, "finished_at": datetime.now(), "stat_month": month,
    }
    append_rows(spark, rows_frame(spark, RUN_MANIFEST, [record]), conf.database, RUN_MANIFEST)
    summary = ", ".join(f"{s} {st.lower()} {sec:.0f}s" for s, st, sec, _ in done)
    if failure:
        raise StageFailed(f"monthly {month}: stage {failure[0]} failed ({failure[1]}); tables keep their last "
                          f"committed versions; re-run the month to complete it [{summary}]")
    log.info("monthly %s: succeeded [%s]", month, summary)


def run_monthly(spark: SparkSession, conf: Config, first: str, last: str, log) -> None:
    """Each month from `first` to `last` in order, in the backfill's passes
    (lib/ingest/passes.py); stops at the first failed month."""
    for span in backfill_passes(spark, conf, first, last, log):
        for month in month_range(*span):
            run_month(spark, conf, month, log, span)
