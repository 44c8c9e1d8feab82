"""The fault suite: each fault of the README's table, run on a generated province of three
months (1% bad rows), and one table printed of what was expected, what was observed and
how many rows were lost; also written as JSON (--out) for the README.

    .venv/bin/python scripts/faults.py [--customers 1000] [--work build/faults]

It takes about 15 minutes on 2 cores. Every case runs the jobs' own entry points; F1's
driver is a process of its own, killed between two table commits. tests/test_faults.py
covers F4 and F5; each other case has its own test (named in the README's table)."""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyspark.sql import functions as F  # noqa: E402

from jobs import aum, generate, ingest, report  # noqa: E402
from lib.config import load_conf  # noqa: E402
from lib.ingest.split import INGEST_ORDER  # noqa: E402
from lib.io import table_version  # noqa: E402
from lib.report.run import report_dir  # noqa: E402
from lib.spark import build_session  # noqa: E402
from lib.synth.badrows import DIMENSION_MONTH  # noqa: E402
from lib.tables import QUARANTINED, quarantine_spec, silver_spec  # noqa: E402
from tests.privacy import ID_NUMBER, personal_values, table_names, tables_with_personal_data  # noqa: E402
from tests.rows import ingest_tables  # noqa: E402
from tests.runs import Messages, at_once  # noqa: E402

MONTHS = ["2019-01", "2019-02", "2019-03"]


class Suite:
    def __init__(self, spark, conf, raw: Path, work: Path, log: Messages):
        self.spark, self.conf, self.raw, self.work, self.log = spark, conf, raw, work, log
        self.rows: list[dict] = []

    def args(self, database: str, *extra: str, raw: Path | None = None) -> list[str]:
        return ["--raw-root", str(raw or self.raw), "--warehouse", self.conf.paths.warehouse,
                "--database", database, *extra]

    def record(self, case: str, does: str, expected: str, observed: str, ok: bool, lost: int | str = 0) -> None:
        self.rows.append({"case": case, "what the run does": does, "expected": expected,
                          "observed": observed, "as expected": ok, "rows lost": lost})
        print(f"{case}: {'ok' if ok else 'NOT AS EXPECTED'}: {observed}", flush=True)

    def versions(self, database: str) -> dict[str, int | None]:
        return {t: table_version(self.spark, t) for t in ingest_tables(database)}

    def differing(self, database: str, months: list[str], reference: str = "ref") -> list[str]:
        """The ingest tables of `database` whose rows for `months` differ from the reference's."""
        of = F.col("stat_month").isin(months)
        return [mine for mine, theirs in zip(ingest_tables(database), ingest_tables(reference))
                if not same(self.spark.table(mine).filter(of), self.spark.table(theirs).filter(of))]


def same(a, b) -> bool:
    return a.exceptAll(b).isEmpty() and b.exceptAll(a).isEmpty()


def last_error(text: str) -> str:
    found = re.findall(r"FAILED: (.*)", text)
    return found[-1] if found else "no failure logged"


def damaged_raw(suite: Suite, name: str, change) -> Path:
    """A copy of the raw zone with the ledger replaced by change(ledger)."""
    root = suite.work / f"raw_{name}"
    shutil.rmtree(root, ignore_errors=True)
    for table in INGEST_ORDER:
        if table != "JNL_ACC_CHG":
            shutil.copytree(suite.raw / table, root / table)
    change(suite.spark.read.parquet(str(suite.raw / "JNL_ACC_CHG"))).write.parquet(str(root / "JNL_ACC_CHG"))
    return root


