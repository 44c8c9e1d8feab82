"""Branches, customers and agreements of a synthetic province, with planted truth.

Each customer belongs to a planted segment that fixes how its assets move over the data
window (the trajectory: a factor per month applied to its base assets):

  WEALTH_STABLE / _GROWTH / _DECLINING / _VOLATILE   wealth customers, a few % in all
  CHURNER    wealth; in month c-2 and c-1 assets slide (precursors), from c they drain
             to an own-name account at another bank
  CRITICAL   below the wealth line now, over it in alternate months earlier
  HUB        an ordinary postal customer many wealth customers transfer to
  MASS       everybody else

A quarter of the WEALTH_STABLE customers (`own_outflow`) send every debit to their own
account at another bank while their balances hold: the paper's SOLO customers with a
large net outflow.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lib.months import add_months
from lib.schemas import DEPOSIT_PRODUCTS, HOLDING_PRODUCTS, SERVICE_PRODUCTS
from lib.seeded import uniform
from lib.synth import people
from lib.synth.random import below, normal, pick

SEGMENT_SHARES = (("WEALTH_STABLE", 0.012), ("WEALTH_GROWTH", 0.004), ("WEALTH_DECLINING", 0.004),
                  ("WEALTH_VOLATILE", 0.004), ("CHURNER", 0.008), ("CRITICAL", 0.005),
                  ("MASS", 1.0))
WEALTH_SEGMENTS = ("WEALTH_STABLE", "WEALTH_GROWTH", "WEALTH_DECLINING", "WEALTH_VOLATILE", "CHURNER")
HUB_STRIDE, HUB_OFFSET = 500, 7        # customer n is an internal hub when n % 500 == 7
OWN_OUTFLOW_SHARE = 0.25               # of WEALTH_STABLE customers
CUSTOMERS_PER_BRANCH = 2500
PRODUCTS = DEPOSIT_PRODUCTS + HOLDING_PRODUCTS + SERVICE_PRODUCTS    # index = AGMT_ID suffix
DEPOSIT_WEIGHTS = {"DEMAND_DEPOSIT": 1.0, "TIME_DEPOSIT": 1.5, "LARGE_CD": 3.0, "AGREEMENT_DEPOSIT": 2.0}
HOLDING_WEIGHTS = {"TREASURY_BOND": 1.0, "WEALTH_PRODUCT": 1.5, "FUND": 1.0, "INSURANCE": 0.8}


@dataclass(frozen=True)
class GenParams:
    customers: int
    months: int = 12
    start_month: str = "2019-01"
    seed: int = 42
    bad_rate: float = 0.0

    @property
    def first_day(self) -> date:
        return date.fromisoformat(f"{self.start_month}-01")

    @property
    def last_day(self) -> date:
        return date.fromisoformat(f"{add_months(self.start_month, self.months)}-01") - timedelta(days=1)

    @property
    def partitions(self) -> int:
        return max(2, math.ceil(self.customers / 25_000))

    @property
    def branches(self) -> int:
        return min(2000, max(len(people.CITIES), self.customers // CUSTOMERS_PER_BRANCH))


def month_index(p: GenParams, day: Column) -> Column:
    """0 for the window's first month."""
    y0, m0 = p.first_day.year, p.first_day.month
    return (F.year(day) - y0) * 12 + F.month(day) - m0


def trajectory(p: GenParams, k: Column) -> Column:
    """The factor on a customer's base assets in month k (needs segment, churn_k, phase)."""
    seg, last = F.col("segment"), max(p.months - 1, 1)
    churn = (F.when(k < F.col("churn_k") - 2, 1.0).when(k == F.col("churn_k") - 2, 0.85)
             .when(k == F.col("churn_k") - 1, 0.65).otherwise(0.06))
    return (F.when(seg == "WEALTH_GROWTH", 0.55 + 0.9 * k / last)
            .when(seg == "WEALTH_DECLINING", 1.3 - 0.8 * k / last)
            .when(seg == "WEALTH_VOLATILE", 1 + 0.45 * F.sin(2 * math.pi * (k / 3 + F.col("phase"))))
            .when(seg == "CHURNER", churn)
            .when(seg == "CRITICAL", F.when((k >= p.months - 2) | (k % 2 == 1), 0.3).otherwise(1.0))
            .otherwise(1.0))


