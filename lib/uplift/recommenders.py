"""Pearson user-based collaborative filtering exactly as SPEC §4 (the paper's §5.3.2).

A customer's vector is [age band, asset band, six product flags]. Its neighbours are the
K customers with the largest Pearson r > 0 among customers whose vector differs from its
own (ties by CUST_ID); score(p) = Σ r of neighbours holding p / Σ r of neighbours.

Why this is exact without all pairs of customers: r, the neighbour set and the scores
depend only on vectors, and there are at most 6 × 6 × 2⁶ = 2,304 distinct vectors. So
  1. r is computed for every pair of *distinct* vectors (bounded, whatever the number of
     customers), weighted by how many customers share each vector;
  2. for a target vector, candidates are taken level by level (a level = one value of r,
     possibly several vectors) until K customers are reached; within the last, partly
     taken level the customers with the smallest CUST_IDs are taken, which fixes how many
     come from each vector;
  3. scores per target vector are Σ taken × r over the neighbour vectors holding p, and
     every customer with that vector gets them.
Cost grows with the number of customers only through counting and joining them once.
"""
from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

CF_PRODUCTS = ("LARGE_CD", "AGREEMENT_DEPOSIT", "WEALTH_PRODUCT", "FUND", "INSURANCE", "MOBILE_BANKING")
VECTOR_LENGTH = 2 + len(CF_PRODUCTS)
R_DIGITS = 12          # r is compared at this precision, so equal r from different sums tie
EXACT_R = f"decimal({R_DIGITS + 1},{R_DIGITS})"   # r in (0, 1] at that precision, exactly
# MLlib's ALS splits the customers and the products into blocks, a task each in every
# iteration's jobs: two of each hold a province's wealth customers and the six products
# (MLlib's ten only add tasks). Fixed, not configured: each block's starting factors are
# drawn from the seed and the block's number, so the blocks decide the factors.
ALS_BLOCKS = 2
# MLlib checkpoints the item factors to disk every 10th iteration by default, i.e. at the
# last of our 10: a lineage of up to 50 iterations needs no checkpoint.
ALS_CHECKPOINT_EVERY = 50


def top_products(scored: DataFrame, key: str, n: int) -> DataFrame:
    """The `n` best-scored products of each `key`, with their rank (ties by product name)."""
    best = Window.partitionBy(key).orderBy(F.col("score").desc(), "product")
    return scored.withColumn("rank", F.row_number().over(best)).filter(F.col("rank") <= n)


def cf_vectors(tags: DataFrame) -> DataFrame:
    """cust_id, vec (array<double>: age band, asset band, product flags), key (string), for
    customers with both bands (the asset band exists for wealth customers only)."""
    parts = [F.col("age_band"), F.col("asset_band")] + [F.col(f"has_{p.lower()}").cast("int") for p in CF_PRODUCTS]
    vec = F.array(*[p.cast("double") for p in parts])
    banded = tags.filter(F.col("age_band").isNotNull() & F.col("asset_band").isNotNull())
    return banded.select("cust_id", vec.alias("vec")).withColumn("key", F.array_join(F.col("vec").cast("array<int>"), ","))


def moments(vec: Column, length: int, prefix: str) -> list[Column]:
    """The columns Pearson needs of one vector: its elements <prefix>0.. and <prefix>sx = Σx,
    <prefix>vx = n·Σx² − (Σx)² (0 for a constant vector)."""
    xs = [vec[i] for i in range(length)]
    sx, sxx = sum(xs[1:], xs[0]), sum((x * x for x in xs[1:]), xs[0] * xs[0])
    return [x.alias(f"{prefix}{i}") for i, x in enumerate(xs)] + [
        sx.alias(f"{prefix}sx"), (length * sxx - sx * sx).alias(f"{prefix}vx")]


