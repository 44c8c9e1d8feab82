"""Benchmark Pearson user-based CF (lib.uplift.recommenders.pearson_ucf) for linear scaling, and
against DuckDB running the same distinct-vector method in SQL on the same data.

    .venv/bin/python scripts/bench_uplift.py --customers 250000 --customers 500000

For each size: write a wealth-customer CF table (age band, asset band, six product flags
with the generator's kind of affinities) as Parquet, then time
  * Spark: pearson_ucf (K = 10, min_score 0.5, top 3) written to Parquet;
  * DuckDB (2 threads): the same method in SQL on the same file;
check both give the same products, ranks and scores (to 1e-9) for every customer, and
print rows, seconds, the Spark/DuckDB ratio and t(next size) / t(this size).
"""
from __future__ import annotations

import argparse
import logging
import shutil
import time
from pathlib import Path

import duckdb
from pyspark.sql import functions as F

from lib.config import load_conf
from lib.seeded import uniform
from lib.spark import build_session
from lib.uplift.recommenders import CF_PRODUCTS, pearson_ucf

K, MIN_SCORE, TOP_N = 10, 0.5, 3
FLAGS = [f"has_{p.lower()}" for p in CF_PRODUCTS]

DUCKDB_SQL = """
with v as (select cust_id, [age_band, asset_band, {flags}]::double[] as vec,
                  concat_ws(',', age_band, asset_band, {flag_ints}) as key
           from read_parquet('{path}/*.parquet')),
g as (select key, any_value(vec) as vec, count(*) as n from v group by key),
s as (select key, vec, n, list_sum(vec) as sx, list_dot_product(vec, vec) as sxx from g),
pairs as (select t.key, c.key as nkey, c.n, c.vec as nvec,
                 round(case when 8 * t.sxx - t.sx * t.sx > 0 and 8 * c.sxx - c.sx * c.sx > 0
                            then (8 * list_dot_product(t.vec, c.vec) - t.sx * c.sx)
                                 / sqrt((8 * t.sxx - t.sx * t.sx) * (8 * c.sxx - c.sx * c.sx))
                            else 0 end, 12) as r
          from s t, s c where t.key <> c.key),
pos as (select * from pairs where r > 0),
levels as (select key, r, sum(n) as level_n from pos group by all),
before as (select *, coalesce(sum(level_n) over (partition by key order by r desc
                                 rows between unbounded preceding and 1 preceding), 0) as before from levels),
kept as (select *, {k} - before as room from before where before < {k}),
full_ as (select p.key, p.nkey, p.r, p.n as taken from pos p join kept l using (key, r) where l.level_n <= l.room),
smallest as (select key as nkey, cust_id from (select key, cust_id, row_number() over (partition by key order by cust_id) as i
                                               from v) where i <= {k}),
cut as (select p.key, p.nkey, p.r, l.room, m.cust_id from pos p join kept l using (key, r)
        join smallest m using (nkey) where l.level_n > l.room),
part as (select key, nkey, r, count(*) as taken from
         (select *, row_number() over (partition by key order by cust_id) as i from cut) where i <= room group by all),
nb as (select * from full_ union all select * from part),
per as (select nb.key, i as idx, sum(case when string_split(nb.nkey, ',')[i + 2] = '1' then r * taken else 0 end) as num
        from nb, range(1, 7) t(i) group by all),
tot as (select key, sum(r * taken) as den from nb group by key),
scored as (select per.key, ['{products}'][idx] as product, num / den as score from per join tot using (key)
           where string_split(per.key, ',')[idx + 2] = '0' and num / den >= {min_score}),
ranked as (select *, row_number() over (partition by key order by score desc, product) as rank from scored)
select v.cust_id, ranked.product, ranked.score, ranked.rank from v join ranked using (key) where rank <= {top_n}
"""


