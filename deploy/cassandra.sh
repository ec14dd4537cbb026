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
# True when a TCP connection to $1:$2 succeeds.
# shellcheck disable=SC2016  # expanded by the inner shell
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

# Who listens on port $1 (best effort, for error messages).
port_owner() {
  command -v ss >/dev/null 2>&1 || return 0
  local line
  line="$(ss -Hltnp "sport = :$1" 2>/dev/null | sed -n '1s/.*\(users:(.*)\).*/\1/p' || true)"
  [[ -z $line ]] || printf ' (listener: %s)' "$line"
}

# True when pid $1 exists and is not a zombie.
alive() {
  local stat
  [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ ${stat%% *} != Z ]]
}

# True when pid $1 is the Cassandra of this data directory (guards against pid reuse).
is_ours() {
  alive "$1" || return 1
  local cmdline
  cmdline="$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  grep -qxF "$MAIN_CLASS" <<<"$cmdline" && grep -qxF -- "-Dcassandra.storagedir=$dir" <<<"$cmdline"
}

# Pid of the running Cassandra of $dir, or nothing (removes a stale pid file).
running_pid() {
  [[ -f $pid_file ]] || return 0
  local pid
  pid="$(tr -dc '0-9' <"$pid_file")"
  if [[ -n $pid ]] && is_ours "$pid"; then
    printf '%s\n' "$pid"
  else
    rm -f -- "$pid_file"
  fi
}

# Address and CQL port recorded in the rendered yaml of a running node.
recorded() { sed -n "/^$1:/{s/^$1: *//p;q}" "$yaml_file" 2>/dev/null || true; }

# Prints "cassandra: $2", sends SIGTERM to the process group of $1, waits up to
# STOP_TIMEOUT (a dot every 5 s), then SIGKILL. Sets stop_seconds.
terminate() {
  local pid=$1 t0=$SECONDS ticks=0 t0_us
  t0_us=$(now_us)
  printf 'cassandra: %s' "$2"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" && (( SECONDS - t0 < STOP_TIMEOUT )); do
    sleep 0.5
    (( ++ticks % 10 )) || printf '.'
  done
  printf '\n'
  if alive "$pid"; then
    say "pid $pid did not stop within ${STOP_TIMEOUT} s: sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.2; done
  fi
  rm -f -- "$pid_file"
  stop_seconds=$(seconds_since "$t0_us")
}

# Microseconds since the epoch, and seconds (one decimal) since such a time.
now_us() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "$t"; }
seconds_since() { local d=$(( ($(now_us) - $1) / 100000 )); printf '%d.%d' $((d / 10)) $((d % 10)); }

show_log_tail() {
  local f
  for f in "$log_dir/stdout.log" "$log_dir/system.log"; do
    [[ -s $f ]] || continue
    printf '\n----- last lines of %s -----\n' "$f" >&2
    tail -n 40 -- "$f" >&2
  done
  printf -- '-----\n' >&2
}

