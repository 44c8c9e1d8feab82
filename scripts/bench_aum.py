"""Benchmark the ledger -> monthly deposit AUM path against DuckDB on the same data.

    .venv/bin/python scripts/bench_aum.py --customers 24000 --customers 240000

For each size: generate a province (12 months), write its ledger as a month-partitioned
Parquet dataset (the layout of the silver table), then time
  * Spark: lib.aum.balances (day-end balances -> segments -> Σ balance × days, month end, max daily)
  * DuckDB (2 threads): the same computation in SQL on the same files
check that both give the same numbers for every customer-month, and time one month
incremental (from the previous month's closing balances) against the 12-month backfill.
Prints rows, seconds, rows/s and the Spark/DuckDB ratio.
"""
from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path

import duckdb
from pyspark.sql import functions as F

from lib.aum import balances
from lib.config import load_conf
from lib.months import add_months
from lib.spark import build_session
from lib.synth import write_province
from lib.synth.province import GenParams

DUCKDB_SQL = """
with ledger as (select * from read_parquet('{path}/*/*.parquet', hive_partitioning = true)
                where stat_month between '{first}' and '{last}'),
day_end as (select cust_id, agmt_id, txn_dt as day, arg_max(bal_after, txn_seq) as bal, 1 as ord
            from ledger group by all),
prior as (select cust_id, agmt_id, bal_close from read_parquet('{prior}')),
accounts as (select cust_id, agmt_id from day_end union select cust_id, agmt_id from prior),
starts as (select cast(range as date) as day from range(date '{first}-01', date '{end}', interval 1 month)),
rows_ as (select * from day_end
          union all select a.cust_id, a.agmt_id, s.day, null, 0 from accounts a cross join starts s
          union all select cust_id, agmt_id, date '{first}-01' - 1, bal_close, 0 from prior),
carried as (select cust_id, agmt_id, day, ord,
                   coalesce(last_value(bal ignore nulls) over w, 0) as bal
            from rows_ window w as (partition by agmt_id order by day, ord
                                    rows between unbounded preceding and current row)),
seg as (select cust_id, agmt_id, strftime(day, '%Y-%m') as stat_month, day, ord, bal,
               date_diff('day', day, coalesce(lead(day) over w, date '{end}')) as days,
               case when ord = 0 then bal else bal - lag(bal) over w end as delta
        from carried where day >= date '{first}-01'
        window w as (partition by agmt_id order by day, ord)),
per_day as (select cust_id, stat_month, day, sum(delta) as delta from seg group by all),
totals as (select *, sum(delta) over (partition by cust_id, stat_month order by day) as total from per_day)
select w.cust_id, w.stat_month, w.dep_bal_days, t.dep_end, t.dep_max_daily
from (select cust_id, stat_month, sum(bal * days) as dep_bal_days from seg group by all) w
join (select cust_id, stat_month, arg_max(total, day) as dep_end, max(total) as dep_max_daily
      from totals group by all) t using (cust_id, stat_month)
"""


def spark_run(spark, ledger_path: str, prior_path: str | None, first: str, last: str, out: str) -> float:
    ledger = (spark.read.parquet(ledger_path).filter(F.col("stat_month").between(first, last))
              .select("cust_id", "agmt_id", "txn_dt", "txn_seq", "bal_after"))
    prior = (spark.read.parquet(prior_path) if prior_path else
             spark.createDataFrame([], "cust_id string, agmt_id string, bal_close decimal(18,2)"))
    start = time.perf_counter()
    changes = balances.account_changes(balances.day_end_balances(ledger, prior, first), last)
    balances.deposit_month(balances.customer_segments(changes, last), first).write.mode("overwrite").parquet(out)
    return time.perf_counter() - start


def duckdb_run(ledger_path: str, prior_path: str, first: str, last: str, out: str) -> float:
    con = duckdb.connect()
    con.execute("set threads = 2")
    sql = DUCKDB_SQL.format(path=ledger_path, prior=prior_path, first=first, last=last,
                            end=f"{add_months(last, 1)}-01")
    start = time.perf_counter()
    con.execute(f"copy ({sql}) to '{out}' (format parquet)")
    return time.perf_counter() - start


