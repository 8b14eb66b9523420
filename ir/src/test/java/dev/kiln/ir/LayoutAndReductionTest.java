package dev.kiln.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.ir.GraphBuilder.Reduction;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layout ops (permute, reshape, slice, concat), reductions over chosen axes, logsumexp and batched
 * matmul: their values on small hand-checked tensors, their first derivatives against central
 * finite differences, and their second derivatives (Hessian-vector products) against finite
 * differences of the first, all in the reference evaluator on a batched input x of shape [B, 2, 3, 4].
 */
class LayoutAndReductionTest {
    private static final Shape X = Shape.batched(2, 3, 4);
    private static final int BATCH = 3;
    private static final double STEP = 1e-5;

    private record Case(String name, BiFunction<GraphBuilder, Node, Node> op) {
    }

    static Stream<Arguments> cases() {
        List<Case> cases = List.of(
                new Case("permute", (b, x) -> b.permute(x, 0, 3, 1, 2)),
                new Case("transpose", (b, x) -> b.transpose(x, 1, 3)),
                new Case("reshape", (b, x) -> b.reshape(x, Shape.batched(6, 4))),
                new Case("flatten", (b, x) -> b.reshape(x, Shape.batched(24))),
                new Case("slice", (b, x) -> b.slice(x, 3, 1, 4, 2)),
                new Case("slice_middle", (b, x) -> b.slice(x, 2, 1, 2, 1)),
                new Case("concat", (b, x) -> b.concat(2, List.of(x, b.slice(x, 2, 0, 2, 1), b.exp(x)))),
                new Case("sum_axis", (b, x) -> b.reduce(Reduction.SUM, x, new int[] {2}, false)),
                new Case("sum_keepdim", (b, x) -> b.reduce(Reduction.SUM, x, new int[] {1, -1}, true)),
                new Case("sum_batch", (b, x) -> b.reduce(Reduction.SUM, x, new int[] {0}, false)),
                new Case("mean_axes", (b, x) -> b.reduce(Reduction.MEAN, x, new int[] {1, 3}, false)),
                new Case("mean_batch", (b, x) -> b.reduce(Reduction.MEAN, x, new int[] {0, 2}, true)),
                new Case("max_axis", (b, x) -> b.reduce(Reduction.MAX, x, new int[] {3}, false)),
                new Case("min_keepdim", (b, x) -> b.reduce(Reduction.MIN, x, new int[] {1}, true)),
                new Case("max_all", (b, x) -> b.reduce(Reduction.MAX, x, new int[] {0, 1, 2, 3}, false)),
                new Case("logsumexp", (b, x) -> b.reduce(Reduction.LOGSUMEXP, x, new int[] {-1}, false)),
                new Case("logsumexp_keepdim", (b, x) -> b.reduce(Reduction.LOGSUMEXP, x, new int[] {1, 2}, true)),
                new Case("batched_matmul", (b, x) -> {
                    Node a = b.reshape(x, Shape.batched(6, 4));
                    return b.matmul(a, a, false, true);
                }),
                new Case("batched_matmul_shared", (b, x) -> {
                    Node a = b.reshape(x, Shape.batched(6, 4));
                    return b.matmul(b.tanh(a), b.param("w", Shape.of(4, 5)), false, false);
                }),
                new Case("batched_matmul_ta", (b, x) -> {
                    Node a = b.reshape(x, Shape.batched(6, 4));
                    return b.matmul(a, b.sin(a), true, false);
                }),
                new Case("batched_matmul_left_shared", (b, x) -> {
                    Node a = b.reshape(x, Shape.batched(6, 4));
                    return b.matmul(b.param("v", Shape.of(4, 6)), a, true, true);
                }));
        return cases.stream().map(c -> Arguments.of(c.name(), c));
    }

    /** f(x) = sum(w * op(x)^2 / 2 + op(x)) with a fixed random w: nonlinear, so Hessians of layout ops are not 0. */
    private static Node loss(GraphBuilder b, Node y) {
        Node w = b.param("weights", y.shape().isBatched() ? Shape.of(y.shape().dropFirst().dims()) : y.shape());
        return b.sum(b.add(b.mul(w, b.mul(b.constant(0.5), b.mul(y, y))), y));
    }

