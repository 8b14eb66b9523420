package dev.kiln.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Layer normalization, embedding lookup and dropout in the IR: shape rules and reference values.
 * First derivatives are checked against central finite differences, and second derivatives
 * (Hessian-vector products) against finite differences of the first. Dropout's mask is checked
 * for its statistics and reproducibility, and for its absence from evaluation entries.
 */
class LayerOpsTest {
    private static final double STEP = 1e-5;
    private static final int BATCH = 3;

    // ---- layer norm ------------------------------------------------------------------------

    @Test
    void layerNormValuesMatchFormula() {
        GraphBuilder b = new GraphBuilder("layer_norm");
        Node x = b.input("x", Shape.batched(4), DType.F32);
        Node w = b.param("w", Shape.of(4));
        Node bias = b.param("b", Shape.of(4));
        b.output("y", b.layerNorm(x, w, bias, 1e-5));
        double[] xs = {1, 2, 3, 4, -1, 0, 0, 5};
        double[] ws = {1, 2, 0.5, -1};
        double[] bs = {0, 1, -1, 0.25};

        double[] y = new Evaluator().input("x", xs).param("w", ws).param("b", bs).run(b.build(), 2).output("y");

        for (int r = 0; r < 2; r++) {
            double mean = 0;
            for (int i = 0; i < 4; i++) {
                mean += xs[r * 4 + i] / 4;
            }
            double variance = 0;
            for (int i = 0; i < 4; i++) {
                variance += Math.pow(xs[r * 4 + i] - mean, 2) / 4;
            }
            for (int i = 0; i < 4; i++) {
                double expected = (xs[r * 4 + i] - mean) / Math.sqrt(variance + 1e-5) * ws[i] + bs[i];
                assertEquals(expected, y[r * 4 + i], 1e-12, "row " + r + " element " + i);
            }
        }
    }

    @Test
    void layerNormOfConstantRowIsBias() {
        GraphBuilder b = new GraphBuilder("constant_row");
        Node x = b.input("x", Shape.batched(3), DType.F32);
        b.output("y", b.layerNorm(x, b.param("w", Shape.of(3)), b.param("b", Shape.of(3)), 1e-5));

        double[] y = new Evaluator().input("x", new double[] {7, 7, 7}).param("w", new double[] {2, 2, 2})
                .param("b", new double[] {0.5, -1, 3}).run(b.build(), 1).output("y");

        assertArrayEquals(new double[] {0.5, -1, 3}, y, 1e-12);
    }

    @Test
    void layerNormDerivativesMatchFiniteDifferences() {
        checkDerivatives("layer_norm over [B, 2, 5]", List.of(Shape.batched(2, 5), Shape.of(5), Shape.of(5)),
                (b, v) -> b.layerNorm(v.get(0), v.get(1), v.get(2), 1e-5), Map.of());
    }

    // ---- embedding -------------------------------------------------------------------------

    @Test
    void embeddingShapesAddTheEmbeddingAxis() {
        GraphBuilder b = new GraphBuilder("shapes");
        Node table = b.param("table", Shape.of(10, 4));
        assertEquals(Shape.batched(4), b.embedding(table, b.input("ids", Shape.batched(), DType.F32)).shape());
        assertEquals(Shape.batched(6, 4), b.embedding(table, b.input("seq", Shape.batched(6), DType.F32)).shape());
        ShapeException error = assertThrows(ShapeException.class,
                () -> b.embedding(b.param("flat", Shape.of(10)), b.input("seq", Shape.batched(6), DType.F32)));
        assertTrue(error.getMessage().contains("table [N, D]"), error.getMessage());
    }

