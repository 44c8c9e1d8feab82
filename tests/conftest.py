"""One SparkSession for the whole test run: local[2], few shuffle partitions, UI off,
interpreted query plans, the real Delta JVM package and the embedded metastore in a
temporary warehouse."""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from jobs import aum, generate, ingest, monthly, tags
from lib.config import load_conf
from lib.report.run import report_dir
from lib.spark import build_session


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory):
    return tmp_path_factory.mktemp("warehouse")


# The tests' data are small, so compiling each query's code (whole-stage and expression
# code generation) costs more than it saves: interpreted, the job-heavy tests take about
# a sixth less time (the ingest tests: 420 s against 507 s). Spark gives the same results
# either way, and test_cluster checks it: the cluster's refresh, compiled as in
# production, equals this session's. (Interpreted, Spark cannot decode the Catalog API's
# objects: list tables with SHOW TABLES.)
INTERPRETED = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}
# Likewise adaptive execution, which re-plans each query after every shuffle: for kilobytes
# it only adds planning (the ingest and AUM tests took 212 s without it against 230-232 s
# with it; the whole suite 1,005-1,047 s against 1,051-1,068 s). The cluster's refresh runs
# it, as production does, and gives the same tables.
STATIC_PLANS = {"spark.sql.adaptive.enabled": "false"}
# Except for the churn province's 1.5 million ledger rows, where compiled code pays for
# itself: its ingest and AUM backfill took 55-58 s compiled against 69 s interpreted.
COMPILED = {"spark.sql.codegen.wholeStage": "true", "spark.sql.codegen.factoryMode": "FALLBACK"}


@pytest.fixture(scope="session")
def conf(warehouse, tmp_path_factory):
    return load_conf("local", overrides={
        "paths.warehouse": str(warehouse),
        "paths.raw_root": str(tmp_path_factory.mktemp("raw")),
        "spark.settings": {"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false",
                           # interpreted, Delta's state queries run no generated code: two
                           # partitions use both cores (conf/local.yaml has one, compiled)
                           "spark.databricks.delta.snapshotPartitions": "2",
                           "spark.driver.memory": "4g", **INTERPRETED, **STATIC_PLANS,
                           # on in every run of the product (test_cluster checks it); the whole
                           # test session's log would only cost time
                           "spark.eventLog.enabled": "false"},
    })


@pytest.fixture(scope="session")
def spark(conf):
    session = build_session("tests", conf)
    yield session
    session.stop()


# The end-to-end tests: through the jobs, on a generated province (a session fixture below)
# or a cluster; `pytest -m "not integration"` leaves them out for a quick loop.
END_TO_END_FIXTURES = {"parquet_province", "tagged_province", "churn_province", "refreshed"}


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: an end-to-end test through the jobs on a generated province")


def pytest_collection_modifyitems(items):
    for item in items:
        if END_TO_END_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.integration)


E2E_MONTHS = ("2019-01", "2019-02", "2019-03")


@contextmanager
def session_conf(spark, settings: dict[str, str]):
    """The session's `settings` inside the block, then each back to what it was."""
    before = {key: spark.conf.get(key) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            spark.conf.set(key, value)


def job_args(conf, raw, database, *extra):
    return ["--raw-root", str(raw), "--warehouse", conf.paths.warehouse, "--database", database, *extra]


@pytest.fixture(scope="session")
def parquet_province(conf, tmp_path_factory):
    """1,000 customers, 3 months, 1% bad rows, generated and ingested into database e2e."""
    raw = tmp_path_factory.mktemp("raw_parquet")
    assert generate.main(job_args(conf, raw, "e2e", "--customers", "1000", "--months", "3", "--seed", "5",
                                  "--bad-rate", "0.01")) == 0
    for month in E2E_MONTHS:
        assert ingest.main(job_args(conf, raw, "e2e", "--month", month)) == 0
    return raw


@pytest.fixture(scope="session")
def tagged_province(conf, parquet_province):
    """parquet_province with aum backfilled and tags for its last two months."""
    assert aum.main(job_args(conf, parquet_province, "e2e", "--from-month", E2E_MONTHS[0],
                             "--month", E2E_MONTHS[-1], "--ledger-start", E2E_MONTHS[0])) == 0
    for month in E2E_MONTHS[1:]:
        assert tags.main(job_args(conf, parquet_province, "e2e", "--month", month)) == 0
    return parquet_province


CHURN_MONTHS = tuple(f"2019-{m:02d}" for m in range(1, 13))


@pytest.fixture(scope="session")
def churn_province(spark, conf, tmp_path_factory):
    """8,000 customers over 12 months (64 planted churners), ingested in one pass and with AUM into
    database ret (compiled), and tags for the months the retention runs of 2019-09 and 2019-10 need."""
    raw = tmp_path_factory.mktemp("raw_churn")
    assert generate.main(job_args(conf, raw, "ret", "--customers", "8000", "--months", "12", "--seed", "11")) == 0
    with session_conf(spark, COMPILED):
        assert ingest.main(job_args(conf, raw, "ret", "--from-month", CHURN_MONTHS[0],
                                    "--month", CHURN_MONTHS[-1])) == 0
        assert aum.main(job_args(conf, raw, "ret", "--from-month", CHURN_MONTHS[0], "--month", CHURN_MONTHS[-1],
                                 "--ledger-start", CHURN_MONTHS[0])) == 0
    for month in ("2019-05", "2019-06", "2019-07", "2019-09", "2019-10"):
        assert tags.main(job_args(conf, raw, "ret", "--month", month)) == 0
    return raw


REFRESH_MONTH = "2019-11"
REFRESHED = ("product_recommendation", "counterparty_edges", "prospect_external", "prospect_internal",
             "prospect_critical", "acquisition_summary")


def refreshed_of_month(spark, table):
    return spark.table(f"ret.{table}").filter(F.col("stat_month") == REFRESH_MONTH)


def report_folder(conf) -> Path:
    return Path(report_dir(dataclasses.replace(conf, database="ret"), REFRESH_MONTH))


@pytest.fixture(scope="session")
def refreshed(spark, conf, churn_province):
    """The churn province's monthly refresh of REFRESH_MONTH, every stage: the month's AUM
    from the backfill before it, the REFRESHED tables it wrote (materialised), its report."""
    backfilled = refreshed_of_month(spark, "customer_month_aum").localCheckpoint()
    assert monthly.main(job_args(conf, churn_province, "ret", "--month", REFRESH_MONTH)) == 0
    written = {t: refreshed_of_month(spark, t).localCheckpoint() for t in REFRESHED}
    return backfilled, written, (report_folder(conf) / "report.html").read_text(encoding="utf-8")
