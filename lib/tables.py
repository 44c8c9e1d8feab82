"""Output table specs: names, column types and the comments stored in the metastore.

Silver tables are the validated source tables (lower-case contract names + stat_month);
quarantine tables keep each bad row as delivered (strings, personal data masked) with the
rule it broke and what that did; data_quality counts rows per table x rule x month.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.types import StructType

from lib.contacts import CONTACT_COLUMNS
from lib.months import MONTH_PATTERN
from lib.schemas import ALL_PRODUCTS, MONEY_SQL, SOURCE_TABLES

COLUMN_DOCS = {
    "CUST_ID": "customer number (10 digits)", "ID_NO": "resident ID number (18 characters)",
    "CUST_NAME": "customer name", "GENDER": "M or F", "BIRTH_DT": "date of birth",
    "OCCUPATION": "occupation", "ADDRESS": "home address", "OPEN_ORG_ID": "home branch",
    "OPEN_DT": "date opened", "ORG_ID": "branch id", "ORG_NAME": "branch name",
    "COUNTY_NAME": "county", "CITY_NAME": "city", "AGMT_ID": "agreement (account) id",
    "PROD_TYPE": "product type (SPEC §3)", "CLOSE_DT": "date closed, null while open",
    "STATUS": "ACTIVE or CLOSED", "STAT_MONTH": "statistics month YYYY-MM",
    "HOLD_CNT": "number of holdings", "MONTH_AVG_BAL": "daily-average balance over the month, CNY",
    "MONTH_END_BAL": "balance on the month's last day, CNY", "TXN_ID": "ledger record id",
    "TXN_DT": "posting date", "TXN_TS": "posting time", "TXN_SEQ": "order of the account's records",
    "DR_CR_FLAG": "C money in, D money out", "TXN_AMT": "amount, CNY",
    "BAL_AFTER": "account balance after the record, CNY", "TXN_CODE": "transaction code",
    "CHANNEL": "channel", "CPTY_ACCT_NO": "counterparty account number",
    "CPTY_NAME": "counterparty name", "CPTY_BANK_CODE": "counterparty bank (PSBC = postal)",
    "CPTY_CUST_ID": "counterparty CUST_ID when a postal customer", "REL_TYPE": "OWNER or SIGNED",
    "START_DT": "relation in force from", "END_DT": "relation in force until (exclusive)",
}
STAT_MONTH_DOC = "month of the run that wrote the row, YYYY-MM (partition)"


@dataclass(frozen=True)
class TableSpec:
    name: str
    comment: str
    columns: tuple[tuple[str, str, str], ...]  # (name, SQL type, comment)
    partition: str = "stat_month"
    checks: tuple[tuple[str, str], ...] = ()   # Delta CHECK constraints (name, SQL condition): a bad write fails
    change_feed: bool = False                  # Delta's change data feed, for consumers who sync incrementally
    zorder: str | None = None                  # the column consumers look rows up by: OPTIMIZE Z-orders on it

    @property
    def constraints(self) -> tuple[tuple[str, str], ...]:
        """The table's CHECK constraints: its own, and the month format of a stat_month partition."""
        by_month = self.partition == "stat_month"
        return ((("stat_month_format", f"stat_month RLIKE '{MONTH_PATTERN}'"),) if by_month else ()) + self.checks

    def properties(self) -> dict[str, str]:
        """The Delta table properties the spec asks for: its constraints and change feed."""
        return {**{f"delta.constraints.{name}": check for name, check in self.constraints},
                **({"delta.enableChangeDataFeed": "true"} if self.change_feed else {})}


TIER_ORDER = ("NONE", "PLATINUM", "DIAMOND", "PRIVATE")


def tier_known(*columns: str) -> tuple[tuple[str, str], ...]:
    """CHECKs: each column holds a tier name (or null)."""
    names = ", ".join(f"'{t}'" for t in TIER_ORDER)
    return tuple((f"{c}_known", f"{c} IS NULL OR {c} IN ({names})") for c in columns)


def non_negative(*columns: str) -> tuple[tuple[str, str], ...]:
    """CHECKs: each column is >= 0 (or null)."""
    return tuple((f"{c}_non_negative", f"{c} IS NULL OR {c} >= 0") for c in columns)


def probability(*columns: str) -> tuple[tuple[str, str], ...]:
    """CHECKs: each column is in [0, 1] (or null)."""
    return tuple((f"{c}_in_0_1", f"{c} IS NULL OR {c} BETWEEN 0 AND 1") for c in columns)


