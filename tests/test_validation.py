"""Every validation rule on hand-made rows, with exact quarantine counts."""
from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lib.config import Quality
from lib.ingest import (QualityError, check_limits, quality_counts, quarantine_rows,
                        validate_month)
from tests.rows import raw_rows

QUALITY = Quality(max_bad_share=1.0, max_amount=1e10)
COUNT_COLUMNS = "stat_month string, table_name string, rule string, rows_in long, rows_bad long"


def dims(spark, **extra):
    """Two customers (C1 with account A1, C2 with A2) in branch O1, plus extra rows."""
    base = {
        "ORG_DIM": [{}],
        "T01_INDPTY_ID": [{}, {"CUST_ID": "0000000002", "ID_NO": "410425198001010123"}],
        "T03_AGREEMENT": [{}, {"AGMT_ID": "A2", "CUST_ID": "0000000002"}],
        "TCS_INDPTY_AGMT_RELATION_H": [{}],
        "T98_INDPTY_PROD_STAT": [{}],
        "JNL_ACC_CHG": [],
    }
    for table, rows in extra.items():
        base[table] = base[table] + rows
    return {t: raw_rows(spark, t, rows) for t, rows in base.items()}


def counts_of(spark, frames, table, month="2019-01", prior=None):
    validated = validate_month(frames.__getitem__, month, QUALITY, prior)
    counts = quality_counts(validated).filter(F.col("table_name") == table).filter("rows_bad > 0")
    return validated, counts


def expected(spark, table, rows_in, bad, month="2019-01"):
    return spark.createDataFrame([(month, table, rule, rows_in, n) for rule, n in bad.items()],
                                 COUNT_COLUMNS)


def led(txn_id, seq, dt, flag, amt, bal, code="DEPOSIT", **kw):
    return {"TXN_ID": txn_id, "TXN_SEQ": str(seq), "TXN_DT": dt, "TXN_TS": f"{dt} 10:00:00",
            "DR_CR_FLAG": flag, "TXN_AMT": amt, "BAL_AFTER": bal, "TXN_CODE": code, **kw}


def test_ledger_rules_each_counted_once(spark):
    ledger = [
        led("T1", 1, "2019-01-01", "C", "0.00", "1000.00", "OPENING_BALANCE"),   # clean
        led("T2", 2, "2019-01-05", "D", "200.00", "800.00", "WITHDRAW"),         # clean: 1000-200
        led("T3", 3, "2019-01-05", "C", "50.00", "900.00"),      # balance_break: 800+50 = 850
        led("T4", 4, "2019-01-09", "D", "100.00", "800.00"),     # clean: 900-100 (as delivered)
        led("T4", 4, "2019-01-09", "D", "100.00", "800.00"),     # duplicate_key
        led("T5", 10, "2019-01-10", "C", "-5.00", "795.00"),     # bad_amount
        led("T6", 11, "2019-01-10", "C", "abc", "800.00"),       # unparseable amount
        led("", 12, "2019-01-10", "C", "1.00", "801.00"),        # null_key (empty TXN_ID)
        led("T8", 13, "2019-01-10", "C", "1.00", "1.00", AGMT_ID="A9"),            # unknown_account
        led("T9", 14, "2019-01-10", "C", "1.00", "1.00", AGMT_ID="A2",
            CUST_ID="0000000009"),                                                  # unknown_customer
        led("T10", 15, "2019-01-10", "X", "1.00", "801.00"),     # bad_code
        {**led("T11", 16, "2019-01-20", "C", "1.00", "801.00"),
         "TXN_DT": "2019-02-30"},                                # unparseable date, month from TXN_TS
        {**led("T12", 17, "2019-01-20", "C", "1.00", "801.00"),
         "TXN_DT": "bad", "TXN_TS": None},                       # unparseable, no month: UNDATED
        led("T13", 18, "2019-02-03", "C", "1.00", "801.00"),     # another month: not read
        led("T20", 1, "2019-01-02", "C", "500.00", "500.00", "OPEN", AGMT_ID="A2",
            CUST_ID="0000000002"),                               # clean: opens from 0
        led("T21", 2, "2019-01-03", "C", "10.00", "511.00", AGMT_ID="A2",
            CUST_ID="0000000002"),                               # balance_break: 500+10 = 510
    ]
    validated, counts = counts_of(spark, dims(spark, JNL_ACC_CHG=ledger), "JNL_ACC_CHG")
    # 14 rows dated 2019-01 (T13 is February, T12 has no month): 4 clean + 10 bad
    want = expected(spark, "JNL_ACC_CHG", 14, {
        "null_key": 1, "unparseable": 2, "bad_code": 1, "bad_amount": 1, "unknown_account": 1,
        "unknown_customer": 1, "duplicate_key": 1, "balance_break": 2,
    }).unionByName(expected(spark, "JNL_ACC_CHG", 1, {"unparseable": 1}, month="UNDATED"))
    assert_df_equality(counts, want, ignore_row_order=True, ignore_nullable=True)
    clean_ids = sorted(r.TXN_ID for r in validated["JNL_ACC_CHG"].clean.collect())
    assert clean_ids == ["T1", "T2", "T20", "T4"]


