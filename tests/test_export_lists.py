"""A branch's list capped at its capacity, on hand-made rows: which customers it keeps,
in which order, and the counts its city's summary shows."""
from __future__ import annotations

from pathlib import Path

from lib.export.lists import LISTS, branch_counts, capped, placed


def test_capacity_keeps_each_branchs_first_customers_by_score_hand_counted(spark):
    warning = LISTS[0]
    # branch A: 4 flagged customers (c1 0.9, c2 0.8, c3 0.8, c4 0.5) and one not flagged; branch B: one; one
    # customer without a branch (listed under UNKNOWN)
    rows = [("c1", 0.9, True, "A"), ("c2", 0.8, True, "A"), ("c3", 0.8, True, "A"), ("c4", 0.5, True, "A"),
            ("c5", 0.95, False, "A"), ("c6", 0.6, True, "B"), ("c7", 0.7, True, None)]
    frame = spark.createDataFrame([(c, p, f, "某", "4101**1234", "PLATINUM", 1000.0, ["x", "y"], o, f"{o} 网点",
                                    "县", "郑州市") for c, p, f, o in rows],
                                  "cust_id string, churn_prob double, flagged boolean, masked_name string, "
                                  "masked_id_no string, tier string, aum_month_avg double, reasons array<string>, "
                                  "org_id string, org_name string, county_name string, city_name string")
    ranked = placed(frame, warning)
    got = [tuple(r) for r in capped(ranked, warning, 2).select("org_id", "客户号 / customer", "主要原因 / main reasons")
           .collect()]
    # A keeps c1 and then c2 (tied with c3 at 0.8: by customer number); c5 is not flagged
    assert got == [("A", "c1", "x; y"), ("A", "c2", "x; y"), ("B", "c6", "x; y"), ("UNKNOWN", "c7", "x; y")]
    counts = {r.org_id: (r.entities, r.kept, r.cut) for r in branch_counts(ranked, warning, 2).collect()}
    assert counts == {"A": (4, 2, 2), "B": (1, 1, 0), "UNKNOWN": (1, 1, 0)}


def test_files_of_a_month_whose_other_lists_were_not_produced(spark, conf, tmp_path):
    import dataclasses
    from decimal import Decimal

    import pandas as pd

    from lib.config import ExportConf
    from lib.export.run import NOT_PRODUCED, export_dir, run_export
    from lib.io import replace_months
    from lib.logs import get_logger
    from lib.tables import CHURN_SCORES

    conf = dataclasses.replace(conf, database="exp", export=ExportConf(capacity=1))
    rows = [(f"c{i}", p, True, ["fall"], "2019-02", "PLATINUM", Decimal("600000.00"), "张某", "4101********1234", o,
             f"{o} 网点", "县", "郑州市", "2019-05") for i, (p, o) in enumerate([(0.7, "A"), (0.9, "A"), (0.6, "B")])]
    replace_months(spark, spark.createDataFrame(rows, ", ".join(f"{n} {t}" for n, t, _ in CHURN_SCORES.columns)),
                   "exp", CHURN_SCORES, ["2019-05"])
    note = run_export(spark, conf, "2019-05", get_logger("export"))
    assert note == "not produced: recommendations, external_prospects, internal_prospects, critical_customers"
    city = Path(export_dir(conf, "2019-05")) / "郑州市"
    files = sorted(p.name for p in city.iterdir())
    assert files == ["A.warning.csv", "A.xlsx", "B.warning.csv", "B.xlsx", "summary.csv", "summary.xlsx"]
    a = pd.read_excel(city / "A.xlsx", sheet_name=None)
    assert list(a) == ["warning"] and list(a["warning"]["客户号 / customer"]) == ["c1"]        # 0.9 first, one kept
    summary = pd.read_csv(city / "summary.csv", encoding="utf-8-sig", dtype=str).fillna("")
    assert summary.values.tolist() == [
        ["郑州市", "A", "A 网点", "warning", "2", "1", "1"], ["郑州市", "B", "B 网点", "warning", "1", "1", "0"],
        *[["郑州市", "", NOT_PRODUCED, name, "", "", ""] for name in
          ("recommendations", "external_prospects", "internal_prospects", "critical_customers")]]
