#!/usr/bin/env bash
# Run one job through spark-submit with the pinned JVM packages and the chosen conf.
#   scripts/submit.sh [--master URL] JOB [job args]      e.g. scripts/submit.sh ingest --month 2019-03
# The code is shipped as build/wealth.zip (--py-files); the Spark settings, the packages
# and the master (unless --master is given) come from conf/<env>.yaml (--env, default local).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
MASTER=""
if [ "${1:-}" = "--master" ]; then MASTER=$2; shift 2; fi
JOB=${1:?usage: scripts/submit.sh [--master URL] JOB [args]}; shift
[ -f "jobs/$JOB.py" ] || { echo "submit: no job '$JOB' (jobs: $(ls jobs | grep -v __ | sed 's/\.py//' | tr '\n' ' '))" >&2; exit 2; }
mapfile -t SPARK_ARGS < <("$PY" -m lib.deploy.submit_args --package build/wealth.zip ${MASTER:+--master "$MASTER"} "$@")
[ ${#SPARK_ARGS[@]} -gt 0 ] || exit 2
export PYSPARK_PYTHON=${PYSPARK_PYTHON:-$PWD/$PY}
exec .venv/bin/spark-submit "${SPARK_ARGS[@]}" --py-files build/wealth.zip "jobs/$JOB.py" "$@"
