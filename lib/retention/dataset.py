"""Churn label and features (SPEC §4 "Churn label", "Churn model"; the paper §5.3.3).

Label for reference month r: among the population at r (the wealth customers, or for the
article's variant every customer whose monthly AUM exceeds a floor), a customer churned
when its tier `horizon` months later is lower, or the mean monthly AUM over those months
is at most `drop_share` of aum_3m at r. A month without a row counts as AUM 0 and tier NONE.

Features describe the `feature_months` months ending at r: the AUM path (from
customer_month_aum), the profile (customer_tags of r) and the account activity (from
customer_month_activity, one row per customer and month of ledger aggregates).
"""
from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lib.config import RetentionConf, Tiers
from lib.months import add_months
from lib.schemas import MONEY, POSTAL_BANK_CODE
from lib.seeded import uniform
from lib.tables import CHURN_CATEGORICAL, CHURN_CONTINUOUS
from lib.tiers import tier_rank
from lib.trend import window_values

VOLATILITY_LEVELS = ("STABLE", "GROWTH", "DECLINING", "VOLATILE", "UNKNOWN")
RECENT = 2      # the "recent" months of the recent-vs-earlier ratios


def population(aum_r: DataFrame, retention: RetentionConf) -> DataFrame:
    """Rows of customer_month_aum at the reference month that the model is about."""
    if retention.population_min_aum is None:
        return aum_r.filter(F.col("tier") != "NONE")
    return aum_r.filter(F.col("aum_month_avg") > retention.population_min_aum)


def labels(aum: DataFrame, ref_month: str, retention: RetentionConf) -> DataFrame:
    """cust_id, ref_month, tier_at_ref, tier_after, future_mean_aum, label (1 churned);
    `aum` holds customer_month_aum rows of ref_month .. ref_month + horizon."""
    after = add_months(ref_month, retention.horizon)
    base = population(aum.filter(F.col("stat_month") == ref_month), retention).select("cust_id", "aum_3m", "tier")
    future = (aum.filter(F.col("stat_month").between(add_months(ref_month, 1), after))
              .groupBy("cust_id").agg(F.sum("aum_month_avg").alias("future_sum"),
                                      F.max(F.when(F.col("stat_month") == after, F.col("tier"))).alias("tier_after")))
    joined = base.join(future, "cust_id", how="left").select(
        "cust_id", F.col("tier").alias("tier_at_ref"), F.coalesce("tier_after", F.lit("NONE")).alias("tier_after"),
        F.coalesce("future_sum", F.lit(0).cast(MONEY)).alias("future_sum"), "aum_3m")
    # exact decimal comparison: Σ future <= share × horizon × aum_3m (no rounding at the boundary)
    share = F.lit(str(retention.drop_share)).cast("decimal(10,6)")
    dropped = F.col("future_sum") <= share * F.lit(retention.horizon) * F.col("aum_3m")
    fell = tier_rank(F.col("tier_after")) < tier_rank(F.col("tier_at_ref"))
    return joined.select("cust_id", F.lit(ref_month).alias("ref_month"), "tier_at_ref", "tier_after",
                         (F.col("future_sum") / retention.horizon).cast(MONEY).alias("future_mean_aum"),
                         (fell | dropped).cast("int").alias("label"))


def activity_month(ledger: DataFrame, large_outflow: float) -> DataFrame:
    """cust_id, stat_month and the month's ledger aggregates per customer (silver ledger rows)."""
    debit, credit = F.col("dr_cr_flag") == "D", F.col("dr_cr_flag") == "C"
    amt = F.col("txn_amt")
    cross_bank = debit & F.col("cpty_bank_code").isNotNull() & (F.col("cpty_bank_code") != POSTAL_BANK_CODE)
    return ledger.groupBy("cust_id", "stat_month").agg(
        F.count(F.lit(1)).alias("txn_cnt"),
        F.count(F.when(debit, 1)).alias("debit_cnt"),
        F.coalesce(F.sum(F.when(debit, amt)), F.lit(0)).cast(MONEY).alias("debit_amt"),
        F.count(F.when(credit, 1)).alias("credit_cnt"),
        F.coalesce(F.sum(F.when(credit, amt)), F.lit(0)).cast(MONEY).alias("credit_amt"),
        F.coalesce(F.sum(F.when(cross_bank, amt)), F.lit(0)).cast(MONEY).alias("cross_bank_out_amt"),
        F.count(F.when(debit & (amt >= large_outflow), 1)).alias("large_out_cnt"),
        F.count(F.when(F.col("channel") == "MOBILE", 1)).alias("mobile_cnt"),
        F.count(F.when(F.col("channel") == "COUNTER", 1)).alias("counter_cnt"))


