#!/usr/bin/env bash
# Set up (if needed), generate a small demo province and run the jobs that exist so far
# on it in local mode. Raw data lands in data/raw, the Delta warehouse in warehouse/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
CUSTOMERS=${CUSTOMERS:-5000}
MONTHS=${MONTHS:-12}
START=${START:-2019-01}
scripts/submit.sh generate --customers "$CUSTOMERS" --months "$MONTHS" --start-month "$START" --bad-rate 0.002
for month in $(.venv/bin/python -c "from lib.months import month_range, add_months; print(' '.join(month_range('$START', add_months('$START', $MONTHS - 1))))"); do
  scripts/submit.sh ingest --month "$month"
done
.venv/bin/python - <<'PY'
from deltalake import DeltaTable
dq = DeltaTable("warehouse/wealth.db/data_quality").to_pandas()
print("\ndata_quality (rows quarantined per table and rule, all months):")
print(dq.groupby(["table_name", "rule"]).rows_bad.sum().loc[lambda s: s > 0].to_string())
PY
