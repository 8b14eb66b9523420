package dev.kiln.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.ir.pass.CommonSubexpressionElimination;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * First and second derivatives of the elementwise ops, run by the reference {@link Evaluator},
 * against central finite differences, and the documented derivatives at kinks, ties and
 * saturation.
 */
class ElementwiseOpsTest {
    private static final double STEP = 1e-6;
    private static final double RELATIVE = 1e-5;
    private static final Shape TENSOR = Shape.of(3, 4);
    private static final Shape ROW = Shape.of(4);

    /** Draws one operand value; kinked ops draw away from their kinks. */
    @FunctionalInterface
    private interface Sampler {
        double draw(SplittableRandom random);
    }

    private static Sampler range(double lo, double hi) {
        return random -> random.nextDouble(lo, hi);
    }

    /** Magnitudes in [0.2, 3] with either sign: at least 0.2 away from a kink at 0. */
    private static final Sampler AWAY_FROM_ZERO = random -> (random.nextBoolean() ? 1 : -1) * random.nextDouble(0.2, 3);

    /**
     * An op applied to parameters of the given shapes. The second and third operands are [4], so
     * their cotangents are summed back over the broadcast rows.
     */
    private record Case(String name, List<Sampler> samplers, BiFunction<GraphBuilder, List<Node>, Node> op) {
        Shape shape(int operand) {
            return operand == 0 ? TENSOR : ROW;
        }
    }

    private static Case unary(String name, Sampler sampler, BiFunction<GraphBuilder, Node, Node> op) {
        return new Case(name, List.of(sampler), (b, p) -> op.apply(b, p.getFirst()));
    }

    private static Case binary(String name, Sampler first, Sampler second, Op op) {
        return new Case(name, List.of(first, second), (b, p) -> b.apply(op, p.get(0), p.get(1)));
    }

    static Stream<Arguments> cases() {
        Sampler wide = range(-3, 3);
        List<Case> cases = List.of(
                unary("log1p", range(-0.8, 3), GraphBuilder::log1p),
                unary("rsqrt", range(0.2, 3), GraphBuilder::rsqrt),
                unary("abs", AWAY_FROM_ZERO, GraphBuilder::abs),
                unary("sign", AWAY_FROM_ZERO, GraphBuilder::sign),
                unary("sin", wide, GraphBuilder::sin),
                unary("cos", wide, GraphBuilder::cos),
                unary("square", wide, GraphBuilder::square),
                unary("reciprocal", AWAY_FROM_ZERO, GraphBuilder::reciprocal),
                unary("erf", wide, GraphBuilder::erf),
                unary("erf_tails", range(2.5, 4.5), GraphBuilder::erf),
                unary("leaky_relu", AWAY_FROM_ZERO, (b, x) -> b.leakyRelu(x, 0.01)),
                unary("leaky_relu_0.3", AWAY_FROM_ZERO, (b, x) -> b.leakyRelu(x, 0.3)),
                unary("elu", AWAY_FROM_ZERO, (b, x) -> b.elu(x, 1.0)),
                unary("elu_0.5", AWAY_FROM_ZERO, (b, x) -> b.elu(x, 0.5)),
                unary("gelu", range(-5, 5), GraphBuilder::gelu),
                unary("gelu_tanh", range(-5, 5), GraphBuilder::geluTanh),
                unary("softplus", range(-8, 8), GraphBuilder::softplus),
                unary("silu", range(-8, 8), GraphBuilder::silu),
                unary("relu", AWAY_FROM_ZERO, GraphBuilder::relu),
                unary("tanh", wide, GraphBuilder::tanh),
                binary("maximum", wide, wide, Elementwise.MAXIMUM),
                binary("minimum", wide, wide, Elementwise.MINIMUM),
                binary("gt", wide, wide, Elementwise.GT),
                binary("ge", wide, wide, Elementwise.GE),
                binary("lt", wide, wide, Elementwise.LT),
                binary("le", wide, wide, Elementwise.LE),
                binary("ne", wide, wide, Elementwise.NE),
                binary("pow", range(0.3, 2), range(-2, 3), Elementwise.POW),
                // lo in [-1.5, -0.5] and hi in [0.5, 1.5], so x in [-3, 3] lands on all three sides.
                new Case("clamp", List.of(wide, range(-1.5, -0.5), range(0.5, 1.5)),
                        (b, p) -> b.clamp(p.get(0), p.get(1), p.get(2))),
                new Case("clamp_crossed", List.of(wide, range(0.5, 1.5), range(-1.5, -0.5)),
                        (b, p) -> b.clamp(p.get(0), p.get(1), p.get(2))));
        return cases.stream().map(c -> Arguments.of(c.name(), c));
    }

