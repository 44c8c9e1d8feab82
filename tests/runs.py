"""Running jobs the way the fault suite (scripts/faults.py) and its tests do: several at
once on one driver, with the lines the product logs meanwhile caught."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from pyspark.sql import SparkSession


class Messages(logging.Handler):
    """The message of every record the product's loggers write at `level` or above, while
    attached (`with Messages() as caught:`)."""

    def __init__(self, level: int = logging.NOTSET):
        super().__init__(level)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def since(self, mark: int) -> str:
        """The lines caught after the first `mark`, one text."""
        return "\n".join(self.lines[mark:])

    def __enter__(self) -> Messages:
        logging.getLogger("wealth").addHandler(self)
        return self

    def __exit__(self, *_) -> None:
        logging.getLogger("wealth").removeHandler(self)


def on_this_session(spark: SparkSession, job_main: Callable[[list[str]], int]) -> Callable[[list[str]], int]:
    """`job_main` made to run in `spark` on any thread (a new thread has no active session)."""
    def run(argv: list[str]) -> int:
        spark._jvm.SparkSession.setActiveSession(spark._jsparkSession)   # noqa: SLF001 - the session, on this thread
        return job_main(argv)
    return run


def at_once(spark: SparkSession, job_main: Callable[[list[str]], int], runs: list[list[str]]) -> list[int]:
    """Each argv's exit code, the runs of `job_main` started together on their own threads."""
    with ThreadPoolExecutor(len(runs)) as pool:
        return list(pool.map(on_this_session(spark, job_main), runs))
