package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.ir.Loss;
import dev.kiln.ir.Optimizer;
import dev.kiln.nn.Adam;
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
 * Checks the compiled optimizer updates against PyTorch's update rules, written out here in
 * double precision. Gradients are set by hand with {@code setGradient}, so only the update runs.
 */
class OptimizerTest {
    private static final int WIDTH = 3;
    private static final int STEPS = 6;

    private static NativeBuild build;

    @BeforeAll
    static void compileModel() {
        build = NativeBuild.of(TestModels.singleLayer("OptimizerLayer", WIDTH, TestModels.Activation.IDENTITY,
                Loss.MSE, List.of(Optimizer.ADAM, Optimizer.SGD)));
    }

    @Test
    void firstAdamStepMovesEveryParameterTensorByTheLearningRate() {
        try (TestModel model = build.newModel(1)) {
            Map<String, float[]> before = new LinkedHashMap<>();
            for (String name : model.parameterNames()) {
                before.put(name, model.parameter(name));
                model.setGradient(name, filled(model.parameter(name).length, 0.5f));
            }

            model.applyGradients(new Adam(1e-3));

            // Step 1 of Adam: m = 0.05 / (1 - 0.9), v = 0.00025 / (1 - 0.999), so the step is
            // lr * 0.5 / (0.5 + eps), the learning rate itself. If the step counter advanced once
            // per tensor, the second tensor would move by a different amount.
            assertEquals(List.of("fc.weight", "fc.bias"), model.parameterNames());
            for (String name : model.parameterNames()) {
                float[] after = model.parameter(name);
                for (int i = 0; i < after.length; i++) {
                    assertEquals(1.000e-3, before.get(name)[i] - after[i], 1e-6, name + "[" + i + "] moved");
                }
            }
        }
    }

    @Test
    void adamWithWeightDecayFollowsPyTorchRule() {
        double lr = 2e-2;
        double beta1 = 0.8;
        double beta2 = 0.99;
        double eps = 1e-6;
        double weightDecay = 0.1;
        SplittableRandom random = new SplittableRandom(7);
        try (TestModel model = build.newModel(2)) {
            Map<String, double[]> p = Reference.parameters(model);
            Map<String, double[]> initial = copy(p);
            Map<String, double[]> m = zerosLike(p);
            Map<String, double[]> v = zerosLike(p);
            Adam adam = new Adam(lr).betas(beta1, beta2).eps(eps);
            adam.weightDecay(weightDecay);

            for (int t = 1; t <= STEPS; t++) {
                for (String name : model.parameterNames()) {
                    float[] g = TestData.uniform(random, p.get(name).length);
                    model.setGradient(name, g);
                    double[] pn = p.get(name);
                    double[] mn = m.get(name);
                    double[] vn = v.get(name);
                    for (int i = 0; i < pn.length; i++) {
                        double gi = g[i] + weightDecay * pn[i];
                        mn[i] = beta1 * mn[i] + (1 - beta1) * gi;
                        vn[i] = beta2 * vn[i] + (1 - beta2) * gi * gi;
                        double mHat = mn[i] / (1 - Math.pow(beta1, t));
                        double denominator = Math.sqrt(vn[i]) / Math.sqrt(1 - Math.pow(beta2, t)) + eps;
                        pn[i] -= lr * mHat / denominator;
                    }
                }
                model.applyGradients(adam);
            }

            assertEquals(STEPS, adam.steps());
            assertMovedLike("Adam", initial, p, model);
        }
    }

    @Test
    void sgdWithMomentumDampeningAndWeightDecayFollowsPyTorchRule() {
        checkSgd(new Sgd(0.05).momentum(0.9).dampening(0.3), 0.05, 0.9, 0.3, false, 0.01);
    }

    @Test
    void sgdWithNesterovMomentumFollowsPyTorchRule() {
        checkSgd(new Sgd(0.05).momentum(0.7).nesterov(true), 0.05, 0.7, 0, true, 0.02);
    }

    @Test
    void plainSgdFollowsPyTorchRule() {
        checkSgd(new Sgd(0.1), 0.1, 0, 0, false, 0.05);
    }

    private static void checkSgd(Sgd sgd, double lr, double momentum, double dampening, boolean nesterov,
                                 double weightDecay) {
        sgd.weightDecay(weightDecay);
        SplittableRandom random = new SplittableRandom(11);
        try (TestModel model = build.newModel(3)) {
            Map<String, double[]> p = Reference.parameters(model);
            Map<String, double[]> initial = copy(p);
            Map<String, double[]> buf = zerosLike(p);
            for (int t = 1; t <= STEPS; t++) {
                for (String name : model.parameterNames()) {
                    float[] g = TestData.uniform(random, p.get(name).length);
                    model.setGradient(name, g);
                    double[] pn = p.get(name);
                    double[] bn = buf.get(name);
                    for (int i = 0; i < pn.length; i++) {
                        double d = g[i] + weightDecay * pn[i];
                        if (momentum != 0) {
                            // PyTorch starts the buffer at the first gradient, undamped.
                            bn[i] = t == 1 ? d : momentum * bn[i] + (1 - dampening) * d;
                            d = nesterov ? d + momentum * bn[i] : bn[i];
                        }
                        pn[i] -= lr * d;
                    }
                }
                model.applyGradients(sgd);
                if (t == 1) {
                    assertMovedLike("SGD after its first step", initial, p, model);
                }
            }
            assertMovedLike("SGD", initial, p, model);
        }
    }

    /**
     * Compares the distance each parameter moved from its start, which is a far stricter check
     * than comparing the parameters, whose size hides small update errors.
     */
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
            Tolerance.assertClose(what + " change of " + name, expectedDelta, actualDelta);
        }
    }

    private static float[] filled(int length, float value) {
        float[] values = new float[length];
        java.util.Arrays.fill(values, value);
        return values;
    }

    private static Map<String, double[]> copy(Map<String, double[]> values) {
        Map<String, double[]> out = new LinkedHashMap<>();
        values.forEach((name, v) -> out.put(name, v.clone()));
        return out;
    }

    private static Map<String, double[]> zerosLike(Map<String, double[]> values) {
        Map<String, double[]> out = new LinkedHashMap<>();
        values.forEach((name, v) -> out.put(name, new double[v.length]));
        return out;
    }
}
