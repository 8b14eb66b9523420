package dev.kiln.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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
 * Prediction of the reference network by ONNX Runtime's Java API, on the ONNX file that
 * {@code torch.onnx.export} wrote from the weights of {@code CompiledReferenceMlp(42)}. The input
 * tensor is created once, and each call runs the session and copies the outputs into the caller's
 * array, the same work as Kiln's {@code predict(float[], int, float[])}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class OnnxRuntimePredictBenchmark {
    /** Largest difference allowed between ONNX Runtime's and Kiln's outputs (float32 rounding). */
    private static final float TOLERANCE = 1e-4f;

    @Param({"1", "1024"})
    int batch;

    /** Intra-op threads of the session. */
    @Param({"1"})
    int threads;

    /** The ONNX file of the reference network, which run.sh passes with {@code -p onnxFile=...}. */
    @Param({""})
    String onnxFile;

    private OrtEnvironment environment;
    private OrtSession.SessionOptions options;
    private OrtSession session;
    private OnnxTensor input;
    private Map<String, OnnxTensor> inputs;
    private float[] out;

    /** Opens the session and checks its outputs against Kiln's on the benchmark's inputs. */
    @Setup(Level.Trial)
    public void setUp() throws OrtException {
        if (onnxFile.isEmpty() || !Files.isRegularFile(Path.of(onnxFile))) {
            throw new IllegalArgumentException("ONNX file '" + onnxFile + "' not found; pass the file written by"
                    + " benchmarks/python/torch_bench.py with -p onnxFile=PATH");
        }
        environment = OrtEnvironment.getEnvironment();
        options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(threads);
        options.setInterOpNumThreads(1);
        options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        session = environment.createSession(onnxFile, options);

        float[] samples = Workloads.gaussian(batch * CompiledReferenceMlp.INPUT_WIDTH, Workloads.DATA_SEED);
        FloatBuffer buffer = ByteBuffer.allocateDirect(samples.length * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        buffer.put(samples).rewind();
        input = OnnxTensor.createTensor(environment, buffer, new long[] {batch, CompiledReferenceMlp.INPUT_WIDTH});
        inputs = Map.of(session.getInputNames().iterator().next(), input);
        out = new float[batch * CompiledReferenceMlp.OUTPUT_WIDTH];

        predict();
        checkAgainstKiln(samples);
    }

    private void checkAgainstKiln(float[] samples) {
        try (CompiledReferenceMlp kiln = new CompiledReferenceMlp(Workloads.PARAMETER_SEED)) {
            float[] expected = kiln.predict(samples, batch);
            for (int i = 0; i < expected.length; i++) {
                if (!(Math.abs(expected[i] - out[i]) <= TOLERANCE)) {
                    throw new IllegalStateException("ONNX Runtime output " + i + " is " + out[i] + " but Kiln's is "
                            + expected[i] + "; " + onnxFile + " does not hold the weights of CompiledReferenceMlp("
                            + Workloads.PARAMETER_SEED + "), so export it again with run.sh");
                }
            }
        }
    }

    /** Closes the input tensor, the session and its options. */
    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        input.close();
        session.close();
        options.close();
    }

    /** Runs the session on one batch and copies the outputs into the preallocated array. */
    @Benchmark
    public float[] predict() throws OrtException {
        try (OrtSession.Result result = session.run(inputs)) {
            ((OnnxTensor) result.get(0)).getFloatBuffer().get(out);
        }
        return out;
    }
}
