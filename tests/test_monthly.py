"""The monthly refresh of one month on the churn province: every stage in order, the run
in run_manifest, each gold table's month readable by an independent Delta reader, the
incremental AUM equal to the backfill; a failed stage stops the run, leaves the tables at
their versions, and a re-run completes it with the same results."""
from __future__ import annotations

import base64
import re
from html import escape as html_escape

import matplotlib.image
import pytest
from chispa import assert_df_equality
from deltalake import DeltaTable

from jobs import monthly
from lib import monthly as monthly_lib
from lib.io import table_version
from tests.conftest import REFRESH_MONTH as MONTH
from tests.conftest import job_args, report_folder
from tests.conftest import refreshed_of_month as of_month
from tests.privacy import personal_values, tables_with_personal_data

pytestmark = pytest.mark.integration     # end to end: see tests/conftest.py

GOLD = ("customer_month_aum", "tier_migration", "customer_tags", "tag_coverage", "product_recommendation",
        "recommender_eval", "churn_features", "churn_scores", "churn_model_metrics", "churn_champion", "data_quality",
        "counterparty_edges", "prospect_external", "prospect_internal", "prospect_critical", "acquisition_summary")


def runs(spark):
    return of_month(spark, "run_manifest").orderBy("started_at").collect()


def test_run_is_recorded_in_the_manifest(spark, refreshed):
    run = runs(spark)[-1]
    assert run.status == "SUCCEEDED" and run.failed_stage is None
    assert [s.stage for s in run.stages] == [name for name, _ in monthly_lib.STAGES]
    status = {s.stage: s for s in run.stages}
    assert status["acquisition"].note == "graph engine dataframe; transfers of 2019-03..2019-11"
    # the retention labels 2019-07 and trains out of time on 2019-08: tagged on the way
    assert status["tags"].note == "also tagged 2019-08 for the retention stage"
    assert all(status[s].status == "DONE" for s in ("ingest", "aum", "tags", "acquisition", "uplift", "retention",
                                                    "report", "export"))
    # the refresh's first month with lists: nothing of the months before to follow (recorded, not failed)
    assert (status["outcome"].status, status["outcome"].note) == (
        "SKIPPED", "nothing to follow in 2019-11: no prospect list of 2019-08..2019-10 and no churn scores of 2019-08")
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{7,}", run.code_version) and re.fullmatch(r"[0-9a-f]{16}",
                                                                                            run.conf_hash)
    assert {"jnl_acc_chg", "t01_indpty_id"} <= set(run.input_versions)
    assert set(GOLD) <= set(run.output_versions) and run.seeds["retention"] == 42


def test_every_gold_table_has_the_month_for_an_independent_reader(conf, refreshed):
    for table in GOLD:
        rows = DeltaTable(f"{conf.paths.warehouse}/ret.db/{table}").to_pandas(filters=[("stat_month", "=", MONTH)])
        assert len(rows) > 0, table


def test_incremental_aum_equals_the_backfill(spark, refreshed):
    backfilled, _, _ = refreshed
    assert_df_equality(of_month(spark, "customer_month_aum"), backfilled, ignore_row_order=True,
                       ignore_metadata=True)


def test_failed_stage_stops_the_run_and_a_rerun_completes_it(spark, conf, churn_province, refreshed, monkeypatch,
                                                            caplog):
    _, written, first_report = refreshed
    version = table_version(spark, "ret.prospect_external")   # written by a stage after aum

    def broken(*_):
        raise RuntimeError("disk full")
    monkeypatch.setattr(monthly_lib, "STAGES", tuple((n, broken if n == "aum" else f)
                                                     for n, f in monthly_lib.STAGES))
    assert monthly.main(job_args(conf, churn_province, "ret", "--month", MONTH)) == 1
    assert "stage aum failed (RuntimeError: disk full)" in caplog.text
    failed = runs(spark)[-1]
    assert (failed.status, failed.failed_stage, failed.error) == ("FAILED", "aum", "RuntimeError: disk full")
    assert [s.stage for s in failed.stages] == ["ingest", "aum"]
    assert table_version(spark, "ret.prospect_external") == version     # the run stopped at aum
    monkeypatch.undo()
    assert monthly.main(job_args(conf, churn_province, "ret", "--month", MONTH)) == 0
    assert runs(spark)[-1].status == "SUCCEEDED"
    for table, before in written.items():     # the re-run writes the same rows, the prospect lists included
        assert_df_equality(of_month(spark, table), before, ignore_row_order=True, ignore_metadata=True)
    assert (report_folder(conf) / "report.html").read_text(encoding="utf-8") == first_report
    # what the two runs logged carries no personal data
    ids, names, accounts = personal_values(spark, "ret")
    logged = caplog.text
    assert "monthly 2019-11: succeeded" in logged
    assert not [v for v in ids | names | accounts if v in logged]


