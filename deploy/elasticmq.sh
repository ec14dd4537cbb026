#!/usr/bin/env bash
# Runs ElasticMQ, an SQS-compatible queue server (elasticmq-server from Maven Central), in its
# own JVM, for development and tests. Queues live in memory: a restart empties them.
#
#   deploy/elasticmq.sh start|stop|status [options]
#
#   --dir DIR      logs and pid file (default: $PWD/.tributary/elasticmq)
#   --port N       SQS port on 127.0.0.1 (default: 9324)
#   --heap SIZE    -Xms/-Xmx (default: 256m)
#
# start   starts the server in the background and returns once it accepts requests
#         (exit 0 at once if it is already running)
# stop    SIGTERM, SIGKILL after 60 s; fine if nothing runs
# status  prints running/stopped; exit 0 if running, 1 if not
#
# Queue URLs are http://127.0.0.1:<port>/000000000000/<name>, region us-east-1; any access
# key is accepted. Environment: TRIBUTARY_ELASTICMQ_START_TIMEOUT (seconds, default 60).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/server.sh
source "$ROOT/deploy/lib/server.sh"
script_init elasticmq

readonly ELASTICMQ_VERSION=1.7.1
readonly MAIN_CLASS=org.elasticmq.server.Main
readonly START_TIMEOUT="${TRIBUTARY_ELASTICMQ_START_TIMEOUT:-60}"
readonly STOP_TIMEOUT=60
readonly POM="$ROOT/deploy/elasticmq/pom.xml"
readonly CP_FILE="$ROOT/.tributary/elasticmq-classpath.txt"
readonly LOGBACK_FILE="$ROOT/config/elasticmq-logback.xml"

dir="$PWD/.tributary/elasticmq"
port=9324
heap=256m
parse_server_args --dir dir --port port --heap heap -- "$@"
if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then die "--port: not a port number: $port"; fi
[[ $heap =~ ^[0-9]+[kKmMgG]?$ ]] || die "--heap: expected a JVM size such as 256m, got: $heap"

server_dir
readonly conf="$dir/elasticmq.conf"
SERVER=ElasticMQ
server_host=127.0.0.1
server_ports=("$port")
server_port_options=(--port)
server_url="http://127.0.0.1:$port"
server_logs=("$log_dir/stdout.log" "$log_dir/server.log")

running_pid() { recorded_pid "$pid_file" "$MAIN_CLASS" "-Dconfig.file=$conf"; }
served_port() { sed -n 's/^ *bind-port = \([0-9]*\)$/\1/p' "$conf" 2>/dev/null || true; }
find_runtime() { find_java17 "ElasticMQ $ELASTICMQ_VERSION (as tested here)"; }

prepare_start() {
  build_classpath "$POM" "$CP_FILE" "elasticmq-server_2.13 $ELASTICMQ_VERSION"
  cat >"$conf" <<EOF
# Written by deploy/elasticmq.sh.
include classpath("application.conf")
node-address {
  protocol = http
  host = 127.0.0.1
  port = $port
  context-path = ""
}
rest-sqs {
  enabled = true
  bind-hostname = "127.0.0.1"
  bind-port = $port
  sqs-limits = strict
}
rest-stats.enabled = false
aws {
  region = us-east-1
  accountId = 000000000000
}
EOF
  say "starting ElasticMQ $ELASTICMQ_VERSION: http://127.0.0.1:$port, heap $heap"
  server_command=("$java" -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
    -Dconfig.file="$conf" -Dlogback.configurationFile="$LOGBACK_FILE" -Delasticmq.logdir="$log_dir"
    -cp "$(cat "$CP_FILE")" "$MAIN_CLASS")
}

server_main
