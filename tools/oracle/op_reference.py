#!/usr/bin/python3
"""Write PyTorch reference values, VJPs and Hessian-vector products of every IR op.

For each op of the table OPS this script writes one JSON file, <op>.json, to
ir/src/test/resources/oracle/ (or --output-dir), and index.json, the sorted list of op names. Each file contains a list of cases: the
operands at seeded random points and at special points (signed zeros, +-1, very small and
very large values, saturation, ties), and for each case, in float64:

  value  op(x1, ..., xn)
  grad   for each differentiable operand xi, d/dxi sum(w * op(...)): the VJP of the
         cotangent w
  hvp    for each differentiable operand xj, d/dxj sum_i sum(v_i * grad_i): a
         Hessian-vector product in the direction v

w and the v_i are seeded random tensors. Every operand, cotangent and direction is rounded
to float32 before the float64 computation, so that float32 code sees exactly the same
inputs as the float64 reference.

Special points outside an op's domain are not evaluated; each file lists them under
"skipped" with the reason. Cases labelled "special, value only" hold the value alone, at
points where PyTorch's derivatives are NaN.

An operand marked "batched" has Kiln's batch axis as axis 0, and the case runs at a batch
of that extent.

Adding an op is adding one entry to OPS, and the matching entry to the Java op table in
ir/src/test/java/dev/kiln/ir/oracle/OracleOps.java.

Run: /usr/bin/python3 tools/oracle/op_reference.py
Written with PyTorch 1.13.
"""

import argparse
import json
import pathlib
import sys
import zlib

import torch
import torch.nn.functional as F

COMMAND = "/usr/bin/python3 tools/oracle/op_reference.py"
DEFAULT_OUTPUT = pathlib.Path(__file__).resolve().parents[2] / "ir/src/test/resources/oracle"

# Special points of the unary elementwise ops; each op keeps those inside its domain.
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 10.0, -10.0, 1e-30, -1e-30,
           1e-3, -1e-3, 20.0, -20.0, 21.0, 30.0, 80.0, -80.0, 100.0, -100.0, 1e3, -1e3]

# Pairs of the binary elementwise ops: ties, signed zeros, extremes and ordinary values.
SPECIAL_PAIRS = [(0.0, 0.0), (0.0, -0.0), (-0.0, 0.0), (1.0, 1.0), (-1.0, -1.0), (1e3, 1e3),
                 (1.0, 2.0), (2.0, 1.0), (-1e-30, 1e-30), (1e-30, 1e-30), (1e3, -1e3),
                 (-100.0, 100.0), (0.5, -3.0), (-20.0, 80.0), (3.0, 1e-3)]


class Operand:
    """An operand of an op: its name, a generator of random values, and its kind.

    kind is "float" or "probabilities" (differentiated; probabilities are rows of a
    softmax), "constant" (a float that is not differentiated, as the operands of a
    comparison), "condition" (0 or 1, not differentiated) or "index" (int class indices,
    passed to Kiln as i32).

    batched marks an operand whose axis 0 is Kiln's batch axis, whose extent is given at
    call time. The losses read axis 0 of their operands as the batch without this mark.
    """

    def __init__(self, name, low=-3.0, high=3.0, kind="float", classes=None, batched=False):
        self.name = name
        self.low = low
        self.high = high
        self.kind = kind
        self.classes = classes
        self.batched = batched

    def random(self, shape, generator):
        if self.kind == "index":
            return torch.randint(0, self.classes, shape, generator=generator).double()
        if self.kind == "condition":
            return torch.randint(0, 2, shape, generator=generator).double()
        if self.kind == "probabilities":
            logits = torch.randn(shape, generator=generator, dtype=torch.float64)
            return torch.softmax(logits, dim=-1)
        uniform = torch.rand(shape, generator=generator, dtype=torch.float64)
        return self.low + (self.high - self.low) * uniform

    @property
    def differentiable(self):
        return self.kind in ("float", "probabilities")


