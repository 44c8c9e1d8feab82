"""Screening, the MLlib logistic regression and its measures (SPEC §4 "Churn model").

Screening follows the paper: churn rate per category of each categorical predictor (its
Figure 5), Pearson r of each continuous predictor with the label, and of every pair of
continuous predictors; of a pair correlated above `max_corr` the one less correlated with
the label is dropped (pairs taken from the most correlated down).

The model is a Pipeline: VectorAssembler -> StandardScaler (mean and sample std) ->
LogisticRegression on the scaled features with class weights (each class carries half
the total weight), so a rare churn class is not ignored.
"""
from __future__ import annotations

import math

from pyspark import StorageLevel
from pyspark.ml import PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lib.errors import NotTrainable
from lib.retention.dataset import VOLATILITY_LEVELS
from lib.tables import CHURN_CATEGORICAL, CHURN_CONTINUOUS

DUMMIES = {f"volatility_{v.lower()}": v for v in VOLATILITY_LEVELS[1:]}   # column -> class; STABLE = baseline
READABLE = {**CHURN_CONTINUOUS, **{d: f"volatility class {v}" for d, v in DUMMIES.items()}}
DECILES = 10
ROC_POINTS = 100
TOL = 1e-6


def with_dummies(df: DataFrame) -> DataFrame:
    """0/1 columns for the volatility classes other than STABLE."""
    return df.withColumns({name: (F.col("volatility_class") == level).cast("double")
                           for name, level in DUMMIES.items()})


def screening(labelled: DataFrame, max_corr: float) -> tuple[list[dict], list[str]]:
    """(screening rows, continuous features kept). One pass for all correlations; the
    per-category churn rates are small group-bys (bounded by the number of categories)."""
    names = list(CHURN_CONTINUOUS)
    spread = labelled.agg(F.count(F.lit(1)).alias("n"), F.avg("label").alias("rate"),
                          *[F.stddev_pop(a).alias(a) for a in names]).first()
    if not spread["n"] or spread["rate"] in (0, 1):
        raise NotTrainable(f"cannot screen: {spread['n']} labelled customers, churn rate {spread['rate']}; "
                         "the model needs churned and retained customers")
    # corr of a constant column divides by zero (an error in ANSI mode): leave those out first
    dropped: dict[str, str] = {a: "constant" for a in names if not spread[a]}
    varied = [a for a in names if a not in dropped]
    pairs = [(a, b) for i, a in enumerate(varied) for b in varied[i + 1:]]
    stats = labelled.agg(*[F.corr(a, "label").alias(f"y|{a}") for a in varied],
                         *[F.corr(a, b).alias(f"{a}|{b}") for a, b in pairs]).first()     # one row
    with_label = {a: _finite(stats[f"y|{a}"]) if a in varied else 0.0 for a in names}
    ranked = sorted(((abs(_finite(stats[f"{a}|{b}"])), a, b) for a, b in pairs), key=lambda t: (-t[0], t[1], t[2]))
    for r, a, b in ranked:
        if r <= max_corr or a in dropped or b in dropped:
            continue
        loser, winner = (a, b) if (abs(with_label[a]), b) < (abs(with_label[b]), a) else (b, a)
        dropped[loser] = f"|r| = {r:.3f} with {winner}, which is closer to the label"
    rows = [{"predictor": a, "kind": "continuous", "category": None, "cust_cnt": spread["n"], "churn_rate": None,
             "pearson_r": with_label[a], "kept": a not in dropped, "reason": dropped.get(a)} for a in names]
    for cat in CHURN_CATEGORICAL:
        for g in labelled.groupBy(cat).agg(F.count(F.lit(1)).alias("n"), F.avg("label").alias("rate")).collect():
            rows.append({"predictor": cat, "kind": "categorical", "category": g[cat], "cust_cnt": g.n,
                         "churn_rate": g.rate, "pearson_r": None, "kept": True, "reason": None})
    return rows, [a for a in names if a not in dropped]


def _finite(x: float | None) -> float:
    return 0.0 if x is None or math.isnan(x) else x


