package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Dropout;
import dev.kiln.ir.Hyperparameters;
import dev.kiln.nn.Adam;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.OpenClSupport;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.Tolerance;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Embedding and dropout in native code, C and OpenCL, against the double-precision reference:
 * lookups and their gradients, NaN rows for invalid indices, initialization, and dropout masks
 * that equal the reference's exactly, with their statistics and their sequence over steps.
 */
class NativeLayersTest {
    private static final int PROBE_WIDTH = 4096;
    private static final double PROBE_P = 0.3;

    private static NativeBuild embedding;
    private static NativeBuild probe;
    private static NativeBuild dropoutMlp;

    @BeforeAll
    static void compileModels() {
        embedding = NativeBuild.of(TestModels.embeddingBag());
        probe = NativeBuild.of(TestModels.dropoutProbe("DropoutProbe", PROBE_WIDTH, PROBE_P));
        dropoutMlp = NativeBuild.of(TestModels.dropoutMlp());
    }

    // ---- embedding -------------------------------------------------------------------------

    private static float[] indices(SplittableRandom random, int count) {
        float[] ids = new float[count];
        for (int i = 0; i < count; i++) {
            ids[i] = random.nextInt(200);
        }
        return ids;
    }

    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 7, 64})
    void embeddingMatchesReferenceOnC(int batch) {
        try (TestModel model = embedding.newModel(batch)) {
            checkEmbedding(model, batch);
        }
    }

    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 7, 64})
    void embeddingMatchesReferenceOnOpenCl(int batch) {
        try (Device.OpenCl device = OpenClSupport.deviceOrSkip();
             TestModel model = embedding.openClModel(device, batch)) {
            checkEmbedding(model, batch);
        }
    }

    private static void checkEmbedding(TestModel model, int batch) {
        Reference reference = new Reference(embedding.spec());
        SplittableRandom random = new SplittableRandom(batch);
        float[] x = indices(random, batch * 5);
        int[] labels = TestData.labels(random, 3, batch);

        Tolerance.assertClose("output", reference.predict(Reference.parameters(model), x, batch), model.predict(x, batch));
        float loss = model.forwardBackward(x, labels, batch);

        Reference.LossAndGradients expected = reference.forwardBackward(Reference.parameters(model), x,
                Reference.toDoubles(labels), batch);
        Tolerance.assertClose("loss", expected.loss(), loss);
        for (String name : model.parameterNames()) {
            Tolerance.assertClose("grad." + name, expected.gradients().get(name), model.gradient(name));
        }
    }

    @Test
    void invalidIndicesGiveNaNRowsOnC() {
        try (TestModel model = embedding.newModel(3)) {
            checkInvalidIndices(model);
        }
    }

    @Test
    void invalidIndicesGiveNaNRowsOnOpenCl() {
        try (Device.OpenCl device = OpenClSupport.deviceOrSkip(); TestModel model = embedding.openClModel(device, 3)) {
            checkInvalidIndices(model);
        }
    }

    /** Checks that one bad index makes its sample's outputs NaN and leaves the valid sample unaffected. */
    private static void checkInvalidIndices(TestModel model) {
        float[] bad = {200, -1, 2.5f, Float.NaN, 1e30f, Float.NEGATIVE_INFINITY};
        int batch = bad.length + 1;
        float[] x = new float[batch * 5];
        for (int r = 0; r < bad.length; r++) {
            x[r * 5 + 2] = bad[r];
        }
        for (int i = 0; i < 5; i++) {
            x[bad.length * 5 + i] = 10 * i;
        }

        float[] out = model.predict(x, batch);

        for (int r = 0; r < bad.length; r++) {
            for (int c = 0; c < 3; c++) {
                assertTrue(Float.isNaN(out[r * 3 + c]), "sample with index " + bad[r] + ": " + Arrays.toString(out));
            }
        }
        float[] valid = Arrays.copyOfRange(x, bad.length * 5, batch * 5);
        double[] expected = new Reference(embedding.spec()).predict(Reference.parameters(model), valid, 1);
        Tolerance.assertClose("valid sample", expected, Arrays.copyOfRange(out, bad.length * 3, batch * 3));
    }

    @Test
    void embeddingWeightStartsStandardNormal() {
        try (TestModel model = embedding.newModel(5); TestModel again = embedding.newModel(5)) {
            float[] weight = model.parameter("emb.weight");
            double mean = 0;
            for (float v : weight) {
                mean += v / (double) weight.length;
            }
            double variance = 0;
            for (float v : weight) {
                variance += (v - mean) * (v - mean) / weight.length;
            }
            // 1600 draws: the standard error of the mean is 0.025 and that of the variance about 0.035.
            assertEquals(0, mean, 0.1);
            assertEquals(1, variance, 0.15);
            assertArrayEquals(weight, again.parameter("emb.weight"));
        }
    }

    // ---- dropout ---------------------------------------------------------------------------

    private static Map<String, Double> dropoutKeys(long seed, long step) {
        double[] keys = Dropout.hyperparameters(seed, step);
        return Map.of(Hyperparameters.DROPOUT_SEED, keys[0], Hyperparameters.DROPOUT_STEP, keys[1]);
    }

    /** Returns which elements the probe's training call dropped: those whose weight gradient is exactly 0. */
    private static boolean[] droppedByGradient(float[] gradient) {
        boolean[] dropped = new boolean[gradient.length];
        for (int i = 0; i < gradient.length; i++) {
            dropped[i] = gradient[i] == 0;
        }
        return dropped;
    }

    private static boolean[] droppedByGradient(double[] gradient) {
        boolean[] dropped = new boolean[gradient.length];
        for (int i = 0; i < gradient.length; i++) {
            dropped[i] = gradient[i] == 0;
        }
        return dropped;
    }

    @Test
    void dropoutMaskEqualsReferenceOnC() {
        checkProbeMasks(seed -> probe.newModel(seed));
    }

    @Test
    void dropoutMaskEqualsReferenceOnOpenCl() {
        try (Device.OpenCl device = OpenClSupport.deviceOrSkip()) {
            checkProbeMasks(seed -> probe.openClModel(device, seed));
        }
    }

    /**
     * Runs three training calls of the probe and reads each call's mask from the zero pattern of
     * the weight gradient. The mask must equal the reference's exactly and drop close to a
     * fraction p. Kept elements must be scaled by 1/(1-p), and each mask must differ from the last.
     */
    private static void checkProbeMasks(LongFunction<TestModel> create) {
        SplittableRandom random = new SplittableRandom(8);
        float[] x = new float[PROBE_WIDTH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(0.5, 2);
        }
        float[] target = new float[PROBE_WIDTH];
        Reference reference = new Reference(probe.spec());
        long seed = 2024;
        try (TestModel model = create.apply(seed)) {
            float[] w = model.parameter("w");
            boolean[] previous = null;
            for (int step = 1; step <= 3; step++) {
                model.forwardBackward(x, target, 1);
                float[] gradient = model.gradient("w");

                Reference.LossAndGradients expected = reference.forwardBackward(Reference.parameters(model), x,
                        new double[PROBE_WIDTH], 1, dropoutKeys(seed, step));
                boolean[] dropped = droppedByGradient(gradient);
                assertArrayEquals(droppedByGradient(expected.gradients().get("w")), dropped, "mask of step " + step);
                Tolerance.assertClose("grad.w of step " + step, expected.gradients().get("w"), gradient);

                int count = 0;
                double scale = 1 / (1 - PROBE_P);
                for (int j = 0; j < PROBE_WIDTH; j++) {
                    if (dropped[j]) {
                        count++;
                        continue;
                    }
                    // d loss / d w[j] = 2 / width * (m x[j])^2 w[j] with m = 1/(1-p) for kept elements.
                    double unscaled = 2.0 / PROBE_WIDTH * x[j] * x[j] * w[j];
                    assertEquals(scale * scale, gradient[j] / unscaled, 1e-3, "scale of element " + j);
                }
                // The standard deviation of the dropped fraction is sqrt(0.21 / 4096) = 0.007.
                assertEquals(PROBE_P, count / (double) PROBE_WIDTH, 0.035, "fraction dropped at step " + step);
                if (previous != null) {
                    assertFalse(Arrays.equals(previous, dropped), "step " + step + " reused the previous mask");
                }
                previous = dropped;
            }
        }
    }

    @Test
    void sameSeedGivesSameMasksAndInitializeRestarts() {
        float[] x = TestData.samples(new SplittableRandom(2), probe.descriptor(), 1);
        float[] target = new float[PROBE_WIDTH];
        try (TestModel first = probe.newModel(99); TestModel second = probe.newModel(99);
             TestModel other = probe.newModel(100)) {
            first.forwardBackward(x, target, 1);
            second.forwardBackward(x, target, 1);
            other.setParameter("w", first.parameter("w"));
            other.forwardBackward(x, target, 1);
            float[] firstMask = first.gradient("w");

            assertArrayEquals(firstMask, second.gradient("w"));
            assertFalse(Arrays.equals(droppedByGradient(firstMask), droppedByGradient(other.gradient("w"))),
                    "another seed gave the same mask");

            first.forwardBackward(x, target, 1);
            first.initialize(99);
            first.forwardBackward(x, target, 1);
            assertArrayEquals(firstMask, first.gradient("w"), "initialize(seed) restarts the mask sequence");
        }
    }

    @Test
    void predictAndEvaluateAreIdentity() {
        float[] x = TestData.samples(new SplittableRandom(3), probe.descriptor(), 2);
        try (TestModel model = probe.newModel(1)) {
            float[] w = model.parameter("w");
            float[] out = model.predict(x, 2);
            for (int i = 0; i < out.length; i++) {
                assertEquals(x[i] * w[i % PROBE_WIDTH], out[i], 0f, "element " + i);
            }
            float[] target = new float[x.length];
            double expected = 0;
            for (float v : out) {
                expected += (double) v * v / out.length;
            }
            Tolerance.assertClose("evaluation loss", expected, model.evaluate(x, target, 2, 2).meanLoss());
        }
    }

    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 7, 64})
    void dropoutMlpTrainsLikeReferenceOnCAndOpenCl(int batch) {
        SplittableRandom random = new SplittableRandom(batch);
        float[] x = TestData.samples(random, dropoutMlp.descriptor(), batch);
        int[] labels = TestData.labels(random, 3, batch);
        Reference reference = new Reference(dropoutMlp.spec());
        try (TestModel c = dropoutMlp.newModel(7)) {
            checkDropoutMlp(c, reference, x, labels, batch);
        }
        try (Device.OpenCl device = OpenClSupport.deviceOrSkip(); TestModel openCl = dropoutMlp.openClModel(device, 7)) {
            checkDropoutMlp(openCl, reference, x, labels, batch);
        }
    }

    /** Two forward-backward calls and then Adam steps, each against the reference with that call's masks. */
    private static void checkDropoutMlp(TestModel model, Reference reference, float[] x, int[] labels, int batch) {
        for (int step = 1; step <= 2; step++) {
            float loss = model.forwardBackward(x, labels, batch);
            Reference.LossAndGradients expected = reference.forwardBackward(Reference.parameters(model), x,
                    Reference.toDoubles(labels), batch, dropoutKeys(7, step));
            Tolerance.assertClose(model.device() + " loss of call " + step, expected.loss(), loss);
            for (String name : model.parameterNames()) {
                Tolerance.assertClose(model.device() + " grad." + name + " of call " + step,
                        expected.gradients().get(name), model.gradient(name));
            }
        }
        Adam adam = new Adam(1e-2);
        for (int step = 3; step <= 4; step++) {
            double expected = reference.forwardBackward(Reference.parameters(model), x, Reference.toDoubles(labels),
                    batch, dropoutKeys(7, step)).loss();
            Tolerance.assertClose(model.device() + " training loss of call " + step, expected,
                    model.trainStep(x, labels, batch, adam));
        }
    }
}
