"""The session really runs Delta Lake, with the metastore kept inside the warehouse; a
first start resolves the JVM packages through the pinned resolver chain, quietly."""
from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from py4j.protocol import Py4JJavaError
from pyspark.errors import AnalysisException
from pyspark.errors.exceptions.captured import CapturedException
from pyspark.sql import Row
from pyspark.sql import functions as F

from lib.io import (database_location, ensure_table, months_in, replace_months, rows_written, table_version,
                    table_versions, write_bytes)
from lib.config import load_conf
from lib.spark import IVY_SETTINGS, LOG4J2, resolver_settings, session_settings
from lib.tables import TableSpec, probability, tier_known
from tests.conftest import session_conf

SPEC = TableSpec("probe", "a probe table", (("v", "bigint", "a value"), ("stat_month", "string", "month")))
CHECKED = TableSpec("checked", "a table with invariants", (
    ("prob", "double", "a probability"), ("tier", "string", "a tier"), ("stat_month", "string", "month")),
    checks=probability("prob") + tier_known("tier"), change_feed=True)
CHECKED_SCHEMA = "prob double, tier string, stat_month string"


def test_delta_table_written_replaced_by_month_and_read_back(spark, conf, warehouse):
    for month, n in (("2019-01", 3), ("2019-02", 2), ("2019-01", 1)):
        rows = spark.range(n).select(F.col("id").alias("v"), F.lit(month).alias("stat_month"))
        assert replace_months(spark, rows, "probe_db", SPEC, [month]) == n
    counts = {r.stat_month: r["count"] for r in spark.table("probe_db.probe").groupBy("stat_month").count().collect()}
    assert counts == {"2019-01": 1, "2019-02": 2}            # the re-run replaced only January
    history = spark.sql("DESCRIBE HISTORY probe_db.probe").select("version", "operation").collect()
    assert [(h.version, h.operation) for h in sorted(history)] == [
        (0, "CREATE TABLE"), (1, "WRITE"), (2, "WRITE"), (3, "WRITE")]
    # the version read from the log's files, without DESCRIBE HISTORY
    assert table_version(spark, "probe_db.probe") == 3 and table_versions(spark, "probe_db")["probe"] == 3
    assert table_version(spark, "probe_db.absent") is None and table_versions(spark, "absent_db") == {}
    assert (Path(warehouse) / "probe_db.db" / "probe" / "_delta_log").is_dir()
    assert (Path(warehouse) / "metastore_db").is_dir()        # Derby lives in the warehouse


def test_table_and_column_comments_reach_the_metastore(spark):
    ensure_table(spark, "probe_db", SPEC)
    described = {r.col_name: r.comment for r in spark.sql("DESCRIBE TABLE probe_db.probe").collect()}
    assert described["v"] == "a value"
    detail = {r.col_name: r.data_type for r in spark.sql("DESCRIBE TABLE EXTENDED probe_db.probe").collect()}
    assert detail["Comment"] == "a probe table"
    assert detail["Provider"] == "delta"


def test_session_settings(spark):
    assert spark.conf.get("spark.sql.session.timeZone") == "Asia/Shanghai"
    assert "delta-spark_4.1_2.13" in spark.conf.get("spark.jars.packages")
    assert spark.conf.get("spark.jars.ivySettings") == str(IVY_SETTINGS)
    assert spark.sparkContext.getCheckpointDir() is not None


def delta_log(spark, path: str):
    """The JVM DeltaLog of the Delta table at `path`, as this session's Delta keeps it."""
    return spark._jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)  # noqa: SLF001


