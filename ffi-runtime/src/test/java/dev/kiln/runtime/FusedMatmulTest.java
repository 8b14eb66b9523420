package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.codegen.c.ModelCompiler;
import dev.kiln.ir.ModelSpec;
import dev.kiln.nn.Adam;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.Tolerance;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Small matmuls fused with the bias and activation after them. The generated C runs each such
 * pair as one kernel over chunks of rows. Its results match the reference at batches around the
 * register blocks, row tiles and chunks, on any number of threads.
 */
class FusedMatmulTest {
    private static NativeBuild referenceMlp;
    private static NativeBuild narrowing;
    private static int initialThreads;

    @BeforeAll
    static void build() {
        referenceMlp = NativeBuild.of(TestModels.referenceMlp());
        narrowing = NativeBuild.of(TestModels.narrowingMlp());
        initialThreads = referenceMlp.library().threads();
    }

    @AfterAll
    static void restoreThreads() {
        referenceMlp.library().setThreads(initialThreads);
        narrowing.library().setThreads(initialThreads);
    }

    /** Returns the generated C source of a model. */
    private static String source(ModelSpec spec) {
        return ModelCompiler.compile(spec, "kiln_test_" + spec.name(), true, false).cSource();
    }

    /** Returns the text of a function, from its name to its closing brace. */
    private static String function(String source, String signature) {
        int start = source.indexOf(signature);
        return source.substring(start, source.indexOf("\n}\n", start));
    }

    /** Returns the text of an entry's function in a generated source. */
    private static String entry(ModelSpec spec, String entry) {
        return function(source(spec), "kiln_test_" + spec.name() + "_" + entry + "(int64_t batch");
    }

    /**
     * Returns the thread-pool calls of an entry in order. Each call is listed as the fused kernels
     * it runs, one for a kernel called alone and several for a region.
     */
    private static List<List<String>> parallelCalls(ModelSpec spec, String entry) {
        String source = source(spec);
        String body = function(source, "kiln_test_" + spec.name() + "_" + entry + "(int64_t batch");
        List<List<String>> calls = new ArrayList<>();
        Matcher matcher = Pattern.compile("(kiln_(fused|region)_\\w+)_task, &job").matcher(body);
        while (matcher.find()) {
            String name = matcher.group(1);
            if (matcher.group(2).equals("fused")) {
                calls.add(List.of(name));
                continue;
            }
            String region = function(source, "void " + name + "(int64_t begin");
            List<String> members = new ArrayList<>();
            Matcher member = Pattern.compile("(kiln_fused_\\w+)\\(begin, end").matcher(region);
            while (member.find()) {
                members.add(member.group(1));
            }
            calls.add(members);
        }
        return calls;
    }

    private static int fusedCalls(List<List<String>> calls) {
        return calls.stream().mapToInt(List::size).sum();
    }

    @Test
    void referenceMlpLayersAllFused() {
        String predict = entry(TestModels.referenceMlp(), "predict");
        assertEquals(11, fusedCalls(parallelCalls(TestModels.referenceMlp(), "predict")), predict);
        // No layer runs the plain small-matmul kernel with a separate elementwise loop after it.
        assertEquals(0, predict.split("kiln_mm_rows", -1).length - 1, predict);
        assertEquals(11, fusedCalls(parallelCalls(TestModels.referenceMlp(), "train_adam")));
    }

    @Test
    void consecutiveLayersShareOneParallelRegion() {
        // The ten tanh layers of width 20 hand rows out to the threads once. The output layer's
        // product [B, 3] reuses the buffer of a [B, 20] activation. One thread's rows of it would
        // lie over rows of the activation that another thread computes, so it runs apart.
        List<List<String>> predict = parallelCalls(TestModels.referenceMlp(), "predict");
        assertEquals(2, predict.size(), predict.toString());
        assertEquals(10, predict.get(0).size(), predict.toString());
        assertEquals(1, predict.get(1).size(), predict.toString());
        assertEquals(10, parallelCalls(TestModels.referenceMlp(), "train_adam").getFirst().size());
    }

    @Test
    void leftoverRowsUseEightLaneVectors() {
        // Each fused kernel's elementwise loop over rows left over (every row at batch 1) reads
        // the product in vectors as wide as the matmul's stores.
        String source = source(TestModels.referenceMlp());
        int kernels = source.split("static inline KILN_INLINE void kiln_fused_", -1).length - 1;
        int leftoverLoops = source.split("for \\(int64_t col = 0;", -1).length - 1;
        int hinted = source.split("#pragma omp simd simdlen\\(8\\)\n\\s*for \\(int64_t col = 0;", -1).length - 1;
        assertTrue(kernels >= 11, source);
        assertTrue(leftoverLoops >= kernels, source);
        assertEquals(leftoverLoops, hinted, source);
    }

