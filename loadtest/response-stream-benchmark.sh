#!/usr/bin/env bash
# Response streaming through RESPONSE_STREAM function URLs: the time from a function's first write to
# its arrival at a client, and the throughput of a 100 MiB stream against a plain Pekko HTTP chunked
# response of the same size (the ceiling, in its own JVM); the node in its own process, curl as the
# downloader. Same setup as invoke-benchmark.sh; options go to the benchmark as system properties, e.g.
#   loadtest/response-stream-benchmark.sh -Dbench.rounds=5 -Dbench.mib=100 -Dbench.ttfb-samples=40
set -Eeuo pipefail
BENCH_CLASS=io.tributary.loadtest.ResponseStreamBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
