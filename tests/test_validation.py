"""Every validation rule on hand-made rows, with exact quarantine counts."""
from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from lib.config import Quality
from lib.errors import QualityError, SourceError
from lib.ingest.split import check_limits, quality_counts, quarantine_rows, silver_rows, validate_months
from lib.ingest.validation import chain_states
from tests.rows import raw_rows

QUALITY = Quality(max_bad_share=1.0, max_amount=1e10)
COUNT_COLUMNS = "stat_month string, table_name string, rule string, action string, rows_in long, rows_bad long"


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
    validated = validate_months(frames, [month], QUALITY, prior)
    counts = quality_counts(validated).filter(F.col("table_name") == table).filter("rows_bad > 0")
    return validated, counts


def expected(spark, table, rows_in, bad, nulled=None, month="2019-01"):
    """data_quality rows: `bad` rules withheld the row, `nulled` rules nulled an attribute."""
    rows = [(month, table, rule, "QUARANTINED", rows_in, n) for rule, n in bad.items()]
    rows += [(month, table, rule, "NULLED", rows_in, n) for rule, n in (nulled or {}).items()]
    return spark.createDataFrame(rows, COUNT_COLUMNS)


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
         "TXN_DT": "bad", "TXN_TS": None},                       # no month: undated, filed under 2019-01
        led("T13", 18, "2019-02-03", "C", "1.00", "801.00"),     # another month: not read
        led("T20", 1, "2019-01-02", "C", "500.00", "500.00", "OPEN", AGMT_ID="A2",
            CUST_ID="0000000002"),                               # clean: opens from 0
        led("T21", 2, "2019-01-03", "C", "10.00", "511.00", AGMT_ID="A2",
            CUST_ID="0000000002"),                               # balance_break: 500+10 = 510
    ]
    validated, counts = counts_of(spark, dims(spark, JNL_ACC_CHG=ledger), "JNL_ACC_CHG")
    # 14 rows dated 2019-01 and T12, which has no month (T13 is February): 4 clean + 11 bad
    want = expected(spark, "JNL_ACC_CHG", 15, {
        "undated": 1, "null_key": 1, "unparseable": 2, "bad_code": 1, "bad_amount": 1, "unknown_account": 1,
        "unknown_customer": 1, "duplicate_key": 1, "balance_break": 2,
    })
    assert_df_equality(counts, want, ignore_row_order=True, ignore_nullable=True)
    clean_ids = sorted(r.TXN_ID for r in validated["JNL_ACC_CHG"].clean.collect())
    assert clean_ids == ["T1", "T2", "T20", "T4"]


def test_ledger_chain_continues_from_last_month(spark):
    prior = spark.createDataFrame([("A1", 4, "800.00")], "agmt_id string, last_txn_seq long, last_bal_after string"
                                  ).withColumn("last_bal_after", F.col("last_bal_after").cast("decimal(18,2)"))
    ledger = [led("T30", 5, "2019-02-01", "D", "100.00", "700.00"),    # clean: 800-100
              led("T31", 6, "2019-02-02", "D", "100.00", "650.00")]    # balance_break: 700-100 = 600
    _, counts = counts_of(spark, dims(spark, JNL_ACC_CHG=ledger), "JNL_ACC_CHG", "2019-02", prior)
    assert_df_equality(counts, expected(spark, "JNL_ACC_CHG", 2, {"balance_break": 1}, month="2019-02"),
                       ignore_nullable=True)


