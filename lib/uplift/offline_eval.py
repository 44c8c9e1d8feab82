"""Offline evaluation of the recommenders (SPEC §4 "ALS"): hide one held product of a
sample of customers, recommend from what is left, and count how often the hidden product
comes back — for Pearson UCF, ALS and a popularity baseline.

The sample and the hidden product are chosen by hashing CUST_ID with the seed, not by
`sample()`, so they do not depend on how the data is partitioned: a re-run evaluates the
same customers and products.
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib.seeded import uniform
from lib.uplift.recommenders import CF_PRODUCTS, top_products

AT = (1, 3)


def _held() -> F.Column:
    """The CF products a customer holds, as an array of names (nulls where not held)."""
    return F.array(*[F.when(F.col(f"has_{p.lower()}"), F.lit(p)) for p in CF_PRODUCTS])


def hide_one(tags: DataFrame, seed: int, share: float) -> tuple[DataFrame, DataFrame]:
    """(tags with the hidden holdings removed, hidden: cust_id, hidden_product) for the
    sampled customers who hold at least one CF product."""
    held = F.filter(_held(), lambda p: p.isNotNull())
    sampled = (tags.filter(uniform(seed, "eval.sample", F.col("cust_id")) < share)
               .select("cust_id", F.explode(held).alias("product")))
    hidden = sampled.groupBy("cust_id").agg(
        F.min_by("product", uniform(seed, "eval.hide", F.col("cust_id"), F.col("product"))).alias("hidden_product"))
    flags = [(F.col(f"has_{p.lower()}") & F.coalesce(F.col("hidden_product") != p, F.lit(True))).alias(f"has_{p.lower()}")
             for p in CF_PRODUCTS]
    others = [c for c in tags.columns if c not in {f"has_{p.lower()}" for p in CF_PRODUCTS}]
    masked = tags.join(hidden, "cust_id", how="left").select(*others, *flags)
    return masked, hidden


def popularity(tags: DataFrame, top_n: int) -> DataFrame:
    """cust_id, product, score, rank: each customer's unheld CF products by the share of
    customers holding them (the baseline a recommender has to beat)."""
    shares = tags.agg(*[F.avg(F.col(f"has_{p.lower()}").cast("double")).alias(p) for p in CF_PRODUCTS])
    per_product = shares.unpivot([], list(CF_PRODUCTS), "product", "score")
    unheld = (tags.select("cust_id", _held().alias("held")).crossJoin(F.broadcast(per_product))
              .filter(~F.coalesce(F.array_contains("held", F.col("product")), F.lit(False))))
    return top_products(unheld, "cust_id", top_n).select("cust_id", "product", "score", "rank")


def evaluate(recommendations: DataFrame, hidden: DataFrame) -> DataFrame:
    """One row: evaluated_cnt, hit_rate_at_k (the hidden product is among the first k),
    precision_at_k (share of the first-k recommendations shown that were the hidden product)
    for k in AT, and coverage (share of evaluated customers given any recommendation); the
    shares are null when there is nothing to divide by."""
    recs = recommendations.select("cust_id", "product", "rank")
    joined = hidden.join(recs, "cust_id", how="left")
    per_customer = joined.groupBy("cust_id").agg(
        F.count("product").alias("shown"),
        *[F.max(F.when((F.col("rank") <= k) & (F.col("product") == F.col("hidden_product")), 1).otherwise(0))
          .alias(f"hit{k}") for k in AT],
        *[F.count(F.when(F.col("rank") <= k, 1)).alias(f"shown{k}") for k in AT])
    n = F.count(F.lit(1))
    return per_customer.agg(
        n.alias("evaluated_cnt"),
        *[F.try_divide(F.sum(f"hit{k}"), n).alias(f"hit_rate_at_{k}") for k in AT],
        *[F.try_divide(F.sum(f"hit{k}"), F.sum(f"shown{k}")).alias(f"precision_at_{k}") for k in AT],
        F.try_divide(F.count(F.when(F.col("shown") > 0, 1)), n).alias("coverage"))
