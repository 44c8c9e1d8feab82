"""The README's outputs table lists every gold table with exactly its columns (lib/tables.py
is the source; this keeps the two from drifting)."""
from __future__ import annotations

import re
from pathlib import Path

from lib import tables
from lib.tables import TableSpec

README = Path(__file__).resolve().parent.parent / "README.md"
SILVER = {"ledger_chain_state", "account_month_balance"}


def test_readme_outputs_table_matches_the_table_specs():
    rows = {m.group(1): re.findall(r"`([a-z_0-9]+)`", m.group(2))
            for m in re.finditer(r"^\| `([a-z_]+)` \| [^|]+ \| ([^\n]+) \|$", README.read_text(encoding="utf-8"), re.M)}
    specs = [s for s in vars(tables).values() if isinstance(s, TableSpec) and s.name not in SILVER]
    assert len(specs) == 24
    for spec in specs:
        assert rows.get(spec.name) == [c for c, _, _ in spec.columns if c != "stat_month"], spec.name
