package dev.kiln.ir;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a graph node by node, checking each op's shape rule as the node is created. The model
 * frontend, autodiff and the loss and optimizer constructions all build through this class.
 */
public final class GraphBuilder {
    private final String name;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<Op, Node> leaves = new HashMap<>();
    private final Map<String, Node> outputs = new LinkedHashMap<>();
    private final Map<Node, Node> stores = new LinkedHashMap<>();
    private String origin;

    public GraphBuilder(String name) {
        this.name = name;
    }

    /** Sets the source position recorded on nodes created from now on, or {@code null}. */
    public void origin(String origin) {
        this.origin = origin;
    }

    public String origin() {
        return origin;
    }

    // ---- leaves ----------------------------------------------------------------------------

    public Node input(String label, Shape shape, DType dtype) {
        return leaf(new Leaf.Input(label), shape, dtype);
    }

    public Node param(String label, Shape shape) {
        return leaf(new Leaf.Param(label), shape, DType.F32);
    }

    public Node state(String label, Shape shape) {
        return leaf(new Leaf.State(label), shape, DType.F32);
    }

    public Node hyper(String label) {
        return leaf(new Leaf.Hyper(label), Shape.SCALAR, DType.F32);
    }

    public Node constant(double value) {
        return leaf(new Leaf.Constant(value), Shape.SCALAR, DType.F32);
    }

    public Node batchSize() {
        return leaf(new Leaf.BatchSize(), Shape.SCALAR, DType.F32);
    }

    private Node leaf(Leaf op, Shape shape, DType dtype) {
        Node existing = leaves.get(op);
        if (existing != null) {
            if (!existing.shape().equals(shape) || existing.dtype() != dtype) {
                throw new IrException(op.text() + " is declared twice, as " + existing.dtype().text()
                        + existing.shape() + " and as " + dtype.text() + shape);
            }
            return existing;
        }
        Node node = new Node(nodes.size(), op, List.of(), shape, dtype, origin);
        nodes.add(node);
        leaves.put(op, node);
        return node;
    }

    // ---- ops -------------------------------------------------------------------------------

    /** Appends a node for {@code op} applied to {@code inputs}, checking the shape rule. */
    public Node apply(Op op, Node... inputs) {
        List<Node> in = List.of(inputs);
        for (Node input : in) {
            if (input.id() >= nodes.size() || nodes.get(input.id()) != input) {
                throw new IrException("operand " + input + " of " + op.text() + " belongs to another graph");
            }
        }
        Shape shape = op.shape(in);
        Node node = new Node(nodes.size(), op, in, shape, op.dtype(in), origin);
        nodes.add(node);
        return node;
    }

    public Node neg(Node x) {
        return apply(Elementwise.NEG, x);
    }

    public Node exp(Node x) {
        return apply(Elementwise.EXP, x);
    }

    public Node log(Node x) {
        return apply(Elementwise.LOG, x);
    }

    public Node tanh(Node x) {
        return apply(Elementwise.TANH, x);
    }

    public Node sigmoid(Node x) {
        return apply(Elementwise.SIGMOID, x);
    }

    public Node relu(Node x) {
        return apply(Elementwise.RELU, x);
    }

    public Node step(Node x) {
        return apply(Elementwise.STEP, x);
    }

    public Node sqrt(Node x) {
        return apply(Elementwise.SQRT, x);
    }

    public Node log1p(Node x) {
        return apply(Elementwise.LOG1P, x);
    }

    public Node rsqrt(Node x) {
        return apply(Elementwise.RSQRT, x);
    }

    public Node abs(Node x) {
        return apply(Elementwise.ABS, x);
    }

    public Node sign(Node x) {
        return apply(Elementwise.SIGN, x);
    }

    public Node sin(Node x) {
        return apply(Elementwise.SIN, x);
    }

    public Node cos(Node x) {
        return apply(Elementwise.COS, x);
    }

    public Node square(Node x) {
        return apply(Elementwise.SQUARE, x);
    }

    public Node reciprocal(Node x) {
        return apply(Elementwise.RECIPROCAL, x);
    }

