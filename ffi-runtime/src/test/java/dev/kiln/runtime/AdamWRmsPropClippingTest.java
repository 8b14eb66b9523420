package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.ir.Loss;
import dev.kiln.ir.Optimizer;
import dev.kiln.nn.Adam;
import dev.kiln.nn.AdamW;
import dev.kiln.nn.OptimizerConfig;
import dev.kiln.nn.RmsProp;
import dev.kiln.nn.Sgd;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.Tolerance;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the compiled AdamW and RMSprop updates and gradient clipping by global norm against
 * PyTorch's update rules, written out here in double precision. Gradients are set by hand with
 * {@code setGradient}, so only the update runs, except in the last test, where
 * {@code trainStep} clips the gradients it computes itself.
 */
class AdamWRmsPropClippingTest {
    private static final int WIDTH = 3;
    private static final int STEPS = 6;

    private static NativeBuild build;

    @BeforeAll
    static void compileModel() {
        build = NativeBuild.of(TestModels.singleLayer("NewOptimizerLayer", WIDTH, TestModels.Activation.IDENTITY,
                Loss.MSE, List.of(Optimizer.ADAMW, Optimizer.RMSPROP, Optimizer.SGD, Optimizer.ADAM)));
    }

    /** A hand-written update of one parameter tensor at step t, on double values in place. */
    private interface Rule {
        void apply(String name, double[] p, float[] g, int t);
    }

    @Test
    void adamWFollowsPyTorchRule() {
        double lr = 2e-2;
        double beta1 = 0.8;
        double beta2 = 0.99;
        double eps = 1e-6;
        double weightDecay = 0.1;
        AdamW adamW = new AdamW(lr).betas(beta1, beta2).eps(eps);
        adamW.weightDecay(weightDecay);
        Map<String, double[]> m = new LinkedHashMap<>();
        Map<String, double[]> v = new LinkedHashMap<>();

        check("AdamW", adamW, Double.POSITIVE_INFINITY, (name, p, g, t) -> {
            double[] mn = m.computeIfAbsent(name, k -> new double[p.length]);
            double[] vn = v.computeIfAbsent(name, k -> new double[p.length]);
            for (int i = 0; i < p.length; i++) {
                // Decoupled decay first, then the Adam step on the decayed parameter.
                p[i] *= 1 - lr * weightDecay;
                mn[i] = beta1 * mn[i] + (1 - beta1) * g[i];
                vn[i] = beta2 * vn[i] + (1 - beta2) * g[i] * g[i];
                double stepSize = lr / (1 - Math.pow(beta1, t));
                double denominator = Math.sqrt(vn[i]) / Math.sqrt(1 - Math.pow(beta2, t)) + eps;
                p[i] -= stepSize * mn[i] / denominator;
            }
        });
    }

    @Test
    void adamWDefaultDecayDiffersFromAdam() {
        // With a zero gradient, Adam with L2 decay still moves (its gradient is wd p) by about
        // lr sign(p), while AdamW only shrinks p by the factor 1 - lr wd.
        try (TestModel model = build.newModel(4)) {
            Map<String, double[]> before = Reference.parameters(model);
            for (String name : model.parameterNames()) {
                model.setGradient(name, new float[model.parameter(name).length]);
            }

            model.applyGradients(new AdamW(0.1));

            for (String name : model.parameterNames()) {
                double[] expected = before.get(name).clone();
                for (int i = 0; i < expected.length; i++) {
                    expected[i] *= 1 - 0.1 * 0.01;
                }
                Tolerance.assertClose("AdamW with zero gradient, " + name, expected, model.parameter(name));
            }
        }
    }

    @Test
    void plainRmsPropFollowsPyTorchRule() {
        checkRmsProp(new RmsProp(1e-2), 1e-2, 0.99, 1e-8, 0, false, 0);
    }

    @Test
    void rmsPropWithMomentumFollowsPyTorchRule() {
        checkRmsProp(new RmsProp(2e-2).momentum(0.9).alpha(0.9), 2e-2, 0.9, 1e-8, 0.9, false, 0.05);
    }