def test_ledger_chain_continues_from_last_month(spark):
    prior = spark.createDataFrame([("A1", 4, "800.00")], "agmt_id string, last_txn_seq long, last_bal_after string"
                                  ).withColumn("last_bal_after", F.col("last_bal_after").cast("decimal(18,2)"))
    ledger = [led("T30", 5, "2019-02-01", "D", "100.00", "700.00"),    # clean: 800-100
              led("T31", 6, "2019-02-02", "D", "100.00", "650.00")]    # balance_break: 700-100 = 600
    _, counts = counts_of(spark, dims(spark, JNL_ACC_CHG=ledger), "JNL_ACC_CHG", "2019-02", prior)
    assert_df_equality(counts, expected(spark, "JNL_ACC_CHG", 2, {"balance_break": 1}, "2019-02"),
                       ignore_nullable=True)


def test_dimension_rules(spark):
    frames = dims(
        spark,
        ORG_DIM=[{}],                                                          # duplicate_key
        T01_INDPTY_ID=[{"CUST_ID": "0000000003", "GENDER": "X"},               # bad_code
                       {"CUST_ID": "12345"},                                   # bad_value: not 10 digits
                       {"CUST_ID": "0000000004", "ID_NO": "4104"},             # bad_value: ID_NO length
                       {"CUST_ID": "0000000005", "OPEN_ORG_ID": "O9"},         # unknown_org
                       {"CUST_ID": "0000000006", "BIRTH_DT": "1990-02-31"},    # unparseable
                       {"CUST_ID": None},                                      # null_key
                       {}],                                                    # duplicate_key
        T03_AGREEMENT=[{"AGMT_ID": "A3", "PROD_TYPE": "GOLD"},                 # bad_code
                       {"AGMT_ID": "A4", "CLOSE_DT": "2009-01-01"},            # bad_value: closes before open
                       {"AGMT_ID": "A5", "CUST_ID": "0000000003"}],            # unknown_customer (C3 was bad)
        TCS_INDPTY_AGMT_RELATION_H=[{"AGMT_ID": "A3"},                         # unknown_account (A3 was bad)
                                    {"REL_TYPE": "FRIEND"}],                   # bad_code
        T98_INDPTY_PROD_STAT=[{"STAT_MONTH": "2019-13"},                       # unparseable, UNDATED
                              {"PROD_TYPE": "DEMAND_DEPOSIT"},                 # bad_code: not a holding
                              {"PROD_TYPE": "INSURANCE", "MONTH_END_BAL": "-1.00"},  # bad_amount
                              {"PROD_TYPE": "WEALTH_PRODUCT", "CUST_ID": "0000000008"},  # unknown_customer
                              {}],                                             # duplicate_key
    )
    validated = validate_month(frames.__getitem__, "2019-01", QUALITY, None)
    counts = quality_counts(validated).filter("rows_bad > 0")
    want = (expected(spark, "ORG_DIM", 2, {"duplicate_key": 1})
            .unionByName(expected(spark, "T01_INDPTY_ID", 9, {
                "null_key": 1, "unparseable": 1, "bad_code": 1, "bad_value": 2, "unknown_org": 1,
                "duplicate_key": 1}))
            .unionByName(expected(spark, "T03_AGREEMENT", 5, {
                "bad_code": 1, "bad_value": 1, "unknown_customer": 1}))
            .unionByName(expected(spark, "TCS_INDPTY_AGMT_RELATION_H", 3, {
                "bad_code": 1, "unknown_account": 1}))
            .unionByName(expected(spark, "T98_INDPTY_PROD_STAT", 5, {
                "bad_code": 1, "bad_amount": 1, "unknown_customer": 1, "duplicate_key": 1}))
            .unionByName(expected(spark, "T98_INDPTY_PROD_STAT", 1, {"unparseable": 1}, "UNDATED")))
    assert_df_equality(counts, want, ignore_row_order=True, ignore_nullable=True)


