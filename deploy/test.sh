#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run from traps
# Runs the whole build with its tests against throwaway servers:
#
#   deploy/test.sh [maven arguments…]      e.g. deploy/test.sh -pl modules/server -am
#
# Starts, once for the whole run, each in its own JVM and its own directory (wiped first),
# on ports that leave development servers on the default ports alone:
#   Cassandra   target/it-cassandra   127.0.0.1, CQL port 9142, storage port 7100
#   Kafka       target/it-kafka       127.0.0.1:9192 (KRaft controller 9193)
#   ElasticMQ   target/it-elasticmq   http://127.0.0.1:9424 (SQS)
#   kinesalite  target/it-kinesalite  http://127.0.0.1:9567 (Kinesis; a Node.js process, from npm)
#   DynamoDB Local target/it-dynamodb http://127.0.0.1:9800 (DynamoDB and DynamoDB Streams)
# installs Node.js 22 and 24 for the functions (deploy/runtimes.sh), then runs `mvn -B verify -Dtributary.it.cassandra=127.0.0.1:9142
# -Dtributary.it.kafka=127.0.0.1:9192 -Dtributary.it.sqs=http://127.0.0.1:9424
# -Dtributary.it.kinesis=http://127.0.0.1:9567 -Dtributary.it.dynamodb=http://127.0.0.1:9800
# [arguments]`
# from the project root; without arguments, then a 20-second Gatling smoke run (loadtest/gatling.sh --local);
# and stops the servers on the way out, also on Ctrl-C.
# Exit status: Maven's.
# A `clean` among the arguments runs first, before Cassandra starts (it would otherwise
# delete target/it-cassandra under the running node).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/script.sh
source "$ROOT/deploy/lib/script.sh"
script_init test

readonly IT_DIR=target/it-cassandra KAFKA_DIR=target/it-kafka ELASTICMQ_DIR=target/it-elasticmq
readonly KINESIS_DIR=target/it-kinesalite DYNAMODB_DIR=target/it-dynamodb
readonly CQL_ADDRESS=127.0.0.1 CQL_PORT=9142 STORAGE_PORT=7100
readonly KAFKA_PORT=9192 KAFKA_CONTROLLER_PORT=9193 SQS_PORT=9424 KINESIS_PORT=9567 DYNAMODB_PORT=9800
# Each server's script and directory, in the order they start; they stop in the reverse order.
readonly SERVERS=("cassandra:$IT_DIR" "kafka:$KAFKA_DIR" "elasticmq:$ELASTICMQ_DIR"
  "kinesalite:$KINESIS_DIR" "dynamodb-local:$DYNAMODB_DIR")

duration() { local s=$1; if (( s >= 60 )); then printf '%dm %02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi; }

case "${1:-}" in
  -h|--help) usage 0 ;;
esac

cd "$ROOT"
command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is not on PATH"

maven_args=()
clean=0
for arg in "$@"; do
  if [[ $arg == clean ]]; then clean=1; else maven_args+=("$arg"); fi
done

t0=$SECONDS
servers_started=0
mvn_pid=""
mvn_status=""

finish() {
  local status=$? i
  trap - ERR INT TERM
  if (( servers_started )); then
    for (( i = ${#SERVERS[@]} - 1; i >= 0; i-- )); do
      bash "deploy/${SERVERS[i]%%:*}.sh" stop --dir "${SERVERS[i]#*:}" || status=1
    done
  fi
  if [[ -n $mvn_status ]]; then
    say "finished in $(duration $((SECONDS - t0))), Maven exit status $mvn_status"
  else
    say "aborted after $(duration $((SECONDS - t0)))"
  fi
  exit "$status"
}
trap finish EXIT

# Maven runs in the background so that a signal to this script is handled at once:
# it is passed on to Maven, then the EXIT trap stops Cassandra.
on_signal() {
  local name=$1 code=$2
  printf '\n'
  say "interrupted (SIG$name)"
  if [[ -n $mvn_pid ]] && kill -0 "$mvn_pid" 2>/dev/null; then
    say "stopping Maven"
    kill -TERM "$mvn_pid" 2>/dev/null || true
    wait "$mvn_pid" 2>/dev/null || true
  fi
  exit "$code"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

if (( clean )); then
  say "mvn clean"
  # -q still prints colour resets with Maven 3.8: keep its output for failures only.
  if ! clean_out="$(mvn -B -q -ntp clean "${maven_args[@]}" </dev/null 2>&1)"; then
    printf '%s\n' "$clean_out" >&2
    die "mvn clean failed"
  fi
fi

# A previous run killed with SIGKILL can leave its servers behind.
for pair in "${SERVERS[@]}"; do
  server=${pair%%:*} server_dir=${pair#*:}
  if bash "deploy/$server.sh" status --dir "$server_dir" >/dev/null 2>&1; then
    say "stopping the $server a previous run left in $server_dir"
    bash "deploy/$server.sh" stop --dir "$server_dir" || die "could not stop it"
  fi
  rm -rf -- "$server_dir"
done

# nodejs22.x and nodejs24.x functions of the tests run on their own Node, installed from npm.
bash deploy/runtimes.sh || die "Node.js 22 and 24 could not be installed (see above)"

servers_started=1
# 768 MB: every IT class has keyspaces of its own (dropped when it ends), and each table costs heap.
bash deploy/cassandra.sh start --dir "$IT_DIR" --address "$CQL_ADDRESS" --heap 768m \
  --cql-port "$CQL_PORT" --storage-port "$STORAGE_PORT" || die "the test Cassandra did not start (see above)"
bash deploy/kafka.sh start --dir "$KAFKA_DIR" --port "$KAFKA_PORT" --controller-port "$KAFKA_CONTROLLER_PORT" \
  || die "the test Kafka broker did not start (see above)"
bash deploy/elasticmq.sh start --dir "$ELASTICMQ_DIR" --port "$SQS_PORT" || die "the test ElasticMQ did not start (see above)"
bash deploy/kinesalite.sh start --dir "$KINESIS_DIR" --port "$KINESIS_PORT" \
  || die "the test kinesalite did not start (see above)"
bash deploy/dynamodb-local.sh start --dir "$DYNAMODB_DIR" --port "$DYNAMODB_PORT" \
  || die "the test DynamoDB Local did not start (see above)"

it_servers=(-Dtributary.it.cassandra="$CQL_ADDRESS:$CQL_PORT" -Dtributary.it.kafka="127.0.0.1:$KAFKA_PORT"
  -Dtributary.it.sqs="http://127.0.0.1:$SQS_PORT" -Dtributary.it.kinesis="http://127.0.0.1:$KINESIS_PORT"
  -Dtributary.it.dynamodb="http://127.0.0.1:$DYNAMODB_PORT")
say "mvn -B verify ${it_servers[*]} ${maven_args[*]}"
mvn -B -ntp verify "${it_servers[@]}" "${maven_args[@]}" &
mvn_pid=$!
status=0
wait "$mvn_pid" || status=$?
mvn_pid=""
if (( status == 0 && ${#maven_args[@]} == 0 )); then
  # The whole suite passed: compile loadtest/ and run one low-rate Gatling simulation against a node of its own.
  say "Gatling smoke run: InvokeSimulation, 5 arrivals/s for 20 s (loadtest/gatling.sh --local)"
  bash loadtest/gatling.sh --local --cassandra "$CQL_ADDRESS:$CQL_PORT" InvokeSimulation \
    -Drate=5 -Dramp=2 -Dduration=20 || status=$?
fi
mvn_status=$status
exit "$status"
