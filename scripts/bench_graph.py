"""Benchmark the graph module's connected components (the dataframe engine, or GraphFrames
where it loads) against networkx on the same edges.

    .venv/bin/python scripts/bench_graph.py --edges 100000 --edges 1000000 [--shape counterparty|random]

Shapes (deterministic, hash-drawn):
  * counterparty: the acquisition graph's shape, wealth customers linked to about 15
    counterparties each: a quarter to shared hubs, a few to other wealth customers, the
    rest to counterparties of their own;
  * random: uniform random edges over as many vertices as edges (a giant component and
    many small ones; more rounds than the counterparty shape).
For each size: materialise the edges, time `connected_components` twice (a cold JVM, then
warm), collect the edges and time networkx's connected_components, check both assign every
vertex the same component, and print rows, seconds, the Spark / networkx ratio and edges
per second per core. Sizes above --networkx-max edges report Spark alone.
"""
from __future__ import annotations

import argparse
import logging
import time

import networkx as nx
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.acquisition import graph
from lib.config import load_conf
from lib.spark import build_session

CORES = 2
PER_WEALTH = 15


def _draw(seed: str, column: str, n) -> F.Column:
    return F.pmod(F.xxhash64(F.lit(seed), F.col(column)), F.lit(n))


def edges_of(spark: SparkSession, shape: str, count: int) -> DataFrame:
    ids = spark.range(count, numPartitions=8)
    if shape == "random":
        return ids.select(F.format_string("v%010d", _draw("src", "id", count)).alias("src"),
                          F.format_string("v%010d", _draw("dst", "id", count)).alias("dst"))
    wealth = max(1, count // PER_WEALTH)
    kind = _draw("kind", "id", 100)
    dst = (F.when(kind < 25, F.format_string("h%08d", _draw("hub", "id", max(1, wealth // 40))))
           .when(kind < 30, F.format_string("w%09d", _draw("peer", "id", wealth)))
           .otherwise(F.format_string("x%010d", F.col("id"))))
    return ids.select(F.format_string("w%09d", (F.col("id") / PER_WEALTH).cast("long")).alias("src"), dst.alias("dst"))


def run(spark: SparkSession, shape: str, count: int, networkx_max: int, engine: str) -> dict:
    edges = edges_of(spark, shape, count).localCheckpoint(eager=True)
    vertices = edges.select(F.col("src").alias("id")).union(edges.select("dst")).distinct().localCheckpoint(eager=True)
    g = graph.build(vertices, edges, engine)
    seconds = []
    for _ in range(2):
        start = time.monotonic()
        result = graph.connected_components(g).localCheckpoint(eager=True)
        seconds.append(time.monotonic() - start)
    row = {"shape": shape, "edges": count, "vertices": vertices.count(),
           "components": result.select("component").distinct().count(), "cold_s": seconds[0], "warm_s": seconds[1]}
    if count <= networkx_max:
        pairs = [(r.src, r.dst) for r in edges.collect()]          # a benchmark: the edges fit the driver
        start = time.monotonic()
        nxg = nx.Graph(pairs)
        expected = {v: smallest for c in nx.connected_components(nxg) for smallest in [min(c)] for v in c}
        row["networkx_s"] = time.monotonic() - start
        got = {r.id: r.component for r in result.collect()}
        row["differing"] = sum(got.get(v) != c for v, c in expected.items()) + len(set(got) - set(expected))
    return row


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_argument("--edges", type=int, action="append", required=True)
    cli.add_argument("--shape", choices=("counterparty", "random"), action="append")
    cli.add_argument("--networkx-max", type=int, default=2_000_000)
    cli.add_argument("--engine", default="auto", choices=("auto", graph.GRAPHFRAMES, graph.DATAFRAME))
    args = cli.parse_args()
    conf = load_conf("local", {"paths.warehouse": "build/bench_graph/warehouse",
                               "spark.settings": {"spark.driver.memory": "10g"}})
    logging.getLogger("py4j").setLevel(logging.WARNING)
    spark = build_session("bench-graph", conf)
    engine = graph.resolve_engine(spark, args.engine)
    print(f"engine {engine}, local[{CORES}], {conf.spark.settings['spark.sql.shuffle.partitions']} shuffle partitions")
    print("| shape | edges | vertices | components | Spark cold | Spark warm | edges/s/core (warm) | networkx | "
          "Spark warm / networkx | differing |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for shape in args.shape or ["counterparty", "random"]:
        for count in args.edges:
            r = run(spark, shape, count, args.networkx_max, engine)
            nx_s = r.get("networkx_s")
            print(f"| {shape} | {r['edges']:,} | {r['vertices']:,} | {r['components']:,} | {r['cold_s']:.1f} s | "
                  f"{r['warm_s']:.1f} s | {r['edges'] / r['warm_s'] / CORES:,.0f} | "
                  + (f"{nx_s:.1f} s | {r['warm_s'] / nx_s:.1f}× | {r['differing']} |" if nx_s else "– | – | – |"),
                  flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