def pearson(a: str, b: str, length: int) -> Column:
    """Pearson r of two vectors from their `moments` (prefixes a and b); 0 when either is
    constant. Only Σxy is left per pair: a few multiplications Spark compiles, which
    matters over millions of pairs."""
    sxy = sum((F.col(f"{a}{i}") * F.col(f"{b}{i}") for i in range(1, length)), F.col(f"{a}0") * F.col(f"{b}0"))
    va, vb = F.col(f"{a}vx"), F.col(f"{b}vx")
    return F.when((va > 0) & (vb > 0), (length * sxy - F.col(f"{a}sx") * F.col(f"{b}sx")) / F.sqrt(va * vb)
                  ).otherwise(0.0)


def neighbour_vectors(vectors: DataFrame, k: int) -> DataFrame:
    """key (target vector), nkey (neighbour vector), r, taken: how many customers of nkey
    are among the target's K nearest neighbours."""
    groups = vectors.groupBy("key", "vec").agg(F.count(F.lit(1)).alias("n"))
    side = lambda p: groups.select(F.col("key").alias(f"{p}key"), F.col("n").alias(f"{p}n"),  # noqa: E731
                                   *moments(F.col("vec"), VECTOR_LENGTH, p))
    pairs = (side("t_").crossJoin(F.broadcast(side("c_"))).filter(F.col("t_key") != F.col("c_key"))
             .select(F.col("t_key").alias("key"), F.col("c_key").alias("nkey"), F.col("c_n").alias("n"),
                     F.round(pearson("t_", "c_", VECTOR_LENGTH), R_DIGITS).alias("r"))
             .filter(F.col("r") > 0))
    # A level is one value of r for a target; `before` counts the customers of the levels
    # above it. One window pass gives both to every pair, so the pairs are computed once.
    level = Window.partitionBy("key", "r")
    down_to = Window.partitionBy("key").orderBy(F.col("r").desc()).rangeBetween(Window.unboundedPreceding, 0)
    levelled = (pairs.withColumn("level_n", F.sum("n").over(level))
                .withColumn("before", F.sum("n").over(down_to) - F.col("level_n"))
                .filter(F.col("before") < k)
                .withColumn("room", F.lit(k) - F.col("before")))
    full = levelled.filter(F.col("level_n") <= F.col("room")).select("key", "nkey", "r", F.col("n").alias("taken"))
    # The last level is cut: its customers by CUST_ID, first `room` (< k) of them. They are
    # among the k smallest CUST_IDs of each of the level's vectors, so only those are joined
    # (a bounded number per vector, however many customers share it).
    by_id = Window.partitionBy("key").orderBy("cust_id")
    smallest = (vectors.withColumn("i", F.row_number().over(by_id)).filter(F.col("i") <= k)
                .select(F.col("key").alias("nkey"), "cust_id"))
    cut = levelled.filter(F.col("level_n") > F.col("room")).join(smallest, "nkey", how="inner")
    taken = (cut.withColumn("i", F.row_number().over(by_id)).filter(F.col("i") <= F.col("room"))
             .groupBy("key", "nkey", "r").agg(F.count(F.lit(1)).alias("taken")))
    return full.unionByName(taken)


