# shellcheck shell=bash
# shellcheck disable=SC2154  # server_… variables: set by the script that sources this file
# The command line and the start, stop and status commands of a script that runs one server
# for development and tests, in a directory of its own (deploy/cassandra.sh, kafka.sh,
# elasticmq.sh, kinesalite.sh, dynamodb-local.sh). Sourced, not run; brings in script.sh and
# jvm-server.sh. A script keeps what is its own (its options and their checks, its config, its
# command line, what it is called) and has this shape, kafka.sh's for example:
#
#   dir="$PWD/.tributary/kafka"; port=9092; controller_port=9093; heap=384m
#   parse_server_args --dir dir --port port --controller-port controller_port --heap heap -- "$@"
#   (the checks of the values)
#   server_dir                      # $dir made absolute; pid_file $dir/kafka.pid, log_dir $dir/logs
#   SERVER=Kafka                    # what the messages call it
#   server_host=127.0.0.1           # where it listens
#   server_ports=("$port" "$controller_port")       # must be free to start; the first is awaited
#   server_port_options=(--port --controller-port)  # the options that set them
#   server_url="127.0.0.1:$port"    # in "ready on 127.0.0.1:9092 …"
#   server_logs=("$log_dir/stdout.log" "$log_dir/server.log")
#                                   # the server's output goes to the first; the last is named
#                                   # once it is ready; the last lines of each are shown when it
#                                   # fails to start
#   running_pid()   { …; }          # pid of this directory's server if it runs, else nothing
#   find_runtime()  { …; }          # sets java (find_java17), or whatever runs the server
#   prepare_start() { …; }          # classpath, config, the "starting …" line; sets server_command
#   served_port()   { …; }          # the port that the running server (pid $1) serves
#   endpoint()      { …; }          # how status names the server on port $1 (default: http://…)
#   server_main
#
# The script may also replace already_running, port_in_use and report_running (below), and set
# START_LOCK_WAIT (default START_TIMEOUT + 30 s). It sets START_TIMEOUT and STOP_TIMEOUT.
#
# start   find_runtime; makes $dir and its logs/; one start at a time per directory (a lock on
#         $dir/.start.lock held on fd 9, which the server does not inherit). If the directory's
#         server runs: already_running, exit 0. Else every port in server_ports must be free
#         (else port_in_use), prepare_start, and server_command is launched in its own session
#         and process group. Ready once server_host:server_ports[0] accepts connections within
#         START_TIMEOUT s; if the process exits first, or on the timeout (which stops it), the
#         last lines of server_logs and exit 1.
# stop    SIGTERM to the process group, SIGKILL after STOP_TIMEOUT s; fine if nothing runs.
# status  "stopped", or report_running; exit 0 if running, 1 if not.

# shellcheck source=deploy/lib/script.sh
source "${BASH_SOURCE[0]%/*}/script.sh"
# shellcheck source=deploy/lib/jvm-server.sh
source "${BASH_SOURCE[0]%/*}/jvm-server.sh"

# Reads a server script's command line: one of start, stop and status into cmd, and each option
# listed before `--` into the variable named after it (with `--port port`, `--port 9092` sets
# port); -h or --help prints the help and exits 0; anything else prints an error and the help
# and exits 2. With --also-equals first, `--port=9092` is read as well.
parse_server_args() {
  local equals=0 i
  local -a names=() vars=()
  if [[ $1 == --also-equals ]]; then equals=1; shift; fi
  while [[ $1 != -- ]]; do names+=("$1"); vars+=("$2"); shift 2; done
  shift
  cmd=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      start|stop|status)
        [[ -z $cmd ]] || die "one command at a time (got '$cmd' and '$1')"
        cmd=$1; shift; continue ;;
      -h|--help) usage 0 ;;
    esac
    for i in "${!names[@]}"; do
      if [[ $1 == "${names[i]}" ]]; then
        need_value "$@"; printf -v "${vars[i]}" '%s' "$2"; shift 2; continue 2
      fi
      if (( equals )) && [[ $1 == "${names[i]}="* ]]; then
        printf -v "${vars[i]}" '%s' "${1#*=}"; shift; continue 2
      fi
    done
    printf '%s: error: unknown argument: %s\n\n' "$SCRIPT" "$1" >&2
    usage 2 >&2
  done
  [[ -n $cmd ]] || { printf '%s: error: missing command\n\n' "$SCRIPT" >&2; usage 2 >&2; }
}

