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
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/server.sh
source "$ROOT/deploy/lib/server.sh"
script_init kinesalite

readonly KINESALITE_VERSION=3.3.3
# AWS's default account limit is 200 shards a region (kinesalite's own default is 10, which a
# test run's streams and their splits soon reach).
readonly SHARD_LIMIT=1000
readonly START_TIMEOUT="${TRIBUTARY_KINESALITE_START_TIMEOUT:-60}"
# A start may wait for another one's npm install (up to 600 s) as well.
readonly START_LOCK_WAIT=$((START_TIMEOUT + 630))
readonly STOP_TIMEOUT=30
readonly STREAM_MS=50
readonly NPM_PREFIX="$ROOT/.tributary/kinesalite-npm"
readonly CLI="$NPM_PREFIX/node_modules/kinesalite/cli.js"
# Written once npm has installed KINESALITE_VERSION completely.
readonly STAMP="$NPM_PREFIX/installed-version"

dir="$PWD/.tributary/kinesalite"
port=4567
parse_server_args --dir dir --port port -- "$@"
if ! [[ $port =~ ^[0-9]+$ ]] || (( port < 1 || port > 65535 )); then die "--port: not a port number: $port"; fi
port=$((10#$port))

server_dir
readonly port_file="$dir/kinesalite.port"
readonly log_file="$log_dir/kinesalite.log"
SERVER=kinesalite
server_host=127.0.0.1
server_ports=("$port")
server_url="http://127.0.0.1:$port"
server_logs=("$log_file")

served_port() { { tr -dc '0-9' <"$port_file"; } 2>/dev/null || true; }
# The server is started as `node $CLI --port=N …`: the pid in the pid file counts only while it
# runs this project's cli.js with the port recorded for this directory.
running_pid() {
  local p
  p="$(served_port)"
  if [[ -z $p ]]; then rm -f -- "$pid_file"; return 0; fi
  recorded_pid "$pid_file" "$CLI" "--port=$p"
}

# It listens on every interface, not on 127.0.0.1 alone.
port_in_use() {
  die "port $1 is already in use by another process$(port_owner "$1"). Stop it, or choose another with --port"
}

# Sets node to the node on PATH.
find_runtime() {
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

prepare_start() {
  install_kinesalite
  printf '%s\n' "$port" >"$port_file"
  say "starting kinesalite $KINESALITE_VERSION: http://127.0.0.1:$port, in memory"
  server_command=("$node" "$CLI" "--port=$port"
    --createStreamMs "$STREAM_MS" --deleteStreamMs "$STREAM_MS" --updateStreamMs "$STREAM_MS"
    --shardLimit "$SHARD_LIMIT")
}

server_main
