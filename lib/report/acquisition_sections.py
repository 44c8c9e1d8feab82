"""The report's acquisition sections (the paper §5.3.1): the month's prospect counts beside
the paper's, the ego graph of a top-ranked wealth customer (Figure 3), the internal
prospects' links (Figure 4) and masked samples of the four lists. Every frame brought to
the driver is bounded (a row per measure, a customer's strongest links, sample rows)."""
from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.report import markup, plots
from lib.report.markup import count, money, ratio
from lib.tables import MULTILATERAL, SOLO

EGO_LINKS = 12              # counterparties drawn around the customer (the strongest)
FIGURE4_PROSPECTS = 5       # internal prospects drawn, each with its strongest links
FIGURE4_LINKS = 5


def _pandas(df: DataFrame) -> pd.DataFrame:
    return df.toPandas()    # bounded frames only (see the module's docstring)


def summary_table(summary: DataFrame) -> pd.DataFrame:
    return _pandas(summary.filter(F.col("measure") != "component_size")
                   .select("measure", F.col("value").alias("this month"), F.col("paper_value").alias("paper (2019)"),
                           "definition")
                   .orderBy(F.col("paper (2019)").isNull(), "measure"))


def component_table(summary: DataFrame) -> pd.DataFrame:
    order = F.coalesce(F.regexp_extract("bucket", r"(\d+)", 1).cast("int"), F.lit(0))
    return _pandas(summary.filter(F.col("measure") == "component_size").orderBy(order)
                   .select(F.col("bucket").alias("vertices"), F.col("value").alias("components")))


def ego_centre(edges: DataFrame, external: DataFrame) -> str | None:
    """The wealth customer of the ego graph: the one most strongly linked to the first
    MULTILATERAL prospect, else the one with the strongest link of the month."""
    first = (external.filter((F.col("mode") == MULTILATERAL) & (F.col("rank") == 1))
             .orderBy(F.desc("weight"), "wealth_cust_id").select("wealth_cust_id").limit(1).collect())
    if first:
        return first[0].wealth_cust_id
    strongest = edges.orderBy(F.desc("weight"), "wealth_cust_id").select("wealth_cust_id").limit(1).collect()
    return strongest[0].wealth_cust_id if strongest else None


def ego_links(edges: DataFrame, centre: str) -> pd.DataFrame:
    """The centre's strongest links, each labelled without personal data: a bank and a
    masked account, or a postal customer number."""
    label = F.when(F.col("cpty_kind") == "POSTAL", F.col("cpty_cust_id")).otherwise(
        F.concat_ws(" ", "cpty_bank_code", "cpty_masked_acct"))
    return _pandas(edges.filter(F.col("wealth_cust_id") == centre)
                   .orderBy(F.desc("weight"), "cpty_kind", label).limit(EGO_LINKS)
                   .select(label.alias("label"), F.col("cpty_kind").alias("kind"),
                           F.col("cpty_masked_name").alias("masked name"), F.col("txn_cnt").alias("transfers"),
                           F.col("txn_amt").alias("amount"), "weight"))


def figure4_links(internal: DataFrame) -> pd.DataFrame:
    """The first FIGURE4_PROSPECTS internal prospects, each with its FIGURE4_LINKS
    strongest links (the paper's Figure 4 is such a part of the graph)."""
    strongest = Window.partitionBy("cpty_cust_id").orderBy(F.desc("weight"), "wealth_cust_id")
    return _pandas(internal.filter(F.col("rank") <= FIGURE4_PROSPECTS)
                   .withColumn("n", F.row_number().over(strongest)).filter(F.col("n") <= FIGURE4_LINKS)
                   .select(F.concat(F.lit("A"), "wealth_cust_id").alias("wealth"),
                           F.col("cpty_cust_id").alias("prospect"), "rank", "weight").orderBy("rank", "wealth"))


def _sample(df: DataFrame, rows: int, columns: list) -> pd.DataFrame:
    """The first `rows` prospects of a list, each by its strongest link."""
    first = df.filter(F.col("rank") <= rows)
    if "weight" in df.columns:
        strongest = Window.partitionBy("rank").orderBy(F.desc("weight"), df.columns[0])
        first = first.withColumn("n", F.row_number().over(strongest)).filter(F.col("n") == 1)
    return _pandas(first.orderBy("rank").select(*columns))


