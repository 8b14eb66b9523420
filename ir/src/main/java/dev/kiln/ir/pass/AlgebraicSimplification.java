package dev.kiln.ir.pass;

import dev.kiln.ir.DType;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.GraphCopier;
import dev.kiln.ir.Leaf;
import dev.kiln.ir.Node;
import dev.kiln.ir.Reduce;
import dev.kiln.ir.Shape;
import java.util.List;

/**
 * Rewrites algebraic identities that hold bit for bit in IEEE 754 arithmetic, in binary32 as the
 * native code computes and in binary64 as the reference evaluator computes, for every operand:
 * signed zeros, infinities, NaN and subnormals included. Only the payload and sign of a NaN may
 * change, which IEEE 754 leaves unspecified anyway.
 *
 * <p>A rewrite keeps the node's shape and dtype, touches only float operands, and builds only
 * ops that have VJP rules, so the result can be differentiated again. Nodes that a rewrite makes
 * unused stay in the graph for dead-code elimination.
 *
 * <p>Identities that change some result are left alone:
 * <ul>
 *   <li>x + 0, because -0 + 0 is +0.
 *   <li>x * 0, because inf * 0 is NaN and -1 * 0 is -0.
 *   <li>x - x and x / x, because both are NaN for inf and NaN, and x / x is NaN at 0.
 *   <li>exp(log(x)), because exp and log each round.
 *   <li>pow(x, 2) to square(x), because glibc's powf is not correctly rounded: in glibc 2.36,
 *       powf(1 + 2^-12, 2) is one ulp above x * x.
 *   <li>sum_to(x) to x's own shape, because a sum starts at +0 and so turns -0 into +0.
 *   <li>nested sum_to into one, because a float sum depends on its order.
 * </ul>
 *
 * <p>NOTE: OpenCL 1.2 allows single-precision division an error of 2.5 ulp and pow 16 ulp, so on
 * an OpenCL device the original x / 1, x / 2^k and pow(x, 1) may differ from the exact values
 * that replace them.
 */
public final class AlgebraicSimplification implements Pass {
    @Override
    public String name() {
        return "simplify";
    }

    @Override
    public Graph run(Graph graph) {
        GraphCopier copier = new GraphCopier(graph.name());
        for (Node node : graph.nodes()) {
            if (node.inputs().isEmpty()) {
                copier.copy(node);
                continue;
            }
            List<Node> inputs = node.inputs().stream().map(copier::mapped).toList();
            GraphBuilder b = copier.builder();
            b.origin(node.origin());
            Node simplified = simplify(b, node, inputs);
            // A rewrite can build a node that another rule rewrites, as 1 / 2 becomes 1 * 0.5. Each
            // rewrite drops a node, a negation or a division, so this ends.
            for (Node next = simplified; next != null; next = simplify(b, next, next.inputs())) {
                simplified = next;
            }
            if (simplified == null) {
                copier.copy(node);
            } else {
                copier.map(node, simplified);
            }
        }
        return copier.finish(graph);
    }

    /** Returns the node that replaces {@code node}, whose operands are now {@code in}, or null. */
    private static Node simplify(GraphBuilder b, Node node, List<Node> in) {
        if (node.dtype() != DType.F32 || !in.stream().allMatch(AlgebraicSimplification::isFloat)) {
            return null;
        }
        return switch (node.op()) {
            case Elementwise op when op.equals(Elementwise.MUL) -> multiply(b, node, in.get(0), in.get(1));
            case Elementwise op when op.equals(Elementwise.DIV) -> divide(b, node, in.get(0), in.get(1));
            case Elementwise op when op.equals(Elementwise.ADD) -> add(b, node, in.get(0), in.get(1));
            case Elementwise op when op.equals(Elementwise.SUB) -> subtract(b, node, in.get(0), in.get(1));
            case Elementwise op when op.equals(Elementwise.NEG) -> negate(b, node, in.get(0));
            case Elementwise op when op.equals(Elementwise.POW) -> power(node, in.get(0), in.get(1));
            case Reduce.BroadcastTo op -> broadcast(b, node, in.get(0), op.target());
            default -> null;
        };
    }

    // ---- rules -----------------------------------------------------------------------------

    private static Node multiply(GraphBuilder b, Node node, Node x, Node y) {
        // x * 1 = x for every x, signed zeros and NaN included.
        if (isFilled(y, 1) && fits(node, x)) {
            return x;
        }
        if (isFilled(x, 1) && fits(node, y)) {
            return y;
        }
        // x * -1 = -x: rounding to nearest is symmetric in sign, and the product's sign flips.
        if (isFilled(y, -1) && fits(node, x)) {
            return negation(b, x);
        }
        if (isFilled(x, -1) && fits(node, y)) {
            return negation(b, y);
        }
        // (-a) * (-c) = a * c: the two sign flips cancel and the magnitude rounds the same.
        if (isNegation(x) && isNegation(y)) {
            return b.mul(x.input(0), y.input(0));
        }
        return null;
    }

