"""Operating the product for real: a Spark standalone cluster on this machine
(scripts/standalone.sh: a master and two workers on 127.0.0.1) runs the monthly refresh
of a small province submitted through scripts/submit.sh with frozen jars (the air-gapped
way), giving the same tables and charts as local mode; the Thrift Server serves the gold
tables over JDBC (beeline) with their comments; a refresh killed between two table commits
of a stage (submitted in local mode, conf/local.yaml's master) leaves every table readable and
a re-run on the cluster completes it. One month, the province's first: each run starts JVMs of
its own, so the cluster's part is most of this module's time."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chispa import assert_df_equality
from deltalake import DeltaTable

from jobs import generate, monthly
from lib.errors import FrozenJarsError
from lib.spark import LOG4J2, frozen_jars
from tests.conftest import job_args
from tests.privacy import table_names
from tests.rows import ingest_tables
from tests.runs import on_this_session

pytestmark = pytest.mark.integration     # end to end: see tests/conftest.py

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2019-01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Every JVM this module starts (the cluster's, its executors', each submitted driver's, the
# Thrift Server's, beeline's) lives a few minutes at most and runs a small province, so the
# JIT's optimising compiler (C2) costs more than its code saves: a month's refresh on the
# cluster took 130 s and 205 s of CPU with the first tier alone against 156 s and 300 s
# (README, Fixed cost per month). The first tier's compiled frames are larger, hence the
# larger thread stacks (without them an executor's task overflowed its stack).
SHORT_LIVED_JVMS = {"JAVA_TOOL_OPTIONS": "-XX:TieredStopAtLevel=1 -Xss16m"}


def script_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a script this module runs: this process's, the short-lived JVMs'
    setting, then `extra`."""
    return {**os.environ, **SHORT_LIVED_JVMS, **(extra or {})}


def script(*args, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "scripts" / args[0]), *map(str, args[1:])], env=script_env(env),
                          capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The master's URL and UI port; stopped after the module."""
    ports = {"STANDALONE_DIR": str(tmp_path_factory.mktemp("standalone")), "MASTER_PORT": str(free_port()),
             "MASTER_UI_PORT": str(free_port())}
    started = script("standalone.sh", "start", env=ports, timeout=200)
    assert started.returncode == 0, started.stderr
    yield started.stdout.strip(), int(ports["MASTER_UI_PORT"]), Path(ports["STANDALONE_DIR"])
    script("standalone.sh", "stop", env=ports)


@pytest.fixture(scope="module")
def small_province(conf, tmp_path_factory):
    raw = tmp_path_factory.mktemp("raw_small")
    assert generate.main(job_args(conf, raw, "loc", "--customers", "600", "--months", "1",
                                  "--seed", "3")) == 0
    return raw


def master_state(ui_port: int) -> dict:
    return json.load(urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=10))


def test_cluster_has_a_master_and_two_workers_outside_site_packages(cluster):
    _, ui_port, folder = cluster
    state = master_state(ui_port)
    assert state["status"] == "ALIVE" and state["aliveworkers"] == 2
    assert sorted(p.name for p in (folder / "work").iterdir()) == ["worker-1", "worker-2"]
    assert (folder / "logs" / "master.out").is_file()


def test_frozen_jars_are_checked_against_the_pinned_packages(tmp_path):
    with pytest.raises(FrozenJarsError, match="no MANIFEST: freeze the jars with scripts/freeze_jars.sh"):
        frozen_jars(str(tmp_path), ("a:b:1",))
    (tmp_path / "MANIFEST").write_text("a:b:1\n", encoding="utf-8")
    with pytest.raises(FrozenJarsError, match="holds jars for a:b:1 but the conf pins a:b:2"):
        frozen_jars(str(tmp_path), ("a:b:2",))
    with pytest.raises(FrozenJarsError, match="no jars"):
        frozen_jars(str(tmp_path), ("a:b:1",))
    (tmp_path / "x.jar").write_bytes(b"")
    assert frozen_jars(str(tmp_path), ("a:b:1",)) == [str(tmp_path / "x.jar")]


