"""Raw readers and Delta writers (month-scoped, idempotent)."""
from __future__ import annotations

import json
import os
import re
import threading
import time
from contextlib import contextmanager
from typing import Iterable, Iterator
from urllib.parse import unquote

from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.config import Config, absolute
from lib.errors import MissingInputError, SourceError
from lib.logs import get_logger
from lib.tables import TableSpec


def read_raw(spark: SparkSession, conf: Config, table: str) -> DataFrame:
    """One source table as delivered. CSV is read as strings: validation parses it."""
    fmt = conf.source.format
    if fmt == "table":
        return spark.table(f"{conf.source.table_prefix}{table}")
    path = f"{absolute(conf.paths.raw_root)}/{table}"
    try:
        if fmt == "csv":
            return spark.read.option("header", True).option("inferSchema", False).csv(path)
        return spark.read.parquet(path)
    except Exception as err:  # the AnalysisException says only "path does not exist"
        raise SourceError(f"cannot read source table {table} ({fmt}) at {path}: "
                          f"{str(err).splitlines()[0]}") from err


def ensure_table(spark: SparkSession, database: str, spec: TableSpec) -> str:
    """Create the database and the Delta table (with comments, CHECK constraints and the
    change data feed where the spec asks) if missing; its full name. The constraints are
    table properties of the creating commit, so a table never exists without them."""
    full = f"{database}.{spec.name}"
    if spark.catalog.tableExists(full):
        return full
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    cols = ",\n  ".join(f"{name} {sqltype} COMMENT '{quote(doc)}'" for name, sqltype, doc in spec.columns)
    listed = ", ".join(f"'{key}' = '{quote(value)}'" for key, value in spec.properties().items())
    create = (f"CREATE TABLE IF NOT EXISTS {full} (\n  {cols}\n) USING DELTA PARTITIONED BY ({spec.partition}) "
              f"COMMENT '{quote(spec.comment)}'" + (f" TBLPROPERTIES ({listed})" if listed else ""))
    try:
        spark.sql(create)
    except AnalysisException as err:
        if err.getCondition() != "DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION":
            raise
        if spark.catalog.tableExists(full):       # a run of another month made it meanwhile
            return full
        location = table_location(spark, full)
        if not _creation_cut_short(spark, location):
            raise
        get_logger("io").warning("%s: its folder held only the creating commit of a run stopped before the "
                                 "metastore knew the table; created again", full)
        delete_path(spark, location)
        spark.sql(create)
    return full


CREATOR_GRACE_MS = 10_000    # a live run registers its table within a second or so of its creating commit


def _creation_cut_short(spark: SparkSession, location: str) -> bool:
    """Whether a managed table's folder holds only a creating commit made over
    CREATOR_GRACE_MS ago and no data: what a driver killed between Delta's first commit and
    the metastore's registration leaves (the table is not in the metastore, so Delta will
    not create it there again). A folder with data is never taken for one."""
    log = f"{location}/_delta_log"
    actions = _commit_actions(spark, log, 0)
    if actions is None:           # not a Delta table's folder at all
        return False
    commits = _commit_times(spark, log)
    if [version for version, _ in commits] != [0] or time.time() * 1000 - commits[0][1] < CREATOR_GRACE_MS:
        return False
    return (any(a.get("commitInfo", {}).get("operation") == "CREATE TABLE" for a in actions)
            and not any("add" in a for a in actions))


def replace_months(spark: SparkSession, df: DataFrame, database: str, spec: TableSpec,
                   months: list[str]) -> int:
    """Atomically replace the given month partitions (other months are untouched); the
    number of rows written, from the Delta commit's own metrics (no second read)."""
    full = ensure_table(spark, database, spec)
    ordered = df.select(*[F.col(name).cast(sqltype).alias(name) for name, sqltype, _ in spec.columns])
    ordered.writeTo(full).overwrite(F.col(spec.partition).isin(months))
    return rows_written(spark, full, months)