def branches(spark: SparkSession, p: GenParams) -> DataFrame:
    i = F.col("id")
    city = F.element_at(F.array(*[F.lit(c) for c in people.CITIES]), (i % len(people.CITIES) + 1).cast("int"))
    suffix = F.element_at(F.array(*[F.lit(s) for s in people.COUNTY_SUFFIXES]),
                          ((i / len(people.CITIES)).cast("int") % len(people.COUNTY_SUFFIXES) + 1))
    county = F.concat(F.substring(city, 1, 2), suffix)
    return spark.range(p.branches, numPartitions=1).select(
        F.concat(F.lit("41"), F.lpad(i.cast("string"), 4, "0")).alias("ORG_ID"),
        F.concat(county, F.lit("营业所"), i.cast("string")).alias("ORG_NAME"),
        county.alias("COUNTY_NAME"), city.alias("CITY_NAME"))


def customers(spark: SparkSession, p: GenParams) -> DataFrame:
    """One row per customer with its planted attributes (lower case) and T01 columns."""
    s, n = p.seed, F.col("id")
    u = lambda salt: uniform(s, salt, n)  # noqa: E731 - a draw per customer
    hub = (n % HUB_STRIDE) == HUB_OFFSET
    segment = F.when(hub, "HUB").otherwise(below(u("segment"), *SEGMENT_SHARES))
    wealthy = segment.isin(*WEALTH_SEGMENTS)
    base = (F.when(wealthy, F.least(F.greatest(F.exp(math.log(1.5e6) + 0.6 * normal(s, "base", n)), F.lit(7e5)),
                                    F.lit(4e7)))
            .when(segment == "CRITICAL", 5.5e5 + 3.5e5 * u("base"))
            .when(segment == "HUB", 3e4 + 1.2e5 * u("base"))
            .otherwise(F.least(F.greatest(F.exp(math.log(2e4) + 1.1 * normal(s, "base", n)), F.lit(100.0)),
                               F.lit(3.5e5))))
    profile = F.when(wealthy | (segment == "CRITICAL"),
                     below(u("profile"), ("DEPOSIT", 0.4), ("BALANCED", 0.35), ("WEALTH", 0.25))
                     ).otherwise(below(u("profile"), ("DEPOSIT", 0.8), ("BALANCED", 0.15), ("WEALTH", 0.05)))
    days_before = F.lit(30) + F.floor(u("tenure") * 7000).cast("int")
    window_days = (p.last_day - p.first_day).days + 1
    new_in_window = (segment == "MASS") & (u("new") < 0.08)
    open_dt = F.when(new_in_window, F.date_add(F.lit(p.first_day), F.floor(u("open") * (window_days - 1)).cast("int"))
                     ).otherwise(F.date_sub(F.lit(p.first_day), days_before))
    age = F.when(wealthy, 22 + u("age") * 55).otherwise(1 + u("age") * 85)
    birth = F.date_sub(F.lit(p.first_day), F.floor(age * 365.25).cast("int"))
    gender = F.when(u("gender") < 0.5, "M").otherwise("F")
    churn_k = F.when(segment == "CHURNER",
                     F.least(F.lit(5) + F.floor(u("churn") * max(p.months - 5, 1)).cast("int"), F.lit(p.months - 1)))
    org = F.concat(F.lit("41"), F.lpad(F.floor(u("org") * p.branches).cast("string"), 4, "0"))
    own_outflow = (segment == "WEALTH_STABLE") & (u("own_outflow") < OWN_OUTFLOW_SHARE)
    return (spark.range(p.customers, numPartitions=p.partitions)
            .select(n.alias("n"), people.cust_id(n).alias("CUST_ID"), segment.alias("segment"),
                    base.alias("base"), profile.alias("profile"), churn_k.alias("churn_k"),
                    u("phase").alias("phase"), own_outflow.alias("own_outflow"), birth.alias("BIRTH_DT"), gender.alias("GENDER"),
                    open_dt.alias("OPEN_DT"), org.alias("OPEN_ORG_ID"),
                    people.person_name(s, n).alias("CUST_NAME"),
                    pick(people.OCCUPATIONS, u("occupation")).alias("OCCUPATION"))
            .withColumn("ID_NO", people.id_body(s, F.col("n"), F.col("BIRTH_DT"), F.col("GENDER")))
            .withColumn("ID_NO", people.with_check_digit(F.col("ID_NO")))
            .withColumn("ADDRESS", F.concat(F.lit("河南省"), F.lit("某路"), (F.col("n") % 999 + 1).cast("string"),
                                            F.lit("号"))))