def silver_spec(source: str) -> TableSpec:
    schema: StructType = SOURCE_TABLES[source]
    cols = tuple((f.name.lower(), f.dataType.simpleString(), COLUMN_DOCS[f.name]) for f in schema
                 if f.name != "STAT_MONTH")   # T98's own STAT_MONTH is the partition column
    return TableSpec(source.lower(), f"Validated rows of source table {source}",
                     cols + (("stat_month", "string", STAT_MONTH_DOC),))


QUARANTINED, NULLED = "QUARANTINED", "NULLED"       # what a rule does to a row that breaks it
FINGERPRINT = "undated_fingerprint"
_ACTION = ("action", "string", f"{QUARANTINED}: the row was withheld from silver; {NULLED}: the row was kept in "
                               "silver with the bad attribute (not part of its key) set to null")


def quarantine_column(source_column: str) -> str:
    """A delivered column's name in a quarantine table (T98's STAT_MONTH would clash with
    the partition column, the month the row was filed under)."""
    return "delivered_stat_month" if source_column == "STAT_MONTH" else source_column.lower()


def quarantine_spec(source: str) -> TableSpec:
    cols = tuple((quarantine_column(f.name), "string", f"as delivered: {COLUMN_DOCS[f.name]} (personal data masked)")
                 for f in SOURCE_TABLES[source])
    return TableSpec(f"quarantine_{source.lower()}",
                     f"Rows of source table {source} that broke a validation rule, as delivered",
                     (("stat_month", "string", STAT_MONTH_DOC + "; a row with no readable month (rule undated) is "
                                                               "filed under the first month ingested after it arrived"),
                      ("rule", "string", "the first validation rule the row broke"), _ACTION,
                      (FINGERPRINT, "string", "rule undated: SHA-256 of the row's delivered values (hex, digits "
                                              "as g-p), by which later months' ingests know it is already "
                                              "counted; null otherwise"))
                     + cols)


DATA_QUALITY = TableSpec("data_quality", "Rows in and rows caught per source table, rule and month", (
    ("stat_month", "string", STAT_MONTH_DOC),
    ("table_name", "string", "source table name"),
    ("rule", "string", "validation rule"),
    _ACTION,
    ("rows_in", "bigint", "rows of the table read for the month"),
    ("rows_bad", "bigint", "rows counted under this rule (each row under the first rule it broke)"),
))

LEDGER_CHAIN_STATE = TableSpec(
    "ledger_chain_state",
    "Per deposit account, the last ledger record (by TXN_SEQ) that passed the structural rules "
    "up to the month's end: where the next month's BAL_AFTER chain check starts", (
        ("agmt_id", "string", COLUMN_DOCS["AGMT_ID"]),
        ("last_txn_seq", "bigint", "TXN_SEQ of the last record"),
        ("last_bal_after", MONEY_SQL, "BAL_AFTER of the last record, CNY"),
        ("stat_month", "string", STAT_MONTH_DOC),
    ))

