package dev.kiln.nn;

/**
 * Anneals the learning rate along a cosine from its initial value to {@code etaMin} over
 * {@code tMax} epochs, as PyTorch's {@code CosineAnnealingLR}:
 * lr(epoch) = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2. Past T_max the
 * cosine goes on, so the learning rate rises back to base_lr at 2 T_max, as in PyTorch.
 */
public final class CosineAnnealingLr extends LrScheduler {
    private final long tMax;
    private final double etaMin;

    /** Creates the schedule with PyTorch's default {@code eta_min} of 0. */
    public CosineAnnealingLr(OptimizerConfig optimizer, long tMax) {
        this(optimizer, tMax, 0);
    }

    /**
     * Creates the schedule from the optimizer's current learning rate.
     *
     * @throws IllegalArgumentException if {@code tMax} is not positive, or {@code etaMin} is
     *     negative, NaN or infinite
     */
    public CosineAnnealingLr(OptimizerConfig optimizer, long tMax, double etaMin) {
        super(optimizer);
        if (tMax <= 0) {
            throw new IllegalArgumentException("T_max must be a positive number of epochs, got " + tMax);
        }
        if (!(etaMin >= 0) || Double.isInfinite(etaMin)) {
            throw new IllegalArgumentException("eta_min must be finite and >= 0, got " + etaMin);
        }
        this.tMax = tMax;
        this.etaMin = etaMin;
    }

    @Override
    double lrAt(long epoch, double baseLr) {
        return etaMin + (baseLr - etaMin) * (1 + Math.cos(Math.PI * epoch / tMax)) / 2;
    }

    public long tMax() {
        return tMax;
    }

    public double etaMin() {
        return etaMin;
    }
}