def _holds(p: GenParams, product: str) -> Column:
    """Whether a customer holds `product` (planted affinities: fund -> mobile banking,
    large CD <-> agreement deposit, investment profile -> wealth products and funds)."""
    s, n, prof = p.seed, F.col("n"), F.col("profile")
    u = uniform(s, "holds." + product, n)
    wealthy = F.col("segment").isin(*WEALTH_SEGMENTS)
    by_profile = lambda dep, bal, wea: F.when(prof == "DEPOSIT", dep).when(prof == "BALANCED", bal).otherwise(wea)  # noqa: E731
    chances = {
        "DEMAND_DEPOSIT": lambda: F.lit(1.0), "TIME_DEPOSIT": lambda: F.lit(0.4),
        "LARGE_CD": lambda: F.when(wealthy, 0.35).otherwise(0.03),
        "AGREEMENT_DEPOSIT": lambda: F.when(_holds(p, "LARGE_CD"), 0.7).otherwise(0.03),
        "TREASURY_BOND": lambda: by_profile(0.3, 0.2, 0.2), "WEALTH_PRODUCT": lambda: by_profile(0.1, 0.7, 0.9),
        "FUND": lambda: by_profile(0.05, 0.4, 0.7), "INSURANCE": lambda: by_profile(0.1, 0.3, 0.35),
        "MOBILE_BANKING": lambda: F.when(_holds(p, "FUND"), 0.9).otherwise(0.45),
        "ONLINE_BANKING": lambda: F.lit(0.3), "QUICK_PAY": lambda: F.lit(0.4), "ETC": lambda: F.lit(0.15),
    }
    chance = chances[product]()
    return u < chance



def with_products(cust: DataFrame, p: GenParams) -> DataFrame:
    """Adds has_<product> flags and the holding share h of the customer's assets."""
    flags = [_holds(p, prod).alias("has_" + prod.lower()) for prod in PRODUCTS]
    out = cust.select("*", *flags)
    any_holding = F.greatest(*[F.col("has_" + prod.lower()) for prod in HOLDING_PRODUCTS])
    u = uniform(p.seed, "share", F.col("n"))
    share = (F.when(F.col("profile") == "DEPOSIT", 0.1 * u).when(F.col("profile") == "BALANCED", 0.3 + 0.2 * u)
             .otherwise(0.6 + 0.25 * u))
    return out.withColumn("h", F.when(any_holding, share).otherwise(0.0))


