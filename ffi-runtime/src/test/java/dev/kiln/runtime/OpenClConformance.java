package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Optimizer;
import dev.kiln.nn.Adam;
import dev.kiln.nn.OptimizerConfig;
import dev.kiln.nn.Sgd;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.OpenClSupport;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.TestModels.Activation;
import dev.kiln.runtime.testing.Tolerance;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The OpenCL backend against the double-precision reference and against the C backend on the same
 * parameters and inputs: every test model at several batch sizes, training with both optimizers,
 * and the extreme inputs of {@link SpecialValuesTest}. Subclasses choose the work-group size cap,
 * so the same checks run with the device's own limit and under small, GPU-like limits.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OpenClConformance {
    private static final int TRAINING_STEPS = 10;
    private static final int TRAINING_BATCH = 16;
    private static final double LN_2 = Math.log(2);

    private static final Map<String, NativeBuild> BUILDS = new HashMap<>();

    private Device.OpenCl device;

    /** Returns the work-group size cap of this class's models, or 0 for the device's own limit. */
    abstract int workGroupCap();

    @BeforeAll
    void openDevice() {
        device = OpenClSupport.deviceOrSkip();
    }

    @AfterAll
    void closeDevice() {
        if (device != null) {
            device.close();
        }
    }

    static Stream<Arguments> modelsAndBatches() {
        return TestModels.all().stream()
                .flatMap(spec -> Stream.of(1, 7, 64).map(batch -> Arguments.of(spec.name(), batch)));
    }

    static Stream<String> models() {
        return TestModels.all().stream().map(ModelSpec::name);
    }

    @ParameterizedTest(name = "{0} at batch {1}")
    @MethodSource("modelsAndBatches")
    void predictMatchesReferenceAndC(String model, int batch) {
        NativeBuild build = build(model);
        SplittableRandom random = new SplittableRandom(batch * 31L + model.hashCode());
        float[] x = TestData.samples(random, build.descriptor(), batch);
        try (TestModel openCl = openCl(build, batch); TestModel c = build.newModel(batch)) {
            float[] output = openCl.predict(x, batch);

            double[] expected = new Reference(build.spec()).predict(Reference.parameters(openCl), x, batch);
            Tolerance.assertClose(model + " OpenCL output against the reference", expected, output);
            Tolerance.assertClose(model + " OpenCL output against C", Reference.toDoubles(c.predict(x, batch)), output);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void predictAtBatchZeroIsEmpty(String model) {
        NativeBuild build = build(model);
        try (TestModel openCl = openCl(build, 1)) {
            assertArrayEquals(new float[0], openCl.predict(new float[0], 0));

            float[] x = TestData.samples(new SplittableRandom(5), build.descriptor(), 3);
            float[] afterEmpty = openCl.predict(x, 3);
            double[] expected = new Reference(build.spec()).predict(Reference.parameters(openCl), x, 3);
            Tolerance.assertClose(model + " OpenCL output after an empty batch", expected, afterEmpty);
        }
    }

    @ParameterizedTest(name = "{0} at batch {1}")
    @MethodSource("modelsAndBatches")
    void evaluateLossMatchesReferenceAndC(String model, int batch) {
        NativeBuild build = build(model);
        SplittableRandom random = new SplittableRandom(batch * 13L + model.hashCode());
        float[] x = TestData.samples(random, build.descriptor(), batch);
        double[] labels = TestData.labelsOrTargets(random, build.spec().loss(), build.descriptor(), batch);
        try (TestModel openCl = openCl(build, 7); TestModel c = build.newModel(7)) {
            // Batches of 5 make the last batch partial for batch sizes 7 and 64.
            Evaluation evaluation = evaluate(openCl, x, labels, batch, 5);

            double expected = new Reference(build.spec()).forwardBackward(Reference.parameters(openCl), x, labels, batch)
                    .loss();
            Tolerance.assertClose(model + " OpenCL evaluation loss against the reference", expected, evaluation.meanLoss());
            Evaluation cEvaluation = evaluate(c, x, labels, batch, 5);
            Tolerance.assertClose(model + " OpenCL evaluation loss against C", cEvaluation.meanLoss(), evaluation.meanLoss());
            assertEquals(cEvaluation.accuracy(), evaluation.accuracy(), 1e-12, model + " accuracy against C");
            assertEquals(batch, evaluation.samples());
        }
    }

    @ParameterizedTest(name = "{0} at batch {1}")
    @MethodSource("modelsAndBatches")
    void forwardBackwardMatchesReferenceAndC(String model, int batch) {
        NativeBuild build = build(model);
        SplittableRandom random = new SplittableRandom(batch * 17L + model.hashCode());
        float[] x = TestData.samples(random, build.descriptor(), batch);
        double[] labels = TestData.labelsOrTargets(random, build.spec().loss(), build.descriptor(), batch);
        try (TestModel openCl = openCl(build, batch + 100); TestModel c = build.newModel(batch + 100)) {
            float loss = forwardBackward(openCl, x, labels, batch);
            float cLoss = forwardBackward(c, x, labels, batch);

            Reference.LossAndGradients expected =
                    new Reference(build.spec()).forwardBackward(Reference.parameters(openCl), x, labels, batch);
            Tolerance.assertClose(model + " OpenCL loss against the reference", expected.loss(), loss);
            Tolerance.assertClose(model + " OpenCL loss against C", cLoss, loss);
            for (String name : openCl.parameterNames()) {
                float[] gradient = openCl.gradient(name);
                Tolerance.assertClose(model + " OpenCL grad." + name + " against the reference",
                        expected.gradients().get(name), gradient);
                Tolerance.assertClose(model + " OpenCL grad." + name + " against C",
                        Reference.toDoubles(c.gradient(name)), gradient);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void adamTrainingMatchesC(String model) {
        trainAndCompare(model, () -> new Adam(1e-3));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void sgdMomentumTrainingMatchesC(String model) {
        trainAndCompare(model, () -> new Sgd(0.05).momentum(0.9));
    }

    @Test
    void crossEntropyOfHugeLogitsIsLn2() {
        NativeBuild logits2 = specialBuild("Logits2", 2, Activation.IDENTITY, Loss.CROSS_ENTROPY);
        try (TestModel openCl = identity(logits2, 2)) {
            float[] x = {1e8f, 1e8f};
            for (int label = 0; label < 2; label++) {
                float loss = openCl.forwardBackward(x, new int[] {label}, 1);

                assertEquals(LN_2, loss, 1e-6, "loss for label " + label);
                // dL/dlogits = softmax - one_hot = +-0.5, so dL/db = +-0.5.
                float[] expectedBias = label == 0 ? new float[] {-0.5f, 0.5f} : new float[] {0.5f, -0.5f};
                assertArrayEquals(expectedBias, openCl.gradient("fc.bias"), 1e-6f, "bias gradient for label " + label);
                assertAllFinite("weight gradient for label " + label, openCl.gradient("fc.weight"));
                assertEquals(LN_2, openCl.evaluate(x, new int[] {label}, 1, 1).meanLoss(), 1e-6,
                        "evaluate, label " + label);
            }
        }
    }

    @Test
    void probabilitiesOfWideLogitsAreOneHot() {
        NativeBuild logits3 = specialBuild("Logits3", 3, Activation.IDENTITY, Loss.CROSS_ENTROPY);
        try (TestModel openCl = identity(logits3, 3)) {
            float[] x = {-1000f, 0f, 1000f};

            assertArrayEquals(new float[] {0f, 0f, 1f}, openCl.predictProbabilities(x));
            assertEquals(2, openCl.predictClass(x));
        }
    }

    @Test
    void tanhSaturatesWithZeroGradient() {
        NativeBuild tanh2 = specialBuild("Tanh2", 2, Activation.TANH, Loss.MSE);
        try (TestModel openCl = identity(tanh2, 2)) {
            float[] x = {100f, -100f};

            assertArrayEquals(new float[] {1f, -1f}, openCl.predict(x));

            openCl.forwardBackward(x, new float[] {0.25f, -0.5f}, 1);
            assertAllZero("weight gradient", openCl.gradient("fc.weight"));
            assertAllZero("bias gradient", openCl.gradient("fc.bias"));
        }
    }

    @Test
    void sigmoidOfLargeInputsHasNoNaN() {
        NativeBuild sigmoid4 = specialBuild("Sigmoid4", 4, Activation.SIGMOID, Loss.MSE);
        try (TestModel openCl = identity(sigmoid4, 4)) {
            float[] x = {89f, -89f, 1000f, -1000f};

            float[] y = openCl.predict(x);
            float loss = openCl.forwardBackward(x, new float[] {0.5f, 0.5f, 0.5f, 0.5f}, 1);

            float[] expected = {1f, 0f, 1f, 0f};
            for (int i = 0; i < x.length; i++) {
                assertEquals(expected[i], y[i], 1e-30f, "sigmoid(" + x[i] + ")");
            }
            assertEquals(0.25, loss, 1e-7, "mean of (y - 0.5)^2");
            assertAllFinite("bias gradient", openCl.gradient("fc.bias"));
            for (float g : openCl.gradient("fc.weight")) {
                assertEquals(0, g, 1e-30f, "weight gradient where sigmoid saturates");
            }
        }
    }

    /**
     * Trains an OpenCL and a C instance from the same seed on the same batches and compares every
     * step's loss and the final parameters. Each step changes the parameters by at most the learning
     * rate or a small multiple of it, so the float rounding of the two backends stays on the scale
     * of the tolerance.
     */
    private void trainAndCompare(String model, Supplier<OptimizerConfig> optimizer) {
        NativeBuild build = build(model);
        SplittableRandom random = new SplittableRandom(model.hashCode());
        try (TestModel openCl = openCl(build, 11); TestModel c = build.newModel(11)) {
            OptimizerConfig openClOptimizer = optimizer.get();
            OptimizerConfig cOptimizer = optimizer.get();
            for (int step = 0; step < TRAINING_STEPS; step++) {
                float[] x = TestData.samples(random, build.descriptor(), TRAINING_BATCH);
                double[] labels = TestData.labelsOrTargets(random, build.spec().loss(), build.descriptor(), TRAINING_BATCH);

                float loss = trainStep(openCl, x, labels, openClOptimizer);
                float cLoss = trainStep(c, x, labels, cOptimizer);

                Tolerance.assertClose(model + " OpenCL loss of step " + step + " against C", cLoss, loss);
            }
            for (String name : openCl.parameterNames()) {
                Tolerance.assertClose(model + " OpenCL " + name + " after " + TRAINING_STEPS + " steps against C",
                        Reference.toDoubles(c.parameter(name)), openCl.parameter(name));
            }
        }
    }

    private TestModel openCl(NativeBuild build, long seed) {
        return OpenClSupport.withWorkGroupCap(workGroupCap(), () -> build.openClModel(device, seed));
    }

    private static synchronized NativeBuild build(String model) {
        return BUILDS.computeIfAbsent(model, name -> NativeBuild.of(TestModels.all().stream()
                .filter(spec -> spec.name().equals(name))
                .findFirst()
                .orElseThrow()));
    }

    private static synchronized NativeBuild specialBuild(String name, int width, Activation activation, Loss loss) {
        return BUILDS.computeIfAbsent(name, key -> NativeBuild.of(TestModels.singleLayer(name, width, activation, loss,
                List.<Optimizer>of())));
    }

    /** Returns an OpenCL model of {@code build} with the identity as weight and a zero bias. */
    private TestModel identity(NativeBuild build, int width) {
        TestModel model = openCl(build, 1);
        float[] weight = new float[width * width];
        for (int i = 0; i < width; i++) {
            weight[i * width + i] = 1f;
        }
        model.setParameter("fc.weight", weight);
        model.setParameter("fc.bias", new float[width]);
        return model;
    }

    private static float forwardBackward(TestModel model, float[] x, double[] labels, int batch) {
        if (model.spec().loss() == Loss.CROSS_ENTROPY) {
            return model.forwardBackward(x, TestData.classIndices(labels), batch);
        }
        return model.forwardBackward(x, TestData.toFloats(labels), batch);
    }

    private static float trainStep(TestModel model, float[] x, double[] labels, OptimizerConfig optimizer) {
        if (model.spec().loss() == Loss.CROSS_ENTROPY) {
            return model.trainStep(x, TestData.classIndices(labels), TRAINING_BATCH, optimizer);
        }
        return model.trainStep(x, TestData.toFloats(labels), TRAINING_BATCH, optimizer);
    }

    private static Evaluation evaluate(TestModel model, float[] x, double[] labels, int count, int batchSize) {
        if (model.spec().loss() == Loss.CROSS_ENTROPY) {
            return model.evaluate(x, TestData.classIndices(labels), count, batchSize);
        }
        return model.evaluate(x, TestData.toFloats(labels), count, batchSize);
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
