package dev.kiln.benchmarks;

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
 * The fixed cost of one prediction: a Linear(1, 1) model at batch 1, whose native work is one
 * multiply and one add, so the time is the input checks, the workspace borrow, the copies and
 * the FFM downcall.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class KilnCallOverheadBenchmark {
    private CompiledTinyLinear model;
    private final float[] sample = {0.5f};
    private final float[] out = new float[1];

    /** Creates the model. */
    @Setup(Level.Trial)
    public void setUp() {
        model = new CompiledTinyLinear(Workloads.PARAMETER_SEED);
    }

    /** Frees the model's native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }

    /** Predicts one sample into the preallocated output buffer. */
    @Benchmark
    public float[] tinyPredict() {
        model.predict(sample, 1, out);
        return out;
    }
}