    @Test
    void centeredRmsPropFollowsPyTorchRule() {
        checkRmsProp(new RmsProp(1e-2).centered(true).eps(1e-6), 1e-2, 0.99, 1e-6, 0, true, 0);
    }

    @Test
    void centeredMomentumRmsPropFollowsPyTorch() {
        checkRmsProp(new RmsProp(5e-3).centered(true).momentum(0.5).alpha(0.95), 5e-3, 0.95, 1e-8, 0.5, true, 0.01);
    }

    @Test
    void clippingScalesSgdGradientsByGlobalNorm() {
        // Gradients uniform in [-2, 2) over 12 elements have a global norm of about 4, so a
        // maximum of 1 clips every step, across both parameter tensors together.
        double lr = 0.1;
        Sgd sgd = new Sgd(lr);
        sgd.clipGradNorm(1.0);
        check("clipped SGD", sgd, 1.0, (name, p, g, t) -> {
            for (int i = 0; i < p.length; i++) {
                p[i] -= lr * g[i];
            }
        });
    }

    @Test
    void clippingAboveTheNormChangesNothing() {
        double lr = 0.1;
        Sgd sgd = new Sgd(lr);
        sgd.clipGradNorm(1e6);
        check("SGD clipped at 1e6", sgd, 1e6, (name, p, g, t) -> {
            for (int i = 0; i < p.length; i++) {
                p[i] -= lr * g[i];
            }
        });
    }

    @Test
    void clippingAppliesBeforeAdamWeightDecay() {
        double lr = 1e-2;
        double weightDecay = 0.2;
        Adam adam = new Adam(lr);
        adam.weightDecay(weightDecay);
        adam.clipGradNorm(0.5);
        Map<String, double[]> m = new LinkedHashMap<>();
        Map<String, double[]> v = new LinkedHashMap<>();
        check("clipped Adam", adam, 0.5, (name, p, g, t) -> {
            double[] mn = m.computeIfAbsent(name, k -> new double[p.length]);
            double[] vn = v.computeIfAbsent(name, k -> new double[p.length]);
            for (int i = 0; i < p.length; i++) {
                double gi = g[i] + weightDecay * p[i];
                mn[i] = 0.9 * mn[i] + 0.1 * gi;
                vn[i] = 0.999 * vn[i] + 0.001 * gi * gi;
                double denominator = Math.sqrt(vn[i]) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8;
                p[i] -= lr / (1 - Math.pow(0.9, t)) * mn[i] / denominator;
            }
        });
    }

    @Test
    void trainStepClipsTheGradientsItComputes() {
        SplittableRandom random = new SplittableRandom(21);
        int batch = 8;
        float[] x = TestData.samples(random, build.descriptor(), batch);
        float[] y = TestData.uniform(random, batch * WIDTH);
        try (TestModel clipped = build.newModel(9); TestModel reference = build.newModel(9)) {
            reference.forwardBackward(x, y, batch);
            double norm = globalNorm(reference);
            double maxNorm = norm / 4;
            Map<String, double[]> initial = Reference.parameters(clipped);
            Sgd sgd = new Sgd(0.5);
            sgd.clipGradNorm(maxNorm);

            clipped.trainStep(x, y, batch, sgd);

            double scale = maxNorm / (norm + 1e-6);
            for (String name : clipped.parameterNames()) {
                double[] expected = initial.get(name).clone();
                float[] g = reference.gradient(name);
                for (int i = 0; i < expected.length; i++) {
                    expected[i] -= 0.5 * scale * g[i];
                }
                Tolerance.assertClose("trainStep with clipping, " + name, expected, clipped.parameter(name));
            }
        }
    }

