package dev.kiln.nn;

import dev.kiln.ir.Broadcasting;
import dev.kiln.ir.DType;
import dev.kiln.ir.Evaluator;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Node;
import dev.kiln.ir.ShapeException;
import java.util.List;
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

    /** Returns the sum over {@code axis}, dropping it; axis 0 is the batch axis, negative axes count from the end. */
    public static Tensor sum(Tensor x, int axis) {
        return reduce(GraphBuilder.Reduction.SUM, x, axis, false);
    }

    /** Returns the sum over {@code axis}, keeping it with extent 1 when {@code keepdim} is set. */
    public static Tensor sum(Tensor x, int axis, boolean keepdim) {
        return reduce(GraphBuilder.Reduction.SUM, x, axis, keepdim);
    }

    /** Returns the mean over {@code axis}, dropping it. */
    public static Tensor mean(Tensor x, int axis) {
        return reduce(GraphBuilder.Reduction.MEAN, x, axis, false);
    }

    /** Returns the mean over {@code axis}, keeping it with extent 1 when {@code keepdim} is set. */
    public static Tensor mean(Tensor x, int axis, boolean keepdim) {
        return reduce(GraphBuilder.Reduction.MEAN, x, axis, keepdim);
    }

    /** Returns the maximum over {@code axis}, as PyTorch's {@code amax}: NaN wins, ties share the gradient. */
    public static Tensor amax(Tensor x, int axis) {
        return reduce(GraphBuilder.Reduction.MAX, x, axis, false);
    }

    public static Tensor amax(Tensor x, int axis, boolean keepdim) {
        return reduce(GraphBuilder.Reduction.MAX, x, axis, keepdim);
    }

    /** Returns the minimum over {@code axis}, as PyTorch's {@code amin}. */
    public static Tensor amin(Tensor x, int axis) {
        return reduce(GraphBuilder.Reduction.MIN, x, axis, false);
    }

    public static Tensor amin(Tensor x, int axis, boolean keepdim) {
        return reduce(GraphBuilder.Reduction.MIN, x, axis, keepdim);
    }

    /** Returns log(sum(exp(x))) over {@code axis}, computed without overflow. */
    public static Tensor logsumexp(Tensor x, int axis) {
        return reduce(GraphBuilder.Reduction.LOGSUMEXP, x, axis, false);
    }

    public static Tensor logsumexp(Tensor x, int axis, boolean keepdim) {
        return reduce(GraphBuilder.Reduction.LOGSUMEXP, x, axis, keepdim);
    }

    // ---- layout ----------------------------------------------------------------------------

    /**
     * Returns the elements in another shape, row-major. One extent may be -1 and is inferred; in
     * a model, axis 0 is the batch axis and must be written -1: {@code reshape(x, -1, 4, 6)}.
     */
    public static Tensor reshape(Tensor x, int... shape) {
        int[] dims = shape.clone();
        long known = 1;
        int inferred = -1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1 && inferred < 0) {
                inferred = i;
            } else if (dims[i] < 0) {
                throw new IllegalArgumentException("reshape to " + java.util.Arrays.toString(shape)
                        + ": extents must be at least 0, and only one may be -1");
            } else {
                known *= dims[i];
            }
        }
        long total = x.data().length;
        if (inferred >= 0) {
            if (known == 0 || total % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + java.util.Arrays.toString(x.shape()) + " to "
                        + java.util.Arrays.toString(shape) + ": " + total + " elements do not divide by " + known);
            }
            dims[inferred] = (int) (total / known);
        }
        int[] target = dims;
        return eval((b, in) -> b.reshape(in.get(0), Shape.of(target)), x);
    }

    /** Returns {@code x} with every axis after the first joined: [B, a, b] becomes [B, a * b], as {@code nn.Flatten}. */
    public static Tensor flatten(Tensor x) {
        int[] shape = x.shape();
        if (shape.length < 1) {
            throw new IllegalArgumentException("flatten needs at least one axis, got a scalar");
        }
        int rest = 1;
        for (int i = 1; i < shape.length; i++) {
            rest *= shape[i];
        }
        return reshape(x, shape[0], rest);
    }

    /** Returns {@code x} with its axes reordered: axis i of the result is axis {@code axes[i]} of x. */
    public static Tensor permute(Tensor x, int... axes) {
        int[] resolved = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            resolved[i] = axes[i] < 0 ? axes[i] + x.rank() : axes[i];
        }
        return eval((b, in) -> b.permute(in.get(0), resolved), x);
    }

    /** Returns {@code x} with two axes swapped. */
    public static Tensor transpose(Tensor x, int first, int second) {
        int a = first < 0 ? first + x.rank() : first;
        int c = second < 0 ? second + x.rank() : second;
        checkAxis(x, a, first);
        checkAxis(x, c, second);
        return eval((b, in) -> b.transpose(in.get(0), a, c), x);
    }

    /** Returns {@code x[..., start:stop, ...]} along {@code axis}. */
    public static Tensor slice(Tensor x, int axis, int start, int stop) {
        return slice(x, axis, start, stop, 1);
    }

    /** Returns {@code x[..., start:stop:step, ...]} along {@code axis}. */
    public static Tensor slice(Tensor x, int axis, int start, int stop, int step) {
        int a = axis < 0 ? axis + x.rank() : axis;
        checkAxis(x, a, axis);
        return eval((b, in) -> b.apply(new dev.kiln.ir.Layout.Slice(a, start, stop, step), in.get(0)), x);
    }

    /** Returns {@code length} elements of {@code x} from {@code start} along {@code axis}, as PyTorch's {@code narrow}. */
    public static Tensor narrow(Tensor x, int axis, int start, int length) {
        return slice(x, axis, start, start + length, 1);
    }

    /** Joins tensors along {@code axis}, as {@code torch.cat}. */
    public static Tensor cat(int axis, Tensor... parts) {
        if (parts.length == 0) {
            throw new IllegalArgumentException("cat needs at least one tensor");
        }
        int a = axis < 0 ? axis + parts[0].rank() : axis;
        checkAxis(parts[0], a, axis);
        return eval((b, in) -> b.apply(new dev.kiln.ir.Layout.Concat(a), in.toArray(Node[]::new)), parts);
    }

    /** Returns the matrix product of rank-2 or rank-3 tensors; rank 3 multiplies matrix by matrix along axis 0. */
    public static Tensor matmul(Tensor a, Tensor b) {
        return eval((g, in) -> g.matmul(in.get(0), in.get(1), false, false), a, b);
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

    private static Tensor reduce(GraphBuilder.Reduction kind, Tensor x, int axis, boolean keepdim) {
        return eval((b, in) -> b.reduce(kind, in.get(0), new int[] {axis}, keepdim), x);
    }

    private static void checkAxis(Tensor x, int resolved, int given) {
        if (resolved < 0 || resolved >= x.rank()) {
            throw new IllegalArgumentException("axis " + given + " is out of range for a tensor of shape "
                    + java.util.Arrays.toString(x.shape()));
        }
    }

    /**
     * Runs one op through the reference evaluator, on a graph whose inputs have the tensors'
     * shapes, so eager mode computes exactly what the compiler's reference computes.
     */
    static Tensor eval(java.util.function.BiFunction<GraphBuilder, List<Node>, Node> op, Tensor... inputs) {
        GraphBuilder b = new GraphBuilder("eager");
        Evaluator evaluator = new Evaluator();
        List<Node> nodes = new java.util.ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            nodes.add(b.input("x" + i, Shape.of(inputs[i].shape()), DType.F32));
            evaluator.input("x" + i, inputs[i].data());
        }
        Node out;
        try {
            out = op.apply(b, nodes);
        } catch (ShapeException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        b.output("y", out);
        return Tensor.wrap(evaluator.run(b.build(), 1).output("y"), out.shape().dims());
    }

    private static Tensor row(RowOp op, Tensor x) {
        int[] shape = x.shape();
        if (shape.length == 0) {
            throw new IllegalArgumentException(op.name() + " needs at least one axis, got a scalar");
        }
        return Tensor.wrap(op.evaluateRows(x.data(), shape[shape.length - 1]), shape);
    }
}
