#!/usr/bin/env bash
# Runs kinesalite, a Kinesis-compatible stream server (kinesalite from npm), on Node.js, for
# development and tests. Streams live in memory: a restart empties them.
#
#   deploy/kinesalite.sh start|stop|status [options]
#
#   --dir DIR      logs, pid file and port file (default: $PWD/.tributary/kinesalite)
#   --port N       Kinesis port (default: 4567)
#
# start   installs kinesalite with npm into .tributary/kinesalite-npm of the project on first
#         use, starts the server in the background and returns once it accepts requests
#         (exit 0 at once if it is already running)
# stop    SIGTERM, SIGKILL after 30 s; fine if nothing runs
# status  prints running/stopped; exit 0 if running, 1 if not
#
# The endpoint is http://127.0.0.1:<port>, any region, any access key (requests must still be
# signed, with anything). Creating, deleting and resharding a stream take 50 ms, not
# kinesalite's default 500 ms. Kinesalite listens on all interfaces: it has no option to bind
# to 127.0.0.1 alone. Needs node and npm on PATH.
# Environment: TRIBUTARY_KINESALITE_START_TIMEOUT (seconds, default 60).
set -Eeuo pipefail
trap 'printf "kinesalite: error: unexpected failure at %s line %s: %s\n" "${BASH_SOURCE[0]}" "$LINENO" "$BASH_COMMAND" >&2' ERR

readonly KINESALITE_VERSION=3.3.3
# AWS's default account limit is 200 shards a region (kinesalite's own default is 10, which a
# test run's streams and their splits soon reach).
readonly SHARD_LIMIT=1000
readonly START_TIMEOUT="${TRIBUTARY_KINESALITE_START_TIMEOUT:-60}"
readonly STOP_TIMEOUT=30
readonly STREAM_MS=50

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
readonly NPM_PREFIX="$ROOT/.tributary/kinesalite-npm"
readonly CLI="$NPM_PREFIX/node_modules/kinesalite/cli.js"
# Written once npm has installed KINESALITE_VERSION completely.
readonly STAMP="$NPM_PREFIX/installed-version"

say() { printf 'kinesalite: %s\n' "$*"; }
die() { printf 'kinesalite: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=deploy/lib/jvm-server.sh
source "$ROOT/deploy/lib/jvm-server.sh"

usage() {
  sed -n '2,/^set -Eeuo/{/^set -Eeuo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}

cmd=""
dir="$PWD/.tributary/kinesalite"
port=4567
need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    start|stop|status)
      [[ -z $cmd ]] || die "one command at a time (got '$cmd' and '$1')"
      cmd=$1; shift ;;
    --dir)     need_value "$@"; dir=$2; shift 2 ;;
    --port)    need_value "$@"; port=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *)         printf 'kinesalite: error: unknown argument: %s\n\n' "$1" >&2; usage 2 >&2 ;;
  esac
