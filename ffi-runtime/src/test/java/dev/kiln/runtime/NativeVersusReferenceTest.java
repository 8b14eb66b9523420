package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs each test model natively in float32 and through the double-precision reference evaluator
 * on the same parameters and random inputs, and compares outputs, loss and every gradient.
 */
class NativeVersusReferenceTest {
    private static final Map<String, NativeBuild> BUILDS = new LinkedHashMap<>();

    @BeforeAll
    static void compileModels() {
        for (ModelSpec spec : TestModels.all()) {
            BUILDS.put(spec.name(), NativeBuild.of(spec));
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
    void predictMatchesReference(String model, int batch) {
        NativeBuild build = BUILDS.get(model);
        Reference reference = new Reference(build.spec());
        SplittableRandom random = new SplittableRandom(batch * 31L + model.hashCode());
        try (TestModel compiled = build.newModel(batch)) {
            float[] x = TestData.samples(random, build.descriptor(), batch);

            float[] output = compiled.predict(x, batch);

            double[] expected = reference.predict(Reference.parameters(compiled), x, batch);
            Tolerance.assertClose(model + " output", expected, output);
        }
    }

    @ParameterizedTest(name = "{0} at batch {1}")
    @MethodSource("modelsAndBatches")
    void forwardBackwardMatchesReference(String model, int batch) {
        NativeBuild build = BUILDS.get(model);
        Reference reference = new Reference(build.spec());
        SplittableRandom random = new SplittableRandom(batch * 17L + model.hashCode());
        try (TestModel compiled = build.newModel(batch + 100)) {
            float[] x = TestData.samples(random, build.descriptor(), batch);
            double[] labels = TestData.labelsOrTargets(random, build.spec().loss(), build.descriptor(), batch);

            float loss = forwardBackward(compiled, x, labels, batch);

            Reference.LossAndGradients expected =
                    reference.forwardBackward(Reference.parameters(compiled), x, labels, batch);
            Tolerance.assertClose(model + " loss", expected.loss(), loss);
            for (String name : compiled.parameterNames()) {
                Tolerance.assertClose(model + " grad." + name, expected.gradients().get(name), compiled.gradient(name));
            }
        }
    }

    @ParameterizedTest(name = "{0} at batch {1}")
    @MethodSource("modelsAndBatches")
    void evaluateLossMatchesReference(String model, int batch) {
        NativeBuild build = BUILDS.get(model);
        Reference reference = new Reference(build.spec());
        SplittableRandom random = new SplittableRandom(batch * 13L + model.hashCode());
        try (TestModel compiled = build.newModel(7)) {
            float[] x = TestData.samples(random, build.descriptor(), batch);
            double[] labels = TestData.labelsOrTargets(random, build.spec().loss(), build.descriptor(), batch);

            // Batches of 5 make the last batch partial for batch sizes 7 and 64.
            Evaluation evaluation = build.spec().loss() == Loss.CROSS_ENTROPY
                    ? compiled.evaluate(x, TestData.classIndices(labels), batch, 5)
                    : compiled.evaluate(x, TestData.toFloats(labels), batch, 5);

            double expected = reference.forwardBackward(Reference.parameters(compiled), x, labels, batch).loss();
            Tolerance.assertClose(model + " evaluation loss", expected, evaluation.meanLoss());
            assertEquals(batch, evaluation.samples());
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void predictAtBatchZeroIsEmpty(String model) {
        NativeBuild build = BUILDS.get(model);
        try (TestModel compiled = build.newModel(1)) {
            assertArrayEquals(new float[0], compiled.predict(new float[0], 0));

            float[] x = TestData.samples(new SplittableRandom(5), build.descriptor(), 3);
            float[] afterEmpty = compiled.predict(x, 3);
            double[] expected = new Reference(build.spec()).predict(Reference.parameters(compiled), x, 3);
            Tolerance.assertClose(model + " output after an empty batch", expected, afterEmpty);
        }
    }

    @Test
    void zeroTripLayerGradientIsZero() {
        NativeBuild build = BUILDS.get("ZeroTripLoop");
        SplittableRandom random = new SplittableRandom(3);
        try (TestModel compiled = build.newModel(3)) {
            float[] x = TestData.samples(random, build.descriptor(), 7);
            compiled.setGradient("fc2.weight", filled(9, Float.NaN));
            compiled.setGradient("fc2.bias", filled(3, Float.NaN));

            compiled.forwardBackward(x, TestData.labels(random, 3, 7), 7);

            assertArrayEquals(new float[9], compiled.gradient("fc2.weight"));
            assertArrayEquals(new float[3], compiled.gradient("fc2.bias"));
        }
    }

    @Test
    void allModelsAreCovered() {
        assertEquals(List.of("ReferenceMlp", "Residual", "ReluSigmoidRegression", "BiasFree", "ZeroTripLoop",
                "LayoutMixer", "ReductionMixer", "LayerNormMixer"),
                List.copyOf(BUILDS.keySet()));
    }

    private static float forwardBackward(TestModel model, float[] x, double[] labels, int batch) {
        if (model.spec().loss() == Loss.CROSS_ENTROPY) {
            return model.forwardBackward(x, TestData.classIndices(labels), batch);
        }
        return model.forwardBackward(x, TestData.toFloats(labels), batch);
    }

    private static float[] filled(int count, float value) {
        float[] values = new float[count];
        java.util.Arrays.fill(values, value);
        return values;
    }
}