def test_report_shows_the_months_figures_as_an_independent_reader_sees_them(spark, conf, refreshed):
    _, _, html = refreshed
    gold = f"{conf.paths.warehouse}/ret.db"
    month = [("stat_month", "=", MONTH)]
    tiers = DeltaTable(f"{gold}/customer_month_aum").to_pandas(filters=month).tier.value_counts()
    for tier, n in tiers.items():
        assert f'<td>{tier}</td><td class="num">{n:,}</td>' in html
    flagged = int(DeltaTable(f"{gold}/churn_scores").to_pandas(filters=month).flagged.sum())
    assert flagged > 0 and f"{flagged:,} customers flagged" in html
    auc = DeltaTable(f"{gold}/churn_model_metrics").to_pandas(filters=month).set_index("eval_set").auc
    assert f"HOLDOUT</td><td>{MONTH[:5]}" in html and f'<td class="num">{auc["HOLDOUT"]:.3f}</td>' in html
    for title in ("Wealth tiers", "Tier migration (Figure 1)", "Churn model (Figure 5, ROC and KS)",
                  "Warning list (Table 4)", "Product recommendations (Table 3)", "Acquisition (§5.3.1)",
                  "Counterparty ego graph (Figure 3)", "Internal prospects (Figure 4)", "Conversion of earlier lists",
                  "Data quality"):
        assert f"<h2>{title}</h2>" in html
    # the refresh's first month with lists has none of the months before to follow; every other section is there
    assert re.findall(r"Not available: [^<]*", html) == [
        f"Not available: no list of the months before {MONTH} to follow yet (see run_manifest)"]
    verdict = DeltaTable(f"{gold}/churn_champion").to_pandas(filters=month).iloc[0]
    assert html_escape(f"Champion / challenger: {verdict.reason}. This month's scores come from the model of "
                       f"{verdict.model_month}.") in html
    summary = DeltaTable(f"{gold}/acquisition_summary").to_pandas(filters=month).set_index("measure")
    for measure in ("solo_customers", "multilateral_counterparties", "internal_prospects", "critical_customers"):
        value, paper = summary.value[measure], int(summary.paper_value[measure])
        assert value > 0 and f'<td>{measure}</td><td class="num">{value:,}</td><td class="num">{paper:,}</td>' in html
    # the ego graph's centre is the wealth customer most strongly linked to the first MULTILATERAL prospect
    external = DeltaTable(f"{gold}/prospect_external").to_pandas(filters=month)
    first = external[(external["mode"] == "MULTILATERAL") & (external["rank"] == 1)]
    centre = first.sort_values(["weight", "wealth_cust_id"], ascending=[False, True]).wealth_cust_id.iloc[0]
    assert f"Wealth customer A{centre} and its" in html
    # each chart is written beside the page, embedded in it, and draws something
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    pngs = sorted(report_folder(conf).glob("*.png"))
    assert [p.name for p in pngs] == ["churn_by_volatility.png", "ego_graph.png", "internal_prospects.png",
                                      "migration.png", "roc_ks.png", "tiers.png"]
    assert sorted(base64.b64decode(e) for e in embedded) == sorted(p.read_bytes() for p in pngs)
    assert all(matplotlib.image.imread(p).std() > 0.05 for p in pngs)
    ids, names, accounts = personal_values(spark, "ret")
    assert "某" in html and not [v for v in ids | names | accounts if v in html]


@pytest.mark.parametrize("db", ["ret", "e2e"])
def test_no_personal_data_in_any_gold_table(spark, refreshed, tagged_province, db):
    # ret: the refreshed churn province; e2e: the province with 1% bad rows (quarantine)
    ids, names, accounts = personal_values(spark, db)
    assert len(ids) > 900 and len(names) > 900 and len(accounts) > 1000
    # a clear value as a whole string, or an 18-character ID number anywhere inside a text
    assert tables_with_personal_data(spark, db, ids | names | accounts) == {}

