"""A slice of the province for a quick run (`customers_sample`, --customers-sample): the
same customers every month, chosen by a hash of CUST_ID, with their own rows of every
source table. Rows without a customer stay in, so the validation quarantines and counts
them as a full run would."""
from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lib.config import SAMPLE_BUCKETS, sample_buckets


def in_sample(cust_id: Column, share: float) -> Column:
    """True for a customer of the slice (crc32 of the UTF-8 id, modulo SAMPLE_BUCKETS,
    below the share's number of buckets) and for a row without a customer."""
    bucket = F.pmod(F.crc32(cust_id.cast("binary")), F.lit(SAMPLE_BUCKETS))
    return cust_id.isNull() | (bucket < F.lit(sample_buckets(share)))


def customers_slice(raw: dict[str, DataFrame], share: float) -> dict[str, DataFrame]:
    """Each source table cut to the slice's customers (ORG_DIM whole). A relation row of
    a customer of the slice to an agreement owned by a customer outside it is left out
    too, so the slice never refers to an agreement it does not hold."""
    cut = {table: df.filter(in_sample(F.col("CUST_ID"), share)) if _has_customer(df) else df
           for table, df in raw.items()}
    outside = raw["T03_AGREEMENT"].filter(~in_sample(F.col("CUST_ID"), share)).select("AGMT_ID")
    relations = "TCS_INDPTY_AGMT_RELATION_H"
    cut[relations] = cut[relations].join(outside, "AGMT_ID", how="left_anti").select(*raw[relations].columns)
    return cut


def _has_customer(df: DataFrame) -> bool:
    """A CUST_ID column, in any case (a metastore source has lower-case names)."""
    return any(column.upper() == "CUST_ID" for column in df.columns)
