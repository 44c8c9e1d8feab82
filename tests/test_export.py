"""The branches' lists (jobs/export.py, the monthly refresh's last stage) of the refreshed
province: per branch, its first export.capacity entities of each list in the list's
order, computed again here with pandas from the gold tables; the cut counted in each
city's summary; a CSV beside each sheet with the same rows; no clear name, ID or account
number in any file."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from lib.export.lists import LISTS, UNKNOWN
from lib.export.run import export_dir
from tests.conftest import REFRESH_MONTH as MONTH
from tests.conftest import refreshed_of_month as of_month
from tests.privacy import personal_values

pytestmark = pytest.mark.integration     # end to end: see tests/conftest.py

KEEP = {"warning": lambda f: f[f.flagged], "recommendations": lambda f: f[f.method == "PEARSON_UCF"]}


def expected(spark, lst) -> dict[tuple[str, str], list[str]]:
    """(city, branch) -> the list's entities in the branch, in order: each entity at its
    best row (the list's order), entities by that row, ties by the entity."""
    rows = of_month(spark, lst.spec.name).toPandas()
    rows = KEEP.get(lst.name, lambda f: f)(rows).fillna({"city_name": UNKNOWN, "org_id": UNKNOWN})
    by = [c.lstrip("-") for c in lst.order] + [lst.entity]
    ascending = [not c.startswith("-") for c in lst.order] + [True]
    ordered = rows.sort_values(by, ascending=ascending, kind="stable").drop_duplicates(["city_name", "org_id", lst.entity])
    return {key: list(group[lst.entity]) for key, group in ordered.groupby(["city_name", "org_id"])}


def test_each_branch_gets_its_first_entities_of_every_list_and_the_city_summary_counts_the_cut(spark, conf,
                                                                                              refreshed):
    folder = Path(export_dir(dataclasses.replace(conf, database="ret"), MONTH))
    capacity, cut_somewhere = conf.export.capacity, False
    for lst in LISTS:
        header = dict(lst.columns)[lst.entity]
        want = expected(spark, lst)
        assert want, lst.name
        for (city, org), entities in want.items():
            sheet = pd.read_excel(folder / city / f"{org}.xlsx", sheet_name=lst.name, dtype=str)
            assert list(dict.fromkeys(sheet[header])) == entities[:capacity], (lst.name, city, org)
            beside = pd.read_csv(folder / city / f"{org}.{lst.name}.csv", encoding="utf-8-sig", dtype=str)
            assert list(beside.columns) == list(sheet.columns) and list(beside[header]) == list(sheet[header])
            summary = pd.read_csv(folder / city / "summary.csv", encoding="utf-8-sig", dtype={"网点号 / branch": str})
            row = summary[(summary["网点号 / branch"] == org) & (summary["名单 / list"] == lst.name)].iloc[0]
            assert (row["名单人数 / listed"], row["下发 / sent"], row["超出容量未下发 / cut by capacity"]) == (
                len(entities), min(len(entities), capacity), max(len(entities) - capacity, 0))
            cut_somewhere |= len(entities) > capacity
    assert cut_somewhere                          # the test province has branches over the capacity
    # the lists show masked names and IDs only
    ids, names, accounts = personal_values(spark, "ret")
    text = "".join(p.read_text(encoding="utf-8-sig") for p in folder.rglob("*.csv"))
    assert "某" in text and not any(v in text for v in ids | names | accounts)