    @Test
    void embeddingGathersRowsAndGivesNaNForInvalidIndices() {
        GraphBuilder b = new GraphBuilder("lookup");
        Node table = b.param("table", Shape.of(3, 2));
        Node ids = b.input("ids", Shape.batched(4), DType.F32);
        b.output("y", b.embedding(table, ids));
        double[] weights = {0, 1, 10, 11, 20, 21};

        double[] valid = new Evaluator().param("table", weights).input("ids", new double[] {2, 0, 0, 1})
                .run(b.build(), 1).output("y");
        double[] invalid = new Evaluator().param("table", weights)
                .input("ids", new double[] {1.5, -1, 3, Double.NaN}).run(b.build(), 1).output("y");

        assertArrayEquals(new double[] {20, 21, 0, 1, 0, 1, 10, 11}, valid);
        for (double v : invalid) {
            assertTrue(Double.isNaN(v), Arrays.toString(invalid));
        }
    }

    @Test
    void embeddingGradientAddsRowsAtRepeatedIndices() {
        GraphBuilder b = new GraphBuilder("scatter");
        Node table = b.param("table", Shape.of(3, 2));
        Node ids = b.input("ids", Shape.batched(3), DType.F32);
        Node y = b.embedding(table, ids);
        Node loss = b.sum(b.mul(y, b.param("c", Shape.of(2))));
        List<Node> grads = Autodiff.grad(b, loss, List.of(table));
        b.output("grad", grads.get(0));

        // Rows 0 and 2 are each looked up once per sample where they appear, row 1 three times in all.
        double[] grad = new Evaluator().param("table", new double[6]).param("c", new double[] {1, 10})
                .input("ids", new double[] {1, 1, 2, 1, 7, 0}).run(b.build(), 2).output("grad");

        assertArrayEquals(new double[] {1, 10, 3, 30, 1, 10}, grad);
    }

    @Test
    void embeddingDerivativesMatchFiniteDifferences() {
        double[] ids = {0, 3, 3, 1, 4, 0, 2, 2, 4, 3, 1, 1};
        checkDerivatives("embedding of [B, 4] into [5, 3]", List.of(Shape.of(5, 3)),
                (b, v) -> b.tanh(b.embedding(v.get(0), b.input("ids", Shape.batched(4), DType.F32))),
                Map.of("ids", ids));
    }

    @Test
    void embeddingIndicesHaveNoDerivative() {
        GraphBuilder b = new GraphBuilder("indices");
        Node table = b.param("table", Shape.of(3, 2));
        Node ids = b.input("ids", Shape.batched(2), DType.F32);
        Node loss = b.sum(b.embedding(table, ids));
        b.output("grad", Autodiff.grad(b, loss, List.of(ids)).get(0));

        double[] grad = new Evaluator().param("table", new double[] {1, 2, 3, 4, 5, 6})
                .input("ids", new double[] {0, 2}).run(b.build(), 1).output("grad");

        assertArrayEquals(new double[2], grad);
    }

    // ---- dropout ---------------------------------------------------------------------------

    @Test
    void hashFollowsDocumentedFormula() {
        SplittableRandom random = new SplittableRandom(11);
        for (int k = 0; k < 1000; k++) {
            int seed = random.nextInt(1 << 24);
            int step = random.nextInt(1 << 24);
            int stream = random.nextInt(8);
            long index = random.nextLong(1L << 40);
            long h = mix32((seed ^ 0x9e3779b9L) & 0xffffffffL);
            h = mix32(h ^ step);
            h = mix32(h ^ stream);
            h = mix32(h ^ (index & 0xffffffffL));
            assertEquals((int) h, Dropout.hash(seed, step, stream, index));
        }
    }

    /** Computes the documented mixer on unsigned 32-bit values in longs, written independently of the op. */
    private static long mix32(long x) {
        x ^= x >>> 16;
        x = (x * 0x7feb352dL) & 0xffffffffL;
        x ^= x >>> 15;
        x = (x * 0x846ca68bL) & 0xffffffffL;
        x ^= x >>> 16;
        return x;
    }

