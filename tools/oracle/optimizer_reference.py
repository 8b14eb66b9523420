#!/usr/bin/python3
"""Print PyTorch reference numbers for Kiln's AdamW, RMSprop, gradient clipping and LR schedules.

The optimizer runs update one Linear(3, 3) layer (weight [3, 3] then bias [3], flattened in that
order) for five steps from fixed parameters with fixed gradients, both float32 values written as
closed formulas so that the Java tests can rebuild them exactly:

  parameter element k (0..11)           0.3 cos(0.9 k + 0.4)
  gradient element k (0..11) at step t  0.5 sin(1.3 k + 0.7 t) + 0.05 t

Optimizer arithmetic runs in float64 on these values. The schedules print the learning rate of
epochs 0 to 10 for StepLR and CosineAnnealingLR, each driven by scheduler.step() once per epoch.

The output is Java array text for the test constants in
ffi-runtime/src/test/java/dev/kiln/runtime/PyTorchOptimizerParityTest.java and
nn/src/test/java/dev/kiln/nn/LrSchedulerTest.java.

Run: /usr/bin/python3 tools/oracle/optimizer_reference.py
Written with PyTorch 1.13.
"""

import math

import numpy as np
import torch

STEPS = 5
ELEMENTS = 12


def as_float32(values):
    return torch.tensor(np.array(values, dtype=np.float32), dtype=torch.float64)


def initial_parameters():
    flat = as_float32([0.3 * math.cos(0.9 * k + 0.4) for k in range(ELEMENTS)])
    return [flat[:9].reshape(3, 3).clone().requires_grad_(), flat[9:].clone().requires_grad_()]


def gradients(step):
    flat = as_float32([0.5 * math.sin(1.3 * k + 0.7 * step) + 0.05 * step for k in range(ELEMENTS)])
    return [flat[:9].reshape(3, 3), flat[9:]]


def run(make_optimizer, max_norm=None):
    params = initial_parameters()
    optimizer = make_optimizer(params)
    for step in range(1, STEPS + 1):
        for p, g in zip(params, gradients(step)):
            p.grad = g.clone()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, max_norm)
        optimizer.step()
    return torch.cat([p.detach().reshape(-1) for p in params]).tolist()


def java_array(name, values):
    body = ", ".join(repr(float(v)) for v in values)
    return "    private static final double[] %s = {%s};" % (name, body)


def schedule(make_scheduler, epochs=10):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = make_scheduler(optimizer)
    lrs = [optimizer.param_groups[0]["lr"]]
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        lrs.append(optimizer.param_groups[0]["lr"])
    return lrs


def main():
    print(java_array("ADAMW_CLIPPED", run(
        lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.05),
        max_norm=1.0)))
    print(java_array("ADAMW_DEFAULTS", run(lambda p: torch.optim.AdamW(p, lr=0.01))))
    print(java_array("RMSPROP_DEFAULTS", run(lambda p: torch.optim.RMSprop(p, lr=0.01))))
    print(java_array("RMSPROP_CENTERED_MOMENTUM", run(
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01,
                                      momentum=0.5, centered=True))))
    print(java_array("SGD_CLIPPED", run(lambda p: torch.optim.SGD(p, lr=0.1), max_norm=0.5)))
    print(java_array("STEP_LR", schedule(
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5))))
    print(java_array("COSINE_LR", schedule(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.001))))


if __name__ == "__main__":
    main()