class Op:
    """One table entry: the op's name, family, attributes and the PyTorch function.

    shapes lists the operand shapes of each random case; special lists the special cases,
    each a tuple of per-operand value lists (a flat list, or nested lists for rank > 1).
    domain(values) returns None for a special case inside the op's domain, else the reason
    it is skipped. value_only lists special cases whose derivatives are NaN (0/0 or
    inf - inf), which no convention fixes, so their files keep the value and no VJP or
    Hessian-vector product.
    """

    def __init__(self, name, family, function, operands, shapes, special=(), attributes=None,
                 domain=None, note=None, value_only=()):
        self.name = name
        self.family = family
        self.function = function
        self.operands = operands
        self.shapes = shapes
        self.special = list(special)
        self.attributes = attributes or {}
        self.domain = domain or (lambda values: None)
        self.note = note
        self.value_only = list(value_only)


# ---- table helpers --------------------------------------------------------------------------

def unary(name, function, low=-3.0, high=3.0, domain=None, attributes=None, note=None):
    keep = domain or (lambda x: True)
    special = [([x],) for x in SPECIAL]

    def outside(values):
        return None if keep(values[0][0]) else "outside the domain of " + name
    return Op(name, "elementwise", function, [Operand("x", low, high)], [[(3, 4)]],
              special=[tuple(v) for v in special], attributes=attributes, domain=outside, note=note)


def binary(name, function, low=(-3.0, -3.0), high=(3.0, 3.0), pairs=SPECIAL_PAIRS, kind="float",
           domain=None, attributes=None, note=None):
    operands = [Operand("a", low[0], high[0], kind), Operand("b", low[1], high[1], kind)]
    keep = domain or (lambda a, b: True)

    def outside(values):
        return None if keep(values[0][0], values[1][0]) else "outside the domain of " + name
    return Op(name, "elementwise", function, operands, [[(3, 4), (3, 4)], [(3, 1), (4,)]],
              special=[([a], [b]) for a, b in pairs], attributes=attributes, domain=outside, note=note)


def scalar_pow(exponent, domain):
    return unary("pow_scalar", lambda x: torch.pow(x, exponent), low=0.2, high=3.0,
                 domain=domain, attributes={"exponent": exponent})


def matmul(transpose_a, transpose_b):
    m, k, n = 3, 4, 2

    def function(a, b):
        left = a.t() if transpose_a else a
        right = b.t() if transpose_b else b
        return left @ right
    shape_a = (k, m) if transpose_a else (m, k)
    shape_b = (n, k) if transpose_b else (k, n)

    def special_values(shape, values):
        rows, columns = shape
        return [[values[(r * columns + c) % len(values)] for c in range(columns)] for r in range(rows)]
    extremes = [0.0, -0.0, 1e3, -1e-30, 1.0, -1.0, 1e-30, 100.0, -2.0, 0.5, 3.0]
    exact = [1.0, 2.0, -3.0, 0.0, 4.0]
    special = [(special_values(shape_a, extremes), special_values(shape_b, exact))]
    return Op("matmul", "matmul", function, [Operand("a"), Operand("b")], [[shape_a, shape_b]],
              special=special, attributes={"transpose_a": transpose_a, "transpose_b": transpose_b})


def row(name, function):
    special = [([[0.0, 0.0, 0.0, 0.0], [1e3, 0.0, -1e3, 5.0], [100.0, 100.0, 100.0, -100.0],
                 [-20.0, 20.0, 1e-30, -1e-30]],)]
    return Op(name, "row", function, [Operand("x")], [[(3, 5)], [(2, 2, 3)]], special=special)


def reduction(name, function, shapes, attributes=None):
    return Op(name, "reduce", function, [Operand("x")], shapes, attributes=attributes)


def loss(name, function, target_kind, special):
    classes = 3
    target = {
        "float": Operand("target", -2.0, 2.0),
        "binary": Operand("target", 0.0, 1.0),
        "probabilities": Operand("target", kind="probabilities"),
        "index": Operand("labels", kind="index", classes=classes),
    }[target_kind]
    shapes = [(4, classes), (4,) if target_kind == "index" else (4, classes)]
    return Op(name, "loss", function, [Operand("input", -3.0, 3.0), target], [shapes],
              special=special, attributes={"reduction": "mean"})


def leaky_relu(alpha):
    return unary("leaky_relu", lambda x: F.leaky_relu(x, alpha), attributes={"alpha": alpha})


def elu(alpha):
    return unary("elu", lambda x: F.elu(x, alpha), attributes={"alpha": alpha})


def comparison(name, function):
    return binary(name, lambda a, b: function(a, b).double(), kind="constant")


