package dev.kiln.ir;

import java.util.List;

/**
 * Sums and broadcasts between a shape and one it broadcasts to. They are each other's VJP, which
 * is how a gradient is summed back over the axes along which an operand was broadcast.
 */
public final class Reduce {
    private Reduce() {
    }

    /** Sums an operand over the axes along which {@code target} broadcasts to the operand's shape. */
    public record SumTo(Shape target) implements Op {
        public String name() {
            return "sum_to";
        }

        public String attributes() {
            return target.toString();
        }

        public Kernel kernel() {
            return Kernel.REDUCE;
        }

        public Shape shape(List<Node> inputs) {
            Shape from = inputs.get(0).shape();
            if (!Shape.broadcast(from, target).equals(from)) {
                throw new ShapeException("cannot sum " + from + " to " + target
                        + ": " + target + " does not broadcast to " + from);
            }
            return target;
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            int[] fromDims = node.input(0).shape().concrete(context.batch());
            int[] map = Broadcasting.gatherMap(fromDims, target.concrete(context.batch()));
            double[] out = new double[(int) target.elements(context.batch())];
            double[] in = inputs.get(0);
            for (int i = 0; i < map.length; i++) {
                out[map[i]] += in[i];
            }
            return out;
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            return List.of(b.broadcastTo(g, node.input(0).shape()));
        }
    }

    /** Repeats an operand along the axes on which it broadcasts to {@code target}. */
    public record BroadcastTo(Shape target) implements Op {
        public String name() {
            return "broadcast_to";
        }

        public String attributes() {
            return target.toString();
        }

        public Kernel kernel() {
            return Kernel.ELEMENTWISE;
        }

        public Shape shape(List<Node> inputs) {
            Shape from = inputs.get(0).shape();
            if (!Shape.broadcast(from, target).equals(target)) {
                throw new ShapeException("cannot broadcast " + from + " to " + target);
            }
            return target;
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            int[] map = Broadcasting.gatherMap(target.concrete(context.batch()),
                    node.input(0).shape().concrete(context.batch()));
            double[] in = inputs.get(0);
            double[] out = new double[map.length];
            for (int i = 0; i < map.length; i++) {
                out[i] = in[map[i]];
            }
            return out;
        }

        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            return List.of(b.sumTo(g, node.input(0).shape()));
        }
    }

    /**
     * The maximum ({@code max} true) or minimum of an operand over the axes along which
     * {@code target} broadcasts to the operand's shape. NaN wins, as in PyTorch's amax. The VJP
     * splits the cotangent evenly between the elements that tie for the extreme.
     */
    public record Extreme(Shape target, boolean max) implements Op {
        public String name() {
            return max ? "max_to" : "min_to";
        }

        public String attributes() {
            return target.toString();
        }

        public Kernel kernel() {
            return Kernel.REDUCE;
        }

        public Shape shape(List<Node> inputs) {
            Shape from = inputs.get(0).shape();
            if (!Shape.broadcast(from, target).equals(from)) {
                throw new ShapeException("cannot reduce " + from + " to " + target
                        + ": " + target + " does not broadcast to " + from);
            }
            if (from.elements(1) == 0 && target.elements(1) != 0) {
                throw new ShapeException("cannot take the " + (max ? "maximum" : "minimum") + " of the empty axes of " + from);
            }
            return target;
        }

        /** Returns whether {@code candidate} replaces {@code current}: it is more extreme, or NaN. */
        public boolean replaces(double candidate, double current) {
            return Double.isNaN(candidate) || (max ? candidate > current : candidate < current);
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            int[] fromDims = node.input(0).shape().concrete(context.batch());
            int[] map = Broadcasting.gatherMap(fromDims, target.concrete(context.batch()));
            double[] out = new double[(int) target.elements(context.batch())];
            java.util.Arrays.fill(out, max ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
            double[] in = inputs.get(0);
            for (int i = 0; i < map.length; i++) {
                if (!Double.isNaN(out[map[i]]) && replaces(in[i], out[map[i]])) {
                    out[map[i]] = in[i];
                }
            }
            return out;
        }

        /** dx = g / (number of ties) where x equals the extreme, 0 elsewhere. */
        public List<Node> vjp(GraphBuilder b, Node node, Node g) {
            Node x = node.input(0);
            Node ties = b.eq(x, node);
            Node count = b.sumTo(ties, target);
            return List.of(b.mul(ties, b.div(g, count)));
        }
    }
}
