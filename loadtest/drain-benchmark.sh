#!/usr/bin/env bash
# The asynchronous queue under pressure: a backlog's drain rate against the function's capacity
# (one node), and the Event invokes live nodes refuse while one of three is killed with SIGKILL.
# The nodes in their own processes, the AWS SDK as client. Same setup and options as
# invoke-benchmark.sh, e.g.
#   loadtest/drain-benchmark.sh -Dbench.rounds=5 -Dbench.backlog=400 -Dbench.kill-rounds=3
set -Eeuo pipefail
BENCH_CLASS=io.tributary.loadtest.DrainBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
