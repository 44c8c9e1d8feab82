"""Calendar months as YYYY-MM strings."""
from __future__ import annotations


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