def positive(x):
    return x > 0


# Special cases of the losses: ties of L1 and Huber (d = 0), the Huber boundary |d| = 1,
# saturated logits, and large scores.
REGRESSION_SPECIAL = [([[0.0, 1.0, -1.0], [2.0, -2.0, 1e3], [1e-30, 0.5, -0.5], [3.0, -0.0, 100.0]],
                       [[0.0, 0.0, 0.0], [1.0, -1.0, -1e3], [0.0, 0.5, 0.5], [1.5, 0.0, -100.0]])]
LOGIT_SPECIAL = [([[0.0, 20.0, -20.0], [100.0, -100.0, 1e3], [-1e3, 1e-30, 2.0], [80.0, -80.0, 0.5]],
                  [[0.5, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.5, 1.0], [1.0, 0.0, 0.25]])]
CLASS_SPECIAL = [([[0.0, 0.0, 0.0], [1e3, 0.0, -1e3], [100.0, 100.0, -100.0], [-20.0, 20.0, 1e-30]],
                  [0.0, 2.0, 1.0, 0.0])]
SOFT_SPECIAL = [([[0.0, 0.0, 0.0], [1e3, 0.0, -1e3], [100.0, 100.0, -100.0], [-20.0, 20.0, 1e-30]],
                 [[1.0, 0.0, 0.0], [0.25, 0.5, 0.25], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])]


def huber(input, target):
    return F.huber_loss(input, target, delta=1.0)


def soft_cross_entropy(input, target):
    return F.cross_entropy(input, target)


def where(condition, a, b):
    return torch.where(condition != 0, a, b)


def clamp(x, low, high):
    return torch.clamp(x, low, high)


# ---- layout ops, reductions over axes and batched matmul -------------------------------------

def layout(name, function, shapes, attributes, batched=False):
    """Build a layout op of one operand x, whose axis 0 is the batch axis where batched is set."""
    return Op(name, "layout", function, [Operand("x", batched=batched)], shapes, attributes=attributes)


def permute(axes, shape, batched=False):
    return layout("permute", lambda x: x.permute(*axes), [[shape]], {"axes": list(axes)}, batched)


def transpose(first, second, shape, batched=False):
    return layout("transpose", lambda x: x.transpose(first, second), [[shape]], {"dims": [first, second]}, batched)


def reshape(shape, target, batched=False, function=None):
    """Build x.reshape(target), or function(x) for a flatten. A batched x keeps its batch axis."""
    return layout("reshape", function or (lambda x: x.reshape(target)), [[shape]], {"shape": list(target)}, batched)


def slice_(axis, start, stop, step, shape, batched=False):
    def function(x):
        index = [slice(None)] * x.dim()
        index[axis] = slice(start, stop, step)
        return x[tuple(index)]
    return layout("slice", function, [[shape]], {"axis": axis, "start": start, "stop": stop, "step": step}, batched)


def concat(axis, shapes, batched=False):
    operands = [Operand(name, batched=batched) for name in "abc"[:len(shapes)]]
    return Op("concat", "layout", lambda *parts: torch.cat(parts, dim=axis), operands, [shapes],
              attributes={"axis": axis, "parts": len(shapes)})


def axis_reduction(name, function, axes, keepdim, shape=(3, 4, 5), special=(), batched=False, value_only=()):
    """Build function(x, axes, keepdim), where negative axes count from the end."""
    return Op(name, "reduce", lambda x: function(x, tuple(axes), keepdim), [Operand("x", batched=batched)],
              [[shape]], special=special, attributes={"axes": list(axes), "keepdim": keepdim},
              value_only=value_only)


def extreme_to(name, function, shape, target):
    """Build amax or amin over the axes along which target broadcasts to shape, as Kiln's max_to does."""
    dropped = len(shape) - len(target)
    axes = tuple(a for a in range(len(shape)) if a < dropped or target[a - dropped] == 1)

    def reduce(x):
        out = function(x, axes, keepdim=True)
        return out.reshape(target)
    return Op(name, "reduce", reduce, [Operand("x")], [[shape]], special=EXTREME_SPECIAL if shape == (5, 4) else (),
              attributes={"shape": list(target)})


