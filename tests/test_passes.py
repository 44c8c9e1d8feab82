"""A backfill's passes (lib/ingest/passes.py), by hand: as many months in a pass as the
average month's ledger rows allow under the limit, at least one."""
from __future__ import annotations

import pytest

from lib.ingest.passes import pass_spans

MONTHS = ["2019-01", "2019-02", "2019-03", "2019-04", "2019-05"]


@pytest.mark.parametrize("rows, limit, spans", [
    (50, 100, [("2019-01", "2019-05")]),                                          # all fit
    (50, 20, [("2019-01", "2019-02"), ("2019-03", "2019-04"), ("2019-05", "2019-05")]),  # 10 a month
    (50, 29, [("2019-01", "2019-02"), ("2019-03", "2019-04"), ("2019-05", "2019-05")]),
    (50, 30, [("2019-01", "2019-03"), ("2019-04", "2019-05")]),
    (50, 9, [(m, m) for m in MONTHS]),                                             # a month over the limit: alone
    (0, 1, [("2019-01", "2019-05")]),                                              # nothing to split
])
def test_passes_hold_as_many_average_months_as_the_limit_allows(rows, limit, spans):
    assert pass_spans(MONTHS, rows, limit) == spans
