"""An independent AUM implementation for the tests: pandas, the obvious way (a full
account x day grid in integer cents), sharing no code or method with lib/aum/balances.py."""
from __future__ import annotations

import calendar
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

CENT = Decimal("0.01")


def _cents(x) -> int:
    return int((Decimal(x) * 100).to_integral_value())


def _money(cents_times_days: int, days: int) -> Decimal:
    return (Decimal(cents_times_days) / Decimal(days) / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def reference_aum(ledger: pd.DataFrame, t98: pd.DataFrame, customers: pd.DataFrame,
                  months: list[str]) -> pd.DataFrame:
    """cust_id, stat_month, aum_month_avg, aum_month_end, aum_max_daily, aum_3m (Decimal),
    for ledger (cust_id, agmt_id, txn_dt, txn_seq, bal_after) starting at months[0]."""
    days = pd.date_range(f"{months[0]}-01", f"{months[-1]}-{calendar.monthrange(*map(int, months[-1].split('-')))[1]}")
    led = ledger.sort_values(["agmt_id", "txn_dt", "txn_seq"])
    led = led.assign(day=pd.to_datetime(led.txn_dt), cents=led.bal_after.map(_cents))
    day_end = led.groupby(["cust_id", "agmt_id", "day"]).cents.last()
    grid = (day_end.unstack(["cust_id", "agmt_id"]).reindex(days).ffill().fillna(0).astype("int64"))
    per_cust = grid.T.groupby(level="cust_id").sum().T              # day x customer, cents
    month_of_day = days.strftime("%Y-%m")
    hold = t98.groupby(["cust_id", "stat_month"])[["month_avg_bal", "month_end_bal"]].sum()
    rows = []
    for month in months:
        in_month = per_cust[month_of_day == month]
        n_days = len(in_month)
        for cust in customers[customers.stat_month == month].cust_id:
            series = in_month[cust] if cust in in_month else pd.Series([0] * n_days)
            avg, end = Decimal(0), Decimal(0)
            if (cust, month) in hold.index:
                avg, end = (Decimal(v) for v in hold.loc[(cust, month)])
            rows.append({"cust_id": cust, "stat_month": month,
                         "aum_month_avg": _money(int(series.sum()), n_days) + avg,
                         "aum_month_end": Decimal(int(series.iloc[-1])) / 100 + end,
                         "aum_max_daily": Decimal(int(series.max())) / 100 + avg})
    out = pd.DataFrame(rows)
    wide = out.pivot(index="cust_id", columns="stat_month", values="aum_month_avg")
    three = {}
    for i, month in enumerate(months):
        window = [m for m in months[max(0, i - 2):i + 1]]
        three[month] = wide[window].apply(lambda r: sum((v if isinstance(v, Decimal) else Decimal(0)) for v in r),
                                          axis=1)
    known = {month: min(3, i + 1) for i, month in enumerate(months)}   # the ledger starts at months[0]
    out["aum_3m"] = [(three[r.stat_month][r.cust_id] / known[r.stat_month]).quantize(CENT, rounding=ROUND_HALF_UP)
                     for r in out.itertuples()]
    return out


def reference_volatility(values: list[float], stable_cv=0.05, slope_min=0.02, r2_min=0.5) -> str | None:
    """SPEC §4 volatility class of a chronological series, with numpy."""
    y = np.asarray(values, dtype=float)
    if len(y) < 3:
        return None
    mean = y.mean()
    if mean == 0 or y.std() / mean <= stable_cv:
        return "STABLE"
    t = np.arange(len(y))
    slope, intercept = np.polyfit(t, y, 1)
    fitted = slope * t + intercept
    r2 = 1 - ((y - fitted) ** 2).sum() / ((y - mean) ** 2).sum()
    if slope / mean >= slope_min and r2 >= r2_min:
        return "GROWTH"
    if slope / mean <= -slope_min and r2 >= r2_min:
        return "DECLINING"
    return "VOLATILE"