def test_one_pass_over_two_months_checks_each_month_as_month_by_month_runs_would(spark):
    ledger = [led("T1", 1, "2019-01-02", "C", "100.00", "100.00", "OPEN"),
              led("T2", 2, "2019-01-10", "D", "30.00", "70.00"),
              led("T9", 1, "2019-01-03", "C", "5.00", "5.00", "OPEN", AGMT_ID="A2", CUST_ID="0000000002"),
              led("T3", 3, "2019-02-03", "D", "20.00", "60.00"),   # balance_break: January ended at 70
              led("T4", 4, "2019-02-05", "D", "10.00", "50.00"),   # clean: 60-10, the record delivered before
              led("T2", 5, "2019-02-07", "D", "10.00", "40.00")]   # clean: a TXN_ID is unique within its month
    months = ["2019-01", "2019-02"]
    validated = validate_months(dims(spark, JNL_ACC_CHG=ledger), months, QUALITY, None)
    counts = quality_counts(validated)
    assert_df_equality(counts.filter((F.col("table_name") == "JNL_ACC_CHG") & (F.col("rows_bad") > 0)),
                       expected(spark, "JNL_ACC_CHG", 3, {"balance_break": 1}, month="2019-02"), ignore_nullable=True)
    # the customer snapshot stands for each month
    assert sorted((r.stat_month, r.rows_in) for r in counts.filter(F.col("table_name") == "T01_INDPTY_ID")
                  .select("stat_month", "rows_in").distinct().collect()) == [("2019-01", 2), ("2019-02", 2)]
    # each month's chain state; A2, quiet in February, carries January's forward
    states = chain_states(validated["JNL_ACC_CHG"].flagged, None, months)
    assert sorted((r.stat_month, r.agmt_id, r.last_txn_seq, str(r.last_bal_after)) for r in states.collect()) == [
        ("2019-01", "A1", 2, "70.00"), ("2019-01", "A2", 1, "5.00"),
        ("2019-02", "A1", 5, "40.00"), ("2019-02", "A2", 1, "5.00")]


def test_a_months_first_record_follows_the_last_month_the_account_had_records_or_the_prior_state(spark):
    prior = spark.createDataFrame([("A1", 4, "800.00")], "agmt_id string, last_txn_seq long, last_bal_after string"
                                  ).withColumn("last_bal_after", F.col("last_bal_after").cast("decimal(18,2)"))
    a2 = {"AGMT_ID": "A2", "CUST_ID": "0000000002"}
    ledger = [led("T1", 1, "2019-01-03", "C", "5.00", "5.00", "OPEN", **a2),   # A2 opens; A1 quiet in January
              led("T2", 5, "2019-02-01", "D", "100.00", "700.00"),            # clean: the prior state's 800-100
              led("T3", 6, "2019-03-01", "D", "100.00", "650.00"),            # balance_break: February's 700-100
              led("T4", 1, "2019-03-01", "D", "1.00", "4.00", **a2),          # seq_disorder: January ended at seq 1
              led("T5", 2, "2019-03-02", "D", "1.00", "3.00", **a2)]          # clean: 4-1 (T4 as delivered)
    months = ["2019-01", "2019-02", "2019-03"]
    counts = quality_counts(validate_months(dims(spark, JNL_ACC_CHG=ledger), months, QUALITY, prior))
    assert_df_equality(counts.filter((F.col("table_name") == "JNL_ACC_CHG") & (F.col("rows_bad") > 0))
                       .orderBy("rule"),
                       expected(spark, "JNL_ACC_CHG", 3, {"balance_break": 1, "seq_disorder": 1}, month="2019-03"),
                       ignore_nullable=True)


def test_the_chain_check_reads_the_ledger_once(spark, tmp_path):
    """The ledger's look-backs (the same month's and the earlier months') are windows over one read."""
    frames = dims(spark, JNL_ACC_CHG=[led("T1", 1, "2019-01-02", "C", "5.00", "5.00", "OPEN")])
    frames["JNL_ACC_CHG"].write.parquet(str(tmp_path / "ledger"))
    frames["JNL_ACC_CHG"] = spark.read.parquet(str(tmp_path / "ledger"))
    flagged = validate_months(frames, ["2019-01", "2019-02"], QUALITY, None)["JNL_ACC_CHG"].flagged
    plan = flagged._jdf.queryExecution().executedPlan().toString()  # noqa: SLF001 - the plan has no Python API
    assert plan.count("FileScan parquet") == 1, plan     # the other tables are in-memory rows