def _ratio(a: Column, b: Column) -> Column:
    """a / b, 0 when b is 0."""
    return F.when(b != 0, a / b).otherwise(0.0)


def _log_trend(recent: Column, earlier: Column, months: int) -> Column:
    """log(1 + recent monthly mean) − log(1 + earlier monthly mean): signed, bounded."""
    return F.log1p(recent / RECENT) - F.log1p(earlier / (months - RECENT))


def aum_features(history: DataFrame, ref_month: str, months: int) -> DataFrame:
    """cust_id + the AUM-path features over the `months` months ending at ref_month."""
    vals = window_values(history, [ref_month], months)
    ys = [F.coalesce(F.col("vals")[k], F.lit(0)).cast("double") for k in range(months)]   # k = months back
    mean = sum(ys[1:], ys[0]) / months
    ts = [months - 1 - k for k in range(months)]
    t_mean = sum(ts) / months
    sxx = sum((t - t_mean) ** 2 for t in ts)
    slope = sum(((t - t_mean) * y for t, y in zip(ts, ys)), F.lit(0.0)) / sxx
    var = sum(((y - mean) * (y - mean) for y in ys), F.lit(0.0)) / months
    # running peak from the oldest month forward; the largest relative fall below it
    drawdowns, peak = [], None
    for y in reversed(ys):
        peak = y if peak is None else F.greatest(peak, y)
        drawdowns.append(_ratio(peak - y, peak))
    recent = sum(ys[1:RECENT], ys[0]) / RECENT
    earlier = sum(ys[RECENT + 1:], ys[RECENT]) / (months - RECENT)
    return vals.select("cust_id", _ratio(slope, mean).alias("aum_slope"),
                       _ratio(F.sqrt(var), mean).alias("aum_cv"),
                       F.greatest(*drawdowns).alias("max_drawdown"),
                       F.when(earlier > 0, recent / earlier).otherwise(F.when(recent > 0, 2.0).otherwise(1.0))
                       .alias("aum_recent_ratio"))


def activity_features(activity: DataFrame, ref_month: str, months: int) -> DataFrame:
    """cust_id + the ledger features over the `months` months ending at ref_month."""
    first, recent_from = add_months(ref_month, -(months - 1)), add_months(ref_month, -(RECENT - 1))
    rows = activity.filter(F.col("stat_month").between(first, ref_month))
    is_recent = F.col("stat_month") >= recent_from

    def split(col: str) -> list[Column]:
        return [F.sum(F.when(is_recent, F.col(col)).otherwise(0)).cast("double").alias(f"{col}_recent"),
                F.sum(F.when(~is_recent, F.col(col)).otherwise(0)).cast("double").alias(f"{col}_earlier")]

    sums = rows.groupBy("cust_id").agg(
        *[F.sum(c).cast("double").alias(c) for c in ("txn_cnt", "debit_cnt", "debit_amt", "credit_cnt", "credit_amt",
                                                      "cross_bank_out_amt", "large_out_cnt", "mobile_cnt",
                                                      "counter_cnt")],
        *split("debit_amt"), *split("credit_amt"))
    flows = F.col("debit_amt") + F.col("credit_amt")
    return sums.select(
        "cust_id", "debit_cnt", F.log1p("debit_amt").alias("debit_amt_log"), "credit_cnt",
        F.log1p("credit_amt").alias("credit_amt_log"),
        _log_trend(F.col("debit_amt_recent"), F.col("debit_amt_earlier"), months).alias("debit_trend"),
        _log_trend(F.col("credit_amt_recent"), F.col("credit_amt_earlier"), months).alias("credit_trend"),
        _ratio(F.col("debit_amt") - F.col("credit_amt"), flows).alias("net_outflow_share"),
        F.log1p("cross_bank_out_amt").alias("cross_bank_out_log"), "large_out_cnt",
        _ratio(F.col("mobile_cnt"), F.col("txn_cnt")).alias("mobile_share"),
        _ratio(F.col("counter_cnt"), F.col("txn_cnt")).alias("counter_share"))


