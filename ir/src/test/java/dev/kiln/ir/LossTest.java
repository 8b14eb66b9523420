package dev.kiln.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks every standard loss, built as IR and run by the reference {@link Evaluator}: its value
 * and the gradient with respect to the scores against PyTorch 1.13 (numbers printed by
 * {@code tools/oracle/loss_reference.py}), the gradient against central finite differences, and
 * the special values where a naive formula overflows or a derivative has a kink.
 */
class LossTest {
    private static final int BATCH = 2;
    private static final int WIDTH = 3;
    private static final double[] SCORES = {0.5, -1.25, 2.0, -0.3, 0.8, -2.2};
    private static final double[] TARGETS = {1.0, 0.0, 0.25, 0.0, 0.6, 1.0};
    private static final double[] PROBABILITIES = {0.2, 0.3, 0.5, 0.7, 0.0, 0.3};
    private static final double[] CLASSES = {2, 0};

    // PyTorch's loss, then d loss / d scores, from tools/oracle/loss_reference.py.
    private static final double[] L1 = {1.2, -0.16666666666666666, -0.16666666666666666, 0.16666666666666666,
        -0.16666666666666666, 0.16666666666666666, -0.16666666666666666};
    private static final double[] HUBER = {0.8150000000000001, -0.08333333333333333, -0.16666666666666666,
        0.16666666666666666, -0.049999999999999996, 0.03333333333333334, -0.16666666666666666};
    private static final double[] BCE_WITH_LOGITS = {0.9839122177922422, -0.0629234447996909, 0.03711668980421814,
        0.10513284632964705, 0.07092624719805683, 0.014995746854602088, -0.15004158514671914};
    private static final double[] SOFT_CROSS_ENTROPY = {1.7508149133407152, -0.011589908946277858,
        -0.1346366298367818, 0.14622653878305963, -0.2296263981806676, 0.36162228476569486, -0.13199588658502717};
    private static final double[] NLL = {-0.85, 0.0, 0.0, -0.5, -0.5, 0.0, 0.0};
    private static final double[] CROSS_ENTROPY = {0.8283149133407152, 0.08841009105372215, 0.015363370163218216,
        -0.10377346121694037, -0.3796263981806676, 0.36162228476569486, 0.01800411341497282};
    private static final double[] MSE = {2.5408333333333335, -0.16666666666666666, -0.41666666666666663,
        0.5833333333333333, -0.09999999999999999, 0.06666666666666668, -1.0666666666666667};

