package dev.kiln.data;

/**
 * One mini-batch produced by a {@link DataLoader}.
 *
 * <p>A loader's iterator returns the same {@code Batch} object for every batch of an epoch and
 * overwrites its arrays in place, so nothing is allocated per batch. Read or copy a batch's
 * contents before advancing the iterator. The arrays are sized for the full batch size, so
 * a last, partial batch uses only their first {@link #size()} rows.
 */
public final class Batch {

    private final int featureCount;
    private final float[] features;
    private final int[] classes;
    private final float[] targets;
    private final int targetWidth;
    private final int[] rowIndices;
    private int size;

    Batch(int capacity, Dataset data) {
        this.featureCount = data.featureCount();
        this.features = new float[capacity * featureCount];
        this.rowIndices = new int[capacity];
        if (data.isClassification()) {
            this.classes = new int[capacity];
            this.targets = null;
            this.targetWidth = 0;
        } else {
            this.classes = null;
            this.targetWidth = data.targetWidth();
            this.targets = new float[capacity * targetWidth];
        }
    }

    /** Copies the rows {@code order[from..from+count)} of a dataset into this batch's buffers. */
    void fill(Dataset data, int[] order, int from, int count) {
        float[] sourceFeatures = data.features();
        for (int i = 0; i < count; i++) {
            int row = order[from + i];
            rowIndices[i] = row;
            System.arraycopy(sourceFeatures, row * featureCount, features, i * featureCount, featureCount);
            if (classes != null) {
                classes[i] = data.classes()[row];
            } else {
                System.arraycopy(data.targets(), row * targetWidth, targets, i * targetWidth, targetWidth);
            }
        }
        size = count;
    }

    /** Returns the number of rows in this batch, at most the loader's batch size. */
    public int size() {
        return size;
    }

    /** Returns the number of features per row. */
    public int featureCount() {
        return featureCount;
    }

    /** Returns whether the batch carries class indices rather than regression targets. */
    public boolean isClassification() {
        return classes != null;
    }

    /**
     * Returns the row-major features: the first {@code size() * featureCount()} values are this
     * batch's. The array is reused for the next batch.
     */
    public float[] features() {
        return features;
    }

    /**
     * Returns the class indices: the first {@code size()} values are this batch's. The array is
     * reused for the next batch.
     *
     * @throws IllegalStateException if the dataset is a regression dataset
     */
    public int[] classes() {
        if (classes == null) {
            throw new IllegalStateException("the batch has regression targets, not classes; use targets()");
        }
        return classes;
    }

    /**
     * Returns the row-major targets: the first {@code size() * targetWidth()} values are this
     * batch's. The array is reused for the next batch.
     *
     * @throws IllegalStateException if the dataset is a classification dataset
     */
    public float[] targets() {
        if (targets == null) {
            throw new IllegalStateException("the batch has class indices, not regression targets; use classes()");
        }
        return targets;
    }

    /** Returns the number of targets per row, or 0 for a classification batch. */
    public int targetWidth() {
        return targetWidth;
    }

    /**
     * Returns the dataset row index of each batch row: the first {@code size()} values are this
     * batch's. The array is reused for the next batch.
     */
    public int[] rowIndices() {
        return rowIndices;
    }
}
