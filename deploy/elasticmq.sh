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
trap 'printf "elasticmq: error: unexpected failure at %s line %s: %s\n" "${BASH_SOURCE[0]}" "$LINENO" "$BASH_COMMAND" >&2' ERR

readonly ELASTICMQ_VERSION=1.7.1
readonly MAIN_CLASS=org.elasticmq.server.Main
readonly START_TIMEOUT="${TRIBUTARY_ELASTICMQ_START_TIMEOUT:-60}"
readonly STOP_TIMEOUT=60

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly POM="$ROOT/deploy/elasticmq/pom.xml"
readonly CP_FILE="$ROOT/.tributary/elasticmq-classpath.txt"
readonly LOGBACK_FILE="$ROOT/config/elasticmq-logback.xml"

say() { printf 'elasticmq: %s\n' "$*"; }
die() { printf 'elasticmq: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=deploy/lib/jvm-server.sh
source "$ROOT/deploy/lib/jvm-server.sh"

usage() {
  sed -n '2,/^set -Eeuo/{/^set -Eeuo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

cmd=""
dir="$PWD/.tributary/elasticmq"
port=9324
heap=256m
need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    start|stop|status)
      [[ -z $cmd ]] || die "one command at a time (got '$cmd' and '$1')"
      cmd=$1; shift ;;
    --dir)     need_value "$@"; dir=$2; shift 2 ;;
    --port)    need_value "$@"; port=$2; shift 2 ;;
    --heap)    need_value "$@"; heap=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *)         printf 'elasticmq: error: unknown argument: %s\n\n' "$1" >&2; usage 2 >&2 ;;
  esac
done
[[ -n $cmd ]] || { printf 'elasticmq: error: missing command\n\n' >&2; usage 2 >&2; }
if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then die "--port: not a port number: $port"; fi
[[ $heap =~ ^[0-9]+[kKmMgG]?$ ]] || die "--heap: expected a JVM size such as 256m, got: $heap"

[[ $dir == /* ]] || dir="$PWD/$dir"
dir="$(realpath -m -- "$dir")"
readonly dir
readonly pid_file="$dir/elasticmq.pid"
readonly conf="$dir/elasticmq.conf"
readonly log_dir="$dir/logs"

running_pid() { recorded_pid "$pid_file" "$MAIN_CLASS" "-Dconfig.file=$conf"; }
recorded_port() { sed -n 's/^ *bind-port = \([0-9]*\)$/\1/p' "$conf" 2>/dev/null || true; }

cmd_status() { status_command "$(running_pid)" "$dir" "http://127.0.0.1:$(recorded_port)"; }

cmd_stop() { stop_command "$(running_pid)" "$pid_file" "$dir" "$STOP_TIMEOUT"; }

cmd_start() {
  local java pid t0_us
  find_java17 "ElasticMQ $ELASTICMQ_VERSION (as tested here)"
  mkdir -p -- "$dir" "$log_dir"
  exec 9>"$dir/.start.lock"
  flock -w $((START_TIMEOUT + 30)) 9 || die "another 'elasticmq.sh start' holds $dir/.start.lock"

  pid="$(running_pid)"
  if [[ -n $pid ]]; then
    [[ $(recorded_port) == "$port" ]] || die "the ElasticMQ in $dir already runs (pid $pid) on port $(recorded_port), not $port; stop it first"
    say "already running, pid $pid, http://127.0.0.1:$port ($dir)"
    return 0
  fi
  if port_open 127.0.0.1 "$port"; then
    die "port 127.0.0.1:$port is already in use by another process$(port_owner "$port"). Stop it, or choose another with --port"
  fi

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
  printf '\n===== %s start =====\n' "$(date '+%F %T')" >>"$log_dir/stdout.log"
  t0_us=$(now_us)
  local launched_pid launcher
  launch_detached "$pid_file" "$log_dir/stdout.log" ElasticMQ "$java" -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC \
    -XX:+ExitOnOutOfMemoryError -Dconfig.file="$conf" -Dlogback.configurationFile="$LOGBACK_FILE" \
    -Delasticmq.logdir="$log_dir" -cp "$(cat "$CP_FILE")" "$MAIN_CLASS"
  pid=$launched_pid
  await_ready ElasticMQ "$pid_file" "$pid" 127.0.0.1 "$port" "$START_TIMEOUT" "$log_dir/stdout.log" "$log_dir/server.log"
  say "ready on http://127.0.0.1:$port in $(seconds_since "$t0_us") s (pid $pid, log $log_dir/server.log)"
}

case "$cmd" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) if cmd_status; then exit 0; else exit 1; fi ;;
esac
