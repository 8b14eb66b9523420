package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StandardScalerTest {

    private final Split split = Split.trainTest(TestFiles.wine(), 0.25, 42, true);

    @Test
    void populationStatistics() {
        Dataset data = Dataset.regression(new float[] {1, 5, 2, 5, 3, 5, 4, 5}, List.of("a", "constant"),
                new float[] {0, 0, 0, 0}, List.of("y"));

        StandardScaler scaler = StandardScaler.fit(data);

        assertArrayEquals(new double[] {2.5, 5}, scaler.mean(), 1e-15);
        assertArrayEquals(new double[] {Math.sqrt(1.25), 0}, scaler.std(), 1e-15, "divisor n, not n - 1");
        assertArrayEquals(new double[] {Math.sqrt(1.25), 1}, scaler.scale(), 1e-15, "constant column scales by 1");
        Dataset scaled = scaler.transform(data);
        assertEquals((float) (-1.5 / Math.sqrt(1.25)), scaled.feature(0, 0));
        assertEquals(0f, scaled.feature(3, 1));
    }

    @Test
    void trainStandardizedTestOnlyShifted() {
        StandardScaler scaler = StandardScaler.fit(split.train());

        Dataset train = scaler.transform(split.train());
        Dataset test = scaler.transform(split.test());

        for (int c = 0; c < train.featureCount(); c++) {
            assertEquals(0, columnMean(train, c), 1e-5, "train mean of feature " + c);
            assertEquals(1, columnStd(train, c), 1e-4, "train std of feature " + c);
        }
        // Statistics come from the training rows only, so the test rows are not centered exactly.
        double largestTestMean = 0;
        for (int c = 0; c < test.featureCount(); c++) {
            largestTestMean = Math.max(largestTestMean, Math.abs(columnMean(test, c)));
        }
        assertTrue(largestTestMean > 0.01, "largest |test mean| " + largestTestMean);
    }

    @Test
    void singleRowMatchesDatasetTransform() {
        StandardScaler scaler = StandardScaler.fit(split.train());
        Dataset test = split.test();
        Dataset scaled = scaler.transform(test);

        for (int r = 0; r < test.size(); r++) {
            float[] row = new float[test.featureCount()];
            System.arraycopy(test.features(), r * row.length, row, 0, row.length);
            scaler.transformInPlace(row);
            for (int c = 0; c < row.length; c++) {
                assertEquals(scaled.feature(r, c), row[c], "row " + r + " feature " + c);
            }
        }
    }

    @Test
    void metadataRoundTripIsExact() {
        StandardScaler scaler = StandardScaler.fit(split.train());

        Map<String, String> metadata = scaler.toMetadata();
        StandardScaler restored = StandardScaler.fromMetadata(metadata);

        assertEquals(2, metadata.size());
        assertTrue(metadata.containsKey("scaler.mean"));
        assertTrue(metadata.containsKey("scaler.std"));
        assertArrayEquals(scaler.mean(), restored.mean());
        assertArrayEquals(scaler.std(), restored.std());
        assertArrayEquals(scaler.transform(split.test()).features(), restored.transform(split.test()).features());
    }

    @Test
    void metadataErrorsNameKey() {
        Map<String, String> metadata = new HashMap<>(StandardScaler.fit(split.train()).toMetadata());
        metadata.remove("scaler.std");

        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> StandardScaler.fromMetadata(metadata));
        metadata.put("scaler.std", "1.0,abc");
        metadata.put("scaler.mean", "0.0,0.0");
        IllegalArgumentException invalid = assertThrows(IllegalArgumentException.class,
                () -> StandardScaler.fromMetadata(metadata));
        metadata.put("scaler.std", "1.0");
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class,
                () -> StandardScaler.fromMetadata(metadata));

        assertTrue(missing.getMessage().contains("'scaler.std'"), missing.getMessage());
        assertTrue(invalid.getMessage().contains("'abc'"), invalid.getMessage());
        assertTrue(lengths.getMessage().contains("mean has 2 values but std has 1"), lengths.getMessage());
    }

    @Test
    void missingValuesRejected() {
        Dataset data = Dataset.regression(new float[] {1, Float.NaN}, List.of("a"), new float[] {0, 0}, List.of("y"));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StandardScaler.fit(data));

        assertTrue(e.getMessage().contains("Imputer"), e.getMessage());
    }

    @Test
    void widthMismatchRejected() {
        StandardScaler scaler = StandardScaler.fit(split.train());

        assertThrows(IllegalArgumentException.class, () -> scaler.transformInPlace(new float[3]));
    }

    private static double columnMean(Dataset data, int column) {
        double sum = 0;
        for (int r = 0; r < data.size(); r++) {
            sum += data.feature(r, column);
        }
        return sum / data.size();
    }

    private static double columnStd(Dataset data, int column) {
        double mean = columnMean(data, column);
        double sum = 0;
        for (int r = 0; r < data.size(); r++) {
            double deviation = data.feature(r, column) - mean;
            sum += deviation * deviation;
        }
        return Math.sqrt(sum / data.size());
    }
}
