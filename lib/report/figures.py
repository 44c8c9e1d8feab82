"""The monthly report's figures as small DataFrames, each bounded whatever the province's
size (a row per tier, month, category, rule or sample row), so the report stage can bring
them to the driver."""
from __future__ import annotations

from functools import reduce

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from lib.months import first_day, month_text
from lib.tables import OUTCOME_LISTS
from lib.tiers import tier_rank


def tier_summary(aum: DataFrame) -> DataFrame:
    """Customers and monthly AUM per tier of one month's customer_month_aum, with each
    tier's share of the month's customers and AUM; NONE first, PRIVATE last."""
    by_tier = aum.groupBy("tier").agg(F.count(F.lit(1)).alias("cust_cnt"), F.sum("aum_month_avg").alias("aum"))
    totals = by_tier.agg(F.sum("cust_cnt").alias("all_cnt"), F.sum("aum").alias("all_aum"))   # one row
    return (by_tier.crossJoin(totals)
            .select("tier", "cust_cnt", "aum",
                    F.try_divide(F.col("cust_cnt"), F.col("all_cnt")).cast("double").alias("cust_share"),
                    F.try_divide(F.col("aum"), F.col("all_aum")).cast("double").alias("aum_share"))
            .orderBy(tier_rank(F.col("tier"))))


def migration_history(summary: DataFrame, month: str, months: int) -> DataFrame:
    """The paper's Figure 1 over time: upgrade and downgrade ratios of the stock wealth
    customers, month over month, for the `months` stat_months ending at `month`, plus the
    year-over-year comparison of `month` (kind MONTH or YEAR)."""
    kind = F.when(F.months_between(first_day(F.col("stat_month")), first_day(F.col("from_month"))) == 1,
                  "MONTH").otherwise("YEAR")
    first = month_text(F.add_months(first_day(F.lit(month)), 1 - months))
    rows = summary.withColumn("kind", kind).filter(F.col("stat_month") <= month)
    wanted = ((F.col("kind") == "MONTH") & (F.col("stat_month") >= first)) | (
        (F.col("kind") == "YEAR") & (F.col("stat_month") == month))
    return (rows.filter(wanted)
            .select("kind", "from_month", "stat_month", "stock_wealth_cnt", "upgrade_ratio", "downgrade_ratio")
            .orderBy("kind", "stat_month"))


def churn_by_category(screening: DataFrame, predictor: str) -> DataFrame:
    """The paper's Figure 5: churn rate per category of a categorical predictor."""
    return (screening.filter((F.col("predictor") == predictor) & F.col("category").isNotNull())
            .select("category", "cust_cnt", "churn_rate")
            .orderBy(F.desc("churn_rate"), "category"))


def quality_summary(quality: DataFrame) -> DataFrame:
    """Per source table: rows read, rows quarantined (withheld) and rows kept with a bad
    attribute nulled, the share of both, and the rules that caught them with counts
    ("bad_amount 3, null_key 1"), largest first."""
    caught = F.filter(F.sort_array(F.collect_list(F.when(F.col("rows_bad") > 0, F.struct(
        (-F.col("rows_bad")).alias("order"), "rule", "rows_bad")))), lambda r: r.isNotNull())
    of = lambda action: F.sum(F.when(F.col("action") == action, F.col("rows_bad")).otherwise(0))  # noqa: E731
    by_table = quality.groupBy("table_name").agg(
        F.max("rows_in").alias("rows_in"), of("QUARANTINED").alias("rows_quarantined"),
        of("NULLED").alias("rows_nulled"), caught.alias("caught"))
    rules = F.array_join(F.transform("caught", lambda r: F.concat_ws(" ", r["rule"], r["rows_bad"].cast("string"))),
                         ", ")
    bad = F.col("rows_quarantined") + F.col("rows_nulled")
    return (by_table
            .select("table_name", "rows_in", "rows_quarantined", "rows_nulled",
                    F.try_divide(bad, F.col("rows_in")).cast("double").alias("bad_share"), rules.alias("rules"))
            .orderBy("table_name"))


def recommendation_sample(recs: DataFrame, rows: int, methods: tuple[str, ...]) -> DataFrame:
    """The first `rows` recommendations (Table 3): the best-scored first choices of each
    method taken in turn, masked contacts only."""
    tops = [recs.filter((F.col("method") == m) & (F.col("rank") == 1)).orderBy(F.desc("score"), "cust_id").limit(rows)
            for m in methods]   # a top-k per method, not a sort of the whole list
    top = reduce(DataFrame.unionByName, tops)
    turn = Window.partitionBy("method").orderBy(F.desc("score"), "cust_id").rowsBetween(
        Window.unboundedPreceding, Window.currentRow)
    return (top.withColumn("n", F.row_number().over(turn)).orderBy("n", "method").limit(rows)
            .select("masked_name", "masked_id_no", "org_name", "county_name", "city_name", "method", "product",
                    "score", "explanation"))


def warning_sample(scores: DataFrame, rows: int) -> DataFrame:
    """The `rows` flagged customers most likely to churn (Table 4), masked contacts only."""
    return (scores.filter(F.col("flagged")).orderBy(F.desc("churn_prob"), "cust_id").limit(rows)
            .select("city_name", "county_name", "org_name", "masked_name", "masked_id_no", "tier", "churn_prob",
                    F.array_join("reasons", "; ").alias("reasons")))


def outcome_rates(outcome: DataFrame) -> DataFrame:
    """Per list, mode and list month of one month's prospect_outcome: the entities
    followed, how many reached the outcome, and the rate (prospects: converted; warning
    list: churned, flagged or not)."""
    order = F.array_position(F.array(*[F.lit(n) for n in OUTCOME_LISTS]), F.col("list_name"))
    return (outcome.groupBy("list_name", "mode", "list_month", "months_after")
            .agg(F.count(F.lit(1)).alias("listed_cnt"), F.count(F.when(F.col("outcome"), 1)).alias("outcome_cnt"))
            .withColumn("outcome_rate", (F.col("outcome_cnt") / F.col("listed_cnt")).cast("double"))
            .orderBy(order, "mode", "list_month"))
