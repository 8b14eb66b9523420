package dev.kiln.nn;

/**
 * Decays the learning rate by {@code gamma} every {@code stepSize} epochs, as PyTorch's
 * {@code StepLR}: lr(epoch) = base_lr * gamma^floor(epoch / stepSize).
 */
public final class StepLr extends LrScheduler {
    private final long stepSize;
    private final double gamma;

    /** Creates the schedule with PyTorch's default {@code gamma} of 0.1. */
    public StepLr(OptimizerConfig optimizer, long stepSize) {
        this(optimizer, stepSize, 0.1);
    }

    /**
     * Creates the schedule from the optimizer's current learning rate.
     *
     * @throws IllegalArgumentException if {@code stepSize} is not positive, or {@code gamma} is
     *     negative, NaN or infinite
     */
    public StepLr(OptimizerConfig optimizer, long stepSize, double gamma) {
        super(optimizer);
        if (stepSize <= 0) {
            throw new IllegalArgumentException("step size must be a positive number of epochs, got " + stepSize);
        }
        if (!(gamma >= 0) || Double.isInfinite(gamma)) {
            throw new IllegalArgumentException("gamma must be finite and >= 0, got " + gamma);
        }
        this.stepSize = stepSize;
        this.gamma = gamma;
    }

    @Override
    double lrAt(long epoch, double baseLr) {
        return baseLr * Math.pow(gamma, Math.floorDiv(epoch, stepSize));
    }

    public long stepSize() {
        return stepSize;
    }

    public double gamma() {
        return gamma;
    }
}
