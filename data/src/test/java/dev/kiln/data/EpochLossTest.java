package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class EpochLossTest {

    @Test
    void meanWeightsBatchesBySize() {
        EpochLoss loss = new EpochLoss();

        loss.add(10, 2);
        loss.add(9, 1);

        assertEquals(29.0 / 3, loss.mean(), 1e-12, "(10 * 2 + 9 * 1) / 3, not (10 + 9) / 2");
        assertEquals(9.6667, loss.mean(), 1e-4);
        assertEquals(3, loss.samples());
    }

    @Test
    void resetStartsOver() {
        EpochLoss loss = new EpochLoss();
        loss.add(10, 2);

        loss.reset();
        loss.add(4, 5);

        assertEquals(4, loss.mean(), 0);
        assertEquals(5, loss.samples());
    }

    @Test
    void emptyAndInvalidRejected() {
        EpochLoss loss = new EpochLoss();

        assertThrows(IllegalStateException.class, loss::mean);
        assertThrows(IllegalArgumentException.class, () -> loss.add(1, 0));
    }
}
