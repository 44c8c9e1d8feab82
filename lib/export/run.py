"""The export stage: the month's marketing lists as files a branch can work, under
<warehouse>/_exports/<db>/<M>/<city>/: <branch>.xlsx (a sheet per list) with a CSV per list
beside it (<branch>.<list>.csv), and summary.xlsx / summary.csv, what each branch got and
how many were cut by export.capacity. A list whose table has no rows for the month (its
stage was skipped) is named in the summary as not produced. The month's folder is
replaced whole: written aside, then moved into place."""
from __future__ import annotations

import pandas as pd
from pyspark.sql import SparkSession

from lib.config import Config, absolute
from lib.export.lists import BRANCH, LISTS, branch_counts, capped, placed
from lib.export.workbooks import csv, workbook
from lib.io import delete_path, month_or_none, move, write_bytes
from lib.logs import stage

SUMMARY_HEADERS = {"city_name": "城市 / city", "org_id": "网点号 / branch", "org_name": "网点 / branch name",
                   "list": "名单 / list", "entities": "名单人数 / listed", "kept": "下发 / sent",
                   "cut": "超出容量未下发 / cut by capacity"}
NOT_PRODUCED = "本月未生成 / not produced this month"


def export_dir(conf: Config, month: str) -> str:
    return f"{absolute(conf.paths.warehouse)}/_exports/{conf.database}/{month}"


def run_export(spark: SparkSession, conf: Config, month: str, log) -> str | None:
    """Write the month's files; a note naming the lists not produced, if any."""
    root = export_dir(conf, month)
    aside = f"{root}.writing"
    delete_path(spark, aside)
    sheets, counts, missing = {}, [], []
    for lst in LISTS:
        rows = month_or_none(spark, conf.table(lst.spec.name), month)
        if rows is None:
            missing.append(lst.name)
            continue
        with stage(log, f"export {lst.name} {month}") as st:
            ranked = placed(rows, lst).localCheckpoint()
            sheets[lst.name] = capped(ranked, lst, conf.export.capacity).toPandas()   # bounded: capacity x branches
            counts.append(branch_counts(ranked, lst, conf.export.capacity).toPandas())   # bounded: branches
            st.rows_out = len(sheets[lst.name])
    summary = pd.concat(counts, ignore_index=True) if counts else pd.DataFrame(columns=list(SUMMARY_HEADERS))
    with stage(log, f"export files {month}") as st:
        by_branch = {name: dict(iter(frame.drop(columns=list(BRANCH)).groupby([frame.city_name, frame.org_id])))
                     for name, frame in sheets.items()}
        pairs = list(summary.groupby(list(BRANCH)).groups)
        for city, org in pairs:
            mine = {name: groups[(city, org)] for name, groups in by_branch.items() if (city, org) in groups}
            write_bytes(spark, f"{aside}/{city}/{org}.xlsx", workbook(mine))
            for name, frame in mine.items():
                write_bytes(spark, f"{aside}/{city}/{org}.{name}.csv", csv(frame))
        for city, branches in summary.groupby("city_name"):
            absent = pd.DataFrame({"city_name": city, "list": missing, "org_name": NOT_PRODUCED})
            table = (pd.concat([branches, absent], ignore_index=True) if missing else branches).astype(
                {"entities": "Int64", "kept": "Int64", "cut": "Int64"}).rename(columns=SUMMARY_HEADERS)
            write_bytes(spark, f"{aside}/{city}/summary.xlsx", workbook({"summary": table}))
            write_bytes(spark, f"{aside}/{city}/summary.csv", csv(table))
        st.rows_out = len(pairs)
        delete_path(spark, root)
        move(spark, aside, root)
    return f"not produced: {', '.join(missing)}" if missing else None