CUSTOMER_MONTH_AUM = TableSpec("customer_month_aum", "Monthly AUM, three-month average, wealth tier and asset "
                               "volatility class of every customer (SPEC §4)", (
    ("cust_id", "string", "customer number"),
    ("aum_month_avg", MONEY_SQL, "monthly daily-average AUM (月日均AUM): deposits' Σ balance × days / days in "
                              "month (rounded to the cent) + Σ MONTH_AVG_BAL of holdings, CNY"),
    ("aum_month_end", MONEY_SQL, "AUM on the month's last day: deposit balances + Σ MONTH_END_BAL, CNY"),
    ("aum_max_daily", MONEY_SQL, "largest daily Σ of deposit balances in the month + Σ MONTH_AVG_BAL, CNY"),
    ("deposit_month_avg", MONEY_SQL, "deposit part of aum_month_avg, CNY"),
    ("holding_month_avg", MONEY_SQL, "holding part of aum_month_avg (treasury, wealth products, funds, insurance), CNY"),
    ("aum_3m", MONEY_SQL, "mean aum_month_avg of this and the two previous months (a missing month counts 0), CNY"),
    ("tier", "string", "NONE / PLATINUM (白金卡) / DIAMOND (钻石卡) / PRIVATE (私人银行), from aum_3m"),
    ("is_wealth", "boolean", "wealth customer (财富客户): tier is not NONE"),
    ("volatility_class", "string", "STABLE / GROWTH / DECLINING / VOLATILE over the last 6 months of the data "
                                   "window; null with fewer than 3"),
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=tier_known("tier") + non_negative("aum_month_avg", "aum_month_end", "aum_max_daily", "deposit_month_avg",
                                            "holding_month_avg", "aum_3m"), change_feed=True, zorder="cust_id")
ACCOUNT_MONTH_BALANCE = TableSpec("account_month_balance", "Each deposit account's balance at the month's end, "
                                  "from the clean ledger (zero balances left out): where the next month's AUM starts", (
    ("cust_id", "string", "customer number"),
    ("agmt_id", "string", COLUMN_DOCS["AGMT_ID"]),
    ("bal_close", MONEY_SQL, "balance at the end of the month, CNY"),
    ("stat_month", "string", STAT_MONTH_DOC),
))
TIER_MIGRATION = TableSpec("tier_migration", "Customers moving from tier(from_month) to tier(stat_month), "
                           "month over month and year over year", (
    ("from_month", "string", "the month compared with (stat_month - 1 or - 12)"),
    ("from_tier", "string", "tier in from_month (NONE when not a customer then)"),
    ("to_tier", "string", "tier in stat_month (NONE when no longer a customer)"),
    ("cust_cnt", "bigint", "number of customers"),
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=tier_known("from_tier", "to_tier"))
TIER_MIGRATION_SUMMARY = TableSpec("tier_migration_summary", "Upgrade and downgrade ratios of the stock wealth "
                                   "customers of from_month (the paper's Figure 1)", (
    ("from_month", "string", "the month compared with"),
    ("stock_wealth_cnt", "bigint", "wealth customers in from_month"),
    ("upgrade_cnt", "bigint", "of them, tier rose by stat_month"),
    ("downgrade_cnt", "bigint", "of them, tier fell by stat_month (including to NONE)"),
    ("upgrade_ratio", "double", "upgrade_cnt / stock_wealth_cnt"),
    ("downgrade_ratio", "double", "downgrade_cnt / stock_wealth_cnt"),
    ("stat_month", "string", STAT_MONTH_DOC),
))

_PRODUCT_FLAGS = tuple((f"has_{p.lower()}", "boolean", f"holds {p} on the month's last day (relation in force)")
                       for p in ALL_PRODUCTS)
CUSTOMER_TAGS = TableSpec("customer_tags", "The 360° profile of every customer at the month's end (SPEC §4)", (
    ("cust_id", "string", "customer number"),
    ("age", "int", "whole years at the month's end"),
    ("lifecycle", "string", "CHILD 0-6, JUVENILE 7-17, YOUTH 18-40, MIDDLE 41-60, SENIOR 61+"),
    ("age_band", "int", "CF age band: 1 [0,20), 2 [20,30), 3 [30,40), 4 [40,50), 5 [50,60), 6 60+"),
    ("asset_band", "int", "CF asset band on aum_3m: 1 [0.5M,1M), 2 [1M,2M), 3 [2M,3M), 4 [3M,4M), "
                          "5 [4M,6M), 6 6M+; null below 0.5M"),
    ("tier", "string", "wealth tier (from customer_month_aum)"),
    ("deposit_share", "double", "deposits + treasury bonds over the month's AUM"),
    ("risk_preference", "string", "DEPOSIT / BALANCED / WEALTH: KMeans (k=3) cluster of the AUM shares, named by "
                                  "centroid; null without AUM"),
    ("peak_aum", MONEY_SQL, "largest monthly AUM of the last 12 months, CNY"),
    ("growth_ratio", "double", "(peak_aum - this month's AUM) / peak_aum; 0 when the peak is 0"),
    ("growth_space", "string", "HIGH >= 0.5, MEDIUM >= 0.2, else LOW (成长空间)"),
    ("peak_level", "string", "PEAK_1 (lowest) .. PEAK_n: KMeans cluster of log(1 + peak_aum)"),
    ("volatility_class", "string", "asset volatility class (from customer_month_aum)"),
    *_PRODUCT_FLAGS,
    ("product_count", "int", "number of product types held on the month's last day"),
    ("tenure_months", "int", "whole months since the customer relationship began"),
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=tier_known("tier") + non_negative("peak_aum"), change_feed=True, zorder="cust_id")
TAG_DICTIONARY = TableSpec("tag_dictionary", "What each tag value means and where it comes from", (
    ("tag", "string", "column of customer_tags"),
    ("value", "string", "a value of the tag"),
    ("definition", "string", "what the value means"),
    ("source_columns", "string", "source tables and columns it is computed from"),
    ("stat_month", "string", STAT_MONTH_DOC),
))
TAG_COVERAGE = TableSpec("tag_coverage", "How many customers carry each tag value, and how many changed since last "
                         "month: whether the tags can be trusted", (
    ("tag", "string", "column of customer_tags"),
    ("value", "string", "the value ((none) when not set)"),
    ("cust_cnt", "bigint", "customers with this value"),
    ("share", "double", "cust_cnt over all customers of the month"),
    ("changed_cnt", "bigint", "of them, customers whose value last month was different (null: no last month)"),
    ("changed_share", "double", "changed_cnt / cust_cnt"),
    ("stat_month", "string", STAT_MONTH_DOC),
))

PRODUCT_RECOMMENDATION = TableSpec("product_recommendation", "Products to offer each wealth customer, by Pearson "
                                   "user-based CF and by ALS, best first (SPEC §4; the paper's Table 3)", (
    ("cust_id", "string", "customer number"),
    ("method", "string", "PEARSON_UCF or ALS"),
    ("product", "string", "recommended product type, not held at the month's end"),
    ("score", "double", "PEARSON_UCF: Σ r of neighbours holding it / Σ r of neighbours; ALS: predicted preference"),
    ("rank", "int", "1 = best, per customer and method"),
    ("explanation", "string", "why: how many of the nearest neighbours hold it (UCF), or the ALS preference"),
    ("neighbours_holding", "int", "PEARSON_UCF: neighbours holding the product (null for ALS)"),
    ("neighbours", "int", "PEARSON_UCF: neighbours used, at most k (null for ALS)"),
    ("mean_r", "double", "PEARSON_UCF: the neighbours' mean Pearson similarity (null for ALS)"),
    *CONTACT_COLUMNS,
    ("stat_month", "string", STAT_MONTH_DOC),
), change_feed=True, zorder="cust_id")
RECOMMENDER_EVAL = TableSpec("recommender_eval", "Hide-one-product evaluation of each recommender against a "
                             "popularity baseline on a seeded sample of wealth customers", (
    ("method", "string", "PEARSON_UCF, ALS or POPULARITY"),
    ("evaluated_cnt", "bigint", "sampled customers with one held product hidden"),
    ("hit_rate_at_1", "double", "share of them whose hidden product is the first recommendation"),
    ("hit_rate_at_3", "double", "share of them whose hidden product is among the first three"),
    ("precision_at_1", "double", "share of first recommendations shown that were the hidden product"),
    ("precision_at_3", "double", "share of first-three recommendations shown that were the hidden product"),
    ("coverage", "double", "share of them given at least one recommendation"),
    ("best", "boolean", "the method with the highest hit_rate_at_3 (then hit_rate_at_1)"),
    ("seed", "int", "seed of the sample and of the hidden products"),
    ("sample_share", "double", "share of wealth customers sampled"),
    ("stat_month", "string", STAT_MONTH_DOC),
))

CUSTOMER_MONTH_ACTIVITY = TableSpec("customer_month_activity", "Each customer's ledger activity in the month: "
                                    "counts and amounts by direction, cross-bank outflow, channels", (
    ("cust_id", "string", "customer number"),
    ("txn_cnt", "bigint", "ledger records"),
    ("debit_cnt", "bigint", "debits (money out)"),
    ("debit_amt", MONEY_SQL, "Σ debit amounts, CNY"),
    ("credit_cnt", "bigint", "credits (money in)"),
    ("credit_amt", MONEY_SQL, "Σ credit amounts, CNY"),
    ("cross_bank_out_amt", MONEY_SQL, "Σ debits to accounts at other banks, CNY"),
    ("large_out_cnt", "bigint", "debits of at least retention.large_outflow"),
    ("mobile_cnt", "bigint", "records through mobile banking"),
    ("counter_cnt", "bigint", "records at the counter"),
    ("stat_month", "string", "month of the ledger records (partition)"),
))
# the churn model's features -> readable name (the warning list's reasons use these)
CHURN_CONTINUOUS = {
    "age_band": "age band",
    "asset_band": "asset band",
    "log_aum": "monthly AUM (log)",
    "tier_headroom": "aum_3m above the floor of its tier (log ratio)",
    "aum_slope": "AUM trend (relative slope)",
    "aum_cv": "AUM variability (cv)",
    "max_drawdown": "largest AUM fall from a peak",
    "aum_recent_ratio": "AUM of the last 2 months against the 4 before",
    "month_end_ratio": "month-end AUM against the month's average",
    "holding_share": "share of AUM in investments",
    "product_count": "number of products held",
    "has_mobile_banking": "uses mobile banking",
    "tenure_months": "months as a customer",
    "debit_cnt": "debits (count)",
    "debit_amt_log": "debits (amount, log)",
    "credit_cnt": "credits (count)",
    "credit_amt_log": "credits (amount, log)",
    "debit_trend": "debits of the last 2 months against the 4 before",
    "credit_trend": "credits of the last 2 months against the 4 before",
    "net_outflow_share": "net outflow over all flows",
    "cross_bank_out_log": "transfers out to other banks (amount, log)",
    "large_out_cnt": "large outflows (count)",
    "mobile_share": "share of records through mobile banking",
    "counter_share": "share of records at the counter",
}
CHURN_CATEGORICAL = {"volatility_class": "asset volatility class"}


CHURN_FEATURES = TableSpec("churn_features", "The churn model's rows of this run: the labelled reference months "
                           "it trained and tested on and the month it scored (SPEC §4 \"Churn model\")", (
    ("cust_id", "string", "customer number"),
    ("feature_month", "string", "the month the features end at (the reference month of a label)"),
    ("role", "string", "TRAIN / TEST (the 70/30 split of the reference month), OOT_TRAIN (the month before, "
                       "for the out-of-time check), SCORE (this month, no label)"),
    ("label", "int", "1 churned within the horizon after feature_month, 0 not; null for SCORE rows"),
    *[(name, "double", doc) for name, doc in CHURN_CONTINUOUS.items()],
    *[(name, "string", doc + ": STABLE / GROWTH / DECLINING / VOLATILE / UNKNOWN")
      for name, doc in CHURN_CATEGORICAL.items()],
    ("stat_month", "string", STAT_MONTH_DOC),
))
CHURN_SCREENING = TableSpec("churn_screening", "Predictor screening as the paper: churn rate per category "
                            "(Figure 5), Pearson r with the label, collinear predictors dropped", (
    ("predictor", "string", "feature name"),
    ("kind", "string", "categorical or continuous"),
    ("category", "string", "a category of a categorical predictor"),
    ("cust_cnt", "bigint", "training customers (in the category)"),
    ("churn_rate", "double", "share of them who churned (categorical)"),
    ("pearson_r", "double", "Pearson r with the label (continuous)"),
    ("kept", "boolean", "used by the model"),
    ("reason", "string", "why dropped"),
    ("stat_month", "string", STAT_MONTH_DOC),
))
CHURN_MODEL_METRICS = TableSpec("churn_model_metrics", "How well the churn model separates churners: on the 30% "
                                "hold-out of the reference month, and out of time (trained a month earlier)", (
    ("eval_set", "string", "HOLDOUT (70/30 split of ref_month) or OUT_OF_TIME (trained on train_month, tested "
                           "on all of ref_month)"),
    ("ref_month", "string", "reference month of the labels tested"),
    ("train_month", "string", "reference month of the labels trained on"),
    ("rows", "bigint", "customers tested"),
    ("positives", "bigint", "of them, churned"),
    ("base_rate", "double", "positives / rows: the accuracy of calling nobody a churner is 1 - this"),
    ("accuracy", "double", "share classified right at the threshold"),
    ("auc", "double", "area under the ROC curve"),
    ("ks", "double", "Kolmogorov-Smirnov: the largest TPR - FPR over every score cut-off (exact)"),
    ("precision_at_threshold", "double", "churned share of the customers flagged"),
    ("recall_at_threshold", "double", "flagged share of the customers who churned"),
    ("top_decile_lift", "double", "churn rate of the 10% highest scores (exact; equal scores: non-churners "
                                  "first) over the base rate"),
    ("threshold", "double", "churn_prob at or above which a customer is flagged"),
    ("score_psi", "double", "population stability of this month's churn_prob against last month's scores "
                            "(null without last month)"),
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=probability(
    "base_rate", "accuracy", "ks", "precision_at_threshold", "recall_at_threshold"))
CHURN_COEFFICIENTS = TableSpec("churn_coefficients", "The logistic regression's coefficient table on standardised "
                               "features, with each feature's drift", (
    ("feature", "string", "model input ((intercept) for the intercept)"),
    ("readable_name", "string", "what the warning list's reasons call it"),
    ("coefficient", "double", "coefficient on the standardised feature; > 0 raises the churn probability"),
    ("mean", "double", "training mean (standardisation)"),
    ("std", "double", "training sample standard deviation (standardisation)"),
    ("psi", "double", "population stability of the feature against last month's scoring (null without it)"),
    ("stat_month", "string", STAT_MONTH_DOC),
))
CHURN_MODEL_CURVES = TableSpec("churn_model_curves", "ROC points and calibration by decile of the churn model, "
                               "per evaluation set (the report's ROC and KS charts)", (
    ("eval_set", "string", "HOLDOUT or OUT_OF_TIME"),
    ("curve", "string", "ROC or DECILE"),
    ("threshold", "double", "ROC: churn_prob cut-off"),
    ("tpr", "double", "ROC: true positive rate at the cut-off"),
    ("fpr", "double", "ROC: false positive rate at the cut-off"),
    ("decile", "int", "DECILE: 1 = the highest 10% of churn_prob"),
    ("cust_cnt", "bigint", "DECILE: customers in it"),
    ("mean_prob", "double", "DECILE: mean churn_prob"),
    ("churn_rate", "double", "DECILE: share who churned"),
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=probability("tpr", "fpr", "mean_prob", "churn_rate"))
CHURN_SCORES = TableSpec("churn_scores", "Churn probability of this month's population and the warning list "
                         "(flagged), with the top reasons and masked contacts (the paper's Table 4)", (
    ("cust_id", "string", "customer number"),
    ("churn_prob", "double", "probability of churning within the horizon"),
    ("flagged", "boolean", "churn_prob >= threshold: on the warning list"),
    ("reasons", "array<string>", "up to 3 features pushing the probability up most (coefficient × standardised "
                                 "value), largest first"),
    ("model_month", "string", "reference month the model was trained on"),
    ("tier", "string", "wealth tier this month"),
    ("aum_month_avg", MONEY_SQL, "monthly AUM this month, CNY"),
    *CONTACT_COLUMNS,
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=probability("churn_prob") + tier_known("tier") + non_negative("aum_month_avg"), change_feed=True, zorder="cust_id")
CHURN_CHAMPION = TableSpec("churn_champion", "Champion / challenger: this month's retrained churn model against the "
                           "model in use, on the same labelled month, and which of them scored the month", (
    ("champion_month", "string", "the run month whose model was the champion before this run (null: none)"),
    ("champion_ref_month", "string", "the reference month the champion was trained on"),
    ("challenger_ref_month", "string", "the reference month this run's model was trained on"),
    ("eval_month", "string", "the labelled month both are tested on: out of time for the champion, and for the "
                             "challenger's recipe trained a month earlier"),
    ("champion_auc", "double", "the champion's AUC on eval_month"),
    ("challenger_auc", "double", "the challenger's out-of-time AUC on eval_month"),
    ("champion_ks", "double", "the champion's KS on eval_month"),
    ("challenger_ks", "double", "the challenger's out-of-time KS on eval_month"),
    ("score_psi", "double", "the challenger's population stability: PSI of its churn_prob on this month's customers "
                            "against its churn_prob on those it was trained on"),
    ("max_auc_drop", "double", "retention.max_auc_drop of the run"),
    ("max_psi", "double", "retention.max_psi of the run"),
    ("decision", "string", "FIRST (no champion before), PROMOTED (the challenger is the champion now) or KEPT (the "
                           "champion scored the month)"),
    ("reason", "string", "why, in words"),
    ("model_month", "string", "the run month whose model scored this month: the champion after this run"),
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=(("decision_known", "decision IN ('FIRST', 'PROMOTED', 'KEPT')"),))
RUN_MANIFEST = TableSpec("run_manifest", "One row per monthly refresh run (appended, never replaced): what ran, on "
                         "which code, conf and data versions, and how it ended", (
    ("run_id", "string", "unique id of the run"),
    ("code_version", "string", "package version + git commit of the code"),
    ("conf_hash", "string", "sha256 (first 16 hex) of the resolved configuration"),
    ("seeds", "map<string,int>", "the seeds the stages used"),
    ("status", "string", "SUCCEEDED or FAILED"),
    ("failed_stage", "string", "the stage that failed (null when none did)"),
    ("error", "string", "the failure's one-line reason (no personal data)"),
    ("stages", "array<struct<stage:string,status:string,seconds:double,note:string>>",
     "each stage in order: DONE, SKIPPED (with why) or FAILED, and its seconds"),
    ("input_versions", "map<string,bigint>", "Delta version of each silver table when the run started"),
    ("output_versions", "map<string,bigint>", "Delta version of each gold table when the run ended"),
    ("started_at", "timestamp", "when the run started"),
    ("finished_at", "timestamp", "when the run ended"),
    ("stat_month", "string", "the month refreshed (partition)"),
))

_WINDOW_FIRST = ("window_first", "string", "first month of the transfers analysed (the window ends at stat_month)")
_FLOW_COLUMNS = (
    ("txn_cnt", "bigint", "transfer records between the two in the window"),
    ("txn_amt", MONEY_SQL, "Σ TXN_AMT of those records, CNY"),
    ("in_cnt", "bigint", "of them, into the wealth customer's accounts"),
    ("in_amt", MONEY_SQL, "Σ amounts into the wealth customer's accounts, CNY"),
    ("out_cnt", "bigint", "of them, out of the wealth customer's accounts"),
    ("out_amt", MONEY_SQL, "Σ amounts out of the wealth customer's accounts, CNY"),
)
_WEIGHT = ("weight", "double", "link weight: z(txn_cnt) + z(txn_amt), each z over all links of the month's graph")
_COUNTERPARTY_SUMS = (
    ("cpty_txn_cnt", "bigint", "the counterparty's transfer records with all wealth customers"),
    ("cpty_txn_amt", MONEY_SQL, "Σ amounts of the counterparty's transfers with all wealth customers, CNY"),
    ("cpty_weight", "double", "the counterparty's weight: z of its summed count + z of its summed amount, over all "
                              "counterparties (a counterparty linked to several wealth customers weighs more)"),
    ("linked_wealth_cnt", "bigint", "wealth customers linked to the counterparty"),
    ("linked_wealth", "array<struct<cust_id:string,masked_name:string>>",
     "the linked wealth customers (customer number, masked name), strongest link first, at most "
     "acquisition.evidence_links"),
    ("component_id", "string", "connected component of the graph: its smallest customer number"),
    ("component_size", "bigint", "vertices (customers and counterparties) in the component"),
)
_CPTY_LABELS = (
    ("cpty_bank_code", "string", "the counterparty's bank (PSBC = postal)"),
    ("cpty_masked_name", "string", "the counterparty's name as on the records, masked: surname and 某"),
    ("cpty_masked_acct", "string", "the counterparty's account number at another bank, masked: last four digits"),
)
COUNTERPARTY_EDGES = TableSpec("counterparty_edges", "The month's counterparty graph (SPEC §4): one row per wealth "
                               "customer and counterparty linked by transfers in the analysis window, personal data "
                               "masked", (
    ("wealth_cust_id", "string", "the wealth customer (a wealth customer this month)"),
    ("cpty_kind", "string", "OWN_ACCOUNT (the customer's own account at another bank), EXTERNAL (someone else at "
                            "another bank) or POSTAL (a postal customer)"),
    ("cpty_key", "string", "an account at another bank: its bank and a pseudonym of the account number (SHA-256); "
                           "null for POSTAL"),
    ("cpty_cust_id", "string", "a postal counterparty's customer number; null otherwise"),
    *_CPTY_LABELS,
    ("cpty_is_wealth", "boolean", "the counterparty is itself a wealth customer this month"),
    *_FLOW_COLUMNS,
    _WEIGHT,
    ("component_id", "string", "connected component of the graph: its smallest customer number"),
    ("component_size", "bigint", "vertices (customers and counterparties) in the component"),
    _WINDOW_FIRST,
    ("stat_month", "string", STAT_MONTH_DOC),
))
SOLO, MULTILATERAL = "SOLO", "MULTILATERAL"     # prospect_external.mode (the paper's 独来独往, 多边交往)
PROSPECT_EXTERNAL = TableSpec("prospect_external", "Prospects at other banks found through wealth customers' "
                              "transfers (SPEC §4; the paper §5.3.1.1): SOLO, own accounts elsewhere, and "
                              "MULTILATERAL, people whose transfers with wealth customers reach min_amount", (
    ("wealth_cust_id", "string", "the wealth customer linked to the prospect"),
    ("cpty_key", "string", "the account at another bank: its bank and a pseudonym of the account number"),
    ("mode", "string", "SOLO (独来独往: the customer's own account elsewhere) or MULTILATERAL (多边交往: another "
                       "person)"),
    ("rank", "int", "place in the mode's list, 1 = first: SOLO by the customer's net outflow, MULTILATERAL by the "
                    "counterparty's weight; the links of one prospect share it"),
    *_CPTY_LABELS,
    *_FLOW_COLUMNS,
    ("net_outflow", MONEY_SQL, "out_amt - in_amt: what left the wealth customer for this account, CNY"),
    _WEIGHT,
    ("cust_net_outflow", MONEY_SQL, "SOLO: the customer's net outflow to all its own accounts at other banks, CNY"),
    ("large_net_outflow", "boolean", "SOLO: cust_net_outflow is at least acquisition.solo_net_outflow (300,000)"),
    *_COUNTERPARTY_SUMS,
    *CONTACT_COLUMNS,
    _WINDOW_FIRST,
    ("stat_month", "string", STAT_MONTH_DOC),
), change_feed=True)
PROSPECT_INTERNAL = TableSpec("prospect_internal", "Postal customers who are not wealth customers but transfer with "
                              "wealth customers (SPEC §4; the paper §5.3.1.2, Figure 4), ranked by weight", (
    ("wealth_cust_id", "string", "the wealth customer linked to the prospect"),
    ("cpty_cust_id", "string", "the prospect: a postal customer, not a wealth customer this month"),
    ("rank", "int", "place in the list by the prospect's weight, 1 = first; the links of one prospect share it"),
    *_FLOW_COLUMNS,
    ("net_outflow", MONEY_SQL, "out_amt - in_amt: what went from the wealth customer to the prospect, CNY"),
    _WEIGHT,
    *_COUNTERPARTY_SUMS,
    ("cpty_aum_3m", MONEY_SQL, "the prospect's three-month average AUM, CNY"),
    ("wealth_masked_name", "string", "the wealth customer's name, masked"),
    *CONTACT_COLUMNS,
    _WINDOW_FIRST,
    ("stat_month", "string", STAT_MONTH_DOC),
), change_feed=True)
PROSPECT_CRITICAL = TableSpec("prospect_critical", "Critical customers (临界客户, SPEC §4; the paper §5.3.1.3): not "
                              "wealth now, some monthly AUM of the last 12 months at least critical_peak_aum, volatile "
                              "assets and high growth space", (
    ("cust_id", "string", "customer number"),
    ("rank", "int", "place in the list by peak_aum, 1 = first"),
    ("aum_month_avg", MONEY_SQL, "monthly AUM this month, CNY"),
    ("aum_3m", MONEY_SQL, "three-month average AUM, CNY"),
    ("peak_aum", MONEY_SQL, "largest monthly AUM of the last 12 months, CNY"),
    ("growth_ratio", "double", "(peak_aum - this month's AUM) / peak_aum"),
    ("growth_space", "string", "HIGH (成长空间)"),
    ("volatility_class", "string", "VOLATILE (资产波动性)"),
    ("gap_to_wealth", MONEY_SQL, "the wealth floor (tiers.platinum) - aum_3m: what would make a wealth customer, CNY"),
    *CONTACT_COLUMNS,
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=non_negative("aum_3m", "peak_aum"), change_feed=True)
OUTCOME_LISTS = ("EXTERNAL", "INTERNAL", "CRITICAL", "WARNING")
FLAGGED, NOT_FLAGGED = "FLAGGED", "NOT_FLAGGED"     # prospect_outcome.mode of the warning list's rows
PROSPECT_OUTCOME = TableSpec("prospect_outcome", "What became of the customers and prospects listed in the months "
                             "before: each entity of a list of list_month, followed months_after (1-3) months later "
                             "(the warning list at its horizon, scored customers flagged or not)", (
    ("list_month", "string", "the month of the list (its stat_month)"),
    ("months_after", "int", "stat_month - list_month: the outcome is by the end of stat_month"),
    ("list_name", "string", "EXTERNAL (prospect_external), INTERNAL (prospect_internal), CRITICAL (prospect_critical) or "
                       "WARNING (churn_scores)"),
    ("mode", "string", "EXTERNAL: SOLO or MULTILATERAL; WARNING: FLAGGED (on the warning list) or NOT_FLAGGED (scored, "
                       "not flagged); null otherwise"),
    ("prospect_key", "string", "the entity followed: cpty_key for EXTERNAL, cust_id (cpty_cust_id) otherwise"),
    ("wealth_cust_id", "string", "SOLO: the wealth customer whose own account elsewhere it is; null otherwise"),
    ("outcome", "boolean", "MULTILATERAL: a postal customer who opened after list_month transferred with the account "
                           "under its own name (the prospect opened an account); SOLO: more came back from the account "
                           "than went to it since list_month; INTERNAL, CRITICAL: a wealth tier in a month since "
                           "list_month; WARNING: churned (SPEC §4 churn label of list_month)"),
    ("outcome_month", "string", "the first month the outcome held (null when it has not)"),
    ("stat_month", "string", STAT_MONTH_DOC),
), checks=(("list_known", f"list_name IN ({', '.join(repr(n) for n in OUTCOME_LISTS)})"),
           ("months_after_1_or_more", "months_after >= 1")), change_feed=True)
ACQUISITION_SUMMARY = TableSpec("acquisition_summary", "The acquisition stage's month in figures, beside the paper's "
                                "(2019, Henan): prospects per mode, the graph, the component sizes, the engine", (
    ("measure", "string", "what is counted"),
    ("bucket", "string", "component_size: the size range; null otherwise"),
    ("value", "bigint", "the count this month"),
    ("paper_value", "bigint", "the paper's figure for a whole province (null where it gives none)"),
    ("definition", "string", "how the count is made"),
    ("engine", "string", "graph engine: graphframes or dataframe"),
    _WINDOW_FIRST,
    ("stat_month", "string", STAT_MONTH_DOC),
))


def all_specs() -> dict[str, TableSpec]:
    """Every table the product writes, by name (gold, silver and quarantine names differ)."""
    specs = [spec for spec in globals().values() if isinstance(spec, TableSpec)]
    specs += [make(source) for source in SOURCE_TABLES for make in (silver_spec, quarantine_spec)]
    return {spec.name: spec for spec in specs}