def batched_matmul(transpose_a, transpose_b, ranks, batched=(False, False)):
    """Build torch.matmul of rank-2 or rank-3 operands, each transposed in its last two axes where flagged."""
    length, m, k, n = 3, 4, 2, 5

    def shape(rank, rows, columns, transposed):
        matrix = (columns, rows) if transposed else (rows, columns)
        return (length,) + matrix if rank == 3 else matrix

    def function(a, b):
        left = a.transpose(-1, -2) if transpose_a else a
        right = b.transpose(-1, -2) if transpose_b else b
        return torch.matmul(left, right)
    shapes = [shape(ranks[0], m, k, transpose_a), shape(ranks[1], k, n, transpose_b)]
    operands = [Operand("a", batched=batched[0]), Operand("b", batched=batched[1])]
    return Op("batched_matmul", "matmul", function, operands, [shapes],
              attributes={"transpose_a": transpose_a, "transpose_b": transpose_b, "ranks": list(ranks)})


def amax(x, axes, keepdim):
    return torch.amax(x, axes, keepdim)


def amin(x, axes, keepdim):
    return torch.amin(x, axes, keepdim)


def sum_dim(x, axes, keepdim):
    return torch.sum(x, axes, keepdim)


def mean_dim(x, axes, keepdim):
    return torch.mean(x, axes, keepdim)


def logsumexp(x, axes, keepdim):
    return torch.logsumexp(x, axes, keepdim)


INF = float("inf")
NAN = float("nan")

# Rows and columns with ties (0 and -0 tie too), NaN, infinities and an all -inf row.
EXTREME_SPECIAL = [([[1.0, 1.0, 0.0, -1.0], [NAN, 1.0, 2.0, 3.0], [INF, INF, 1.0, -INF],
                     [-INF, -INF, -INF, -INF], [0.0, -0.0, -2.0, -2.0]],)]
# Sums and means carry infinities and NaN to the value, and their derivatives do not depend on x.
SUM_SPECIAL = [([[1.0, INF, 0.0, -1.0], [NAN, 1.0, 2.0, 3.0], [INF, -INF, 1.0, 2.0], [1e30, 1e30, -1e30, 5.0]],)]
# Large entries that overflow exp without the shift by the maximum, and ties at the maximum.
LOGSUMEXP_SPECIAL = [([[1000.0, 1000.0, 999.0, 0.0], [-1000.0, -1000.0, -1000.0, -1000.0],
                       [1000.0, -1000.0, 0.0, 1e-30], [0.0, -INF, 1.0, 2.0], [-INF, -INF, 3.0, -INF]],)]
# An all -inf row, where the value is -inf and both Kiln's and PyTorch's derivatives are NaN
# (0/0), and rows holding +inf, where the value is inf and the derivative is inf - inf.
LOGSUMEXP_VALUE_ONLY = [([[-INF, -INF, -INF, -INF], [INF, 1.0, 2.0, 3.0], [INF, INF, -INF, 0.0],
                          [1.0, 2.0, 3.0, 4.0]],)]


# ---- the table ------------------------------------------------------------------------------