def test_of_writers_of_one_delta_commit_at_the_same_moment_exactly_one_wins_and_keeps_it(spark, tmp_path):
    """Delta's commit of a version is a rename into _delta_log that must fail for every writer
    but one. A local disk's rename replaces the file: under Delta's default store for file:
    paths 18 of 500 such rounds went wrong, both writers told they had the version or it
    holding the actions of the one told it had lost (what made F5 of test_faults fail now and
    then). Two threads released together by a barrier, 100 rounds, through the store this
    session's Delta uses."""
    jvm, table = spark._jvm, str(tmp_path / "t")                                      # noqa: SLF001
    spark.range(1).write.format("delta").save(table)
    store = delta_log(spark, table).store()
    hadoop, to_scala = spark._jsc.hadoopConfiguration(), jvm.scala.jdk.javaapi.CollectionConverters  # noqa: SLF001
    java_list, hadoop_path = jvm.java.util.ArrayList, jvm.org.apache.hadoop.fs.Path
    (tmp_path / "race").mkdir()

    def write(commit):
        path, writer, start = commit
        actions = java_list()
        actions.add(f'{{"writer":{writer}}}')
        lines = to_scala.asScala(actions.iterator())
        start.wait()
        try:
            store.write(hadoop_path(f"file://{path}"), lines, False, hadoop)
            return writer
        except Py4JJavaError as e:
            return e.java_exception.getClass().getSimpleName()

    wrong = []
    with ThreadPoolExecutor(2) as pool:
        for version in range(100):
            target, start = tmp_path / "race" / f"{version:020d}.json", threading.Barrier(2)
            ends = list(pool.map(write, [(target, writer, start) for writer in (0, 1)]))
            won = [end for end in ends if end in (0, 1)]
            if len(won) != 1 or target.read_text() != f'{{"writer":{won[0]}}}\n' or \
                    "FileAlreadyExistsException" not in ends:
                wrong.append((version, ends, target.read_text()))
    assert wrong == []


def latest_snapshot(spark, path: str):
    """The Delta table's snapshot as this session's own commits left it (up to date)."""
    return delta_log(spark, path).unsafeVolatileSnapshot()


def test_a_commit_does_not_rebuild_the_tables_state_in_our_time_zone(spark, tmp_path):
    """Delta's check of each commit's checksum by rebuilding the table's state, which it forces
    when the session's time zone is not UTC, is off; on, the same append rebuilds it."""
    path = str(tmp_path / "t")
    key = "spark.databricks.delta.allFilesInCrc.verificationMode.forceOnNonUTC.enabled"

    def append_rebuilds_the_state() -> bool:
        spark.range(2).write.format("delta").mode("append").save(path)
        return latest_snapshot(spark, path).stateReconstructionTriggered()

    spark.range(1).write.format("delta").save(path)
    assert spark.conf.get("spark.sql.session.timeZone") == "Asia/Shanghai"
    assert not append_rebuilds_the_state()
    with session_conf(spark, {key: "true"}):           # Delta's default
        assert append_rebuilds_the_state()


def test_each_commits_checksum_file_is_written_through_the_file_system_based_manager(spark, tmp_path):
    """DELTA_SETTINGS: each commit still writes its checksum file (N.crc, which spares readers
    a rebuild of the table's state), through Spark's FileSystem-based checkpoint file manager,
    not its default FileContext-based one, whose rename starts `readlink` processes."""
    table = tmp_path / "t"
    for _ in range(2):
        spark.range(1).write.format("delta").mode("append").save(str(table))
    assert sorted(p.name for p in (table / "_delta_log").glob("0*.crc")) == [f"{v:020d}.crc" for v in (0, 1)]
    log = delta_log(spark, str(table))
    managers = spark._jvm.org.apache.spark.sql.execution.streaming.checkpointing.CheckpointFileManager  # noqa: SLF001
    writer = managers.create(log.logPath(), log.newDeltaHadoopConf())
    assert writer.getClass().getSimpleName() == "FileSystemBasedCheckpointFileManager"


