#!/usr/bin/env bash
# Latency of the invokes that reach a newly deployed version, with and without provisioned
# concurrency, per runtime; the node in its own process, the AWS SDK as client. Same setup and
# options as invoke-benchmark.sh, e.g.
#   loadtest/cold-start-benchmark.sh -Dbench.rounds=5 -Dbench.burst=4
set -Eeuo pipefail
BENCH_CLASS=io.tributary.loadtest.ColdStartBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
