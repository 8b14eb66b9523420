package dev.kiln.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Prediction of the reference network through {@code predict(float[], int, float[])}, which writes
 * into the caller's buffer: one native call per batch, including the copies between the Java
 * arrays and native memory.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class KilnPredictBenchmark {
    @Param({"1", "1024"})
    int batch;

    private CompiledReferenceMlp model;
    private float[] samples;
    private float[] out;

    /** Creates the model and a batch of inputs. */
    @Setup(Level.Trial)
    public void setUp() {
        model = new CompiledReferenceMlp(Workloads.PARAMETER_SEED);
        samples = Workloads.gaussian(batch * CompiledReferenceMlp.INPUT_WIDTH, Workloads.DATA_SEED);
        out = new float[batch * CompiledReferenceMlp.OUTPUT_WIDTH];
    }

    /** Frees the model's native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }

    /** Predicts one batch into the preallocated output buffer. */
    @Benchmark
    public float[] referencePredict() {
        model.predict(samples, batch, out);
        return out;
    }
}
