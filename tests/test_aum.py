"""Monthly AUM, aum_3m, tiers, volatility and migration: hand-worked cases, then the whole
job against the independent pandas implementation on a generated province."""
from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal as D

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import aum as aum_job
from lib import tiers, trend
from lib.aum import balances
from lib.aum import run as aum_run
from lib.aum.month_aum import population
from lib.aum.run import run_aum
from lib.config import Tiers, Volatility
from lib.errors import MissingInputError
from lib.ingest.run import run_ingest
from tests.aum_reference import reference_aum, reference_volatility
from tests.conftest import E2E_MONTHS, job_args
from tests.rows import hand_conf, hand_extract

LEDGER = "cust_id string, agmt_id string, txn_dt date, txn_seq long, bal_after decimal(18,2)"
CLOSE = "cust_id string, agmt_id string, bal_close decimal(18,2)"
AUM_COLS = ["cust_id", "stat_month", "aum_month_avg", "aum_month_end", "aum_max_daily"]


def ledger(spark, rows):
    from datetime import date
    return spark.createDataFrame([(c, a, date.fromisoformat(d), s, D(b)) for c, a, d, s, b in rows], LEDGER)


def test_month_aum_from_balance_segments(spark):
    # A1 (C1): 1000.00 carried from December; 2020-01-05 two records, the last by TXN_SEQ
    #   (seq 11) leaves 700.00 although listed first; 2020-01-20 100.00.
    #   Jan: 1000*4 + 700*15 + 100*12 = 15,700 balance-days; Feb (leap, 29 days): 100*29 = 2,900
    # A2 (C1): opened 2020-01-16 with 3100.00, closed 2020-02-10 (balance 0).
    #   Jan: 3100*16 = 49,600; Feb: 3100*9 = 27,900
    # C1 Jan: (15,700 + 49,600) / 31 = 2106.4516 -> 2106.45, + FUND 500.00 = 2606.45
    #   month end 100 + 3100 + FUND 600 = 3800.00; max daily: days 16-19 hold 700 + 3100 = 3800, + 500 = 4300.00
    # C1 Feb: (2,900 + 27,900) / 29 = 1062.0690 -> 1062.07; end 100.00; max daily days 1-9: 3200.00
    # C2: no records, 250.00 carried from December: 250.00 in both months. C3: nothing: 0.
    rows = ledger(spark, [("C1", "A1", "2020-01-05", 11, "700.00"), ("C1", "A1", "2020-01-05", 10, "400.00"),
                          ("C1", "A1", "2020-01-20", 12, "100.00"), ("C1", "A2", "2020-01-16", 1, "3100.00"),
                          ("C1", "A2", "2020-02-10", 2, "0.00")])
    prior = spark.createDataFrame([("C1", "A1", D("1000.00")), ("C2", "A3", D("250.00"))], CLOSE)
    holdings = spark.createDataFrame([("C1", "2020-01", D("500.00"), D("600.00"))],
                                     "cust_id string, stat_month string, hold_avg decimal(18,2), hold_end decimal(18,2)")
    customers = spark.createDataFrame([(c, m) for c in ("C1", "C2", "C3") for m in ("2020-01", "2020-02")],
                                      "cust_id string, stat_month string")
    changes = balances.account_changes(balances.day_end_balances(rows, prior, "2020-01"), "2020-02")
    deposits = balances.deposit_month(balances.customer_segments(changes, "2020-02"), "2020-01")
    result = balances.customer_month(customers, deposits, holdings).select(*AUM_COLS)
    expected = spark.createDataFrame([
        ("C1", "2020-01", D("2606.45"), D("3800.00"), D("4300.00")),
        ("C1", "2020-02", D("1062.07"), D("100.00"), D("3200.00")),
        ("C2", "2020-01", D("250.00"), D("250.00"), D("250.00")),
        ("C2", "2020-02", D("250.00"), D("250.00"), D("250.00")),
        ("C3", "2020-01", D("0.00"), D("0.00"), D("0.00")),
        ("C3", "2020-02", D("0.00"), D("0.00"), D("0.00")),
    ], "cust_id string, stat_month string, aum_month_avg decimal(18,2), aum_month_end decimal(18,2), "
       "aum_max_daily decimal(18,2)")
    assert_df_equality(result, expected, ignore_row_order=True, ignore_nullable=True)
    closes = {(r.agmt_id, r.stat_month): r.bal_close for r in balances.account_close(changes, "2020-01").collect()}
    assert closes == {("A1", "2020-01"): D("100.00"), ("A1", "2020-02"): D("100.00"),
                      ("A2", "2020-01"): D("3100.00"), ("A3", "2020-01"): D("250.00"),
                      ("A3", "2020-02"): D("250.00")}            # A2 closed at 0: left out