def test_a_tables_list_of_files_is_one_partition_locally(spark, tmp_path):
    """conf/local.yaml's snapshotPartitions: Delta holds a table's state in one partition, so
    each query over it (the files a read needs, a commit's checks) is one task, not Delta's
    default 50 (the tests' interpreted session keeps two)."""
    key = "spark.databricks.delta.snapshotPartitions"
    local = load_conf("local").spark.settings[key]
    path = str(tmp_path / "t")
    with session_conf(spark, {key: local}):
        for _ in range(3):
            spark.range(2, numPartitions=1).write.format("delta").mode("append").save(path)   # a file each
        snapshot = latest_snapshot(spark, path)
        assert snapshot.numOfFiles() == 3
        assert snapshot.stateDS().rdd().getNumPartitions() == 1


def test_the_local_jvm_collects_garbage_with_the_parallel_collector(spark):
    """conf/local.yaml: the one JVM of local mode runs the parallel collector, not the JVM's
    default G1 (whose collectors are "G1 Young Generation", "G1 Old Generation" and "G1
    Concurrent GC"), with the log4j setup the session adds beside it."""
    options = session_settings(load_conf("local"))["spark.driver.extraJavaOptions"].split()
    assert "-XX:+UseParallelGC" in options and f"-Dlog4j2.configurationFile={LOG4J2}" in options
    beans = spark._jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()   # noqa: SLF001
    assert sorted(bean.getName() for bean in beans) == ["PS MarkSweep", "PS Scavenge"]


def test_dataframe_calls_do_not_send_their_python_line_to_the_jvm(spark):
    """conf/base.yaml: PySpark does not record each DataFrame and Column call's Python call
    site in the JVM (README, Fixed cost per month), so a runtime error's context names no
    line of ours (with the recording on, it names this file's line of the division)."""
    assert session_settings(load_conf("local"))["spark.python.sql.dataFrameDebugging.enabled"] == "false"
    with pytest.raises(CapturedException, match="DIVIDE_BY_ZERO") as caught:
        spark.range(1).select(F.col("id") / F.lit(0)).collect()
    sites = [context.callSite() for context in caught.value.getQueryContext()]
    assert sites and not any(Path(__file__).name in site for site in sites), sites


def test_cached_rows_are_kept_uncompressed(spark):
    """conf/base.yaml: a cached DataFrame's columns are stored as they are (README, Validation
    at scale), so a column of one repeated string takes its full size, which compression
    would fold to a few bytes a batch."""
    key = "spark.sql.inMemoryColumnarStorage.compressed"
    storage = spark.sparkContext._jsc.sc()      # noqa: SLF001

    def cached_bytes() -> int:
        before = {info.id() for info in storage.getRDDStorageInfo()}
        rows = spark.range(200_000, numPartitions=1).select(F.lit("x" * 20).alias("s"))
        rows.persist().count()
        size = sum(info.memSize() for info in storage.getRDDStorageInfo() if info.id() not in before)
        rows.unpersist(blocking=True)
        return size

    assert spark.conf.get(key) == load_conf("local").spark.settings[key] == "false"
    plain = cached_bytes()
    with session_conf(spark, {key: "true"}):            # Spark's default
        packed = cached_bytes()
    assert plain > 200_000 * 20 > 100 * packed


def test_months_are_read_from_the_delta_log_not_the_data(spark, warehouse):
    for month in ("2019-01", "2019-02"):
        rows = spark.range(2).select(F.col("id").alias("v"), F.lit(month).alias("stat_month"))
        replace_months(spark, rows, "probe_months", SPEC, [month])
    # with January's data files gone, a query over the data fails; the log still lists the month
    shutil.rmtree(Path(warehouse) / "probe_months.db" / "probe" / "stat_month=2019-01")
    assert months_in(spark, "probe_months.probe") == {"2019-01", "2019-02"}
    assert months_in(spark, "probe_months.absent") == set()


