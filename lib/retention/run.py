"""The retention stage for month M: label the reference month r = M − horizon (the last
whose horizon has passed) and the month before it, screen the features, train the
logistic regression on 70% of r and test it on the rest and out of time (trained on r − 1,
tested on r), set it against the model in use (lib/retention/champion.py), then score M's
population with the one that wins -> churn_features, churn_screening, churn_model_metrics,
churn_coefficients (of the model that scored), churn_model_curves, churn_champion,
churn_scores. This run's model and its inputs, metrics and verdict are saved under
<warehouse>/_models/<db>/retention/<M>/."""
from __future__ import annotations

import json

from pyspark.ml import PipelineModel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.config import Config
from lib.contacts import contacts
from lib.errors import MissingInputError
from lib.io import (
    month_or_none, months_in, read_gold, read_months, read_silver, read_text, replace_months, require_months,
    rows_frame, write_text,
)
from lib.logs import stage
from lib.months import add_months, month_range
from lib.retention import champion, churn_model, dataset
from lib.tables import (
    CHURN_CHAMPION, CHURN_COEFFICIENTS, CHURN_CONTINUOUS, CHURN_FEATURES, CHURN_MODEL_CURVES, CHURN_MODEL_METRICS,
    CHURN_SCORES, CHURN_SCREENING, CUSTOMER_MONTH_ACTIVITY, CUSTOMER_MONTH_AUM, CUSTOMER_TAGS,
)


def ensure_activity(spark: SparkSession, conf: Config, months: list[str], month: str, log) -> DataFrame:
    """customer_month_activity for `months`: this run's month is always recomputed, earlier
    months only when missing (each from one month of silver ledger)."""
    table = conf.table(CUSTOMER_MONTH_ACTIVITY.name)
    ingested = months_in(spark, conf.silver_table("jnl_acc_chg"))
    # months before the first ingested one are outside the data window: no activity
    months = [m for m in months if not ingested or m >= min(ingested)]
    todo = sorted((set(months) - months_in(spark, table)) | {month})
    with stage(log, f"ledger activity {todo[0]}..{todo[-1]}") as st:
        ledger = read_silver(spark, conf, "jnl_acc_chg", todo)
        st.rows_out = replace_months(spark, dataset.activity_month(ledger, conf.retention.large_outflow),
                                     conf.database, CUSTOMER_MONTH_ACTIVITY, todo)
    return read_months(spark, table, months)


def _scored(model, rows: DataFrame) -> DataFrame:
    return model.transform(churn_model.with_dummies(rows)).withColumn("prob", churn_model.churn_prob())


def _previous(spark: SparkSession, conf: Config, spec, month: str) -> DataFrame | None:
    return month_or_none(spark, conf.table(spec.name), add_months(month, -1))


def _champion(spark: SparkSession, conf: Config, month: str) -> tuple[str, str, PipelineModel] | None:
    """(run month, reference month, model) of the champion before `month`: the model that
    scored the latest month before it with a verdict; None when there is none."""
    table = conf.table(CHURN_CHAMPION.name)
    if not spark.catalog.tableExists(table):
        return None
    last = spark.table(table).filter(F.col("stat_month") < month).orderBy(F.desc("stat_month")).first()
    if last is None:
        return None
    folder = conf.model_dir("retention", last.model_month)
    saved = read_text(spark, f"{folder}/model.json")
    if saved is None:
        raise MissingInputError(f"the churn champion of {last.model_month} (in use since {last.stat_month}) is not "
                                f"saved under {folder}: restore it, or re-run the retention of {last.model_month}")
    return last.model_month, json.loads(saved)["ref_month"], PipelineModel.load(f"{folder}/model")


