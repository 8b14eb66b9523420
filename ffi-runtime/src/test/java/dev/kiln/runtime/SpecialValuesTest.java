package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Loss;
import dev.kiln.ir.Optimizer;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.TestModels.Activation;
import dev.kiln.runtime.testing.Tolerance;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Extreme inputs where a naive formula overflows, cancels or divides infinity by infinity. Each
 * model is one linear layer whose weight is set to the identity and bias to zero, so the
 * activation sees the sample itself.
 */
class SpecialValuesTest {
    private static final double LN_2 = Math.log(2);

    private static NativeBuild logits2;
    private static NativeBuild logits3;
    private static NativeBuild tanh2;
    private static NativeBuild sigmoid4;

    private TestModel model;

    @BeforeAll
    static void compileModels() {
        List<Optimizer> none = List.of();
        logits2 = NativeBuild.of(TestModels.singleLayer("Logits2", 2, Activation.IDENTITY, Loss.CROSS_ENTROPY, none));
        logits3 = NativeBuild.of(TestModels.singleLayer("Logits3", 3, Activation.IDENTITY, Loss.CROSS_ENTROPY, none));
        tanh2 = NativeBuild.of(TestModels.singleLayer("Tanh2", 2, Activation.TANH, Loss.MSE, none));
        sigmoid4 = NativeBuild.of(TestModels.singleLayer("Sigmoid4", 4, Activation.SIGMOID, Loss.MSE, none));
    }

    @AfterEach
    void closeModel() {
        if (model != null) {
            model.close();
        }
    }

    @Test
    void crossEntropyOfHugeLogitsIsLn2() {
        model = identity(logits2, 2);
        float[] x = {1e8f, 1e8f};

        for (int label = 0; label < 2; label++) {
            float loss = model.forwardBackward(x, new int[] {label}, 1);

            assertEquals(LN_2, loss, 1e-6, "loss for label " + label);
            // dL/dlogits = softmax - one_hot = +-0.5, so dL/dW = +-0.5 * 1e8 and dL/db = +-0.5.
            float[] expectedBias = label == 0 ? new float[] {-0.5f, 0.5f} : new float[] {0.5f, -0.5f};
            assertArrayEquals(expectedBias, model.gradient("fc.bias"), 1e-6f, "bias gradient for label " + label);
            assertAllFinite("weight gradient for label " + label, model.gradient("fc.weight"));
            assertEquals(LN_2, model.evaluate(x, new int[] {label}, 1, 1).meanLoss(), 1e-6, "evaluate, label " + label);
        }
    }

    @Test
    void referenceCrossEntropyOfHugeLogits() {
        model = identity(logits2, 2);
        Reference reference = new Reference(logits2.spec());

        for (int label = 0; label < 2; label++) {
            double loss = reference.forwardBackward(Reference.parameters(model), new float[] {1e8f, 1e8f},
                    new double[] {label}, 1).loss();

            assertEquals(LN_2, loss, 1e-12, "reference loss for label " + label);
        }
    }

    @Test
    void probabilitiesOfWideLogitsAreOneHot() {
        model = identity(logits3, 3);

        float[] probabilities = model.predictProbabilities(new float[] {-1000f, 0f, 1000f});

        assertArrayEquals(new float[] {0f, 0f, 1f}, probabilities);
        assertEquals(2, model.predictClass(new float[] {-1000f, 0f, 1000f}));
    }

    @Test
    void tanhSaturatesWithZeroGradient() {
        model = identity(tanh2, 2);
        float[] x = {100f, -100f};

        assertArrayEquals(new float[] {1f, -1f}, model.predict(x));

        model.forwardBackward(x, new float[] {0.25f, -0.5f}, 1);
        assertAllZero("weight gradient", model.gradient("fc.weight"));
        assertAllZero("bias gradient", model.gradient("fc.bias"));
    }

    @Test
    void sigmoidOfLargeInputsHasNoNaN() {
        model = identity(sigmoid4, 4);
        float[] x = {89f, -89f, 1000f, -1000f};
        float[] targets = {0.5f, 0.5f, 0.5f, 0.5f};

        float[] y = model.predict(x);
        float loss = model.forwardBackward(x, targets, 1);

        float[] expected = {1f, 0f, 1f, 0f};
        for (int i = 0; i < x.length; i++) {
            assertEquals(expected[i], y[i], 1e-30f, "sigmoid(" + x[i] + ")");
        }
        assertEquals(0.25, loss, 1e-7, "mean of (y - 0.5)^2");
        assertAllFinite("weight gradient", model.gradient("fc.weight"));
        assertAllFinite("bias gradient", model.gradient("fc.bias"));
        for (float g : model.gradient("fc.weight")) {
            assertEquals(0, g, 1e-30f, "weight gradient where sigmoid saturates");
        }
    }

    @Test
    void sigmoidReferenceAndNativeAgree() {
        model = identity(sigmoid4, 4);
        float[] x = {89f, -89f, 1000f, -1000f};
        double[] targets = {0.5, 0.5, 0.5, 0.5};
        Reference reference = new Reference(sigmoid4.spec());

        model.forwardBackward(x, new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 1);
        Reference.LossAndGradients expected = reference.forwardBackward(Reference.parameters(model), x, targets, 1);

        double[] output = reference.predict(Reference.parameters(model), x, 1);
        assertArrayEquals(new double[] {1, 0, 1, 0}, output, 1e-30);
        for (String name : model.parameterNames()) {
            double[] gradient = expected.gradients().get(name);
            for (double g : gradient) {
                assertTrue(Double.isFinite(g), "reference grad." + name + " has " + g);
            }
            Tolerance.assertClose("grad." + name, gradient, model.gradient(name));
        }
    }

    /** Returns a model of {@code build} with the identity as weight and a zero bias. */
    private static TestModel identity(NativeBuild build, int width) {
        TestModel identityModel = build.newModel(1);
        float[] weight = new float[width * width];
        for (int i = 0; i < width; i++) {
            weight[i * width + i] = 1f;
        }
        identityModel.setParameter("fc.weight", weight);
        identityModel.setParameter("fc.bias", new float[width]);
        return identityModel;
    }

    private static void assertAllFinite(String description, float[] values) {
        for (int i = 0; i < values.length; i++) {
            assertTrue(Float.isFinite(values[i]), description + "[" + i + "] is " + values[i]);
        }
    }

    private static void assertAllZero(String description, float[] values) {
        for (int i = 0; i < values.length; i++) {
            assertEquals(0f, Math.abs(values[i]), description + "[" + i + "]");
        }
    }
}