    /**
     * loss = sum(w * op(p...)) with fixed random weights w, so that the cotangent reaching the op
     * is not all ones; first = d loss / dp; second = d sum(first) / dp.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void derivativesMatchFiniteDifferences(String name, Case c) {
        int arity = c.samplers().size();
        GraphBuilder b = new GraphBuilder(name);
        List<Node> params = new ArrayList<>();
        for (int i = 0; i < arity; i++) {
            params.add(b.param("p" + i, c.shape(i)));
        }
        Node weights = b.input("w", TENSOR, DType.F32);
        Node loss = b.sum(b.mul(weights, c.op().apply(b, params)));
        List<Node> first = Autodiff.grad(b, loss, params);
        Node firstSum = b.sum(first.getFirst());
        for (int i = 1; i < arity; i++) {
            firstSum = b.add(firstSum, b.sum(first.get(i)));
        }
        List<Node> second = Autodiff.grad(b, firstSum, params);
        b.output("loss", loss);
        b.output("first_sum", firstSum);
        for (int i = 0; i < arity; i++) {
            b.output("first." + i, first.get(i));
            b.output("second." + i, second.get(i));
        }
        Graph graph = b.build();

        SplittableRandom random = new SplittableRandom(name.hashCode());
        double[] w = random.doubles(TENSOR.elements(1), 0.5, 1.5).toArray();
        double[][] values = new double[arity][];
        for (int i = 0; i < arity; i++) {
            values[i] = new double[(int) c.shape(i).elements(1)];
            for (int k = 0; k < values[i].length; k++) {
                values[i][k] = c.samplers().get(i).draw(random);
            }
        }

        Evaluator.Result result = evaluate(graph, w, values);
        for (int i = 0; i < arity; i++) {
            checkAgainstDifferences(name + " first derivative", graph, w, values, i, result.output("first." + i),
                    "loss");
            checkAgainstDifferences(name + " second derivative", graph, w, values, i,
                    result.output("second." + i), "first_sum");
        }
    }

    private static void checkAgainstDifferences(String what, Graph graph, double[] w, double[][] values, int operand,
                                                double[] analytic, String function) {
        double[] point = values[operand];
        for (int k = 0; k < point.length; k++) {
            double saved = point[k];
            point[k] = saved + STEP;
            double plus = evaluate(graph, w, values).output(function)[0];
            point[k] = saved - STEP;
            double minus = evaluate(graph, w, values).output(function)[0];
            point[k] = saved;
            double numeric = (plus - minus) / (2 * STEP);
            double allowed = RELATIVE * Math.max(1, Math.abs(numeric));
            if (!(Math.abs(analytic[k] - numeric) <= allowed)) {
                fail(what + " with respect to operand " + operand + " at element " + k + " (" + saved + ") is "
                        + analytic[k] + " by autodiff, " + numeric + " by finite differences");
            }
        }
    }

    private static Evaluator.Result evaluate(Graph graph, double[] w, double[][] values) {
        Evaluator evaluator = new Evaluator().input("w", w);
        for (int i = 0; i < values.length; i++) {
            evaluator.param("p" + i, values[i]);
        }
        return evaluator.run(graph, 1);
    }

    // ---- derivatives at special points -----------------------------------------------------

    /** First and second derivative of sum(op(x)) at each point of {@code x}. */
    private record Derivatives(double[] value, double[] first, double[] second) {
    }

