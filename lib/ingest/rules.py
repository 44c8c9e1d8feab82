"""Which rules each source table is checked against, in priority order.

Row rules withhold the row (quarantined): undated -> null_key -> unparseable -> bad_code ->
bad_value / bad_amount -> unknown_* -> account_not_owned -> duplicate_key (-> seq_disorder
-> balance_break for the ledger). A row is counted under the first rule it breaks.

Attribute rules keep the row: a bad value of a column that is not part of the row's key
(a gender, a birth date, a branch) is set to null in silver and the row is counted under
the attribute's rule, so one bad attribute never makes a customer or an account unknown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from pyspark.sql import Column
from pyspark.sql import functions as F

from lib import schemas as S
from lib.config import Quality
from lib.months import MONTH_PATTERN, month_text

Check = Callable[[Quality], Column]

# Where a reference points: (source table, its key column).
CUST_ID_PATTERN = r"^\d{10}$"          # a customer number
REFERENCES = {"org": ("ORG_DIM", "ORG_ID"), "customer": ("T01_INDPTY_ID", "CUST_ID"),
              "account": ("T03_AGREEMENT", "AGMT_ID")}


@dataclass(frozen=True)
class Attribute:
    """A non-key column whose bad value (unparseable, not among `codes`, `check` true, or
    not found in the `ref` table) is set to null, the row kept and counted under `rule`."""
    column: str
    rule: str
    codes: tuple[str, ...] = ()
    check: Check | None = None
    ref: str | None = None              # a REFERENCES key


@dataclass(frozen=True)
class TableRules:
    table: str
    keys: tuple[str, ...]
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    checks: tuple[tuple[str, Check], ...] = ()
    refs: tuple[tuple[str, str], ...] = ()       # (column, REFERENCES key)
    unique: tuple[str, ...] = ()
    attributes: tuple[Attribute, ...] = ()
    datable: bool = False                 # rows carry their own month, which may be unreadable
    ledger: bool = False                  # account ownership, TXN_SEQ order and the BAL_AFTER chain

    @property
    def row_rules(self) -> list[str]:
        names = (["undated"] if self.datable else []) + ["null_key", "unparseable"]
        names += ["bad_code"] if self.codes else []
        names += list(dict.fromkeys(rule for rule, _ in self.checks))
        names += [f"unknown_{ref}" for _, ref in self.refs]
        names += ["account_not_owned"] if self.ledger else []
        names += ["duplicate_key"] if self.unique else []
        return names + (["seq_disorder", "balance_break"] if self.ledger else [])

    @property
    def attribute_rules(self) -> list[str]:
        return list(dict.fromkeys(a.rule for a in self.attributes))

    @property
    def rules(self) -> list[str]:
        return self.row_rules + self.attribute_rules


def _money_out_of_range(*cols: str) -> Check:
    def check(q: Quality) -> Column:
        out = F.lit(False)
        for c in cols:
            out = out | (F.col(c) < 0) | (F.col(c) > F.lit(q.max_amount))
        return out
    return check


def _ends_before_start(start: str, end: str) -> Check:
    return lambda q: F.col(end) < F.col(start)


def _before_1900(column: str) -> Check:
    return lambda q: F.col(column) < F.lit("1900-01-01").cast("date")


TABLE_RULES: dict[str, TableRules] = {
    "ORG_DIM": TableRules("ORG_DIM", keys=("ORG_ID",), unique=("ORG_ID",)),
    "T01_INDPTY_ID": TableRules(
        "T01_INDPTY_ID", keys=("CUST_ID",),
        checks=(("bad_value", lambda q: ~F.col("CUST_ID").rlike(CUST_ID_PATTERN)),),
        unique=("CUST_ID",),
        attributes=(Attribute("ID_NO", "bad_id_no", check=lambda q: F.length("ID_NO") != 18),
                    Attribute("GENDER", "bad_gender", codes=S.GENDERS),
                    Attribute("BIRTH_DT", "bad_birth_dt", check=_before_1900("BIRTH_DT")),
                    Attribute("OPEN_ORG_ID", "unknown_org", ref="org"),
                    Attribute("OPEN_DT", "bad_open_dt"))),
    "T03_AGREEMENT": TableRules(
        "T03_AGREEMENT", keys=("AGMT_ID", "CUST_ID", "PROD_TYPE"),
        codes={"PROD_TYPE": S.ALL_PRODUCTS},
        refs=(("CUST_ID", "customer"),), unique=("AGMT_ID",),
        attributes=(Attribute("OPEN_DT", "bad_open_dt"),
                    Attribute("CLOSE_DT", "bad_close_dt", check=_ends_before_start("OPEN_DT", "CLOSE_DT")),
                    Attribute("STATUS", "bad_status", codes=S.AGREEMENT_STATUSES))),
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
        datable=True),
    "JNL_ACC_CHG": TableRules(
        "JNL_ACC_CHG", keys=("TXN_ID", "TXN_DT", "TXN_SEQ", "AGMT_ID", "CUST_ID", "DR_CR_FLAG",
                             "TXN_AMT", "BAL_AFTER"),
        codes={"DR_CR_FLAG": S.DR_CR_FLAGS, "TXN_CODE": S.TXN_CODES},
        checks=(("bad_amount", _money_out_of_range("TXN_AMT", "BAL_AFTER")),),
        refs=(("AGMT_ID", "account"), ("CUST_ID", "customer")),
        unique=("TXN_ID",), datable=True, ledger=True,
        attributes=(Attribute("CHANNEL", "bad_channel", codes=S.CHANNELS),)),
}


def month_of(table: str, run_month: str) -> Column:
    """The month a row belongs to: the run's month for dimension snapshots, the statistics
    month for T98, the posting date (or, if unreadable, the posting time) for the ledger.
    Null when it cannot be read: such a row is quarantined as `undated`, once, under the
    first month ingested after it arrived."""
    if table == "T98_INDPTY_PROD_STAT":
        return F.when(F.col("STAT_MONTH").rlike(MONTH_PATTERN), F.col("STAT_MONTH"))
    if table == "JNL_ACC_CHG":
        return month_text(F.coalesce(F.col("TXN_DT"), F.to_date(F.col("TXN_TS"))))
    return F.lit(run_month)
