#!/usr/bin/env bash
# shellcheck disable=SC2317  # functions run from traps
# Quick start: one Tributary node on this machine, with the project's own Cassandra.
#
#   deploy/dev.sh [--no-build] [--port N] [-Dkey=value …]
#
#   --no-build     skip `mvn -B -DskipTests package`
#   --port N       HTTP port of the API (-Dtributary.http.port=N; default from config)
#   -Dkey=value    further system properties for the node (they override config/dev.conf)
#
# Builds, installs Node.js 22 and 24 for functions (deploy/runtimes.sh), starts Cassandra
# through deploy/cassandra.sh (data in .tributary/cassandra, 127.0.0.1:9042) unless it already
# runs, then runs the node in the foreground; the node prints its endpoint and credentials.
# Ctrl-C (or SIGTERM) stops the node, letting it drain, then stops Cassandra if this script
# started it. A second Ctrl-C kills the node at once.
#
# The node's JVM: $JAVA_HOME/bin/java, else `java` on PATH; extra JVM options in $JAVA_OPTS.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/node.sh
source "$ROOT/deploy/lib/node.sh"
script_init dev

readonly BUILD_LOG=.tributary/build.log

build=1
node_props=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --no-build) build=0; shift ;;
    --port)
      [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || die "--port needs a port number"
      node_props+=("-Dtributary.http.port=$2"); shift 2 ;;
    --port=*)
      [[ ${1#*=} =~ ^[0-9]+$ ]] || die "--port needs a port number"
      node_props+=("-Dtributary.http.port=${1#*=}"); shift ;;
    -D?*)       node_props+=("$1"); shift ;;
    -h|--help)  usage 0 ;;
    *)          die "unknown argument: $1 (see --help)" ;;
  esac
done

cd "$ROOT"

# ---------------------------------------------------------------- build
# Maven's output goes to .tributary/build.log; the terminal gets one line per module,
# and Maven's errors if the build fails.
if (( build )); then
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is not on PATH (or use --no-build)"
  mkdir -p .tributary
  say "building (mvn -B -DskipTests package; full log in $BUILD_LOG)"
  t0=$SECONDS
  if ! mvn -B -ntp -DskipTests package </dev/null 2>&1 | tee "$BUILD_LOG" | awk '
      /^\[INFO\] Building .*\[[0-9]+\/[0-9]+\]$/ {
        sub(/^\[INFO\] Building /, ""); sub(/ [0-9][^ ]*-SNAPSHOT/, ""); gsub(/ +/, " ")
        printf "dev:   %s\n", $0; fflush() }
      /^\[ERROR\] -> \[Help/ { quiet = 1 }
      /^\[ERROR\]/ && !quiet { print; fflush() }'; then
    die "build failed (full log: $BUILD_LOG)"
  fi
  say "built in $((SECONDS - t0)) s"
fi

[[ -f $JAR ]] || die "$JAR is missing: build first (without --no-build)"
[[ -d $LIB ]] || die "$LIB is missing: the server module must copy its dependencies there at package (maven-dependency-plugin copy-dependencies)"
for f in config/dev.conf config/logback.xml; do
  [[ -f $f ]] || die "$f is missing"
done

find_java
java_version="$(java_major "$java")"
if ! [[ $java_version =~ ^[0-9]+$ ]] || (( java_version < 17 )); then
  die "$java is Java ${java_version:-?}; Tributary needs Java 17 or later"
fi

# Node.js 22 and 24 for nodejs22.x/24.x functions; without npm they run on the closest Node.
bash deploy/runtimes.sh --optional

# ---------------------------------------------------------------- cassandra
cassandra_started=0
node_pid=""
stopping=0

finish() {
  local status=$?
  trap - ERR INT TERM
  if (( cassandra_started )); then
    bash deploy/cassandra.sh stop || status=1
  fi
  exit "$status"
}
trap finish EXIT

# First signal: SIGTERM to the node, which drains; the main loop keeps waiting for it.
# Second signal: SIGKILL.
on_signal() {
  printf '\n'
  if [[ -z $node_pid ]]; then
    say "interrupted"
    exit 130
  fi
  if (( stopping )); then
    say "killing the node (pid $node_pid)"
    kill -KILL "$node_pid" 2>/dev/null || true
  else
    stopping=1
    say "stopping the node (it drains; Ctrl-C again to kill it)"
    kill -TERM "$node_pid" 2>/dev/null || true
  fi
}
trap on_signal INT TERM

if bash deploy/cassandra.sh status >/dev/null 2>&1; then
  say "using the Cassandra that already runs in .tributary/cassandra (it stays running)"
  # Returns at once, or waits if it is still starting.
  bash deploy/cassandra.sh start || die "Cassandra is not usable (see above)"
else
  cassandra_started=1
  bash deploy/cassandra.sh start || die "Cassandra did not start (see above)"
fi

# ---------------------------------------------------------------- node
# In the background (so that signals reach this script at once; a background job of a
# script ignores SIGINT, so Ctrl-C reaches the node only as the SIGTERM sent above).
node_command "${node_props[@]}"
say "starting the node ($MAIN_CLASS)"
"${node_command[@]}" &
node_pid=$!

while :; do
  wait "$node_pid" || true
  # wait also returns when a trapped signal arrives: keep waiting while the node lives.
  kill -0 "$node_pid" 2>/dev/null || break
done
# The node's own exit status (bash keeps it after the wait above reaped it).
node_status=0
wait "$node_pid" 2>/dev/null || node_status=$?
node_pid=""

if (( stopping )); then
  say "node stopped"
  exit 0
fi
say "the node exited by itself with status $node_status"
exit "$node_status"
