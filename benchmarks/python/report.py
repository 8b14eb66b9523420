#!/usr/bin/python3
"""Write benchmarks/RESULTS.md from the result files of one benchmarks/run.sh run.

Run: /usr/bin/python3 benchmarks/python/report.py RESULT_DIR OUTPUT_MD --command "..."
RESULT_DIR contains jmh.json, allocation.json, torch.json, kiln_epoch.json, torch_epoch_t*.json, matmul_t*.json
(benchmarks/c/matmul_bench.c, one file per OpenBLAS thread count) and environment.json with the
machine facts that run.sh collected.
"""

import argparse
import glob
import json
import os
import re

# Layers as (inputs, outputs, applications per forward pass), in forward order.
MODELS = {
    "reference": {"layers": [(13, 20, 1), (20, 20, 9), (20, 3, 1)]},
    "fashion": {"layers": [(784, 256, 1), (256, 128, 1), (128, 10, 1)]},
    "tiny": {"layers": [(1, 1, 1)]},
}

# (key, title, model, batch, kind, JMH benchmark, JMH params)
WORKLOADS = [
    ("reference_predict_b1", "Reference MLP predict, batch 1", "reference", 1, "predict",
     "dev.kiln.benchmarks.KilnPredictBenchmark.referencePredict", {"batch": "1"}),
    ("reference_predict_b1024", "Reference MLP predict, batch 1024", "reference", 1024, "predict",
     "dev.kiln.benchmarks.KilnPredictBenchmark.referencePredict", {"batch": "1024"}),
    ("reference_train_b50", "Reference MLP Adam train step, batch 50", "reference", 50, "train",
     "dev.kiln.benchmarks.KilnTrainStepBenchmark.referenceTrainStep", {}),
    ("fashion_train_b128", "784-256-128-10 Adam train step, batch 128", "fashion", 128, "train",
     "dev.kiln.benchmarks.KilnTrainStepBenchmark.fashionTrainStep", {}),
    ("tiny_predict_b1", "Linear(1, 1) predict, batch 1 (call overhead)", "tiny", 1, "predict",
     "dev.kiln.benchmarks.KilnCallOverheadBenchmark.tinyPredict", {}),
]
ONNX_BENCHMARK = "dev.kiln.benchmarks.OnnxRuntimePredictBenchmark.predict"
KILN_BENCHMARKS = sorted({w[5] for w in WORKLOADS})
# Below this fraction of its roof a workload is limited by neither compute nor bandwidth.
OVERHEAD_FRACTION = 0.25
# Equal accuracy in the Fashion-MNIST target: Kiln's test accuracy at most this far below PyTorch's.
ACCURACY_TOLERANCE = 0.01
UNIT_TO_MICROSECONDS = {"ns/op": 1e-3, "us/op": 1.0, "ms/op": 1e3, "s/op": 1e6}


def parameter_count(model):
    return sum(i * o + o for i, o, _ in MODELS[model]["layers"])


def flops(model, batch, kind):
    """Matrix-multiply FLOPs (a multiply-add counts 2) of one call.

    Forward: 2*B*in*out per layer application. A training step adds the weight gradients
    (2*B*in*out per application) and the input gradients (the same, except for the first
    layer, whose input needs no gradient). Bias adds, activations, the loss and the Adam
    update are not counted; they are below 2% of the total for these shapes.
    """
    layers = MODELS[model]["layers"]
    forward = sum(2 * batch * i * o * n for i, o, n in layers)
    if kind == "predict":
        return forward
    first_in, first_out, _ = layers[0]
    return 3 * forward - 2 * batch * first_in * first_out


def compulsory_bytes(model, batch, kind):
    """Bytes that one call must move at least: every tensor read or written once, float32.

    Predict: parameters, inputs and outputs. Train step: parameters read and written, Adam's
    two moment buffers read and written, inputs and int32 labels. Activations and gradients are
    left out, since they can stay in cache; the real traffic is higher.
    """
    layers = MODELS[model]["layers"]
    inputs = layers[0][0]
    outputs = layers[-1][1]
    params = parameter_count(model)
    if kind == "predict":
        return 4 * (params + batch * inputs + batch * outputs)
    return 4 * (6 * params + batch * inputs + batch)


