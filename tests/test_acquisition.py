"""Acquisition transforms on hand-made rows (SPEC §4 "Counterparty graph", "Critical
customers"): link sums and what is left unlinked, z-score weights worked by hand, SOLO vs
MULTILATERAL, ranking, the motif's evidence, critical customers at their boundaries."""
from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lib.acquisition import graph
from lib.acquisition import prospects as A
from tests.conftest import session_conf

LEDGER = ("cust_id string, txn_code string, dr_cr_flag string, txn_amt decimal(18,2), cpty_bank_code string, "
          "cpty_acct_no string, cpty_name string, cpty_cust_id string")
OWN_ACCT, OTHER_ACCT = "6217000000000000011", "6217000000000000022"


def ledger(spark, rows):
    return spark.createDataFrame([(c, code, f, D(a), b, acct, name, cc) for c, code, f, a, b, acct, name, cc in rows],
                                 LEDGER)


@pytest.fixture(scope="module")
def links(spark):
    # given: wealth customer 01 (顾一) and 02 (李二); 03 is not wealth
    wealth = spark.createDataFrame([("01", "顾一"), ("02", "李二")], "cust_id string, cust_name string")
    rows = ledger(spark, [
        ("01", "TRANSFER_OUT", "D", "200000.00", "ICBC", OWN_ACCT, "顾一", None),   # own account elsewhere
        ("01", "TRANSFER_OUT", "D", "150000.00", "ICBC", OWN_ACCT, "顾一", None),
        ("01", "TRANSFER_IN", "C", "50000.00", "ICBC", OWN_ACCT, "顾一", None),
        ("01", "TRANSFER_OUT", "D", "1000.00", "CCB", OTHER_ACCT, "胡三", None),   # another person elsewhere
        ("02", "TRANSFER_IN", "C", "3000.00", "CCB", OTHER_ACCT, "胡三", None),
        ("02", "TRANSFER_OUT", "D", "700.00", "PSBC", "A0300", "王四", "03"),      # a postal customer
        ("02", "TRANSFER_OUT", "D", "10.00", None, None, None, None),              # no counterparty
        ("02", "TRANSFER_OUT", "D", "20.00", "PSBC", "A9999", "x", None),          # postal, no customer number
        ("02", "TRANSFER_IN", "C", "30.00", "PSBC", "A0201", "李二", "02"),         # its own postal account
        ("02", "DEPOSIT", "C", "99.00", None, None, None, None),                   # not a transfer
        ("03", "TRANSFER_OUT", "D", "5.00", "CCB", OTHER_ACCT, "胡三", None),       # not a wealth customer
    ])
    return A.transfer_links(rows, wealth).cache()


def test_links_sum_each_pair_and_count_what_links_nothing(spark, links):
    got = {(r.cust_id, r.kind or r.unlinked): (r.txn_cnt, r.txn_amt, r.in_cnt, r.in_amt, r.out_cnt, r.out_amt,
                                               r.net_outflow) for r in links.collect()}
    assert got == {
        ("01", "OWN_ACCOUNT"): (3, D("400000.00"), 1, D("50000.00"), 2, D("350000.00"), D("300000.00")),
        ("01", "EXTERNAL"): (1, D("1000.00"), 0, D("0.00"), 1, D("1000.00"), D("1000.00")),
        ("02", "EXTERNAL"): (1, D("3000.00"), 1, D("3000.00"), 0, D("0.00"), D("-3000.00")),
        ("02", "POSTAL"): (1, D("700.00"), 0, D("0.00"), 1, D("700.00"), D("700.00")),
        ("02", "NO_COUNTERPARTY"): (1, D("10.00"), 0, D("0.00"), 1, D("10.00"), D("10.00")),
        ("02", "POSTAL_WITHOUT_CUSTOMER"): (1, D("20.00"), 0, D("0.00"), 1, D("20.00"), D("20.00")),
        ("02", "OWN_POSTAL_ACCOUNT"): (1, D("30.00"), 1, D("30.00"), 0, D("0.00"), D("-30.00")),
    }


def test_counterparties_are_keyed_without_their_account_numbers(links):
    by_kind = {r.kind: r for r in links.filter(F.col("dst").isNotNull()).collect()}
    own, other, postal = by_kind["OWN_ACCOUNT"], by_kind["EXTERNAL"], by_kind["POSTAL"]
    assert re.fullmatch(r"ICBC:[a-p]{24}", own.cpty_key)
    assert own.dst == "X:" + own.cpty_key and OWN_ACCT not in own.dst
    assert (own.cpty_masked_acct, own.cpty_masked_name) == ("****0011", "顾某")
    # both wealth customers' links to 胡三 reach the same vertex
    assert {r.dst for r in links.filter(F.col("kind") == "EXTERNAL").collect()} == {other.dst}
    assert (postal.dst, postal.cpty_cust_id, postal.cpty_key) == ("C:03", "03", None)


