"""Masked forms of personal data (SPEC §5): 410425********0567, 顾某, ****1234.

Column expressions, so masking runs inside Spark and no clear value reaches a log; and
`scrub` for free text (error messages, log lines) that may quote row values.
"""
from __future__ import annotations

import re

from pyspark.sql import Column
from pyspark.sql import functions as F

_KEEP_HEAD, _KEEP_TAIL = 6, 4


def mask_id_no(col: Column) -> Column:
    """Region code and last four kept, the birth date and sequence starred."""
    n = F.length(col)
    stars = F.repeat(F.lit("*"), n - (_KEEP_HEAD + _KEEP_TAIL))
    return (F.when(n >= _KEEP_HEAD + _KEEP_TAIL + 1,
                   F.concat(F.substring(col, 1, _KEEP_HEAD), stars, F.substring(col, -_KEEP_TAIL, _KEEP_TAIL)))
             .when(col.isNotNull(), F.repeat(F.lit("*"), n)))


def mask_name(col: Column) -> Column:
    """The surname (first character) and 某."""
    return F.when(F.length(col) > 0, F.concat(F.substring(col, 1, 1), F.lit("某")))


def mask_account(col: Column) -> Column:
    """Only the last four digits of an account number."""
    return F.when(F.length(col) > _KEEP_TAIL,
                  F.concat(F.lit("****"), F.substring(col, -_KEEP_TAIL, _KEEP_TAIL))
                  ).when(col.isNotNull(), F.lit("****"))


def mask_address(col: Column) -> Column:
    """Province and city only (first six characters)."""
    return F.when(col.isNotNull(), F.concat(F.substring(col, 1, 6), F.lit("…")))


def mask_digits(col: Column) -> Column:
    """Every digit starred, the rest kept (a delivered date keeps its shape: ****/**/**).
    For a birth date beside a masked ID number, whose stars are that birth date."""
    return F.regexp_replace(col, r"[0-9]", "*")


def pseudonym(col: Column) -> Column:
    """A stable key for a value that must not be shown (an account at another bank): the
    first 96 bits of its SHA-256 as 24 letters a-p (hex with its digits moved to g-p, so no
    run of digits in it can pass for an ID or account number). Joins and counts work on it;
    the clear value stays in the silver zone."""
    return F.translate(F.substring(F.sha2(col, 256), 1, 24), "0123456789", "ghijklmnop")


_ID_NUMBER = r"\b(\d{6})\d{8}(\d{3}[\dXx])\b"
_ACCOUNT = r"\b[A-Za-z]{0,3}\d{4,}(\d{4})\b"      # 8 digits or more, a short prefix allowed
_CJK_RUN = r"([\u4e00-\u9fff])[\u4e00-\u9fff]+"


def scrub(text: str) -> str:
    """Free text (an error message, a log line) with what could be personal data masked
    the way the tables mask it: ID numbers, account-like runs of 8 or more digits (last
    four kept) and runs of Chinese characters, which may be names (first character and 某).
    Spark's error texts can quote row values; nothing here knows which ones."""
    text = re.sub(_ID_NUMBER, lambda m: m[1] + "*" * 8 + m[2], text)
    text = re.sub(_ACCOUNT, lambda m: "****" + m[1], text)
    return re.sub(_CJK_RUN, lambda m: m[1] + "某", text)


def scrub_column(col: Column) -> Column:
    """`scrub` as a column expression: for delivered text that may hold anything (a row
    whose columns shifted can put a name or an ID number into any column)."""
    col = F.regexp_replace(col, _ID_NUMBER, "$1********$2")
    col = F.regexp_replace(col, _ACCOUNT, "****$1")
    return F.regexp_replace(col, _CJK_RUN, "$1某")


MASKS = {"id_no": mask_id_no, "name": mask_name, "account": mask_account, "address": mask_address,
         "digits": mask_digits}

