# shellcheck shell=bash
# What every script in deploy/ starts with. Sourced, not run. A script begins with its help
# text: the comment lines from line 2 up to its `set -Eeuo pipefail` (shellcheck directives
# among them are left out), then
#
#   set -Eeuo pipefail
#   ROOT=…; source "$ROOT/deploy/lib/script.sh"
#   script_init kafka        # its messages read "kafka: …" and "kafka: error: …"

# Names the script in say, die and the report of an unexpected failure (the ERR trap).
script_init() {
  SCRIPT=$1
  trap 'printf "%s: error: unexpected failure at %s line %s: %s\n" "$SCRIPT" "${BASH_SOURCE[0]}" "$LINENO" "$BASH_COMMAND" >&2' ERR
}

say() { printf '%s: %s\n' "$SCRIPT" "$*"; }
die() { printf '%s: error: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

# Prints the running script's help text and exits with status $1 (default 0).
usage() {
  sed -n '2,/^set -Eeuo/{/^set -Eeuo/d;/^# shellcheck /d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[-1]}"
  exit "${1:-0}"
}

# For option $1 of a command line "$@": dies unless a non-empty value follows it.
need_value() { [[ $# -ge 2 && -n $2 ]] || die "option $1 needs a value (see --help)"; }