OPS = [
    unary("neg", torch.neg),
    unary("exp", torch.exp),
    unary("log", torch.log, low=0.1, high=4.0, domain=positive),
    unary("log1p", torch.log1p, low=-0.9, high=4.0, domain=lambda x: x > -1),
    unary("sqrt", torch.sqrt, low=0.1, high=4.0, domain=positive),
    unary("rsqrt", torch.rsqrt, low=0.1, high=4.0, domain=positive),
    unary("abs", torch.abs),
    unary("sign", torch.sign),
    unary("sin", torch.sin),
    unary("cos", torch.cos),
    unary("square", torch.square),
    unary("reciprocal", torch.reciprocal, domain=lambda x: x != 0),
    unary("erf", torch.erf),
    unary("tanh", torch.tanh),
    unary("sigmoid", torch.sigmoid),
    unary("relu", torch.relu),
    leaky_relu(0.01),
    leaky_relu(0.2),
    elu(1.0),
    elu(0.5),
    unary("gelu", F.gelu),
    unary("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    unary("softplus", F.softplus,
          note="PyTorch returns x, with derivatives 1 and 0, where x > 20 (its default threshold)"),
    unary("silu", F.silu),
    unary("step", lambda x: (x > 0).double()),
    binary("add", torch.add),
    binary("sub", torch.sub),
    binary("mul", torch.mul),
    binary("div", torch.div, domain=lambda a, b: b != 0),
    binary("pow", torch.pow, low=(0.2, -3.0), high=(3.0, 3.0),
           pairs=[(0.0, 0.0), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (1.0, 0.0), (2.0, 0.0), (2.0, 1.0),
                  (2.0, -1.0), (0.5, 2.5), (-2.0, 2.0), (-2.0, 3.0), (1e-30, 2.0), (100.0, 10.0),
                  (10.0, -3.0), (1.0, 1e3)],
           domain=lambda a, b: a > 0 or (a == 0 and b >= 1) or (a < 0 and b == int(b)) or (b == 0 and a != 0)),
    scalar_pow(2.0, lambda x: True),
    scalar_pow(3.0, lambda x: True),
    scalar_pow(0.5, positive),
    scalar_pow(-1.0, lambda x: x != 0),
    scalar_pow(2.5, positive),
    scalar_pow(0.0, lambda x: x != 0),
    binary("maximum", torch.maximum),
    binary("minimum", torch.minimum),
    comparison("eq", torch.eq),
    comparison("ne", torch.ne),
    comparison("gt", torch.gt),
    comparison("ge", torch.ge),
    comparison("lt", torch.lt),
    comparison("le", torch.le),
    Op("clamp", "elementwise", clamp,
       [Operand("x"), Operand("low", -2.0, -0.5), Operand("high", 0.5, 2.0)], [[(3, 4), (3, 4), (3, 4)],
                                                                             [(3, 4), (4,), (3, 1)]],
       special=[([-1e3, -1.0, 0.0, 1.0, 1e3, -1e-30, 5.0, 2.0, -1.0, 1.0, 0.0, -0.0],
                 [-1.0, -1.0, -1.0, -1.0, -1.0, 0.0, 3.0, -2.0, 1.0, 1.0, 0.0, 0.0],
                 [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 4.0, -3.0, 1.0, 1.0, -0.0, 0.0])]),
    Op("clamp_scalar", "elementwise", lambda x: torch.clamp(x, -1.0, 1.0), [Operand("x")], [[(3, 4)]],
       special=[([-1e3, -1.0, 0.0, 1.0, 1e3, -1e-30, -0.0, 0.5],)], attributes={"low": -1.0, "high": 1.0}),
    Op("where", "elementwise", where,
       [Operand("condition", kind="condition"), Operand("a"), Operand("b")],
       [[(3, 4), (3, 4), (3, 4)], [(3, 1), (4,), (3, 4)]],
       special=[([0.0, -0.0, 1.0, -1.0, 2.5, 1e-30], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                 [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0])]),
    matmul(False, False),
    matmul(False, True),
    matmul(True, False),
    matmul(True, True),
    reduction("sum", torch.sum, [[(3, 4)], [(2, 3, 4)]]),
    reduction("mean", torch.mean, [[(3, 4)], [(2, 3, 4)]]),
    reduction("sum_to", lambda x: x.sum(0, keepdim=True), [[(3, 4)]], {"shape": [1, 4]}),
    reduction("sum_to", lambda x: x.sum(1, keepdim=True), [[(3, 4)]], {"shape": [3, 1]}),
    reduction("sum_to", lambda x: x.sum(0), [[(3, 4)]], {"shape": [4]}),
    reduction("sum_to", lambda x: x.sum((0, 2), keepdim=True).squeeze(0), [[(2, 3, 4)]], {"shape": [3, 1]}),
    reduction("broadcast_to", lambda x: x.expand(3, 4), [[(4,)], [(3, 1)], [(1, 4)]], {"shape": [3, 4]}),
    row("softmax", lambda x: torch.softmax(x, dim=-1)),
    row("log_softmax", lambda x: torch.log_softmax(x, dim=-1)),
    row("row_sum", lambda x: x.sum(-1, keepdim=True)),
    loss("mse", F.mse_loss, "float", REGRESSION_SPECIAL),
    loss("l1", F.l1_loss, "float", REGRESSION_SPECIAL),
    loss("huber", huber, "float", REGRESSION_SPECIAL),
    loss("bce_with_logits", F.binary_cross_entropy_with_logits, "binary", LOGIT_SPECIAL),
    loss("cross_entropy", lambda s, y: F.cross_entropy(s, y.long()), "index", CLASS_SPECIAL),
    loss("soft_cross_entropy", soft_cross_entropy, "probabilities", SOFT_SPECIAL),
    loss("nll", lambda s, y: F.nll_loss(s, y.long()), "index", CLASS_SPECIAL),
    unary("stop_gradient", lambda x: x.detach()),
    permute((0, 2, 1), (2, 3, 4)),
    permute((2, 0, 1), (2, 3, 4)),
    permute((1, 2, 0), (2, 3, 4)),
    permute((0, 3, 1, 2), (2, 3, 4, 5)),
    permute((3, 2, 1, 0), (2, 3, 4, 5)),
    permute((1, 0, 3, 2), (2, 3, 4, 5)),
    permute((0, 2, 1), (3, 4, 5), batched=True),
    permute((0, 3, 1, 2), (3, 2, 4, 5), batched=True),
    transpose(0, 2, (2, 3, 4)),
    transpose(1, 2, (2, 3, 4)),
    transpose(0, 3, (2, 3, 4, 5)),
    transpose(1, 3, (2, 3, 4, 5)),
    transpose(1, 2, (3, 4, 5), batched=True),
    reshape((2, 3, 4), (6, 4)),
    reshape((2, 3, 4), (4, 3, 2)),
    reshape((6, 4), (2, 3, 2, 2)),
    reshape((2, 3, 4), (24,), function=torch.flatten),
    reshape((2, 3, 4), (2, 12), function=lambda x: torch.flatten(x, 1)),
    reshape((3, 2, 3, 4), (3, 24), batched=True, function=lambda x: torch.flatten(x, 1)),
    reshape((3, 6), (3, 2, 3), batched=True),
    slice_(0, 1, 3, 1, (4, 5, 6)),
    slice_(1, 0, 5, 2, (4, 5, 6)),
    slice_(2, 1, 6, 3, (4, 5, 6)),
    slice_(2, 4, 5, 1, (4, 5, 6)),
    slice_(1, 3, 5, 4, (4, 5, 6)),
    slice_(2, 0, 6, 2, (3, 5, 6), batched=True),
    slice_(1, 1, 4, 1, (3, 5, 6), batched=True),
    concat(0, [(2, 3), (4, 3)]),
    concat(1, [(2, 3, 4), (2, 1, 4)]),
    concat(2, [(2, 3, 1), (2, 3, 4), (2, 3, 2)]),
    concat(0, [(1, 2, 3), (2, 2, 3), (1, 2, 3)]),
    concat(1, [(3, 2, 4), (3, 1, 4)], batched=True),
    concat(2, [(3, 2, 1), (3, 2, 3), (3, 2, 2)], batched=True),
    axis_reduction("sum_dim", sum_dim, [1], False, special=SUM_SPECIAL),
    axis_reduction("sum_dim", sum_dim, [0], True, special=SUM_SPECIAL),
    axis_reduction("sum_dim", sum_dim, [-1], True),
    axis_reduction("sum_dim", sum_dim, [0, 2], False),
    axis_reduction("sum_dim", sum_dim, [-2, -1], True),
    axis_reduction("sum_dim", sum_dim, [0, 1, 2], False),
    axis_reduction("sum_dim", sum_dim, [0], False, batched=True),
    axis_reduction("sum_dim", sum_dim, [1, 2], True, batched=True),
    axis_reduction("sum_dim", sum_dim, [0, -1], True, batched=True),
    axis_reduction("mean_dim", mean_dim, [1], False, special=SUM_SPECIAL),
    axis_reduction("mean_dim", mean_dim, [0], True, special=SUM_SPECIAL),
    axis_reduction("mean_dim", mean_dim, [-1], True),
    axis_reduction("mean_dim", mean_dim, [0, 2], False),
    axis_reduction("mean_dim", mean_dim, [-2, -1], True),
    axis_reduction("mean_dim", mean_dim, [0, 1, 2], False),
    axis_reduction("mean_dim", mean_dim, [0], False, batched=True),
    axis_reduction("mean_dim", mean_dim, [1, 2], True, batched=True),
    axis_reduction("mean_dim", mean_dim, [0, -1], True, batched=True),
    axis_reduction("amax", amax, [1], False, special=EXTREME_SPECIAL),
    axis_reduction("amax", amax, [0], True, special=EXTREME_SPECIAL),
    axis_reduction("amax", amax, [-1], True, special=EXTREME_SPECIAL),
    axis_reduction("amax", amax, [0, 2], False),
    axis_reduction("amax", amax, [-2, -1], True, special=EXTREME_SPECIAL),
    axis_reduction("amax", amax, [0, 1, 2], False),
    axis_reduction("amax", amax, [0], False, batched=True),
    axis_reduction("amax", amax, [1, 2], True, batched=True),
    axis_reduction("amax", amax, [0, -1], True, batched=True),
    axis_reduction("amin", amin, [1], False, special=EXTREME_SPECIAL),
    axis_reduction("amin", amin, [0], True, special=EXTREME_SPECIAL),
    axis_reduction("amin", amin, [-1], True, special=EXTREME_SPECIAL),
    axis_reduction("amin", amin, [0, 2], False),
    axis_reduction("amin", amin, [-2, -1], True, special=EXTREME_SPECIAL),
    axis_reduction("amin", amin, [0, 1, 2], False),
    axis_reduction("amin", amin, [0], False, batched=True),
    axis_reduction("amin", amin, [1, 2], True, batched=True),
    axis_reduction("amin", amin, [0, -1], True, batched=True),
    extreme_to("max_to", amax, (5, 4), (5, 1)),
    extreme_to("max_to", amax, (2, 3, 4), (3, 1)),
    extreme_to("min_to", amin, (5, 4), (1, 4)),
    extreme_to("min_to", amin, (2, 3, 4), (4,)),
    axis_reduction("logsumexp", logsumexp, [1], False, special=LOGSUMEXP_SPECIAL, value_only=LOGSUMEXP_VALUE_ONLY),
    axis_reduction("logsumexp", logsumexp, [-1], True, special=LOGSUMEXP_SPECIAL,
                   value_only=LOGSUMEXP_VALUE_ONLY),
    axis_reduction("logsumexp", logsumexp, [0], True),
    axis_reduction("logsumexp", logsumexp, [0, 2], False),
    axis_reduction("logsumexp", logsumexp, [-2, -1], True),
    axis_reduction("logsumexp", logsumexp, [0], False, batched=True),
    axis_reduction("logsumexp", logsumexp, [1, -1], True, batched=True),
    batched_matmul(False, False, (3, 3)),
    batched_matmul(False, True, (3, 3)),
    batched_matmul(True, False, (3, 3)),
    batched_matmul(True, True, (3, 3)),
    batched_matmul(False, False, (3, 2)),
    batched_matmul(False, True, (3, 2)),
    batched_matmul(True, False, (3, 2)),
    batched_matmul(True, True, (3, 2)),
    batched_matmul(False, False, (2, 3)),
    batched_matmul(False, True, (2, 3)),
    batched_matmul(True, False, (2, 3)),
    batched_matmul(True, True, (2, 3)),
    batched_matmul(False, False, (3, 3), batched=(True, True)),
    batched_matmul(False, True, (3, 2), batched=(True, False)),
    batched_matmul(True, False, (2, 3), batched=(False, True)),
    batched_matmul(True, True, (3, 3), batched=(True, True)),
]


