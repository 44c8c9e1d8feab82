"""Progress logs: stage, rows in/out, seconds. Never personal data: callers log counts,
table names, months and rule names only."""
from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from typing import Iterator

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def get_logger(job: str) -> logging.Logger:
    logger = logging.getLogger(f"wealth.{job}")
    if not logging.getLogger("wealth").handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        logging.getLogger("wealth").addHandler(handler)
        logging.getLogger("wealth").setLevel(logging.INFO)
    return logger


class Stage:
    """What a stage reports when it ends; set rows_in / rows_out inside the block."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows_in: int | None = None
        self.rows_out: int | None = None


@contextmanager
def stage(log: logging.Logger, name: str) -> Iterator[Stage]:
    st = Stage(name)
    log.info("stage %s: start", name)
    start = time.monotonic()
    try:
        yield st
    except Exception:
        log.error("stage %s: failed after %.1f s", name, time.monotonic() - start)
        raise
    counts = "".join(f" {k}={v:,}" for k, v in (("rows_in", st.rows_in), ("rows_out", st.rows_out))
                     if v is not None)
    log.info("stage %s: done%s seconds=%.1f", name, counts, time.monotonic() - start)


def run_job(log: logging.Logger, body) -> int:
    """Run a job body; a failure is one clear line on stderr and exit code 1."""
    try:
        body()
    except Exception as err:  # noqa: BLE001 - the job's last word for the operator
        log.error("FAILED: %s: %s", type(err).__name__, str(err).splitlines()[0] if str(err) else "")
        log.debug("traceback", exc_info=True)
        return 1
    return 0