done
[[ -n $cmd ]] || { printf 'kinesalite: error: missing command\n\n' >&2; usage 2 >&2; }
if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then die "--port: not a port number: $port"; fi
port=$((10#$port))

[[ $dir == /* ]] || dir="$PWD/$dir"
dir="$(realpath -m -- "$dir")"
readonly dir
readonly pid_file="$dir/kinesalite.pid"
readonly port_file="$dir/kinesalite.port"
readonly log_dir="$dir/logs"
readonly log_file="$log_dir/kinesalite.log"

recorded_port() { { tr -dc '0-9' <"$port_file"; } 2>/dev/null || true; }
# The server is started as `node $CLI --port=N …`: the pid in the pid file counts only while it
# runs this project's cli.js with the port recorded for this directory.
running_pid() {
  local p
  p="$(recorded_port)"
  if [[ -z $p ]]; then rm -f -- "$pid_file"; return 0; fi
  recorded_pid "$pid_file" "$CLI" "--port=$p"
}

cmd_status() { status_command "$(running_pid)" "$dir" "http://127.0.0.1:$(recorded_port)"; }

cmd_stop() { stop_command "$(running_pid)" "$pid_file" "$dir" "$STOP_TIMEOUT"; }

# Sets node to the node on PATH.
find_node() {
  node="$(command -v node)" || die "Node.js (node) is not on PATH: kinesalite $KINESALITE_VERSION runs on it"
}

# Installs kinesalite KINESALITE_VERSION into NPM_PREFIX unless it is there already.
install_kinesalite() {
  [[ -f $CLI && $(cat "$STAMP" 2>/dev/null) == "$KINESALITE_VERSION" ]] && return 0
  command -v npm >/dev/null 2>&1 || die "npm is not on PATH: it is needed once to install kinesalite $KINESALITE_VERSION"
  mkdir -p -- "$NPM_PREFIX"
  exec 8>"$NPM_PREFIX.lock"
  flock -w 600 8 || die "another install holds $NPM_PREFIX.lock"
  if [[ -f $CLI && $(cat "$STAMP" 2>/dev/null) == "$KINESALITE_VERSION" ]]; then exec 8>&-; return 0; fi
  say "installing kinesalite $KINESALITE_VERSION with npm into $NPM_PREFIX (first run only)…"
  rm -f -- "$STAMP"
  local npm_log="$NPM_PREFIX/npm-install.log"
  if ! npm install --no-audit --no-fund --prefix "$NPM_PREFIX" "kinesalite@$KINESALITE_VERSION" \
      >"$npm_log" 2>&1 </dev/null; then
    cat -- "$npm_log" >&2
    die "npm could not install kinesalite $KINESALITE_VERSION (full log: $npm_log)"
  fi
  local got
  got="$("$node" -p 'require(process.argv[1]).version' "$NPM_PREFIX/node_modules/kinesalite/package.json" 2>/dev/null || true)"
  [[ -f $CLI && $got == "$KINESALITE_VERSION" ]] \
    || die "npm installed kinesalite ${got:-?}, not $KINESALITE_VERSION, into $NPM_PREFIX (log: $npm_log)"
  printf '%s\n' "$KINESALITE_VERSION" >"$STAMP"
  exec 8>&-
}

cmd_start() {
  local node pid t0_us
  find_node
  mkdir -p -- "$dir" "$log_dir"
  exec 9>"$dir/.start.lock"
  flock -w $((START_TIMEOUT + 630)) 9 || die "another 'kinesalite.sh start' holds $dir/.start.lock"

  pid="$(running_pid)"
  if [[ -n $pid ]]; then
    [[ $(recorded_port) == "$port" ]] || die "the kinesalite in $dir already runs (pid $pid) on port $(recorded_port), not $port; stop it first"
    say "already running, pid $pid, http://127.0.0.1:$port ($dir)"
    return 0
  fi
  if port_open 127.0.0.1 "$port"; then
    die "port $port is already in use by another process$(port_owner "$port"). Stop it, or choose another with --port"
  fi

  install_kinesalite
  printf '%s\n' "$port" >"$port_file"
  say "starting kinesalite $KINESALITE_VERSION: http://127.0.0.1:$port, in memory"
  printf '\n===== %s start =====\n' "$(date '+%F %T')" >>"$log_file"
  t0_us=$(now_us)
  local launched_pid launcher
  launch_detached "$pid_file" "$log_file" kinesalite "$node" "$CLI" "--port=$port" \
    --createStreamMs "$STREAM_MS" --deleteStreamMs "$STREAM_MS" --updateStreamMs "$STREAM_MS" \
    --shardLimit "$SHARD_LIMIT"
  pid=$launched_pid
  await_ready kinesalite "$pid_file" "$pid" 127.0.0.1 "$port" "$START_TIMEOUT" "$log_file"
  say "ready on http://127.0.0.1:$port in $(seconds_since "$t0_us") s (pid $pid, log $log_file)"
}

case "$cmd" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) if cmd_status; then exit 0; else exit 1; fi ;;
esac
