package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class DataLoaderTest {

    private static final int BATCH = 10;

    /** Creates a dataset whose only feature of row r is r, so a batch's features reveal its rows. */
    private static Dataset rows(int n) {
        float[] features = new float[n];
        int[] classes = new int[n];
        for (int r = 0; r < n; r++) {
            features[r] = r;
            classes[r] = r % 3;
        }
        return Dataset.classification(features, List.of("row"), classes, List.of("a", "b", "c"));
    }

    @Test
    void batchCountsAroundBatchSize() {
        int[][] cases = {
            // n, batches without dropLast, batches with dropLast, size of the last batch without dropLast
            {9, 1, 0, 9},
            {10, 1, 1, 10},
            {11, 2, 1, 1},
        };
        for (int[] c : cases) {
            int n = c[0];
            DataLoader keepLast = new DataLoader(rows(n), BATCH, true, 5, false);
            DataLoader dropLast = new DataLoader(rows(n), BATCH, true, 5, true);

            assertEquals(c[1], keepLast.batchesPerEpoch(), "n=" + n);
            assertEquals(c[2], dropLast.batchesPerEpoch(), "n=" + n + " dropLast");
            assertEquals(c[1], batchSizes(keepLast, 0).size(), "n=" + n + " iterated");
            assertEquals(c[2], batchSizes(dropLast, 0).size(), "n=" + n + " dropLast iterated");
            assertEquals(c[3], batchSizes(keepLast, 0).getLast(), "n=" + n + " last batch size");
        }
    }

    @Test
    void sameSeedSameOrder() {
        Dataset data = rows(25);

        List<Integer> first = visitedRows(new DataLoader(data, BATCH, true, 11, false), 3);
        List<Integer> second = visitedRows(new DataLoader(data, BATCH, true, 11, false), 3);

        assertEquals(first, second);
    }

    @Test
    void differentSeedsAndEpochsDifferentOrders() {
        DataLoader loader = new DataLoader(rows(25), BATCH, true, 11, false);
        DataLoader otherSeed = new DataLoader(rows(25), BATCH, true, 12, false);

        assertFalse(visitedRows(loader, 0).equals(visitedRows(loader, 1)), "epochs 0 and 1");
        assertFalse(visitedRows(loader, 1).equals(visitedRows(loader, 2)), "epochs 1 and 2");
        assertFalse(visitedRows(loader, 0).equals(visitedRows(otherSeed, 0)), "seeds 11 and 12");
    }

    @Test
    void consecutiveEpochsAreNotShiftedCopies() {
        DataLoader loader = new DataLoader(rows(200), BATCH, true, 0, false);

        for (int epoch = 0; epoch < 5; epoch++) {
            int[] order = loader.order(epoch);
            int[] next = loader.order(epoch + 1);
            int[] shifted = Arrays.copyOfRange(order, 1, order.length);
            int same = 0;
            for (int i = 0; i < shifted.length; i++) {
                same += shifted[i] == next[i] ? 1 : 0;
            }
            // Independent random permutations agree in about one position.
            assertFalse(same > 20, "epoch " + epoch + " agrees with the next in " + same + " positions");
        }
    }

    @Test
    void everyRowOncePerEpoch() {
        Dataset data = rows(37);
        DataLoader loader = new DataLoader(data, BATCH, true, 3, false);

        for (int epoch = 0; epoch < 4; epoch++) {
            List<Integer> visited = visitedRows(loader, epoch);
            List<Integer> sorted = new ArrayList<>(visited);
            sorted.sort(null);

            assertEquals(37, visited.size(), "epoch " + epoch);
            for (int r = 0; r < 37; r++) {
                assertEquals(r, sorted.get(r), "epoch " + epoch);
            }
        }
    }

    @Test
    void batchContentsMatchRowIndices() {
        Dataset data = rows(23);
        DataLoader loader = new DataLoader(data, BATCH, true, 8, false);

        for (Batch batch : loader.epoch(2)) {
            for (int i = 0; i < batch.size(); i++) {
                int row = batch.rowIndices()[i];
                assertEquals(row, batch.features()[i], "feature of batch row " + i);
                assertEquals(data.classes()[row], batch.classes()[i], "class of batch row " + i);
            }
        }
    }

    @Test
    void withoutShuffleNaturalOrder() {
        DataLoader loader = new DataLoader(rows(12), 5, false, 99, false);
        List<Integer> natural = new ArrayList<>();
        for (int r = 0; r < 12; r++) {
            natural.add(r);
        }

        assertEquals(natural, visitedRows(loader, 0));
        assertEquals(natural, visitedRows(loader, 7));
    }

    @Test
    void regressionBatchesCarryTargets() {
        Dataset data = Dataset.regression(new float[] {0, 1, 2, 3, 4, 5}, List.of("a", "b"),
                new float[] {10, 11, 12, 13, 14, 15}, List.of("y", "z"));
        DataLoader loader = new DataLoader(data, 2, false, 0, false);

        Iterator<Batch> batches = loader.epoch(0).iterator();
        batches.next();
        Batch last = batches.next();

        assertEquals(1, last.size());
        assertEquals(2, last.targetWidth());
        assertArrayEquals(new float[] {4, 5}, Arrays.copyOf(last.features(), 2));
        assertArrayEquals(new float[] {14, 15}, Arrays.copyOf(last.targets(), 2));
        assertThrows(IllegalStateException.class, last::classes);
        assertFalse(batches.hasNext());
    }

    @Test
    void batchObjectReusedWithinEpoch() {
        DataLoader loader = new DataLoader(rows(30), BATCH, true, 1, false);

        Iterator<Batch> batches = loader.epoch(0).iterator();
        Batch first = batches.next();
        float[] buffer = first.features();
        Batch second = batches.next();

        assertSame(first, second);
        assertSame(buffer, second.features());
        assertEquals(BATCH, buffer.length);
    }

    @Test
    void invalidArgumentsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new DataLoader(rows(3), 0, false, 0, false));
        DataLoader loader = new DataLoader(rows(3), 2, false, 0, false);
        assertThrows(IllegalArgumentException.class, () -> loader.epoch(-1));
    }

    private static List<Integer> batchSizes(DataLoader loader, int epoch) {
        List<Integer> sizes = new ArrayList<>();
        for (Batch batch : loader.epoch(epoch)) {
            sizes.add(batch.size());
        }
        return sizes;
    }

    private static List<Integer> visitedRows(DataLoader loader, int epoch) {
        List<Integer> visited = new ArrayList<>();
        for (Batch batch : loader.epoch(epoch)) {
            for (int i = 0; i < batch.size(); i++) {
                visited.add(batch.rowIndices()[i]);
            }
        }
        return visited;
    }
}
