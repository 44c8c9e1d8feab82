"""Progress logs: stage, rows in/out, seconds. Never personal data: callers log counts,
table names, months and rule names only, and every record is scrubbed on its way out
(an error's text can quote row values)."""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextlib import contextmanager
from typing import Iterator

from py4j.protocol import Py4JJavaError

from lib.privacy import scrub
from lib.progress import tracked

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Scrubbed(logging.Filter):
    """A record's message and traceback with possible personal data masked (lib.privacy.scrub),
    for every handler it reaches."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True


DIGIT_RUN = re.compile(r"\d{8}")     # as long as the shortest account number lib.privacy masks


def new_run_id() -> str:
    """A new run's id: 32 hex digits without dashes, so the scrubber never takes a part of
    it for an account number (a part of a dashed UUID is, about one time in 30), and
    without a run of 8 digits, so no scan for account or ID numbers finds one inside it,
    word boundaries or not (about one random id in four has one: it is drawn again)."""
    run_id = uuid.uuid4().hex
    while DIGIT_RUN.search(run_id):
        run_id = uuid.uuid4().hex
    return run_id


def get_logger(job: str) -> logging.Logger:
    logger = logging.getLogger(f"wealth.{job}")
    if not any(isinstance(f, Scrubbed) for f in logger.filters):
        logger.addFilter(Scrubbed())
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
    """Log the stage's start, its progress while it runs (lib.progress) and its end."""
    st = Stage(name)
    log.info("stage %s: start", name)
    start = time.monotonic()
    try:
        with tracked(log, name):
            yield st
    except Exception:
        log.error("stage %s: failed after %.1f s", name, time.monotonic() - start)
        raise
    counts = "".join(f" {k}={v:,}" for k, v in (("rows_in", st.rows_in), ("rows_out", st.rows_out))
                     if v is not None)
    log.info("stage %s: done%s seconds=%.1f", name, counts, time.monotonic() - start)


def one_line(err: BaseException) -> str:
    """`Type: first line of the message`; for an error raised in the JVM, the JVM's own
    exception (e.g. Delta's ConcurrentAppendException), not py4j's wrapper."""
    if isinstance(err, Py4JJavaError):
        name, _, text = str(err.java_exception.toString()).partition(": ")
        return f"{name.rsplit('.', 1)[-1]}: {(text.splitlines() or [''])[0]}"
    return f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"


def run_job(log: logging.Logger, body) -> int:
    """Run a job body; a failure is one clear line on stderr and exit code 1."""
    try:
        body()
    except Exception as err:  # noqa: BLE001 - the job's last word for the operator
        log.error("FAILED: %s", one_line(err))
        log.debug("traceback", exc_info=True)
        return 1
    return 0
