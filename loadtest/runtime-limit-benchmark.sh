#!/usr/bin/env bash
# Each runtime's own limit (its bootstrap against a bare Runtime API stub) against Tributary's warm invokes of
# the same function, one environment; the node in its own process. Same setup and options as
# invoke-benchmark.sh, e.g.
#   loadtest/runtime-limit-benchmark.sh -Dbench.rounds=5 -Dbench.seconds=10
set -Eeuo pipefail
BENCH_CLASS=io.tributary.loadtest.RuntimeLimitBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
