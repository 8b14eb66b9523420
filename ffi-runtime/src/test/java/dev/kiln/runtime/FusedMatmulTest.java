package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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

    /** Returns the text of an entry's function in a generated source. */
    private static String entry(ModelSpec spec, String entry) {
        String source = ModelCompiler.compile(spec, "kiln_test_" + spec.name(), true, false).cSource();
        int start = source.indexOf("kiln_test_" + spec.name() + "_" + entry + "(int64_t batch");
        return source.substring(start, source.indexOf("\n}\n", start));
    }

    private static int fusedCalls(String body) {
        Matcher matcher = Pattern.compile("kiln_fused_\\w+_task, &job").matcher(body);
        int count = 0;
        while (matcher.find()) {
            count++;
        }
        return count;
    }

    @Test
    void referenceMlpLayersAllFused() {
        String predict = entry(TestModels.referenceMlp(), "predict");
        assertEquals(11, fusedCalls(predict), predict);
        // No layer runs the plain small-matmul kernel with a separate elementwise loop after it.
        assertEquals(0, predict.split("kiln_mm_rows", -1).length - 1, predict);
        assertEquals(11, fusedCalls(entry(TestModels.referenceMlp(), "train_adam")));
    }

    @Test
    void overlappingLayerNotFused() {
        // relu(fc3 h2) [B, 16] is planned over memory that h2 [B, 10] partly takes. A chunk's
        // output rows could cover input rows of later chunks, so fc3 keeps its two kernels while
        // the other layers fuse.
        String predict = entry(TestModels.narrowingMlp(), "predict");
        assertEquals(3, fusedCalls(predict), predict);
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
