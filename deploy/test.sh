#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run from traps
# Runs the whole build with its tests against a throwaway Cassandra:
#
#   deploy/test.sh [maven arguments…]      e.g. deploy/test.sh -pl modules/server -am
#
# Starts Cassandra in target/it-cassandra (wiped first) on 127.0.0.1, CQL port 9142 and
# storage port 7100, so a development node on 9042/7000 is left alone; runs
# `mvn -B verify -Dtributary.it.cassandra=127.0.0.1:9142 [arguments]` from the project
# root; stops Cassandra on the way out, also on Ctrl-C. Exit status: Maven's.
# A `clean` among the arguments runs first, before Cassandra starts (it would otherwise
# delete target/it-cassandra under the running node).
set -Eeuo pipefail
trap 'printf "test: error: unexpected failure at %s line %s: %s\n" "${BASH_SOURCE[0]}" "$LINENO" "$BASH_COMMAND" >&2' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly IT_DIR=target/it-cassandra
readonly CQL_ADDRESS=127.0.0.1 CQL_PORT=9142 STORAGE_PORT=7100

say() { printf 'test: %s\n' "$*"; }
die() { printf 'test: error: %s\n' "$*" >&2; exit 1; }
duration() { local s=$1; if (( s >= 60 )); then printf '%dm %02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi; }

case "${1:-}" in
  -h|--help) sed -n '3,/^set -Eeuo/{/^set -Eeuo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
esac

cd "$ROOT"
command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is not on PATH"

maven_args=()
clean=0
for arg in "$@"; do
  if [[ $arg == clean ]]; then clean=1; else maven_args+=("$arg"); fi
done

t0=$SECONDS
cassandra_started=0
mvn_pid=""
mvn_status=""

finish() {
  local status=$?
  trap - ERR INT TERM
  if (( cassandra_started )); then
    bash deploy/cassandra.sh stop --dir "$IT_DIR" || status=1
  fi
  if [[ -n $mvn_status ]]; then
    say "finished in $(duration $((SECONDS - t0))), Maven exit status $mvn_status"
  else
    say "aborted after $(duration $((SECONDS - t0)))"
  fi
  exit "$status"
}
trap finish EXIT

# Maven runs in the background so that a signal to this script is handled at once:
# it is passed on to Maven, then the EXIT trap stops Cassandra.
on_signal() {
  local name=$1 code=$2
  printf '\n'
  say "interrupted (SIG$name)"
  if [[ -n $mvn_pid ]] && kill -0 "$mvn_pid" 2>/dev/null; then
    say "stopping Maven"
    kill -TERM "$mvn_pid" 2>/dev/null || true
    wait "$mvn_pid" 2>/dev/null || true
  fi
  exit "$code"
}
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

if (( clean )); then
  say "mvn clean"
  # -q still prints colour resets with Maven 3.8: keep its output for failures only.
  if ! clean_out="$(mvn -B -q -ntp clean "${maven_args[@]}" </dev/null 2>&1)"; then
    printf '%s\n' "$clean_out" >&2
    die "mvn clean failed"
  fi
fi

# A previous run killed with SIGKILL can leave its Cassandra behind.
if bash deploy/cassandra.sh status --dir "$IT_DIR" >/dev/null 2>&1; then
  say "stopping the Cassandra a previous run left in $IT_DIR"
  bash deploy/cassandra.sh stop --dir "$IT_DIR" || die "could not stop it"
fi
rm -rf -- "$IT_DIR"

cassandra_started=1
bash deploy/cassandra.sh start --dir "$IT_DIR" --address "$CQL_ADDRESS" \
  --cql-port "$CQL_PORT" --storage-port "$STORAGE_PORT" || die "the test Cassandra did not start (see above)"

say "mvn -B verify -Dtributary.it.cassandra=$CQL_ADDRESS:$CQL_PORT ${maven_args[*]}"
mvn -B -ntp verify -Dtributary.it.cassandra="$CQL_ADDRESS:$CQL_PORT" "${maven_args[@]}" &
mvn_pid=$!
status=0
wait "$mvn_pid" || status=$?
mvn_pid=""
mvn_status=$status
exit "$status"
