"""Which rules each source table is checked against, in priority order.

null_key -> unparseable -> bad_code -> bad_value / bad_amount -> unknown_* ->
duplicate_key (-> balance_break for the ledger). A row is counted under the first rule
it breaks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F

from lib import schemas as S
from lib.config import Quality

Check = Callable[[Quality], Column]

# Where a reference points: (source table, its key column).
REFERENCES = {"org": ("ORG_DIM", "ORG_ID"), "customer": ("T01_INDPTY_ID", "CUST_ID"),
              "account": ("T03_AGREEMENT", "AGMT_ID")}
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


@dataclass(frozen=True)
class TableRules:
    table: str
    keys: tuple[str, ...]
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    checks: tuple[tuple[str, Check], ...] = ()
    refs: tuple[tuple[str, str], ...] = ()       # (column, REFERENCES key)
    unique: tuple[str, ...] = ()
    formats: dict[str, str] = field(default_factory=dict)   # string columns: regex to match
    balance_chain: bool = False

    @property
    def rules(self) -> list[str]:
        names = ["null_key", "unparseable"] + (["bad_code"] if self.codes else [])
        names += list(dict.fromkeys(rule for rule, _ in self.checks))
        names += [f"unknown_{ref}" for _, ref in self.refs]
        names += ["duplicate_key"] if self.unique else []
        return names + (["balance_break"] if self.balance_chain else [])


def _money_out_of_range(*cols: str) -> Check:
    def check(q: Quality) -> Column:
        out = F.lit(False)
        for c in cols:
            out = out | (F.col(c) < 0) | (F.col(c) > F.lit(q.max_amount))
        return out
    return check


def _ends_before_start(start: str, end: str) -> Check:
    return lambda q: F.col(end) < F.col(start)


TABLE_RULES: dict[str, TableRules] = {
    "ORG_DIM": TableRules("ORG_DIM", keys=("ORG_ID",), unique=("ORG_ID",)),
    "T01_INDPTY_ID": TableRules(
        "T01_INDPTY_ID", keys=("CUST_ID",),
        codes={"GENDER": S.GENDERS},
        checks=(("bad_value", lambda q: ~F.col("CUST_ID").rlike(r"^\d{10}$")),
                ("bad_value", lambda q: F.length("ID_NO") != 18),
                ("bad_value", lambda q: F.col("BIRTH_DT") < F.lit("1900-01-01").cast("date"))),
        refs=(("OPEN_ORG_ID", "org"),), unique=("CUST_ID",)),
    "T03_AGREEMENT": TableRules(
        "T03_AGREEMENT", keys=("AGMT_ID", "CUST_ID", "PROD_TYPE"),
        codes={"PROD_TYPE": S.ALL_PRODUCTS, "STATUS": S.AGREEMENT_STATUSES},
        checks=(("bad_value", _ends_before_start("OPEN_DT", "CLOSE_DT")),),
        refs=(("CUST_ID", "customer"),), unique=("AGMT_ID",)),
    "TCS_INDPTY_AGMT_RELATION_H": TableRules(
        "TCS_INDPTY_AGMT_RELATION_H", keys=("CUST_ID", "AGMT_ID", "START_DT"),
        codes={"REL_TYPE": S.RELATION_TYPES},
        checks=(("bad_value", _ends_before_start("START_DT", "END_DT")),),
        refs=(("CUST_ID", "customer"), ("AGMT_ID", "account")),
        unique=("CUST_ID", "AGMT_ID", "REL_TYPE", "START_DT")),
    "T98_INDPTY_PROD_STAT": TableRules(
        "T98_INDPTY_PROD_STAT", keys=("STAT_MONTH", "CUST_ID", "PROD_TYPE"),
        codes={"PROD_TYPE": S.HOLDING_PRODUCTS},
        checks=(("bad_amount", _money_out_of_range("MONTH_AVG_BAL", "MONTH_END_BAL")),
                ("bad_value", lambda q: F.col("HOLD_CNT") < 0)),
        refs=(("CUST_ID", "customer"),), unique=("STAT_MONTH", "CUST_ID", "PROD_TYPE"),
        formats={"STAT_MONTH": MONTH_PATTERN}),
    "JNL_ACC_CHG": TableRules(
        "JNL_ACC_CHG", keys=("TXN_ID", "TXN_DT", "TXN_SEQ", "AGMT_ID", "CUST_ID", "DR_CR_FLAG",
                             "TXN_AMT", "BAL_AFTER"),
        codes={"DR_CR_FLAG": S.DR_CR_FLAGS, "TXN_CODE": S.TXN_CODES, "CHANNEL": S.CHANNELS},
        checks=(("bad_amount", _money_out_of_range("TXN_AMT", "BAL_AFTER")),),
        refs=(("AGMT_ID", "account"), ("CUST_ID", "customer")),
        unique=("TXN_ID",), balance_chain=True),
}


def month_of(table: str, run_month: str) -> Column:
    """The month a row belongs to: the run's month for dimension snapshots, the statistics
    month for T98, the posting date (or, if unreadable, the posting time) for the ledger.
    Null when it cannot be read: such rows are quarantined under stat_month UNDATED."""
    if table == "T98_INDPTY_PROD_STAT":
        return F.when(F.col("STAT_MONTH").rlike(MONTH_PATTERN), F.col("STAT_MONTH"))
    if table == "JNL_ACC_CHG":
        return F.date_format(F.coalesce(F.col("TXN_DT"), F.to_date(F.col("TXN_TS"))), "yyyy-MM")
    return F.lit(run_month)
