"""The counterparty graph's one module (SPEC §2, §4): the few graph operations the
acquisition stage needs, on one of two engines with identical results.

* `graphframes`: the real `graphframes.GraphFrame`, where its JVM package is on the class
  path (a cluster that resolves it or ships it frozen).
* `dataframe`: the same operations as plain Spark DataFrame code, everywhere else.

Only three operations differ by engine: `degrees`, `aggregate_messages` and
`connected_components`; `shared_neighbours` (the 2-hop motif) is built on
`aggregate_messages`, so it is the same code on both. A graph is a vertices DataFrame with
a string `id` and an edges DataFrame with `src` and `dst`.
"""
from __future__ import annotations

from dataclasses import dataclass

from py4j.protocol import Py4JJavaError
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from lib.errors import GraphEngineError

GRAPHFRAMES, DATAFRAME = "graphframes", "dataframe"
GRAPHFRAME_CLASS = "org.graphframes.GraphFrame"



# Message columns, as graphframes.lib.AggregateMessages names them: a message is built from
# the source vertex's, the edge's and the destination vertex's columns and aggregated over
# the message's fields.
def src(field: str) -> Column:
    return F.col("src")[field]


def edge(field: str) -> Column:
    return F.col("edge")[field]


def dst(field: str) -> Column:
    return F.col("dst")[field]


def msg(field: str | None = None) -> Column:
    return F.col("MSG") if field is None else F.col("MSG")[field]


@dataclass(frozen=True)
class Graph:
    vertices: DataFrame     # id (string) + attributes
    edges: DataFrame        # src, dst (vertex ids) + attributes
    engine: str


def graphframes_on_classpath(spark: SparkSession) -> bool:
    """Whether the session's JVM can load GraphFrames (as graphframes-py loads it)."""
    loader = spark.sparkContext._jvm.Thread.currentThread().getContextClassLoader()  # noqa: SLF001
    try:
        loader.loadClass(GRAPHFRAME_CLASS)
    except Py4JJavaError:       # ClassNotFoundException
        return False
    return True


def resolve_engine(spark: SparkSession, setting: str) -> str:
    """The engine for `graph.engine`: auto takes GraphFrames when its class loads."""
    present = graphframes_on_classpath(spark)
    if setting == "auto":
        return GRAPHFRAMES if present else DATAFRAME
    if setting == GRAPHFRAMES and not present:
        raise GraphEngineError(f"graph.engine is graphframes but {GRAPHFRAME_CLASS} does not load in this session: "
                               "set graph.packages: true (or ship it in the frozen jars), or use engine auto")
    return setting


def build(vertices: DataFrame, edges: DataFrame, engine: str) -> Graph:
    if engine not in (GRAPHFRAMES, DATAFRAME):
        raise GraphEngineError(f"unknown graph engine {engine!r} (known: {GRAPHFRAMES}, {DATAFRAME})")
    return Graph(vertices, edges, engine)


def _graphframe(graph: Graph):
    from graphframes import GraphFrame  # only where the engine is available
    return GraphFrame(graph.vertices, graph.edges)


def degrees(graph: Graph) -> DataFrame:
    """id, in_degree, out_degree of every vertex (0 when it has no such edge)."""
    if graph.engine == GRAPHFRAMES:
        frame = _graphframe(graph)
        ins = frame.inDegrees.withColumnRenamed("inDegree", "in_degree")
        outs = frame.outDegrees.withColumnRenamed("outDegree", "out_degree")
    else:
        ins = graph.edges.groupBy(F.col("dst").alias("id")).agg(F.count(F.lit(1)).alias("in_degree"))
        outs = graph.edges.groupBy(F.col("src").alias("id")).agg(F.count(F.lit(1)).alias("out_degree"))
    return (graph.vertices.select("id")
            .join(ins, "id", how="left")
            .join(outs, "id", how="left")
            .select("id", *[F.coalesce(F.col(c), F.lit(0)).cast("int").alias(c) for c in ("in_degree", "out_degree")]))


def aggregate_messages(graph: Graph, to_dst: Column, agg: Column) -> DataFrame:
    """id, <agg's alias>: each edge sends `to_dst` (over src(), edge(), dst()) to its
    destination vertex, which aggregates its messages with `agg` (over msg()). Only vertices
    that receive a message appear (GraphFrames' aggregateMessages)."""
    if graph.engine == GRAPHFRAMES:
        return _graphframe(graph).aggregateMessages([agg], sendToDst=[to_dst])
    vertex = lambda name: graph.vertices.select(F.struct(*graph.vertices.columns).alias(name))  # noqa: E731
    triplets = (graph.edges.select(F.struct(*graph.edges.columns).alias("edge"))
                .join(vertex("src"), edge("src") == src("id"), how="inner")
                .join(vertex("dst"), edge("dst") == dst("id"), how="inner"))
    return triplets.select(dst("id").alias("id"), to_dst.alias("MSG")).groupBy("id").agg(agg)


