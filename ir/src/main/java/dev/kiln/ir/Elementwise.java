package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Elementwise ops with NumPy broadcasting. Each row of the table below gives an op's value in
 * double precision, its C expression and its VJP, built from other IR ops so that derivatives
 * can be differentiated again.
 *
 * <p>C expressions receive operand expressions and a type suffix: {@code "f"} for float tensors,
 * {@code ""} for scalars that the lowering computes in double.
 */
public final class Elementwise implements Op {

    /** Value of the op for its operands, in double precision. */
    @FunctionalInterface
    public interface Value {
        double apply(double[] operands);
    }

    /** C text of the op applied to operand expressions. */
    @FunctionalInterface
    public interface CText {
        String render(String[] operands, String suffix);
    }

    /** Cotangents of the operands, before summing back over broadcast axes. */
    @FunctionalInterface
    public interface Vjp {
        List<Node> apply(GraphBuilder b, Node out, List<Node> in, Node cotangent);
    }

    private final String name;
    private final int arity;
    private final Value value;
    private final CText c;
    private final Vjp vjp;

    private Elementwise(String name, int arity, Value value, CText c, Vjp vjp) {
        this.name = name;
        this.arity = arity;
        this.value = value;
        this.c = c;
        this.vjp = vjp;
    }

    private static Elementwise unary(String name, DoubleUnaryOperator f, CText c, Vjp vjp) {
        return new Elementwise(name, 1, x -> f.applyAsDouble(x[0]), c, vjp);
    }

    private static Elementwise binary(String name, DoubleBinaryOperator f, CText c, Vjp vjp) {
        return new Elementwise(name, 2, x -> f.applyAsDouble(x[0], x[1]), c, vjp);
    }

    private static CText call(String function) {
        return (x, s) -> function + s + "(" + x[0] + ")";
    }

    private static CText infix(String operator) {
        return (x, s) -> "(" + x[0] + " " + operator + " " + x[1] + ")";
    }

    private static List<Node> one(Node cotangent) {
        return List.of(cotangent);
    }

    // ---- the table -------------------------------------------------------------------------

    public static final Elementwise NEG = unary("neg", x -> -x,
            (x, s) -> "(-" + x[0] + ")",
            (b, y, in, g) -> one(b.neg(g)));

    /** exp: d/dx = exp(x) = y. */
    public static final Elementwise EXP = unary("exp", Math::exp, call("exp"),
            (b, y, in, g) -> one(b.mul(g, y)));

    /** log: d/dx = 1/x. */
    public static final Elementwise LOG = unary("log", Math::log, call("log"),
            (b, y, in, g) -> one(b.div(g, in.get(0))));

    /** tanh: d/dx = 1 - tanh(x)^2, which is exactly 0 where tanh saturates to +-1. */
    public static final Elementwise TANH = unary("tanh", Math::tanh, call("tanh"),
            (b, y, in, g) -> one(b.mul(g, b.sub(b.constant(1), b.mul(y, y)))));

    /**
     * sigmoid, evaluated in the form that never overflows: 1/(1+e^-x) for x >= 0 and
     * e^x/(1+e^x) otherwise. d/dx = y(1 - y).
     */
    public static final Elementwise SIGMOID = unary("sigmoid", Elementwise::sigmoid,
            call("kiln_sigmoid"),
            (b, y, in, g) -> one(b.mul(g, b.mul(y, b.sub(b.constant(1), y)))));

    /** relu: the derivative at 0 is taken as 0, as in PyTorch. */
    public static final Elementwise RELU = unary("relu", x -> x > 0 ? x : 0.0,
            (x, s) -> "kiln_relu" + s + "(" + x[0] + ")",
            (b, y, in, g) -> one(b.mul(g, b.step(in.get(0)))));

    /** Heaviside step, 1 where x > 0, else 0; its derivative is 0 everywhere. */
    public static final Elementwise STEP = unary("step", x -> x > 0 ? 1.0 : 0.0,
            (x, s) -> "(" + x[0] + " > 0 ? 1 : 0)",
            (b, y, in, g) -> Arrays.asList((Node) null));

    public static final Elementwise SQRT = unary("sqrt", Math::sqrt, call("sqrt"),
            (b, y, in, g) -> one(b.div(g, b.mul(b.constant(2), y))));