def same_numbers(spark_out: str, duck_out: str) -> int:
    """Customer-months where the two engines differ (must be 0). A customer-month only one
    side lists counts as zeros on the other (the job fills a month with no deposits so)."""
    return duckdb.sql(f"""
        select count(*) from read_parquet('{spark_out}/*.parquet') s
        full join read_parquet('{duck_out}') d using (cust_id, stat_month)
        where coalesce(s.dep_bal_days, 0) <> coalesce(d.dep_bal_days, 0)
           or coalesce(s.dep_end, 0) <> coalesce(d.dep_end, 0)
           or coalesce(s.dep_max_daily, 0) <> coalesce(d.dep_max_daily, 0)""").fetchone()[0]


def bench(spark, customers: int, work: Path) -> None:
    params = GenParams(customers=customers, months=12, start_month="2019-01", seed=1)
    raw, ledger = work / f"raw_{customers}", str(work / f"ledger_{customers}")
    write_province(spark, params, str(raw), "parquet", logging.getLogger("bench"))
    (spark.read.parquet(f"{raw}/JNL_ACC_CHG")
     .select(*[F.col(c).alias(c.lower()) for c in ("CUST_ID", "AGMT_ID", "TXN_DT", "TXN_SEQ", "BAL_AFTER")],
             F.date_format("TXN_DT", "yyyy-MM").alias("stat_month"))
     .write.mode("overwrite").partitionBy("stat_month").parquet(ledger))
    rows = spark.read.parquet(ledger).count()
    first, last = "2019-01", "2019-12"
    empty = str(work / "empty_prior.parquet")
    duckdb.sql("copy (select ''::varchar as cust_id, ''::varchar as agmt_id, 0::decimal(18,2) as bal_close "
               f"limit 0) to '{empty}' (format parquet)")
    spark_s = spark_run(spark, ledger, None, first, last, str(work / "spark_out"))
    duck_s = duckdb_run(ledger, empty, first, last, str(work / "duck_out.parquet"))
    diff = same_numbers(str(work / "spark_out"), str(work / "duck_out.parquet"))
    # Incremental: December alone, from November's closing balances.
    prior = str(work / "prior")
    to_november = spark.read.parquet(ledger).filter(F.col("stat_month") <= "2019-11")
    none = spark.createDataFrame([], "cust_id string, agmt_id string, bal_close decimal(18,2)")
    changes = balances.account_changes(balances.day_end_balances(to_november, none, first), "2019-11")
    (balances.account_close(changes, first).filter(F.col("stat_month") == "2019-11").drop("stat_month")
     .write.mode("overwrite").parquet(prior))
    inc_s = spark_run(spark, ledger, prior, last, last, str(work / "spark_inc"))
    inc_duck = duckdb_run(ledger, f"{prior}/*.parquet", last, last, str(work / "duck_inc.parquet"))
    inc_diff = same_numbers(str(work / "spark_inc"), str(work / "duck_inc.parquet"))
    print(f"\n== {customers:,} customers, {rows:,} ledger rows (12 months)")
    print(f"backfill 12 months  spark {spark_s:7.1f} s  {rows / spark_s:12,.0f} rows/s   "
          f"duckdb {duck_s:7.1f} s  {rows / duck_s:12,.0f} rows/s   spark/duckdb {spark_s / duck_s:4.2f}x   "
          f"differing customer-months {diff}")
    print(f"incremental 1 month spark {inc_s:7.1f} s   duckdb {inc_duck:7.1f} s   spark/duckdb "
          f"{inc_s / inc_duck:4.2f}x   1 month / 12-month backfill (spark) {inc_s / spark_s:4.2f}   "
          f"differing customer-months {inc_diff}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, action="append", help="province size (repeatable)")
    parser.add_argument("--work", default="/tmp/wealth-bench")
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    conf = load_conf("local", {"paths.warehouse": str(work / "warehouse")})
    spark = build_session("bench", conf)
    for customers in args.customers or [24_000]:
        bench(spark, customers, work)
    spark.stop()


if __name__ == "__main__":
    main()
