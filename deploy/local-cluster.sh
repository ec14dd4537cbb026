#!/usr/bin/env bash
# A three-node Tributary cluster on 127.0.0.1, sharing the development Cassandra
# (deploy/cassandra.sh, .tributary/cassandra, 127.0.0.1:9042).
#
#   deploy/local-cluster.sh start        build if the jar is missing, start Cassandra if
#                                        needed, start the nodes, wait until all are ready
#   deploy/local-cluster.sh stop         stop the nodes (SIGTERM, they drain), then Cassandra
#   deploy/local-cluster.sh status       nodes and Cassandra; exit 0 only if all are ready
#   deploy/local-cluster.sh kill N       kill -9 node N (fault drill)
#   deploy/local-cluster.sh restart N    stop node N (if it runs) and start it again
#
# Node i (1..3): HTTP http://127.0.0.1:900i, Artery port 2552i, seed nodes
# pekko://tributary@127.0.0.1:25521..25523; log and pid in .tributary/cluster/node-i/.
# The nodes' JVM: $JAVA_HOME/bin/java, else `java` on PATH; extra JVM options in $JAVA_OPTS.
# Do not run deploy/dev.sh at the same time: both would use the same keyspaces.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/node.sh
source "$ROOT/deploy/lib/node.sh"
script_init cluster

readonly NODES=3
readonly CLUSTER_DIR=.tributary/cluster
# Every node lists all three as seed nodes: a restarted node 1 (the first seed) then joins
# the running cluster instead of forming a cluster of its own.
readonly SEEDS=("pekko://tributary@127.0.0.1:25521" "pekko://tributary@127.0.0.1:25522" "pekko://tributary@127.0.0.1:25523")
readonly READY_TIMEOUT="${TRIBUTARY_CLUSTER_READY_TIMEOUT:-120}"
readonly STOP_TIMEOUT=60

http_port()   { printf '%d' $((9000 + $1)); }
artery_port() { printf '%d' $((25520 + $1)); }
node_dir()    { printf '%s/node-%d' "$CLUSTER_DIR" "$1"; }
pid_file()    { printf '%s/node.pid' "$(node_dir "$1")"; }
log_file()    { printf '%s/node.log' "$(node_dir "$1")"; }
health_url()  { printf 'http://127.0.0.1:%d/health/ready' "$(http_port "$1")"; }

# Pid of node $1 if it runs (checked against its command line), else nothing.
node_pid() { recorded_pid "$(pid_file "$1")" "$MAIN_CLASS" "-Dtributary.http.port=$(http_port "$1")"; }

ready() { curl -sf -o /dev/null --max-time 2 "$(health_url "$1")"; }

valid_node() { [[ ${1:-} =~ ^[1-9][0-9]*$ ]] && (( $1 <= NODES )); }

ensure_built() {
  if [[ -f $JAR && -d $LIB ]]; then return 0; fi
  command -v mvn >/dev/null 2>&1 || die "$JAR is missing and Maven (mvn) is not on PATH"
  mkdir -p .tributary
  say "building (mvn -B -DskipTests package; log in .tributary/build.log)"
  if ! mvn -B -ntp -DskipTests package </dev/null >.tributary/build.log 2>&1; then
    grep -E '^\[ERROR\]' .tributary/build.log | head -n 40 >&2 || true
    die "build failed (full log: .tributary/build.log)"
  fi
  [[ -f $JAR ]] || die "the build did not produce $JAR"
  [[ -d $LIB ]] || die "$LIB is missing: the server module must copy its dependencies there at package (maven-dependency-plugin copy-dependencies)"
}

ensure_cassandra() {
  if bash deploy/cassandra.sh status >/dev/null 2>&1; then
    # Running; returns at once when ready, or waits if it is still starting.
    bash deploy/cassandra.sh start >/dev/null || die "Cassandra is not usable (try deploy/cassandra.sh status)"
  else
    bash deploy/cassandra.sh start || die "Cassandra did not start (see above)"
  fi
}

# Starts node $1 in the background, in its own process group.
start_node() {
  local i=$1 http artery p launched_pid launcher
  http="$(http_port "$i")"; artery="$(artery_port "$i")"
  for p in "$http" "$artery"; do
    if port_open 127.0.0.1 "$p"; then die "port 127.0.0.1:$p (node $i) is already in use by another process"; fi
  done
  mkdir -p -- "$(node_dir "$i")"
  node_command -Dtributary.http.port="$http" \
    -Dpekko.remote.artery.canonical.port="$artery" \
    -Dpekko.cluster.seed-nodes.0="${SEEDS[0]}" \
    -Dpekko.cluster.seed-nodes.1="${SEEDS[1]}" \
    -Dpekko.cluster.seed-nodes.2="${SEEDS[2]}"
  launch_detached "$(pid_file "$i")" "$(log_file "$i")" "${node_command[@]}" \
    || die "node $i did not launch (log: $(log_file "$i"))"
  say "node $i starting, pid $launched_pid, http://127.0.0.1:$http, artery $artery"
}

