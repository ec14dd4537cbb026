# shellcheck shell=bash
# The Tributary node as deploy/dev.sh and deploy/local-cluster.sh run it, from the project root
# with config/dev.conf. Sourced, not run; brings in script.sh and jvm-server.sh.

# shellcheck source=deploy/lib/script.sh
source "${BASH_SOURCE[0]%/*}/script.sh"
# shellcheck source=deploy/lib/jvm-server.sh
source "${BASH_SOURCE[0]%/*}/jvm-server.sh"

readonly JAR=modules/server/target/tributary-server-0.1.0-SNAPSHOT.jar
readonly LIB=modules/server/target/lib
readonly MAIN_CLASS=io.tributary.server.Main

# Sets java to $JAVA_HOME/bin/java, else `java` on PATH.
find_java() {
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    java="$JAVA_HOME/bin/java"
  else
    java="$(command -v java)" || die "no java on PATH (install openjdk-17-jdk-headless or set JAVA_HOME)"
  fi
}

# Sets node_command to a node's command line: java (find_java first), $JAVA_OPTS (split on
# whitespace), the node's classpath and config, then the arguments (system properties).
# shellcheck disable=SC2034  # node_command is the caller's
node_command() {
  local -a java_opts=()
  read -r -a java_opts <<<"${JAVA_OPTS:-}" || true
  node_command=("$java" "${java_opts[@]}" -cp "$JAR:$LIB/*"
    -Dconfig.file=config/dev.conf -Dlogback.configurationFile=config/logback.xml
    "$@" "$MAIN_CLASS")
}
