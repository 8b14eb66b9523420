package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.nn.Adam;
import dev.kiln.nn.OptimizerConfig;
import dev.kiln.nn.Sgd;
import dev.kiln.runtime.checkpoint.Checkpoint;
import dev.kiln.runtime.checkpoint.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The generated class of a model compiled by the build, checked against PyTorch's fixtures. */
class ReferenceMlpTest {
    static final Path FIXTURES = Path.of("src/test/resources/fixtures");
    static final Path INIT = FIXTURES.resolve("reference_mlp_init.safetensors");

    static float[] x;
    static int[] y;
    static Checkpoint run;

    @BeforeAll
    static void readFixtures() throws IOException {
        run = Safetensors.read(FIXTURES.resolve("reference_mlp_run.safetensors"));
        x = run.tensor("x").toFloatArray();
        long[] labels = run.tensor("y").toLongArray();
        y = new int[labels.length];
        for (int i = 0; i < y.length; i++) {
            y[i] = (int) labels[i];
        }
    }

    @Test
    void adamLossesMatchPyTorch() throws IOException {
        assertLossesMatch("adam_losses", () -> new Adam(1e-2));
    }

    @Test
    void sgdMomentumLossesMatchPyTorch() throws IOException {
        assertLossesMatch("sgd_losses", () -> new Sgd(0.05).momentum(0.9));
    }

    private void assertLossesMatch(String fixture, Supplier<OptimizerConfig> optimizer) throws IOException {
        double[] expected = run.tensor(fixture).toDoubleArray();
        try (CompiledReferenceMlp model = CompiledReferenceMlp.fromCheckpoint(INIT)) {
            OptimizerConfig opt = optimizer.get();
            for (int step = 0; step < expected.length; step++) {
                float loss = model.trainStep(x, y, y.length, opt);
                assertEquals(expected[step], loss, 1e-5 * Math.abs(expected[step]), fixture + " step " + step);
            }
        }
    }

    @Test
    void initialGradientsMatchPyTorch() throws IOException {
        try (CompiledReferenceMlp model = CompiledReferenceMlp.fromCheckpoint(INIT)) {
            float loss = model.forwardBackward(x, y, y.length);
            assertEquals(run.tensor("loss0").toDoubleArray()[0], loss, 1e-6);
            for (String name : model.parameterNames()) {
                double[] reference = run.tensor("grad." + name).toDoubleArray();
                float[] native_ = model.gradient(name);
                double max = 0;
                for (double r : reference) {
                    max = Math.max(max, Math.abs(r));
                }
                for (int i = 0; i < reference.length; i++) {
                    assertEquals(reference[i], native_[i], 1e-4 * (Math.abs(reference[i]) + max), name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void sixteenThreadsPredictLikeOne() throws Exception {
        int threads = 16;
        int rows = 50;
        try (CompiledReferenceMlp model = CompiledReferenceMlp.fromCheckpoint(INIT)) {
            float[][] expected = new float[threads][];
            float[][] inputs = new float[threads][];
            for (int t = 0; t < threads; t++) {
                int batch = 1 + t % 7;
                inputs[t] = new float[batch * 13];
                for (int i = 0; i < inputs[t].length; i++) {
                    inputs[t][i] = x[(i + t * 13) % x.length] * (1 + 0.1f * t);
                }
                expected[t] = model.predict(inputs[t], batch);
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    results.add(pool.submit(() -> {
                        int batch = 1 + id % 7;
                        float[] out = new float[batch * 3];
                        for (int i = 0; i < 300; i++) {
                            model.predict(inputs[id], batch, out);
                            if (!java.util.Arrays.equals(out, expected[id])) {
                                return false;
                            }
                        }
                        return true;
                    }));
                }
                for (Future<Boolean> result : results) {
                    assertTrue(result.get(), "a concurrent prediction differed from the single-thread result");
                }
            } finally {
                pool.shutdown();
            }
            assertEquals(rows, x.length / 13);
        }
    }

    @Test
    void savedModelLoadsBitExactly(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path file = dir.resolve("trained.safetensors");
        try (CompiledReferenceMlp model = new CompiledReferenceMlp(3)) {
            model.trainStep(x, y, y.length, new Adam(1e-2));
            model.save(file, java.util.Map.of("note", "trained one step"));
            try (CompiledReferenceMlp loaded = CompiledReferenceMlp.fromCheckpoint(file)) {
                for (String name : model.parameterNames()) {
                    assertArrayEquals(model.parameter(name), loaded.parameter(name), name);
                }
                assertArrayEquals(model.predict(x, 50), loaded.predict(x, 50));
                assertEquals("trained one step", loaded.load(file).get("note"));
            }
        }
    }

    @Test
    void wrongInputsAreRejectedBeforeNativeCalls() {
        try (CompiledReferenceMlp model = new CompiledReferenceMlp(1)) {
            IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                    () -> model.predict(new float[12]));
            assertTrue(width.getMessage().contains("needs 13 floats, got 12"), width.getMessage());
            IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(new float[26], new int[] {0}, 2, new Adam()));
            assertTrue(count.getMessage().contains("2 samples but 1 labels"), count.getMessage());
            IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(new float[13], new int[] {3}, 1, new Adam()));
            assertTrue(label.getMessage().contains("label 3"), label.getMessage());
            assertTrue(label.getMessage().contains("3 classes"), label.getMessage());
        }
        CompiledReferenceMlp closed = new CompiledReferenceMlp(1);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.predict(new float[13]));
    }
}