def _challenge(spark: SparkSession, conf: Config, month: str, model: PipelineModel, role, challenger: DataFrame,
               oot: dict) -> tuple[dict, tuple[str, str, PipelineModel]]:
    """The churn_champion row of `month` and (run month, reference month, model) of the
    model that scores it: this run's (the challenger, whose SCORE rows are `challenger`)
    unless the champion is kept."""
    retention, ref = conf.retention, add_months(month, -conf.retention.horizon)
    held = _champion(spark, conf, month)
    train = _scored(model, role("TRAIN")).select(F.col("prob").alias("churn_prob"))
    psi = churn_model.psis(challenger.select(F.col("prob").alias("churn_prob")), train, ["churn_prob"])["churn_prob"]
    against = churn_model.measures(_scored(held[2], role("TRAIN", "TEST")), retention.threshold) if held else None
    decision, why = champion.decide(against["auc"] if against else None, oot["auc"], psi, retention.max_auc_drop,
                                    retention.max_psi)
    scorer = held if decision == champion.KEPT else (month, ref, model)
    verdict = {"champion_month": held[0] if held else None, "champion_ref_month": held[1] if held else None,
               "challenger_ref_month": ref, "eval_month": ref,
               "champion_auc": against["auc"] if against else None, "challenger_auc": oot["auc"],
               "champion_ks": against["ks"] if against else None, "challenger_ks": oot["ks"], "score_psi": psi,
               "max_auc_drop": retention.max_auc_drop, "max_psi": retention.max_psi, "decision": decision,
               "reason": why, "model_month": scorer[0]}
    return verdict, scorer


