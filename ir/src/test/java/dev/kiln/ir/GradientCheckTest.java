package dev.kiln.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
 * Checks the gradients that {@link Autodiff} builds, run by the reference {@link Evaluator}, against
 * central finite differences of the same graph's loss in double precision.
 */
class GradientCheckTest {
    private static final double STEP = 1e-6;
    private static final double RELATIVE = 1e-5;
    private static final double[] LABELS = {2, 0, 3};

    /** A scalar loss built from the parameters a, b ([3, 4] each) and w ([4, 4]). */
    private record Case(String name, BiFunction<GraphBuilder, List<Node>, Node> loss) {
    }

    static Stream<Arguments> cases() {
        List<Case> cases = List.of(
                new Case("neg", (b, p) -> b.sum(b.mul(b.neg(p.get(0)), p.get(1)))),
                new Case("exp", (b, p) -> b.sum(b.exp(p.get(0)))),
                new Case("log", (b, p) -> b.sum(b.log(p.get(0)))),
                new Case("tanh", (b, p) -> b.sum(b.tanh(p.get(0)))),
                new Case("sigmoid", (b, p) -> b.sum(b.sigmoid(p.get(0)))),
                new Case("relu", (b, p) -> b.sum(b.mul(b.relu(b.sub(p.get(0), p.get(1))), p.get(0)))),
                new Case("sqrt", (b, p) -> b.sum(b.sqrt(p.get(0)))),
                new Case("add", (b, p) -> b.sum(b.mul(b.add(p.get(0), p.get(1)), p.get(0)))),
                new Case("sub", (b, p) -> b.sum(b.mul(b.sub(p.get(0), p.get(1)), p.get(1)))),
                new Case("mul", (b, p) -> b.sum(b.mul(p.get(0), p.get(1)))),
                new Case("div", (b, p) -> b.sum(b.div(p.get(0), p.get(1)))),
                new Case("pow", (b, p) -> b.sum(b.pow(p.get(0), p.get(1)))),
                new Case("where", (b, p) -> b.sum(b.where(b.step(b.sub(p.get(0), p.get(1))), b.exp(p.get(0)),
                        b.mul(p.get(1), p.get(1))))),
                new Case("row_sum", (b, p) -> b.sum(b.mul(b.rowSum(p.get(0)), b.rowSum(p.get(1))))),
                new Case("softmax", (b, p) -> b.sum(b.mul(b.softmax(p.get(0)), p.get(1)))),
                new Case("log_softmax", (b, p) -> b.sum(b.mul(b.logSoftmax(p.get(0)), p.get(1)))),
                new Case("pick", (b, p) -> b.sum(b.pick(b.logSoftmax(b.mul(p.get(0), p.get(1))), labels(b)))),
                new Case("matmul", (b, p) -> b.sum(b.tanh(b.matmul(p.get(0), p.get(2), false, false)))),
                new Case("matmul_tb", (b, p) -> b.sum(b.tanh(b.matmul(p.get(0), p.get(2), false, true)))),
                new Case("matmul_ta", (b, p) -> b.sum(b.tanh(b.matmul(p.get(0), p.get(1), true, false)))),
                new Case("matmul_tab", (b, p) -> b.sum(b.tanh(b.matmul(p.get(2), p.get(0), true, true)))),
                new Case("sum_to", (b, p) -> b.sum(b.tanh(b.sumTo(b.mul(p.get(0), p.get(1)), Shape.of(4))))),
                new Case("broadcast_to", (b, p) -> b.sum(b.mul(b.broadcastTo(b.sumTo(p.get(0), Shape.of(4)),
                        Shape.of(3, 4)), p.get(1)))),
                new Case("tied", (b, p) -> b.sum(b.tanh(b.matmul(b.tanh(b.matmul(p.get(0), p.get(2), false, true)),
                        p.get(2), false, true)))),
                new Case("fan_out", (b, p) -> {
                    Node h = b.tanh(p.get(0));
                    return b.sum(b.add(b.mul(h, h), b.mul(h, p.get(1))));
                }));
        return cases.stream().map(c -> Arguments.of(c.name(), c));
    }