def test_a_record_is_checked_against_the_previous_delivered_record_not_the_previous_clean_one(spark):
    ledger = [led("T1", 1, "2019-01-02", "C", "100.00", "100.00", "OPEN"),      # clean
              led("T2", 2, "2019-01-03", "C", "50.00", "150.00", "GIFT"),       # bad_code, its balance right
              led("T3", 3, "2019-01-04", "D", "30.00", "120.00"),               # clean: 150-30 (T2 as delivered)
              led("T4", 4, "2019-01-05", "D", "30.00", "100.00")]               # balance_break: 120-30 = 90
    validated, counts = counts_of(spark, dims(spark, JNL_ACC_CHG=ledger), "JNL_ACC_CHG")
    assert_df_equality(counts, expected(spark, "JNL_ACC_CHG", 4, {"bad_code": 1, "balance_break": 1}),
                       ignore_nullable=True)
    assert sorted(r.TXN_ID for r in validated["JNL_ACC_CHG"].clean.collect()) == ["T1", "T3"]


def test_txn_seq_must_follow_the_posting_date_within_and_across_months(spark):
    prior = spark.createDataFrame([("A1", 4, "800.00")], "agmt_id string, last_txn_seq long, last_bal_after string"
                                  ).withColumn("last_bal_after", F.col("last_bal_after").cast("decimal(18,2)"))
    ledger = [led("T1", 3, "2019-02-01", "D", "100.00", "700.00"),    # seq_disorder: not after last month's 4
              led("T2", 5, "2019-02-10", "D", "100.00", "600.00"),    # clean: 700-100 (T1 as delivered)
              led("T3", 6, "2019-02-05", "D", "100.00", "500.00"),    # seq_disorder: posted before T2
              led("T4", 7, "2019-02-11", "D", "100.00", "400.00")]    # clean
    validated, counts = counts_of(spark, dims(spark, JNL_ACC_CHG=ledger), "JNL_ACC_CHG", "2019-02", prior)
    assert_df_equality(counts, expected(spark, "JNL_ACC_CHG", 4, {"seq_disorder": 2}, month="2019-02"),
                       ignore_nullable=True)
    assert sorted(r.TXN_ID for r in validated["JNL_ACC_CHG"].clean.collect()) == ["T2", "T4"]


def test_a_ledger_account_must_be_a_deposit_agreement_of_the_rows_customer(spark):
    frames = dims(spark, T03_AGREEMENT=[{"AGMT_ID": "F1", "PROD_TYPE": "FUND"}], JNL_ACC_CHG=[
        led("T1", 1, "2019-01-02", "C", "5.00", "5.00", "OPEN"),                        # clean: C1's deposit A1
        led("T2", 1, "2019-01-02", "C", "5.00", "5.00", "OPEN", CUST_ID="0000000002"),  # A1 is C1's
        led("T3", 1, "2019-01-02", "C", "5.00", "5.00", "OPEN", AGMT_ID="F1")])         # F1 is a fund
    validated, counts = counts_of(spark, frames, "JNL_ACC_CHG")
    assert_df_equality(counts, expected(spark, "JNL_ACC_CHG", 3, {"account_not_owned": 2}), ignore_nullable=True)
    assert [r.TXN_ID for r in validated["JNL_ACC_CHG"].clean.collect()] == ["T1"]