def test_weight_is_the_sum_of_two_z_scores_worked_by_hand(spark):
    # given: txn_cnt 1, 2, 3, 6 (mean 3, squares of deviations 4 + 1 + 0 + 9 = 14, s = sqrt(14 / 3) = 2.160247)
    #        txn_amt 100, 200, 300, 1400 (mean 500, 160000 + 90000 + 40000 + 810000 = 1100000,
    #        s = sqrt(1100000 / 3) = 605.530071)
    links = spark.createDataFrame([("a", 1, D("100.00")), ("b", 2, D("200.00")), ("c", 3, D("300.00")),
                                   ("d", 6, D("1400.00"))], "dst string, txn_cnt bigint, txn_amt decimal(18,2)")
    # when
    got = {r.dst: r.weight for r in A.with_weight(links).collect()}
    # then: a = (1-3)/2.160247 + (100-500)/605.530071 = -0.925820 - 0.660578 = -1.586398;
    #       b = -0.462910 - 0.495434 = -0.958344; c = 0 - 0.330289; d = 1.388730 + 1.486301 = 2.875031
    assert got == pytest.approx({"a": -1.586398, "b": -0.958344, "c": -0.330289, "d": 2.875031}, abs=1e-6)


def test_weight_of_a_single_link_is_zero(spark):
    one = spark.createDataFrame([("a", 4, D("10.00"))], "dst string, txn_cnt bigint, txn_amt decimal(18,2)")
    assert A.with_weight(one).first().weight == 0.0     # no spread to measure against


EDGES = ("cust_id string, kind string, cpty_key string, cpty_cust_id string, net_outflow decimal(18,2), "
         "weight double, cpty_txn_amt decimal(18,2), cpty_weight double")


def test_solo_and_multilateral_modes(spark):
    # given: 01 moves 350,000 out and 50,000 in with its own account K1 and 10,000 out to its own K2: net 310,000;
    #        02 nets 299,999.99 out to its own K3 (just under the line); 胡 (K4) sums 300,000 with wealth
    #        customers, 杨 (K5) 299,999.99
    edges = spark.createDataFrame([
        ("01", "OWN_ACCOUNT", "K1", None, D("300000"), 1.0, D("400000"), 1.0),      # 350,000 out - 50,000 in
        ("01", "OWN_ACCOUNT", "K2", None, D("10000"), 0.1, D("10000"), 0.1),
        ("02", "OWN_ACCOUNT", "K3", None, D("299999.99"), 0.5, D("300000.01"), 0.5),
        ("01", "EXTERNAL", "K4", None, D("100000"), 0.3, D("300000"), 2.0),
        ("02", "EXTERNAL", "K4", None, D("-200000"), 0.9, D("300000"), 2.0),
        ("02", "EXTERNAL", "K5", None, D("299999.99"), 0.8, D("299999.99"), 1.5),
        ("02", "POSTAL", None, "03", D("1"), 0.2, D("1"), 0.2),
    ], EDGES)
    # when
    got = A.prospect_external(edges, solo_net_outflow=300_000, min_amount=300_000).select(
        "mode", "cust_id", "cpty_key", "rank", "cust_net_outflow", "large_net_outflow")
    # then: SOLO lists every own account, the customers ranked by net outflow; MULTILATERAL only 胡, both links
    expected = spark.createDataFrame([
        ("SOLO", "01", "K1", 1, D("310000.00"), True), ("SOLO", "01", "K2", 1, D("310000.00"), True),
        ("SOLO", "02", "K3", 2, D("299999.99"), False),
        ("MULTILATERAL", "01", "K4", 1, None, None), ("MULTILATERAL", "02", "K4", 1, None, None),
    ], "mode string, cust_id string, cpty_key string, rank int, cust_net_outflow decimal(18,2), "
       "large_net_outflow boolean")
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True, ignore_column_order=True)