    private static Node labels(GraphBuilder b) {
        return b.input("labels", Shape.of(3), DType.I32);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void autodiffMatchesFiniteDifferences(String name, Case c) {
        String[] labels = {"a", "b", "w"};
        Shape[] shapes = {Shape.of(3, 4), Shape.of(3, 4), Shape.of(4, 4)};
        GraphBuilder b = new GraphBuilder(name);
        List<Node> params = new ArrayList<>();
        for (int i = 0; i < labels.length; i++) {
            params.add(b.param(labels[i], shapes[i]));
        }
        Node loss = c.loss().apply(b, params);
        List<Node> grads = Autodiff.grad(b, loss, params);
        b.output("loss", loss);
        for (int i = 0; i < labels.length; i++) {
            b.output("grad." + labels[i], grads.get(i));
        }
        Graph graph = b.build();

        // Positive points keep log, sqrt, div and pow defined, away from relu's kink at zero.
        SplittableRandom random = new SplittableRandom(name.hashCode());
        double[][] values = new double[labels.length][];
        for (int i = 0; i < labels.length; i++) {
            values[i] = random.doubles(shapes[i].elements(1), 0.3, 1.7).toArray();
        }
        Evaluator.Result result = evaluate(graph, labels, values);
        for (int i = 0; i < labels.length; i++) {
            double[] analytic = result.output("grad." + labels[i]);
            for (int k = 0; k < values[i].length; k++) {
                double saved = values[i][k];
                values[i][k] = saved + STEP;
                double plus = evaluate(graph, labels, values).output("loss")[0];
                values[i][k] = saved - STEP;
                double minus = evaluate(graph, labels, values).output("loss")[0];
                values[i][k] = saved;
                double numeric = (plus - minus) / (2 * STEP);
                double allowed = RELATIVE * Math.max(1, Math.abs(numeric));
                if (!(Math.abs(analytic[k] - numeric) <= allowed)) {
                    fail(name + ": d loss / d " + labels[i] + "[" + k + "] is " + analytic[k]
                            + " by autodiff, " + numeric + " by finite differences");
                }
            }
        }
    }

    private static Evaluator.Result evaluate(Graph graph, String[] labels, double[][] values) {
        Evaluator evaluator = new Evaluator();
        for (int i = 0; i < labels.length; i++) {
            evaluator.param(labels[i], values[i]);
        }
        if (graph.nodes().stream().anyMatch(n -> n.op() instanceof Leaf.Input)) {
            evaluator.input("labels", LABELS);
        }
        return evaluator.run(graph, 1);
    }

    @Test
    void biasGradientSumsOverBroadcastRows() {
        GraphBuilder b = new GraphBuilder("bias");
        Node x = b.param("x", Shape.of(3, 2));
        Node bias = b.param("b", Shape.of(2));
        Node sum = b.add(x, bias);
        Node loss = b.sum(b.mul(sum, sum));
        b.output("grad.b", Autodiff.grad(b, loss, List.of(bias)).getFirst());

        double[] grad = new Evaluator().param("x", new double[] {1, 2, 3, 4, 5, 6}).param("b", new double[] {0, 0})
                .run(b.build(), 1).output("grad.b");

        // dL/db_j = sum_i 2 (X_ij + b_j) = 2 (1 + 3 + 5), 2 (2 + 4 + 6).
        assertArrayEquals(new double[] {18, 24}, grad, 1e-12);
    }

    @Test
    void shapeErrorsNameBothShapes() {
        GraphBuilder b = new GraphBuilder("shapes");
        Node a = b.param("a", Shape.of(3, 4));
        Node c = b.param("c", Shape.of(5, 2));
        ShapeException matmul = assertThrows(ShapeException.class, () -> b.matmul(a, c, false, false));
        assertTrue(matmul.getMessage().contains("[3,4]"), matmul.getMessage());
        assertTrue(matmul.getMessage().contains("[5,2]"), matmul.getMessage());
        ShapeException add = assertThrows(ShapeException.class, () -> b.add(a, c));
        assertTrue(add.getMessage().contains("[3,4]"), add.getMessage());
        assertTrue(add.getMessage().contains("[5,2]"), add.getMessage());
    }

}
