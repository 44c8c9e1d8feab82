"""Uplift: the paper's Table 2 Pearson by hand, the hide-one evaluation on hand cases, and
the job on the generated province (its UCF equal to numpy brute force, ALS never offering
a held product, the evaluation against popularity, masked contacts, re-run identical)."""
from __future__ import annotations

import re
from collections import namedtuple

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import functions as F

from jobs import uplift as uplift_job
from lib.synth.province import WEALTH_SEGMENTS, GenParams, customers, with_products
from lib.tags import profile
from lib.uplift.offline_eval import evaluate, hide_one, popularity
from lib.uplift.recommenders import CF_PRODUCTS, als_recommend, moments, pearson
from lib.uplift.run import best_method, evaluation
from tests.conftest import E2E_MONTHS, job_args
from tests.test_recommend import brute_force, tags_frame

MONTH = E2E_MONTHS[-1]


def test_pearson_on_table_2_rows_by_hand(spark):
    # Table 2 (large CD, agreement, wealth, fund, insurance, mobile):
    #   row 1 = 1 1 1 0 0 0, row 5 = 1 1 1 0 0 1: means 1/2 and 2/3;
    #   Σ dx dy = 3 × (1/2)(1/3) + 2 × (1/2)(2/3) − (1/2)(1/3) = 1; Σ dx² = 3/2; Σ dy² = 4/3
    #   r = 1 / √2 = 0.70711
    #   row 2 = 0 0 0 0 0 1, row 4 = 0 0 0 0 1 0: Σ dx dy = 4/36 − 10/36 = −1/6, Σ dx² = Σ dy² = 5/6
    #   r = −1/5
    #   row 1 against a constant vector: 0 by definition
    pairs = [([1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 1]), ([0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0]),
             ([1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1])]
    df = spark.createDataFrame([([float(v) for v in x], [float(v) for v in y]) for x, y in pairs], "x array<double>, y array<double>")
    both = df.select(*moments(F.col("x"), 6, "x"), *moments(F.col("y"), 6, "y"))
    got = [r.r for r in both.select(pearson("x", "y", 6).alias("r")).collect()]
    assert got == pytest.approx([2 ** -0.5, -0.2, 0.0], abs=1e-12)


def people(spark):
    # X holds large CD and fund; Y holds fund only; Z holds nothing; W holds all six
    rows = [("X", 3, 2, True, False, False, True, False, False),
            ("Y", 3, 2, False, False, False, True, False, False),
            ("Z", 3, 2, False, False, False, False, False, False),
            ("W", 3, 2, True, True, True, True, True, True)]
    return tags_frame(spark, rows)


def test_hide_one_hides_a_held_product_of_sampled_holders_only(spark):
    tags = people(spark)
    masked, hidden = hide_one(tags, seed=1, share=1.0)
    got = {r.cust_id: r.hidden_product for r in hidden.collect()}
    assert set(got) == {"X", "Y", "W"}                      # Z holds nothing to hide
    assert got["X"] in ("LARGE_CD", "FUND") and got["Y"] == "FUND"
    after = {r.cust_id: r for r in masked.collect()}
    for cust, product in got.items():
        assert after[cust][f"has_{product.lower()}"] is False
        before = tags.filter(F.col("cust_id") == cust).first()
        changed = [p for p in CF_PRODUCTS if before[f"has_{p.lower()}"] != after[cust][f"has_{p.lower()}"]]
        assert changed == [product]
    again = {r.cust_id: r.hidden_product for r in hide_one(tags, seed=1, share=1.0)[1].collect()}
    assert again == got
    assert hide_one(tags, seed=1, share=0.0)[1].count() == 0


