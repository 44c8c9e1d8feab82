"""Tag boundaries worked by hand (SPEC §4): lifecycle, CF bands, month-end holdings from the
SCD2 history, tenure, growth space."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lib.tags import profile

END = profile.month_end("2019-06")          # 2019-06-30


def test_month_end():
    assert (profile.month_end("2019-06"), profile.month_end("2020-02"), profile.month_end("2019-12")) == (
        date(2019, 6, 30), date(2020, 2, 29), date(2019, 12, 31))


@pytest.mark.parametrize("birth, age, stage, band", [
    ("2012-07-01", 6, "CHILD", 1), ("2012-06-30", 7, "JUVENILE", 1),       # 7th birthday on the month's end
    ("2001-07-01", 17, "JUVENILE", 1), ("2001-06-30", 18, "YOUTH", 1),
    ("1999-07-01", 19, "YOUTH", 1), ("1999-06-30", 20, "YOUTH", 2),
    ("1989-07-01", 29, "YOUTH", 2), ("1989-06-30", 30, "YOUTH", 3),
    ("1978-07-01", 40, "YOUTH", 4), ("1978-06-30", 41, "MIDDLE", 4),
    ("1959-07-01", 59, "MIDDLE", 5), ("1959-06-30", 60, "MIDDLE", 6),
    ("1958-07-01", 60, "MIDDLE", 6), ("1958-06-30", 61, "SENIOR", 6),
])
def test_lifecycle_and_age_band_at_the_boundaries(spark, birth, age, stage, band):
    df = spark.createDataFrame([(date.fromisoformat(birth),)], "birth date").select(
        profile.age_at(END, F.col("birth")).alias("age"))
    row = df.select("age", profile.lifecycle(F.col("age")).alias("s"),
                    profile.age_band(F.col("age")).alias("b")).first()
    assert (row.age, row.s, row.b) == (age, stage, band)


@pytest.mark.parametrize("aum_3m, band", [
    ("499999.99", None), ("500000.00", 1), ("999999.99", 1), ("1000000.00", 2), ("1999999.99", 2),
    ("2000000.00", 3), ("3000000.00", 4), ("4000000.00", 5), ("5999999.99", 5), ("6000000.00", 6)])
def test_asset_band_boundaries(spark, aum_3m, band):
    df = spark.createDataFrame([(D(aum_3m),)], "aum_3m decimal(18,2)")
    assert df.select(profile.asset_band(F.col("aum_3m")).alias("b")).first().b == band


def test_holdings_on_the_month_end_from_the_relation_history(spark):
    agreements = spark.createDataFrame(
        [("A1", "FUND"), ("A2", "LARGE_CD"), ("A3", "MOBILE_BANKING"), ("A4", "INSURANCE"), ("A5", "FUND"),
         ("A6", "TIME_DEPOSIT")], "agmt_id string, prod_type string")
    d = date.fromisoformat
    relations = spark.createDataFrame([
        ("C1", "A1", d("2019-01-01"), None),                 # FUND, in force: held
        ("C1", "A5", d("2018-01-01"), None),                 # a second FUND: still one product
        ("C1", "A2", d("2019-01-01"), d("2019-06-15")),      # ended mid-month: not held
        ("C1", "A3", d("2019-06-30"), None),                 # starts on the last day: held
        ("C1", "A4", d("2019-01-01"), d("2019-06-30")),      # ends on the last day (exclusive): not held
        ("C1", "A6", d("2019-07-01"), None),                 # starts after the month: not held
        ("C2", "A2", d("2019-06-15"), d("2019-07-01")),      # in force until the next day: held
    ], "cust_id string, agmt_id string, start_dt date, end_dt date")
    rows = {r.cust_id: r for r in profile.holdings_at(relations, agreements, END).collect()}
    assert (rows["C1"].has_fund, rows["C1"].has_large_cd, rows["C1"].has_mobile_banking,
            rows["C1"].has_insurance, rows["C1"].has_time_deposit, rows["C1"].product_count) == (
        True, False, True, False, False, 2)
    assert (rows["C2"].has_large_cd, rows["C2"].has_fund, rows["C2"].product_count) == (True, False, 1)


def test_tenure_in_whole_months(spark):
    df = spark.createDataFrame([(date(2018, 6, 30),), (date(2018, 7, 1),), (date(2019, 6, 30),)], "opened date")
    got = [r.t for r in df.select(profile.tenure_months(END, F.col("opened")).alias("t")).collect()]
    assert got == [12, 11, 0]


def test_growth_space_levels(spark):
    # peak over 2018-07..2019-06; 2018-06 (13 months back) is outside the window.
    # C1: peak 1000, now 400 -> 0.6 HIGH; C2: peak 1000, now 800 -> 0.2 MEDIUM;
    # C3: peak 1000, now 900 -> 0.1 LOW; C4: all 0 -> 0 LOW; C5: 5000 only in 2018-06, now 100 -> peak 100, 0 LOW;
    # C6: no row this month (counts 0), peak 300 -> 1.0 HIGH
    rows = [("C1", "2019-01", "1000"), ("C1", "2019-06", "400"), ("C2", "2018-07", "1000"), ("C2", "2019-06", "800"),
            ("C3", "2019-03", "1000"), ("C3", "2019-06", "900"), ("C4", "2019-06", "0"),
            ("C5", "2018-06", "5000"), ("C5", "2019-06", "100"), ("C6", "2019-02", "300")]
    aum = spark.createDataFrame([(c, m, D(v)) for c, m, v in rows],
                                "cust_id string, stat_month string, aum_month_avg decimal(18,2)")
    got = {r.cust_id: (r.peak_aum, r.growth_ratio, r.growth_space)
           for r in profile.growth_space(aum, "2019-06").collect()}
    assert got == {"C1": (D("1000.00"), 0.6, "HIGH"), "C2": (D("1000.00"), 0.2, "MEDIUM"),
                   "C3": (D("1000.00"), 0.1, "LOW"), "C4": (D("0.00"), 0.0, "LOW"),
                   "C5": (D("100.00"), 0.0, "LOW"), "C6": (D("300.00"), 1.0, "HIGH")}


def test_risk_clusters_named_by_centroid_on_planted_groups(spark):
    from lib.seeded import uniform
    from lib.tags import segments
    # three planted groups of 200 customers: deposit share ~0.95, ~0.5, ~0.1 (± 0.04)
    groups = {"D": 0.95, "B": 0.5, "W": 0.1}
    rows = spark.range(600).select(
        F.concat(F.element_at(F.array(*[F.lit(g) for g in groups]), (F.col("id") % 3 + 1).cast("int")),
                 F.col("id").cast("string")).alias("cust_id"),
        (F.col("id") % 3).alias("g"), ((uniform(1, "noise", F.col("id")) - 0.5) * 0.08).alias("noise"))
    centre = F.element_at(F.array(*[F.lit(v) for v in groups.values()]), (F.col("g") + 1).cast("int"))
    shares = rows.select("cust_id", (centre + F.col("noise")).alias("deposit_share")).withColumn(
        "investment_share", 1 - F.col("deposit_share"))
    named, model = segments.risk_preference(shares, seed=42)
    got = {r.cust_id[0] + ":" + r.risk_preference for r in named.collect()}
    assert got == {"D:DEPOSIT", "B:BALANCED", "W:WEALTH"}
    again, _ = segments.risk_preference(shares, seed=42)
    assert_df_equality(again, named, ignore_row_order=True)


def test_clusters_do_not_depend_on_how_the_input_is_partitioned(spark):
    from lib.seeded import uniform
    from lib.tags import segments
    # given: 2,000 customers with no planted groups (borderline points everywhere), as one
    # partition and as seven (local mode and a cluster read the same rows differently)
    ids = spark.range(2000).select(F.format_string("C%05d", "id").alias("cust_id"), "id")
    shares = ids.select("cust_id", uniform(3, "d", F.col("id")).alias("deposit_share"),
                        (uniform(3, "i", F.col("id")) * 0.5).alias("investment_share"))
    one, seven = shares.coalesce(1), shares.repartition(7)
    peaks = ids.select("cust_id", (F.pow(10, uniform(4, "p", F.col("id")) * 6)).cast("decimal(18,2)").alias("peak_aum"))
    # then: the same tags
    assert_df_equality(segments.risk_preference(one, 42)[0], segments.risk_preference(seven, 42)[0],
                       ignore_row_order=True)
    assert_df_equality(segments.peak_level(peaks.coalesce(1), 4, 42)[0],
                       segments.peak_level(peaks.repartition(7), 4, 42)[0], ignore_row_order=True)


def test_peak_levels_ordered_by_centroid(spark):
    from lib.tags import segments
    peaks = spark.createDataFrame([(f"C{i}", D(v)) for i, v in enumerate(
        [1e3, 1.2e3, 9e2, 1e5, 1.1e5, 9e4, 1e7, 1.2e7, 9e6])], "cust_id string, peak_aum decimal(18,2)")
    named, _ = segments.peak_level(peaks, k=3, seed=7)
    got = {r.cust_id: r.peak_level for r in named.collect()}
    assert [got[f"C{i}"] for i in range(9)] == ["PEAK_1"] * 3 + ["PEAK_2"] * 3 + ["PEAK_3"] * 3
