"""Pearson user-based CF: the paper's toy case, and the distinct-vector method equal to
brute force over all pairs of customers (numpy, exact decimal sums) on a few hundred
customers with many ties."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from lib.uplift.recommenders import CF_PRODUCTS, pearson_ucf

COLUMNS = ["cust_id", "age_band", "asset_band"] + [f"has_{p.lower()}" for p in CF_PRODUCTS]


def tags_frame(spark, rows):
    schema = "cust_id string, age_band int, asset_band int, " + ", ".join(
        f"has_{p.lower()} boolean" for p in CF_PRODUCTS)
    return spark.createDataFrame(rows, schema)


def test_paper_toy_case(spark):
    # X holds A (large CD); Y holds A, B, C; Z holds A, C (C = wealth product) => C for X.
    # Same bands, so the vectors differ only in products:
    #   X = [3,2,1,0,0,0,0,0]  Y = [3,2,1,1,1,0,0,0]  Z = [3,2,1,0,1,0,0,0]
    #   r(X,Y) = 0.8165, r(X,Z) = 0.9129 (both > 0): score(C) = (0.8165 + 0.9129) / same = 1.0,
    #   score(B) = 0.8165 / 1.7294 = 0.4721 < 0.5
    rows = [("X", 3, 2, True, False, False, False, False, False),
            ("Y", 3, 2, True, True, True, False, False, False),
            ("Z", 3, 2, True, False, True, False, False, False)]
    got = {(r.cust_id, r.product, r.rank): round(r.score, 4)
           for r in pearson_ucf(tags_frame(spark, rows), k=10, min_score=0.5, top_n=3).collect()}
    assert got[("X", "WEALTH_PRODUCT", 1)] == 1.0
    assert not any(c == "X" and p == "AGREEMENT_DEPOSIT" for c, p, _ in got)


def brute_force(rows, k, min_score, top_n):
    ids = [r[0] for r in rows]
    vec = np.array([[float(v) for v in r[1:]] for r in rows])
    out = {}
    for t, v in enumerate(vec):
        cands = []
        for c, w in enumerate(vec):
            if np.array_equal(v, w):
                continue
            r = 0.0 if v.std() == 0 or w.std() == 0 else float(np.corrcoef(v, w)[0, 1])
            if round(r, 12) > 0:
                cands.append((-round(r, 12), ids[c], Decimal(str(round(r, 12))), w))
        nbs = sorted(cands)[:k]
        den = float(sum(x[2] for x in nbs))
        scores = []
        for j, product in enumerate(CF_PRODUCTS):
            if v[2 + j] == 1 or not nbs:
                continue
            score = float(sum((x[2] for x in nbs if x[3][2 + j] == 1), Decimal(0))) / den
            if score >= min_score:
                scores.append((-score, product))
        for rank, (neg, product) in enumerate(sorted(scores)[:top_n], start=1):
            out[(ids[t], product, rank)] = -neg
    return out


@pytest.mark.parametrize("k", [3, 10])
def test_distinct_vector_method_equals_brute_force(spark, k):
    rng = np.random.default_rng(7)
    rows = []
    for i in range(300):
        fund = bool(rng.random() < 0.4)
        rows.append((f"C{i:04d}", int(rng.integers(2, 5)), int(rng.integers(1, 4)), bool(rng.random() < 0.3),
                     bool(rng.random() < 0.3), bool(rng.random() < 0.5), fund, bool(rng.random() < 0.2),
                     bool(fund or rng.random() < 0.4)))
    # min_score 0: every unheld product is ranked (0-score ties by product name), so the
    # comparison covers neighbour choice, scores, order and ties for every customer
    got = {(r.cust_id, r.product, r.rank): r.score
           for r in pearson_ucf(tags_frame(spark, rows), k=k, min_score=0.0, top_n=3).collect()}
    want = brute_force(rows, k, 0.0, 3)
    assert set(got) == set(want) and len(want) > 300
    # exactly: Σ r (r at 12 digits) is exact, so no score depends on the order rows are added in
    assert got == want
    shuffled = tags_frame(spark, rows[::-1]).repartition(5)
    assert {(r.cust_id, r.product, r.rank): r.score
            for r in pearson_ucf(shuffled, k=k, min_score=0.0, top_n=3).collect()} == want


def test_als_recommends_only_unheld_products_and_is_reproducible(spark):
    from lib.uplift.recommenders import als_recommend
    rng = np.random.default_rng(3)
    rows = []
    for i in range(200):                     # planted: fund holders use mobile banking
        fund = bool(rng.random() < 0.5)
        rows.append((f"C{i:04d}", int(rng.integers(2, 5)), int(rng.integers(1, 4)), bool(rng.random() < 0.3),
                     bool(rng.random() < 0.3), bool(rng.random() < 0.5), fund, bool(rng.random() < 0.2),
                     bool(fund and rng.random() < 0.9)))
    tags = tags_frame(spark, rows)
    first = als_recommend(tags, rank=4, reg=0.1, alpha=10.0, iterations=10, seed=11, top_n=2).collect()
    again = als_recommend(tags, rank=4, reg=0.1, alpha=10.0, iterations=10, seed=11, top_n=2).collect()
    assert sorted(first) == sorted(again) and len(first) > 300
    held = {(r[0], p) for r in rows for p, h in zip(CF_PRODUCTS, r[3:]) if h}
    assert not any((r.cust_id, r.product) in held for r in first)
    assert {r.rank for r in first} == {1, 2}
    # the planted affinity: a fund holder without mobile banking gets it first more often than not
    fund_only = {r[0] for r in rows if r[6] and not r[8]}
    tops = [r.product for r in first if r.cust_id in fund_only and r.rank == 1]
    assert tops and tops.count("MOBILE_BANKING") / len(tops) > 0.5
