package dev.kiln.benchmarks;

import java.util.SplittableRandom;

/**
 * Settings shared by the JMH benchmarks, the weight export and the Fashion-MNIST epoch, so that
 * every engine runs the same workload on the same parameters and inputs.
 */
final class Workloads {
    /** Parameter seed of every Kiln model. PyTorch and ONNX Runtime load the weights it produces. */
    static final long PARAMETER_SEED = 42;
    /** Seed of the synthetic inputs and labels of the micro-benchmarks. */
    static final long DATA_SEED = 7;
    /** Largest prediction batch of the reference network. */
    static final int PREDICT_BATCH = 1024;
    static final int REFERENCE_TRAIN_BATCH = 50;
    static final int FASHION_TRAIN_BATCH = 128;
    /** Adam learning rate of every training workload (PyTorch's default). */
    static final double ADAM_LR = 1e-3;

    private Workloads() {
    }

    /** Returns {@code count} standard normal floats from {@code seed}. */
    static float[] gaussian(int count, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            // Box-Muller on two uniforms; 1 - u keeps the logarithm's argument in (0, 1].
            double u = 1.0 - random.nextDouble();
            double v = random.nextDouble();
            values[i] = (float) (Math.sqrt(-2.0 * Math.log(u)) * Math.cos(2.0 * Math.PI * v));
        }
        return values;
    }

    /** Returns {@code count} class labels uniform in [0, classes) from {@code seed}. */
    static int[] labels(int count, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] labels = new int[count];
        for (int i = 0; i < count; i++) {
            labels[i] = random.nextInt(classes);
        }
        return labels;
    }
}