def history(spark, series: dict[str, list]):
    months = [f"2019-{m:02d}" for m in range(1, 13)]
    return spark.createDataFrame([(c, months[i], None if v is None else D(str(v)))
                                  for c, vals in series.items() for i, v in enumerate(vals)],
                                 "cust_id string, stat_month string, aum_month_avg decimal(18,2)")


def test_aum_3m_counts_a_missing_month_as_zero_and_leaves_out_months_before_the_data(spark):
    # the data begins 2019-01: January is its own mean, 300.00 (not 300 / 3);
    # February (no row): (0 + 300) / 2 = 150.00; March: (600 + 0 + 300) / 3 = 300.00
    rows = history(spark, {"C1": [300]}).unionByName(
        spark.createDataFrame([("C1", "2019-03", D("600.00"))], "cust_id string, stat_month string, aum_month_avg decimal(18,2)"))
    values = trend.window_values(rows, ["2019-01", "2019-02", "2019-03"], 3)
    got = {r.stat_month: r.a for r in values.select("stat_month", trend.aum_3m("2019-01").alias("a")).collect()}
    assert got == {"2019-01": D("300.00"), "2019-02": D("150.00"), "2019-03": D("300.00")}
    # with data since 2018-12, January's mean is over two months: (300 + 0) / 2
    later = values.filter("stat_month = '2019-01'").select(trend.aum_3m("2018-12").alias("a")).first().a
    assert later == D("150.00")


@pytest.mark.parametrize("aum_3m, expected", [
    ("499999.99", "NONE"), ("500000.00", "PLATINUM"), ("1999999.99", "PLATINUM"), ("2000000.00", "DIAMOND"),
    ("5999999.99", "DIAMOND"), ("6000000.00", "PRIVATE")])
def test_tier_lower_bounds_inclusive(spark, aum_3m, expected):
    df = spark.createDataFrame([(D(aum_3m),)], "aum_3m decimal(18,2)")
    assert df.select(tiers.tier(Tiers()).alias("t")).first().t == expected


def test_each_volatility_class_agrees_with_numpy(spark):
    series = {"stable": [100, 101, 99, 100, 100, 101], "growth": [100, 110, 120, 130, 140, 150],
              "declining": [150, 140, 130, 120, 110, 100], "volatile": [100, 200, 100, 200, 100, 200],
              "zero": [0, 0, 0, 0, 0, 0], "short": [100, 200]}
    rows = history(spark, {c: v for c, v in series.items() if c != "short"}).unionByName(
        history(spark, {"short": [None] * 4 + [100, 200]}).filter(F.col("aum_month_avg").isNotNull()))
    values = trend.window_values(rows, ["2019-06"], 6)
    got = {r.cust_id: r.volatility_class for r in
           trend.with_volatility_class(values, "2019-01", Volatility()).collect()}
    got_short = {r.cust_id: r.volatility_class for r in trend.with_volatility_class(
        values.filter("cust_id = 'short'"), "2019-05", Volatility()).collect()}
    want = {c: reference_volatility(v) for c, v in series.items()}
    assert {c: got[c] for c in series if c != "short"} == {c: want[c] for c in series if c != "short"}
    assert (got_short["short"], want["short"]) == (None, None)          # only 2 months of data
    assert want == {"stable": "STABLE", "growth": "GROWTH", "declining": "DECLINING", "volatile": "VOLATILE",
                    "zero": "STABLE", "short": None}


