"""The outcome stage for month M: follow the prospect lists of M-3..M-1 and the warning
list of M - horizon to M -> prospect_outcome (its month M). Lists that are not there are
named in the stage's note; with none at all there is nothing to follow."""
from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from lib.config import Config
from lib.errors import NothingToFollow
from lib.io import months_in, read_gold, read_months, read_silver, replace_months
from lib.logs import stage
from lib.months import add_months, month_range, month_text
from lib.outcome import follow
from lib.retention import dataset
from lib.tables import (
    CHURN_SCORES, CUSTOMER_MONTH_AUM, PROSPECT_CRITICAL, PROSPECT_EXTERNAL, PROSPECT_INTERNAL, PROSPECT_OUTCOME,
)

PROSPECT_LISTS = (PROSPECT_EXTERNAL, PROSPECT_INTERNAL, PROSPECT_CRITICAL)


def run_outcome(spark: SparkSession, conf: Config, month: str, log) -> str:
    """Write prospect_outcome of `month`; a note naming what was followed and what was not there."""
    follow_months = [add_months(month, -k) for k in range(follow.FOLLOW_MONTHS, 0, -1)]
    present = {spec.name: sorted(set(follow_months) & months_in(spark, conf.table(spec.name)))
               for spec in PROSPECT_LISTS}
    warned = add_months(month, -conf.retention.horizon)
    scored = warned in months_in(spark, conf.table(CHURN_SCORES.name))
    listed_months = sorted({m for months in present.values() for m in months})
    if not listed_months and not scored:
        raise NothingToFollow(f"nothing to follow in {month}: no prospect list of "
                              f"{follow_months[0]}..{follow_months[-1]} and no churn scores of {warned}")
    parts = []
    if listed_months:
        with stage(log, f"prospects listed {listed_months[0]}..{listed_months[-1]} followed to {month}"):
            lists = {name: read_months(spark, conf.table(name), months) if months else None
                     for name, months in present.items()}
            entities = follow.listed(*(lists[spec.name] for spec in PROSPECT_LISTS))
            after = month_range(add_months(listed_months[0], 1), month)
            aum = read_gold(spark, conf, CUSTOMER_MONTH_AUM.name, after, "aum")
            # read once for both rules that use it (MULTILATERAL and SOLO)
            transfers = follow.external_transfers(read_silver(spark, conf, "jnl_acc_chg", after)).localCheckpoint()
            # only customers who opened after a list month can be a prospect who opened an account
            customers = read_silver(spark, conf, "t01_indpty_id", [month]).filter(
                month_text(F.col("open_dt")) > listed_months[0])
            parts.append(follow.prospect_outcomes(entities, month, aum, transfers, customers))
    if scored:
        with stage(log, f"warning list {warned} at its horizon {month}"):
            scores = read_months(spark, conf.table(CHURN_SCORES.name), [warned])
            aum = read_gold(spark, conf, CUSTOMER_MONTH_AUM.name, month_range(warned, month), "aum")
            parts.append(follow.warning_outcomes(scores, dataset.labels(aum, warned, conf.retention), month))
    rows = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
    with stage(log, f"prospect_outcome {month}") as st:
        st.rows_out = replace_months(spark, rows, conf.database, PROSPECT_OUTCOME, [month])
    followed = [f"{name} {m}" for name, months in present.items() for m in months] + (
        [f"churn_scores {warned}"] if scored else [])
    absent = [f"{name} {m}" for name, months in present.items() for m in follow_months if m not in months] + (
        [] if scored else [f"churn_scores {warned}"])
    note = f"followed {', '.join(followed)}" + (f"; not there: {', '.join(absent)}" if absent else "")
    log.info("outcome %s: %s", month, note)
    return note
