"""The report as one self-contained HTML file: charts embedded as data URIs (the PNGs are
also written beside it), tables from small pandas frames, every text escaped."""
from __future__ import annotations

import base64
import html
from collections.abc import Callable

import pandas as pd

STYLE = """
body { font-family: "Noto Sans", "Helvetica Neue", Arial, "Microsoft YaHei", sans-serif; margin: 2em auto;
       max-width: 1100px; color: #222; }
h1 { border-bottom: 2px solid #1565c0; padding-bottom: .3em; }
h2 { margin-top: 1.8em; color: #1565c0; }
table { border-collapse: collapse; margin: .8em 0; font-size: 13px; display: block; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef3fb; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.facts td:first-child { font-weight: bold; }
.missing { color: #8d6e00; background: #fff8e1; padding: .6em 1em; border-left: 4px solid #f9a825; }
.note { color: #555; font-size: 13px; }
img { max-width: 100%; }
"""

Format = Callable[[object], str]
NUMERIC = ' class="num"'


def count(v) -> str:
    return f"{int(v):,}"


def share(v) -> str:
    return f"{float(v):.2%}"


def money(v) -> str:
    return f"{float(v):,.0f}"


def ratio(v) -> str:
    return f"{float(v):.3f}"


def table(frame: pd.DataFrame, formats: dict[str, Format] | None = None) -> str:
    """An HTML table of a small frame; `formats` turns a column's values into text (those
    columns are right-aligned); missing values show as "–"."""
    formats = formats or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row):
            text = "–" if value is None or (not isinstance(value, (list, str)) and pd.isna(value)) else (
                formats[col](value) if col in formats else str(value))
            cells.append(f"<td{NUMERIC if col in formats else ''}>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def facts(pairs: list[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in pairs)
    return f'<table class="facts">{rows}</table>'


def figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption class=\"note\">{html.escape(caption)}</figcaption></figure>")


def missing(why: str) -> str:
    return f'<p class="missing">Not available: {html.escape(why)}</p>'


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def page(title: str, sections: list[tuple[str, str]]) -> str:
    """The whole document: a title and (heading, body HTML) sections."""
    parts = "".join(f"<section><h2>{html.escape(h)}</h2>{body}</section>" for h, body in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{parts}</body></html>\n")
