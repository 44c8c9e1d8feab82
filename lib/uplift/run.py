"""The uplift stage: customer_tags of month M -> product_recommendation (Pearson UCF and
ALS for the month's wealth customers, with masked contacts) and recommender_eval (both
against a popularity baseline, hiding one held product per sampled customer)."""
from __future__ import annotations

from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.config import Config, UpliftConf
from lib.contacts import contacts
from lib.io import read_gold, read_silver, replace_months
from lib.logs import stage
from lib.tables import CUSTOMER_TAGS, PRODUCT_RECOMMENDATION, RECOMMENDER_EVAL
from lib.uplift import offline_eval, recommenders

EVAL_TOP_N = max(offline_eval.AT)


def wealth_tags(spark: SparkSession, conf: Config, month: str) -> DataFrame:
    """The month's wealth customers' tags, read once: the two recommenders (run twice, for
    the month and for the evaluation) query them 16 times, each time listing the Delta
    table's files and planning the read again (2 s more a month at 5,000 customers)."""
    tags = read_gold(spark, conf, CUSTOMER_TAGS.name, [month], "tags").filter(F.col("tier") != "NONE")
    return tags.localCheckpoint(eager=True)


def recommendations(tags: DataFrame, uplift: UpliftConf, top_n: int) -> dict[str, DataFrame]:
    """Each method's cust_id, product, score, rank (+ the UCF explanation columns)."""
    return {
        "PEARSON_UCF": recommenders.pearson_ucf(tags, uplift.k, uplift.min_score, top_n),
        "ALS": recommenders.als_recommend(tags, uplift.als_rank, uplift.als_reg, uplift.als_alpha,
                                          uplift.als_iterations, uplift.seed, top_n),
    }


def explained(method: str, recs: DataFrame) -> DataFrame:
    if method == "PEARSON_UCF":
        why = F.format_string("%d of your %d nearest neighbours hold %s (mean similarity %.2f)",
                              "neighbours_holding", "neighbours", "product", "mean_r")
        return recs.withColumn("explanation", why)
    why = F.format_string("ALS predicted preference %.3f from customers with similar holdings", "score")
    return recs.select("*", why.alias("explanation"),
                       *[F.lit(None).alias(c) for c in ("neighbours_holding", "neighbours", "mean_r")])


def evaluation(tags: DataFrame, uplift: UpliftConf) -> DataFrame:
    """One row per method (PEARSON_UCF, ALS, POPULARITY) with `best` set on the winner."""
    masked, hidden = offline_eval.hide_one(tags, uplift.seed, uplift.eval_share)
    methods = {**recommendations(masked, uplift, EVAL_TOP_N),
               "POPULARITY": offline_eval.popularity(masked, EVAL_TOP_N)}
    rows = reduce(DataFrame.unionByName, [offline_eval.evaluate(recs, hidden).withColumn("method", F.lit(name))
                                          for name, recs in methods.items()])
    return rows.withColumns({"seed": F.lit(uplift.seed), "sample_share": F.lit(uplift.eval_share)})


def best_method(rows: list) -> str:
    """The highest hit rate at 3, then at 1, then by name (rows: recommender_eval rows)."""
    return min(rows, key=lambda r: (-(r.hit_rate_at_3 or 0), -(r.hit_rate_at_1 or 0), r.method)).method


def run_uplift(spark: SparkSession, conf: Config, month: str, log) -> None:
    uplift = conf.uplift
    tags = wealth_tags(spark, conf, month)
    people = contacts(read_silver(spark, conf, "t01_indpty_id", [month]), read_silver(spark, conf, "org_dim", [month]))
    with stage(log, f"recommendations {month}") as st:
        recs = reduce(DataFrame.unionByName, [explained(name, df).withColumn("method", F.lit(name))
                                              for name, df in recommendations(tags, uplift, uplift.top_n).items()])
        rows = recs.join(people, "cust_id", how="left").withColumn("stat_month", F.lit(month))
        st.rows_out = replace_months(spark, rows, conf.database, PRODUCT_RECOMMENDATION, [month])
    with stage(log, f"recommender evaluation {month}") as st:
        scores = evaluation(tags, uplift).cache()
        measured = scores.collect()   # bounded: one row per method
        best = best_method(measured)
        out = scores.withColumn("best", F.col("method") == best).withColumn("stat_month", F.lit(month))
        st.rows_out = replace_months(spark, out, conf.database, RECOMMENDER_EVAL, [month])
        scores.unpersist()
    for r in sorted(measured, key=lambda r: r.method):
        log.info("evaluation %s: customers=%d hit@1=%.3f hit@3=%.3f precision@3=%s coverage=%.3f", r.method,
                 r.evaluated_cnt, r.hit_rate_at_1 or 0, r.hit_rate_at_3 or 0,
                 "n/a" if r.precision_at_3 is None else f"{r.precision_at_3:.3f}", r.coverage or 0)
    log.info("best recommender for %s: %s", month, best)
