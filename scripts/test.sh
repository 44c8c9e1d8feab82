#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite on real Spark + Delta.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest tests -q -p no:cacheprovider --durations=20 "$@"
