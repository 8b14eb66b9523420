package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.nn.Adam;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.TestModels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The C library's thread pool: outputs, gradients and trained weights do not depend on the thread count. */
class ThreadCountTest {
    /** Not a multiple of any kernel's row block, so the last range of every split is partial. */
    private static final int BATCH = 301;
    private static final int STEPS = 3;

    private static NativeBuild build;
    private static int initialThreads;

    @BeforeAll
    static void build() {
        build = NativeBuild.of(TestModels.wideMlp());
        initialThreads = build.library().threads();
    }

    @AfterAll
    static void restoreThreads() {
        build.library().setThreads(initialThreads);
    }

    /** Everything one run produces, flattened in a fixed order. */
    private static List<float[]> run(int threads) {
        SplittableRandom random = new SplittableRandom(11);
        float[] samples = TestData.samples(random, build.descriptor(), BATCH);
        int[] labels = TestData.labels(random, 10, BATCH);
        List<float[]> results = new ArrayList<>();
        try (TestModel model = build.newModel(5)) {
            model.setThreads(threads);
            assertEquals(threads, model.threads());
            results.add(model.predict(samples, BATCH));
            results.add(new float[] {model.forwardBackward(samples, labels, BATCH)});
            for (String name : model.parameterNames()) {
                results.add(model.gradient(name));
            }
            for (int step = 0; step < STEPS; step++) {
                results.add(new float[] {model.trainStep(samples, labels, BATCH, new Adam(1e-2))});
            }
            for (String name : model.parameterNames()) {
                results.add(model.parameter(name));
            }
            results.add(model.predict(samples, BATCH));
        }
        return results;
    }

    @Test
    void resultsBitIdenticalAcrossThreadCounts() {
        List<float[]> single = run(1);
        for (int threads : new int[] {2, 3}) {
            List<float[]> parallel = run(threads);
            assertEquals(single.size(), parallel.size());
            for (int i = 0; i < single.size(); i++) {
                assertArrayEquals(single.get(i), parallel.get(i),
                        "result " + i + " differs between 1 and " + threads + " threads");
            }
        }
    }

    @Test
    void threadCountBelowOneRejected() {
        try (TestModel model = build.newModel(1)) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> model.setThreads(0));
            assertEquals("thread count must be at least 1, got 0", error.getMessage());
        }
    }

    @Test
    void threadCountCappedAtMaximum() {
        try (TestModel model = build.newModel(1)) {
            model.setThreads(1000);
            assertEquals(64, model.threads());
            model.setThreads(initialThreads);
        }
    }
}