def test_dimension_rules(spark):
    frames = dims(
        spark,
        ORG_DIM=[{}],                                                          # duplicate_key
        T01_INDPTY_ID=[{"CUST_ID": "0000000003", "GENDER": "X"},               # bad_gender: kept, nulled
                       {"CUST_ID": "12345"},                                   # bad_value: not 10 digits
                       {"CUST_ID": "0000000004", "ID_NO": "4104"},             # bad_id_no: kept, nulled
                       {"CUST_ID": "0000000005", "OPEN_ORG_ID": "O9"},         # unknown_org: kept, nulled
                       {"CUST_ID": "0000000006", "BIRTH_DT": "1990-02-31"},    # bad_birth_dt: kept, nulled
                       {"CUST_ID": "0000000007", "BIRTH_DT": "1850-01-01",
                        "GENDER": "X"},                                        # bad_gender first, both nulled
                       {"CUST_ID": None},                                      # null_key
                       {}],                                                    # duplicate_key
        T03_AGREEMENT=[{"AGMT_ID": "A3", "PROD_TYPE": "GOLD"},                 # bad_code
                       {"AGMT_ID": "A4", "CLOSE_DT": "2009-01-01"},            # bad_close_dt: kept, nulled
                       {"AGMT_ID": "A5", "CUST_ID": "0000000003"}],            # clean: C3 was kept
        TCS_INDPTY_AGMT_RELATION_H=[{"AGMT_ID": "A3"},                         # unknown_account (A3 was bad)
                                    {"REL_TYPE": "FRIEND"}],                   # bad_code
        T98_INDPTY_PROD_STAT=[{"STAT_MONTH": "2019-13"},                       # undated, filed under 2019-01
                              {"PROD_TYPE": "DEMAND_DEPOSIT"},                 # bad_code: not a holding
                              {"PROD_TYPE": "INSURANCE", "MONTH_END_BAL": "-1.00"},  # bad_amount
                              {"PROD_TYPE": "WEALTH_PRODUCT", "CUST_ID": "0000000008"},  # unknown_customer
                              {}],                                             # duplicate_key
    )
    validated = validate_months(frames, ["2019-01"], QUALITY, None)
    counts = quality_counts(validated).filter("rows_bad > 0")
    want = (expected(spark, "ORG_DIM", 2, {"duplicate_key": 1})
            .unionByName(expected(spark, "T01_INDPTY_ID", 10, {"null_key": 1, "bad_value": 1, "duplicate_key": 1},
                                  {"bad_id_no": 1, "bad_gender": 2, "bad_birth_dt": 1, "unknown_org": 1}))
            .unionByName(expected(spark, "T03_AGREEMENT", 5, {"bad_code": 1}, {"bad_close_dt": 1}))
            .unionByName(expected(spark, "TCS_INDPTY_AGMT_RELATION_H", 3, {
                "bad_code": 1, "unknown_account": 1}))
            .unionByName(expected(spark, "T98_INDPTY_PROD_STAT", 6, {
                "undated": 1, "bad_code": 1, "bad_amount": 1, "unknown_customer": 1, "duplicate_key": 1})))
    assert_df_equality(counts, want, ignore_row_order=True, ignore_nullable=True)
    kept = {r.cust_id: r for r in silver_rows(validated["T01_INDPTY_ID"]).collect()}
    assert sorted(kept) == ["0000000001", "0000000002", "0000000003", "0000000004", "0000000005", "0000000006",
                            "0000000007"]
    assert [(kept[c].gender, kept[c].id_no, kept[c].open_org_id, kept[c].birth_dt) for c in (
        "0000000003", "0000000004", "0000000005", "0000000006", "0000000007")] == [
        (None, "410425199001010567", "O1", kept["0000000001"].birth_dt),
        ("F", None, "O1", kept["0000000001"].birth_dt),
        ("F", "410425199001010567", None, kept["0000000001"].birth_dt),
        ("F", "410425199001010567", "O1", None),
        (None, "410425199001010567", "O1", None)]
    agreements = {r.agmt_id: r for r in silver_rows(validated["T03_AGREEMENT"]).collect()}
    assert sorted(agreements) == ["A1", "A2", "A4", "A5"] and agreements["A4"].close_dt is None


def test_rows_in_equals_clean_plus_quarantined_and_quarantine_is_masked(spark):
    frames = dims(spark, T01_INDPTY_ID=[
        {"CUST_ID": "0000000003", "GENDER": "X", "CUST_NAME": "顾小明", "ID_NO": "410425199001010567"},
        {"CUST_ID": "0000000004", "BIRTH_DT": "1985/03/07", "ID_NO": "410425198503070012"}])
    v = validate_months(frames, ["2019-01"], QUALITY, None)["T01_INDPTY_ID"]
    assert v.flagged.count() == v.clean.count() == 4 and v.bad.count() == 2   # both kept, an attribute nulled
    rows = {r.cust_id: r for r in quarantine_rows(v).collect()}
    assert (rows["0000000003"].rule, rows["0000000003"].action, rows["0000000003"].cust_name,
            rows["0000000003"].id_no, rows["0000000003"].birth_dt) == (
        "bad_gender", "NULLED", "顾某", "410425********0567", "****-**-**")
    # a malformed birth date keeps its shape, so the engineer still sees what was wrong with it
    assert (rows["0000000004"].rule, rows["0000000004"].birth_dt) == ("bad_birth_dt", "****/**/**")
    # no quarantined row gives back the birth-date digits its masked ID number stars
    for cust_id, starred in (("0000000003", "19900101"), ("0000000004", "19850307")):
        assert not [v for v in rows[cust_id].asDict().values() if v and starred in v.replace("-", "").replace("/", "")]


