#!/usr/bin/env bash
# Durable Event invokes accepted per second against the ceiling (the same two Cassandra writes per
# event from a bare Pekko HTTP route), and the delay from 202 to execution; same setup and options
# as invoke-benchmark.sh, e.g. loadtest/async-benchmark.sh -Dbench.rounds=5 -Dbench.seconds=10
set -Eeuo pipefail
BENCH_CLASS=io.tributary.loadtest.AsyncBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
