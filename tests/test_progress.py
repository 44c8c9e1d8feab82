"""A stage logs its progress while it runs: the rows its Spark jobs have read, their tasks
and the seconds so far; an inner stage's work counts toward the outer one too."""
from __future__ import annotations

import logging
import re
import time

from lib import progress
from lib.logs import stage


def test_a_running_stage_logs_the_rows_its_jobs_read_and_their_tasks(spark, tmp_path, monkeypatch, caplog):
    path = str(tmp_path / "rows")
    spark.range(1234).repartition(3).write.parquet(path)
    assert spark.read.parquet(path).filter("id % 2 = 0").count() == 617        # outside any stage: not counted
    monkeypatch.setattr(progress, "EVERY_SECONDS", 0.3)
    log = logging.getLogger("wealth.test")
    with caplog.at_level(logging.INFO, logger="wealth"), stage(log, "outer"):
        spark.read.parquet(path).filter("id % 2 = 0").count()
        time.sleep(1.5)
        with stage(log, "inner"):
            spark.read.parquet(path).filter("id % 3 = 0").count()
            time.sleep(1.5)
        time.sleep(1.5)
    said = [r.getMessage() for r in caplog.records]
    ticks = {name: [line for line in said if line.startswith(f"stage {name}: running ")] for name in ("outer", "inner")}
    shape = r"stage {}: running \d+ s, {} rows read, tasks (\d+)/\1$"
    assert re.fullmatch(shape.format("inner", "1,234"), ticks["inner"][-1])
    assert re.fullmatch(shape.format("outer", "2,468"), ticks["outer"][-1])          # its own read and the inner's
    before_inner = said[:said.index("stage inner: start")]
    assert re.fullmatch(shape.format("outer", "1,234"), [line for line in before_inner if "running" in line][-1])
    assert spark.sparkContext.getLocalProperty("spark.jobGroup.id") is None          # the stage's job group is gone