# Waits until every node in "$@" answers its readiness probe.
wait_ready() {
  local t0=$SECONDS i pending
  printf 'cluster: waiting for /health/ready on node(s) %s ' "$*"
  while :; do
    pending=()
    for i in "$@"; do
      if [[ -z $(node_pid "$i") ]]; then
        printf '\n'
        show_tails "$(log_file "$i")"
        die "node $i exited during startup (log: $(log_file "$i"))"
      fi
      ready "$i" || pending+=("$i")
    done
    if (( ${#pending[@]} == 0 )); then
      printf '\n'
      say "ready in $((SECONDS - t0)) s: $(for i in "$@"; do printf 'http://127.0.0.1:%s ' "$(http_port "$i")"; done)"
      return 0
    fi
    if (( SECONDS - t0 >= READY_TIMEOUT )); then
      printf '\n'
      for i in "${pending[@]}"; do show_tails "$(log_file "$i")"; done
      die "node(s) ${pending[*]} not ready after ${READY_TIMEOUT} s (they are still running: see 'status', or 'stop')"
    fi
    (( (SECONDS - t0) % 3 )) || printf '.'
    sleep 1
  done
}

# Sends SIGTERM to nodes "$@", waits up to STOP_TIMEOUT for all, then SIGKILL.
stop_nodes() {
  local i pid t0=$SECONDS
  local -a pids=() names=()
  for i in "$@"; do
    pid="$(node_pid "$i")"
    [[ -n $pid ]] || continue
    pids+=("$pid"); names+=("$i")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  if (( ${#pids[@]} == 0 )); then
    say "node(s) $* not running"
    return 0
  fi
  printf 'cluster: stopping node(s) %s ' "${names[*]}"
  local left ticks=0
  while :; do
    left=0
    for pid in "${pids[@]}"; do alive "$pid" && left=$((left + 1)); done
    (( left > 0 && SECONDS - t0 < STOP_TIMEOUT )) || break
    sleep 0.5
    (( ++ticks % 6 )) || printf '.'
  done
  printf '\n'
  for pid in "${pids[@]}"; do
    if alive "$pid"; then
      say "pid $pid did not stop within ${STOP_TIMEOUT} s: sending SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for i in "${names[@]}"; do rm -f -- "$(pid_file "$i")"; done
  say "stopped node(s) ${names[*]} in $((SECONDS - t0)) s"
}

all_nodes() { seq 1 "$NODES"; }

cmd_start() {
  command -v curl >/dev/null 2>&1 || die "curl is not installed (needed for the readiness probes)"
  [[ -f config/dev.conf && -f config/logback.xml ]] || die "config/dev.conf or config/logback.xml is missing"
  ensure_built
  find_java
  ensure_cassandra
  local i
  local -a started=()
  for i in $(all_nodes); do
    if [[ -n $(node_pid "$i") ]]; then
      say "node $i already running, pid $(node_pid "$i")"
    else
      start_node "$i"
    fi
    started+=("$i")
  done
  wait_ready "${started[@]}"
}

cmd_stop() {
  # shellcheck disable=SC2046
  stop_nodes $(all_nodes)
  bash deploy/cassandra.sh stop
}

cmd_status() {
  local i pid rc=0
  for i in $(all_nodes); do
    pid="$(node_pid "$i")"
    if [[ -z $pid ]]; then
      say "node $i stopped"; rc=1
    elif ready "$i"; then
      say "node $i ready, pid $pid, http://127.0.0.1:$(http_port "$i")"
    else
      say "node $i running but not ready, pid $pid, http://127.0.0.1:$(http_port "$i")"; rc=1
    fi
  done
  bash deploy/cassandra.sh status || rc=1
  return "$rc"
}

cmd_kill() {
  local i=$1 pid
  pid="$(node_pid "$i")"
  [[ -n $pid ]] || { say "node $i is not running"; return 0; }
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
  while alive "$pid"; do sleep 0.1; done
  rm -f -- "$(pid_file "$i")"
  say "node $i killed (SIGKILL, pid $pid)"
}

cmd_restart() {
  local i=$1
  stop_nodes "$i"
  ensure_built
  find_java
  ensure_cassandra
  start_node "$i"
  wait_ready "$i"
}

cd "$ROOT"
case "${1:-}" in
  start|stop)
    [[ $# -eq 1 ]] || die "'$1' takes no arguments"
    "cmd_$1" ;;
  status)
    [[ $# -eq 1 ]] || die "'$1' takes no arguments"
    if cmd_status; then exit 0; else exit 1; fi ;;
  kill|restart)
    if [[ $# -ne 2 ]] || ! valid_node "$2"; then die "usage: $0 $1 N   (N = 1..$NODES)"; fi
    "cmd_$1" "$2" ;;
  -h|--help) usage 0 ;;
  "") printf 'cluster: error: missing command\n\n' >&2; usage 2 >&2 ;;
  *)  printf 'cluster: error: unknown command: %s\n\n' "$1" >&2; usage 2 >&2 ;;
esac
