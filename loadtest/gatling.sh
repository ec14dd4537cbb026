#!/usr/bin/env bash
# Runs one Gatling simulation of loadtest/gatling against a Tributary endpoint, through gatling-maven-plugin:
#
#   loadtest/gatling.sh InvokeSimulation -Dtributary.endpoint=http://10.0.0.5:9000 -Drate=200 -Dduration=120
#   loadtest/gatling.sh --local [--cassandra HOST:PORT] InvokeSimulation -Drate=5 -Dduration=20
#
# Simulations: InvokeSimulation, EventInvokeSimulation, FunctionUrlSimulation, PutEventsSimulation (-Dentries=1..10,
# -Dbus). Options (-D…): tributary.endpoint,
# tributary.access-key / .secret-key / .region, function, rate (arrivals/s), ramp and duration (s), p99 (ms) and
# errors (%) for the assertions; see loadtest/gatling/src/test/java/io/tributary/gatling/Target.java.
# --local builds the project, starts a node of its own on 127.0.0.1:9660 (keyspace gatling, on the Cassandra
# given, 127.0.0.1:9042 by default), runs the simulation against it and stops the node: CI's smoke run.
# The HTML report is in loadtest/gatling/target/gatling/<simulation>-<time>/index.html.
# Exit status: Gatling's (non-zero when an assertion fails).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
say() { printf 'gatling: %s\n' "$*"; }
die() { printf 'gatling: error: %s\n' "$*" >&2; exit 1; }
# Runs a build step; its output is shown only when it fails.
quiet() { local out; if ! out="$("$@" </dev/null 2>&1)"; then printf '%s\n' "$out" >&2; die "failed: $*"; fi; }

local_node=0
cassandra=127.0.0.1:9042
while [[ ${1:-} == --* ]]; do
  case $1 in
    --local) local_node=1; shift ;;
    --cassandra) cassandra=${2:?--cassandra needs HOST:PORT}; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
simulation=${1:?which simulation: InvokeSimulation, EventInvokeSimulation, FunctionUrlSimulation or PutEventsSimulation}
shift
[[ -f loadtest/gatling/src/test/java/io/tributary/gatling/$simulation.java ]] || die "no simulation $simulation"

node_pid=""
stop_node() {
  if [[ -n $node_pid ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" 2>/dev/null || true
    wait "$node_pid" 2>/dev/null || true
  fi
}
trap stop_node EXIT

endpoint=()
if (( local_node )); then
  port=9660
  work=target/gatling-node
  say "building (mvn install -DskipTests) and compiling loadtest/"
  quiet mvn -B -q -ntp install -DskipTests
  quiet mvn -B -q -ntp -f loadtest/pom.xml compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
  rm -rf -- "$work" && mkdir -p "$work"
  say "starting a node on 127.0.0.1:$port (Cassandra $cassandra, log $work/node.log)"
  java -Xmx512m -Dtributary.http.port=$port -Dtributary.cassandra.keyspace=gatling -Dtributary.cassandra.autocreate=on \
    -Dpekko.persistence.cassandra.journal.keyspace=gatling_journal \
    -Dpekko.persistence.cassandra.snapshot.keyspace=gatling_snapshot \
    -Dtributary.runtime.work-dir="$ROOT/$work/runtime" -Dpekko.remote.artery.canonical.port=0 \
    -Ddatastax-java-driver.basic.contact-points.0="$cassandra" -Dlogback.configurationFile="$ROOT/config/logback.xml" \
    -cp "loadtest/target/classes:$(cat loadtest/target/classpath.txt)" io.tributary.server.Main >"$work/node.log" 2>&1 &
  node_pid=$!
  for (( i = 0; i < 240; i++ )); do
    if curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1; then break; fi
    kill -0 "$node_pid" 2>/dev/null || die "the node stopped; see $work/node.log"
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 || die "the node was not ready in 120 s; see $work/node.log"
  endpoint=(-Dtributary.endpoint="http://127.0.0.1:$port")
fi

say "running $simulation ${endpoint[*]} $*"
mvn -B -ntp -f loadtest/gatling/pom.xml gatling:test -Dgatling.simulationClass="io.tributary.gatling.$simulation" \
  "${endpoint[@]}" "$@" </dev/null