def shared_neighbours(graph: Graph, min_sources: int, order_by: str, keep: int) -> DataFrame:
    """The 2-hop motif (a)-[]->(c)<-[]-(b), a != b: id, source_cnt and sources (the ids of
    at most `keep` sources, by the edge column `order_by` descending, then by id) of every
    vertex reached from at least `min_sources` distinct sources. Found by each vertex
    gathering its sources, not by a self-join of the edges, which is quadratic in a hub's
    degree."""
    message = F.struct((-edge(order_by)).alias("order"), src("id").alias("src"))
    gathered = F.struct(F.count_distinct(msg("src")).alias("cnt"), F.collect_list(msg()).alias("msgs")).alias("gathered")
    strongest = F.slice(F.transform(F.array_sort("gathered.msgs"), lambda m: m["src"]), 1, keep)
    return (aggregate_messages(graph, message, gathered)
            .filter(F.col("gathered.cnt") >= min_sources)
            .select("id", F.col("gathered.cnt").alias("source_cnt"), strongest.alias("sources")))


def connected_components(graph: Graph) -> DataFrame:
    """id, component: every vertex with the smallest vertex id of its connected component
    (edges taken as undirected), the same on both engines."""
    if graph.engine == GRAPHFRAMES:
        # GraphFrames labels components with a long of its own: name each by its smallest
        # id. A vertex it leaves out (isolated vertices, graphframes#441) is its own component.
        labels = (_graphframe(graph).connectedComponents(broadcastThreshold=-1)
                  .select("id", F.col("component").alias("label")))
        labelled = graph.vertices.select("id").join(labels, "id", how="left").withColumn(
            "label", F.coalesce(F.col("label").cast("string"), F.concat(F.lit("self:"), F.col("id"))))
        whole = Window.partitionBy("label").rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
        return labelled.select("id", F.min("id").over(whole).alias("component"))
    return _star_components(graph)


def _checkpoint(df: DataFrame) -> DataFrame:
    """Materialise a round's edges and cut the lineage, which otherwise grows with every
    round. Local checkpoints (executor storage, freed with the DataFrame) leave no files
    behind in the checkpoint dir; a lost executor fails the stage, and the month is re-run."""
    return df.localCheckpoint(eager=True)


HASH_SEEDS = (0, 1, 2)


def _star_components(graph: Graph) -> DataFrame:
    """Connected components by alternating large-star and small-star (Kiveris, Lattanzi,
    Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce and Beyond", SoCC
    2014), which turns every component into a star around its smallest vertex in
    O(log² n) rounds.

    The rounds order vertices by 64-bit hashes of their ids (narrow rows, no sort to number
    them), once the hashes are checked to be distinct; each component is then named by its
    smallest id. Each step maps every edge row to exactly one row, so a round that leaves
    every row as it was has reached the fixed point, which is a forest of stars: that test
    reads a flag and needs no shuffle."""
    vertices = _checkpoint(graph.vertices.select("id").distinct())
    seed = next((s for s in HASH_SEEDS if _hashes_distinct(vertices, s)), None)
    if seed is None:
        raise GraphEngineError(f"vertex ids collide under 64-bit hashes with seeds {HASH_SEEDS}")
    hashed = lambda c: F.xxhash64(F.lit(seed), F.col(c))  # noqa: E731
    edges = (graph.edges.select(F.greatest(hashed("src"), hashed("dst")).alias("hi"),
                                F.least(hashed("src"), hashed("dst")).alias("lo"))
             .filter(F.col("hi") != F.col("lo")))         # a self-loop joins nothing
    while True:
        edges = _checkpoint(_small_star(_large_star(edges.select("hi", "lo", F.lit(False).alias("moved")))))
        if edges.filter("moved").isEmpty():
            break
    # a star's leaves point at its centre (hi -> lo); centres and isolated vertices are their own
    centre = edges.select(F.col("hi").alias("n"), F.col("lo").alias("c")).distinct()
    whole = Window.partitionBy("c").rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    return (vertices.withColumn("n", hashed("id"))
            .join(centre, "n", how="left")
            .withColumn("c", F.coalesce("c", "n"))
            .select("id", F.min("id").over(whole).alias("component")))


def _hashes_distinct(vertices: DataFrame, seed: int) -> bool:
    counts = vertices.agg(F.count_distinct(F.xxhash64(F.lit(seed), "id")).alias("hashes"),
                          F.count(F.lit(1)).alias("ids")).first()
    return counts.hashes == counts.ids


def _large_star(edges: DataFrame) -> DataFrame:
    """Every vertex u links each larger neighbour to m(u), the smallest of u and its
    neighbours: each edge (v, u), v > u, becomes (v, m(u))."""
    smallest = edges.groupBy(F.col("hi").alias("lo")).agg(F.min("lo").alias("m"))
    return (edges.join(smallest.hint("shuffle_hash"), "lo", how="left")
            .withColumns({"lo": F.coalesce("m", "lo"), "moved": F.col("moved") | F.col("m").isNotNull()})
            .drop("m"))


def _small_star(edges: DataFrame) -> DataFrame:
    """Every vertex u links itself and its smaller neighbours to the smallest of them,
    m(u): each edge (u, v) becomes (v, m(u)), or (u, m(u)) when v is m(u)."""
    of_hi = Window.partitionBy("hi").rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    with_min = edges.withColumn("m", F.min("lo").over(of_hi))
    is_min = F.col("lo") == F.col("m")
    return with_min.withColumns({"hi": F.when(is_min, F.col("hi")).otherwise(F.col("lo")), "lo": F.col("m"),
                                 "moved": F.col("moved") | ~is_min}).drop("m")