# Makes dir absolute without creating anything (status and stop create no directory), and sets
# pid_file and log_dir in it.
server_dir() {
  [[ $dir == /* ]] || dir="$PWD/$dir"
  dir="$(realpath -m -- "$dir")"
  pid_file="$dir/$SCRIPT.pid"
  log_dir="$dir/logs"
  readonly dir pid_file log_dir
}

# Runs the command read by parse_server_args.
server_main() {
  case "$cmd" in
    start)  server_start ;;
    stop)   server_stop ;;
    status) if server_status; then exit 0; else exit 1; fi ;;
  esac
}

server_start() {
  local pid p t0_us launched_pid launcher
  find_runtime
  mkdir -p -- "$dir" "$log_dir"
  exec 9>"$dir/.start.lock"
  flock -w "${START_LOCK_WAIT:-$((START_TIMEOUT + 30))}" 9 \
    || die "another '${BASH_SOURCE[-1]##*/} start' holds $dir/.start.lock"

  pid="$(running_pid)"
  if [[ -n $pid ]]; then
    already_running "$pid"
    return 0
  fi
  for p in "${server_ports[@]}"; do
    if port_open "$server_host" "$p"; then port_in_use "$p"; fi
  done

  prepare_start
  t0_us=$(now_us)
  launch_detached "$pid_file" "${server_logs[0]}" "${server_command[@]}" \
    || die "could not launch $SERVER (no pid written to $pid_file)"
  pid=$launched_pid
  await_server "$pid"
  say "ready on $server_url in $(seconds_since "$t0_us") s (pid $pid, log ${server_logs[-1]})"
}

# Waits for the server with pid $1 to accept connections (see await_ready; the name given to
# it has no space, since its lower case begins the line it prints: "dynamodb-local: waiting").
await_server() {
  await_ready "${SERVER// /-}" "$pid_file" "$1" "$server_host" "${server_ports[0]}" "$START_TIMEOUT" "${server_logs[@]}"
}

# Start found this directory's server running as pid $1: fine if it serves the port asked for.
already_running() {
  local served
  served="$(served_port "$1")"
  [[ $served == "${server_ports[0]}" ]] \
    || die "the $SERVER in $dir already runs (pid $1) on port $served, not ${server_ports[0]}; stop it first"
  say "already running, pid $1, $(endpoint "${server_ports[0]}") ($dir)"
}

# Start found port $1 taken by a process that is not this directory's server.
port_in_use() {
  local choice="another with ${server_port_options[0]}"
  if (( ${#server_port_options[@]} > 1 )); then
    choice="other ports with $(IFS=/; printf '%s' "${server_port_options[*]}")"
  fi
  die "port $server_host:$1 is already in use by another process$(port_owner "$1"). Stop it, or choose $choice"
}

endpoint() { printf 'http://%s:%s' "$server_host" "$1"; }

server_status() {
  local pid
  pid="$(running_pid)"
  if [[ -z $pid ]]; then
    say "stopped ($dir)"
    return 1
  fi
  report_running "$pid"
}

# Status found this directory's server running as pid $1.
report_running() { say "running, pid $1, $(endpoint "$(served_port "$1")") ($dir)"; }

server_stop() {
  local pid stop_seconds
  pid="$(running_pid)"
  if [[ -z $pid ]]; then
    say "not running ($dir)"
    return 0
  fi
  terminate_group "$pid" "$STOP_TIMEOUT" "stopping pid $pid ($dir) "
  rm -f -- "$pid_file"
  say "stopped in $stop_seconds s"
}