def test_months_follow_every_commit_and_a_table_made_again(spark):
    """months_in keeps its answer per table version: a write, a delete and a table dropped
    and created again under the same name are each seen at once."""
    def write(month: str) -> None:
        rows = spark.range(1).select(F.col("id").alias("v"), F.lit(month).alias("stat_month"))
        replace_months(spark, rows, "probe_seen", SPEC, [month])

    write("2019-01")
    assert months_in(spark, "probe_seen.probe") == {"2019-01"}
    write("2019-02")
    assert months_in(spark, "probe_seen.probe") == {"2019-01", "2019-02"}
    spark.sql("DELETE FROM probe_seen.probe WHERE stat_month = '2019-01'")
    assert months_in(spark, "probe_seen.probe") == {"2019-02"}
    spark.sql("DROP TABLE probe_seen.probe")
    write("2019-03")                       # versions 0 and 1 again, of another table
    assert months_in(spark, "probe_seen.probe") == {"2019-03"}
    write("2019-04")
    assert months_in(spark, "probe_seen.probe") == {"2019-03", "2019-04"}


def test_months_of_later_versions_come_from_the_commits_since_without_a_spark_job(spark):
    """Once months_in knows a table's files, it reads a later version's from the commits
    since (the files they add and remove): no Spark job, and the months a query of the rows
    finds, through a write of two months, an overwrite, a compaction, a delete and a row
    deleted by a deletion vector (its file removed and added again in one commit)."""
    table, sc = "probe_replay.probe", spark.sparkContext

    def write(months: list[str], files: int = 1) -> None:
        rows = spark.range(2 * len(months)).select(
            F.col("id").alias("v"), F.element_at(F.array(*map(F.lit, months)), (F.col("id") % len(months) + 1).cast("int"))
            .alias("stat_month")).repartition(files)
        replace_months(spark, rows, "probe_replay", SPEC, months)

    def months_seen_without_a_job() -> set[str]:
        sc.setJobGroup("months_in", "months_in")
        try:
            found = months_in(spark, table)
        finally:
            sc.setLocalProperty("spark.jobGroup.id", None)
        assert list(sc.statusTracker().getJobIdsForGroup("months_in")) == []
        return found

    def months_queried() -> set[str]:
        return {r.stat_month for r in spark.table(table).select("stat_month").distinct().collect()}

    write(["2019-01"])
    assert months_in(spark, table) == {"2019-01"}            # the first time: its files listed
    for change in (lambda: write(["2019-02", "2019-03"]), lambda: write(["2019-02"]),
                   lambda: write(["2019-04"], files=2),
                   lambda: spark.sql(f"OPTIMIZE {table} WHERE stat_month = '2019-04'"),
                   lambda: spark.sql(f"DELETE FROM {table} WHERE stat_month = '2019-01'"),
                   lambda: spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ('delta.enableDeletionVectors' = true)"),
                   lambda: spark.sql(f"DELETE FROM {table} WHERE v = 0")):      # a file kept, with a deletion vector
        change()
        assert months_seen_without_a_job() == months_queried()
    assert months_queried() == {"2019-02", "2019-03", "2019-04"}


def test_rows_written_are_those_of_the_writes_own_commit_not_the_last_one(spark):
    """Runs of other months may commit after this write and before its count is read."""
    def write(months: list[str], n: int) -> int:
        rows = spark.range(n).select(F.col("id").alias("v"), F.lit(months[0]).alias("stat_month"))
        return replace_months(spark, rows, "probe_count", SPEC, months)

    assert write(["2019-03", "2019-04"], 5) == 5
    assert write(["2019-03"], 4) == 4
    assert write(["2019-05"], 2) == 2
    assert rows_written(spark, "probe_count.probe", ["2019-03"]) == 4
    assert rows_written(spark, "probe_count.probe", ["2019-04", "2019-03"]) == 5
    assert write(["2019-06"], 0) == 0                 # nothing to write or remove: Delta makes no commit
    assert rows_written(spark, "probe_count.probe", ["2019-06"]) == 0