    public static final Elementwise ADD = binary("add", Double::sum, infix("+"),
            (b, y, in, g) -> List.of(g, g));

    public static final Elementwise SUB = binary("sub", (x, z) -> x - z, infix("-"),
            (b, y, in, g) -> List.of(g, b.neg(g)));

    public static final Elementwise MUL = binary("mul", (x, z) -> x * z, infix("*"),
            (b, y, in, g) -> List.of(b.mul(g, in.get(1)), b.mul(g, in.get(0))));

    /** div: d/da = 1/b, d/db = -a/b^2 = -y/b. */
    public static final Elementwise DIV = binary("div", (x, z) -> x / z, infix("/"),
            (b, y, in, g) -> List.of(b.div(g, in.get(1)), b.neg(b.div(b.mul(g, y), in.get(1)))));

    /** pow with a tensor exponent: d/da = b a^(b-1), d/db = ln(a) a^b, taken as 0 where a^b is 0. */
    public static final Elementwise POW = binary("pow", Math::pow, (x, s) -> "pow" + s + "(" + x[0] + ", " + x[1] + ")",
            (b, y, in, g) -> List.of(
                    b.mul(g, b.mul(in.get(1), b.pow(in.get(0), b.sub(in.get(1), b.constant(1))))),
                    b.mul(g, b.where(b.eq(y, b.constant(0)), b.constant(0), b.mul(y, b.log(in.get(0)))))));

    /** 1 where a == b, else 0. It is not differentiable, so it passes no cotangent to its operands. */
    public static final Elementwise EQ = binary("eq", (x, z) -> x == z ? 1.0 : 0.0,
            (x, s) -> "(" + x[0] + " == " + x[1] + " ? 1 : 0)",
            (b, y, in, g) -> Arrays.asList(null, null));

    /** where(c, a, b) picks a where c is nonzero, else b; the cotangent goes to the picked side. */
    public static final Elementwise WHERE = new Elementwise("where", 3,
            x -> x[0] != 0 ? x[1] : x[2],
            (x, s) -> "(" + x[0] + " != 0 ? " + x[1] + " : " + x[2] + ")",
            (b, y, in, g) -> Arrays.asList(null,
                    b.where(in.get(0), g, b.constant(0)),
                    b.where(in.get(0), b.constant(0), g)));

    // ---- the op ----------------------------------------------------------------------------

    static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    @Override
    public String name() {
        return name;
    }

    public int arity() {
        return arity;
    }

    @Override
    public Kernel kernel() {
        return Kernel.ELEMENTWISE;
    }

    /** Returns the C expression of this op applied to operand expressions. */
    public String c(String[] operands, String suffix) {
        return c.render(operands, suffix);
    }

    @Override
    public Shape shape(List<Node> inputs) {
        if (inputs.size() != arity) {
            throw new IrException("op '" + name + "' takes " + arity + " operands, got " + inputs.size());
        }
        Shape out = inputs.get(0).shape();
        for (int i = 1; i < inputs.size(); i++) {
            out = Shape.broadcast(out, inputs.get(i).shape());
        }
        return out;
    }

    @Override
    public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
        int[] outDims = node.shape().concrete(context.batch());
        int total = Broadcasting.product(outDims);
        int[][] maps = new int[arity][];
        for (int i = 0; i < arity; i++) {
            maps[i] = Broadcasting.gatherMap(outDims, node.input(i).shape().concrete(context.batch()));
        }
        double[] out = new double[total];
        double[] operands = new double[arity];
        for (int flat = 0; flat < total; flat++) {
            for (int i = 0; i < arity; i++) {
                operands[i] = inputs.get(i)[maps[i][flat]];
            }
            out[flat] = value.apply(operands);
        }
        return out;
    }

    /** Applies the op to scalars, for constant folding. */
    public double apply(double... operands) {
        return value.apply(operands);
    }

    @Override
    public List<Node> vjp(GraphBuilder b, Node node, Node cotangent) {
        List<Node> raw = vjp.apply(b, node, node.inputs(), cotangent);
        List<Node> out = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            Node c = raw.get(i);
            out.add(c == null ? null : b.sumTo(c, node.input(i).shape()));
        }
        return out;
    }

    @Override
    public String toString() {
        return name;
    }
}
