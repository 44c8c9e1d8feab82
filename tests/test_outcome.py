"""prospect_outcome: hand-made lists and what followed them (every rule, with rows that must
not count), and the stage on the refreshed province against pandas' own recomputation."""
from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal

import pandas as pd
from chispa import assert_df_equality

from lib.io import read_months
from lib.logs import get_logger
from lib.outcome import follow
from lib.outcome.run import run_outcome
from lib.report import figures
from lib.report.run import _outcomes
from lib.tables import PROSPECT_OUTCOME

from .conftest import REFRESH_MONTH

M = "2020-04"
OUT = ", ".join(f"{n} {t}" for n, t, _ in PROSPECT_OUTCOME.columns)


def key(bank: str, account: str) -> str:
    """cpty_key computed apart from the product: bank, then SHA-256 hex of "bank:account",
    its first 24 characters with the digits moved to g-p."""
    digest = hashlib.sha256(f"{bank}:{account}".encode()).hexdigest()[:24]
    return f"{bank}:{digest.translate(str.maketrans('0123456789', 'ghijklmnop'))}"


def transfer(cust, month, flag, amount, bank, account, name):
    return (cust, month, "TRANSFER_IN" if flag == "C" else "TRANSFER_OUT", flag, Decimal(amount), bank, account, name)


