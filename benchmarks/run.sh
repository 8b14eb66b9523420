#!/usr/bin/env bash
# Builds the benchmarks module, runs Kiln's JMH benchmarks, the ONNX Runtime and PyTorch peers, the
# Fashion-MNIST epochs and Kiln's matmul against OpenBLAS, and writes benchmarks/RESULTS.md. Takes
# about 3 minutes on 2 cores.
#
#   benchmarks/run.sh              from the repository root (or anywhere: it finds the root itself)
#   benchmarks/run.sh --no-build   reuses the modules that an earlier run built and installed
#
# Needs JDK 25, gcc, and Debian's python3-torch, libopenblas0-pthread, libopenblas-dev and
# dataset-fashion-mnist.
# Raw results go to benchmarks/target/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMAND="benchmarks/run.sh${*:+ $*}"
BUILD=true
case "${1:-}" in
  "") ;;
  --no-build) BUILD=false ;;
  *) echo "unknown option '$1'; usage: benchmarks/run.sh [--no-build]" >&2; exit 2 ;;
esac
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
JAVA="$JAVA_HOME/bin/java"
JAVA_FEATURE=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' || true)
if [[ -z "$JAVA_FEATURE" ]] || (( JAVA_FEATURE < 25 )); then
  echo "benchmarks/run.sh needs JDK 25: JAVA_HOME=$JAVA_HOME has Java '${JAVA_FEATURE:-none}'; set JAVA_HOME to a JDK 25" >&2
  exit 2
fi
PYTHON=/usr/bin/python3
DATA_DIR=/usr/share/datasets/fashion-mnist
OUT=benchmarks/target/results
EPOCHS=2
TORCH_THREADS=(1 2)
MATMUL_SIZES=(1024 256)
# Kiln's default C flags (see codegen-c), so the matmul runs as it does inside a model's library.
KILN_CFLAGS=(-O3 -fno-trapping-math -fno-math-errno -std=c11 -ffp-contract=fast -fopenmp-simd -pthread -Wno-psabi -fPIC)
# Short settings keep the whole run near 3 minutes, and the error column shows what they cost.
JMH_SETTINGS=(-f 1 -wi 3 -w 1s -i 5 -r 1s)