    private static Derivatives unaryDerivatives(BiFunction<GraphBuilder, Node, Node> op, double... x) {
        GraphBuilder b = new GraphBuilder("special");
        Node input = b.param("x", Shape.of(x.length));
        Node y = op.apply(b, input);
        Node first = Autodiff.grad(b, b.sum(y), List.of(input)).getFirst();
        Node second = Autodiff.grad(b, b.sum(first), List.of(input)).getFirst();
        b.output("value", y);
        b.output("first", first);
        b.output("second", second);
        Evaluator.Result result = new Evaluator().param("x", x).run(b.build(), 1);
        return new Derivatives(result.output("value"), result.output("first"), result.output("second"));
    }

    /** Cotangents of a and b from sum(op(a, b)), then the second derivatives of their sum. */
    private static double[][] binaryDerivatives(Op op, double[] a, double[] bValues) {
        GraphBuilder b = new GraphBuilder("special");
        Node pa = b.param("a", Shape.of(a.length));
        Node pb = b.param("b", Shape.of(bValues.length));
        List<Node> first = Autodiff.grad(b, b.sum(b.apply(op, pa, pb)), List.of(pa, pb));
        List<Node> second = Autodiff.grad(b, b.add(b.sum(first.get(0)), b.sum(first.get(1))), List.of(pa, pb));
        b.output("da", first.get(0));
        b.output("db", first.get(1));
        b.output("dda", second.get(0));
        b.output("ddb", second.get(1));
        Evaluator.Result result = new Evaluator().param("a", a).param("b", bValues).run(b.build(), 1);
        return new double[][] {result.output("da"), result.output("db"), result.output("dda"), result.output("ddb")};
    }

    @Test
    void powOfZeroExponentHasZeroDerivative() {
        Derivatives d = unaryDerivatives((b, x) -> b.pow(x, b.constant(0)), 0, 1);

        assertArrayEquals(new double[] {1, 1}, d.value(), 0.0, "x^0 at x = [0, 1]");
        assertArrayEquals(new double[] {0, 0}, d.first(), 0.0, "d/dx sum(x^0) at x = [0, 1]");
        assertArrayEquals(new double[] {0, 0}, d.second(), 0.0, "second derivative at x = [0, 1]");
    }

    @Test
    void powOfZeroBase() {
        Derivatives d = unaryDerivatives((b, x) -> b.pow(x, b.constant(2)), 0, 3);

        assertArrayEquals(new double[] {0, 6}, d.first(), 0.0, "d/dx sum(x^2) at x = [0, 3]");
        assertArrayEquals(new double[] {2, 2}, d.second(), 0.0, "second derivative of x^2");
    }

    @Test
    void powExponentDerivativeAtZeroBase() {
        GraphBuilder b = new GraphBuilder("pow");
        Node base = b.input("a", Shape.of(2), DType.F32);
        Node exponent = b.param("b", Shape.of(2));
        Node first = Autodiff.grad(b, b.sum(b.pow(base, exponent)), List.of(exponent)).getFirst();
        Node second = Autodiff.grad(b, b.sum(first), List.of(exponent)).getFirst();
        b.output("first", first);
        b.output("second", second);

        Evaluator.Result result = new Evaluator().input("a", new double[] {0, 2}).param("b", new double[] {1, 1})
                .run(b.build(), 1);

        double ln2 = Math.log(2);
        assertArrayEquals(new double[] {0, 2 * ln2}, result.output("first"), 1e-15,
                "d/db sum(a^b) at a = [0, 2], b = [1, 1]");
        assertArrayEquals(new double[] {0, 2 * ln2 * ln2}, result.output("second"), 1e-15,
                "d2/db2 sum(a^b) at a = [0, 2], b = [1, 1]");
    }

    @Test
    void tanhGradientIsExactlyZeroWhenSaturated() {
        double[] x = new double[11];
        for (int i = 0; i < x.length; i++) {
            x[i] = 190 + i;
        }

        Derivatives d = unaryDerivatives(GraphBuilder::tanh, x);

        assertArrayEquals(new double[11], d.first(), 0.0, "d/dx sum(tanh(x)) at x = 190..200");
    }