def test_rows_in_equals_clean_plus_quarantined_and_quarantine_is_masked(spark):
    frames = dims(spark, T01_INDPTY_ID=[
        {"CUST_ID": "0000000003", "GENDER": "X", "CUST_NAME": "顾小明", "ID_NO": "410425199001010567"},
        {"CUST_ID": "0000000004", "BIRTH_DT": "1985/03/07", "ID_NO": "410425198503070012"}])
    v = validate_month(frames.__getitem__, "2019-01", QUALITY, None)["T01_INDPTY_ID"]
    assert v.flagged.count() == v.clean.count() + v.bad.count() == 4
    rows = {r.cust_id: r for r in quarantine_rows(v).collect()}
    assert (rows["0000000003"].rule, rows["0000000003"].cust_name, rows["0000000003"].id_no,
            rows["0000000003"].birth_dt) == ("bad_code", "顾某", "410425********0567", "****-**-**")
    # a malformed birth date keeps its shape, so the engineer still sees what was wrong with it
    assert (rows["0000000004"].rule, rows["0000000004"].birth_dt) == ("unparseable", "****/**/**")
    # no quarantined row gives back the birth-date digits its masked ID number stars
    for cust_id, starred in (("0000000003", "19900101"), ("0000000004", "19850307")):
        assert not [v for v in rows[cust_id].asDict().values() if v and starred in v.replace("-", "").replace("/", "")]


def test_missing_contract_column_fails_with_its_name(spark):
    frames = dims(spark)
    frames["ORG_DIM"] = frames["ORG_DIM"].drop("CITY_NAME")
    with pytest.raises(Exception, match="ORG_DIM lacks contract column.*CITY_NAME"):
        validate_month(frames.__getitem__, "2019-01", QUALITY, None)


def test_bad_share_over_limit_names_table_and_rule():
    rows = [{"stat_month": "2019-01", "table_name": "JNL_ACC_CHG", "rule": "null_key",
             "rows_in": 100, "rows_bad": 2},
            {"stat_month": "2019-01", "table_name": "JNL_ACC_CHG", "rule": "balance_break",
             "rows_in": 100, "rows_bad": 5},
            {"stat_month": "2019-01", "table_name": "ORG_DIM", "rule": "null_key",
             "rows_in": 10, "rows_bad": 0}]
    check_limits(rows, max_bad_share=0.07)          # 7 of 100 is not over 7%
    with pytest.raises(QualityError, match=r"JNL_ACC_CHG \(2019-01\): 7 of 100.*'balance_break'"):
        check_limits(rows, max_bad_share=0.05)