def test_a_counterparty_linked_to_two_wealth_customers_outranks_one_linked_once(spark):
    # given: P1 is linked to wealth customers 01 and 02, P2 to 01 alone, P3 to 03 alone, every link alike
    #        (2 transfers, 1,000.00); the graph's other link is 03 - P4, smaller
    links = [("01", "C:P1"), ("02", "C:P1"), ("01", "C:P2"), ("03", "C:P3")]
    edges = spark.createDataFrame([(c, d, 2, D("1000.00")) for c, d in links] + [("03", "C:P4", 1, D("10.00"))],
                                  "cust_id string, dst string, txn_cnt bigint, txn_amt decimal(18,2)")
    wealth = spark.createDataFrame([("01",), ("02",), ("03",)], "cust_id string")
    vertices, graph_edges = A.graph_frames(A.with_weight(edges), wealth)
    # when
    weights = A.counterparty_weights(graph.build(vertices, graph_edges, graph.DATAFRAME))
    linked = (edges.join(weights, "dst", how="inner")
              .select("cust_id", A.vertex_customer(F.col("dst")).alias("cpty_cust_id"), "cpty_weight",
                      F.lit("POSTAL").alias("kind")))
    not_wealth = spark.createDataFrame([("P1",), ("P2",), ("P3",), ("P4",)], "cpty_cust_id string")
    ranks = {(r.cpty_cust_id, r.rank) for r in A.prospect_internal(linked, not_wealth).collect()}
    # then: P1 sums 4 transfers and 2,000.00 and weighs most; P2 and P3 tie and go by customer number
    assert ranks == {("P1", 1), ("P2", 2), ("P3", 3), ("P4", 4)}
    w = {r.dst: r.cpty_weight for r in weights.collect()}
    assert w["C:P1"] > w["C:P2"] == w["C:P3"] > w["C:P4"]


def test_evidence_lists_the_motifs_wealth_customers_strongest_first(spark):
    shared = spark.createDataFrame([("X:K", 3, ["C:02", "C:01"])], "id string, source_cnt bigint, sources array<string>")
    names = spark.createDataFrame([("01", "顾某"), ("02", "李某")], "cust_id string, masked_name string")
    got = A.linked_wealth(shared, names).first()
    assert got.dst == "X:K" and [(e.cust_id, e.masked_name) for e in got.linked_wealth] == [("02", "李某"),
                                                                                            ("01", "顾某")]


def test_critical_customers_at_their_boundaries(spark):
    tags = spark.createDataFrame([
        ("c1", "NONE", D("500000.00"), 0.5, "HIGH", "VOLATILE"),          # at every line: in
        ("c2", "NONE", D("499999.99"), 0.9, "HIGH", "VOLATILE"),          # peak just under
        ("c3", "PLATINUM", D("900000.00"), 0.9, "HIGH", "VOLATILE"),      # wealth now
        ("c4", "NONE", D("900000.00"), 0.9, "HIGH", "STABLE"),            # not volatile
        ("c5", "NONE", D("900000.00"), 0.4, "MEDIUM", "VOLATILE"),        # growth space not high
        ("c6", "NONE", D("800000.00"), 0.7, "HIGH", "VOLATILE"),          # in
    ], "cust_id string, tier string, peak_aum decimal(18,2), growth_ratio double, growth_space string, "
       "volatility_class string")
    aum = spark.createDataFrame([(c, D("100.00"), D("450000.00")) for c in ("c1", "c2", "c3", "c4", "c5", "c6")],
                                "cust_id string, aum_month_avg decimal(18,2), aum_3m decimal(18,2)")
    got = A.critical_customers(tags, aum, peak_aum=500_000, wealth_floor=500_000)
    # ranked by peak: c6 (800,000) before c1 (500,000); both 50,000 short of the wealth floor
    assert sorted((r.rank, r.cust_id, r.gap_to_wealth) for r in got.collect()) == [
        (1, "c6", D("50000.00")), (2, "c1", D("50000.00"))]


def test_component_sizes_fall_in_their_ranges(spark):
    comps = spark.createDataFrame([(f"v{i}", c, n) for i, (c, n) in enumerate(
        [("a", 1), ("b", 2), ("b", 2), ("c", 5)] + [("c", 5)] * 4 + [("d", 6)] * 6)],
        "id string, component_id string, component_size bigint")
    assert {(r.bucket, r.components) for r in A.component_sizes(comps).collect()} == {
        ("1", 1), ("2", 1), ("3-5", 1), ("6-10", 1)}


def test_ranking_across_partitions_equals_a_sort(spark):
    # given: 3,000 links of 1,500 prospects with tied scores, ranked over 8 sorted partitions
    rows = [(f"p{i % 1500:04d}", float((i % 1500) * 7919 % 101), i) for i in range(3000)]
    df = spark.createDataFrame(rows, "prospect string, score double, link int")
    with session_conf(spark, {"spark.sql.shuffle.partitions": "8",
                              "spark.sql.adaptive.coalescePartitions.enabled": "false"}):
        got = {(r.prospect, r.rank) for r in A.ranked(df, "prospect", "score").collect()}
    # then: the place of each prospect in (score descending, prospect) order, 1..1500
    order = sorted({(p, s) for p, s, _ in rows}, key=lambda ps: (-ps[1], ps[0]))
    assert got == {(p, i + 1) for i, (p, _) in enumerate(order)}
