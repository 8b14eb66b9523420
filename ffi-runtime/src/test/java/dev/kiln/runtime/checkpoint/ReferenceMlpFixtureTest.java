package dev.kiln.runtime.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Reads the fixtures that tools/oracle/reference_mlp.py writes with PyTorch, and checks them
 * against a float64 forward pass of the same network written here in plain Java.
 */
class ReferenceMlpFixtureTest {

    /** Surefire runs tests with the module directory as working directory. */
    private static final Path FIXTURES = Path.of("../examples/src/test/resources/fixtures");

    private static final List<String> PARAMETER_NAMES =
            List.of("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias");

    @Test
    void initFileNamesShapesValues() throws IOException {
        Checkpoint init = Safetensors.read(fixture("reference_mlp_init.safetensors"));

        assertEquals(PARAMETER_NAMES, init.names());
        assertEquals(Map.of("format", "pt", "model", "ReferenceMlp"), init.metadata());
        long[][] shapes = {{20, 13}, {20}, {20, 20}, {20}, {3, 20}, {3}};
        for (int i = 0; i < shapes.length; i++) {
            NamedTensor tensor = init.tensors().get(i);
            assertEquals(DType.F32, tensor.dtype(), tensor.name());
            assertArrayEquals(shapes[i], tensor.shape(), tensor.name());
        }

        // First values as printed by the script (9 significant digits).
        assertFirstValues(init, "fc1.weight", 0.0193715394, -0.167073935, 0.0883147568);
        assertFirstValues(init, "fc1.bias", -0.116557449, 0.269119263, -0.0358129963);
        assertFirstValues(init, "fc2.weight", 0.10143517, 0.182526901, -0.148714319);
        assertFirstValues(init, "fc2.bias", 0.180834085, 0.185703069, -0.0108358534);
        assertFirstValues(init, "fc3.weight", 0.0472090133, -0.0192885268, -0.117518872);
        assertFirstValues(init, "fc3.bias", 0.210285991, -0.214966893, -0.218663439);
    }