    public Node erf(Node x) {
        return apply(Elementwise.ERF, x);
    }

    /** Exact GELU, x Phi(x) with Phi the standard normal CDF. */
    public Node gelu(Node x) {
        return apply(Elementwise.GELU, x);
    }

    /** GELU with the tanh approximation, as PyTorch's {@code gelu(x, approximate="tanh")}. */
    public Node geluTanh(Node x) {
        return apply(Elementwise.GELU_TANH, x);
    }

    public Node softplus(Node x) {
        return apply(Elementwise.SOFTPLUS, x);
    }

    public Node silu(Node x) {
        return apply(Elementwise.SILU, x);
    }

    /**
     * Applies leaky_relu with slope {@code alpha} for x <= 0.
     *
     * @throws IllegalArgumentException if {@code alpha} is NaN or infinite
     */
    public Node leakyRelu(Node x, double alpha) {
        return apply(Elementwise.leakyRelu(alpha), x);
    }

    /**
     * Applies elu, alpha (e^x - 1) for x <= 0.
     *
     * @throws IllegalArgumentException if {@code alpha} is NaN or infinite
     */
    public Node elu(Node x, double alpha) {
        return apply(Elementwise.elu(alpha), x);
    }

    public Node add(Node a, Node b) {
        return apply(Elementwise.ADD, a, b);
    }

    public Node sub(Node a, Node b) {
        return apply(Elementwise.SUB, a, b);
    }

    public Node mul(Node a, Node b) {
        return apply(Elementwise.MUL, a, b);
    }

    public Node div(Node a, Node b) {
        return apply(Elementwise.DIV, a, b);
    }

    public Node pow(Node a, Node b) {
        return apply(Elementwise.POW, a, b);
    }

    public Node eq(Node a, Node b) {
        return apply(Elementwise.EQ, a, b);
    }

    public Node maximum(Node a, Node b) {
        return apply(Elementwise.MAXIMUM, a, b);
    }

    public Node minimum(Node a, Node b) {
        return apply(Elementwise.MINIMUM, a, b);
    }

    public Node gt(Node a, Node b) {
        return apply(Elementwise.GT, a, b);
    }

    public Node ge(Node a, Node b) {
        return apply(Elementwise.GE, a, b);
    }

    public Node lt(Node a, Node b) {
        return apply(Elementwise.LT, a, b);
    }

    public Node le(Node a, Node b) {
        return apply(Elementwise.LE, a, b);
    }

    public Node ne(Node a, Node b) {
        return apply(Elementwise.NE, a, b);
    }

    /** Clamps {@code x} to [lo, hi] elementwise, with lo and hi broadcast against x. */
    public Node clamp(Node x, Node lo, Node hi) {
        return apply(Elementwise.CLAMP, x, lo, hi);
    }

    /** Clamps {@code x} to the constant range [lo, hi]. */
    public Node clamp(Node x, double lo, double hi) {
        return clamp(x, constant(lo), constant(hi));
    }

    public Node where(Node condition, Node a, Node b) {
        return apply(Elementwise.WHERE, condition, a, b);
    }

    public Node matmul(Node a, Node b, boolean transposeA, boolean transposeB) {
        return apply(new Matmul(transposeA, transposeB), a, b);
    }

    /** PyTorch's linear layer, x W^T + b, with W stored [out, in]. */
    public Node linear(Node x, Node weight, Node bias) {
        return add(matmul(x, weight, false, true), bias);
    }

    /** Sums {@code x} down to {@code shape}; returns {@code x} itself when the shapes agree. */
    public Node sumTo(Node x, Shape shape) {
        return x.shape().equals(shape) ? x : apply(new Reduce.SumTo(shape), x);
    }

    /** Sums every element of {@code x} into a scalar. */
    public Node sum(Node x) {
        return sumTo(x, Shape.SCALAR);
    }

    /** Broadcasts {@code x} to {@code shape}; returns {@code x} itself when the shapes agree. */
    public Node broadcastTo(Node x, Shape shape) {
        return x.shape().equals(shape) ? x : apply(new Reduce.BroadcastTo(shape), x);
    }