def test_popularity_ranks_unheld_products_by_share_of_holders(spark):
    # holders: FUND 3/4, LARGE_CD 2/4, the other four 1/4 each (ties by name)
    got = popularity(people(spark), top_n=2).filter(F.col("cust_id").isin("X", "Z"))
    want = spark.createDataFrame([("X", "AGREEMENT_DEPOSIT", 0.25, 1), ("X", "INSURANCE", 0.25, 2),
                                  ("Z", "FUND", 0.75, 1), ("Z", "LARGE_CD", 0.5, 2)],
                                 "cust_id string, product string, score double, rank int")
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_als_fits_when_the_holders_are_alike_and_a_product_has_no_holder(spark):
    # given: every holder holds FUND and LARGE_CD only (one month of a small province): the
    # customers' factors are alike, and the four products nobody holds have no regularisation
    rows = [(f"C{i}", 3, 2, True, False, False, True, False, False) for i in range(6)]
    rows += [("N", 3, 2, False, False, False, False, False, False), ("F", 3, 2, False, False, False, True, False, False)]
    # when
    got = als_recommend(tags_frame(spark, rows), rank=4, reg=0.1, alpha=10.0, iterations=10, seed=42, top_n=3)
    # then: only F is left a product someone holds (LARGE_CD); nobody is offered what nobody holds
    assert [(r.cust_id, r.product, r.rank) for r in got.collect()] == [("F", "LARGE_CD", 1)]


def test_evaluate_counts_hits_precision_and_coverage(spark):
    hidden = spark.createDataFrame([("A", "FUND"), ("B", "INSURANCE"), ("C", "LARGE_CD"), ("D", "FUND")],
                                   "cust_id string, hidden_product string")
    recs = spark.createDataFrame([("A", "FUND", 0.9, 1), ("A", "INSURANCE", 0.8, 2),
                                  ("B", "FUND", 0.9, 1), ("B", "INSURANCE", 0.7, 2), ("B", "LARGE_CD", 0.6, 3),
                                  ("C", "FUND", 0.9, 1), ("E", "LARGE_CD", 0.9, 1)],
                                 "cust_id string, product string, score double, rank int")
    # hits at 1: A; at 3: A, B. Shown at 1: A, B, C = 3; at 3: 2 + 3 + 1 = 6. D got nothing;
    # E was not evaluated.
    want = spark.createDataFrame([(4, 1 / 4, 2 / 4, 1 / 3, 2 / 6, 3 / 4)],
                                 "evaluated_cnt bigint, hit_rate_at_1 double, hit_rate_at_3 double, "
                                 "precision_at_1 double, precision_at_3 double, coverage double")
    assert_approx_df_equality(evaluate(recs, hidden), want, 1e-12, ignore_nullable=True)


@pytest.fixture(scope="module")
def uplifted(spark, conf, tagged_province):
    assert uplift_job.main(job_args(conf, tagged_province, "e2e", "--month", MONTH)) == 0
    return spark.table("e2e.product_recommendation").filter(F.col("stat_month") == MONTH).localCheckpoint()


def wealth_rows(spark):
    tags = spark.table("e2e.customer_tags").filter((F.col("stat_month") == MONTH) & (F.col("tier") != "NONE"))
    cols = ["cust_id", "age_band", "asset_band"] + [f"has_{p.lower()}" for p in CF_PRODUCTS]
    return [tuple(r) for r in tags.select(*cols).collect()]


def test_job_ucf_equals_brute_force_on_the_province(spark, conf, uplifted):
    rows = wealth_rows(spark)
    u = conf.uplift
    want = brute_force(rows, u.k, u.min_score, u.top_n)
    got = {(r.cust_id, r.product, r.rank): r.score for r in uplifted.filter("method = 'PEARSON_UCF'").collect()}
    # the small province has a few dozen wealth customers (2.7%, as planted)
    assert len(rows) > 20 and len(want) >= 1
    assert set(got) == set(want)
    assert max(abs(got[key] - want[key]) for key in want) < 1e-9


def test_job_rows_are_explained_unheld_and_masked(spark, conf, uplifted):
    rows = wealth_rows(spark)
    held = {(r[0], p) for r in rows for p, h in zip(CF_PRODUCTS, r[3:]) if h}
    recs = uplifted.collect()
    assert {r.method for r in recs} == {"PEARSON_UCF", "ALS"}
    assert {r.cust_id for r in recs} <= {r[0] for r in rows}
    assert not any((r.cust_id, r.product) in held for r in recs)
    assert max(r.rank for r in recs) <= conf.uplift.top_n
    for r in recs:
        if r.method == "PEARSON_UCF":
            assert r.explanation == (f"{r.neighbours_holding} of your {r.neighbours} nearest neighbours hold "
                                     f"{r.product} (mean similarity {r.mean_r:.2f})")
            assert 0 < r.neighbours_holding <= r.neighbours <= conf.uplift.k
        else:
            assert r.explanation.startswith(f"ALS predicted preference {r.score:.3f}") and r.neighbours is None
        assert re.fullmatch(r".某", r.masked_name) and re.fullmatch(r"\d{6}\*{8}\d{3}[\dX]", r.masked_id_no)
        assert r.city_name and r.org_id


