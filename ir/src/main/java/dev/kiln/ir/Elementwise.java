package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
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
    private final Double attribute;
    private final int arity;
    private final Value value;
    private final CText c;
    private final Vjp vjp;

    private Elementwise(String name, Double attribute, int arity, Value value, CText c, Vjp vjp) {
        this.name = name;
        this.attribute = attribute;
        this.arity = arity;
        this.value = value;
        this.c = c;
        this.vjp = vjp;
    }

    private Elementwise(String name, int arity, Value value, CText c, Vjp vjp) {
        this(name, null, arity, value, c, vjp);
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

    /** Renders a 0/1 comparison. C yields an int, which converts exactly to float or double. */
    private static CText comparison(String operator) {
        return (x, s) -> "(" + x[0] + " " + operator + " " + x[1] + " ? 1 : 0)";
    }

    /** Renders a call of a helper that takes both operands. */
    private static CText call2(String function) {
        return (x, s) -> function + s + "(" + x[0] + ", " + x[1] + ")";
    }

    /** Renders a call of a helper whose second argument is the op's attribute as a C literal. */
    private static CText callWithAttribute(String function, double attribute) {
        String literal = attribute < 0 ? "(" + attribute + ")" : Double.toString(attribute);
        return (x, s) -> function + s + "(" + x[0] + ", " + literal + ")";
    }

    /** Cotangents for ops with no derivative, such as comparisons: none reaches any operand. */
    private static List<Node> none(int arity) {
        return Arrays.asList(new Node[arity]);
    }

    private static List<Node> one(Node cotangent) {
        return List.of(cotangent);
    }

    // ---- the table -------------------------------------------------------------------------

    public static final Elementwise NEG = unary("neg", x -> -x,
            (x, s) -> "(-" + x[0] + ")",
            (b, y, in, g) -> one(b.neg(g)));

    /** exp: d/dx = exp(x) = y. */
    public static final Elementwise EXP = unary("exp", Math::exp, call("kiln_exp"),
            (b, y, in, g) -> one(b.mul(g, y)));

    /** log: d/dx = 1/x. */
    public static final Elementwise LOG = unary("log", Math::log, call("log"),
            (b, y, in, g) -> one(b.div(g, in.get(0))));

    /** tanh: d/dx = 1 - tanh(x)^2, which is exactly 0 where tanh saturates to +-1. */
    public static final Elementwise TANH = unary("tanh", Math::tanh, call("kiln_tanh"),
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

    /** log1p(x) = log(1 + x), accurate near 0: d/dx = 1/(1 + x), infinite at x = -1. */
    public static final Elementwise LOG1P = unary("log1p", Math::log1p, call("log1p"),
            (b, y, in, g) -> one(b.div(g, b.add(b.constant(1), in.get(0)))));

    /** rsqrt(x) = 1/sqrt(x): d/dx = -y^3 / 2, infinite at x = 0. */
    public static final Elementwise RSQRT = unary("rsqrt", x -> 1 / Math.sqrt(x),
            call("kiln_rsqrt"),
            (b, y, in, g) -> one(b.mul(g, b.mul(b.constant(-0.5), b.mul(y, b.mul(y, y))))));

    /** abs: d/dx = sign(x), so the derivative at 0 is 0, as in PyTorch. */
    public static final Elementwise ABS = unary("abs", Math::abs, call("fabs"),
            (b, y, in, g) -> one(b.mul(g, b.sign(in.get(0)))));

    /** sign: -1, 0 or 1, and a signed zero or NaN passes through. Its derivative is 0 everywhere. */
    public static final Elementwise SIGN = unary("sign", Math::signum, call("kiln_sign"),
            (b, y, in, g) -> none(1));

    /** sin: d/dx = cos(x). */
    public static final Elementwise SIN = unary("sin", Math::sin, call("sin"),
            (b, y, in, g) -> one(b.mul(g, b.cos(in.get(0)))));

    /** cos: d/dx = -sin(x). */
    public static final Elementwise COS = unary("cos", Math::cos, call("cos"),
            (b, y, in, g) -> one(b.neg(b.mul(g, b.sin(in.get(0))))));

    /** square: d/dx = 2x. */
    public static final Elementwise SQUARE = unary("square", x -> x * x,
            (x, s) -> "(" + x[0] + " * " + x[0] + ")",
            (b, y, in, g) -> one(b.mul(g, b.mul(b.constant(2), in.get(0)))));

    /** reciprocal 1/x: d/dx = -1/x^2 = -y^2, infinite at x = 0. */
    public static final Elementwise RECIPROCAL = unary("reciprocal", x -> 1 / x,
            (x, s) -> "(1 / " + x[0] + ")",
            (b, y, in, g) -> one(b.neg(b.mul(g, b.mul(y, y)))));

    /** erf, the Gauss error function: d/dx = 2/sqrt(pi) exp(-x^2). */
    public static final Elementwise ERF = unary("erf", Elementwise::erf, call("erf"),
            (b, y, in, g) -> one(b.mul(g, b.mul(b.constant(2 / Math.sqrt(Math.PI)),
                    b.exp(b.neg(b.square(in.get(0))))))));

    /**
     * Exact GELU, x Phi(x) with Phi the standard normal CDF, evaluated as x erfc(-x/sqrt 2)/2 so
     * that the negative tail keeps its precision. d/dx = Phi(x) + x phi(x), smooth everywhere.
     */
    public static final Elementwise GELU = unary("gelu", Elementwise::gelu, call("kiln_gelu"),
            (b, y, in, g) -> one(b.mul(g, geluDerivative(b, in.get(0)))));

    /**
     * GELU with PyTorch's tanh approximation, x (1 + tanh(u))/2 with u = sqrt(2/pi)(x + 0.044715
     * x^3). d/dx = (1 + t)/2 + x (1 - t^2) du/dx / 2 with t = tanh(u), smooth everywhere.
     */
    public static final Elementwise GELU_TANH = unary("gelu_tanh", Elementwise::geluTanh,
            call("kiln_gelu_tanh"),
            (b, y, in, g) -> one(b.mul(g, geluTanhDerivative(b, in.get(0)))));

    /** softplus log(1 + e^x), as max(x, 0) + log1p(e^-|x|) so it never overflows: d/dx = sigmoid(x). */
    public static final Elementwise SOFTPLUS = unary("softplus",
            x -> Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), call("kiln_softplus"),
            (b, y, in, g) -> one(b.mul(g, b.sigmoid(in.get(0)))));

    /** silu x sigmoid(x): d/dx = s (1 + x (1 - s)) with s = sigmoid(x), smooth everywhere. */
    public static final Elementwise SILU = unary("silu", x -> x * sigmoid(x), call("kiln_silu"),
            (b, y, in, g) -> {
                Node x = in.get(0);
                Node s = b.sigmoid(x);
                Node inner = b.add(b.constant(1), b.mul(x, b.sub(b.constant(1), s)));
                return one(b.mul(g, b.mul(s, inner)));
            });

    /** Returns leaky_relu with slope {@code alpha} for x <= 0. The derivative at 0 is alpha, as in PyTorch. */
    public static Elementwise leakyRelu(double alpha) {
        requireFinite("leaky_relu", alpha);
        return new Elementwise("leaky_relu", alpha, 1, x -> x[0] > 0 ? x[0] : alpha * x[0],
                callWithAttribute("kiln_leaky_relu", alpha),
                (b, y, in, g) -> one(b.mul(g, b.where(b.step(in.get(0)), b.constant(1), b.constant(alpha)))));
    }

    /**
     * Returns elu, x for x > 0 and alpha (e^x - 1) otherwise. The derivative at 0 is alpha, as in
     * PyTorch. For x <= 0 it is written as y + alpha = alpha e^x, which never overflows.
     */
    public static Elementwise elu(double alpha) {
        requireFinite("elu", alpha);
        return new Elementwise("elu", alpha, 1, x -> x[0] > 0 ? x[0] : alpha * Math.expm1(x[0]),
                callWithAttribute("kiln_elu", alpha),
                (b, y, in, g) -> one(b.mul(g, b.where(b.step(in.get(0)), b.constant(1),
                        b.add(y, b.constant(alpha))))));
    }

    private static void requireFinite(String op, double alpha) {
        if (!Double.isFinite(alpha)) {
            throw new IllegalArgumentException(op + " needs a finite alpha, got " + alpha);
        }
    }

    /** The operand's value with no derivative: no cotangent passes through it, at any order. */
    public static final Elementwise STOP_GRADIENT = unary("stop_gradient", x -> x, (x, s) -> x[0],
            (b, y, in, g) -> none(1));

    public static final Elementwise ADD = binary("add", Double::sum, infix("+"),
            (b, y, in, g) -> List.of(g, g));

    public static final Elementwise SUB = binary("sub", (x, z) -> x - z, infix("-"),
            (b, y, in, g) -> List.of(g, b.neg(g)));

    public static final Elementwise MUL = binary("mul", (x, z) -> x * z, infix("*"),
            (b, y, in, g) -> List.of(b.mul(g, in.get(1)), b.mul(g, in.get(0))));

    /** div: d/da = 1/b, d/db = -a/b^2 = -y/b. */
    public static final Elementwise DIV = binary("div", (x, z) -> x / z, infix("/"),
            (b, y, in, g) -> List.of(b.div(g, in.get(1)), b.neg(b.div(b.mul(g, y), in.get(1)))));

    /**
     * pow with a tensor exponent: d/da = b a^(b-1), taken as 0 where b == 0 (so d/dx x^0 is 0 at
     * x = 0), and d/db = ln(a) a^b, taken as 0 where a == 0 and b >= 0 (so d/db 0^b is 0).
     */
    public static final Elementwise POW = binary("pow", Math::pow, (x, s) -> "pow" + s + "(" + x[0] + ", " + x[1] + ")",
            (b, y, in, g) -> List.of(b.mul(g, powBase(b, in.get(0), in.get(1))),
                    b.mul(g, powExponent(b, y, in.get(0), in.get(1)))));

    /** 1 where a == b, else 0. It is not differentiable, so it passes no cotangent to its operands. */
    public static final Elementwise EQ = binary("eq", (x, z) -> x == z ? 1.0 : 0.0,
            (x, s) -> "(" + x[0] + " == " + x[1] + " ? 1 : 0)",
            (b, y, in, g) -> Arrays.asList(null, null));

    /** maximum: at a tie the cotangent splits 0.5/0.5 between the operands, as in PyTorch. */
    public static final Elementwise MAXIMUM = binary("maximum", Math::max, call2("kiln_maximum"),
            (b, y, in, g) -> tieSplit(b, g, b.gt(in.get(0), in.get(1)), b.gt(in.get(1), in.get(0)),
                    b.eq(in.get(0), in.get(1))));

    /** minimum: at a tie the cotangent splits 0.5/0.5 between the operands, as in PyTorch. */
    public static final Elementwise MINIMUM = binary("minimum", Math::min, call2("kiln_minimum"),
            (b, y, in, g) -> tieSplit(b, g, b.lt(in.get(0), in.get(1)), b.lt(in.get(1), in.get(0)),
                    b.eq(in.get(0), in.get(1))));

    /** 1 where a > b, else 0. It has no derivative, so no cotangent reaches its operands. */
    public static final Elementwise GT = binary("gt", (x, z) -> x > z ? 1.0 : 0.0, comparison(">"),
            (b, y, in, g) -> none(2));

    /** 1 where a >= b, else 0. It has no derivative, so no cotangent reaches its operands. */
    public static final Elementwise GE = binary("ge", (x, z) -> x >= z ? 1.0 : 0.0, comparison(">="),
            (b, y, in, g) -> none(2));

    /** 1 where a < b, else 0. It has no derivative, so no cotangent reaches its operands. */
    public static final Elementwise LT = binary("lt", (x, z) -> x < z ? 1.0 : 0.0, comparison("<"),
            (b, y, in, g) -> none(2));

    /** 1 where a <= b, else 0. It has no derivative, so no cotangent reaches its operands. */
    public static final Elementwise LE = binary("le", (x, z) -> x <= z ? 1.0 : 0.0, comparison("<="),
            (b, y, in, g) -> none(2));

    /** 1 where a != b (and where either is NaN), else 0. It has no derivative. */
    public static final Elementwise NE = binary("ne", (x, z) -> x != z ? 1.0 : 0.0, comparison("!="),
            (b, y, in, g) -> none(2));

    /**
     * clamp(x, lo, hi) = min(max(x, lo), hi), so hi wins where lo > hi. As in PyTorch, x gets the
     * cotangent where lo <= x <= hi, boundaries included, lo where x < lo <= hi, and hi where
     * max(x, lo) > hi. Unless an operand is NaN, exactly one operand gets it.
     */
    public static final Elementwise CLAMP = new Elementwise("clamp", 3,
            x -> Math.min(Math.max(x[0], x[1]), x[2]),
            (x, s) -> "kiln_clamp" + s + "(" + x[0] + ", " + x[1] + ", " + x[2] + ")",
            (b, y, in, g) -> {
                Node x = in.get(0);
                Node lo = in.get(1);
                Node hi = in.get(2);
                return List.of(b.mul(g, b.mul(b.ge(x, lo), b.le(x, hi))),
                        b.mul(g, b.mul(b.lt(x, lo), b.le(lo, hi))),
                        b.mul(g, b.gt(b.maximum(x, lo), hi)));
            });

    /** where(c, a, b) picks a where c is nonzero, else b; the cotangent goes to the picked side. */
    public static final Elementwise WHERE = new Elementwise("where", 3,
            x -> x[0] != 0 ? x[1] : x[2],
            (x, s) -> "(" + x[0] + " != 0 ? " + x[1] + " : " + x[2] + ")",
            (b, y, in, g) -> Arrays.asList(null,
                    b.where(in.get(0), g, b.constant(0)),
                    b.where(in.get(0), b.constant(0), g)));

    // ---- derivative helpers ----------------------------------------------------------------

    /** Cotangents of maximum or minimum: each side where it wins, half of it each at a tie. */
    private static List<Node> tieSplit(GraphBuilder b, Node g, Node firstWins, Node secondWins, Node tie) {
        Node half = b.mul(b.constant(0.5), tie);
        return List.of(b.mul(g, b.add(firstWins, half)), b.mul(g, b.add(secondWins, half)));
    }

    /**
     * d(a^b)/da = b a^(b-1), and 0 where b == 0. The exponent is replaced by 1 where b == 0, so the
     * branch that where() drops stays finite (0 * 0^-1 would be NaN), and so do its derivatives.
     */
    private static Node powBase(GraphBuilder b, Node base, Node exponent) {
        Node zero = b.constant(0);
        Node exponentIsZero = b.eq(exponent, zero);
        Node safeExponent = b.where(exponentIsZero, b.constant(1), exponent);
        Node derivative = b.mul(exponent, b.pow(base, b.sub(safeExponent, b.constant(1))));
        return b.where(exponentIsZero, zero, derivative);
    }

    /**
     * d(a^b)/db = a^b ln(a), and 0 where a == 0 and b >= 0, as in PyTorch, so d/db 0^b is 0. The
     * logarithm reads 1 there instead of 0, so the dropped branch is 0 rather than 0 * -inf or
     * 1 * -inf, and second derivatives stay finite.
     */
    private static Node powExponent(GraphBuilder b, Node y, Node base, Node exponent) {
        Node zero = b.constant(0);
        Node zeroBase = b.mul(b.eq(base, zero), b.ge(exponent, zero));
        Node safeBase = b.where(zeroBase, b.constant(1), base);
        return b.where(zeroBase, zero, b.mul(y, b.log(safeBase)));
    }

    /**
     * Phi(x) + x phi(x). The factor x of the second term is clamped to +-1e4, where phi is already
     * exactly 0 in double and float, so that x^2 cannot overflow to inf and turn 0 * inf into NaN.
     */
    private static Node geluDerivative(GraphBuilder b, Node x) {
        Node cdf = b.mul(b.constant(0.5), b.add(b.constant(1), b.erf(b.mul(x, b.constant(SQRT1_2)))));
        Node bounded = b.clamp(x, -GELU_SATURATION, GELU_SATURATION);
        Node density = b.mul(b.constant(INV_SQRT_2PI),
                b.exp(b.mul(b.constant(-0.5), b.square(bounded))));
        return b.add(cdf, b.mul(bounded, density));
    }

    /**
     * (1 + t)/2 + x (1 - t^2) du/dx / 2 with t = tanh(u(x)). It is evaluated at x clamped to
     * +-1e4, where t is exactly +-1 in double and float, so it equals the derivative at every x
     * while x^3 stays finite and no 0 * inf NaN appears.
     */
    private static Node geluTanhDerivative(GraphBuilder b, Node x) {
        Node c = b.constant(GELU_TANH_CUBIC);
        Node k = b.constant(SQRT_2_OVER_PI);
        Node bounded = b.clamp(x, -GELU_SATURATION, GELU_SATURATION);
        Node square = b.square(bounded);
        Node t = b.tanh(b.mul(k, b.add(bounded, b.mul(c, b.mul(square, bounded)))));
        Node du = b.mul(k, b.add(b.constant(1), b.mul(b.constant(3), b.mul(c, square))));
        Node sech2 = b.sub(b.constant(1), b.mul(t, t));
        Node half = b.constant(0.5);
        return b.add(b.mul(half, b.add(b.constant(1), t)), b.mul(half, b.mul(bounded, b.mul(sech2, du))));
    }

    // ---- the op ----------------------------------------------------------------------------

    private static final double SQRT1_2 = Math.sqrt(0.5);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
    private static final double GELU_TANH_CUBIC = 0.044715;
    /** Bound on |x| beyond which both GELU derivatives are exactly 0 or 1 in double and float. */
    private static final double GELU_SATURATION = 1e4;

    static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    /** Exact GELU, x erfc(-x/sqrt 2)/2, which equals x (1 + erf(x/sqrt 2))/2. */
    static double gelu(double x) {
        return 0.5 * x * erfc(-x * SQRT1_2);
    }

    static double geluTanh(double x) {
        double u = SQRT_2_OVER_PI * (x + GELU_TANH_CUBIC * x * x * x);
        return 0.5 * x * (1 + Math.tanh(u));
    }

    /**
     * The error function to about 1e-15 relative error. Below |x| = 3 it sums the series
     * erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1 3 5 ... (2n+1)), whose terms are all
     * positive, so nothing cancels. Beyond that it is 1 - erfc(|x|) from the continued fraction.
     */
    static double erf(double x) {
        if (Double.isNaN(x)) {
            return x;
        }
        double magnitude = Math.abs(x);
        if (magnitude >= 3) {
            return Math.copySign(1 - erfcContinuedFraction(magnitude), x);
        }
        double term = magnitude;
        double sum = magnitude;
        double ratio = 2 * magnitude * magnitude;
        for (int n = 1; term > sum * 1e-17; n++) {
            term *= ratio / (2 * n + 1);
            sum += term;
        }
        return Math.copySign(2 / Math.sqrt(Math.PI) * Math.exp(-magnitude * magnitude) * sum, x);
    }

    /** The complementary error function 1 - erf(x), without cancellation in either tail. */
    static double erfc(double x) {
        if (x >= 3) {
            return erfcContinuedFraction(x);
        }
        if (x <= -3) {
            return 2 - erfcContinuedFraction(-x);
        }
        return 1 - erf(x);
    }

    /**
     * erfc(x) for x >= 3 from e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
     * evaluated with the modified Lentz method.
     */
    private static double erfcContinuedFraction(double x) {
        double fraction = x;
        double c = x;
        double d = 0;
        for (int n = 1; n < 1000; n++) {
            double a = n / 2.0;
            d = 1 / (x + a * d);
            c = x + a / c;
            double delta = c * d;
            fraction *= delta;
            if (Math.abs(delta - 1) < 1e-16) {
                break;
            }
        }
        return Math.exp(-x * x) / (Math.sqrt(Math.PI) * fraction);
    }

    @Override
    public String name() {
        return name;
    }

    /** Returns {@code alpha=<value>} for leaky_relu and elu, or "" for ops without an attribute. */
    @Override
    public String attributes() {
        return attribute == null ? "" : "alpha=" + attribute;
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

    /** Ops are equal when their names and attributes are, so common-subexpression elimination merges them. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Elementwise other && name.equals(other.name) && Objects.equals(attribute, other.attribute);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, attribute);
    }

    @Override
    public String toString() {
        return text();
    }
}
