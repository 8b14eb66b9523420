package dev.kiln.data;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A seeded train/test split of a dataset.
 *
 * @param train the training rows
 * @param test the test rows
 */
public record Split(Dataset train, Dataset test) {

    /**
     * The row indices of a split, each array in ascending order.
     *
     * @param train indices of the training rows in the original dataset
     * @param test indices of the test rows in the original dataset
     */
    public record Indices(int[] train, int[] test) {
    }

    /** Validates that both parts are present. */
    public Split {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
    }

    /**
     * Splits a dataset into training and test rows; see {@link #trainTestIndices} for how rows
     * are chosen. Both parts keep the original row order.
     */
    public static Split trainTest(Dataset data, double testFraction, long seed, boolean stratified) {
        Indices indices = trainTestIndices(data, testFraction, seed, stratified);
        return new Split(data.select(indices.train()), data.select(indices.test()));
    }

    /**
     * Chooses the test rows of a split.
     *
     * <p>The test set has {@code round(n * testFraction)} rows (half rounds up). Rows are
     * chosen by a Fisher-Yates shuffle driven by {@link SplittableRandom} with the given seed, so
     * the same dataset, fraction and seed always give the same split.
     *
     * <p>With {@code stratified}, the test count of each class follows the largest remainder
     * method: class {@code c} with {@code n_c} rows gets {@code floor(T * n_c / n)} test rows,
     * and the {@code T - sum} rows left over go one each to the classes with the largest
     * fractional parts, ties to the lower class index. Each class's rows are then shuffled
     * separately. Proportions in both parts thus differ from the dataset's by less than one
     * row per class.
     *
     * @param testFraction the share of rows for the test set, in (0, 1)
     * @throws IllegalArgumentException if the fraction is outside (0, 1), either part would be
     *     empty, or {@code stratified} is requested for a regression dataset
     */
    public static Indices trainTestIndices(Dataset data, double testFraction, long seed, boolean stratified) {
        if (!(testFraction > 0 && testFraction < 1)) {
            throw new IllegalArgumentException("test fraction " + testFraction + " is outside (0, 1)");
        }
        int n = data.size();
        int testCount = (int) Math.round(n * testFraction);
        if (testCount == 0 || testCount == n) {
            throw new IllegalArgumentException("test fraction " + testFraction + " of " + n + " rows gives "
                    + testCount + " test rows and " + (n - testCount) + " training rows; both parts need at least"
                    + " one row, so choose another fraction or use more data");
        }
        if (stratified && !data.isClassification()) {
            throw new IllegalArgumentException("a stratified split needs class labels, but the dataset has regression"
                    + " targets " + data.targetNames() + "; pass stratified = false");
        }
        SplittableRandom random = new SplittableRandom(seed);
        boolean[] inTest = new boolean[n];
        if (stratified) {
            int[][] rowsByClass = rowsByClass(data);
            int[] quotas = classQuotas(data.classCounts(), testCount);
            for (int c = 0; c < rowsByClass.length; c++) {
                markShuffledPrefix(rowsByClass[c], quotas[c], random, inTest);
            }
        } else {
            int[] all = new int[n];
            Arrays.setAll(all, i -> i);
            markShuffledPrefix(all, testCount, random, inTest);
        }
        return partition(inTest, testCount);
    }

    /** Shuffles {@code rows} in place and marks its first {@code count} entries as test rows. */
    private static void markShuffledPrefix(int[] rows, int count, SplittableRandom random, boolean[] inTest) {
        shuffle(rows, random);
        for (int i = 0; i < count; i++) {
            inTest[rows[i]] = true;
        }
    }

    /** Shuffles in place by Fisher-Yates: each permutation has probability 1/n!. */
    static void shuffle(int[] values, SplittableRandom random) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = values[i];
            values[i] = values[j];
            values[j] = swap;
        }
    }

    /** Distributes {@code total} test rows over classes by the largest remainder method. */
    static int[] classQuotas(int[] classCounts, int total) {
        long n = Arrays.stream(classCounts).asLongStream().sum();
        int[] quotas = new int[classCounts.length];
        long[] remainders = new long[classCounts.length];
        int assigned = 0;
        for (int c = 0; c < classCounts.length; c++) {
            // Exact integer arithmetic: quota = floor(total * n_c / n), remainder = (total * n_c) mod n.
            long scaled = (long) total * classCounts[c];
            quotas[c] = (int) (scaled / n);
            remainders[c] = scaled % n;
            assigned += quotas[c];
        }
        Integer[] order = new Integer[classCounts.length];
        Arrays.setAll(order, c -> c);
        Arrays.sort(order, (a, b) -> remainders[a] != remainders[b] ? Long.compare(remainders[b], remainders[a])
                : Integer.compare(a, b));
        for (int k = 0; assigned < total; k++) {
            quotas[order[k]]++;
            assigned++;
        }
        return quotas;
    }

    private static int[][] rowsByClass(Dataset data) {
        int[] counts = data.classCounts();
        int[][] rows = new int[counts.length][];
        for (int c = 0; c < counts.length; c++) {
            rows[c] = new int[counts[c]];
        }
        int[] filled = new int[counts.length];
        int[] classes = data.classes();
        for (int r = 0; r < classes.length; r++) {
            rows[classes[r]][filled[classes[r]]++] = r;
        }
        return rows;
    }

    private static Indices partition(boolean[] inTest, int testCount) {
        int[] train = new int[inTest.length - testCount];
        int[] test = new int[testCount];
        int trainFilled = 0;
        int testFilled = 0;
        for (int r = 0; r < inTest.length; r++) {
            if (inTest[r]) {
                test[testFilled++] = r;
            } else {
                train[trainFilled++] = r;
            }
        }
        return new Indices(train, test);
    }
}
