"""The month's marketing lists as branches get them (pure DataFrame functions).

Each list is one gold table read for the month: a row names its branch (org_id, with its
city) and the entity a marketer calls (a customer or a prospect). A branch works at most
`capacity` entities per list: entities are ranked within their branch by the list's order
(best first, ties by the entity key) and those past the capacity are cut, counted.
Exported columns carry a Chinese and an English header; personal data stays masked as
in the gold tables (the lists only select masked columns)."""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lib.tables import (
    CHURN_SCORES, PRODUCT_RECOMMENDATION, PROSPECT_CRITICAL, PROSPECT_EXTERNAL, PROSPECT_INTERNAL, TableSpec,
)

BRANCH = ("city_name", "org_id")
UNKNOWN = "UNKNOWN"
CONTACT_HEADERS = (("org_id", "网点号 / branch"), ("org_name", "网点 / branch name"),
                   ("county_name", "县区 / county"), ("city_name", "城市 / city"))


@dataclass(frozen=True)
class MarketingList:
    name: str                                   # file and sheet name
    title: str                                  # Chinese / English
    spec: TableSpec
    entity: str                                 # the column naming whom a marketer calls
    order: tuple[str, ...]                      # best first: "col" ascending, "-col" descending
    columns: tuple[tuple[str, str], ...]        # (column, "中文 / English" header), besides the branch's
    keep: str | None = None                     # a SQL filter on the month's rows

    def ordering(self) -> list[Column]:
        return [F.col(c[1:]).desc() if c.startswith("-") else F.col(c).asc() for c in self.order]


LISTS = (
    MarketingList("warning", "流失预警名单 / churn warning list (Table 4)", CHURN_SCORES, "cust_id", ("-churn_prob",), (
        ("cust_id", "客户号 / customer"), ("masked_name", "姓名 / name (masked)"),
        ("masked_id_no", "证件号 / ID (masked)"), ("tier", "客户等级 / tier"),
        ("aum_month_avg", "月日均AUM / monthly AUM"), ("churn_prob", "流失概率 / churn probability"),
        ("reasons", "主要原因 / main reasons")), keep="flagged"),
    MarketingList("recommendations", "产品推荐 / product recommendations (Table 3)", PRODUCT_RECOMMENDATION,
                  "cust_id", ("rank", "-score"), (
        ("cust_id", "客户号 / customer"), ("masked_name", "姓名 / name (masked)"),
        ("product", "推荐产品 / product"), ("rank", "推荐顺序 / rank"), ("score", "评分 / score"),
        ("explanation", "推荐理由 / why")), keep="method = 'PEARSON_UCF'"),
    MarketingList("external_prospects", "行外潜在客户 / prospects at other banks", PROSPECT_EXTERNAL, "cpty_key",
                  ("rank", "mode"), (
        ("mode", "模式 / mode"), ("rank", "排名 / rank"), ("cpty_key", "行外账户 / account elsewhere (pseudonym)"),
        ("wealth_cust_id", "关联财富客户 / linked wealth customer"), ("txn_cnt", "交易笔数 / transfers"),
        ("txn_amt", "交易金额 / amount"), ("net_outflow", "净流出 / net outflow"))),
    MarketingList("internal_prospects", "行内潜在客户 / postal prospects", PROSPECT_INTERNAL, "cpty_cust_id",
                  ("rank",), (
        ("cpty_cust_id", "客户号 / customer"), ("rank", "排名 / rank"),
        ("masked_name", "姓名 / name (masked)"), ("wealth_cust_id", "关联财富客户 / linked wealth customer"),
        ("txn_cnt", "交易笔数 / transfers"), ("txn_amt", "交易金额 / amount"),
        ("cpty_aum_3m", "近三月日均AUM / 3-month AUM"))),
    MarketingList("critical_customers", "临界客户 / critical customers", PROSPECT_CRITICAL, "cust_id", ("rank",), (
        ("cust_id", "客户号 / customer"), ("rank", "排名 / rank"), ("masked_name", "姓名 / name (masked)"),
        ("masked_id_no", "证件号 / ID (masked)"), ("aum_3m", "近三月日均AUM / 3-month AUM"),
        ("peak_aum", "峰值AUM / peak AUM"), ("gap_to_wealth", "距财富客户 / gap to wealth"))),
)


def placed(rows: DataFrame, lst: MarketingList) -> DataFrame:
    """The list's rows with `place`: its entity's place in its branch (1 = first), from
    the entity's best row in the list's order. A row without a branch or city is listed
    under UNKNOWN, never dropped."""
    kept = (rows.filter(lst.keep) if lst.keep else rows).fillna(UNKNOWN, subset=list(BRANCH))
    best = Window.partitionBy(*BRANCH, lst.entity).orderBy(*lst.ordering())
    firsts = kept.withColumn("i", F.row_number().over(best)).filter(F.col("i") == 1)
    in_branch = Window.partitionBy(*BRANCH).orderBy(*lst.ordering(), lst.entity)
    places = firsts.select(*BRANCH, lst.entity, F.row_number().over(in_branch).alias("place"))
    return kept.join(places, [*BRANCH, lst.entity], how="inner")


def capped(placed_rows: DataFrame, lst: MarketingList, capacity: int) -> DataFrame:
    """The rows a branch gets: its first `capacity` entities, in the list's order, with the
    branch's columns and the list's, under their headers."""
    columns = [*CONTACT_HEADERS, *lst.columns]
    return (placed_rows.filter(F.col("place") <= capacity)
            .orderBy(*BRANCH, "place", *lst.ordering())
            .select(*BRANCH, *[_cell(c).alias(header) for c, header in columns]))


def branch_counts(placed_rows: DataFrame, lst: MarketingList, capacity: int) -> DataFrame:
    """city_name, org_id, org_name, list, entities (in the list), kept, cut, per branch."""
    return (placed_rows.groupBy(*BRANCH).agg(F.first("org_name", ignorenulls=True).alias("org_name"),
                                             F.max("place").alias("entities"))
            .select(*BRANCH, "org_name", F.lit(lst.name).alias("list"), "entities",
                    F.least("entities", F.lit(capacity)).alias("kept"),
                    F.greatest(F.col("entities") - capacity, F.lit(0)).alias("cut")))


def _cell(column: str) -> Column:
    """A cell a spreadsheet shows: the reasons joined into one text, a probability or
    score to four places."""
    if column == "reasons":
        return F.array_join(F.col(column), "; ")
    return F.round(column, 4) if column in ("churn_prob", "score") else F.col(column)
