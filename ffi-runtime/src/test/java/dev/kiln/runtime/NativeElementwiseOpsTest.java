package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.ir.Autodiff;
import dev.kiln.ir.DType;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.ModelSpec.ParamSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.function.DoublePredicate;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The elementwise ops, their first and second derivatives compiled to C and run natively in
 * float32, against the double-precision reference evaluator on the same graphs, at random inputs
 * and at special values: zero, +-1e-30, +-1e30, +-100 and saturation.
 *
 * <p>Each model has one input x of width 8 and computes z = x + bias with a zero bias, so that
 * the op receives the samples themselves. A second or third operand is a parameter of width 8
 * broadcast over the batch. The model's output is op(z, ...) itself, or a derivative built by
 * {@link Autodiff} inside the forward graph, so the predict entry computes the derivative.
 */
class NativeElementwiseOpsTest {
    private static final int WIDTH = 8;
    private static final int RANDOM_ROWS = 3;
    /** float32 against double: relative error, plus an absolute floor for results near 0. */
    private static final double RELATIVE = 2e-4;
    private static final double ABSOLUTE = 2e-6;

    private static final double[] SPECIAL = {0, 1e-30, -1e-30, 1e30, -1e30, 100, -100, 1, -1, 0.5, -0.5, 3, -3,
            10, -10, 20, -20, 88, -88, 1e4, -1e4, 1e-3, -1e-3, 2.5};

    /**
     * An op of one, two or three operands.
     *
     * @param random draws a random value for each operand
     * @param special for unary ops, the values of x; otherwise row 0 contains x and the next rows
     *                the other operands, each of width 8
     * @param differentiable whether derivative models are built
     */
    private record OpCase(String name, int arity, BiFunction<GraphBuilder, List<Node>, Node> op,
                          List<Range> random, double[][] special, boolean differentiable) {
    }

    private record Range(double lo, double hi) {
        double draw(SplittableRandom random) {
            return random.nextDouble(lo, hi);
        }
    }

    private static OpCase unary(String name, BiFunction<GraphBuilder, Node, Node> op, Range range,
                                double... special) {
        return new OpCase(name, 1, (b, in) -> op.apply(b, in.getFirst()), List.of(range), new double[][] {special},
                true);
    }

    private static double[] specialsWhere(DoublePredicate keep) {
        return Arrays.stream(SPECIAL).filter(keep).toArray();
    }

    static Stream<Arguments> cases() {
        Range wide = new Range(-4, 4);
        double[] all = SPECIAL;
        double[] nonzero = specialsWhere(x -> x != 0);
        double[] positive = specialsWhere(x -> x > 0);
        double[] aboveMinusOne = specialsWhere(x -> x > -1);
        double[] binaryA = {0, 1e-30, -1e-30, 1e30, -1e30, 100, -100, 1};
        double[] binaryB = {0, 1e-30, 1e-30, -1e30, 1e30, 100, 3, 1};
        double[] tanhSaturated = new double[11];
        for (int i = 0; i < tanhSaturated.length; i++) {
            tanhSaturated[i] = 190 + i;
        }
        Elementwise[] comparisons = {Elementwise.GT, Elementwise.GE, Elementwise.LT, Elementwise.LE, Elementwise.NE};

        List<OpCase> cases = new ArrayList<>(List.of(
                unary("log1p", GraphBuilder::log1p, new Range(-0.9, 4), aboveMinusOne),
                unary("rsqrt", GraphBuilder::rsqrt, new Range(0.1, 4), positive),
                unary("abs", GraphBuilder::abs, wide, all),
                unary("sign", GraphBuilder::sign, wide, all),
                unary("sin", GraphBuilder::sin, wide, all),
                unary("cos", GraphBuilder::cos, wide, all),
                unary("square", GraphBuilder::square, wide, all),
                unary("reciprocal", GraphBuilder::reciprocal, new Range(0.1, 4), nonzero),
                unary("erf", GraphBuilder::erf, wide, all),
                unary("leaky_relu", (b, x) -> b.leakyRelu(x, 0.01), wide, all),
                unary("elu", (b, x) -> b.elu(x, 1.0), wide, all),
                unary("gelu", GraphBuilder::gelu, wide, all),
                unary("gelu_tanh", GraphBuilder::geluTanh, wide, all),
                unary("softplus", GraphBuilder::softplus, new Range(-10, 10), all),
                unary("silu", GraphBuilder::silu, new Range(-10, 10), all),
                unary("relu", GraphBuilder::relu, wide, all),
                unary("tanh", GraphBuilder::tanh, wide, tanhSaturated),
                new OpCase("maximum", 2, (b, in) -> b.maximum(in.get(0), in.get(1)), List.of(wide, wide),
                        new double[][] {binaryA, binaryB}, true),
                new OpCase("minimum", 2, (b, in) -> b.minimum(in.get(0), in.get(1)), List.of(wide, wide),
                        new double[][] {binaryA, binaryB}, true),
                new OpCase("pow", 2, (b, in) -> b.pow(in.get(0), in.get(1)), List.of(new Range(0.2, 3), wide),
                        new double[][] {{0, 0, 2, 1e-30, 100, 1, 0.5, 3}, {0, 1, 1, 0.5, 10, 100, -2, 0}}, true),
                new OpCase("clamp", 3, (b, in) -> b.clamp(in.get(0), in.get(1), in.get(2)),
                        List.of(wide, new Range(-2, -0.5), new Range(0.5, 2)),
                        new double[][] {{-1e30, -1, 0, 1, 1e30, -1e-30, 5, 2}, {-1, -1, -1, -1, -1, 0, 3, -2},
                                {1, 1, 1, 1, 1, 0, 4, -3}}, true)));
        for (Elementwise comparison : comparisons) {
            cases.add(new OpCase(comparison.name(), 2, (b, in) -> b.apply(comparison, in.get(0), in.get(1)),
                    List.of(wide, wide), new double[][] {binaryA, binaryB}, false));
        }
        return cases.stream().map(c -> Arguments.of(c.name(), c));
    }

