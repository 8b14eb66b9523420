package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class DatasetTest {

    private static Dataset small() {
        return Dataset.classification(new float[] {1, 2, 3, 4, 5, 6}, List.of("a", "b"), new int[] {0, 1, 1},
                List.of("no", "yes"));
    }

    @Test
    void accessorsAndRowMajorLayout() {
        Dataset data = small();

        assertEquals(3, data.size());
        assertEquals(2, data.featureCount());
        assertEquals(6f, data.feature(2, 1));
        assertArrayEquals(new int[] {1, 2}, data.classCounts());
    }

    @Test
    void selectKeepsOrderAndDuplicates() {
        Dataset selected = small().select(new int[] {2, 0, 2});

        assertArrayEquals(new float[] {5, 6, 1, 2, 5, 6}, selected.features());
        assertArrayEquals(new int[] {1, 0, 1}, selected.classes());
        assertEquals(List.of("no", "yes"), selected.classNames());
    }

    @Test
    void selectOutOfRangeNamesIndex() {
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> small().select(new int[] {0, 3}));

        assertTrue(e.getMessage().contains("row index 3 at position 1"), e.getMessage());
    }

    @Test
    void factoriesCopyInputs() {
        float[] features = {1, 2};
        Dataset data = Dataset.classification(features, List.of("a"), new int[] {0, 0}, List.of("only"));

        features[0] = 99;

        assertEquals(1f, data.feature(0, 0));
    }

    @Test
    void classIndexOutOfRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.classification(new float[] {1, 2}, List.of("a"), new int[] {0, 2}, List.of("no", "yes")));

        assertTrue(e.getMessage().contains("class index 2 in row 1"), e.getMessage());
    }

    @Test
    void lengthMismatchRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.classification(new float[] {1, 2, 3}, List.of("a", "b"), new int[] {0, 1},
                        List.of("no", "yes")));

        assertTrue(e.getMessage().contains("features has 3 values"), e.getMessage());
    }

    @Test
    void nonFiniteValuesRejected() {
        assertThrows(IllegalArgumentException.class, () -> Dataset.regression(new float[] {Float.POSITIVE_INFINITY},
                List.of("a"), new float[] {0}, List.of("y")));
        IllegalArgumentException target = assertThrows(IllegalArgumentException.class,
                () -> Dataset.regression(new float[] {1}, List.of("a"), new float[] {Float.NaN}, List.of("y")));
        assertTrue(target.getMessage().contains("target y in row 0 is NaN"), target.getMessage());
    }

    @Test
    void wrongLabelKindAccessRejected() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> small().targets());

        assertTrue(e.getMessage().contains("use classes()"), e.getMessage());
    }
}
