#!/usr/bin/env bash
# Runs a real single-node Kafka broker (kafka_2.13 from Maven Central, KRaft mode: broker and
# controller in one process) in its own JVM, for development and tests. No Docker, no ZooKeeper.
#
#   deploy/kafka.sh start|stop|status [options]
#
#   --dir DIR              data, logs and pid file (default: $PWD/.tributary/kafka)
#   --port N               client port on 127.0.0.1 (default: 9092)
#   --controller-port N    KRaft controller port on 127.0.0.1 (default: 9093)
#   --heap SIZE            -Xms/-Xmx (default: 384m)
#
# start   formats the data directory on first use, starts the broker in the background and
#         returns once it accepts clients (exit 0 at once if it is already running)
# stop    SIGTERM (the broker shuts down cleanly), SIGKILL after 60 s; fine if nothing runs
# status  prints running/stopped; exit 0 if running, 1 if not
#
# Topics are created on first use (auto.create.topics.enable), with 1 partition unless a
# client creates them otherwise. Environment: TRIBUTARY_KAFKA_START_TIMEOUT (seconds, default 120).
set -Eeuo pipefail
trap 'printf "kafka: error: unexpected failure at %s line %s: %s\n" "${BASH_SOURCE[0]}" "$LINENO" "$BASH_COMMAND" >&2' ERR

readonly KAFKA_VERSION=4.3.1
readonly MAIN_CLASS=kafka.Kafka
readonly START_TIMEOUT="${TRIBUTARY_KAFKA_START_TIMEOUT:-120}"
readonly STOP_TIMEOUT=60

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly POM="$ROOT/deploy/kafka/pom.xml"
readonly CP_FILE="$ROOT/.tributary/kafka-classpath.txt"
readonly LOG_CONFIG="$ROOT/config/kafka-log4j2.properties"

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=deploy/lib/jvm-server.sh
source "$ROOT/deploy/lib/jvm-server.sh"

usage() {
  sed -n '2,/^set -Eeuo/{/^set -Eeuo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

cmd=""
dir="$PWD/.tributary/kafka"
port=9092
controller_port=9093
heap=384m
need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    start|stop|status)
      [[ -z $cmd ]] || die "one command at a time (got '$cmd' and '$1')"
      cmd=$1; shift ;;
    --dir)             need_value "$@"; dir=$2; shift 2 ;;
    --port)            need_value "$@"; port=$2; shift 2 ;;
    --controller-port) need_value "$@"; controller_port=$2; shift 2 ;;
    --heap)            need_value "$@"; heap=$2; shift 2 ;;
    -h|--help)         usage 0 ;;
    *)                 printf 'kafka: error: unknown argument: %s\n\n' "$1" >&2; usage 2 >&2 ;;
  esac
done
[[ -n $cmd ]] || { printf 'kafka: error: missing command\n\n' >&2; usage 2 >&2; }
for p in "$port" "$controller_port"; do
  if ! [[ $p =~ ^[0-9]+$ ]] || (( p < 1 || p > 65535 )); then die "not a port number: $p"; fi
done
[[ $port != "$controller_port" ]] || die "--port and --controller-port must differ"
[[ $heap =~ ^[0-9]+[kKmMgG]?$ ]] || die "--heap: expected a JVM size such as 384m or 1g, got: $heap"

[[ $dir == /* ]] || dir="$PWD/$dir"
dir="$(realpath -m -- "$dir")"
readonly dir
readonly pid_file="$dir/kafka.pid"
readonly properties="$dir/server.properties"
readonly log_dir="$dir/logs"
readonly data_dir="$dir/data"

running_pid() { recorded_pid "$pid_file" "$MAIN_CLASS" "$properties"; }
recorded_port() { sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$properties" 2>/dev/null || true; }

write_properties() {
  cat >"$properties.tmp" <<EOF
# Written by deploy/kafka.sh: a single node that is broker and KRaft controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$data_dir
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
EOF
  mv -f -- "$properties.tmp" "$properties"
}

cmd_status() { status_command "$(running_pid)" "$dir" "clients 127.0.0.1:$(recorded_port)"; }

cmd_stop() { stop_command "$(running_pid)" "$pid_file" "$dir" "$STOP_TIMEOUT"; }

cmd_start() {
  local java pid t0_us
  find_java17 "Kafka $KAFKA_VERSION (as tested here)"
  mkdir -p -- "$dir" "$log_dir"
  exec 9>"$dir/.start.lock"
  flock -w $((START_TIMEOUT + 30)) 9 || die "another 'kafka.sh start' holds $dir/.start.lock"

  pid="$(running_pid)"
  if [[ -n $pid ]]; then
    [[ $(recorded_port) == "$port" ]] || die "the Kafka in $dir already runs (pid $pid) on port $(recorded_port), not $port; stop it first"
    say "already running, pid $pid, clients 127.0.0.1:$port ($dir)"
    return 0
  fi
  for p in "$port" "$controller_port"; do
    if port_open 127.0.0.1 "$p"; then
      die "port 127.0.0.1:$p is already in use by another process$(port_owner "$p"). Stop it, or choose other ports with --port/--controller-port"
    fi
  done

  build_classpath "$POM" "$CP_FILE" "kafka_2.13 $KAFKA_VERSION"
  write_properties
  local cp
  cp="$(cat "$CP_FILE")"
  local -a jvm=(-Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
    -Dlog4j2.configurationFile="$LOG_CONFIG" -Dkafka.logs.dir="$log_dir" -cp "$cp")
  if [[ ! -f $data_dir/meta.properties ]]; then
    # A fixed cluster id: the data directory is this one node's, formatted once.
    if ! "$java" "${jvm[@]}" kafka.tools.StorageTool format -t "TrIbUtArYkAfKaAaAaAaAA" -c "$properties" \
        >"$log_dir/format.log" 2>&1 </dev/null; then
      cat -- "$log_dir/format.log" >&2
      die "could not format $data_dir"
    fi
  fi

  say "starting Kafka $KAFKA_VERSION: data $dir, clients 127.0.0.1:$port, controller port $controller_port, heap $heap"
  printf '\n===== %s start =====\n' "$(date '+%F %T')" >>"$log_dir/stdout.log"
  t0_us=$(now_us)
  local launched_pid launcher
  launch_detached "$pid_file" "$log_dir/stdout.log" Kafka "$java" "${jvm[@]}" "$MAIN_CLASS" "$properties"
  pid=$launched_pid
  await_ready Kafka "$pid_file" "$pid" 127.0.0.1 "$port" "$START_TIMEOUT" "$log_dir/stdout.log" "$log_dir/server.log"
  say "ready on 127.0.0.1:$port in $(seconds_since "$t0_us") s (pid $pid, log $log_dir/server.log)"
}

case "$cmd" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) if cmd_status; then exit 0; else exit 1; fi ;;
esac
