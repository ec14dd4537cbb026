#!/usr/bin/env bash
# Records/s from a 6-partition Kafka topic into an in-process no-op Java function through an event
# source mapping, against the ceiling (a plain consumer loop in the same JVM building the same
# event JSON and calling the same handler), for batch sizes 100 and 1,000; then the produce-to-
# invoke delay at half the mapping's rate. Same setup as invoke-benchmark.sh plus its own Kafka
# broker, e.g. loadtest/mapping-benchmark.sh -Dbench.rounds=5 -Dbench.records=100000
set -Eeuo pipefail
BENCH_KAFKA=1 BENCH_CLASS=io.tributary.loadtest.MappingBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" \
  -Dbench.kafka=127.0.0.1:9392 "$@"
