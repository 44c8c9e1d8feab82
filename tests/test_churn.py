"""Churn label, features, screening and the logistic regression on hand-made data: labels
at the 70% boundary, one customer's features worked out with numpy, the collinear feature
dropped, coefficients equal to scikit-learn's, reasons the largest positive contributions."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve

from lib.config import RetentionConf, Tiers
from lib.errors import NotTrainable
from lib.retention import churn_model, dataset
from lib.tables import CHURN_CONTINUOUS

R = RetentionConf()
AUM_COLUMNS = ("cust_id string, stat_month string, aum_month_avg decimal(18,2), aum_month_end decimal(18,2), "
               "holding_month_avg decimal(18,2), aum_3m decimal(18,2), tier string, volatility_class string")


def aum_rows(spark, rows):
    """rows: (cust_id, stat_month, aum_month_avg, aum_3m, tier); end = avg, no holdings."""
    return spark.createDataFrame([(c, m, Decimal(a), Decimal(a), Decimal(0), Decimal(a3), t, "STABLE")
                                  for c, m, a, a3, t in rows], AUM_COLUMNS)


def test_labels_tier_drop_boundary_and_neither(spark):
    after = ("2019-07", "2019-08", "2019-09")
    rows = [("A", "2019-06", "1000000.00", "1000000.00", "PLATINUM"),      # 900k each month: stays
            *[("A", m, "900000.00", "900000.00", "PLATINUM") for m in after],
            ("B", "2019-06", "2500000.00", "2500000.00", "DIAMOND"),       # tier falls to PLATINUM
            *[("B", m, "1900000.00", "1900000.00", "PLATINUM") for m in after],
            ("C", "2019-06", "1000000.00", "1000000.00", "PLATINUM"),      # mean = 30.000% exactly: churned
            *[("C", m, "300000.00", "600000.00", "PLATINUM") for m in after],
            ("D", "2019-06", "1000000.00", "1000000.00", "PLATINUM"),      # one cent above 30%: not churned
            ("D", "2019-07", "300000.01", "600000.00", "PLATINUM"),
            *[("D", m, "300000.00", "600000.00", "PLATINUM") for m in after[1:]],
            ("E", "2019-06", "800000.00", "800000.00", "PLATINUM"),        # gone: AUM 0 and tier NONE
            ("F", "2019-06", "100000.00", "100000.00", "NONE")]            # not a wealth customer
    got = dataset.labels(aum_rows(spark, rows), "2019-06", R).select("cust_id", "tier_after", "label")
    want = spark.createDataFrame([("A", "PLATINUM", 0), ("B", "PLATINUM", 1), ("C", "PLATINUM", 1),
                                  ("D", "PLATINUM", 0), ("E", "NONE", 1)],
                                 "cust_id string, tier_after string, label int")
    assert_df_equality(got, want, ignore_row_order=True, ignore_nullable=True)


def test_article_variant_population_and_one_month_horizon(spark):
    article = dataclasses.replace(R, population_min_aum=200_000, horizon=1)
    rows = [("A", "2019-06", "250000.00", "250000.00", "NONE"), ("A", "2019-07", "70000.00", "70000.00", "NONE"),
            ("B", "2019-06", "200000.00", "200000.00", "NONE"), ("B", "2019-07", "0.00", "0.00", "NONE"),
            ("C", "2019-06", "900000.00", "900000.00", "PLATINUM"), ("C", "2019-07", "280000.00", "700000.00",
                                                                      "PLATINUM")]
    got = {r.cust_id: r.label for r in dataset.labels(aum_rows(spark, rows), "2019-06", article).collect()}
    # A: 70k <= 30% of 250k = 75k; B: not above the 200,000 floor; C: 280k > 270k
    assert got == {"A": 1, "C": 0}


def test_features_of_one_customer(spark):
    months = ["2019-01", "2019-02", "2019-03", "2019-04", "2019-05", "2019-06"]
    path = [100.0, 120.0, 90.0, 150.0, 60.0, 30.0]
    aum = spark.createDataFrame(
        [("X", m, Decimal(f"{a:.2f}"), Decimal("20.00") if m == "2019-06" else Decimal(f"{a:.2f}"),
          Decimal("6.00") if m == "2019-06" else Decimal(0), Decimal("750000.00"), "PLATINUM", "VOLATILE")
         for m, a in zip(months, path)], AUM_COLUMNS)
    activity = spark.createDataFrame(
        [("X", "2019-02", 4, 3, Decimal("300.00"), 1, Decimal("100.00"), Decimal("0.00"), 0, 2, 2),
         ("X", "2019-05", 5, 4, Decimal("900.00"), 1, Decimal("50.00"), Decimal("600.00"), 1, 4, 0),
         ("X", "2019-06", 2, 2, Decimal("400.00"), 0, Decimal("0.00"), Decimal("400.00"), 1, 2, 0)],
        "cust_id string, stat_month string, txn_cnt long, debit_cnt long, debit_amt decimal(18,2), credit_cnt long, "
        "credit_amt decimal(18,2), cross_bank_out_amt decimal(18,2), large_out_cnt long, mobile_cnt long, "
        "counter_cnt long")
    tags = spark.createDataFrame([("X", 4, 1, 3, True, 40)], "cust_id string, age_band int, asset_band int, "
                                 "product_count int, has_mobile_banking boolean, tenure_months int")
    people = aum.filter(F.col("stat_month") == "2019-06")
    got = dataset.features(people, aum, tags, activity, "2019-06", 6, Tiers()).first().asDict()
    y = np.array(path)
    t = np.arange(6)
    slope = np.polyfit(t, y, 1)[0]
    peak = np.maximum.accumulate(y)
    want = {
        "age_band": 4, "asset_band": 1, "product_count": 3, "has_mobile_banking": 1, "tenure_months": 40,
        "log_aum": np.log1p(30.0), "tier_headroom": np.log(1.5), "month_end_ratio": 20 / 30, "holding_share": 6 / 30,
        "aum_slope": slope / y.mean(), "aum_cv": y.std() / y.mean(), "max_drawdown": ((peak - y) / peak).max(),
        "aum_recent_ratio": (60 + 30) / 2 / ((100 + 120 + 90 + 150) / 4),
        "debit_cnt": 9, "debit_amt_log": np.log1p(1600), "credit_cnt": 2, "credit_amt_log": np.log1p(150),
        "debit_trend": np.log1p(1300 / 2) - np.log1p(300 / 4), "credit_trend": np.log1p(50 / 2) - np.log1p(100 / 4),
        "net_outflow_share": (1600 - 150) / 1750, "cross_bank_out_log": np.log1p(1000), "large_out_cnt": 2,
        "mobile_share": 8 / 11, "counter_share": 2 / 11,
    }
    assert set(want) == set(CHURN_CONTINUOUS)
    assert got["volatility_class"] == "VOLATILE" and got["feature_month"] == "2019-06"
    assert {k: got[k] for k in want} == pytest.approx(want, abs=1e-12)


def labelled_frame(spark, n=600, seed=1):
    """All CHURN_CONTINUOUS features random; debit_cnt drives the label, credit_cnt is debit_cnt
    plus noise (r ~ 0.95) and so carries less of the label; tenure_months is constant."""
    rng = np.random.default_rng(seed)
    data = {name: rng.normal(size=n) for name in CHURN_CONTINUOUS}
    data["credit_cnt"] = data["debit_cnt"] + 0.3 * rng.normal(size=n)
    data["tenure_months"] = np.full(n, 12.0)
    logit = -1.5 + 2.0 * data["debit_cnt"] + 1.0 * data["mobile_share"]
    label = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    vol = rng.choice(["STABLE", "GROWTH", "VOLATILE"], size=n)
    rows = [tuple(float(data[c][i]) for c in CHURN_CONTINUOUS) + (str(vol[i]), int(label[i]), f"C{i:04d}")
            for i in range(n)]
    schema = ", ".join(f"{c} double" for c in CHURN_CONTINUOUS) + ", volatility_class string, label int, cust_id string"
    return spark.createDataFrame(rows, schema), data, label


def test_screening_drops_the_collinear_feature_less_tied_to_the_label(spark):
    df, data, label = labelled_frame(spark)
    rows, kept = churn_model.screening(df, max_corr=0.8)
    by_name = {r["predictor"]: r for r in rows if r["kind"] == "continuous"}
    assert not by_name["credit_cnt"]["kept"] and "debit_cnt" in by_name["credit_cnt"]["reason"]
    assert by_name["tenure_months"]["reason"] == "constant"
    assert set(kept) == set(CHURN_CONTINUOUS) - {"credit_cnt", "tenure_months"}
    assert by_name["debit_cnt"]["pearson_r"] == pytest.approx(np.corrcoef(data["debit_cnt"], label)[0, 1], abs=1e-9)
    # the Figure 5 table: churn rate per volatility class
    pdf = df.select("volatility_class", "label").toPandas()
    want = pdf.groupby("volatility_class").label.mean().to_dict()
    got = {r["category"]: r["churn_rate"] for r in rows if r["kind"] == "categorical"}
    assert got == pytest.approx(want, abs=1e-12)


def test_a_month_without_churners_cannot_be_screened(spark):
    df, _, _ = labelled_frame(spark, n=50)
    with pytest.raises(NotTrainable, match="50 labelled customers, churn rate 0"):
        churn_model.screening(df.withColumn("label", F.lit(0)), max_corr=0.8)


def test_coefficients_agree_with_scikit_learn(spark):
    df, data, label = labelled_frame(spark, n=800, seed=2)
    inputs = ["debit_cnt", "mobile_share", "aum_cv"]
    reg = 0.05
    model = churn_model.fit(df, inputs, reg=reg, max_iter=500)
    coefs = {c["feature"]: c["coefficient"] for c in churn_model.coefficients(model, inputs)}
    x = np.column_stack([data[c] for c in inputs])
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)          # StandardScaler: sample std
    share = label.mean()
    w = np.where(label == 1, 0.5 / share, 0.5 / (1 - share))
    # MLlib: (1/Σw) Σ w·loss + reg/2 ‖β‖²  ==  scikit-learn: C Σ w·loss + 1/2 ‖β‖² with C = 1/(reg Σw)
    sk = SkLogisticRegression(C=1 / (reg * w.sum()), tol=1e-10, max_iter=10_000).fit(z, label, sample_weight=w)
    assert [coefs[c] for c in inputs] == pytest.approx(list(sk.coef_[0]), abs=1e-4)
    assert coefs["(intercept)"] == pytest.approx(sk.intercept_[0], abs=1e-4)


def test_reasons_are_the_largest_positive_contributions(spark):
    df, data, label = labelled_frame(spark, n=400, seed=3)
    inputs = ["debit_cnt", "mobile_share", "aum_cv", "credit_trend"]
    model = churn_model.fit(df, inputs, reg=0.01, max_iter=200)
    scored = model.transform(df).select("cust_id", vector_to_list("scaled"),
                                        churn_model.reasons(model, inputs).alias("reasons")).collect()
    beta = np.array(model.stages[2].coefficients)
    for row in scored[:50]:
        parts = beta * np.array(row.scaled)
        order = [i for i in np.argsort(-parts) if parts[i] > 0][:3]
        assert row.reasons == [CHURN_CONTINUOUS[inputs[i]] + (" (high)" if row.scaled[i] > 0 else " (low)")
                               for i in order]


def vector_to_list(col):
    from pyspark.ml.functions import vector_to_array
    return vector_to_array(F.col(col)).alias(col)


def test_measures_on_a_hand_scored_set(spark):
    # 10 customers, 4 churned; probabilities descending; threshold 0.4 flags the first five
    probs = [0.9, 0.8, 0.7, 0.45, 0.41, 0.3, 0.2, 0.15, 0.1, 0.05]
    labels = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    scored = spark.createDataFrame(list(zip(probs, labels)), "prob double, label int")
    m = churn_model.measures(scored, 0.4)
    # tp = 3 of 5 flagged; 4 positives; right = 3 tp + 4 tn (0.3, 0.15, 0.1, 0.05) = 7
    assert (m["rows"], m["positives"], m["base_rate"], m["accuracy"]) == (10, 4, 0.4, 0.7)
    assert m["precision_at_threshold"] == pytest.approx(0.6) and m["recall_at_threshold"] == pytest.approx(0.75)
    # AUC: of 24 (pos, neg) pairs the positive ranks higher in 20  (0.2 is below 4 negatives)
    assert m["auc"] == pytest.approx(20 / 24)
    # KS: after 0.45, tpr = 3/4, fpr = 1/6 -> 0.5833
    assert m["ks"] == pytest.approx(3 / 4 - 1 / 6)
    # deciles of one customer each: the top one churned, lift = 1 / 0.4
    assert m["deciles"][0]["decile"] == 1 and m["top_decile_lift"] == pytest.approx(2.5)


def test_auc_ks_and_deciles_are_exact_with_ties_against_scikit_learn_and_pandas(spark):
    # 203 customers, scores on a grid of 1/400: ties, several scores in one ROC bucket
    # (floor(prob x 100), where the 101-point curve used to read KS) and decile cuts through ties
    rng = np.random.default_rng(9)
    probs = np.round(rng.beta(2, 5, 203) * 400) / 400
    labels = (rng.random(203) < probs).astype(int)
    scored = spark.createDataFrame([(float(p), int(y)) for p, y in zip(probs, labels)], "prob double, label int")
    m = churn_model.measures(scored, 0.4)
    fpr, tpr, _ = roc_curve(labels, probs)
    assert m["ks"] == pytest.approx(max(tpr - fpr), abs=1e-12)
    assert m["auc"] == pytest.approx(roc_auc_score(labels, probs), abs=1e-12)
    # the same bits however the rows are partitioned (the measures of a re-run, or of a cluster)
    assert {churn_model.measures(scored.repartition(n), 0.4)["auc"] for n in (1, 3, 7)} == {m["auc"]}
    # deciles by position: highest prob first, among equal probs the non-churners first
    frame = pd.DataFrame({"prob": probs, "label": labels}).sort_values(["prob", "label"], ascending=[False, True])
    frame["decile"] = np.arange(203) * 10 // 203 + 1
    want = frame.groupby("decile").agg(n=("label", "size"), p=("prob", "mean"), rate=("label", "mean"))
    assert [d["cust_cnt"] for d in m["deciles"]] == list(want.n) == [21, 20, 20, 21, 20, 20, 21, 20, 20, 20]
    assert [d["mean_prob"] for d in m["deciles"]] == pytest.approx(list(want.p), abs=1e-12)
    assert [d["churn_rate"] for d in m["deciles"]] == pytest.approx(list(want.rate), abs=1e-12)
    assert m["top_decile_lift"] == pytest.approx(want.rate.iloc[0] / labels.mean())


def test_with_one_class_the_auc_is_undefined_and_ks_zero(spark):
    # no churner among the rows tested (a quiet month): no pair to rank, no gap to open
    scored = spark.createDataFrame([(0.3, 0), (0.6, 0), (0.6, 0)], "prob double, label int")
    m = churn_model.measures(scored, 0.4)
    assert np.isnan(m["auc"]) and m["ks"] == 0.0 and m["positives"] == 0 and m["accuracy"] == pytest.approx(1 / 3)


def test_population_stability_of_several_columns_equals_numpy(spark):
    # previous x: value 0 and 10 hold 5% each and 1..9 10% each, so its deciles are exactly 1..9;
    # previous y is constant (one cut) and z has no values (no index)
    previous = [(float(v), 5.0, None) for v, n in [(0, 10), *((v, 20) for v in range(1, 10)), (10, 10)]
                for _ in range(n)]
    rng = np.random.default_rng(4)
    current = [(float(x), float(y), 1.0) for x, y in zip(rng.integers(0, 13, 150), rng.integers(0, 10, 150))]
    current.append((None, 7.0, 1.0))             # a null falls in the first bucket
    schema = "x double, y double, z double"
    got = churn_model.psis(spark.createDataFrame(current, schema), spark.createDataFrame(previous, schema),
                           ["x", "y", "z"])

    def index(now, before, cuts):
        def shares(values):
            buckets = [0 if v is None else int(np.searchsorted(cuts, v, side="left")) for v in values]
            return np.maximum(np.bincount(buckets, minlength=len(cuts) + 1) / len(values), 1e-4)
        a, e = shares(now), shares(before)
        return float(np.sum((a - e) * np.log(a / e)))
    assert got["x"] == pytest.approx(index([r[0] for r in current], [r[0] for r in previous], list(range(1, 10))),
                                     rel=1e-12)
    assert got["y"] == pytest.approx(index([r[1] for r in current], [r[1] for r in previous], [5.0]), rel=1e-12)
    assert got["z"] is None and got["x"] > 0.01
