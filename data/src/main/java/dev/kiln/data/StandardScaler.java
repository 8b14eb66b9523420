package dev.kiln.data;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Standardizes features to zero mean and unit variance: {@code x' = (x - mean) / scale}, where
 * {@code scale} is the population standard deviation (divisor n, as in scikit-learn's
 * {@code StandardScaler}) or 1 for a constant column.
 *
 * <p>Fit on the training split only and apply the same statistics to the test split and to
 * every sample at prediction time. {@link #toMetadata()} turns the statistics into strings for
 * a checkpoint's metadata, and {@link #fromMetadata(Map)} restores them exactly.
 */
public final class StandardScaler {

    /** Metadata key of the per-feature means: comma-separated {@link Double#toString(double)} values. */
    public static final String MEAN_KEY = "scaler.mean";

    /** Metadata key of the per-feature population standard deviations, in the same format. */
    public static final String STD_KEY = "scaler.std";

    private final double[] mean;
    private final double[] std;
    private final double[] scale;

    private StandardScaler(double[] mean, double[] std) {
        this.mean = mean;
        this.std = std;
        this.scale = new double[std.length];
        for (int c = 0; c < std.length; c++) {
            scale[c] = std[c] == 0 ? 1 : std[c];
        }
    }

    /**
     * Computes each feature's mean and population standard deviation, in double precision with
     * two passes (mean first, then the squared deviations) to avoid cancellation.
     *
     * @throws IllegalArgumentException if the dataset has no rows or a missing (NaN) feature
     */
    public static StandardScaler fit(Dataset train) {
        int n = train.size();
        int width = train.featureCount();
        if (n == 0) {
            throw new IllegalArgumentException("cannot fit a scaler on an empty dataset");
        }
        float[] x = train.features();
        int missing = train.missingCount();
        if (missing > 0) {
            throw new IllegalArgumentException("the training data has " + missing + " missing (NaN) features;"
                    + " fill them with Imputer before fitting the scaler");
        }
        double[] mean = new double[width];
        for (int i = 0; i < x.length; i++) {
            mean[i % width] += x[i];
        }
        for (int c = 0; c < width; c++) {
            mean[c] /= n;
        }
        double[] variance = new double[width];
        for (int i = 0; i < x.length; i++) {
            double deviation = x[i] - mean[i % width];
            variance[i % width] += deviation * deviation;
        }
        double[] std = new double[width];
        for (int c = 0; c < width; c++) {
            std[c] = Math.sqrt(variance[c] / n);
        }
        return new StandardScaler(mean, std);
    }

    /**
     * Creates a scaler from given statistics.
     *
     * @throws IllegalArgumentException if the lengths differ, a mean is not finite, or a standard
     *     deviation is negative or not finite
     */
    public static StandardScaler of(double[] mean, double[] std) {
        if (mean.length != std.length) {
            throw new IllegalArgumentException("mean has " + mean.length + " values but std has " + std.length
                    + "; both need one value per feature");
        }
        for (int c = 0; c < mean.length; c++) {
            if (!Double.isFinite(mean[c])) {
                throw new IllegalArgumentException("mean of feature " + c + " is " + mean[c] + "; it must be finite");
            }
            if (!(std[c] >= 0) || Double.isInfinite(std[c])) {
                throw new IllegalArgumentException("standard deviation of feature " + c + " is " + std[c]
                        + "; it must be finite and non-negative");
            }
        }
        return new StandardScaler(mean.clone(), std.clone());
    }

    /** Returns a copy of the per-feature means. */
    public double[] mean() {
        return mean.clone();
    }

    /** Returns a copy of the per-feature population standard deviations; 0 for a constant column. */
    public double[] std() {
        return std.clone();
    }

    /** Returns a copy of the divisors used: the standard deviation, or 1 where it is 0. */
    public double[] scale() {
        return scale.clone();
    }

    /** Returns the number of features the scaler was fitted on. */
    public int featureCount() {
        return mean.length;
    }

    /**
     * Returns a standardized copy of a dataset; labels are unchanged. NaN features stay NaN.
     *
     * @throws IllegalArgumentException if the feature count differs from the fitted one
     */
    public Dataset transform(Dataset data) {
        checkWidth(data.featureCount());
        float[] features = data.features().clone();
        for (int start = 0; start < features.length; start += mean.length) {
            standardize(features, start);
        }
        return data.withOwnedFeatures(features);
    }

    /**
     * Standardizes one sample in place, with the same arithmetic as {@link #transform}, so both
     * give identical floats.
     *
     * @param row the sample's features, {@link #featureCount()} of them
     * @throws IllegalArgumentException if the length differs from the fitted feature count
     */
    public void transformInPlace(float[] row) {
        checkWidth(row.length);
        standardize(row, 0);
    }

    /**
     * Returns the statistics as strings under {@link #MEAN_KEY} and {@link #STD_KEY}, each a
     * comma-separated list of {@link Double#toString(double)} values, which parse back to the
     * same doubles.
     */
    public Map<String, String> toMetadata() {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(MEAN_KEY, join(mean));
        metadata.put(STD_KEY, join(std));
        return metadata;
    }

    /**
     * Restores a scaler from {@link #toMetadata()}'s entries; other keys in the map are ignored.
     *
     * @throws IllegalArgumentException if a key is missing, a value is not a number, or the
     *     statistics are invalid as for {@link #of}
     */
    public static StandardScaler fromMetadata(Map<String, String> metadata) {
        return of(parse(metadata, MEAN_KEY), parse(metadata, STD_KEY));
    }

    private void standardize(float[] values, int start) {
        for (int c = 0; c < mean.length; c++) {
            values[start + c] = (float) ((values[start + c] - mean[c]) / scale[c]);
        }
    }

    private void checkWidth(int width) {
        if (width != mean.length) {
            throw new IllegalArgumentException("the scaler was fitted on " + mean.length + " features, but the input has "
                    + width);
        }
    }

    private static String join(double[] values) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            if (i > 0) {
                text.append(',');
            }
            text.append(Double.toString(values[i]));
        }
        return text.toString();
    }

    private static double[] parse(Map<String, String> metadata, String key) {
        String text = metadata.get(key);
        if (text == null) {
            throw new IllegalArgumentException("metadata has no '" + key + "' entry; it has " + metadata.keySet());
        }
        if (text.isBlank()) {
            return new double[0];
        }
        String[] parts = text.split(",", -1);
        double[] values = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                values[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("entry " + i + " of metadata '" + key + "' is '" + parts[i]
                        + "', which is not a number", e);
            }
        }
        return values;
    }

    /** Returns the statistics for debugging. */
    @Override
    public String toString() {
        return "StandardScaler[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
    }
}