def test_each_list_followed_by_its_rule_hand_built(spark):
    s1, s2, m1, m2 = key("ICBC", "6222001"), key("ABC", "6228002"), key("CCB", "6217003"), key("BOC", "6013004")
    external = spark.createDataFrame([
        ("2020-01", "SOLO", s1, "W1"), ("2020-02", "SOLO", s2, "W2"),
        ("2020-01", "MULTILATERAL", m1, "W1"), ("2020-01", "MULTILATERAL", m1, "W2"),   # one prospect, two links
        ("2020-02", "MULTILATERAL", m1, "W1"), ("2020-02", "MULTILATERAL", m2, "W2"),
    ], "stat_month string, mode string, cpty_key string, wealth_cust_id string")
    internal = spark.createDataFrame([("2020-01", "P1", "W1"), ("2020-01", "P1", "W2"), ("2020-02", "P2", "W1")],
                                     "stat_month string, cpty_cust_id string, wealth_cust_id string")
    critical = spark.createDataFrame([("2020-02", "C1")], "stat_month string, cust_id string")
    aum = spark.createDataFrame([
        ("P1", "2020-01", "PLATINUM"),      # the list month itself: does not count
        ("P1", "2020-02", "NONE"), ("P1", "2020-04", "PLATINUM"), ("P2", "2020-03", "NONE"), ("P2", "2020-04", "NONE"),
        ("C1", "2020-03", "DIAMOND"), ("C1", "2020-04", "NONE"),
    ], "cust_id string, stat_month string, tier string")
    ledger = spark.createDataFrame([
        transfer("W1", "2020-01", "C", "1000.00", "ICBC", "6222001", "顾一"),    # in the list month: not counted
        transfer("W1", "2020-02", "D", "100.00", "ICBC", "6222001", "顾一"),
        transfer("W1", "2020-03", "C", "150.00", "ICBC", "6222001", "顾一"),     # running +50 by 2020-03
        transfer("W2", "2020-03", "D", "500.00", "ABC", "6228002", "钱二"),
        transfer("W2", "2020-04", "C", "400.00", "ABC", "6228002", "钱二"),      # still -100: not back
        transfer("N1", "2020-03", "C", "9000.00", "CCB", "6217003", "李四"),     # new customer, own name: opened
        transfer("N2", "2020-03", "C", "9000.00", "BOC", "6013004", "王五"),     # own name, but opened before 2020-02
        transfer("N3", "2020-04", "C", "9000.00", "BOC", "6013004", "王五"),     # opened after, but another name
        transfer("N3", "2020-04", "C", "9000.00", "BOC", None, "赵六"),          # no account number: no key
        transfer("N3", "2020-04", "C", "9000.00", "PSBC", "6013004", "赵六"),    # inside the postal bank
        (*transfer("N3", "2020-04", "C", "1.00", "BOC", "6013004", "赵六")[:2], "INTEREST",
         *transfer("N3", "2020-04", "C", "1.00", "BOC", "6013004", "赵六")[3:]),   # not a transfer
    ], "cust_id string, stat_month string, txn_code string, dr_cr_flag string, txn_amt decimal(18,2), "
       "cpty_bank_code string, cpty_acct_no string, cpty_name string")
    customers = spark.createDataFrame([
        ("N1", "李四", "2020-03-10"), ("N2", "王五", "2020-01-15"), ("N3", "赵六", "2020-04-02"),
        ("W1", "顾一", "2010-01-01"), ("W2", "钱二", "2010-01-01"),
    ], "cust_id string, cust_name string, open_dt string").selectExpr("cust_id", "cust_name", "to_date(open_dt) open_dt")
    scores = spark.createDataFrame([("S1", True, "2020-01"), ("S2", True, "2020-01"), ("S3", False, "2020-01"),
                                    ("S4", False, "2020-01")], "cust_id string, flagged boolean, stat_month string")
    labels = spark.createDataFrame([("S1", 1), ("S2", 0), ("S3", 1), ("S4", 0)], "cust_id string, label int")

    entities = follow.listed(external, internal, critical)
    got = follow.prospect_outcomes(entities, M, aum, follow.external_transfers(ledger), customers).unionByName(
        follow.warning_outcomes(scores, labels, M))
    expected = spark.createDataFrame([
        ("2020-01", 3, "EXTERNAL", "SOLO", s1, "W1", True, "2020-03", M),
        ("2020-02", 2, "EXTERNAL", "SOLO", s2, "W2", False, None, M),
        ("2020-01", 3, "EXTERNAL", "MULTILATERAL", m1, None, True, "2020-03", M),
        ("2020-02", 2, "EXTERNAL", "MULTILATERAL", m1, None, True, "2020-03", M),
        ("2020-02", 2, "EXTERNAL", "MULTILATERAL", m2, None, False, None, M),
        ("2020-01", 3, "INTERNAL", None, "P1", None, True, "2020-04", M),
        ("2020-02", 2, "INTERNAL", None, "P2", None, False, None, M),
        ("2020-02", 2, "CRITICAL", None, "C1", None, True, "2020-03", M),
        ("2020-01", 3, "WARNING", "FLAGGED", "S1", None, True, M, M),
        ("2020-01", 3, "WARNING", "FLAGGED", "S2", None, False, None, M),
        ("2020-01", 3, "WARNING", "NOT_FLAGGED", "S3", None, True, M, M),
        ("2020-01", 3, "WARNING", "NOT_FLAGGED", "S4", None, False, None, M),
    ], OUT)
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True)

    rates = [tuple(r) for r in figures.outcome_rates(expected).collect()]
    assert rates == [
        ("EXTERNAL", "MULTILATERAL", "2020-01", 3, 1, 1, 1.0), ("EXTERNAL", "MULTILATERAL", "2020-02", 2, 2, 1, 0.5),
        ("EXTERNAL", "SOLO", "2020-01", 3, 1, 1, 1.0), ("EXTERNAL", "SOLO", "2020-02", 2, 1, 0, 0.0),
        ("INTERNAL", None, "2020-01", 3, 1, 1, 1.0), ("INTERNAL", None, "2020-02", 2, 1, 0, 0.0),
        ("CRITICAL", None, "2020-02", 2, 1, 1, 1.0),
        ("WARNING", "FLAGGED", "2020-01", 3, 2, 1, 0.5), ("WARNING", "NOT_FLAGGED", "2020-01", 3, 2, 1, 0.5)]