def rows_written(spark: SparkSession, table: str, months: list[str]) -> int:
    """The rows written by the newest overwrite of exactly `months`. Not simply the last
    commit's: runs of other months may commit to the table meanwhile (lib.run_lock lets
    only one run hold a month), so the commit is known by the months in its predicate,
    as in "(stat_month IN ('2019-02', '2019-03'))". The commits' commitInfo is read from
    the newest commit files of the table's _delta_log (no Spark job, unlike DESCRIBE
    HISTORY). None among the last 50 commits means none was made: Delta commits nothing
    when an overwrite neither writes nor removes a row."""
    log = f"{table_location(spark, table)}/_delta_log"
    for version in _commits(spark, log)[:50]:                                   # newest first
        actions = _commit_actions(spark, log, version) or []
        info = next((a["commitInfo"] for a in actions if "commitInfo" in a), {})
        if set(re.findall(r"'([^']*)'", (info.get("operationParameters") or {}).get("predicate", ""))) == set(months):
            return int((info.get("operationMetrics") or {}).get("numOutputRows", 0))
    return 0


@contextmanager
def commit_note(spark: SparkSession, note: str) -> Iterator[None]:
    """Every Delta commit inside the block carries `note` as its userMetadata (DESCRIBE HISTORY)."""
    key = "spark.databricks.delta.commitInfo.userMetadata"
    spark.conf.set(key, note)
    try:
        yield
    finally:
        spark.conf.unset(key)


def rows_frame(spark: SparkSession, spec: TableSpec, rows: list[dict]) -> DataFrame:
    """A DataFrame of a table's columns from a few driver-side rows (metrics, manifests);
    a column missing from a row is null."""
    schema = ", ".join(f"{name} {sqltype}" for name, sqltype, _ in spec.columns)
    return spark.createDataFrame([tuple(r.get(name) for name, _, _ in spec.columns) for r in rows], schema)


def append_rows(spark: SparkSession, df: DataFrame, database: str, spec: TableSpec) -> None:
    """Append rows (a log table such as run_manifest: nothing is replaced)."""
    full = ensure_table(spark, database, spec)
    df.select(*[F.col(name).cast(sqltype).alias(name) for name, sqltype, _ in spec.columns]).writeTo(full).append()


def table_version(spark: SparkSession, table: str) -> int | None:
    """A Delta table's current version (None when it does not exist)."""
    if not spark.catalog.tableExists(table):
        return None
    return _commits(spark, f"{table_location(spark, table)}/_delta_log")[0]


def table_versions(spark: SparkSession, database: str) -> dict[str, int]:
    """The current version of each Delta table of `database` (managed tables: each in its
    folder under the database's)."""
    if not spark.catalog.databaseExists(database):
        return {}
    return {name: _commits(spark, f"{path}/_delta_log")[0]
            for name, path in delta_tables_under(spark, database_location(spark, database))}


def database_location(spark: SparkSession, database: str) -> str:
    return spark.catalog.getDatabase(database).locationUri


def table_location(spark: SparkSession, table: str) -> str:
    """A managed table's folder: <its database's folder>/<name>."""
    database, name = table.split(".")
    return f"{database_location(spark, database)}/{name}"


def _commits(spark: SparkSession, log: str) -> list[int]:
    """The commit numbers in a table's _delta_log folder, newest first."""
    return [version for version, _ in _commit_times(spark, log)]