    @Test
    void initValuesFollowPyTorchLinearBounds() throws IOException {
        Checkpoint init = Safetensors.read(fixture("reference_mlp_init.safetensors"));

        // PyTorch's default Linear init draws weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        for (NamedTensor tensor : init.tensors()) {
            String layer = tensor.name().substring(0, 3);
            long fanIn = init.tensor(layer + ".weight").shape()[1];
            double bound = 1 / Math.sqrt(fanIn);
            for (float value : tensor.toFloatArray()) {
                assertTrue(Math.abs(value) <= bound, tensor.name() + " value " + value + " outside +-" + bound);
            }
        }
    }

    @Test
    void runFileHasDataAndOptimizerLosses() throws IOException {
        Checkpoint run = Safetensors.read(fixture("reference_mlp_run.safetensors"));

        NamedTensor x = run.tensor("x");
        assertEquals(DType.F32, x.dtype());
        assertArrayEquals(new long[] {50, 13}, x.shape());
        assertArrayEquals(new float[] {-0.51079756f, 1.02827179f, -0.35315159f},
                Arrays.copyOf(x.toFloatArray(), 3), 5e-8f);
        NamedTensor y = run.tensor("y");
        assertEquals(DType.I64, y.dtype());
        assertArrayEquals(new long[] {1, 2, 0, 1, 1}, Arrays.copyOf(y.toLongArray(), 5));
        for (long label : y.toLongArray()) {
            assertTrue(label >= 0, "label " + label);
            assertTrue(label < 3, "label " + label);
        }

        double loss0 = run.tensor("loss0").toDoubleArray()[0];
        assertEquals(1.152933519433657, loss0, 1e-15);
        for (String name : List.of("adam_losses", "sgd_losses")) {
            NamedTensor losses = run.tensor(name);
            assertEquals(DType.F64, losses.dtype(), name);
            assertArrayEquals(new long[] {20}, losses.shape(), name);
            // Step 0 records the float32 loss at the init parameters, before any update.
            assertEquals(loss0, losses.toDoubleArray()[0], 1e-6, name);
        }
        double[] adam = run.tensor("adam_losses").toDoubleArray();
        assertTrue(adam[19] < adam[0] - 0.1, "Adam lowers the loss over 20 steps: " + adam[0] + " -> " + adam[19]);
        assertEquals("1.13.0a0", run.metadata().get("torch_version"));
        assertEquals("/usr/bin/python3 tools/oracle/reference_mlp.py", run.metadata().get("command"));
    }

    @Test
    void logitsLossAndGradientsMatchJavaReference() throws IOException {
        Checkpoint init = Safetensors.read(fixture("reference_mlp_init.safetensors"));
        Checkpoint run = Safetensors.read(fixture("reference_mlp_run.safetensors"));
        Map<String, double[]> parameters = new LinkedHashMap<>();
        for (String name : PARAMETER_NAMES) {
            parameters.put(name, init.tensor(name).toDoubleArray());
        }
        double[] x = run.tensor("x").toDoubleArray();
        long[] y = run.tensor("y").toLongArray();

        double[] expectedLogits = run.tensor("logits").toDoubleArray();
        double[] logits = forward(parameters, x, y.length);
        assertArrayEquals(new long[] {50, 3}, run.tensor("logits").shape());
        assertArrayEquals(expectedLogits, logits, 1e-12);
        assertEquals(run.tensor("loss0").toDoubleArray()[0], crossEntropy(logits, y), 1e-12);

        // Central differences with step h have truncation error O(h^2) and rounding error
        // O(1e-16 / h); h = 1e-6 keeps both far below the tolerance.
        double h = 1e-6;
        for (String name : PARAMETER_NAMES) {
            double[] gradient = run.tensor("grad." + name).toDoubleArray();
            assertArrayEquals(init.tensor(name).shape(), run.tensor("grad." + name).shape(), name);
            double[] values = parameters.get(name);
            for (int i = 0; i < values.length; i++) {
                double saved = values[i];
                values[i] = saved + h;
                double plus = crossEntropy(forward(parameters, x, y.length), y);
                values[i] = saved - h;
                double minus = crossEntropy(forward(parameters, x, y.length), y);
                values[i] = saved;
                assertEquals((plus - minus) / (2 * h), gradient[i], 1e-8, "grad." + name + "[" + i + "]");
            }
        }
    }

    private static Path fixture(String name) {
        Path file = FIXTURES.resolve(name);
        assertTrue(Files.isRegularFile(file), file.toAbsolutePath() + " is missing; regenerate it with "
                + "/usr/bin/python3 tools/oracle/reference_mlp.py from the repository root");
        return file;
    }

    private static void assertFirstValues(Checkpoint checkpoint, String name, double... expected) {
        float[] values = checkpoint.tensor(name).toFloatArray();
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], values[i], 5e-10 + Math.abs(expected[i]) * 5e-9, name + "[" + i + "]");
        }
    }

    /** Float64 forward pass: tanh(fc1), nine times tanh(fc2) with the same weights, then fc3. */
    private static double[] forward(Map<String, double[]> parameters, double[] x, int batch) {
        double[] hidden = tanh(linear(parameters, "fc1", x, batch, 13, 20));
        for (int repeat = 0; repeat < 9; repeat++) {
            hidden = tanh(linear(parameters, "fc2", hidden, batch, 20, 20));
        }
        return linear(parameters, "fc3", hidden, batch, 20, 3);
    }

    /** Computes x W^T + b with W stored [out, in], as in PyTorch's state dict. */
    private static double[] linear(Map<String, double[]> parameters, String layer, double[] x, int batch,
            int in, int out) {
        double[] weight = parameters.get(layer + ".weight");
        double[] bias = parameters.get(layer + ".bias");
        double[] result = new double[batch * out];
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < out; o++) {
                double sum = bias[o];
                for (int i = 0; i < in; i++) {
                    sum += x[b * in + i] * weight[o * in + i];
                }
                result[b * out + o] = sum;
            }
        }
        return result;
    }

    private static double[] tanh(double[] values) {
        double[] result = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = Math.tanh(values[i]);
        }
        return result;
    }

    /** Mean over the batch of logsumexp(logits) - logits[label], with the max subtracted for stability. */
    private static double crossEntropy(double[] logits, long[] labels) {
        int classes = logits.length / labels.length;
        double total = 0;
        for (int b = 0; b < labels.length; b++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, logits[b * classes + c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += Math.exp(logits[b * classes + c] - max);
            }
            total += max + Math.log(sum) - logits[b * classes + (int) labels[b]];
        }
        return total / labels.length;
    }
}