def class_weighted(df: DataFrame) -> DataFrame:
    """Adds `weight`: each class carries half of the total weight."""
    share = df.agg(F.avg("label")).first()[0]
    if not share or share >= 1:
        raise NotTrainable(f"cannot train: the training set has {'no' if not share else 'only'} churned customers")
    return df.withColumn("weight", F.when(F.col("label") == 1, 0.5 / share).otherwise(0.5 / (1 - share)))


def fit(train: DataFrame, inputs: list[str], reg: float, max_iter: int) -> PipelineModel:
    """The fitted pipeline on the labelled rows (with dummies); column `features` in, `scaled`,
    `probability` out. The assembled rows are cached once: the scaler's pass fills the cache
    and the regression's passes read it, scaling each row as they go (caching the scaled rows
    instead assembles every row twice, a tenth slower: README, Churn model fit); `tol` is the
    regression's relative change of the loss at which it stops (1e-6 gives coefficients
    within 1e-5 of a fit to 1e-9 in fewer passes: scripts/bench_churn.py)."""
    assembler = VectorAssembler(inputCols=inputs, outputCol="features")
    assembled = (assembler.transform(class_weighted(train)).select("features", "label", "weight")
                 .persist(StorageLevel.MEMORY_AND_DISK))
    try:
        scaler = StandardScaler(inputCol="features", outputCol="scaled", withMean=True, withStd=True).fit(assembled)
        lr = LogisticRegression(featuresCol="scaled", labelCol="label", weightCol="weight", regParam=reg,
                                elasticNetParam=0.0, standardization=False, maxIter=max_iter,
                                tol=TOL).fit(scaler.transform(assembled))
    finally:
        assembled.unpersist()
    return PipelineModel(stages=[assembler, scaler, lr])


def churn_prob() -> Column:
    """The probability of class 1 from the model's `probability` vector."""
    return vector_to_array(F.col("probability"))[1]


def coefficients(model: PipelineModel, inputs: list[str]) -> list[dict]:
    """The coefficient table: per input its coefficient on the standardised scale, the
    scaler's mean and std; and the intercept."""
    scaler, lr = model.stages[1], model.stages[2]
    rows = [{"feature": name, "readable_name": READABLE[name], "coefficient": float(c), "mean": float(m),
             "std": float(s)} for name, c, m, s in zip(inputs, lr.coefficients, scaler.mean, scaler.std)]
    return rows + [{"feature": "(intercept)", "readable_name": "intercept", "coefficient": float(lr.intercept),
                    "mean": None, "std": None}]


def reasons(model: PipelineModel, inputs: list[str], top: int = 3) -> Column:
    """The `top` largest positive contributions (coefficient × standardised value) of a
    scored row, largest first, as readable names with the side of the mean the customer is
    on: "largest AUM fall from a peak (high)"."""
    coefs = F.array(*[F.lit(float(c)) for c in model.stages[2].coefficients])
    names = F.array(*[F.lit(READABLE[n]) for n in inputs])
    parts = F.arrays_zip(names.alias("name"), coefs.alias("coef"), vector_to_array(F.col("scaled")).alias("x"))
    positive = F.filter(parts, lambda p: p["coef"] * p["x"] > 0)
    ordered = F.array_sort(positive, lambda a, b: F.when(a["coef"] * a["x"] > b["coef"] * b["x"], -1)
                           .when(a["coef"] * a["x"] < b["coef"] * b["x"], 1).otherwise(0))
    return F.transform(F.slice(ordered, 1, top),
                       lambda p: F.concat(p["name"], F.when(p["x"] > 0, F.lit(" (high)")).otherwise(F.lit(" (low)"))))


