package dev.kiln.ir;

import java.util.List;

/** Ops over the last axis of a tensor, one row at a time. */
public final class RowOp implements Op {
    /** softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x); stable for any finite x. */
    public static final RowOp SOFTMAX = new RowOp("softmax");
    /** log_softmax(x)_i = x_i - max x - log sum_j exp(x_j - max x). */
    public static final RowOp LOG_SOFTMAX = new RowOp("log_softmax");
    /** Sum over the last axis, keeping it with extent 1. */
    public static final RowOp ROW_SUM = new RowOp("row_sum");

    private final String text;

    private RowOp(String text) {
        this.text = text;
    }

    @Override
    public String name() {
        return text;
    }

    @Override
    public String toString() {
        return text;
    }

    @Override
    public Kernel kernel() {
        return Kernel.ROW;
    }

    @Override
    public Shape shape(List<Node> inputs) {
        Shape x = inputs.get(0).shape();
        if (x.rank() == 0) {
            throw new ShapeException(text + " needs at least one axis, got a scalar");
        }
        return this == ROW_SUM ? x.withLast(1) : x;
    }

    @Override
    public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
        return evaluateRows(inputs.get(0), node.input(0).shape().last());
    }

    /** Evaluates the op on row-major {@code x} whose rows have {@code width} elements. */
    public double[] evaluateRows(double[] x, int width) {
        int rows = width == 0 ? 0 : x.length / width;
        double[] out = new double[this == ROW_SUM ? rows : x.length];
        for (int r = 0; r < rows; r++) {
            int base = r * width;
            if (this == ROW_SUM) {
                double sum = 0;
                for (int i = 0; i < width; i++) {
                    sum += x[base + i];
                }
                out[r] = sum;
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < width; i++) {
                max = Math.max(max, x[base + i]);
            }
            double sum = 0;
            for (int i = 0; i < width; i++) {
                sum += Math.exp(x[base + i] - max);
            }
            for (int i = 0; i < width; i++) {
                out[base + i] = this == SOFTMAX
                        ? Math.exp(x[base + i] - max) / sum
                        : x[base + i] - max - Math.log(sum);
            }
        }
        return out;
    }

    /**
     * softmax: dx = y * (g - sum(g * y)); log_softmax: dx = g - exp(y) * sum(g), since exp(y) is
     * the softmax; row_sum: dx = g broadcast along the row.
     */
    @Override
    public List<Node> vjp(GraphBuilder b, Node y, Node g) {
        if (this == SOFTMAX) {
            return List.of(b.mul(y, b.sub(g, b.rowSum(b.mul(g, y)))));
        }
        if (this == LOG_SOFTMAX) {
            return List.of(b.sub(g, b.mul(b.exp(y), b.rowSum(g))));
        }
        return List.of(b.broadcastTo(g, y.input(0).shape()));
    }
}
