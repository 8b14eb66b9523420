package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImputerTest {

    @TempDir
    Path directory;

    private Dataset readMissing() {
        Path file = TestFiles.write(directory, "missing.csv", "a,b,class\n1,,0\nNA,4,1\n3,10,0\n,5,1\n8,?,0\n");
        return Csv.readClassification(file, true, -1);
    }

    @Test
    void meanFillsMissingCells() {
        Dataset data = readMissing();

        Imputer imputer = Imputer.mean(data);
        Dataset filled = imputer.transform(data);

        assertArrayEquals(new double[] {4.0, 19.0 / 3}, imputer.fillValues(), 1e-12);
        assertEquals(0, filled.missingCount());
        assertEquals((float) (19.0 / 3), filled.feature(0, 1));
        assertEquals(4f, filled.feature(1, 0));
        assertEquals(4f, filled.feature(3, 0));
        assertEquals(10f, filled.feature(2, 1));
        assertArrayEquals(data.classes(), filled.classes());
        assertEquals(4, data.missingCount(), "the input dataset is unchanged");
    }

    @Test
    void medianFillsMissingCells() {
        Dataset data = readMissing();

        Dataset filled = Imputer.median(data).transform(data);

        assertEquals(3f, filled.feature(1, 0), "median of 1, 3, 8");
        assertEquals(5f, filled.feature(0, 1), "median of 4, 10, 5");
    }

    @Test
    void medianOfEvenCountAveragesMiddlePair() {
        Dataset data = Dataset.regression(new float[] {1, Float.NaN, 4, 2, 10}, List.of("a"), new float[5],
                List.of("y"));

        Dataset filled = Imputer.median(data).transform(data);

        assertEquals(3f, filled.feature(1, 0), "median of 1, 2, 4, 10");
    }

    @Test
    void fittedOnTrainAppliedToOtherData() {
        Dataset train = Dataset.regression(new float[] {1, 2, 3, 4}, List.of("a", "b"), new float[] {0, 1},
                List.of("y"));
        Dataset test = Dataset.regression(new float[] {Float.NaN, Float.NaN}, List.of("a", "b"), new float[] {5},
                List.of("y"));

        Dataset filled = Imputer.mean(train).transform(test);

        assertArrayEquals(new float[] {2, 3}, filled.features());
    }

    @Test
    void columnWithoutValuesRejected() {
        Dataset data = Dataset.regression(new float[] {Float.NaN, 1, Float.NaN, 2}, List.of("empty", "full"),
                new float[] {0, 1}, List.of("y"));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Imputer.mean(data));

        assertTrue(e.getMessage().contains("'empty'"), e.getMessage());
    }

    @Test
    void featureCountMismatchRejected() {
        Imputer imputer = Imputer.mean(TestFiles.wine());
        Dataset other = Dataset.regression(new float[] {1}, List.of("a"), new float[] {0}, List.of("y"));

        assertThrows(IllegalArgumentException.class, () -> imputer.transform(other));
    }
}
