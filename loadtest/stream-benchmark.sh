#!/usr/bin/env bash
# Records/s from a 4-shard Kinesis stream (kinesalite) into an in-process no-op Java function
# through an event source mapping (ParallelizationFactor 1 and 10), against the ceiling: a plain SDK
# GetRecords loop per shard on the same server, in the same JVM, building the same event JSON and
# calling the same handler. Same setup as invoke-benchmark.sh plus its own kinesalite, e.g.
# loadtest/stream-benchmark.sh -Dbench.rounds=5 -Dbench.records=20000
set -Eeuo pipefail
BENCH_KINESIS=1 BENCH_CLASS=io.tributary.loadtest.StreamBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" \
  -Dbench.kinesis=http://127.0.0.1:9667 -Dtributary.sources.kinesis.endpoints.us-east-1=http://127.0.0.1:9667 \
  -Daws.cborEnabled=false "$@"