    private static void checkRmsProp(RmsProp rmsProp, double lr, double alpha, double eps, double momentum,
                                     boolean centered, double weightDecay) {
        rmsProp.weightDecay(weightDecay);
        Map<String, double[]> squareAvg = new LinkedHashMap<>();
        Map<String, double[]> gradAvg = new LinkedHashMap<>();
        Map<String, double[]> buf = new LinkedHashMap<>();
        check("RMSprop", rmsProp, Double.POSITIVE_INFINITY, (name, p, g, t) -> {
            double[] sq = squareAvg.computeIfAbsent(name, k -> new double[p.length]);
            double[] ga = gradAvg.computeIfAbsent(name, k -> new double[p.length]);
            double[] b = buf.computeIfAbsent(name, k -> new double[p.length]);
            for (int i = 0; i < p.length; i++) {
                double gi = g[i] + weightDecay * p[i];
                sq[i] = alpha * sq[i] + (1 - alpha) * gi * gi;
                double avg;
                if (centered) {
                    ga[i] = alpha * ga[i] + (1 - alpha) * gi;
                    avg = Math.sqrt(sq[i] - ga[i] * ga[i]) + eps;
                } else {
                    avg = Math.sqrt(sq[i]) + eps;
                }
                if (momentum > 0) {
                    b[i] = momentum * b[i] + gi / avg;
                    p[i] -= lr * b[i];
                } else {
                    p[i] -= lr * gi / avg;
                }
            }
        });
    }

    /**
     * Runs {@link #STEPS} updates from random gradients natively and by {@code rule} in double,
     * clipping the gradients first as {@code clip_grad_norm_(params, maxNorm)} when maxNorm is
     * finite, and compares how far each parameter moved.
     */
    private static void check(String what, OptimizerConfig optimizer, double maxNorm, Rule rule) {
        SplittableRandom random = new SplittableRandom(what.hashCode());
        try (TestModel model = build.newModel(5)) {
            Map<String, double[]> p = Reference.parameters(model);
            Map<String, double[]> initial = copy(p);
            for (int t = 1; t <= STEPS; t++) {
                Map<String, float[]> grads = new LinkedHashMap<>();
                double squares = 0;
                for (String name : model.parameterNames()) {
                    float[] g = TestData.uniform(random, p.get(name).length);
                    model.setGradient(name, g);
                    grads.put(name, g);
                    for (float gi : g) {
                        squares += (double) gi * gi;
                    }
                }
                double scale = Double.isInfinite(maxNorm) ? 1 : Math.min(1, maxNorm / (Math.sqrt(squares) + 1e-6));
                for (String name : model.parameterNames()) {
                    float[] g = grads.get(name);
                    float[] scaled = new float[g.length];
                    for (int i = 0; i < g.length; i++) {
                        scaled[i] = (float) (g[i] * scale);
                    }
                    rule.apply(name, p.get(name), scale == 1 ? g : scaled, t);
                }
                model.applyGradients(optimizer);
                assertMovedLike(what + " after step " + t, initial, p, model);
            }
            assertEquals(STEPS, optimizer.steps());
        }
    }

    private static double globalNorm(TestModel model) {
        double squares = 0;
        for (String name : model.parameterNames()) {
            for (float g : model.gradient(name)) {
                squares += (double) g * g;
            }
        }
        return Math.sqrt(squares);
    }

    /** Compares the distance each parameter moved from its start, a stricter check than the values. */
    private static void assertMovedLike(String what, Map<String, double[]> initial, Map<String, double[]> expected,
                                        TestModel model) {
        for (String name : model.parameterNames()) {
            double[] start = initial.get(name);
            double[] expectedDelta = new double[start.length];
            float[] actual = model.parameter(name);
            float[] actualDelta = new float[start.length];
            for (int i = 0; i < start.length; i++) {
                expectedDelta[i] = expected.get(name)[i] - start[i];
                actualDelta[i] = (float) (actual[i] - start[i]);
            }
            Tolerance.assertClose(what + ", change of " + name, expectedDelta, actualDelta);
        }
    }

    private static Map<String, double[]> copy(Map<String, double[]> values) {
        Map<String, double[]> out = new LinkedHashMap<>();
        values.forEach((name, v) -> out.put(name, v.clone()));
        return out;
    }
}