def test_migration_matrix_and_ratios(spark):
    # Jan -> Feb: C1 PLATINUM->DIAMOND (up), C2 DIAMOND->NONE (down), C3 PLATINUM->PLATINUM,
    # C4 PRIVATE->DIAMOND (down), C5 NONE->PLATINUM, C6 new in Feb (NONE->PLATINUM).
    # Stock wealth of Jan: C1..C4 = 4; up 1/4 = 0.25, down 2/4 = 0.5
    jan = [("C1", "PLATINUM"), ("C2", "DIAMOND"), ("C3", "PLATINUM"), ("C4", "PRIVATE"), ("C5", "NONE")]
    feb = [("C1", "DIAMOND"), ("C2", "NONE"), ("C3", "PLATINUM"), ("C4", "DIAMOND"), ("C5", "PLATINUM"),
           ("C6", "PLATINUM")]
    tiered = spark.createDataFrame([(c, "2019-01", t) for c, t in jan] + [(c, "2019-02", t) for c, t in feb],
                                   "cust_id string, stat_month string, tier string")
    pairs = tiers.migration_pairs(tiered, ["2019-02"], {"2019-01", "2019-02"})
    matrix = {(r.from_tier, r.to_tier): r.cust_cnt for r in tiers.migration_matrix(pairs).collect()}
    assert matrix == {("PLATINUM", "DIAMOND"): 1, ("DIAMOND", "NONE"): 1, ("PLATINUM", "PLATINUM"): 1,
                      ("PRIVATE", "DIAMOND"): 1, ("NONE", "PLATINUM"): 2}
    s = tiers.migration_summary(pairs).first()
    assert (s.stock_wealth_cnt, s.upgrade_cnt, s.downgrade_cnt, s.upgrade_ratio, s.downgrade_ratio) == (4, 1, 2, 0.25, 0.5)


@pytest.fixture(scope="module")
def aum_backfilled(spark, conf, parquet_province):
    assert aum_job.main(job_args(conf, parquet_province, "e2e", "--from-month", E2E_MONTHS[0],
                                 "--month", E2E_MONTHS[-1], "--ledger-start", E2E_MONTHS[0])) == 0
    return spark.table("e2e.customer_month_aum").localCheckpoint()


def test_job_agrees_with_independent_pandas_to_the_cent(spark, aum_backfilled):
    months = list(E2E_MONTHS)
    led = spark.table("e2e_silver.jnl_acc_chg").select("cust_id", "agmt_id", "txn_dt", "txn_seq", "bal_after").toPandas()
    t98 = spark.table("e2e_silver.t98_indpty_prod_stat").toPandas()
    cust = population(spark.table("e2e_silver.t01_indpty_id")).toPandas()
    want = reference_aum(led, t98, cust, months).sort_values(["cust_id", "stat_month"]).reset_index(drop=True)
    got = (aum_backfilled.select(*AUM_COLS, "aum_3m").toPandas()
           .sort_values(["cust_id", "stat_month"]).reset_index(drop=True))
    assert len(got) == len(want) > 2800
    pd_cols = AUM_COLS + ["aum_3m"]
    mismatch = got[pd_cols].ne(want[pd_cols]).any(axis=1)
    assert not mismatch.any(), got[mismatch].head().to_string() + "\n" + want[mismatch].head().to_string()
    assert got.aum_3m.gt(D(500000)).any()            # the province has wealth customers


