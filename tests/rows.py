"""Hand-made source rows for tests, delivered as strings the way a CSV extract is."""
from __future__ import annotations

import dataclasses

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StringType, StructField, StructType

from lib.ingest.split import INGEST_ORDER
from lib.schemas import SOURCE_TABLES
from lib.tables import DATA_QUALITY, LEDGER_CHAIN_STATE, quarantine_spec, silver_spec

DEFAULTS = {
    "ORG_DIM": {"ORG_ID": "O1", "ORG_NAME": "branch", "COUNTY_NAME": "county", "CITY_NAME": "city"},
    "T01_INDPTY_ID": {"CUST_ID": "0000000001", "ID_NO": "410425199001010567", "CUST_NAME": "顾一",
                      "GENDER": "F", "BIRTH_DT": "1990-01-01", "OCCUPATION": "x", "ADDRESS": "河南省",
                      "OPEN_ORG_ID": "O1", "OPEN_DT": "2010-01-01"},
    "T03_AGREEMENT": {"AGMT_ID": "A1", "CUST_ID": "0000000001", "PROD_TYPE": "DEMAND_DEPOSIT",
                      "OPEN_DT": "2010-01-01", "CLOSE_DT": None, "ORG_ID": "O1", "STATUS": "ACTIVE"},
    "TCS_INDPTY_AGMT_RELATION_H": {"CUST_ID": "0000000001", "AGMT_ID": "A1", "REL_TYPE": "OWNER",
                                   "START_DT": "2010-01-01", "END_DT": None},
    "T98_INDPTY_PROD_STAT": {"STAT_MONTH": "2019-01", "CUST_ID": "0000000001", "PROD_TYPE": "FUND",
                             "HOLD_CNT": "1", "MONTH_AVG_BAL": "100.00", "MONTH_END_BAL": "100.00"},
    "JNL_ACC_CHG": {"TXN_ID": "T0", "TXN_DT": "2019-01-01", "TXN_TS": "2019-01-01 09:00:00",
                    "TXN_SEQ": "1", "AGMT_ID": "A1", "CUST_ID": "0000000001", "DR_CR_FLAG": "C",
                    "TXN_AMT": "0.00", "BAL_AFTER": "0.00", "TXN_CODE": "DEPOSIT",
                    "CHANNEL": "COUNTER", "CPTY_ACCT_NO": None, "CPTY_NAME": None,
                    "CPTY_BANK_CODE": None, "CPTY_CUST_ID": None},
}


def raw_rows(spark: SparkSession, table: str, rows: list[dict]) -> DataFrame:
    """A string-typed source table: each row is DEFAULTS[table] updated with the dict."""
    names = [f.name for f in SOURCE_TABLES[table]]
    schema = StructType([StructField(n, StringType(), True) for n in names])
    data = [tuple({**DEFAULTS[table], **row}[n] for n in names) for row in rows]
    return spark.createDataFrame(data, schema)


def hand_extract(spark, root, ledger_days, extra_ledger=()):
    """A hand-written raw zone: one customer with one deposit account, a product holding in
    each month of `ledger_days`, one clean ledger record on each of those days (a deposit of
    1.00), and the `extra_ledger` rows."""
    ledger = [{"TXN_ID": f"T{i}", "TXN_DT": day, "TXN_TS": f"{day} 09:00:00", "TXN_SEQ": str(i + 1),
               "TXN_AMT": "1.00", "BAL_AFTER": f"{i + 1}.00"} for i, day in enumerate(ledger_days)] + list(extra_ledger)
    holdings = [{"STAT_MONTH": month} for month in sorted({day[:7] for day in ledger_days})]
    tables = {t: [{}] for t in DEFAULTS} | {"JNL_ACC_CHG": ledger, "T98_INDPTY_PROD_STAT": holdings}
    for table, rows in tables.items():
        raw_rows(spark, table, rows).write.mode("overwrite").parquet(f"{root}/{table}")


def hand_conf(conf, root, database, **quality):
    return dataclasses.replace(conf, database=database, paths=dataclasses.replace(conf.paths, raw_root=str(root)),
                               quality=dataclasses.replace(conf.quality, **quality))


def ingest_tables(database: str) -> list[str]:
    """The 14 tables an ingest writes into `database` and its silver database."""
    return ([f"{database}_silver.{silver_spec(t).name}" for t in INGEST_ORDER]
            + [f"{database}.{quarantine_spec(t).name}" for t in INGEST_ORDER]
            + [f"{database}.{DATA_QUALITY.name}", f"{database}_silver.{LEDGER_CHAIN_STATE.name}"])
