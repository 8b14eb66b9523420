package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SplitTest {

    private final Dataset wine = TestFiles.wine();

    @Test
    void sameSeedSameSplit() {
        Split.Indices first = Split.trainTestIndices(wine, 0.25, 42, false);
        Split.Indices second = Split.trainTestIndices(wine, 0.25, 42, false);

        assertArrayEquals(first.train(), second.train());
        assertArrayEquals(first.test(), second.test());
    }

    @Test
    void differentSeedDifferentSplit() {
        Split.Indices first = Split.trainTestIndices(wine, 0.25, 42, false);
        Split.Indices second = Split.trainTestIndices(wine, 0.25, 43, false);

        assertFalse(Arrays.equals(first.test(), second.test()));
    }

    @Test
    void partsDisjointAndCoverAllRows() {
        for (boolean stratified : new boolean[] {false, true}) {
            Split.Indices indices = Split.trainTestIndices(wine, 0.3, 7, stratified);

            int[] seen = new int[wine.size()];
            for (int row : indices.train()) {
                seen[row]++;
            }
            for (int row : indices.test()) {
                seen[row]++;
            }
            for (int row = 0; row < seen.length; row++) {
                assertEquals(1, seen[row], "row " + row + " with stratified=" + stratified);
            }
        }
    }

    @Test
    void testSizeIsRoundedFraction() {
        assertEquals(45, Split.trainTestIndices(wine, 0.25, 1, false).test().length, "178 * 0.25 = 44.5");
        assertEquals(45, Split.trainTestIndices(wine, 0.25, 1, true).test().length);
        assertEquals(53, Split.trainTestIndices(wine, 0.3, 1, true).test().length, "178 * 0.3 = 53.4");
        assertEquals(36, Split.trainTestIndices(wine, 0.2, 1, false).test().length, "178 * 0.2 = 35.6");
    }

    @Test
    void stratifiedKeepsClassProportions() {
        Split split = Split.trainTest(wine, 0.25, 3, true);

        // Class counts 59, 71, 48; quotas 45 * n_c / 178 = 14.92, 17.95, 12.13 round by largest remainder.
        assertArrayEquals(new int[] {15, 18, 12}, split.test().classCounts());
        assertArrayEquals(new int[] {44, 53, 36}, split.train().classCounts());
        int[] total = wine.classCounts();
        for (int c = 0; c < total.length; c++) {
            double expected = total[c] * 45.0 / 178;
            assertTrue(Math.abs(split.test().classCounts()[c] - expected) < 1, "class " + c);
        }
    }

    @Test
    void largestRemainderQuotas() {
        assertArrayEquals(new int[] {1, 1, 1}, Split.classQuotas(new int[] {1, 1, 1}, 3));
        assertArrayEquals(new int[] {1, 1, 0}, Split.classQuotas(new int[] {1, 1, 1}, 2), "ties go to lower classes");
        assertArrayEquals(new int[] {0, 5, 0}, Split.classQuotas(new int[] {0, 10, 0}, 5));
    }

    @Test
    void splitDatasetsMatchIndices() {
        Split split = Split.trainTest(wine, 0.25, 9, true);
        Split.Indices indices = Split.trainTestIndices(wine, 0.25, 9, true);

        assertArrayEquals(wine.select(indices.train()).features(), split.train().features());
        assertArrayEquals(wine.select(indices.test()).classes(), split.test().classes());
        assertEquals(wine.classNames(), split.test().classNames());
    }

    @Test
    void invalidFractionsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Split.trainTest(wine, 0, 1, false));
        assertThrows(IllegalArgumentException.class, () -> Split.trainTest(wine, 1, 1, false));
        assertThrows(IllegalArgumentException.class, () -> Split.trainTest(wine, Double.NaN, 1, false));
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> Split.trainTest(wine, 0.001, 1, false));
        assertTrue(empty.getMessage().contains("gives 0 test rows"), empty.getMessage());
    }

    @Test
    void stratifiedRegressionRejected() {
        Dataset diabetes = Csv.readRegression(TestFiles.resource("diabetes.csv"), "target");

        assertThrows(IllegalArgumentException.class, () -> Split.trainTest(diabetes, 0.2, 1, true));
        assertEquals(88, Split.trainTest(diabetes, 0.2, 1, false).test().size(), "442 * 0.2 = 88.4");
    }
}