    private static Node divide(GraphBuilder b, Node node, Node x, Node y) {
        // x / 1 = x for every x, signed zeros and NaN included.
        if (isFilled(y, 1) && fits(node, x)) {
            return x;
        }
        // x / -1 = -x: rounding to nearest is symmetric in sign, and the quotient's sign flips.
        if (isFilled(y, -1) && fits(node, x)) {
            return negation(b, x);
        }
        // x / 2^k = x * 2^-k: 2^-k is exact, so both round the same real number once. A C backend
        // that contracts the product with a following add into an FMA rounds once fewer, as it does
        // for every other product.
        Double divisor = filledValue(y);
        if (divisor != null && hasExactReciprocal(divisor)) {
            return b.mul(x, filled(b, 1 / divisor, y.shape()));
        }
        // (-a) / (-c) = a / c: the two sign flips cancel and the magnitude rounds the same.
        if (isNegation(x) && isNegation(y)) {
            return b.div(x.input(0), y.input(0));
        }
        return null;
    }

    private static Node add(GraphBuilder b, Node node, Node x, Node y) {
        // x + -0 = x for every x: +0 + -0 is +0 and -0 + -0 is -0.
        if (isFilled(y, -0.0) && fits(node, x)) {
            return x;
        }
        if (isFilled(x, -0.0) && fits(node, y)) {
            return y;
        }
        // x + (-c) = x - c: IEEE 754 defines x - c as x + (-c).
        if (isNegation(y)) {
            return b.sub(x, y.input(0));
        }
        // (-a) + c = c - a: IEEE addition is commutative, and c - a is c + (-a).
        if (isNegation(x)) {
            return b.sub(y, x.input(0));
        }
        return null;
    }

    private static Node subtract(GraphBuilder b, Node node, Node x, Node y) {
        // x - +0 = x for every x: it is x + -0, and -0 - +0 is -0.
        if (isFilled(y, 0.0) && fits(node, x)) {
            return x;
        }
        // -0 - c = -c for every c: it is -0 + (-c), which keeps the sign of -c even at zero.
        if (isFilled(x, -0.0) && fits(node, y)) {
            return negation(b, y);
        }
        // x - (-c) = x + c: IEEE 754 defines x - (-c) as x + c.
        if (isNegation(y)) {
            return b.add(x, y.input(0));
        }
        return null;
    }

    private static Node negate(GraphBuilder b, Node node, Node x) {
        // -(-a) = a: negation flips only the sign bit.
        if (isNegation(x) && fits(node, x.input(0))) {
            return x.input(0);
        }
        return null;
    }

    private static Node power(Node node, Node x, Node exponent) {
        // pow(x, 1) = x: Java's Math.pow specifies it, and glibc 2.36's powf returns x for every float.
        if (isFilled(exponent, 1) && fits(node, x)) {
            return x;
        }
        return null;
    }

    private static Node broadcast(GraphBuilder b, Node node, Node x, Shape target) {
        // broadcast_to x's own shape copies each element unchanged.
        if (fits(node, x)) {
            return x;
        }
        // Broadcasting twice copies x[j] to the same places as broadcasting once to the final shape.
        if (x.op() instanceof Reduce.BroadcastTo && isFloat(x.input(0))) {
            return b.broadcastTo(x.input(0), target);
        }
        return null;
    }

    // ---- operands --------------------------------------------------------------------------

    /** Returns whether {@code replacement} has the shape and dtype of {@code node}, so it can replace it. */
    private static boolean fits(Node node, Node replacement) {
        return replacement.shape().equals(node.shape()) && replacement.dtype() == node.dtype();
    }

    private static boolean isFloat(Node node) {
        return node.dtype() == DType.F32;
    }

    /** Returns whether {@code node} negates a float value, which a rule may then read directly. */
    private static boolean isNegation(Node node) {
        return node.op().equals(Elementwise.NEG) && isFloat(node.input(0));
    }

    /** Returns -x, reading a through when x is -a. */
    private static Node negation(GraphBuilder b, Node x) {
        return isNegation(x) ? x.input(0) : b.neg(x);
    }

    /** Returns the value of a constant, or of a constant broadcast to a tensor, else null. */
    private static Double filledValue(Node node) {
        Node source = node.op() instanceof Reduce.BroadcastTo ? node.input(0) : node;
        return source.op() instanceof Leaf.Constant constant ? constant.value() : null;
    }

    /** Returns whether {@code node} is filled with {@code value}, distinguishing -0.0 from +0.0. */
    private static boolean isFilled(Node node, double value) {
        Double filled = filledValue(node);
        return filled != null && Double.compare(filled, value) == 0;
    }

    /** Returns {@code value} broadcast to {@code shape}, a plain constant when the shape is scalar. */
    private static Node filled(GraphBuilder b, double value, Shape shape) {
        return b.broadcastTo(b.constant(value), shape);
    }

    /**
     * Returns whether c = +-2^k with c and 1/c both normal binary32 numbers, so that 1/c is exact in
     * float and double and neither rounds when a kernel converts it to float.
     */
    private static boolean hasExactReciprocal(double c) {
        if (!Double.isFinite(c) || c == 0) {
            return false;
        }
        int exponent = Math.getExponent(c);
        boolean powerOfTwo = Math.abs(c) == Math.scalb(1.0, exponent);
        return powerOfTwo && exponent >= Float.MIN_EXPONENT && -exponent >= Float.MIN_EXPONENT;
    }
}
