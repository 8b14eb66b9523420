package dev.kiln.ir;

import java.util.List;

/**
 * Gather and scatter along the last axis by integer class indices, one index per row. They are
 * linear and each other's VJP.
 */
public final class IndexOp {
    private IndexOp() {
    }

    /** pick(x[B,C], idx[B])[r] = x[r, idx[r]]. */
    public record Pick() implements Op {
        public String name() {
            return "pick";
        }

        public Kernel kernel() {
            return Kernel.INDEX;
        }

        public Shape shape(List<Node> inputs) {
            Shape x = inputs.get(0).shape();
            Node index = inputs.get(1);
            if (x.rank() != 2 || index.dtype() != DType.I32 || index.shape().rank() != 1
                    || index.shape().dim(0) != x.dim(0)) {
                throw new ShapeException("pick takes f32[N,C] and i32[N], got " + x + " and "
                        + index.dtype().text() + index.shape());
            }
            return Shape.of(x.dim(0));
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            double[] x = inputs.get(0);
            double[] index = inputs.get(1);
            int width = node.input(0).shape().last();
            double[] out = new double[index.length];
            for (int r = 0; r < index.length; r++) {
                out[r] = x[r * width + (int) index[r]];
            }
            return out;
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            return java.util.Arrays.asList(b.oneHot(g, node.input(1), node.input(0).shape().last()), null);
        }
    }

    /** one_hot(g[B], idx[B], C)[r, c] = g[r] if c == idx[r], else 0. */
    public record OneHot(int classes) implements Op {
        public String name() {
            return "one_hot";
        }

        public String attributes() {
            return Integer.toString(classes);
        }

        public Kernel kernel() {
            return Kernel.INDEX;
        }

        public Shape shape(List<Node> inputs) {
            Shape g = inputs.get(0).shape();
            Node index = inputs.get(1);
            if (g.rank() != 1 || index.dtype() != DType.I32 || !index.shape().equals(g)) {
                throw new ShapeException("one_hot takes f32[N] and i32[N], got " + g + " and "
                        + index.dtype().text() + index.shape());
            }
            return Shape.of(g.dim(0), classes);
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            double[] g = inputs.get(0);
            double[] index = inputs.get(1);
            double[] out = new double[g.length * classes];
            for (int r = 0; r < g.length; r++) {
                out[r * classes + (int) index[r]] = g[r];
            }
            return out;
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            return java.util.Arrays.asList(b.pick(g, node.input(1)), null);
        }
    }
}
