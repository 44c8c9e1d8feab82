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


_ID_NUMBER = re.compile(r"\b(\d{6})\d{8}(\d{3}[\dXx])\b")
_ACCOUNT = re.compile(r"\b[A-Za-z]{0,3}\d{4,}(\d{4})\b")      # 8 digits or more, a short prefix allowed
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def scrub(text: str) -> str:
    """Free text (an error message, a log line) with what could be personal data masked
    the way the tables mask it: ID numbers, account-like runs of 8 or more digits (last
    four kept) and runs of Chinese characters, which may be names (first character and 某).
    Spark's error texts can quote row values; nothing here knows which ones."""
    text = _ID_NUMBER.sub(lambda m: m[1] + "*" * 8 + m[2], text)
    text = _ACCOUNT.sub(lambda m: "****" + m[1], text)
    return _CJK_RUN.sub(lambda m: m[0][0] + "某", text)


MASKS = {"id_no": mask_id_no, "name": mask_name, "account": mask_account, "address": mask_address,
         "digits": mask_digits}