    @Test
    void dropoutZeroesFractionPAndScalesTheRest() {
        for (double p : new double[] {0.1, 0.3, 0.5, 0.9}) {
            int n = 200_000;
            double[] ones = new double[n];
            Arrays.fill(ones, 1);
            double[] y = new Dropout(p, 0).apply(ones, 12345, 1);

            long dropped = Arrays.stream(y).filter(v -> v == 0).count();
            double fraction = (double) dropped / n;
            // The standard deviation of the fraction is sqrt(p (1 - p) / n) <= 0.0012.
            assertEquals(p, fraction, 0.006, "fraction dropped at p=" + p);
            for (double v : y) {
                if (v != 0) {
                    assertEquals(1 / (1 - p), v, 1e-12, "scale of kept elements at p=" + p);
                }
            }
        }
    }

    @Test
    void dropoutMaskDependsOnSeedStepAndStream() {
        double[] ones = new double[4096];
        Arrays.fill(ones, 1);
        double[] reference = new Dropout(0.5, 0).apply(ones, 77, 5);

        assertArrayEquals(reference, new Dropout(0.5, 0).apply(ones, 77, 5));
        assertFalse(Arrays.equals(reference, new Dropout(0.5, 0).apply(ones, 77, 6)), "next step");
        assertFalse(Arrays.equals(reference, new Dropout(0.5, 0).apply(ones, 78, 5)), "other seed");
        assertFalse(Arrays.equals(reference, new Dropout(0.5, 1).apply(ones, 77, 5)), "other stream");
    }

    @Test
    void dropoutEdgeProbabilities() {
        GraphBuilder b = new GraphBuilder("edges");
        Node x = b.input("x", Shape.batched(5), DType.F32);
        assertSame(x, b.dropout(x, 0, 0));
        b.output("y", b.dropout(x, 1, 0));
        double[] y = new Evaluator().input("x", new double[] {1, -2, 3, 4, 5})
                .hyper(Hyperparameters.DROPOUT_SEED, 3).hyper(Hyperparameters.DROPOUT_STEP, 1).run(b.build(), 1)
                .output("y");
        // x * 0, as PyTorch computes it: -2 gives -0.0, which equals 0 within a delta of 0.
        assertArrayEquals(new double[5], y, 0.0);

        for (double p : new double[] {-0.1, 1.5, Double.NaN}) {
            IrException error = assertThrows(IrException.class, () -> b.dropout(x, p, 0));
            assertTrue(error.getMessage().contains("must be in [0, 1], got " + p), error.getMessage());
        }
    }

    @Test
    void dropoutGradientUsesTheSameMask() {
        GraphBuilder b = new GraphBuilder("mask");
        Node x = b.input("x", Shape.batched(64), DType.F32);
        Node y = b.dropout(x, 0.4, 2);
        // f = sum(y^2) / 2: df/dx = mask * y, d2f/dx2 v = mask^2 v.
        Node f = b.mul(b.constant(0.5), b.sum(b.square(y)));
        Node grad = Autodiff.grad(b, f, List.of(x)).get(0);
        Node v = b.input("v", Shape.batched(64), DType.F32);
        Node hvp = Autodiff.grad(b, b.sum(b.mul(grad, v)), List.of(x)).get(0);
        b.output("y", y);
        b.output("grad", grad);
        b.output("hvp", hvp);
        SplittableRandom random = new SplittableRandom(4);
        double[] xs = random.doubles(128, 0.5, 2).toArray();
        double[] vs = random.doubles(128, 0.5, 2).toArray();

        Evaluator.Result r = new Evaluator().input("x", xs).input("v", vs).hyper(Hyperparameters.DROPOUT_SEED, 9)
                .hyper(Hyperparameters.DROPOUT_STEP, 2).run(b.build(), 2);

        double[] mask = new Dropout(0.4, 2).apply(filled(128, 1), 9, 2);
        for (int i = 0; i < xs.length; i++) {
            assertEquals(mask[i] * xs[i], r.output("y")[i], 1e-12);
            assertEquals(mask[i] * mask[i] * xs[i], r.output("grad")[i], 1e-12);
            assertEquals(mask[i] * mask[i] * vs[i], r.output("hvp")[i], 1e-12);
        }
    }