def test_a_table_whose_creation_was_cut_short_is_created_again_and_one_with_data_never(spark, caplog):
    """A driver killed between Delta's creating commit and the metastore's registration
    leaves a folder Delta will not create the managed table in again; made here by hand:
    the table created by path in the folder of a table the metastore does not know."""
    spark.sql("CREATE DATABASE IF NOT EXISTS probe_cut")
    folder = f"{database_location(spark, 'probe_cut')}/probe"
    path = folder.removeprefix("file:")
    log = Path(path) / "_delta_log" / f"{0:020d}.json"
    rows = spark.range(3).select(F.col("id").alias("v"), F.lit("2019-01").alias("stat_month"))

    def cut_short(age_seconds: float, with_data: bool = False) -> None:
        shutil.rmtree(path, ignore_errors=True)
        spark.sql(f"CREATE TABLE delta.`{folder}` (v bigint, stat_month string) USING DELTA PARTITIONED BY (stat_month)")
        if with_data:
            rows.write.format("delta").mode("append").save(folder)
        for commit in Path(log.parent).glob("*.json"):
            os.utime(commit, (time.time() - age_seconds,) * 2)

    cut_short(0)      # as young as a live run's, which registers it in a moment: left alone
    with pytest.raises(AnalysisException, match="DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION"):
        replace_months(spark, rows, "probe_cut", SPEC, ["2019-01"])
    shutil.rmtree(path)
    Path(path).mkdir()
    (Path(path) / "notes.txt").write_text("not a table", encoding="utf-8")      # no Delta log: left alone
    with pytest.raises(AnalysisException, match="DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION"):
        replace_months(spark, rows, "probe_cut", SPEC, ["2019-01"])
    cut_short(60, with_data=True)      # rows in it: never removed
    with pytest.raises(AnalysisException, match="DELTA_CREATE_TABLE_WITH_NON_EMPTY_LOCATION"):
        replace_months(spark, rows, "probe_cut", SPEC, ["2019-01"])
    cut_short(60)
    with caplog.at_level(logging.WARNING, logger="wealth"):
        assert replace_months(spark, rows, "probe_cut", SPEC, ["2019-01"]) == 3
    assert "probe_cut.probe: its folder held only the creating commit of a run stopped before" in caplog.text
    assert spark.table("probe_cut.probe").count() == 3 and table_version(spark, "probe_cut.probe") == 1
    assert spark.sql("DESCRIBE TABLE EXTENDED probe_cut.probe").filter("col_name = 'Comment'").first()[1] == SPEC.comment


def test_every_run_writes_an_event_log_into_the_folder_from_conf(tmp_path):
    conf = load_conf("local", {"paths.warehouse": str(tmp_path / "w")})
    settings = session_settings(conf)
    assert settings["spark.eventLog.enabled"] == "true"
    assert settings["spark.eventLog.dir"] == str(tmp_path / "w" / "_spark_events")
    assert (tmp_path / "w" / "_spark_events").is_dir()          # Spark will not start without it
    elsewhere = load_conf("local", {"paths.warehouse": str(tmp_path / "w"), "paths.event_log_dir": "hdfs:///logs"})
    assert session_settings(elsewhere)["spark.eventLog.dir"] == "hdfs:///logs"


