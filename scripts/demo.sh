#!/usr/bin/env bash
# Set up (if needed), generate a demo province and run the monthly refresh over all its
# months in local mode (ingest, AUM, tags, acquisition, uplift, retention, report), then
# print a summary and where the last month's HTML report is. Raw data
# lands in data/raw, the Delta warehouse in warehouse/, the reports in warehouse/_reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
CUSTOMERS=${CUSTOMERS:-5000}
MONTHS=${MONTHS:-12}
START=${START:-2019-01}
scripts/submit.sh generate --customers "$CUSTOMERS" --months "$MONTHS" --start-month "$START" --bad-rate 0.002
LAST=$(.venv/bin/python -c "from lib.months import add_months; print(add_months('$START', $MONTHS - 1))")
scripts/submit.sh monthly --from-month "$START" --month "$LAST" --ledger-start "$START"
.venv/bin/python - <<'PY'
import os
import sys

from deltalake import DeltaTable
runs = DeltaTable("warehouse/wealth.db/run_manifest").to_pandas().sort_values("started_at")
runs["minutes"] = (runs.finished_at - runs.started_at).dt.total_seconds() / 60
runs["skipped"] = runs.stages.map(lambda st: ", ".join(s["stage"] for s in st if s["status"] == "SKIPPED"))
print("\nmonthly runs (run_manifest):")
print(runs[["stat_month", "status", "minutes", "skipped", "code_version"]].to_string(index=False, float_format="%.1f"))
dq = DeltaTable("warehouse/wealth.db/data_quality").to_pandas()
print("\ndata_quality (rows quarantined per table and rule, all months):")
print(dq.groupby(["table_name", "rule"]).rows_bad.sum().loc[lambda s: s > 0].to_string())
aum = DeltaTable("warehouse/wealth.db/customer_month_aum").to_pandas()
last = aum.stat_month.max()
print(f"\nwealth tiers in {last} (customers, Σ aum_3m in CNY):")
print(aum[aum.stat_month == last].groupby("tier").aum_3m.agg(["count", "sum"]).to_string())
tags = DeltaTable("warehouse/wealth.db/customer_tags").to_pandas()
wealth = tags[(tags.stat_month == last) & (tags.tier != "NONE")]
print(f"\nwealth customers in {last} by risk preference and lifecycle:")
print(wealth.groupby(["risk_preference", "lifecycle"]).size().unstack(fill_value=0).to_string())
mig = DeltaTable("warehouse/wealth.db/tier_migration_summary").to_pandas()
print("\nstock wealth customers' tier changes, month over month:")
print(mig.sort_values("stat_month")[["stat_month", "from_month", "stock_wealth_cnt", "upgrade_ratio",
                                     "downgrade_ratio"]].to_string(index=False))
acq = DeltaTable("warehouse/wealth.db/acquisition_summary").to_pandas()
acq = acq[(acq.stat_month == last) & acq.paper_value.notna()]
print(f"\nprospects in {last} (graph engine {acq.engine.iloc[0]}, transfers of {acq.window_first.iloc[0]}..{last}), "
      "beside the paper's province-wide figures:")
print(acq[["measure", "value", "paper_value"]].to_string(index=False))
ext = DeltaTable("warehouse/wealth.db/prospect_external").to_pandas()
multi = ext[(ext.stat_month == last) & (ext["mode"] == "MULTILATERAL")].sort_values(["rank", "weight"],
                                                                                    ascending=[True, False])
print(f"\nthe first MULTILATERAL prospects in {last} (masked), each by its strongest link:")
print(multi.drop_duplicates("cpty_key").head(5)[["rank", "cpty_bank_code", "cpty_masked_name", "cpty_masked_acct",
                                                 "linked_wealth_cnt", "cpty_txn_amt", "org_name"]].to_string(index=False))
ev = DeltaTable("warehouse/wealth.db/recommender_eval").to_pandas()
print(f"\nrecommenders in {last}, hiding one held product of sampled wealth customers:")
print(ev[ev.stat_month == last][["method", "evaluated_cnt", "hit_rate_at_1", "hit_rate_at_3", "precision_at_3",
                                 "coverage", "best"]].to_string(index=False))
recs = DeltaTable("warehouse/wealth.db/product_recommendation").to_pandas()
print(f"\na few recommendations in {last} (masked):")
print(recs[recs.stat_month == last].sort_values(["cust_id", "method", "rank"]).head(6)[
    ["masked_name", "org_name", "method", "product", "rank", "explanation"]].to_string(index=False))
met = DeltaTable("warehouse/wealth.db/churn_model_metrics").to_pandas()
print(f"\nchurn model in {last}:")
print(met[met.stat_month == last][["eval_set", "train_month", "ref_month", "rows", "positives", "base_rate", "accuracy",
                                   "auc", "ks", "top_decile_lift"]].to_string(index=False))
scores = DeltaTable("warehouse/wealth.db/churn_scores").to_pandas()
warn = scores[(scores.stat_month == last) & scores.flagged].sort_values("churn_prob", ascending=False)
print(f"\nwarning list in {last}: {len(warn)} of {(scores.stat_month == last).sum()} wealth customers; the top 5:")
print(warn.head(5)[["masked_name", "city_name", "county_name", "churn_prob", "reasons"]].to_string(index=False))
# Arrow's reader threads can outlive the tables and abort the interpreter's shutdown
# ("terminate called without an active exception", apache/arrow#34314; once here, after the
# whole summary had printed): leave without it.
sys.stdout.flush()
os._exit(0)
PY
echo
echo "monthly report of $LAST: $PWD/warehouse/_reports/wealth/$LAST/report.html (one file, charts embedded)"
