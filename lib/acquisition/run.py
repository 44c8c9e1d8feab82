"""The acquisition stage for month M: customer_month_aum and customer_tags of M and the
silver ledger of the analysis window -> counterparty_edges, prospect_external,
prospect_internal, prospect_critical and acquisition_summary. It reads its inputs,
transforms them (lib/acquisition/prospects.py, the graph through lib/acquisition/graph.py), then writes."""
from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.acquisition import graph
from lib.acquisition import prospects as A
from lib.config import Config
from lib.contacts import contacts
from lib.io import months_in, read_gold, read_silver, replace_months, rows_frame
from lib.logs import stage
from lib.months import add_months, month_range
from lib.tables import (
    ACQUISITION_SUMMARY, COUNTERPARTY_EDGES, CUSTOMER_MONTH_AUM, CUSTOMER_TAGS, PROSPECT_CRITICAL,
    PROSPECT_EXTERNAL, PROSPECT_INTERNAL, SOLO,
)

# The paper's figures (Henan, wealth customers' transfers of April-December 2019), shown
# beside the month's in acquisition_summary.
PAPER = {"solo_customers": 3951, "solo_large_net_outflow_customers": 261, "multilateral_counterparties": 3302,
         "internal_prospects": 8741, "critical_customers": 27158}


def window_months(spark: SparkSession, conf: Config, month: str) -> list[str]:
    """The analysis window: `window_months` months ending at M, starting no earlier than
    the first month of the silver ledger (a refresh that starts its history later)."""
    ingested = months_in(spark, conf.silver_table("jnl_acc_chg"))
    first = max(add_months(month, 1 - conf.acquisition.window_months), min(ingested | {month}))
    return month_range(first, month)


def _checkpoint(df: DataFrame) -> DataFrame:
    """Materialise a result used several times (computed once, then read)."""
    return df.localCheckpoint(eager=True)


def _graph_results(g: graph.Graph, evidence_links: int) -> dict[str, DataFrame]:
    """The graph operations the lists need, each keyed by vertex id."""
    return {"components": _checkpoint(A.components_of(graph.connected_components(g))),
            "degrees": graph.degrees(g),
            "counterparties": A.counterparty_weights(g),
            "shared": _checkpoint(graph.shared_neighbours(g, min_sources=2, order_by="weight", keep=evidence_links))}


def _counts(links: DataFrame, linked: DataFrame, external: DataFrame, internal: DataFrame, found: dict,
            wealth: DataFrame) -> dict[str, int]:
    """The summary's counts: one small aggregate per materialised result."""
    postal, solo = F.col("kind") == A.POSTAL, F.col("mode") == SOLO
    distinct = lambda column, where=F.lit(True): F.count_distinct(F.when(where, F.col(column)))  # noqa: E731
    transfers = lambda where: F.coalesce(F.sum(F.when(where, F.col("txn_cnt"))), F.lit(0))  # noqa: E731
    queries = [
        (wealth, {"wealth_customers": F.count(F.lit(1))}),
        (linked, {"linked_wealth_customers": distinct("cust_id"), "links": F.count(F.lit(1)),
                  "external_counterparties": distinct("dst", ~postal), "postal_counterparties": distinct("dst", postal),
                  "postal_counterparties_not_wealth": distinct("dst", postal & ~F.col("cpty_is_wealth"))}),
        (links, {"transfers_linked": transfers(F.col("dst").isNotNull()),
                 **{f"transfers_{reason.lower()}": transfers(F.col("unlinked") == reason) for reason in A.UNLINKED}}),
        (found["shared"], {"shared_counterparties": F.count(F.lit(1))}),
        (external, {"solo_customers": distinct("cust_id", solo),
                    "solo_large_net_outflow_customers": distinct("cust_id", solo & F.col("large_net_outflow")),
                    "multilateral_counterparties": distinct("cpty_key", ~solo)}),
        (internal, {"internal_prospects": distinct("cpty_cust_id")}),
        (found["components"], {"components": distinct("component_id"),
                               "largest_component": F.coalesce(F.max("component_size"), F.lit(0))}),
    ]
    counts = {}
    for df, measures in queries:
        row = df.agg(*[column.alias(name) for name, column in measures.items()]).first()
        counts.update({name: int(row[name]) for name in measures})
    return counts


DEFINITIONS = {
    "wealth_customers": "wealth customers this month (the graph's customers)",
    "linked_wealth_customers": "of them, with at least one counterparty in the window",
    "links": "links: wealth customer and counterparty pairs with transfers in the window",
    "transfers_linked": "the wealth customers' transfer records in the window that name a counterparty",
    "transfers_no_counterparty": "transfer records naming no counterparty bank and account (in no link)",
    "transfers_postal_without_customer": "transfer records to a postal account of no customer number (in no link)",
    "transfers_own_postal_account": "transfer records between a customer's own postal accounts (in no link)",
    "external_counterparties": "counterparties at other banks (accounts)",
    "postal_counterparties": "postal customers among the counterparties",
    "postal_counterparties_not_wealth": "of them, not wealth customers this month",
    "shared_counterparties": "counterparties linked to two or more wealth customers (the 2-hop motif)",
    "solo_customers": "SOLO (独来独往): wealth customers transferring with their own accounts at other banks",
    "solo_large_net_outflow_customers": "of them, a net outflow to those accounts of at least "
                                        "acquisition.solo_net_outflow",
    "multilateral_counterparties": "MULTILATERAL (多边交往): people at other banks whose transfers with wealth "
                                   "customers sum to at least acquisition.min_amount",
    "internal_prospects": "postal customers, not wealth customers, linked to wealth customers (prospect_internal; "
                          "the paper counts only frequent, large ones)",
    "critical_customers": "临界客户: not wealth, a monthly AUM of at least acquisition.critical_peak_aum in the last "
                          "12 months, VOLATILE, growth space HIGH",
    "components": "connected components of the graph",
    "largest_component": "vertices in the largest component",
}


