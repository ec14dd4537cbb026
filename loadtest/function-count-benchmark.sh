#!/usr/bin/env bash
# Warm invokes spread evenly over 1, 100 and 1,000 distinct functions (in-process-shared Java and
# python3.11), with the node's memory per warm environment; the node in its own process, wrk as the
# load generator. Same setup as invoke-benchmark.sh; options go to the benchmark as system
# properties, e.g.
#   loadtest/function-count-benchmark.sh -Dbench.rounds=3 -Dbench.functions=1,100,1000 -Dbench.kinds=java,python
set -Eeuo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk is missing: apt-get install wrk" >&2
  exit 1
fi
BENCH_CLASS=io.tributary.loadtest.FunctionCountBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