# ---- evaluation -----------------------------------------------------------------------------

def to_float32(t):
    """Rounds to float32 and back, so float32 code gets exactly the reference's inputs."""
    return t.float().double()


def derivatives(op, operands, generator):
    """Returns value, cotangent, directions, VJPs and Hessian-vector products of one case."""
    leaves = [t.clone().requires_grad_(o.differentiable) for o, t in zip(op.operands, operands)]
    value = op.function(*leaves)
    cotangent = to_float32(torch.randn(value.shape, generator=generator, dtype=torch.float64))
    differentiable = [(o, t) for o, t in zip(op.operands, leaves) if o.differentiable]
    if not differentiable:
        return value.detach(), cotangent, {}, {}, {}

    wrt = [t for _, t in differentiable]
    if value.requires_grad:
        grads = torch.autograd.grad((value * cotangent).sum(), wrt, create_graph=True, allow_unused=True)
    else:
        # A piecewise-constant function such as step: PyTorch records no derivative, which is 0.
        grads = [None] * len(wrt)
    grads = [torch.zeros_like(t) if g is None else g for g, t in zip(grads, wrt)]
    directions = [to_float32(torch.randn(t.shape, generator=generator, dtype=torch.float64)) for t in wrt]
    total = sum((g * v).sum() for g, v in zip(grads, directions))
    if total.requires_grad:
        hvps = torch.autograd.grad(total, wrt, allow_unused=True)
        hvps = [torch.zeros_like(t) if h is None else h for h, t in zip(hvps, wrt)]
    else:
        hvps = [torch.zeros_like(t) for t in wrt]
    names = [o.name for o, _ in differentiable]
    return (value.detach(), cotangent, dict(zip(names, directions)),
            dict(zip(names, [g.detach() for g in grads])), dict(zip(names, hvps)))


