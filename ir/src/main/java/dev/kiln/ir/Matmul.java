package dev.kiln.ir;

import java.util.List;

/**
 * Matrix product of two rank-2 tensors, {@code op(a) op(b)} where {@code op} transposes when the
 * flag is set. The contracted axis may be the batch axis, which is how a weight gradient sums
 * over the samples of a batch.
 */
public record Matmul(boolean transposeA, boolean transposeB) implements Op {

    @Override
    public String name() {
        return "matmul";
    }

    @Override
    public String attributes() {
        return (transposeA ? "aT" : "") + (transposeA && transposeB ? " " : "") + (transposeB ? "bT" : "");
    }

    @Override
    public Kernel kernel() {
        return Kernel.MATMUL;
    }

    @Override
    public Shape shape(List<Node> inputs) {
        Shape a = inputs.get(0).shape();
        Shape b = inputs.get(1).shape();
        if (a.rank() != 2 || b.rank() != 2) {
            throw new ShapeException("matmul takes rank-2 operands, got " + a + " and " + b);
        }
        int m = transposeA ? a.dim(1) : a.dim(0);
        int ka = transposeA ? a.dim(0) : a.dim(1);
        int kb = transposeB ? b.dim(1) : b.dim(0);
        int n = transposeB ? b.dim(0) : b.dim(1);
        if (ka != kb) {
            throw new ShapeException("matmul contracts extent " + Shape.extentName(ka) + " of " + a
                    + (transposeA ? " (transposed)" : "") + " with extent " + Shape.extentName(kb)
                    + " of " + b + (transposeB ? " (transposed)" : ""));
        }
        if (n == Shape.BATCH) {
            throw new ShapeException("matmul result would have the batch axis last: " + a + " x " + b);
        }
        return Shape.of(m, n);
    }

    @Override
    public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
        int[] a = node.input(0).shape().concrete(context.batch());
        int[] b = node.input(1).shape().concrete(context.batch());
        int m = transposeA ? a[1] : a[0];
        int k = transposeA ? a[0] : a[1];
        int n = transposeB ? b[0] : b[1];
        double[] x = inputs.get(0);
        double[] y = inputs.get(1);
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    double av = transposeA ? x[p * a[1] + i] : x[i * a[1] + p];
                    double bv = transposeB ? y[j * b[1] + p] : y[p * b[1] + j];
                    sum += av * bv;
                }
                out[i * n + j] = sum;
            }
        }
        return out;
    }

    /**
     * For C = op(A) op(B) with cotangent G: without transposes dA = G B^T and dB = A^T G; each
     * transpose flag swaps the roles by the identity (XY)^T = Y^T X^T.
     */
    @Override
    public List<Node> vjp(GraphBuilder b, Node node, Node g) {
        Node a = node.input(0);
        Node w = node.input(1);
        if (!transposeA && !transposeB) {
            return List.of(b.matmul(g, w, false, true), b.matmul(a, g, true, false));
        }
        if (!transposeA) {
            return List.of(b.matmul(g, w, false, false), b.matmul(g, a, true, false));
        }
        if (!transposeB) {
            return List.of(b.matmul(w, g, false, true), b.matmul(a, g, false, false));
        }
        return List.of(b.matmul(w, g, true, true), b.matmul(g, a, true, true));
    }
}