def _summary_rows(counts: dict[str, int], sizes: DataFrame, engine: str, first: str, month: str) -> list[dict]:
    rows = [{"measure": m, "value": counts[m], "paper_value": PAPER.get(m), "definition": d}
            for m, d in DEFINITIONS.items()]
    found = {r.bucket: r.components for r in sizes.collect()}     # bounded: one row per size range
    rows += [{"measure": "component_size", "bucket": name, "value": found.get(name, 0),
              "definition": "connected components with this many vertices"} for name, _, _ in A.SIZE_BUCKETS]
    return [{**r, "engine": engine, "window_first": first, "stat_month": month} for r in rows]


def run_acquisition(spark: SparkSession, conf: Config, month: str, log) -> str:
    """Write the month's acquisition tables; a note for the run manifest (engine, window)."""
    settings = conf.acquisition
    engine = graph.resolve_engine(spark, conf.graph.engine)
    months = window_months(spark, conf, month)
    log.info("acquisition %s: graph engine %s, transfers of %s..%s", month, engine, months[0], month)
    # extract
    aum = read_gold(spark, conf, CUSTOMER_MONTH_AUM.name, [month], "aum")
    tags = read_gold(spark, conf, CUSTOMER_TAGS.name, [month], "tags")
    ledger = read_silver(spark, conf, "jnl_acc_chg", months)
    customers = read_silver(spark, conf, "t01_indpty_id", [month])
    people = contacts(customers, read_silver(spark, conf, "org_dim", [month]))
    stamp = {"window_first": F.lit(months[0]), "stat_month": F.lit(month)}
    # transform and load: critical customers need no graph
    with stage(log, f"critical customers {month}") as st:
        critical = A.critical_customers(tags, aum, settings.critical_peak_aum, conf.tiers.platinum)
        critical = critical.join(people, "cust_id", how="left").withColumn("stat_month", F.lit(month))
        st.rows_out = critical_rows = replace_months(spark, critical, conf.database, PROSPECT_CRITICAL, [month])
    with stage(log, f"counterparty graph {month} ({engine})") as st:
        wealth = aum.filter(F.col("is_wealth")).select("cust_id").join(customers.select("cust_id", "cust_name"),
                                                                       "cust_id", how="left")
        links = _checkpoint(A.transfer_links(ledger, wealth))          # the one pass over the window's ledger
        edges = _checkpoint(A.with_weight(links.filter(F.col("dst").isNotNull())))
        vertices, graph_edges = A.graph_frames(edges, wealth)
        found = _graph_results(graph.build(vertices, graph_edges, engine), settings.evidence_links)
        names = people.select("cust_id", "masked_name")
        linked = _checkpoint(A.linked_edges(edges, vertices, found, names))
        graph_rows = linked.withColumnsRenamed({"cust_id": "wealth_cust_id", "kind": "cpty_kind"}).withColumns(stamp)
        st.rows_out = replace_months(spark, graph_rows, conf.database, COUNTERPARTY_EDGES, [month])
    with stage(log, f"prospects {month}") as st:
        external = _checkpoint(A.prospect_external(linked, settings.solo_net_outflow, settings.min_amount)
                               .join(people, "cust_id", how="left"))
        not_wealth = aum.filter(~F.col("is_wealth")).select(F.col("cust_id").alias("cpty_cust_id"),
                                                            F.col("aum_3m").alias("cpty_aum_3m"))
        prospect_people = people.withColumnRenamed("cust_id", "cpty_cust_id")
        internal = _checkpoint(A.prospect_internal(linked, not_wealth)
                               .join(names.withColumnRenamed("masked_name", "wealth_masked_name"), "cust_id",
                                     how="left")
                               .join(prospect_people, "cpty_cust_id", how="left"))
        st.rows_out = sum(replace_months(spark, df.withColumnRenamed("cust_id", "wealth_cust_id").withColumns(stamp),
                                         conf.database, spec, [month])
                          for df, spec in ((external, PROSPECT_EXTERNAL), (internal, PROSPECT_INTERNAL)))
    with stage(log, f"acquisition summary {month}"):
        counts = {**_counts(links, linked, external, internal, found, wealth), "critical_customers": critical_rows}
        rows = _summary_rows(counts, A.component_sizes(found["components"]), engine, months[0], month)
        replace_months(spark, rows_frame(spark, ACQUISITION_SUMMARY, rows), conf.database, ACQUISITION_SUMMARY, [month])
    log.info("acquisition %s: %s", month, ", ".join(f"{m} {counts[m]:,}" for m in PAPER))
    return f"graph engine {engine}; transfers of {months[0]}..{month}"
