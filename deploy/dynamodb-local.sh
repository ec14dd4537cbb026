#!/usr/bin/env bash
# Runs DynamoDB Local, a DynamoDB and DynamoDB Streams compatible server (DynamoDBLocal from
# Maven Central), in its own JVM, for development and tests. Tables live in memory: a restart
# empties them.
#
#   deploy/dynamodb-local.sh start|stop|status [options]
#
#   --dir DIR      logs and pid file (default: $PWD/.tributary/dynamodb-local)
#   --port N       DynamoDB and DynamoDB Streams port (default: 8000)
#   --heap SIZE    -Xms/-Xmx (default: 256m)
#
# start   starts the server in the background and returns once it accepts requests
#         (exit 0 at once if it is already running)
# stop    SIGTERM, SIGKILL after 60 s; fine if nothing runs
# status  prints running/stopped; exit 0 if running, 1 if not
#
# Endpoint http://127.0.0.1:<port> for both the DynamoDB and the DynamoDB Streams API; any
# access key and region is accepted, and all see the same tables (-sharedDb: Tributary and the
# tests sign with different keys). Stream ARNs name the region "ddblocal". DynamoDB Local has
# no option to choose its bind address: it listens on every interface. It sends no telemetry
# (-disableTelemetry). Environment: TRIBUTARY_DYNAMODB_START_TIMEOUT (seconds, default 60).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/server.sh
source "$ROOT/deploy/lib/server.sh"
script_init dynamodb-local

readonly DYNAMODB_LOCAL_VERSION=2.6.1
readonly MAIN_CLASS=com.amazonaws.services.dynamodbv2.local.main.ServerRunner
readonly START_TIMEOUT="${TRIBUTARY_DYNAMODB_START_TIMEOUT:-60}"
readonly STOP_TIMEOUT=60
readonly POM="$ROOT/deploy/dynamodb-local/pom.xml"
readonly CP_FILE="$ROOT/.tributary/dynamodb-local-classpath.txt"
# The native SQLite library of sqlite4java, copied out of the Maven repository (see the pom).
readonly NATIVE_DIR="$ROOT/.tributary/dynamodb-local-native"
readonly NATIVE_LIB=libsqlite4java-linux-amd64.so

dir="$PWD/.tributary/dynamodb-local"
port=8000
heap=256m
parse_server_args --dir dir --port port --heap heap -- "$@"
if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then die "--port: not a port number: $port"; fi
[[ $heap =~ ^[0-9]+[kKmMgG]?$ ]] || die "--heap: expected a JVM size such as 256m, got: $heap"

server_dir
# On the command line of the server, so that a pid is known to be this directory's server.
readonly dir_marker="-Dtributary.dynamodb-local.dir=$dir"
SERVER="DynamoDB Local"
server_host=127.0.0.1
server_ports=("$port")
server_port_options=(--port)
server_url="http://127.0.0.1:$port"
server_logs=("$log_dir/stdout.log")

running_pid() { recorded_pid "$pid_file" "$MAIN_CLASS" "$dir_marker"; }
# The -port argument of the server with pid $1.
served_port() { tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | sed -n '/^-port$/{n;p;q}' || true; }
find_runtime() { find_java17 "DynamoDB Local $DYNAMODB_LOCAL_VERSION (as tested here)"; }

# Copies the native library into NATIVE_DIR unless it is there and newer than the pom.
copy_native_lib() {
  [[ -s $NATIVE_DIR/$NATIVE_LIB && ! $POM -nt $NATIVE_DIR/$NATIVE_LIB ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is not on PATH: it is needed once to fetch $NATIVE_LIB"
  say "copying $NATIVE_LIB out of the Maven repository (first run only)…"
  local tmp="$NATIVE_DIR.tmp.$$" mvn_log="$NATIVE_DIR.mvn.log"
  rm -rf -- "$tmp"
  mkdir -p -- "$tmp" "$NATIVE_DIR"
  if ! mvn -B -q -f "$POM" dependency:copy -DoutputDirectory="$tmp" >"$mvn_log" 2>&1 </dev/null; then
    rm -rf -- "$tmp"
    cat -- "$mvn_log" >&2
    die "Maven could not copy $NATIVE_LIB (full log: $mvn_log)"
  fi
  [[ -s $tmp/$NATIVE_LIB ]] || { rm -rf -- "$tmp"; die "Maven did not write $tmp/$NATIVE_LIB (log: $mvn_log)"; }
  touch -- "$tmp/$NATIVE_LIB"  # Maven keeps the repository file's time: make it newer than the pom
  mv -f -- "$tmp/$NATIVE_LIB" "$NATIVE_DIR/$NATIVE_LIB"
  rm -rf -- "$tmp" "$mvn_log"
}

prepare_start() {
  build_classpath "$POM" "$CP_FILE" "DynamoDBLocal $DYNAMODB_LOCAL_VERSION"
  # sqlite4java finds its library in sqlite4java.library.path; DynamoDB Local loads it first
  # itself, from org.sqlite.lib.path (else it extracts a copy it bundles into java.io.tmpdir).
  local -a native=()
  if [[ $(uname -s)/$(uname -m) == Linux/x86_64 ]]; then
    copy_native_lib
    native=(-Dsqlite4java.library.path="$NATIVE_DIR" -Dorg.sqlite.lib.path="$NATIVE_DIR" -Dorg.sqlite.lib.name="$NATIVE_LIB")
  else
    say "not Linux x86_64: DynamoDB Local will use the SQLite library it bundles (extracted into the temporary directory)"
  fi
  say "starting DynamoDB Local $DYNAMODB_LOCAL_VERSION: http://127.0.0.1:$port, in memory, heap $heap"
  server_command=("$java" -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError "$dir_marker"
    "${native[@]}" -cp "$(cat "$CP_FILE")" "$MAIN_CLASS" -inMemory -sharedDb -port "$port" -disableTelemetry)
}

server_main