def test_job_writes_the_evaluation_of_the_three_methods(spark, conf, uplifted):
    rows = {r.method: r for r in spark.table("e2e.recommender_eval").filter(F.col("stat_month") == MONTH).collect()}
    assert set(rows) == {"PEARSON_UCF", "ALS", "POPULARITY"}
    n = rows["POPULARITY"].evaluated_cnt
    assert n > 0 and all(r.evaluated_cnt == n and r.seed == conf.uplift.seed for r in rows.values())
    best = [r for r in rows.values() if r.best]
    assert len(best) == 1 and best[0].hit_rate_at_3 == max(r.hit_rate_at_3 for r in rows.values())


def test_best_method_takes_hit_rate_at_3_then_at_1_then_the_name():
    row = namedtuple("row", "method hit_rate_at_3 hit_rate_at_1")
    # ALS and PEARSON_UCF tie at 3 (0.5); PEARSON_UCF is better at 1
    assert best_method([row("ALS", 0.5, 0.2), row("PEARSON_UCF", 0.5, 0.3), row("POPULARITY", 0.4, 0.4)]) == \
        "PEARSON_UCF"
    # a tie at 3 and at 1: the first name; a missing rate counts as 0
    assert best_method([row("PEARSON_UCF", 0.5, 0.3), row("ALS", 0.5, 0.3)]) == "ALS"
    assert best_method([row("ALS", None, None), row("POPULARITY", 0.1, 0.0)]) == "POPULARITY"


@pytest.mark.integration
def test_evaluation_on_the_generators_planted_affinities(spark, conf):
    # the generator's wealth customers and holdings, without the ledger: ~2,700 customers
    p = GenParams(customers=100_000, seed=3)
    planted = with_products(customers(spark, p), p).filter(F.col("segment").isin(*WEALTH_SEGMENTS))
    age = profile.age_at(p.last_day, F.col("BIRTH_DT"))
    # generated once (every method's queries read it)
    frame = planted.select(F.col("CUST_ID").alias("cust_id"), profile.age_band(age).alias("age_band"),
                           profile.asset_band(F.col("base")).alias("asset_band"),
                           *[f"has_{prod.lower()}" for prod in CF_PRODUCTS]).localCheckpoint()
    rows = {r.method: r for r in evaluation(frame, conf.uplift).collect()}
    assert set(rows) == {"PEARSON_UCF", "ALS", "POPULARITY"} and rows["POPULARITY"].evaluated_cnt > 300
    # popularity always has three unheld products to show, so it covers everyone
    assert rows["POPULARITY"].coverage == 1.0
    # Planted: agreement deposits go with large CDs (70% against 3%). Popularity ranks the
    # agreement deposit low for everyone; ALS learns the pair and finds it when hidden.
    masked, hidden = hide_one(frame, conf.uplift.seed, 0.5)
    paired = hidden.filter(F.col("hidden_product") == "AGREEMENT_DEPOSIT")
    u = conf.uplift
    als = evaluate(als_recommend(masked, u.als_rank, u.als_reg, u.als_alpha, u.als_iterations, u.seed, 3),
                   paired).first()
    popular = evaluate(popularity(masked, 3), paired).first()
    assert als.evaluated_cnt > 50
    assert als.hit_rate_at_1 > popular.hit_rate_at_1 and als.hit_rate_at_3 > popular.hit_rate_at_3


def test_rerun_gives_identical_recommendations(spark, conf, tagged_province, uplifted):
    before_eval = spark.table("e2e.recommender_eval").filter(F.col("stat_month") == MONTH).localCheckpoint()
    assert uplift_job.main(job_args(conf, tagged_province, "e2e", "--month", MONTH)) == 0
    after = spark.table("e2e.product_recommendation").filter(F.col("stat_month") == MONTH)
    assert_df_equality(after, uplifted, ignore_row_order=True, ignore_metadata=True)
    assert_df_equality(spark.table("e2e.recommender_eval").filter(F.col("stat_month") == MONTH), before_eval,
                       ignore_row_order=True, ignore_metadata=True)