    private static Evaluator evaluator(Graph graph, double[] x, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Evaluator evaluator = new Evaluator().input("x", x);
        for (Node node : graph.nodes()) {
            if (node.op() instanceof Leaf.Param p) {
                double[] values = new double[(int) node.shape().elements(BATCH)];
                for (int i = 0; i < values.length; i++) {
                    values[i] = random.nextDouble(-1, 1);
                }
                evaluator.param(p.label(), values);
            }
        }
        return evaluator;
    }

    private static double[] randomX(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] x = new double[(int) X.elements(BATCH)];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextDouble(-2, 2);
        }
        return x;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void firstAndSecondDerivativesMatchFiniteDifferences(String name, Case c) {
        GraphBuilder b = new GraphBuilder(name);
        Node x = b.input("x", X, DType.F32);
        Node f = loss(b, c.op().apply(b, x));
        Node grad = Autodiff.grad(b, f, List.of(x)).get(0);
        Node direction = b.input("v", X, DType.F32);
        Node hvp = Autodiff.grad(b, b.sum(b.mul(grad, direction)), List.of(x)).get(0);
        b.output("f", f);
        b.output("grad", grad);
        b.output("hvp", hvp);
        Graph graph = b.build();

        double[] x0 = randomX(name.hashCode());
        double[] v = randomX(name.hashCode() + 1L);
        Evaluator.Result at = evaluator(graph, x0, 7).input("v", v).run(graph, BATCH);
        double[] analytic = at.output("grad");
        double[] hessian = at.output("hvp");

        for (int i = 0; i < x0.length; i++) {
            double[] plus = x0.clone();
            double[] minus = x0.clone();
            plus[i] += STEP;
            minus[i] -= STEP;
            double fPlus = evaluator(graph, plus, 7).input("v", v).run(graph, BATCH).output("f")[0];
            double fMinus = evaluator(graph, minus, 7).input("v", v).run(graph, BATCH).output("f")[0];
            assertClose(name + " d/dx[" + i + "]", (fPlus - fMinus) / (2 * STEP), analytic[i], 1e-6);
        }
        double[] plus = x0.clone();
        double[] minus = x0.clone();
        for (int i = 0; i < x0.length; i++) {
            plus[i] += STEP * v[i];
            minus[i] -= STEP * v[i];
        }
        double[] gPlus = evaluator(graph, plus, 7).input("v", v).run(graph, BATCH).output("grad");
        double[] gMinus = evaluator(graph, minus, 7).input("v", v).run(graph, BATCH).output("grad");
        for (int i = 0; i < x0.length; i++) {
            assertClose(name + " Hv[" + i + "]", (gPlus[i] - gMinus[i]) / (2 * STEP), hessian[i], 1e-5);
        }
    }

    private static void assertClose(String what, double expected, double actual, double tolerance) {
        if (!(Math.abs(expected - actual) <= tolerance * (1 + Math.abs(expected)))) {
            fail(what + ": finite differences " + expected + ", autodiff " + actual);
        }
    }

    private static double[] run(BiFunction<GraphBuilder, Node, Node> op, Shape shape, double[] x, long batch) {
        GraphBuilder b = new GraphBuilder("values");
        Node in = b.input("x", shape, DType.F32);
        b.output("y", op.apply(b, in));
        Graph graph = b.build();
        return new Evaluator().input("x", x).run(graph, batch).output("y");
    }

    private static double[] iota(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
        }
        return x;
    }

    @Test
    void valuesOfLayoutOps() {
        // x = [[0, 1, 2], [3, 4, 5]] as one sample of shape [2, 3].
        Shape s = Shape.batched(2, 3);
        assertArrayEquals(new double[] {0, 3, 1, 4, 2, 5}, run((b, x) -> b.transpose(x, 1, 2), s, iota(6), 1));
        assertArrayEquals(new double[] {1, 4}, run((b, x) -> b.slice(x, 2, 1, 2, 1), s, iota(6), 1));
        assertArrayEquals(new double[] {0, 2, 3, 5}, run((b, x) -> b.slice(x, 2, 0, 3, 2), s, iota(6), 1));
        assertArrayEquals(new double[] {0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5},
                run((b, x) -> b.concat(2, List.of(x, x)), s, iota(6), 1));
        assertArrayEquals(new double[] {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5},
                run((b, x) -> b.concat(1, List.of(x, x)), s, iota(6), 1));
        assertArrayEquals(new double[] {3, 12}, run((b, x) -> b.reduce(Reduction.SUM, x, new int[] {2}, false), s,
                iota(6), 1));
        assertArrayEquals(new double[] {1.5, 2.5, 3.5}, run((b, x) -> b.reduce(Reduction.MEAN, x, new int[] {1}, false),
                s, iota(6), 1));
        assertArrayEquals(new double[] {3, 4, 5}, run((b, x) -> b.reduce(Reduction.MAX, x, new int[] {1}, true), s,
                iota(6), 1));
        assertArrayEquals(new double[] {0, 3}, run((b, x) -> b.reduce(Reduction.MIN, x, new int[] {-1}, false), s,
                iota(6), 1));
        // Reducing the batch axis: two samples, the mean divides by B.
        assertArrayEquals(new double[] {3, 4, 5, 6, 7, 8},
                run((b, x) -> b.reduce(Reduction.MEAN, x, new int[] {0}, false), s, iota(12), 2));
        // Batched matmul: [[0,1,2],[3,4,5]] times its transpose.
        assertArrayEquals(new double[] {5, 14, 14, 50}, run((b, x) -> b.matmul(x, x, false, true), s, iota(6), 1));
    }

    @Test
    void logSumExpIsStableAndKeepsInfinities() {
        Shape s = Shape.batched(3);
        double[] y = run((b, x) -> b.reduce(Reduction.LOGSUMEXP, x, new int[] {1}, false), s,
                new double[] {1000, 1000, 1000, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY,
                        Double.NEGATIVE_INFINITY, 1, Double.POSITIVE_INFINITY, 2, -1000, 0, -1000}, 4);
        assertEquals(1000 + Math.log(3), y[0], 1e-12);
        assertEquals(Double.NEGATIVE_INFINITY, y[1]);
        assertEquals(Double.POSITIVE_INFINITY, y[2]);
        assertEquals(0, y[3], 1e-12);
    }

    @Test
    void maxPropagatesNaNAndSplitsTiesEvenly() {
        GraphBuilder b = new GraphBuilder("ties");
        Node x = b.input("x", Shape.batched(4), DType.F32);
        Node max = b.reduce(Reduction.MAX, x, new int[] {1}, false);
        b.output("max", max);
        b.output("grad", Autodiff.grad(b, b.sum(max), List.of(x)).get(0));
        Graph graph = b.build();
        Evaluator.Result r = new Evaluator().input("x", new double[] {1, 3, 3, 2, 1, Double.NaN, 5, 2}).run(graph, 2);
        assertEquals(3, r.output("max")[0]);
        assertTrue(Double.isNaN(r.output("max")[1]));
        assertArrayEquals(new double[] {0, 0.5, 0.5, 0}, java.util.Arrays.copyOf(r.output("grad"), 4));
    }

    @Test
    void layoutErrorsSayWhatToWrite() {
        GraphBuilder b = new GraphBuilder("errors");
        Node x = b.input("x", Shape.batched(2, 3), DType.F32);
        assertTrue(assertThrows(ShapeException.class, () -> b.permute(x, 1, 0, 2)).getMessage()
                .contains("the batch axis must stay axis 0"));
        assertTrue(assertThrows(ShapeException.class, () -> b.reshape(x, Shape.batched(5))).getMessage()
                .contains("6 and 5 elements per sample"));
        assertTrue(assertThrows(ShapeException.class, () -> b.reshape(x, Shape.of(6))).getMessage()
                .contains("batch axis must stay axis 0"));
        assertTrue(assertThrows(ShapeException.class, () -> b.slice(x, 0, 0, 1, 1)).getMessage()
                .contains("cannot slice the batch axis"));
        assertTrue(assertThrows(ShapeException.class, () -> b.slice(x, 2, 1, 4, 1)).getMessage()
                .contains("does not fit axis 2"));
        assertTrue(assertThrows(ShapeException.class, () -> b.concat(1, List.of(x, b.slice(x, 2, 0, 2, 1))))
                .getMessage().contains("equal extents on every other axis"));
        assertTrue(assertThrows(ShapeException.class, () -> b.reduce(Reduction.SUM, x, new int[] {3}, false))
                .getMessage().contains("out of range for rank 3"));
        assertTrue(assertThrows(ShapeException.class, () -> b.matmul(x, b.param("w", Shape.of(4, 2)), false, false))
                .getMessage().contains("contracts extent 3"));
    }
}