    /** A graph to compile for one case: the op's value, a derivative, or the op on double scalars. */
    private enum Variant {
        VALUE, FIRST, SECOND, SCALAR
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void nativeMatchesReference(String name, OpCase c) {
        List<Variant> variants = c.differentiable()
                ? List.of(Variant.VALUE, Variant.FIRST, Variant.SECOND, Variant.SCALAR)
                : List.of(Variant.VALUE, Variant.SCALAR);
        for (Variant variant : variants) {
            int outputs = variant == Variant.VALUE || variant == Variant.SCALAR ? 1 : c.arity();
            for (int operand = 0; operand < outputs; operand++) {
                ModelSpec spec = model(c, variant, operand);
                NativeBuild build = NativeBuild.of(spec);
                Reference reference = new Reference(spec);
                try (TestModel model = build.newModel(1)) {
                    String what = name + " " + variant.name().toLowerCase() + " for operand " + operand;
                    if (variant == Variant.SCALAR) {
                        checkScalars(what, c, model, reference);
                    } else {
                        checkRandom(what, c, model, reference);
                        checkSpecial(what, c, model, reference);
                    }
                }
            }
        }
    }

    /**
     * Builds z = x + bias and the other operands, then the output: op(z, ...), or the derivative
     * of sum(op) (first) or of the sum of all first derivatives (second) with respect to operand
     * {@code operand}. The scalar variant applies the op to sums, which the C code keeps in double.
     */
    private static ModelSpec model(OpCase c, Variant variant, int operand) {
        GraphBuilder b = new GraphBuilder("forward");
        int width = variant == Variant.SCALAR ? 1 : WIDTH;
        Node x = b.input("x", Shape.batched(width), DType.F32);
        List<ParamSpec> params = new ArrayList<>();
        params.add(new ParamSpec("bias", Shape.of(width), width));
        Node z = b.add(x, b.param("bias", Shape.of(width)));
        List<Node> operands = new ArrayList<>(List.of(z));
        for (int i = 1; i < c.arity(); i++) {
            params.add(new ParamSpec("q" + i, Shape.of(width), width));
            operands.add(b.broadcastTo(b.param("q" + i, Shape.of(width)), z.shape()));
        }

        Node output = switch (variant) {
            case VALUE -> c.op().apply(b, operands);
            case FIRST -> Autodiff.grad(b, b.sum(c.op().apply(b, operands)), operands).get(operand);
            case SECOND -> {
                List<Node> first = Autodiff.grad(b, b.sum(c.op().apply(b, operands)), operands);
                Node total = b.sum(first.getFirst());
                for (int i = 1; i < first.size(); i++) {
                    total = b.add(total, b.sum(first.get(i)));
                }
                yield Autodiff.grad(b, total, operands).get(operand);
            }
            case SCALAR -> {
                List<Node> sums = operands.stream().map(b::sum).toList();
                yield b.add(b.mul(z, b.constant(0)), c.op().apply(b, sums));
            }
        };
        b.output("output", output);
        String modelName = ("Op_" + c.name() + "_" + variant + "_" + operand).replace('.', '_');
        return new ModelSpec(modelName, b.build(), params, Loss.MSE, List.of());
    }

    @Test
    void saturatedTanhGradientIsExactlyZero() {
        OpCase tanh = cases().map(a -> (OpCase) a.get()[1]).filter(c -> c.name().equals("tanh")).findFirst()
                .orElseThrow();
        ModelSpec spec = model(tanh, Variant.FIRST, 0);
        try (TestModel model = NativeBuild.of(spec).newModel(1)) {
            setParameters(model, tanh, i -> null);
            float[] x = {190, 191, 192, 193, 194, 195, 196, 200};

            float[] gradient = model.predict(x, 1);

            for (int i = 0; i < x.length; i++) {
                assertEquals(0f, gradient[i], "d/dx tanh at " + x[i]);
            }
        }
    }

