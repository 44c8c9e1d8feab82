"""Benchmark the whole monthly refresh at province size, on this machine's Spark (local[2]).

    .venv/bin/python scripts/bench_monthly.py --customers 10000 --customers 100000 --customers 1000000

For each size, in a process of its own (its own warehouse and metastore): generate a
province of N customers and 15 months, then in one Spark application run the monthly
refresh as a backfill of the first 12 months (monthly --from-month) and then one
incremental month, the 13th. The seconds per month and per stage come from run_manifest.
Prints one table: customers, ledger rows, the incremental month's seconds per stage and in
all, the backfill's total, the peak JVM heap (driver and executor are one JVM in local
mode), the Python driver's peak memory, and the bytes shuffled by each part. Where sizes
were measured side by side it also prints the growth from one to the next, with the fixed
part (the time a month takes whatever its size, taken from the smallest) separated out.
The table is written as JSON (--out) for the README.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyspark.sql import functions as F  # noqa: E402

from jobs import generate, monthly  # noqa: E402
from lib import monthly as monthly_stages  # noqa: E402
from lib.config import load_conf  # noqa: E402
from lib.months import add_months, month_range  # noqa: E402
from lib.spark import build_session  # noqa: E402
from lib.synth import LEDGER_ORDER  # noqa: E402

FIRST = "2019-01"
GENERATED, BACKFILL, SEED = 15, 12, 7
STAGES = tuple(name for name, _ in monthly_stages.STAGES)


def jvm_figures(spark) -> dict:
    """Peak JVM heap so far and bytes shuffled so far, over every executor (the driver is
    the executor in local mode), from Spark's status store."""
    store = spark.sparkContext._jsc.sc().statusStore()  # noqa: SLF001 - no public peak-memory API in PySpark
    executors = store.executorList(False)
    peak, shuffled = 0, 0
    for i in range(executors.size()):
        summary = executors.apply(i)
        shuffled += summary.totalShuffleWrite()
        if summary.peakMemoryMetrics().isDefined():
            peak = max(peak, summary.peakMemoryMetrics().get().getMetricValue("JVMHeapMemory"))
    return {"peak_heap_bytes": peak, "shuffle_bytes": shuffled}


def stage_seconds(spark, database: str, months: list[str]) -> dict[str, dict[str, float]]:
    """Each month's seconds per stage and in all (its run_manifest row: 13 months at most)."""
    rows = (spark.table(f"{database}.run_manifest").filter(F.col("stat_month").isin(months))
            .filter(F.col("status") == "SUCCEEDED").collect())
    seconds = {}
    for row in rows:
        per_stage = {s.stage: s.seconds for s in row.stages}
        seconds[row.stat_month] = {**per_stage,
                                   "total": (row.finished_at - row.started_at).total_seconds()}
    return seconds


def one_size(customers: int, work: Path, driver_memory: str | None, reuse: bool) -> dict:
    """Generate (or re-use the same province), backfill, run one incremental month; the
    figures of the size."""
    raw, warehouse = work / "raw", work / "warehouse"
    flags = ["--raw-root", str(raw), "--warehouse", str(warehouse), "--database", "bench"]
    marker = raw / "_bench.json"        # what was generated, and how its ledger's files are ordered
    province = {"customers": customers, "months": GENERATED, "seed": SEED, "ledger_order": list(LEDGER_ORDER)}
    generated = None
    if reuse and marker.exists() and json.loads(marker.read_text(encoding="utf-8")) == province:
        shutil.rmtree(warehouse, ignore_errors=True)
    else:
        shutil.rmtree(work, ignore_errors=True)
        started = time.perf_counter()
        assert generate.main([*flags, "--customers", str(customers), "--months", str(GENERATED),
                              "--seed", str(SEED)]) == 0
        generated = round(time.perf_counter() - started, 1)
        marker.write_text(json.dumps(province), encoding="utf-8")
    settings = {"spark.driver.memory": driver_memory} if driver_memory else {}
    conf = load_conf("local", {"paths.warehouse": str(warehouse), "paths.raw_root": str(raw),
                               "spark.settings": settings})
    spark = build_session("bench-monthly", conf)
    ledger_rows = spark.read.parquet(str(raw / "JNL_ACC_CHG")).count()
    months = month_range(FIRST, add_months(FIRST, BACKFILL))
    backfill, incremental = months[:-1], months[-1]

    start, before = time.perf_counter(), jvm_figures(spark)
    assert monthly.main([*flags, "--from-month", backfill[0], "--month", backfill[-1],
                         "--ledger-start", FIRST]) == 0
    backfill_seconds, after_backfill = time.perf_counter() - start, jvm_figures(spark)
    start = time.perf_counter()
    assert monthly.main([*flags, "--month", incremental, "--ledger-start", FIRST]) == 0
    incremental_seconds, after = time.perf_counter() - start, jvm_figures(spark)
    seconds = stage_seconds(spark, "bench", months)
    spark.stop()
    return {
        "customers": customers, "ledger_rows": ledger_rows, "generate_seconds": generated,
        "incremental_month": incremental, "incremental_seconds": round(incremental_seconds, 1),
        "incremental_stages": {s: seconds[incremental].get(s) for s in STAGES},
        "backfill_months": len(backfill), "backfill_seconds": round(backfill_seconds, 1),
        "backfill_month_seconds": {m: round(seconds[m]["total"], 1) for m in backfill},
        "driver_memory": conf.spark.settings["spark.driver.memory"],
        "peak_heap_gib": round(after["peak_heap_bytes"] / 2**30, 2),
        "python_driver_peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "backfill_shuffle_gib": round((after_backfill["shuffle_bytes"] - before["shuffle_bytes"]) / 2**30, 3),
        "incremental_shuffle_gib": round((after["shuffle_bytes"] - after_backfill["shuffle_bytes"]) / 2**30, 3),
    }


