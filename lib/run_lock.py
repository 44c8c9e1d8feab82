"""One run at a time per month of a database. Before it reads or writes a table, a job
claims each of its months by creating the month's lock file (`Config.lock_path`), which
only one creator can do (an atomic create on HDFS and local disk); it deletes the files
when it ends, failed or not. A second run of a claimed month stops at once with a
one-line reason naming the holder, so two runs never interleave their commits into a
mixed month. Runs of different months never wait on each other.

A driver killed outright cannot give its months back. Its claim is taken over when it
names this host and a process that no longer exists (renamed away first, which again only
one run can do); a claim from another host is left to the operator, whom the reason tells
how to remove it."""
from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from pyspark.sql import SparkSession

from lib.config import Config
from lib.errors import RunConflictError
from lib.io import create_text, delete_path, move, read_text
from lib.logs import new_run_id


def _process_gone(holder: dict) -> bool:
    """True when the claim names a process of this host that no longer runs."""
    if holder["host"] != socket.gethostname():
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:       # another user's process: it runs
        return False
    return False


def _held(path: str, month: str, holder: dict) -> RunConflictError:
    return RunConflictError(
        f"month {month} is being run by {holder['job']} run {holder['run_id']} (host {holder['host']}, "
        f"pid {holder['pid']}, since {holder['started_at']}): wait for it to end; if it is dead, delete {path} "
        f"and run again")


def _claim_month(spark: SparkSession, path: str, claim: dict, month: str, log) -> None:
    for attempt in range(10):
        if create_text(spark, path, json.dumps(claim)):
            return
        holder = _holder(spark, path)
        if holder is None:                  # given back, or not yet written: look again
            time.sleep(0.1 * (attempt + 1))
            continue
        if not _process_gone(holder):
            raise _held(path, month, holder)
        stale = f"{path}.stale-{claim['run_id']}"
        if move(spark, path, stale):
            moved = _holder(spark, stale)
            delete_path(spark, stale)
            if moved and moved["run_id"] != holder["run_id"]:      # a live claim made since: give it back
                if not create_text(spark, path, json.dumps(moved)):
                    log.warning("month %s: a claim of %s run %s was moved aside while another run claimed "
                                "the month", month, moved["job"], moved["run_id"])
                raise _held(path, month, moved)
            log.warning("month %s: took over the claim of %s run %s, whose driver process %s is gone",
                        month, holder["job"], holder["run_id"], holder["pid"])
    raise RunConflictError(f"month {month}: other runs claimed it at the same moment; run again once they end")


def _holder(spark: SparkSession, path: str) -> dict | None:
    """The claim in a lock file; None when there is no file or it is still being written."""
    try:
        return json.loads(read_text(spark, path) or "null")
    except json.JSONDecodeError:
        return None


def claim(spark: SparkSession, conf: Config, job: str, months: list[str], log) -> str:
    """Claim `months` for a new run of `job`; its run id. Raises RunConflictError, holding
    nothing, when another run holds one of them."""
    run_id = new_run_id()
    claim_record = {"run_id": run_id, "job": job, "host": socket.gethostname(), "pid": os.getpid(),
                    "started_at": f"{datetime.now():%Y-%m-%d %H:%M:%S}"}
    held: list[str] = []
    try:
        for month in months:
            _claim_month(spark, conf.lock_path(month), claim_record, month, log)
            held.append(month)
    except BaseException:
        release(spark, conf, run_id, held)
        raise
    return run_id


def release(spark: SparkSession, conf: Config, run_id: str, months: list[str]) -> None:
    """Give back the months the run holds."""
    for month in months:
        path = conf.lock_path(month)
        holder = _holder(spark, path)
        if holder and holder["run_id"] == run_id:
            delete_path(spark, path)


@contextmanager
def holding(spark: SparkSession, conf: Config, job: str, months: list[str], log) -> Iterator[str]:
    """The run's months claimed for the block (given back when it ends, also on failure)."""
    run_id = claim(spark, conf, job, months, log)
    log.info("%s holds %s..%s of %s as run %s", job, months[0], months[-1], conf.database, run_id)
    try:
        yield run_id
    finally:
        release(spark, conf, run_id, months)
