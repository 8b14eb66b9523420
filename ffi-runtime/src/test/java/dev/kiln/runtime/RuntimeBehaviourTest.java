package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Loss;
import dev.kiln.ir.Optimizer;
import dev.kiln.ir.Platform;
import dev.kiln.nn.Adam;
import dev.kiln.nn.Sgd;
import dev.kiln.runtime.checkpoint.NamedTensor;
import dev.kiln.runtime.checkpoint.Safetensors;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runtime behaviour around the numbers: concurrent prediction, checkpoint round trips and
 * rejected checkpoints, input checks, closed models and missing libraries.
 */
class RuntimeBehaviourTest {
    private static final int THREADS = 16;
    private static final int ITERATIONS = 300;

    private static NativeBuild residual;
    private static NativeBuild sgdOnly;

    @TempDir
    Path folder;

    @BeforeAll
    static void compileModels() {
        residual = NativeBuild.of(TestModels.residual());
        sgdOnly = NativeBuild.of(TestModels.singleLayer("SgdOnlyLayer", 2, TestModels.Activation.TANH,
                Loss.MSE, List.of(Optimizer.SGD)));
    }

    @Test
    void concurrentPredictionsEqualSingleThreadResultsBitwise() throws Exception {
        try (TestModel model = residual.newModel(5)) {
            SplittableRandom random = new SplittableRandom(21);
            float[][] inputs = new float[THREADS][];
            float[][] expected = new float[THREADS][];
            int[] batches = new int[THREADS];
            for (int t = 0; t < THREADS; t++) {
                batches[t] = 1 + t % 5;
                inputs[t] = TestData.samples(random, model.descriptor(), batches[t]);
                expected[t] = model.predict(inputs[t], batches[t]);
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                List<Future<String>> results = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int thread = t;
                    Callable<String> task = () -> {
                        for (int i = 0; i < ITERATIONS; i++) {
                            float[] out = model.predict(inputs[thread], batches[thread]);
                            if (!Arrays.equals(expected[thread], out)) {
                                return "thread " + thread + " iteration " + i + ": " + Arrays.toString(out)
                                        + " instead of " + Arrays.toString(expected[thread]);
                            }
                        }
                        return null;
                    };
                    results.add(pool.submit(task));
                }
                for (Future<String> result : results) {
                    String mismatch = result.get();
                    assertEquals(null, mismatch, mismatch);
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void saveAndLoadRoundTripBitExactly() throws IOException {
        Path file = folder.resolve("residual.safetensors");
        try (TestModel source = residual.newModel(1); TestModel target = residual.newModel(2)) {
            source.save(file, Map.of("epoch", "7", "note", "round trip"));

            Map<String, String> metadata = target.load(file);

            assertEquals("7", metadata.get("epoch"));
            assertEquals("round trip", metadata.get("note"));
            assertEquals("Residual", metadata.get("kiln.model"));
            assertEquals(residual.descriptor().signature(), metadata.get("kiln.signature"));
            for (String name : source.parameterNames()) {
                assertArrayEquals(bits(source.parameter(name)), bits(target.parameter(name)), name);
            }
            float[] x = TestData.samples(new SplittableRandom(3), source.descriptor(), 4);
            assertArrayEquals(bits(source.predict(x, 4)), bits(target.predict(x, 4)));
        }
    }

    @Test
    void loadRejectsTensorOfAnotherShapeAndKeepsParameters() throws IOException {
        Path file = folder.resolve("wrong-shape.safetensors");
        try (TestModel model = residual.newModel(3)) {
            List<NamedTensor> tensors = tensorsOf(model);
            tensors.replaceAll(t -> t.name().equals("fc3.weight")
                    ? NamedTensor.ofFloats("fc3.weight", new long[] {1, 4}, 1, 2, 3, 4) : t);
            Safetensors.write(file, tensors, Map.of());

            String message = assertLoadFailsUnchanged(model, file);

            assertTrue(message.contains("fc3.weight"), message);
            assertTrue(message.contains("[1, 4]"), message);
            assertTrue(message.contains("[3, 4]"), message);
        }
    }

    @Test
    void loadRejectsMissingTensorAndKeepsParameters() throws IOException {
        Path file = folder.resolve("missing.safetensors");
        try (TestModel model = residual.newModel(4)) {
            List<NamedTensor> tensors = tensorsOf(model);
            tensors.removeIf(t -> t.name().equals("fc2.bias"));
            Safetensors.write(file, tensors, Map.of());

            String message = assertLoadFailsUnchanged(model, file);

            assertTrue(message.contains("fc2.bias"), message);
            assertTrue(message.contains("[4]"), message);
        }
    }

    @Test
    void loadRejectsExtraTensorAndKeepsParameters() throws IOException {
        Path file = folder.resolve("extra.safetensors");
        try (TestModel model = residual.newModel(5)) {
            List<NamedTensor> tensors = tensorsOf(model);
            tensors.add(NamedTensor.ofFloats("fc4.weight", new long[] {2}, 1, 2));
            Safetensors.write(file, tensors, Map.of());

            String message = assertLoadFailsUnchanged(model, file);

            assertTrue(message.contains("fc4.weight"), message);
        }
    }

    @Test
    void loadRejectsTruncatedFileAndKeepsParameters() throws IOException {
        Path file = folder.resolve("truncated.safetensors");
        try (TestModel model = residual.newModel(6); TestModel other = residual.newModel(60)) {
            other.save(file);
            byte[] bytes = Files.readAllBytes(file);
            Files.write(file, Arrays.copyOf(bytes, bytes.length - 20));

            String message = assertLoadFailsUnchanged(model, file);

            // The writer orders data by tensor name, so fc3.weight holds the last bytes.
            assertTrue(message.contains("fc3.weight"), message);
            assertTrue(message.contains("truncated"), message);
        }
    }

    private static String assertLoadFailsUnchanged(TestModel model, Path file) {
        Map<String, int[]> before = parameterBits(model);
        Exception e = assertThrows(Exception.class, () -> model.load(file));
        assertTrue(e instanceof IllegalArgumentException || e instanceof IOException,
                "load should fail with IllegalArgumentException or IOException, got " + e);
        Map<String, int[]> after = parameterBits(model);
        for (String name : before.keySet()) {
            assertArrayEquals(before.get(name), after.get(name), name + " changed by a failed load");
        }
        return e.getMessage();
    }

    @Test
    void wrongInputWidthNamesExpectedAndActual() {
        try (TestModel model = residual.newModel(7)) {
            var e = assertThrows(IllegalArgumentException.class, () -> model.predict(new float[7], 2));
            assertTrue(e.getMessage().contains("8"), e.getMessage());
            assertTrue(e.getMessage().contains("7"), e.getMessage());
            var single = assertThrows(IllegalArgumentException.class, () -> model.predict(new float[3]));
            assertTrue(single.getMessage().contains("4"), single.getMessage());
            assertTrue(single.getMessage().contains("3"), single.getMessage());
        }
    }

    @Test
    void labelCountMismatchNamesBothCounts() {
        try (TestModel model = residual.newModel(8)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(new float[12], new int[] {0, 1}, 3, new Sgd(0.1)));
            assertTrue(e.getMessage().contains("3"), e.getMessage());
            assertTrue(e.getMessage().contains("2"), e.getMessage());
            var fb = assertThrows(IllegalArgumentException.class,
                    () -> model.forwardBackward(new float[8], new int[] {0, 1, 2}, 2));
            assertTrue(fb.getMessage().contains("2"), fb.getMessage());
            assertTrue(fb.getMessage().contains("3"), fb.getMessage());
        }
    }

    @Test
    void labelOutOfRangeNamesLabelAndClassCount() {
        try (TestModel model = residual.newModel(9)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(new float[8], new int[] {0, 5}, 2, new Sgd(0.1)));
            assertTrue(e.getMessage().contains("5"), e.getMessage());
            assertTrue(e.getMessage().contains("3 classes"), e.getMessage());
            var negative = assertThrows(IllegalArgumentException.class,
                    () -> model.evaluate(new float[4], new int[] {-1}, 1, 1));
            assertTrue(negative.getMessage().contains("-1"), negative.getMessage());
        }
    }

    @Test
    void closedModelThrowsIllegalState() {
        TestModel model = residual.newModel(10);
        model.close();
        model.close();
        assertThrows(IllegalStateException.class, () -> model.predict(new float[4]));
        assertThrows(IllegalStateException.class, () -> model.parameter("fc1.weight"));
        assertThrows(IllegalStateException.class, () -> model.trainStep(new float[4], new int[] {0}, 1, new Sgd(0.1)));
        assertThrows(IllegalStateException.class, () -> model.save(folder.resolve("closed.safetensors")));
    }

    @Test
    void trainingWithEmptyBatchIsRejected() {
        try (TestModel model = residual.newModel(11)) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(new float[0], new int[0], 0, new Adam()));
            assertTrue(e.getMessage().contains("0"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.forwardBackward(new float[0], new int[0], 0));
        }
    }

