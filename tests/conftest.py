"""One SparkSession for the whole test run: local[2], few shuffle partitions, UI off, the
real Delta JVM package and the embedded metastore in a temporary warehouse."""
from __future__ import annotations

import pytest

from lib.config import load_conf
from lib.spark import build_session


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory):
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="session")
def conf(warehouse, tmp_path_factory):
    return load_conf("local", {
        "paths.warehouse": str(warehouse),
        "paths.raw_root": str(tmp_path_factory.mktemp("raw")),
        "spark.settings": {"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false",
                           "spark.databricks.delta.snapshotPartitions": "2",
                           "spark.driver.memory": "4g"},
    })


@pytest.fixture(scope="session")
def spark(conf):
    session = build_session("tests", conf)
    yield session
    session.stop()
