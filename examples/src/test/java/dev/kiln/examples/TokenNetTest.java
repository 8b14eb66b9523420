package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.nn.Adam;
import dev.kiln.nn.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A model with Embedding, LayerNorm and Dropout, built by the processor and the plugin: its
 * parameters start as in PyTorch, it trains, and in evaluation mode its eager forward gives the
 * compiled predictions.
 */
class TokenNetTest {
    private static final int SAMPLES = 64;

    /** Six random tokens per sample; the class is the first token modulo 3. */
    private static float[] tokens(SplittableRandom random, int samples) {
        float[] x = new float[samples * 6];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextInt(20);
        }
        return x;
    }

    private static int[] labels(float[] tokens) {
        int[] y = new int[tokens.length / 6];
        for (int r = 0; r < y.length; r++) {
            y[r] = (int) tokens[r * 6] % 3;
        }
        return y;
    }

    @Test
    void parametersStartLikePyTorch() {
        try (CompiledTokenNet model = new CompiledTokenNet(3)) {
            assertEquals(List.of("emb.weight", "norm.weight", "norm.bias", "fc.weight", "fc.bias"),
                    model.parameterNames());
            float[] ones = new float[8];
            Arrays.fill(ones, 1);
            assertArrayEquals(ones, model.parameter("norm.weight"));
            assertArrayEquals(new float[8], model.parameter("norm.bias"));
            float[] table = model.parameter("emb.weight");
            double max = 0;
            for (float v : table) {
                max = Math.max(max, Math.abs(v));
            }
            // Standard normal draws, unlike Linear's uniform in +-1/sqrt(8) = +-0.35.
            assertTrue(max > 1.5, "largest |emb.weight| is " + max);
        }
    }

    @Test
    void trainsAndEagerEvaluationMatchesPredict() {
        SplittableRandom random = new SplittableRandom(5);
        float[] x = tokens(random, SAMPLES);
        int[] y = labels(x);
        try (CompiledTokenNet model = new CompiledTokenNet(11)) {
            Adam adam = new Adam(2e-2);
            float first = model.trainStep(x, y, SAMPLES, adam);
            float last = first;
            for (int step = 0; step < 60; step++) {
                last = model.trainStep(x, y, SAMPLES, adam);
            }
            assertTrue(last < first / 2, "loss went from " + first + " to " + last);

            TokenNet eager = new TokenNet();
            eager.emb.setWeight(doubles(model.parameter("emb.weight")));
            eager.norm.setWeight(doubles(model.parameter("norm.weight")));
            eager.norm.setBias(doubles(model.parameter("norm.bias")));
            eager.fc.setWeight(doubles(model.parameter("fc.weight")));
            eager.fc.setBias(doubles(model.parameter("fc.bias")));
            float[] predicted = model.predict(x, SAMPLES);
            double[] evaluation = eager.forward(Tensor.of(x, SAMPLES, 6)).values();

            assertFalse(eager.drop.isTraining(), "eager layers start in evaluation mode");
            assertClose(evaluation, predicted);
            double[] again = eager.forward(Tensor.of(x, SAMPLES, 6)).values();
            assertArrayEquals(evaluation, again, "evaluation mode stays the identity");
            eager.drop.train();
            assertFalse(Arrays.equals(evaluation, eager.forward(Tensor.of(x, SAMPLES, 6)).values()),
                    "training mode drops elements");
        }
    }

    @Test
    void invalidTokenIsNaNCompiledAndAnErrorEagerly() {
        float[] x = {1, 2, 3, 4, 5, 6, 1, 2, 25, 4, 5, 6};
        try (CompiledTokenNet model = new CompiledTokenNet(1)) {
            float[] out = model.predict(x, 2);
            for (int c = 0; c < 3; c++) {
                assertFalse(Float.isNaN(out[c]), "valid sample: " + Arrays.toString(out));
                assertTrue(Float.isNaN(out[3 + c]), "sample with token 25: " + Arrays.toString(out));
            }
        }
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new TokenNet().forward(Tensor.of(x, 2, 6)));
        assertTrue(error.getMessage().contains("index 25.0 at position 8"), error.getMessage());
    }

    private static double[] doubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[i];
        }
        return out;
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
}
