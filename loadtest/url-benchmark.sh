#!/usr/bin/env bash
# Warm function URL invokes (AuthType NONE, a no-op in-process-shared Java function) against the
# ceiling (a bare Pekko HTTP server in its own JVM); the node in its own process, wrk as the load
# generator. Same setup as invoke-benchmark.sh; options go to the benchmark as system properties, e.g.
#   loadtest/url-benchmark.sh -Dbench.rounds=5 -Dbench.seconds=10 -Dbench.connections=8,32
set -Eeuo pipefail
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: wrk is missing: apt-get install wrk" >&2
  exit 1
fi
BENCH_CLASS=io.tributary.loadtest.UrlBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
