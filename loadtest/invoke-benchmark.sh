#!/usr/bin/env bash
# Warm-invoke throughput and latency against the ceiling (a bare Pekko HTTP echo route in the same
# JVM), plus cold starts per runtime. Builds the project, starts a throwaway Cassandra in
# target/bench-cassandra (CQL 127.0.0.1:9342), runs "${BENCH_CLASS:-io.tributary.loadtest.InvokeBenchmark}", stops
# Cassandra. Options go to the benchmark as system properties, e.g.
#
#   loadtest/invoke-benchmark.sh -Dbench.rounds=5 -Dbench.seconds=10 -Dbench.connections=8
#
# BENCH_CLASS chooses another benchmark of loadtest/ on the same setup (loadtest/async-benchmark.sh);
# BENCH_KAFKA=1 also starts a Kafka broker on 127.0.0.1:9392 (loadtest/mapping-benchmark.sh),
# BENCH_KINESIS=1 a kinesalite on http://127.0.0.1:9667 (loadtest/stream-benchmark.sh).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
DIR=target/bench-cassandra
say() { printf 'bench: %s\n' "$*"; }

say "building"
mvn -B -q -ntp install -DskipTests </dev/null
mvn -B -q -ntp -f loadtest/pom.xml compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt </dev/null

bash deploy/cassandra.sh stop --dir "$DIR" >/dev/null 2>&1 || true
rm -rf -- "$DIR"
bash deploy/cassandra.sh start --dir "$DIR" --cql-port 9342 --storage-port 7300
trap 'bash deploy/cassandra.sh stop --dir "$DIR"' EXIT
if [[ -n ${BENCH_KAFKA:-} ]]; then
  # A Kafka broker of its own too (loadtest/mapping-benchmark.sh), on 127.0.0.1:9392.
  bash deploy/kafka.sh stop --dir target/bench-kafka >/dev/null 2>&1 || true
  rm -rf -- target/bench-kafka
  bash deploy/kafka.sh start --dir target/bench-kafka --port 9392 --controller-port 9393
  trap 'bash deploy/kafka.sh stop --dir target/bench-kafka; bash deploy/cassandra.sh stop --dir "$DIR"' EXIT
fi

if [[ -n ${BENCH_KINESIS:-} ]]; then
  # A kinesalite of its own too (loadtest/stream-benchmark.sh), on http://127.0.0.1:9667.
  bash deploy/kinesalite.sh stop --dir target/bench-kinesis >/dev/null 2>&1 || true
  bash deploy/kinesalite.sh start --dir target/bench-kinesis --port 9667
  trap 'bash deploy/kinesalite.sh stop --dir target/bench-kinesis; bash deploy/cassandra.sh stop --dir "$DIR"' EXIT
fi

java -Xmx1g -Dbench.cassandra=127.0.0.1:9342 -Dbench.cassandra-pid-file="$DIR/cassandra.pid" -Dlogback.configurationFile="$ROOT/config/logback.xml" "$@" \
  -cp "loadtest/target/classes:$(cat loadtest/target/classpath.txt)" "${BENCH_CLASS:-io.tributary.loadtest.InvokeBenchmark}"
