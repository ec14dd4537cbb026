#!/usr/bin/env bash
# Warm synchronous Invoke (signed, a no-op in-process-shared Java function) against the ceiling (a
# bare Pekko HTTP server in its own JVM), sent the request unsigned and signed, which it then checks
# with the node's SigV4 verifier; the node in its own process, wrk as the load generator. Same setup
# as invoke-benchmark.sh; options go to the benchmark as system properties, e.g.
#   loadtest/warm-invoke-benchmark.sh -Dbench.rounds=5 -Dbench.seconds=10 -Dbench.connections=8,32
set -Eeuo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk is missing: apt-get install wrk" >&2
  exit 1
fi
BENCH_CLASS=io.tributary.loadtest.WarmInvokeBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