@pytest.fixture(scope="module")
def cluster_refresh(spark, conf, cluster, small_province, tmp_path_factory):
    """The refresh through submit.sh with frozen jars, killed (spark-submit, its JVM and
    Python) once two tables of its ingest's publishing have committed, then re-run on the
    cluster; and meanwhile the same refresh in this session (database loc). The killed run is
    in local mode (conf/local.yaml's master, what submit.sh runs without --master), so both
    ways of submitting run. Its warehouse, jars, the re-run's output, and what the killed run
    left: each table read at its last commit."""
    url, _, _ = cluster
    folder = tmp_path_factory.mktemp("cluster_run")
    frozen = script("freeze_jars.sh", folder / "jars")
    assert frozen.returncode == 0, frozen.stderr
    warehouse = folder / "warehouse"   # its own Derby metastore: one JVM per embedded Derby
    refresh = ["monthly", "--raw-root", small_province, "--warehouse", warehouse, "--database", "clu",
               "--jars-dir", folder / "jars", "--month", MONTH, "--ledger-start", MONTH]
    # the local run goes on meanwhile: a small province's month is mostly each driver's own work
    with ThreadPoolExecutor(1) as pool:
        local = pool.submit(on_this_session(spark, monthly.main), job_args(
            conf, small_province, "loc", "--month", MONTH, "--ledger-start", MONTH))
        run = subprocess.Popen([str(ROOT / "scripts" / "submit.sh"), *map(str, refresh)],
                               env=script_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
        seen = next((line for line in run.stdout if f"stage publish {MONTH}: start" in line), None)
        committed = seen is not None and wait_for_tables(warehouse, 2, run)
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=60)
        assert committed, "the run ended before two tables of its publishing had committed"
        killed = {f"{p.parent.stem}.{p.name}": DeltaTable(str(p)).to_pandas() for p in delta_tables(warehouse)}
        rerun = script("submit.sh", "--master", url, *refresh, timeout=1500)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        assert local.result() == 0
    return warehouse, folder / "jars", rerun.stdout + rerun.stderr, killed


def delta_tables(warehouse: Path) -> list[Path]:
    """The tables of the warehouse's databases clu and clu_silver with a commit."""
    return sorted({log.parent.parent for log in warehouse.glob("clu*.db/*/_delta_log/*.json")})


def wait_for_tables(warehouse: Path, n: int, run: subprocess.Popen, timeout: float = 120) -> bool:
    """Whether `n` more tables had a commit in `warehouse` while `run` lived."""
    target, deadline = len(delta_tables(warehouse)) + n, time.monotonic() + timeout
    while run.poll() is None and time.monotonic() < deadline:
        if len(delta_tables(warehouse)) >= target:
            return True
        time.sleep(0.02)
    return False


def assert_same_tables_as_local(spark, warehouse: Path) -> None:
    """Every table but the run log of database clu in `warehouse`, read straight from its
    Delta files, equals the local run's (database loc): compiled on the cluster,
    interpreted here (tests/conftest.py)."""
    for database in ("loc", "loc_silver"):
        names = sorted(n for n in table_names(spark, database) if n != "run_manifest")
        assert len(names) >= 6
        for name in names:
            there = spark.read.format("delta").load(f"{warehouse}/{database.replace('loc', 'clu')}.db/{name}")
            assert_df_equality(there, spark.table(f"{database}.{name}"), ignore_row_order=True,
                               ignore_metadata=True)


def test_monthly_refresh_on_the_cluster_equals_local_mode(spark, conf, cluster, cluster_refresh):
    _, ui_port, folder = cluster
    warehouse, _, output, _ = cluster_refresh
    # the re-run ran on the cluster's executors
    apps = master_state(ui_port)["completedapps"]
    assert [(a["name"], a["state"], a["cores"]) for a in apps] == [("wealth-monthly", "FINISHED", 2)]
    # each run left its event log in the warehouse (conf paths.event_log_dir) for a History
    # Server; the killed one's (local mode) is still marked in progress
    events = warehouse / "_spark_events"
    assert (events / f"eventlog_v2_{apps[0]['id']}" / f"appstatus_{apps[0]['id']}").is_file()
    assert len(list(events.glob("eventlog_v2_local-*/appstatus_local-*.inprogress"))) == 1
    assert f"monthly {MONTH}: succeeded" in output
    # the executors' JVMs log through the driver's scrubbing log4j setup (conf/log4j2.properties)
    commands = [p.read_text().splitlines()[0] for p in folder.glob("work/worker-*/app-*/*/stderr")]
    assert len(commands) >= 2 and all(f"-Dlog4j2.configurationFile={LOG4J2}" in c for c in commands), commands
    assert_same_tables_as_local(spark, warehouse)
    local = Path(conf.paths.warehouse) / "_reports" / "loc" / MONTH
    charts = sorted(p.name for p in local.glob("*.png"))
    assert charts and all((warehouse / "_reports" / "clu" / MONTH / c).read_bytes() == (local / c).read_bytes()
                          for c in charts)


