# shellcheck shell=bash
# Processes for the scripts that run servers and nodes for development and tests: pids and pid
# files, ports, launching in a process group of its own, waiting until ready, stopping; the
# JDK 17 and the classpath that a server in its own JVM runs with. Sourced, not run, after
# deploy/lib/script.sh (say, die); deploy/lib/server.sh builds the server scripts' commands on it.

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

# True when pid $1 runs main class $2 with argument $3 (guards against pid reuse).
runs() {
  alive "$1" || return 1
  local cmdline
  cmdline="$(tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  grep -qxF "$2" <<<"$cmdline" && grep -qxF -- "$3" <<<"$cmdline"
}

# Pid recorded in pid file $1 if that process runs main class $2 with argument $3; removes a
# stale pid file.
recorded_pid() {
  [[ -f $1 ]] || return 0
  local pid
  pid="$(tr -dc '0-9' <"$1")"
  if [[ -n $pid ]] && runs "$pid" "$2" "$3"; then
    printf '%s\n' "$pid"
  else
    rm -f -- "$1"
  fi
}

# Microseconds since the epoch, and seconds (one decimal) since such a time.
now_us() { local t=${EPOCHREALTIME/[.,]/}; printf '%s' "$t"; }
seconds_since() { local d=$(( ($(now_us) - $1) / 100000 )); printf '%d.%d' $((d / 10)) $((d % 10)); }

# Sends SIGTERM to the process group of $1 (else to $1), waits up to $2 seconds (a dot every
# 5 s), then SIGKILL. Prints message $3 first. Sets stop_seconds.
terminate_group() {
  local pid=$1 limit=$2 t0=$SECONDS ticks=0 t0_us
  t0_us=$(now_us)
  say "$3" | tr -d '\n'
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  while alive "$pid" && (( SECONDS - t0 < limit )); do
    sleep 0.5
    (( ++ticks % 10 )) || printf '.'
  done
  printf '\n'
  if alive "$pid"; then
    say "pid $pid did not stop within $limit s: sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    while alive "$pid"; do sleep 0.2; done
  fi
  stop_seconds=$(seconds_since "$t0_us")
}

# Prints the last 40 lines of each non-empty file among the arguments, to stderr.
show_tails() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf '\n----- last lines of %s -----\n' "$f" >&2
    tail -n 40 -- "$f" >&2
  done
  printf -- '-----\n' >&2
}

