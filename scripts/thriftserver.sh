#!/usr/bin/env bash
# The Spark Thrift Server (HiveThriftServer2) over the warehouse, for SQL/JDBC consumers:
# the same conf as the jobs (Delta extension and catalog, the pinned JVM packages),
# listening on 127.0.0.1 only. With the embedded metastore it serves a metastore of its
# own (lib/deploy/serving.py) that holds only the gold database's tables, registered when it
# starts (--with-silver: the silver database too, which holds personal data in clear); it
# does not lock the jobs' metastore, so refreshes run while it serves. Restart it to see
# a table a refresh created after it started.
#   scripts/thriftserver.sh start [--master URL] [--with-silver] [job conf flags]   e.g. --warehouse DIR
#   scripts/thriftserver.sh query "SQL"              run SQL through beeline (JDBC), tab-separated out
#   scripts/thriftserver.sh stop
# Then: jdbc:hive2://127.0.0.1:10000/wealth (THRIFT_PORT). Logs under build/thriftserver/
# (THRIFT_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${THRIFT_DIR:-$PWD/build/thriftserver}
PORT=${THRIFT_PORT:-10000}
[ -x .venv/bin/spark-submit ] || { echo "thriftserver: run scripts/setup.sh first" >&2; exit 2; }
SPARK_HOME=$(.venv/bin/python -c "import os, pyspark; print(os.path.dirname(pyspark.__file__))")
export SPARK_HOME

listening() {
  .venv/bin/python -c "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 2)" "$PORT" \
    2>/dev/null
}

start() {
  if listening; then echo "thriftserver: something already listens on 127.0.0.1:$PORT" >&2; exit 1; fi
  mkdir -p "$DIR"
  local master=() serve=()
  if [ "${1:-}" = "--master" ]; then master=(--master "$2"); shift 2; fi
  if [ "${1:-}" = "--with-silver" ]; then serve=(--with-silver); shift; fi
  # The Thrift Server's sessions load the catalog with the JVM's own class loader, which
  # does not see --packages or --jars (delta-io/delta#1332): Delta's jars go on the driver's
  # class path too, frozen (from the Ivy cache) unless --jars-dir names frozen ones.
  local jars_dir="" args=("$@") i
  for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[i]}" = "--jars-dir" ] && jars_dir=${args[i + 1]:-}; done
  if [ -z "$jars_dir" ]; then
    jars_dir=$DIR/jars
    .venv/bin/python -m lib.deploy.freeze_jars "$jars_dir" "$@" >"$DIR/freeze.log" 2>&1 \
      || { echo "thriftserver: could not resolve the JVM packages; see $DIR/freeze.log" >&2; exit 1; }
    set -- "$@" --jars-dir "$jars_dir"
  fi
  .venv/bin/python -m lib.deploy.serving "${serve[@]}" "$@" >"$DIR/serving.log" 2>&1 \
    || { echo "thriftserver: could not register the served tables; see $DIR/serving.log" >&2; exit 1; }
  mapfile -t ARGS < <(.venv/bin/python -m lib.deploy.submit_args --package build/wealth.zip --serving "${master[@]}" "$@")
  [ ${#ARGS[@]} -gt 0 ] || exit 2
  # only Delta's own jars: its dependencies that Spark also ships (Jackson, Hadoop, Parquet)
  # must not shadow Spark's versions on that class path
  local class_path; class_path=$(printf '%s:' "$(cd "$jars_dir" && pwd)"/io.delta_*.jar)
  PYSPARK_PYTHON=$PWD/.venv/bin/python nohup .venv/bin/spark-submit "${ARGS[@]}" --name wealth-thriftserver \
    --driver-class-path "${class_path%:}" \
    --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 spark-internal \
    --hiveconf hive.server2.thrift.bind.host=127.0.0.1 --hiveconf hive.server2.thrift.port="$PORT" \
    >"$DIR/thriftserver.log" 2>&1 &
  echo $! >"$DIR/pid"
  for _ in $(seq 1 240); do
    if listening; then echo "jdbc:hive2://127.0.0.1:$PORT"; return 0; fi
    if ! kill -0 "$(cat "$DIR/pid")" 2>/dev/null; then
      echo "thriftserver: exited while starting; the end of $DIR/thriftserver.log:" >&2
      tail -n 20 "$DIR/thriftserver.log" >&2; exit 1
    fi
    sleep 1
  done
  echo "thriftserver: not listening on 127.0.0.1:$PORT after 240 s; see $DIR/thriftserver.log" >&2
  stop; exit 1
}

stop() {
  [ -f "$DIR/pid" ] || return 0
  local pid; pid=$(cat "$DIR/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done   # Derby's lock goes with it
  rm -f "$DIR/pid"
}

query() {
  .venv/bin/beeline -u "jdbc:hive2://127.0.0.1:$PORT" -n "${USER:-wealth}" --silent=true --showHeader=true \
    --outputformat=tsv2 -e "$1" | sed -E 's/^[0-9]+: jdbc:hive2:[^>]*> //'   # beeline echoes its prompt
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  query) query "${2:?usage: scripts/thriftserver.sh query \"SQL\"}" ;;
  *) echo "usage: scripts/thriftserver.sh start [--master URL] [--with-silver] [job conf flags] | query \"SQL\" | stop" >&2
     exit 2 ;;
esac