def tier_floor(bounds: Tiers) -> Column:
    """The lower bound of the customer's tier (null for NONE)."""
    floors = {"PLATINUM": bounds.platinum, "DIAMOND": bounds.diamond, "PRIVATE": bounds.private}
    out = F.lit(None).cast("double")
    for name, floor in floors.items():
        out = F.when(F.col("tier") == name, F.lit(float(floor))).otherwise(out)
    return out


def features(people: DataFrame, history: DataFrame, tags_r: DataFrame, activity: DataFrame, ref_month: str,
             months: int, bounds: Tiers) -> DataFrame:
    """cust_id, feature_month + CHURN_CONTINUOUS + CHURN_CATEGORICAL for `people` (cust_id +
    customer_month_aum columns of ref_month). Missing activity counts as none; a missing
    band or class has its own value (0, UNKNOWN)."""
    profile = tags_r.select("cust_id", "age_band", "asset_band", "product_count",
                            F.col("has_mobile_banking").cast("int").alias("has_mobile_banking"), "tenure_months")
    aum_now = people.select(
        "cust_id", F.log1p(F.col("aum_month_avg").cast("double")).alias("log_aum"),
        # how far a drop has to go before the tier falls (0 without a tier)
        F.coalesce(F.log(F.col("aum_3m").cast("double") / tier_floor(bounds)), F.lit(0.0)).alias("tier_headroom"),
        _ratio(F.col("aum_month_end").cast("double"), F.col("aum_month_avg").cast("double")).alias("month_end_ratio"),
        _ratio(F.col("holding_month_avg").cast("double"), F.col("aum_month_avg").cast("double")).alias("holding_share"),
        F.coalesce(F.col("volatility_class"), F.lit("UNKNOWN")).alias("volatility_class"))
    out = (aum_now.join(aum_features(history, ref_month, months), "cust_id", how="left")
           .join(profile, "cust_id", how="left")
           .join(activity_features(activity, ref_month, months), "cust_id", how="left"))
    return out.fillna(0, subset=list(CHURN_CONTINUOUS)).select(
        "cust_id", F.lit(ref_month).alias("feature_month"),
        *[F.col(c).cast("double").alias(c) for c in CHURN_CONTINUOUS], *CHURN_CATEGORICAL)


def modelling_rows(aum: DataFrame, tags: DataFrame, activity: DataFrame, month: str, retention: RetentionConf,
                   bounds: Tiers) -> DataFrame:
    """churn_features rows of the run of `month`: OOT_TRAIN (r − 1), TRAIN / TEST (r, split
    by a seeded draw on cust_id), SCORE (M); from customer_month_aum of the feature months
    up to M, customer_tags of r − 1, r and M, and customer_month_activity."""
    ref, prev = add_months(month, -retention.horizon), add_months(month, -retention.horizon - 1)

    def at(feature_month: str) -> DataFrame:
        people = population(aum.filter(F.col("stat_month") == feature_month), retention)
        history = aum.filter(F.col("stat_month") <= feature_month)
        return features(people, history, tags.filter(F.col("stat_month") == feature_month), activity,
                        feature_month, retention.feature_months, bounds)

    def labelled(feature_month: str) -> DataFrame:
        lab = labels(aum.filter(F.col("stat_month") >= feature_month), feature_month, retention)
        return at(feature_month).join(lab.select("cust_id", "label"), "cust_id", how="inner")

    train = uniform(retention.seed, "churn.split", F.col("cust_id")) < retention.train_share
    return reduce(DataFrame.unionByName, [
        labelled(prev).withColumn("role", F.lit("OOT_TRAIN")),
        labelled(ref).withColumn("role", F.when(train, "TRAIN").otherwise("TEST")),
        at(month).withColumn("label", F.lit(None).cast("int")).withColumn("role", F.lit("SCORE")),
    ])
