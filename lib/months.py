"""Calendar months as YYYY-MM strings, and as Spark columns."""
from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F

MONTH_PATTERN = "^[0-9]{4}-(0[1-9]|1[0-2])$"      # YYYY-MM, also in SQL (ASCII digits only)
_MONTH = re.compile(MONTH_PATTERN)


def is_month(text: object) -> bool:
    """Whether `text` is a month of the form YYYY-MM."""
    return isinstance(text, str) and _MONTH.match(text) is not None


def add_months(month: str, n: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_range(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included."""
    if last < first:
        raise ValueError(f"month range ends ({last}) before it starts ({first})")
    out = [first]
    while out[-1] != last:
        out.append(add_months(out[-1], 1))
    return out


def first_day(month: Column) -> Column:
    """The first day (a date) of a YYYY-MM column."""
    return F.to_date(F.concat(month, F.lit("-01")))


def month_index(day: Column) -> Column:
    """year × 12 + month of a date column: consecutive months get consecutive numbers."""
    return F.year(day) * 12 + F.month(day)


def month_text(day: Column) -> Column:
    """The YYYY-MM of a date column."""
    return F.date_format(day, "yyyy-MM")