    @Test
    void kinkedOpsAtZero() {
        double[] x = {0, -0.0};

        assertArrayEquals(new double[] {0, 0}, unaryDerivatives(GraphBuilder::relu, x).first(), 0.0, "relu'(0)");
        assertArrayEquals(new double[] {0, 0}, unaryDerivatives(GraphBuilder::abs, x).first(), 0.0, "abs'(0)");
        assertArrayEquals(new double[] {0, 0}, unaryDerivatives(GraphBuilder::sign, x).first(), 0.0, "sign'(0)");
        assertArrayEquals(new double[] {0.01, 0.01}, unaryDerivatives((b, v) -> b.leakyRelu(v, 0.01), x).first(),
                0.0, "leaky_relu'(0)");
        assertArrayEquals(new double[] {0.5, 0.5}, unaryDerivatives((b, v) -> b.elu(v, 0.5), x).first(), 0.0,
                "elu'(0)");
    }

    @Test
    void kinkedOpsHaveZeroSecondDerivative() {
        double[] x = {-2.5, -0.7, 0, 0.7, 2.5};

        assertArrayEquals(new double[5], unaryDerivatives(GraphBuilder::relu, x).second(), 0.0, "relu''");
        assertArrayEquals(new double[5], unaryDerivatives(GraphBuilder::abs, x).second(), 0.0, "abs''");
        assertArrayEquals(new double[5], unaryDerivatives(GraphBuilder::sign, x).second(), 0.0, "sign''");
        assertArrayEquals(new double[5], unaryDerivatives((b, v) -> b.leakyRelu(v, 0.2), x).second(), 0.0,
                "leaky_relu''");
        double[][] max = binaryDerivatives(Elementwise.MAXIMUM, x, new double[] {0, 0, 0, 0, 0});
        assertArrayEquals(new double[5], max[2], 0.0, "maximum'' with respect to a");
        assertArrayEquals(new double[5], max[3], 0.0, "maximum'' with respect to b");
    }

    @Test
    void maximumAndMinimumSplitTiesEqually() {
        double[] a = {1, 2, 3};
        double[] b = {1, 1, 5};

        double[][] max = binaryDerivatives(Elementwise.MAXIMUM, a, b);
        double[][] min = binaryDerivatives(Elementwise.MINIMUM, a, b);

        assertArrayEquals(new double[] {0.5, 1, 0}, max[0], 0.0, "d maximum / da");
        assertArrayEquals(new double[] {0.5, 0, 1}, max[1], 0.0, "d maximum / db");
        assertArrayEquals(new double[] {0.5, 0, 1}, min[0], 0.0, "d minimum / da");
        assertArrayEquals(new double[] {0.5, 1, 0}, min[1], 0.0, "d minimum / db");
    }

    @Test
    void clampPassesCotangentInsideAndAtBoundaries() {
        GraphBuilder b = new GraphBuilder("clamp");
        Node x = b.param("x", Shape.of(5));
        Node lo = b.param("lo", Shape.SCALAR);
        Node hi = b.param("hi", Shape.SCALAR);
        Node y = b.clamp(x, lo, hi);
        List<Node> grads = Autodiff.grad(b, b.sum(y), List.of(x, lo, hi));
        b.output("y", y);
        b.output("dx", grads.get(0));
        b.output("dlo", grads.get(1));
        b.output("dhi", grads.get(2));

        Evaluator.Result result = new Evaluator().param("x", new double[] {-2, -1, 0, 1, 2})
                .param("lo", new double[] {-1}).param("hi", new double[] {1}).run(b.build(), 1);

        assertArrayEquals(new double[] {-1, -1, 0, 1, 1}, result.output("y"), 0.0, "clamp to [-1, 1]");
        assertArrayEquals(new double[] {0, 1, 1, 1, 0}, result.output("dx"), 0.0, "d/dx, boundaries included");
        assertArrayEquals(new double[] {1}, result.output("dlo"), 0.0, "d/dlo, from x = -2 only");
        assertArrayEquals(new double[] {1}, result.output("dhi"), 0.0, "d/dhi, from x = 2 only");
    }