    @Test
    void dropoutKeepsNaNLikePyTorch() {
        double[] y = new Dropout(1, 0).apply(new double[] {Double.NaN, Double.POSITIVE_INFINITY, 2}, 0, 1);
        assertTrue(Double.isNaN(y[0]));
        assertTrue(Double.isNaN(y[1]));
        assertEquals(0, y[2]);
    }

    @Test
    void hyperparametersAreIntegersBelow2To24AndAdvance() {
        double[] first = Dropout.hyperparameters(42, 1);
        double[] second = Dropout.hyperparameters(42, 2);
        double[] wrapped = Dropout.hyperparameters(42, (1L << 24) + 1);
        for (double[] values : List.of(first, second, wrapped, Dropout.hyperparameters(-5, Long.MAX_VALUE))) {
            for (double v : values) {
                assertTrue(v >= 0, "negative: " + Arrays.toString(values));
                assertTrue(v < (1 << 24), "not below 2^24: " + Arrays.toString(values));
                assertEquals(Math.rint(v), v, "not an integer: " + Arrays.toString(values));
            }
        }
        assertEquals(first[0], second[0]);
        assertEquals(1, first[1]);
        assertEquals(2, second[1]);
        assertEquals(1, wrapped[1]);
        assertNotEquals(first[0], wrapped[0], "the seed changes once the step passes 2^24");
        assertNotEquals(first[0], Dropout.hyperparameters(43, 1)[0]);
    }

    @Test
    void evaluationEntriesContainNoDropout() {
        GraphBuilder b = new GraphBuilder("forward");
        Node x = b.input("x", Shape.batched(4), DType.F32);
        Node h = b.dropout(b.tanh(b.matmul(x, b.param("fc.weight", Shape.of(3, 4)), false, true)), 0.5, 0);
        b.output("output", h);
        ModelSpec spec = new ModelSpec("Drop", b.build(), List.of(new ModelSpec.ParamSpec("fc.weight",
                Shape.of(3, 4), 4)), Loss.MSE, List.of(Optimizer.SGD));

        for (Entry entry : Entries.build(spec)) {
            boolean hasDropout = entry.graph().nodes().stream().anyMatch(n -> n.op() instanceof Dropout);
            boolean hasKeys = entry.graph().nodes().stream().anyMatch(n -> n.op() instanceof Leaf.Hyper hyper
                    && hyper.label().startsWith("dropout_"));
            boolean training = !entry.name().equals("predict") && !entry.name().equals("evaluate");
            boolean update = entry.name().startsWith("update_");
            assertEquals(training && !update, hasDropout, entry.name() + " dropout");
            assertEquals(training && !update, hasKeys, entry.name() + " dropout hyperparameters");
        }
    }

    @Test
    void paramSpecDefaultsToUniformFanIn() {
        assertEquals(ParamInit.UNIFORM_FAN_IN, new ModelSpec.ParamSpec("fc.weight", Shape.of(2, 3), 3).init());
        assertEquals(ParamInit.ONES, new ModelSpec.ParamSpec("ln.weight", Shape.of(3), 3, ParamInit.ONES).init());
    }

    // ---- derivative checks -----------------------------------------------------------------

