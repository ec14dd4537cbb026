#!/usr/bin/env bash
# Durable Event invokes accepted per second against the ceiling (a bare Pekko HTTP route writing,
# with the same driver, the rows Tributary writes per event with the same batching), and the delay
# from 202 to execution; same setup and options as invoke-benchmark.sh, e.g.
#   loadtest/async-benchmark.sh -Dbench.rounds=6 -Dbench.seconds=10
set -Eeuo pipefail
BENCH_CLASS=io.tributary.loadtest.AsyncBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