    @Test
    void comparisonsReturnZeroOrOne() {
        double[] a = {1, 2, 3, Double.NaN};
        double[] b = {2, 2, 2, 2};
        Op[] ops = {Elementwise.GT, Elementwise.GE, Elementwise.LT, Elementwise.LE, Elementwise.NE, Elementwise.EQ};
        double[][] expected = {{0, 0, 1, 0}, {0, 1, 1, 0}, {1, 0, 0, 0}, {1, 1, 0, 0}, {1, 0, 1, 1}, {0, 1, 0, 0}};

        for (int i = 0; i < ops.length; i++) {
            Elementwise op = (Elementwise) ops[i];
            for (int k = 0; k < a.length; k++) {
                assertEquals(expected[i][k], op.apply(a[k], b[k]), op.name() + "(" + a[k] + ", " + b[k] + ")");
            }
        }
    }

    @Test
    void erfMatchesKnownValues() {
        // Reference values from the C library erf of glibc, printed to the digits of a double.
        double[][] table = {{0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149},
                {1.5, 0.9661051464753108}, {2, 0.9953222650189527}, {2.9, 0.9999589021219005},
                {3, 0.9999779095030014}, {4, 0.9999999845827421}, {6, 1.0}};
        for (double[] row : table) {
            assertEquals(row[1], Elementwise.ERF.apply(row[0]), 5e-16, "erf(" + row[0] + ")");
            assertEquals(-row[1], Elementwise.ERF.apply(-row[0]), 5e-16, "erf(" + -row[0] + ")");
        }
        assertEquals(2.209049699858544e-05, Elementwise.erfc(3), 1e-19, "erfc(3)");
        assertEquals(1.5374597944280351e-12, Elementwise.erfc(5), 1e-26, "erfc(5)");
        assertTrue(Double.isNaN(Elementwise.ERF.apply(Double.NaN)), "erf(NaN)");
    }

    @Test
    void geluValuesAndTails() {
        // x Phi(x): Phi(1) = 0.8413447460685429, Phi(-1) = 0.15865525393145707, Phi(-10) = 7.61985302416e-24.
        assertEquals(0.8413447460685429, Elementwise.GELU.apply(1), 1e-15, "gelu(1)");
        assertEquals(-0.15865525393145707, Elementwise.GELU.apply(-1), 1e-15, "gelu(-1)");
        assertEquals(-7.61985302416e-23, Elementwise.GELU.apply(-10), 1e-33, "gelu(-10)");
        assertEquals(0.8411919906082768, Elementwise.GELU_TANH.apply(1), 1e-15, "gelu_tanh(1)");
        assertEquals(1e30, Elementwise.GELU_TANH.apply(1e30), 0.0, "gelu_tanh(1e30)");
        assertEquals(0, Elementwise.GELU_TANH.apply(-1e30), 0.0, "gelu_tanh(-1e30)");
    }