def f1_killed_between_commits(raw: Path, work: Path) -> dict:
    """In a driver (and warehouse) of its own: the first two months ingested, then a re-run
    of them killed once its first table has committed, then re-run whole."""
    warehouse = work / "warehouse_f1"
    command = [sys.executable, "-m", "jobs.ingest", "--raw-root", str(raw), "--warehouse", str(warehouse),
               "--database", "f1", "--from-month", MONTHS[0], "--month", MONTHS[1]]
    clean = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    logs = clean.stderr
    tables = sorted(str(p.parent) for p in warehouse.glob("*.db/*/_delta_log"))
    versions = {t: max(int(p.stem) for p in Path(t, "_delta_log").glob("*.json")) for t in tables}
    written_first = str(warehouse / "f1_silver.db" / silver_spec(INGEST_ORDER[0]).name)
    first = Path(written_first, "_delta_log", f"{versions.get(written_first, 0) + 1:020d}.json")
    driver = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    while not first.exists() and driver.poll() is None:
        time.sleep(0.1)
    os.killpg(driver.pid, signal.SIGKILL)
    logs += driver.communicate()[0].decode("utf-8", "replace")
    moved = sorted(t for t in tables if max(int(p.stem) for p in Path(t, "_delta_log").glob("*.json")) > versions[t])
    rerun = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return {"clean_code": clean.returncode, "tables": tables, "moved": moved, "rerun_code": rerun.returncode,
            "logs": logs + rerun.stderr, "warehouse": warehouse}


def check_f1(suite: Suite, f1: dict) -> None:
    """Every table reads at its last commit after the kill (those the killed run had not
    reached yet at their previous one); the re-run's tables equal a clean run's."""
    readable = all(suite.spark.read.format("delta").load(t).count() >= 0 for t in f1["tables"])
    differ = []
    of = F.col("stat_month").isin(MONTHS[:2])
    for table in ingest_tables("f1"):
        database, name = table.split(".")
        there = suite.spark.read.format("delta").load(str(f1["warehouse"] / f"{database}.db" / name))
        if not same(there.filter(of), suite.spark.table(table.replace("f1", "ref", 1)).filter(of)):
            differ.append(table)
    suite.record("F1", "kill the driver between two table commits of a month",
                 "previous versions readable; rerun gives the same tables as a clean run",
                 f"killed after {len(f1['moved'])} of {len(f1['tables'])} tables had committed; all readable: "
                 f"{readable}; rerun exit {f1['rerun_code']}; tables differing from a clean run: {len(differ)}",
                 f1["clean_code"] == 0 and 0 < len(f1["moved"]) < len(f1["tables"]) and readable
                 and f1["rerun_code"] == 0 and not differ)


def f3_same_month_twice(suite: Suite) -> None:
    before = suite.versions("ref")
    code = ingest.main(suite.args("ref", "--month", MONTHS[2]))
    differ = [t for t, v in before.items()
              if not same(suite.spark.sql(f"SELECT * FROM {t} VERSION AS OF {v}"), suite.spark.table(t))]
    suite.record("F3", "run the same month twice", "identical tables",
                 f"exit {code}; tables differing from the first run: {len(differ)}", code == 0 and not differ)


def f4_f5_at_once(suite: Suite) -> None:
    mark = len(suite.log.lines)
    codes = at_once(suite.spark, ingest.main, [suite.args("ref", "--month", MONTHS[2])] * 2)
    differ = suite.differing("ref", MONTHS[2:], reference="ref_once")
    suite.record("F4", "two concurrent runs of the same month", "one succeeds, the other fails with a clear "
                 "conflict; no mixed month", f"exit codes {sorted(codes)}; the failure: "
                 f"{last_error(suite.log.since(mark))}; tables differing from a clean run: {len(differ)}",
                 sorted(codes) == [0, 1] and "RunConflictError" in suite.log.since(mark) and not differ)
    codes = at_once(suite.spark, ingest.main, [suite.args("ref", "--month", m) for m in MONTHS[:2]])
    differ = suite.differing("ref", MONTHS[:2], reference="ref_once")
    suite.record("F5", "two concurrent runs of different months of ingest", "both succeed",
                 f"exit codes {codes}; tables differing from a clean run: {len(differ)}",
                 codes == [0, 0] and not differ)


