package dev.kiln.data;

import java.util.Arrays;

/**
 * Replaces missing (NaN) features by a per-column statistic fitted on training data, like
 * scikit-learn's {@code SimpleImputer}. Fit on the training split only, then transform both
 * splits, so the test split's values do not leak into training.
 */
public final class Imputer {

    private final double[] fillValues;

    private Imputer(double[] fillValues) {
        this.fillValues = fillValues;
    }

    /**
     * Fits the mean of the present values of each column.
     *
     * @throws IllegalArgumentException if a column has no present value
     */
    public static Imputer mean(Dataset train) {
        double[] means = new double[train.featureCount()];
        for (int c = 0; c < means.length; c++) {
            double[] present = presentValues(train, c);
            double sum = 0;
            for (double value : present) {
                sum += value;
            }
            means[c] = sum / present.length;
        }
        return new Imputer(means);
    }

    /**
     * Fits the median of the present values of each column: the middle value, or the mean of
     * the two middle values when the count is even.
     *
     * @throws IllegalArgumentException if a column has no present value
     */
    public static Imputer median(Dataset train) {
        double[] medians = new double[train.featureCount()];
        for (int c = 0; c < medians.length; c++) {
            double[] present = presentValues(train, c);
            Arrays.sort(present);
            int mid = present.length / 2;
            medians[c] = present.length % 2 == 1 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
        }
        return new Imputer(medians);
    }

    /** Returns a copy of the fitted fill value of each feature column. */
    public double[] fillValues() {
        return fillValues.clone();
    }

    /**
     * Returns a dataset in which every NaN feature is replaced by its column's fill value,
     * rounded to float. Other values and the labels are unchanged.
     *
     * @throws IllegalArgumentException if the feature count differs from the fitted one
     */
    public Dataset transform(Dataset data) {
        if (data.featureCount() != fillValues.length) {
            throw new IllegalArgumentException("the imputer was fitted on " + fillValues.length
                    + " features, but the dataset has " + data.featureCount());
        }
        float[] features = data.features().clone();
        for (int i = 0; i < features.length; i++) {
            if (Float.isNaN(features[i])) {
                features[i] = (float) fillValues[i % fillValues.length];
            }
        }
        return data.withOwnedFeatures(features);
    }

    private static double[] presentValues(Dataset data, int column) {
        double[] values = new double[data.size()];
        int count = 0;
        for (int r = 0; r < data.size(); r++) {
            float value = data.feature(r, column);
            if (!Float.isNaN(value)) {
                values[count++] = value;
            }
        }
        if (count == 0) {
            throw new IllegalArgumentException("feature column " + column + " ('" + data.featureNames().get(column)
                    + "') has no present value in the " + data.size() + " training rows, so nothing can be"
                    + " filled in; drop the column or fit on more rows");
        }
        return Arrays.copyOf(values, count);
    }
}