    /**
     * Checks d f / d v and the Hessian-vector product of f(v) = sum(c * y^2 / 2 + y), y = op(v),
     * with v the parameters of the given shapes and c a fixed random tensor, against finite
     * differences at a random point.
     */
    private static void checkDerivatives(String name, List<Shape> shapes, BiFunction<GraphBuilder, List<Node>, Node> op,
                                         Map<String, double[]> inputs) {
        GraphBuilder b = new GraphBuilder("check");
        List<Node> variables = new ArrayList<>();
        List<Node> directions = new ArrayList<>();
        for (int i = 0; i < shapes.size(); i++) {
            variables.add(b.param("v" + i, shapes.get(i)));
            directions.add(b.input("d" + i, shapes.get(i), DType.F32));
        }
        Node y = op.apply(b, variables);
        Node c = b.param("c", y.shape().isBatched() ? y.shape().dropFirst() : y.shape());
        Node f = b.sum(b.add(b.mul(c, b.mul(b.constant(0.5), b.square(y))), y));
        List<Node> grads = Autodiff.grad(b, f, variables);
        Node inner = null;
        for (int i = 0; i < grads.size(); i++) {
            Node term = b.sum(b.mul(grads.get(i), directions.get(i)));
            inner = inner == null ? term : b.add(inner, term);
        }
        List<Node> hvps = Autodiff.grad(b, inner, variables);
        b.output("f", f);
        for (int i = 0; i < shapes.size(); i++) {
            b.output("grad" + i, grads.get(i));
            b.output("hvp" + i, hvps.get(i));
        }
        Graph graph = b.build();

        SplittableRandom random = new SplittableRandom(name.hashCode());
        double[][] point = new double[shapes.size()][];
        double[][] direction = new double[shapes.size()][];
        for (int i = 0; i < shapes.size(); i++) {
            point[i] = random.doubles(shapes.get(i).elements(BATCH), -2, 2).toArray();
            direction[i] = random.doubles(shapes.get(i).elements(BATCH), -1, 1).toArray();
        }
        double[] cs = random.doubles(c.shape().elements(BATCH), -1, 1).toArray();
        Evaluator.Result at = run(graph, point, direction, cs, inputs);

        for (int i = 0; i < shapes.size(); i++) {
            double[] analytic = at.output("grad" + i);
            for (int k = 0; k < point[i].length; k++) {
                double saved = point[i][k];
                point[i][k] = saved + STEP;
                double plus = run(graph, point, direction, cs, inputs).output("f")[0];
                point[i][k] = saved - STEP;
                double minus = run(graph, point, direction, cs, inputs).output("f")[0];
                point[i][k] = saved;
                assertClose(name + " d/dv" + i + "[" + k + "]", (plus - minus) / (2 * STEP), analytic[k], 1e-6);
            }
        }
        double[][] plus = shifted(point, direction, STEP);
        double[][] minus = shifted(point, direction, -STEP);
        Evaluator.Result atPlus = run(graph, plus, direction, cs, inputs);
        Evaluator.Result atMinus = run(graph, minus, direction, cs, inputs);
        for (int i = 0; i < shapes.size(); i++) {
            double[] hessian = at.output("hvp" + i);
            for (int k = 0; k < point[i].length; k++) {
                double numeric = (atPlus.output("grad" + i)[k] - atMinus.output("grad" + i)[k]) / (2 * STEP);
                assertClose(name + " (Hv)" + i + "[" + k + "]", numeric, hessian[k], 1e-5);
            }
        }
    }

    private static Evaluator.Result run(Graph graph, double[][] point, double[][] direction, double[] c,
                                        Map<String, double[]> inputs) {
        Evaluator evaluator = new Evaluator().param("c", c);
        for (int i = 0; i < point.length; i++) {
            evaluator.param("v" + i, point[i]).input("d" + i, direction[i]);
        }
        inputs.forEach(evaluator::input);
        return evaluator.run(graph, BATCH);
    }

    private static double[][] shifted(double[][] point, double[][] direction, double step) {
        double[][] out = new double[point.length][];
        for (int i = 0; i < point.length; i++) {
            out[i] = point[i].clone();
            for (int k = 0; k < out[i].length; k++) {
                out[i][k] += step * direction[i][k];
            }
        }
        return out;
    }

    private static void assertClose(String what, double expected, double actual, double tolerance) {
        if (!(Math.abs(expected - actual) <= tolerance * (1 + Math.abs(expected)))) {
            fail(what + ": finite differences " + expected + ", autodiff " + actual);
        }
    }

    private static double[] filled(int n, double value) {
        double[] out = new double[n];
        Arrays.fill(out, value);
        return out;
    }
}
