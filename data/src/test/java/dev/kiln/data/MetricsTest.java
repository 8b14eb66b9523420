package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MetricsTest {

    @Test
    void accuracyCountsMatches() {
        assertEquals(0.75, Metrics.accuracy(new int[] {0, 1, 2, 2}, new int[] {0, 1, 2, 1}), 0);
    }

    @Test
    void meanSquaredErrorAveragesSquares() {
        assertEquals((1 + 4 + 0) / 3.0, Metrics.meanSquaredError(new float[] {1, 2, 3}, new float[] {0, 4, 3}), 1e-12);
    }

    @Test
    void lengthMismatchAndEmptyRejected() {
        assertThrows(IllegalArgumentException.class, () -> Metrics.accuracy(new int[] {1}, new int[] {1, 2}));
        assertThrows(IllegalArgumentException.class, () -> Metrics.meanSquaredError(new float[0], new float[0]));
    }
}