java_major() { "$1" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p'; }

find_java17() {
  local candidate version
  if [[ -n ${JAVA17_HOME:-} ]]; then
    candidate="$JAVA17_HOME/bin/java"
    [[ -x $candidate ]] || die "JAVA17_HOME=$JAVA17_HOME has no bin/java"
    version="$(java_major "$candidate")"
    [[ $version == 17 ]] || die "JAVA17_HOME=$JAVA17_HOME is Java ${version:-?}; Cassandra $CASSANDRA_VERSION needs Java 17"
    java="$candidate"; return
  fi
  for candidate in /usr/lib/jvm/java-17-openjdk-amd64/bin/java /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    if [[ -x $candidate ]]; then java="$candidate"; return; fi
  done
  if candidate="$(command -v java)"; then
    version="$(java_major "$candidate")"
    if [[ $version == 17 ]]; then java="$candidate"; return; fi
    die "no JDK 17 found: 'java' on PATH ($candidate) is Java ${version:-?}, and Cassandra $CASSANDRA_VERSION runs only on Java 17. Install openjdk-17-jdk-headless or set JAVA17_HOME."
  fi
  die "no JDK 17 found: install openjdk-17-jdk-headless or set JAVA17_HOME"
}

# Writes the classpath of cassandra-all to CP_FILE, unless it is newer than the pom and
# every jar in it still exists.
build_classpath() {
  if [[ -s $CP_FILE && ! $POM -nt $CP_FILE ]]; then
    local jar ok=1
    IFS=: read -r -a jars <"$CP_FILE" || true
    for jar in "${jars[@]}"; do [[ -f $jar ]] || { ok=0; break; }; done
    (( ok )) && return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is not on PATH: it is needed once to fetch cassandra-all $CASSANDRA_VERSION"
  say "fetching cassandra-all $CASSANDRA_VERSION through Maven (first run only)…"
  mkdir -p -- "$(dirname "$CP_FILE")"
  local tmp="$CP_FILE.tmp.$$" mvn_log="$CP_FILE.mvn.log"
  if ! mvn -B -q -f "$POM" dependency:build-classpath \
      -Dmdep.outputFile="$tmp" -Dmdep.includeScope=runtime >"$mvn_log" 2>&1 </dev/null; then
    rm -f -- "$tmp"
    cat -- "$mvn_log" >&2
    die "Maven could not resolve org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION (full log: $mvn_log)"
  fi
  [[ -s $tmp ]] || die "Maven wrote an empty classpath for cassandra-all (log: $mvn_log)"
  mv -f -- "$tmp" "$CP_FILE"
  rm -f -- "$mvn_log"
}

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

cmd_stop() {
  local pid
  pid="$(running_pid)"
  if [[ -z $pid ]]; then
    say "not running ($dir)"
    return 0
  fi
  local stop_seconds
  terminate "$pid" "stopping pid $pid ($dir) "
  say "stopped in $stop_seconds s"
}

# Waits until CQL accepts connections on $address:$cql_port; fails if pid $1 dies.
wait_ready() {
  local pid=$1 t0=$SECONDS elapsed t0_us
  t0_us=$(now_us)
  printf 'cassandra: waiting for CQL on %s:%s ' "$address" "$cql_port"
  while :; do
    if port_open "$address" "$cql_port"; then
      printf '\n'
      if ! alive "$pid"; then
        die "port $address:$cql_port opened, but Cassandra (pid $pid) has exited"
      fi
      say "ready on $address:$cql_port in $(seconds_since "$t0_us") s (pid $pid, log $log_dir/system.log)"
      return 0
    fi
    if ! alive "$pid"; then
      printf '\n'
      local status=""
      if [[ $pid == "${launcher:-}" ]]; then
        if wait "$pid" 2>/dev/null; then status=" (exit status 0)"; else status=" (exit status $?)"; fi
      fi
      rm -f -- "$pid_file"
      show_log_tail
      die "Cassandra exited during startup$status; logs in $log_dir"
    fi
    elapsed=$((SECONDS - t0))
    if (( elapsed >= START_TIMEOUT )); then
      printf '\n'
      show_log_tail
      terminate "$pid" "not ready after ${START_TIMEOUT} s: stopping pid $pid "
      die "Cassandra did not open CQL port $address:$cql_port within ${START_TIMEOUT} s; logs in $log_dir"
    fi
    (( elapsed == 0 || elapsed % 3 )) || printf '.'
    sleep 1
  done
}

cmd_start() {
  local pid java flags jars extra_opts=()
  find_java17
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
    wait_ready "$pid"
    return 0
  fi

  local p
  for p in "$cql_port" "$storage_port"; do
    if port_open "$address" "$p"; then
      die "port $address:$p is already in use by another process$(port_owner "$p"); it is not the Cassandra of $dir. Stop it, or choose other ports with --cql-port/--storage-port"
    fi
  done

  read -r -a extra_opts <<<"${TRIBUTARY_CASSANDRA_JVM_OPTS:-}" || true
  build_classpath
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
  # Own session and process group, so that Ctrl-C in the caller's terminal does not reach
  # it and stop can signal the whole group. The inner shell writes its own pid (the pid
  # java keeps after exec) whether or not setsid had to fork.
  # shellcheck disable=SC2016  # expanded by the inner shell
  setsid bash -c 'printf "%s\n" "$$" >"$1"; shift; exec "$@"' _ "$pid_file" "$java" "${args[@]}" \
    </dev/null >>"$log_dir/stdout.log" 2>&1 9>&- &
  local launcher=$!
  local i
  for (( i = 0; i < 50; i++ )); do
    [[ -s $pid_file ]] && break
    sleep 0.1
  done
  pid="$(tr -dc '0-9' <"$pid_file" 2>/dev/null || true)"
  [[ -n $pid ]] || { show_log_tail; die "could not launch Cassandra (no pid written to $pid_file)"; }
  [[ $pid == "$launcher" ]] || launcher=""

  # Ctrl-C while waiting: do not leave a half-started node behind.
  trap 'printf "\n"; terminate "$pid" "interrupted: stopping pid $pid "; exit 130' INT TERM
  wait_ready "$pid"
  trap - INT TERM
}

case "$cmd" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) if cmd_status; then exit 0; else exit 1; fi ;;
esac
