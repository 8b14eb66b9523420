package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.nn.Linear;
import dev.kiln.nn.Tensor;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The model classes run as plain Java (eager mode, steppable in a debugger) and give the compiled
 * library's outputs: eager evaluation uses the same double-precision op definitions as the
 * compiler's reference evaluator.
 */
class EagerModeTest {

    @Test
    void wineNetEagerMatchesCompiled() {
        WineNet eager = new WineNet();
        float[] x = samples(37 * 13, 1);
        double[] outputs = eager.forward(Tensor.of(x, 37, 13)).values();
        try (CompiledWineNet compiled = new CompiledWineNet(0)) {
            copy(compiled, Map.of("fc1", eager.fc1, "fc2", eager.fc2, "fc3", eager.fc3));
            assertClose(outputs, compiled.predict(x, 37));
        }
    }

    @Test
    void derivativeFitNetEagerMatchesCompiled() {
        DerivativeFitNet eager = new DerivativeFitNet();
        float[] x = samples(20, 2);
        double[] outputs = eager.forward(Tensor.of(x, 20, 1)).values();
        try (CompiledDerivativeFitNet compiled = new CompiledDerivativeFitNet(0)) {
            copy(compiled, Map.of("fc1", eager.fc1, "fc2", eager.fc2, "fc3", eager.fc3));
            assertClose(outputs, compiled.predict(x, 20));
        }
    }

    @Test
    void chainFunctionEagerMatchesCompiled() {
        float[] x = samples(16, 3);
        double[] values = ChainFunction.f(Tensor.of(x, 16, 1)).values();
        try (CompiledChainFunctionF compiled = new CompiledChainFunctionF()) {
            assertClose(values, compiled.value(x, 16));
        }
    }

    private static void copy(dev.kiln.runtime.CompiledModel compiled, Map<String, Linear> layers) {
        layers.forEach((name, layer) -> {
            compiled.setParameter(name + ".weight", floats(layer.weight().values()));
            compiled.setParameter(name + ".bias", floats(layer.bias().values()));
        });
    }

    private static void assertClose(double[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        double max = 0;
        for (double v : expected) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-4 * (Math.abs(expected[i]) + max), "element " + i);
        }
    }

    private static float[] samples(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextDouble(-2, 2);
        }
        return out;
    }

    private static float[] floats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
