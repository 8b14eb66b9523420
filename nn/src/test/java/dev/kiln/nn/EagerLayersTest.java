package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** LayerNorm, Embedding and Dropout run as plain Java, as in a debugger. */
class EagerLayersTest {

    @Test
    void layerNormNormalizesLastAxis() {
        LayerNorm norm = new LayerNorm(3);
        norm.setWeight(new double[] {1, 2, 3});
        norm.setBias(new double[] {0, 0, 1});

        double[] y = norm.apply(Tensor.of(new double[] {1, 2, 3, 5, 5, 5}, 2, 3)).values();

        double scale = 1 / Math.sqrt(2.0 / 3 + 1e-5);
        assertArrayEquals(new double[] {-scale, 0, 3 * scale + 1, 0, 0, 1}, y, 1e-12);
    }

    @Test
    void layerNormRejectsWrongWidth() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new LayerNorm(4).apply(Tensor.of(new double[6], 2, 3)));
        assertTrue(error.getMessage().contains("last axis is 4, got shape [2, 3]"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(0));
        assertThrows(IllegalArgumentException.class, () -> new LayerNorm(3, -1e-5));
    }

    @Test
    void embeddingLooksUpRows() {
        Embedding embedding = new Embedding(3, 2);
        embedding.setWeight(new double[] {0, 1, 10, 11, 20, 21});

        Tensor y = embedding.apply(Tensor.of(new double[] {2, 0, 1, 1}, 2, 2));

        assertArrayEquals(new int[] {2, 2, 2}, y.shape());
        assertArrayEquals(new double[] {20, 21, 0, 1, 10, 11, 10, 11}, y.values());
    }

    @Test
    void embeddingRejectsBadIndexByName() {
        Embedding embedding = new Embedding(3, 2);
        for (double bad : new double[] {3, -1, 0.5, Double.NaN}) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> embedding.apply(Tensor.of(new double[] {0, bad}, 2)));
            assertTrue(error.getMessage().contains("index " + bad + " at position 1"), error.getMessage());
        }
    }

    @Test
    void dropoutIsIdentityUntilTrain() {
        Dropout dropout = new Dropout(0.5);
        Tensor x = Tensor.of(ones(1000), 10, 100);

        assertFalse(dropout.isTraining());
        assertSame(x, dropout.apply(x));

        double[] y = dropout.train().apply(x).values();
        long zeros = Arrays.stream(y).filter(v -> v == 0).count();
        // The standard deviation of the count is sqrt(1000 * 0.25) = 16.
        assertEquals(500, zeros, 80);
        assertTrue(Arrays.stream(y).allMatch(v -> v == 0 || v == 2), "kept elements are scaled by 2");
        assertSame(x, dropout.eval().apply(x));
    }

    @Test
    void dropoutSeedReproducesMasks() {
        Tensor x = Tensor.of(ones(256), 256);
        Dropout first = new Dropout(0.3).train().seed(5);
        Dropout second = new Dropout(0.3).train().seed(5);

        double[] step1 = first.apply(x).values();
        assertArrayEquals(step1, second.apply(x).values());
        assertFalse(Arrays.equals(step1, first.apply(x).values()), "the second step draws a new mask");
        assertFalse(Arrays.equals(step1, new Dropout(0.3).train().apply(x).values()),
                "layers without a seed of their own draw other masks");
    }

    @Test
    void dropoutProbabilityMustBeInUnitInterval() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> new Dropout(1.2));
        assertTrue(error.getMessage().contains("[0, 1], got 1.2"), error.getMessage());
        assertArrayEquals(new double[3], new Dropout(1).train().apply(Tensor.of(ones(3), 3)).values());
    }

    private static double[] ones(int n) {
        double[] out = new double[n];
        Arrays.fill(out, 1);
        return out;
    }
}