def measures(scored: DataFrame, threshold: float) -> dict:
    """accuracy, base_rate, auc, ks, precision / recall at the threshold, top-decile lift
    over `scored` (label, prob). The scores are computed once, into a local checkpoint,
    for the measures' Spark jobs (each would otherwise read and score the rows again)."""
    scored = scored.select("label", "prob").localCheckpoint()
    flagged = F.col("prob") >= threshold
    c = scored.agg(F.count(F.lit(1)).alias("n"), F.sum("label").alias("pos"),
                   F.count(F.when(flagged & (F.col("label") == 1), 1)).alias("tp"),
                   F.count(F.when(flagged, 1)).alias("flagged"),
                   F.count(F.when(flagged == (F.col("label") == 1), 1)).alias("right")).first()
    buckets = bucket_counts(scored)
    ranks = ranked(scored, buckets).localCheckpoint()
    top = deciles(ranks, c.n)
    base = c.pos / c.n if c.n else None
    area, ks = separation(ranks, c.pos, c.n - c.pos)
    return {"rows": c.n, "positives": c.pos, "base_rate": base, "accuracy": c.right / c.n if c.n else None,
            "auc": area, "ks": ks,
            "precision_at_threshold": c.tp / c.flagged if c.flagged else None,
            "recall_at_threshold": c.tp / c.pos if c.pos else None,
            "top_decile_lift": top[0]["churn_rate"] / base if top and base else None,
            "curve": roc(buckets), "deciles": top}


def bucket_counts(scored: DataFrame) -> dict[int, tuple[int, int]]:
    """Positives and negatives per probability bucket floor(prob × ROC_POINTS): at most
    ROC_POINTS + 1 rows, collected."""
    return {r.b: (r.pos, r.neg) for r in scored.groupBy(_bucket().alias("b")).agg(
        F.sum("label").alias("pos"), F.sum(1 - F.col("label")).alias("neg")).collect()}


def _bucket() -> Column:
    """A score's ROC bucket, floor(prob × ROC_POINTS): the curve's points and the ranks'
    offsets use the same buckets."""
    return F.floor(F.col("prob") * ROC_POINTS).cast("int")


def roc(buckets: dict[int, tuple[int, int]]) -> list[dict]:
    """ROC points at ROC_POINTS + 1 probability cut-offs (bounded, for the report):
    threshold, tpr, fpr."""
    pos_total, neg_total = sum(p for p, _ in buckets.values()), sum(n for _, n in buckets.values())
    points, tp, fp = [], 0, 0
    for b in range(ROC_POINTS, -1, -1):
        p, n = buckets.get(b, (0, 0))
        tp, fp = tp + p, fp + n
        points.append({"threshold": b / ROC_POINTS, "tpr": tp / pos_total if pos_total else 0.0,
                       "fpr": fp / neg_total if neg_total else 0.0})
    return points


def ranked(scored: DataFrame, buckets: dict[int, tuple[int, int]]) -> DataFrame:
    """label, prob with, exactly and without a global sort, `position` (1 = the highest
    prob; among equal probs the non-churners first, so a cut through a tie never flatters
    the model), `pos_at_or_above` / `neg_at_or_above` (the rows with a prob at least the
    row's) and `neg_tied` (the non-churners with the row's prob). The buckets above a row
    give its offsets (from the collected counts); a window within its own bucket gives the
    rest."""
    above, offsets = (0, 0), []
    for b in sorted(buckets, reverse=True):
        offsets.append((b, *above))
        above = (above[0] + buckets[b][0], above[1] + buckets[b][1])
    offset = scored.sparkSession.createDataFrame(offsets, "b int, pos_above long, neg_above long")
    ties = Window.partitionBy("b").orderBy(F.col("prob").desc()).rangeBetween(Window.unboundedPreceding, 0)
    rows = Window.partitionBy("b").orderBy(F.col("prob").desc(), "label")
    bucketed = scored.withColumn("b", _bucket())
    return (bucketed.join(F.broadcast(offset), "b", how="inner")
            .select("label", "prob",
                    (F.col("pos_above") + F.col("neg_above") + F.row_number().over(rows)).alias("position"),
                    (F.col("pos_above") + F.sum("label").over(ties)).alias("pos_at_or_above"),
                    (F.col("neg_above") + F.sum(1 - F.col("label")).over(ties)).alias("neg_at_or_above"),
                    F.sum(1 - F.col("label")).over(Window.partitionBy("b", "prob")).alias("neg_tied")))


