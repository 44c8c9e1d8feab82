"""JNL_ACC_CHG for the synthetic province, and T98 monthly holdings.

Each deposit account's whole history is built inside one row as an array of events
(day, balance): the balances follow the customer's planted trajectory with noise, and
each record's amount and direction are the difference from the previous balance, so
BAL_AFTER follows from the previous balance and TXN_AMT by construction and is never
negative. The array is then exploded: no shuffle, no UDF, nothing on the driver.
"""
from __future__ import annotations

import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lib.schemas import JNL_ACC_CHG, MONEY, POSTAL_BANK_CODE, T98_INDPTY_PROD_STAT
from lib.seeded import uniform
from lib.synth import people
from lib.synth.province import HUB_OFFSET, HUB_STRIDE, WEALTH_SEGMENTS, GenParams, month_index, trajectory
from lib.synth.random import below, pick

EVENTS_PER_MONTH = {"DEMAND_DEPOSIT": 7.0, "TIME_DEPOSIT": 0.5, "LARGE_CD": 0.3, "AGREEMENT_DEPOSIT": 1.0}
NOISE = {"DEMAND_DEPOSIT": 0.3}            # relative spread of balances; others 0.04
MAX_EVENTS = 390                           # keeps TXN_TS (08:00 + 2 min per record) on its day
EXTERNAL_HUB_EVERY = 1500                  # one external prospect hub per 1,500 customers


def _money(x: Column) -> Column:
    return F.round(x, 2).cast(MONEY)


def _balance(p: GenParams, day: Column, u: Column) -> Column:
    noise = F.lit(0.04)
    for prod, spread in NOISE.items():
        noise = F.when(F.col("PROD_TYPE") == prod, spread).otherwise(noise)
    return _money(F.col("level") * trajectory(p, month_index(p, day)) * (1 + noise * (u - 0.5)))


def account_events(deposits: DataFrame, p: GenParams) -> DataFrame:
    """One row per ledger record: AGMT_ID and account attributes, day, seq, kind, bal, prev."""
    s, agmt = p.seed, F.col("AGMT_ID")
    first = F.greatest(F.col("OPEN_DT"), F.lit(p.first_day))
    closes = F.col("CLOSE_DT").isNotNull() & (F.col("CLOSE_DT") <= F.lit(p.last_day))
    end = F.when(closes, F.col("CLOSE_DT")).otherwise(F.date_add(F.lit(p.last_day), 1))   # exclusive
    span = F.datediff(end, first)
    rate = F.lit(0.0)
    for prod, per_month in EVENTS_PER_MONTH.items():
        rate = F.when(F.col("PROD_TYPE") == prod, per_month).otherwise(rate)
    count = F.least(F.lit(MAX_EVENTS), F.floor(rate * span / 30.44 * (0.6 + 0.8 * uniform(s, "count", agmt))))
    opening = F.when(F.col("OPEN_DT") < F.lit(p.first_day), "OPENING_BALANCE").otherwise("OPEN")
    first_event = F.struct(first.alias("day"), opening.alias("kind"),
                           _balance(p, first, uniform(s, "bal", agmt, F.lit(0))).alias("bal"))
    days = F.array_sort(F.transform(
        F.filter(F.sequence(F.lit(0), count.cast("int")), lambda i: i > 0),
        lambda i: F.date_add(first, F.floor(uniform(s, "day", agmt, i) * span).cast("int"))))
    regular = F.transform(days, lambda d, i: F.struct(
        d.alias("day"), F.lit("MOVE").alias("kind"), _balance(p, d, uniform(s, "bal", agmt, i + 1)).alias("bal")))
    close_event = F.when(closes, F.struct(F.col("CLOSE_DT").alias("day"), F.lit("CLOSE").alias("kind"),
                                          F.lit(0).cast(MONEY).alias("bal")))
    events = F.filter(F.concat(F.array(first_event), regular, F.array(close_event)),
                      lambda e: e.isNotNull())
    # The array becomes a column before each record looks up its predecessor: an
    # expression referenced inside the lambda would be rebuilt for every element.
    with_events = deposits.withColumn("events", events)
    listed = F.col("events")
    chained = F.transform(listed, lambda e, i: F.struct(
        e["day"].alias("day"), e["kind"].alias("kind"), e["bal"].alias("bal"), (i + 1).cast("long").alias("seq"),
        F.when(i == 0, F.when(e["kind"] == "OPENING_BALANCE", e["bal"]).otherwise(F.lit(0).cast(MONEY)))
        .otherwise(F.element_at(listed, F.greatest(i, F.lit(1)))["bal"]).alias("prev")))
    return with_events.select(*deposits.columns, F.inline(chained))