def samples(tables: dict[str, DataFrame], rows: int) -> str:
    external, internal, critical = tables["prospect_external"], tables["prospect_internal"], tables["prospect_critical"]
    where = ["city_name", "county_name", "org_name"]
    link = ["txn_cnt", "txn_amt", "weight", "linked_wealth_cnt"]
    solo = _sample(external.filter((F.col("mode") == SOLO) & F.col("large_net_outflow")), rows,
                   ["rank", *where, "masked_name", "cpty_bank_code", "cpty_masked_acct", "cust_net_outflow", *link])
    multi = _sample(external.filter(F.col("mode") == MULTILATERAL), rows,
                    ["rank", "cpty_bank_code", "cpty_masked_name", "cpty_masked_acct", "cpty_txn_amt", *where,
                     "masked_name", *link])
    inner = _sample(internal, rows, ["rank", *where, "masked_name", "cpty_cust_id", "cpty_aum_3m",
                                     "wealth_masked_name", *link])
    crit = _sample(critical, rows, ["rank", *where, "masked_name", "masked_id_no", "peak_aum", "aum_3m",
                                    "gap_to_wealth"])
    formats = {"txn_cnt": count, "txn_amt": money, "weight": ratio, "linked_wealth_cnt": count,
               "cust_net_outflow": money, "cpty_txn_amt": money, "cpty_aum_3m": money, "peak_aum": money,
               "aum_3m": money, "gap_to_wealth": money}
    pick = lambda frame: {c: f for c, f in formats.items() if c in frame.columns}  # noqa: E731
    return "".join(markup.note(title) + markup.table(frame, pick(frame)) for title, frame in (
        ("SOLO (独来独往): own accounts at other banks of the customers with the largest net outflow to them.", solo),
        ("MULTILATERAL (多边交往): people at other banks, by weight; the branch is the linked wealth customer's.",
         multi),
        ("Internal prospects: postal customers who are not wealth customers, by weight; their own branch.", inner),
        ("Critical customers (临界客户): by their peak monthly AUM of the last 12 months.", crit)))


def sections(tables: dict[str, DataFrame | None], month: str, rows: int) -> tuple[list[tuple[str, str]], dict]:
    """The report's acquisition sections and their charts (file name -> PNG)."""
    summary = tables["acquisition_summary"]
    if summary is None:
        why = markup.missing(f"the acquisition stage has not run for {month}")
        return [("Acquisition (§5.3.1)", why), ("Counterparty ego graph (Figure 3)", why),
                ("Internal prospects (Figure 4)", why)], {}
    engine, first = summary.select("engine", "window_first").first()
    overview = (markup.note(f"Wealth customers' transfers of {first}..{month}, graph engine {engine}. The "
                            "paper's figures are a whole province's (Henan, April-December 2019).")
                + markup.table(summary_table(summary), {"this month": count, "paper (2019)": count})
                + markup.note("Connected components of the counterparty graph by size:")
                + markup.table(component_table(summary), {"components": count})
                + samples(tables, rows))
    charts, edges = {}, tables["counterparty_edges"]
    centre = ego_centre(edges, tables["prospect_external"])
    if centre is None:
        ego = markup.missing(f"no wealth customer has a counterparty in {first}..{month}")
    else:
        links = ego_links(edges, centre)
        charts["ego_graph.png"] = plots.ego_chart(f"A{centre}", links)
        ego = (markup.figure(charts["ego_graph.png"], f"Wealth customer A{centre} and its {len(links)} strongest "
                             "counterparties; line width by link weight")
               + markup.table(links, {"transfers": count, "amount": money, "weight": ratio}))
    figure4 = figure4_links(tables["prospect_internal"])
    if figure4.empty:
        inner = markup.missing(f"no internal prospect in {month}")
    else:
        charts["internal_prospects.png"] = plots.bipartite_chart(figure4)
        inner = markup.figure(charts["internal_prospects.png"], f"The first {FIGURE4_PROSPECTS} internal "
                              f"prospects (right) and the wealth customers of their {FIGURE4_LINKS} strongest "
                              "links (left, A + customer number); line width by link weight")
    return [("Acquisition (§5.3.1)", overview), ("Counterparty ego graph (Figure 3)", ego),
            ("Internal prospects (Figure 4)", inner)], charts
