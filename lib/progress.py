"""Progress of a long stage, logged while it runs: the rows its Spark jobs have read so
far, their tasks done and the seconds so far, once every EVERY_SECONDS.

Each stage runs its Spark jobs under a job group of its own, named after it (so the Spark
UI of a cluster shows "validate 2019-02" too); a stage inside another one counts toward
both. The figures come from Spark's status store, which the driver keeps whether or not
the UI runs. It forgets the oldest jobs of a long application (spark.ui.retainedJobs), so
each stage's figures are remembered here as they are seen."""
from __future__ import annotations

import itertools
import logging
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from pyspark import SparkContext

EVERY_SECONDS = 60.0

_GROUP, _DESCRIPTION = "spark.jobGroup.id", "spark.job.description"
_numbers = itertools.count(1)
_open = threading.local()       # this thread's stages, outermost first


class Progress:
    """The Spark work done so far under a stage's job groups (its own and its inner stages')."""

    def __init__(self, sc: SparkContext) -> None:
        self.sc = sc
        self.groups: list[str] = []
        self.seen: dict[int, tuple[int, int, int]] = {}     # Spark stage id: rows read, tasks done, tasks

    def totals(self) -> tuple[int, int, int]:
        """(rows read, tasks done, tasks) over every Spark stage of the groups' jobs."""
        tracker, store = self.sc.statusTracker(), self.sc._jsc.sc().statusStore()  # noqa: SLF001 - records read
        for group in list(self.groups):
            for job_id in tracker.getJobIdsForGroup(group):
                job = tracker.getJobInfo(job_id)
                for stage_id in job.stageIds if job else ():
                    try:
                        data = store.lastStageAttempt(stage_id)
                    except Exception:  # noqa: BLE001 - not yet known to the store, or already forgotten
                        continue
                    if data.status().toString() != "SKIPPED":     # its output was there already: never runs
                        self.seen[stage_id] = (data.inputRecords(), data.numCompleteTasks(), data.numTasks())
        return tuple(sum(figures) for figures in zip(*self.seen.values())) if self.seen else (0, 0, 0)


@contextmanager
def tracked(log: logging.Logger, name: str) -> Iterator[None]:
    """Run the block's Spark jobs under a job group of their own and log the progress of
    the stage `name` every EVERY_SECONDS until it ends."""
    sc = SparkContext.getOrCreate()          # the job's own, already running
    progress, group = Progress(sc), f"wealth-{next(_numbers)}"
    outer = getattr(_open, "stages", [])
    _open.stages = outer + [progress]
    for each in _open.stages:
        each.groups.append(group)
    before = sc.getLocalProperty(_GROUP), sc.getLocalProperty(_DESCRIPTION)
    sc.setJobGroup(group, name)
    done, started = threading.Event(), time.monotonic()

    def report() -> None:
        while not done.wait(EVERY_SECONDS):
            rows, finished, tasks = progress.totals()
            log.info("stage %s: running %.0f s, %s rows read, tasks %s/%s", name, time.monotonic() - started,
                     f"{rows:,}", f"{finished:,}", f"{tasks:,}")

    reporter = threading.Thread(target=report, name=f"progress {group}", daemon=True)
    reporter.start()
    try:
        yield
    finally:
        done.set()
        reporter.join()
        _open.stages = outer
        sc.setLocalProperty(_GROUP, before[0])
        sc.setLocalProperty(_DESCRIPTION, before[1])
