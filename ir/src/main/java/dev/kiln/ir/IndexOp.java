package dev.kiln.ir;

import java.util.List;

/**
 * Gather and scatter by integer indices: {@link Pick} and {@link OneHot} along the last axis, one
 * class index per row, and {@link GatherRows} and {@link ScatterAddRows}, the rows of an embedding
 * table. Each pair is linear and each op is the other's VJP; the indices have no derivative.
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

    /**
     * gather_rows(table[N,D], idx[...])[..., d] = table[idx[...], d], the lookup of an embedding
     * table. The indices may be f32 (a model input holding integers) or i32. An index that is not
     * an integer in [0, N), NaN included, gives a row of NaN when {@code nanOnInvalid} is set, so
     * a bad index shows in the output instead of reading out of bounds; otherwise a row of zeros,
     * which is the exact VJP of {@link ScatterAddRows}, where such an index contributes nothing.
     */
    public record GatherRows(boolean nanOnInvalid) implements Op {
        public String name() {
            return "gather_rows";
        }

        public String attributes() {
            return nanOnInvalid ? "invalid=nan" : "invalid=zero";
        }

        public Kernel kernel() {
            return Kernel.INDEX;
        }

        public Shape shape(List<Node> inputs) {
            Shape table = inputs.get(0).shape();
            if (table.rank() != 2 || table.isBatched()) {
                throw new ShapeException("gather_rows takes a table [N, D] without a batch axis, got " + table);
            }
            int[] index = inputs.get(1).shape().dims();
            int[] out = java.util.Arrays.copyOf(index, index.length + 1);
            out[index.length] = table.dim(1);
            return Shape.of(out);
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            double[] table = inputs.get(0);
            double[] index = inputs.get(1);
            int rows = node.input(0).shape().dim(0);
            int width = node.input(0).shape().dim(1);
            double[] out = new double[index.length * width];
            for (int r = 0; r < index.length; r++) {
                int row = validRow(index[r], rows);
                for (int d = 0; d < width; d++) {
                    out[r * width + d] = row >= 0 ? table[row * width + d] : (nanOnInvalid ? Double.NaN : 0.0);
                }
            }
            return out;
        }

        /** The lookup is linear in the table: the cotangent of the table adds each row's cotangent at its index. */
        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            Node table = node.input(0);
            return java.util.Arrays.asList(b.apply(new ScatterAddRows(table.shape().dim(0)), g, node.input(1)), null);
        }
    }

    /**
     * scatter_add_rows(g[..., D], idx[...], N)[n, d] = sum of g[..., d] over the positions whose
     * index is n: the VJP of {@link GatherRows}. Positions with an index that is not an integer in
     * [0, N) add nothing.
     */
    public record ScatterAddRows(int rows) implements Op {
        public String name() {
            return "scatter_add_rows";
        }

        public String attributes() {
            return Integer.toString(rows);
        }

        public Kernel kernel() {
            return Kernel.INDEX;
        }

        public Shape shape(List<Node> inputs) {
            Shape g = inputs.get(0).shape();
            Shape index = inputs.get(1).shape();
            if (g.rank() != index.rank() + 1 || !g.withLast(1).equals(Shape.of(appendOne(index.dims())))) {
                throw new ShapeException("scatter_add_rows takes g [..., D] and indices [...] of the same leading shape,"
                        + " got " + g + " and " + index);
            }
            return Shape.of(rows, g.last());
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            double[] g = inputs.get(0);
            double[] index = inputs.get(1);
            int width = node.shape().dim(1);
            double[] out = new double[rows * width];
            for (int r = 0; r < index.length; r++) {
                int row = validRow(index[r], rows);
                if (row < 0) {
                    continue;
                }
                for (int d = 0; d < width; d++) {
                    out[row * width + d] += g[r * width + d];
                }
            }
            return out;
        }

        /** Linear in g: the cotangent of g gathers the output cotangent's rows; invalid positions get 0. */
        public List<Node> vjp(GraphBuilder b, Node node, Node cotangent) {
            return java.util.Arrays.asList(b.apply(new GatherRows(false), cotangent, node.input(1)), null);
        }
    }

    /** Returns {@code index} as a row of a table with {@code rows} rows, or -1 if it is not an integer in [0, rows). */
    static int validRow(double index, int rows) {
        return index >= 0 && index < rows && index == Math.rint(index) ? (int) index : -1;
    }

    private static int[] appendOne(int[] dims) {
        int[] out = java.util.Arrays.copyOf(dims, dims.length + 1);
        out[dims.length] = 1;
        return out;
    }
}