def f10_and_f6_aum(suite: Suite) -> None:
    ledger_start = ("--ledger-start", MONTHS[0])
    assert aum.main(suite.args("ref", "--month", MONTHS[0], *ledger_start)) == 0
    mark = len(suite.log.lines)
    code = aum.main(suite.args("ref", "--month", MONTHS[2]))
    said = last_error(suite.log.since(mark))
    suite.record("F10", "a month skipped", "`aum` refuses with the missing month named",
                 f"exit {code}: {said}", code == 1 and MONTHS[1] in said)
    assert aum.main(suite.args("ref", "--from-month", MONTHS[1], "--month", MONTHS[2])) == 0
    table = "ref.customer_month_aum"
    later = F.col("stat_month").isin(MONTHS[1:])
    before = suite.spark.sql(f"SELECT * FROM {table} VERSION AS OF {table_version(suite.spark, table)}")
    mark = len(suite.log.lines)
    code = aum.main(suite.args("ref", "--month", MONTHS[0], *ledger_start))
    stale = [line for line in suite.log.since(mark).splitlines() if "is stale" in line]
    untouched = same(before.filter(later), suite.spark.table(table).filter(later))
    suite.record("F6", "re-run an older month after later ones", "it is replaced, later months untouched and "
                 "flagged stale", f"exit {code}; later months untouched: {untouched}; flagged: "
                 f"{stale[0] if stale else 'no'}", code == 0 and untouched and bool(stale))


def refused(suite: Suite, case: str, does: str, expected: str, raw: Path, needle: str) -> None:
    """Ingest the last month from a damaged raw zone: it must fail naming `needle` and
    leave every table at its version."""
    before = suite.versions("ref")
    mark = len(suite.log.lines)
    code = ingest.main(suite.args("ref", "--month", MONTHS[2], raw=raw))
    said = last_error(suite.log.since(mark))
    kept = suite.versions("ref") == before
    suite.record(case, does, expected, f"exit {code}: {said[:160]}; every table kept its version: {kept}",
                 code == 1 and needle in said and kept)


def f7_to_f9_broken_extracts(suite: Suite) -> None:
    month = F.col("TXN_DT").substr(1, 7) == MONTHS[2]
    refused(suite, "F7", "empty ledger extract", "fail fast, nothing overwritten",
            damaged_raw(suite, "empty", lambda d: d.filter(~month)), f"JNL_ACC_CHG has no rows for {MONTHS[2]}")
    refused(suite, "F8", "volume drop below the configured share", "fail fast, nothing overwritten",
            damaged_raw(suite, "drop", lambda d: d.filter(~month | (F.pmod(F.hash("TXN_ID"), F.lit(10)) < 3))),
            "quality.min_volume_share 50%")
    for what, change, needle in (
            ("missing column", lambda d: d.drop("CHANNEL"), "lacks contract column(s) CHANNEL"),
            ("extra column", lambda d: d.withColumn("NOTE", F.lit("x")), "not in the contract: NOTE"),
            ("retyped column", lambda d: d.withColumn("TXN_SEQ", F.col("TXN_SEQ").cast("double")),
             "TXN_SEQ is double")):
        refused(suite, "F9", f"schema drift: {what}", "fail fast naming the column",
                damaged_raw(suite, what.split()[0], change), needle)