    @Test
    void optimizerNotCompiledIntoModelIsRejected() {
        try (TestModel model = sgdOnly.newModel(12)) {
            float[] before = model.parameter("fc.weight");
            var e = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(new float[2], new float[2], 1, new Adam()));
            assertTrue(e.getMessage().contains("ADAM"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.applyGradients(new Adam()));
            assertArrayEquals(bits(before), bits(model.parameter("fc.weight")));
            model.trainStep(new float[] {0.5f, -0.5f}, new float[] {1, 0}, 1, new Sgd(0.1));
        }
    }

    @Test
    void libraryMissingFromClassPathNamesPlatformAndResource() {
        String libraryName = "kiln_test_not_packaged";
        ModelDescriptor descriptor = NativeBuild.descriptor(TestModels.residual(), libraryName, "unused");
        Platform platform = Platform.current();

        var e = assertThrows(NativeLibraryException.class,
                () -> NativeModelLibrary.load(descriptor, RuntimeBehaviourTest.class));

        assertTrue(e.getMessage().contains(platform.id()), e.getMessage());
        assertTrue(e.getMessage().contains(platform.libraryResource(libraryName)), e.getMessage());
    }

    private static List<NamedTensor> tensorsOf(TestModel model) {
        List<NamedTensor> tensors = new ArrayList<>();
        for (ModelDescriptor.Param p : model.descriptor().params()) {
            long[] shape = Arrays.stream(p.shape()).asLongStream().toArray();
            tensors.add(NamedTensor.ofFloats(p.name(), shape, model.parameter(p.name())));
        }
        return tensors;
    }

    private static Map<String, int[]> parameterBits(TestModel model) {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (String name : model.parameterNames()) {
            out.put(name, bits(model.parameter(name)));
        }
        return out;
    }

    private static int[] bits(float[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Float.floatToRawIntBits(values[i]);
        }
        return out;
    }
}
