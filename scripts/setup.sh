#!/usr/bin/env bash
# Set up a fresh machine: a virtualenv in .venv with the pinned packages. The JVM packages
# (Delta) are fetched by Spark from Maven Central into ~/.ivy2.5.2 on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v java >/dev/null || { echo "setup: Java 17 is needed (java not found)" >&2; exit 1; }
java -version 2>&1 | grep -q '"17\.' || echo "setup: warning: Spark 4.1 is tested with Java 17" >&2
PY=${PYTHON:-python3.11}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test,bench]"
