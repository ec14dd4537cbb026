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
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/server.sh
source "$ROOT/deploy/lib/server.sh"
script_init kafka

readonly KAFKA_VERSION=4.3.1
readonly MAIN_CLASS=kafka.Kafka
readonly START_TIMEOUT="${TRIBUTARY_KAFKA_START_TIMEOUT:-120}"
readonly STOP_TIMEOUT=60
readonly POM="$ROOT/deploy/kafka/pom.xml"
readonly CP_FILE="$ROOT/.tributary/kafka-classpath.txt"
readonly LOG_CONFIG="$ROOT/config/kafka-log4j2.properties"

dir="$PWD/.tributary/kafka"
port=9092
controller_port=9093
heap=384m
parse_server_args --dir dir --port port --controller-port controller_port --heap heap -- "$@"
for p in "$port" "$controller_port"; do
  if ! [[ $p =~ ^[0-9]+$ ]] || (( p < 1 || p > 65535 )); then die "not a port number: $p"; fi
done
[[ $port != "$controller_port" ]] || die "--port and --controller-port must differ"
[[ $heap =~ ^[0-9]+[kKmMgG]?$ ]] || die "--heap: expected a JVM size such as 384m or 1g, got: $heap"

server_dir
readonly properties="$dir/server.properties"
readonly data_dir="$dir/data"
SERVER=Kafka
server_host=127.0.0.1
server_ports=("$port" "$controller_port")
server_port_options=(--port --controller-port)
server_url="127.0.0.1:$port"
server_logs=("$log_dir/stdout.log" "$log_dir/server.log")

running_pid() { recorded_pid "$pid_file" "$MAIN_CLASS" "$properties"; }
served_port() { sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$properties" 2>/dev/null || true; }
endpoint() { printf 'clients 127.0.0.1:%s' "$1"; }
find_runtime() { find_java17 "Kafka $KAFKA_VERSION (as tested here)"; }

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

prepare_start() {
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
  server_command=("$java" "${jvm[@]}" "$MAIN_CLASS" "$properties")
}

server_main