    /** A loss with its labels and PyTorch's value and gradient for {@link #SCORES}. */
    private record Case(Loss loss, double[] labels, double[] expected) {
        @Override
        public String toString() {
            return loss.name();
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case(Loss.L1, TARGETS, L1),
                new Case(Loss.HUBER, TARGETS, HUBER),
                new Case(Loss.BCE_WITH_LOGITS, TARGETS, BCE_WITH_LOGITS),
                new Case(Loss.SOFT_CROSS_ENTROPY, PROBABILITIES, SOFT_CROSS_ENTROPY),
                new Case(Loss.NLL, CLASSES, NLL),
                new Case(Loss.CROSS_ENTROPY, CLASSES, CROSS_ENTROPY),
                new Case(Loss.MSE, TARGETS, MSE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void valueAndGradientMatchPyTorch(Case c) {
        Evaluator.Result result = run(c.loss(), SCORES, c.labels(), BATCH, WIDTH);

        assertEquals(c.expected()[0], result.output("loss")[0], 1e-12, c.loss() + " value");
        double[] grad = result.output("grad");
        for (int i = 0; i < grad.length; i++) {
            assertEquals(c.expected()[i + 1], grad[i], 1e-12, c.loss() + " d loss / d scores[" + i + "]");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Loss.class, mode = EnumSource.Mode.EXCLUDE, names = "CUSTOM")
    void gradientMatchesFiniteDifferences(Loss loss) {
        int batch = 4;
        int width = 5;
        SplittableRandom random = new SplittableRandom(loss.ordinal() * 31L + 5);
        double[] scores = random.doubles(batch * width, -3, 3).toArray();
        double[] labels = labels(loss, random, batch, width);
        // Keep every element off the kinks of L1 (d = 0) and Huber (|d| = 1), where the one-sided
        // derivatives differ and a central difference averages them.
        if (loss == Loss.L1 || loss == Loss.HUBER) {
            for (int i = 0; i < scores.length; i++) {
                double d = scores[i] - labels[i];
                if (Math.abs(d) < 0.05 || Math.abs(Math.abs(d) - 1) < 0.05) {
                    scores[i] += 0.2;
                }
            }
        }

        double[] analytic = run(loss, scores, labels, batch, width).output("grad");

        double step = 1e-6;
        for (int i = 0; i < scores.length; i++) {
            double saved = scores[i];
            scores[i] = saved + step;
            double plus = run(loss, scores, labels, batch, width).output("loss")[0];
            scores[i] = saved - step;
            double minus = run(loss, scores, labels, batch, width).output("loss")[0];
            scores[i] = saved;
            double numeric = (plus - minus) / (2 * step);
            if (!(Math.abs(analytic[i] - numeric) <= 1e-6)) {
                fail(loss + ": d loss / d scores[" + i + "] is " + analytic[i] + " by autodiff, " + numeric
                        + " by finite differences");
            }
        }
    }

    @Test
    void bceGradientAtZeroLogit() {
        // Two elements, so each gradient is (sigmoid(0) - y) / 2.
        Evaluator.Result result = run(Loss.BCE_WITH_LOGITS, new double[] {0, 0}, new double[] {0, 1}, 1, 2);

        assertEquals(Math.log(2), result.output("loss")[0], 1e-15);
        assertEquals(0.5 / 2, result.output("grad")[0], 1e-15, "y = 0");
        assertEquals(-0.5 / 2, result.output("grad")[1], 1e-15, "y = 1");
    }

    @Test
    void bceWithLogitsStaysFiniteForLargeLogits() {
        double[] scores = {-100, 100, 100, -100};
        double[] targets = {0, 1, 0, 1};
        // A confident right prediction costs log1p(e^-100), about 3.7e-44; a confident wrong one costs 100.
        double[] expected = {Math.log1p(Math.exp(-100)), Math.log1p(Math.exp(-100)), 100, 100};
        for (int i = 0; i < scores.length; i++) {
            Evaluator.Result result = run(Loss.BCE_WITH_LOGITS, new double[] {scores[i]}, new double[] {targets[i]}, 1, 1);
            double loss = result.output("loss")[0];
            double grad = result.output("grad")[0];
            String point = "s = " + scores[i] + ", y = " + targets[i];

            assertEquals(expected[i], loss, 1e-12, point);
            assertTrue(Double.isFinite(grad), point + ": gradient " + grad);
            assertEquals(sigmoid(scores[i]) - targets[i], grad, 1e-15, point + ": gradient");
        }
    }

    @Test
    void l1GradientAtZeroDifferenceIsZero() {
        Evaluator.Result result = run(Loss.L1, new double[] {0.5, 2}, new double[] {0.5, 1}, 1, 2);

        assertEquals(0.5, result.output("loss")[0], 1e-15);
        assertEquals(0, result.output("grad")[0], 0, "|d| at d = 0, as PyTorch's sign(0)");
        assertEquals(0.5, result.output("grad")[1], 1e-15);
    }

    @Test
    void huberIsContinuousAtDelta() {
        double[] differences = {-1, 1, -0.999999, 1.000001, 3};
        double[] expectedValues = {0.5, 0.5, 0.5 * 0.999999 * 0.999999, 1.000001 - 0.5, 2.5};
        double[] expectedGrads = {-1, 1, -0.999999, 1, 1};
        for (int i = 0; i < differences.length; i++) {
            Evaluator.Result result = run(Loss.HUBER, new double[] {differences[i]}, new double[] {0}, 1, 1);

            assertEquals(expectedValues[i], result.output("loss")[0], 1e-12, "Huber at d = " + differences[i]);
            assertEquals(expectedGrads[i], result.output("grad")[0], 1e-12, "d Huber / d s at d = " + differences[i]);
        }
    }

    @Test
    void softCrossEntropyOnOneHotTargets() {
        double[] oneHot = {0, 0, 1, 1, 0, 0};
        Evaluator.Result soft = run(Loss.SOFT_CROSS_ENTROPY, SCORES, oneHot, BATCH, WIDTH);
        Evaluator.Result hard = run(Loss.CROSS_ENTROPY, SCORES, CLASSES, BATCH, WIDTH);

        assertEquals(hard.output("loss")[0], soft.output("loss")[0], 1e-14);
        for (int i = 0; i < SCORES.length; i++) {
            assertEquals(hard.output("grad")[i], soft.output("grad")[i], 1e-14, "d loss / d scores[" + i + "]");
        }
    }

    @Test
    void labelShapesAndTypes() {
        Shape output = Shape.batched(WIDTH);
        for (Loss loss : List.of(Loss.CROSS_ENTROPY, Loss.NLL)) {
            assertTrue(loss.takesClassIndices(), loss.name());
            assertEquals(Shape.batched(), loss.labelShape(output), loss.name());
            assertEquals(DType.I32, loss.labelType(), loss.name());
            assertEquals("labels", loss.labelName(), loss.name());
        }
        for (Loss loss : List.of(Loss.MSE, Loss.L1, Loss.HUBER, Loss.BCE_WITH_LOGITS, Loss.SOFT_CROSS_ENTROPY)) {
            assertEquals(false, loss.takesClassIndices(), loss.name());
            assertEquals(output, loss.labelShape(output), loss.name());
            assertEquals(DType.F32, loss.labelType(), loss.name());
            assertEquals("targets", loss.labelName(), loss.name());
        }
    }

    /** Builds the loss over scores given as an input of shape [B, width] and its gradient. */
    private static Evaluator.Result run(Loss loss, double[] scores, double[] labels, int batch, int width) {
        GraphBuilder b = new GraphBuilder(loss.name());
        Node s = b.input("scores", Shape.batched(width), DType.F32);
        Node y = b.input(loss.labelName(), loss.labelShape(s.shape()), loss.labelType());
        Node value = loss.build(b, s, y);
        b.output("loss", value);
        b.output("grad", Autodiff.grad(b, value, List.of(s)).getFirst());
        return new Evaluator().input("scores", scores).input(loss.labelName(), labels).run(b.build(), batch);
    }

    private static double[] labels(Loss loss, SplittableRandom random, int batch, int width) {
        if (loss.takesClassIndices()) {
            return random.ints(batch, 0, width).asDoubleStream().toArray();
        }
        if (loss == Loss.SOFT_CROSS_ENTROPY) {
            double[] p = random.doubles(batch * width, 0, 1).toArray();
            for (int r = 0; r < batch; r++) {
                double sum = 0;
                for (int c = 0; c < width; c++) {
                    sum += p[r * width + c];
                }
                for (int c = 0; c < width; c++) {
                    p[r * width + c] /= sum;
                }
            }
            return p;
        }
        return random.doubles(batch * width, loss == Loss.BCE_WITH_LOGITS ? 0 : -3, loss == Loss.BCE_WITH_LOGITS ? 1 : 3)
                .toArray();
    }

    private static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }
}
