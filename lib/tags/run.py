"""The tags stage: customer_month_aum + silver customers, agreements, relations and
holdings of month M -> customer_tags, tag_dictionary, tag_coverage; the KMeans models are
saved under <warehouse>/_models/<db>/tags/<M>/ so the month's tags can be reproduced."""
from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lib.config import Config
from lib.io import month_or_none, read_months, read_silver, replace_months, require_months
from lib.logs import stage
from lib.months import add_months, month_range
from lib.tables import CUSTOMER_MONTH_AUM, CUSTOMER_TAGS, TAG_COVERAGE, TAG_DICTIONARY
from lib.tags.month_tags import DICTIONARY, coverage, customer_tags


def run_tags(spark: SparkSession, conf: Config, month: str, log) -> None:
    with stage(log, f"tags {month}") as st:
        gold = conf.table(CUSTOMER_MONTH_AUM.name)
        require_months(spark, gold, [month], "aum")
        history = read_months(spark, gold, month_range(add_months(month, -11), month))
        silver = {name: read_silver(spark, conf, name, [month]) for name in
                  ("t01_indpty_id", "tcs_indpty_agmt_relation_h", "t03_agreement", "t98_indpty_prod_stat")}
        rows, models = customer_tags(history, silver["t01_indpty_id"], silver["tcs_indpty_agmt_relation_h"],
                                     silver["t03_agreement"], silver["t98_indpty_prod_stat"], month, conf.tags)
        st.rows_out = replace_months(spark, rows, conf.database, CUSTOMER_TAGS, [month])
        for name, model in models.items():
            model.write().overwrite().save(f"{conf.model_dir('tags', month)}/{name}")
    with stage(log, f"tag dictionary and coverage {month}"):
        table = conf.table(CUSTOMER_TAGS.name)
        written = read_months(spark, table, [month])
        prior = month_or_none(spark, table, add_months(month, -1))
        dictionary = spark.createDataFrame([(*row, month) for row in DICTIONARY],
                                           "tag string, value string, definition string, source_columns string, "
                                           "stat_month string")
        replace_months(spark, dictionary, conf.database, TAG_DICTIONARY, [month])
        replace_months(spark, coverage(written, prior).withColumn("stat_month", F.lit(month)), conf.database,
                       TAG_COVERAGE, [month])