    /** Returns the maximum of {@code x} over the axes along which {@code shape} broadcasts to it. */
    public Node maxTo(Node x, Shape shape) {
        return x.shape().equals(shape) ? x : apply(new Reduce.Extreme(shape, true), x);
    }

    /** Returns the minimum of {@code x} over the axes along which {@code shape} broadcasts to it. */
    public Node minTo(Node x, Shape shape) {
        return x.shape().equals(shape) ? x : apply(new Reduce.Extreme(shape, false), x);
    }

    public Node stopGradient(Node x) {
        return apply(Elementwise.STOP_GRADIENT, x);
    }

    /** Reorders the axes of {@code x}: result axis i is axis {@code axes[i]} of {@code x}. */
    public Node permute(Node x, int... axes) {
        boolean identity = true;
        for (int i = 0; i < axes.length; i++) {
            identity &= axes[i] == i;
        }
        if (identity && axes.length == x.shape().rank()) {
            return x;
        }
        return apply(new Layout.Permute(java.util.Arrays.stream(axes).boxed().toList()), x);
    }

    /** Swaps two axes of {@code x}. */
    public Node transpose(Node x, int first, int second) {
        int[] axes = new int[x.shape().rank()];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i;
        }
        axes[first] = second;
        axes[second] = first;
        return permute(x, axes);
    }

    /** Returns the elements of {@code x}, row-major, in {@code shape}, or {@code x} itself when the shapes agree. */
    public Node reshape(Node x, Shape shape) {
        return x.shape().equals(shape) ? x : apply(new Layout.Reshape(shape), x);
    }

    /** {@code x[start:stop:step]} along {@code axis}; {@code x} itself when that keeps every element. */
    public Node slice(Node x, int axis, int start, int stop, int step) {
        if (start == 0 && step == 1 && axis < x.shape().rank() && stop == x.shape().dim(axis)) {
            return x;
        }
        return apply(new Layout.Slice(axis, start, stop, step), x);
    }

    /** Joins tensors along {@code axis}. */
    public Node concat(int axis, List<Node> parts) {
        return parts.size() == 1 ? parts.get(0) : apply(new Layout.Concat(axis), parts.toArray(Node[]::new));
    }

    // ---- reductions over axes --------------------------------------------------------------

    /** Kinds of reduction over chosen axes. */
    public enum Reduction {
        SUM, MEAN, MAX, MIN, LOGSUMEXP
    }

    /**
     * Reduces {@code x} over {@code axes} (negative axes count from the end, as in PyTorch),
     * keeping them with extent 1 when {@code keepdim} is set, else dropping them. Reducing the
     * batch axis gives a result without one.
     */
    public Node reduce(Reduction kind, Node x, int[] axes, boolean keepdim) {
        Shape shape = x.shape();
        boolean[] reduced = new boolean[shape.rank()];
        for (int axis : axes) {
            int a = Layout.axis(axis, shape.rank(), kind.name().toLowerCase(java.util.Locale.ROOT));
            if (reduced[a]) {
                throw new ShapeException("axis " + axis + " is listed twice in " + java.util.Arrays.toString(axes));
            }
            reduced[a] = true;
        }

        int[] kept = shape.dims();
        List<Integer> dropped = new ArrayList<>();
        boolean batchReduced = false;
        long count = 1;
        for (int a = 0; a < kept.length; a++) {
            if (reduced[a]) {
                if (kept[a] == Shape.BATCH) {
                    batchReduced = true;
                } else {
                    count *= kept[a];
                }
                kept[a] = 1;
            } else {
                dropped.add(kept[a]);
            }
        }

        Shape keptShape = Shape.of(kept);
        Node result = switch (kind) {
            case SUM -> sumTo(x, keptShape);
            case MEAN -> {
                Node sum = div(sumTo(x, keptShape), constant(count));
                yield batchReduced ? div(sum, batchSize()) : sum;
            }
            case MAX -> maxTo(x, keptShape);
            case MIN -> minTo(x, keptShape);
            case LOGSUMEXP -> logSumExp(x, keptShape);
        };

        if (keepdim) {
            return result;
        }
        return reshape(result, Shape.of(dropped.stream().mapToInt(Integer::intValue).toArray()));
    }

    /**
     * log(sum(exp(x))) over the axes along which {@code shape} broadcasts to {@code x}, computed
     * as m + log(sum(exp(x - m))) with m the maximum, or 0 where the maximum is infinite so that
     * an all -inf slice gives -inf and an inf gives inf, as in PyTorch. The shift m has no
     * derivative: the value does not depend on it, and its derivatives are those of the
     * unshifted form at every order.
     */
    public Node logSumExp(Node x, Shape shape) {
        Node max = maxTo(x, shape);
        Node finite = where(eq(abs(max), constant(Double.POSITIVE_INFINITY)), constant(0), max);
        Node shift = stopGradient(finite);
        return add(log(sumTo(exp(sub(x, shift)), shape)), shift);
    }

    public Node rowSum(Node x) {
        return apply(RowOp.ROW_SUM, x);
    }

    public Node softmax(Node x) {
        return apply(RowOp.SOFTMAX, x);
    }

    public Node logSoftmax(Node x) {
        return apply(RowOp.LOG_SOFTMAX, x);
    }

    public Node pick(Node x, Node index) {
        return apply(new IndexOp.Pick(), x, index);
    }

    public Node oneHot(Node g, Node index, int classes) {
        return apply(new IndexOp.OneHot(classes), g, index);
    }

    // ---- layers ----------------------------------------------------------------------------

    /**
     * PyTorch's {@code layer_norm} over the last axis with an elementwise affine map:
     * (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance mean((x - mean)^2).
     * It is built from reductions and elementwise ops, so every order of derivative comes from
     * their rules.
     *
     * @param weight the scale, shaped like the last axis of {@code x}
     * @param bias the shift, shaped like the last axis of {@code x}
     */
    public Node layerNorm(Node x, Node weight, Node bias, double eps) {
        Node mean = reduce(Reduction.MEAN, x, new int[] {-1}, true);
        Node centered = sub(x, mean);
        Node variance = reduce(Reduction.MEAN, square(centered), new int[] {-1}, true);
        Node normalized = mul(centered, rsqrt(add(variance, constant(eps))));
        return add(mul(normalized, weight), bias);
    }

    /**
     * Looks up the rows of an embedding {@code table} [N, D] at {@code indices}, giving
     * indices.shape + [D]. An index that is not an integer in [0, N) gives a row of NaN.
     */
    public Node embedding(Node table, Node indices) {
        return apply(new IndexOp.GatherRows(true), table, indices);
    }

    /**
     * Applies dropout with probability {@code p} and mask stream {@code stream}; see {@link Dropout}.
     * Returns {@code x} itself for p = 0.
     *
     * @throws IrException if p is outside [0, 1]
     */
    public Node dropout(Node x, double p, int stream) {
        Dropout op = new Dropout(p, stream);
        if (p == 0) {
            return x;
        }
        return apply(op, x, hyper(Hyperparameters.DROPOUT_SEED), hyper(Hyperparameters.DROPOUT_STEP));
    }

    // ---- results ---------------------------------------------------------------------------

    /** Declares a named result of the graph. */
    public void output(String label, Node value) {
        if (outputs.putIfAbsent(label, value) != null) {
            throw new IrException("output '" + label + "' is declared twice");
        }
    }

    /** Declares that, at the end of the computation, {@code value} overwrites a parameter or state. */
    public void store(Node target, Node value) {
        if (!(target.op() instanceof Leaf.Param || target.op() instanceof Leaf.State)) {
            throw new IrException("only parameters and optimizer state can be stored to, not " + target);
        }
        if (!target.shape().equals(value.shape())) {
            throw new IrException("store of " + value + " into " + target + ": shapes differ");
        }
        if (stores.putIfAbsent(target, value) != null) {
            throw new IrException(target.op().text() + " is stored to twice");
        }
    }

    public List<Node> nodes() {
        return List.copyOf(nodes);
    }

    /** Returns the graph built so far. */
    public Graph build() {
        return new Graph(name, nodes, outputs, stores);
    }

    public String name() {
        return name;
    }
}