    @Test
    void saturatedDerivativesAreFinite() {
        double[] x = {-1e30, -1e4, -100, -30, 30, 100, 1e4, 1e30};
        List<BiFunction<GraphBuilder, Node, Node>> ops = List.of(GraphBuilder::gelu, GraphBuilder::geluTanh,
                GraphBuilder::softplus, GraphBuilder::silu, (b, v) -> b.elu(v, 1.0), GraphBuilder::tanh,
                GraphBuilder::sigmoid);
        double[] saturated = {0, 0, 0, 0, 1, 1, 1, 1};

        for (int i = 0; i < ops.size(); i++) {
            Derivatives d = unaryDerivatives(ops.get(i), x);
            for (int k = 0; k < x.length; k++) {
                assertTrue(Double.isFinite(d.first()[k]), "op " + i + ": first derivative at " + x[k] + " is "
                        + d.first()[k]);
                assertTrue(Double.isFinite(d.second()[k]), "op " + i + ": second derivative at " + x[k] + " is "
                        + d.second()[k]);
            }
        }
        // gelu, gelu_tanh, softplus and silu have derivative 0 far left and 1 far right; silu'(-30)
        // is -29 sigmoid(-30), about -2.7e-12.
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(saturated, unaryDerivatives(ops.get(i), x).first(), 1e-11, "op " + i);
        }
    }

    @Test
    void softplusNeverOverflows() {
        assertEquals(1000, Elementwise.SOFTPLUS.apply(1000), 0.0, "softplus(1000)");
        assertEquals(Math.exp(-1000), Elementwise.SOFTPLUS.apply(-1000), 0.0, "softplus(-1000)");
        assertEquals(Math.log(2), Elementwise.SOFTPLUS.apply(0), 1e-16, "softplus(0)");
    }

    // ---- attributes ------------------------------------------------------------------------

    @Test
    void attributeOpsCompareByNameAndAlpha() {
        assertEquals(Elementwise.leakyRelu(0.01), Elementwise.leakyRelu(0.01));
        assertEquals(Elementwise.leakyRelu(0.01).hashCode(), Elementwise.leakyRelu(0.01).hashCode());
        assertNotEquals(Elementwise.leakyRelu(0.01), Elementwise.leakyRelu(0.02));
        assertNotEquals(Elementwise.leakyRelu(0.5), Elementwise.elu(0.5));
        assertNotEquals(Elementwise.RELU, Elementwise.leakyRelu(0));
        assertEquals("leaky_relu alpha=0.01", Elementwise.leakyRelu(0.01).text());
        assertEquals("elu alpha=1.0", Elementwise.elu(1).text());
        assertEquals("gelu_tanh", Elementwise.GELU_TANH.text());
    }

    @Test
    void attributeAppearsInIrText() {
        GraphBuilder b = new GraphBuilder("text");
        Node x = b.param("x", Shape.of(2));
        Node y = b.elu(x, 0.25);

        assertTrue(y.toString().contains("elu alpha=0.25"), y.toString());
        assertTrue(b.build().toString().contains("elu alpha=0.25"), b.build().toString());
    }

    @Test
    void equalAttributeOpsMergeInCse() {
        GraphBuilder b = new GraphBuilder("cse");
        Node x = b.param("x", Shape.of(2));
        b.output("a", b.leakyRelu(x, 0.1));
        b.output("b", b.leakyRelu(x, 0.1));
        b.output("c", b.leakyRelu(x, 0.2));

        Graph merged = new CommonSubexpressionElimination().run(b.build());

        assertEquals(merged.output("a"), merged.output("b"), "same alpha");
        assertNotEquals(merged.output("a"), merged.output("c"), "different alpha");
    }

    @Test
    void nonFiniteAlphaIsRejected() {
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> Elementwise.elu(Double.NaN));
        assertTrue(nan.getMessage().contains("elu"), nan.getMessage());
        assertTrue(nan.getMessage().contains("NaN"), nan.getMessage());
        IllegalArgumentException inf = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.leakyRelu(Double.POSITIVE_INFINITY));
        assertTrue(inf.getMessage().contains("leaky_relu"), inf.getMessage());
    }

    @Test
    void cTextOfNewOps() {
        String[] x = {"t1[i]"};
        assertEquals("kiln_leaky_reluf(t1[i], 0.01)", Elementwise.leakyRelu(0.01).c(x, "f"));
        assertEquals("kiln_elu(t1[i], (-0.5))", Elementwise.elu(-0.5).c(x, ""));
        assertEquals("log1pf(t1[i])", Elementwise.LOG1P.c(x, "f"));
        assertEquals("kiln_clamp(t1[i], a, b)", Elementwise.CLAMP.c(new String[] {"t1[i]", "a", "b"}, ""));
        assertEquals("(t1[i] >= s2 ? 1 : 0)", Elementwise.GE.c(new String[] {"t1[i]", "s2"}, "f"));
    }
}