def load_jmh(path):
    rows = []
    for entry in json.load(open(path)):
        metric = entry["primaryMetric"]
        scale = UNIT_TO_MICROSECONDS[metric["scoreUnit"]]
        allocation = entry.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
        amount, unit = entry["measurementTime"].split()
        rows.append({"benchmark": entry["benchmark"], "params": entry.get("params", {}),
                     "iteration_us": float(amount) * {"s": 1e6, "ms": 1e3, "us": 1.0}[unit],
                     "us": metric["score"] * scale, "error_us": metric["scoreError"] * scale,
                     "bytes_per_op": allocation})
    return rows


def find_jmh(rows, benchmark, params):
    for row in rows:
        if row["benchmark"] == benchmark and all(row["params"].get(k) == v for k, v in params.items()):
            return row
    return None


def fmt_us(value):
    if value is None:
        return "n/a"
    return f"{value:,.3f}" if value < 10 else f"{value:,.1f}"


def fmt_error(value):
    if value != value:  # JMH reports NaN when there are too few iterations for an error
        return "n/a"
    return fmt_us(value)


def gflops(flop_count, microseconds):
    return flop_count / (microseconds * 1e3)


def perf_shares(result_dir, key, count=3):
    """Return the largest shares (1% and above) of perf samples in perf_KEY.txt as text, or None without a profile.

    The generated library is loaded from a temporary file without symbols, so its samples are
    summed into one entry; other entries are per symbol.
    """
    path = os.path.join(result_dir, f"perf_{key}.txt")
    if not os.path.exists(path):
        return None
    shares = {}
    for line in open(path):
        match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
        if not match:
            continue
        share, dso, symbol = float(match[1]), match[2], match[3]
        if "libdev_kiln" in dso:
            name = "the generated model library"
        elif symbol.startswith("0x"):
            name = f"{dso} without symbols"
        else:
            name = f"{symbol} ({dso})"
        shares[name] = shares.get(name, 0.0) + share
    largest = [item for item in sorted(shares.items(), key=lambda item: -item[1])[:count] if item[1] >= 1.0]
    return ", ".join(f"{share:.0f}% {name}" for name, share in largest)


def matmul_flops(size):
    return 2 * size ** 3


def matmul_bytes(size):
    """A, B read once and C written once, float32."""
    return 4 * 3 * size * size


def roof(flop_count, byte_count, peak, bandwidth):
    """Return the roofline bound in GFLOP/s and the term that sets it."""
    memory_roof = flop_count / byte_count * bandwidth / 1e9
    return (peak, "compute") if peak <= memory_roof else (memory_roof, "memory")


def verdict(achieved, bound, term):
    if achieved >= OVERHEAD_FRACTION * bound:
        return f"{term}-bound"
    return "overhead-bound"


def plural(threads):
    return f"{threads} thread{'s' if threads > 1 else ''}"


