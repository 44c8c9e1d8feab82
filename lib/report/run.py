"""The report stage for month M: one self-contained HTML file and its PNG charts under
<warehouse>/_reports/<database>/<M>/, from the gold tables of M (every figure a bounded
aggregate or a sample of masked rows). A section whose stage has not run for M says so."""
from __future__ import annotations

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.config import Config, absolute
from lib.io import month_or_none, months_in, read_months, require_months, write_bytes, write_text
from lib.logs import stage
from lib.months import add_months, month_range
from lib.provenance import code_version, conf_hash
from lib.report import acquisition_sections, figures, markup, plots
from lib.report.markup import count, money, ratio, share
from lib.tables import (
    ACQUISITION_SUMMARY, CHURN_CHAMPION, CHURN_COEFFICIENTS, CHURN_MODEL_CURVES, CHURN_MODEL_METRICS, CHURN_SCORES,
    CHURN_SCREENING, COUNTERPARTY_EDGES, CUSTOMER_MONTH_AUM, DATA_QUALITY, PRODUCT_RECOMMENDATION, PROSPECT_CRITICAL,
    PROSPECT_EXTERNAL, PROSPECT_INTERNAL, PROSPECT_OUTCOME, RECOMMENDER_EVAL, TIER_MIGRATION_SUMMARY,
)

MIGRATION_MONTHS = 12       # months of month-over-month migration in Figure 1
COEFFICIENT_ROWS = 10
RECOMMENDERS = ("PEARSON_UCF", "ALS")


def report_dir(conf: Config, month: str) -> str:
    return f"{absolute(conf.paths.warehouse)}/_reports/{conf.database}/{month}"


def _rows(spark: SparkSession, conf: Config, name: str, month: str) -> DataFrame:
    return read_months(spark, conf.table(name), [month])


def _of_month(spark: SparkSession, conf: Config, name: str, month: str) -> DataFrame | None:
    """The table's rows of `month`, or None when the table or the month is not there."""
    return month_or_none(spark, conf.table(name), month)


def _pandas(df: DataFrame) -> pd.DataFrame:
    return df.toPandas()    # only bounded frames come here: a row per tier, month, method, rule or sample row


def _tiers(spark, conf, month) -> tuple[str, dict[str, bytes]]:
    tiers = _pandas(figures.tier_summary(_rows(spark, conf, CUSTOMER_MONTH_AUM.name, month)))
    chart = plots.tiers_chart(tiers)
    wealth = tiers[tiers.tier != "NONE"]
    return (markup.figure(chart, "Wealth customers per tier and each tier's share of the month's "
                          "AUM (monthly daily-average AUM, tier from the three-month average)")
            + markup.note(f"{int(wealth.cust_cnt.sum()):,} wealth customers hold "
                          f"{float(wealth.aum_share.sum()):.1%} of the month's AUM.")
            + markup.table(tiers, {"cust_cnt": count, "aum": money, "cust_share": share,
                                   "aum_share": share})), {"tiers.png": chart}


def _migration(spark, conf, month) -> tuple[str, dict[str, bytes]]:
    if month not in months_in(spark, conf.table(TIER_MIGRATION_SUMMARY.name)):
        return markup.missing(f"no tier migration for {month} (the first month of the data)"), {}
    summary = read_months(spark, conf.table(TIER_MIGRATION_SUMMARY.name),
                          month_range(add_months(month, 1 - MIGRATION_MONTHS), month))
    history = _pandas(figures.migration_history(summary, month, MIGRATION_MONTHS))
    chart = plots.migration_chart(history)
    return (markup.figure(chart, "Upgrade and downgrade ratios of the stock wealth customers: "
                          "month over month, and year over year for this month")
            + markup.table(history, {"stock_wealth_cnt": count, "upgrade_ratio": share,
                                     "downgrade_ratio": share})), {"migration.png": chart}


