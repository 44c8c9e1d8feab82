"""Benchmark the churn model's fit (lib.retention.churn_model.fit: assemble, standardise, class-weighted
L2 logistic regression) against scikit-learn on the same rows.

    .venv/bin/python scripts/bench_churn.py [--rows 1000000] [--features 25]

Draws a labelled set of --rows customers x --features continuous features (correlated,
churn rate about 30%), writes it as Parquet for Spark and keeps it in numpy for
scikit-learn. Times the product's fit on the cached rows, a partition per core, once
(local[2], the product's reg and max_iter; the JVM's first fit also compiles its code),
then --repeats more, and as many of scikit-learn's StandardScaler + LogisticRegression
(lbfgs, the same objective: C = 1 / (reg x sum of weights), tolerance 1e-6); checks that
the coefficients agree, and prints rows, seconds (the medians of the repeats) and the
Spark / scikit-learn ratio.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from lib.retention import churn_model  # noqa: E402
from lib.config import load_conf  # noqa: E402
from lib.spark import build_session  # noqa: E402


def labelled(rows: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Correlated features on their own scales, and a label from a logistic model of them."""
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(features, features)) / np.sqrt(features)
    x = rng.normal(size=(rows, features)) @ (np.eye(features) + 0.5 * mixing)
    x = x * rng.uniform(0.1, 1000, size=features) + rng.uniform(-50, 50, size=features)
    beta = rng.normal(scale=0.6, size=features)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    label = (rng.random(rows) < 1 / (1 + np.exp(-(z @ beta - 2.0)))).astype(np.int32)
    return x, label


def spark_fit(rows, inputs: list[str], reg: float, max_iter: int) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    model = churn_model.fit(rows, inputs, reg, max_iter)
    seconds = time.perf_counter() - start
    lr = model.stages[-1]
    return seconds, np.append(lr.coefficients.toArray(), lr.intercept)


def sklearn_fit(x: np.ndarray, label: np.ndarray, reg: float) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    z = StandardScaler().fit_transform(x) * np.sqrt(len(x) / (len(x) - 1))     # MLlib's sample std
    share = label.mean()
    weight = np.where(label == 1, 0.5 / share, 0.5 / (1 - share))
    model = LogisticRegression(C=1 / (reg * weight.sum()), tol=1e-6, max_iter=10_000).fit(z, label,
                                                                                         sample_weight=weight)
    return time.perf_counter() - start, np.append(model.coef_[0], model.intercept_[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=25)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bench_churn")
    parser.add_argument("--repeats", type=int, default=3, help="warm fits of each, after the JVM's first")
    args = parser.parse_args()
    conf = load_conf("local", {"paths.warehouse": str(args.work / "warehouse")})
    x, label = labelled(args.rows, args.features, args.seed)
    inputs = [f"f{i:02d}" for i in range(args.features)]
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    path = str(args.work / "labelled.parquet")
    pq.write_table(pa.table({**{name: x[:, i] for i, name in enumerate(inputs)}, "label": label}), path)
    spark = build_session("bench-churn", conf)
    reg, max_iter = conf.retention.reg, conf.retention.max_iter
    # pyarrow writes the rows as one row group, which Spark reads as one task on one core: spread
    # them over the session's cores, as a Delta table's files are
    rows = spark.read.parquet(path).repartition(spark.sparkContext.defaultParallelism).cache()
    rows.count()
    cold_seconds, _ = spark_fit(rows, inputs, reg, max_iter)      # the JVM's first fit compiles its code
    # the JIT keeps compiling the fit's code over the next fits: the median of several is the warm time
    warm = [spark_fit(rows, inputs, reg, max_iter) for _ in range(args.repeats)]
    spark.stop()
    sk = [sklearn_fit(x, label, reg) for _ in range(args.repeats)]
    spark_seconds, sk_seconds = statistics.median(t for t, _ in warm), statistics.median(t for t, _ in sk)
    gap = float(np.max(np.abs(warm[-1][1] - sk[-1][1])))
    print(f"\nchurn model fit, {args.rows:,} rows x {args.features} features, churn rate {label.mean():.3f}, "
          f"reg {reg}\n")
    print("| fit | seconds | rows/s | runs, s |\n|---|---|---|---|")
    for name, seconds, runs in (("Spark, the JVM's first fit", cold_seconds, [cold_seconds]),
                                ("Spark (lib.retention.churn_model.fit, local[2]), warm", spark_seconds,
                                 [t for t, _ in warm]),
                                ("scikit-learn (lbfgs, 1 process)", sk_seconds, [t for t, _ in sk])):
        print(f"| {name} | {seconds:,.1f} | {args.rows / seconds:,.0f} | {', '.join(f'{t:.1f}' for t in runs)} |")
    print(f"\nSpark / scikit-learn (medians): {spark_seconds / sk_seconds:.1f}x; "
          f"largest coefficient difference {gap:.2e}")
    return 0 if gap < 1e-3 else 1


if __name__ == "__main__":
    sys.exit(main())
