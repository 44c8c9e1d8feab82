"""The monthly refresh runs its stages in waves (lib.monthly.WAVES): the stages of a wave
side by side, each with its own Spark job name, a wave only after the one before has
ended; a failed stage lets the others of its wave end, and the run stops after that wave."""
from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from pyspark.sql import functions as F

from lib import monthly
from lib.logs import get_logger, stage

MONTH = "2019-01"


def test_the_waves_hold_every_stage_once_in_order():
    assert [name for wave in monthly.WAVES for name in wave] == [name for name, _ in monthly.STAGES]


def fake_stages(broken: str | None = None) -> tuple[dict, tuple]:
    """Stages that each run a Spark job under their own stage name and record when they ran
    and the job name their thread saw; a wider wave's stages wait for each other at a
    barrier, which times out (a failed stage) unless they run side by side."""
    seen: dict[str, tuple[float, float, str]] = {}
    barriers = {name: barrier for wave in monthly.WAVES for barrier in [threading.Barrier(len(wave), timeout=30)]
                for name in wave}

    def fake(name: str):
        def step(spark, _conf, _month, log) -> str:
            start = time.monotonic()
            with stage(log, f"fake {name}"):
                spark.range(10).count()
                barriers[name].wait()
                job = spark.sparkContext.getLocalProperty("spark.job.description")
            seen[name] = (start, time.monotonic(), job)
            if name == broken:
                raise RuntimeError("disk full")
            return f"{name} ran"
        return step
    return seen, tuple((name, fake(name)) for name, _ in monthly.STAGES)


def test_a_waves_stages_run_side_by_side_each_under_its_own_name_after_the_wave_before(spark, conf, monkeypatch):
    seen, stages = fake_stages()
    monkeypatch.setattr(monthly, "STAGES", stages)
    waves = dataclasses.replace(conf, database="waves")
    monthly.run_month(spark, waves, MONTH, get_logger("waves_test"))
    assert {name: job for name, (_, _, job) in seen.items()} == {name: f"fake {name}" for name, _ in stages}
    for before, after in zip(monthly.WAVES, monthly.WAVES[1:]):
        assert max(seen[n][1] for n in before) <= min(seen[n][0] for n in after), (before, after)
    run = spark.table("waves.run_manifest").filter(F.col("stat_month") == MONTH).first()
    assert run.status == "SUCCEEDED"
    assert [(s.stage, s.status, s.note) for s in run.stages] == [(n, "DONE", f"{n} ran") for n, _ in stages]


def test_a_failed_stage_lets_its_wave_end_and_the_run_stops_there(spark, conf, monkeypatch):
    seen, stages = fake_stages(broken="uplift")
    monkeypatch.setattr(monthly, "STAGES", stages)
    waves = dataclasses.replace(conf, database="waves_failed")
    with pytest.raises(monthly.StageFailed, match=r"stage uplift failed \(RuntimeError: disk full\)"):
        monthly.run_month(spark, waves, MONTH, get_logger("waves_test"))
    assert set(seen) == {"ingest", "aum", "tags", "acquisition", "uplift", "retention", "outcome"}
    run = spark.table("waves_failed.run_manifest").filter(F.col("stat_month") == MONTH).first()
    assert (run.status, run.failed_stage, run.error) == ("FAILED", "uplift", "RuntimeError: disk full")
    assert [(s.stage, s.status) for s in run.stages] == [
        ("ingest", "DONE"), ("aum", "DONE"), ("tags", "DONE"), ("acquisition", "DONE"), ("uplift", "FAILED"),
        ("retention", "DONE"), ("outcome", "DONE")]
