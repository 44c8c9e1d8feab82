"""Tags that come from clustering (SPEC §4): risk preference and peak-asset level.

MLlib KMeans with a fixed seed; clusters are named by their centroids (not by the
arbitrary cluster index), so the names mean the same thing every month. The fitted
pipelines are returned so the caller can save them with the month's tags.
"""
from __future__ import annotations

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.clustering import KMeans
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

RISK_NAMES = ("DEPOSIT", "BALANCED", "WEALTH")        # most deposit-heavy centroid first


# KMeans' k-means|| start samples each partition with the seed and the partition's index,
# so the fit sees the customers in a fixed layout: the same clusters in local mode and on a
# cluster of any size, whatever partitions the input arrived in.
FIT_PARTITIONS = 8


def _fit(df: DataFrame, inputs: list[str], k: int, seed: int) -> PipelineModel:
    stages = [VectorAssembler(inputCols=inputs, outputCol="_features"),
              KMeans(k=k, seed=seed, featuresCol="_features", predictionCol="_cluster")]
    return Pipeline(stages=stages).fit(df.repartition(FIT_PARTITIONS, "cust_id").sortWithinPartitions("cust_id"))


def _named(model: PipelineModel, df: DataFrame, names: dict[int, str], column: str) -> DataFrame:
    mapping = F.create_map(*[x for i, name in sorted(names.items()) for x in (F.lit(i), F.lit(name))])
    return model.transform(df).withColumn(column, mapping[F.col("_cluster")]).drop("_features", "_cluster")


def risk_preference(shares: DataFrame, seed: int) -> tuple[DataFrame, PipelineModel]:
    """shares: cust_id, deposit_share (deposits + treasury bonds over AUM),
    investment_share (wealth products + funds + insurance over AUM). Adds risk_preference:
    DEPOSIT for the cluster whose centroid is most deposit-heavy, WEALTH for the most
    investment-heavy, BALANCED for the third."""
    model = _fit(shares, ["deposit_share", "investment_share"], len(RISK_NAMES), seed)
    centers = model.stages[-1].clusterCenters()                     # k = 3 points
    by_deposit = sorted(range(len(centers)), key=lambda i: (-centers[i][0], centers[i][1]))
    return _named(model, shares, {i: RISK_NAMES[rank] for rank, i in enumerate(by_deposit)},
                  "risk_preference"), model


def peak_level(peaks: DataFrame, k: int, seed: int) -> tuple[DataFrame, PipelineModel]:
    """peaks: cust_id, peak_aum. Adds peak_level PEAK_1 (lowest centroid) .. PEAK_k, from
    KMeans on log(1 + peak): asset sizes span orders of magnitude."""
    logged = peaks.withColumn("_log_peak", F.log1p(F.col("peak_aum").cast("double")))
    model = _fit(logged, ["_log_peak"], k, seed)
    centers = model.stages[-1].clusterCenters()
    ascending = sorted(range(len(centers)), key=lambda i: centers[i][0])
    out = _named(model, logged, {i: f"PEAK_{rank + 1}" for rank, i in enumerate(ascending)}, "peak_level")
    return out.drop("_log_peak"), model


def asset_shares(aum: DataFrame, holdings: DataFrame) -> DataFrame:
    """aum: cust_id, aum_month_avg, deposit_month_avg; holdings (T98 rows of the month):
    cust_id, prod_type, month_avg_bal. Customers with positive AUM only."""
    def held(*products: str) -> Column:
        return F.sum(F.when(F.col("prod_type").isin(*products), F.col("month_avg_bal")).otherwise(0))
    by_class = holdings.groupBy("cust_id").agg(held("TREASURY_BOND").alias("treasury"),
                                               held("WEALTH_PRODUCT", "FUND", "INSURANCE").alias("investment"))
    total = F.col("aum_month_avg").cast("double")
    return (aum.filter(F.col("aum_month_avg") > 0).join(by_class, "cust_id", how="left")
            .select("cust_id",
                    ((F.col("deposit_month_avg") + F.coalesce("treasury", F.lit(0))) / total).alias("deposit_share"),
                    (F.coalesce("investment", F.lit(0)) / total).alias("investment_share")))
