package dev.kiln.data;

/** Evaluation metrics over predictions and true labels. */
public final class Metrics {

    private Metrics() {
    }

    /**
     * Returns the fraction of positions where the predicted class equals the actual one.
     *
     * @throws IllegalArgumentException if the lengths differ or the arrays are empty
     */
    public static double accuracy(int[] predicted, int[] actual) {
        checkLengths(predicted.length, actual.length);
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            if (predicted[i] == actual[i]) {
                correct++;
            }
        }
        return (double) correct / predicted.length;
    }

    /**
     * Returns {@code sum((predicted - actual)^2) / n}, summed in double precision.
     *
     * @throws IllegalArgumentException if the lengths differ or the arrays are empty
     */
    public static double meanSquaredError(float[] predicted, float[] actual) {
        checkLengths(predicted.length, actual.length);
        double sum = 0;
        for (int i = 0; i < predicted.length; i++) {
            double error = (double) predicted[i] - actual[i];
            sum += error * error;
        }
        return sum / predicted.length;
    }

    private static void checkLengths(int predicted, int actual) {
        if (predicted != actual) {
            throw new IllegalArgumentException("predicted has " + predicted + " values but actual has " + actual);
        }
        if (predicted == 0) {
            throw new IllegalArgumentException("cannot compute a metric over zero samples");
        }
    }
}