def external_party(seed: int, key: Column, name: Column) -> Column:
    """A person at another bank (struct acct, name, bank, cust), fixed by `key`."""
    return F.struct(people.external_account(seed, "acct", key).alias("acct"), name.alias("name"),
                    pick(people.OTHER_BANKS, uniform(seed, "bank", key)).alias("bank"),
                    F.lit(None).cast("string").alias("cust"))


def external_hubs(spark, p: GenParams) -> DataFrame:
    """The planted external prospect hubs: bank code, account number, name."""
    key = F.concat(F.lit("hub"), F.col("id").cast("string"))
    hub = external_party(p.seed, key, people.person_name(p.seed, key))
    return spark.range(max(3, p.customers // EXTERNAL_HUB_EVERY), numPartitions=1).select(
        F.col("id").alias("hub"), hub["bank"].alias("cpty_bank_code"), hub["acct"].alias("cpty_acct_no"),
        hub["name"].alias("cpty_name"))


def own_accounts(cust: DataFrame, p: GenParams) -> DataFrame:
    """Each customer's own account at another bank (where its OWN transfers go), and
    whether it planted a large outflow to it (own_outflow)."""
    own = external_party(p.seed, F.concat(F.lit("own"), F.col("CUST_ID")), F.col("CUST_NAME"))
    return cust.select(F.col("CUST_ID").alias("cust_id"), own["bank"].alias("cpty_bank_code"),
                       own["acct"].alias("cpty_acct_no"), "own_outflow")


def _counterparty(p: GenParams, outflow_to_own: Column) -> Column:
    """Who is on the other side of a transfer (a struct of the four CPTY_ columns)."""
    s, key = p.seed, F.col("TXN_ID")
    u = uniform(s, "cpty", key)
    wealthy = F.col("segment").isin(*WEALTH_SEGMENTS)
    kind = (F.when(outflow_to_own, "OWN")
            .when(wealthy, below(uniform(s, "cptykind", key), ("OWN", 0.2), ("EXT_HUB", 0.2), ("INT_HUB", 0.2),
                                 ("POSTAL", 0.2), ("EXTERNAL", 0.2)))
            .otherwise(below(uniform(s, "cptykind", key), ("OWN", 0.1), ("POSTAL", 0.45), ("EXTERNAL", 0.45))))
    hubs = max(1, math.ceil((p.customers - HUB_OFFSET) / HUB_STRIDE))
    ext_hubs = max(3, p.customers // EXTERNAL_HUB_EVERY)
    hub_n = (F.floor(u * hubs) * HUB_STRIDE + HUB_OFFSET).cast("long")
    postal_n = F.floor(u * p.customers).cast("long")

    def postal(n: Column) -> Column:
        cid = people.cust_id(n)
        return F.struct(F.concat(F.lit("A"), cid, F.lit("00")).alias("acct"), people.person_name(s, n).alias("name"),
                        F.lit(POSTAL_BANK_CODE).alias("bank"), cid.alias("cust"))

    own_key = F.concat(F.lit("own"), F.col("CUST_ID"))
    ext_hub = F.concat(F.lit("hub"), F.floor(u * ext_hubs).cast("string"))
    return (F.when(kind == "OWN", external_party(s, own_key, F.col("CUST_NAME")))
            .when(kind == "EXT_HUB", external_party(s, ext_hub, people.person_name(s, ext_hub)))
            .when(kind == "INT_HUB", postal(hub_n))
            .when(kind == "POSTAL", postal(postal_n))
            .otherwise(external_party(s, key, people.person_name(s, key))))


def ledger(deposits: DataFrame, p: GenParams) -> DataFrame:
    """JNL_ACC_CHG rows (contract columns, in contract order)."""
    s = p.seed
    ev = account_events(deposits, p).withColumn(
        "TXN_ID", F.concat(F.lit("T"), F.col("AGMT_ID"), F.lpad(F.col("seq").cast("string"), 4, "0")))
    u = lambda salt: uniform(s, salt, F.col("TXN_ID"))  # noqa: E731 - a draw per record
    credit = F.col("bal") >= F.col("prev")
    flag = F.when(F.col("kind") == "CLOSE", "D").when(credit, "C").otherwise("D")
    draining = ((F.col("segment") == "CHURNER") & (month_index(p, F.col("day")) >= F.col("churn_k") - 2)
                & (flag == "D"))
    to_own = draining | (F.col("own_outflow") & (flag == "D"))
    code = (F.when(F.col("kind") != "MOVE", F.col("kind"))
            .when(to_own, "TRANSFER_OUT")
            .when(flag == "C", below(u("code"), ("TRANSFER_IN", 0.45), ("DEPOSIT", 0.4), ("INTEREST", 0.05),
                                     ("REDEEM", 0.1)))
            .otherwise(below(u("code"), ("TRANSFER_OUT", 0.45), ("WITHDRAW", 0.4), ("PURCHASE", 0.15))))
    transfer_channel = F.when(F.col("has_mobile_banking") & (u("channel") < 0.75), "MOBILE").otherwise(
        pick(("ONLINE", "COUNTER", "QUICK_PAY"), u("channel2")))
    channel = (F.when(F.col("TXN_CODE").isin("DEPOSIT", "WITHDRAW"), pick(("COUNTER", "ATM"), u("channel")))
               .when(F.col("TXN_CODE").startswith("TRANSFER"), transfer_channel)
               .when(F.col("TXN_CODE").isin("PURCHASE", "REDEEM"), pick(("COUNTER", "MOBILE", "BATCH"), u("channel")))
               .when(F.col("TXN_CODE") == "INTEREST", "BATCH")
               .otherwise("COUNTER"))
    out = (ev.withColumn("DR_CR_FLAG", flag).withColumn("TXN_CODE", code)
           .withColumn("cpty", F.when(F.col("TXN_CODE").startswith("TRANSFER"), _counterparty(p, to_own))))
    ts = F.timestamp_seconds(F.unix_timestamp(F.col("day").cast("timestamp")) + 8 * 3600 + F.col("seq") * 120)
    return out.select(
        "TXN_ID", F.col("day").alias("TXN_DT"), ts.alias("TXN_TS"), F.col("seq").alias("TXN_SEQ"), "AGMT_ID",
        "CUST_ID", "DR_CR_FLAG", F.abs(F.col("bal") - F.col("prev")).cast(MONEY).alias("TXN_AMT"),
        F.col("bal").alias("BAL_AFTER"), "TXN_CODE", channel.alias("CHANNEL"),
        F.col("cpty.acct").alias("CPTY_ACCT_NO"), F.col("cpty.name").alias("CPTY_NAME"),
        F.col("cpty.bank").alias("CPTY_BANK_CODE"), F.col("cpty.cust").alias("CPTY_CUST_ID"),
    ).select(*[F.col(f.name).cast(f.dataType) for f in JNL_ACC_CHG])


def holdings(agmts: DataFrame, p: GenParams) -> DataFrame:
    """T98_INDPTY_PROD_STAT: per holding and month in force, the daily-average and the
    month-end balance (the level times the trajectory, prorated by days held)."""
    s = p.seed
    month_start = F.add_months(F.lit(p.first_day), F.col("k"))
    month_end = F.last_day(month_start)
    held_from = F.greatest(month_start, F.col("OPEN_DT"))
    held_until = F.least(F.date_add(month_end, 1), F.coalesce(F.col("CLOSE_DT"), F.date_add(month_end, 1)))
    held_days = F.datediff(held_until, held_from)
    days = F.dayofmonth(month_end)
    level = F.col("level") * trajectory(p, F.col("k"))
    key = F.concat(F.col("AGMT_ID"), F.col("k").cast("string"))
    at_end = held_until > month_end
    rows = (agmts.filter(F.col("class") == "holding")
            .select("*", F.explode(F.sequence(F.lit(0), F.lit(p.months - 1))).alias("k"))
            .filter(held_days > 0))
    return rows.select(
        F.date_format(month_start, "yyyy-MM").alias("STAT_MONTH"), "CUST_ID", "PROD_TYPE",
        F.lit(1).alias("HOLD_CNT"),
        _money(level * (1 + 0.02 * (uniform(s, "avg", key) - 0.5)) * held_days / days).alias("MONTH_AVG_BAL"),
        _money(F.when(at_end, level * (1 + 0.02 * (uniform(s, "end", key) - 0.5))).otherwise(0.0)).alias("MONTH_END_BAL"),
    ).select(*[F.col(f.name).cast(f.dataType) for f in T98_INDPTY_PROD_STAT])
