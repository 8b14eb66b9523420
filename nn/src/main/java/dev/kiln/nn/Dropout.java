package dev.kiln.nn;

import java.util.SplittableRandom;

/**
 * Dropout, as PyTorch's {@code nn.Dropout(p)}: in training each element is zeroed with
 * probability p and the others are scaled by 1/(1-p); in evaluation it is the identity. p = 0 is
 * always the identity and p = 1 gives zeros in training.
 *
 * <p>Compiled models apply it in their training calls ({@code trainStep}, {@code forwardBackward})
 * and never in {@code predict} or {@code evaluate}. Their masks come from the model's seed and
 * training step; see {@link dev.kiln.ir.Dropout}.
 *
 * <p>Eager mode starts in evaluation mode, as a layer after PyTorch's {@code module.eval()};
 * {@link #train()} switches it to training. There the k-th training {@link #apply} since the
 * layer was created or last {@link #seed(long) seeded} (k from 1) draws the mask of the compiled
 * kernels with stream 0 and the dropout hyperparameters
 * {@link dev.kiln.ir.Dropout#hyperparameters(long, long) Dropout.hyperparameters(seed, k)}. Unless
 * set, the seed is the next value of a fixed-seed sequence shared by all eager dropout layers. So
 * layers created in the same order get the same masks in every run, and two layers of one model
 * get different ones.
 */
public final class Dropout implements Layer {
    private static final SplittableRandom EAGER_SEEDS = new SplittableRandom(0x44726f70L);

    private final double p;
    private boolean training;
    private long seed;
    private long steps;

    /**
     * Creates a dropout layer.
     *
     * @throws IllegalArgumentException if p is outside [0, 1]
     */
    public Dropout(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
        }
        this.p = p;
        synchronized (EAGER_SEEDS) {
            this.seed = EAGER_SEEDS.nextLong();
        }
    }

    /** Creates a dropout layer with PyTorch's default probability 0.5. */
    public Dropout() {
        this(0.5);
    }

    public double p() {
        return p;
    }

    /** Switches eager mode to training, where {@link #apply} drops elements; returns this layer. */
    public Dropout train() {
        return train(true);
    }

    /** Sets training mode on or off, as PyTorch's {@code module.train(mode)}; returns this layer. */
    public Dropout train(boolean mode) {
        this.training = mode;
        return this;
    }

    /** Switches eager mode to evaluation, where {@link #apply} is the identity; returns this layer. */
    public Dropout eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    /** Sets the seed of eager training masks and restarts their step count; returns this layer. */
    public Dropout seed(long seed) {
        this.seed = seed;
        this.steps = 0;
        return this;
    }

    /** Returns {@code x} in evaluation mode, and {@code x} with elements dropped in training mode. */
    @Override
    public Tensor apply(Tensor x) {
        if (!training || p == 0) {
            return x;
        }
        steps++;
        double[] keys = dev.kiln.ir.Dropout.hyperparameters(seed, steps);
        double[] out = new dev.kiln.ir.Dropout(p, 0).apply(x.data(), (int) keys[0], (int) keys[1]);
        return Tensor.wrap(out, x.shape());
    }
}