def matmul_section(matmul, matmul_threads, matmul_sizes, slower, faster):
    """Kiln's generated matmul against cblas_sgemm, each pair timed in the same process."""
    lines = [
        "",
        "## Matmul against OpenBLAS",
        "",
        "C = A B on square row-major float32 matrices: `kiln_matmul` from the prelude of a generated",
        "model source (everything before its first exported entry), compiled into",
        "`benchmarks/c/matmul_bench.c` with Kiln's flags `-O3 -fno-trapping-math -fno-math-errno -std=c11 -pthread -fPIC`, against `cblas_sgemm` of",
        "Debian's OpenBLAS. One process per OpenBLAS thread count (`OPENBLAS_NUM_THREADS`) times both",
        "with `clock_gettime` after a 0.3 s warm-up: the median of 5 rounds of 0.3 s. Kiln's thread pool",
        "gets the same thread count (`KILN_NUM_THREADS`). Before timing, both multiplied A and B in all four transpose",
        "combinations, and the largest max|C_kiln - C_openblas| / max|C_openblas| is shown.",
        "",
        "| size | OpenBLAS threads | Kiln GFLOP/s | OpenBLAS GFLOP/s | Kiln / OpenBLAS | max relative error |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in matmul_sizes:
        for threads in matmul_threads:
            run = matmul[threads]
            kiln = next(r for r in run["results"] if r["engine"] == "kiln" and r["size"] == size)
            blas = next(r for r in run["results"] if r["engine"] == "openblas" and r["size"] == size)
            share = kiln["gflops"] / blas["gflops"]
            time_ratio = 1 / share
            row = f"Matmul {size}x{size}x{size} against OpenBLAS, {plural(threads)}: {time_ratio:.2f}x the time"
            (slower if time_ratio > 1 else faster).append(row)
            lines.append(f"| {size} | {threads} | {kiln['gflops']:.1f} | {blas['gflops']:.1f} | {share:.2f} | "
                         f"{run['max_relative_error'][str(size)]:.1e} |")
    return lines


PEAK_NAMES = {"openblas": "OpenBLAS `cblas_sgemm`", "kiln": "Kiln's `kiln_matmul`"}


def roofline_section(measured, matmul, matmul_sizes, peak, peak_engine, peak_size, bandwidth, peak_threads):
    """FLOPs, bytes and achieved GFLOP/s of every workload against the machine's two roofs."""
    lines = [
        "",
        "## Roofline",
        "",
        f"Measured peak: {peak:.1f} GFLOP/s, the fastest matmul of this run on {peak_threads} thread(s) "
        f"({PEAK_NAMES[peak_engine]} at {peak_size}x{peak_size}x{peak_size}; OpenBLAS reached "
        f"{max(matmul_gflops_of(matmul, peak_threads, 'openblas', size) for size in matmul_sizes):.1f}), the thread "
        "count Kiln's benchmarks run with (its default: the online CPUs, at most 8); on one thread OpenBLAS "
        f"reached {matmul_gflops_of(matmul, 1, 'openblas', max(matmul_sizes)):.1f} at the largest size. "
        f"Memory bandwidth: {bandwidth / 1e9:.1f} GB/s, a single-threaded",
        "triad `a[i] = b[i] + 3 c[i]` over three 64 MiB float32 arrays, counting 12 bytes per element (the",
        "write-allocate read of `a` is not counted), a lower bound of what all cores reach. FLOPs and bytes are counted as in the section above; for a matmul of size n, 2n^3 FLOPs and",
        "3n^2 float32 values. Roof = min(peak, FLOPs / bytes x bandwidth), and the term that sets it names",
        "the bound. A workload whose Kiln figure stays below "
        f"{OVERHEAD_FRACTION:.0%} of its roof is marked overhead-bound: neither",
        "arithmetic nor DRAM traffic limits it, and the time goes to fixed per-call and per-kernel costs",
        "or to kernels that run far from either roof. The bytes are a lower bound, so the memory roof is",
        "an upper bound on what the traffic allows. Best peer = the fastest peer and thread count.",
        "",
        "| workload | FLOPs | bytes | FLOPs / byte | roof GFLOP/s | Kiln GFLOP/s | Kiln % of roof | best peer GFLOP/s | bound |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    rows = []
    for key, entry in measured.items():
        if not entry["kiln"]:
            continue
        best_peer = min((p for p in entry["peers"] if p[1]), key=lambda p: p[1], default=None)
        rows.append((entry["title"], entry["flops"], entry["bytes"], gflops(entry["flops"], entry["kiln"]["us"]),
                     (best_peer[0], gflops(entry["flops"], best_peer[1])) if best_peer else None))
    for size in matmul_sizes:
        best_threads = max(matmul, key=lambda t: matmul_gflops_of(matmul, t, "openblas", size))
        rows.append((f"Matmul {size}x{size}x{size}", matmul_flops(size), matmul_bytes(size),
                     matmul_gflops_of(matmul, 1, "kiln", size),
                     (f"OpenBLAS, {plural(best_threads)}", matmul_gflops_of(matmul, best_threads, "openblas", size))))
    verdicts = {}
    for title, flop_count, byte_count, achieved, best_peer in rows:
        bound, term = roof(flop_count, byte_count, peak, bandwidth)
        verdicts[title] = (verdict(achieved, bound, term), achieved / bound)
        peer_cell = f"{best_peer[1]:.2f} ({best_peer[0]})" if best_peer else "n/a"
        lines.append(f"| {title} | {flop_count:,} | {byte_count:,} | {flop_count / byte_count:.1f} | {bound:.1f} | "
                     f"{achieved:.2f} | {achieved / bound:.1%} | {peer_cell} | {verdicts[title][0]} |")
    return lines, verdicts


def matmul_gflops_of(matmul, threads, engine, size):
    return next(r["gflops"] for r in matmul[threads]["results"] if r["engine"] == engine and r["size"] == size)


def best_peer_us(entry, prefix):
    times = [(name, us) for name, us, _ in entry["peers"] if us and name.startswith(prefix)]
    return min(times, key=lambda t: t[1]) if times else (None, None)


def targets_section(measured, verdicts, matmul, matmul_sizes, kiln_epoch, torch_epochs, jmh, result_dir, peak):
    """Checks the project's speed targets against this run's numbers and returns the table."""
    lines = [
        "",
        "## Targets",
        "",
        "Speed-ups are peer time / Kiln time against the fastest thread count of the peer; the matmul",
        "share is Kiln GFLOP/s / OpenBLAS GFLOP/s, both on one thread. Where a",
        "target is missed, the last column gives the measured numbers behind it from this page and, where",
        "run.sh profiled the workload, the largest shares of CPU samples from `perf record` over a short",
        "JMH run of Kiln alone (JVM start and warm-up included).",
        "",
        "| target | measured | met | cause where missed |",
        "| --- | --- | --- | --- |",
    ]
    overhead = measured["tiny_predict_b1"]["kiln"]["us"]

    def profile_text(key):
        shares = perf_shares(result_dir, key)
        return f" perf: {shares}." if shares else ""

    def speedup_row(target, key, prefix, goal):
        entry = measured[key]
        peer, peer_us = best_peer_us(entry, prefix)
        kiln_us = entry["kiln"]["us"]
        speedup = peer_us / kiln_us
        met = speedup >= goal
        bound, share = verdicts[entry["title"]]
        cause = "" if met else (
            f"Kiln takes {fmt_us(kiln_us)} µs per call against {fmt_us(peer_us)} µs; an empty Linear(1, 1) call takes "
            f"{fmt_us(overhead)} µs. The roofline marks the workload {bound}, with Kiln at {share:.1%} of its roof."
            + profile_text(key))
        lines.append(f"| {target} | {speedup:.2f}x ({peer}) | {'yes' if met else 'no'} | {cause} |")

    speedup_row("Predict, batch 1: >= 10x faster than ONNX Runtime Java", "reference_predict_b1", "ONNX Runtime", 10)
    speedup_row("Predict, batch 1: >= 60x faster than PyTorch", "reference_predict_b1", "PyTorch", 60)
    speedup_row("Predict, batch 1024: >= 1.5x faster than ONNX Runtime Java", "reference_predict_b1024", "ONNX Runtime", 1.5)
    speedup_row("Train step, batch 50: >= 10x faster than PyTorch", "reference_train_b50", "PyTorch", 10)

    kiln_mean = sum(kiln_epoch["epoch_seconds"]) / len(kiln_epoch["epoch_seconds"])
    fastest = min(torch_epochs, key=lambda run: sum(run["epoch_seconds"]) / len(run["epoch_seconds"]))
    torch_mean = sum(fastest["epoch_seconds"]) / len(fastest["epoch_seconds"])
    speedup = torch_mean / kiln_mean
    accuracy_gap = fastest["test_accuracy"] - kiln_epoch["test_accuracy"]
    equal_accuracy = accuracy_gap <= ACCURACY_TOLERANCE and kiln_epoch["epochs"] == fastest["epochs"]
    met = speedup >= 3 and equal_accuracy
    train = measured["fashion_train_b128"]
    peer, peer_us = best_peer_us(train, "PyTorch")
    bound, share = verdicts[train["title"]]
    # Three times the peer's epoch leaves a third of its time per step for the same FLOPs.
    needed = gflops(flops("fashion", 128, "train"), torch_mean / kiln_epoch["steps_per_epoch"] * 1e6 / 3)
    cause = "" if met else (
        f"Kiln's epoch takes {kiln_mean:.2f} s against {torch_mean:.2f} s; its 784-256-128-10 train step takes "
        f"{fmt_us(train['kiln']['us'])} µs against {fmt_us(peer_us)} µs ({peer}), {bound} at {share:.1%} of its roof."
        f" Three times PyTorch's epoch leaves {torch_mean / kiln_epoch['steps_per_epoch'] / 3 * 1e6:,.0f} µs per step, "
        f"{needed:.0f} GFLOP/s of matrix multiplies"
        + (f", above the machine's measured peak of {peak:.0f} GFLOP/s: the target cannot be met on this machine."
           if needed > peak else f", {needed / peak:.0%} of the machine's measured peak of {peak:.0f} GFLOP/s.")
        + f" {kiln_epoch['steps_per_epoch']} steps at the benchmark's step time take "
        f"{kiln_epoch['steps_per_epoch'] * train['kiln']['us'] / 1e6:.2f} s of Kiln's {kiln_mean:.2f} s epoch; the rest "
        "goes to batch assembly, the copy of each batch into native memory and the JVM's warm-up (the first epoch "
        f"took {kiln_epoch['epoch_seconds'][0]:.2f} s, the last {kiln_epoch['epoch_seconds'][-1]:.2f} s)."
        + profile_text("fashion_train_b128")
        + ("" if equal_accuracy else f" Kiln's test accuracy is {accuracy_gap:.4f} below PyTorch's."))
    lines.append(
        f"| Fashion-MNIST epoch: >= 3x faster than PyTorch at equal accuracy (within {ACCURACY_TOLERANCE}) after "
        f"equal epochs | {speedup:.2f}x (PyTorch, {plural(fastest['threads'])}); accuracy {kiln_epoch['test_accuracy']:.4f} "
        f"against {fastest['test_accuracy']:.4f} after {kiln_epoch['epochs']} epochs | {'yes' if met else 'no'} | {cause} |")

    for size in matmul_sizes:
        kiln = matmul_gflops_of(matmul, 1, "kiln", size)
        blas = matmul_gflops_of(matmul, 1, "openblas", size)
        met = kiln >= 0.8 * blas
        cause = "" if met else (f"Kiln reaches {kiln:.1f} GFLOP/s against OpenBLAS's {blas:.1f} on the same thread count; "
                                "both are compute-bound by the roofline.")
        lines.append(f"| Matmul {size}x{size}x{size}: >= 80% of OpenBLAS sgemm | {kiln / blas:.0%} "
                     f"({kiln:.1f} against {blas:.1f} GFLOP/s) | {'yes' if met else 'no'} | {cause} |")

    kiln_rows = [r for r in jmh if r["benchmark"] in KILN_BENCHMARKS]
    # Heap bytes per JMH iteration. When they stay alike for calls of very different lengths, the
    # allocation happens once per iteration, not once per call.
    per_iteration = [r["bytes_per_op"] * r["iteration_us"] / r["us"] for r in kiln_rows if r["bytes_per_op"] is not None]
    worst_jmh = max(r["bytes_per_op"] or 0 for r in kiln_rows)
    check_path = os.path.join(result_dir, "allocation.json")
    checks = json.load(open(check_path))["results"] if os.path.exists(check_path) else []
    if checks:
        # AllocationCheck counts the calling thread's heap bytes over n and over 2n calls, so
        # what the measurement itself allocates cancels out.
        allocating = [c for c in checks if abs(c["bytes_per_call"]) >= 0.5]
        met = not allocating
        measured_cell = (f"largest {max(c['bytes_per_call'] for c in checks):.2f} B per call over "
                         f"{len(checks)} workloads (AllocationCheck); JMH: largest {worst_jmh:.0f} B/op")
        cause = "" if met else "; ".join(f"{c['workload']}: {c['bytes_per_call']:.1f} B per call" for c in allocating)
        if per_iteration:
            note = (f" JMH's B/op times calls per iteration is {min(per_iteration):,.0f} to "
                    f"{max(per_iteration):,.0f} bytes per iteration: JMH's own bytes, spread over the calls.")
            cause = (cause + note) if not met else note.strip()
    else:
        allocating = [r for r in kiln_rows if r["bytes_per_op"] is None or round(r["bytes_per_op"]) != 0]
        met = not allocating
        measured_cell = f"largest {worst_jmh:.0f} B/op over {len(kiln_rows)} Kiln benchmarks"
        cause = "" if met else "AllocationCheck did not run; JMH's B/op includes its per-iteration bytes."
    lines.append(f"| Zero JVM heap allocation per predict and per train step | {measured_cell} | "
                 f"{'yes' if met else 'no'} | {cause} |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result_dir")
    parser.add_argument("output_md")
    parser.add_argument("--command", required=True, help="the command that produced the results")
    args = parser.parse_args()

    env = json.load(open(os.path.join(args.result_dir, "environment.json")))
    jmh = load_jmh(os.path.join(args.result_dir, "jmh.json"))
    torch_run = json.load(open(os.path.join(args.result_dir, "torch.json")))
    torch_times = {(r["workload"], r["threads"]): r["seconds_per_call"] * 1e6 for r in torch_run["results"]}
    torch_threads = sorted({r["threads"] for r in torch_run["results"]})
    onnx_threads = sorted({int(r["params"]["threads"]) for r in jmh if r["benchmark"] == ONNX_BENCHMARK})
    matmul = {}
    for path in glob.glob(os.path.join(args.result_dir, "matmul_t*.json")):
        run = json.load(open(path))
        matmul[run["openblas_threads"]] = run
    matmul_threads = sorted(matmul)
    matmul_sizes = [r["size"] for r in matmul[matmul_threads[0]]["results"] if r["engine"] == "kiln"]

    # The compute roof is the fastest matmul of either engine, at any size, on the most threads
    # measured (Kiln's default pool size on machines of up to 8 cores). OpenBLAS alone measured 171
    # to 198 GFLOP/s across runs on a 2-core EPYC while Kiln reached 205, and a roof below a
    # measured rate would call that rate impossible.
    peak_threads = max(matmul_threads)
    peak_engine, peak_size = max(((engine, size) for engine in ("openblas", "kiln") for size in matmul_sizes),
                                 key=lambda key: matmul_gflops_of(matmul, peak_threads, key[0], key[1]))
    peak = matmul_gflops_of(matmul, peak_threads, peak_engine, peak_size)
    bandwidth = matmul[1]["triad_bytes_per_second"]

    lines = ["# Kiln benchmark results", ""]
    lines += [
        f"Measured on {env['date']} by `{args.command}` (from the repository root).", "",
        "| | |", "| --- | --- |",
        f"| CPU | {env['cpu_model']} ({env['cpuinfo_processors']} processors in /proc/cpuinfo, "
        f"{env['nproc']} available to the run, per `nproc`) |",
        f"| JDK | {env['java_version']} |",
        f"| C compiler | {env['cc_version']}, Kiln's default flags `-O3 -fno-trapping-math -fno-math-errno -std=c11 -ffp-contract=fast -fopenmp-simd -pthread -Wno-psabi -fPIC -shared` |",
        f"| PyTorch | {torch_run['torch_version']} (Debian python3-torch), BLAS: "
        f"{', '.join(os.path.basename(b) for b in torch_run['blas']) or 'none found'}; "
        f"OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, OMP_WAIT_POLICY=PASSIVE |",
        f"| ONNX Runtime | Java API {env['onnxruntime_version']} (Maven Central), CPU execution provider, "
        f"all graph optimizations |",
        f"| JMH | {env['jmh_settings']}, average time, `-prof gc` |",
        f"| Load average | {env['load_before']} before the run, {env['load_after']} after it (1, 5 and 15 minutes). "
        f"Other processes on the machine take CPU time from the benchmarks when the load nears the core count |",
        f"| Threads | Kiln: online CPUs capped at 8 (KILN_NUM_THREADS unset), matmul benchmark 1, 2 (KILN_NUM_THREADS). PyTorch: "
        f"{', '.join(map(str, torch_threads))}, set with torch.set_num_threads and openblas_set_num_threads. ONNX Runtime: intra-op threads {', '.join(map(str, onnx_threads))}. "
        f"OpenBLAS sgemm: {', '.join(map(str, matmul_threads))} (OPENBLAS_NUM_THREADS) |",
        f"| OpenBLAS | {matmul[1]['openblas_config']}, core {matmul[1]['openblas_core']} (Debian libopenblas0-pthread) |",
        "",
        "Every engine runs on the same weights: `CompiledXxx(42)` from Kiln, saved with `model.save(...)`,",
        "loaded by PyTorch from the safetensors file and exported by `torch.onnx.export` (the tied layer",
        "unrolled nine times) for ONNX Runtime. Before timing, PyTorch reproduced Kiln's outputs and the",
        "losses of 5 Adam steps (largest differences: "
        + ", ".join(f"{k} {v:.1e}" for k, v in torch_run["checks"].items())
        + "), and the ONNX Runtime benchmark checked its outputs against Kiln's to 1e-4.",
        "",
        "## Time per call",
        "",
        "Times are microseconds per call. Kiln's figure is JMH's mean with its 99.9% error; the",
        "PyTorch figure is the median of 5 rounds of `time.perf_counter` over many calls after a warm-up.",
        "B/op is JMH's `gc.alloc.rate.norm`: Java heap bytes allocated per call (native memory is not",
        "counted). Ratio = Kiln time / peer time: above 1 means Kiln is slower.",
        "",
        "| workload | Kiln µs | ± | Kiln B/op | peer | peer µs | peer B/op | ratio |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    slower, faster = [], []
    measured = {}
    for key, title, model, batch, kind, benchmark, params in WORKLOADS:
        kiln = find_jmh(jmh, benchmark, params)
        peers = [(f"PyTorch, {t} thread{'s' if t > 1 else ''}", torch_times.get((key, t)), None) for t in torch_threads]
        if kind == "predict" and model == "reference":
            for t in onnx_threads:
                row = find_jmh(jmh, ONNX_BENCHMARK, {"batch": str(batch), "threads": str(t)})
                if row:
                    peers.append((f"ONNX Runtime, {t} thread{'s' if t > 1 else ''}", row["us"], row["bytes_per_op"]))
        measured[key] = {"title": title, "kiln": kiln, "peers": peers, "flops": flops(model, batch, kind),
                         "bytes": compulsory_bytes(model, batch, kind)}
        for peer, peer_us, peer_bytes in peers:
            ratio = kiln["us"] / peer_us if kiln and peer_us else None
            if ratio and ratio > 1:
                slower.append(f"{title} against {peer}: {ratio:.1f}x the time")
            elif ratio:
                faster.append(f"{title} against {peer}: {ratio:.2f}x the time")
            lines.append(
                f"| {title} | {fmt_us(kiln['us']) if kiln else 'n/a'} | {fmt_error(kiln['error_us']) if kiln else ''} | "
                f"{kiln['bytes_per_op']:.0f} | {peer} | {fmt_us(peer_us)} | "
                f"{'' if peer_bytes is None else f'{peer_bytes:.0f}'} | {'n/a' if ratio is None else f'{ratio:.2f}'} |")

    lines += [
        "",
        "## Work per call",
        "",
        "FLOPs count matrix multiplies only (a multiply-add is 2 FLOPs): the forward pass, and for a",
        "training step also the weight gradients and the input gradients of every layer but the first.",
        "Bias adds, activations, the loss and the Adam update are left out. Bytes are the compulsory",
        "traffic, each tensor read or written once as float32: parameters, inputs and outputs for",
        "predict; parameters and both Adam moments read and written, inputs and int32 labels for a",
        "training step. Real traffic is higher. GFLOP/s = FLOPs / time per call.",
        "",
        "| workload | FLOPs | bytes | Kiln GFLOP/s | " + " | ".join(f"PyTorch {t}T GFLOP/s" for t in torch_threads)
        + " | " + " | ".join(f"ONNX Runtime {t}T GFLOP/s" for t in onnx_threads) + " |",
        "| --- | ---: | ---: | ---: |" + " ---: |" * (len(torch_threads) + len(onnx_threads)),
    ]
    for key, title, model, batch, kind, benchmark, params in WORKLOADS:
        flop_count = flops(model, batch, kind)
        kiln = find_jmh(jmh, benchmark, params)
        cells = [f"{gflops(flop_count, kiln['us']):.2f}" if kiln else "n/a"]
        for t in torch_threads:
            us = torch_times.get((key, t))
            cells.append(f"{gflops(flop_count, us):.2f}" if us else "n/a")
        for t in onnx_threads:
            row = find_jmh(jmh, ONNX_BENCHMARK, {"batch": str(batch), "threads": str(t)}) \
                if kind == "predict" and model == "reference" else None
            cells.append(f"{gflops(flop_count, row['us']):.2f}" if row else "")
        lines.append(f"| {title} | {flop_count:,} | {compulsory_bytes(model, batch, kind):,} | " + " | ".join(cells) + " |")

    kiln_epoch = json.load(open(os.path.join(args.result_dir, "kiln_epoch.json")))
    torch_epochs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(args.result_dir, "torch_epoch_t*.json")))]
    kiln_mean = sum(kiln_epoch["epoch_seconds"]) / len(kiln_epoch["epoch_seconds"])
    lines += [
        "",
        "## Fashion-MNIST epoch",
        "",
        f"The 784-256-128-10 ReLU network on the 60,000 training images of Debian's dataset-fashion-mnist,",
        f"batch {kiln_epoch['batch']} ({kiln_epoch['steps_per_epoch']} steps per epoch, the last partial batch dropped),",
        "Adam with lr 1e-3, pixels divided by 255, shuffled every epoch, from the same initial weights.",
        "Each engine shuffles with its own generator, so the batches differ. The epoch time covers",
        "batch assembly and the training steps. Accuracy is on the 10,000 test images after the last epoch.",
        "",
        "| engine | threads | seconds per epoch | mean | test accuracy | Kiln / engine time |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
        f"| Kiln | {min(int(env['nproc']), 8)} | {', '.join(f'{s:.2f}' for s in kiln_epoch['epoch_seconds'])} | {kiln_mean:.2f} | "
        f"{kiln_epoch['test_accuracy']:.4f} after {kiln_epoch['epochs']} epochs | 1.00 |",
    ]
    for run in torch_epochs:
        mean = sum(run["epoch_seconds"]) / len(run["epoch_seconds"])
        ratio = kiln_mean / mean
        row = f"Fashion-MNIST epoch against PyTorch, {run['threads']} thread(s): {ratio:.2f}x the time"
        (slower if ratio > 1 else faster).append(row)
        lines.append(f"| PyTorch | {run['threads']} | {', '.join(f'{s:.2f}' for s in run['epoch_seconds'])} | "
                     f"{mean:.2f} | {run['test_accuracy']:.4f} after {run['epochs']} epochs | {ratio:.2f} |")

    lines += matmul_section(matmul, matmul_threads, matmul_sizes, slower, faster)
    roofline_lines, verdicts = roofline_section(measured, matmul, matmul_sizes, peak, peak_engine, peak_size, bandwidth,
                                             peak_threads)
    lines += roofline_lines
    lines += targets_section(measured, verdicts, matmul, matmul_sizes, kiln_epoch, torch_epochs, jmh, args.result_dir, peak)
    lines += [
        "",
        "## Where Kiln is slower",
        "",
        "The generated C runs large matmuls through a packed, register-blocked kernel (AVX-512 or AVX2 with FMA",
        "where the CPU has them) and small ones through kernels specialized to their shapes, each fused with the",
        "bias and activation that follow it; it fuses elementwise loops and splits large kernels over a thread pool,",
        "compiled with `-O3`.",
        "In this run Kiln took longer than the peer in these rows:",
        "",
    ]
    lines += [f"- {row}" for row in slower] or ["- none"]
    lines += ["", "Kiln took less time than the peer in these rows:", ""]
    lines += [f"- {row}" for row in faster] or ["- none"]
    lines += [
        "",
        f"Kiln's fixed cost of a call, one FFM downcall with its input checks and copies, is the empty",
        f"Linear(1, 1) predict: {fmt_us(measured['tiny_predict_b1']['kiln']['us'])} µs, against "
        f"{fmt_us(measured['reference_predict_b1']['kiln']['us'])} µs for a batch-1 predict of the reference MLP.",
        "For PyTorch the fixed cost is the Python interpreter and the operator dispatcher, for ONNX",
        "Runtime the Java tensor objects and the session run.",
        "",
    ]
    with open(args.output_md, "w") as out:
        out.write("\n".join(lines))


if __name__ == "__main__":
    main()
