#!/usr/bin/python3
"""Print PyTorch reference values and gradients of the losses Kiln builds as IR.

Each loss runs in float64 with reduction "mean" on the scores and targets below (batch 2,
3 outputs per sample). The output is Java array text for the constants of
ir/src/test/java/dev/kiln/ir/LossTest.java: the loss, then d loss / d scores row-major.

Run: /usr/bin/python3 tools/oracle/loss_reference.py
Written with PyTorch 1.13.
"""

import torch
import torch.nn.functional as F

SCORES = [[0.5, -1.25, 2.0], [-0.3, 0.8, -2.2]]
TARGETS = [[1.0, 0.0, 0.25], [0.0, 0.6, 1.0]]
PROBABILITIES = [[0.2, 0.3, 0.5], [0.7, 0.0, 0.3]]
CLASSES = [2, 0]


def case(name, loss_of_scores):
    scores = torch.tensor(SCORES, dtype=torch.float64, requires_grad=True)
    loss = loss_of_scores(scores)
    loss.backward()
    values = [loss.item()] + scores.grad.reshape(-1).tolist()
    print("    private static final double[] %s = {%s};" % (name, ", ".join(repr(v) for v in values)))


def main():
    targets = torch.tensor(TARGETS, dtype=torch.float64)
    probabilities = torch.tensor(PROBABILITIES, dtype=torch.float64)
    classes = torch.tensor(CLASSES)
    case("L1", lambda s: F.l1_loss(s, targets))
    case("HUBER", lambda s: F.huber_loss(s, targets, delta=1.0))
    case("BCE_WITH_LOGITS", lambda s: F.binary_cross_entropy_with_logits(s, targets))
    case("SOFT_CROSS_ENTROPY", lambda s: F.cross_entropy(s, probabilities))
    case("NLL", lambda s: F.nll_loss(s, classes))
    case("CROSS_ENTROPY", lambda s: F.cross_entropy(s, classes))
    case("MSE", lambda s: F.mse_loss(s, targets))


if __name__ == "__main__":
    main()