def test_the_stage_on_the_refreshed_province_equals_pandas(spark, conf, refreshed):
    """run_outcome of the month after the refresh follows its lists (the horizon set to 1 so
    its warning list is followed too); every row recomputed in pandas from the tables."""
    conf = dataclasses.replace(conf, database="ret", retention=dataclasses.replace(conf.retention, horizon=1))
    month = "2019-12"
    note = run_outcome(spark, conf, month, get_logger("outcome"))
    assert note == (f"followed prospect_external {REFRESH_MONTH}, prospect_internal {REFRESH_MONTH}, prospect_critical "
                    f"{REFRESH_MONTH}, churn_scores {REFRESH_MONTH}; not there: prospect_external 2019-09, "
                    "prospect_external 2019-10, prospect_internal 2019-09, prospect_internal 2019-10, "
                    "prospect_critical 2019-09, prospect_critical 2019-10")

    def frame(table, month_, *columns):
        return read_months(spark, table, [month_]).select(*columns).toPandas()
    aum11 = frame("ret.customer_month_aum", REFRESH_MONTH, "cust_id", "tier", "aum_3m").set_index("cust_id")
    aum12 = frame("ret.customer_month_aum", month, "cust_id", "tier", "aum_month_avg").set_index("cust_id")
    people = frame("ret_silver.t01_indpty_id", month, "cust_id", "cust_name", "open_dt").set_index("cust_id")
    ledger = read_months(spark, "ret_silver.jnl_acc_chg", [month]).filter(
        "txn_code IN ('TRANSFER_IN', 'TRANSFER_OUT') AND cpty_bank_code <> 'PSBC' AND cpty_acct_no IS NOT NULL").select(
        "cust_id", "dr_cr_flag", "txn_amt", "cpty_bank_code", "cpty_acct_no", "cpty_name").toPandas()
    ledger["cpty_key"] = [key(b, a) for b, a in zip(ledger.cpty_bank_code, ledger.cpty_acct_no)]
    ledger["net_in"] = [a if f == "C" else -a for f, a in zip(ledger.dr_cr_flag, ledger.txn_amt)]
    new = people[people.open_dt.astype(str).str[:7] == month]
    opened = {k for c, k, n in zip(ledger.cust_id, ledger.cpty_key, ledger.cpty_name)
              if c in new.index and n is not None and n.strip() == new.cust_name[c].strip()}
    back = ledger.groupby(["cust_id", "cpty_key"]).net_in.sum()
    wealthy = set(aum12.index[aum12.tier != "NONE"])
    rank = {t: i for i, t in enumerate(("NONE", "PLATINUM", "DIAMOND", "PRIVATE"))}
    rows = []
    ext = frame("ret.prospect_external", REFRESH_MONTH, "mode", "cpty_key", "wealth_cust_id")
    for mode, k, w in ext.drop_duplicates().itertuples(index=False):
        if mode == "SOLO":
            rows.append(("EXTERNAL", mode, k, w, bool(back.get((w, k), Decimal(0)) > 0)))
        else:
            rows.append(("EXTERNAL", mode, k, None, k in opened))
    for c in set(frame("ret.prospect_internal", REFRESH_MONTH, "cpty_cust_id").cpty_cust_id):
        rows.append(("INTERNAL", None, c, None, c in wealthy))
    for c in frame("ret.prospect_critical", REFRESH_MONTH, "cust_id").cust_id:
        rows.append(("CRITICAL", None, c, None, c in wealthy))
    share = Decimal(str(conf.retention.drop_share))
    for c, flagged in frame("ret.churn_scores", REFRESH_MONTH, "cust_id", "flagged").itertuples(index=False):
        tier_after = aum12.tier.get(c, "NONE")
        later = aum12.aum_month_avg.get(c, Decimal(0))
        churned = rank[tier_after] < rank[aum11.tier[c]] or later <= share * aum11.aum_3m[c]
        rows.append(("WARNING", "FLAGGED" if flagged else "NOT_FLAGGED", c, None, churned))
    rows = list(dict.fromkeys(rows))    # a MULTILATERAL prospect linked to several wealth customers: once
    expected = spark.createDataFrame(
        [(REFRESH_MONTH, 1, n, m, k, w, o, month if o else None, month) for n, m, k, w, o in rows], OUT)
    got = read_months(spark, "ret.prospect_outcome", [month])
    assert_df_equality(got, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)
    assert got.filter("outcome AND list_name <> 'WARNING'").count() > 0 and got.filter("outcome").count() > 0
    assert got.filter("list_name = 'WARNING' AND mode = 'FLAGGED'").count() > 0

    section = _outcomes(spark, conf, month)
    counts = pd.DataFrame(rows, columns=["list_name", "mode", "key", "w", "outcome"]).groupby(
        ["list_name", "mode"], dropna=False).outcome.agg(["size", "sum"])
    for (name, mode), (size, converted) in counts.iterrows():
        assert f"<td>{name}</td>" in section and f"{size:,}" in section and f"{converted:,}" in section