missing=()
for package in python3-torch libopenblas0-pthread libopenblas-dev dataset-fashion-mnist; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if (( ${#missing[@]} > 0 )); then
  echo "The peers need Debian packages that are not installed: ${missing[*]}" >&2
  echo "Install them with: apt-get install -y ${missing[*]}" >&2
  exit 2
fi
if [[ ! -x "$JAVA" ]]; then
  echo "JDK 25 not found at $JAVA_HOME. Set JAVA_HOME to a JDK 25 installation." >&2
  exit 2
fi

# The peers run without these variables, so that OpenBLAS detects the CPU itself. Passive waiting
# stops PyTorch's idle OpenMP threads from spinning on the cores that OpenBLAS's threads need: with
# 2 threads on 2 cores, spinning made a 784-256-128-10 train step about 6 times slower here.
peer() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE "$PYTHON" "$@"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
rm -rf "$OUT"
mkdir -p "$OUT/weights"

if $BUILD; then
  echo "== Building the benchmarks module and what it depends on"
  # Maven's incremental build keeps generated C from an older code generator when only the
  # processor changed, so the models are compiled again from scratch.
  rm -rf benchmarks/target/classes benchmarks/target/generated-sources benchmarks/target/maven-status
  ./mvnw -q -B -pl benchmarks -am install -DskipTests
fi
./mvnw -q -B -pl benchmarks org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
  -DincludeScope=runtime -Dmdep.outputFile="$PWD/$OUT/classpath.txt"
CLASSPATH_ARG="benchmarks/target/classes:$(cat "$OUT/classpath.txt")"
run_java() {
  "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CLASSPATH_ARG" "$@"
}

echo "== Exporting Kiln's weights and check data"
run_java dev.kiln.benchmarks.ExportWeights "$OUT/weights"

echo "== PyTorch micro-benchmarks and the ONNX export"
peer benchmarks/python/torch_bench.py "$OUT/weights" "$OUT/torch.json" "$OUT/weights/reference_mlp.onnx" \
  --threads "${TORCH_THREADS[@]}"

echo "== JMH: Kiln and ONNX Runtime"
run_java org.openjdk.jmh.Main "${JMH_SETTINGS[@]}" -prof gc \
  -p onnxFile="$PWD/$OUT/weights/reference_mlp.onnx" -p threads=1,2 \
  -rf json -rff "$OUT/jmh.json" 2>&1 | tee "$OUT/jmh.log" | grep -E '^(Benchmark|[A-Z][A-Za-z]+Benchmark\.)' || true
if [[ ! -s "$OUT/jmh.json" ]]; then
  echo "JMH wrote no results; see $OUT/jmh.log" >&2
  exit 1
fi

echo "== Heap allocation per call: Kiln"
run_java dev.kiln.benchmarks.AllocationCheck "$OUT/allocation.json"

# Where the time goes in the workloads with speed targets: perf samples of a short JMH run in one
# JVM (-f 0), JVM start included. report.py puts the largest shares into the targets table.
PROFILES=("reference_predict_b1:KilnPredictBenchmark.referencePredict -p batch=1"
          "reference_predict_b1024:KilnPredictBenchmark.referencePredict -p batch=1024"
          "reference_train_b50:KilnTrainStepBenchmark.referenceTrainStep"
          "fashion_train_b128:KilnTrainStepBenchmark.fashionTrainStep")
if command -v perf >/dev/null 2>&1; then
  for profile in "${PROFILES[@]}"; do
    key=${profile%%:*}
    echo "== perf profile: $key"
    # The benchmark selector and its -p option split into separate arguments on purpose.
    # shellcheck disable=SC2086
    perf record -q -F 999 -o "$OUT/perf.data" -- "$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CLASSPATH_ARG" \
      org.openjdk.jmh.Main ${profile#*:} -f 0 -wi 1 -w 1s -i 2 -r 1s > "$OUT/perf_$key.log" 2>&1
    perf report -i "$OUT/perf.data" --sort dso,sym --stdio > "$OUT/perf_$key.txt" 2>/dev/null
  done
  rm -f "$OUT/perf.data"
else
  echo "perf not found (Debian package linux-perf); the targets table will have no profiles" >&2
fi

echo "== Fashion-MNIST: Kiln"
run_java dev.kiln.benchmarks.FashionMnistEpoch "$DATA_DIR" "$OUT/weights/fashion_init.safetensors" \
  "$OUT/kiln_epoch.json" "$EPOCHS"
for threads in "${TORCH_THREADS[@]}"; do
  echo "== Fashion-MNIST: PyTorch, $threads thread(s)"
  peer benchmarks/python/fashion_mnist_epoch.py "$DATA_DIR" "$OUT/weights/fashion_init.safetensors" \
    "$OUT/torch_epoch_t$threads.json" --epochs "$EPOCHS" --threads "$threads"
done

echo "== Matmul: Kiln's generated kernel against OpenBLAS cblas_sgemm"
# The prelude of a generated source, everything before its first exported entry, contains kiln_matmul.
# Entries carry the library's name; the prelude's own exports (the thread count) stay in.
PRELUDE_SOURCE=benchmarks/target/classes/META-INF/kiln/src/dev_kiln_benchmarks_TinyLinear.c
awk '/^KILN_EXPORT.*dev_kiln_benchmarks_TinyLinear_/ { exit } { print }' "$PRELUDE_SOURCE" > "$OUT/kiln_prelude.h"
if ! grep -q 'static void kiln_matmul(' "$OUT/kiln_prelude.h"; then
  echo "No kiln_matmul in the prelude of $PRELUDE_SOURCE; build without --no-build to regenerate it" >&2
  exit 1
fi
cc "${KILN_CFLAGS[@]}" -I "$OUT" -o "$OUT/matmul_bench" benchmarks/c/matmul_bench.c -lopenblas -lm -pthread
for threads in "${TORCH_THREADS[@]}"; do
  # kiln_matmul splits large products over its own thread pool, sized here like OpenBLAS's.
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS="$threads" KILN_NUM_THREADS="$threads" \
    "$OUT/matmul_bench" "${MATMUL_SIZES[@]}" > "$OUT/matmul_t$threads.json"
  "$PYTHON" -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("OpenBLAS threads %s, %s %d: %.1f GFLOP/s" % (sys.argv[2], r["engine"], r["size"], r["gflops"]))' \
    "$OUT/matmul_t$threads.json" "$threads"
done

ORT_VERSION=$(grep -o 'onnxruntime-[0-9.]*[0-9]\.jar' "$OUT/classpath.txt" | sed 's/onnxruntime-//; s/\.jar$//')
"$PYTHON" - "$OUT/environment.json" "$JAVA" "${JMH_SETTINGS[*]}" "$ORT_VERSION" "$LOAD_BEFORE" <<'PY'
import datetime, json, os, re, subprocess, sys
path, java, jmh_settings, onnxruntime_version, load_before = sys.argv[1:]
cpuinfo = open("/proc/cpuinfo").read()
models = re.findall(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
java_version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
cc_version = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
json.dump({
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "cpu_model": models[0] if models else "unknown",
    "cpuinfo_processors": len(re.findall(r"^processor\s*:", cpuinfo, re.M)),
    "nproc": os.cpu_count() if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0)),
    "java_version": java_version,
    "cc_version": cc_version,
    "onnxruntime_version": onnxruntime_version,
    "load_before": load_before,
    "load_after": " ".join(open("/proc/loadavg").read().split()[:3]),
    "jmh_settings": "JMH 1.37, " + jmh_settings,
}, open(path, "w"))
PY

"$PYTHON" benchmarks/python/report.py "$OUT" benchmarks/RESULTS.md --command "$COMMAND"
echo "== Wrote benchmarks/RESULTS.md"