def run_retention(spark: SparkSession, conf: Config, month: str, log) -> str:
    retention = conf.retention
    ref, prev = add_months(month, -retention.horizon), add_months(month, -retention.horizon - 1)
    with stage(log, f"churn features {prev}, {ref}, {month}") as st:
        first = add_months(prev, -(retention.feature_months - 1))
        aum_table = conf.table(CUSTOMER_MONTH_AUM.name)
        require_months(spark, aum_table, month_range(prev, month), "aum")
        aum = read_months(spark, aum_table, month_range(first, month))     # the feature months the data has
        tags = read_gold(spark, conf, CUSTOMER_TAGS.name, [prev, ref, month], "tags")
        activity = ensure_activity(spark, conf, month_range(first, month), month, log)
        rows = dataset.modelling_rows(aum, tags, activity, month, retention, conf.tiers).withColumn(
            "stat_month", F.lit(month))
        st.rows_out = replace_months(spark, rows, conf.database, CHURN_FEATURES, [month])
    written = read_months(spark, conf.table(CHURN_FEATURES.name), [month])
    role = lambda *names: written.filter(F.col("role").isin(*names))  # noqa: E731
    with stage(log, f"screening {ref}"):
        screen, kept = churn_model.screening(role("TRAIN"), retention.max_corr)
        _write_rows(spark, conf, CHURN_SCREENING, screen, month)
        present = {r.volatility_class for r in role("TRAIN").select("volatility_class").distinct().collect()}  # ≤ 5
        inputs = kept + [d for d, level in churn_model.DUMMIES.items() if level in present]
    with stage(log, f"train on {ref}, test hold-out and out of time"):
        model = churn_model.fit(churn_model.with_dummies(role("TRAIN")), inputs, retention.reg, retention.max_iter)
        holdout = churn_model.measures(_scored(model, role("TEST")), retention.threshold)
        oot_model = churn_model.fit(churn_model.with_dummies(role("OOT_TRAIN")), inputs, retention.reg,
                                    retention.max_iter)
        oot = churn_model.measures(_scored(oot_model, role("TRAIN", "TEST")), retention.threshold)
    with stage(log, f"champion / challenger {month}"):
        # the challenger's scores of M, computed once for its PSI and, if it is promoted, for churn_scores
        challenger = _scored(model, role("SCORE")).localCheckpoint()
        verdict, scorer = _challenge(spark, conf, month, model, role, challenger, oot)
        scorer_month, scorer_ref, scoring = scorer
        inputs_used = scoring.stages[0].getInputCols()
    with stage(log, f"score {month} with the model of {scorer_month}") as st:
        scored = challenger if scoring is model else _scored(scoring, role("SCORE"))
        now = read_months(spark, conf.table(CUSTOMER_MONTH_AUM.name), [month])
        people = contacts(read_silver(spark, conf, "t01_indpty_id", [month]),
                          read_silver(spark, conf, "org_dim", [month]))
        scores = (scored.select("cust_id", F.col("prob").alias("churn_prob"),
                                (F.col("prob") >= retention.threshold).alias("flagged"),
                                churn_model.reasons(scoring, inputs_used).alias("reasons"),
                                F.lit(scorer_ref).alias("model_month"))
                  .join(now.select("cust_id", "tier", "aum_month_avg"), "cust_id", how="inner")
                  .join(people, "cust_id", how="left").withColumn("stat_month", F.lit(month)))
        st.rows_out = replace_months(spark, scores, conf.database, CHURN_SCORES, [month])
    with stage(log, f"model measures {month}"):
        before_scores, before_rows = _previous(spark, conf, CHURN_SCORES, month), _previous(spark, conf, CHURN_FEATURES, month)
        this_scores = read_months(spark, conf.table(CHURN_SCORES.name), [month])
        score_psi = (churn_model.psis(this_scores, before_scores, ["churn_prob"])["churn_prob"]
                     if before_scores is not None else None)
        coefs = churn_model.coefficients(scoring, inputs_used)
        continuous = [c["feature"] for c in coefs if c["feature"] in CHURN_CONTINUOUS]
        shifts = (churn_model.psis(role("SCORE"), before_rows.filter(F.col("role") == "SCORE"), continuous)
                  if before_rows is not None and continuous else {})
        for c in coefs:
            c["psi"] = shifts.get(c["feature"])
        metrics = [_metric_row("HOLDOUT", ref, ref, holdout, retention.threshold, score_psi),
                   _metric_row("OUT_OF_TIME", ref, prev, oot, retention.threshold, score_psi)]
        _write_rows(spark, conf, CHURN_MODEL_METRICS, metrics, month)
        _write_rows(spark, conf, CHURN_COEFFICIENTS, coefs, month)
        curves = [{"eval_set": name, "curve": "ROC", **p} for name, m in (("HOLDOUT", holdout), ("OUT_OF_TIME", oot))
                  for p in m["curve"]]
        curves += [{"eval_set": name, "curve": "DECILE", **d} for name, m in (("HOLDOUT", holdout), ("OUT_OF_TIME", oot))
                   for d in m["deciles"]]
        _write_rows(spark, conf, CHURN_MODEL_CURVES, curves, month)
        model.write().overwrite().save(f"{conf.model_dir('retention', month)}/model")
        write_text(spark, f"{conf.model_dir('retention', month)}/model.json", json.dumps(
            {"month": month, "ref_month": ref, "inputs": inputs, "metrics": metrics,
             "coefficients": churn_model.coefficients(model, inputs), "champion": verdict},
            indent=2, ensure_ascii=False))
        _write_rows(spark, conf, CHURN_CHAMPION, [verdict], month)     # after the model it may name is saved
    for m in metrics:
        log.info("churn model %s (train %s, test %s): rows=%d positives=%d auc=%.3f ks=%.3f accuracy=%.3f "
                 "(base rate %.3f) lift@10%%=%s", m["eval_set"], m["train_month"], m["ref_month"], m["rows"],
                 m["positives"], m["auc"], m["ks"], m["accuracy"], m["base_rate"],
                 "n/a" if m["top_decile_lift"] is None else f"{m['top_decile_lift']:.2f}")
    log.info("churn model %s: %s", month, verdict["reason"])
    return verdict["reason"]


def _metric_row(name: str, ref: str, train: str, m: dict, threshold: float, score_psi: float | None) -> dict:
    keep = ("rows", "positives", "base_rate", "accuracy", "auc", "ks", "precision_at_threshold",
            "recall_at_threshold", "top_decile_lift")
    return {"eval_set": name, "ref_month": ref, "train_month": train, **{k: m[k] for k in keep},
            "threshold": threshold, "score_psi": score_psi}


def _write_rows(spark: SparkSession, conf: Config, spec, rows: list[dict], month: str) -> None:
    """A small table of driver-side rows (bounded: metrics, coefficients, curve points)."""
    replace_months(spark, rows_frame(spark, spec, [{**r, "stat_month": month} for r in rows]), conf.database,
                   spec, [month])
