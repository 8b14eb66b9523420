package dev.kiln.ir;

import java.util.List;

/**
 * Matrix product {@code op(a) op(b)} where {@code op} transposes the last two axes when the flag
 * is set. Of rank-2 operands, the contracted axis may be the batch axis, which is how a weight
 * gradient sums over the samples of a batch. With a rank-3 operand the product is batched over
 * axis 0, which may be the batch axis; a rank-2 operand is then shared by every matrix.
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
        if (a.rank() < 2 || a.rank() > 3 || b.rank() < 2 || b.rank() > 3) {
            throw new ShapeException("matmul takes rank-2 or rank-3 operands, got " + a + " and " + b);
        }
        int ra = a.rank() - 2;
        int rb = b.rank() - 2;
        int m = transposeA ? a.dim(ra + 1) : a.dim(ra);
        int ka = transposeA ? a.dim(ra) : a.dim(ra + 1);
        int kb = transposeB ? b.dim(rb + 1) : b.dim(rb);
        int n = transposeB ? b.dim(rb) : b.dim(rb + 1);
        if (ka != kb) {
            throw new ShapeException("matmul contracts extent " + Shape.extentName(ka) + " of " + a
                    + (transposeA ? " (transposed)" : "") + " with extent " + Shape.extentName(kb)
                    + " of " + b + (transposeB ? " (transposed)" : ""));
        }
        if (ra == 0 && rb == 0) {
            if (n == Shape.BATCH) {
                throw new ShapeException("matmul result would have the batch axis last: " + a + " x " + b);
            }
            return Shape.of(m, n);
        }
        if (m == Shape.BATCH || n == Shape.BATCH || ka == Shape.BATCH) {
            throw new ShapeException("a batched matmul multiplies the last two axes, which cannot be the batch axis: "
                    + a + " x " + b);
        }
        int leading = ra == 1 ? a.dim(0) : b.dim(0);
        if (ra == 1 && rb == 1 && a.dim(0) != b.dim(0)) {
            throw new ShapeException("batched matmul needs equal leading extents, got " + a + " and " + b);
        }
        return Shape.of(leading, m, n);
    }

    /** Number of matrices in a batched product at a given batch size; 1 for a rank-2 product. */
    public static long count(Node node, long batch) {
        return node.shape().rank() == 3 ? node.shape().concrete(batch)[0] : 1;
    }

    @Override
    public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
        int[] a = node.input(0).shape().concrete(context.batch());
        int[] b = node.input(1).shape().concrete(context.batch());
        int ra = a.length - 2;
        int rb = b.length - 2;
        int m = transposeA ? a[ra + 1] : a[ra];
        int k = transposeA ? a[ra] : a[ra + 1];
        int n = transposeB ? b[rb] : b[rb + 1];
        int count = (int) count(node, context.batch());
        double[] x = inputs.get(0);
        double[] y = inputs.get(1);
        double[] out = new double[count * m * n];
        for (int l = 0; l < count; l++) {
            int xBase = ra == 1 ? l * m * k : 0;
            int yBase = rb == 1 ? l * k * n : 0;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        double av = transposeA ? x[xBase + p * m + i] : x[xBase + i * k + p];
                        double bv = transposeB ? y[yBase + j * k + p] : y[yBase + p * n + j];
                        sum += av * bv;
                    }
                    out[l * m * n + i * n + j] = sum;
                }
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
        Node da;
        Node dw;
        if (!transposeA && !transposeB) {
            da = b.matmul(g, w, false, true);
            dw = b.matmul(a, g, true, false);
        } else if (!transposeA) {
            da = b.matmul(g, w, false, false);
            dw = b.matmul(g, a, true, false);
        } else if (!transposeB) {
            da = b.matmul(w, g, false, true);
            dw = b.matmul(a, g, false, false);
        } else {
            da = b.matmul(w, g, true, true);
            dw = b.matmul(g, a, true, true);
        }
        // An operand of rank 2 in a batched product was used by every matrix: sum its cotangents.
        return List.of(b.sumTo(da, a.shape()), b.sumTo(dw, w.shape()));
    }
}
