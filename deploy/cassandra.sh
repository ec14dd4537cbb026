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
trap 'printf "cassandra: error: unexpected failure at %s line %s: %s\n" "${BASH_SOURCE[0]}" "$LINENO" "$BASH_COMMAND" >&2' ERR

readonly CASSANDRA_VERSION=5.0.9
readonly MAIN_CLASS=org.apache.cassandra.service.CassandraDaemon
readonly START_TIMEOUT="${TRIBUTARY_CASSANDRA_START_TIMEOUT:-180}"
readonly STOP_TIMEOUT=60

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly POM="$ROOT/deploy/cassandra/pom.xml"
readonly CP_FILE="$ROOT/.tributary/cassandra-classpath.txt"
readonly YAML_TEMPLATE="$ROOT/config/cassandra.yaml"
readonly FLAGS_FILE="$ROOT/config/cassandra-jvm17.flags"
readonly LOGBACK_FILE="$ROOT/config/cassandra-logback.xml"

say() { printf 'cassandra: %s\n' "$*"; }
die() { printf 'cassandra: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=deploy/lib/jvm-server.sh
source "$ROOT/deploy/lib/jvm-server.sh"

usage() {
  sed -n '2,/^set -Eeuo/{/^set -Eeuo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

# ---------------------------------------------------------------- arguments
cmd=""
dir="$PWD/.tributary/cassandra"
address=127.0.0.1
cql_port=9042
storage_port=7000
heap=512m

need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    start|stop|status)
      [[ -z $cmd ]] || die "one command at a time (got '$cmd' and '$1')"
      cmd=$1; shift ;;
    --dir)          need_value "$@"; dir=$2; shift 2 ;;
    --dir=*)        dir=${1#*=}; shift ;;
    --address)      need_value "$@"; address=$2; shift 2 ;;
    --address=*)    address=${1#*=}; shift ;;
    --cql-port)     need_value "$@"; cql_port=$2; shift 2 ;;
    --cql-port=*)   cql_port=${1#*=}; shift ;;
    --storage-port) need_value "$@"; storage_port=$2; shift 2 ;;
    --storage-port=*) storage_port=${1#*=}; shift ;;
    --heap)         need_value "$@"; heap=$2; shift 2 ;;
    --heap=*)       heap=${1#*=}; shift ;;
    -h|--help)      usage 0 ;;
    *)              printf 'cassandra: error: unknown argument: %s\n\n' "$1" >&2; usage 2 >&2 ;;
  esac
done
[[ -n $cmd ]] || { printf 'cassandra: error: missing command\n\n' >&2; usage 2 >&2; }

valid_port() { [[ $1 =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= 65535 )); }
valid_port "$cql_port" || die "--cql-port: not a port number: $cql_port"
valid_port "$storage_port" || die "--storage-port: not a port number: $storage_port"
[[ $cql_port != "$storage_port" ]] || die "--cql-port and --storage-port must differ"
[[ $heap =~ ^[0-9]+[kKmMgG]?$ ]] || die "--heap: expected a JVM size such as 512m or 1g, got: $heap"
[[ $address =~ ^[A-Za-z0-9.:_-]+$ ]] || die "--address: not an address: $address"
[[ $dir != *$'\n'* ]] || die "--dir must not contain a newline"

# Absolute, without creating anything (status and stop must not create directories).
[[ $dir == /* ]] || dir="$PWD/$dir"
dir="$(realpath -m -- "$dir")"
readonly dir
readonly pid_file="$dir/cassandra.pid"
readonly yaml_file="$dir/cassandra.yaml"
readonly log_dir="$dir/logs"

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

# ---------------------------------------------------------------- commands
cmd_status() {
  local pid
  pid="$(running_pid)"
  if [[ -z $pid ]]; then
    say "stopped ($dir)"
    return 1
  fi
  local addr port
  addr="$(recorded rpc_address)"; port="$(recorded native_transport_port)"
  if port_open "${addr:-$address}" "${port:-$cql_port}"; then
    say "running, pid $pid, CQL ${addr:-$address}:${port:-$cql_port} ($dir)"
  else
    say "running but not ready yet, pid $pid, CQL port ${addr:-$address}:${port:-$cql_port} closed ($dir)"
  fi
}

cmd_stop() { stop_command "$(running_pid)" "$pid_file" "$dir" "$STOP_TIMEOUT"; }

cmd_start() {
  local pid java flags jars extra_opts=()
  find_java17 "Cassandra $CASSANDRA_VERSION"
  mkdir -p -- "$dir" "$log_dir"
  # One start at a time per data directory. fd 9 is closed for Cassandra itself.
  exec 9>"$dir/.start.lock"
  flock -w $((START_TIMEOUT + 30)) 9 || die "another 'cassandra.sh start' holds $dir/.start.lock"

  pid="$(running_pid)"
  if [[ -n $pid ]]; then
    local addr port
    addr="$(recorded rpc_address)"; port="$(recorded native_transport_port)"
    if [[ $addr != "$address" || $port != "$cql_port" ]]; then
      die "the Cassandra in $dir already runs (pid $pid) with CQL on $addr:$port, not $address:$cql_port; stop it first"
    fi
    if port_open "$address" "$cql_port"; then
      say "already running, pid $pid, CQL $address:$cql_port ($dir)"
      return 0
    fi
    say "already starting, pid $pid ($dir)"
    await_ready Cassandra "$pid_file" "$pid" "$address" "$cql_port" "$START_TIMEOUT" "$log_dir/stdout.log" "$log_dir/system.log"
    say "ready on $address:$cql_port (pid $pid, log $log_dir/system.log)"
    return 0
  fi

  local p
  for p in "$cql_port" "$storage_port"; do
    if port_open "$address" "$p"; then
      die "port $address:$p is already in use by another process$(port_owner "$p"); it is not the Cassandra of $dir. Stop it, or choose other ports with --cql-port/--storage-port"
    fi
  done

  read -r -a extra_opts <<<"${TRIBUTARY_CASSANDRA_JVM_OPTS:-}" || true
  build_classpath "$POM" "$CP_FILE" "cassandra-all $CASSANDRA_VERSION"
  render_yaml
  read_flags

  local -a args=(
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
  printf '\n===== %s start =====\n' "$(date '+%F %T')" >>"$log_dir/stdout.log"
  local t0_us launched_pid launcher
  t0_us=$(now_us)
  launch_detached "$pid_file" "$log_dir/stdout.log" Cassandra "$java" "${args[@]}"
  pid=$launched_pid
  await_ready Cassandra "$pid_file" "$pid" "$address" "$cql_port" "$START_TIMEOUT" "$log_dir/stdout.log" "$log_dir/system.log"
  say "ready on $address:$cql_port in $(seconds_since "$t0_us") s (pid $pid, log $log_dir/system.log)"
}

case "$cmd" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) if cmd_status; then exit 0; else exit 1; fi ;;
esac