    @Test
    void overlappingLayerNotFused() {
        // relu(fc3 h2) [B, 16] is planned over memory that h2 [B, 10] partly takes. A chunk's
        // output rows could cover input rows of later chunks, so fc3 keeps its two kernels while
        // the other layers fuse.
        String predict = entry(TestModels.narrowingMlp(), "predict");
        assertEquals(3, fusedCalls(parallelCalls(TestModels.narrowingMlp(), "predict")), predict);
        assertEquals(2, predict.split("kiln_mm_rows_bt_16x10", -1).length - 1, predict);
    }

    @ParameterizedTest(name = "batch {0}")
    @ValueSource(ints = {1, 3, 4, 5, 23, 24, 25, 99, 100, 101, 193, 700, 1021})
    void predictAndGradientsMatchReference(int batch) {
        for (NativeBuild build : List.of(referenceMlp, narrowing)) {
            String model = build.spec().name();
            Reference reference = new Reference(build.spec());
            SplittableRandom random = new SplittableRandom(batch * 7L + model.hashCode());
            try (TestModel compiled = build.newModel(batch)) {
                float[] x = TestData.samples(random, build.descriptor(), batch);
                int[] labels = TestData.labels(random, 3, batch);
                double[] doubleLabels = new double[batch];
                for (int i = 0; i < batch; i++) {
                    doubleLabels[i] = labels[i];
                }
                Tolerance.assertClose(model + " output at batch " + batch,
                        reference.predict(Reference.parameters(compiled), x, batch), compiled.predict(x, batch));
                float loss = compiled.forwardBackward(x, labels, batch);
                Reference.LossAndGradients expected =
                        reference.forwardBackward(Reference.parameters(compiled), x, doubleLabels, batch);
                Tolerance.assertClose(model + " loss at batch " + batch, expected.loss(), loss);
                for (String name : compiled.parameterNames()) {
                    Tolerance.assertClose(model + " grad." + name + " at batch " + batch,
                            expected.gradients().get(name), compiled.gradient(name));
                }
            }
        }
    }

    /** Predictions and trained weights of one run, in a fixed order. */
    private static List<float[]> run(NativeBuild build, int threads, int batch) {
        SplittableRandom random = new SplittableRandom(3);
        float[] x = TestData.samples(random, build.descriptor(), batch);
        int[] labels = TestData.labels(random, 3, batch);
        List<float[]> results = new ArrayList<>();
        try (TestModel model = build.newModel(9)) {
            model.setThreads(threads);
            results.add(model.predict(x, batch));
            for (int step = 0; step < 2; step++) {
                results.add(new float[] {model.trainStep(x, labels, batch, new Adam(1e-2))});
            }
            for (String name : model.parameterNames()) {
                results.add(model.parameter(name));
            }
            results.add(model.predict(x, batch));
        }
        return results;
    }

    @Test
    void repeatedParallelPredictionsBitIdentical() {
        // A region whose threads touched each other's rows would differ now and then, not on
        // every call, so many calls are compared.
        for (NativeBuild build : List.of(referenceMlp, narrowing)) {
            SplittableRandom random = new SplittableRandom(5);
            float[] x = TestData.samples(random, build.descriptor(), 1024);
            try (TestModel model = build.newModel(9)) {
                model.setThreads(1);
                float[] expected = model.predict(x, 1024);
                model.setThreads(2);
                for (int call = 0; call < 500; call++) {
                    assertArrayEquals(expected, model.predict(x, 1024),
                            build.spec().name() + " prediction " + call + " on 2 threads differs from 1 thread");
                }
            }
        }
    }

    @Test
    void fusedKernelsBitIdenticalAcrossThreads() {
        // 1021 rows: several chunks, a split into ranges that end inside a chunk, and leftover rows.
        for (NativeBuild build : List.of(referenceMlp, narrowing)) {
            List<float[]> single = run(build, 1, 1021);
            for (int threads : new int[] {2, 3}) {
                List<float[]> parallel = run(build, threads, 1021);
                for (int i = 0; i < single.size(); i++) {
                    assertArrayEquals(single.get(i), parallel.get(i), build.spec().name() + " result " + i
                            + " differs between 1 and " + threads + " threads");
                }
            }
        }
    }
}
