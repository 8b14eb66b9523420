package dev.kiln.data;

/**
 * Accumulates batch losses into the mean loss over all samples of an epoch.
 *
 * <p>Each batch reports its mean loss, so a batch's contribution is weighted by its size:
 * {@code mean() = sum(loss_i * size_i) / sum(size_i)}. A plain average of batch means would
 * overweight a small last batch.
 */
public final class EpochLoss {

    private double weightedSum;
    private int samples;

    /**
     * Adds one batch.
     *
     * @param batchMeanLoss the batch's loss averaged over its samples
     * @param batchSize the number of samples in the batch, at least 1
     * @throws IllegalArgumentException if the batch size is below 1
     */
    public void add(double batchMeanLoss, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        weightedSum += batchMeanLoss * batchSize;
        samples += batchSize;
    }

    /**
     * Returns the mean loss per sample over the batches added since the last reset. A NaN batch
     * loss makes the result NaN.
     *
     * @throws IllegalStateException if no batch was added
     */
    public double mean() {
        if (samples == 0) {
            throw new IllegalStateException("no batch was added since the last reset, so there is no mean loss");
        }
        return weightedSum / samples;
    }

    /** Returns the number of samples added since the last reset. */
    public int samples() {
        return samples;
    }

    /** Clears the accumulated batches, for example at the start of an epoch. */
    public void reset() {
        weightedSum = 0;
        samples = 0;
    }
}