def tensor_json(t):
    flat = t.detach().to(torch.float64).contiguous().reshape(-1).clone()
    return {"shape": list(t.shape), "values": [float(x) for x in flat.tolist()]}


def operand_json(operand, t):
    # The mark is left out where it is false, so files of unbatched ops stay as they were.
    marks = {"batched": True} if operand.batched else {}
    return dict(name=operand.name, kind=operand.kind, **marks, **tensor_json(t))


def case_json(op, label, operands, generator, value_only=False):
    value, cotangent, directions, grads, hvps = derivatives(op, operands, generator)
    if value_only:
        directions, grads, hvps = {}, {}, {}
    return {
        "label": label,
        "operands": [operand_json(o, t) for o, t in zip(op.operands, operands)],
        "cotangent": tensor_json(cotangent),
        "value": tensor_json(value),
        "direction": {name: tensor_json(t) for name, t in directions.items()},
        "grad": {name: tensor_json(t) for name, t in grads.items()},
        "hvp": {name: tensor_json(t) for name, t in hvps.items()},
    }


def entry_cases(op, generator):
    cases = []
    skipped = []
    for index, shapes in enumerate(op.shapes):
        operands = [to_float32(o.random(shape, generator)) for o, shape in zip(op.operands, shapes)]
        cases.append(case_json(op, "random %d" % index, operands, generator))
    if op.special:
        kept = []
        for values in op.special:
            reason = op.domain(values)
            if reason is None:
                kept.append(values)
            else:
                skipped.append({"operands": [list(v) for v in values], "reason": reason})
        if kept:
            columns = [sum((list(values[i]) for values in kept), []) if len(kept) > 1 else kept[0][i]
                       for i in range(len(op.operands))]
            operands = [to_float32(torch.tensor(c, dtype=torch.float64)) for c in columns]
            cases.append(case_json(op, "special", operands, generator))
    for values in op.value_only:
        operands = [to_float32(torch.tensor(c, dtype=torch.float64)) for c in values]
        cases.append(case_json(op, "special, value only", operands, generator, value_only=True))
    return cases, skipped


