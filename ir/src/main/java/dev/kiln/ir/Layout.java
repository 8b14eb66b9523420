package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Ops that move elements without computing on them: permute, reshape, slice, the scatter that is
 * a slice's VJP, and concat. Every one of them reads or writes its input at a strided offset of
 * the output's multi-index, described by {@link Strided}; the backends render that one form.
 *
 * <p>The batch axis, when present, stays axis 0 and is never moved, sliced or concatenated: its
 * extent is known only at call time.
 */
public final class Layout {
    private Layout() {
    }

    /**
     * An affine map from the multi-index of one tensor to the flat index of another:
     * {@code offset + sum(index[axis] * strides[axis])}. Strides are static, since only axis 0 may
     * be the batch axis and no stride depends on axis 0's extent.
     */
    public record Strided(long offset, long[] strides) {
        /** Returns the flat index for a multi-index. */
        public long at(int[] index) {
            long flat = offset;
            for (int axis = 0; axis < index.length; axis++) {
                flat += index[axis] * strides[axis];
            }
            return flat;
        }

        /**
         * Renders the map as a C expression over per-axis index variables named {@code i0},
         * {@code i1}, and so on, which both backends declare.
         */
        public String render() {
            List<String> terms = new ArrayList<>();
            if (offset != 0) {
                terms.add(Long.toString(offset));
            }
            for (int axis = 0; axis < strides.length; axis++) {
                if (strides[axis] == 1) {
                    terms.add("i" + axis);
                } else if (strides[axis] != 0) {
                    terms.add("i" + axis + " * " + strides[axis]);
                }
            }
            return terms.isEmpty() ? "0" : String.join(" + ", terms);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Strided s && s.offset == offset && Arrays.equals(s.strides, strides);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(offset) * 31 + Arrays.hashCode(strides);
        }

        @Override
        public String toString() {
            return offset + "+" + Arrays.toString(strides);
        }
    }

    /** Row-major strides of a shape; axis 0's stride does not depend on its extent. */
    public static long[] rowMajor(Shape shape) {
        long[] strides = new long[shape.rank()];
        long stride = 1;
        for (int axis = shape.rank() - 1; axis >= 0; axis--) {
            strides[axis] = stride;
            if (axis > 0) {
                stride *= shape.dim(axis);
            }
        }
        return strides;
    }

    /** A layout op that reads its output element at multi-index i from {@link #source(Node)}.at(i). */
    public interface Gather extends Op {
        /** Maps an output multi-index to the flat index of the input. */
        Strided source(Node node);
    }

    /** Calls {@code visit} with every multi-index of {@code dims}, in row-major order. */
    static void forEachIndex(int[] dims, java.util.function.Consumer<int[]> visit) {
        long total = 1;
        for (int d : dims) {
            total *= d;
        }
        int[] index = new int[dims.length];
        for (long flat = 0; flat < total; flat++) {
            visit.accept(index);
            for (int axis = dims.length - 1; axis >= 0; axis--) {
                if (++index[axis] < dims[axis]) {
                    break;
                }
                index[axis] = 0;
            }
        }
    }

    static double[] gather(Gather op, Node node, double[] in, long batch) {
        int[] dims = node.shape().concrete(batch);
        double[] out = new double[(int) node.shape().elements(batch)];
        Strided source = op.source(node);
        int[] next = {0};
        forEachIndex(dims, index -> out[next[0]++] = in[(int) source.at(index)]);
        return out;
    }

    static int axis(int axis, int rank, String op) {
        int resolved = axis < 0 ? axis + rank : axis;
        if (resolved < 0 || resolved >= rank) {
            throw new ShapeException(op + " axis " + axis + " is out of range for rank " + rank
                    + "; use 0.." + (rank - 1) + " or -" + rank + "..-1");
        }
        return resolved;
    }

    // ---- permute ---------------------------------------------------------------------------

    /** Reorders axes: output axis i is input axis {@code axes[i]}. Transpose is a permute of two axes. */
    public record Permute(List<Integer> axes) implements Gather {
        public Permute {
            axes = List.copyOf(axes);
        }

        public String name() {
            return "permute";
        }

        public String attributes() {
            return axes.toString().replace(" ", "");
        }

        public Kernel kernel() {
            return Kernel.LAYOUT;
        }

