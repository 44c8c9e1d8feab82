"""The graph module on every engine available in this session, against networkx and
hand-worked values. The dataframe engine always runs; the GraphFrames engine runs
wherever its JVM package is on the class path and says why it skips elsewhere."""
from __future__ import annotations

import random

import networkx as nx
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lib.acquisition import graph
from lib.acquisition.graph import edge, msg, src
from lib.config import load_conf
from lib.errors import FrozenJarsError, GraphEngineError
from lib.spark import frozen_jars, session_settings


@pytest.fixture(params=[graph.DATAFRAME, graph.GRAPHFRAMES])
def engine(request, spark):
    if request.param == graph.GRAPHFRAMES and not graph.graphframes_on_classpath(spark):
        pytest.skip(f"{graph.GRAPHFRAME_CLASS} is not on this session's class path: no io.graphframes artifact "
                    "resolves from the Maven Central this machine reaches (README, Versions)")
    return request.param


def as_graph(spark, edges: list[tuple[str, str]], engine: str, isolated: tuple[str, ...] = (), weights=None):
    ids = sorted({v for e in edges for v in e} | set(isolated))
    vertices = spark.createDataFrame([(v,) for v in ids], "id string")
    rows = [(s, d, float(weights[i]) if weights else 1.0) for i, (s, d) in enumerate(edges)]
    return graph.build(vertices, spark.createDataFrame(rows, "src string, dst string, weight double"), engine)


def generated_edges(seed: int = 7) -> tuple[list[tuple[str, str]], tuple[str, ...]]:
    """Several thousand edges: a path of 400 vertices (its ids out of order, so its
    smallest id sits in the middle), a star of 600 leaves, 2,000 random edges over 3,000
    vertices (many small components), a few isolated vertices, duplicate and reversed edges."""
    rng = random.Random(seed)
    path = [f"p{(i * 7919) % 400:04d}" for i in range(400)]
    edges = list(zip(path, path[1:]))
    edges += [("s-centre", f"s{i:04d}") for i in range(600)]
    edges += [(f"r{rng.randrange(3000):05d}", f"r{rng.randrange(3000):05d}") for _ in range(2000)]
    edges += [(d, s) for s, d in edges[:50]] + edges[100:130]
    return edges, ("lonely-a", "lonely-b")


def test_connected_components_equal_networkx(spark, engine):
    edges, isolated = generated_edges()
    g = nx.Graph()
    g.add_nodes_from(isolated)
    g.add_edges_from(edges)
    expected = [(v, smallest) for c in nx.connected_components(g) for smallest in [min(c)] for v in c]
    # when
    result = graph.connected_components(as_graph(spark, edges, engine, isolated))
    # then: every vertex carries the smallest id of its networkx component
    assert_df_equality(result, spark.createDataFrame(expected, "id string, component string"),
                       ignore_row_order=True, ignore_nullable=True)
    assert len({c for _, c in expected}) > 100     # many components, not one


def test_connected_components_of_a_hand_graph(spark, engine):
    # given: b-a-c (a chain whose smallest id is inside), d-e, f alone
    result = graph.connected_components(as_graph(spark, [("b", "a"), ("a", "c"), ("e", "d")], engine, ("f",)))
    expected = spark.createDataFrame([("a", "a"), ("b", "a"), ("c", "a"), ("d", "d"), ("e", "d"), ("f", "f")],
                                     "id string, component string")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_degrees_equal_networkx(spark, engine):
    edges, isolated = generated_edges(3)
    g = nx.MultiDiGraph()
    g.add_nodes_from(isolated)
    g.add_edges_from(edges)
    expected = [(v, g.in_degree(v), g.out_degree(v)) for v in g.nodes]
    result = graph.degrees(as_graph(spark, edges, engine, isolated))
    assert_df_equality(result, spark.createDataFrame(expected, "id string, in_degree int, out_degree int"),
                       ignore_row_order=True, ignore_nullable=True)


def test_aggregate_messages_sums_each_destinations_edges(spark, engine):
    # given: x <- a (2.0), x <- b (3.5), y <- a (1.0); a and b receive nothing
    g = as_graph(spark, [("a", "x"), ("b", "x"), ("a", "y")], engine, weights=[2.0, 3.5, 1.0])
    # when: each edge sends its weight and its source
    result = graph.aggregate_messages(g, F.struct(edge("weight").alias("w"), src("id").alias("s")),
                                      F.struct(F.sum(msg("w")).alias("total"),
                                               F.sort_array(F.collect_list(msg("s"))).alias("from")).alias("got"))
    # then
    expected = spark.createDataFrame([("x", (5.5, ["a", "b"])), ("y", (1.0, ["a"]))],
                                     "id string, got struct<total double, `from` array<string>>")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)


def test_shared_neighbours_are_the_two_hop_motif(spark, engine):
    # given: h is reached from a (weight 1), b (3), c (3); k from a twice (one source); m from d
    edges = [("a", "h"), ("b", "h"), ("c", "h"), ("a", "k"), ("a", "k"), ("d", "m")]
    g = as_graph(spark, edges, engine, weights=[1, 3, 3, 5, 5, 9])
    # when
    result = graph.shared_neighbours(g, min_sources=2, order_by="weight", keep=2)
    # then: only h has two distinct sources; its strongest two, ties by id: b, c
    expected = spark.createDataFrame([("h", 3, ["b", "c"])], "id string, source_cnt bigint, sources array<string>")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)
    # the same as listing the motif's pairs (a)->(c)<-(b), a != b, by brute force
    pairs = {(c1, a, b) for a, c1 in edges for b, c2 in edges if c1 == c2 and a != b}
    assert {c for c, _, _ in pairs} == {"h"}


def test_auto_engine_is_the_dataframe_engine_without_graphframes(spark):
    expected = graph.GRAPHFRAMES if graph.graphframes_on_classpath(spark) else graph.DATAFRAME
    assert graph.resolve_engine(spark, "auto") == expected
    assert graph.resolve_engine(spark, "dataframe") == graph.DATAFRAME
    if expected == graph.DATAFRAME:
        with pytest.raises(GraphEngineError, match="graph.engine is graphframes but org.graphframes.GraphFrame does "
                                                   "not load"):
            graph.resolve_engine(spark, "graphframes")


def test_graphframes_package_is_asked_for_only_where_the_environment_wants_it():
    local, cluster = load_conf("local"), load_conf("cluster")
    pinned = local.spark.graphframes_package
    assert pinned.startswith("io.graphframes:graphframes-spark4_2.13:")
    assert pinned not in session_settings(local)["spark.jars.packages"]
    assert local.packages == local.spark.packages
    assert cluster.packages == (*cluster.spark.packages, pinned)
    assert session_settings(cluster)["spark.jars.packages"].split(",") == list(cluster.packages)


def test_frozen_jars_may_hold_graphframes_beside_the_pinned_packages(tmp_path):
    (tmp_path / "delta.jar").write_bytes(b"")
    pinned, graphframes = ("io.delta:delta-spark_4.1_2.13:4.4.0",), "io.graphframes:graphframes-spark4_2.13:0.12.2"
    (tmp_path / "MANIFEST").write_text(f"{pinned[0]}\n{graphframes}\n", encoding="utf-8")
    # a folder frozen where graph.packages was true serves a conf that does not ask for GraphFrames
    assert frozen_jars(str(tmp_path), pinned, optional=(graphframes,)) == [str(tmp_path / "delta.jar")]
    # but not one that pins something else beside it
    with pytest.raises(FrozenJarsError, match="holds jars for"):
        frozen_jars(str(tmp_path), pinned)