def pearson_ucf(tags: DataFrame, k: int, min_score: float, top_n: int) -> DataFrame:
    """cust_id, product, score, rank, neighbours_holding, neighbours, mean_r: for each
    customer the unheld products with score >= min_score, best first (ties by product)."""
    vectors = cf_vectors(tags)
    nb = neighbour_vectors(vectors, k)
    # Σ r × taken is summed in decimal: a double sum's last bit depends on the order its
    # rows arrive in, and the scores must not change with partitioning or row order.
    weight = F.col("r").cast(EXACT_R) * F.col("taken").cast("decimal(10,0)")
    flags = F.split(F.col("nkey"), ",")
    held_by_nb = nb.select("key", weight.alias("w"), "taken",
                           F.posexplode(F.slice(flags, 3, len(CF_PRODUCTS))).alias("i", "flag"))
    per_product = held_by_nb.groupBy("key", "i").agg(
        F.sum(F.when(F.col("flag") == "1", F.col("w")).otherwise(0)).cast("double").alias("num"),
        F.sum(F.when(F.col("flag") == "1", F.col("taken")).otherwise(0)).alias("neighbours_holding"))
    totals = nb.groupBy("key").agg(F.sum(weight).cast("double").alias("den"), F.sum("taken").alias("neighbours"))
    names = F.array(*[F.lit(p) for p in CF_PRODUCTS])
    own = F.split(F.col("key"), ",")
    scored = (per_product.join(totals, "key", how="inner")
              .select("key", F.element_at(names, F.col("i") + 1).alias("product"), (F.col("num") / F.col("den")).alias("score"),
                      "neighbours_holding", "neighbours", (F.col("den") / F.col("neighbours")).alias("mean_r"),
                      F.element_at(own, F.col("i") + 3).alias("own_flag"))
              .filter((F.col("own_flag") == "0") & (F.col("score") >= min_score)))
    ranked = top_products(scored, "key", top_n)
    return (vectors.select("cust_id", "key").join(ranked, "key", how="inner")
            .select("cust_id", "product", "score", "rank", "neighbours_holding", "neighbours", "mean_r"))


def _user_index(vectors: DataFrame) -> DataFrame:
    """cust_id -> dense int id for ALS. Sorted by CUST_ID and numbered by zipWithIndex: no
    driver-side map (StringIndexer would collect every customer), and the same ids on a
    re-run, so a fixed seed gives the same factors."""
    ordered = vectors.select("cust_id").distinct().orderBy("cust_id")
    return ordered.rdd.zipWithIndex().map(lambda p: (p[0][0], p[1])).toDF("cust_id string, user long")


def als_recommend(tags: DataFrame, rank: int, reg: float, alpha: float, iterations: int, seed: int,
                  top_n: int) -> DataFrame:
    """cust_id, product, score, rank: MLlib ALS with implicit preferences on the customers'
    holdings of the CF products; each customer's unheld products by predicted preference
    (customers holding none of them get none)."""
    from pyspark.ml.recommendation import ALS

    vectors = cf_vectors(tags)
    users = _user_index(vectors)
    flags = F.posexplode(F.slice(F.col("vec"), 3, len(CF_PRODUCTS))).alias("item", "held")
    cells = (vectors.join(users, "cust_id", how="inner")
             .select("cust_id", F.col("user").cast("int").alias("user"), flags))
    # MLlib scales the regularisation by the held count, so a customer holding none of the
    # products, or a product nobody holds, has singular normal equations (the product's as
    # soon as the customers' factors are alike, as in a small province's first month). Both
    # are left out of the fit: `drop` gives that customer nothing and never offers that product.
    holders = cells.groupBy("user").agg(F.max("held").alias("any")).filter(F.col("any") > 0).select("user")
    held = cells.groupBy("item").agg(F.max("held").alias("any")).filter(F.col("any") > 0).select("item")
    model = ALS(implicitPrefs=True, rank=rank, regParam=reg, alpha=alpha, maxIter=iterations, seed=seed,
                userCol="user", itemCol="item", ratingCol="held", coldStartStrategy="drop",
                numUserBlocks=ALS_BLOCKS, numItemBlocks=ALS_BLOCKS, checkpointInterval=ALS_CHECKPOINT_EVERY
                ).fit(cells.join(holders, "user", how="inner").join(held, "item", how="inner"))
    unheld = cells.filter(F.col("held") == 0)
    names = F.array(*[F.lit(p) for p in CF_PRODUCTS])
    scored = model.transform(unheld).select("cust_id", F.element_at(names, F.col("item") + 1).alias("product"),
                                            F.col("prediction").cast("double").alias("score"))
    return top_products(scored, "cust_id", top_n)