def test_monthly_runs_equal_the_backfill_and_rerun_is_identical(spark, conf, parquet_province, aum_backfilled):
    for month in E2E_MONTHS:                          # incremental: each month from the previous close
        assert aum_job.main(job_args(conf, parquet_province, "e2e", "--month", month,
                                     "--ledger-start", E2E_MONTHS[0])) == 0
    assert_df_equality(spark.table("e2e.customer_month_aum"), aum_backfilled, ignore_row_order=True,
                       ignore_nullable=True, ignore_metadata=True)


def test_population_leaves_out_customers_who_open_later(spark):
    from datetime import date
    snapshot = spark.createDataFrame([("C1", date(2019, 1, 31), "2019-01"), ("C2", date(2019, 2, 1), "2019-01"),
                                      ("C3", None, "2019-01"), ("C2", date(2019, 2, 1), "2019-02")],
                                     "cust_id string, open_dt date, stat_month string")
    got = sorted((r.cust_id, r.stat_month) for r in population(snapshot).collect())
    assert got == [("C1", "2019-01"), ("C2", "2019-02"), ("C3", "2019-01")]


def test_aum_needs_the_month_before_written_by_the_same_run_and_names_later_months_stale(
        spark, conf, tmp_path, monkeypatch, caplog):
    log = logging.getLogger("wealth.aum")
    hand_extract(spark, tmp_path, ["2019-01-02", "2019-02-02", "2019-03-02"])
    hand = hand_conf(conf, tmp_path, "aum_hist")
    run_ingest(spark, hand, "2019-01", "2019-03", log)
    # no closing balances of 2019-01, and 2019-02 not said to be the ledger's first month: refused
    with pytest.raises(MissingInputError, match=r"^aum for 2019-02 starts from the closing balances of 2019-01, which "
                                                r"aum_hist_silver.account_month_balance does not have: run aum for "
                                                r"2019-01 first, or if 2019-02 is the ledger's first month say so "
                                                r"\(--ledger-start 2019-02\)$"):
        run_aum(spark, hand, "2019-02", "2019-02", log)
    assert not spark.catalog.tableExists("aum_hist.customer_month_aum")
    started = dataclasses.replace(hand, ledger_start="2019-01")
    with pytest.raises(MissingInputError, match=r"^aum for 2018-12: the month is before ledger_start 2019-01"):
        run_aum(spark, started, "2018-12", "2018-12", log)
    assert run_aum(spark, started, "2019-01", "2019-02", log) is None
    # a re-run of 2019-01 stops between its two commits: 2019-02 cannot start from its balances
    write = aum_run.replace_months

    def crash(spark_, df, database, spec, months):
        if spec.name == "account_month_balance":
            raise RuntimeError("executor lost")
        return write(spark_, df, database, spec, months)
    monkeypatch.setattr(aum_run, "replace_months", crash)
    with pytest.raises(RuntimeError):
        run_aum(spark, started, "2019-01", "2019-01", log)
    monkeypatch.undo()
    with pytest.raises(MissingInputError, match=r"aum_hist.customer_month_aum and aum_hist_silver.account_month_balance "
                                                r"for 2019-01 were last written by different aum runs .*: re-run aum "
                                                r"for 2019-01$"):
        run_aum(spark, started, "2019-02", "2019-02", log)
    # re-running 2019-01 repairs it, and names 2019-02, computed before, as stale
    stale = run_aum(spark, started, "2019-01", "2019-01", log)
    assert stale.startswith("customer_month_aum of 2019-02..2019-02 (and what was computed from it) is stale")
    assert "aum 2019-01..2019-01: customer_month_aum of 2019-02..2019-02" in caplog.text
    assert run_aum(spark, started, "2019-02", "2019-02", log) is None
    # --cascade recomputes the later months in the same pass
    assert run_aum(spark, started, "2019-01", "2019-01", log, cascade=True) is None
    last = spark.sql("DESCRIBE HISTORY aum_hist_silver.account_month_balance LIMIT 1").first()
    assert last.userMetadata.endswith(" 2019-01..2019-02")