def _uplift(spark, conf, month) -> str:
    recs = _of_month(spark, conf, PRODUCT_RECOMMENDATION.name, month)
    if recs is None:
        return markup.missing(f"the uplift stage has not run for {month}")
    scores = _pandas(_rows(spark, conf, RECOMMENDER_EVAL.name, month)
                     .select("method", "evaluated_cnt", "hit_rate_at_1", "hit_rate_at_3", "precision_at_3", "coverage",
                             "best").orderBy("method"))
    sample = _pandas(figures.recommendation_sample(recs, conf.report.sample_rows, RECOMMENDERS))
    return (markup.table(scores, {"evaluated_cnt": count, "hit_rate_at_1": share,
                                  "hit_rate_at_3": share, "precision_at_3": share, "coverage": share})
            + markup.note("Each method tried to find one hidden held product of a seeded sample of wealth "
                          "customers; POPULARITY is the baseline of offering the most held products.")
            + markup.table(sample, {"score": ratio}))


def _churn(spark, conf, month) -> tuple[str, dict[str, bytes], DataFrame | None]:
    """The model's section, its charts, and the month's scores for the warning list (None
    without a model)."""
    metrics = _of_month(spark, conf, CHURN_MODEL_METRICS.name, month)
    if metrics is None:
        return markup.missing(
            f"no churn model for {month}: the retention stage needs customer_month_aum for "
            f"{conf.retention.horizon + 1} "
            "months before the month and churners in its reference month (see run_manifest)"), {}, None
    metrics = _pandas(metrics.drop("stat_month").orderBy("eval_set"))
    # written by the same stage as the metrics: present when they are
    of = {name: _rows(spark, conf, name, month) for name in
          (CHURN_SCREENING.name, CHURN_MODEL_CURVES.name, CHURN_COEFFICIENTS.name, CHURN_SCORES.name)}
    rates = _pandas(figures.churn_by_category(of[CHURN_SCREENING.name], "volatility_class"))
    roc = _pandas(of[CHURN_MODEL_CURVES.name].filter(F.col("curve") == "ROC").select("eval_set", "threshold", "tpr",
                                                                                      "fpr"))
    coefficients = _pandas(of[CHURN_COEFFICIENTS.name].orderBy(F.desc(F.abs("coefficient")), "feature")
                           .select("readable_name", "coefficient", "psi").limit(COEFFICIENT_ROWS))
    charts = {"churn_by_volatility.png": plots.category_chart(rates, "asset volatility class"),
              "roc_ks.png": plots.roc_ks_chart(roc, metrics)}
    shares = {c: share for c in ("base_rate", "accuracy", "precision_at_threshold", "recall_at_threshold")}
    return (_champion(spark, conf, month)
            + markup.figure(charts["churn_by_volatility.png"], "Churn rate of the training customers by asset "
                          "volatility class")
            + markup.figure(charts["roc_ks.png"], "ROC of the hold-out and out-of-time tests; KS curves of the "
                            "hold-out")
            + markup.table(metrics, {"rows": count, "positives": count, "auc": ratio, "ks": ratio,
                                     "top_decile_lift": ratio, "threshold": ratio,
                                     "score_psi": ratio, **shares})
            + markup.note(f"The {COEFFICIENT_ROWS} largest coefficients on standardised features (> 0 raises "
                          "the churn probability); psi: drift against last month's scoring.")
            + markup.table(coefficients, {"coefficient": ratio, "psi": ratio})), charts, of[CHURN_SCORES.name]


def _champion(spark, conf, month) -> str:
    verdict = _of_month(spark, conf, CHURN_CHAMPION.name, month)
    if verdict is None:
        return markup.missing(f"no champion / challenger verdict for {month} (a run before the gate existed)")
    row = _pandas(verdict.select("decision", "model_month", "champion_month", "champion_auc", "challenger_auc",
                                 "champion_ks", "challenger_ks", "score_psi", "reason"))
    return (markup.note(f"Champion / challenger: {row.reason[0]}. This month's scores come from the model of "
                        f"{row.model_month[0]}.")
            + markup.table(row.drop(columns="reason"), {c: ratio for c in ("champion_auc", "challenger_auc",
                                                                           "champion_ks", "challenger_ks",
                                                                           "score_psi")}))