def test_a_first_start_resolves_through_the_pinned_chain_without_a_warning(conf, tmp_path):
    """An empty Ivy cache, as on a new machine. Spark's built-in chain also asks a
    repository these machines cannot reach, and warned "Host ... not found" for each parent
    POM (slf4j-api has two); the pinned chain asks the local repositories and Maven Central."""
    app = tmp_path / "app.py"
    app.write_text("print('started')\n", encoding="utf-8")
    settings = [f"--conf={k}={v}" for k, v in {**resolver_settings(conf), "spark.jars.ivy": str(tmp_path / "ivy")}.items()]
    submit = Path(sys.executable).with_name("spark-submit")
    run = subprocess.run([str(submit), "--master", "local[1]", *settings, "--packages", "org.slf4j:slf4j-api:2.0.13",
                          f"--driver-java-options=-Dlog4j2.configurationFile={LOG4J2}", str(app)],
                         capture_output=True, text=True, timeout=300, check=False,
                         env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable})
    assert run.returncode == 0 and run.stdout.splitlines()[-1] == "started", run.stderr
    assert f":: loading settings :: file = {IVY_SETTINGS}" in run.stdout
    assert "found org.slf4j#slf4j-api;2.0.13 in central" in run.stderr
    assert (tmp_path / "ivy" / "jars" / "org.slf4j_slf4j-api-2.0.13.jar").is_file()
    # the JVM's own notice of its incubator module is the one line allowed
    noisy = [line for line in run.stderr.splitlines() if any(w in line for w in ("WARN", "ERROR", "not found"))]
    assert noisy == ["WARNING: Using incubator modules: jdk.incubator.vector"], noisy


def test_a_write_that_breaks_a_check_constraint_fails_and_changes_nothing(spark):
    def write(prob, tier, month="2019-01"):
        rows = spark.createDataFrame([(prob, tier, month)], CHECKED_SCHEMA)
        return replace_months(spark, rows, "probe_checks", CHECKED, [month])

    assert write(0.25, "DIAMOND") == 1 and write(None, None, "2019-02") == 1      # nulls pass
    version = table_version(spark, "probe_checks.checked")
    for bad in ((1.5, "DIAMOND"), (-0.1, "NONE"), (0.5, "GOLD"), (0.5, "NONE", "2019-13"), (0.5, "NONE", "2019-1")):
        with pytest.raises(CapturedException, match="DELTA_VIOLATE_CONSTRAINT"):
            write(*bad)
    assert table_version(spark, "probe_checks.checked") == version
    assert spark.table("probe_checks.checked").orderBy("stat_month").collect() == [
        Row(prob=0.25, tier="DIAMOND", stat_month="2019-01"), Row(prob=None, tier=None, stat_month="2019-02")]


def test_tables_get_retentions_from_conf_and_the_change_feed_where_the_spec_asks(spark):
    ensure_table(spark, "probe_props", SPEC)
    ensure_table(spark, "probe_props", CHECKED)
    plain, checked = ({r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES probe_props.{t}").collect()}
                      for t in ("probe", "checked"))
    for props in (plain, checked):   # conf/base.yaml tables: 30 days each
        assert props["delta.logRetentionDuration"] == props["delta.deletedFileRetentionDuration"] == "interval 30 days"
    assert checked["delta.enableChangeDataFeed"] == "true" and "delta.enableChangeDataFeed" not in plain
    assert checked["delta.constraints.prob_in_0_1"] == "prob IS NULL OR prob BETWEEN 0 AND 1"
    assert checked["delta.constraints.stat_month_format"] == "stat_month RLIKE '^[0-9]{4}-(0[1-9]|1[0-2])$'"
    # a consumer syncs what a re-run of a month changed
    for tier in ("NONE", "PLATINUM"):
        replace_months(spark, spark.createDataFrame([(0.5, tier, "2019-01")], CHECKED_SCHEMA), "probe_props", CHECKED,
                       ["2019-01"])
    first = table_version(spark, "probe_props.checked")
    changes = (spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", first)
               .table("probe_props.checked").select("tier", "_change_type").collect())
    assert sorted(changes) == [Row(tier="NONE", _change_type="delete"), Row(tier="PLATINUM", _change_type="insert")]


def test_a_small_file_on_local_disk_is_written_whole_without_a_checksum_file(spark, tmp_path):
    target = tmp_path / "城市" / "branch.csv"
    for data in (b"first, longer", "名单\n".encode("utf-8")):        # the second replaces the first
        write_bytes(spark, f"file://{target}", data)
        assert target.read_bytes() == data
    assert sorted(p.name for p in target.parent.iterdir()) == ["branch.csv"]     # no .branch.csv.crc beside it
