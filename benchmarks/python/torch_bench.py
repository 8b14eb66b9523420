#!/usr/bin/python3
"""Time PyTorch on the workloads of Kiln's JMH benchmarks, and export the reference MLP to ONNX.

Reads the weights and check data that dev.kiln.benchmarks.ExportWeights wrote and checks that
PyTorch reproduces Kiln's outputs and Adam losses on them. A mismatch stops the run. Then it
times each workload at each requested thread count with time.perf_counter: a warm-up, then
several rounds of many calls. It reports the mean time per call of the median round.

Run: /usr/bin/python3 benchmarks/python/torch_bench.py WEIGHTS_DIR RESULT_JSON ONNX_OUT [--threads 1 2]
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
from torch import nn

from kiln_weights import FashionMlp, ReferenceMlp, TinyLinear, load_model, loaded_blas, read_safetensors, set_threads

ADAM_LR = 1e-3
ROUNDS = 5
ROUND_SECONDS = 0.4
WARMUP_SECONDS = 0.5
OUTPUT_TOLERANCE = 1e-4
LOSS_TOLERANCE = 1e-4


def time_call(function):
    """Return the mean seconds per call of the median of ROUNDS timed rounds."""
    start = time.perf_counter()
    calls = 0
    while time.perf_counter() - start < WARMUP_SECONDS:
        function()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    calls_per_round = max(1, int(ROUND_SECONDS / per_call))
    means = []
    for _ in range(ROUNDS):
        begin = time.perf_counter()
        for _ in range(calls_per_round):
            function()
        means.append((time.perf_counter() - begin) / calls_per_round)
    return {"seconds_per_call": statistics.median(means), "min_seconds_per_call": min(means),
            "max_seconds_per_call": max(means), "calls_per_round": calls_per_round, "rounds": ROUNDS}


def check_outputs(name, model, check):
    with torch.no_grad():
        actual = model(check[f"{name}.predict_x"])
    difference = (actual - check[f"{name}.predict_y"]).abs().max().item()
    if not difference <= OUTPUT_TOLERANCE:
        sys.exit(f"PyTorch's {name} outputs differ from Kiln's by {difference} (tolerance {OUTPUT_TOLERANCE});"
                 " the weights were not loaded right")
    return difference


def check_losses(name, model_class, weights, check):
    """Run Kiln's recorded Adam steps from the initial weights and compare every loss."""
    model = load_model(model_class(), weights)
    optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LR)
    x = check[f"{name}.train_x"]
    y = check[f"{name}.train_labels"].long()
    expected = check[f"{name}.train_losses"]
    worst = 0.0
    for step, kiln_loss in enumerate(expected.tolist()):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        difference = abs(loss.item() - kiln_loss)
        worst = max(worst, difference)
        if not difference <= LOSS_TOLERANCE * max(1.0, abs(kiln_loss)):
            sys.exit(f"PyTorch's {name} loss at Adam step {step} is {loss.item()}, Kiln's is {kiln_loss}")
    return worst


def predict_workload(model, x):
    def run():
        with torch.no_grad():
            model(x)
    return run


def train_workload(model, x, y):
    optimizer = torch.optim.Adam(model.parameters(), lr=ADAM_LR)

    def run():
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return run


def export_onnx(weights, path):
    model = load_model(ReferenceMlp(), weights).eval()
    torch.onnx.export(model, torch.zeros(1, 13), path, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights_dir", help="folder written by dev.kiln.benchmarks.ExportWeights")
    parser.add_argument("result_json", help="where to write the timings")
    parser.add_argument("onnx_out", help="where to write the ONNX export of the reference MLP")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts, each set for PyTorch and OpenBLAS")
    args = parser.parse_args()

    reference_weights = os.path.join(args.weights_dir, "reference_mlp.safetensors")
    fashion_weights = os.path.join(args.weights_dir, "fashion_mlp.safetensors")
    tiny_weights = os.path.join(args.weights_dir, "tiny_linear.safetensors")
    check, _ = read_safetensors(os.path.join(args.weights_dir, "kiln_check.safetensors"))

    set_threads(1)
    checks = {
        "reference_output_max_abs_difference": check_outputs("reference", load_model(ReferenceMlp(), reference_weights), check),
        "fashion_output_max_abs_difference": check_outputs("fashion", load_model(FashionMlp(), fashion_weights), check),
        "tiny_output_max_abs_difference": check_outputs("tiny", load_model(TinyLinear(), tiny_weights), check),
        "reference_adam_loss_max_abs_difference": check_losses("reference", ReferenceMlp, reference_weights, check),
        "fashion_adam_loss_max_abs_difference": check_losses("fashion", FashionMlp, fashion_weights, check),
    }
    print("PyTorch matches Kiln:", json.dumps(checks))
    export_onnx(reference_weights, args.onnx_out)

    reference_x = check["reference.predict_x"]
    results = []
    for threads in args.threads:
        set_threads(threads)
        workloads = {
            "reference_predict_b1": predict_workload(load_model(ReferenceMlp(), reference_weights), reference_x[:1].clone()),
            "reference_predict_b1024": predict_workload(load_model(ReferenceMlp(), reference_weights), reference_x),
            "reference_train_b50": train_workload(load_model(ReferenceMlp(), reference_weights),
                                                  check["reference.train_x"], check["reference.train_labels"].long()),
            "fashion_train_b128": train_workload(load_model(FashionMlp(), fashion_weights),
                                                 check["fashion.train_x"], check["fashion.train_labels"].long()),
            "tiny_predict_b1": predict_workload(load_model(TinyLinear(), tiny_weights), check["tiny.predict_x"]),
        }
        for name, function in workloads.items():
            timing = time_call(function)
            timing.update({"workload": name, "threads": threads})
            results.append(timing)
            print(f"torch {threads} thread(s) {name}: {timing['seconds_per_call'] * 1e6:.2f} us/call")

    with open(args.result_json, "w") as out:
        json.dump({"torch_version": torch.__version__, "blas": loaded_blas(),
                   "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
                   "checks": checks, "results": results}, out, indent=1)


if __name__ == "__main__":
    main()