        public Shape shape(List<Node> inputs) {
            Shape x = inputs.get(0).shape();
            if (axes.size() != x.rank()) {
                throw new ShapeException("permute of " + x + " needs " + x.rank() + " axes, got " + axes);
            }
            boolean[] seen = new boolean[x.rank()];
            int[] dims = new int[x.rank()];
            for (int i = 0; i < axes.size(); i++) {
                int a = axes.get(i);
                if (a < 0 || a >= x.rank() || seen[a]) {
                    throw new ShapeException("permute axes " + axes + " are not a permutation of 0.." + (x.rank() - 1));
                }
                seen[a] = true;
                dims[i] = x.dim(a);
            }
            if (x.isBatched() && axes.get(0) != 0) {
                throw new ShapeException("permute " + axes + " would move the batch axis of " + x
                        + "; the batch axis must stay axis 0, so permute only axes 1.." + (x.rank() - 1));
            }
            return Shape.of(dims);
        }

        public Strided source(Node node) {
            long[] in = rowMajor(node.input(0).shape());
            long[] strides = new long[axes.size()];
            for (int i = 0; i < strides.length; i++) {
                strides[i] = in[axes.get(i)];
            }
            return new Strided(0, strides);
        }

        /** Returns the permutation that undoes this one. */
        public Permute inverse() {
            Integer[] inverse = new Integer[axes.size()];
            for (int i = 0; i < inverse.length; i++) {
                inverse[axes.get(i)] = i;
            }
            return new Permute(List.of(inverse));
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            return gather(this, node, inputs.get(0), context.batch());
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            return List.of(b.apply(inverse(), g));
        }
    }

    // ---- reshape ---------------------------------------------------------------------------

    /**
     * The same elements, row-major, in another shape. A batched input keeps its batch axis: the
     * target is batched too and has the same number of elements per sample.
     */
    public record Reshape(Shape target) implements Op {
        public String name() {
            return "reshape";
        }

        public String attributes() {
            return target.toString();
        }

        public Kernel kernel() {
            return Kernel.LAYOUT;
        }

        public Shape shape(List<Node> inputs) {
            Shape x = inputs.get(0).shape();
            if (x.isBatched() != target.isBatched()) {
                throw new ShapeException("cannot reshape " + x + " to " + target + ": "
                        + (x.isBatched() ? "the batch axis must stay axis 0 of the result"
                        : "an input without a batch axis cannot gain one"));
            }
            if (x.staticElements() != target.staticElements()) {
                throw new ShapeException("cannot reshape " + x + " to " + target + ": they hold "
                        + x.staticElements() + " and " + target.staticElements() + " elements"
                        + (x.isBatched() ? " per sample" : ""));
            }
            return target;
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            return inputs.get(0).clone();
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            return List.of(b.reshape(g, node.input(0).shape()));
        }
    }

    // ---- slice -----------------------------------------------------------------------------

    /** Elements {@code start, start + step, ...} below {@code stop} along one axis, as x[start:stop:step]. */
    public record Slice(int axis, int start, int stop, int step) implements Gather {
        public String name() {
            return "slice";
        }

        public String attributes() {
            return "axis=" + axis + " " + start + ":" + stop + ":" + step;
        }

        public Kernel kernel() {
            return Kernel.LAYOUT;
        }

        /** Number of elements the slice keeps. */
        public int length() {
            return stop <= start ? 0 : (stop - start + step - 1) / step;
        }

        public Shape shape(List<Node> inputs) {
            Shape x = inputs.get(0).shape();
            if (axis < 0 || axis >= x.rank()) {
                throw new ShapeException("slice axis " + axis + " is out of range for " + x);
            }
            if (x.dim(axis) == Shape.BATCH) {
                throw new ShapeException("cannot slice the batch axis of " + x + "; slice axes 1.." + (x.rank() - 1));
            }
            if (step < 1) {
                throw new ShapeException("slice step must be at least 1, got " + step);
            }
            if (start < 0 || stop > x.dim(axis) || start > stop) {
                throw new ShapeException("slice " + start + ":" + stop + " does not fit axis " + axis
                        + " of " + x + ", which has extent " + x.dim(axis));
            }
            int[] dims = x.dims();
            dims[axis] = length();
            return Shape.of(dims);
        }

        public Strided source(Node node) {
            long[] strides = rowMajor(node.input(0).shape());
            long offset = start * strides[axis];
            strides[axis] *= step;
            return new Strided(offset, strides);
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            return gather(this, node, inputs.get(0), context.batch());
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            return List.of(b.apply(new SliceScatter(axis, start, step, node.input(0).shape().dim(axis)), g));
        }
    }

