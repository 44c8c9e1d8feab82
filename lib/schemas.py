"""The raw-zone contract (SPEC §3): six source tables with upper-case warehouse names."""
from __future__ import annotations

from pyspark.sql.types import (
    DateType, DecimalType, IntegerType, LongType, StringType, StructField, StructType, TimestampType,
)

MONEY = DecimalType(18, 2)          # every amount, CNY
MONEY_SQL = MONEY.simpleString()    # decimal(18,2), for SQL and DDL text

DEPOSIT_PRODUCTS = ("DEMAND_DEPOSIT", "TIME_DEPOSIT", "LARGE_CD", "AGREEMENT_DEPOSIT")
HOLDING_PRODUCTS = ("TREASURY_BOND", "WEALTH_PRODUCT", "FUND", "INSURANCE")
SERVICE_PRODUCTS = ("MOBILE_BANKING", "ONLINE_BANKING", "QUICK_PAY", "ETC")
ALL_PRODUCTS = DEPOSIT_PRODUCTS + HOLDING_PRODUCTS + SERVICE_PRODUCTS

AGREEMENT_STATUSES = ("ACTIVE", "CLOSED")
RELATION_TYPES = ("OWNER", "SIGNED")
GENDERS = ("M", "F")
DR_CR_FLAGS = ("C", "D")
TXN_CODES = ("OPENING_BALANCE", "OPEN", "DEPOSIT", "WITHDRAW", "TRANSFER_IN", "TRANSFER_OUT",
             "INTEREST", "PURCHASE", "REDEEM", "CLOSE")
CHANNELS = ("COUNTER", "MOBILE", "ONLINE", "ATM", "QUICK_PAY", "BATCH")
POSTAL_BANK_CODE = "PSBC"


def _schema(*fields: tuple) -> StructType:
    return StructType([StructField(name, dtype, True) for name, dtype in fields])


T01_INDPTY_ID = _schema(
    ("CUST_ID", StringType()), ("ID_NO", StringType()), ("CUST_NAME", StringType()),
    ("GENDER", StringType()), ("BIRTH_DT", DateType()), ("OCCUPATION", StringType()),
    ("ADDRESS", StringType()), ("OPEN_ORG_ID", StringType()), ("OPEN_DT", DateType()),
)
ORG_DIM = _schema(
    ("ORG_ID", StringType()), ("ORG_NAME", StringType()), ("COUNTY_NAME", StringType()),
    ("CITY_NAME", StringType()),
)
T03_AGREEMENT = _schema(
    ("AGMT_ID", StringType()), ("CUST_ID", StringType()), ("PROD_TYPE", StringType()),
    ("OPEN_DT", DateType()), ("CLOSE_DT", DateType()), ("ORG_ID", StringType()),
    ("STATUS", StringType()),
)
T98_INDPTY_PROD_STAT = _schema(
    ("STAT_MONTH", StringType()), ("CUST_ID", StringType()), ("PROD_TYPE", StringType()),
    ("HOLD_CNT", IntegerType()), ("MONTH_AVG_BAL", MONEY), ("MONTH_END_BAL", MONEY),
)
JNL_ACC_CHG = _schema(
    ("TXN_ID", StringType()), ("TXN_DT", DateType()), ("TXN_TS", TimestampType()),
    ("TXN_SEQ", LongType()), ("AGMT_ID", StringType()), ("CUST_ID", StringType()),
    ("DR_CR_FLAG", StringType()), ("TXN_AMT", MONEY), ("BAL_AFTER", MONEY),
    ("TXN_CODE", StringType()), ("CHANNEL", StringType()), ("CPTY_ACCT_NO", StringType()),
    ("CPTY_NAME", StringType()), ("CPTY_BANK_CODE", StringType()), ("CPTY_CUST_ID", StringType()),
)
TCS_INDPTY_AGMT_RELATION_H = _schema(
    ("CUST_ID", StringType()), ("AGMT_ID", StringType()), ("REL_TYPE", StringType()),
    ("START_DT", DateType()), ("END_DT", DateType()),
)

SOURCE_TABLES: dict[str, StructType] = {
    "ORG_DIM": ORG_DIM,
    "T01_INDPTY_ID": T01_INDPTY_ID,
    "T03_AGREEMENT": T03_AGREEMENT,
    "TCS_INDPTY_AGMT_RELATION_H": TCS_INDPTY_AGMT_RELATION_H,
    "T98_INDPTY_PROD_STAT": T98_INDPTY_PROD_STAT,
    "JNL_ACC_CHG": JNL_ACC_CHG,
}

# Columns that carry personal data: masked wherever they leave the raw and silver zones.
PERSONAL_COLUMNS = {
    "ID_NO": "id_no", "CUST_NAME": "name", "ADDRESS": "address",
    "CPTY_NAME": "name", "CPTY_ACCT_NO": "account", "AGMT_ID": "account",
    "BIRTH_DT": "digits",       # in clear it would give back the digits an ID number's mask stars
}