def growth(results: list[dict]) -> list[str]:
    """From each size to the next: the incremental month's ratio, in all and without the
    fixed part (the smallest size's time, which is mostly per-stage overhead)."""
    fixed = results[0]["incremental_seconds"]
    lines = []
    for small, big in zip(results, results[1:]):
        ratio = big["incremental_seconds"] / small["incremental_seconds"]
        above = (big["incremental_seconds"] - fixed) / max(small["incremental_seconds"] - fixed, 1e-9)
        lines.append(f"{small['customers']:,} -> {big['customers']:,} customers: incremental month x{ratio:.1f}"
                     + (f"; above the fixed {fixed:,.0f} s: x{above:.1f}" if small is not results[0] else ""))
    return lines


def table(results: list[dict]) -> str:
    head = ["customers", "ledger rows", *STAGES, "month total", f"backfill ({BACKFILL} months)",
            "JVM heap: peak / max GiB", "Python GiB", "shuffle GiB month / backfill"]
    rows = [[f"{r['customers']:,}", f"{r['ledger_rows']:,}",
             *(f"{r['incremental_stages'][s]:,.0f}" if r["incremental_stages"][s] is not None else "–"
               for s in STAGES),
             f"{r['incremental_seconds']:,.0f}", f"{r['backfill_seconds']:,.0f}",
             f"{r['peak_heap_gib']} / {r['driver_memory'].rstrip('g')}",
             f"{r['python_driver_peak_gib']}", f"{r['incremental_shuffle_gib']} / {r['backfill_shuffle_gib']}"]
            for r in results]
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [head, ["---"] * len(head), *rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, action="append", help="a size to measure (repeatable)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bench_monthly")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench_monthly.json")
    parser.add_argument("--driver-memory", help="the JVM's heap (local mode: driver and executor), "
                        "e.g. 12g; default conf/local.yaml's")
    parser.add_argument("--reuse-province", action="store_true",
                        help="re-use the province an earlier run generated for the same size (same seed)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)    # a size's own process
    args = parser.parse_args()
    sizes = sorted(args.customers or [10_000])
    if args.one:
        args.out.write_text(json.dumps(one_size(sizes[0], args.work, args.driver_memory, args.reuse_province)), encoding="utf-8")
        return 0
    results = []
    for customers in sizes:
        part = args.work / f"{customers}.json"
        part.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, __file__, "--one", "--customers", str(customers),
                        "--work", str(args.work / str(customers)), "--out", str(part),
                        *(["--driver-memory", args.driver_memory] if args.driver_memory else []),
                        *(["--reuse-province"] if args.reuse_province else [])], check=True)
        results.append(json.loads(part.read_text(encoding="utf-8")))
        print(f"{customers:,} customers: month {results[-1]['incremental_seconds']:,.0f} s, "
              f"backfill {results[-1]['backfill_seconds']:,.0f} s", flush=True)
    print(f"\nmonthly refresh, {BACKFILL}-month backfill then one month, local[2]\n\n{table(results)}\n")
    print("\n".join(growth(results)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
