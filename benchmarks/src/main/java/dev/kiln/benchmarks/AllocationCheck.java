package dev.kiln.benchmarks;

import dev.kiln.nn.Adam;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Java heap bytes allocated per call of Kiln's benchmarked calls, counted by the JVM for the
 * calling thread: the bytes over 2n calls minus the bytes over n calls, divided by n, so that
 * what a measurement allocates once cancels out (each the fewest of three rounds). JMH's {@code gc.alloc.rate.norm} divides its
 * per-iteration allocation by the call count instead, which leaves a few bytes per call for long
 * calls even when the calls allocate nothing.
 *
 * <pre>java --enable-native-access=ALL-UNNAMED -cp ... dev.kiln.benchmarks.AllocationCheck out.json</pre>
 */
public final class AllocationCheck {
    private AllocationCheck() {
    }

    /** One kind of call, run {@code n} times. */
    @FunctionalInterface
    private interface Calls {
        void run(int n);
    }

    private record Result(String workload, int calls, double bytesPerCall) {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: AllocationCheck OUT_JSON");
            System.exit(2);
        }
        List<Result> results = new ArrayList<>();
        try (CompiledReferenceMlp reference = new CompiledReferenceMlp(Workloads.PARAMETER_SEED);
             CompiledFashionMlp fashion = new CompiledFashionMlp(Workloads.PARAMETER_SEED);
             CompiledTinyLinear tiny = new CompiledTinyLinear(Workloads.PARAMETER_SEED)) {
            for (int batch : new int[] {1, Workloads.PREDICT_BATCH}) {
                float[] samples = Workloads.gaussian(batch * CompiledReferenceMlp.INPUT_WIDTH, Workloads.DATA_SEED);
                float[] out = new float[batch * CompiledReferenceMlp.OUTPUT_WIDTH];
                results.add(measure("reference_predict_b" + batch, batch == 1 ? 100_000 : 2_000,
                        n -> {
                            for (int i = 0; i < n; i++) {
                                reference.predict(samples, batch, out);
                            }
                        }));
            }
            int trainBatch = Workloads.REFERENCE_TRAIN_BATCH;
            float[] trainSamples = Workloads.gaussian(trainBatch * CompiledReferenceMlp.INPUT_WIDTH, Workloads.DATA_SEED);
            int[] trainLabels = Workloads.labels(trainBatch, CompiledReferenceMlp.OUTPUT_WIDTH, Workloads.DATA_SEED + 1);
            Adam adam = new Adam(Workloads.ADAM_LR);
            results.add(measure("reference_train_b50", 20_000, n -> {
                for (int i = 0; i < n; i++) {
                    reference.trainStep(trainSamples, trainLabels, trainBatch, adam);
                }
            }));
            int fashionBatch = Workloads.FASHION_TRAIN_BATCH;
            float[] fashionSamples = Workloads.gaussian(fashionBatch * CompiledFashionMlp.INPUT_WIDTH, Workloads.DATA_SEED);
            int[] fashionLabels = Workloads.labels(fashionBatch, CompiledFashionMlp.OUTPUT_WIDTH, Workloads.DATA_SEED + 1);
            Adam fashionAdam = new Adam(Workloads.ADAM_LR);
            results.add(measure("fashion_train_b128", 500, n -> {
                for (int i = 0; i < n; i++) {
                    fashion.trainStep(fashionSamples, fashionLabels, fashionBatch, fashionAdam);
                }
            }));
            float[] one = {0.5f};
            float[] tinyOut = new float[1];
            results.add(measure("tiny_predict_b1", 100_000, n -> {
                for (int i = 0; i < n; i++) {
                    tiny.predict(one, 1, tinyOut);
                }
            }));
        }
        StringBuilder json = new StringBuilder("{\"results\": [");
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            json.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT,
                    "{\"workload\": \"%s\", \"calls\": %d, \"bytes_per_call\": %.4f}", r.workload(), r.calls(),
                    r.bytesPerCall()));
            System.out.printf(Locale.ROOT, "%s: %.4f heap bytes per call over %d calls%n", r.workload(),
                    r.bytesPerCall(), r.calls());
        }
        Files.writeString(Path.of(args[0]), json.append("]}\n").toString());
    }

    private static Result measure(String workload, int n, Calls calls) {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        calls.run(n);  // warm-up: JIT compilation and lazily created workspaces
        // The fewest bytes over several rounds: a one-off allocation (a late JIT deoptimization,
        // a lazily loaded class) inflates one round, never every round.
        long fewestN = Long.MAX_VALUE;
        long fewest2N = Long.MAX_VALUE;
        for (int round = 0; round < 3; round++) {
            long start = threads.getCurrentThreadAllocatedBytes();
            calls.run(n);
            long afterN = threads.getCurrentThreadAllocatedBytes();
            calls.run(2 * n);
            long after2N = threads.getCurrentThreadAllocatedBytes();
            fewestN = Math.min(fewestN, afterN - start);
            fewest2N = Math.min(fewest2N, after2N - afterN);
        }
        return new Result(workload, n, (fewest2N - fewestN) / (double) n);
    }
}