def separation(ranks: DataFrame, positives: int, negatives: int) -> tuple[float, float]:
    """(AUC, KS) in one pass over the ranks. The area under the ROC curve, exactly: the share
    of (churner, non-churner) pairs whose churner has the higher prob, a tie counting half
    (Mann-Whitney), summed in integers, so it does not depend on how the rows are
    partitioned; NaN with one class only. Kolmogorov-Smirnov: the largest tpr − fpr over
    every probability cut-off (0 with one class only)."""
    if not positives or not negatives:
        return math.nan, 0.0
    pairs = 2 * (negatives - F.col("neg_at_or_above")) + F.col("neg_tied")     # twice the pairs a churner wins
    gap = F.col("pos_at_or_above") / positives - F.col("neg_at_or_above") / negatives
    won, widest = ranks.agg(F.sum(F.when(F.col("label") == 1, pairs)), F.max(gap)).first()
    return won / (2 * positives * negatives), max(widest, 0.0)


def deciles(ranks: DataFrame, n: int) -> list[dict]:
    """Calibration and lift by decile of position, decile 1 = the highest probabilities
    (sizes differ by one at most): decile, cust_cnt, mean_prob, churn_rate."""
    decile = (F.floor((F.col("position") - 1) * DECILES / F.lit(n)) + 1).cast("int")
    rows = ranks.groupBy(decile.alias("decile")).agg(F.count(F.lit(1)).alias("n"), F.avg("prob").alias("p"),
                                                    F.avg("label").alias("rate")).collect()   # ≤ 10 rows
    return [{"decile": r.decile, "cust_cnt": r.n, "mean_prob": r.p, "churn_rate": r.rate}
            for r in sorted(rows, key=lambda r: r.decile)]


def psis(current: DataFrame, previous: DataFrame, columns: list[str]) -> dict[str, float | None]:
    """Population stability index of each column against the previous month's values, over
    the previous month's deciles: Σ (a − e) ln(a / e), shares floored at 1e-4; None for a
    column without values the previous month. Three queries for all the columns (the
    deciles, then one count per month), where a column at a time took three each."""
    quantiles = previous.approxQuantile(list(columns), [i / DECILES for i in range(1, DECILES)], 0.001)
    cuts = {c: sorted(set(q)) for c, q in zip(columns, quantiles) if q}
    if not cuts:
        return dict.fromkeys(columns)

    def bucket(column: str, qs: list[float]) -> Column:   # a null value falls in the first bucket
        b = F.lit(0)
        for i, q in enumerate(qs, start=1):
            b = F.when(F.col(column) > q, F.lit(i)).otherwise(b)
        return b

    def shares(df: DataFrame) -> dict[tuple[str, int], float]:
        # counted long, per (column, bucket): with an aggregate for each pair the driver spent
        # seconds building and planning the query (the PSI of 24 columns: 3.8 s that way, 2.1 s)
        buckets = df.select(*[bucket(c, qs).alias(f"b{k}") for k, (c, qs) in enumerate(cuts.items())])
        long = buckets.unpivot([], [f"b{k}" for k in range(len(cuts))], "k", "b")
        counts = {(r.k, r.b): r.n for r in long.groupBy("k", "b").agg(F.count(F.lit(1)).alias("n")).collect()}
        rows = sum(n for (k, _), n in counts.items() if k == "b0")
        return {(c, b): counts.get((f"b{k}", b), 0) / rows if rows else 0.0
                for k, (c, qs) in enumerate(cuts.items()) for b in range(len(qs) + 1)}

    now, before = shares(current), shares(previous)

    def index(column: str) -> float:
        pairs = [(max(now[column, b], 1e-4), max(before[column, b], 1e-4)) for b in range(len(cuts[column]) + 1)]
        return sum((a - e) * math.log(a / e) for a, e in pairs)
    return {c: index(c) if c in cuts else None for c in columns}
