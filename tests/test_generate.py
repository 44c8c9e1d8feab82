"""The synthetic province: deterministic, on contract, consistent ledger, planted truth.

The checks are independent of the generator's code: pandas walks every account's records,
Python recomputes the ID check digit."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest

from lib.schemas import SOURCE_TABLES
from lib.synth import province
from lib.synth.province import WEALTH_SEGMENTS, GenParams

PARAMS = GenParams(customers=1500, months=6, start_month="2019-01", seed=11)


@pytest.fixture(scope="module")
def generated(spark):
    return province(spark, PARAMS)


@pytest.fixture(scope="module")
def frames(generated):
    tables, truth = generated
    wanted = ("T01_INDPTY_ID", "T03_AGREEMENT", "JNL_ACC_CHG")
    return {**{t: tables[t].toPandas() for t in wanted},
            "truth": truth["customers"].toPandas(), "hubs": truth["external_hubs"].toPandas(),
            "own": truth["own_accounts"].toPandas()}


def test_same_seed_same_tables_other_seed_other_tables(spark, generated):
    again, _ = province(spark, PARAMS)
    other, _ = province(spark, GenParams(customers=1500, months=6, seed=12))
    for name, df in generated[0].items():
        assert df.exceptAll(again[name]).count() == 0 and again[name].exceptAll(df).count() == 0, name
    assert generated[0]["JNL_ACC_CHG"].exceptAll(other["JNL_ACC_CHG"]).count() > 0


def test_schemas_are_the_contract(generated):
    for name, df in generated[0].items():
        assert [(f.name, f.dataType) for f in df.schema] == [(f.name, f.dataType) for f in SOURCE_TABLES[name]]


def test_every_account_balance_follows_from_its_records(frames):
    led = frames["JNL_ACC_CHG"].sort_values(["AGMT_ID", "TXN_SEQ"])
    assert led["TXN_ID"].is_unique
    assert (led["TXN_AMT"] >= 0).all() and (led["BAL_AFTER"] >= 0).all()
    assert led["TXN_DT"].between(date(2019, 1, 1), date(2019, 6, 30)).all()
    breaks = 0
    for _, acct in led.groupby("AGMT_ID"):
        assert acct["TXN_SEQ"].is_monotonic_increasing and acct["TXN_SEQ"].is_unique
        first = acct.iloc[0]
        if first.TXN_CODE == "OPENING_BALANCE":
            assert first.TXN_DT == date(2019, 1, 1) and first.TXN_AMT == Decimal("0.00")
        else:
            assert first.TXN_CODE == "OPEN" and first.BAL_AFTER == first.TXN_AMT
        prev = acct["BAL_AFTER"].iloc[:-1].to_numpy()
        rest = acct.iloc[1:]
        signed = [a if f == "C" else -a for a, f in zip(rest.TXN_AMT, rest.DR_CR_FLAG)]
        breaks += sum(b != p + s for b, p, s in zip(rest.BAL_AFTER, prev, signed))
        if acct.iloc[-1].TXN_CODE == "CLOSE":
            assert acct.iloc[-1].BAL_AFTER == Decimal("0.00")
    assert breaks == 0


def test_accounts_open_at_the_start_have_one_opening_balance(frames):
    agmt, led = frames["T03_AGREEMENT"], frames["JNL_ACC_CHG"]
    deposits = agmt[agmt.PROD_TYPE.isin(["DEMAND_DEPOSIT", "TIME_DEPOSIT", "LARGE_CD", "AGREEMENT_DEPOSIT"])]
    open_at_start = set(deposits[deposits.OPEN_DT < date(2019, 1, 1)].AGMT_ID)
    opening = led[led.TXN_CODE == "OPENING_BALANCE"]
    assert opening["AGMT_ID"].is_unique and set(opening.AGMT_ID) == open_at_start


def test_id_numbers_carry_birth_date_and_valid_check_digit(frames):
    weights, check = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2), "10X98765432"
    for row in frames["T01_INDPTY_ID"].itertuples():
        assert len(row.ID_NO) == 18 and row.ID_NO[6:14] == row.BIRTH_DT.strftime("%Y%m%d")
        assert row.ID_NO[17] == check[sum(int(c) * w for c, w in zip(row.ID_NO[:17], weights)) % 11]
        assert int(row.ID_NO[16]) % 2 == (1 if row.GENDER == "M" else 0)


def test_planted_segments_present_and_wealth_is_a_few_percent(frames):
    truth = frames["truth"]
    assert set(truth.segment) >= {*WEALTH_SEGMENTS, "CRITICAL", "HUB", "MASS"}
    assert 0.01 <= truth.segment.isin(WEALTH_SEGMENTS).mean() <= 0.10


def test_churners_drain_to_own_accounts_at_other_banks(frames):
    led, cust, truth = frames["JNL_ACC_CHG"], frames["T01_INDPTY_ID"], frames["truth"]
    churners = truth[truth.segment == "CHURNER"]
    names = cust.set_index("CUST_ID")["CUST_NAME"]
    out = led[(led.DR_CR_FLAG == "D") & (led.CPTY_BANK_CODE.notna()) & (led.CPTY_BANK_CODE != "PSBC")]
    own = out[out.CPTY_NAME == out.CUST_ID.map(names)]
    month = pd.to_datetime(own.TXN_DT).dt.strftime("%Y-%m")
    drained = own.assign(month=month).merge(churners, left_on="CUST_ID", right_on="cust_id")
    # every churner moves money to its own name at another bank in or after its churn month
    late = drained[drained.month >= drained.churn_month]
    assert set(late.cust_id) == set(churners.cust_id)
    # and its deposits at month end collapse: last balance of the window vs the first
    dep = led.sort_values("TXN_SEQ").groupby("AGMT_ID").agg(cust=("CUST_ID", "first"),
                                                            first=("BAL_AFTER", "first"), last=("BAL_AFTER", "last"))
    per_cust = dep.groupby("cust")[["first", "last"]].sum()
    ratio = (per_cust["last"] / per_cust["first"]).astype(float)
    assert ratio.reindex(churners.cust_id).median() < 0.2
    assert ratio.reindex(truth[truth.segment == "WEALTH_STABLE"].cust_id).median() > 0.7


def test_planted_outflows_go_to_own_accounts_at_other_banks(frames):
    led, own, truth = frames["JNL_ACC_CHG"], frames["own"], frames["truth"]
    planted = own[own.own_outflow]
    assert set(planted.cust_id) == set(truth[truth.own_outflow].cust_id) <= set(truth[truth.segment == "WEALTH_STABLE"].cust_id)
    assert len(planted) >= 3
    # every debit of theirs but a closing one is a transfer to their own account at another bank
    debits = led[led.CUST_ID.isin(planted.cust_id) & (led.DR_CR_FLAG == "D") & (led.TXN_CODE != "CLOSE")]
    to_own = debits.merge(own, left_on=["CUST_ID", "CPTY_BANK_CODE", "CPTY_ACCT_NO"],
                          right_on=["cust_id", "cpty_bank_code", "cpty_acct_no"])
    assert len(debits) > 50 and len(to_own) == len(debits) and (to_own.CPTY_BANK_CODE != "PSBC").all()
    # so more leaves for their own accounts than comes back: a net outflow over the six months
    mine = led.merge(own, left_on=["CUST_ID", "CPTY_BANK_CODE", "CPTY_ACCT_NO"],
                     right_on=["cust_id", "cpty_bank_code", "cpty_acct_no"])
    net = mine.TXN_AMT.where(mine.DR_CR_FLAG == "D", -mine.TXN_AMT).groupby(mine.CUST_ID).sum()
    assert (net.reindex(planted.cust_id) > 0).all()


def test_prospect_hubs_link_several_wealth_customers(frames):
    led, truth, hubs = frames["JNL_ACC_CHG"], frames["truth"], frames["hubs"]
    wealthy = set(truth[truth.segment.isin(WEALTH_SEGMENTS)].cust_id)
    transfers = led[led.TXN_CODE.str.startswith("TRANSFER") & led.CUST_ID.isin(wealthy)]
    internal = transfers[transfers.CPTY_CUST_ID.isin(set(truth[truth.segment == "HUB"].cust_id))]
    assert internal.groupby("CPTY_CUST_ID").CUST_ID.nunique().max() >= 3
    external = transfers.merge(hubs, left_on=["CPTY_BANK_CODE", "CPTY_ACCT_NO"],
                               right_on=["cpty_bank_code", "cpty_acct_no"])
    assert external.groupby("hub").CUST_ID.nunique().min() >= 3
    # a postal counterparty carries that customer's own name
    names = frames["T01_INDPTY_ID"].set_index("CUST_ID")["CUST_NAME"]
    postal = led[led.CPTY_CUST_ID.notna()]
    assert (postal.CPTY_NAME == postal.CPTY_CUST_ID.map(names)).all()


def test_product_affinities(frames):
    t = frames["truth"]
    mobile_given_fund = t[t.has_fund].has_mobile_banking.mean()
    mobile_otherwise = t[~t.has_fund].has_mobile_banking.mean()
    agreement_given_cd = t[t.has_large_cd].has_agreement_deposit.mean()
    agreement_otherwise = t[~t.has_large_cd].has_agreement_deposit.mean()
    assert mobile_given_fund > 0.8 > 0.6 > mobile_otherwise
    assert agreement_given_cd > 0.5 > 0.1 > agreement_otherwise