# Each beeline starts two JVMs, so the queries that succeed go in one: their results, in order,
# each under its header line
TIERS = "SELECT stat_month, tier, count(*) AS n FROM {}.customer_month_aum GROUP BY stat_month, tier ORDER BY 1, 2"
QUERIES = {"SHOW TABLES IN clu": "namespace\ttableName\tisTemporary",
           "SHOW DATABASES": "namespace",
           TIERS.format("clu"): "stat_month\ttier\tn",
           "DESCRIBE TABLE EXTENDED clu.customer_month_aum": "col_name\tdata_type\tcomment"}


def results(text: str, headers: list[str]) -> list[list[list[str]]]:
    """beeline's tsv2 output of several statements: each one's rows (its header first), cut
    at the `headers` in order; cells stripped (DESCRIBE pads them)."""
    out: list[list[list[str]]] = []
    for line in text.splitlines():
        if len(out) < len(headers) and line == headers[len(out)]:
            out.append([])
        if out and line:
            out[-1].append([cell.strip() for cell in line.split("\t")])
    assert len(out) == len(headers), text
    return out


def test_gold_tables_over_jdbc_from_the_thrift_server(spark, cluster_refresh, tmp_path):
    warehouse, jars, _, _ = cluster_refresh
    server = {"THRIFT_DIR": str(tmp_path), "THRIFT_PORT": str(free_port())}
    started = script("thriftserver.sh", "start", "--warehouse", warehouse, "--database", "clu", "--jars-dir", jars,
                     env=server, timeout=300)
    assert started.returncode == 0, started.stderr
    try:
        assert started.stdout.strip() == f"jdbc:hive2://127.0.0.1:{server['THRIFT_PORT']}"
        answered = script("thriftserver.sh", "query", "; ".join(QUERIES), env=server)
        assert answered.returncode == 0, answered.stderr
        tables, databases, tiers, described = results(answered.stdout, list(QUERIES.values()))
        assert {"customer_month_aum", "customer_tags", "product_recommendation", "run_manifest"} <= {
            row[1] for row in tables[1:]}
        # only the gold database: the silver one (personal data in clear) is neither listed nor reachable by path
        assert databases == [["namespace"], ["clu"], ["default"]]
        by_path = script("thriftserver.sh", "query", f"SELECT count(*) FROM delta.`{warehouse}/clu_silver.db/t01_indpty_id`",
                         env=server)
        assert by_path.returncode != 0 and "TABLE_OR_VIEW_NOT_FOUND" in by_path.stderr + by_path.stdout
        # the gold rows, through JDBC, are the local run's
        local = spark.sql(TIERS.format("loc")).collect()
        assert tiers == [["stat_month", "tier", "n"]] + [[r.stat_month, r.tier, str(r.n)] for r in local]
        # with the comments of the metastore
        described = {row[0]: row[1:] for row in described}   # column: type, comment
        assert described["aum_month_end"] == ["decimal(18,2)",
                                              "AUM on the month's last day: deposit balances + Σ MONTH_END_BAL, CNY"]
        assert described["Comment"][0].startswith("Monthly AUM, three-month average, wealth tier")
    finally:
        script("thriftserver.sh", "stop", env=server)


def test_a_run_killed_mid_stage_leaves_every_table_readable_and_a_rerun_completes_it(spark, cluster_refresh):
    warehouse, _, _, killed = cluster_refresh
    # every table the killed run left, read at its last commit by an independent reader: some of its
    # ingest's tables had committed the month, the others (and all that follow ingest) were not begun
    ingest = ingest_tables("clu")
    assert 2 <= len(killed) < len(ingest) and set(killed) < set(ingest)
    assert all(set(t.stat_month) <= {MONTH} for t in killed.values()) and any(len(t) for t in killed.values())
    # the re-run completed the month as the uninterrupted local run did
    assert_same_tables_as_local(spark, warehouse)
    manifest = DeltaTable(str(warehouse / "clu.db" / "run_manifest")).to_pandas()
    assert sorted(manifest[manifest.stat_month == MONTH].status) == ["SUCCEEDED"]   # the killed run left none
