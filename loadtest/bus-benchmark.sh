#!/usr/bin/env bash
# Event buses: events/s from PutEvents to function execution with 100 rules on the bus, against plain
# Event invokes of the same function on the same node (sides alternated, medians of the rounds), and
# event-ruler's matching cost per event with 1,000 rules. The node in its own process; the load
# generator (the AWS SDK's clients) in the benchmark's. Same setup as invoke-benchmark.sh, e.g.
#   loadtest/bus-benchmark.sh -Dbench.rounds=5 -Dbench.events=20000 -Dbench.senders=16
set -Eeuo pipefail
BENCH_CLASS=io.tributary.loadtest.BusBenchmark exec bash "$(dirname "${BASH_SOURCE[0]}")/invoke-benchmark.sh" "$@"
