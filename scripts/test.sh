#!/usr/bin/env bash
# Set up (if needed), lint, and run the whole test suite on real Spark + Delta; arguments go
# to pytest (e.g. -m "not integration": the quick loop without the end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# a small lint rule set first (seconds): syntax errors, pyflakes (unused or undefined
# names), mutable default arguments
.venv/bin/ruff check --quiet --target-version py311 --select E9,F,B006 lib jobs tests scripts
exec .venv/bin/python -m pytest tests -q -p no:cacheprovider --durations=20 "$@"
