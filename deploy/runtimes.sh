#!/usr/bin/env bash
# Installs the function interpreters that the machine's packages lack: Node.js 22 and 24, so
# that nodejs22.x and nodejs24.x functions run on their own Node rather than on the closest one.
#
#   deploy/runtimes.sh [--dir DIR] [--optional]
#
#   --dir DIR     where to install (default: .tributary/runtimes of the project, where the node's
#                 default tributary.runtime.interpreters look when it runs from the project)
#   --optional    warn instead of failing when npm cannot install them (deploy/dev.sh uses it:
#                 those ids then run on the closest Node, or are refused)
#
# Each comes from npm's node-linux-<arch> package, which ships Node's own release binary and runs
# no install script: DIR/node-<major>/node_modules/node-linux-<arch>/bin/node. The versions are
# pinned; an installed one is kept. Needs npm on PATH the first time.
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
readonly ROOT
# shellcheck source=deploy/lib/script.sh
source "$ROOT/deploy/lib/script.sh"
script_init runtimes

readonly NODE_VERSIONS=(22.23.5 24.22.3)

dir="$ROOT/.tributary/runtimes"
optional=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) need_value "$@"; dir=$2; shift 2 ;;
    --dir=*) dir=${1#*=}; shift ;;
    --optional) optional=1; shift ;;
    -h|--help) usage 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

fail() {
  if (( optional )); then say "warning: $*"; exit 0; fi
  die "$*"
}

case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) fail "no Node.js package for $(uname -m) on npm"; ;;
esac
readonly package="node-linux-$arch"

mkdir -p -- "$dir"
exec 8>"$dir/install.lock"
flock -w 600 8 || fail "another install holds $dir/install.lock"

for version in "${NODE_VERSIONS[@]}"; do
  prefix="$dir/node-${version%%.*}"
  node="$prefix/node_modules/$package/bin/node"
  if [[ -x $node && $("$node" --version 2>/dev/null) == "v$version" ]]; then
    continue
  fi
  command -v npm >/dev/null 2>&1 || fail "npm is not on PATH: it is needed once to install Node.js $version"
  say "installing Node.js $version ($package from npm) into $prefix…"
  rm -rf -- "$prefix"
  mkdir -p -- "$prefix"
  if ! npm install --no-audit --no-fund --ignore-scripts --prefix "$prefix" "$package@$version" \
      >"$prefix/npm-install.log" 2>&1 </dev/null; then
    tail -n 20 -- "$prefix/npm-install.log" >&2
    fail "npm could not install $package@$version (full log: $prefix/npm-install.log)"
  fi
  got="$("$node" --version 2>/dev/null || true)"
  [[ $got == "v$version" ]] || fail "$node reports ${got:-nothing}, not v$version"
done
say "Node.js ${NODE_VERSIONS[*]} in $dir"