@pytest.mark.parametrize("change, message", [
    (lambda df: df.drop("CITY_NAME"), "ORG_DIM does not follow the contract .*: lacks contract column.s. CITY_NAME$"),
    (lambda df: df.withColumn("MANAGER", F.lit("x")), "ORG_DIM .*: has column.s. not in the contract: MANAGER$"),
    (lambda df: df.withColumn("ORG_NAME", F.lit(1.5)), "ORG_DIM .*: ORG_NAME is double, not string$"),
])
def test_schema_drift_fails_naming_the_column(spark, change, message):
    frames = dims(spark)
    frames["ORG_DIM"] = change(frames["ORG_DIM"])
    with pytest.raises(SourceError, match=message):
        validate_months(frames, ["2019-01"], QUALITY, None)


def test_typed_extract_may_deliver_a_narrower_integer(spark):
    frames = dims(spark, JNL_ACC_CHG=[led("T1", 1, "2019-01-02", "C", "5.00", "5.00", "OPEN")])
    frames["JNL_ACC_CHG"] = frames["JNL_ACC_CHG"].withColumn("TXN_SEQ", F.col("TXN_SEQ").cast("int"))
    validated, counts = counts_of(spark, frames, "JNL_ACC_CHG")
    assert counts.count() == 0 and validated["JNL_ACC_CHG"].clean.count() == 1


def test_an_undated_row_does_not_block_the_month_at_the_default_limit(spark):
    ledger = [led(f"T{i}", i, "2019-01-02", "C", "0.00", "0.00") for i in range(1, 26)]
    ledger.append({**led("T99", 99, "2019-01-02", "C", "0.00", "0.00"), "TXN_DT": None, "TXN_TS": None})
    validated = validate_months(dims(spark, JNL_ACC_CHG=ledger), ["2019-01"], QUALITY, None)
    rows = [r.asDict() for r in quality_counts(validated).collect()]
    assert [(r["stat_month"], r["rows_in"], r["rows_bad"]) for r in rows
            if r["table_name"] == "JNL_ACC_CHG" and r["rule"] == "undated"] == [("2019-01", 26, 1)]
    check_limits(rows, Quality().max_bad_share)       # 1 of 26 rows (3.8%) is under the default 5%
    with pytest.raises(QualityError, match=r"JNL_ACC_CHG \(2019-01\): 1 of 26 rows bad.*'undated'"):
        check_limits(rows, 0.03)


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


def test_a_column_shifted_row_shows_only_masked_or_non_personal_values(spark):
    frames = dims(spark, T01_INDPTY_ID=[{"CUST_ID": "0000000008", "GENDER": "410425199001010567",
                                         "OCCUPATION": "顾小明", "OPEN_DT": "河南省郑州市", "OPEN_ORG_ID": "6217000012345678"}])
    v = validate_months(frames, ["2019-01"], QUALITY, None)["T01_INDPTY_ID"]
    row = quarantine_rows(v).filter(F.col("cust_id") == "0000000008").first()
    assert (row.rule, row.action, row.gender, row.occupation, row.open_dt, row.open_org_id) == (
        "bad_gender", "NULLED", "410425********0567", "顾某", "河某", "****5678")
    clean = quarantine_rows(validate_months(dims(spark, T01_INDPTY_ID=[{"CUST_ID": "0000000009", "GENDER": "X"}]),
                                            ["2019-01"], QUALITY, None)["T01_INDPTY_ID"]).first()
    assert (clean.cust_id, clean.gender, clean.open_dt, clean.open_org_id) == ("0000000009", "X", "2010-01-01", "O1")