def agreements(cust: DataFrame, p: GenParams) -> DataFrame:
    """One row per agreement with T03 columns, the product class, the balance level it
    carries (CNY before the trajectory factor) and the customer attributes the ledger
    needs. AGMT_ID = 'A' + CUST_ID + product index, so a customer's demand account is
    known from its CUST_ID alone."""
    s = p.seed
    catalog = F.array(*[F.struct(F.lit(i).alias("idx"), F.lit(prod).alias("prod"),
                                 F.lit(_class(prod)).alias("class"),
                                 F.lit(DEPOSIT_WEIGHTS.get(prod, HOLDING_WEIGHTS.get(prod, 0.0))).alias("w"),
                                 F.col("has_" + prod.lower()).alias("held"))
                        for i, prod in enumerate(PRODUCTS)])
    held = F.filter(catalog, lambda a: a["held"])
    sum_w = lambda cls: F.aggregate(F.filter(held, lambda a: a["class"] == cls), F.lit(0.0),  # noqa: E731
                                    lambda acc, a: acc + a["w"])
    rows = cust.select("*", sum_w("deposit").alias("w_dep"), sum_w("holding").alias("w_hold"),
                       F.explode(held).alias("a"))
    agmt = F.concat(F.lit("A"), F.col("CUST_ID"), F.lpad(F.col("a.idx").cast("string"), 2, "0"))
    u = lambda salt: uniform(s, salt, agmt)  # noqa: E731 - a draw per agreement
    level = (F.when(F.col("a.class") == "deposit", F.col("base") * (1 - F.col("h")) * F.col("a.w") / F.col("w_dep"))
             .when(F.col("a.class") == "holding", F.col("base") * F.col("h") * F.col("a.w") / F.col("w_hold"))
             .otherwise(0.0))
    window_days = (p.last_day - p.first_day).days + 1
    cust_open = F.col("OPEN_DT")
    new_cust = cust_open >= F.lit(p.first_day)
    in_window = F.date_add(F.lit(p.first_day), F.floor(u("open") * window_days).cast("int"))
    before = F.date_add(cust_open, F.floor(u("open") * F.datediff(F.lit(p.first_day), cust_open)).cast("int"))
    after_cust = F.date_add(cust_open, F.floor(u("open") * F.datediff(F.lit(p.last_day), cust_open)).cast("int"))
    open_dt = (F.when(F.col("a.prod") == "DEMAND_DEPOSIT", cust_open).when(new_cust, after_cust)
               .when(u("opens_in_window") < 0.25, in_window).otherwise(before))
    out = rows.select(
        agmt.alias("AGMT_ID"), "CUST_ID", F.col("a.prod").alias("PROD_TYPE"), F.col("a.class").alias("class"),
        level.alias("level"), open_dt.alias("OPEN_DT"), F.col("OPEN_ORG_ID").alias("ORG_ID"),
        "n", "segment", "churn_k", "phase", "own_outflow", "CUST_NAME", "has_mobile_banking", "base")
    return out.withColumn("CLOSE_DT", _close_date(p)).withColumn(
        "STATUS", F.when(F.col("CLOSE_DT").isNull(), "ACTIVE").otherwise("CLOSED"))


def _close_date(p: GenParams) -> Column:
    """Churners close their time deposits in the churn month; 4% of the other time-type
    deposits close on a random day of the window; demand accounts never close."""
    u = uniform(p.seed, "close", F.col("AGMT_ID"))
    opened = F.col("OPEN_DT")
    churn_day = F.date_add(F.add_months(F.lit(p.first_day), F.coalesce(F.col("churn_k"), F.lit(0))),
                           F.floor(u * 27).cast("int"))
    earliest = F.greatest(F.date_add(opened, 1), F.lit(p.first_day))       # closes inside the window
    random_day = F.date_add(earliest, F.floor(u * (F.datediff(F.lit(p.last_day), earliest) + 1)).cast("int"))
    closable = (F.col("class") == "deposit") & (F.col("PROD_TYPE") != "DEMAND_DEPOSIT")
    return (F.when(~closable, F.lit(None).cast("date"))
            .when(F.col("segment") == "CHURNER", F.when(churn_day > opened, churn_day))
            .when((uniform(p.seed, "closes", F.col("AGMT_ID")) < 0.04) & (earliest <= F.lit(p.last_day)),
                  random_day))


def relations(agmts: DataFrame) -> DataFrame:
    """TCS_INDPTY_AGMT_RELATION_H: the owner of each account or holding, the signer of each
    service, in force from opening until closing (exclusive)."""
    return agmts.select(
        "CUST_ID", "AGMT_ID",
        F.when(F.col("class") == "service", "SIGNED").otherwise("OWNER").alias("REL_TYPE"),
        F.col("OPEN_DT").alias("START_DT"), F.col("CLOSE_DT").alias("END_DT"))


def _class(product: str) -> str:
    if product in DEPOSIT_PRODUCTS:
        return "deposit"
    return "holding" if product in HOLDING_PRODUCTS else "service"
