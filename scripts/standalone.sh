#!/usr/bin/env bash
# A real Spark standalone cluster on this machine: one master and two workers on 127.0.0.1,
# started with the venv's spark-class; logs, pids and the workers' work dirs under
# build/standalone/ (STANDALONE_DIR), never inside site-packages.
#   scripts/standalone.sh start     start it, wait for both workers, print the master URL
#   scripts/standalone.sh stop      stop it
#   scripts/standalone.sh status    the master's view: URL, alive workers, cores, memory
# Then: scripts/submit.sh --master spark://127.0.0.1:7077 monthly --month 2019-03
# Settings: MASTER_PORT (7077), MASTER_UI_PORT (8080; workers take the next two),
# WORKER_CORES (1), WORKER_MEMORY (3g).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${STANDALONE_DIR:-$PWD/build/standalone}
PORT=${MASTER_PORT:-7077}
UI=${MASTER_UI_PORT:-8080}
URL=spark://127.0.0.1:$PORT
WORKERS=2
[ -x .venv/bin/spark-class ] || { echo "standalone: run scripts/setup.sh first (no .venv/bin/spark-class)" >&2; exit 2; }
SPARK_HOME=$(.venv/bin/python -c "import os, pyspark; print(os.path.dirname(pyspark.__file__))")
export SPARK_HOME SPARK_LOCAL_IP=127.0.0.1 SPARK_LOG_DIR=$DIR/logs SPARK_WORKER_DIR=$DIR/work

master_json() {
  .venv/bin/python - "$UI" <<'EOF'
import json, sys, urllib.request
try:
    print(json.dumps(json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/json/", timeout=5))))
except OSError:
    sys.exit(1)
EOF
}

alive_workers() {
  master_json 2>/dev/null | .venv/bin/python -c "import json, sys; print(json.load(sys.stdin)['aliveworkers'])" \
    2>/dev/null || echo 0
}

launch() {   # name, class, args...
  local name=$1; shift
  nohup .venv/bin/spark-class "$@" >"$DIR/logs/$name.out" 2>&1 &
  echo $! >"$DIR/pids/$name"
}

start() {
  if [ -f "$DIR/pids/master" ] && kill -0 "$(cat "$DIR/pids/master")" 2>/dev/null; then
    echo "standalone: already running at $URL (scripts/standalone.sh stop first)" >&2; exit 1
  fi
  mkdir -p "$DIR/logs" "$DIR/pids" "$DIR/work"
  launch master org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$PORT" --webui-port "$UI"
  for i in $(seq 1 $WORKERS); do
    launch "worker-$i" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --webui-port $((UI + i)) \
      --cores "${WORKER_CORES:-1}" --memory "${WORKER_MEMORY:-3g}" --work-dir "$DIR/work/worker-$i" "$URL"
  done
  for _ in $(seq 1 120); do
    if [ "$(alive_workers)" = "$WORKERS" ]; then echo "$URL"; return 0; fi
    for pid_file in "$DIR"/pids/*; do
      kill -0 "$(cat "$pid_file")" 2>/dev/null && continue
      echo "standalone: $(basename "$pid_file") exited; the end of $DIR/logs/$(basename "$pid_file").out:" >&2
      tail -n 5 "$DIR/logs/$(basename "$pid_file").out" >&2
      stop; exit 1
    done
    sleep 1
  done
  echo "standalone: $WORKERS workers did not register with $URL within 120 s; see $DIR/logs/" >&2
  stop; exit 1
}

stop() {
  for pid_file in "$DIR"/pids/*; do
    [ -f "$pid_file" ] || continue
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
  done
}

status() {
  master_json | .venv/bin/python -c "
import json, sys
m = json.load(sys.stdin)
print(f\"{m['url']} {m['status']}: {m['aliveworkers']} workers alive, {m['cores']} cores, {m['memory']} MiB\")" \
    || { echo "standalone: no master answering on 127.0.0.1:$UI" >&2; exit 1; }
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: scripts/standalone.sh start|stop|status" >&2; exit 2 ;;
esac
