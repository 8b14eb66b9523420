package dev.kiln.benchmarks;

import dev.kiln.nn.Adam;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One training step (forward, softmax cross-entropy, backward and the Adam update, in one native
 * call) of the reference network at batch 50 and of the 784-256-128-10 network at batch 128. Each
 * invocation trains on the same batch, so the parameters keep changing as in real training.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class KilnTrainStepBenchmark {

    /** The reference network with its Adam optimizer and one batch of 50 labelled samples. */
    @State(Scope.Thread)
    public static class Reference {
        CompiledReferenceMlp model;
        Adam adam;
        float[] samples;
        int[] labels;

        /** Creates the model, the optimizer and the batch. */
        @Setup(Level.Trial)
        public void setUp() {
            int batch = Workloads.REFERENCE_TRAIN_BATCH;
            model = new CompiledReferenceMlp(Workloads.PARAMETER_SEED);
            adam = new Adam(Workloads.ADAM_LR);
            samples = Workloads.gaussian(batch * CompiledReferenceMlp.INPUT_WIDTH, Workloads.DATA_SEED);
            labels = Workloads.labels(batch, CompiledReferenceMlp.OUTPUT_WIDTH, Workloads.DATA_SEED + 1);
        }

        /** Frees the model's native memory. */
        @TearDown(Level.Trial)
        public void tearDown() {
            model.close();
        }
    }

    /** The 784-256-128-10 network with its Adam optimizer and one batch of 128 labelled samples. */
    @State(Scope.Thread)
    public static class Fashion {
        CompiledFashionMlp model;
        Adam adam;
        float[] samples;
        int[] labels;

        /** Creates the model, the optimizer and the batch. */
        @Setup(Level.Trial)
        public void setUp() {
            int batch = Workloads.FASHION_TRAIN_BATCH;
            model = new CompiledFashionMlp(Workloads.PARAMETER_SEED);
            adam = new Adam(Workloads.ADAM_LR);
            samples = Workloads.gaussian(batch * CompiledFashionMlp.INPUT_WIDTH, Workloads.DATA_SEED);
            labels = Workloads.labels(batch, CompiledFashionMlp.OUTPUT_WIDTH, Workloads.DATA_SEED + 1);
        }

        /** Frees the model's native memory. */
        @TearDown(Level.Trial)
        public void tearDown() {
            model.close();
        }
    }

    /** Runs one Adam step of the reference network at batch 50 and returns the loss before the update. */
    @Benchmark
    public float referenceTrainStep(Reference state) {
        return state.model.trainStep(state.samples, state.labels, Workloads.REFERENCE_TRAIN_BATCH, state.adam);
    }

    /** Runs one Adam step of the 784-256-128-10 network at batch 128 and returns the loss before the update. */
    @Benchmark
    public float fashionTrainStep(Fashion state) {
        return state.model.trainStep(state.samples, state.labels, Workloads.FASHION_TRAIN_BATCH, state.adam);
    }
}