def b_bad_rows(suite: Suite) -> None:
    """Every rule the generator injected, table by table: counted exactly (a dimension's
    rows once a month), and rows in = clean + quarantined, month by month."""
    spark = suite.spark
    truth = spark.read.parquet(str(suite.raw / "_truth" / "bad_rows"))
    quality = spark.table("ref.data_quality")
    for table in INGEST_ORDER:
        rows_in = {r.stat_month: r.n for r in quality.filter(F.col("table_name") == table)
                   .groupBy("stat_month").agg(F.max("rows_in").alias("n")).collect()}
        clean = dict(spark.table(f"ref_silver.{silver_spec(table).name}").groupBy("stat_month").count().collect())
        held = dict(spark.table(f"ref.{quarantine_spec(table).name}").filter(F.col("action") == QUARANTINED)
                    .groupBy("stat_month").count().collect())
        lost = sum(n - clean.get(m, 0) - held.get(m, 0) for m, n in rows_in.items())
        times = F.when(F.col("stat_month") == DIMENSION_MONTH, len(MONTHS)).otherwise(1)
        want = {r.rule: r.n for r in truth.filter(F.col("table_name") == table).groupBy("rule")
                .agg(F.sum(F.col("rows") * times).alias("n")).collect()}
        counted = {r.rule: r.n for r in quality.filter((F.col("table_name") == table) & (F.col("rows_bad") > 0))
                   .groupBy("rule").agg(F.sum("rows_bad").alias("n")).collect()}
        suite.record(f"B {table}", "its bad rows of each kind the generator injects (counted / injected)",
                     "quarantined (or, for a bad non-key attribute, nulled) under its rule and counted; rows in = "
                     "clean + quarantined; no customer erased (unknown_customer only where injected)",
                     ", ".join(f"{rule} {counted.get(rule, 0)}/{n}" for rule, n in sorted(want.items()))
                     or "none injected",
                     counted == want and lost == 0, lost)


def p1_personal_data(suite: Suite, logs: str) -> None:
    spark = suite.spark
    ids, names, accounts = personal_values(spark, "ref")
    found = sorted(tables_with_personal_data(spark, "ref", ids | names | accounts))
    page = (Path(report_dir(dataclasses.replace(suite.conf, database="ref"), MONTHS[2])) / "report.html"
            ).read_text(encoding="utf-8")
    texts = {"logs": logs, "report": page}
    clear_values = [v for v in ids | names | accounts if v]
    leaks = [where for where, text in texts.items()
             if re.search(ID_NUMBER, text) or any(v in text for v in clear_values)]
    if spark.table("ref.quarantine_t01_indpty_id").filter(F.col("birth_dt").rlike(r"\d")).count():
        leaks.append("birth dates in quarantine_t01_indpty_id")
    suite.record("P1", "regex scan of every gold and quarantine table, the logs and the report",
                 "no ID number, name, account number, or birth date next to a masked ID",
                 f"{len(table_names(spark, 'ref'))} tables, {len(logs.splitlines()):,} log lines and the "
                 f"report scanned; with personal data: {', '.join(found + leaks) or 'none'}", not found and not leaks)


def markdown(rows: list[dict]) -> str:
    head = ["case", "what the run does", "expected", "observed", "rows lost"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[h]) for h in head) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "faults")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "faults.json")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    raw, warehouse = args.work / "raw", args.work / "warehouse"
    conf = load_conf("local", {"paths.warehouse": str(warehouse), "paths.raw_root": str(raw)})
    messages = Messages()                 # every line the product logs, for P1
    logging.getLogger("wealth").addHandler(messages)
    spark = build_session("faults", conf)
    suite = Suite(spark, conf, raw, args.work, messages)
    started = time.time()
    assert generate.main(suite.args("ref", "--customers", str(args.customers), "--months", str(len(MONTHS)),
                                    "--seed", str(args.seed), "--bad-rate", "0.01")) == 0
    f1 = f1_killed_between_commits(raw, args.work)     # its own driver, warehouse and metastore
    for database in ("ref", "ref_once"):
        assert ingest.main(suite.args(database, "--from-month", MONTHS[0], "--month", MONTHS[2])) == 0
    check_f1(suite, f1)
    f3_same_month_twice(suite)
    f4_f5_at_once(suite)
    f7_to_f9_broken_extracts(suite)
    f10_and_f6_aum(suite)
    b_bad_rows(suite)
    assert report.main(suite.args("ref", "--month", MONTHS[2])) == 0
    p1_personal_data(suite, "\n".join(messages.lines) + f1["logs"])
    table = markdown(suite.rows)
    print(f"\nfault suite, {args.customers:,} customers x {len(MONTHS)} months, "
          f"{time.time() - started:,.0f} s\n\n{table}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(suite.rows, indent=1, ensure_ascii=False), encoding="utf-8")
    spark.stop()
    return 0 if all(r["as expected"] for r in suite.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