def generate(output_dir):
    torch.set_num_threads(1)
    files = {}
    for op in OPS:
        # One generator per entry, seeded from its name and attributes, so adding an entry
        # leaves every other entry's numbers unchanged.
        key = op.name + json.dumps(op.attributes, sort_keys=True)
        batched = [o.name for o in op.operands if o.batched]
        if batched:
            key += " batched " + " ".join(batched)
        generator = torch.Generator().manual_seed(zlib.crc32(key.encode()))
        cases, skipped = entry_cases(op, generator)
        document = files.setdefault(op.name, {
            "op": op.name,
            "family": op.family,
            "generator": COMMAND,
            "torch": torch.__version__,
            "note": op.note,
            "variants": [],
        })
        document["variants"].append({"attributes": op.attributes, "cases": cases, "skipped": skipped})

    output_dir.mkdir(parents=True, exist_ok=True)
    for name, document in files.items():
        if document["note"] is None:
            del document["note"]
        text = json.dumps(document, separators=(",", ":"), allow_nan=True)
        (output_dir / (name + ".json")).write_text(text + "\n")
    # The index lets readers find every file on a class path, where folders cannot be listed.
    (output_dir / "index.json").write_text(json.dumps(sorted(files)) + "\n")
    print("wrote %d files to %s" % (len(files), output_dir), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=pathlib.Path, default=DEFAULT_OUTPUT,
                        help="folder for the JSON files (default: %(default)s)")
    generate(parser.parse_args().output_dir)


if __name__ == "__main__":
    main()