    /**
     * The VJP of a slice: a tensor of zeros with extent {@code extent} along {@code axis}, holding
     * the input's elements at {@code start, start + step, ...}.
     */
    public record SliceScatter(int axis, int start, int step, int extent) implements Op {
        public String name() {
            return "slice_scatter";
        }

        public String attributes() {
            return "axis=" + axis + " " + start + "::" + step + " extent=" + extent;
        }

        public Kernel kernel() {
            return Kernel.LAYOUT;
        }

        public Shape shape(List<Node> inputs) {
            Shape x = inputs.get(0).shape();
            if (axis < 0 || axis >= x.rank() || x.dim(axis) == Shape.BATCH) {
                throw new ShapeException("slice_scatter axis " + axis + " is not a static axis of " + x);
            }
            int n = x.dim(axis);
            if (step < 1 || start < 0 || (n > 0 && start + (long) (n - 1) * step >= extent)) {
                throw new ShapeException("slice_scatter of " + n + " elements from " + start + " by " + step
                        + " does not fit extent " + extent);
            }
            int[] dims = x.dims();
            dims[axis] = extent;
            return Shape.of(dims);
        }

        /** Maps an input multi-index to the flat index of the output. */
        public Strided target(Node node) {
            long[] strides = rowMajor(node.shape());
            long offset = start * strides[axis];
            strides[axis] *= step;
            return new Strided(offset, strides);
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            double[] out = new double[(int) node.shape().elements(context.batch())];
            double[] in = inputs.get(0);
            Strided target = target(node);
            int[] next = {0};
            forEachIndex(node.input(0).shape().concrete(context.batch()),
                    index -> out[(int) target.at(index)] = in[next[0]++]);
            return out;
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            Shape in = node.input(0).shape();
            int stop = in.dim(axis) == 0 ? start : start + (in.dim(axis) - 1) * step + 1;
            return List.of(b.apply(new Slice(axis, start, stop, step), g));
        }
    }

    // ---- concat ----------------------------------------------------------------------------

    /** Joins tensors along one static axis; every other axis must agree. */
    public record Concat(int axis) implements Op {
        public String name() {
            return "concat";
        }

        public String attributes() {
            return "axis=" + axis;
        }

        public Kernel kernel() {
            return Kernel.LAYOUT;
        }

        public Shape shape(List<Node> inputs) {
            if (inputs.isEmpty()) {
                throw new ShapeException("concat needs at least one tensor");
            }
            Shape first = inputs.get(0).shape();
            if (axis < 0 || axis >= first.rank() || first.dim(axis) == Shape.BATCH) {
                throw new ShapeException("concat axis " + axis + " is not a static axis of " + first
                        + "; the batch axis cannot be concatenated");
            }
            int total = 0;
            for (Node in : inputs) {
                Shape s = in.shape();
                boolean fits = s.rank() == first.rank();
                for (int a = 0; fits && a < s.rank(); a++) {
                    fits = a == axis || s.dim(a) == first.dim(a);
                }
                if (!fits) {
                    throw new ShapeException("concat along axis " + axis + " needs equal extents on every other axis, got "
                            + inputs.stream().map(n -> n.shape().toString()).toList());
                }
                total += s.dim(axis);
            }
            int[] dims = first.dims();
            dims[axis] = total;
            return Shape.of(dims);
        }

        /** Maps input {@code k}'s multi-index to the flat index of the output. */
        public Strided target(Node node, int k) {
            long[] strides = rowMajor(node.shape());
            long before = 0;
            for (int i = 0; i < k; i++) {
                before += node.input(i).shape().dim(axis);
            }
            return new Strided(before * strides[axis], strides);
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            double[] out = new double[(int) node.shape().elements(context.batch())];
            for (int k = 0; k < inputs.size(); k++) {
                double[] in = inputs.get(k);
                Strided target = target(node, k);
                int[] next = {0};
                forEachIndex(node.input(k).shape().concrete(context.batch()),
                        index -> out[(int) target.at(index)] = in[next[0]++]);
            }
            return out;
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            List<Node> grads = new ArrayList<>();
            int start = 0;
            for (Node in : node.inputs()) {
                int n = in.shape().dim(axis);
                grads.add(b.apply(new Slice(axis, start, start + n, 1), g));
                start += n;
            }
            return grads;
        }
    }
}