def write_tags(spark, n: int, path: str) -> None:
    """n wealth customers: bands skewed to the middle, holdings with affinities."""
    i = F.col("id")
    u = lambda salt: uniform(7, salt, i)  # noqa: E731
    band = lambda salt: F.least(F.lit(6), F.lit(1) + F.floor((u(salt) + u(salt + "2")) * 3.5)).cast("int")  # noqa: E731
    large_cd = u("cd") < 0.35
    fund = u("fund") < 0.4
    df = spark.range(n, numPartitions=4).select(
        F.format_string("41%08d", i).alias("cust_id"), band("age").alias("age_band"), band("asset").alias("asset_band"),
        large_cd.alias("has_large_cd"), (u("agmt") < F.when(large_cd, 0.7).otherwise(0.03)).alias("has_agreement_deposit"),
        (u("wp") < 0.5).alias("has_wealth_product"), fund.alias("has_fund"), (u("ins") < 0.25).alias("has_insurance"),
        (u("mob") < F.when(fund, 0.9).otherwise(0.45)).alias("has_mobile_banking"))
    df.write.mode("overwrite").parquet(path)


def spark_run(spark, path: str, out: str) -> float:
    start = time.perf_counter()
    pearson_ucf(spark.read.parquet(path), K, MIN_SCORE, TOP_N).write.mode("overwrite").parquet(out)
    return time.perf_counter() - start


def duckdb_run(path: str, out: str) -> float:
    con = duckdb.connect()
    con.execute("set threads = 2")
    sql = DUCKDB_SQL.format(path=path, k=K, min_score=MIN_SCORE, top_n=TOP_N, products="', '".join(CF_PRODUCTS),
                            flags=", ".join(f"{f}::int" for f in FLAGS),
                            flag_ints=", ".join(f"{f}::int" for f in FLAGS))
    start = time.perf_counter()
    con.execute(f"copy ({sql}) to '{out}' (format parquet)")
    return time.perf_counter() - start


def differing(spark_out: str, duck_out: str) -> int:
    con = duckdb.connect()
    return con.execute(f"""
        select count(*) from read_parquet('{spark_out}/*.parquet') s
        full join read_parquet('{duck_out}') d using (cust_id, product, rank)
        where s.score is null or d.score is null or abs(s.score - d.score) > 1e-9""").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, action="append", help="wealth customers (repeatable)")
    parser.add_argument("--work", default="build/bench_uplift", help="scratch folder (deleted first)")
    args = parser.parse_args()
    sizes = args.customers or [250_000, 500_000]
    work = Path(args.work).resolve()
    shutil.rmtree(work, ignore_errors=True)
    conf = load_conf("local", {"paths.warehouse": str(work / "warehouse"), "paths.raw_root": str(work / "raw"),
                               "spark.settings": {"spark.sql.shuffle.partitions": "8", "spark.ui.enabled": "false",
                                                  "spark.driver.memory": "8g"}})
    logging.getLogger("py4j").setLevel(logging.WARNING)
    spark = build_session("bench_uplift", conf)
    results = []
    for n in sizes:
        path = str(work / f"tags_{n}")
        write_tags(spark, n, path)
        spark_run(spark, path, str(work / "warmup"))           # JIT and Spark's first-stage costs
        t_spark = spark_run(spark, path, str(work / f"spark_{n}"))
        t_duck = duckdb_run(path, str(work / f"duck_{n}.parquet"))
        recs = duckdb.connect().execute(f"select count(*) from read_parquet('{work}/duck_{n}.parquet')").fetchone()[0]
        diff = differing(str(work / f"spark_{n}"), str(work / f"duck_{n}.parquet"))
        results.append((n, recs, t_spark, t_duck, diff))
    print(f"{'customers':>10} {'recs':>9} {'spark s':>8} {'duckdb s':>9} {'ratio':>6} {'differing':>9} {'t/t_prev':>8}")
    for j, (n, recs, t_spark, t_duck, diff) in enumerate(results):
        growth = f"{t_spark / results[j - 1][2]:.2f}" if j else "-"
        print(f"{n:>10,} {recs:>9,} {t_spark:>8.1f} {t_duck:>9.1f} {t_spark / t_duck:>6.2f} {diff:>9,} {growth:>8}")
    spark.stop()


if __name__ == "__main__":
    main()