def _warnings(scores: DataFrame | None, conf, month) -> str:
    if scores is None:
        return markup.missing(f"no churn scores for {month}")
    flagged = scores.filter(F.col("flagged")).count()
    sample = _pandas(figures.warning_sample(scores, conf.report.sample_rows))
    return (markup.note(f"{flagged:,} customers flagged (churn probability ≥ {conf.retention.threshold}); "
                        f"the {len(sample)} most likely first.")
            + markup.table(sample, {"churn_prob": ratio}))


def _outcomes(spark, conf, month) -> str:
    outcome = _of_month(spark, conf, PROSPECT_OUTCOME.name, month)
    if outcome is None:
        return markup.missing(f"no list of the months before {month} to follow yet (see run_manifest)")
    return (markup.note("The lists of the last three months followed to this month. EXTERNAL MULTILATERAL: the "
                        "prospect opened an account (a new postal customer moved money from that account under its "
                        "own name); SOLO: more came back from the customer's own account elsewhere than went to it; "
                        "INTERNAL and CRITICAL: became a wealth customer. WARNING, at the model's horizon: the share "
                        "of the customers scored then who churned, flagged and not flagged.")
            + markup.table(_pandas(figures.outcome_rates(outcome)),
                           {"listed_cnt": count, "outcome_cnt": count, "outcome_rate": share}))


def _quality(spark, conf, month) -> str:
    quality = _of_month(spark, conf, DATA_QUALITY.name, month)
    if quality is None:
        return markup.missing(f"the ingest has not run for {month}")
    return (markup.note("Rows of each source table read for the month, quarantined by a validation rule, and "
                        "kept with a bad attribute (not part of the key) set to null (the rows are in "
                        f"{conf.database}.quarantine_<table>, personal data masked).")
            + markup.table(_pandas(figures.quality_summary(quality)),
                           {"rows_in": count, "rows_quarantined": count, "rows_nulled": count, "bad_share": share}))


def build(spark: SparkSession, conf: Config, month: str) -> tuple[str, dict[str, bytes]]:
    """The HTML document and its charts (file name -> PNG)."""
    churn, churn_charts, scores = _churn(spark, conf, month)
    tiers, tier_charts = _tiers(spark, conf, month)
    migration, migration_charts = _migration(spark, conf, month)
    # written by the acquisition stage with its summary: present when the summary is
    summary = _of_month(spark, conf, ACQUISITION_SUMMARY.name, month)
    acquisition_tables = {spec.name: _rows(spark, conf, spec.name, month) if summary is not None else None
                          for spec in (COUNTERPARTY_EDGES, PROSPECT_EXTERNAL, PROSPECT_INTERNAL, PROSPECT_CRITICAL)}
    acquisition, graph_charts = acquisition_sections.sections({**acquisition_tables, ACQUISITION_SUMMARY.name: summary},
                                                              month, conf.report.sample_rows)
    sections = [
        ("Run", markup.facts([("month", month), ("database", conf.database), ("code", code_version()),
                              ("configuration hash", conf_hash(conf))])),
        ("Wealth tiers", tiers),
        ("Tier migration (Figure 1)", migration),
        ("Churn model (Figure 5, ROC and KS)", churn),
        ("Warning list (Table 4)", _warnings(scores, conf, month)),
        ("Product recommendations (Table 3)", _uplift(spark, conf, month)),
        *acquisition,
        ("Conversion of earlier lists", _outcomes(spark, conf, month)),
        ("Data quality", _quality(spark, conf, month)),
    ]
    charts = {**tier_charts, **migration_charts, **churn_charts, **graph_charts}
    return markup.page(f"Wealth customers, {month}", sections), charts


def run_report(spark: SparkSession, conf: Config, month: str, log) -> str:
    """Write the report of `month`; its path."""
    require_months(spark, conf.table(CUSTOMER_MONTH_AUM.name), [month], "aum")
    folder = report_dir(conf, month)
    with stage(log, f"report {month}") as st:
        document, charts = build(spark, conf, month)
        for name, png in charts.items():
            write_bytes(spark, f"{folder}/{name}", png)
        write_text(spark, f"{folder}/report.html", document)
        st.rows_out = len(charts) + 1
    log.info("report %s: %s/report.html (%d charts)", month, folder, len(charts))
    return f"{folder}/report.html"
