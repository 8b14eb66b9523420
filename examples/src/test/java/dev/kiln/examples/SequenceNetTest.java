package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.nn.Adam;
import dev.kiln.nn.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A model built from layout ops, batched matmul and axis reductions, compiled by the processor:
 * its eager forward pass agrees with the compiled library, and it learns.
 */
class SequenceNetTest {

    @Test
    void eagerForwardMatchesCompiledPredict() {
        SequenceNet eager = new SequenceNet();
        float[] x = samples(9 * 24, 5);
        double[] expected = eager.forward(Tensor.of(x, 9, 24)).values();
        try (CompiledSequenceNet compiled = new CompiledSequenceNet(0)) {
            compiled.setParameter("embed.weight", floats(eager.embed.weight().values()));
            compiled.setParameter("embed.bias", floats(eager.embed.bias().values()));
            compiled.setParameter("head.weight", floats(eager.head.weight().values()));
            compiled.setParameter("head.bias", floats(eager.head.bias().values()));
            float[] actual = compiled.predict(x, 9);
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4 * (1 + Math.abs(expected[i])), "output " + i);
            }
        }
    }

    @Test
    void trainingLowersTheLoss() {
        // Class = which of the four positions has the largest first feature.
        SplittableRandom random = new SplittableRandom(11);
        int rows = 64;
        float[] x = samples(rows * 24, 6);
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int p = 1; p < 3; p++) {
                if (x[r * 24 + p * 6] > x[r * 24 + best * 6]) {
                    best = p;
                }
            }
            labels[r] = best;
        }
        try (CompiledSequenceNet model = new CompiledSequenceNet(random.nextLong())) {
            Adam adam = new Adam(1e-2);
            float first = model.trainStep(x, labels, rows, adam);
            float last = first;
            for (int step = 0; step < 200; step++) {
                last = model.trainStep(x, labels, rows, adam);
            }
            assertTrue(last < 0.5 * first, "loss went from " + first + " to " + last);
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
