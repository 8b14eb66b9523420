package dev.kiln.nn;

import dev.kiln.ir.Broadcasting;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.RowOp;
import dev.kiln.ir.Shape;

/**
 * The tensor ops of the model language, for static import into a model class. At build time the
 * Kiln processor maps each call to the IR op of the same name. In eager mode (running the model
 * class as plain Java) they compute in double precision with the very definitions the compiler's
 * reference evaluator uses, so a debugger can step through {@code forward}.
 *
 * <p>Binary ops broadcast like NumPy. Ops that take a {@code double} treat it as a constant.
 */
public final class Functional {
    private Functional() {
    }

    // ---- unary -----------------------------------------------------------------------------

    public static Tensor neg(Tensor x) {
        return map(Elementwise.NEG, x);
    }

    public static Tensor exp(Tensor x) {
        return map(Elementwise.EXP, x);
    }

    public static Tensor log(Tensor x) {
        return map(Elementwise.LOG, x);
    }

    public static Tensor log1p(Tensor x) {
        return map(Elementwise.LOG1P, x);
    }

    public static Tensor sqrt(Tensor x) {
        return map(Elementwise.SQRT, x);
    }

    public static Tensor rsqrt(Tensor x) {
        return map(Elementwise.RSQRT, x);
    }

    public static Tensor abs(Tensor x) {
        return map(Elementwise.ABS, x);
    }

    public static Tensor sign(Tensor x) {
        return map(Elementwise.SIGN, x);
    }

    public static Tensor sin(Tensor x) {
        return map(Elementwise.SIN, x);
    }

    public static Tensor cos(Tensor x) {
        return map(Elementwise.COS, x);
    }

    public static Tensor square(Tensor x) {
        return map(Elementwise.SQUARE, x);
    }

    public static Tensor reciprocal(Tensor x) {
        return map(Elementwise.RECIPROCAL, x);
    }

    public static Tensor erf(Tensor x) {
        return map(Elementwise.ERF, x);
    }

    public static Tensor tanh(Tensor x) {
        return map(Elementwise.TANH, x);
    }

    public static Tensor sigmoid(Tensor x) {
        return map(Elementwise.SIGMOID, x);
    }

    public static Tensor relu(Tensor x) {
        return map(Elementwise.RELU, x);
    }

    /** GELU with the exact normal CDF, x * (1 + erf(x / sqrt 2)) / 2. */
    public static Tensor gelu(Tensor x) {
        return map(Elementwise.GELU, x);
    }

    /** GELU with PyTorch's tanh approximation. */
    public static Tensor geluTanh(Tensor x) {
        return map(Elementwise.GELU_TANH, x);
    }

    public static Tensor softplus(Tensor x) {
        return map(Elementwise.SOFTPLUS, x);
    }

    public static Tensor silu(Tensor x) {
        return map(Elementwise.SILU, x);
    }

    public static Tensor leakyRelu(Tensor x, double negativeSlope) {
        return map(Elementwise.leakyRelu(negativeSlope), x);
    }

    public static Tensor elu(Tensor x, double alpha) {
        return map(Elementwise.elu(alpha), x);
    }

    // ---- binary ----------------------------------------------------------------------------

    public static Tensor add(Tensor a, Tensor b) {
        return map(Elementwise.ADD, a, b);
    }

    public static Tensor add(Tensor a, double b) {
        return map(Elementwise.ADD, a, scalar(b));
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return map(Elementwise.SUB, a, b);
    }

    public static Tensor sub(Tensor a, double b) {
        return map(Elementwise.SUB, a, scalar(b));
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return map(Elementwise.MUL, a, b);
    }

    public static Tensor mul(Tensor a, double b) {
        return map(Elementwise.MUL, a, scalar(b));
    }

    public static Tensor div(Tensor a, Tensor b) {
        return map(Elementwise.DIV, a, b);
    }

    public static Tensor div(Tensor a, double b) {
        return map(Elementwise.DIV, a, scalar(b));
    }

    public static Tensor pow(Tensor a, Tensor b) {
        return map(Elementwise.POW, a, b);
    }