java_major() { "$1" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p'; }

# shellcheck disable=SC2034  # java is the caller's
# Sets java to a Java 17: $JAVA17_HOME, else /usr/lib/jvm/java-17-openjdk-*, else `java` on
# PATH if it is 17. $1 names what needs it, for the error message.
find_java17() {
  local candidate version
  if [[ -n ${JAVA17_HOME:-} ]]; then
    candidate="$JAVA17_HOME/bin/java"
    [[ -x $candidate ]] || die "JAVA17_HOME=$JAVA17_HOME has no bin/java"
    version="$(java_major "$candidate")"
    [[ $version == 17 ]] || die "JAVA17_HOME=$JAVA17_HOME is Java ${version:-?}; $1 needs Java 17"
    java="$candidate"; return
  fi
  for candidate in /usr/lib/jvm/java-17-openjdk-amd64/bin/java /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    if [[ -x $candidate ]]; then java="$candidate"; return; fi
  done
  if candidate="$(command -v java)"; then
    version="$(java_major "$candidate")"
    if [[ $version == 17 ]]; then java="$candidate"; return; fi
    die "no JDK 17 found: 'java' on PATH ($candidate) is Java ${version:-?}, and $1 runs on Java 17. Install openjdk-17-jdk-headless or set JAVA17_HOME."
  fi
  die "no JDK 17 found: install openjdk-17-jdk-headless or set JAVA17_HOME"
}

# Writes the runtime classpath of pom $1 to file $2, unless it is newer than the pom and every
# jar in it still exists. $3 names the artifact, for messages.
build_classpath() {
  local pom=$1 cp_file=$2 what=$3
  if [[ -s $cp_file && ! $pom -nt $cp_file ]]; then
    local jar ok=1 jars
    IFS=: read -r -a jars <"$cp_file" || true
    for jar in "${jars[@]}"; do [[ -f $jar ]] || { ok=0; break; }; done
    (( ok )) && return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is not on PATH: it is needed once to fetch $what"
  say "fetching $what through Maven (first run only)…"
  mkdir -p -- "$(dirname "$cp_file")"
  local tmp="$cp_file.tmp.$$" mvn_log="$cp_file.mvn.log"
  if ! mvn -B -q -f "$pom" dependency:build-classpath \
      -Dmdep.outputFile="$tmp" -Dmdep.includeScope=runtime >"$mvn_log" 2>&1 </dev/null; then
    rm -f -- "$tmp"
    cat -- "$mvn_log" >&2
    die "Maven could not resolve $what (full log: $mvn_log)"
  fi
  [[ -s $tmp ]] || die "Maven wrote an empty classpath for $what (log: $mvn_log)"
  mv -f -- "$tmp" "$cp_file"
  rm -f -- "$mvn_log"
}

# Starts a command in its own session and process group, so that Ctrl-C in the caller's
# terminal does not reach it and a stop can signal the whole group: $1 pid file, $2 output log
# (a dated start line is appended to it first), the rest the command. The inner shell writes its
# own pid (the pid the command keeps after exec) whether or not setsid had to fork. Sets
# launched_pid, and launcher to the background job's pid when that is the same process (so its
# exit status can be read); returns 1 if no pid was written within 5 s.
launch_detached() {
  local pidf=$1 out=$2
  shift 2
  printf '\n===== %s start =====\n' "$(date '+%F %T')" >>"$out"
  rm -f -- "$pidf"
  # shellcheck disable=SC2016  # expanded by the inner shell
  setsid bash -c 'printf "%s\n" "$$" >"$1"; shift; exec "$@"' _ "$pidf" "$@" </dev/null >>"$out" 2>&1 9>&- &
  launcher=$!
  local i
  for (( i = 0; i < 50; i++ )); do
    [[ -s $pidf ]] && break
    sleep 0.1
  done
  launched_pid="$(tr -dc '0-9' <"$pidf" 2>/dev/null || true)"
  [[ -n $launched_pid ]] || return 1
  [[ $launched_pid == "$launcher" ]] || launcher=""
}

# Waits until $2:$3 accepts connections while pid $1 lives, up to $4 seconds, printing a dot
# every 3 s. Returns 0 when open, 1 when the process died (exit status in exit_note), 2 on
# timeout.
wait_port() {
  local pid=$1 host=$2 port=$3 limit=$4 t0=$SECONDS elapsed
  exit_note=""
  while :; do
    if port_open "$host" "$port"; then
      alive "$pid" && return 0
      exit_note=" (the port opened, but the process exited)"
      return 1
    fi
    if ! alive "$pid"; then
      if [[ $pid == "${launcher:-}" ]]; then
        if wait "$pid" 2>/dev/null; then exit_note=" (exit status 0)"; else exit_note=" (exit status $?)"; fi
      fi
      return 1
    fi
    elapsed=$((SECONDS - t0))
    (( elapsed < limit )) || return 2
    (( elapsed == 0 || elapsed % 3 )) || printf '.'
    sleep 1
  done
}

# After launch_detached: waits for $4:$5 (up to $6 seconds) while pid $3 lives; on failure
# shows the tails of log files $7… and dies, stopping the process on a timeout and removing
# pid file $2 either way. $1 names the server. Ctrl-C meanwhile stops it too.
await_ready() {
  # stop_seconds: set by terminate_group, not wanted here.
  # shellcheck disable=SC2034
  local name=$1 pidf=$2 pid=$3 host=$4 port=$5 limit=$6 status=0 stop_seconds exit_note
  shift 6
  # shellcheck disable=SC2064  # expanded now, on purpose
  trap "printf '\n'; terminate_group $pid 60 'interrupted: stopping pid $pid '; rm -f -- '$pidf'; exit 130" INT TERM
  printf '%s: waiting for %s:%s ' "${name,,}" "$host" "$port"
  wait_port "$pid" "$host" "$port" "$limit" || status=$?
  printf '\n'
  trap - INT TERM
  (( status == 0 )) && return 0
  show_tails "$@"
  if (( status == 2 )); then
    terminate_group "$pid" 60 "not ready after $limit s: stopping pid $pid "
    rm -f -- "$pidf"
    die "$name did not open $host:$port within $limit s; logs in $(dirname -- "$1")"
  fi
  rm -f -- "$pidf"
  die "$name exited during startup$exit_note; logs in $(dirname -- "$1")"
}
