#!/usr/bin/env bash
# Runs a real single-node Cassandra 5.0 (cassandra-all from Maven Central) in its own
# JVM on Java 17, for development and tests. No Docker, no system install.
#
#   deploy/cassandra.sh start|stop|status [options]
#
#   --dir DIR            data, logs and pid file (default: $PWD/.tributary/cassandra)
#   --address ADDR       listen and CQL address (default: 127.0.0.1)
#   --cql-port N         CQL port (default: 9042)
#   --storage-port N     internode port (default: 7000)
#   --heap SIZE          -Xms/-Xmx (default: 512m)
#
# start   starts the node in the background and returns once CQL accepts connections
#         (exit 0 at once if it is already running)
# stop    SIGTERM (Cassandra drains), SIGKILL after 60 s; fine if nothing runs
# status  prints running/stopped; exit 0 if running, 1 if not
#
# Environment: TRIBUTARY_CASSANDRA_JVM_OPTS (extra JVM options, split on whitespace),
# TRIBUTARY_CASSANDRA_START_TIMEOUT (seconds, default 180).
#
# Java: $JAVA17_HOME, else /usr/lib/jvm/java-17-openjdk-<arch>, else `java` on PATH if it
# is Java 17 (Cassandra 5.0 fails on newer Javas).
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/server.sh
source "$ROOT/deploy/lib/server.sh"
script_init cassandra

readonly CASSANDRA_VERSION=5.0.9
readonly MAIN_CLASS=org.apache.cassandra.service.CassandraDaemon
readonly START_TIMEOUT="${TRIBUTARY_CASSANDRA_START_TIMEOUT:-180}"
readonly STOP_TIMEOUT=60
readonly POM="$ROOT/deploy/cassandra/pom.xml"
readonly CP_FILE="$ROOT/.tributary/cassandra-classpath.txt"
readonly YAML_TEMPLATE="$ROOT/config/cassandra.yaml"
readonly FLAGS_FILE="$ROOT/config/cassandra-jvm17.flags"
readonly LOGBACK_FILE="$ROOT/config/cassandra-logback.xml"

# ---------------------------------------------------------------- arguments
dir="$PWD/.tributary/cassandra"
address=127.0.0.1
cql_port=9042
storage_port=7000
heap=512m
parse_server_args --also-equals --dir dir --address address --cql-port cql_port \
  --storage-port storage_port --heap heap -- "$@"

valid_port() { [[ $1 =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= 65535 )); }
valid_port "$cql_port" || die "--cql-port: not a port number: $cql_port"
valid_port "$storage_port" || die "--storage-port: not a port number: $storage_port"
[[ $cql_port != "$storage_port" ]] || die "--cql-port and --storage-port must differ"
[[ $heap =~ ^[0-9]+[kKmMgG]?$ ]] || die "--heap: expected a JVM size such as 512m or 1g, got: $heap"
[[ $address =~ ^[A-Za-z0-9.:_-]+$ ]] || die "--address: not an address: $address"
[[ $dir != *$'\n'* ]] || die "--dir must not contain a newline"

server_dir
readonly yaml_file="$dir/cassandra.yaml"
SERVER=Cassandra
server_host=$address
server_ports=("$cql_port" "$storage_port")
server_url="$address:$cql_port"
server_logs=("$log_dir/stdout.log" "$log_dir/system.log")

# ---------------------------------------------------------------- helpers
running_pid() { recorded_pid "$pid_file" "$MAIN_CLASS" "-Dcassandra.storagedir=$dir"; }

# Address and CQL port recorded in the rendered yaml of a running node.
recorded() { sed -n "/^$1:/{s/^$1: *//p;q}" "$yaml_file" 2>/dev/null || true; }

render_yaml() {
  [[ -f $YAML_TEMPLATE ]] || die "missing $YAML_TEMPLATE"
  local esc_dir
  esc_dir="$(printf '%s' "$dir" | sed -e 's/[\\|&]/\\&/g')"
  sed -e "s|@DIR@|$esc_dir|g" -e "s|@ADDRESS@|$address|g" \
      -e "s|@CQL_PORT@|$cql_port|g" -e "s|@STORAGE_PORT@|$storage_port|g" \
      "$YAML_TEMPLATE" >"$yaml_file.tmp"
  if grep -qE '@(DIR|ADDRESS|CQL_PORT|STORAGE_PORT)@' "$yaml_file.tmp"; then
    die "placeholders left in $yaml_file.tmp"
  fi
  mv -f -- "$yaml_file.tmp" "$yaml_file"
}

read_flags() {
  [[ -f $FLAGS_FILE ]] || die "missing $FLAGS_FILE"
  local line words
  flags=()
  while IFS= read -r line || [[ -n $line ]]; do
    line="${line%%#*}"
    read -r -a words <<<"$line"
    flags+=("${words[@]}")
  done <"$FLAGS_FILE"
}

# ---------------------------------------------------------------- commands (deploy/lib/server.sh)
report_running() {
  local pid=$1 addr port
  addr="$(recorded rpc_address)"; port="$(recorded native_transport_port)"
  if port_open "${addr:-$address}" "${port:-$cql_port}"; then
    say "running, pid $pid, CQL ${addr:-$address}:${port:-$cql_port} ($dir)"
  else
    say "running but not ready yet, pid $pid, CQL port ${addr:-$address}:${port:-$cql_port} closed ($dir)"
  fi
}

# A node that runs but does not accept CQL yet is still starting: wait for it.
already_running() {
  local pid=$1 addr port
  addr="$(recorded rpc_address)"; port="$(recorded native_transport_port)"
  if [[ $addr != "$address" || $port != "$cql_port" ]]; then
    die "the Cassandra in $dir already runs (pid $pid) with CQL on $addr:$port, not $address:$cql_port; stop it first"
  fi
  if port_open "$address" "$cql_port"; then
    say "already running, pid $pid, CQL $address:$cql_port ($dir)"
    return 0
  fi
  say "already starting, pid $pid ($dir)"
  await_server "$pid"
  say "ready on $address:$cql_port (pid $pid, log $log_dir/system.log)"
}

port_in_use() {
  die "port $address:$1 is already in use by another process$(port_owner "$1"); it is not the Cassandra of $dir. Stop it, or choose other ports with --cql-port/--storage-port"
}

find_runtime() { find_java17 "Cassandra $CASSANDRA_VERSION"; }

prepare_start() {
  local flags extra_opts=()
  read -r -a extra_opts <<<"${TRIBUTARY_CASSANDRA_JVM_OPTS:-}" || true
  build_classpath "$POM" "$CP_FILE" "cassandra-all $CASSANDRA_VERSION"
  render_yaml
  read_flags
  server_command=(
    "$java"
    -Xms"$heap" -Xmx"$heap" -Xss512k
    -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError
    "${flags[@]}"
    -Dcassandra.config="file://$yaml_file"
    -Dcassandra-foreground=yes
    -Dcassandra.storagedir="$dir"
    -Dcassandra.logdir="$log_dir"
    -Dlogback.configurationFile="$LOGBACK_FILE"
    -Dcassandra.skip_wait_for_gossip_to_settle=0
    "${extra_opts[@]}"
    -cp "$(cat "$CP_FILE")"
    "$MAIN_CLASS"
  )
  say "starting Cassandra $CASSANDRA_VERSION: data $dir, CQL $address:$cql_port, storage port $storage_port, heap $heap"
}

server_main
