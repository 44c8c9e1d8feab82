"""Runs at the same time (the fault suite's F4 and F5): two ingests of one month, started
together in one driver, end with one success and one clear conflict and a whole month;
ingests of different months run side by side. Then the month claims themselves: a dead
driver's is taken over, a live one's stops the run. The other faults each have their own
test (see the README's fault table)."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import ingest
from lib.errors import RunConflictError
from lib.run_lock import claim, holding, release
from tests.conftest import E2E_MONTHS, job_args
from tests.rows import ingest_tables
from tests.runs import Messages, at_once

pytestmark = pytest.mark.integration     # end to end: see tests/conftest.py

MONTHS = list(E2E_MONTHS[:2])


def no_claims(conf, database: str) -> bool:
    return not any((Path(conf.paths.warehouse) / "_locks" / database).iterdir())


def assert_same_months(spark, database: str, months: list[str]) -> None:
    """Every ingest table of `database` holds for `months` exactly what the month-by-month
    ingest of the same province wrote into e2e."""
    for mine, reference in zip(ingest_tables(database), ingest_tables("e2e")):
        of = F.col("stat_month").isin(months)
        assert_df_equality(spark.table(mine).filter(of), spark.table(reference).filter(of),
                           ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


@pytest.fixture(scope="module")
def same_month_twice(spark, conf, parquet_province):
    """Database flt: 2019-01 ingested, then two ingests of 2019-02 started together; their
    exit codes and the error lines they logged."""
    assert ingest.main(job_args(conf, parquet_province, "flt", "--month", MONTHS[0])) == 0
    with Messages(logging.ERROR) as errors:
        codes = at_once(spark, ingest.main, [job_args(conf, parquet_province, "flt", "--month", MONTHS[1])] * 2)
    return codes, errors.lines


def test_two_runs_of_one_month_at_once_one_stops_on_the_conflict_and_the_month_is_whole(spark, conf, same_month_twice):
    codes, errors = same_month_twice
    assert sorted(codes) == [0, 1]
    assert len(errors) == 1
    assert (errors[0].startswith("FAILED: RunConflictError: month 2019-02 is being run by ingest run ")
            or errors[0] == "FAILED: RunConflictError: month 2019-02: other runs claimed it at the same moment; "
                            "run again once they end"), errors[0]
    assert_same_months(spark, "flt", MONTHS)
    assert no_claims(conf, "flt")                          # both runs gave their months back


def test_runs_of_different_months_at_once_both_complete(spark, conf, parquet_province, same_month_twice):
    assert at_once(spark, ingest.main, [job_args(conf, parquet_province, "flt", "--month", m) for m in MONTHS]) == [0, 0]
    assert_same_months(spark, "flt", MONTHS)
    assert no_claims(conf, "flt")


def claim_file(conf, month: str, **holder) -> Path:
    path = Path(conf.lock_path(month))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run_id": "r-old", "job": "monthly", "started_at": "2019-03-01 02:00:00", **holder}))
    return path


def test_a_claim_left_by_a_killed_driver_of_this_host_is_taken_over(spark, conf, caplog):
    locks = dataclasses.replace(conf, database="lock_dead")
    gone = subprocess.Popen(["true"])
    gone.wait()
    path = claim_file(locks, "2019-02", host=socket.gethostname(), pid=gone.pid)
    with holding(spark, locks, "ingest", ["2019-01", "2019-02"], logging.getLogger("wealth.test")) as run_id:
        assert json.loads(path.read_text())["run_id"] == run_id
        assert json.loads(Path(locks.lock_path("2019-01")).read_text())["pid"] == os.getpid()
    assert f"month 2019-02: took over the claim of monthly run r-old, whose driver process {gone.pid} is gone" in caplog.text
    assert no_claims(locks, "lock_dead")


def test_a_claim_of_another_host_or_a_live_process_stops_the_run_holding_nothing(spark, conf):
    locks = dataclasses.replace(conf, database="lock_live")
    path = claim_file(locks, "2019-02", host="etl-node-7", pid=4242)
    with pytest.raises(RunConflictError) as err:
        claim(spark, locks, "aum", ["2019-01", "2019-02", "2019-03"], logging.getLogger("wealth.test"))
    assert str(err.value) == ("month 2019-02 is being run by monthly run r-old (host etl-node-7, pid 4242, since "
                              f"2019-03-01 02:00:00): wait for it to end; if it is dead, delete {path} and run again")
    assert sorted(p.name for p in path.parent.iterdir()) == ["2019-02.json"]      # 2019-01 given back
    claim_file(locks, "2019-02", host=socket.gethostname(), pid=os.getpid())          # this very process: alive
    with pytest.raises(RunConflictError, match=r"^month 2019-02 is being run by monthly run r-old \(host "):
        claim(spark, locks, "aum", ["2019-02"], logging.getLogger("wealth.test"))


def test_of_many_claims_of_one_month_made_at_the_same_moment_exactly_one_wins(spark, conf):
    """Hadoop's local create(overwrite=false) checks, then creates: racing threads could
    both win it. 8 threads released together by a barrier, 25 times."""
    locks, log = dataclasses.replace(conf, database="lock_race"), logging.getLogger("wealth.test")
    start = threading.Barrier(8)

    def try_claim(_):
        start.wait()
        try:
            return claim(spark, locks, "ingest", ["2019-02"], log)
        except RunConflictError:
            return None

    for _ in range(25):
        with ThreadPoolExecutor(8) as pool:
            won = [run_id for run_id in pool.map(try_claim, range(8)) if run_id]
        assert len(won) == 1
        release(spark, locks, won[0], ["2019-02"])
        assert no_claims(locks, "lock_race")
