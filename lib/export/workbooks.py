"""A branch's lists as files: one workbook with a sheet per list and a UTF-8 CSV per list
(with a byte-order mark, so a spreadsheet opens the Chinese headers right); a city's
summary the same way."""
from __future__ import annotations

import io

import pandas as pd

CSV_ENCODING = "utf-8-sig"


def workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx file with one sheet per name, in order (openpyxl)."""
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return out.getvalue()


def csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode(CSV_ENCODING)
