"""Acquisition (SPEC §4 "Counterparty graph"; the paper §5.3.1): the month's wealth
customers linked to their transfer counterparties over the analysis window, each link
weighted z(txn_cnt) + z(txn_amt), and the prospects that the graph shows:

* SOLO (独来独往): a wealth customer's own accounts at other banks (the counterparty's
  name is the customer's own), with the customer's net outflow to them;
* MULTILATERAL (多边交往): other people at other banks whose transfers with wealth
  customers sum to at least `min_amount`, ranked by their weight;
* internal prospects: postal customers who are not wealth customers, ranked by weight.

A counterparty's weight is the same z-score formula over counterparties, on the sums of
its links, so one linked to several wealth customers ranks above one linked once with an
equal link. Pure DataFrame functions; the graph operations come from lib/acquisition/graph.py.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lib.acquisition import graph
from lib.privacy import mask_account, mask_name, pseudonym
from lib.schemas import MONEY, POSTAL_BANK_CODE
from lib.tables import MULTILATERAL, SOLO

TRANSFER_CODES = ("TRANSFER_IN", "TRANSFER_OUT")
OWN_ACCOUNT, EXTERNAL, POSTAL = "OWN_ACCOUNT", "EXTERNAL", "POSTAL"
# why a transfer record is in no link (it is still counted, under its reason)
UNLINKED = ("NO_COUNTERPARTY", "POSTAL_WITHOUT_CUSTOMER", "OWN_POSTAL_ACCOUNT")
# Vertex ids: a customer "C:<cust_id>", an account at another bank "X:<bank>:<pseudonym>".
# "C" sorts first, so a component's smallest id (its name) is always a customer's.
CUSTOMER_PREFIX, EXTERNAL_PREFIX = "C:", "X:"
FLOWS = ("txn_cnt", "txn_amt", "in_cnt", "in_amt", "out_cnt", "out_amt")


def customer_vertex(cust_id: Column) -> Column:
    return F.concat(F.lit(CUSTOMER_PREFIX), cust_id)


def vertex_customer(vertex: Column) -> Column:
    """The cust_id of a customer vertex (null for an account at another bank)."""
    return F.when(vertex.startswith(CUSTOMER_PREFIX), F.substring(vertex, len(CUSTOMER_PREFIX) + 1, 64))


def transfer_links(ledger: DataFrame, wealth: DataFrame) -> DataFrame:
    """Per wealth customer and counterparty, the window's transfer records between them
    summed (FLOWS, and net_outflow = out_amt - in_amt), with the counterparty's vertex id `dst`, `kind` (OWN_ACCOUNT /
    EXTERNAL / POSTAL) and masked labels. Records naming no usable counterparty are summed
    per customer under `unlinked` (why) with dst null, so every record is accounted for.
    ledger: silver jnl_acc_chg rows; wealth: cust_id, cust_name."""
    bank, account, cpty_cust = F.col("cpty_bank_code"), F.col("cpty_acct_no"), F.col("cpty_cust_id")
    postal = F.coalesce(bank == POSTAL_BANK_CODE, F.lit(False))
    no_counterparty, postal_without_customer, own_postal = UNLINKED
    unlinked = (F.when(bank.isNull() | (~postal & account.isNull()), no_counterparty)
                .when(postal & cpty_cust.isNull(), postal_without_customer)
                .when(postal & (cpty_cust == F.col("cust_id")), own_postal))
    keyed = (ledger.filter(F.col("txn_code").isin(*TRANSFER_CODES))
             .join(F.broadcast(wealth.select("cust_id", "cust_name")), "cust_id", how="inner")
             .withColumn("unlinked", unlinked)
             .select("cust_id", "unlinked", "dr_cr_flag", "txn_amt", "cpty_name", "cust_name",
                     *[F.when(F.col("unlinked").isNull(), c).alias(name) for c, name in (
                         (bank, "cpty_bank_code"), (F.when(postal, cpty_cust).otherwise(account), "cpty_ref"))]))
    incoming, amount = F.col("dr_cr_flag") == "C", F.col("txn_amt")
    summed = keyed.groupBy("cust_id", "unlinked", "cpty_bank_code", "cpty_ref").agg(
        F.count(F.lit(1)).alias("txn_cnt"), F.sum(amount).alias("txn_amt"),
        F.count(F.when(incoming, 1)).alias("in_cnt"), F.sum(F.when(incoming, amount)).alias("in_amt"),
        F.count(F.when(~incoming, 1)).alias("out_cnt"), F.sum(F.when(~incoming, amount)).alias("out_amt"),
        F.min("cpty_name").alias("cpty_name"),
        F.max(F.trim(F.col("cpty_name")) == F.trim(F.col("cust_name"))).alias("own_name"))
    return summed.transform(_labelled)


def external_key(bank: Column, account: Column) -> Column:
    """cpty_key of an account at another bank: its bank and a pseudonym of bank and number."""
    return F.concat(bank, F.lit(":"), pseudonym(F.concat(bank, F.lit(":"), account)))


def _labelled(summed: DataFrame) -> DataFrame:
    ref, bank = F.col("cpty_ref"), F.col("cpty_bank_code")
    linked, postal = F.col("unlinked").isNull(), F.col("cpty_bank_code") == POSTAL_BANK_CODE
    key = external_key(bank, ref)
    kind = F.when(postal, POSTAL).when(F.coalesce(F.col("own_name"), F.lit(False)), OWN_ACCOUNT).otherwise(EXTERNAL)
    return summed.select(
        "cust_id", "unlinked",
        F.when(linked, F.when(postal, customer_vertex(ref)).otherwise(F.concat(F.lit(EXTERNAL_PREFIX), key))).alias("dst"),
        F.when(linked, kind).alias("kind"),
        F.when(linked & ~postal, key).alias("cpty_key"),
        F.when(linked & postal, ref).alias("cpty_cust_id"),
        "cpty_bank_code",
        mask_name(F.col("cpty_name")).alias("cpty_masked_name"),
        F.when(linked & ~postal, mask_account(ref)).alias("cpty_masked_acct"),
        *[F.coalesce(F.col(c), F.lit(0)).cast(MONEY if c.endswith("amt") else "bigint").alias(c) for c in FLOWS],
        (F.coalesce(F.col("out_amt"), F.lit(0)) - F.coalesce(F.col("in_amt"), F.lit(0))).cast(MONEY).alias("net_outflow"))


def z_scores(df: DataFrame, columns: tuple[str, ...]) -> DataFrame:
    """`df` with z_<column> = (x - mean) / s for each column, the mean and the sample
    standard deviation s over all of `df`'s rows (z = 0 when s is 0 or undefined). The
    sums are exact decimals, and the variance comes from them as
    (n Σx² - (Σx)²) / (n (n - 1)) with the subtraction still exact, so the result does not
    depend on how the rows are partitioned."""
    exact = {c: F.col(c).cast("decimal(38,2)") for c in columns}
    moments = df.agg(F.count(F.lit(1)).alias("_n"),
                     *[F.sum(x).alias(f"_s1_{c}") for c, x in exact.items()],
                     *[F.sum(x * x).alias(f"_s2_{c}") for c, x in exact.items()])
    out = df.crossJoin(F.broadcast(moments))
    n = F.col("_n")
    for c in columns:
        s1, s2 = F.col(f"_s1_{c}"), F.col(f"_s2_{c}")
        mean = s1.cast("double") / n
        variance = F.try_divide((n * s2 - s1 * s1).cast("double"), (n * (n - 1)).cast("double"))
        sd = F.sqrt(F.greatest(variance, F.lit(0.0)))
        out = out.withColumn(f"z_{c}", F.when(sd > 0, (F.col(c).cast("double") - mean) / sd).otherwise(0.0))
    return out.drop("_n", *[f"_s{k}_{c}" for k in (1, 2) for c in columns])


def with_weight(links: DataFrame, name: str = "weight", cnt: str = "txn_cnt", amt: str = "txn_amt") -> DataFrame:
    """weight = z(txn_cnt) + z(txn_amt) over all rows (the graph's edges, SPEC §4)."""
    scored = z_scores(links, (cnt, amt))
    return scored.withColumn(name, F.col(f"z_{cnt}") + F.col(f"z_{amt}")).drop(f"z_{cnt}", f"z_{amt}")


def graph_frames(edges: DataFrame, wealth: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(vertices: id, is_wealth; edges: src, dst, weight, txn_cnt, txn_amt) of the
    counterparty graph: every wealth customer (linked or not) and every counterparty."""
    graph_edges = edges.select(customer_vertex(F.col("cust_id")).alias("src"), "dst", "weight", "txn_cnt", "txn_amt")
    wealthy = wealth.select(customer_vertex(F.col("cust_id")).alias("id"), F.lit(True).alias("is_wealth"))
    others = graph_edges.select(F.col("dst").alias("id")).distinct().join(wealthy, "id", how="left_anti")
    vertices = wealthy.unionByName(others.withColumn("is_wealth", F.lit(False)))
    return vertices, graph_edges


def counterparty_weights(g: graph.Graph) -> DataFrame:
    """dst, cpty_txn_cnt, cpty_txn_amt, cpty_weight: each counterparty's links summed (by
    neighbour aggregation) and weighted like a link, over all counterparties."""
    sums = graph.aggregate_messages(
        g, F.struct(graph.edge("txn_cnt").alias("cnt"), graph.edge("txn_amt").alias("amt")),
        F.struct(F.sum(graph.msg("cnt")).alias("cnt"), F.sum(graph.msg("amt")).alias("amt")).alias("sums"))
    summed = sums.select(F.col("id").alias("dst"), F.col("sums.cnt").alias("cpty_txn_cnt"),
                         F.col("sums.amt").cast(MONEY).alias("cpty_txn_amt"))
    return with_weight(summed, "cpty_weight", "cpty_txn_cnt", "cpty_txn_amt")


def linked_wealth(shared: DataFrame, names: DataFrame) -> DataFrame:
    """dst, linked_wealth: for each counterparty linked to several wealth customers (the
    2-hop motif, shared: id, sources), those customers (cust_id and masked_name), strongest
    link first. names: cust_id, masked_name."""
    listed = (shared.select(F.col("id").alias("dst"), F.posexplode("sources").alias("pos", "src"))
              .withColumn("cust_id", vertex_customer(F.col("src")))
              .join(names, "cust_id", how="left"))
    entries = F.array_sort(F.collect_list(F.struct("pos", "cust_id", "masked_name")))
    linked = F.transform(entries, lambda e: F.struct(e["cust_id"].alias("cust_id"), e["masked_name"].alias("masked_name")))
    return listed.groupBy("dst").agg(linked.alias("linked_wealth"))


def linked_edges(edges: DataFrame, vertices: DataFrame, found: dict[str, DataFrame], names: DataFrame) -> DataFrame:
    """The weighted edges with what the graph says of each: the counterparty's sums, weight
    and linked wealth customers, and the component."""
    cpty = found["degrees"].select(F.col("id").alias("dst"), F.col("in_degree").cast("bigint").alias("linked_wealth_cnt"))
    evidence = linked_wealth(found["shared"], names)
    own = names.select("cust_id", F.array(F.struct("cust_id", "masked_name")).alias("own_link"))
    wealth_vertex = vertices.select(F.col("id").alias("dst"), F.col("is_wealth").alias("cpty_is_wealth"))
    component = found["components"].select(F.col("id").alias("src_vertex"), "component_id", "component_size")
    with_component = (edges.withColumn("src_vertex", customer_vertex(F.col("cust_id")))
                      .join(component, "src_vertex", how="inner"))
    with_counterparty = (with_component.join(found["counterparties"], "dst", how="inner")
                         .join(cpty, "dst", how="inner")
                         .join(wealth_vertex, "dst", how="inner"))
    return (with_counterparty.join(evidence, "dst", how="left")
            .join(own, "cust_id", how="left")
            .withColumn("linked_wealth", F.coalesce("linked_wealth", "own_link"))
            .drop("src_vertex", "own_link"))


def components_of(components: DataFrame) -> DataFrame:
    """id, component_id (the smallest customer of the component), component_size."""
    whole = Window.partitionBy("component").rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    return components.select("id", vertex_customer(F.col("component")).alias("component_id"),
                             F.count(F.lit(1)).over(whole).alias("component_size"))


SIZE_BUCKETS = (("1", 1, 1), ("2", 2, 2), ("3-5", 3, 5), ("6-10", 6, 10), ("11-100", 11, 100),
                ("101-1000", 101, 1000), (">1000", 1001, None))


def component_sizes(components: DataFrame) -> DataFrame:
    """bucket, components: how many components have a size in each of SIZE_BUCKETS
    (components: id, component_id, component_size)."""
    size = F.col("component_size")
    bucket = F.lit(None).cast("string")
    for name, low, high in reversed(SIZE_BUCKETS):
        bucket = F.when(size.between(low, high) if high else size >= low, F.lit(name)).otherwise(bucket)
    return (components.select("component_id", "component_size").distinct()
            .groupBy(bucket.alias("bucket")).agg(F.count(F.lit(1)).alias("components")))


_ROW_BITS = 33      # monotonically_increasing_id: partition index << 33 | row number in the partition


def ranked(rows: DataFrame, prospect: str, score: str) -> DataFrame:
    """rows with `rank`, the place of their prospect by `score` descending (ties by the
    prospect's key); the rows of one prospect (its links) share it. The prospects are
    sorted across partitions (a range-partitioned sort), each numbered by its position
    in its partition plus the count of the partitions before: no window moves the whole
    list into one partition."""
    spark = rows.sparkSession
    ordered = (rows.select(prospect, score).distinct()
               .orderBy(F.desc(score), F.asc(prospect))
               .select(prospect, F.spark_partition_id().alias("part"), F.monotonically_increasing_id().alias("id"))
               .localCheckpoint(eager=True))    # pins the ids, which are not recomputed the same way
    counts = sorted((r.part, r.n) for r in ordered.groupBy("part").agg(F.count(F.lit(1)).alias("n")).collect())
    before = [(part, sum(n for _, n in counts[:i])) for i, (part, _) in enumerate(counts)]   # bounded: partitions
    offsets = spark.createDataFrame(before or [(0, 0)], "part int, offset bigint")
    in_partition = F.col("id") - F.shiftleft(F.col("part").cast("bigint"), _ROW_BITS)
    places = (ordered.join(F.broadcast(offsets), "part", how="inner")
              .select(prospect, (F.col("offset") + in_partition + 1).cast("int").alias("rank")))
    return rows.join(places, prospect, how="inner")


def prospect_external(edges: DataFrame, solo_net_outflow: float, min_amount: float) -> DataFrame:
    """The links to accounts at other banks that are prospects, with `mode`:
    SOLO, every own account, ranked by the customer's net outflow to them all
    (cust_net_outflow, flagged large_net_outflow from `solo_net_outflow`); MULTILATERAL,
    every link of a person whose links sum to at least `min_amount`, ranked by the
    person's weight. edges: links with cpty_txn_amt and cpty_weight."""
    per_customer = Window.partitionBy("cust_id").rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    net = F.sum("net_outflow").over(per_customer).cast(MONEY)
    solo = (edges.filter(F.col("kind") == OWN_ACCOUNT)
            .withColumns({"mode": F.lit(SOLO), "cust_net_outflow": net})
            .withColumn("large_net_outflow", F.col("cust_net_outflow") >= solo_net_outflow)
            .transform(ranked, "cust_id", "cust_net_outflow"))
    multilateral = (edges.filter((F.col("kind") == EXTERNAL) & (F.col("cpty_txn_amt") >= min_amount))
                    .withColumns({"mode": F.lit(MULTILATERAL), "cust_net_outflow": F.lit(None).cast(MONEY),
                                  "large_net_outflow": F.lit(None).cast("boolean")})
                    .transform(ranked, "cpty_key", "cpty_weight"))
    return solo.unionByName(multilateral)


def prospect_internal(edges: DataFrame, not_wealth: DataFrame) -> DataFrame:
    """The links to postal customers who are not wealth customers this month, ranked by the
    counterparty's weight. not_wealth: cpty_cust_id (+ their columns to carry)."""
    return (edges.filter(F.col("kind") == POSTAL)
            .join(not_wealth, "cpty_cust_id", how="inner")
            .transform(ranked, "cpty_cust_id", "cpty_weight"))


def critical_customers(tags: DataFrame, aum: DataFrame, peak_aum: float, wealth_floor: float) -> DataFrame:
    """临界客户: not wealth this month, some monthly AUM of the last 12 months at least
    `peak_aum`, volatility VOLATILE and growth space HIGH; ranked by that peak, with the
    gap between aum_3m and the wealth floor. tags, aum: the month's customer_tags and
    customer_month_aum rows."""
    chosen = tags.filter((F.col("tier") == "NONE") & (F.col("peak_aum") >= peak_aum)
                         & (F.col("volatility_class") == "VOLATILE") & (F.col("growth_space") == "HIGH"))
    return (chosen.select("cust_id", "peak_aum", "growth_ratio", "growth_space", "volatility_class")
            .join(aum.select("cust_id", "aum_month_avg", "aum_3m"), "cust_id", how="inner")
            .withColumn("gap_to_wealth", (F.lit(wealth_floor) - F.col("aum_3m")).cast(MONEY))
            .transform(ranked, "cust_id", "peak_aum"))
