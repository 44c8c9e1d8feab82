"""Free text that may quote row values (Spark's error messages) is masked like the tables
before it reaches a log line or run_manifest.error."""
from __future__ import annotations

import dataclasses
import logging
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from pyspark.errors.exceptions.captured import CapturedException
from pyspark.sql import functions as F

from lib import monthly
from lib.ingest.run import table_counts
from lib.logs import get_logger, new_run_id, one_line
from lib.privacy import scrub

CLEAR = ("Cannot cast '410425199001010567' in row (A410000067600, 邓娜洋, 41042519900101056X) at 2019-01-01, "
         "commit 5cd6672")


def test_scrub_masks_ids_accounts_and_names_and_keeps_the_rest():
    assert scrub(CLEAR) == ("Cannot cast '410425********0567' in row (****7600, 邓某, 410425********056X) "
                            "at 2019-01-01, commit 5cd6672")


def test_a_run_id_never_holds_a_run_of_digits_a_scan_could_take_for_an_id_or_account_number(monkeypatch):
    # the run id a CI run drew once, 21 digits in a row: the privacy scan took it for an ID number
    drawn = iter([uuid.UUID("f98a2bce110648658999525364312e46"), uuid.UUID("0a1b2c3d4e5f4a7b8c9d0e1f2a3b4c5d")])
    monkeypatch.setattr("lib.logs.uuid.uuid4", lambda: next(drawn))
    assert new_run_id() == "0a1b2c3d4e5f4a7b8c9d0e1f2a3b4c5d"
    monkeypatch.undo()
    assert not any(re.search(r"\d{8}", new_run_id()) for _ in range(2_000))


def test_the_ingests_counts_reach_the_log_unmasked():
    # a 1,000,000-customer ledger's two months: "rows_in=16196899" went out as "rows_in=****6899"
    counts = [{"table_name": "JNL_ACC_CHG", "stat_month": "2019-01", "rule": "A", "rows_in": 8_100_000, "rows_bad": 5},
              {"table_name": "JNL_ACC_CHG", "stat_month": "2019-01", "rule": "B", "rows_in": 8_100_000, "rows_bad": 7},
              {"table_name": "JNL_ACC_CHG", "stat_month": "2019-02", "rule": "A", "rows_in": 8_096_899, "rows_bad": 0},
              {"table_name": "ORG_DIM", "stat_month": "2019-01", "rule": "A", "rows_in": 40, "rows_bad": 1}]
    line = table_counts(counts, "JNL_ACC_CHG")
    assert line == "JNL_ACC_CHG: rows_in=16,196,899 rows_bad=12"
    assert scrub(line) == line
    assert scrub("rows_in=16196899") == "rows_in=****6899"


def test_every_log_record_goes_out_scrubbed_traceback_included(caplog):
    log = get_logger("scrub_test")
    with caplog.at_level(logging.DEBUG, logger="wealth"):
        log.error("FAILED: %s", CLEAR)
        try:
            raise ValueError("row 410425199001010567 邓娜洋")
        except ValueError:
            log.debug("traceback", exc_info=True)
    assert "410425********0567" in caplog.text and "410425********056X" in caplog.text and "邓某" in caplog.text
    assert not [v for v in ("410425199001010567", "A410000067600", "邓娜洋") if v in caplog.text]


def test_a_jvm_error_is_named_by_the_jvm_exception_not_the_py4j_wrapper(spark):
    with pytest.raises(CapturedException) as err:
        spark._jvm.java.lang.Long.parseLong("12x")
    assert one_line(err.value) == 'NumberFormatException: For input string: "12x"'
    assert one_line(ValueError("first\nsecond")) == "ValueError: first"


def test_a_failed_stage_is_recorded_scrubbed(spark, conf, monkeypatch):
    def broken(*_):
        raise RuntimeError("bad row [410425199001010567, 邓娜洋, A410000067600]")
    monkeypatch.setattr(monthly, "STAGES", (("ingest", broken),))
    scrubbed = dataclasses.replace(conf, database="scrub")
    with pytest.raises(monthly.StageFailed) as failed:
        monthly.run_month(spark, scrubbed, "2019-01", get_logger("scrub_test"))
    expected = "RuntimeError: bad row [410425********0567, 邓某, ****7600]"
    assert f"stage ingest failed ({expected})" in str(failed.value)
    run = spark.table("scrub.run_manifest").filter(F.col("stat_month") == "2019-01").first()
    assert (run.status, run.failed_stage, run.error) == ("FAILED", "ingest", expected)


SPARK_LOGS = """
import sys
from lib.config import load_conf
from lib.spark import build_session
conf = load_conf("local", {"paths.warehouse": sys.argv[1], "spark.settings": {"spark.ui.enabled": "false"}})
spark = build_session("scrub", conf)
jvm = spark.sparkContext._jvm
log = jvm.org.apache.logging.log4j.LogManager.getLogger("org.apache.spark.wealth_probe")
log.warn("row (A410000067600, 邓娜洋) " + sys.argv[2], jvm.java.lang.RuntimeException("bad " + sys.argv[2]))
spark.stop()
"""


def test_sparks_own_log_lines_are_scrubbed_too(tmp_path):
    # Spark's log4j output goes to the JVM's stderr, not through Python: conf/log4j2.properties scrubs it
    env = {**os.environ, "JAVA_TOOL_OPTIONS": "-Dsun.stderr.encoding=UTF-8 -Dstderr.encoding=UTF-8"}
    run = subprocess.run([sys.executable, "-c", SPARK_LOGS, str(tmp_path), "410425199001010567"],
                         cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True, timeout=600)
    err = run.stderr.decode("utf-8")
    assert run.returncode == 0, err[-2000:]
    lines = [line for line in err.splitlines() if "wealth_probe" in line or "RuntimeException" in line]
    assert lines[0].endswith("WARN wealth_probe: row (****7600, 邓某) 410425********0567")
    assert lines[1] == "java.lang.RuntimeException: bad 410425********0567"
    assert "410425199001010567" not in err and "娜洋" not in err