def _commit_times(spark: SparkSession, log: str) -> list[tuple[int, int]]:
    """(commit number, file modification time in ms) of each commit in a table's _delta_log
    folder, newest first: a listing, no Spark job and no snapshot. Log clean-up never
    removes the newest commit file."""
    fs, hpath = _file_system(spark, log)
    local = _local_path(fs, hpath)
    if local is not None:
        entries = [(entry.name, entry.stat().st_mtime_ns // 1_000_000) for entry in os.scandir(local)]
    else:
        entries = [(status.getPath().getName(), status.getModificationTime()) for status in fs.listStatus(hpath)]
    found = ((re.fullmatch(r"(\d{20})\.json", name), when) for name, when in entries)
    return sorted(((int(f.group(1)), when) for f, when in found if f), reverse=True)


def _commit_actions(spark: SparkSession, log: str, version: int) -> list[dict] | None:
    """The actions of one commit of a table's _delta_log folder; None when its file is not there."""
    text = read_text(spark, f"{log}/{version:020d}.json")
    return None if text is None else [json.loads(line) for line in text.splitlines()]


def quote(text: str) -> str:
    """`text` for a single-quoted SQL literal."""
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _file_system(spark: SparkSession, path: str):
    """(Hadoop FileSystem, Path) for a path on local disk, HDFS or an object store."""
    jvm = spark.sparkContext._jvm  # noqa: SLF001 - the documented route to Hadoop's FileSystem
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath  # noqa: SLF001


def _local_path(fs, hpath) -> str | None:
    """The path on local disk when `fs` is the local file system: Python reads and writes
    there itself, without a round trip to the JVM per call and per file listed."""
    return fs.pathToFile(hpath).getPath() if fs.getScheme() == "file" else None


def delete_path(spark: SparkSession, path: str) -> None:
    """Remove a folder."""
    fs, hpath = _file_system(spark, path)
    fs.delete(hpath, True)


def delta_tables_under(spark: SparkSession, folder: str) -> list[tuple[str, str]]:
    """(name, path) of each Delta table folder (one with a _delta_log) directly under `folder`."""
    fs, hpath = _file_system(spark, folder)
    if not fs.exists(hpath):
        return []
    folders = [s.getPath() for s in fs.listStatus(hpath) if s.isDirectory()]   # bounded: tables
    jvm = spark.sparkContext._jvm  # noqa: SLF001
    return sorted((p.getName(), p.toString()) for p in folders
                  if fs.exists(jvm.org.apache.hadoop.fs.Path(p, "_delta_log")))


def write_bytes(spark: SparkSession, path: str, data: bytes) -> None:
    """Write a small file (replacing it) on any file system Spark reaches. On local disk
    Python writes it: Hadoop's local file system adds a checksum file and, without its
    native library, starts a chmod process for each of the two (about 16 ms a file; the
    export writes some 2,400 files a month at province size)."""
    fs, hpath = _file_system(spark, path)
    local = _local_path(fs, hpath)
    if local is not None:
        os.makedirs(os.path.dirname(local), exist_ok=True)
        with open(local, "wb") as out:
            out.write(data)
        return
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(data))
    finally:
        out.close()


def write_text(spark: SparkSession, path: str, text: str) -> None:
    """Write a small UTF-8 text file (replacing it)."""
    write_bytes(spark, path, text.encode("utf-8"))


def create_text(spark: SparkSession, path: str, text: str) -> bool:
    """Create a small UTF-8 text file only if there is none at `path`, atomically, and
    whole when it appears: False when one is already there. On local disk Hadoop's
    create(overwrite=false) checks, then creates, so two creators can both succeed: there
    the file is written aside and hard-linked into place, which only one link can do.
    On HDFS the NameNode's create(overwrite=false) is atomic."""
    fs, hpath = _file_system(spark, path)
    local = _local_path(fs, hpath)
    if local is not None:
        return _create_local(local, text)
    try:
        out = fs.create(hpath, False)
    except Py4JJavaError as err:
        if err.java_exception.getClass().getSimpleName() == "FileAlreadyExistsException":
            return False
        raise
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()
    return True


def _create_local(path: str, text: str) -> bool:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    aside = f"{path}.{os.getpid()}-{threading.get_ident()}"
    with open(aside, "w", encoding="utf-8") as out:
        out.write(text)
    try:
        os.link(aside, path)
    except FileExistsError:
        return False
    finally:
        os.remove(aside)
    return True


def read_text(spark: SparkSession, path: str) -> str | None:
    """A small UTF-8 text file's content; None when there is no file."""
    fs, hpath = _file_system(spark, path)
    local = _local_path(fs, hpath)
    if local is not None:
        try:
            with open(local, "rb") as stream:
                return stream.read().decode("utf-8")
        except FileNotFoundError:
            return None
    if not fs.exists(hpath):
        return None
    stream = fs.open(hpath)
    try:
        jvm = spark.sparkContext._jvm  # noqa: SLF001
        return bytes(jvm.org.apache.commons.io.IOUtils.toByteArray(stream)).decode("utf-8")
    finally:
        stream.close()


def move(spark: SparkSession, source: str, target: str) -> bool:
    """Rename a file, atomically (HDFS, local disk): False when `source` is gone."""
    fs, hsource = _file_system(spark, source)
    return bool(fs.rename(hsource, _file_system(spark, target)[1]))


# months_in's state per table folder: the version it was made for, that commit's time, and
# the month of each data file. A table's months change only with a commit; listing its files
# is a Spark job, reading the few commits since the version known is not.
_FILES: dict[str, tuple[int, int, dict[str, str]]] = {}
_DATA_FILE = re.compile(r"(?:^|/)(stat_month=([^/]+)/[^/]+)$")


def months_in(spark: SparkSession, table: str) -> set[str]:
    """The stat_month partitions a table has (none when it does not exist), from the Delta
    log's list of data files: no data file is read. A version seen before in this process
    is known; a later one is reached through the add and remove actions of the commits
    since (when that history is the one seen, not a table made again); otherwise the
    table's files are listed."""
    if not spark.catalog.tableExists(table):
        return set()
    location = table_location(spark, table)
    log = f"{location}/_delta_log"
    commits = dict(_commit_times(spark, log))
    version = max(commits)
    known_version, known_time, known = _FILES.get(location, (-1, 0, {}))
    same_history = commits.get(known_version) == known_time
    files = _replay(spark, log, known, known_version, version, commits) if same_history else None
    if files is None:
        files = dict(_data_files(spark.table(table).inputFiles()))
    _FILES[location] = (version, commits[version], files)
    return set(files.values())


def _replay(spark: SparkSession, log: str, files: dict[str, str], since: int, version: int,
            commits: dict[int, int]) -> dict[str, str] | None:
    """`files` with the data files removed and added by the commits after `since` up to
    `version`; None when one of them is no longer in the log. A commit's removals go first:
    one that rewrites a file in place (a deletion vector) removes and adds the same path."""
    files = dict(files)
    for v in range(since + 1, version + 1):
        actions = _commit_actions(spark, log, v) if v in commits else None
        if actions is None:
            return None
        for path, _ in _data_files(a["remove"]["path"] for a in actions if "remove" in a):
            files.pop(path, None)
        files.update(_data_files(a["add"]["path"] for a in actions if "add" in a))
    return files


def _data_files(paths: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(stat_month=…/file name, month) of each partitioned data file among `paths` (absolute
    or relative to the table, URL-encoded as Delta writes them)."""
    for path in paths:
        found = _DATA_FILE.search(unquote(path))
        if found:
            yield found.group(1), found.group(2)


def month_or_none(spark: SparkSession, table: str, month: str) -> DataFrame | None:
    """The table's rows of `month`, or None when the table or the month is not there."""
    return read_months(spark, table, [month]) if month in months_in(spark, table) else None


def require_months(spark: SparkSession, table: str, months: list[str], job: str) -> None:
    """MissingInputError naming the job to run when `table` lacks any of `months`."""
    missing = sorted(set(months) - months_in(spark, table))
    if missing:
        raise MissingInputError(f"{table} has no rows for {', '.join(missing)}: run the {job} job for "
                                f"{'that month' if len(missing) == 1 else 'those months'} first")


def read_silver(spark: SparkSession, conf: Config, name: str, months: list[str]) -> DataFrame:
    """A silver table's rows for `months`; a clear error naming what to run when one is missing."""
    return _read_months(spark, conf.silver_table(name), months, "ingest")


def read_gold(spark: SparkSession, conf: Config, name: str, months: list[str], job: str) -> DataFrame:
    """A gold table's rows for `months`; a clear error naming the job to run when one is missing."""
    return _read_months(spark, conf.table(name), months, job)


def _read_months(spark: SparkSession, table: str, months: list[str], job: str) -> DataFrame:
    require_months(spark, table, months, job)
    return read_months(spark, table, months)


def read_months(spark: SparkSession, table: str, months: list[str]) -> DataFrame:
    """A table's rows of `months` (those it has)."""
    return spark.table(table).filter(F.col("stat_month").isin(months))


def read_other_months(spark: SparkSession, table: str, months: list[str]) -> DataFrame:
    """A table's rows of every month but `months`."""
    return spark.table(table).filter(~F.col("stat_month").isin(months))