    public static Tensor pow(Tensor a, double exponent) {
        return map(Elementwise.POW, a, scalar(exponent));
    }

    public static Tensor maximum(Tensor a, Tensor b) {
        return map(Elementwise.MAXIMUM, a, b);
    }

    public static Tensor minimum(Tensor a, Tensor b) {
        return map(Elementwise.MINIMUM, a, b);
    }

    public static Tensor clamp(Tensor x, double min, double max) {
        return map(Elementwise.CLAMP, x, scalar(min), scalar(max));
    }

    /** Returns {@code a} where {@code condition} is nonzero, else {@code b}. */
    public static Tensor where(Tensor condition, Tensor a, Tensor b) {
        return map(Elementwise.WHERE, condition, a, b);
    }

    public static Tensor gt(Tensor a, Tensor b) {
        return map(Elementwise.GT, a, b);
    }

    public static Tensor ge(Tensor a, Tensor b) {
        return map(Elementwise.GE, a, b);
    }

    public static Tensor lt(Tensor a, Tensor b) {
        return map(Elementwise.LT, a, b);
    }

    public static Tensor le(Tensor a, Tensor b) {
        return map(Elementwise.LE, a, b);
    }

    public static Tensor eq(Tensor a, Tensor b) {
        return map(Elementwise.EQ, a, b);
    }

    public static Tensor ne(Tensor a, Tensor b) {
        return map(Elementwise.NE, a, b);
    }

    // ---- reductions and rows ---------------------------------------------------------------

    /** Returns the sum of every element, as a one-element tensor of rank 0. */
    public static Tensor sum(Tensor x) {
        double total = 0;
        for (double v : x.data()) {
            total += v;
        }
        return Tensor.wrap(new double[] {total});
    }

    /** Returns the mean of every element, as a one-element tensor of rank 0. */
    public static Tensor mean(Tensor x) {
        return Tensor.wrap(new double[] {sum(x).data()[0] / x.data().length});
    }

    /** Returns the softmax over the last axis. */
    public static Tensor softmax(Tensor x) {
        return row(RowOp.SOFTMAX, x);
    }

    /** Returns the log of the softmax over the last axis. */
    public static Tensor logSoftmax(Tensor x) {
        return row(RowOp.LOG_SOFTMAX, x);
    }

    /**
     * Returns d(sum of y)/dx: for a per-sample function, the derivative of each output with
     * respect to its own input. Compiled models only: eager tensors keep no record of how they
     * were computed.
     */
    public static Tensor grad(Tensor y, Tensor x) {
        throw new UnsupportedOperationException("grad works in compiled models only; eager mode does not record"
                + " the operations a tensor came from");
    }

    // ---- eager evaluation ------------------------------------------------------------------

    private static Tensor scalar(double value) {
        return Tensor.wrap(new double[] {value});
    }

    private static Tensor map(Elementwise op, Tensor... operands) {
        Shape out = Shape.of(operands[0].shape());
        for (int i = 1; i < operands.length; i++) {
            out = Shape.broadcast(out, Shape.of(operands[i].shape()));
        }
        int[] outDims = out.dims();
        int[][] maps = new int[operands.length][];
        for (int i = 0; i < operands.length; i++) {
            maps[i] = Broadcasting.gatherMap(outDims, operands[i].shape());
        }
        double[] result = new double[Broadcasting.product(outDims)];
        double[] args = new double[operands.length];
        for (int e = 0; e < result.length; e++) {
            for (int i = 0; i < operands.length; i++) {
                args[i] = operands[i].data()[maps[i][e]];
            }
            result[e] = op.apply(args);
        }
        return Tensor.wrap(result, outDims);
    }

    private static Tensor row(RowOp op, Tensor x) {
        int[] shape = x.shape();
        if (shape.length == 0) {
            throw new IllegalArgumentException(op.name() + " needs at least one axis, got a scalar");
        }
        return Tensor.wrap(op.evaluateRows(x.data(), shape[shape.length - 1]), shape);
    }
}
