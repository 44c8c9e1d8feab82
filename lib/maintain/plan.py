"""What upkeep a table needs: the statements that bring an existing table's properties and
CHECK constraints up to its spec and the conf (tables made by an earlier version), and
its OPTIMIZE and VACUUM statements."""
from __future__ import annotations

from lib.config import TablesConf
from lib.io import quote
from lib.tables import TableSpec

CONSTRAINT = "delta.constraints."


def upgrades(table: str, have: dict[str, str], spec: TableSpec | None, tables: TablesConf) -> list[str]:
    """ALTER TABLE statements for what `have` (the table's properties) lacks: a constraint
    of that name is added (Delta checks it against the rows already there), a property
    missing or different is set."""
    wanted = {**tables.properties(), **(spec.properties() if spec else {})}
    missing = {key: value for key, value in wanted.items()
               if key not in have or (have[key] != value and not key.startswith(CONSTRAINT))}
    added = [f"ALTER TABLE {table} ADD CONSTRAINT {key.removeprefix(CONSTRAINT)} CHECK ({value})"
             for key, value in missing.items() if key.startswith(CONSTRAINT)]
    settings = ", ".join(f"'{key}' = '{quote(value)}'" for key, value in missing.items()
                         if not key.startswith(CONSTRAINT))
    return added + ([f"ALTER TABLE {table} SET TBLPROPERTIES ({settings})"] if settings else [])


def optimize(table: str, spec: TableSpec | None, month: str) -> str:
    """Compact the month's files (a table not partitioned by month, or not the product's
    own: all of them), Z-ordered on the column consumers look rows up by where the spec
    names one."""
    where = f" WHERE stat_month = '{month}'" if spec and spec.partition == "stat_month" else ""
    zorder = f" ZORDER BY ({spec.zorder})" if spec and spec.zorder else ""
    return f"OPTIMIZE {table}{where}{zorder}"


def vacuum(table: str, tables: TablesConf) -> str:
    """Delete files no version within the retention needs (never below Delta's safety check:
    the conf refuses fewer days)."""
    return f"VACUUM {table} RETAIN {tables.deleted_file_retention_days * 24} HOURS"
