package dev.kiln.runtime.testing;

import dev.kiln.ir.Loss;
import dev.kiln.runtime.ModelDescriptor;
import java.util.SplittableRandom;

/** Seeded random inputs, class labels and regression targets for a model. */
public final class TestData {
    private TestData() {
    }

    /** Returns {@code count} floats uniform in [-2, 2). */
    public static float[] uniform(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextDouble(-2, 2);
        }
        return values;
    }

    /** Returns a batch of samples for a model. */
    public static float[] samples(SplittableRandom random, ModelDescriptor descriptor, int batch) {
        return uniform(random, Math.toIntExact(batch * descriptor.inputWidth()));
    }

    /** Returns {@code batch} class labels in [0, classes). */
    public static int[] labels(SplittableRandom random, int classes, int batch) {
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) {
            labels[i] = random.nextInt(classes);
        }
        return labels;
    }

    /**
     * Returns labels or targets for a batch as the reference evaluator takes them: class indices for
     * cross-entropy, one target per output element for mean squared error.
     */
    public static double[] labelsOrTargets(SplittableRandom random, Loss loss, ModelDescriptor descriptor,
                                           int batch) {
        int width = Math.toIntExact(descriptor.outputWidth());
        if (loss == Loss.CROSS_ENTROPY) {
            return Reference.toDoubles(labels(random, width, batch));
        }
        return Reference.toDoubles(uniform(random, batch * width));
    }

    /** Converts labels given as doubles back to class indices. */
    public static int[] classIndices(double[] labels) {
        int[] out = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            out[i] = (int) labels[i];
        }
        return out;
    }

    /** Narrows doubles to floats. */
    public static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
