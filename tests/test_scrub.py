"""Free text that may quote row values (Spark's error messages) is masked like the tables
before it reaches a log line or run_manifest.error."""
from __future__ import annotations

import dataclasses
import logging

import pytest
from pyspark.sql import functions as F

from lib import monthly
from lib.logs import get_logger
from lib.privacy import scrub

CLEAR = ("Cannot cast '410425199001010567' in row (A410000067600, 邓娜洋, 41042519900101056X) at 2019-01-01, "
         "commit 5cd6672")


def test_scrub_masks_ids_accounts_and_names_and_keeps_the_rest():
    assert scrub(CLEAR) == ("Cannot cast '410425********0567' in row (****7600, 邓某, 410425********056X) "
                            "at 2019-01-01, commit 5cd6672")


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
