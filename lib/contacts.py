"""Who a marketing list reaches: a customer's masked name and ID number and home branch,
county and city (SPEC §5: lists are keyed by CUST_ID and show only masked forms)."""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from lib.privacy import mask_id_no, mask_name

CONTACT_COLUMNS = (
    ("masked_name", "string", "customer name masked: surname and 某"),
    ("masked_id_no", "string", "ID number masked: region code and last four"),
    ("org_id", "string", "home branch (opening branch)"),
    ("org_name", "string", "home branch name"),
    ("county_name", "string", "county of the home branch"),
    ("city_name", "string", "city of the home branch"),
)


def contacts(customers: DataFrame, orgs: DataFrame) -> DataFrame:
    """cust_id + CONTACT_COLUMNS from silver t01_indpty_id and org_dim rows."""
    org = orgs.select("org_id", "org_name", "county_name", "city_name")   # ORG_ID is unique (ingest rule)
    return (customers.select("cust_id", mask_name(F.col("cust_name")).alias("masked_name"),
                             mask_id_no(F.col("id_no")).alias("masked_id_no"), F.col("open_org_id").alias("org_id"))
            .join(org, "org_id", how="left")
            .select("cust_id", *[name for name, _, _ in CONTACT_COLUMNS]))
