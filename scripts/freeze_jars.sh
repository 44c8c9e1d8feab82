#!/usr/bin/env bash
# Freeze the pinned JVM packages (conf/base.yaml spark.packages, with their dependencies)
# into a folder of jars for a cluster that cannot reach Maven Central:
#   scripts/freeze_jars.sh DIR [--env NAME]
# then submit with: scripts/submit.sh --master URL JOB --jars-dir DIR [args]
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m lib.deploy.freeze_jars "$@"