    @Test
    void powDerivativesAtZeroAreExactlyZero() {
        OpCase pow = cases().map(a -> (OpCase) a.get()[1]).filter(c -> c.name().equals("pow")).findFirst()
                .orElseThrow();
        try (TestModel base = NativeBuild.of(model(pow, Variant.FIRST, 0)).newModel(1);
             TestModel exponent = NativeBuild.of(model(pow, Variant.FIRST, 1)).newModel(1)) {
            // Columns: a = 0, b = 0; a = 1, b = 0; a = 0, b = 1; a = 2, b = 1.
            float[] a = {0, 1, 0, 2, 1, 1, 1, 1};
            float[] b = {0, 0, 1, 1, 1, 1, 1, 1};
            setParameters(base, pow, i -> b);
            setParameters(exponent, pow, i -> b);

            float[] da = base.predict(a, 1);
            float[] db = exponent.predict(a, 1);

            assertEquals(0f, da[0], "d/da a^0 at a = 0");
            assertEquals(0f, da[1], "d/da a^0 at a = 1");
            assertEquals(0f, db[2], "d/db a^b at a = 0, b = 1");
            assertEquals(2 * Math.log(2), db[3], 1e-6, "d/db a^b at a = 2, b = 1");
        }
    }

    private static void checkRandom(String what, OpCase c, TestModel model, Reference reference) {
        SplittableRandom random = new SplittableRandom(c.name().hashCode());
        float[] x = new float[RANDOM_ROWS * WIDTH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) c.random().getFirst().draw(random);
        }
        setParameters(model, c, i -> {
            float[] q = new float[WIDTH];
            for (int k = 0; k < WIDTH; k++) {
                q[k] = (float) c.random().get(i).draw(random);
            }
            return q;
        });
        compare(what + " at random inputs", model, reference, x, RANDOM_ROWS);
    }

    private static void checkSpecial(String what, OpCase c, TestModel model, Reference reference) {
        double[] values = c.special()[0];
        int rows = (values.length + WIDTH - 1) / WIDTH;
        float[] x = new float[rows * WIDTH];
        Arrays.fill(x, 0.5f);
        for (int i = 0; i < values.length; i++) {
            x[i] = (float) values[i];
        }
        setParameters(model, c, i -> toFloats(c.special()[i]));
        compare(what + " at special values", model, reference, x, rows);
    }

    /** Checks the scalar variant one sample at a time, at every special point. */
    private static void checkScalars(String what, OpCase c, TestModel model, Reference reference) {
        double[] xs = c.special()[0];
        for (int k = 0; k < xs.length; k++) {
            int column = k;
            if (c.arity() > 1 && column >= c.special()[1].length) {
                break;
            }
            setParameters(model, c, i -> new float[] {(float) c.special()[i][column]});
            compare(what + " at x = " + xs[k], model, reference, new float[] {(float) xs[k]}, 1);
        }
    }

    private static void setParameters(TestModel model, OpCase c, IntFunction<float[]> operand) {
        model.setParameter("bias", new float[model.parameter("bias").length]);
        for (int i = 1; i < c.arity(); i++) {
            model.setParameter("q" + i, operand.apply(i));
        }
    }

    private static void compare(String what, TestModel model, Reference reference, float[] x, int rows) {
        Map<String, double[]> parameters = Reference.parameters(model);
        double[] expected = reference.predict(parameters, x, rows);
        float[] actual = model.predict(x, rows);
        assertEquals(expected.length, actual.length, what + ": output length");
        for (int i = 0; i < expected.length; i++) {
            assertAgrees(what + ", element " + i + " (x = " + x[i] + ")", expected[i], actual[i]);
        }
    }

    /**
     * A finite reference must come back without NaN: within tolerance where it fits in float, and
     * as an infinity of the same sign where it is beyond float's range.
     */
    private static void assertAgrees(String what, double expected, float actual) {
        if (Double.isNaN(expected)) {
            return;
        }
        assertTrue(!Float.isNaN(actual), what + ": native NaN, reference " + expected);
        if (Math.abs(expected) > Float.MAX_VALUE) {
            assertEquals(Math.copySign(Double.POSITIVE_INFINITY, expected), (double) actual, what
                    + ": reference " + expected + " is beyond float range");
            return;
        }
        double allowed = RELATIVE * Math.abs(expected) + ABSOLUTE;
        if (!(Math.abs(actual - expected) <= allowed)) {
            fail(what + ": native " + actual + ", reference " + expected + ", allowed error " + allowed);
        }
    }

    private static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
