package dev.kiln.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An immutable table of float features with one label per row: a class index for
 * classification, or one or more float targets for regression.
 *
 * <p>Features are stored row-major: feature {@code c} of row {@code r} is
 * {@code features()[r * featureCount() + c]}. A missing feature is NaN; {@link Imputer} fills
 * them. Labels are never missing.
 *
 * <p>The array accessors ({@link #features()}, {@link #classes()}, {@link #targets()}) return
 * the internal arrays without copying, so that large datasets are not duplicated on every
 * call. Callers must not modify them: the dataset is shared, for example between a split and
 * the loaders built on it.
 */
public final class Dataset {

    private final float[] features;
    private final int size;
    private final int featureCount;
    private final List<String> featureNames;
    private final int[] classes;
    private final List<String> classNames;
    private final float[] targets;
    private final List<String> targetNames;

    private Dataset(float[] features, List<String> featureNames, int[] classes, List<String> classNames,
            float[] targets, List<String> targetNames) {
        this.featureNames = List.copyOf(featureNames);
        this.featureCount = this.featureNames.size();
        this.features = features;
        this.classes = classes;
        this.classNames = classNames == null ? null : List.copyOf(classNames);
        this.targets = targets;
        this.targetNames = targetNames == null ? null : List.copyOf(targetNames);
        this.size = classes != null ? classes.length : targetRows(targets, this.targetNames);
        validate();
    }

    /**
     * Creates a classification dataset, copying the arrays.
     *
     * @param features row-major features, {@code classes.length * featureNames.size()} values; NaN marks a missing value
     * @param featureNames one name per feature column
     * @param classes the class index of each row, in {@code [0, classNames.size())}
     * @param classNames the name of each class, indexed by class index
     * @throws IllegalArgumentException if the lengths disagree, a class index is out of range or a feature is infinite
     */
    public static Dataset classification(float[] features, List<String> featureNames, int[] classes,
            List<String> classNames) {
        Objects.requireNonNull(classNames, "classNames");
        return new Dataset(features.clone(), featureNames, classes.clone(), classNames, null, null);
    }

    /**
     * Creates a regression dataset, copying the arrays.
     *
     * @param features row-major features, {@code rows * featureNames.size()} values; NaN marks a missing value
     * @param featureNames one name per feature column
     * @param targets row-major targets, {@code rows * targetNames.size()} values, none NaN
     * @param targetNames one name per target column; its size is the {@linkplain #targetWidth() target width}
     * @throws IllegalArgumentException if the lengths disagree or a target is not finite
     */
    public static Dataset regression(float[] features, List<String> featureNames, float[] targets,
            List<String> targetNames) {
        Objects.requireNonNull(targetNames, "targetNames");
        return new Dataset(features.clone(), featureNames, null, null, targets.clone(), targetNames);
    }

    /** Creates a classification dataset that takes ownership of the arrays, for readers in this package. */
    static Dataset ownClassification(float[] features, List<String> featureNames, int[] classes,
            List<String> classNames) {
        return new Dataset(features, featureNames, classes, classNames, null, null);
    }

    /** Creates a regression dataset that takes ownership of the arrays, for readers in this package. */
    static Dataset ownRegression(float[] features, List<String> featureNames, float[] targets,
            List<String> targetNames) {
        return new Dataset(features, featureNames, null, null, targets, targetNames);
    }

    private static int targetRows(float[] targets, List<String> targetNames) {
        Objects.requireNonNull(targets, "targets");
        if (targetNames.isEmpty()) {
            throw new IllegalArgumentException("a regression dataset needs at least one target column, got no target names");
        }
        if (targets.length % targetNames.size() != 0) {
            throw new IllegalArgumentException("targets has " + targets.length + " values, which is not a multiple of the "
                    + targetNames.size() + " target columns " + targetNames);
        }
        return targets.length / targetNames.size();
    }

    private void validate() {
        Objects.requireNonNull(features, "features");
        if (features.length != (long) size * featureCount) {
            throw new IllegalArgumentException("features has " + features.length + " values, but " + size + " rows times "
                    + featureCount + " features needs " + (long) size * featureCount);
        }
        for (int i = 0; i < features.length; i++) {
            if (Float.isInfinite(features[i])) {
                throw new IllegalArgumentException("feature " + featureNames.get(i % featureCount) + " in row "
                        + i / featureCount + " is infinite; features must be finite or NaN for missing");
            }
        }
        if (classes != null) {
            validateClasses();
        } else {
            for (int i = 0; i < targets.length; i++) {
                if (!Float.isFinite(targets[i])) {
                    throw new IllegalArgumentException("target " + targetNames.get(i % targetNames.size()) + " in row "
                            + i / targetNames.size() + " is " + targets[i] + "; targets must be finite");
                }
            }
        }
    }

    private void validateClasses() {
        if (classNames.isEmpty()) {
            throw new IllegalArgumentException("a classification dataset needs at least one class name");
        }
        for (int r = 0; r < classes.length; r++) {
            if (classes[r] < 0 || classes[r] >= classNames.size()) {
                throw new IllegalArgumentException("class index " + classes[r] + " in row " + r + " is out of range [0, "
                        + classNames.size() + ") for the class names " + classNames);
            }
        }
    }

    /**
     * Returns the row-major features without copying. Do not modify the array.
     */
    public float[] features() {
        return features;
    }

    /** Returns one feature of one row, both 0-based. */
    public float feature(int row, int column) {
        Objects.checkIndex(row, size);
        Objects.checkIndex(column, featureCount);
        return features[row * featureCount + column];
    }

    /** Returns the number of rows. */
    public int size() {
        return size;
    }

    /** Returns the number of feature columns. */
    public int featureCount() {
        return featureCount;
    }

    /** Returns the feature column names. */
    public List<String> featureNames() {
        return featureNames;
    }

    /** Returns whether rows carry class indices ({@code true}) or float targets ({@code false}). */
    public boolean isClassification() {
        return classes != null;
    }

    /**
     * Returns the class index of every row without copying. Do not modify the array.
     *
     * @throws IllegalStateException if this is a regression dataset
     */
    public int[] classes() {
        requireClassification("classes()");
        return classes;
    }

    /**
     * Returns the class names, indexed by class index.
     *
     * @throws IllegalStateException if this is a regression dataset
     */
    public List<String> classNames() {
        requireClassification("classNames()");
        return classNames;
    }

    /**
     * Returns the number of classes, which may exceed the number of classes present in the rows.
     *
     * @throws IllegalStateException if this is a regression dataset
     */
    public int classCount() {
        requireClassification("classCount()");
        return classNames.size();
    }

    /**
     * Returns how many rows belong to each class, indexed by class index.
     *
     * @throws IllegalStateException if this is a regression dataset
     */
    public int[] classCounts() {
        requireClassification("classCounts()");
        int[] counts = new int[classNames.size()];
        for (int c : classes) {
            counts[c]++;
        }
        return counts;
    }

    /**
     * Returns the row-major targets without copying. Do not modify the array.
     *
     * @throws IllegalStateException if this is a classification dataset
     */
    public float[] targets() {
        requireRegression("targets()");
        return targets;
    }

    /**
     * Returns the number of targets per row.
     *
     * @throws IllegalStateException if this is a classification dataset
     */
    public int targetWidth() {
        requireRegression("targetWidth()");
        return targetNames.size();
    }

    /**
     * Returns the target column names.
     *
     * @throws IllegalStateException if this is a classification dataset
     */
    public List<String> targetNames() {
        requireRegression("targetNames()");
        return targetNames;
    }

    /** Returns the number of NaN (missing) feature values. */
    public int missingCount() {
        int missing = 0;
        for (float value : features) {
            if (Float.isNaN(value)) {
                missing++;
            }
        }
        return missing;
    }

    /**
     * Returns a dataset of the given rows, in the given order. A row may appear more than once.
     *
     * @throws IndexOutOfBoundsException if an index is outside {@code [0, size())}
     */
    public Dataset select(int[] rowIndices) {
        int n = rowIndices.length;
        float[] selectedFeatures = new float[n * featureCount];
        for (int i = 0; i < n; i++) {
            int row = checkRow(rowIndices[i], i);
            System.arraycopy(features, row * featureCount, selectedFeatures, i * featureCount, featureCount);
        }
        if (classes != null) {
            int[] selectedClasses = new int[n];
            for (int i = 0; i < n; i++) {
                selectedClasses[i] = classes[rowIndices[i]];
            }
            return new Dataset(selectedFeatures, featureNames, selectedClasses, classNames, null, null);
        }
        int width = targetNames.size();
        float[] selectedTargets = new float[n * width];
        for (int i = 0; i < n; i++) {
            System.arraycopy(targets, rowIndices[i] * width, selectedTargets, i * width, width);
        }
        return new Dataset(selectedFeatures, featureNames, null, null, selectedTargets, targetNames);
    }

    /**
     * Returns a dataset with the same rows and labels but new feature values, copying the array.
     *
     * @param newFeatures row-major features of the same shape as {@link #features()}
     * @throws IllegalArgumentException if the length differs
     */
    public Dataset withFeatures(float[] newFeatures) {
        return withOwnedFeatures(newFeatures.clone());
    }

    /** Same as {@link #withFeatures(float[])} but takes ownership of the array. */
    Dataset withOwnedFeatures(float[] newFeatures) {
        if (newFeatures.length != features.length) {
            throw new IllegalArgumentException("new features have " + newFeatures.length + " values, expected "
                    + features.length + " (" + size + " rows x " + featureCount + " features)");
        }
        // Labels are immutable and validated already, so the new dataset shares them.
        return new Dataset(newFeatures, featureNames, classes, classNames, targets, targetNames);
    }

    /** Returns a short description: rows, features and the label kind. */
    @Override
    public String toString() {
        String labels = classes != null ? classNames.size() + " classes " + classNames
                : targetNames.size() + " targets " + targetNames;
        return "Dataset[" + size + " rows x " + featureCount + " features, " + labels + "]";
    }

    private int checkRow(int row, int position) {
        if (row < 0 || row >= size) {
            throw new IndexOutOfBoundsException("row index " + row + " at position " + position
                    + " is outside [0, " + size + ")");
        }
        return row;
    }

    private void requireClassification(String method) {
        if (classes == null) {
            throw new IllegalStateException(method + " needs a classification dataset, but this one has regression targets "
                    + targetNames + "; use targets() instead");
        }
    }

    private void requireRegression(String method) {
        if (classes != null) {
            throw new IllegalStateException(method + " needs a regression dataset, but this one has class labels "
                    + classNames + "; use classes() instead");
        }
    }

    /** Returns {@code count} names {@code prefix0, prefix1, ...}. */
    static List<String> numberedNames(String prefix, int first, int count) {
        List<String> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            names.add(prefix + (first + i));
        }
        return names;
    }
}
