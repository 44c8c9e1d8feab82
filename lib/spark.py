"""The one SparkSession builder used by every job and by the tests.

Delta extension and catalog, the pinned JVM packages from conf (GraphFrames only where
the environment asks for it), Hive support with the
embedded Derby metastore kept inside the warehouse (so a warehouse folder is
self-contained), Asia/Shanghai session time zone and a checkpoint directory.
Nothing here runs at import time.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pyspark.sql import SparkSession

from lib.config import Config, absolute, is_uri
from lib.errors import FrozenJarsError

LOG4J2 = Path(__file__).resolve().parent.parent / "conf" / "log4j2.properties"
IVY_SETTINGS = LOG4J2.with_name("ivysettings.xml")
LAUNCHED_BY_SPARK_SUBMIT = "PYSPARK_GATEWAY_PORT"
DELTA_SETTINGS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    # Delta takes a table's next version by renaming a file into its _delta_log, counting on
    # the rename to fail when another writer took that version first. A local disk's rename
    # replaces the file instead, and Delta's default store for file: paths only checks before
    # it renames: two threads of one driver committing one table at once (ingests of two
    # months side by side) could both take a version, one's commit lost, or fail on the
    # checksum file. This store makes the check and the rename one step in the driver. HDFS's
    # rename is atomic: its paths keep the default.
    "spark.delta.logStore.file.impl": "io.delta.storage.LocalLogStore",
    # Delta writes each commit's checksum file (N.crc) through Spark's checkpoint file manager,
    # which by default renames it into place through Hadoop's FileContext; on a local disk
    # without Hadoop's native library that rename starts eight `readlink` processes a commit
    # (about 5 ms of CPU each). The FileSystem-based manager renames with the same check
    # first and no process (README, Fixed cost per month).
    "spark.sql.streaming.checkpointFileManagerClass":
        "org.apache.spark.sql.execution.streaming.checkpointing.FileSystemBasedCheckpointFileManager",
}


MANIFEST = "MANIFEST"        # a frozen jars folder's list of the packages it holds


def frozen_jars(folder: str, packages: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[str]:
    """The jar files of a frozen folder (sorted), once its MANIFEST holds `packages` and
    nothing else but `optional` ones."""
    root = Path(folder).absolute()
    manifest = root / MANIFEST
    if not manifest.is_file():
        raise FrozenJarsError(f"{root} has no {MANIFEST}: freeze the jars with scripts/freeze_jars.sh {root} on a "
                              "machine that reaches Maven Central")
    frozen = tuple(line.strip() for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip())
    if not set(packages) <= set(frozen) <= set(packages) | set(optional):
        raise FrozenJarsError(f"{root} holds jars for {', '.join(frozen)} but the conf pins {', '.join(packages)}: "
                              "freeze them again")
    jars = sorted(str(p) for p in root.glob("*.jar"))
    if not jars:
        raise FrozenJarsError(f"{root} has a {MANIFEST} but no jars: freeze them again")
    return jars


def resolver_settings(conf: Config) -> dict[str, str]:
    """How Spark resolves the pinned packages: the resolver chain of conf/ivysettings.xml
    (local Maven repository, Ivy's local repository, Maven Central; Spark's built-in chain
    also tries a repository these machines cannot reach, with a warning per lookup), then
    the conf's own spark.jars.* settings, which win (a mirror, another settings file)."""
    ours = {"spark.jars.ivySettings": str(IVY_SETTINGS)} if IVY_SETTINGS.exists() else {}
    return {**ours, **{k: v for k, v in conf.spark.settings.items() if k.startswith("spark.jars.")}}


def event_log(conf: Config) -> dict[str, str]:
    """Spark's event log on, into conf's folder (made here when local: Spark refuses to
    start without it), so a History Server can replay any run."""
    folder = absolute(conf.event_log_dir)
    if not is_uri(folder):
        os.makedirs(folder, exist_ok=True)
    return {"spark.eventLog.enabled": "true", "spark.eventLog.dir": folder}


SERVING_DIR = "_serving"        # the SQL consumers' metastore, inside the warehouse (lib/deploy/serving.py)


def session_settings(conf: Config, serving: bool = False) -> dict[str, str]:
    """Every Spark setting the session gets, in one dict (also used by submit.sh). `serving`:
    the Thrift Server's session, on the consumers' own embedded metastore, and with no SQL
    on paths (delta.`/...`), which would reach around that metastore to any table."""
    warehouse = absolute(conf.paths.warehouse)
    settings = {
        **DELTA_SETTINGS,
        "spark.sql.warehouse.dir": warehouse,
        "spark.sql.catalogImplementation": "hive",
        **conf.tables.delta_defaults(),
        **event_log(conf),
        **conf.spark.settings,
    }
    if conf.spark.jars_dir:
        optional = (conf.spark.graphframes_package,) if conf.spark.graphframes_package else ()
        settings["spark.jars"] = ",".join(frozen_jars(conf.spark.jars_dir, conf.packages, optional))
    elif conf.packages:
        settings["spark.jars.packages"] = ",".join(conf.packages)
        settings.update(resolver_settings(conf))
    java_options = [f"-Dlog4j2.configurationFile={LOG4J2}"] if LOG4J2.exists() else []
    if conf.spark.embedded_metastore:
        # Derby writes its database and derby.log where told: keep both in the warehouse.
        home = f"{warehouse}/{SERVING_DIR}" if serving else warehouse
        settings["spark.hadoop.javax.jdo.option.ConnectionURL"] = (
            f"jdbc:derby:;databaseName={home}/metastore_db;create=true")
        java_options.append(f"-Dderby.system.home={home}")
    if serving:
        settings["spark.sql.runSQLOnFiles"] = "false"
    java_options.append(settings.get("spark.driver.extraJavaOptions", ""))
    settings["spark.driver.extraJavaOptions"] = " ".join(o for o in java_options if o)
    if LOG4J2.exists():   # executors on a cluster log through the same scrubbing patterns
        executor = [f"-Dlog4j2.configurationFile={LOG4J2}", settings.get("spark.executor.extraJavaOptions", "")]
        settings["spark.executor.extraJavaOptions"] = " ".join(o for o in executor if o)
    return settings


def build_session(app: str, conf: Config, serving: bool = False) -> SparkSession:
    builder = SparkSession.builder.appName(f"wealth-{app}")
    # Under spark-submit (which starts Python with a gateway port) the master is the one it
    # was given; the conf's master is for sessions started from Python.
    if conf.spark.master and LAUNCHED_BY_SPARK_SUBMIT not in os.environ:
        builder = builder.master(conf.spark.master)
        if conf.spark.master.startswith("local"):
            # One machine binds to loopback. Unset, Spark warns on every start where the host
            # name resolves to 127.0.0.1 and then binds to another interface.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    for key, value in session_settings(conf, serving).items():
        builder = builder.config(key, value)
    spark = builder.enableHiveSupport().getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    spark.sparkContext.setCheckpointDir(absolute(conf.checkpoint_dir))
    return spark


@contextmanager
def spark_session(app: str, conf: Config) -> Iterator[SparkSession]:
    """A session for one job run, stopped when the run ends (also on failure). Inside an
    application that already runs one (the monthly job, the tests) that one is used, and
    left running."""
    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    spark = build_session(app, conf)
    try:
        yield spark
    finally:
        spark.stop()
