"""The report's figures on hand cases (tier shares, Figure 1's months, Figure 5, the
data-quality summary, the sampled lists) and its HTML tables and charts."""
from __future__ import annotations

import io
from decimal import Decimal as D

import matplotlib.image
import pandas as pd
from chispa import assert_df_equality

from lib.report import figures, markup, plots


def test_tier_summary_counts_and_shares_by_hand(spark):
    # given: 3 mass customers with 100 each, 1 PLATINUM with 600,000, 1 DIAMOND with 2,399,700
    aum = spark.createDataFrame([("1", "NONE", D("100.00")), ("2", "NONE", D("100.00")), ("3", "NONE", D("100.00")),
                                 ("4", "DIAMOND", D("2399700.00")), ("5", "PLATINUM", D("600000.00"))],
                                "cust_id string, tier string, aum_month_avg decimal(18,2)")
    # then: AUM 3,000,000 in all: 300 = 0.01%, 600,000 = 20%, 2,399,700 = 79.99%; customers 3/5, 1/5, 1/5
    expected = spark.createDataFrame([("NONE", 3, D("300.00"), 0.6, 0.0001), ("PLATINUM", 1, D("600000.00"), 0.2, 0.2),
                                      ("DIAMOND", 1, D("2399700.00"), 0.2, 0.7999)],
                                     "tier string, cust_cnt bigint, aum decimal(28,2), cust_share double, "
                                     "aum_share double")
    assert_df_equality(figures.tier_summary(aum), expected, ignore_nullable=True)


def test_migration_history_keeps_the_last_months_and_this_months_year_over_year(spark):
    # given: month-over-month rows for 2019-02..2020-03, year-over-year rows for 2020-01..2020-03
    months = [f"2019-{m:02d}" for m in range(2, 13)] + ["2020-01", "2020-02", "2020-03"]
    prev = dict(zip(months, ["2019-01"] + months[:-1]))
    rows = [(prev[m], m, 10, 0.1, 0.2) for m in months] + [
        (f"2019-{m[5:]}", m, 8, 0.0, 0.5) for m in ("2020-01", "2020-02", "2020-03")]
    summary = spark.createDataFrame(rows, "from_month string, stat_month string, stock_wealth_cnt bigint, "
                                          "upgrade_ratio double, downgrade_ratio double")
    # when: the report of 2020-02 with 3 months of history
    got = figures.migration_history(summary, "2020-02", 3).collect()
    # then: 2019-12, 2020-01, 2020-02 month over month, and 2019-02 -> 2020-02; nothing later than the month
    assert [(r.kind, r.from_month, r.stat_month) for r in got] == [
        ("MONTH", "2019-11", "2019-12"), ("MONTH", "2019-12", "2020-01"), ("MONTH", "2020-01", "2020-02"),
        ("YEAR", "2019-02", "2020-02")]


def test_churn_by_category_of_the_screening(spark):
    screening = spark.createDataFrame([
        ("volatility_class", "STABLE", 40, 0.05, None), ("volatility_class", "DECLINING", 10, 0.6, None),
        ("volatility_class", "VOLATILE", 20, 0.6, None), ("aum_slope", None, 70, None, 0.3)],
        "predictor string, category string, cust_cnt bigint, churn_rate double, pearson_r double")
    got = [(r.category, r.cust_cnt) for r in figures.churn_by_category(screening, "volatility_class").collect()]
    assert got == [("DECLINING", 10), ("VOLATILE", 20), ("STABLE", 40)]    # highest rate first, then by name


def test_quality_summary_names_the_rules_largest_first(spark):
    quality = spark.createDataFrame([
        ("JNL_ACC_CHG", "null_key", "QUARANTINED", 1000, 1), ("JNL_ACC_CHG", "bad_amount", "QUARANTINED", 1000, 3),
        ("JNL_ACC_CHG", "bad_code", "QUARANTINED", 1000, 0), ("JNL_ACC_CHG", "bad_channel", "NULLED", 1000, 2),
        ("ORG_DIM", "null_key", "QUARANTINED", 20, 0)],
        "table_name string, rule string, action string, rows_in bigint, rows_bad bigint")
    expected = spark.createDataFrame([("JNL_ACC_CHG", 1000, 4, 2, 0.006, "bad_amount 3, bad_channel 2, null_key 1"),
                                      ("ORG_DIM", 20, 0, 0, 0.0, "")],
                                     "table_name string, rows_in bigint, rows_quarantined bigint, rows_nulled bigint, "
                                     "bad_share double, rules string")
    assert_df_equality(figures.quality_summary(quality), expected, ignore_nullable=True)


CONTACT = ("王某", "410***0567", "branch", "county", "city")


def test_recommendation_sample_takes_each_methods_best_first_choices_in_turn(spark):
    rows = [("c1", "ALS", "FUND", 0.9, 1), ("c2", "ALS", "FUND", 0.95, 1), ("c2", "ALS", "INSURANCE", 0.97, 2),
            ("c3", "PEARSON_UCF", "FUND", 1.0, 1), ("c4", "PEARSON_UCF", "LARGE_CD", 1.0, 1),
            ("c5", "PEARSON_UCF", "FUND", 0.6, 1)]
    recs = spark.createDataFrame([(*r, f"why {r[0]}", *CONTACT) for r in rows],
                                 "cust_id string, method string, product string, score double, rank int, "
                                 "explanation string, masked_name string, masked_id_no string, org_name string, "
                                 "county_name string, city_name string")
    got = figures.recommendation_sample(recs, 3, ("PEARSON_UCF", "ALS"))
    # then: ALS c2 (0.95), UCF c3 (1.0, c3 before c4), then ALS c1; rank-2 rows never; no customer number
    assert [(r.method, r.explanation) for r in got.collect()] == [("ALS", "why c2"), ("PEARSON_UCF", "why c3"),
                                                                  ("ALS", "why c1")]
    assert "cust_id" not in got.columns


def test_warning_sample_is_the_flagged_most_likely_first(spark):
    scores = spark.createDataFrame([("c1", 0.5, True, ["a", "b"]), ("c2", 0.9, True, ["c"]), ("c3", 0.9, True, []),
                                    ("c4", 0.3, False, ["d"])],
                                   "cust_id string, churn_prob double, flagged boolean, reasons array<string>")
    scores = scores.selectExpr("*", "'DIAMOND' tier", "'王某' masked_name", "'410***0567' masked_id_no",
                               "'branch' org_name", "'county' county_name", "'city' city_name")
    got = figures.warning_sample(scores, 10).collect()
    assert [(r.churn_prob, r.reasons) for r in got] == [(0.9, "c"), (0.9, ""), (0.5, "a; b")]


def test_html_table_formats_escapes_and_marks_missing():
    frame = pd.DataFrame({"name": ["<b>x</b>", None], "n": [1234567, None]})
    got = markup.table(frame, {"n": markup.count})
    assert "<td>&lt;b&gt;x&lt;/b&gt;</td>" in got and '<td class="num">1,234,567</td>' in got
    assert got.count("<td>–</td>") == 1 and got.count('<td class="num">–</td>') == 1


def test_chart_is_a_png_that_draws_and_renders_the_same_twice():
    tiers = pd.DataFrame({"tier": ["NONE", "PLATINUM", "DIAMOND"], "cust_cnt": [3, 1, 1],
                          "aum_share": [0.0001, 0.2, 0.7999]})
    png = plots.tiers_chart(tiers)
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > 300 and pixels.shape[1] > 900 and pixels.std() > 0.05    # not blank
    assert plots.tiers_chart(tiers) == png
