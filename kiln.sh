#!/usr/bin/env bash
# Builds and runs Kiln with JDK 25, found through JAVA_HOME or in the usual install folders.
#   ./kiln.sh demo   build everything, train the Wine model, save it, reload it in a new JVM
#   ./kiln.sh test   run every test (./mvnw verify)
set -euo pipefail
cd "$(dirname "$0")"

java_feature() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'
}

find_jdk() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]] && (( $(java_feature "$JAVA_HOME") >= 25 )); then
    return
  fi
  for candidate in /usr/lib/jvm/temurin-25-jdk-* /usr/lib/jvm/java-25-* /usr/lib/jvm/jdk-25* /usr/lib/jvm/*; do
    if [[ -x "$candidate/bin/java" ]] && (( $(java_feature "$candidate") >= 25 )); then
      export JAVA_HOME="$candidate"
      return
    fi
  done
  echo "Kiln needs JDK 25 or newer and found none (JAVA_HOME=${JAVA_HOME:-unset})." >&2
  echo "Install one and set JAVA_HOME to it, for example: export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64" >&2
  exit 2
}

command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || {
  echo "Kiln compiles models to native code and needs a C compiler: install gcc or clang." >&2
  exit 2
}

find_jdk
export PATH="$JAVA_HOME/bin:$PATH"

case "${1:-}" in
  demo)
    echo "== Building Kiln and the examples (JDK: $JAVA_HOME)"
    ./mvnw -q -B install -DskipTests
    echo
    echo "== Training WineNet on examples/data/wine_data.csv"
    java -jar examples/target/kiln-examples.jar train-wine --out target/wine
    echo
    echo "== Reloading target/wine/wine.safetensors in a new JVM and classifying the test rows"
    java -jar examples/target/kiln-examples.jar classify --model target/wine/wine.safetensors \
      --rows target/wine/wine-test.csv --expect target/wine/wine-test-predictions.txt | tail -n 4
    ;;
  test)
    shift
    ./mvnw -B verify "$@"
    ;;
  *)
    echo "usage: ./kiln.sh demo | test [maven options]" >&2
    exit 2
    ;;
esac
